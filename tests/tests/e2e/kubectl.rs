//! The kubectl transcript: real upstream kubectl (1.33, and 1.27 for skew) against the
//! server on the embedded store and on real etcd; every step asserts on output.

use e2e::{ApiServer, Store};
use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

const APP: &str = r#"apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: shop
  labels: {tier: backend}
data:
  color: blue
  size: large
---
apiVersion: v1
kind: Secret
metadata:
  name: creds
  namespace: shop
stringData:
  password: hunter2
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: runner
  namespace: shop
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
  labels: {tier: frontend}
spec:
  selector: {app: web}
  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {tier: frontend}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: main
        image: nginx:1.25
        ports:
        - containerPort: 80
        - containerPort: 443
        env:
        - {name: A, value: "1"}
        - {name: B, value: "2"}
      - name: side
        image: busybox:1.36
---
apiVersion: v1
kind: Pod
metadata:
  name: solo
  namespace: shop
  labels: {app: solo, tier: backend}
spec:
  containers:
  - name: c
    image: busybox:1.36
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: reader
  namespace: shop
rules:
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: reader
  namespace: shop
subjects:
- kind: ServiceAccount
  name: runner
  namespace: shop
roleRef:
  kind: Role
  name: reader
  apiGroup: rbac.authorization.k8s.io
---
apiVersion: batch/v1
kind: Job
metadata:
  name: once
  namespace: shop
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: c
        image: busybox:1.36
"#;

fn lines_with<'a>(out: &'a str, needle: &str) -> Vec<&'a str> {
    out.lines().filter(|l| l.contains(needle)).collect()
}

fn discovery(s: &ApiServer) {
    let res = s.ok(&["api-resources"]);
    let deploy = lines_with(&res, "deployments");
    assert_eq!(deploy.len(), 1, "{res}");
    let cols: Vec<&str> = deploy[0].split_whitespace().collect();
    assert_eq!(cols, ["deployments", "deploy", "apps/v1", "true", "Deployment"]);
    assert!(res.contains("horizontalpodautoscalers"));
    let versions = s.ok(&["api-versions"]);
    for gv in [
        "apps/v1",
        "autoscaling/v2",
        "autoscaling/v1",
        "batch/v1",
        "v1",
        "storage.k8s.io/v1",
        "rbac.authorization.k8s.io/v1",
    ] {
        assert!(versions.lines().any(|l| l == gv), "api-versions lacks {gv}: {versions}");
    }
    let ready = s.ok(&["get", "--raw", "/readyz?verbose"]);
    assert!(
        ready.contains("[+]etcd ok") && ready.contains("readyz check passed"),
        "{ready}"
    );
}

fn create_and_apply(s: &ApiServer) {
    assert_eq!(s.ok(&["create", "ns", "scratch"]).trim(), "namespace/scratch created");
    let err = s.fails(&["create", "ns", "scratch"]);
    assert!(
        err.contains("AlreadyExists") && err.contains("namespaces \"scratch\" already exists"),
        "{err}"
    );
    let f = s.file("app.yaml", APP);
    let out = s.ok(&["apply", "-f", &f]);
    for line in [
        "namespace/shop created",
        "configmap/settings created",
        "secret/creds created",
        "serviceaccount/runner created",
        "service/web created",
        "deployment.apps/web created",
        "pod/solo created",
        "role.rbac.authorization.k8s.io/reader created",
        "rolebinding.rbac.authorization.k8s.io/reader created",
        "job.batch/once created",
    ] {
        assert!(out.lines().any(|l| l == line), "missing {line:?} in:\n{out}");
    }
    // Applying the same manifest again changes nothing.
    let again = s.ok(&["apply", "-f", &f]);
    assert!(again.contains("deployment.apps/web unchanged"), "{again}");
    let secret = s.ok(&[
        "-n",
        "shop",
        "get",
        "secret",
        "creds",
        "-o",
        "jsonpath={.data.password}",
    ]);
    assert_eq!(secret, "aHVudGVyMg==");
}

