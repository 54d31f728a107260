//! Reconciliation of a default RBAC object against the stored one, following upstream's
//! `reconcile-cluster-role` / `reconcile-binding` semantics without removing extra permissions: objects whose
//! autoupdate annotation is "false" are left alone; otherwise missing labels/annotations are added (stored values
//! win), uncovered rules are appended as broken-down single-verb rules, missing aggregation selectors and subjects
//! are added, and a binding's roleRef is reset to the default one.

use serde_json::{Map, Value};

use super::AUTOUPDATE_ANNOTATION;

/// Returns the updated object, or `None` when the stored object already satisfies the default (or is protected by
/// `rbac.authorization.kubernetes.io/autoupdate: "false"`).
pub fn reconcile(default: &Value, existing: &Value) -> Option<Value> {
    if is_protected(existing) {
        return None;
    }
    let mut result = existing.clone();
    let obj = result.as_object_mut()?;
    merge_metadata(obj, default);
    if default.get("roleRef").is_some() {
        reconcile_binding(obj, default);
    } else {
        reconcile_role(obj, default, existing);
    }
    (result != *existing).then_some(result)
}

fn is_protected(existing: &Value) -> bool {
    existing
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(AUTOUPDATE_ANNOTATION))
        .and_then(Value::as_str)
        == Some("false")
}

/// Adds the default's labels and annotations that the stored object lacks.
fn merge_metadata(obj: &mut Map<String, Value>, default: &Value) {
    let meta = obj.entry("metadata").or_insert_with(|| Value::Object(Map::new()));
    let Some(meta) = meta.as_object_mut() else { return };
    for key in ["labels", "annotations"] {
        let Some(Value::Object(wanted)) = default.pointer(&format!("/metadata/{key}")) else {
            continue;
        };
        let target = meta.entry(key).or_insert_with(|| Value::Object(Map::new()));
        if !target.is_object() {
            *target = Value::Object(Map::new());
        }
        if let Some(target) = target.as_object_mut() {
            for (k, v) in wanted {
                target.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
    }
}

fn reconcile_role(obj: &mut Map<String, Value>, default: &Value, existing: &Value) {
    let both_aggregated = default.get("aggregationRule").is_some() && existing.get("aggregationRule").is_some();
    if !both_aggregated {
        let have = array(existing.get("rules"));
        let missing: Vec<Value> = array(default.get("rules"))
            .iter()
            .flat_map(breakdown)
            .filter(|atom| !have.iter().any(|owner| covers(owner, atom)))
            .collect();
        if !missing.is_empty() {
            let mut rules = have.to_vec();
            rules.extend(missing);
            obj.insert("rules".into(), Value::Array(rules));
        }
    }
    merge_aggregation(obj, default);
}

/// Adds the default's aggregation selectors that the stored role lacks.
fn merge_aggregation(obj: &mut Map<String, Value>, default: &Value) {
    let Some(wanted) = default.pointer("/aggregationRule/clusterRoleSelectors") else {
        return;
    };
    let mut selectors = obj
        .get("aggregationRule")
        .map(|a| array(a.get("clusterRoleSelectors")).to_vec());
    let list = selectors.get_or_insert_with(Vec::new);
    for selector in array(Some(wanted)) {
        if !list.contains(selector) {
            list.push(selector.clone());
        }
    }
    let mut rule = obj
        .get("aggregationRule")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    rule.insert(
        "clusterRoleSelectors".into(),
        Value::Array(selectors.unwrap_or_default()),
    );
    obj.insert("aggregationRule".into(), Value::Object(rule));
}

fn reconcile_binding(obj: &mut Map<String, Value>, default: &Value) {
    if let Some(role_ref) = default.get("roleRef") {
        obj.insert("roleRef".into(), role_ref.clone());
    }
    let mut subjects = array(obj.get("subjects")).to_vec();
    let before = subjects.len();
    for subject in array(default.get("subjects")) {
        if !subjects.iter().any(|s| same_subject(s, subject)) {
            subjects.push(subject.clone());
        }
    }
    if subjects.len() != before {
        obj.insert("subjects".into(), Value::Array(subjects));
    }
}

fn same_subject(a: &Value, b: &Value) -> bool {
    ["kind", "name", "namespace", "apiGroup"].iter().all(|k| {
        let (x, y) = (a.get(*k).and_then(Value::as_str), b.get(*k).and_then(Value::as_str));
        // An omitted apiGroup on a User/Group subject means the RBAC group.
        x.unwrap_or_default() == y.unwrap_or_default() || (*k == "apiGroup" && (x.is_none() || y.is_none()))
    })
}

fn array(v: Option<&Value>) -> &[Value] {
    v.and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default()
}

fn strings(rule: &Value, key: &str) -> Vec<String> {
    array(rule.get(key))
        .iter()
        .filter_map(|s| s.as_str().map(str::to_owned))
        .collect()
}

/// Splits a rule into rules of one group/resource/verb(/name) or one URL/verb, like upstream's BreakdownRule.
fn breakdown(rule: &Value) -> Vec<Value> {
    let verbs = strings(rule, "verbs");
    let mut out = Vec::new();
    for group in strings(rule, "apiGroups") {
        for resource in strings(rule, "resources") {
            for verb in &verbs {
                let names = strings(rule, "resourceNames");
                let base = serde_json::json!({ "verbs": [verb], "apiGroups": [group], "resources": [resource] });
                if names.is_empty() {
                    out.push(base);
                    continue;
                }
                for name in names {
                    let mut atom = base.clone();
                    atom["resourceNames"] = serde_json::json!([name]);
                    out.push(atom);
                }
            }
        }
    }
    for url in strings(rule, "nonResourceURLs") {
        for verb in &verbs {
            out.push(serde_json::json!({ "verbs": [verb], "nonResourceURLs": [url] }));
        }
    }
    out
}

/// Whether `owner` grants everything the broken-down rule `atom` grants.
fn covers(owner: &Value, atom: &Value) -> bool {
    let has = |key: &str, wanted: &str, matcher: fn(&str, &str) -> bool| {
        strings(owner, key).iter().any(|o| o == "*" || matcher(o, wanted))
    };
    let verbs_ok = strings(atom, "verbs").iter().all(|v| has("verbs", v, |o, w| o == w));
    if let Some(url) = strings(atom, "nonResourceURLs").first() {
        return verbs_ok && has("nonResourceURLs", url, url_matches);
    }
    let groups_ok = strings(atom, "apiGroups")
        .iter()
        .all(|g| has("apiGroups", g, |o, w| o == w));
    let resources_ok = strings(atom, "resources")
        .iter()
        .all(|r| has("resources", r, resource_matches));
    let owner_names = strings(owner, "resourceNames");
    let names_ok = owner_names.is_empty()
        || strings(atom, "resourceNames")
            .first()
            .is_some_and(|n| owner_names.contains(n));
    verbs_ok && groups_ok && resources_ok && names_ok
}

fn url_matches(owner: &str, wanted: &str) -> bool {
    owner == wanted || owner.strip_suffix('*').is_some_and(|prefix| wanted.starts_with(prefix))
}

/// Resource matching with upstream's subresource wildcards: `pods/*` and `*/scale`.
fn resource_matches(owner: &str, wanted: &str) -> bool {
    if owner == wanted {
        return true;
    }
    let Some((res, sub)) = wanted.split_once('/') else {
        return false;
    };
    owner == format!("{res}/*") || owner == format!("*/{sub}")
}
