//! Tests of the RBAC authorizer, escalation checks, rule reviews, messages and aggregation against a static
//! policy source.

use super::*;
use serde_json::json;

/// A fixed set of RBAC objects.
#[derive(Default)]
struct Static {
    cluster_roles: Vec<Arc<Value>>,
    cluster_role_bindings: Vec<Arc<Value>>,
    roles: Vec<Arc<Value>>,
    role_bindings: Vec<Arc<Value>>,
}

/// The objects in `list` whose `metadata.namespace` is `ns`.
fn in_namespace(list: &[Arc<Value>], ns: &str) -> Vec<Arc<Value>> {
    list.iter()
        .filter(|o| text(o, &["metadata", "namespace"]) == ns)
        .cloned()
        .collect()
}

/// The object in `list` named `name`.
fn named(list: Vec<Arc<Value>>, name: &str) -> Option<Arc<Value>> {
    list.into_iter().find(|o| text(o, &["metadata", "name"]) == name)
}

impl PolicySource for Static {
    fn cluster_roles(&self) -> Vec<Arc<Value>> {
        self.cluster_roles.clone()
    }
    fn cluster_role_bindings(&self) -> Vec<Arc<Value>> {
        self.cluster_role_bindings.clone()
    }
    fn roles(&self, namespace: &str) -> Vec<Arc<Value>> {
        in_namespace(&self.roles, namespace)
    }
    fn role_bindings(&self, namespace: &str) -> Vec<Arc<Value>> {
        in_namespace(&self.role_bindings, namespace)
    }
    fn cluster_role(&self, name: &str) -> Option<Arc<Value>> {
        named(self.cluster_roles.clone(), name)
    }
    fn role(&self, namespace: &str, name: &str) -> Option<Arc<Value>> {
        named(self.roles(namespace), name)
    }
}

impl Static {
    fn cluster_role(mut self, name: &str, rules: Value) -> Self {
        self.cluster_roles
            .push(Arc::new(json!({"metadata": {"name": name}, "rules": rules})));
        self
    }
    fn role(mut self, ns: &str, name: &str, rules: Value) -> Self {
        self.roles.push(Arc::new(
            json!({"metadata": {"name": name, "namespace": ns}, "rules": rules}),
        ));
        self
    }
    /// A ClusterRoleBinding (empty `ns`) or RoleBinding of `kind`/`role` to `subjects`.
    fn binding(mut self, ns: &str, name: &str, kind: &str, role: &str, subjects: Value) -> Self {
        let mut meta = json!({"name": name});
        if !ns.is_empty() {
            meta["namespace"] = json!(ns);
        }
        let roleref = json!({"apiGroup": RBAC_GROUP, "kind": kind, "name": role});
        let b = Arc::new(json!({"metadata": meta, "roleRef": roleref, "subjects": subjects}));
        let list = if ns.is_empty() {
            &mut self.cluster_role_bindings
        } else {
            &mut self.role_bindings
        };
        list.push(b);
        self
    }
}

fn user(name: &str, groups: &[&str]) -> UserInfo {
    UserInfo {
        name: name.into(),
        groups: groups.iter().map(|g| g.to_string()).collect(),
        ..Default::default()
    }
}

fn user_subject(name: &str) -> Value {
    json!([{"kind": "User", "apiGroup": RBAC_GROUP, "name": name}])
}

/// A resource request `verb group/resource[/sub]` in `ns` on `name`.
fn req(u: &UserInfo, verb: &str, ns: &str, group_resource: &str, name: &str) -> Attributes {
    let (group, resource) = group_resource.split_once(':').unwrap_or(("", group_resource));
    let (resource, sub) = resource.split_once('/').unwrap_or((resource, ""));
    Attributes {
        user: u.clone(),
        verb: verb.into(),
        namespace: ns.into(),
        api_group: group.into(),
        api_version: "v1".into(),
        resource: resource.into(),
        subresource: sub.into(),
        name: name.into(),
        resource_request: true,
        ..Default::default()
    }
}

