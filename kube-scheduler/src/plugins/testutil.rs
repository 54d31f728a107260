//! Builders for plugin tests: nodes and pods from JSON.

use crate::cache::NodeInfo;
pub use crate::podinfo::pod;
use std::sync::Arc;

/// A node from JSON; allocatable defaults to 4 cpu, 8Gi memory, 110 pods.
pub fn node(v: serde_json::Value) -> NodeInfo {
    let mut v = v;
    if v.pointer("/status/allocatable").is_none() {
        v["status"]["allocatable"] = serde_json::json!({"cpu": "4", "memory": "8Gi", "pods": "110"});
    }
    NodeInfo::new(Arc::new(serde_json::from_value(v).expect("node")))
}

/// A node named `name` with labels.
pub fn labeled(name: &str, labels: serde_json::Value) -> NodeInfo {
    let mut labels = labels;
    labels["kubernetes.io/hostname"] = name.into();
    node(serde_json::json!({"metadata": {"name": name, "labels": labels}}))
}

/// A pod named `name` with labels and a uid derived from its name.
pub fn labeled_pod(name: &str, labels: serde_json::Value) -> Arc<crate::podinfo::PodInfo> {
    pod(serde_json::json!({"metadata": {"name": name, "uid": name, "labels": labels}}))
}
