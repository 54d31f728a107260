//! Parity of our kubectl with upstream kubectl 1.33: the same command lines run with both
//! binaries against one server, kubeconfig and discovery cache; stdout, stderr and the exit
//! code must match, with only AGE-like durations (and, for `version`, the version fields)
//! masked. Commands that write kubeconfig files run on separate copies, and the files
//! written must match too.

use e2e::{ApiServer, Store, binary, kubectl_path};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const STATE: &str = r#"apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: shop
  labels: {tier: backend, app.kubernetes.io/name: shop}
data:
  color: blue
  "true": "yes"
  count: "123"
  script: |
    echo one
    echo two
  message: "a long message that goes on and on, well past the eighty columns where go-yaml folds plain strings onto a new line"
  stamp: "2024-05-01T10:00:00Z"
  html: "<b>&amp;</b>"
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
"#;

/// A second kubeconfig file, merged after the server's through `$KUBECONFIG`.
const EXTRA_CONFIG: &str = r#"apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster:
    server: https://shadowed.invalid:1
- name: other
  cluster:
    server: https://127.0.0.1:1
    certificate-authority-data: YWJj
    insecure-skip-tls-verify: false
users:
- name: bob
  user:
    client-certificate-data: YWJj
    client-key-data: YWJj
- name: plugin
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: ./get-token
      args: [--audience, x]
contexts:
- name: other
  context: {cluster: other, user: bob, namespace: dev}
- name: zz-plugin
  context: {cluster: other, user: plugin}
current-context: other
preferences: {}
"#;

/// What to mask before comparing.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Mask {
    /// Durations such as `5s`, `3m2s`, `2d` (AGE columns).
    Age,
    /// Version fields of `kubectl version`.
    Version,
    /// Ages, plus the node heartbeat times in `describe node` (the Lease's `RenewTime:` and
    /// each condition's LastHeartbeatTime): simulated kubelets rewrite them every few
    /// seconds, so one may change between the two runs. Every other time is compared.
    Heartbeats,
    /// `kubectl diff` output: temporary directory names, file times, uids and timestamps.
    Diff,
}

pub(crate) struct Row {
    pub(crate) args: Vec<String>,
    pub(crate) mask: Mask,
    /// Runs on a private copy of the kubeconfig (the command writes it).
    pub(crate) writes: bool,
    /// Uses the two-file `$KUBECONFIG` instead of the server's kubeconfig alone.
    pub(crate) merged: bool,
    /// Command lines run with upstream kubectl before each side, so both start from the
    /// same state (for rows that change the server).
    pub(crate) setup: Vec<String>,
    /// `@@` in the arguments becomes `sideu` for upstream and `sideo` for ours (so commands
    /// that write work on separate namespaces or names), and both back to `@@` in the output.
    pub(crate) sides: bool,
}

pub(crate) fn row(args: &str) -> Row {
    Row {
        args: split(args),
        mask: Mask::Age,
        writes: false,
        merged: false,
        setup: Vec::new(),
        sides: false,
    }
}

/// A row that changes the server: `setup` restores the state before each side runs.
pub(crate) fn row_after(setup: &[&str], args: &str) -> Row {
    let mut r = row(args);
    r.setup = setup.iter().map(|s| s.to_string()).collect();
    r
}

