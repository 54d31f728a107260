//! RBAC default bootstrap policy of Kubernetes v1.33 (default feature gates): the ClusterRoles, ClusterRoleBindings,
//! Roles and RoleBindings the API server ensures at startup, plus upstream's reconciliation of a default object
//! against the stored one. The data lives in `data/*.yaml` in a compact format of our own and is expanded here into
//! complete `rbac.authorization.k8s.io/v1` objects.

mod reconcile;
#[cfg(test)]
mod tests;

use std::sync::LazyLock;

use serde_json::{Map, Value, json};

pub use reconcile::reconcile;

const API_VERSION: &str = "rbac.authorization.k8s.io/v1";
const RBAC_GROUP: &str = "rbac.authorization.k8s.io";
const CONTROLLER_PREFIX: &str = "system:controller:";
const BOOTSTRAP_LABEL: &str = "kubernetes.io/bootstrapping";
const AUTOUPDATE_ANNOTATION: &str = "rbac.authorization.kubernetes.io/autoupdate";

const CLUSTER_ROLES_YAML: &str = include_str!("data/cluster_roles.yaml");
const CONTROLLER_ROLES_YAML: &str = include_str!("data/controller_roles.yaml");
const BINDINGS_YAML: &str = include_str!("data/bindings.yaml");
const NAMESPACED_YAML: &str = include_str!("data/namespaced.yaml");

/// The expanded default policy, built once from the embedded data.
struct Policy {
    cluster_roles: Vec<Value>,
    cluster_role_bindings: Vec<Value>,
    roles: Vec<Value>,
    role_bindings: Vec<Value>,
}

static POLICY: LazyLock<Policy> = LazyLock::new(build_policy);

/// Every default ClusterRole (including the `system:controller:*` roles), sorted by name like upstream's testdata.
pub fn cluster_roles() -> Vec<Value> {
    POLICY.cluster_roles.clone()
}

/// Every default ClusterRoleBinding (including one per controller role), sorted by name.
pub fn cluster_role_bindings() -> Vec<Value> {
    POLICY.cluster_role_bindings.clone()
}

/// The namespaced default Roles (kube-system, kube-public), each with `metadata.namespace`.
pub fn roles() -> Vec<Value> {
    POLICY.roles.clone()
}

/// The namespaced default RoleBindings (kube-system, kube-public), each with `metadata.namespace`.
pub fn role_bindings() -> Vec<Value> {
    POLICY.role_bindings.clone()
}

fn parse(name: &str, text: &str) -> Value {
    serde_saphyr::from_str::<Value>(text).unwrap_or_else(|e| panic!("embedded RBAC policy {name} is invalid: {e}"))
}

fn build_policy() -> Policy {
    let base = parse("cluster_roles.yaml", CLUSTER_ROLES_YAML);
    let controllers = parse("controller_roles.yaml", CONTROLLER_ROLES_YAML);
    let bindings = parse("bindings.yaml", BINDINGS_YAML);
    let namespaced = parse("namespaced.yaml", NAMESPACED_YAML);
    let mut cluster_roles: Vec<Value> = items(&base)
        .iter()
        .map(|e| role_object("ClusterRole", e, None))
        .collect();
    let mut cluster_role_bindings: Vec<Value> = items(&bindings)
        .iter()
        .map(|e| binding_object("ClusterRoleBinding", e, None))
        .collect();
    for entry in items(&controllers) {
        let (role, binding) = controller_objects(entry);
        cluster_roles.push(role);
        cluster_role_bindings.push(binding);
    }
    sort_by_name(&mut cluster_roles);
    sort_by_name(&mut cluster_role_bindings);
    Policy {
        cluster_roles,
        cluster_role_bindings,
        roles: namespaced_objects(&namespaced, "roles", "Role"),
        role_bindings: namespaced_objects(&namespaced, "bindings", "RoleBinding"),
    }
}

fn items(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or_default()
}

fn str_field<'a>(entry: &'a Value, key: &str) -> &'a str {
    entry.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn strings(entry: &Value, key: &str) -> Vec<String> {
    items(entry.get(key).unwrap_or(&Value::Null))
        .iter()
        .filter_map(|s| s.as_str().map(str::to_owned))
        .collect()
}

fn sort_by_name(objects: &mut [Value]) {
    objects.sort_by_key(object_key);
}

fn object_key(o: &Value) -> (String, String) {
    let meta = o.get("metadata").unwrap_or(&Value::Null);
    (
        str_field(meta, "namespace").to_owned(),
        str_field(meta, "name").to_owned(),
    )
}

