//! PodTopologySpread: DoNotSchedule constraints filter out nodes whose domain would exceed
//! maxSkew; ScheduleAnyway constraints (or, for pods without constraints, the system default
//! spreading over hostname and zone of pods selected by the same Services and controllers)
//! score nodes by how few matching pods their domains hold.

use super::node_affinity::required_matches;
use super::taint_toleration::tolerates;
use crate::cache::{Cache, NodeInfo};
use crate::framework::{CycleState, FilterResult, MAX_NODE_SCORE, Plugin, Status};
use crate::podinfo::PodInfo;
use api_types::labels::{Requirement, Selector};
use k8s_openapi::api::core::v1::TopologySpreadConstraint;
use std::collections::HashMap;

pub const REASON: &str = "node(s) didn't match pod topology spread constraints";
pub const MISSING_LABEL_REASON: &str = "node(s) didn't match pod topology spread constraints (missing required label)";
const HOSTNAME: &str = "kubernetes.io/hostname";

#[derive(Debug, Clone)]
pub struct Constraint {
    pub max_skew: i64,
    pub topology_key: String,
    /// None (no labelSelector) selects no pod.
    pub selector: Option<Selector>,
    pub min_domains: i64,
    pub honor_node_affinity: bool,
    pub honor_taints: bool,
}

impl Constraint {
    fn selects(&self, pod: &PodInfo) -> bool {
        self.selector.as_ref().is_some_and(|s| s.matches(|k| pod.label(k)))
    }

    /// Whether `node` counts for this constraint (nodeAffinityPolicy / nodeTaintsPolicy).
    fn includes(&self, pod: &PodInfo, node: &NodeInfo) -> bool {
        if self.honor_node_affinity && !required_matches(pod, node) {
            return false;
        }
        if self.honor_taints {
            let taints = node
                .node
                .as_ref()
                .and_then(|n| n.spec.as_ref())
                .and_then(|s| s.taints.as_deref());
            let blocked = taints.unwrap_or_default().iter().any(|taint| {
                matches!(taint.effect.as_str(), "NoSchedule" | "NoExecute")
                    && !pod.tolerations.iter().any(|t| tolerates(t, taint))
            });
            if blocked {
                return false;
            }
        }
        true
    }

    /// Matching pods on `node` in the pod's namespace that are not being deleted.
    fn count(&self, pod: &PodInfo, node: &NodeInfo) -> i64 {
        node.pods
            .iter()
            .filter(|p| p.namespace == pod.namespace && p.pod.metadata.deletion_timestamp.is_none() && self.selects(p))
            .count() as i64
    }
}

fn parse_constraint(pod: &PodInfo, c: &TopologySpreadConstraint) -> Constraint {
    let mut selector = c
        .label_selector
        .as_ref()
        .and_then(|s| serde_json::to_value(s).ok())
        .and_then(|v| Selector::from_label_selector_json(&v).ok());
    // matchLabelKeys: the pod's own values for these keys narrow the selector.
    if let Some(sel) = selector.as_mut() {
        for key in c.match_label_keys.iter().flatten() {
            if let Some(v) = pod.labels.get(key) {
                sel.requirements.push(Requirement::In(key.clone(), vec![v.clone()]));
            }
        }
    }
    Constraint {
        max_skew: c.max_skew as i64,
        topology_key: c.topology_key.clone(),
        selector,
        min_domains: c.min_domains.unwrap_or(1) as i64,
        honor_node_affinity: c.node_affinity_policy.as_deref() != Some("Ignore"),
        honor_taints: c.node_taints_policy.as_deref() == Some("Honor"),
    }
}

pub struct PodTopologySpread {
    /// Constraints for pods that have none (hostname maxSkew 3, zone maxSkew 5 by default).
    pub default_constraints: Vec<TopologySpreadConstraint>,
    pub system_defaulted: bool,
}

