//! InterPodAffinity: required pod affinity and anti-affinity (the pod's own terms and existing
//! pods' anti-affinity towards it) filter topology domains; preferred terms of both sides, and
//! existing pods' required affinity (hardPodAffinityWeight), score them.

use crate::cache::{Cache, NodeInfo};
use crate::framework::{CycleState, FilterResult, MAX_NODE_SCORE, Plugin, Status};
use crate::podinfo::{AffinityTerm, PodInfo};
use std::collections::{BTreeMap, HashMap};

pub const AFFINITY_REASON: &str = "node(s) didn't match pod affinity rules";
pub const ANTI_AFFINITY_REASON: &str = "node(s) didn't match pod anti-affinity rules";
pub const EXISTING_ANTI_AFFINITY_REASON: &str = "node(s) didn't satisfy existing pods anti-affinity rules";

pub struct InterPodAffinity {
    pub hard_pod_affinity_weight: i64,
}

impl InterPodAffinity {
    pub fn from_args(args: Option<&serde_json::Value>) -> Self {
        InterPodAffinity {
            hard_pod_affinity_weight: args
                .and_then(|a| a.get("hardPodAffinityWeight"))
                .and_then(|w| w.as_i64())
                .unwrap_or(1),
        }
    }
}

type Pair = (String, String);

/// Counts per topology pair, computed once per cycle.
#[derive(Default)]
struct FilterState {
    /// Existing pods whose required anti-affinity selects the incoming pod.
    existing_anti: HashMap<Pair, i64>,
    /// Existing pods matching all of the incoming pod's required affinity terms.
    affinity: HashMap<Pair, i64>,
    /// Existing pods matching one of the incoming pod's required anti-affinity terms.
    anti: HashMap<Pair, i64>,
}

const FILTER: &str = "InterPodAffinity/filter";
const SCORE: &str = "InterPodAffinity/score";

fn bump(counts: &mut HashMap<Pair, i64>, key: &str, node: &NodeInfo, by: i64) {
    if let Some(v) = node.label(key) {
        *counts.entry((key.to_string(), v.to_string())).or_default() += by;
    }
}

fn matches_all(terms: &[AffinityTerm], pod: &PodInfo, ns_labels: Option<&BTreeMap<String, String>>) -> bool {
    !terms.is_empty() && terms.iter().all(|t| t.matches(pod, ns_labels))
}