fn url_req(u: &UserInfo, verb: &str, path: &str) -> Attributes {
    Attributes {
        user: u.clone(),
        verb: verb.into(),
        path: path.into(),
        ..Default::default()
    }
}

fn allowed(src: &Static, a: &Attributes) -> bool {
    authorize(src, a) == Decision::Allow
}

#[test]
fn rule_matching_table() {
    let bob = user("bob", &[]);
    let rule = |v: Value| PolicyRule::from_json(&v);
    let cases: Vec<(Value, Attributes, bool)> = vec![
        (
            json!({"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}),
            req(&bob, "get", "d", "pods", ""),
            true,
        ),
        (
            json!({"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}),
            req(&bob, "list", "d", "pods", ""),
            false,
        ),
        (
            json!({"verbs": ["*"], "apiGroups": [""], "resources": ["pods"]}),
            req(&bob, "delete", "d", "pods", ""),
            true,
        ),
        (
            json!({"verbs": ["get"], "apiGroups": ["*"], "resources": ["*"]}),
            req(&bob, "get", "", "apps:deployments", ""),
            true,
        ),
        (
            json!({"verbs": ["get"], "apiGroups": [""], "resources": ["*"]}),
            req(&bob, "get", "", "apps:deployments", ""),
            false,
        ),
        (
            json!({"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}),
            req(&bob, "get", "d", "pods/log", ""),
            false,
        ),
        (
            json!({"verbs": ["get"], "apiGroups": [""], "resources": ["pods/log"]}),
            req(&bob, "get", "d", "pods/log", ""),
            true,
        ),
        (
            json!({"verbs": ["get"], "apiGroups": [""], "resources": ["pods/log"]}),
            req(&bob, "get", "d", "pods", ""),
            false,
        ),
        (
            json!({"verbs": ["get"], "apiGroups": [""], "resources": ["*"]}),
            req(&bob, "get", "d", "pods/log", ""),
            true,
        ),
        (
            json!({"verbs": ["get"], "apiGroups": ["*"], "resources": ["*/scale"]}),
            req(&bob, "get", "d", "apps:deployments/scale", ""),
            true,
        ),
        (
            json!({"verbs": ["get"], "apiGroups": ["*"], "resources": ["*/scale"]}),
            req(&bob, "get", "d", "apps:deployments", ""),
            false,
        ),
        (
            json!({"verbs": ["get"], "apiGroups": ["*"], "resources": ["*/scale"]}),
            req(&bob, "get", "d", "pods/status", ""),
            false,
        ),
        // `pods/*` is not a wildcard: only a literal subresource named `*` would match it.
        (
            json!({"verbs": ["get"], "apiGroups": [""], "resources": ["pods/*"]}),
            req(&bob, "get", "d", "pods/log", ""),
            false,
        ),
        (
            json!({"verbs": ["get"], "apiGroups": [""], "resources": ["pods"], "resourceNames": ["a"]}),
            req(&bob, "get", "d", "pods", "a"),
            true,
        ),
        (
            json!({"verbs": ["get"], "apiGroups": [""], "resources": ["pods"], "resourceNames": ["a"]}),
            req(&bob, "get", "d", "pods", "b"),
            false,
        ),
        (
            json!({"verbs": ["list"], "apiGroups": [""], "resources": ["pods"], "resourceNames": ["a"]}),
            req(&bob, "list", "d", "pods", ""),
            false,
        ),
        (
            json!({"verbs": ["get"], "nonResourceURLs": ["/apis/*"]}),
            url_req(&bob, "get", "/apis/apps/v1"),
            true,
        ),
        (
            json!({"verbs": ["get"], "nonResourceURLs": ["/apis/*"]}),
            url_req(&bob, "get", "/apis"),
            false,
        ),
        (
            json!({"verbs": ["get"], "nonResourceURLs": ["/apis*"]}),
            url_req(&bob, "get", "/apis"),
            true,
        ),
        (
            json!({"verbs": ["get"], "nonResourceURLs": ["*"]}),
            url_req(&bob, "get", "/healthz"),
            true,
        ),
        (
            json!({"verbs": ["get"], "nonResourceURLs": ["/healthz"]}),
            url_req(&bob, "get", "/healthz/etcd"),
            false,
        ),
        (
            json!({"verbs": ["get"], "nonResourceURLs": ["/healthz"]}),
            url_req(&bob, "post", "/healthz"),
            false,
        ),
        (
            json!({"verbs": ["get"], "apiGroups": ["*"], "resources": ["*"]}),
            url_req(&bob, "get", "/healthz"),
            false,
        ),
        (
            json!({"verbs": ["get"], "nonResourceURLs": ["*"]}),
            req(&bob, "get", "d", "pods", ""),
            false,
        ),
    ];
    for (i, (r, a, want)) in cases.iter().enumerate() {
        assert_eq!(rule(r.clone()).allows(a), *want, "case {i}: {r} vs {a:?}");
    }
}

fn pod_reader() -> Value {
    json!([{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]}])
}

#[test]
fn role_and_cluster_role_through_role_bindings() {
    let bob = user("bob", &[]);
    let src = Static::default()
        .role("a", "reader", pod_reader())
        .cluster_role(
            "secret-reader",
            json!([{"verbs": ["get"], "apiGroups": [""], "resources": ["secrets"]}]),
        )
        .binding("a", "rb1", "Role", "reader", user_subject("bob"))
        .binding("a", "rb2", "ClusterRole", "secret-reader", user_subject("bob"));
    assert!(allowed(&src, &req(&bob, "list", "a", "pods", "")));
    assert!(allowed(&src, &req(&bob, "get", "a", "secrets", "s")));
    // A ClusterRole bound by a RoleBinding only grants in that namespace, never cluster-wide.
    assert!(!allowed(&src, &req(&bob, "get", "b", "secrets", "s")));
    assert!(!allowed(&src, &req(&bob, "get", "", "secrets", "s")));
    assert!(!allowed(&src, &req(&bob, "delete", "a", "pods", "p")));
    assert!(!allowed(&src, &req(&user("alice", &[]), "list", "a", "pods", "")));
}

#[test]
fn namespace_isolation_and_cluster_role_bindings() {
    let bob = user("bob", &[]);
    let src = Static::default()
        .role("a", "reader", pod_reader())
        .role("b", "reader", json!([]))
        .cluster_role(
            "node-reader",
            json!([{"verbs": ["get"], "apiGroups": [""], "resources": ["nodes"]}]),
        )
        .binding("a", "rb", "Role", "reader", user_subject("bob"))
        .binding("", "crb", "ClusterRole", "node-reader", user_subject("bob"));
    assert!(allowed(&src, &req(&bob, "list", "a", "pods", "")));
    assert!(!allowed(&src, &req(&bob, "list", "b", "pods", "")));
    assert!(!allowed(&src, &req(&bob, "list", "", "pods", "")));
    assert!(allowed(&src, &req(&bob, "get", "", "nodes", "n1")));
    assert!(allowed(&src, &req(&bob, "get", "b", "nodes", "n1")));
}

#[test]
fn group_subjects() {
    let src = Static::default().cluster_role("view", pod_reader()).binding(
        "",
        "crb",
        "ClusterRole",
        "view",
        json!([{"kind": "Group", "name": "devs"}]),
    );
    assert!(allowed(&src, &req(&user("carol", &["devs"]), "get", "x", "pods", "p")));
    assert!(!allowed(&src, &req(&user("devs", &["ops"]), "get", "x", "pods", "p")));
}

#[test]
fn service_account_subjects() {
    let sa = user(
        "system:serviceaccount:a:builder",
        &["system:serviceaccounts", "system:serviceaccounts:a"],
    );
    let other = user(
        "system:serviceaccount:b:builder",
        &["system:serviceaccounts", "system:serviceaccounts:b"],
    );
    let src = Static::default()
        .role("a", "reader", pod_reader())
        .role("b", "reader", pod_reader())
        .cluster_role(
            "nodes",
            json!([{"verbs": ["get"], "apiGroups": [""], "resources": ["nodes"]}]),
        )
        .cluster_role("urls", json!([{"verbs": ["get"], "nonResourceURLs": ["/metrics"]}]))
        .cluster_role(
            "cm",
            json!([{"verbs": ["get"], "apiGroups": [""], "resources": ["configmaps"]}]),
        )
        // No namespace: the binding's namespace.
        .binding(
            "a",
            "rb",
            "Role",
            "reader",
            json!([{"kind": "ServiceAccount", "name": "builder"}]),
        )
        // Explicit namespace in a RoleBinding of another namespace.
        .binding(
            "b",
            "rb",
            "Role",
            "reader",
            json!([{"kind": "ServiceAccount", "name": "builder", "namespace": "a"}]),
        )
        .binding(
            "",
            "crb",
            "ClusterRole",
            "nodes",
            json!([{"kind": "ServiceAccount", "name": "builder", "namespace": "a"}]),
        )
        // No namespace in a ClusterRoleBinding never matches.
        .binding(
            "",
            "crb2",
            "ClusterRole",
            "urls",
            json!([{"kind": "ServiceAccount", "name": "builder"}]),
        )
        .binding(
            "",
            "crb3",
            "ClusterRole",
            "cm",
            json!([{"kind": "Group", "name": "system:serviceaccounts:a"}]),
        );
    assert!(allowed(&src, &req(&sa, "list", "a", "pods", "")));
    assert!(allowed(&src, &req(&sa, "list", "b", "pods", "")));
    assert!(allowed(&src, &req(&sa, "get", "", "nodes", "n")));
    assert!(!allowed(&src, &url_req(&sa, "get", "/metrics")));
    assert!(allowed(&src, &req(&sa, "get", "z", "configmaps", "c")));
    assert!(!allowed(&src, &req(&other, "list", "b", "pods", "")));
    assert!(!allowed(&src, &req(&other, "get", "", "nodes", "n")));
    assert!(!allowed(&src, &req(&other, "get", "z", "configmaps", "c")));
    assert!(!allowed(
        &src,
        &req(&user("system:serviceaccount:a:builder2", &[]), "list", "a", "pods", "")
    ));
}

#[test]
fn authorize_reasons() {
    let bob = user("bob", &[]);
    let sa = json!([{"kind": "ServiceAccount", "name": "x"}]);
    let src = Static::default()
        .role("a", "reader", pod_reader())
        .binding("a", "rb", "Role", "reader", sa)
        .binding("a", "rb2", "Role", "reader", user_subject("bob"))
        .binding("", "crb", "ClusterRole", "gone", user_subject("bob"))
        .binding("", "crb2", "ClusterRole", "gone2", user_subject("bob"));
    let (d, reason) = authorize_with_reason(&src, &req(&bob, "get", "a", "pods", "p"));
    assert_eq!(d, Decision::Allow);
    assert_eq!(
        reason,
        r#"RBAC: allowed by RoleBinding "rb2/a" of Role "reader" to User "bob""#
    );
    let (d, reason) = authorize_with_reason(&src, &req(&bob, "delete", "a", "pods", "p"));
    assert_eq!(d, Decision::NoOpinion);
    let want = r#"RBAC: [clusterrole.rbac.authorization.k8s.io "gone" not found, clusterrole.rbac.authorization.k8s.io "gone2" not found]"#;
    assert_eq!(reason, want);
    let sa_user = user("system:serviceaccount:a:x", &[]);
    let (_, reason) = authorize_with_reason(&src, &req(&sa_user, "get", "a", "pods", "p"));
    assert_eq!(
        reason,
        r#"RBAC: allowed by RoleBinding "rb/a" of Role "reader" to ServiceAccount "x/a""#
    );
    let (d, reason) = authorize_with_reason(&Static::default(), &req(&bob, "get", "a", "pods", "p"));
    assert_eq!((d, reason.as_str()), (Decision::NoOpinion, ""));
}

#[test]
fn forbidden_message_shapes() {
    let bob = user("bob", &[]);
    let cases = [
        (
            req(&bob, "list", "default", "pods", ""),
            "",
            r#"pods is forbidden: User "bob" cannot list resource "pods" in API group "" in the namespace "default""#,
        ),
        (
            req(&bob, "list", "", "nodes", ""),
            "",
            r#"nodes is forbidden: User "bob" cannot list resource "nodes" in API group "" at the cluster scope"#,
        ),
        (
            req(&bob, "get", "default", "pods", "p"),
            "",
            r#"pods "p" is forbidden: User "bob" cannot get resource "pods" in API group "" in the namespace "default""#,
        ),
        (
            req(&bob, "get", "default", "pods/log", "p"),
            "",
            r#"pods "p" is forbidden: User "bob" cannot get resource "pods/log" in API group "" in the namespace "default""#,
        ),
        (
            url_req(&user("system:anonymous", &[]), "get", "/apis"),
            "",
            r#"forbidden: User "system:anonymous" cannot get path "/apis""#,
        ),
        (
            req(&bob, "create", "ns", "apps:deployments", ""),
            "RBAC: x",
            r#"deployments.apps is forbidden: User "bob" cannot create resource "deployments" in API group "apps" in the namespace "ns": RBAC: x"#,
        ),
    ];
    for (a, reason, want) in cases {
        assert_eq!(forbidden_message(&a, reason), want);
    }
    let odd = url_req(&user("a\"<b>\n", &[]), "get", "/x&y");
    assert_eq!(
        forbidden_message(&odd, ""),
        r#"forbidden: User "a\"&lt;b&gt;\n" cannot get path "/x&amp;y""#
    );
}

/// bob may read pods and configmaps in `a`; eve holds `*` on everything.
fn escalation_src() -> Static {
    Static::default()
        .role("a", "reader", json!([{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods", "configmaps"]}]))
        .cluster_role("admin", json!([{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}, {"verbs": ["*"], "nonResourceURLs": ["*"]}]))
        .cluster_role("escalator", json!([{"verbs": ["escalate"], "apiGroups": [RBAC_GROUP], "resources": ["roles"]}]))
        .cluster_role("secret-reader", json!([{"verbs": ["get", "list", "watch"], "apiGroups": [""], "resources": ["secrets"]}]))
        .cluster_role("binder", json!([{"verbs": ["bind"], "apiGroups": [RBAC_GROUP], "resources": ["clusterroles"], "resourceNames": ["secret-reader"]}]))
        .binding("a", "rb", "Role", "reader", user_subject("bob"))
        .binding("", "eve", "ClusterRole", "admin", user_subject("eve"))
        .binding("a", "esc", "ClusterRole", "escalator", user_subject("carl"))
        .binding("a", "bind", "ClusterRole", "binder", user_subject("dana"))
}

#[test]
fn escalation_refused_for_rules_not_held() {
    let src = escalation_src();
    let bob = user("bob", &["system:authenticated", "devs"]);
    let held = [json!({"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]})];
    assert_eq!(confirm_no_escalation(&src, &bob, "a", &held), Ok(()));
    let wanted = [
        json!({"verbs": ["get", "list"], "apiGroups": [""], "resources": ["secrets", "pods"]}),
        json!({"verbs": ["get"], "nonResourceURLs": ["/x"]}),
    ];
    let err = confirm_no_escalation(&src, &bob, "a", &wanted).unwrap_err();
    let want = "user \"bob\" (groups=[\"system:authenticated\" \"devs\"]) is attempting to grant RBAC permissions not currently held:\n\
                {APIGroups:[\"\"], Resources:[\"secrets\"], Verbs:[\"get\" \"list\"]}\n{NonResourceURLs:[\"/x\"], Verbs:[\"get\"]}";
    assert_eq!(err, want);
    // Namespace-scoped permissions do not cover cluster-wide rules.
    assert!(confirm_no_escalation(&src, &bob, "", &held).is_err());
    assert!(confirm_no_escalation(&src, &bob, "b", &held).is_err());
    // Resource names: holding a name does not cover all names, holding all covers a name.
    let named = [json!({"verbs": ["get"], "apiGroups": [""], "resources": ["pods"], "resourceNames": ["p"]})];
    assert_eq!(confirm_no_escalation(&src, &bob, "a", &named), Ok(()));
    let err = confirm_no_escalation(
        &src,
        &bob,
        "a",
        &[json!({"verbs": ["get"], "apiGroups": [""], "resources": ["pods/log"]})],
    );
    assert!(err.is_err_and(|e| e.ends_with("{APIGroups:[\"\"], Resources:[\"pods/log\"], Verbs:[\"get\"]}")));
    assert_eq!(confirm_no_escalation(&src, &user("eve", &[]), "", &wanted), Ok(()));
}

#[test]
fn covers_subresource_wildcards_and_resolution_errors() {
    let src = Static::default()
        .cluster_role("scaler", json!([{"verbs": ["update"], "apiGroups": ["apps"], "resources": ["*/scale"], "resourceNames": ["x", "y"]}]))
        .binding("", "crb", "ClusterRole", "scaler", user_subject("bob"))
        .binding("", "crb2", "ClusterRole", "missing", user_subject("bob"));
    let bob = user("bob", &[]);
    let ok = [
        json!({"verbs": ["update"], "apiGroups": ["apps"], "resources": ["deployments/scale"], "resourceNames": ["y"]}),
    ];
    assert_eq!(confirm_no_escalation(&src, &bob, "", &ok), Ok(()));
    let all_names = [json!({"verbs": ["update"], "apiGroups": ["apps"], "resources": ["deployments/scale"]})];
    let err = confirm_no_escalation(&src, &bob, "", &all_names).unwrap_err();
    assert!(
        err.ends_with(r#"; resolution errors: [clusterroles.rbac.authorization.k8s.io "missing" not found]"#),
        "{err}"
    );
}

/// The authorizer as the server would pass it to the escalation checks.
fn authorizer(src: &Static) -> impl Fn(&Attributes) -> bool + '_ {
    move |a| allowed(src, a)
}

fn role_write<'a>(u: &'a UserInfo, ns: &'a str, role: &'a Value, old: Option<&'a Value>) -> RoleWrite<'a> {
    RoleWrite {
        user: u,
        namespace: ns,
        url_name: "",
        role,
        old_role: old,
    }
}

#[test]
fn role_writes_with_escalate_masters_and_gc_only_updates() {
    let src = escalation_src();
    let secrets = json!({"metadata": {"name": "r", "namespace": "a"}, "rules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["secrets"]}]});
    let (bob, carl) = (user("bob", &[]), user("carl", &[]));
    assert!(may_write_role(&src, &role_write(&bob, "a", &secrets, None), &authorizer(&src)).is_err());
    assert_eq!(
        may_write_role(&src, &role_write(&carl, "a", &secrets, None), &authorizer(&src)),
        Ok(())
    );
    // The escalate grant is on roles in namespace a only.
    assert!(may_write_role(&src, &role_write(&carl, "b", &secrets, None), &authorizer(&src)).is_err());
    let master = user("m", &["system:masters"]);
    assert_eq!(
        may_write_role(&src, &role_write(&master, "b", &secrets, None), &|_| false),
        Ok(())
    );
    let mut gc_only = secrets.clone();
    gc_only["metadata"]["finalizers"] = json!(["x"]);
    assert_eq!(
        may_write_role(&src, &role_write(&bob, "a", &gc_only, Some(&secrets)), &|_| false),
        Ok(())
    );
}

#[test]
fn aggregation_rule_needs_full_authority() {
    let src = escalation_src();
    let agg = json!({"metadata": {"name": "agg"}, "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"a": "b"}}]}, "rules": []});
    let bob = user("bob", &[]);
    let err = may_write_role(&src, &role_write(&bob, "", &agg, None), &|_| false);
    assert_eq!(
        err,
        Err("must have cluster-admin privileges to use the aggregationRule".to_owned())
    );
    let eve = user("eve", &[]);
    assert_eq!(
        may_write_role(&src, &role_write(&eve, "", &agg, None), &|_| false),
        Ok(())
    );
    let plain = json!({"metadata": {"name": "agg"}, "rules": []});
    assert!(may_write_role(&src, &role_write(&bob, "", &plain, Some(&agg)), &|_| false).is_err());
    assert_eq!(
        may_write_role(&src, &role_write(&bob, "", &plain, None), &|_| false),
        Ok(())
    );
}

#[test]
fn binding_checks() {
    let src = escalation_src();
    let secret_reader = json!({"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": "secret-reader"});
    let reader = json!({"apiGroup": RBAC_GROUP, "kind": "Role", "name": "reader"});
    let (bob, dana) = (user("bob", &[]), user("dana", &[]));
    // bob holds everything in `reader`.
    assert_eq!(may_bind(&src, &bob, "a", &reader, &authorizer(&src)), Ok(()));
    let err = may_bind(&src, &bob, "a", &secret_reader, &authorizer(&src)).unwrap_err();
    assert!(
        err.starts_with("user \"bob\" (groups=[]) is attempting to grant"),
        "{err}"
    );
    // dana may `bind` secret-reader in namespace a, but not in b nor cluster-wide.
    assert_eq!(may_bind(&src, &dana, "a", &secret_reader, &authorizer(&src)), Ok(()));
    assert!(may_bind(&src, &dana, "b", &secret_reader, &authorizer(&src)).is_err());
    assert!(may_bind(&src, &dana, "", &secret_reader, &authorizer(&src)).is_err());
    let master = user("m", &["system:masters"]);
    assert_eq!(may_bind(&src, &master, "", &secret_reader, &|_| false), Ok(()));
    let missing = json!({"apiGroup": RBAC_GROUP, "kind": "Role", "name": "nope"});
    let err = may_bind(&src, &bob, "a", &missing, &authorizer(&src));
    assert_eq!(
        err,
        Err(r#"roles.rbac.authorization.k8s.io "nope" not found"#.to_owned())
    );
    let seen = std::cell::RefCell::new(None);
    let record = |a: &Attributes| {
        seen.replace(Some(a.clone()));
        false
    };
    let _ = may_bind(&src, &bob, "a", &secret_reader, &record);
    let a = seen.take().unwrap();
    let got = (
        a.verb.as_str(),
        a.resource.as_str(),
        a.name.as_str(),
        a.namespace.as_str(),
        a.api_version.as_str(),
    );
    assert_eq!(got, ("bind", "clusterroles", "secret-reader", "a", "*"));
}

#[test]
fn rules_for_review() {
    let src = Static::default()
        .role("a", "reader", json!([{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"], "resourceNames": ["p"]}]))
        .cluster_role("mixed", json!([{"verbs": ["get"], "nonResourceURLs": ["/healthz", "/version"]}, {"verbs": ["list"], "apiGroups": ["apps"], "resources": ["deployments"]}]))
        .binding("", "crb", "ClusterRole", "mixed", json!([{"kind": "Group", "name": "system:authenticated"}]))
        .binding("a", "rb", "Role", "reader", user_subject("bob"))
        .binding("a", "rb2", "Role", "gone", user_subject("bob"));
    let bob = user("bob", &["system:authenticated"]);
    let (resource, non_resource, incomplete) = rules_for(&src, &bob, "a");
    assert_eq!(
        Value::Array(resource),
        json!([
            {"verbs": ["list"], "apiGroups": ["apps"], "resources": ["deployments"]},
            {"verbs": ["get"], "apiGroups": [""], "resources": ["pods"], "resourceNames": ["p"]},
        ])
    );
    assert_eq!(
        Value::Array(non_resource),
        json!([{"verbs": ["get"], "nonResourceURLs": ["/healthz", "/version"]}])
    );
    assert!(!incomplete);
    let status = rules_review_status(&src, &bob, "a");
    assert_eq!(
        status["evaluationError"],
        json!(r#"role.rbac.authorization.k8s.io "gone" not found"#)
    );
    assert_eq!(status["incomplete"], json!(false));
    let (resource, _, _) = rules_for(&src, &bob, "b");
    assert_eq!(resource.len(), 1);
    assert!(rules_review_status(&src, &bob, "b").get("evaluationError").is_none());
}

fn labeled(name: &str, labels: Value, rules: Value) -> Arc<Value> {
    Arc::new(json!({"metadata": {"name": name, "labels": labels}, "rules": rules}))
}

#[test]
fn aggregation() {
    let get_pods = json!({"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]});
    let list_svc = json!({"apiGroups": [""], "resources": ["services"], "verbs": ["list"]});
    let agg = json!({"metadata": {"name": "agg", "labels": {"x": "y"}}, "aggregationRule": {"clusterRoleSelectors": [
        {"matchLabels": {"x": "y"}},
        {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]}, {"key": "skip", "operator": "DoesNotExist"}]},
    ]}, "rules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}]});
    let all = vec![
        Arc::new(agg.clone()),
        labeled("z-role", json!({"x": "y"}), json!([get_pods.clone()])),
        labeled("b-role", json!({"x": "y"}), json!([list_svc.clone(), get_pods.clone()])),
        labeled(
            "tier-a",
            json!({"tier": "a"}),
            json!([{"verbs": ["watch"], "nonResourceURLs": ["/w"]}, get_pods.clone()]),
        ),
        labeled(
            "tier-skip",
            json!({"tier": "a", "skip": ""}),
            json!([{"verbs": ["delete"], "apiGroups": [""], "resources": ["x"]}]),
        ),
        labeled(
            "tier-c",
            json!({"tier": "c"}),
            json!([{"verbs": ["delete"], "apiGroups": [""], "resources": ["y"]}]),
        ),
    ];
    let want = json!([
        {"verbs": ["list"], "apiGroups": [""], "resources": ["services"]},
        {"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]},
        {"verbs": ["watch"], "nonResourceURLs": ["/w"]},
    ]);
    assert_eq!(aggregate(&agg, &all), Some(want));
    assert_eq!(aggregate(&json!({"metadata": {"name": "p"}, "rules": []}), &all), None);
    let no_selectors = json!({"metadata": {"name": "e"}, "aggregationRule": {}});
    assert_eq!(aggregate(&no_selectors, &all), Some(json!([])));
    let bad = json!({"metadata": {"name": "e"}, "aggregationRule": {"clusterRoleSelectors": [{"matchExpressions": [{"key": "k", "operator": "In"}]}]}});
    assert_eq!(aggregate(&bad, &all), None);
    let everything = json!({"metadata": {"name": "e"}, "aggregationRule": {"clusterRoleSelectors": [{}]}});
    // Every other role, `agg` (and its `*` rule) included: 5 distinct rules plus agg's.
    assert_eq!(
        aggregate(&everything, &all).and_then(|v| v.as_array().map(Vec::len)),
        Some(6)
    );
}

#[test]
fn selector_operators() {
    let labels = json!({"a": "1", "b": "2"});
    let sel = |s: Value| selector_matches(&s, &labels);
    assert_eq!(sel(json!({"matchLabels": {"a": "1", "b": "2"}})), Some(true));
    assert_eq!(sel(json!({"matchLabels": {"a": "2"}})), Some(false));
    assert_eq!(
        sel(json!({"matchExpressions": [{"key": "c", "operator": "NotIn", "values": ["1"]}]})),
        Some(true)
    );
    assert_eq!(
        sel(json!({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["1"]}]})),
        Some(false)
    );
    assert_eq!(
        sel(json!({"matchExpressions": [{"key": "a", "operator": "Exists"}]})),
        Some(true)
    );
    assert_eq!(
        sel(json!({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["1"]}]})),
        None
    );
    assert_eq!(
        sel(json!({"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]})),
        None
    );
}
