//! The in-tree plugins, by upstream name, and the default profile's plugin set and weights.

pub mod balanced_allocation;
pub mod image_locality;
pub mod inter_pod_affinity;
pub mod node_affinity;
pub mod node_name;
pub mod node_ports;
pub mod node_resources_fit;
pub mod node_unschedulable;
pub mod pod_topology_spread;
pub mod taint_toleration;
#[cfg(test)]
pub mod testutil;

use crate::framework::Plugin;
use std::sync::Arc;

/// Upstream v1.33's default plugins with their default score weights (0: no Score).
pub const DEFAULTS: &[(&str, i64)] = &[
    ("NodeUnschedulable", 0),
    ("NodeName", 0),
    ("TaintToleration", 3),
    ("NodeAffinity", 2),
    ("NodePorts", 0),
    ("NodeResourcesFit", 1),
    ("PodTopologySpread", 2),
    ("InterPodAffinity", 2),
    ("NodeResourcesBalancedAllocation", 1),
    ("ImageLocality", 1),
];

/// Plugins upstream's default profile enables that have nothing to do here yet (volumes, DRA,
/// gates handled by the queue, preemption, binding); accepted in configuration and ignored.
pub const ACCEPTED_NOOPS: &[&str] = &[
    "PrioritySort",
    "SchedulingGates",
    "VolumeRestrictions",
    "EBSLimits",
    "GCEPDLimits",
    "NodeVolumeLimits",
    "AzureDiskLimits",
    "VolumeBinding",
    "VolumeZone",
    "DynamicResources",
    "DefaultPreemption",
    "DefaultBinder",
];

/// Whether a plugin has a Filter / a Score extension point.
pub fn has_filter(name: &str) -> bool {
    matches!(
        name,
        "NodeUnschedulable"
            | "NodeName"
            | "TaintToleration"
            | "NodeAffinity"
            | "NodePorts"
            | "NodeResourcesFit"
            | "PodTopologySpread"
            | "InterPodAffinity"
    )
}

pub fn has_score(name: &str) -> bool {
    matches!(
        name,
        "TaintToleration"
            | "NodeAffinity"
            | "NodeResourcesFit"
            | "PodTopologySpread"
            | "InterPodAffinity"
            | "NodeResourcesBalancedAllocation"
            | "ImageLocality"
    )
}

/// A plugin by name, with its (upstream default) arguments; `args` is the pluginConfig entry.
pub fn new(name: &str, args: Option<&serde_json::Value>) -> Result<Arc<dyn Plugin>, String> {
    Ok(match name {
        "NodeUnschedulable" => Arc::new(node_unschedulable::NodeUnschedulable),
        "NodeName" => Arc::new(node_name::NodeName),
        "TaintToleration" => Arc::new(taint_toleration::TaintToleration),
        "NodeAffinity" => Arc::new(node_affinity::NodeAffinity),
        "NodePorts" => Arc::new(node_ports::NodePorts),
        "NodeResourcesFit" => Arc::new(node_resources_fit::NodeResourcesFit::from_args(args)?),
        "NodeResourcesBalancedAllocation" => Arc::new(balanced_allocation::BalancedAllocation),
        "ImageLocality" => Arc::new(image_locality::ImageLocality),
        "InterPodAffinity" => Arc::new(inter_pod_affinity::InterPodAffinity::from_args(args)),
        "PodTopologySpread" => Arc::new(pod_topology_spread::PodTopologySpread::from_args(args)?),
        other => return Err(format!("unknown plugin {other:?}")),
    })
}
