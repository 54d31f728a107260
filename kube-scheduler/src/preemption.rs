//! DefaultPreemption (PostFilter): when no node fits, find a node where evicting pods of lower
//! priority would make room, choosing the victims and the node as upstream does (fewest and
//! least important victims), nominate the pod to it and delete the victims.
//! Not yet: PodDisruptionBudgets, and re-running PreFilter state (inter-pod affinity, spread)
//! without the victims.

use crate::cache::{Cache, NodeInfo};
use crate::config::Profile;
use crate::events::Recorder;
use crate::framework::{Code, CycleState};
use crate::podinfo::PodInfo;
use crate::schedule::{FitError, nodes_unavailable};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams};
use std::sync::Arc;

pub const NOT_HELPFUL: &str = "Preemption is not helpful for scheduling";
pub const NO_VICTIMS: &str = "No preemption victims found for incoming pod";

#[derive(Default)]
pub struct Outcome {
    /// The PostFilter message to append ("preemption: ...").
    pub message: Option<String>,
    pub nominated: Option<String>,
    pub victims: Vec<Arc<PodInfo>>,
}

fn fits(profile: &Profile, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> bool {
    profile.filters.iter().all(|p| p.filter(state, pod, node).is_ok())
}

/// The fewest victims on `node` that make `pod` fit, or None.
fn victims_on(profile: &Profile, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Option<Vec<Arc<PodInfo>>> {
    let mut trial = node.clone();
    let mut lower: Vec<Arc<PodInfo>> = node
        .pods
        .iter()
        .filter(|p| p.priority < pod.priority)
        .cloned()
        .collect();
    if lower.is_empty() {
        return None;
    }
    for v in &lower {
        trial.remove_pod(&v.uid);
    }
    if !fits(profile, state, pod, &trial) {
        return None;
    }
    // Reprieve the most important pods first, keeping each one that still leaves room.
    lower.sort_by_key(|p| std::cmp::Reverse(p.priority));
    let mut victims = Vec::new();
    for v in lower {
        trial.add_pod(v.clone());
        if !fits(profile, state, pod, &trial) {
            trial.remove_pod(&v.uid);
            victims.push(v);
        }
    }
    Some(victims)
}

pub fn run(profile: &Profile, cache: &Cache, pod: &PodInfo, fit: &FitError) -> Outcome {
    if fit.num_all_nodes == 0 {
        return Outcome::default();
    }
    if pod.spec().and_then(|s| s.preemption_policy.as_deref()) == Some("Never") {
        return Outcome {
            message: Some("preemption: not eligible due to preemptionPolicy=Never.".into()),
            ..Default::default()
        };
    }
    // PreFilter state over the current cluster; filters then run without the victims.
    let mut state = CycleState::default();
    for p in &profile.filters {
        if p.pre_filter(&mut state, pod, cache).is_err() {
            return Outcome::default();
        }
    }
    let mut reasons: Vec<&str> = Vec::new();
    let mut best: Option<(String, Vec<Arc<PodInfo>>)> = None;
    // Lower is better: highest victim priority, then sum of priorities, then count.
    let rank = |v: &[Arc<PodInfo>]| {
        (
            v.iter().map(|p| p.priority).max().unwrap_or(i32::MIN),
            v.iter().map(|p| p.priority as i64).sum::<i64>(),
            v.len(),
        )
    };
    for (name, status) in &fit.statuses {
        if status.code == Code::UnschedulableAndUnresolvable {
            reasons.push(NOT_HELPFUL);
            continue;
        }
        let victims = cache.node(name).and_then(|n| victims_on(profile, &state, pod, n));
        match victims {
            Some(v) if best.as_ref().is_none_or(|(_, b)| rank(&v) < rank(b)) => best = Some((name.clone(), v)),
            Some(_) => {}
            None => reasons.push(NO_VICTIMS),
        }
    }
    if let Some((node, victims)) = best {
        return Outcome {
            message: None,
            nominated: Some(node),
            victims,
        };
    }
    Outcome {
        message: Some(format!(
            "preemption: {}",
            nodes_unavailable(fit.num_all_nodes, reasons.into_iter())
        )),
        ..Default::default()
    }
}

/// Deletes a victim, with the `Preempted` event upstream writes.
pub async fn evict(client: &kube::Client, recorder: &Recorder, victim: &PodInfo, preemptor: &PodInfo, node: &str) {
    let note = format!("Preempted by pod {} on node {node}", preemptor.uid);
    recorder
        .event(&victim.pod, "Normal", "Preempted", "Preempting", &note)
        .await;
    let api: Api<Pod> = Api::namespaced(client.clone(), &victim.namespace);
    if let Err(e) = api.delete(&victim.name, &DeleteParams::default()).await {
        tracing::warn!(pod = %victim.key(), error = %e, "deleting preemption victim");
    } else {
        tracing::info!(pod = %victim.key(), preemptor = %preemptor.key(), %node, "preempted");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::podinfo::pod;
    use crate::schedule::{Rng, schedule};
    use serde_json::json;

    fn with_priority(name: &str, priority: i32, cpu: &str) -> Arc<PodInfo> {
        pod(
            json!({"metadata": {"name": name, "uid": name}, "spec": {"priority": priority,
            "containers": [{"name": "c", "resources": {"requests": {"cpu": cpu}}}]}}),
        )
    }

    #[test]
    fn lower_priority_pods_make_room() {
        let mut c = Cache::default();
        for n in ["a", "b"] {
            c.set_node(Arc::new(
                serde_json::from_value(json!({"metadata": {"name": n, "labels": {"kubernetes.io/hostname": n}},
                    "status": {"allocatable": {"cpu": "2", "memory": "1Gi", "pods": "10"}}}))
                .expect("node"),
            ));
        }
        c.add_or_update_pod(with_priority("a-low", 1, "1"), "a");
        c.add_or_update_pod(with_priority("a-mid", 5, "1"), "a");
        c.add_or_update_pod(with_priority("b-high", 100, "2"), "b");
        let cfg = Config::default_config();
        let profile = &cfg.profiles[0];
        let important = with_priority("important", 10, "1");
        let fit = schedule(profile, 0, &c, &important, &mut 0, &mut Rng::seeded())
            .err()
            .expect("full");
        let out = run(profile, &c, &important, &fit);
        assert_eq!(out.nominated.as_deref(), Some("a"));
        let victims: Vec<&str> = out.victims.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(victims, ["a-low"], "the least important pod that makes room");

        let lowly = with_priority("lowly", 0, "1");
        let fit = schedule(profile, 0, &c, &lowly, &mut 0, &mut Rng::seeded())
            .err()
            .expect("full");
        let out = run(profile, &c, &lowly, &fit);
        assert_eq!(
            fit.message() + " " + out.message.as_deref().unwrap_or_default(),
            "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod."
        );
    }
}
