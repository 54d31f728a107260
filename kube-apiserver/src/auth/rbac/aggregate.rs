//! ClusterRole aggregation (upstream `clusterroleaggregation` controller): the rules of an aggregated ClusterRole
//! are the de-duplicated union of the rules of the ClusterRoles its `clusterRoleSelectors` select.

use super::rule::PolicyRule;
use super::text;
use serde_json::Value;
use std::sync::Arc;

/// The aggregated rules (a JSON array) for `role`, computed from `all` ClusterRoles: for each selector in turn, the
/// selected roles by name (the role itself excluded), each rule added unless an equal one is already there. `None`
/// when the role has no `aggregationRule` or a selector is invalid (upstream leaves the role unchanged then).
pub fn aggregate(role: &Value, all: &[Arc<Value>]) -> Option<Value> {
    let rule = role.get("aggregationRule").filter(|r| r.is_object())?;
    let selectors = rule
        .get("clusterRoleSelectors")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let own_name = text(role, &["metadata", "name"]);
    let mut others: Vec<&Value> = all
        .iter()
        .map(Arc::as_ref)
        .filter(|r| text(r, &["metadata", "name"]) != own_name)
        .collect();
    others.sort_by_key(|r| text(r, &["metadata", "name"]));
    let mut rules: Vec<PolicyRule> = Vec::new();
    for selector in selectors {
        for selected in selected_roles(selector, &others)? {
            for r in PolicyRule::list_from_role(selected) {
                if !rules.contains(&r) {
                    rules.push(r);
                }
            }
        }
    }
    Some(Value::Array(rules.iter().map(PolicyRule::to_json).collect()))
}

/// The roles whose labels the selector matches; `None` if the selector is invalid.
fn selected_roles<'a>(selector: &Value, roles: &[&'a Value]) -> Option<Vec<&'a Value>> {
    let empty = Value::Null;
    let mut out = Vec::new();
    for role in roles {
        let labels = role.pointer("/metadata/labels").unwrap_or(&empty);
        if selector_matches(selector, labels)? {
            out.push(*role);
        }
    }
    Some(out)
}

/// Whether a metav1 LabelSelector (`matchLabels`, `matchExpressions` with In/NotIn/Exists/DoesNotExist) matches a
/// `labels` object; an empty selector matches everything. `None` if the selector is invalid.
pub fn selector_matches(selector: &Value, labels: &Value) -> Option<bool> {
    let label = |key: &str| labels.get(key).and_then(Value::as_str);
    let match_labels = selector.get("matchLabels").and_then(Value::as_object);
    let labels_ok = match_labels
        .into_iter()
        .flatten()
        .all(|(k, v)| v.as_str().is_some() && label(k) == v.as_str());
    let expressions = selector
        .get("matchExpressions")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut expressions_ok = true;
    for expr in expressions {
        expressions_ok &= expression_matches(expr, label(text(expr, &["key"])))?;
    }
    Some(labels_ok && expressions_ok)
}

/// One `matchExpressions` requirement against the label's value (if present); `None` if malformed.
fn expression_matches(expr: &Value, value: Option<&str>) -> Option<bool> {
    let values: Vec<&str> = expr
        .get("values")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let listed = value.is_some_and(|v| values.contains(&v));
    match (text(expr, &["operator"]), values.is_empty()) {
        ("In", false) => Some(listed),
        ("NotIn", false) => Some(!listed),
        ("Exists", true) => Some(value.is_some()),
        ("DoesNotExist", true) => Some(value.is_none()),
        _ => None,
    }
}
