//! Our kubectl's file-based writes against a real server: client-side apply's three-way merge
//! (removed fields go, fields other actors set stay, containers merge by name), delete in its
//! forms, create/replace -f, diff, prune and server-side apply; then the parity rows that
//! run upstream kubectl 1.33 and ours on the same command lines, each in its own namespace.

use crate::kubectl_parity::{Mask, Row, check_rows, row};
use e2e::{ApiServer, Store, binary};
use serde_json::Value;
use std::process::{Command, Output, Stdio};

/// Runs our kubectl with the server's kubeconfig and cache.
fn ours(s: &ApiServer, args: &[&str]) -> Output {
    Command::new(binary("kubectl"))
        .args(args)
        .env("KUBECONFIG", &s.kubeconfig)
        .env("KUBECACHEDIR", s.dir.path().join("cache"))
        .env("HOME", s.dir.path())
        .current_dir(s.dir.path())
        .stdin(Stdio::null())
        .output()
        .expect("our kubectl runs")
}

fn ours_ok(s: &ApiServer, args: &[&str]) -> String {
    let out = ours(s, args);
    assert!(
        out.status.success(),
        "kubectl {} failed:\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn get_json(s: &ApiServer, args: &[&str]) -> Value {
    let mut a = vec!["get", "-o", "json"];
    a.extend_from_slice(args);
    serde_json::from_str(&s.ok(&a)).expect("json")
}

const WEB_V1: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web, stage: one}
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      tolerations: [{key: a, operator: Exists}, {key: b, operator: Exists}]
      containers:
      - name: main
        image: nginx:1.25
        args: [--one, --two]
        env: [{name: A, value: "1"}, {name: B, value: "2"}]
        ports: [{containerPort: 80}, {containerPort: 443}]
      - name: side
        image: busybox:1.36
"#;

const WEB_V2: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      tolerations: [{key: b, operator: Exists}]
      containers:
      - name: main
        image: nginx:1.26
        args: [--three]
        env: [{name: A, value: "1"}]
        ports: [{containerPort: 80}]
"#;

#[test]
fn apply_three_way_merge() {
    let s = ApiServer::start(Store::Embedded);
    s.ok(&["create", "namespace", "app"]);
    let v1 = s.file("web-v1.yaml", WEB_V1);
    let v2 = s.file("web-v2.yaml", WEB_V2);
    assert_eq!(
        ours_ok(&s, &["apply", "-f", &v1, "-n", "app"]),
        "deployment.apps/web created\n"
    );
    assert_eq!(
        ours_ok(&s, &["apply", "-f", &v1, "-n", "app"]),
        "deployment.apps/web unchanged\n"
    );
    let live = get_json(&s, &["deploy", "web", "-n", "app"]);
    assert!(
        live["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
            .as_str()
            .is_some_and(|a| a.contains("\"namespace\":\"app\"") && a.ends_with("}\n"))
    );
    // Other actors: upstream kubectl sets a label and a field of the `main` container.
    s.ok(&["label", "deploy", "web", "-n", "app", "team=blue"]);
    s.ok(&[
        "patch",
        "deploy",
        "web",
        "-n",
        "app",
        "-p",
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"main","workingDir":"/srv"}]}}}}"#,
    ]);
    assert_eq!(
        ours_ok(&s, &["apply", "-f", &v2, "-n", "app"]),
        "deployment.apps/web configured\n"
    );
    let live = get_json(&s, &["deploy", "web", "-n", "app"]);
    let labels = &live["metadata"]["labels"];
    assert_eq!(labels["team"], "blue", "a label set by another actor survives");
    assert!(
        labels.get("stage").is_none(),
        "a label removed from the file is removed"
    );
    let pod = &live["spec"]["template"]["spec"];
    let containers = pod["containers"].as_array().expect("containers");
    assert_eq!(containers.len(), 1, "container `side` removed: {containers:?}");
    let main = &containers[0];
    assert_eq!(main["name"], "main");
    assert_eq!(main["image"], "nginx:1.26");
    assert_eq!(
        main["workingDir"], "/srv",
        "an out-of-band field of a keyed item survives"
    );
    assert_eq!(
        main["args"],
        serde_json::json!(["--three"]),
        "primitive lists are replaced"
    );
    assert_eq!(main["env"], serde_json::json!([{"name": "A", "value": "1"}]));
    let ports: Vec<i64> = main["ports"]
        .as_array()
        .expect("ports")
        .iter()
        .filter_map(|p| p["containerPort"].as_i64())
        .collect();
    assert_eq!(ports, vec![80]);
    assert_eq!(
        pod["tolerations"],
        serde_json::json!([{"key": "b", "operator": "Exists"}])
    );
    assert_eq!(
        ours_ok(&s, &["apply", "-f", &v2, "-n", "app"]),
        "deployment.apps/web unchanged\n"
    );
    // Adding a container back puts it after `main`, keeping main's out-of-band field.
    let v3 = s.file(
        "web-v3.yaml",
        &WEB_V2.replace(
            "        ports: [{containerPort: 80}]\n",
            "        ports: [{containerPort: 80}]\n      - name: log\n        image: busybox:1.36\n",
        ),
    );
    assert_eq!(
        ours_ok(&s, &["apply", "-f", &v3, "-n", "app"]),
        "deployment.apps/web configured\n"
    );
    let live = get_json(&s, &["deploy", "web", "-n", "app"]);
    let names: Vec<&str> = live["spec"]["template"]["spec"]["containers"]
        .as_array()
        .expect("containers")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(names, vec!["main", "log"]);
    assert_eq!(live["spec"]["template"]["spec"]["containers"][0]["workingDir"], "/srv");
    // diff: the same file is no difference, another one is.
    assert_eq!(ours(&s, &["diff", "-f", &v3, "-n", "app"]).status.code(), Some(0));
    let d = ours(&s, &["diff", "-f", &v2, "-n", "app"]);
    assert_eq!(d.status.code(), Some(1));
    let text = String::from_utf8_lossy(&d.stdout);
    assert!(text.contains("-      - image: busybox:1.36"), "{text}");
}

