//! Unit tests of the three-way (apply) and two-way (edit, set) patches over a small OpenAPI v3
//! document shaped like the server's (Deployment → PodTemplateSpec → PodSpec → Container).

use super::schema::Schema;
use super::three_way;
use serde_json::{Value, json};

fn doc() -> Value {
    let r = |n: &str| json!({"allOf": [{"$ref": format!("#/components/schemas/{n}")}], "default": {}});
    json!({"components": {"schemas": {
        "Deployment": {"type": "object", "x-kubernetes-group-version-kind": [{"group": "apps", "version": "v1", "kind": "Deployment"}],
            "properties": {"metadata": r("ObjectMeta"), "spec": r("DeploymentSpec")}},
        "ObjectMeta": {"properties": {
            "labels": {"type": "object"},
            "finalizers": {"type": "array", "items": {"type": "string"}, "x-kubernetes-patch-strategy": "merge"}}},
        "DeploymentSpec": {"properties": {"template": r("PodTemplateSpec"), "replicas": {"type": "integer"}}},
        "PodTemplateSpec": {"properties": {"metadata": r("ObjectMeta"), "spec": r("PodSpec")}},
        "PodSpec": {"properties": {
            "containers": {"type": "array", "items": r("Container"), "x-kubernetes-patch-merge-key": "name", "x-kubernetes-patch-strategy": "merge"},
            "tolerations": {"type": "array", "items": {"type": "object"}}}},
        "Container": {"properties": {
            "args": {"type": "array", "items": {"type": "string"}},
            "env": {"type": "array", "items": {"type": "object"}, "x-kubernetes-patch-merge-key": "name", "x-kubernetes-patch-strategy": "merge"},
            "ports": {"type": "array", "items": {"type": "object"}, "x-kubernetes-patch-merge-key": "containerPort", "x-kubernetes-patch-strategy": "merge"}}}
    }}})
}

fn deploy(containers: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 1, "template": {"spec": {"containers": containers}}}})
}

fn patch(original: &Value, modified: &Value, current: &Value) -> Value {
    let d = doc();
    let s = Schema::for_kind(&d, "apps", "v1", "Deployment");
    assert!(s.is_some());
    Value::Object(three_way(original, modified, current, s))
}

#[test]
fn removed_field_is_deleted() {
    let o = json!({"metadata": {"labels": {"a": "1", "b": "2"}}, "data": {"x": "1", "y": "2"}});
    let m = json!({"metadata": {"labels": {"a": "1"}}, "data": {"x": "1"}});
    let c = json!({"metadata": {"labels": {"a": "1", "b": "2", "other": "3"}}, "data": {"x": "1", "y": "2"}});
    assert_eq!(
        patch(&o, &m, &c),
        json!({"metadata": {"labels": {"b": null}}, "data": {"y": null}})
    );
}

#[test]
fn field_of_another_actor_survives() {
    let o = json!({"metadata": {"labels": {"a": "1"}}, "data": {"x": "1"}});
    let m = json!({"metadata": {"labels": {"a": "2"}}, "data": {"x": "1"}});
    let c = json!({"metadata": {"labels": {"a": "1", "team": "blue"}}, "data": {"x": "1", "extra": "z"}});
    assert_eq!(patch(&o, &m, &c), json!({"metadata": {"labels": {"a": "2"}}}));
}

#[test]
fn unchanged_is_empty() {
    let o = deploy(json!([{"name": "main", "image": "nginx"}]));
    let c = deploy(json!([{"name": "main", "image": "nginx", "imagePullPolicy": "Always"}]));
    assert_eq!(patch(&o, &o, &c), json!({}));
}

#[test]
fn containers_merge_by_name() {
    let o = deploy(json!([{"name": "main", "image": "nginx:1"}, {"name": "side", "image": "busybox"}]));
    let m = deploy(json!([{"name": "main", "image": "nginx:2"}]));
    let c = deploy(json!([
        {"name": "main", "image": "nginx:1", "terminationMessagePath": "/dev/x"},
        {"name": "side", "image": "busybox"}
    ]));
    assert_eq!(
        patch(&o, &m, &c),
        json!({"spec": {"template": {"spec": {
            "containers": [{"name": "side", "$patch": "delete"}, {"name": "main", "image": "nginx:2"}],
            "$setElementOrder/containers": [{"name": "main"}]
        }}}})
    );
}

#[test]
fn new_container_is_added_whole() {
    let o = deploy(json!([{"name": "main", "image": "nginx"}]));
    let m = deploy(json!([{"name": "main", "image": "nginx"}, {"name": "log", "image": "busybox"}]));
    assert_eq!(
        patch(&o, &m, &o),
        json!({"spec": {"template": {"spec": {
            "containers": [{"name": "log", "image": "busybox"}],
            "$setElementOrder/containers": [{"name": "main"}, {"name": "log"}]
        }}}})
    );
}

