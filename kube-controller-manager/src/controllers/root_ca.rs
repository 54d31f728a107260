//! root-ca-cert-publisher: every active namespace has the `kube-root-ca.crt` ConfigMap with the
//! cluster CA (`--root-ca-file`) under `ca.crt`, kept equal to it.

use super::{Ctx, ignore_conflict};
use crate::informer::Change;
use crate::queue::{Queue, run_workers};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, PostParams};
use std::sync::Arc;

const NAME: &str = "kube-root-ca.crt";
const DESCRIPTION: &str = "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.";

fn desired(ca: &str) -> ConfigMap {
    serde_json::from_value(serde_json::json!({
        "metadata": {"name": NAME, "annotations": {"kubernetes.io/description": DESCRIPTION}},
        "data": {"ca.crt": ca},
    }))
    .unwrap_or_default()
}

pub async fn run(ctx: Ctx) -> anyhow::Result<()> {
    let Some(path) = ctx.opts.root_ca_file.clone() else {
        tracing::info!("root-ca-cert-publisher: no --root-ca-file, not started");
        return Ok(());
    };
    let ca: Arc<str> = std::fs::read_to_string(&path)
        .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?
        .into();
    let namespaces = ctx.informers.get::<Namespace>();
    let maps = ctx.informers.get::<ConfigMap>();
    let queue = Queue::<String>::new();
    let q = queue.clone();
    namespaces.on_change(move |c| {
        if let Change::Added(ns) | Change::Updated { new: ns, .. } = c {
            q.add(ns.metadata.name.clone().unwrap_or_default());
        }
    });
    let q = queue.clone();
    maps.on_change(move |c| {
        if let Change::Updated { new: cm, .. } | Change::Deleted(cm) = c
            && cm.metadata.name.as_deref() == Some(NAME)
        {
            q.add(cm.metadata.namespace.clone().unwrap_or_default());
        }
    });
    namespaces.synced().await;
    maps.synced().await;
    run_workers("root_ca_cert_publisher", queue, 1, move |ns: String| {
        let (ctx, namespaces, maps, ca) = (ctx.clone(), namespaces.clone(), maps.clone(), ca.clone());
        async move {
            if namespaces
                .get(&ns)
                .is_none_or(|n| n.metadata.deletion_timestamp.is_some())
            {
                return Ok(());
            }
            let api: Api<ConfigMap> = Api::namespaced(ctx.client.clone(), &ns);
            match maps.get(&format!("{ns}/{NAME}")) {
                None => ignore_conflict(api.create(&PostParams::default(), &desired(&ca)).await)?,
                Some(cm) => {
                    let current = cm.data.as_ref().and_then(|d| d.get("ca.crt"));
                    if current.map(String::as_str) != Some(&*ca) {
                        let mut cm = (*cm).clone();
                        cm.data.get_or_insert_default().insert("ca.crt".into(), ca.to_string());
                        api.replace(NAME, &PostParams::default(), &cm).await?;
                    }
                }
            }
            Ok(())
        }
    })
    .await;
    Ok(())
}
