//! What controllers ask of pods: whether a pod is active, ready, available; which pods to
//! delete first when scaling down; and a new pod from a template (upstream's
//! controller_utils).

use api_types::labels::Selector;
use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta, OwnerReference};
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// A `metav1.LabelSelector` as a matcher. A selector that cannot be parsed matches nothing.
pub fn selector(sel: Option<&LabelSelector>) -> Option<Selector> {
    let json = serde_json::to_value(sel?).ok()?;
    Selector::from_label_selector_json(&json).ok()
}

pub fn matches(sel: &Selector, labels: Option<&BTreeMap<String, String>>) -> bool {
    sel.matches(|k| labels.and_then(|l| l.get(k)).map(String::as_str))
}

fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("Pending")
}

/// Not finished and not being deleted: it counts toward replicas.
pub fn is_active(pod: &Pod) -> bool {
    !matches!(phase(pod), "Succeeded" | "Failed") && pod.metadata.deletion_timestamp.is_none()
}

pub fn is_terminating(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_some()
}

fn ready_condition(pod: &Pod) -> Option<&k8s_openapi::api::core::v1::PodCondition> {
    pod.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Ready")
}

pub fn is_ready(pod: &Pod) -> bool {
    ready_condition(pod).is_some_and(|c| c.status == "True")
}

/// Ready for at least `min_ready_seconds`.
pub fn is_available(pod: &Pod, min_ready_seconds: i32, now: jiff::Timestamp) -> bool {
    let Some(c) = ready_condition(pod).filter(|c| c.status == "True") else {
        return false;
    };
    if min_ready_seconds <= 0 {
        return true;
    }
    c.last_transition_time
        .as_ref()
        .is_some_and(|t| t.0 + jiff::SignedDuration::from_secs(min_ready_seconds.into()) <= now)
}

/// The owner reference a controller puts on what it creates.
pub fn controller_ref(api_version: &str, kind: &str, owner: &ObjectMeta) -> OwnerReference {
    OwnerReference {
        api_version: api_version.into(),
        kind: kind.into(),
        name: owner.name.clone().unwrap_or_default(),
        uid: owner.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// The controlling owner of an object, if any.
pub fn controller_of(meta: &ObjectMeta) -> Option<&OwnerReference> {
    meta.owner_references
        .as_ref()?
        .iter()
        .find(|r| r.controller == Some(true))
}

/// A pod for `template`, owned by `owner`, named `<prefix><random>` by the server.
pub fn from_template(template: &PodTemplateSpec, owner: OwnerReference, prefix: &str) -> Pod {
    let tmeta = template.metadata.clone().unwrap_or_default();
    Pod {
        metadata: ObjectMeta {
            generate_name: Some(prefix.into()),
            labels: tmeta.labels,
            annotations: tmeta.annotations,
            finalizers: tmeta.finalizers,
            owner_references: Some(vec![owner]),
            ..Default::default()
        },
        spec: template.spec.clone(),
        status: None,
    }
}

/// Upstream's generateName prefix for pods of a controller: `<name>-`, shortened so that the
/// generated name stays a valid label value.
pub fn name_prefix(owner: &str) -> String {
    let mut prefix = format!("{owner}-");
    if prefix.len() > 58 {
        prefix.truncate(58);
    }
    prefix
}

fn phase_rank(pod: &Pod) -> u8 {
    match phase(pod) {
        "Pending" => 0,
        "Unknown" => 1,
        "Running" => 2,
        _ => 3,
    }
}

fn restarts(pod: &Pod) -> i32 {
    let statuses = pod.status.as_ref().and_then(|s| s.container_statuses.as_ref());
    statuses
        .map(|c| c.iter().map(|s| s.restart_count).max().unwrap_or(0))
        .unwrap_or(0)
}

/// Orders pods best-to-delete first, as upstream's ActivePodsWithRanks: unscheduled before
/// scheduled, pending before unknown before running, not ready before ready, pods sharing a
/// node with more of their siblings first, ready for less time first, more restarts first,
/// newer first.
pub fn deletion_order(pods: &mut [Arc<Pod>]) {
    let mut per_node: HashMap<String, usize> = HashMap::new();
    for p in pods.iter() {
        if let Some(n) = p.spec.as_ref().and_then(|s| s.node_name.clone()) {
            *per_node.entry(n).or_default() += 1;
        }
    }
    let node = |p: &Pod| p.spec.as_ref().and_then(|s| s.node_name.clone()).unwrap_or_default();
    let rank = |p: &Pod| per_node.get(&node(p)).copied().unwrap_or(0);
    let ready_since = |p: &Pod| ready_condition(p).and_then(|c| c.last_transition_time.as_ref().map(|t| t.0));
    pods.sort_by(|a, b| {
        let (a, b) = (a.as_ref(), b.as_ref());
        node(a)
            .is_empty()
            .cmp(&node(b).is_empty())
            .reverse()
            .then_with(|| phase_rank(a).cmp(&phase_rank(b)))
            .then_with(|| is_ready(a).cmp(&is_ready(b)))
            .then_with(|| rank(b).cmp(&rank(a)))
            .then_with(|| match (is_ready(a), is_ready(b)) {
                (true, true) => ready_since(b).cmp(&ready_since(a)),
                _ => Ordering::Equal,
            })
            .then_with(|| restarts(b).cmp(&restarts(a)))
            .then_with(|| {
                let created = |p: &Pod| p.metadata.creation_timestamp.as_ref().map(|t| t.0);
                created(b).cmp(&created(a))
            })
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(name: &str, node: Option<&str>, phase: &str, ready: bool) -> Arc<Pod> {
        Arc::new(
            serde_json::from_value(json!({
                "metadata": {"name": name, "creationTimestamp": "2026-01-01T00:00:00Z"},
                "spec": {"nodeName": node, "containers": []},
                "status": {"phase": phase, "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}}]},
            }))
            .unwrap(),
        )
    }

    #[test]
    fn scale_down_prefers_unscheduled_then_pending_then_not_ready() {
        let mut pods = vec![
            pod("running-ready", Some("n1"), "Running", true),
            pod("running-not-ready", Some("n2"), "Running", false),
            pod("pending", Some("n3"), "Pending", false),
            pod("unscheduled", None, "Pending", false),
        ];
        deletion_order(&mut pods);
        let names: Vec<_> = pods.iter().map(|p| p.metadata.name.clone().unwrap()).collect();
        assert_eq!(names, ["unscheduled", "pending", "running-not-ready", "running-ready"]);
    }

    #[test]
    fn availability_waits_for_min_ready_seconds() {
        let p: Pod = serde_json::from_value(json!({"status": {"conditions": [
            {"type": "Ready", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"}]}}))
        .unwrap();
        let at = |s: &str| s.parse::<jiff::Timestamp>().unwrap();
        assert!(is_available(&p, 0, at("2026-01-01T00:00:01Z")));
        assert!(!is_available(&p, 10, at("2026-01-01T00:00:05Z")));
        assert!(is_available(&p, 10, at("2026-01-01T00:00:10Z")));
    }
}