#[test]
fn apply_configmaps_dry_run_prune_server_side() {
    let s = ApiServer::start(Store::Embedded);
    s.ok(&["create", "namespace", "cfg"]);
    let both = s.file(
        "both.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: cfg\n  labels: {set: x}\ndata: {k: \"1\", gone: \"x\"}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n  namespace: cfg\n  labels: {set: x}\n",
    );
    let one = s.file(
        "one.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: cfg\n  labels: {set: x}\ndata: {k: \"2\"}\n",
    );
    assert_eq!(
        ours_ok(&s, &["apply", "-f", &both, "--dry-run=client"]),
        "configmap/a created (dry run)\nconfigmap/b created (dry run)\n"
    );
    assert!(s.kubectl(&["get", "cm", "a", "-n", "cfg"]).status.code() == Some(1));
    assert_eq!(
        ours_ok(&s, &["apply", "-f", &both]),
        "configmap/a created\nconfigmap/b created\n"
    );
    s.ok(&["annotate", "cm", "a", "-n", "cfg", "note=kept"]);
    let out = ours(&s, &["apply", "-f", &one, "--prune", "-l", "set=x"]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "configmap/a configured\nconfigmap/b pruned\n"
    );
    let a = get_json(&s, &["cm", "a", "-n", "cfg"]);
    assert_eq!(a["data"], serde_json::json!({"k": "2"}));
    assert_eq!(a["metadata"]["annotations"]["note"], "kept");
    assert_eq!(s.kubectl(&["get", "cm", "b", "-n", "cfg"]).status.code(), Some(1));
    // Server-side apply takes over with its own manager.
    assert_eq!(
        ours_ok(&s, &["apply", "-f", &one, "--server-side", "--field-manager=ssa"]),
        "configmap/a serverside-applied\n"
    );
    let managers = s.ok(&[
        "get",
        "cm",
        "a",
        "-n",
        "cfg",
        "--show-managed-fields",
        "-o",
        "jsonpath={.metadata.managedFields[*].manager}",
    ]);
    assert!(managers.contains("ssa"), "{managers}");
}

