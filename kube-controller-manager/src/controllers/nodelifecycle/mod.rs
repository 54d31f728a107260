//! nodelifecycle: watches node heartbeats (the NodeReady condition's lastHeartbeatTime and
//! the node's Lease in kube-node-lease, timed by this process's clock as upstream does).
//! A node silent for `--node-monitor-grace-period` gets its conditions set to Unknown
//! ("Kubelet stopped posting node status.") and its pods marked not ready. Every node
//! carries the taints its conditions call for: `not-ready` / `unreachable` NoExecute (the
//! taint-eviction controller acts on them) and the NoSchedule taints for Ready, pressure,
//! network and `spec.unschedulable`. New NoExecute taints are rate-limited per zone and held
//! back when every zone is down (`zones`).

mod zones;

use super::Ctx;
use super::taints::{NOT_READY, UNREACHABLE};
use crate::events::NORMAL;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, NodeCondition, Pod, Taint};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, PostParams};
use std::collections::HashMap;
use std::time::Instant;

/// Nodes that never posted a status get this long after first sight.
const STARTUP_GRACE: std::time::Duration = std::time::Duration::from_secs(60);
const LEASE_NAMESPACE: &str = "kube-node-lease";
/// The taint keys this controller owns; it leaves every other taint alone.
const MANAGED: &[&str] = &[
    NOT_READY,
    UNREACHABLE,
    "node.kubernetes.io/memory-pressure",
    "node.kubernetes.io/disk-pressure",
    "node.kubernetes.io/network-unavailable",
    "node.kubernetes.io/pid-pressure",
    "node.kubernetes.io/unschedulable",
];

fn condition<'a>(node: &'a Node, type_: &str) -> Option<&'a NodeCondition> {
    node.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_)
}

/// The taints a node's conditions call for (upstream's nodeConditionToTaintKeyStatusMap).
pub fn desired_taints(node: &Node) -> Vec<(&'static str, &'static str)> {
    let status = |t: &str| condition(node, t).map(|c| c.status.as_str());
    let mut want = Vec::new();
    match status("Ready") {
        Some("False") => want.extend([(NOT_READY, "NoExecute"), (NOT_READY, "NoSchedule")]),
        Some("Unknown") => want.extend([(UNREACHABLE, "NoExecute"), (UNREACHABLE, "NoSchedule")]),
        Some("True") => {}
        _ => want.push((NOT_READY, "NoSchedule")),
    }
    for (cond, key) in [
        ("MemoryPressure", "node.kubernetes.io/memory-pressure"),
        ("DiskPressure", "node.kubernetes.io/disk-pressure"),
        ("NetworkUnavailable", "node.kubernetes.io/network-unavailable"),
        ("PIDPressure", "node.kubernetes.io/pid-pressure"),
    ] {
        if status(cond) == Some("True") {
            want.push((key, "NoSchedule"));
        }
    }
    if node.spec.as_ref().and_then(|s| s.unschedulable) == Some(true) {
        want.push(("node.kubernetes.io/unschedulable", "NoSchedule"));
    }
    want
}

/// The node's taints with the managed ones replaced by `want`; `None` if nothing changes.
fn retaint(node: &Node, want: &[(&str, &str)]) -> Option<Vec<Taint>> {
    let current = node.spec.as_ref().and_then(|s| s.taints.clone()).unwrap_or_default();
    let managed = |t: &Taint| MANAGED.contains(&t.key.as_str());
    let mut have: Vec<(&str, &str)> = current
        .iter()
        .filter(|t| managed(t))
        .map(|t| (t.key.as_str(), t.effect.as_str()))
        .collect();
    let mut sorted_want = want.to_vec();
    have.sort();
    sorted_want.sort();
    if have == sorted_want {
        return None;
    }
    let now = Time(jiff::Timestamp::now());
    let mut next: Vec<Taint> = current.iter().filter(|t| !managed(t)).cloned().collect();
    for (key, effect) in want {
        // A taint that stays keeps its timeAdded: tolerationSeconds count from it.
        let kept = current.iter().find(|t| t.key == *key && t.effect == *effect).cloned();
        next.push(kept.unwrap_or_else(|| Taint {
            key: key.to_string(),
            effect: effect.to_string(),
            value: None,
            time_added: (*effect == "NoExecute").then(|| now.clone()),
        }));
    }
    Some(next)
}

