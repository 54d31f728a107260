//! One scheduling attempt over the cache, as upstream's schedulePod: PreFilter, then Filter
//! over nodes starting where the last attempt stopped until enough feasible nodes are found
//! (percentageOfNodesToScore), then PreScore/Score/NormalizeScore with weights, and the
//! highest total wins (ties broken at random). Failures keep each node's reasons for
//! upstream's "0/N nodes are available: ..." message.

use crate::cache::{Cache, NodeInfo};
use crate::config::Profile;
use crate::framework::{Code, CycleState, Status};
use crate::podinfo::PodInfo;
use std::collections::BTreeMap;

const MIN_FEASIBLE_NODES_TO_FIND: usize = 100;
const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND: usize = 5;

/// How many feasible nodes to look for among `all` (upstream's numFeasibleNodesToFind).
pub fn num_feasible_nodes_to_find(percentage: u32, all: usize) -> usize {
    if all < MIN_FEASIBLE_NODES_TO_FIND || percentage >= 100 {
        return all;
    }
    let mut adaptive = percentage as usize;
    if adaptive == 0 {
        adaptive = (50usize.saturating_sub(all / 125)).max(MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND);
    }
    (all * adaptive / 100).max(MIN_FEASIBLE_NODES_TO_FIND)
}

/// "0/N nodes are available: <count> <reason>, ...": reasons counted, then sorted as strings.
pub fn nodes_unavailable<'a>(num_all_nodes: usize, reasons: impl Iterator<Item = &'a str>) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for r in reasons {
        *counts.entry(r).or_default() += 1;
    }
    let mut parts: Vec<String> = counts.iter().map(|(r, n)| format!("{n} {r}")).collect();
    parts.sort();
    format!("0/{num_all_nodes} nodes are available: {}.", parts.join(", "))
}

/// Why no node fits.
#[derive(Debug)]
pub struct FitError {
    pub num_all_nodes: usize,
    /// The rejecting status per node name.
    pub statuses: Vec<(String, Status)>,
}

impl FitError {
    /// Upstream's message: reasons counted over nodes, sorted as strings.
    pub fn message(&self) -> String {
        if self.num_all_nodes == 0 {
            return "no nodes available to schedule pods".into();
        }
        let reasons = self
            .statuses
            .iter()
            .flat_map(|(_, s)| s.reasons.iter().map(String::as_str));
        nodes_unavailable(self.num_all_nodes, reasons)
    }

    /// The plugins that rejected some node (for requeueing on the right events).
    pub fn plugins(&self) -> Vec<&'static str> {
        let mut p: Vec<&'static str> = self.statuses.iter().map(|(_, s)| s.plugin).collect();
        p.sort();
        p.dedup();
        p
    }
}

/// A tiny xorshift generator for tie-breaking among equally scored nodes.
pub struct Rng(u64);

impl Rng {
    pub fn seeded() -> Rng {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9E37_79B9_7F4A_7C15);
        Rng(t | 1)
    }

    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

pub struct Decision {
    pub node: String,
    pub evaluated: usize,
    pub feasible: usize,
}

/// Runs one attempt; `next_start` is where the node scan begins and is advanced.
pub fn schedule(
    profile: &Profile,
    global_percentage: u32,
    cache: &Cache,
    pod: &PodInfo,
    next_start: &mut usize,
    rng: &mut Rng,
) -> Result<Decision, FitError> {
    let all = cache.node_count();
    let fail = |statuses| FitError {
        num_all_nodes: all,
        statuses,
    };
    if all == 0 {
        return Err(fail(Vec::new()));
    }
    let mut state = CycleState::default();
    for p in &profile.filters {
        if let Err(s) = p.pre_filter(&mut state, pod, cache) {
            return Err(fail(cache.nodes().map(|n| (n.name.clone(), s.clone())).collect()));
        }
    }
    let percentage = profile.percentage_of_nodes_to_score.unwrap_or(global_percentage);
    let want = num_feasible_nodes_to_find(percentage, all);
    let mut feasible: Vec<&NodeInfo> = Vec::with_capacity(want.min(all));
    let mut statuses = Vec::new();
    let start = *next_start % all;
    let mut processed = 0;
    for i in 0..all {
        if feasible.len() >= want {
            break;
        }
        processed += 1;
        let Some(node) = cache.node_at((start + i) % all) else {
            continue;
        };
        match profile.filters.iter().try_for_each(|p| p.filter(&state, pod, node)) {
            Ok(()) => feasible.push(node),
            Err(s) => statuses.push((node.name.clone(), s)),
        }
    }
    *next_start = (start + processed) % all;
    if feasible.is_empty() {
        return Err(fail(statuses));
    }
    let evaluated = processed;
    if feasible.len() == 1 || profile.scorers.is_empty() {
        return Ok(Decision {
            node: feasible[0].name.clone(),
            evaluated,
            feasible: feasible.len(),
        });
    }
    for (p, _) in &profile.scorers {
        p.pre_score(&mut state, pod, cache, &feasible);
    }
    let mut totals = vec![0i64; feasible.len()];
    let mut scores = vec![0i64; feasible.len()];
    for (p, weight) in &profile.scorers {
        for (s, node) in scores.iter_mut().zip(&feasible) {
            *s = p.score(&state, pod, node);
        }
        p.normalize(&state, pod, &feasible, &mut scores);
        for (t, s) in totals.iter_mut().zip(&scores) {
            *t += s * weight;
        }
    }
    // Reservoir sampling among the best, as upstream's selectHost.
    let mut best = 0;
    let mut ties = 1;
    for i in 1..totals.len() {
        if totals[i] > totals[best] {
            best = i;
            ties = 1;
        } else if totals[i] == totals[best] {
            ties += 1;
            if rng.below(ties) == 0 {
                best = i;
            }
        }
    }
    Ok(Decision {
        node: feasible[best].name.clone(),
        evaluated,
        feasible: feasible.len(),
    })
}

