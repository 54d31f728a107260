//! JSON merge patch (RFC 7386) and JSON patch (RFC 6902).

use serde_json::json;

use crate::patch::{PatchError, json_patch, merge_patch};

#[test]
fn merge_patch_merges_maps_replaces_lists_and_deletes_nulls() {
    let original = json!({"metadata": {"labels": {"a": "1", "b": "2"}}, "spec": {"args": ["x", "y"], "n": 1}});
    let patch = json!({"metadata": {"labels": {"a": null, "c": "3"}}, "spec": {"args": ["z"]}});
    let expected = json!({"metadata": {"labels": {"b": "2", "c": "3"}}, "spec": {"args": ["z"], "n": 1}});
    assert_eq!(merge_patch(&original, &patch), expected);
}

#[test]
fn merge_patch_with_non_object_replaces_document() {
    assert_eq!(merge_patch(&json!({"a": 1}), &json!([1])), json!([1]));
}

#[test]
fn json_patch_applies_operations_in_order() {
    let original = json!({"data": {"a": "1"}, "list": [1, 2]});
    let patch = json!([
        {"op": "test", "path": "/data/a", "value": "1"},
        {"op": "add", "path": "/data/b", "value": "2"},
        {"op": "remove", "path": "/list/0"},
        {"op": "replace", "path": "/data/a", "value": "x"},
        {"op": "copy", "from": "/data/b", "path": "/data/c"},
        {"op": "move", "from": "/data/c", "path": "/moved"},
    ]);
    let expected = json!({"data": {"a": "x", "b": "2"}, "list": [2], "moved": "2"});
    assert_eq!(json_patch(&original, &patch), Ok(expected));
}

#[test]
fn json_patch_failing_test_is_invalid() {
    let original = json!({"data": {"a": "1"}});
    let patch = json!([{"op": "test", "path": "/data/a", "value": "2"}, {"op": "remove", "path": "/data"}]);
    assert_eq!(
        json_patch(&original, &patch),
        Err(PatchError::Invalid("testing value /data/a failed: test failed".into()))
    );
}

#[test]
fn json_patch_missing_path_and_bad_documents() {
    let original = json!({"data": {}});
    let missing = json_patch(&original, &json!([{"op": "replace", "path": "/data/nope", "value": 1}]));
    assert!(matches!(missing, Err(PatchError::Invalid(m)) if m.contains("doc is missing path")));
    let bad_op = json_patch(&original, &json!([{"op": "frobnicate", "path": "/a"}]));
    assert!(matches!(bad_op, Err(PatchError::BadRequest(_))));
    assert!(matches!(
        json_patch(&original, &json!({"op": "add"})),
        Err(PatchError::BadRequest(_))
    ));
}
