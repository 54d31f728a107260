//! Which nodes a DaemonSet's pod belongs on (upstream's NodeShouldRunDaemonPod and
//! daemon/util): the node must match the template's nodeName, nodeSelector and required node
//! affinity, and its NoSchedule/NoExecute taints must be tolerated, counting the tolerations
//! every daemon pod gets. The pod itself is pinned to its node by node affinity on
//! `metadata.name`, and the scheduler binds it.

use k8s_openapi::api::core::v1::{
    Affinity, Node, NodeAffinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, Pod, PodSpec, Taint,
    Toleration,
};
use std::collections::BTreeMap;

const NO_SCHEDULE: &str = "NoSchedule";
const NO_EXECUTE: &str = "NoExecute";
const NAME_FIELD: &str = "metadata.name";

/// Whether a new daemon pod should run on the node, and whether one already there may stay
/// (it may when only untolerated NoSchedule taints keep new ones off).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fit {
    pub should_run: bool,
    pub should_continue_running: bool,
}

/// The tolerations every daemon pod gets (upstream's AddOrUpdateDaemonPodTolerations): it
/// stays through node problems a node's own controllers taint for, and network-unavailable
/// only matters to pods that do not use the host network.
pub fn add_daemon_tolerations(spec: &mut PodSpec) {
    let mut wanted = vec![
        ("node.kubernetes.io/not-ready", NO_EXECUTE),
        ("node.kubernetes.io/unreachable", NO_EXECUTE),
        ("node.kubernetes.io/disk-pressure", NO_SCHEDULE),
        ("node.kubernetes.io/memory-pressure", NO_SCHEDULE),
        ("node.kubernetes.io/pid-pressure", NO_SCHEDULE),
        ("node.kubernetes.io/unschedulable", NO_SCHEDULE),
    ];
    if spec.host_network == Some(true) {
        wanted.push(("node.kubernetes.io/network-unavailable", NO_SCHEDULE));
    }
    for (key, effect) in wanted {
        add_or_update_toleration(
            spec,
            Toleration {
                key: Some(key.into()),
                operator: Some("Exists".into()),
                effect: Some(effect.into()),
                ..Default::default()
            },
        );
    }
}

/// Replaces a toleration with the same key, operator, value and effect, else appends.
fn add_or_update_toleration(spec: &mut PodSpec, t: Toleration) {
    let same =
        |o: &Toleration| o.key == t.key && o.operator == t.operator && o.value == t.value && o.effect == t.effect;
    let list = spec.tolerations.get_or_insert_default();
    match list.iter_mut().find(|o| same(o)) {
        Some(existing) => *existing = t,
        None => list.push(t),
    }
}

/// Upstream's ToleratesTaint: an empty effect or key matches any; `Exists` ignores the value.
pub fn tolerates(t: &Toleration, taint: &Taint) -> bool {
    let effect = t.effect.as_deref().unwrap_or_default();
    if !effect.is_empty() && effect != taint.effect {
        return false;
    }
    let key = t.key.as_deref().unwrap_or_default();
    if !key.is_empty() && key != taint.key {
        return false;
    }
    match t.operator.as_deref().unwrap_or_default() {
        "" | "Equal" => t.value.as_deref().unwrap_or_default() == taint.value.as_deref().unwrap_or_default(),
        "Exists" => true,
        _ => false,
    }
}

fn untolerated<'a>(taints: &'a [Taint], tolerations: &[Toleration], effects: &[&str]) -> Option<&'a Taint> {
    taints
        .iter()
        .filter(|t| effects.contains(&t.effect.as_str()))
        .find(|taint| !tolerations.iter().any(|t| tolerates(t, taint)))
}