impl PodTopologySpread {
    /// From PodTopologySpreadArgs (`defaultingType`, `defaultConstraints`).
    pub fn from_args(args: Option<&serde_json::Value>) -> Result<Self, String> {
        let list = args.and_then(|a| a.get("defaultingType")).and_then(|t| t.as_str()) == Some("List");
        if !list {
            let soft = |key: &str, skew: i32| TopologySpreadConstraint {
                max_skew: skew,
                topology_key: key.into(),
                when_unsatisfiable: "ScheduleAnyway".into(),
                ..Default::default()
            };
            return Ok(PodTopologySpread {
                default_constraints: vec![soft(HOSTNAME, 3), soft("topology.kubernetes.io/zone", 5)],
                system_defaulted: true,
            });
        }
        let constraints = args
            .and_then(|a| a.get("defaultConstraints"))
            .cloned()
            .map(serde_json::from_value::<Vec<TopologySpreadConstraint>>)
            .transpose()
            .map_err(|e| format!("PodTopologySpread defaultConstraints: {e}"))?;
        Ok(PodTopologySpread {
            default_constraints: constraints.unwrap_or_default(),
            system_defaulted: false,
        })
    }

    /// The pod's constraints for `when` (DoNotSchedule or ScheduleAnyway); pods without any get
    /// the default constraints, selecting pods of the same Services and controllers.
    fn constraints(&self, pod: &PodInfo, cache: &Cache, when: &str) -> Vec<Constraint> {
        let own = pod
            .spec()
            .and_then(|s| s.topology_spread_constraints.as_deref())
            .unwrap_or_default();
        if !own.is_empty() {
            return own
                .iter()
                .filter(|c| c.when_unsatisfiable == when)
                .map(|c| parse_constraint(pod, c))
                .collect();
        }
        let selector = cache.default_spreading_selector(pod);
        if selector.is_empty() {
            return Vec::new();
        }
        self.default_constraints
            .iter()
            .filter(|c| c.when_unsatisfiable == when)
            .map(|c| Constraint {
                selector: Some(selector.clone()),
                ..parse_constraint(pod, c)
            })
            .collect()
    }
}

fn has_all_keys(node: &NodeInfo, constraints: &[Constraint]) -> bool {
    constraints.iter().all(|c| node.label(&c.topology_key).is_some())
}

struct FilterState {
    constraints: Vec<Constraint>,
    /// Per constraint: matching pods per domain (every eligible domain present, maybe 0).
    counts: Vec<HashMap<String, i64>>,
}

impl FilterState {
    fn min_match(&self, i: usize) -> i64 {
        let counts = &self.counts[i];
        if (counts.len() as i64) < self.constraints[i].min_domains {
            return 0;
        }
        counts.values().copied().min().unwrap_or(0)
    }
}

struct ScoreState {
    constraints: Vec<Constraint>,
    ignored: std::collections::HashSet<String>,
    counts: Vec<HashMap<String, i64>>,
    weights: Vec<f64>,
}

const FILTER: &str = "PodTopologySpread/filter";
const SCORE: &str = "PodTopologySpread/score";