/// Splits a command line on spaces, keeping single-quoted parts together.
pub(crate) fn split(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            ' ' if !quoted => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            c => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn rows() -> Vec<Row> {
    let mut rows: Vec<Row> = [
        // get, human output
        "get ns",
        "get pods",
        "get cm -n shop",
        "get svc -A",
        "get deploy -n shop -o wide",
        "get pods,svc,cm -n shop",
        "get all -n shop",
        "get cm,svc -A",
        "get cm -n shop --show-labels",
        "get cm -n shop -L tier,app.kubernetes.io/name -L nope",
        "get svc -n shop --no-headers",
        "get pods -n shop --no-headers -o wide",
        "get svc/web deploy/web -n shop",
        "get deployments.apps -n shop",
        "get svc -A --sort-by=.metadata.name",
        "get pods -n shop --chunk-size=1",
        "get pods -n shop -l app=web",
        "get pods -n shop -l 'app in (web),tier!=x' -o name",
        "get svc -A --field-selector metadata.namespace=shop",
        "get nodes",
        "get pods -n empty",
        "get cm -n shop --show-kind",
        // other output forms
        "get cm settings -n shop -o yaml",
        "get cm settings -n shop -o json",
        "get deploy web -n shop -o yaml",
        "get svc -n shop -o json",
        "get ns -o yaml",
        "get pods -n shop -o name",
        "get deploy,svc -n shop -o name",
        "get ns -o jsonpath='{.items[*].metadata.name}'",
        "get pods -n shop -o jsonpath='{range .items[*]}{.metadata.name}{\"\\t\"}{.spec.containers[0].image}{\"\\n\"}{end}'",
        "get deployments.v1.apps web -n shop -o jsonpath='{.spec.replicas}'",
        "get svc -A -o custom-columns=NAME:.metadata.name,NS:.metadata.namespace,PORTS:.spec.ports[*].port,X:.nope",
        "get pods -n shop --sort-by=.metadata.name -o custom-columns=NAME:.metadata.name --no-headers",
        "get pods -n shop -o go-template='{{range .items}}{{.metadata.name}}{{\"\\t\"}}{{.spec.nodeName}}{{\"\\n\"}}{{end}}'",
        "get cm settings -n shop -o go-template='{{range $k, $v := .data}}{{printf \"%-8s=%q\\n\" $k $v}}{{end}}{{.metadata.nope}} {{len .metadata.managedFields}}'",
        "get deploy web -n shop -o template='{{if gt .spec.replicas 1}}many{{else if .spec.replicas}}one{{else}}none{{end}} {{with .spec.template.spec}}{{(index .containers 0).image}}{{end}}'",
        "get ns -o go-template='{{- range .items -}} {{.metadata.name | printf \"%s;\"}} {{- end}}'",
        "get cm settings -n shop -o jsonpath='{.metadata.managedFields[0].manager}'",
        "get pods -n shop -o go-template='{{.kind'",
        "get pods -n shop -o go-template='{{nosuch .kind}}'",
        "get pods -n shop -o go-template",
        "get cm settings -n shop -o go-template='{{range .metadata.name}}x{{end}}'",
        "get cm settings -n shop -o go-template='{{.metadata.name.x}}'",
        "get cm settings -n shop -o go-template='{{.metadata.name | printf \"%s\" | len | index .data}}'",
        "get ev -n shop",
        "get -f named.yaml",
        "get -f named.yaml -o name",
        "get -f named-missing.yaml",
        "get -f named-missing.yaml -o yaml",
        "get -f named.yaml pods",
        "get -f named.yaml -w",
        // errors
        "get",
        "get foo",
        "get cm nope -n shop",
        "get cm settings nope -n shop",
        "get cm nope -n shop --ignore-not-found",
        "get pods --foo",
        "get pods -x",
        "get pods -n",
        "get pods -A=maybe",
        "get pods -o bogus",
        "gte pods",
        "rollut status deploy/web",
        "lable pods x a=b",
        "xyzzy",
        "create foo",
        // discovery
        "api-resources",
        "api-resources -o wide",
        "api-resources -o name",
        "api-resources --namespaced=false",
        "api-resources --api-group=apps --verbs=list,watch",
        "api-versions",
        "cluster-info",
        "get --raw /readyz",
    ]
    .iter()
    .map(|s| row(s))
    .collect();
    // kubeconfig handling, on the two-file $KUBECONFIG
    for line in [
        "config view",
        "config view --raw",
        "config view --minify",
        "config view -o json",
        "config view --minify --raw -o json",
        "config view -o jsonpath='{.contexts[*].name}'",
        "config get-contexts",
        "config get-contexts other",
        "config get-contexts nope",
        "config get-contexts -o name",
        "config current-context",
        "config view --context=e2e --minify",
        "get pods --context=e2e",
        "get pods --context=nope",
        "config view --foo",
    ] {
        let mut r = row(line);
        r.merged = true;
        rows.push(r);
    }
    for line in [
        "config use-context e2e",
        "config use-context nope",
        "config set-context new --cluster=other --namespace=ns1",
        "config set-context other --user=plugin",
        "config set-context --current --namespace=bar",
        "config set-cluster extra --server=https://x:1 --insecure-skip-tls-verify=true",
        "config set-credentials carol --token=abc",
        "config set-credentials bob --username=bob --password=pw",
        "config delete-context zz-plugin",
        "config delete-context nope",
    ] {
        let mut r = row(line);
        r.merged = true;
        r.writes = true;
        rows.push(r);
    }
    for line in ["version --client -o json", "version --client -o yaml"] {
        let mut v = row(line);
        v.mask = Mask::Version;
        rows.push(v);
    }
    rows
}

fn is_duration(token: &str) -> bool {
    let mut digits = false;
    let mut units = 0;
    for c in token.chars() {
        if c.is_ascii_digit() {
            digits = true;
        } else if matches!(c, 'd' | 'h' | 'm' | 's' | 'y') && digits {
            units += 1;
            digits = false;
        } else {
            return false;
        }
    }
    units > 0 && !digits
}

/// Replaces each duration token, and the padding after it, with `AGE `.
pub(crate) fn mask_ages(text: &str) -> String {
    text.lines()
        .map(|line| {
            let mut out = String::new();
            let mut rest = line;
            while !rest.is_empty() {
                let start = rest.find(|c: char| c != ' ').unwrap_or(rest.len());
                out.push_str(&rest[..start]);
                rest = &rest[start..];
                let end = rest.find(' ').unwrap_or(rest.len());
                let token = &rest[..end];
                rest = &rest[end..];
                if is_duration(token) {
                    out.push_str("AGE");
                    let spaces = rest.find(|c: char| c != ' ').unwrap_or(rest.len());
                    if spaces > 0 && spaces < rest.len() {
                        out.push(' ');
                    }
                    rest = &rest[spaces..];
                } else {
                    out.push_str(token);
                }
            }
            out + "\n"
        })
        .collect()
}

/// Byte offsets of Go RFC1123Z times (`Mon, 02 Jan 2006 15:04:05 -0700`) in `line`.
fn rfc1123z_times(line: &str) -> Vec<usize> {
    const SHAPE: &str = "Aaa, 00 Aaa 0000 00:00:00 +0000";
    let b = line.as_bytes();
    let fits = |at: usize| {
        SHAPE.bytes().enumerate().all(|(i, s)| {
            let Some(&c) = b.get(at + i) else { return false };
            match s {
                b'A' => c.is_ascii_uppercase(),
                b'a' => c.is_ascii_lowercase(),
                b'0' => c.is_ascii_digit(),
                b'+' => c == b'+' || c == b'-',
                other => c == other,
            }
        })
    };
    (0..b.len()).filter(|&i| fits(i)).collect()
}

/// Replaces the heartbeat times of `describe node` with a placeholder of the same width.
pub(crate) fn mask_heartbeats(text: &str) -> String {
    const HIDDEN: &str = "HEARTBEAT-TIME-MASKED----------";
    text.lines()
        .map(|line| {
            let times = rfc1123z_times(line);
            // A RenewTime line has one time; a node condition row has the heartbeat first,
            // then the transition time.
            let renew = line.trim_start().starts_with("RenewTime:") && times.len() == 1;
            let at = if renew || times.len() == 2 { times.first() } else { None };
            match at {
                Some(&i) => format!("{}{HIDDEN}{}\n", &line[..i], &line[i + HIDDEN.len()..]),
                None => format!("{line}\n"),
            }
        })
        .collect()
}

fn mask_version(text: &str) -> String {
    text.lines()
        .map(|l| {
            let key = l.trim_start().split(':').next().unwrap_or_default();
            let masked = ["gitVersion", "gitCommit", "buildDate", "goVersion", "compiler"];
            if masked.contains(&key.trim_matches('"')) {
                format!(
                    "{}: \"X\"{}\n",
                    &l[..l.find(':').unwrap_or(0)],
                    if l.ends_with(',') { "," } else { "" }
                )
            } else {
                format!("{l}\n")
            }
        })
        .collect()
}

struct Run {
    stdout: String,
    stderr: String,
    code: i32,
    file: String,
}

/// Runs a row with `@@` replaced by `side`, and `side` masked back to `@@` in the output.
fn run_side(server: &ApiServer, exe: &Path, r: &Row, kubeconfig: &str, cwd: &Path, side: &str) -> Run {
    let sided = Row {
        args: r.args.iter().map(|a| a.replace("@@", side)).collect(),
        mask: r.mask,
        writes: r.writes,
        merged: r.merged,
        sides: false,
        setup: Vec::new(),
    };
    let out = run(server, exe, &sided, kubeconfig, cwd);
    Run {
        stdout: out.stdout.replace(side, "@@"),
        stderr: out.stderr.replace(side, "@@"),
        code: out.code,
        file: out.file,
    }
}

/// Masks what differs between two runs of `kubectl diff`: the temporary directories, the
/// file times on `---`/`+++` lines, and per-object uids, timestamps and versions.
fn mask_diff(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let mut l = line.to_string();
        for prefix in ["/tmp/LIVE-", "/tmp/MERGED-"] {
            while let Some(i) = l.find(prefix) {
                let start = i + prefix.len();
                let end = l[start..]
                    .find(|c: char| !c.is_ascii_digit())
                    .map_or(l.len(), |e| start + e);
                l.replace_range(i..end, prefix.trim_start_matches("/tmp/").trim_end_matches('-'));
            }
        }
        if (l.starts_with("--- ") || l.starts_with("+++ ")) && l.contains('\t') {
            l.truncate(l.find('\t').unwrap_or(l.len()));
        }
        for key in ["uid: ", "creationTimestamp: ", "resourceVersion: "] {
            if let Some(i) = l.find(key) {
                l.truncate(i + key.len());
                l.push('X');
            }
        }
        out.push_str(&l);
        out.push('\n');
    }
    out
}

