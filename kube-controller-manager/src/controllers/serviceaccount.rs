//! serviceaccount: every active namespace has a `default` ServiceAccount (recreated if deleted).

use super::{Error, drive, retry, terminating};
use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use kube::api::{Api, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use std::sync::Arc;

async fn reconcile(ns: Arc<Namespace>, client: Arc<kube::Client>) -> Result<Action, Error> {
    let name = ns.metadata.name.clone().unwrap_or_default();
    if terminating(&ns) {
        return Ok(Action::await_change());
    }
    let api: Api<ServiceAccount> = Api::namespaced((*client).clone(), &name);
    if api.get_opt("default").await?.is_none() {
        let sa: ServiceAccount =
            serde_json::from_value(serde_json::json!({"metadata": {"name": "default"}})).unwrap_or_default();
        match api.create(&PostParams::default(), &sa).await {
            Ok(_) => tracing::info!(namespace = %name, "created the default ServiceAccount"),
            Err(kube::Error::Api(e)) if e.code == 409 => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Action::await_change())
}

pub async fn run(client: kube::Client) -> anyhow::Result<()> {
    let accounts: Api<ServiceAccount> = Api::all(client.clone());
    let controller = Controller::new(Api::<Namespace>::all(client.clone()), watcher::Config::default())
        .watches(
            accounts,
            watcher::Config::default().fields("metadata.name=default"),
            |sa| sa.metadata.namespace.map(|ns| ObjectRef::<Namespace>::new(&ns)),
        )
        .run(reconcile, retry, Arc::new(client));
    drive("serviceaccount", controller).await
}