/// What last changed in a node's heartbeat, and when this process saw it change.
struct Probe {
    signature: String,
    seen: Instant,
}

pub async fn run(ctx: Ctx) -> anyhow::Result<()> {
    let nodes = ctx.informers.get::<Node>();
    let leases = ctx.informers.get::<Lease>();
    let pods = ctx.informers.get::<Pod>();
    nodes.synced().await;
    leases.synced().await;
    pods.synced().await;
    let grace = ctx.opts.node_monitor_grace_period;
    let mut probes: HashMap<String, Probe> = HashMap::new();
    let mut tick = tokio::time::interval(ctx.opts.node_monitor_period);
    let api: Api<Node> = Api::all(ctx.client.clone());
    let rates = zones::Rates {
        primary: ctx.opts.node_eviction_rate,
        secondary: ctx.opts.secondary_node_eviction_rate,
        large_cluster: ctx.opts.large_cluster_size_threshold,
        unhealthy_threshold: ctx.opts.unhealthy_zone_threshold,
    };
    let mut zone_states = zones::Zones::default();
    loop {
        tick.tick().await;
        let all = nodes.list();
        probes.retain(|name, _| all.iter().any(|n| n.metadata.name.as_deref() == Some(name.as_str())));
        // First every node's health, then the zones it adds up to, then the taints.
        let mut checked = Vec::with_capacity(all.len());
        for node in all {
            let name = node.metadata.name.clone().unwrap_or_default();
            let ready = condition(&node, "Ready");
            let lease = leases.get(&format!("{LEASE_NAMESPACE}/{name}"));
            let renew = lease
                .as_ref()
                .and_then(|l| l.spec.as_ref()?.renew_time.as_ref().map(|t| t.0));
            let signature = format!(
                "{:?}|{:?}",
                ready.and_then(|c| c.last_heartbeat_time.as_ref().map(|t| t.0)),
                renew
            );
            let probe = probes.entry(name.clone()).or_insert_with(|| Probe {
                signature: signature.clone(),
                seen: Instant::now(),
            });
            if probe.signature != signature {
                probe.signature = signature;
                probe.seen = Instant::now();
            }
            let limit = if ready.is_some() { grace } else { STARTUP_GRACE };
            let mut node = (*node).clone();
            if probe.seen.elapsed() > limit && ready.is_none_or(|c| c.status != "Unknown") {
                match mark_unknown(&ctx, &api, &node, ready.is_none()).await {
                    Ok(Some(updated)) => {
                        node = updated;
                        mark_pods_not_ready(&ctx, &pods.list(), &name).await;
                    }
                    Ok(None) => continue,
                    Err(e) => {
                        tracing::info!(node = %name, error = %e, "could not mark node unknown");
                        continue;
                    }
                }
            }
            checked.push(node);
        }
        let readiness: Vec<(String, bool)> = checked
            .iter()
            .map(|n| {
                let ready = condition(n, "Ready").is_some_and(|c| c.status == "True");
                (zones::zone_key(n), ready)
            })
            .collect();
        zone_states.observe(&readiness, &rates, Instant::now());
        for mut node in checked {
            let name = node.metadata.name.clone().unwrap_or_default();
            let mut want = desired_taints(&node);
            let tainted = node.spec.as_ref().and_then(|s| s.taints.as_ref()).is_some_and(|ts| {
                ts.iter()
                    .any(|t| t.effect == "NoExecute" && (t.key == NOT_READY || t.key == UNREACHABLE))
            });
            let zone = zones::zone_key(&node);
            // A node not yet tainted for eviction waits for its zone's rate limit (a swap
            // between not-ready and unreachable does not); none is while every zone is down.
            want.retain(|(_, effect)| {
                *effect != "NoExecute"
                    || (tainted && !zone_states.all_disrupted())
                    || zone_states.may_taint(&zone, Instant::now())
            });
            if let Some(taints) = retaint(&node, &want) {
                node.spec.get_or_insert_default().taints = (!taints.is_empty()).then_some(taints);
                if let Err(e) = api.replace(&name, &PostParams::default(), &node).await {
                    tracing::debug!(node = %name, error = %e, "taint update failed; retried next period");
                }
            }
        }
    }
}