fn run(server: &ApiServer, exe: &Path, r: &Row, kubeconfig: &str, cwd: &Path) -> Run {
    let out = Command::new(exe)
        .args(&r.args)
        .env("KUBECONFIG", kubeconfig)
        .env("KUBECACHEDIR", server.dir.path().join("cache"))
        .env("HOME", server.dir.path())
        .current_dir(cwd)
        .stdin(Stdio::null())
        .output()
        .expect("kubectl runs");
    let mask = |s: &[u8]| {
        let text = String::from_utf8_lossy(s);
        match r.mask {
            Mask::Age => mask_ages(&text),
            Mask::Heartbeats => mask_heartbeats(&mask_ages(&text)),
            Mask::Version => mask_version(&text),
            Mask::Diff => mask_diff(&text),
        }
    };
    let file = if r.writes {
        std::fs::read_to_string(cwd.join("config-a")).unwrap_or_default()
    } else {
        String::new()
    };
    Run {
        stdout: mask(&out.stdout),
        stderr: mask(&out.stderr),
        code: out.status.code().unwrap_or(-1),
        file,
    }
}

#[test]
fn kubectl_parity() {
    let server = ApiServer::start(Store::Embedded);
    let state = server.file("state.yaml", STATE);
    server.ok(&["apply", "-f", &state]);
    for i in 1..=3 {
        let name = format!("p{i}");
        let label = format!("app=web,idx={i}");
        server.ok(&["run", &name, "-n", "shop", "--image=nginx:1.25", "-l", &label]);
    }
    // Objects named by files, for `get -f`: two kinds, one missing.
    let named = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: shop}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n";
    server.file("named.yaml", named);
    server.file(
        "named-missing.yaml",
        &format!("{named}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: nope}}\n"),
    );
    check_rows(&server, "get, config and discovery", &rows());
}

