//! podgc: every 20 seconds force-deletes pods nobody else will: terminated pods beyond
//! `--terminated-pod-gc-threshold` (evicted first, then oldest), terminating pods on
//! not-ready nodes tainted `node.kubernetes.io/out-of-service`, pods bound to nodes that no
//! longer exist, and terminating pods never scheduled. A pod that has not finished is first
//! marked Failed (orphaned ones with a DisruptionTarget condition), since no kubelet will.
//! A node missing from the cache is quarantined for 40 seconds and then confirmed gone with the
//! server before its pods are deleted; the sweep also runs when a quarantine ends.

use super::Ctx;
use crate::informer::Informer;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

const GC_PERIOD: Duration = Duration::from_secs(20);
const QUARANTINE: Duration = Duration::from_secs(40);
const OUT_OF_SERVICE_TAINT: &str = "node.kubernetes.io/out-of-service";

struct Controller {
    ctx: Ctx,
    pods: Informer<Pod>,
    nodes: Informer<Node>,
    /// Missing nodes and when their quarantine ends.
    quarantine: Mutex<HashMap<String, Instant>>,
    wake: Arc<Notify>,
}

pub async fn run(ctx: Ctx) -> anyhow::Result<()> {
    let pods = ctx.informers.get::<Pod>();
    let nodes = ctx.informers.get::<Node>();
    pods.synced().await;
    nodes.synced().await;
    let c = Controller {
        ctx,
        pods,
        nodes,
        quarantine: Mutex::default(),
        wake: Arc::default(),
    };
    loop {
        c.gc().await;
        tokio::select! {
            _ = tokio::time::sleep(GC_PERIOD) => {}
            _ = c.wake.notified() => {}
        }
    }
}

fn phase(p: &Pod) -> &str {
    p.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or("")
}

fn node_name(p: &Pod) -> &str {
    p.spec.as_ref().and_then(|s| s.node_name.as_deref()).unwrap_or("")
}

fn is_terminated(p: &Pod) -> bool {
    !matches!(phase(p), "Pending" | "Running" | "Unknown")
}

fn is_evicted(p: &Pod) -> bool {
    phase(p) == "Failed" && p.status.as_ref().and_then(|s| s.reason.as_deref()) == Some("Evicted")
}

fn is_node_ready(n: &Node) -> bool {
    let conditions = n.status.as_ref().and_then(|s| s.conditions.as_ref());
    conditions
        .into_iter()
        .flatten()
        .any(|c| c.type_ == "Ready" && c.status == "True")
}

fn out_of_service(n: &Node) -> bool {
    let taints = n.spec.as_ref().and_then(|s| s.taints.as_ref());
    taints.into_iter().flatten().any(|t| t.key == OUT_OF_SERVICE_TAINT)
}

/// Evicted pods first (they are nobody's record of work done), then oldest, then by name.
fn deletion_order(pods: &mut [Arc<Pod>]) {
    let created = |p: &Pod| p.metadata.creation_timestamp.as_ref().map(|t| t.0);
    pods.sort_by(|a, b| {
        is_evicted(b)
            .cmp(&is_evicted(a))
            .then_with(|| created(a).cmp(&created(b)))
            .then_with(|| a.metadata.name.cmp(&b.metadata.name))
    });
}

/// The terminated pods beyond `threshold`, in deletion order.
fn terminated_beyond(pods: &[Arc<Pod>], threshold: i32) -> Vec<Arc<Pod>> {
    if threshold <= 0 {
        return Vec::new();
    }
    let mut terminated: Vec<Arc<Pod>> = pods.iter().filter(|p| is_terminated(p)).cloned().collect();
    let excess = terminated.len().saturating_sub(threshold as usize);
    deletion_order(&mut terminated);
    terminated.truncate(excess);
    terminated
}

impl Controller {
    async fn gc(&self) {
        let pods = self.pods.list();
        let deletes = terminated_beyond(&pods, self.ctx.opts.terminated_pod_gc_threshold);
        if !deletes.is_empty() {
            tracing::info!(count = deletes.len(), "garbage collecting terminated pods");
        }
        futures::future::join_all(deletes.iter().map(|p| self.mark_failed_and_delete(p, None))).await;
        self.gc_terminating_out_of_service(&pods).await;
        self.gc_orphaned(&pods).await;
        for p in pods
            .iter()
            .filter(|p| p.metadata.deletion_timestamp.is_some() && node_name(p).is_empty())
        {
            tracing::info!(pod = %crate::informer::key_of(p.as_ref()), "deleting unscheduled terminating pod");
            self.mark_failed_and_delete(p, None).await;
        }
    }

    async fn gc_terminating_out_of_service(&self, pods: &[Arc<Pod>]) {
        let mut victims: Vec<Arc<Pod>> = pods
            .iter()
            .filter(|p| p.metadata.deletion_timestamp.is_some())
            .filter(|p| {
                self.nodes
                    .get(node_name(p))
                    .is_some_and(|n| !is_node_ready(&n) && out_of_service(&n))
            })
            .cloned()
            .collect();
        deletion_order(&mut victims);
        futures::future::join_all(victims.iter().map(|p| self.mark_failed_and_delete(p, None))).await;
    }