/// The second apply drops `size` from the ConfigMap, env B, port 443 and container `side`,
/// and changes the image: the three-way merge must change exactly those.
fn three_way_merge(s: &ApiServer) {
    // Someone else's change that the apply must keep.
    s.ok(&["-n", "shop", "label", "deploy", "web", "owner=ops"]);
    let changed = APP
        .replace("  size: large\n", "")
        .replace("        - containerPort: 443\n", "")
        .replace("        - {name: B, value: \"2\"}\n", "")
        .replace(
            "      - name: side\n        image: busybox:1.36\n---\napiVersion: v1\nkind: Pod",
            "---\napiVersion: v1\nkind: Pod",
        )
        .replace("image: nginx:1.25", "image: nginx:1.26");
    let f = s.file("app2.yaml", &changed);
    let out = s.ok(&["apply", "-f", &f]);
    assert!(out.contains("deployment.apps/web configured"), "{out}");
    assert!(out.contains("configmap/settings configured"), "{out}");
    let cm = s.ok(&["-n", "shop", "get", "cm", "settings", "-o", "jsonpath={.data}"]);
    assert_eq!(cm, r#"{"color":"blue"}"#);
    let d = |path: &str| s.ok(&["-n", "shop", "get", "deploy", "web", "-o", &format!("jsonpath={path}")]);
    assert_eq!(d("{.spec.template.spec.containers[*].name}"), "main");
    assert_eq!(d("{.spec.template.spec.containers[0].image}"), "nginx:1.26");
    assert_eq!(d("{.spec.template.spec.containers[0].env[*].name}"), "A");
    assert_eq!(d("{.spec.template.spec.containers[0].ports[*].containerPort}"), "80");
    assert_eq!(d("{.metadata.labels.owner}"), "ops");
    assert_eq!(d("{.metadata.generation}"), "2");
}

fn server_side_apply(s: &ApiServer) {
    let manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\n  namespace: shop\ndata:\n  k: v1\n";
    let f = s.file("ssa.yaml", manifest);
    assert_eq!(
        s.ok(&["apply", "--server-side", "-f", &f]).trim(),
        "configmap/ssa serverside-applied"
    );
    let managers = s.ok(&[
        "-n",
        "shop",
        "get",
        "cm",
        "ssa",
        "--show-managed-fields",
        "-o",
        "jsonpath={.metadata.managedFields[*].manager}",
    ]);
    assert_eq!(managers, "kubectl");
    let f2 = s.file("ssa2.yaml", &manifest.replace("k: v1", "k: v2"));
    s.ok(&["apply", "--server-side", "-f", &f2]);
    assert_eq!(
        s.ok(&["-n", "shop", "get", "cm", "ssa", "-o", "jsonpath={.data.k}"]),
        "v2"
    );
    // Another manager taking the same field conflicts unless forced.
    let err = s.fails(&["apply", "--server-side", "--field-manager", "other", "-f", &f]);
    assert!(err.contains("conflict") && err.contains(".data.k"), "{err}");
    s.ok(&[
        "apply",
        "--server-side",
        "--field-manager",
        "other",
        "--force-conflicts",
        "-f",
        &f,
    ]);
    assert_eq!(
        s.ok(&["-n", "shop", "get", "cm", "ssa", "-o", "jsonpath={.data.k}"]),
        "v1"
    );
}

fn get_outputs(s: &ApiServer) {
    let pods = s.ok(&["-n", "shop", "get", "pods"]);
    let header: Vec<&str> = pods.lines().next().unwrap_or_default().split_whitespace().collect();
    assert_eq!(header, ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
    assert!(
        pods.lines()
            .any(|l| l.starts_with("solo ") && l.contains("0/1") && l.contains("Pending")),
        "{pods}"
    );
    let wide = s.ok(&["-n", "shop", "get", "pods", "-o", "wide"]);
    let wide_header: Vec<&str> = wide.lines().next().unwrap_or_default().split_whitespace().collect();
    assert_eq!(
        wide_header,
        [
            "NAME",
            "READY",
            "STATUS",
            "RESTARTS",
            "AGE",
            "IP",
            "NODE",
            "NOMINATED",
            "NODE",
            "READINESS",
            "GATES"
        ]
    );
    let yaml = s.ok(&["-n", "shop", "get", "cm", "settings", "-o", "yaml"]);
    assert!(
        yaml.contains("kind: ConfigMap") && yaml.contains("  color: blue"),
        "{yaml}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&s.ok(&["-n", "shop", "get", "deploy", "web", "-o", "json"])).expect("json");
    assert_eq!(json["spec"]["strategy"]["rollingUpdate"]["maxSurge"], "25%");
    assert!(json["metadata"]["uid"].as_str().is_some_and(|u| u.len() == 36));
    assert_eq!(
        s.ok(&["-n", "shop", "get", "svc,deploy", "-o", "name"]),
        "service/web\ndeployment.apps/web\n"
    );
    let svc_ip = s.ok(&["-n", "shop", "get", "svc", "web", "-o", "jsonpath={.spec.clusterIP}"]);
    assert!(svc_ip.starts_with("10.96."), "{svc_ip}");
    let cc = s.ok(&[
        "-n",
        "shop",
        "get",
        "deploy",
        "-o",
        "custom-columns=NAME:.metadata.name,REPLICAS:.spec.replicas",
    ]);
    assert_eq!(cc, "NAME   REPLICAS\nweb    2\n");
    let by_label = s.ok(&["-n", "shop", "get", "cm,pods", "-l", "tier=backend", "-o", "name"]);
    assert_eq!(by_label, "configmap/settings\npod/solo\n");
    let by_field = s.ok(&[
        "-n",
        "shop",
        "get",
        "pods",
        "--field-selector",
        "status.phase=Pending",
        "-o",
        "name",
    ]);
    assert_eq!(by_field, "pod/solo\n");
    let all_ns = s.ok(&["get", "svc", "-A"]);
    assert!(
        all_ns.lines().next().unwrap_or_default().starts_with("NAMESPACE"),
        "{all_ns}"
    );
    assert!(
        all_ns
            .lines()
            .any(|l| l.starts_with("default") && l.contains("kubernetes") && l.contains("10.96.0.1")),
        "{all_ns}"
    );
    let labels = s.ok(&["-n", "shop", "get", "svc", "--show-labels"]);
    assert!(labels.contains("tier=frontend"), "{labels}");
    let sorted = s.ok(&["get", "ns", "--sort-by", ".metadata.name", "-o", "name"]);
    let names: Vec<&str> = sorted.lines().collect();
    let mut expected = names.clone();
    expected.sort();
    assert_eq!(names, expected);
    assert!(names.contains(&"namespace/kube-node-lease"));
    let cm_table = s.ok(&["-n", "shop", "get", "cm", "settings"]);
    assert!(
        cm_table
            .lines()
            .nth(1)
            .is_some_and(|l| l.split_whitespace().nth(1) == Some("1")),
        "{cm_table}"
    );
    let err = s.fails(&["-n", "shop", "get", "cm", "nope"]);
    assert_eq!(
        err.trim(),
        "Error from server (NotFound): configmaps \"nope\" not found"
    );
}

fn watch_sees_events(s: &ApiServer) {
    let mut child = s.spawn_kubectl(&["-n", "shop", "get", "cm", "-w", "--output-watch-events"]);
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // The initial list shows existing objects; then create and delete one.
    let header = rx.recv_timeout(Duration::from_secs(10)).expect("table header");
    let cols: Vec<&str> = header.split_whitespace().collect();
    assert_eq!(cols, ["EVENT", "NAME", "DATA", "AGE"]);
    let first = rx.recv_timeout(Duration::from_secs(10)).expect("initial event");
    assert!(first.starts_with("ADDED"), "{first}");
    s.ok(&["-n", "shop", "create", "cm", "watched", "--from-literal=x=1"]);
    s.ok(&["-n", "shop", "delete", "cm", "watched"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen: Vec<String> = Vec::new();
    let is = |l: &str, ev: &str| l.split_whitespace().take(2).eq([ev, "watched"]);
    while Instant::now() < deadline && !seen.iter().any(|l| is(l, "DELETED")) {
        if let Ok(l) = rx.recv_timeout(Duration::from_millis(200)) {
            seen.push(l);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(seen.iter().any(|l| is(l, "ADDED")), "{seen:?}");
    assert!(seen.iter().any(|l| is(l, "DELETED")), "{seen:?}");
}

fn describe_patch_label_scale(s: &ApiServer) {
    let d = s.ok(&["-n", "shop", "describe", "deploy", "web"]);
    assert!(
        d.lines()
            .any(|l| l.starts_with("Name:") && l.trim_end().ends_with("web")),
        "{d}"
    );
    assert!(d.contains("Replicas:") && d.contains("2 desired"), "{d}");
    let p = s.ok(&["-n", "shop", "describe", "pod", "solo"]);
    assert!(
        p.contains("Status:           Pending") || p.contains("Status:") && p.contains("Pending"),
        "{p}"
    );

    s.ok(&[
        "-n",
        "shop",
        "patch",
        "cm",
        "settings",
        "--type",
        "merge",
        "-p",
        r#"{"data":{"m":"merge"}}"#,
    ]);
    s.ok(&[
        "-n",
        "shop",
        "patch",
        "cm",
        "settings",
        "--type",
        "json",
        "-p",
        r#"[{"op":"add","path":"/data/j","value":"json"}]"#,
    ]);
    s.ok(&[
        "-n",
        "shop",
        "patch",
        "deploy",
        "web",
        "-p",
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"main","image":"nginx:1.27"}]}}}}"#,
    ]);
    assert_eq!(
        s.ok(&[
            "-n",
            "shop",
            "get",
            "cm",
            "settings",
            "-o",
            "jsonpath={.data.m},{.data.j}"
        ]),
        "merge,json"
    );
    let images = s.ok(&[
        "-n",
        "shop",
        "get",
        "deploy",
        "web",
        "-o",
        "jsonpath={.spec.template.spec.containers[*].image}",
    ]);
    assert_eq!(
        images, "nginx:1.27",
        "strategic merge keeps the list and changes one element"
    );
    let err = s.fails(&[
        "-n",
        "shop",
        "patch",
        "cm",
        "settings",
        "--type",
        "json",
        "-p",
        r#"[{"op":"test","path":"/data/m","value":"other"}]"#,
    ]);
    assert!(
        err.starts_with("The request is invalid: testing value /data/m failed"),
        "{err}"
    );

    assert_eq!(
        s.ok(&["-n", "shop", "label", "cm", "settings", "env=prod"]).trim(),
        "configmap/settings labeled"
    );
    assert_eq!(
        s.ok(&["-n", "shop", "annotate", "cm", "settings", "note=hi"]).trim(),
        "configmap/settings annotated"
    );
    assert_eq!(
        s.ok(&[
            "-n",
            "shop",
            "get",
            "cm",
            "settings",
            "-o",
            "jsonpath={.metadata.labels.env}/{.metadata.annotations.note}"
        ]),
        "prod/hi"
    );
    assert_eq!(
        s.ok(&["-n", "shop", "scale", "deploy", "web", "--replicas=5"]).trim(),
        "deployment.apps/web scaled"
    );
    assert_eq!(
        s.ok(&["-n", "shop", "get", "deploy", "web", "-o", "jsonpath={.spec.replicas}"]),
        "5"
    );
}

fn explain_and_diff(s: &ApiServer) {
    let e = s.ok(&["explain", "pod.spec.containers"]);
    assert!(
        e.contains("KIND:") && e.contains("Pod") && e.contains("FIELD: containers"),
        "{e}"
    );
    assert!(e.contains("image\t<string>") || e.contains("image"), "{e}");
    let f = s.file(
        "diff.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: shop\ndata:\n  color: red\n",
    );
    let out = s.kubectl(&["diff", "-f", &f]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "diff exits 1 on differences: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("-  color: blue") && text.contains("+  color: red"),
        "{text}"
    );
}

fn deletes(s: &ApiServer) {
    assert_eq!(
        s.ok(&["-n", "shop", "delete", "cm", "settings"]).trim(),
        "configmap \"settings\" deleted"
    );
    s.ok(&["-n", "shop", "create", "cm", "l1", "--from-literal=a=1"]);
    s.ok(&["-n", "shop", "create", "cm", "l2", "--from-literal=a=1"]);
    s.ok(&["-n", "shop", "label", "cm", "l1", "l2", "batch=x"]);
    let out = s.ok(&["-n", "shop", "delete", "cm", "-l", "batch=x"]);
    assert!(
        out.contains("configmap \"l1\" deleted") && out.contains("configmap \"l2\" deleted"),
        "{out}"
    );
    let f = s.file(
        "del.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: byfile\n  namespace: shop\n",
    );
    s.ok(&["apply", "-f", &f]);
    assert_eq!(s.ok(&["delete", "-f", &f]).trim(), "configmap \"byfile\" deleted");
    let left = s.ok(&["-n", "shop", "get", "cm", "-o", "name"]);
    assert!(!left.contains("l1") && !left.contains("byfile"), "{left}");
}

fn skew_1_27(s: &ApiServer) {
    let out = s.kubectl_v(27, &["get", "ns", "default", "-o", "name"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "namespace/default\n");
    let out = s.kubectl_v(27, &["-n", "shop", "get", "deploy"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("web"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = s.kubectl_v(27, &["-n", "shop", "create", "cm", "old-client", "--from-literal=a=b"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn transcript(store: Store) {
    let s = ApiServer::start(store);
    discovery(&s);
    create_and_apply(&s);
    three_way_merge(&s);
    server_side_apply(&s);
    get_outputs(&s);
    watch_sees_events(&s);
    describe_patch_label_scale(&s);
    explain_and_diff(&s);
    deletes(&s);
    skew_1_27(&s);
}

#[test]
fn kubectl_transcript_embedded_store() {
    transcript(Store::Embedded);
}

#[test]
fn kubectl_transcript_etcd() {
    transcript(Store::Etcd);
}