/// Whether preemption could not help on any node: every node rejected the pod for a reason
/// that removing pods does not change.
pub fn all_unresolvable(err: &FitError) -> bool {
    err.statuses
        .iter()
        .all(|(_, s)| s.code == Code::UnschedulableAndUnresolvable)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::podinfo::pod;
    use serde_json::json;
    use std::sync::Arc;

    #[test]
    fn nodes_to_find() {
        let cases = [
            (50, 0, 50),
            (100, 0, 100),
            (1000, 0, 420),
            (5000, 0, 500),
            (6000, 0, 300),
            (20000, 0, 1000),
            (5000, 50, 2500),
            (200, 10, 100),
        ];
        for (all, pct, want) in cases {
            assert_eq!(num_feasible_nodes_to_find(pct, all), want, "{all} nodes at {pct}%");
        }
    }

    fn cache(nodes: serde_json::Value) -> Cache {
        let mut c = Cache::default();
        for n in nodes.as_array().into_iter().flatten() {
            c.set_node(Arc::new(serde_json::from_value(n.clone()).expect("node")));
        }
        c
    }

    #[test]
    fn failure_message_has_upstreams_shape() {
        let c = cache(json!([
            {"metadata": {"name": "a"}, "spec": {"taints": [{"key": "dedicated", "value": "infra", "effect": "NoSchedule"}]},
             "status": {"allocatable": {"cpu": "1", "memory": "1Gi", "pods": "10"}}},
            {"metadata": {"name": "b"}, "status": {"allocatable": {"cpu": "1", "memory": "1Gi", "pods": "10"}}},
            {"metadata": {"name": "c"}, "status": {"allocatable": {"cpu": "1", "memory": "1Gi", "pods": "10"}}},
        ]));
        let p = pod(json!({"spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": "2"}}}]}}));
        let cfg = Config::default_config();
        let err = schedule(&cfg.profiles[0], 0, &c, &p, &mut 0, &mut Rng::seeded())
            .err()
            .expect("unschedulable");
        assert_eq!(
            err.message(),
            "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: infra}, 2 Insufficient cpu."
        );
        assert!(!all_unresolvable(&err));
        let empty = schedule(&cfg.profiles[0], 0, &Cache::default(), &p, &mut 0, &mut Rng::seeded());
        assert_eq!(
            empty.err().map(|e| e.message()).unwrap_or_default(),
            "no nodes available to schedule pods"
        );
    }

    #[test]
    fn the_least_allocated_node_wins() {
        let mut c = cache(json!([
            {"metadata": {"name": "busy", "labels": {"kubernetes.io/hostname": "busy"}}, "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "10"}}},
            {"metadata": {"name": "idle", "labels": {"kubernetes.io/hostname": "idle"}}, "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "10"}}},
        ]));
        let big = pod(json!({"metadata": {"name": "big", "uid": "big"},
            "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": "3", "memory": "6Gi"}}}]}}));
        c.assume(big, "busy");
        let cfg = Config::default_config();
        let p = pod(
            json!({"spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": "100m", "memory": "100Mi"}}}]}}),
        );
        for _ in 0..5 {
            let d = schedule(&cfg.profiles[0], 0, &c, &p, &mut 0, &mut Rng::seeded()).expect("fits");
            assert_eq!(d.node, "idle");
        }
    }
}
