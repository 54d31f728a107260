//! namespace: a namespace being deleted has everything in it deleted (every namespaced
//! resource the server lists and deletes), then its `kubernetes` finalizer removed, after
//! which the API server removes the namespace.

use super::{Ctx, ignore_not_found};
use crate::informer::Change;
use crate::queue::{Queue, run_workers};
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, PostParams};
use kube::discovery::{Discovery, Scope, verbs};
use std::time::Duration;

const FINALIZER: &str = "kubernetes";

/// Deletes what is left in `ns`; returns how many objects remained before this pass.
async fn delete_contents(client: &kube::Client, ns: &str) -> anyhow::Result<usize> {
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
            remaining += list.items.len();
            let live = list
                .items
                .iter()
                .filter(|i| i.metadata.deletion_timestamp.is_none())
                .count();
            // One request for the lot where the resource allows it, as upstream.
            if live > 1 && caps.supports_operation(verbs::DELETE_COLLECTION) {
                match api
                    .delete_collection(&DeleteParams::background(), &ListParams::default())
                    .await
                {
                    Ok(_) => continue,
                    Err(e) => {
                        tracing::debug!(namespace = ns, resource = %ar.plural, error = %e, "deletecollection failed")
                    }
                }
            }
            for item in list.items {
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

pub async fn run(ctx: Ctx) -> anyhow::Result<()> {
    let namespaces = ctx.informers.get::<Namespace>();
    let queue = Queue::<String>::new();
    let q = queue.clone();
    namespaces.on_change(move |c| {
        if let Change::Added(ns) | Change::Updated { new: ns, .. } = c
            && ns.metadata.deletion_timestamp.is_some()
        {
            q.add(ns.metadata.name.clone().unwrap_or_default());
        }
    });
    namespaces.synced().await;
    let workers = ctx.opts.concurrent_namespace_syncs;
    let again = queue.clone();
    run_workers("namespace", queue, workers, move |name: String| {
        let (ctx, namespaces, again) = (ctx.clone(), namespaces.clone(), again.clone());
        async move {
            let Some(ns) = namespaces.get(&name) else { return Ok(()) };
            let held = ns
                .spec
                .as_ref()
                .and_then(|s| s.finalizers.as_ref())
                .is_some_and(|f| f.iter().any(|x| x == FINALIZER));
            if ns.metadata.deletion_timestamp.is_none() || !held {
                return Ok(());
            }
            if delete_contents(&ctx.client, &name).await? > 0 {
                again.add_after(name, Duration::from_secs(1));
                return Ok(());
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
            let api: Api<Namespace> = Api::all(ctx.client.clone());
            ignore_not_found(
                api.replace_subresource("finalize", &name, &PostParams::default(), &done)
                    .await,
            )?;
            tracing::info!(namespace = %name, "namespace emptied and finalized");
            Ok(())
        }
    })
    .await;
    Ok(())
}
