//! LIST and WATCH semantics over the wire: resourceVersion "" / "0" / NotOlderThan /
//! Exact, 504 for a future version, selectors, watch transitions, and sendInitialEvents.

use e2e::{ApiServer, Store};
use serde_json::{Value, json};

const CMS: &str = "/api/v1/namespaces/default/configmaps";

fn get(s: &ApiServer, path: &str) -> (u16, Value) {
    let (code, body) = s.request("GET", path, "application/json", None);
    (code, serde_json::from_str(&body).unwrap_or(Value::Null))
}

fn create(s: &ApiServer, name: &str, labels: Value) -> i64 {
    let body = json!({"metadata": {"name": name, "labels": labels}, "data": {"v": name}}).to_string();
    let (code, text) = s.request("POST", CMS, "application/json", Some(&body));
    assert_eq!(code, 201, "{text}");
    let obj: Value = serde_json::from_str(&text).expect("json");
    obj["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|r| r.parse().ok())
        .expect("rv")
}

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["metadata"]["name"].as_str().map(String::from))
        .collect()
}

/// The watch events of a bounded watch (`timeoutSeconds`), as (type, name) pairs.
fn watch(s: &ApiServer, query: &str) -> Vec<(String, String)> {
    let (code, body) = s.request(
        "GET",
        &format!("{CMS}?watch=true&timeoutSeconds=1&{query}"),
        "application/json",
        None,
    );
    assert_eq!(code, 200, "{body}");
    body.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .map(|e| {
            let name = e["object"]["metadata"]["name"].as_str().unwrap_or_default().to_string();
            let end = e["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"] == "true";
            (
                e["type"].as_str().unwrap_or_default().to_string(),
                if end { "END".into() } else { name },
            )
        })
        .collect()
}

#[test]
fn resource_versions_selectors_and_watch_transitions() {
    let s = ApiServer::start(Store::Embedded);
    let rv_a = create(&s, "a", json!({"app": "x"}));
    let rv_b = create(&s, "b", json!({"app": "y"}));

    // "" (consistent), "0" (any) and NotOlderThan see both objects.
    for q in [
        "",
        "?resourceVersion=0",
        &format!("?resourceVersion={rv_b}&resourceVersionMatch=NotOlderThan"),
    ] {
        let (code, list) = get(&s, &format!("{CMS}{q}"));
        assert_eq!(
            (code, names(&list)),
            (200, vec!["a".to_string(), "b".to_string()]),
            "{q}"
        );
        assert!(
            list["metadata"]["resourceVersion"]
                .as_str()
                .and_then(|r| r.parse::<i64>().ok())
                .unwrap_or(0)
                >= rv_b
        );
    }
    // Exact shows the past.
    let (code, past) = get(&s, &format!("{CMS}?resourceVersion={rv_a}&resourceVersionMatch=Exact"));
    assert_eq!((code, names(&past)), (200, vec!["a".to_string()]));
    assert_eq!(past["metadata"]["resourceVersion"], rv_a.to_string());
    // A future version waits, then 504 with a ResourceVersionTooLarge cause.
    let (code, err) = get(
        &s,
        &format!(
            "{CMS}?resourceVersion={}&resourceVersionMatch=NotOlderThan",
            rv_b + 1000
        ),
    );
    assert_eq!(code, 504, "{err}");
    assert_eq!(err["details"]["causes"][0]["reason"], "ResourceVersionTooLarge");

    // Selectors.
    let (_, x) = get(&s, &format!("{CMS}?labelSelector=app%3Dx"));
    assert_eq!(names(&x), ["a"]);
    let (_, not_a) = get(&s, &format!("{CMS}?fieldSelector=metadata.name!%3Da"));
    assert_eq!(names(&not_a), ["b"]);
    let (code, bad) = get(&s, &format!("{CMS}?fieldSelector=spec.nope%3D1"));
    assert_eq!(code, 400);
    assert_eq!(bad["message"], "field label not supported: spec.nope");

    // A filtered watch sees an object leave and enter its selection as DELETED and ADDED.
    let relabel = |name: &str, app: &str| {
        let patch = json!({"metadata": {"labels": {"app": app}}}).to_string();
        let (code, body) = s.request(
            "PATCH",
            &format!("{CMS}/{name}"),
            "application/merge-patch+json",
            Some(&patch),
        );
        assert_eq!(code, 200, "{body}");
    };
    relabel("a", "y");
    relabel("b", "x");
    let events = watch(&s, &format!("labelSelector=app%3Dx&resourceVersion={rv_b}"));
    assert_eq!(
        events,
        [
            ("DELETED".to_string(), "a".to_string()),
            ("ADDED".to_string(), "b".to_string())
        ]
    );

    // sendInitialEvents: ADDED for every current object, then the initial-events-end bookmark.
    let initial = watch(
        &s,
        "sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true",
    );
    assert_eq!(
        initial,
        [
            ("ADDED".to_string(), "a".to_string()),
            ("ADDED".to_string(), "b".to_string()),
            ("BOOKMARK".to_string(), "END".to_string())
        ]
    );
    let (code, _) = get(&s, &format!("{CMS}?sendInitialEvents=true"));
    assert_eq!(code, 422);

    // With bookmarks allowed, a bookmark carrying the current revision comes 2s before the timeout.
    let (code, body) = s.request(
        "GET",
        &format!("{CMS}?watch=true&timeoutSeconds=3&allowWatchBookmarks=true&resourceVersion={rv_b}"),
        "application/json",
        None,
    );
    assert_eq!(code, 200);
    let last: Value = body
        .lines()
        .last()
        .and_then(|l| serde_json::from_str(l).ok())
        .unwrap_or(Value::Null);
    assert_eq!(last["type"], "BOOKMARK", "{body}");
    assert!(
        last["object"]["metadata"]["resourceVersion"]
            .as_str()
            .and_then(|r| r.parse::<i64>().ok())
            .unwrap_or(0)
            > rv_b,
        "{body}"
    );
}
