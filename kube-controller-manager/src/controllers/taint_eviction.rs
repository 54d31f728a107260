//! taint-eviction-controller: deletes pods from nodes with NoExecute taints they do not
//! tolerate, at once, or once the smallest matching tolerationSeconds has passed since the
//! taint was added. Before deleting it sets the pod's DisruptionTarget condition, as upstream.

use super::Ctx;
use super::taints::toleration_window;
use crate::events::NORMAL;
use crate::informer::{Change, Informer, key_of, split_key};
use crate::queue::{Queue, run_workers};
use k8s_openapi::api::core::v1::{Node, Pod, Taint};
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

fn no_execute(node: &Node) -> Vec<&Taint> {
    let taints = node.spec.as_ref().and_then(|s| s.taints.as_ref());
    taints
        .into_iter()
        .flatten()
        .filter(|t| t.effect == "NoExecute")
        .collect()
}

fn node_of(pod: &Pod) -> Option<&str> {
    pod.spec.as_ref()?.node_name.as_deref().filter(|n| !n.is_empty())
}

pub async fn run(ctx: Ctx) -> anyhow::Result<()> {
    let nodes = ctx.informers.get::<Node>();
    let pods = ctx.informers.get::<Pod>();
    let queue = Queue::<String>::new();
    let (q, all_pods) = (queue.clone(), pods.clone());
    nodes.on_change(move |c| {
        let (old, new) = match c {
            Change::Added(n) => (None, n),
            Change::Updated { old, new } => (Some(old), new),
            Change::Deleted(_) => return,
        };
        let before = old.map(|o| no_execute(o).into_iter().cloned().collect::<Vec<_>>());
        let after: Vec<Taint> = no_execute(new).into_iter().cloned().collect();
        if before.as_ref() == Some(&after) || (before.is_none() && after.is_empty()) {
            return;
        }
        let name = new.metadata.name.as_deref().unwrap_or_default();
        for p in all_pods.list().iter().filter(|p| node_of(p) == Some(name)) {
            q.add(key_of(p.as_ref()));
        }
    });
    let q = queue.clone();
    pods.on_change(move |c| {
        if let Change::Added(p) | Change::Updated { new: p, .. } = c
            && node_of(p).is_some()
            && p.metadata.deletion_timestamp.is_none()
        {
            q.add(key_of(p.as_ref()));
        }
    });
    nodes.synced().await;
    pods.synced().await;
    let again = queue.clone();
    run_workers("taint-eviction-controller", queue, 8, move |key: String| {
        let (ctx, nodes, pods, again) = (ctx.clone(), nodes.clone(), pods.clone(), again.clone());
        async move { sync(&ctx, &nodes, &pods, &again, &key).await }
    })
    .await;
    Ok(())
}

async fn sync(
    ctx: &Ctx,
    nodes: &Informer<Node>,
    pods: &Informer<Pod>,
    queue: &Arc<Queue<String>>,
    key: &str,
) -> anyhow::Result<()> {
    let Some(pod) = pods.get(key) else { return Ok(()) };
    if pod.metadata.deletion_timestamp.is_some() {
        return Ok(());
    }
    let Some(node) = node_of(&pod).and_then(|n| nodes.get(n)) else {
        return Ok(());
    };
    let taints = no_execute(&node);
    if taints.is_empty() {
        return Ok(());
    }
    let tolerations = pod
        .spec
        .as_ref()
        .and_then(|s| s.tolerations.clone())
        .unwrap_or_default();
    let due = match toleration_window(&taints, &tolerations) {
        None => jiff::Timestamp::now(),
        Some(None) => return Ok(()),
        Some(Some(secs)) => {
            let added = taints.iter().filter_map(|t| t.time_added.as_ref().map(|t| t.0)).max();
            added.unwrap_or_else(jiff::Timestamp::now) + jiff::SignedDuration::from_secs(secs)
        }
    };
    let now = jiff::Timestamp::now();
    if due > now {
        let wait = due.duration_since(now).as_millis().max(0) as u64;
        queue.add_after(key.to_string(), Duration::from_millis(wait + 10));
        return Ok(());
    }
    let (ns, name) = split_key(key);
    let api: Api<Pod> = Api::namespaced(ctx.client.clone(), ns.unwrap_or_default());
    let stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let condition = json!({"status": {"conditions": [{"type": "DisruptionTarget", "status": "True",
        "reason": "DeletionByTaintManager", "message": "Taint manager: deleting due to NoExecute taint",
        "lastTransitionTime": stamp}]}});
    super::ignore_not_found(
        api.patch_status(name, &PatchParams::default(), &Patch::Strategic(&condition))
            .await,
    )?;
    let msg = format!("Marking for deletion Pod {key}");
    ctx.recorder.event(pod.as_ref(), NORMAL, "TaintManagerEviction", &msg);
    tracing::info!(pod = %key, "deleting pod for a NoExecute taint");
    super::ignore_not_found(api.delete(name, &DeleteParams::default()).await)?;
    Ok(())
}