impl Plugin for InterPodAffinity {
    fn name(&self) -> &'static str {
        "InterPodAffinity"
    }

    fn pre_filter(&self, state: &mut CycleState, pod: &PodInfo, cache: &Cache) -> FilterResult {
        let mut s = FilterState::default();
        let own_ns = cache.namespaces.get(&pod.namespace);
        let has_own_terms = !pod.required_affinity.is_empty() || !pod.required_anti_affinity.is_empty();
        for node in cache.nodes() {
            if !has_own_terms && node.pods_with_required_anti_affinity == 0 {
                continue;
            }
            for existing in &node.pods {
                for term in &existing.required_anti_affinity {
                    if term.matches(pod, own_ns) {
                        bump(&mut s.existing_anti, &term.topology_key, node, 1);
                    }
                }
                if !has_own_terms {
                    continue;
                }
                let ns = cache.namespaces.get(&existing.namespace);
                if matches_all(&pod.required_affinity, existing, ns) {
                    for term in &pod.required_affinity {
                        bump(&mut s.affinity, &term.topology_key, node, 1);
                    }
                }
                for term in &pod.required_anti_affinity {
                    if term.matches(existing, ns) {
                        bump(&mut s.anti, &term.topology_key, node, 1);
                    }
                }
            }
        }
        // The first pod of a group with affinity to itself may go anywhere its topology exists.
        let self_match = matches_all(&pod.required_affinity, pod, own_ns);
        state.write(FILTER, (s, self_match));
        Ok(())
    }

    fn filter(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> FilterResult {
        let Some((s, self_match)) = state.read::<(FilterState, bool)>(FILTER) else {
            return Ok(());
        };
        let mut affinity_ok = true;
        for term in &pod.required_affinity {
            let Some(v) = node.label(&term.topology_key) else {
                return Err(Status::unresolvable(self.name(), AFFINITY_REASON));
            };
            if s.affinity
                .get(&(term.topology_key.clone(), v.to_string()))
                .copied()
                .unwrap_or(0)
                <= 0
            {
                affinity_ok = false;
                break;
            }
        }
        if !(affinity_ok || s.affinity.is_empty() && *self_match) {
            return Err(Status::unresolvable(self.name(), AFFINITY_REASON));
        }
        let hit = |counts: &HashMap<Pair, i64>, key: &str| {
            node.label(key)
                .is_some_and(|v| counts.get(&(key.to_string(), v.to_string())).copied().unwrap_or(0) > 0)
        };
        if pod.required_anti_affinity.iter().any(|t| hit(&s.anti, &t.topology_key)) {
            return Err(Status::unschedulable(self.name(), ANTI_AFFINITY_REASON));
        }
        let existing = s
            .existing_anti
            .iter()
            .any(|((k, v), n)| *n > 0 && node.label(k) == Some(v.as_str()));
        if existing {
            return Err(Status::unschedulable(self.name(), EXISTING_ANTI_AFFINITY_REASON));
        }
        Ok(())
    }

    fn pre_score(&self, state: &mut CycleState, pod: &PodInfo, cache: &Cache, _: &[&NodeInfo]) {
        let own_ns = cache.namespaces.get(&pod.namespace);
        let has_preferred = !pod.preferred_affinity.is_empty() || !pod.preferred_anti_affinity.is_empty();
        let mut scores: HashMap<Pair, i64> = HashMap::new();
        for node in cache.nodes() {
            if !has_preferred && node.pods_with_affinity == 0 {
                continue;
            }
            for existing in &node.pods {
                if !has_preferred && !existing.has_affinity() {
                    continue;
                }
                let ns = cache.namespaces.get(&existing.namespace);
                for w in &pod.preferred_affinity {
                    if w.term.matches(existing, ns) {
                        bump(&mut scores, &w.term.topology_key, node, w.weight);
                    }
                }
                for w in &pod.preferred_anti_affinity {
                    if w.term.matches(existing, ns) {
                        bump(&mut scores, &w.term.topology_key, node, -w.weight);
                    }
                }
                if self.hard_pod_affinity_weight > 0 {
                    for t in &existing.required_affinity {
                        if t.matches(pod, own_ns) {
                            bump(&mut scores, &t.topology_key, node, self.hard_pod_affinity_weight);
                        }
                    }
                }
                for w in &existing.preferred_affinity {
                    if w.term.matches(pod, own_ns) {
                        bump(&mut scores, &w.term.topology_key, node, w.weight);
                    }
                }
                for w in &existing.preferred_anti_affinity {
                    if w.term.matches(pod, own_ns) {
                        bump(&mut scores, &w.term.topology_key, node, -w.weight);
                    }
                }
            }
        }
        state.write(SCORE, scores);
    }

    fn score(&self, state: &CycleState, _: &PodInfo, node: &NodeInfo) -> i64 {
        let Some(scores) = state.read::<HashMap<Pair, i64>>(SCORE) else {
            return 0;
        };
        scores
            .iter()
            .filter(|((k, v), _)| node.label(k) == Some(v.as_str()))
            .map(|(_, s)| *s)
            .sum()
    }

    fn normalize(&self, state: &CycleState, _: &PodInfo, _: &[&NodeInfo], scores: &mut [i64]) {
        if state.read::<HashMap<Pair, i64>>(SCORE).is_none_or(|s| s.is_empty()) {
            return;
        }
        let (min, max) = (
            scores.iter().copied().min().unwrap_or(0),
            scores.iter().copied().max().unwrap_or(0),
        );
        for s in scores.iter_mut() {
            *s = if max > min {
                (MAX_NODE_SCORE as f64 * ((*s - min) as f64 / (max - min) as f64)) as i64
            } else {
                0
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testutil::{labeled, labeled_pod, pod};
    use serde_json::json;
    use std::sync::Arc;

    fn cluster(nodes: Vec<(NodeInfo, Vec<Arc<PodInfo>>)>) -> Cache {
        let mut c = Cache::default();
        for (n, pods) in nodes {
            let name = n.name.clone();
            c.set_node(n.node.clone().expect("node"));
            for p in pods {
                c.add_or_update_pod(p, &name);
            }
        }
        c
    }

    fn term(labels: serde_json::Value, key: &str) -> serde_json::Value {
        json!({"labelSelector": {"matchLabels": labels}, "topologyKey": key})
    }

    fn with_affinity(labels: serde_json::Value, affinity: serde_json::Value) -> Arc<PodInfo> {
        pod(json!({"metadata": {"name": "new", "uid": "new", "labels": labels},
                   "spec": {"containers": [{"name": "c"}], "affinity": affinity}}))
    }

    fn run_filter(cache: &Cache, p: &PodInfo) -> Vec<Result<(), String>> {
        let plugin = InterPodAffinity::from_args(None);
        let mut s = CycleState::default();
        plugin.pre_filter(&mut s, p, cache).expect("prefilter");
        cache
            .nodes()
            .map(|n| plugin.filter(&s, p, n).map_err(|e| e.reasons.join(",")))
            .collect()
    }

    #[test]
    fn filter() {
        let web = || labeled_pod("web-1", json!({"app": "web"}));
        let guard = pod(
            json!({"metadata": {"name": "guard", "uid": "guard", "labels": {"app": "guard"}},
            "spec": {"containers": [{"name": "c"}], "affinity": {"podAntiAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": [term(json!({"app": "web"}), "zone")]}}}}),
        );
        let c = cluster(vec![
            (labeled("a", json!({"zone": "z1"})), vec![web()]),
            (labeled("b", json!({"zone": "z1"})), vec![]),
            (labeled("c", json!({"zone": "z2"})), vec![]),
            (labeled("d", json!({})), vec![]),
        ]);
        let anti = with_affinity(
            json!({"app": "web"}),
            json!({"podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [term(json!({"app": "web"}), "kubernetes.io/hostname")]}}),
        );
        let ok = Ok(());
        let no_anti = Err(ANTI_AFFINITY_REASON.to_string());
        assert_eq!(
            run_filter(&c, &anti),
            [no_anti, ok.clone(), ok.clone(), ok.clone()],
            "anti-affinity per host"
        );

        let near = with_affinity(
            json!({}),
            json!({"podAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [term(json!({"app": "web"}), "zone")]}}),
        );
        let no_aff = Err(AFFINITY_REASON.to_string());
        assert_eq!(
            run_filter(&c, &near),
            [ok.clone(), ok.clone(), no_aff.clone(), no_aff.clone()],
            "affinity per zone"
        );

        let self_affine = with_affinity(
            json!({"app": "db"}),
            json!({"podAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [term(json!({"app": "db"}), "zone")]}}),
        );
        assert_eq!(
            run_filter(&c, &self_affine),
            [ok.clone(), ok.clone(), ok.clone(), no_aff],
            "first of a self-affine group goes where the topology exists"
        );

        let c = cluster(vec![
            (labeled("a", json!({"zone": "z1"})), vec![guard]),
            (labeled("b", json!({"zone": "z1"})), vec![]),
            (labeled("c", json!({"zone": "z2"})), vec![]),
        ]);
        let existing = Err(EXISTING_ANTI_AFFINITY_REASON.to_string());
        assert_eq!(
            run_filter(&c, &web()),
            [existing.clone(), existing, ok],
            "existing pods' anti-affinity"
        );
    }

    #[test]
    fn score() {
        let c = cluster(vec![
            (
                labeled("a", json!({"zone": "z1"})),
                vec![labeled_pod("web-1", json!({"app": "web"}))],
            ),
            (
                labeled("b", json!({"zone": "z2"})),
                vec![labeled_pod("db-1", json!({"app": "db"}))],
            ),
            (labeled("c", json!({"zone": "z3"})), vec![]),
        ]);
        let p = with_affinity(
            json!({}),
            json!({
            "podAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 10, "podAffinityTerm": term(json!({"app": "web"}), "zone")}]},
            "podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 5, "podAffinityTerm": term(json!({"app": "db"}), "zone")}]}}),
        );
        let plugin = InterPodAffinity::from_args(None);
        let mut s = CycleState::default();
        let nodes: Vec<&NodeInfo> = c.nodes().collect();
        plugin.pre_score(&mut s, &p, &c, &nodes);
        let mut scores: Vec<i64> = nodes.iter().map(|n| plugin.score(&s, &p, n)).collect();
        assert_eq!(scores, [10, -5, 0]);
        plugin.normalize(&s, &p, &nodes, &mut scores);
        assert_eq!(scores, [100, 0, 33]);
    }
}
