//! Rendering checked against upstream kubectl 1.33's output for the same document
//! (`testdata/widgets.json`, served by a throwaway server: enums, number formatting, cycles,
//! maps, nested arrays, tabs and multibyte text in descriptions, a long unbreakable word),
//! the word wrapper, and the argument parsing.

use super::path::{self, Node, PathError};
use super::*;
use crate::discovery::{Discovery, Group};
use serde_json::json;

fn doc() -> Value {
    serde_json::from_str(include_str!("testdata/widgets.json")).expect("fixture")
}

fn req(fields: &[&str], recursive: bool) -> Request {
    Request {
        group: "example.com".into(),
        version: "v1".into(),
        resource: "widgets".into(),
        fields: fields.iter().map(|f| f.to_string()).collect(),
        recursive,
    }
}

fn text(fields: &[&str], recursive: bool) -> String {
    let r = render(&doc(), &req(fields, recursive));
    assert_eq!(r.error, None);
    r.text
}

#[test]
fn matches_upstream_output() {
    assert_eq!(text(&[], false), include_str!("testdata/widgets.txt"));
    assert_eq!(text(&["spec"], false), include_str!("testdata/widgets.spec.txt"));
    assert_eq!(
        text(&["spec", "size"], false),
        include_str!("testdata/widgets.spec.size.txt")
    );
    assert_eq!(
        text(&["spec"], true),
        include_str!("testdata/widgets.spec.recursive.txt")
    );
    assert_eq!(
        text(&["status"], true),
        include_str!("testdata/widgets.status.recursive.txt")
    );
    assert_eq!(
        text(&["nomap", "parent", "size"], false),
        include_str!("testdata/widgets.nomap.parent.size.txt")
    );
}

#[test]
fn errors_after_the_header() {
    let r = render(&doc(), &req(&["spec", "nope"], false));
    assert_eq!(r.text, include_str!("testdata/widgets.spec.nope.txt"));
    assert_eq!(
        r.error.map(|e| e + "\n").as_deref(),
        Some(include_str!("testdata/widgets.spec.nope.err"))
    );
    // The error names the last field of the path, wherever the path broke.
    let r = render(&doc(), &req(&["nope", "spec"], false));
    assert_eq!(r.error.as_deref(), Some("error: field \"spec\" does not exist"));
    let mut other = req(&[], false);
    other.resource = "pods".into();
    let r = render(&doc(), &other);
    assert_eq!(r.text, "");
    assert_eq!(
        r.error.as_deref(),
        Some("error: GVR (example.com/v1, Resource=pods) not found in OpenAPI schema")
    );
    let mut gadgets = req(&[], false);
    gadgets.resource = "gadgets".into();
    let mut d = doc();
    d["components"]["schemas"]
        .as_object_mut()
        .expect("schemas")
        .remove("com.example.v1.Gadget");
    let r = render(&d, &gadgets);
    assert_eq!(
        r.text,
        "GROUP:      example.com\nKIND:       Gadget\nVERSION:    v1\n\n"
    );
    assert_eq!(
        r.error.as_deref(),
        Some("error: GVK map[group:example.com kind:Gadget version:v1] not found in OpenAPI schema")
    );
}

#[test]
fn core_group_has_no_group_line() {
    let d = json!({
        "paths": {"/api/v1/namespaces/{namespace}/configmaps": {"get": {
            "x-kubernetes-group-version-kind": {"group": "", "kind": "ConfigMap", "version": "v1"}}}},
        "components": {"schemas": {"io.k8s.api.core.v1.ConfigMap": {
            "type": "object",
            "description": "ConfigMap holds configuration data for pods to consume.",
            "x-kubernetes-group-version-kind": [{"group": "", "kind": "ConfigMap", "version": "v1"}],
            "properties": {"data": {"type": "object", "additionalProperties": {"type": "string", "default": ""}}}}}}
    });
    let r = render(
        &d,
        &Request {
            group: String::new(),
            version: "v1".into(),
            resource: "configmaps".into(),
            fields: vec![],
            recursive: false,
        },
    );
    assert_eq!(
        r.text,
        "KIND:       ConfigMap\nVERSION:    v1\n\nDESCRIPTION:\n    ConfigMap holds configuration data for pods to consume.\n    \nFIELDS:\n  data\t<map[string]string>\n    <no description>\n\n\n"
    );
}

#[test]
fn word_wrap_as_go_wordwrap() {
    assert_eq!(wrap(10, "aaa bbb ccc ddd"), "aaa bbb\nccc ddd");
    // Whitespace at a break is dropped; a word longer than the limit stays whole.
    assert_eq!(wrap(5, "ab    cd"), "ab\ncd");
    assert_eq!(wrap(4, "abcdefgh ij"), "abcdefgh\nij");
    // The text's own newlines are kept and restart the count.
    assert_eq!(wrap(8, "aaaa\nbbbb cccc"), "aaaa\nbbbb\ncccc");
    // Runes, not bytes.
    assert_eq!(wrap(7, "ää öö üü"), "ää öö\nüü");
    // Non-breaking spaces are part of a word.
    assert_eq!(wrap(5, "a\u{a0}b\u{a0}c d"), "a\u{a0}b\u{a0}c\nd");
    assert_eq!(wrap(0, "a b"), "a b");
    assert_eq!(indent(2, "a\nb"), "  a\n  b");
}