/// Runs every row with upstream kubectl 1.33 and ours against `server` and asserts that
/// they print the same; prints "kubectl parity (<label>): N/M command lines match".
pub(crate) fn check_rows(server: &ApiServer, label: &str, rows: &[Row]) {
    let dir = server.dir.path();
    let extra = server.file("extra-config", EXTRA_CONFIG);
    let merged = format!("{}:{extra}", server.kubeconfig.display());
    let ours = binary("kubectl");
    let upstream = kubectl_path(33);
    let mut matched = 0;
    let mut failures = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let (u, o) = if r.writes {
            // Each binary writes its own copies, in its own directory under the same names.
            let mut result = Vec::new();
            for (side, exe) in [("u", &upstream), ("o", &ours)] {
                let cwd: PathBuf = dir.join(format!("row{i}-{side}"));
                std::fs::create_dir_all(&cwd).expect("row dir");
                std::fs::copy(&server.kubeconfig, cwd.join("config-a")).expect("copy");
                std::fs::copy(&extra, cwd.join("config-b")).expect("copy");
                result.push(run(server, exe, r, "config-a:config-b", &cwd));
            }
            let o = result.pop().expect("ours");
            let u = result.pop().expect("upstream");
            (u, o)
        } else {
            let kc = if r.merged {
                merged.clone()
            } else {
                server.kubeconfig.display().to_string()
            };
            let reset = || {
                for line in &r.setup {
                    let _ = server.kubectl(&split(line).iter().map(String::as_str).collect::<Vec<_>>());
                }
            };
            if r.sides {
                reset();
                let u = run_side(server, &upstream, r, &kc, dir, "sideu");
                reset();
                (u, run_side(server, &ours, r, &kc, dir, "sideo"))
            } else {
                reset();
                let u = run(server, &upstream, r, &kc, dir);
                reset();
                (u, run(server, &ours, r, &kc, dir))
            }
        };
        let line = r.args.join(" ");
        if u.stdout == o.stdout && u.stderr == o.stderr && u.code == o.code && u.file == o.file {
            matched += 1;
        } else {
            failures.push(format!(
                "kubectl {line}\n--- upstream (exit {}):\n{}{}{}--- ours (exit {}):\n{}{}{}",
                u.code, u.stdout, u.stderr, u.file, o.code, o.stdout, o.stderr, o.file
            ));
        }
    }
    println!("kubectl parity ({label}): {matched}/{} command lines match", rows.len());
    assert!(
        failures.is_empty(),
        "command lines that differ:\n{}",
        failures.join("\n")
    );
}

