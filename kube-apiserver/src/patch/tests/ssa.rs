//! Server-side apply and update tracking: ownership, pruning, conflicts and the managedFields form.

use serde_json::{Value, json};

use super::schema::TestSchema;
use crate::patch::{
    ApplyContext, ApplyError, Conflict, FieldSet, conflict_message, path_string, server_side_apply, track_update,
};

const T1: &str = "2026-01-01T00:00:00Z";
const T2: &str = "2026-01-01T00:01:00Z";
const T3: &str = "2026-01-01T00:02:00Z";

fn ctx<'a>(manager: &'a str, now: &'a str) -> ApplyContext<'a> {
    ApplyContext {
        manager,
        force: false,
        api_version: "apps/v1",
        subresource: None,
        now,
    }
}

fn config(replicas: Option<i64>, image: &str) -> Value {
    let mut spec = json!({"template": {"spec": {"containers": [
        {"name": "main", "image": image, "ports": [{"containerPort": 80}]}
    ]}}});
    if let Some(r) = replicas {
        spec["replicas"] = json!(r);
    }
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "ssa", "namespace": "default"}, "spec": spec})
}

fn apply(live: Option<&Value>, applied: &Value, c: &ApplyContext) -> Result<Value, ApplyError> {
    server_side_apply(live, applied, c, &TestSchema::new(), "Deployment")
}

/// The object as the store would keep it after defaulting and with server-set metadata.
fn stored(mut v: Value) -> Value {
    v["metadata"]["uid"] = json!("u-1");
    v["metadata"]["resourceVersion"] = json!("7");
    if let Some(ports) = v["spec"]["template"]["spec"]["containers"][0]["ports"].as_array_mut() {
        for p in ports {
            p["protocol"] = json!("TCP");
        }
    }
    v
}

fn managed(v: &Value) -> &Vec<Value> {
    v["metadata"]["managedFields"].as_array().expect("managedFields")
}

fn entry<'v>(v: &'v Value, manager: &str) -> &'v Value {
    managed(v).iter().find(|e| e["manager"] == manager).expect("entry")
}

