//! Bad input gets a precise 4xx `Status` and changes nothing: malformed bodies, oversized
//! bodies, unknown resources and groups, kind and namespace mismatches, invalid objects.

use e2e::{ApiServer, Store};
use serde_json::Value;

fn status(body: &str) -> Value {
    let v: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"));
    assert_eq!(v["kind"], "Status", "{body}");
    v
}

const CM_PATH: &str = "/api/v1/namespaces/default/configmaps";

#[test]
fn bad_input_is_refused_precisely() {
    let s = ApiServer::start(Store::Embedded);
    let json = "application/json";

    let (code, body) = s.request("POST", CM_PATH, json, Some("{\"metadata\": {"));
    assert_eq!(code, 400, "{body}");
    assert_eq!(status(&body)["reason"], "BadRequest");

    let big = format!(
        "{{\"metadata\":{{\"name\":\"big\"}},\"data\":{{\"k\":\"{}\"}}}}",
        "x".repeat(3 * 1024 * 1024 + 10)
    );
    let (code, body) = s.request("POST", CM_PATH, json, Some(&big));
    assert_eq!(code, 413, "{body}");
    assert_eq!(status(&body)["message"], "Request entity too large: limit is 3145728");

    let (code, body) = s.request("GET", "/api/v1/namespaces/default/widgets", json, None);
    assert_eq!(code, 404);
    assert_eq!(
        status(&body)["message"],
        "the server could not find the requested resource"
    );
    let (code, body) = s.request("GET", "/apis/nonexistent.io/v1/things", json, None);
    assert_eq!((code, body.as_str()), (404, "404 page not found\n"));

    let secret = r#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"}}"#;
    let (code, body) = s.request("POST", CM_PATH, json, Some(secret));
    assert_eq!(code, 400, "{body}");
    assert!(
        status(&body)["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Secret in version \"v1\" cannot be handled as a ConfigMap"),
        "{body}"
    );

    let other_ns = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","namespace":"kube-system"}}"#;
    let (code, body) = s.request("POST", CM_PATH, json, Some(other_ns));
    assert_eq!(code, 400);
    assert_eq!(
        status(&body)["message"],
        "the namespace of the provided object does not match the namespace sent on the request"
    );

    let invalid = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"Bad_Name"},"data":{"a b":"c"}}"#;
    let (code, body) = s.request("POST", CM_PATH, json, Some(invalid));
    assert_eq!(code, 422, "{body}");
    let st = status(&body);
    assert_eq!(st["reason"], "Invalid");
    assert_eq!(st["details"]["kind"], "ConfigMap");
    let fields: Vec<&str> = st["details"]["causes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["field"].as_str())
        .collect();
    assert_eq!(fields, ["metadata.name", "data[a b]"]);

    let pod = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"},"spec":{"containers":[{"name":"c"}]}}"#;
    let (code, body) = s.request("POST", "/api/v1/namespaces/default/pods", json, Some(pod));
    assert_eq!(code, 422);
    assert_eq!(
        status(&body)["message"],
        "Pod \"x\" is invalid: spec.containers[0].image: Required value"
    );

    let (code, body) = s.request(
        "POST",
        "/api/v1/namespaces/nope/configmaps",
        json,
        Some(r#"{"metadata":{"name":"x"}}"#),
    );
    assert_eq!(code, 404);
    assert_eq!(status(&body)["message"], "namespaces \"nope\" not found");

    let (code, body) = s.request("PATCH", &format!("{CM_PATH}/x"), "text/plain", Some("{}"));
    assert_eq!(code, 415, "{body}");

    let (code, body) = s.request("GET", &format!("{CM_PATH}?resourceVersionMatch=Exact"), json, None);
    assert_eq!(code, 422);
    assert!(
        status(&body)["message"]
            .as_str()
            .unwrap_or_default()
            .contains("resourceVersionMatch is forbidden unless resourceVersion is provided")
    );

    let (code, _) = s.request("GET", &format!("{CM_PATH}?labelSelector=a%20in%20b"), json, None);
    assert_eq!(code, 400);

    // Nothing of the refused requests was stored.
    assert_eq!(s.ok(&["get", "cm", "-o", "name"]), "");
    assert!(s.fails(&["get", "pod", "x"]).contains("NotFound"));
}
