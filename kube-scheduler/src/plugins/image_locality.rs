//! ImageLocality: prefers nodes that already hold the pod's images, weighted by image size
//! and by how widely the image is spread (so one node with the image does not attract all).

use crate::cache::{Cache, NodeInfo, normalize_image};
use crate::framework::{CycleState, MAX_NODE_SCORE, Plugin};
use crate::podinfo::PodInfo;

pub struct ImageLocality;

const MB: i64 = 1024 * 1024;
const MIN_THRESHOLD: i64 = 23 * MB;
const MAX_CONTAINER_THRESHOLD: i64 = 1000 * MB;
const STATE: &str = "ImageLocality";

/// Per image of the pod: the fraction of nodes that hold it.
struct Spread(Vec<(String, f64)>);

impl Plugin for ImageLocality {
    fn name(&self) -> &'static str {
        "ImageLocality"
    }

    fn pre_score(&self, state: &mut CycleState, pod: &PodInfo, cache: &Cache, _: &[&NodeInfo]) {
        let total = cache.node_count().max(1) as f64;
        let spec = pod.spec();
        let images = spec
            .into_iter()
            .flat_map(|s| s.init_containers.iter().flatten().chain(s.containers.iter()))
            .filter_map(|c| c.image.as_deref())
            .map(normalize_image)
            .map(|img| {
                let share = cache.image_node_count(&img) as f64 / total;
                (img, share)
            })
            .collect();
        state.write(STATE, Spread(images));
    }

    fn score(&self, state: &CycleState, _: &PodInfo, node: &NodeInfo) -> i64 {
        let Some(Spread(images)) = state.read::<Spread>(STATE) else {
            return 0;
        };
        let sum: i64 = images
            .iter()
            .filter_map(|(img, share)| node.images.get(img).map(|size| (*size as f64 * share) as i64))
            .sum();
        let max = MAX_CONTAINER_THRESHOLD * images.len().max(1) as i64;
        let clamped = sum.clamp(MIN_THRESHOLD, max);
        MAX_NODE_SCORE * (clamped - MIN_THRESHOLD) / (max - MIN_THRESHOLD)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testutil::{node, pod};
    use serde_json::json;
    use std::sync::Arc;

    #[test]
    fn score() {
        let with_images = |name: &str, images: serde_json::Value| {
            node(
                json!({"metadata": {"name": name}, "status": {"images": images, "allocatable": {"cpu": "1", "memory": "1Gi", "pods": "10"}}}),
            )
        };
        let big = json!([{"names": ["docker.io/library/big:1"], "sizeBytes": 500 * MB}]);
        let nodes = [
            with_images("a", big.clone()),
            with_images("b", big),
            with_images("c", json!([])),
        ];
        let mut cache = Cache::default();
        for n in &nodes {
            cache.set_node(n.node.clone().map(|n| (*n).clone()).map(Arc::new).expect("node"));
        }
        let p = pod(json!({"spec": {"containers": [{"name": "c", "image": "big:1"}]}}));
        let mut s = CycleState::default();
        ImageLocality.pre_score(&mut s, &p, &cache, &[]);
        let scores: Vec<i64> = nodes.iter().map(|n| ImageLocality.score(&s, &p, n)).collect();
        // 500MB * 2/3 spread = 333MB → (333-23)/(1000-23) of 100.
        assert_eq!(scores, [31, 31, 0]);
    }
}