/// One requirement of a term against the node's labels.
fn label_requirement(r: &NodeSelectorRequirement, labels: &BTreeMap<String, String>) -> Option<bool> {
    let values = r.values.as_deref().unwrap_or_default();
    let value = labels.get(&r.key);
    let number = |s: &str| s.parse::<i64>().ok();
    Some(match r.operator.as_str() {
        "In" => value.is_some_and(|v| values.contains(v)),
        "NotIn" => value.is_none_or(|v| !values.contains(v)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        "Gt" | "Lt" => {
            let [bound] = values else { return None };
            let bound = number(bound)?;
            match value.and_then(|v| number(v)) {
                Some(v) if r.operator == "Gt" => v > bound,
                Some(v) => v < bound,
                None => false,
            }
        }
        _ => return None,
    })
}

/// One field requirement: only `metadata.name` with `In` or `NotIn` is valid.
fn field_requirement(r: &NodeSelectorRequirement, node_name: &str) -> Option<bool> {
    if r.key != NAME_FIELD {
        return None;
    }
    let values = r.values.as_deref().unwrap_or_default();
    match r.operator.as_str() {
        "In" => Some(values.iter().any(|v| v == node_name)),
        "NotIn" => Some(!values.iter().any(|v| v == node_name)),
        _ => None,
    }
}

/// A term matches when all its requirements do; an empty or invalid term matches nothing.
fn term_matches(term: &NodeSelectorTerm, node: &Node) -> bool {
    let exprs = term.match_expressions.as_deref().unwrap_or_default();
    let fields = term.match_fields.as_deref().unwrap_or_default();
    if exprs.is_empty() && fields.is_empty() {
        return false;
    }
    let labels = node.metadata.labels.clone().unwrap_or_default();
    let name = node.metadata.name.as_deref().unwrap_or_default();
    exprs.iter().all(|r| label_requirement(r, &labels) == Some(true))
        && fields.iter().all(|r| field_requirement(r, name) == Some(true))
}

/// The pod's nodeSelector and required node affinity (any one term) both match the node.
pub fn matches_node_affinity(spec: &PodSpec, node: &Node) -> bool {
    let labels = node.metadata.labels.as_ref();
    let selector_ok = spec
        .node_selector
        .iter()
        .flatten()
        .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v));
    let required = spec
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|n| n.required_during_scheduling_ignored_during_execution.as_ref());
    selector_ok && required.is_none_or(|r| r.node_selector_terms.iter().any(|t| term_matches(t, node)))
}

/// Whether the DaemonSet's pod belongs on `node` (upstream's NodeShouldRunDaemonPod).
pub fn node_should_run(template: &PodSpec, node: &Node) -> Fit {
    let never = Fit {
        should_run: false,
        should_continue_running: false,
    };
    let node_name = node.metadata.name.as_deref().unwrap_or_default();
    let wanted = template.node_name.as_deref().unwrap_or_default();
    if !wanted.is_empty() && wanted != node_name {
        return never;
    }
    let mut spec = template.clone();
    spec.node_name = Some(node_name.into());
    add_daemon_tolerations(&mut spec);
    if !matches_node_affinity(&spec, node) {
        return never;
    }
    let taints = node.spec.as_ref().and_then(|s| s.taints.clone()).unwrap_or_default();
    let tolerations = spec.tolerations.clone().unwrap_or_default();
    if untolerated(&taints, &tolerations, &[NO_SCHEDULE, NO_EXECUTE]).is_some() {
        return Fit {
            should_run: false,
            should_continue_running: untolerated(&taints, &tolerations, &[NO_EXECUTE]).is_none(),
        };
    }
    Fit {
        should_run: true,
        should_continue_running: true,
    }
}

/// Pins a pod to one node (upstream's ReplaceDaemonSetPodNodeNameNodeAffinity): the required
/// node affinity becomes the single term `metadata.name In [node]`; nothing else of the
/// affinity changes, and the node already matched the terms it replaces.
pub fn pin_to_node(affinity: Option<Affinity>, node: &str) -> Affinity {
    let selector = NodeSelector {
        node_selector_terms: vec![NodeSelectorTerm {
            match_expressions: None,
            match_fields: Some(vec![NodeSelectorRequirement {
                key: NAME_FIELD.into(),
                operator: "In".into(),
                values: Some(vec![node.into()]),
            }]),
        }],
    };
    let mut affinity = affinity.unwrap_or_default();
    let node_affinity = affinity.node_affinity.get_or_insert_with(NodeAffinity::default);
    node_affinity.required_during_scheduling_ignored_during_execution = Some(selector);
    affinity
}