impl Plugin for PodTopologySpread {
    fn name(&self) -> &'static str {
        "PodTopologySpread"
    }

    fn pre_filter(&self, state: &mut CycleState, pod: &PodInfo, cache: &Cache) -> FilterResult {
        let constraints = self.constraints(pod, cache, "DoNotSchedule");
        if constraints.is_empty() {
            return Ok(());
        }
        let mut counts = vec![HashMap::new(); constraints.len()];
        for node in cache.nodes() {
            if !has_all_keys(node, &constraints) {
                continue;
            }
            for (i, c) in constraints.iter().enumerate() {
                if !c.includes(pod, node) {
                    continue;
                }
                let value = node.label(&c.topology_key).unwrap_or_default().to_string();
                *counts[i].entry(value).or_default() += c.count(pod, node);
            }
        }
        state.write(FILTER, FilterState { constraints, counts });
        Ok(())
    }

    fn filter(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> FilterResult {
        let Some(s) = state.read::<FilterState>(FILTER) else {
            return Ok(());
        };
        for (i, c) in s.constraints.iter().enumerate() {
            let Some(value) = node.label(&c.topology_key) else {
                return Err(Status::unresolvable(self.name(), MISSING_LABEL_REASON));
            };
            let matching = s.counts[i].get(value).copied().unwrap_or(0);
            let skew = matching + i64::from(c.selects(pod)) - s.min_match(i);
            if skew > c.max_skew {
                return Err(Status::unschedulable(self.name(), REASON));
            }
        }
        Ok(())
    }

    fn pre_score(&self, state: &mut CycleState, pod: &PodInfo, cache: &Cache, nodes: &[&NodeInfo]) {
        let constraints = self.constraints(pod, cache, "ScheduleAnyway");
        if constraints.is_empty() {
            return;
        }
        // System defaults also score nodes without a zone label (by hostname).
        let require_all = pod
            .spec()
            .is_some_and(|s| !s.topology_spread_constraints.as_deref().unwrap_or_default().is_empty())
            || !self.system_defaulted;
        let mut ignored = std::collections::HashSet::new();
        let mut counts = vec![HashMap::new(); constraints.len()];
        for node in nodes {
            if require_all && !has_all_keys(node, &constraints) {
                ignored.insert(node.name.clone());
                continue;
            }
            for (i, c) in constraints.iter().enumerate() {
                if c.topology_key != HOSTNAME
                    && let Some(v) = node.label(&c.topology_key)
                {
                    counts[i].entry(v.to_string()).or_insert(0);
                }
            }
        }
        let sizes: Vec<usize> = counts.iter().map(HashMap::len).collect();
        for node in cache.nodes() {
            if require_all && !has_all_keys(node, &constraints) {
                continue;
            }
            for (i, c) in constraints.iter().enumerate() {
                if !c.includes(pod, node) || c.topology_key == HOSTNAME {
                    continue;
                }
                let Some(v) = node.label(&c.topology_key) else { continue };
                if let Some(n) = counts[i].get_mut(v) {
                    *n += c.count(pod, node);
                }
            }
        }
        let weights = constraints
            .iter()
            .zip(sizes)
            .map(|(c, size)| {
                let size = if c.topology_key == HOSTNAME {
                    nodes.len() - ignored.len()
                } else {
                    size
                };
                ((size + 2) as f64).ln()
            })
            .collect();
        state.write(
            SCORE,
            ScoreState {
                constraints,
                ignored,
                counts,
                weights,
            },
        );
    }

    fn score(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> i64 {
        let Some(s) = state.read::<ScoreState>(SCORE) else {
            return 0;
        };
        if s.ignored.contains(&node.name) {
            return 0;
        }
        let mut score = 0.0;
        for (i, c) in s.constraints.iter().enumerate() {
            let Some(value) = node.label(&c.topology_key) else {
                continue;
            };
            let count = if c.topology_key == HOSTNAME {
                c.count(pod, node)
            } else {
                s.counts[i].get(value).copied().unwrap_or(0)
            };
            // maxSkew-1 waters down differences between domains.
            score += count as f64 * s.weights[i] + (c.max_skew - 1) as f64;
        }
        score.round() as i64
    }

    fn normalize(&self, state: &CycleState, _: &PodInfo, nodes: &[&NodeInfo], scores: &mut [i64]) {
        let Some(s) = state.read::<ScoreState>(SCORE) else {
            return;
        };
        let valid = |i: usize| nodes.get(i).is_some_and(|n| !s.ignored.contains(&n.name));
        let (mut min, mut max) = (i64::MAX, 0);
        for (i, sc) in scores.iter().enumerate() {
            if valid(i) {
                min = min.min(*sc);
                max = max.max(*sc);
            }
        }
        for (i, sc) in scores.iter_mut().enumerate() {
            *sc = if !valid(i) {
                0
            } else if max == 0 {
                MAX_NODE_SCORE
            } else {
                MAX_NODE_SCORE * (max + min - *sc) / max
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

    fn cluster(nodes: Vec<(NodeInfo, usize)>) -> Cache {
        let mut c = Cache::default();
        for (n, pods) in nodes {
            let name = n.name.clone();
            c.set_node(n.node.clone().expect("node"));
            for i in 0..pods {
                c.add_or_update_pod(labeled_pod(&format!("{name}-{i}"), json!({"app": "web"})), &name);
            }
        }
        c
    }

    fn spreading(when: &str, key: &str, skew: i32) -> Arc<PodInfo> {
        pod(
            json!({"metadata": {"name": "new", "uid": "new", "labels": {"app": "web"}},
            "spec": {"containers": [{"name": "c"}], "topologySpreadConstraints": [
                {"maxSkew": skew, "topologyKey": key, "whenUnsatisfiable": when, "labelSelector": {"matchLabels": {"app": "web"}}}]}}),
        )
    }

    #[test]
    fn filter() {
        let c = cluster(vec![
            (labeled("a", json!({"zone": "z1"})), 2),
            (labeled("b", json!({"zone": "z1"})), 1),
            (labeled("c", json!({"zone": "z2"})), 1),
            (labeled("d", json!({})), 0),
        ]);
        let plugin = PodTopologySpread::from_args(None).expect("plugin");
        let cases = [
            // zone z1 holds 3, z2 holds 1: z1 would be 4-1=3 > 1.
            (
                spreading("DoNotSchedule", "zone", 1),
                vec![Err(REASON), Err(REASON), Ok(()), Err(MISSING_LABEL_REASON)],
            ),
            (
                spreading("DoNotSchedule", "zone", 3),
                vec![Ok(()), Ok(()), Ok(()), Err(MISSING_LABEL_REASON)],
            ),
            // per host: 2,1,1,0 → min 0; a: 3 > 1, b and c: 2 > 1, d: 1.
            (
                spreading("DoNotSchedule", HOSTNAME, 1),
                vec![Err(REASON), Err(REASON), Err(REASON), Ok(())],
            ),
            (
                spreading("ScheduleAnyway", "zone", 1),
                vec![Ok(()), Ok(()), Ok(()), Ok(())],
            ),
        ];
        for (i, (p, want)) in cases.into_iter().enumerate() {
            let mut s = CycleState::default();
            plugin.pre_filter(&mut s, &p, &c).expect("prefilter");
            let got: Vec<Result<(), &str>> = c
                .nodes()
                .map(|n| {
                    plugin.filter(&s, &p, n).map_err(|e| {
                        if e.reasons[0] == REASON {
                            REASON
                        } else {
                            MISSING_LABEL_REASON
                        }
                    })
                })
                .collect();
            assert_eq!(got, want, "case {i}");
        }
    }

    fn scores(plugin: &PodTopologySpread, c: &Cache, p: &PodInfo) -> Vec<i64> {
        let nodes: Vec<&NodeInfo> = c.nodes().collect();
        let mut s = CycleState::default();
        plugin.pre_score(&mut s, p, c, &nodes);
        let mut scores: Vec<i64> = nodes.iter().map(|n| plugin.score(&s, p, n)).collect();
        plugin.normalize(&s, p, &nodes, &mut scores);
        scores
    }

    #[test]
    fn score() {
        let c = cluster(vec![
            (labeled("a", json!({"zone": "z1"})), 2),
            (labeled("b", json!({"zone": "z2"})), 0),
            (labeled("c", json!({})), 0),
        ]);
        let plugin = PodTopologySpread::from_args(None).expect("plugin");
        // Two zones: weight ln(4); z1 scores 2*1.386=2.77→3, z2 0; c lacks the key and scores 0.
        assert_eq!(
            scores(&plugin, &c, &spreading("ScheduleAnyway", "zone", 1)),
            [0, 100, 0]
        );
        // Hostname: three nodes, weight ln(5)=1.61: a 3.2→3, b 0, c 0.
        assert_eq!(
            scores(&plugin, &c, &spreading("ScheduleAnyway", HOSTNAME, 1)),
            [0, 100, 100]
        );
    }

    #[test]
    fn system_default_spreading_follows_services() {
        let mut c = cluster(vec![(labeled("a", json!({})), 3), (labeled("b", json!({})), 0)]);
        let plugin = PodTopologySpread::from_args(None).expect("plugin");
        let p = labeled_pod("new", json!({"app": "web"}));
        assert_eq!(
            scores(&plugin, &c, &p),
            [0, 0],
            "no service selects the pod: not scored"
        );
        c.set_spreading_selector(
            "Service/default/web",
            "default",
            Selector::parse("app=web").expect("selector"),
        );
        // hostname maxSkew 3: a = 3*ln(4)+2 = 6.16→6, b = 2 → a: 100*(6+2-6)/6 = 33.
        assert_eq!(scores(&plugin, &c, &p), [33, 100]);
    }
}
