//! Strategic merge patch cases, after upstream's strategicpatch tests, plus a real kubectl capture.

use serde_json::{Value, json};

use super::schema::TestSchema;
use crate::patch::{PatchError, strategic_merge};

fn pod_spec(spec: Value) -> Value {
    json!({"spec": spec})
}

fn run(original: &Value, patch: &Value) -> Result<Value, PatchError> {
    strategic_merge(original, patch, &TestSchema::new(), "Pod")
}

struct Case {
    name: &'static str,
    original: Value,
    patch: Value,
    expected: Value,
}

fn cases() -> Vec<Case> {
    let c = |name, original, patch, expected| Case {
        name,
        original,
        patch,
        expected,
    };
    let two = || json!([{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}]);
    vec![
        c(
            "maps merge key by key",
            json!({"metadata": {"labels": {"a": "1", "b": "2"}}}),
            json!({"metadata": {"labels": {"b": "3", "c": "4"}}}),
            json!({"metadata": {"labels": {"a": "1", "b": "3", "c": "4"}}}),
        ),
        c(
            "null deletes a key",
            json!({"metadata": {"labels": {"a": "1", "b": "2"}}}),
            json!({"metadata": {"labels": {"a": null}}}),
            json!({"metadata": {"labels": {"b": "2"}}}),
        ),
        c(
            "null for an absent key is dropped",
            json!({"metadata": {"name": "x"}}),
            json!({"metadata": {"labels": {"a": null}, "annotations": null}}),
            json!({"metadata": {"name": "x", "labels": {}}}),
        ),
        c(
            "$patch replace in a map",
            json!({"metadata": {"labels": {"a": "1", "b": "2"}}}),
            json!({"metadata": {"labels": {"$patch": "replace", "c": "3"}}}),
            json!({"metadata": {"labels": {"c": "3"}}}),
        ),
        c(
            "$patch delete in a map empties it",
            json!({"metadata": {"labels": {"a": "1"}, "name": "x"}}),
            json!({"metadata": {"labels": {"$patch": "delete"}}}),
            json!({"metadata": {"labels": {}, "name": "x"}}),
        ),
        c(
            "list without strategy is replaced",
            pod_spec(json!({"containers": [{"name": "a", "args": ["1", "2"]}]})),
            pod_spec(json!({"containers": [{"name": "a", "args": ["3"]}]})),
            pod_spec(json!({"containers": [{"name": "a", "args": ["3"]}]})),
        ),
        c(
            "tolerations are replaced whole",
            pod_spec(json!({"tolerations": [{"key": "a"}, {"key": "b"}]})),
            pod_spec(json!({"tolerations": [{"key": "c"}]})),
            pod_spec(json!({"tolerations": [{"key": "c"}]})),
        ),
        c(
            "merge list modifies the keyed element",
            pod_spec(json!({"containers": two()})),
            pod_spec(json!({"containers": [{"name": "b", "image": "b:2"}]})),
            pod_spec(json!({"containers": [{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:2"}]})),
        ),
        c(
            "new keyed element goes first without $setElementOrder",
            pod_spec(json!({"containers": two()})),
            pod_spec(json!({"containers": [{"name": "c", "image": "c:1"}]})),
            pod_spec(
                json!({"containers": [{"name": "c", "image": "c:1"}, {"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}]}),
            ),
        ),
        c(
            "$patch delete removes a keyed element",
            pod_spec(json!({"containers": two()})),
            pod_spec(json!({"containers": [{"name": "a", "$patch": "delete"}]})),
            pod_spec(json!({"containers": [{"name": "b", "image": "b:1"}]})),
        ),
        c(
            "$patch delete of a missing element is a no-op",
            pod_spec(json!({"containers": two()})),
            pod_spec(json!({"containers": [{"name": "zz", "$patch": "delete"}]})),
            pod_spec(json!({"containers": two()})),
        ),
        c(
            "$patch replace element replaces the list",
            pod_spec(json!({"containers": two()})),
            pod_spec(json!({"containers": [{"$patch": "replace"}, {"name": "only", "image": "o"}]})),
            pod_spec(json!({"containers": [{"name": "only", "image": "o"}]})),
        ),
        c(
            "$setElementOrder reorders without content changes",
            pod_spec(json!({"containers": two()})),
            pod_spec(json!({"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}]})),
            pod_spec(json!({"containers": [{"name": "b", "image": "b:1"}, {"name": "a", "image": "a:1"}]})),
        ),
        c(
            "$setElementOrder places a new element in the middle",
            pod_spec(json!({"containers": two()})),
            pod_spec(json!({
                "$setElementOrder/containers": [{"name": "a"}, {"name": "c"}, {"name": "b"}],
                "containers": [{"name": "c", "image": "c:1"}]
            })),
            pod_spec(json!({"containers": [
                {"name": "a", "image": "a:1"}, {"name": "c", "image": "c:1"}, {"name": "b", "image": "b:1"}
            ]})),
        ),
        c(
            "server-only elements keep their place next to ordered ones",
            pod_spec(json!({"containers": [{"name": "a"}, {"name": "x"}, {"name": "b"}]})),
            pod_spec(json!({"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}]})),
            pod_spec(json!({"containers": [{"name": "x"}, {"name": "b"}, {"name": "a"}]})),
        ),
        c(
            "primitive merge list is a union, new values first",
            json!({"metadata": {"finalizers": ["a", "b"]}}),
            json!({"metadata": {"finalizers": ["c", "a"]}}),
            json!({"metadata": {"finalizers": ["c", "a", "b"]}}),
        ),
        c(
            "primitive merge list with $setElementOrder",
            json!({"metadata": {"finalizers": ["a", "b"]}}),
            json!({"metadata": {"$setElementOrder/finalizers": ["a", "b", "c"], "finalizers": ["c"]}}),
            json!({"metadata": {"finalizers": ["a", "b", "c"]}}),
        ),
        c(
            "$deleteFromPrimitiveList removes values",
            json!({"metadata": {"finalizers": ["a", "b", "c"]}}),
            json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["b", "zz"]}}),
            json!({"metadata": {"finalizers": ["a", "c"]}}),
        ),
        c(
            "$deleteFromPrimitiveList on an absent list does nothing",
            json!({"metadata": {"name": "x"}}),
            json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["b"]}}),
            json!({"metadata": {"name": "x"}}),
        ),
        c(
            "$retainKeys drops unlisted keys",
            json!({"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}}),
            json!({"spec": {"strategy": {"type": "Recreate", "$retainKeys": ["type"]}}}),
            json!({"spec": {"strategy": {"type": "Recreate"}}}),
        ),
        c(
            "$retainKeys inside a merge list element",
            pod_spec(json!({"volumes": [{"name": "v", "hostPath": {"path": "/x"}}]})),
            pod_spec(json!({"volumes": [{"name": "v", "emptyDir": {}, "$retainKeys": ["emptyDir", "name"]}]})),
            pod_spec(json!({"volumes": [{"name": "v", "emptyDir": {}}]})),
        ),
        c(
            "nested merge lists merge by their own keys",
            pod_spec(
                json!({"containers": [{"name": "a", "env": [{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}]}]}),
            ),
            pod_spec(
                json!({"containers": [{"name": "a", "env": [{"name": "Y", "value": "3"}, {"name": "X", "$patch": "delete"}]}]}),
            ),
            pod_spec(json!({"containers": [{"name": "a", "env": [{"name": "Y", "value": "3"}]}]})),
        ),
        c(
            "different value types replace",
            json!({"metadata": {"labels": {"a": "1"}}}),
            json!({"metadata": {"labels": "oops"}}),
            json!({"metadata": {"labels": "oops"}}),
        ),
        c(
            "new subtree has its directives processed",
            json!({"spec": {}}),
            json!({"spec": {"containers": [{"name": "a", "env": [{"name": "X", "value": null}]}, {"name": "b", "$patch": "delete"}]}}),
            json!({"spec": {"containers": [{"name": "a", "env": [{"name": "X"}]}]}}),
        ),
        c(
            "atomic map (nodeSelector) still merges under SMP without a strategy",
            pod_spec(json!({"nodeSelector": {"a": "1"}})),
            pod_spec(json!({"nodeSelector": {"b": "2"}})),
            pod_spec(json!({"nodeSelector": {"a": "1", "b": "2"}})),
        ),
    ]
}

#[test]
fn upstream_style_cases() {
    for case in cases() {
        let got = run(&case.original, &case.patch);
        assert_eq!(got, Ok(case.expected), "case: {}", case.name);
    }
}

#[test]
fn errors_are_reported_not_panicked() {
    let two = pod_spec(json!({"containers": [{"name": "a"}, {"name": "b"}]}));
    let err_cases: Vec<(&str, Value, Value, &str)> = vec![
        (
            "unknown $patch in map",
            json!({"metadata": {}}),
            json!({"metadata": {"$patch": "frob"}}),
            "unknown patch type",
        ),
        (
            "$patch merge in map",
            json!({"metadata": {}}),
            json!({"metadata": {"$patch": "merge"}}),
            "unknown patch type",
        ),
        (
            "$patch merge in list",
            two.clone(),
            pod_spec(json!({"containers": [{"$patch": "merge"}]})),
            "merging lists cannot yet be specified",
        ),
        (
            "missing merge key",
            two.clone(),
            pod_spec(json!({"containers": [{"image": "x"}]})),
            "does not contain declared merge key: name",
        ),
        (
            "delete without merge key",
            two.clone(),
            pod_spec(json!({"containers": [{"$patch": "delete"}]})),
            "does not contain declared merge key",
        ),
        (
            "list of lists",
            two.clone(),
            pod_spec(json!({"containers": [["x"]]})),
            "lists of lists are not supported",
        ),
        (
            "mixed element types",
            two.clone(),
            pod_spec(json!({"containers": ["x"]})),
            "list element types are not identical",
        ),
        (
            "retainKeys not a list",
            json!({"spec": {"strategy": {}}}),
            json!({"spec": {"strategy": {"$retainKeys": "type"}}}),
            "invalid patch format of retainKeys",
        ),
        (
            "patch key outside retainKeys",
            json!({"spec": {"strategy": {}}}),
            json!({"spec": {"strategy": {"type": "Recreate", "$retainKeys": []}}}),
            "invalid patch format of retainKeys",
        ),
        (
            "setElementOrder not a list",
            two.clone(),
            pod_spec(json!({"$setElementOrder/containers": {}})),
            "invalid patch format of setElementOrder list",
        ),
        (
            "setElementOrder without a list name",
            two.clone(),
            pod_spec(json!({"$setElementOrder": []})),
            "invalid patch format of setElementOrder list",
        ),
        (
            "deleteFromPrimitiveList without a list name",
            two.clone(),
            pod_spec(json!({"$deleteFromPrimitiveList": []})),
            "invalid patch format of primitive list",
        ),
        (
            "patch order disagrees with $setElementOrder",
            two.clone(),
            pod_spec(
                json!({"$setElementOrder/containers": [{"name": "a"}, {"name": "b"}], "containers": [{"name": "b"}, {"name": "a"}]}),
            ),
            "doesn't match $setElementOrder list",
        ),
        ("patch is not an object", json!({}), json!([1]), "invalid JSON document"),
    ];
    for (name, original, patch, needle) in err_cases {
        match run(&original, &patch) {
            Err(e) => assert!(e.to_string().contains(needle), "case {name}: {e}"),
            Ok(v) => panic!("case {name}: expected an error, got {v}"),
        }
    }
}

#[test]
fn kubectl_client_side_apply_patch() {
    let live = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "app", "namespace": "default", "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{old}\n"}},
        "spec": {"replicas": 1, "template": {"spec": {"containers": [
            {"name": "main", "image": "nginx:1.25",
             "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
             "ports": [{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 443, "protocol": "TCP"}]},
            {"name": "side", "image": "busybox"}
        ]}}}
    });
    let patch = json!({"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{new}\n"}},
     "spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"main"}],
      "containers":[{"$setElementOrder/env":[{"name":"A"}],"$setElementOrder/ports":[{"containerPort":80}],
                     "env":[{"$patch":"delete","name":"B"}],"image":"nginx:1.26","name":"main",
                     "ports":[{"$patch":"delete","containerPort":443}]},
                    {"$patch":"delete","name":"side"}]}}}});
    let expected = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "app", "namespace": "default", "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{new}\n"}},
        "spec": {"replicas": 1, "template": {"spec": {"containers": [
            {"name": "main", "image": "nginx:1.26",
             "env": [{"name": "A", "value": "1"}],
             "ports": [{"containerPort": 80, "protocol": "TCP"}]}
        ]}}}
    });
    let got = strategic_merge(&live, &patch, &TestSchema::new(), "Deployment");
    assert_eq!(got, Ok(expected));
}

#[test]
fn set_element_order_adds_elements_in_order_in_nested_lists() {
    let live = pod_spec(json!({"containers": [{"name": "main", "ports": [{"containerPort": 80}]}]}));
    let patch = pod_spec(json!({"containers": [{"name": "main",
        "$setElementOrder/ports": [{"containerPort": 8080}, {"containerPort": 80}],
        "ports": [{"containerPort": 8080}]}]}));
    let expected =
        pod_spec(json!({"containers": [{"name": "main", "ports": [{"containerPort": 8080}, {"containerPort": 80}]}]}));
    assert_eq!(run(&live, &patch), Ok(expected));
}