#[test]
fn masking() {
    assert_eq!(
        mask_ages("web   1/1   5s\nx     0/1   3m2s\n"),
        "web   1/1   AGE\nx     0/1   AGE\n"
    );
    assert_eq!(mask_ages("a   12m   <none>\n"), "a   AGE <none>\n");
    assert_eq!(mask_ages("pods   3s1   x\n"), "pods   3s1   x\n");
    assert_eq!(split("get -o 'a b' x"), vec!["get", "-o", "a b", "x"]);
    let node = "  RenewTime:  Sun, 22 Nov 2026 11:58:20 +0000\n  Ready  True  Sun, 22 Nov 2026 11:58:20 +0000  Sun, 22 Nov 2026 11:50:00 -0700  KubeletReady\nCreationTimestamp:  Sun, 22 Nov 2026 11:50:00 +0000\n";
    assert_eq!(
        mask_heartbeats(node),
        "  RenewTime:  HEARTBEAT-TIME-MASKED----------\n  Ready  True  HEARTBEAT-TIME-MASKED----------  Sun, 22 Nov 2026 11:50:00 -0700  KubeletReady\nCreationTimestamp:  Sun, 22 Nov 2026 11:50:00 +0000\n"
    );
    assert_eq!(
        mask_version("  \"gitVersion\": \"v1\",\n  gitCommit: abc\n"),
        "  \"gitVersion\": \"X\",\n  gitCommit: \"X\"\n"
    );
}

/// A kubeconfig user with an exec credential plugin: both binaries run it (with the
/// ExecCredential request in `KUBERNETES_EXEC_INFO`) and authenticate with the token it
/// prints.
#[test]
fn exec_credential_plugin() {
    let server = ApiServer::start(Store::Embedded);
    let dir = server.dir.path();
    let log = dir.join("plugin.log");
    let plugin = server.file(
        "get-token",
        &format!(
            "#!/bin/sh\necho \"$1 $KUBERNETES_EXEC_INFO\" >> {}\necho '{{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"{}\"}}}}'\n",
            log.display(),
            e2e::ADMIN_TOKEN
        ),
    );
    std::fs::set_permissions(&plugin, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
    let kubeconfig = std::fs::read_to_string(&server.kubeconfig)
        .expect("kubeconfig")
        .replace(
            &format!("token: {}", e2e::ADMIN_TOKEN),
            &format!(
                "exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: {plugin}\n      args: [--audience]\n      interactiveMode: Never"
            ),
        );
    let config = server.file("exec-config", &kubeconfig);
    let mut calls = Vec::new();
    for exe in [kubectl_path(33), binary("kubectl")] {
        let _ = std::fs::remove_file(&log);
        let out = Command::new(&exe)
            .args(["get", "ns", "default", "-o", "name"])
            .env("KUBECONFIG", &config)
            .env("HOME", dir)
            .output()
            .expect("kubectl runs");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "namespace/default\n",
            "{}: {}",
            exe.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        calls.push(std::fs::read_to_string(&log).expect("plugin ran"));
    }
    // Ours runs the plugin once per process.
    assert_eq!(calls[1].lines().count(), 1, "{}", calls[1]);
    for l in calls.concat().lines().filter(|l| !l.is_empty()) {
        assert!(
            l.starts_with("--audience ") && l.contains("\"kind\":\"ExecCredential\""),
            "{l}"
        );
    }
}