#[test]
fn create_by_apply_records_the_applied_fields() {
    let out = apply(None, &config(Some(2), "nginx:1.25"), &ctx("kubectl", T1)).expect("apply");
    assert_eq!(out["spec"]["replicas"], 2);
    let expected = json!([{"manager": "kubectl", "operation": "Apply", "apiVersion": "apps/v1", "time": T1,
        "fieldsType": "FieldsV1",
        "fieldsV1": {"f:spec": {"f:replicas": {}, "f:template": {"f:spec": {"f:containers": {
            "k:{\"name\":\"main\"}": {".": {}, "f:image": {}, "f:name": {},
                "f:ports": {"k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}}}}}}}}}}]);
    assert_eq!(out["metadata"]["managedFields"], expected);
    let text = serde_json::to_string(&out["metadata"]["managedFields"][0]["fieldsV1"]).expect("json");
    assert!(
        text.contains(r#""k:{\"containerPort\":80,\"protocol\":\"TCP\"}""#),
        "{text}"
    );
}

#[test]
fn reapplying_without_a_field_removes_it() {
    let first = stored(apply(None, &config(Some(2), "nginx:1.25"), &ctx("kubectl", T1)).expect("apply"));
    let second = apply(Some(&first), &config(None, "nginx:1.26"), &ctx("kubectl", T2)).expect("apply");
    assert!(second["spec"].get("replicas").is_none(), "{second}");
    assert_eq!(
        second["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.26"
    );
    assert_eq!(second["metadata"]["uid"], "u-1");
    let fields = &entry(&second, "kubectl")["fieldsV1"]["f:spec"];
    assert!(fields.get("f:replicas").is_none());
    assert_eq!(entry(&second, "kubectl")["time"], T2);
}

#[test]
fn fields_owned_by_another_manager_survive_pruning() {
    let first = stored(apply(None, &config(Some(2), "nginx:1.25"), &ctx("kubectl", T1)).expect("apply"));
    let shared = apply(
        Some(&first),
        &json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "ssa"}, "spec": {"replicas": 2}}),
        &ctx("other", T2),
    )
    .expect("same value: no conflict");
    let dropped = apply(Some(&shared), &config(None, "nginx:1.25"), &ctx("kubectl", T3)).expect("apply");
    assert_eq!(dropped["spec"]["replicas"], 2, "still owned by other");
    assert_eq!(
        entry(&dropped, "other")["fieldsV1"],
        json!({"f:spec": {"f:replicas": {}}})
    );
}

#[test]
fn conflicting_apply_fails_and_force_moves_ownership() {
    let first = stored(apply(None, &config(Some(2), "nginx:1.25"), &ctx("kubectl", T1)).expect("apply"));
    let other =
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "ssa"}, "spec": {"replicas": 5}});
    let err = apply(Some(&first), &other, &ctx("other", T2)).expect_err("conflict");
    let ApplyError::Conflicts(conflicts) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0].field, ".spec.replicas");
    assert_eq!(
        err.to_string(),
        "Apply failed with 1 conflict: conflict with \"kubectl\": .spec.replicas"
    );

    let forced = apply(
        Some(&first),
        &other,
        &ApplyContext {
            force: true,
            ..ctx("other", T2)
        },
    )
    .expect("forced");
    assert_eq!(forced["spec"]["replicas"], 5);
    assert!(
        entry(&forced, "kubectl")["fieldsV1"]["f:spec"]
            .get("f:replicas")
            .is_none()
    );
    assert_eq!(
        entry(&forced, "other")["fieldsV1"],
        json!({"f:spec": {"f:replicas": {}}})
    );
}

#[test]
fn update_through_scale_then_apply_conflicts_with_the_updater() {
    let first = stored(apply(None, &config(Some(2), "nginx:1.25"), &ctx("kubectl", T1)).expect("apply"));
    let mut scaled = first.clone();
    scaled["spec"]["replicas"] = json!(4);
    let scale_ctx = ApplyContext {
        subresource: Some("scale"),
        ..ctx("kubectl.1.33", T2)
    };
    let scaled = track_update(Some(&first), &scaled, &scale_ctx, &TestSchema::new(), "Deployment");
    let entries = managed(&scaled);
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["operation"], "Apply", "Apply entries sort first");
    assert_eq!(
        entries[1],
        json!({"manager": "kubectl.1.33", "operation": "Update", "apiVersion": "apps/v1", "time": T2,
            "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}}}, "subresource": "scale"})
    );
    assert!(
        entries[0]["fieldsV1"]["f:spec"].get("f:replicas").is_none(),
        "scale took replicas over"
    );

    let err = apply(Some(&scaled), &config(Some(3), "nginx:1.25"), &ctx("kubectl", T3)).expect_err("conflict");
    let expected = "Apply failed with 1 conflict: conflict with \"kubectl.1.33\" with subresource \"scale\" using apps/v1: .spec.replicas";
    assert_eq!(err.to_string(), expected);
    let ApplyError::Conflicts(c) = err else { panic!() };
    assert_eq!(
        c[0].cause_message(),
        "conflict with \"kubectl.1.33\" with subresource \"scale\" using apps/v1"
    );
}

#[test]
fn track_update_on_create_owns_everything_but_server_fields() {
    let obj = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "namespace": "default", "uid": "u", "labels": {"app": "x"}},
        "spec": {"containers": [{"name": "c", "image": "i", "args": ["a"]}]},
        "status": {"phase": "Pending"}});
    let c = ApplyContext {
        api_version: "v1",
        ..ctx("kubectl-create", T1)
    };
    let out = track_update(None, &obj, &c, &TestSchema::new(), "Pod");
    assert_eq!(
        out["metadata"]["managedFields"][0]["fieldsV1"],
        json!({"f:metadata": {"f:labels": {".": {}, "f:app": {}}},
            "f:spec": {"f:containers": {"k:{\"name\":\"c\"}": {".": {}, "f:args": {}, "f:image": {}, "f:name": {}}}}})
    );
    // An update by another manager takes over what it changes.
    let mut changed = out.clone();
    changed["metadata"]["labels"]["app"] = json!("y");
    let after = track_update(Some(&out), &changed, &ctx("editor", T2), &TestSchema::new(), "Pod");
    assert_eq!(
        entry(&after, "editor")["fieldsV1"],
        json!({"f:metadata": {"f:labels": {"f:app": {}}}})
    );
    assert_eq!(
        entry(&after, "kubectl-create")["fieldsV1"]["f:metadata"],
        json!({"f:labels": {}})
    );
}

#[test]
fn track_update_without_managed_fields_on_existing_object_records_nothing() {
    let old = json!({"metadata": {"name": "p"}, "spec": {"serviceAccountName": "a"}});
    let new = json!({"metadata": {"name": "p"}, "spec": {"serviceAccountName": "b"}});
    let out = track_update(Some(&old), &new, &ctx("x", T1), &TestSchema::new(), "Pod");
    assert!(out["metadata"].get("managedFields").is_none());
}

#[test]
fn first_apply_to_untracked_object_creates_before_first_apply_owner() {
    let live = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "ssa"},
        "spec": {"replicas": 1, "paused": true}});
    let applied =
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "ssa"}, "spec": {"paused": false}});
    let err = apply(Some(&live), &applied, &ctx("kubectl", T1)).expect_err("conflict");
    assert_eq!(
        err.to_string(),
        "Apply failed with 1 conflict: conflict with \"before-first-apply\" using apps/v1: .spec.paused"
    );
}

