//! TaintToleration: a node's NoSchedule/NoExecute taints keep off pods that do not tolerate
//! them; untolerated PreferNoSchedule taints lower a node's score.

use crate::cache::NodeInfo;
use crate::framework::{CycleState, FilterResult, Plugin, Status, default_normalize};
use crate::podinfo::PodInfo;
use k8s_openapi::api::core::v1::{Taint, Toleration};

pub struct TaintToleration;

/// Upstream's toleration matching: effect (empty tolerates all), key (empty with Exists
/// tolerates all keys), then value for Equal.
pub fn tolerates(t: &Toleration, taint: &Taint) -> bool {
    let effect = t.effect.as_deref().unwrap_or_default();
    if !effect.is_empty() && effect != taint.effect {
        return false;
    }
    let key = t.key.as_deref().unwrap_or_default();
    let op = t.operator.as_deref().unwrap_or("Equal");
    if key.is_empty() {
        return op == "Exists";
    }
    if key != taint.key {
        return false;
    }
    match op {
        "Exists" => true,
        "Equal" | "" => t.value.as_deref().unwrap_or_default() == taint.value.as_deref().unwrap_or_default(),
        _ => false,
    }
}

fn taints(node: &NodeInfo) -> &[Taint] {
    node.node
        .as_ref()
        .and_then(|n| n.spec.as_ref())
        .and_then(|s| s.taints.as_deref())
        .unwrap_or_default()
}

impl Plugin for TaintToleration {
    fn name(&self) -> &'static str {
        "TaintToleration"
    }

    fn filter(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo) -> FilterResult {
        let untolerated = taints(node).iter().find(|taint| {
            matches!(taint.effect.as_str(), "NoSchedule" | "NoExecute")
                && !pod.tolerations.iter().any(|t| tolerates(t, taint))
        });
        match untolerated {
            None => Ok(()),
            Some(t) => Err(Status::unresolvable(
                self.name(),
                format!(
                    "node(s) had untolerated taint {{{}: {}}}",
                    t.key,
                    t.value.as_deref().unwrap_or_default()
                ),
            )),
        }
    }

    fn score(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo) -> i64 {
        // Only tolerations that could apply to PreferNoSchedule count.
        let relevant = |t: &&Toleration| matches!(t.effect.as_deref(), None | Some("") | Some("PreferNoSchedule"));
        taints(node)
            .iter()
            .filter(|taint| {
                taint.effect == "PreferNoSchedule"
                    && !pod.tolerations.iter().filter(relevant).any(|t| tolerates(t, taint))
            })
            .count() as i64
    }

    fn normalize(&self, _: &CycleState, _: &PodInfo, _: &[&NodeInfo], scores: &mut [i64]) {
        default_normalize(scores, true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testutil::{node, pod};
    use serde_json::json;

    fn tainted(taints: serde_json::Value) -> NodeInfo {
        node(json!({"metadata": {"name": "n"}, "spec": {"taints": taints}}))
    }

    fn tolerating(tolerations: serde_json::Value) -> std::sync::Arc<PodInfo> {
        pod(json!({"spec": {"containers": [{"name": "c"}], "tolerations": tolerations}}))
    }

    #[test]
    fn filter() {
        let dedicated = json!([{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]);
        let cases = [
            ("no taints", tainted(json!([])), tolerating(json!([])), Ok(())),
            (
                "untolerated",
                tainted(dedicated.clone()),
                tolerating(json!([])),
                Err("node(s) had untolerated taint {dedicated: gpu}".to_string()),
            ),
            (
                "equal value",
                tainted(dedicated.clone()),
                tolerating(json!([{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}])),
                Ok(()),
            ),
            (
                "other value",
                tainted(dedicated.clone()),
                tolerating(json!([{"key": "dedicated", "value": "cpu"}])),
                Err("node(s) had untolerated taint {dedicated: gpu}".to_string()),
            ),
            (
                "exists, any key",
                tainted(dedicated.clone()),
                tolerating(json!([{"operator": "Exists"}])),
                Ok(()),
            ),
            (
                "other effect",
                tainted(dedicated),
                tolerating(json!([{"key": "dedicated", "operator": "Exists", "effect": "NoExecute"}])),
                Err("node(s) had untolerated taint {dedicated: gpu}".to_string()),
            ),
            (
                "PreferNoSchedule does not filter",
                tainted(json!([{"key": "k", "value": "v", "effect": "PreferNoSchedule"}])),
                tolerating(json!([])),
                Ok(()),
            ),
        ];
        for (what, n, p, want) in cases {
            let got = TaintToleration
                .filter(&CycleState::default(), &p, &n)
                .map_err(|s| s.reasons.join(","));
            assert_eq!(got, want, "{what}");
        }
    }

    #[test]
    fn score() {
        let nodes = [
            tainted(json!([])),
            tainted(json!([{"key": "a", "value": "1", "effect": "PreferNoSchedule"}])),
            tainted(
                json!([{"key": "a", "value": "1", "effect": "PreferNoSchedule"}, {"key": "b", "value": "1", "effect": "PreferNoSchedule"}]),
            ),
        ];
        let cases = [
            (tolerating(json!([])), vec![100, 50, 0]),
            (
                tolerating(json!([{"key": "a", "operator": "Exists"}])),
                vec![100, 100, 0],
            ),
            (
                tolerating(json!([{"operator": "Exists", "effect": "PreferNoSchedule"}])),
                vec![100, 100, 100],
            ),
        ];
        for (i, (p, want)) in cases.into_iter().enumerate() {
            let s = CycleState::default();
            let mut scores: Vec<i64> = nodes.iter().map(|n| TaintToleration.score(&s, &p, n)).collect();
            TaintToleration.normalize(&s, &p, &[], &mut scores);
            assert_eq!(scores, want, "case {i}");
        }
    }
}
