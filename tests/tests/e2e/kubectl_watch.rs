//! `kubectl get --watch`: upstream kubectl 1.33 and ours watch the same changes (a ConfigMap
//! created, relabelled and deleted, another relabelled) in every output form, ending at
//! `--request-timeout`; their outputs must match once ages and per-object identities are
//! masked.

use super::kubectl_parity::mask_ages;
use e2e::{ApiServer, binary, kubectl_path};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const CASES: &[&str] = &[
    "get cm -n w -w",
    "get cm -n w --watch-only",
    "get cm -n w -w --output-watch-events",
    "get cm -A -w -o wide -l tier",
    "get cm -n w -w --show-labels --no-headers",
    "get cm w0 -n w -w",
    "get cm w0 -n w --watch-only -o yaml --output-watch-events",
    "get cm -n w -w -o yaml",
    "get cm -n w -w -o json",
    "get cm -n w -w -o json --output-watch-events",
    "get cm -n w -w -o name",
    "get cm -n w -w -o jsonpath={.metadata.name}:{.metadata.labels.a}{\"\\n\"}",
    "get cm -n w -w -o custom-columns=N:.metadata.name,A:.metadata.labels.a",
    "get cm,secret -n w -w",
    "get cm nope -n w -w",
];

/// Values that differ between the two runs because the watched ConfigMap is created anew.
fn mask_identities(text: &str) -> String {
    let mut out = text.to_string();
    for key in ["uid", "creationTimestamp", "resourceVersion", "time"] {
        for (open, close) in [
            (format!("\"{key}\":\""), '"'),
            (format!("\"{key}\": \""), '"'),
            (format!("{key}: "), '\n'),
        ] {
            let mut masked = String::new();
            let mut rest = out.as_str();
            while let Some(i) = rest.find(&open) {
                let start = i + open.len();
                masked.push_str(&rest[..start]);
                let end = rest[start..].find(close).map_or(rest.len(), |e| start + e);
                masked.push('X');
                rest = &rest[end..];
            }
            masked.push_str(rest);
            out = masked;
        }
    }
    out
}

fn watch(server: &ApiServer, exe: &Path, args: &[&str]) -> (String, i32) {
    // The starting state: w0 labelled a=0, no w1.
    server.kubectl(&["delete", "cm", "w1", "-n", "w", "--ignore-not-found"]);
    server.ok(&["label", "cm", "w0", "-n", "w", "a=0", "--overwrite"]);
    let child = Command::new(exe)
        .args(args)
        .args(["--request-timeout=5s"])
        .env("KUBECONFIG", &server.kubeconfig)
        .env("HOME", server.dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubectl runs");
    // Time to start and list before the changes, which then arrive well before the timeout.
    std::thread::sleep(Duration::from_millis(2000));
    server.ok(&["create", "cm", "w1", "-n", "w"]);
    server.ok(&["label", "cm", "w1", "-n", "w", "a=b"]);
    server.ok(&["label", "cm", "w0", "-n", "w", "a=1", "--overwrite"]);
    server.ok(&["delete", "cm", "w1", "-n", "w"]);
    let out = child.wait_with_output().expect("kubectl ends");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (mask_identities(&mask_ages(&text)), out.status.code().unwrap_or(-1))
}

#[test]
fn kubectl_watch_parity() {
    let server = ApiServer::start_rbac();
    server.ok(&["create", "ns", "w"]);
    server.ok(&["create", "cm", "w0", "-n", "w", "--from-literal=k=v"]);
    server.ok(&["label", "cm", "w0", "-n", "w", "tier=x"]);
    let (ours, upstream) = (binary("kubectl"), kubectl_path(33));
    let mut failures = Vec::new();
    for case in CASES {
        let args: Vec<&str> = case.split(' ').collect();
        let u = watch(&server, &upstream, &args);
        let o = watch(&server, &ours, &args);
        if u != o {
            failures.push(format!(
                "kubectl {case}\n--- upstream (exit {}):\n{}--- ours (exit {}):\n{}",
                u.1, u.0, o.1, o.0
            ));
        }
    }
    println!(
        "kubectl parity (watch): {}/{} command lines match",
        CASES.len() - failures.len(),
        CASES.len()
    );
    assert!(
        failures.is_empty(),
        "command lines that differ:\n{}",
        failures.join("\n")
    );
}

#[test]
fn masking_hides_identities_only() {
    let text = "uid: abc\nname: w1\n{\"uid\":\"x-y\",\"name\":\"w1\"}\n    \"resourceVersion\": \"12\",\n";
    assert_eq!(
        mask_identities(text),
        "uid: X\nname: w1\n{\"uid\":\"X\",\"name\":\"w1\"}\n    \"resourceVersion\": \"X\",\n"
    );
}
