//! NodeAffinity: `spec.nodeSelector` and required node affinity filter nodes; preferred node
//! affinity terms add their weights to a node's score.

use crate::cache::NodeInfo;
use crate::framework::{CycleState, FilterResult, Plugin, Status, default_normalize};
use crate::podinfo::PodInfo;
use k8s_openapi::api::core::v1::{NodeSelectorRequirement, NodeSelectorTerm};

pub struct NodeAffinity;

pub const REASON: &str = "node(s) didn't match Pod's node affinity/selector";

fn requirement_matches(r: &NodeSelectorRequirement, value: Option<&str>) -> bool {
    let values = r.values.as_deref().unwrap_or_default();
    let number = |v: &str| v.parse::<i64>().ok();
    match r.operator.as_str() {
        "In" => value.is_some_and(|v| values.iter().any(|x| x == v)),
        "NotIn" => value.is_none_or(|v| !values.iter().any(|x| x == v)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        // Gt/Lt take exactly one integer value.
        "Gt" | "Lt" => {
            let (Some(have), [want]) = (value.and_then(number), values) else {
                return false;
            };
            let Some(want) = number(want) else { return false };
            if r.operator == "Gt" { have > want } else { have < want }
        }
        _ => false,
    }
}

/// A term matches when all its expressions and fields do; an empty term matches nothing.
pub fn term_matches(term: &NodeSelectorTerm, node: &NodeInfo) -> bool {
    let exprs = term.match_expressions.as_deref().unwrap_or_default();
    let fields = term.match_fields.as_deref().unwrap_or_default();
    if exprs.is_empty() && fields.is_empty() {
        return false;
    }
    exprs.iter().all(|r| requirement_matches(r, node.label(&r.key)))
        && fields
            .iter()
            .all(|r| r.key == "metadata.name" && requirement_matches(r, Some(&node.name)))
}

/// nodeSelector and required node affinity (upstream's GetRequiredNodeAffinity().Match).
pub fn required_matches(pod: &PodInfo, node: &NodeInfo) -> bool {
    let Some(spec) = pod.spec() else { return true };
    let selector_ok = spec
        .node_selector
        .iter()
        .flatten()
        .all(|(k, v)| node.label(k) == Some(v.as_str()));
    let required = spec
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|na| na.required_during_scheduling_ignored_during_execution.as_ref());
    selector_ok && required.is_none_or(|r| r.node_selector_terms.iter().any(|t| term_matches(t, node)))
}

impl Plugin for NodeAffinity {
    fn name(&self) -> &'static str {
        "NodeAffinity"
    }

    fn filter(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo) -> FilterResult {
        if required_matches(pod, node) {
            Ok(())
        } else {
            Err(Status::unresolvable(self.name(), REASON))
        }
    }

    fn score(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo) -> i64 {
        let preferred = pod
            .spec()
            .and_then(|s| s.affinity.as_ref())
            .and_then(|a| a.node_affinity.as_ref())
            .and_then(|na| na.preferred_during_scheduling_ignored_during_execution.as_deref())
            .unwrap_or_default();
        preferred
            .iter()
            .filter(|p| p.weight != 0 && term_matches(&p.preference, node))
            .map(|p| p.weight as i64)
            .sum()
    }

    fn normalize(&self, _: &CycleState, _: &PodInfo, _: &[&NodeInfo], scores: &mut [i64]) {
        default_normalize(scores, false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testutil::{labeled, pod};
    use serde_json::json;

    fn with_affinity(affinity: serde_json::Value) -> std::sync::Arc<PodInfo> {
        pod(json!({"spec": {"containers": [{"name": "c"}], "affinity": {"nodeAffinity": affinity}}}))
    }

    fn required(exprs: serde_json::Value) -> std::sync::Arc<PodInfo> {
        with_affinity(
            json!({"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": exprs}]}}),
        )
    }

    #[test]
    fn filter() {
        let n = labeled("n1", json!({"zone": "a", "cores": "8"}));
        let cases = [
            ("no constraints", pod(json!({})), true),
            (
                "selector matches",
                pod(json!({"spec": {"containers": [{"name": "c"}], "nodeSelector": {"zone": "a"}}})),
                true,
            ),
            (
                "selector differs",
                pod(json!({"spec": {"containers": [{"name": "c"}], "nodeSelector": {"zone": "b"}}})),
                false,
            ),
            (
                "In",
                required(json!([{"key": "zone", "operator": "In", "values": ["a", "b"]}])),
                true,
            ),
            (
                "NotIn",
                required(json!([{"key": "zone", "operator": "NotIn", "values": ["a"]}])),
                false,
            ),
            ("Exists", required(json!([{"key": "zone", "operator": "Exists"}])), true),
            (
                "DoesNotExist",
                required(json!([{"key": "gpu", "operator": "DoesNotExist"}])),
                true,
            ),
            (
                "Gt",
                required(json!([{"key": "cores", "operator": "Gt", "values": ["4"]}])),
                true,
            ),
            (
                "Lt",
                required(json!([{"key": "cores", "operator": "Lt", "values": ["4"]}])),
                false,
            ),
            (
                "terms are ORed",
                with_affinity(
                    json!({"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["x"]}]},
                    {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]}]}}),
                ),
                true,
            ),
            (
                "an empty term matches nothing",
                with_affinity(json!({"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{}]}})),
                false,
            ),
        ];
        for (what, p, ok) in cases {
            let r = NodeAffinity.filter(&CycleState::default(), &p, &n);
            assert_eq!(r.is_ok(), ok, "{what}");
            if let Err(s) = r {
                assert_eq!(s.reasons, [REASON]);
            }
        }
    }

    #[test]
    fn score() {
        let nodes = [
            labeled("a", json!({"zone": "a"})),
            labeled("b", json!({"zone": "b", "ssd": "true"})),
            labeled("c", json!({})),
        ];
        let p = with_affinity(json!({"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 2, "preference": {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}},
            {"weight": 4, "preference": {"matchExpressions": [{"key": "ssd", "operator": "Exists"}]}}]}));
        let s = CycleState::default();
        let mut scores: Vec<i64> = nodes.iter().map(|n| NodeAffinity.score(&s, &p, n)).collect();
        assert_eq!(scores, [2, 4, 0]);
        NodeAffinity.normalize(&s, &p, &[], &mut scores);
        assert_eq!(scores, [50, 100, 0]);
    }
}