#[test]
fn delete_create_replace() {
    let s = ApiServer::start(Store::Embedded);
    s.ok(&["create", "namespace", "d"]);
    let f = s.file(
        "cms.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c1\n  labels: {g: one}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c2\n  labels: {g: one}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c3\n",
    );
    assert_eq!(
        ours_ok(&s, &["create", "-f", &f, "-n", "d"]),
        "configmap/c1 created\nconfigmap/c2 created\nconfigmap/c3 created\n"
    );
    let again = ours(&s, &["create", "-f", &f, "-n", "d"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains(
            "Error from server (AlreadyExists): error when creating \"cms.yaml\": configmaps \"c3\" already exists"
        ) || String::from_utf8_lossy(&again.stderr).contains("already exists")
    );
    let changed = s.file(
        "c3.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c3\ndata: {x: v}\n",
    );
    assert_eq!(
        ours_ok(&s, &["replace", "-f", &changed, "-n", "d"]),
        "configmap/c3 replaced\n"
    );
    assert_eq!(s.jsonpath(&["cm", "c3", "-n", "d"], "{.data.x}"), "v");
    assert_eq!(
        ours_ok(&s, &["replace", "--force", "-f", &changed, "-n", "d"]),
        "configmap \"c3\" deleted\nconfigmap/c3 replaced\n"
    );
    assert_eq!(
        ours_ok(&s, &["delete", "cm", "-l", "g=one", "-n", "d"]),
        "configmap \"c1\" deleted\nconfigmap \"c2\" deleted\n"
    );
    assert_eq!(
        ours_ok(&s, &["delete", "configmap/c3", "-n", "d"]),
        "configmap \"c3\" deleted\n"
    );
    let nf = ours(&s, &["delete", "cm", "c3", "-n", "d"]);
    assert_eq!(nf.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&nf.stderr),
        "Error from server (NotFound): configmaps \"c3\" not found\n"
    );
    assert_eq!(
        ours_ok(&s, &["delete", "cm", "c3", "-n", "d", "--ignore-not-found"]),
        ""
    );
    // A pod with a finalizer: --wait=false returns at once, the default waits until it is gone.
    s.ok(&["create", "-f", &f, "-n", "d"]);
    s.ok(&[
        "patch",
        "cm",
        "c1",
        "-n",
        "d",
        "-p",
        r#"{"metadata":{"finalizers":["e2e/hold"]}}"#,
    ]);
    assert_eq!(
        ours_ok(&s, &["delete", "cm", "c1", "-n", "d", "--wait=false"]),
        "configmap \"c1\" deleted\n"
    );
    let mut waiter = Command::new(binary("kubectl"))
        .args(["delete", "-f", &f, "-n", "d", "--ignore-not-found"])
        .env("KUBECONFIG", &s.kubeconfig)
        .env("KUBECACHEDIR", s.dir.path().join("cache"))
        .env("HOME", s.dir.path())
        .stdout(Stdio::piped())
        .spawn()
        .expect("kubectl");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert!(
        waiter.try_wait().expect("wait").is_none(),
        "delete waits for the finalizer"
    );
    s.ok(&[
        "patch",
        "cm",
        "c1",
        "-n",
        "d",
        "--type=merge",
        "-p",
        r#"{"metadata":{"finalizers":null}}"#,
    ]);
    let out = waiter.wait_with_output().expect("kubectl");
    assert!(out.status.success());
    assert!(!s.ok(&["get", "cm", "-n", "d", "-o", "name"]).contains("configmap/c"));
}

/// A namespace per side for the parity rows: `@@` in a row's arguments becomes `sideu` for
/// upstream and `sideo` for ours.
const SIDE_STATE: &str = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: existing
  labels: {group: old}
data: {a: "1"}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: other
  labels: {group: old}
"#;

fn side_row(args: &str) -> Row {
    let mut r = row(args);
    r.sides = true;
    r
}