    /// Pods on nodes that are gone, once the node has been missing for the quarantine and the
    /// server confirms it.
    async fn gc_orphaned(&self, pods: &[Arc<Pod>]) {
        let existing: HashSet<String> = self
            .nodes
            .list()
            .iter()
            .filter_map(|n| n.metadata.name.clone())
            .collect();
        let now = Instant::now();
        let ready: Vec<String> = {
            let mut q = self.quarantine.lock().unwrap_or_else(|e| e.into_inner());
            for p in pods {
                let node = node_name(p);
                if !node.is_empty() && !existing.contains(node) && !q.contains_key(node) {
                    q.insert(node.to_string(), now + QUARANTINE);
                    let wake = self.wake.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(QUARANTINE).await;
                        wake.notify_one();
                    });
                }
            }
            let due: Vec<String> = q.iter().filter(|(_, at)| **at <= now).map(|(n, _)| n.clone()).collect();
            due.iter().for_each(|n| {
                q.remove(n);
            });
            due
        };
        let nodes: Api<Node> = Api::all(self.ctx.client.clone());
        let mut deleted = HashSet::new();
        for name in ready.into_iter().filter(|n| !existing.contains(n)) {
            match nodes.get_opt(&name).await {
                Ok(None) => {
                    deleted.insert(name);
                }
                Ok(Some(_)) => {}
                Err(e) => tracing::warn!(node = %name, error = %e, "error while getting node"),
            }
        }
        for p in pods.iter().filter(|p| deleted.contains(node_name(p))) {
            tracing::info!(pod = %crate::informer::key_of(p.as_ref()), node = node_name(p), "deleting orphaned pod");
            let condition = json!({
                "type": "DisruptionTarget",
                "status": "True",
                "reason": "DeletionByPodGC",
                "message": "PodGC: node no longer exists",
            });
            self.mark_failed_and_delete(p, Some(condition)).await;
        }
    }

    /// Marks an unfinished pod Failed (with `condition`), then deletes it at once.
    async fn mark_failed_and_delete(&self, pod: &Pod, condition: Option<serde_json::Value>) {
        let ns = pod.metadata.namespace.as_deref().unwrap_or_default();
        let name = pod.metadata.name.as_deref().unwrap_or_default();
        let api: Api<Pod> = Api::namespaced(self.ctx.client.clone(), ns);
        if !matches!(phase(pod), "Succeeded" | "Failed") {
            let mut status = json!({"phase": "Failed"});
            if let Some(mut c) = condition {
                c["lastTransitionTime"] = json!(transition_time(pod, &c));
                status["conditions"] = json!([c]);
            }
            let patch = json!({"metadata": {"uid": pod.metadata.uid}, "status": status});
            let r = api
                .patch_status(name, &PatchParams::default(), &Patch::Strategic(&patch))
                .await;
            if let Err(e) = super::ignore_not_found(r) {
                tracing::warn!(pod = %format!("{ns}/{name}"), error = %e, "could not mark pod failed");
                return;
            }
        }
        if let Err(e) = super::ignore_not_found(api.delete(name, &DeleteParams::default().grace_period(0)).await) {
            tracing::warn!(pod = %format!("{ns}/{name}"), error = %e, "could not delete pod");
        }
    }
}

/// A condition keeps its transition time unless its status changes.
fn transition_time(pod: &Pod, condition: &serde_json::Value) -> String {
    let same = pod
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| json!(c.type_) == condition["type"]))
        .filter(|c| json!(c.status) == condition["status"]);
    let at = same
        .and_then(|c| c.last_transition_time.as_ref().map(|t| t.0))
        .unwrap_or_else(Timestamp::now);
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, phase: &str, created: &str, reason: Option<&str>) -> Arc<Pod> {
        Arc::new(
            serde_json::from_value(json!({
                "metadata": {"name": name, "creationTimestamp": created},
                "status": {"phase": phase, "reason": reason},
            }))
            .unwrap(),
        )
    }

    #[test]
    fn terminated_pods_beyond_the_threshold_go_evicted_then_oldest_first() {
        let pods = vec![
            pod("new", "Succeeded", "2026-01-03T00:00:00Z", None),
            pod("running", "Running", "2026-01-01T00:00:00Z", None),
            pod("old", "Failed", "2026-01-01T00:00:00Z", None),
            pod("evicted", "Failed", "2026-01-04T00:00:00Z", Some("Evicted")),
            pod("mid", "Succeeded", "2026-01-02T00:00:00Z", None),
        ];
        let names = |v: Vec<Arc<Pod>>| v.iter().map(|p| p.metadata.name.clone().unwrap()).collect::<Vec<_>>();
        assert_eq!(names(terminated_beyond(&pods, 2)), ["evicted", "old"]);
        assert_eq!(names(terminated_beyond(&pods, 1)), ["evicted", "old", "mid"]);
        assert!(terminated_beyond(&pods, 4).is_empty());
        assert!(
            terminated_beyond(&pods, 0).is_empty(),
            "0 turns the terminated sweep off"
        );
    }

    #[test]
    fn node_state() {
        let node: Node = serde_json::from_value(json!({
            "spec": {"taints": [{"key": OUT_OF_SERVICE_TAINT, "effect": "NoExecute"}]},
            "status": {"conditions": [{"type": "Ready", "status": "False"}]},
        }))
        .unwrap();
        assert!(!is_node_ready(&node) && out_of_service(&node));
    }
}
