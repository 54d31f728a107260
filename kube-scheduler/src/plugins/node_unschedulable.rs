//! NodeUnschedulable: keeps pods off cordoned nodes (`spec.unschedulable`) unless they
//! tolerate the `node.kubernetes.io/unschedulable:NoSchedule` taint.

use super::taint_toleration::tolerates;
use crate::cache::NodeInfo;
use crate::framework::{CycleState, FilterResult, Plugin, Status};
use crate::podinfo::PodInfo;
use k8s_openapi::api::core::v1::Taint;

pub struct NodeUnschedulable;

pub const REASON: &str = "node(s) were unschedulable";

impl Plugin for NodeUnschedulable {
    fn name(&self) -> &'static str {
        "NodeUnschedulable"
    }

    fn filter(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo) -> FilterResult {
        let cordoned = node
            .node
            .as_ref()
            .and_then(|n| n.spec.as_ref())
            .and_then(|s| s.unschedulable)
            == Some(true);
        if !cordoned {
            return Ok(());
        }
        let taint = Taint {
            key: "node.kubernetes.io/unschedulable".into(),
            effect: "NoSchedule".into(),
            ..Default::default()
        };
        if pod.tolerations.iter().any(|t| tolerates(t, &taint)) {
            return Ok(());
        }
        Err(Status::unresolvable(self.name(), REASON))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testutil::{node, pod};
    use serde_json::json;

    #[test]
    fn filter() {
        let cordoned = node(json!({"metadata": {"name": "n"}, "spec": {"unschedulable": true}}));
        let open = node(json!({"metadata": {"name": "n"}}));
        let plain = pod(json!({}));
        let tolerant = pod(json!({"spec": {"containers": [{"name": "c"}],
            "tolerations": [{"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"}]}}));
        let cases = [
            (&open, &plain, true),
            (&cordoned, &plain, false),
            (&cordoned, &tolerant, true),
        ];
        for (i, (n, p, ok)) in cases.into_iter().enumerate() {
            let r = NodeUnschedulable.filter(&CycleState::default(), p, n);
            assert_eq!(r.is_ok(), ok, "case {i}: {r:?}");
        }
    }
}