#[test]
fn kubectl_apply_parity() {
    let s = ApiServer::start(Store::Embedded);
    for side in ["sideu", "sideo"] {
        let ns = format!("ap-{side}");
        s.ok(&["create", "namespace", &ns]);
        let f = s.file(&format!("state-{side}.yaml"), SIDE_STATE);
        s.ok(&["apply", "-f", &f, "-n", &ns]);
    }
    s.file(
        "cms.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c1\n  labels: {app: x}\ndata: {a: \"1\"}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c2\n  labels: {app: x}\ndata: {b: \"2\"}\n",
    );
    s.file(
        "cms2.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c1\n  labels: {app: x}\ndata: {a: \"9\"}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c2\n  labels: {app: x}\ndata: {b: \"2\"}\n",
    );
    s.file(
        "existing.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: existing\ndata: {a: \"2\"}\n",
    );
    s.file("web.yaml", WEB_V1);
    s.file("web2.yaml", WEB_V2);
    s.file(
        "bad.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\ndata:\n  a: b: c\n",
    );
    s.file("bad2.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x\n");
    s.file("bad.json", "{\"apiVersion\": \"v1\", \"kind\": ");
    s.file("noapi.yaml", "kind: ConfigMap\nmetadata:\n  name: x\n");
    s.file(
        "mismatch.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: m\n  namespace: elsewhere\n",
    );
    let dir = s.dir.path().join("manifests");
    std::fs::create_dir_all(dir.join("sub")).expect("dir");
    std::fs::write(
        dir.join("b.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: d1\n",
    )
    .expect("w");
    std::fs::write(
        dir.join("a.json"),
        r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"d0"}}"#,
    )
    .expect("w");
    std::fs::write(dir.join("notes.txt"), "not a manifest").expect("w");
    std::fs::write(
        dir.join("sub/c.yml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: d2\n",
    )
    .expect("w");
    let mut rows: Vec<Row> = [
        // file errors
        "apply -f nope.yaml",
        "apply -f bad.yaml",
        "apply -f bad2.yaml",
        "apply -f bad.json",
        "apply -f noapi.yaml",
        "apply -f mismatch.yaml -n ap-@@",
        "apply -n ap-@@",
        "create -f nope.yaml",
        "delete -f bad.yaml",
        // apply
        "apply -f cms.yaml -n ap-@@ --dry-run=client",
        "apply -f cms.yaml -n ap-@@ --dry-run=server",
        "apply -f cms.yaml -n ap-@@",
        "apply -f cms.yaml -n ap-@@",
        "diff -f cms.yaml -n ap-@@",
        "diff -f cms2.yaml -n ap-@@",
        "apply -f cms2.yaml -n ap-@@ --dry-run=client",
        "apply -f cms2.yaml -n ap-@@ -o name",
        "apply -f web.yaml -n ap-@@",
        "apply -f web2.yaml -n ap-@@",
        "apply -f web2.yaml -n ap-@@ --dry-run=server",
        "get deploy web -n ap-@@ -o jsonpath='{.spec.template.spec.containers[*].name} {.metadata.labels}'",
        "apply -f manifests -n ap-@@",
        "apply -R -f manifests -n ap-@@",
        // server-side
        "apply -f cms.yaml -n ap-@@ --server-side --force-conflicts",
        "apply -f cms2.yaml -n ap-@@ --server-side --field-manager=other",
        "apply -f cms.yaml -n ap-@@ --server-side --dry-run=client",
        "apply -f cms.yaml -n ap-@@ --force-conflicts",
        // create / replace
        "create -f cms.yaml -n ap-@@",
        "create -f existing.yaml -n ap-@@",
        "replace -f cms.yaml -n ap-@@",
        "replace -f cms.yaml -n ap-@@ -o name",
        "replace -f web.yaml -n ap-@@ --dry-run=client",
        // delete
        "delete cm c1 -n ap-@@",
        "delete cm c1 -n ap-@@",
        "delete cm c1 -n ap-@@ --ignore-not-found",
        "delete -f cms.yaml -n ap-@@",
        "delete cm -l group=old -n ap-@@ --dry-run=server",
        "delete cm -l group=old -n ap-@@",
        "delete cm -l group=old -n ap-@@",
        "delete deploy/web -n ap-@@ --cascade=orphan --wait=false",
        "delete cm d0 -n ap-@@ -o name",
        "delete cm d1 d2 -n ap-@@ --now",
        "delete cm -n ap-@@",
        "delete",
        "delete cm --all -n ap-@@ --force",
        "delete cm x -n ap-@@ --cascade=bogus",
        "create -f cms.yaml -n ap-@@ -o name",
        "diff -f cms.yaml -n ap-@@",
    ]
    .iter()
    .map(|l| {
        let mut r = side_row(l);
        if l.starts_with("diff") {
            r.mask = Mask::Diff;
        }
        r
    })
    .collect();
    // `-f URL`: the files above, served over HTTP.
    let port = e2e::serve_files(s.dir.path().to_path_buf());
    for l in [
        "apply -f http://127.0.0.1:{port}/cms.yaml -n ap-@@ --dry-run=client",
        "create -f http://127.0.0.1:{port}/moved/existing.yaml -n ap-@@ --dry-run=client -o yaml",
        "apply -f http://127.0.0.1:{port}/nope.yaml -n ap-@@",
        "apply -f http://127.0.0.1:{port}/bad.yaml -n ap-@@",
        "apply -f http://127.0.0.1:1/cms.yaml",
    ] {
        rows.push(side_row(&l.replace("{port}", &port.to_string())));
    }
    let mut diff_row = side_row("diff -f web2.yaml -n ap-@@");
    diff_row.mask = Mask::Diff;
    rows.push(diff_row);
    check_rows(&s, "apply, create -f, replace, delete, diff", &rows);
}
