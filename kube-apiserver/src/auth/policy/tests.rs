//! Tests of the default RBAC bootstrap policy against upstream v1.33's rendered testdata and of reconciliation.

use serde_json::{Value, json};

use super::*;

fn find<'a>(objects: &'a [Value], name: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("{name} missing"))
}

fn has_rule(role: &Value, verb: &str, group: &str, resource: &str) -> bool {
    role["rules"].as_array().into_iter().flatten().any(|r| {
        let has = |k: &str, v: &str| r[k].as_array().is_some_and(|a| a.iter().any(|x| x == v || x == "*"));
        has("verbs", verb) && has("apiGroups", group) && has("resources", resource)
    })
}

#[test]
fn counts_match_upstream_testdata() {
    // 31 in cluster-roles.yaml + 35 in controller-roles.yaml; 12 + 35 bindings; 7 namespaced roles/bindings.
    assert_eq!(cluster_roles().len(), 66);
    assert_eq!(cluster_role_bindings().len(), 47);
    assert_eq!(roles().len(), 7);
    assert_eq!(role_bindings().len(), 7);
    let controllers = cluster_roles()
        .iter()
        .filter(|r| object_key(r).1.starts_with(CONTROLLER_PREFIX))
        .count();
    assert_eq!(controllers, 35);
}

#[test]
fn objects_are_complete_v1_objects() {
    let all: Vec<(Value, &str)> = [
        (cluster_roles(), "ClusterRole"),
        (cluster_role_bindings(), "ClusterRoleBinding"),
        (roles(), "Role"),
        (role_bindings(), "RoleBinding"),
    ]
    .into_iter()
    .flat_map(|(objs, kind)| objs.into_iter().map(move |o| (o, kind)))
    .collect();
    for (o, kind) in &all {
        assert_eq!(o["apiVersion"], "rbac.authorization.k8s.io/v1");
        assert_eq!(o["kind"], *kind);
        assert_eq!(o["metadata"]["labels"]["kubernetes.io/bootstrapping"], "rbac-defaults");
        assert_eq!(
            o["metadata"]["annotations"]["rbac.authorization.kubernetes.io/autoupdate"],
            "true"
        );
        assert!(o["metadata"]["name"].as_str().is_some_and(|n| !n.is_empty()));
        let namespaced = kind.starts_with("Role");
        assert_eq!(o["metadata"]["namespace"].is_string(), namespaced, "{o}");
        for rule in o["rules"].as_array().into_iter().flatten() {
            assert!(rule["verbs"].as_array().is_some_and(|v| !v.is_empty()), "{rule}");
            assert_ne!(
                rule["resources"].is_array(),
                rule["nonResourceURLs"].is_array(),
                "{rule}"
            );
        }
    }
    let names: Vec<(String, (String, String))> = all.iter().map(|(o, k)| (k.to_string(), object_key(o))).collect();
    let mut dedup = names.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(dedup.len(), names.len(), "duplicate names");
}

#[test]
fn cluster_admin_and_masters() {
    let roles = cluster_roles();
    let admin = find(&roles, "cluster-admin");
    assert_eq!(
        admin["rules"][0],
        json!({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]})
    );
    assert_eq!(admin["rules"][1], json!({"verbs": ["*"], "nonResourceURLs": ["*"]}));
    let bindings = cluster_role_bindings();
    let b = find(&bindings, "cluster-admin");
    assert_eq!(
        b["roleRef"],
        json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"})
    );
    assert_eq!(
        b["subjects"],
        json!([{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "system:masters"}])
    );
}

#[test]
fn public_info_viewer() {
    let roles = cluster_roles();
    let role = find(&roles, "system:public-info-viewer");
    assert_eq!(
        role["rules"],
        json!([{"verbs": ["get"], "nonResourceURLs": ["/healthz", "/livez", "/readyz", "/version", "/version/"]}])
    );
    let bindings = cluster_role_bindings();
    let names: Vec<&Value> = find(&bindings, "system:public-info-viewer")["subjects"]
        .as_array()
        .map(|s| s.iter().map(|x| &x["name"]).collect())
        .unwrap_or_default();
    assert_eq!(
        names,
        [&json!("system:authenticated"), &json!("system:unauthenticated")]
    );
}

#[test]
fn node_bootstrapper_scheduler_and_aggregation() {
    let roles = cluster_roles();
    let nb = find(&roles, "system:node-bootstrapper");
    for verb in ["create", "get", "list", "watch"] {
        assert!(
            has_rule(nb, verb, "certificates.k8s.io", "certificatesigningrequests"),
            "{verb}"
        );
    }
    let sched = find(&roles, "system:kube-scheduler");
    assert!(has_rule(sched, "create", "", "pods/binding"));
    // DynamicResourceAllocation is off by default in v1.33, so the scheduler has no resource.k8s.io rules.
    assert!(!sched.to_string().contains("resource.k8s.io"));
    let admin = find(&roles, "admin");
    assert_eq!(
        admin["aggregationRule"],
        json!({"clusterRoleSelectors": [{"matchLabels": {"rbac.authorization.k8s.io/aggregate-to-admin": "true"}}]})
    );
    assert_eq!(
        find(&roles, "edit")["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-admin"],
        "true"
    );
    assert!(find(&roles, "system:aggregate-to-view")["aggregationRule"].is_null());
}