/// The node a daemon pod is for: its nodeName once bound, else the single name its node
/// affinity pins it to (upstream's GetTargetNodeName).
pub fn target_node(pod: &Pod) -> Option<String> {
    let spec = pod.spec.as_ref()?;
    if let Some(n) = spec.node_name.as_deref().filter(|n| !n.is_empty()) {
        return Some(n.into());
    }
    let required = spec
        .affinity
        .as_ref()?
        .node_affinity
        .as_ref()?
        .required_during_scheduling_ignored_during_execution
        .as_ref()?;
    required
        .node_selector_terms
        .iter()
        .flat_map(|t| t.match_fields.iter().flatten())
        .find_map(|r| match r.values.as_deref() {
            Some([name]) if r.key == NAME_FIELD && r.operator == "In" => Some(name.clone()),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(name: &str, labels: serde_json::Value, taints: serde_json::Value) -> Node {
        serde_json::from_value(json!({"metadata": {"name": name, "labels": labels}, "spec": {"taints": taints}}))
            .unwrap()
    }

    fn spec(v: serde_json::Value) -> PodSpec {
        serde_json::from_value(v).unwrap()
    }

    const RUN: Fit = Fit {
        should_run: true,
        should_continue_running: true,
    };
    const NEVER: Fit = Fit {
        should_run: false,
        should_continue_running: false,
    };

    #[test]
    fn taints_keep_new_pods_off_unless_tolerated() {
        let plain = spec(json!({"containers": []}));
        let no_schedule = node(
            "n",
            json!({}),
            json!([{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]),
        );
        let no_execute = node(
            "n",
            json!({}),
            json!([{"key": "dedicated", "value": "db", "effect": "NoExecute"}]),
        );
        let prefer = node("n", json!({}), json!([{"key": "x", "effect": "PreferNoSchedule"}]));
        assert_eq!(node_should_run(&plain, &node("n", json!({}), json!([]))), RUN);
        assert_eq!(node_should_run(&plain, &prefer), RUN);
        // A pod already there stays through NoSchedule, not through NoExecute.
        let stay = Fit {
            should_run: false,
            should_continue_running: true,
        };
        assert_eq!(node_should_run(&plain, &no_schedule), stay);
        assert_eq!(node_should_run(&plain, &no_execute), NEVER);
        let tolerant = spec(json!({"containers": [], "tolerations": [
            {"key": "dedicated", "operator": "Equal", "value": "db"}]}));
        assert_eq!(node_should_run(&tolerant, &no_schedule), RUN);
        assert_eq!(node_should_run(&tolerant, &no_execute), RUN);
        let wrong_value = spec(json!({"containers": [], "tolerations": [{"key": "dedicated", "value": "web"}]}));
        assert_eq!(node_should_run(&wrong_value, &no_schedule), stay);
    }

    #[test]
    fn daemon_tolerations_cover_node_conditions() {
        let plain = spec(json!({"containers": []}));
        let unschedulable = node(
            "n",
            json!({}),
            json!([{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]),
        );
        let not_ready = node(
            "n",
            json!({}),
            json!([{"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"}]),
        );
        let network = node(
            "n",
            json!({}),
            json!([{"key": "node.kubernetes.io/network-unavailable", "effect": "NoSchedule"}]),
        );
        assert_eq!(node_should_run(&plain, &unschedulable), RUN);
        assert_eq!(node_should_run(&plain, &not_ready), RUN);
        assert!(!node_should_run(&plain, &network).should_run);
        let host = spec(json!({"containers": [], "hostNetwork": true}));
        assert_eq!(node_should_run(&host, &network), RUN);
        let mut s = plain.clone();
        add_daemon_tolerations(&mut s);
        add_daemon_tolerations(&mut s);
        assert_eq!(s.tolerations.unwrap().len(), 6);
    }

    #[test]
    fn node_selector_and_affinity() {
        let ssd = node("a", json!({"disk": "ssd", "cores": "8"}), json!([]));
        let hdd = node("b", json!({"disk": "hdd"}), json!([]));
        let by_selector = spec(json!({"containers": [], "nodeSelector": {"disk": "ssd"}}));
        assert_eq!(node_should_run(&by_selector, &ssd), RUN);
        assert_eq!(node_should_run(&by_selector, &hdd), NEVER);
        let affinity = |terms: serde_json::Value| {
            spec(json!({"containers": [], "affinity": {"nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}}}}))
        };
        let gt = affinity(json!([{"matchExpressions": [{"key": "cores", "operator": "Gt", "values": ["4"]}]}]));
        assert_eq!(node_should_run(&gt, &ssd), RUN);
        assert_eq!(node_should_run(&gt, &hdd), NEVER);
        let either = affinity(json!([
            {"matchExpressions": [{"key": "disk", "operator": "In", "values": ["nvme"]}]},
            {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["b"]}]}]));
        assert_eq!(node_should_run(&either, &ssd), NEVER);
        assert_eq!(node_should_run(&either, &hdd), RUN);
        let absent = affinity(json!([{"matchExpressions": [{"key": "gpu", "operator": "DoesNotExist"}]}]));
        assert_eq!(node_should_run(&absent, &ssd), RUN);
        let empty_term = affinity(json!([{}]));
        assert_eq!(node_should_run(&empty_term, &ssd), NEVER);
        let named = spec(json!({"containers": [], "nodeName": "b"}));
        assert_eq!(node_should_run(&named, &ssd), NEVER);
        assert_eq!(node_should_run(&named, &hdd), RUN);
    }

    #[test]
    fn pinning_replaces_required_terms_and_is_read_back() {
        let affinity: Affinity = serde_json::from_value(json!({"nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "disk", "operator": "In", "values": ["ssd"]}]}]},
            "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 1, "preference": {}}]}}))
        .unwrap();
        let pinned = pin_to_node(Some(affinity), "node-1");
        let v = serde_json::to_value(&pinned).unwrap();
        assert_eq!(
            v["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"],
            json!({"nodeSelectorTerms": [{"matchFields": [
                {"key": "metadata.name", "operator": "In", "values": ["node-1"]}]}]})
        );
        assert!(v["nodeAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"].is_array());
        let pod = Pod {
            spec: Some(PodSpec {
                affinity: Some(pinned),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(target_node(&pod).as_deref(), Some("node-1"));
    }
}
