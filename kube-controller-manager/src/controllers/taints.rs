//! Taints and tolerations as upstream's v1helper: whether a toleration tolerates a taint, and
//! how long a pod may stay on a node with NoExecute taints.

use k8s_openapi::api::core::v1::{Taint, Toleration};

pub const NOT_READY: &str = "node.kubernetes.io/not-ready";
pub const UNREACHABLE: &str = "node.kubernetes.io/unreachable";

pub fn tolerates(t: &Toleration, taint: &Taint) -> bool {
    if t.effect.as_deref().is_some_and(|e| !e.is_empty() && e != taint.effect) {
        return false;
    }
    let key = t.key.as_deref().unwrap_or_default();
    match t.operator.as_deref().unwrap_or("Equal") {
        "Exists" => key.is_empty() || key == taint.key,
        _ => key == taint.key && t.value.as_deref().unwrap_or_default() == taint.value.as_deref().unwrap_or_default(),
    }
}

/// How long a pod tolerates all of `taints`: `None` if some taint is not tolerated at all,
/// `Some(None)` if forever, `Some(Some(s))` for the smallest tolerationSeconds that applies.
pub fn toleration_window(taints: &[&Taint], tolerations: &[Toleration]) -> Option<Option<i64>> {
    let mut window: Option<i64> = None;
    for taint in taints {
        let matching: Vec<&Toleration> = tolerations.iter().filter(|t| tolerates(t, taint)).collect();
        if matching.is_empty() {
            return None;
        }
        // A matching toleration without seconds tolerates this taint forever.
        if matching.iter().any(|t| t.toleration_seconds.is_none()) {
            continue;
        }
        let secs = matching
            .iter()
            .filter_map(|t| t.toleration_seconds)
            .min()
            .unwrap_or(0)
            .max(0);
        window = Some(window.map_or(secs, |w| w.min(secs)));
    }
    Some(window)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn taint(key: &str) -> Taint {
        serde_json::from_value(json!({"key": key, "effect": "NoExecute"})).unwrap()
    }
    fn toleration(v: serde_json::Value) -> Toleration {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn windows() {
        let t = taint(UNREACHABLE);
        assert_eq!(toleration_window(&[&t], &[]), None);
        let exists = toleration(json!({"operator": "Exists"}));
        assert_eq!(toleration_window(&[&t], &[exists]), Some(None));
        let five = toleration(
            json!({"key": UNREACHABLE, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 5}),
        );
        let nine = toleration(json!({"key": UNREACHABLE, "operator": "Exists", "tolerationSeconds": 9}));
        assert_eq!(toleration_window(&[&t], &[five.clone(), nine]), Some(Some(5)));
        let other = toleration(json!({"key": "x", "operator": "Equal", "value": "y", "effect": "NoExecute"}));
        assert_eq!(toleration_window(&[&t, &taint("x")], &[five, other]), None);
    }
}
