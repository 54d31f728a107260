//! root-ca-cert-publisher: every active namespace has the `kube-root-ca.crt` ConfigMap with the
//! cluster CA (`--root-ca-file`) under `ca.crt`, kept equal to it.

use super::{Error, drive, terminating};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use std::sync::Arc;
use std::time::Duration;

const NAME: &str = "kube-root-ca.crt";
const DESCRIPTION: &str = "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.";

struct Ctx {
    client: kube::Client,
    ca: String,
}

fn desired(ca: &str) -> ConfigMap {
    serde_json::from_value(serde_json::json!({
        "metadata": {"name": NAME, "annotations": {"kubernetes.io/description": DESCRIPTION}},
        "data": {"ca.crt": ca},
    }))
    .unwrap_or_default()
}

async fn reconcile(ns: Arc<Namespace>, ctx: Arc<Ctx>) -> Result<Action, Error> {
    if terminating(&ns) {
        return Ok(Action::await_change());
    }
    let name = ns.metadata.name.clone().unwrap_or_default();
    let api: Api<ConfigMap> = Api::namespaced(ctx.client.clone(), &name);
    match api.get_opt(NAME).await? {
        None => match api.create(&PostParams::default(), &desired(&ctx.ca)).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 409 => {}
            Err(e) => return Err(e.into()),
        },
        Some(mut cm) => {
            let current = cm.data.as_ref().and_then(|d| d.get("ca.crt")).cloned();
            if current.as_deref() != Some(ctx.ca.as_str()) {
                cm.data.get_or_insert_default().insert("ca.crt".into(), ctx.ca.clone());
                api.replace(NAME, &PostParams::default(), &cm).await?;
            }
        }
    }
    Ok(Action::await_change())
}

fn retry(_ns: Arc<Namespace>, e: &Error, _ctx: Arc<Ctx>) -> Action {
    tracing::warn!(error = %e, "root-ca-cert-publisher: retrying");
    Action::requeue(Duration::from_secs(2))
}

pub async fn run(client: kube::Client, ca: String) -> anyhow::Result<()> {
    let maps: Api<ConfigMap> = Api::all(client.clone());
    let controller = Controller::new(Api::<Namespace>::all(client.clone()), watcher::Config::default())
        .watches(
            maps,
            watcher::Config::default().fields(&format!("metadata.name={NAME}")),
            |cm| cm.metadata.namespace.map(|ns| ObjectRef::<Namespace>::new(&ns)),
        )
        .run(reconcile, retry, Arc::new(Ctx { client, ca }));
    drive("root-ca-cert-publisher", controller).await
}
