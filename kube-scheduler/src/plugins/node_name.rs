//! NodeName: a pod that names its node (`spec.nodeName`) fits only there.

use crate::cache::NodeInfo;
use crate::framework::{CycleState, FilterResult, Plugin, Status};
use crate::podinfo::PodInfo;

pub struct NodeName;

pub const REASON: &str = "node(s) didn't match the requested node name";

impl Plugin for NodeName {
    fn name(&self) -> &'static str {
        "NodeName"
    }

    fn filter(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo) -> FilterResult {
        match pod.spec().and_then(|s| s.node_name.as_deref()) {
            Some(want) if !want.is_empty() && want != node.name => Err(Status::unresolvable(self.name(), REASON)),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testutil::{labeled, pod};
    use serde_json::json;

    #[test]
    fn filter() {
        let n = labeled("n1", json!({}));
        let cases = [
            (pod(json!({})), true),
            (
                pod(json!({"spec": {"nodeName": "n1", "containers": [{"name": "c"}]}})),
                true,
            ),
            (
                pod(json!({"spec": {"nodeName": "n2", "containers": [{"name": "c"}]}})),
                false,
            ),
        ];
        for (i, (p, ok)) in cases.into_iter().enumerate() {
            assert_eq!(NodeName.filter(&CycleState::default(), &p, &n).is_ok(), ok, "case {i}");
        }
    }
}
