//! namespace: a namespace being deleted has everything in it deleted (every namespaced
//! resource the server lists and deletes), then its `kubernetes` finalizer removed, after
//! which the API server removes the namespace.

use super::{Error, drive, retry};
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, PostParams};
use kube::discovery::{Discovery, Scope, verbs};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;
use std::sync::Arc;
use std::time::Duration;

const FINALIZER: &str = "kubernetes";

/// Deletes what is left in `ns`; returns how many objects remained before this pass.
async fn delete_contents(client: &kube::Client, ns: &str) -> Result<usize, Error> {
    let discovery = Discovery::new(client.clone()).run().await?;
    let mut remaining = 0;
    for group in discovery.groups() {
        for (ar, caps) in group.recommended_resources() {
            if caps.scope != Scope::Namespaced
                || !caps.supports_operation(verbs::LIST)
                || !caps.supports_operation(verbs::DELETE)
            {
                continue;
            }
            let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &ar);
            let Ok(list) = api.list_metadata(&ListParams::default()).await else {
                continue;
            };
            for item in list.items {
                remaining += 1;
                if item.metadata.deletion_timestamp.is_some() {
                    continue;
                }
                let name = item.metadata.name.unwrap_or_default();
                match api.delete(&name, &DeleteParams::background()).await {
                    Ok(_) => {}
                    Err(kube::Error::Api(s)) if s.code == 404 => {}
                    Err(e) => tracing::warn!(namespace = ns, resource = %ar.plural, %name, error = %e, "delete failed"),
                }
            }
        }
    }
    Ok(remaining)
}

async fn reconcile(ns: Arc<Namespace>, client: Arc<kube::Client>) -> Result<Action, Error> {
    let held = ns
        .spec
        .as_ref()
        .and_then(|s| s.finalizers.as_ref())
        .is_some_and(|f| f.iter().any(|x| x == FINALIZER));
    if ns.metadata.deletion_timestamp.is_none() || !held {
        return Ok(Action::await_change());
    }
    let name = ns.metadata.name.clone().unwrap_or_default();
    if delete_contents(&client, &name).await? > 0 {
        return Ok(Action::requeue(Duration::from_secs(1)));
    }
    let mut done = (*ns).clone();
    if let Some(spec) = done.spec.as_mut() {
        spec.finalizers = Some(
            spec.finalizers
                .take()
                .unwrap_or_default()
                .into_iter()
                .filter(|f| f != FINALIZER)
                .collect(),
        );
    }
    let api: Api<Namespace> = Api::all((*client).clone());
    api.replace_subresource("finalize", &name, &PostParams::default(), &done)
        .await?;
    tracing::info!(namespace = %name, "namespace emptied and finalized");
    Ok(Action::await_change())
}

pub async fn run(client: kube::Client) -> anyhow::Result<()> {
    let controller = Controller::new(Api::<Namespace>::all(client.clone()), watcher::Config::default()).run(
        reconcile,
        retry,
        Arc::new(client),
    );
    drive("namespace", controller).await
}