#[test]
fn go_number_format() {
    for (f, s) in [
        (1.0, "1"),
        (2.5, "2.5"),
        (100000.0, "100000"),
        (1e6, "1e+06"),
        (123456789.0, "1.23456789e+08"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (-3.0, "-3"),
    ] {
        assert_eq!(go_float(f), s, "{f}");
    }
    assert_eq!(
        go_fmt(&json!({"version": "v1", "group": "", "kind": "Pod"})),
        "map[group: kind:Pod version:v1]"
    );
}

#[test]
fn json_path_arguments() {
    let f = |s: &str| Node::Field(s.into());
    assert_eq!(path::parse("pods"), Ok(vec![f("pods")]));
    assert_eq!(path::parse("pods.spec."), Ok(vec![f("pods"), f("spec")]));
    assert_eq!(path::parse("..spec"), Ok(vec![Node::Recursive, f("spec")]));
    assert_eq!(
        path::parse("pods.spec['containers']"),
        Ok(vec![f("pods"), f("spec"), f("containers")])
    );
    assert_eq!(path::parse("pods.spec[0]"), Ok(vec![f("pods"), f("spec"), Node::Other]));
    assert_eq!(path::parse("pods[0"), Err("unterminated array".into()));
    assert_eq!(
        path::parse("pods,svc"),
        Err("unrecognized character in action: U+002C ','".into())
    );
    assert_eq!(path::parse("a}b"), Err("must pass in 1 jsonpath string".into()));
    assert_eq!(path::parse("a\\.b.c"), Ok(vec![f("a.b"), f("c")]));
}

fn discovery() -> Discovery {
    let core = json!({"resources": [
        {"name": "pods", "singularName": "pod", "namespaced": true, "kind": "Pod", "verbs": [], "shortNames": ["po"]},
        {"name": "events", "singularName": "event", "namespaced": true, "kind": "Event", "verbs": [], "shortNames": ["ev"]}]});
    let apps = json!({"resources": [
        {"name": "deployments", "singularName": "deployment", "namespaced": true, "kind": "Deployment", "verbs": [], "shortNames": ["deploy"]}]});
    let events = json!({"resources": [
        {"name": "events", "singularName": "event", "namespaced": true, "kind": "Event", "verbs": [], "shortNames": ["ev"]}]});
    let hpa = json!({"resources": [{"name": "horizontalpodautoscalers", "singularName": "horizontalpodautoscaler", "namespaced": true, "kind": "HorizontalPodAutoscaler", "verbs": [], "shortNames": ["hpa"]}]});
    let group = |n: &str, vs: &[&str]| Group {
        name: n.into(),
        versions: vs.iter().map(|v| v.to_string()).collect(),
    };
    Discovery {
        groups: vec![
            group("", &["v1"]),
            group("apps", &["v1"]),
            group("events.k8s.io", &["v1"]),
            group("autoscaling", &["v2", "v1"]),
        ],
        lists: vec![
            ("".into(), "v1".into(), core),
            ("apps".into(), "v1".into(), apps),
            ("events.k8s.io".into(), "v1".into(), events),
            ("autoscaling".into(), "v2".into(), hpa.clone()),
            ("autoscaling".into(), "v1".into(), hpa),
        ],
    }
}

fn resolved(input: &str) -> Result<(String, String, Vec<String>), PathError> {
    path::split_with_matching_prefix(&discovery(), input)
        .map(|r| (r.resource.group_resource(), r.resource.version, r.fields))
}

#[test]
fn resource_and_fields() {
    let ok = |gr: &str, v: &str, fields: &[&str]| {
        Ok((
            gr.to_string(),
            v.to_string(),
            fields.iter().map(|f| f.to_string()).collect::<Vec<_>>(),
        ))
    };
    assert_eq!(resolved("pods"), ok("pods", "v1", &[]));
    assert_eq!(
        resolved("pod.spec.containers"),
        ok("pods", "v1", &["spec", "containers"])
    );
    assert_eq!(resolved("PODS.spec"), ok("pods", "v1", &["spec"]));
    assert_eq!(resolved("deploy.spec"), ok("deployments.apps", "v1", &["spec"]));
    assert_eq!(
        resolved("deployments.apps.spec"),
        ok("deployments.apps", "v1", &["spec"])
    );
    // The version is not part of the prefix: `v1` and `apps` become fields.
    assert_eq!(
        resolved("deployments.v1.apps.spec"),
        ok("deployments.apps", "v1", &["v1", "apps", "spec"])
    );
    assert_eq!(resolved("pods..spec"), ok("pods", "v1", &["spec"]));
    assert_eq!(
        resolved("hpa.spec"),
        ok("horizontalpodautoscalers.autoscaling", "v2", &["spec"])
    );
    // The core group's `events` prefixes `events.events.k8s.io…` too, and comes first.
    assert_eq!(
        resolved("events.events.k8s.io"),
        ok("events", "v1", &["events", "k8s", "io"])
    );
    assert_eq!(resolved("podlists"), ok("podlists", "v1", &[]));
    assert_eq!(resolved("FOO"), Err(PathError::NoMatch("FOO".into())));
    assert_eq!(
        resolved(""),
        Err(PathError::Invalid(
            "a resource must be present, got: /, Resource=".into()
        ))
    );
    assert_eq!(
        resolved("pods.spec..containers"),
        Err(PathError::Invalid(
            "invalid jsonpath syntax, first node must be field node".into()
        ))
    );
    let r = path::split_with_matching_prefix(&discovery(), "ev").expect("ev");
    assert_eq!(r.resource.group, "");
    assert_eq!(
        r.warnings,
        vec!["Warning: short name \"ev\" could also match lower priority resource events.events.k8s.io"]
    );
    let r = path::split_plain(&discovery(), "deployments.apps").expect("plain");
    assert_eq!(
        (r.resource.name.as_str(), r.fields),
        ("deployments", vec!["apps".to_string()])
    );
}