/// Sets Ready and the pressure conditions to Unknown; the node as written.
async fn mark_unknown(ctx: &Ctx, api: &Api<Node>, node: &Node, never: bool) -> anyhow::Result<Option<Node>> {
    let (reason, message) = match never {
        true => ("NodeStatusNeverUpdated", "Kubelet never posted node status."),
        false => ("NodeStatusUnknown", "Kubelet stopped posting node status."),
    };
    let set = |n: &mut Node| {
        let now = Time(jiff::Timestamp::now());
        let conditions = n.status.get_or_insert_default().conditions.get_or_insert_default();
        for type_ in ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"] {
            match conditions.iter_mut().find(|c| c.type_ == type_) {
                Some(c) if c.status == "Unknown" => {}
                Some(c) => {
                    c.status = "Unknown".into();
                    c.reason = Some(reason.into());
                    c.message = Some(message.into());
                    c.last_transition_time = Some(now.clone());
                }
                None => conditions.push(NodeCondition {
                    type_: type_.into(),
                    status: "Unknown".into(),
                    reason: Some(reason.into()),
                    message: Some(message.into()),
                    last_transition_time: Some(now.clone()),
                    last_heartbeat_time: None,
                }),
            }
        }
    };
    let written = super::update_status(api, node, set).await?;
    if let Some(n) = &written {
        let name = n.metadata.name.as_deref().unwrap_or_default();
        let msg = format!("Node {name} status is now: NodeNotReady");
        ctx.recorder.event(n, NORMAL, "NodeNotReady", &msg);
    }
    Ok(written)
}

/// The pods on a node that stopped reporting are no longer ready (upstream's MarkPodsNotReady).
async fn mark_pods_not_ready(ctx: &Ctx, pods: &[std::sync::Arc<Pod>], node: &str) {
    for pod in pods {
        if pod.spec.as_ref().and_then(|s| s.node_name.as_deref()) != Some(node) {
            continue;
        }
        let ready = pod
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .and_then(|c| c.iter().find(|c| c.type_ == "Ready"));
        if ready.is_none_or(|c| c.status != "True") {
            continue;
        }
        let api: Api<Pod> = Api::namespaced(
            ctx.client.clone(),
            pod.metadata.namespace.as_deref().unwrap_or_default(),
        );
        let set = |p: &mut Pod| {
            let conditions = p.status.get_or_insert_default().conditions.get_or_insert_default();
            if let Some(c) = conditions.iter_mut().find(|c| c.type_ == "Ready") {
                c.status = "False".into();
                c.last_transition_time = Some(Time(jiff::Timestamp::now()));
            }
        };
        if let Err(e) = super::update_status(&api, pod, set).await {
            tracing::debug!(pod = ?pod.metadata.name, error = %e, "could not mark pod not ready");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(ready: &str, taints: serde_json::Value) -> Node {
        serde_json::from_value(json!({"metadata": {"name": "n"}, "spec": {"taints": taints},
            "status": {"conditions": [{"type": "Ready", "status": ready}, {"type": "MemoryPressure", "status": "True"}]}}))
        .unwrap()
    }

    #[test]
    fn taints_follow_conditions_and_keep_others() {
        let n = node(
            "Unknown",
            json!([{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]),
        );
        let want = desired_taints(&n);
        assert!(
            want.contains(&(UNREACHABLE, "NoExecute"))
                && want.contains(&("node.kubernetes.io/memory-pressure", "NoSchedule"))
        );
        let next = retaint(&n, &want).unwrap();
        assert!(next.iter().any(|t| t.key == "dedicated"));
        assert!(
            next.iter()
                .any(|t| t.key == UNREACHABLE && t.effect == "NoExecute" && t.time_added.is_some())
        );
        // Ready again: the unreachable taints go, nothing else changes.
        let mut healed = n.clone();
        healed.spec.as_mut().unwrap().taints = Some(next);
        healed.status.as_mut().unwrap().conditions.as_mut().unwrap()[0].status = "True".into();
        let after = retaint(&healed, &desired_taints(&healed)).unwrap();
        assert!(after.iter().all(|t| t.key != UNREACHABLE));
        assert!(retaint(&healed, &[("node.kubernetes.io/memory-pressure", "NoSchedule")]).is_some());
    }
}
