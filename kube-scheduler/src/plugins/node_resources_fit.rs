//! NodeResourcesFit: a pod fits where the node's allocatable covers what is already requested
//! plus the pod's requests; scoring prefers the least (or, configured, the most) allocated node.

use crate::cache::NodeInfo;
use crate::framework::{Code, CycleState, FilterResult, MAX_NODE_SCORE, Plugin, Status};
use crate::podinfo::PodInfo;
use crate::resources::Resources;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    LeastAllocated,
    MostAllocated,
}

pub struct NodeResourcesFit {
    pub strategy: Strategy,
    /// Scored resources and their weights (upstream default: cpu 1, memory 1).
    pub resources: Vec<(String, i64)>,
}

impl Default for NodeResourcesFit {
    fn default() -> Self {
        NodeResourcesFit {
            strategy: Strategy::LeastAllocated,
            resources: vec![("cpu".into(), 1), ("memory".into(), 1)],
        }
    }
}

/// Scored resource amounts, where cpu and memory count upstream's defaults for missing requests.
pub fn scored_amount(r: &Resources, non_zero: &Resources, name: &str) -> i64 {
    match name {
        "cpu" | "memory" => non_zero.get(name),
        other => r.get(other),
    }
}

impl NodeResourcesFit {
    /// From NodeResourcesFitArgs (`scoringStrategy.type` and `.resources`).
    pub fn from_args(args: Option<&serde_json::Value>) -> Result<Self, String> {
        let mut p = NodeResourcesFit::default();
        let Some(strategy) = args.and_then(|a| a.get("scoringStrategy")) else {
            return Ok(p);
        };
        p.strategy = match strategy
            .get("type")
            .and_then(|t| t.as_str())
            .unwrap_or("LeastAllocated")
        {
            "LeastAllocated" => Strategy::LeastAllocated,
            "MostAllocated" => Strategy::MostAllocated,
            other => return Err(format!("NodeResourcesFit: scoring strategy {other:?} is not supported")),
        };
        if let Some(list) = strategy.get("resources").and_then(|r| r.as_array()) {
            p.resources = list
                .iter()
                .map(|r| {
                    let name = r.get("name").and_then(|n| n.as_str()).unwrap_or_default().to_string();
                    (name, r.get("weight").and_then(|w| w.as_i64()).unwrap_or(1))
                })
                .collect();
        }
        Ok(p)
    }
}

/// Why `pod` does not fit `node`, as upstream's reasons ("Too many pods", "Insufficient cpu").
pub fn insufficient(pod: &PodInfo, node: &NodeInfo) -> Vec<String> {
    let mut reasons = Vec::new();
    if node.pods.len() as i64 + 1 > node.allocatable.pods {
        reasons.push("Too many pods".to_string());
    }
    let req = &pod.requests;
    if req.is_zero() {
        return reasons;
    }
    let free = |name: &str| node.allocatable.get(name) - node.requested.get(name);
    for name in ["cpu", "memory", "ephemeral-storage"] {
        let want = req.get(name);
        if want > 0 && want > free(name) {
            reasons.push(format!("Insufficient {name}"));
        }
    }
    for (name, want) in &req.scalar {
        if *want > 0 && *want > free(name) {
            reasons.push(format!("Insufficient {name}"));
        }
    }
    reasons
}

impl Plugin for NodeResourcesFit {
    fn name(&self) -> &'static str {
        "NodeResourcesFit"
    }

    fn filter(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo) -> FilterResult {
        let reasons = insufficient(pod, node);
        if reasons.is_empty() {
            return Ok(());
        }
        Err(Status {
            code: Code::Unschedulable,
            reasons,
            plugin: self.name(),
        })
    }

    fn score(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo) -> i64 {
        let (mut total, mut weights) = (0, 0);
        for (name, weight) in &self.resources {
            let allocatable = node.allocatable.get(name);
            if allocatable == 0 {
                continue;
            }
            let requested = scored_amount(&node.requested, &node.non_zero_requested, name)
                + scored_amount(&pod.requests, &pod.non_zero, name);
            let s = if requested > allocatable {
                if self.strategy == Strategy::MostAllocated {
                    MAX_NODE_SCORE
                } else {
                    0
                }
            } else {
                match self.strategy {
                    Strategy::LeastAllocated => (allocatable - requested) * MAX_NODE_SCORE / allocatable,
                    Strategy::MostAllocated => requested * MAX_NODE_SCORE / allocatable,
                }
            };
            total += s * weight;
            weights += weight;
        }
        if weights == 0 { 0 } else { total / weights }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testutil::{node, pod};
    use serde_json::json;

    fn requesting(cpu: &str, mem: &str) -> std::sync::Arc<PodInfo> {
        pod(
            json!({"metadata": {"name": format!("p{cpu}{mem}"), "uid": format!("p{cpu}{mem}")},
                   "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": cpu, "memory": mem}}}]}}),
        )
    }

    fn sized(cpu: &str, mem: &str, pods: &str) -> NodeInfo {
        node(
            json!({"metadata": {"name": "n"}, "status": {"allocatable": {"cpu": cpu, "memory": mem, "pods": pods, "example.com/gpu": "1"}}}),
        )
    }

    #[test]
    fn filter() {
        let mut half_full = sized("2", "4Gi", "2");
        half_full.add_pod(requesting("1", "2Gi"));
        let gpu =
            pod(json!({"spec": {"containers": [{"name": "c", "resources": {"requests": {"example.com/gpu": "2"}}}]}}));
        let cases = [
            ("fits", requesting("1", "2Gi"), vec![]),
            ("too much cpu", requesting("1500m", "1Gi"), vec!["Insufficient cpu"]),
            (
                "too much of both",
                requesting("2", "3Gi"),
                vec!["Insufficient cpu", "Insufficient memory"],
            ),
            ("extended resources", gpu, vec!["Insufficient example.com/gpu"]),
        ];
        for (what, p, want) in cases {
            let got = NodeResourcesFit::default()
                .filter(&CycleState::default(), &p, &half_full)
                .map_err(|s| s.reasons);
            let want: Result<(), Vec<String>> = if want.is_empty() {
                Ok(())
            } else {
                Err(want.into_iter().map(String::from).collect())
            };
            assert_eq!(got, want, "{what}");
        }
        let mut full = sized("2", "4Gi", "1");
        full.add_pod(requesting("0", "0"));
        let got = NodeResourcesFit::default().filter(&CycleState::default(), &pod(json!({})), &full);
        assert_eq!(got.map_err(|s| s.reasons), Err(vec!["Too many pods".to_string()]));
    }

    #[test]
    fn score() {
        // Upstream's example: node 4000m/10000 bytes, pod 3000m/5000 → cpu 25, memory 50 → 37.
        let n = node(
            json!({"metadata": {"name": "n"}, "status": {"allocatable": {"cpu": "4", "memory": "10000", "pods": "10"}}}),
        );
        let p = requesting("3", "5000");
        let cases = [(Strategy::LeastAllocated, 37), (Strategy::MostAllocated, 62)];
        for (strategy, want) in cases {
            let plugin = NodeResourcesFit {
                strategy,
                ..Default::default()
            };
            assert_eq!(plugin.score(&CycleState::default(), &p, &n), want, "{strategy:?}");
        }
        // Missing requests count as 100m / 200Mi.
        let n = sized("1", "1000Mi", "10");
        assert_eq!(
            NodeResourcesFit::default().score(&CycleState::default(), &pod(json!({})), &n),
            (90 + 80) / 2
        );
    }
}
