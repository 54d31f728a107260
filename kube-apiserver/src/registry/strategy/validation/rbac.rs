//! rbac.authorization.k8s.io/v1: policy rules of (Cluster)Roles, aggregation rules, roleRefs
//! and subjects of (Cluster)RoleBindings; a roleRef never changes.

use super::{Errs, child, field, label_selector, list, msgs, str_of};
use crate::errors::FieldError;
use api_types::validation as v;
use serde_json::Value;

const GROUP: &str = "rbac.authorization.k8s.io";

pub fn role(obj: &Value, namespaced: bool, errs: &mut Errs) {
    for (i, rule) in list(obj, "rules").iter().enumerate() {
        policy_rule(&format!("rules[{i}]"), rule, namespaced, errs);
    }
    if !namespaced && let Some(agg) = field(obj, "aggregationRule") {
        let sels = list(agg, "clusterRoleSelectors");
        if sels.is_empty() {
            errs.push(FieldError::required(
                "aggregationRule.clusterRoleSelectors",
                "at least one clusterRoleSelector required if aggregationRule is non-nil",
            ));
        }
        for (i, sel) in sels.iter().enumerate() {
            label_selector(&format!("aggregationRule.clusterRoleSelectors[{i}]"), sel, errs);
        }
    }
}

fn policy_rule(path: &str, rule: &Value, namespaced: bool, errs: &mut Errs) {
    let p = |k: &str| child(path, k);
    if list(rule, "verbs").is_empty() {
        errs.push(FieldError::required(
            &p("verbs"),
            "verbs must contain at least one value",
        ));
    }
    let urls = list(rule, "nonResourceURLs");
    if !urls.is_empty() {
        if namespaced {
            errs.push(FieldError::invalid(
                &p("nonResourceURLs"),
                Value::Array(urls.to_vec()),
                "namespaced rules cannot apply to non-resource URLs",
            ));
        }
        if ["apiGroups", "resources", "resourceNames"]
            .iter()
            .any(|k| !list(rule, k).is_empty())
        {
            errs.push(FieldError::invalid(
                &p("nonResourceURLs"),
                Value::Array(urls.to_vec()),
                "rules cannot apply to both regular resources and non-resource URLs",
            ));
        }
        return;
    }
    if list(rule, "apiGroups").is_empty() {
        errs.push(FieldError::required(
            &p("apiGroups"),
            "resource rules must supply at least one api group",
        ));
    }
    if list(rule, "resources").is_empty() {
        errs.push(FieldError::required(
            &p("resources"),
            "resource rules must supply at least one resource",
        ));
    }
}

pub fn binding(obj: &Value, old: Option<&Value>, namespaced: bool, errs: &mut Errs) {
    let role_ref = obj.get("roleRef").unwrap_or(&Value::Null);
    let group = str_of(role_ref, "apiGroup");
    if group != GROUP {
        errs.push(FieldError::not_supported("roleRef.apiGroup", group, &[GROUP]));
    }
    let kind = str_of(role_ref, "kind");
    let kinds: &[&str] = if namespaced {
        &["Role", "ClusterRole"]
    } else {
        &["ClusterRole"]
    };
    if !kinds.contains(&kind) {
        errs.push(FieldError::not_supported("roleRef.kind", kind, kinds));
    }
    let name = str_of(role_ref, "name");
    if name.is_empty() {
        errs.push(FieldError::required("roleRef.name", ""));
    } else {
        msgs("roleRef.name", name, v::is_path_segment_name(name), errs);
    }
    for (i, s) in list(obj, "subjects").iter().enumerate() {
        subject(&format!("subjects[{i}]"), s, namespaced, errs);
    }
    if let Some(old) = old
        && old.get("roleRef") != obj.get("roleRef")
    {
        errs.push(FieldError::invalid(
            "roleRef",
            role_ref.clone(),
            "cannot change roleRef",
        ));
    }
}

