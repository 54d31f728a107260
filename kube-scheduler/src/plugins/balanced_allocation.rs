//! NodeResourcesBalancedAllocation: prefers nodes where cpu and memory would be used in equal
//! fractions after placing the pod (score = (1 - std deviation of the fractions) * 100).

use crate::cache::NodeInfo;
use crate::framework::{CycleState, MAX_NODE_SCORE, Plugin};
use crate::podinfo::PodInfo;

pub struct BalancedAllocation;

const SKIP: &str = "NodeResourcesBalancedAllocation/skip";

const RESOURCES: [&str; 2] = ["cpu", "memory"];

impl Plugin for BalancedAllocation {
    fn name(&self) -> &'static str {
        "NodeResourcesBalancedAllocation"
    }

    fn pre_score(&self, state: &mut CycleState, pod: &PodInfo, _: &crate::cache::Cache, _: &[&NodeInfo]) {
        // Best-effort pods would all pile onto one node otherwise (upstream issue 129138).
        if RESOURCES.iter().all(|r| pod.requests.get(r) == 0) {
            state.write(SKIP, ());
        }
    }

    fn score(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> i64 {
        if state.read::<()>(SKIP).is_some() {
            return 0;
        }
        let fractions: Vec<f64> = RESOURCES
            .iter()
            .filter(|r| node.allocatable.get(r) > 0)
            .map(|r| {
                let used = node.requested.get(r) + pod.requests.get(r);
                (used as f64 / node.allocatable.get(r) as f64).min(1.0)
            })
            .collect();
        let std = match fractions.as_slice() {
            [a, b] => ((a - b) / 2.0).abs(),
            f if f.len() > 2 => {
                let mean = f.iter().sum::<f64>() / f.len() as f64;
                (f.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / f.len() as f64).sqrt()
            }
            _ => 0.0,
        };
        ((1.0 - std) * MAX_NODE_SCORE as f64) as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testutil::{node, pod};
    use serde_json::json;

    #[test]
    fn score() {
        let n = node(
            json!({"metadata": {"name": "n"}, "status": {"allocatable": {"cpu": "4", "memory": "10000", "pods": "10"}}}),
        );
        let req = |cpu: &str, mem: &str| {
            pod(
                json!({"spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": cpu, "memory": mem}}}]}}),
            )
        };
        let cases = [
            ("balanced", req("2", "5000"), 100),
            // cpu 3/4 = 0.75, memory 0.5: std 0.125 → 87.
            ("skewed", req("3", "5000"), 87),
            ("over capacity caps at 1", req("8", "0"), 50),
        ];
        for (what, p, want) in cases {
            let mut s = CycleState::default();
            BalancedAllocation.pre_score(&mut s, &p, &crate::cache::Cache::default(), &[]);
            assert_eq!(BalancedAllocation.score(&s, &p, &n), want, "{what}");
        }
        let mut s = CycleState::default();
        let best_effort = pod(json!({}));
        BalancedAllocation.pre_score(&mut s, &best_effort, &crate::cache::Cache::default(), &[]);
        assert_eq!(
            BalancedAllocation.score(&s, &best_effort, &n),
            0,
            "best effort is not scored"
        );
    }
}