#[test]
fn ports_and_env_merge_by_key() {
    let o = deploy(json!([{"name": "main", "image": "nginx",
        "ports": [{"containerPort": 80}, {"containerPort": 443}], "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}]));
    let m = deploy(json!([{"name": "main", "image": "nginx",
        "ports": [{"containerPort": 80}], "env": [{"name": "A", "value": "1"}]}]));
    let c = deploy(json!([{"name": "main", "image": "nginx",
        "ports": [{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 443, "protocol": "TCP"}],
        "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}]));
    assert_eq!(
        patch(&o, &m, &c),
        json!({"spec": {"template": {"spec": {
            "containers": [{"name": "main",
                "ports": [{"containerPort": 443, "$patch": "delete"}],
                "$setElementOrder/ports": [{"containerPort": 80}],
                "env": [{"name": "B", "$patch": "delete"}],
                "$setElementOrder/env": [{"name": "A"}]}],
            "$setElementOrder/containers": [{"name": "main"}]
        }}}})
    );
}

#[test]
fn lists_without_strategy_are_replaced() {
    let o = deploy(json!([{"name": "main", "image": "nginx", "args": ["a", "b"]}]));
    let m = deploy(json!([{"name": "main", "image": "nginx", "args": ["a", "c"]}]));
    assert_eq!(
        patch(&o, &m, &o),
        json!({"spec": {"template": {"spec": {
            "containers": [{"name": "main", "args": ["a", "c"]}],
            "$setElementOrder/containers": [{"name": "main"}]
        }}}})
    );
    let mut o2 = deploy(json!([{"name": "main"}]));
    o2["spec"]["template"]["spec"]["tolerations"] = json!([{"key": "a"}, {"key": "b"}]);
    let mut m2 = o2.clone();
    m2["spec"]["template"]["spec"]["tolerations"] = json!([{"key": "b"}]);
    assert_eq!(
        patch(&o2, &m2, &o2),
        json!({"spec": {"template": {"spec": {"tolerations": [{"key": "b"}]}}}})
    );
}

#[test]
fn primitive_merge_list() {
    let o = json!({"metadata": {"finalizers": ["a", "b"]}});
    let m = json!({"metadata": {"finalizers": ["a", "c"]}});
    let c = json!({"metadata": {"finalizers": ["a", "b", "x"]}});
    let d = doc();
    let s = Schema::for_kind(&d, "apps", "v1", "Deployment");
    assert_eq!(
        Value::Object(three_way(&o, &m, &c, s)),
        json!({"metadata": {
            "finalizers": ["c"],
            "$deleteFromPrimitiveList/finalizers": ["b"],
            "$setElementOrder/finalizers": ["a", "c"]
        }})
    );
}

#[test]
fn without_schema_lists_are_atomic() {
    let o = json!({"spec": {"items": [{"name": "a"}, {"name": "b"}], "x": 1}});
    let m = json!({"spec": {"items": [{"name": "a"}]}});
    assert_eq!(
        Value::Object(three_way(&o, &m, &o, None)),
        json!({"spec": {"items": [{"name": "a"}], "x": null}})
    );
}

fn two(original: &Value, modified: &Value) -> Value {
    let d = doc();
    Value::Object(super::two_way(
        original,
        modified,
        Schema::for_kind(&d, "apps", "v1", "Deployment"),
    ))
}

/// The patch upstream's `set env B=2` sends (seen on the wire): a changed item carries its
/// key, the lists their order.
#[test]
fn two_way_env_addition_as_upstream_sends_it() {
    let o = deploy(json!([{"name": "main", "env": [{"name": "A", "value": "1"}]}, {"name": "side"}]));
    let m = deploy(json!([
        {"name": "main", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
        {"name": "side", "env": [{"name": "B", "value": "2"}]}
    ]));
    assert_eq!(
        json_text(&two(&o, &m)),
        r#"{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"main"},{"name":"side"}],"containers":[{"$setElementOrder/env":[{"name":"A"},{"name":"B"}],"env":[{"name":"B","value":"2"}],"name":"main"},{"env":[{"name":"B","value":"2"}],"name":"side"}]}}}}"#
    );
}

#[test]
fn two_way_deletions_reorders_and_scalars() {
    let o = deploy(json!([{"name": "a", "image": "x"}, {"name": "b"}, {"name": "c"}]));
    let m = deploy(json!([{"name": "c"}, {"name": "a", "image": "y"}]));
    assert_eq!(
        two(&o, &m)["spec"]["template"]["spec"],
        json!({
            "containers": [{"name": "a", "image": "y"}, {"name": "b", "$patch": "delete"}],
            "$setElementOrder/containers": [{"name": "c"}, {"name": "a"}]
        })
    );
    // Only the order changed.
    let o = deploy(json!([{"name": "a"}, {"name": "b"}]));
    let m = deploy(json!([{"name": "b"}, {"name": "a"}]));
    assert_eq!(
        two(&o, &m)["spec"]["template"]["spec"],
        json!({"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}]})
    );
    let o = json!({"metadata": {"finalizers": ["x", "y"], "labels": {"a": "1"}}});
    let m = json!({"metadata": {"finalizers": ["y", "z"]}});
    assert_eq!(
        two(&o, &m),
        json!({"metadata": {
            "finalizers": ["z"],
            "$deleteFromPrimitiveList/finalizers": ["x"],
            "$setElementOrder/finalizers": ["y", "z"],
            "labels": null
        }})
    );
    assert_eq!(two(&m, &m), json!({}));
}

fn json_text(v: &Value) -> String {
    crate::printers::json::to_compact(v)
}