fn subject(path: &str, s: &Value, namespaced: bool, errs: &mut Errs) {
    let p = |k: &str| child(path, k);
    let name = str_of(s, "name");
    if name.is_empty() {
        errs.push(FieldError::required(&p("name"), ""));
    }
    let group = str_of(s, "apiGroup");
    match str_of(s, "kind") {
        "ServiceAccount" => {
            if !name.is_empty() {
                msgs(&p("name"), name, v::is_dns1123_subdomain(name), errs);
            }
            if !group.is_empty() {
                errs.push(FieldError::not_supported(&p("apiGroup"), group, &[""]));
            }
            if !namespaced && str_of(s, "namespace").is_empty() {
                errs.push(FieldError::required(&p("namespace"), ""));
            }
        }
        "User" | "Group" => {
            if group != GROUP {
                errs.push(FieldError::not_supported(&p("apiGroup"), group, &[GROUP]));
            }
        }
        kind => errs.push(FieldError::not_supported(
            &p("kind"),
            kind,
            &["ServiceAccount", "User", "Group"],
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use serde_json::{Value, json};

    fn role(rules: Value) -> Value {
        json!({"metadata": {"name": "reader", "namespace": "shop"}, "rules": rules})
    }

    fn binding(role_ref: Value, subjects: Value) -> Value {
        json!({"metadata": {"name": "reader", "namespace": "shop"}, "roleRef": role_ref, "subjects": subjects})
    }

    #[test]
    fn roles() {
        check(
            "rbac.authorization.k8s.io",
            "v1",
            "roles",
            &[
                (
                    "valid",
                    role(json!([{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}])),
                    &[],
                ),
                (
                    "empty rule",
                    role(json!([{}])),
                    &[
                        "rules[0].verbs: Required value: verbs must contain at least one value",
                        "rules[0].apiGroups: Required value: resource rules must supply at least one api group",
                        "rules[0].resources: Required value: resource rules must supply at least one resource",
                    ],
                ),
                (
                    "non-resource in role",
                    role(json!([{"verbs": ["get"], "nonResourceURLs": ["/healthz"]}])),
                    &[
                        "rules[0].nonResourceURLs: Invalid value: [\"/healthz\"]: namespaced rules cannot apply to non-resource URLs",
                    ],
                ),
            ],
        );
        let cr = json!({"metadata": {"name": "view"}, "rules": [{"verbs": ["get"], "nonResourceURLs": ["/healthz"], "resources": ["pods"]}], "aggregationRule": {}});
        assert_eq!(
            errors("rbac.authorization.k8s.io", "v1", "clusterroles", &cr, None),
            [
                "rules[0].nonResourceURLs: Invalid value: [\"/healthz\"]: rules cannot apply to both regular resources and non-resource URLs",
                "aggregationRule.clusterRoleSelectors: Required value: at least one clusterRoleSelector required if aggregationRule is non-nil",
            ]
        );
    }

    #[test]
    fn bindings() {
        let rr = json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"});
        let good = binding(
            rr.clone(),
            json!([{"kind": "ServiceAccount", "name": "runner", "namespace": "shop"}]),
        );
        check(
            "rbac.authorization.k8s.io",
            "v1",
            "rolebindings",
            &[
                ("valid", good.clone(), &[]),
                (
                    "bad roleRef",
                    binding(json!({"apiGroup": "", "kind": "Pod"}), json!([])),
                    &[
                        "roleRef.apiGroup: Unsupported value: \"\": supported values: \"rbac.authorization.k8s.io\"",
                        "roleRef.kind: Unsupported value: \"Pod\": supported values: \"Role\", \"ClusterRole\"",
                        "roleRef.name: Required value",
                    ],
                ),
                (
                    "subjects",
                    binding(
                        rr.clone(),
                        json!([{"kind": "User", "name": "u"}, {"kind": "Robot", "name": "r"}, {"kind": "ServiceAccount", "apiGroup": "x"}]),
                    ),
                    &[
                        "subjects[0].apiGroup: Unsupported value: \"\": supported values: \"rbac.authorization.k8s.io\"",
                        "subjects[1].kind: Unsupported value: \"Robot\": supported values: \"ServiceAccount\", \"User\", \"Group\"",
                        "subjects[2].name: Required value",
                        "subjects[2].apiGroup: Unsupported value: \"x\": supported values: \"\"",
                    ],
                ),
            ],
        );
        check_update(
            "rbac.authorization.k8s.io",
            "v1",
            "rolebindings",
            &[(
                "roleRef change",
                good.clone(),
                with(good.clone(), "/roleRef/name", json!("writer")),
                &[
                    "roleRef: Invalid value: {\"apiGroup\":\"rbac.authorization.k8s.io\",\"kind\":\"Role\",\"name\":\"writer\"}: cannot change roleRef",
                ][..],
            )],
        );
        let crb = json!({"metadata": {"name": "x"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"},
            "subjects": [{"kind": "ServiceAccount", "name": "sa"}]});
        assert_eq!(
            errors("rbac.authorization.k8s.io", "v1", "clusterrolebindings", &crb, None),
            [
                "roleRef.kind: Unsupported value: \"Role\": supported values: \"ClusterRole\"",
                "subjects[0].namespace: Required value",
            ]
        );
    }
}