#[test]
fn invalid_applied_configurations() {
    let dup = json!({"spec": {"template": {"spec": {"containers": [{"name": "a"}, {"name": "a"}]}}}});
    let err = apply(None, &dup, &ctx("kubectl", T1)).expect_err("duplicate");
    assert!(
        matches!(&err, ApplyError::Invalid(m) if m.contains("duplicate entries for key [name=\"a\"]")),
        "{err}"
    );
    let no_key = json!({"spec": {"template": {"spec": {"containers": [{"image": "a"}]}}}});
    assert!(matches!(
        apply(None, &no_key, &ctx("kubectl", T1)),
        Err(ApplyError::Invalid(_))
    ));
    let with_mf = json!({"metadata": {"managedFields": []}});
    assert_eq!(
        apply(None, &with_mf, &ctx("kubectl", T1)),
        Err(ApplyError::Invalid("metadata.managedFields must be nil".into()))
    );
    assert!(matches!(
        apply(None, &json!([1]), &ctx("kubectl", T1)),
        Err(ApplyError::Invalid(_))
    ));
}

#[test]
fn list_map_merge_keeps_live_only_items_and_applied_order() {
    let live = stored(
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "ssa"},
        "spec": {"template": {"spec": {"containers": [{"name": "a"}, {"name": "x"}, {"name": "b"}]}}}}),
    );
    let applied = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "ssa"},
        "spec": {"template": {"spec": {"containers": [{"name": "b"}, {"name": "n"}, {"name": "a"}]}}}});
    let c = ApplyContext {
        force: true,
        ..ctx("kubectl", T1)
    };
    let out = apply(Some(&live), &applied, &c).expect("apply");
    let names: Vec<&str> = out["spec"]["template"]["spec"]["containers"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(names, ["x", "b", "n", "a"]);
}

#[test]
fn conflict_message_for_several_conflicts() {
    let c = |m: &str, op: &str, f: &str| Conflict {
        manager: m.into(),
        operation: op.into(),
        subresource: None,
        api_version: "apps/v1".into(),
        field: f.into(),
    };
    let msg = conflict_message(&[
        c("a", "Apply", ".spec.replicas"),
        c("a", "Apply", ".spec.paused"),
        c("b", "Update", ".x"),
    ]);
    assert_eq!(
        msg,
        "Apply failed with 3 conflicts: conflicts with \"a\":\n- .spec.replicas\n- .spec.paused\nconflicts with \"b\" using apps/v1:\n- .x"
    );
}

#[test]
fn fields_v1_round_trips_and_paths_print_like_upstream() {
    let v = json!({"f:metadata": {"f:labels": {".": {}, "f:a": {}}},
        "f:spec": {"f:ports": {"k:{\"port\":80,\"protocol\":\"TCP\"}": {".": {}, "f:port": {}}}, "f:finalizers": {"v:\"x\"": {}}}});
    let set = FieldSet::from_fields_v1(&v).expect("parse");
    assert_eq!(set.to_fields_v1(), v);
    let paths: Vec<String> = set.paths().iter().map(|p| path_string(p)).collect();
    assert!(
        paths.contains(&".spec.ports[port=80,protocol=\"TCP\"]".to_string()),
        "{paths:?}"
    );
    assert!(paths.contains(&".spec.finalizers[=\"x\"]".to_string()), "{paths:?}");
    assert!(FieldSet::from_fields_v1(&json!({"x:y": {}})).is_err());
    assert!(FieldSet::from_fields_v1(&json!([])).is_err());
}