#[test]
fn every_controller_role_is_bound_to_its_service_account() {
    let bindings = cluster_role_bindings();
    for role in cluster_roles() {
        let name = object_key(&role).1;
        let Some(short) = name.strip_prefix(CONTROLLER_PREFIX) else {
            continue;
        };
        let b = find(&bindings, &name);
        assert_eq!(b["roleRef"]["name"], name.as_str());
        assert_eq!(
            b["subjects"],
            json!([{"kind": "ServiceAccount", "name": short, "namespace": "kube-system"}])
        );
    }
}

#[test]
fn namespaced_policy() {
    let roles = roles();
    let reader = find(&roles, "extension-apiserver-authentication-reader");
    assert_eq!(reader["metadata"]["namespace"], "kube-system");
    assert_eq!(
        reader["rules"][0]["resourceNames"],
        json!(["extension-apiserver-authentication"])
    );
    let public: Vec<&Value> = roles
        .iter()
        .filter(|r| r["metadata"]["namespace"] == "kube-public")
        .collect();
    assert_eq!(public.len(), 1);
    let bindings = role_bindings();
    let b = find(&bindings, "system::extension-apiserver-authentication-reader");
    assert_eq!(
        b["roleRef"],
        json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "extension-apiserver-authentication-reader"})
    );
    for b in &bindings {
        let ns = &b["metadata"]["namespace"];
        assert!(
            roles
                .iter()
                .any(|r| r["metadata"]["name"] == b["roleRef"]["name"] && &r["metadata"]["namespace"] == ns)
        );
    }
}

#[test]
fn reconcile_adds_missing_rule_and_keeps_extra() {
    let roles = cluster_roles();
    let default = find(&roles, "system:node-bootstrapper");
    let extra = json!({"verbs": ["get"], "apiGroups": [""], "resources": ["configmaps"]});
    let mut existing = default.clone();
    existing["rules"] = json!([extra.clone(), {"verbs": ["get", "list"], "apiGroups": ["certificates.k8s.io"], "resources": ["certificatesigningrequests"]}]);
    existing["metadata"]["labels"] = json!({"team": "x"});
    let updated = reconcile(default, &existing).expect("changes expected");
    assert_eq!(updated["rules"][0], extra);
    for verb in ["create", "get", "list", "watch"] {
        assert!(
            has_rule(&updated, verb, "certificates.k8s.io", "certificatesigningrequests"),
            "{verb}"
        );
    }
    assert_eq!(updated["metadata"]["labels"]["team"], "x");
    assert_eq!(
        updated["metadata"]["labels"]["kubernetes.io/bootstrapping"],
        "rbac-defaults"
    );
    assert_eq!(reconcile(default, &updated), None);
    assert_eq!(reconcile(default, default), None);
}

#[test]
fn reconcile_respects_autoupdate_false() {
    let roles = cluster_roles();
    let default = find(&roles, "system:kube-scheduler");
    let mut existing = default.clone();
    existing["rules"] = json!([]);
    existing["metadata"]["annotations"]["rbac.authorization.kubernetes.io/autoupdate"] = json!("false");
    assert_eq!(reconcile(default, &existing), None);
}

#[test]
fn reconcile_covers_wildcards_and_aggregation() {
    let roles = cluster_roles();
    let default = find(&roles, "system:discovery");
    let mut existing = default.clone();
    existing["rules"] = json!([{"verbs": ["*"], "nonResourceURLs": ["/*"]}]);
    assert_eq!(reconcile(default, &existing), None);
    let admin = find(&roles, "admin");
    let mut stored = admin.clone();
    stored["rules"] = json!([{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}]);
    assert_eq!(
        reconcile(admin, &stored),
        None,
        "aggregated rules are left to the aggregation controller"
    );
    stored["aggregationRule"] = json!({"clusterRoleSelectors": [{"matchLabels": {"custom": "true"}}]});
    let updated = reconcile(admin, &stored).expect("selector added");
    assert_eq!(
        updated["aggregationRule"]["clusterRoleSelectors"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
}

#[test]
fn reconcile_binding_adds_subjects() {
    let bindings = cluster_role_bindings();
    let default = find(&bindings, "system:public-info-viewer");
    let user = json!({"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "alice"});
    let mut existing = default.clone();
    existing["subjects"] = json!([user.clone()]);
    let updated = reconcile(default, &existing).expect("subjects added");
    assert_eq!(updated["subjects"].as_array().map(Vec::len), Some(3));
    assert_eq!(updated["subjects"][0], user);
    assert_eq!(reconcile(default, &updated), None);
    let mut protected = existing.clone();
    protected["metadata"]["annotations"]["rbac.authorization.kubernetes.io/autoupdate"] = json!("false");
    assert_eq!(reconcile(default, &protected), None);
}