/// `metadata` with the bootstrapping label (plus `extra` labels) and the autoupdate annotation.
fn metadata(name: &str, namespace: Option<&str>, extra: Option<&Value>) -> Value {
    let mut meta = Map::new();
    meta.insert("name".into(), json!(name));
    if let Some(ns) = namespace {
        meta.insert("namespace".into(), json!(ns));
    }
    let mut labels = Map::new();
    labels.insert(BOOTSTRAP_LABEL.into(), json!("rbac-defaults"));
    if let Some(Value::Object(extra)) = extra {
        labels.extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    meta.insert("labels".into(), Value::Object(labels));
    meta.insert("annotations".into(), json!({ AUTOUPDATE_ANNOTATION: "true" }));
    Value::Object(meta)
}

fn role_object(kind: &str, entry: &Value, namespace: Option<&str>) -> Value {
    let mut obj = Map::new();
    obj.insert("apiVersion".into(), json!(API_VERSION));
    obj.insert("kind".into(), json!(kind));
    obj.insert(
        "metadata".into(),
        metadata(str_field(entry, "name"), namespace, entry.get("labels")),
    );
    let selectors: Vec<Value> = strings(entry, "aggregate")
        .into_iter()
        .map(|k| json!({ "matchLabels": { k: "true" } }))
        .collect();
    if !selectors.is_empty() {
        obj.insert("aggregationRule".into(), json!({ "clusterRoleSelectors": selectors }));
    }
    obj.insert(
        "rules".into(),
        Value::Array(
            items(entry.get("rules").unwrap_or(&Value::Null))
                .iter()
                .map(rule)
                .collect(),
        ),
    );
    Value::Object(obj)
}

/// Expands one rule of the data format (`events` or a `{v, g, r, n, u}` map) into a v1 PolicyRule.
fn rule(entry: &Value) -> Value {
    if entry.as_str() == Some("events") {
        return json!({ "verbs": ["create", "patch", "update"], "apiGroups": ["", "events.k8s.io"],
            "resources": ["events"] });
    }
    let mut out = Map::new();
    for (short, key) in [
        ("v", "verbs"),
        ("g", "apiGroups"),
        ("r", "resources"),
        ("n", "resourceNames"),
        ("u", "nonResourceURLs"),
    ] {
        let mut values = strings(entry, short);
        values.sort();
        values.dedup();
        if !values.is_empty() {
            out.insert(key.into(), json!(values));
        }
    }
    Value::Object(out)
}

fn binding_object(kind: &str, entry: &Value, namespace: Option<&str>) -> Value {
    let name = str_field(entry, "name");
    let role = entry.get("role").and_then(Value::as_str).unwrap_or(name);
    let role_kind = if kind == "RoleBinding" { "Role" } else { "ClusterRole" };
    let mut obj = Map::new();
    obj.insert("apiVersion".into(), json!(API_VERSION));
    obj.insert("kind".into(), json!(kind));
    obj.insert("metadata".into(), metadata(name, namespace, None));
    obj.insert(
        "roleRef".into(),
        json!({ "apiGroup": RBAC_GROUP, "kind": role_kind, "name": role }),
    );
    let subjects = subjects(entry);
    if !subjects.is_empty() {
        obj.insert("subjects".into(), Value::Array(subjects));
    }
    Value::Object(obj)
}

/// Subjects in upstream's order: users, then groups, then service accounts.
fn subjects(entry: &Value) -> Vec<Value> {
    let named = |kind: &str, key: &str| -> Vec<Value> {
        strings(entry, key)
            .into_iter()
            .map(|n| json!({ "kind": kind, "apiGroup": RBAC_GROUP, "name": n }))
            .collect()
    };
    let mut out = named("User", "users");
    out.extend(named("Group", "groups"));
    out.extend(strings(entry, "sas").iter().map(|sa| service_account(sa)));
    out
}

fn service_account(ns_name: &str) -> Value {
    let (namespace, name) = ns_name.split_once('/').unwrap_or(("", ns_name));
    json!({ "kind": "ServiceAccount", "name": name, "namespace": namespace })
}

/// A controller role (`system:controller:<name>`) and its binding to the kube-system ServiceAccount `<name>`.
fn controller_objects(entry: &Value) -> (Value, Value) {
    let short = str_field(entry, "name");
    let full = format!("{CONTROLLER_PREFIX}{short}");
    let mut named = entry.clone();
    if let Some(obj) = named.as_object_mut() {
        obj.insert("name".into(), json!(full));
    }
    let binding = json!({ "name": full, "sas": [format!("kube-system/{short}")] });
    (
        role_object("ClusterRole", &named, None),
        binding_object("ClusterRoleBinding", &binding, None),
    )
}

fn namespaced_objects(data: &Value, section: &str, kind: &str) -> Vec<Value> {
    let entries = items(data.get(section).unwrap_or(&Value::Null));
    let mut out: Vec<Value> = entries
        .iter()
        .map(|e| {
            let ns = Some(str_field(e, "namespace"));
            if kind == "Role" {
                role_object(kind, e, ns)
            } else {
                binding_object(kind, e, ns)
            }
        })
        .collect();
    sort_by_name(&mut out);
    out
}
