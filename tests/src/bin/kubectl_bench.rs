//! Benchmark for our kubectl (not a test): wall time of `kubectl get pods` and
//! `kubectl get pods -o yaml` over 100 pods, and of `kubectl apply -f` of a file with 50
//! ConfigMaps into a fresh namespace per run, ours and upstream kubectl 1.33 side by side on
//! the same kube-apiserver, kubeconfig and (warm) discovery cache; median of 10 runs each.
//! Build with `cargo build --release -p kubectl -p kube-apiserver -p e2e --bins`, then run
//! `target/release/kubectl-bench [--pods 100] [--runs 10]`.

use e2e::{ApiServer, Store, binary, kubectl_path};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn parse_args() -> (usize, usize) {
    let (mut pods, mut runs) = (100, 10);
    let argv: Vec<String> = std::env::args().skip(1).collect();
    for pair in argv.chunks(2) {
        let v = pair.get(1).cloned().unwrap_or_default();
        match pair[0].as_str() {
            "--pods" => pods = v.parse().unwrap_or(pods),
            "--runs" => runs = v.parse().unwrap_or(runs),
            other => {
                eprintln!("unknown argument {other}; see the file's header for usage");
                std::process::exit(2);
            }
        }
    }
    (pods, runs.max(1))
}

/// One run's wall time, or None when the command failed.
fn time_once(server: &ApiServer, exe: &Path, args: &[&str]) -> Option<Duration> {
    let start = Instant::now();
    let status = Command::new(exe)
        .args(args)
        .env("KUBECONFIG", &server.kubeconfig)
        .env("KUBECACHEDIR", server.dir.path().join("cache"))
        .env("HOME", server.dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()?;
    let took = start.elapsed();
    status.success().then_some(took)
}

/// `apply -f` of the 50-ConfigMap file into a new namespace per run (created untimed).
fn median_apply(exe: &Path, server: &ApiServer, file: &str, label: &str, runs: usize) -> Option<Duration> {
    let mut times = Vec::with_capacity(runs);
    for i in 0..=runs {
        let ns = format!("bench-{label}-{i}");
        server.ok(&["create", "namespace", &ns]);
        let took = time_once(server, exe, &["apply", "-f", file, "-n", &ns])?;
        // The first run only warms the caches.
        if i > 0 {
            times.push(took);
        }
    }
    times.sort();
    Some(times[times.len() / 2])
}

fn median(exe: &Path, server: &ApiServer, args: &[&str], runs: usize) -> Option<Duration> {
    // One untimed run first: both binaries then find a warm discovery cache.
    time_once(server, exe, args)?;
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        times.push(time_once(server, exe, args)?);
    }
    times.sort();
    Some(times[times.len() / 2])
}

fn ms(d: Option<Duration>) -> String {
    d.map(|d| format!("{:.1} ms", d.as_secs_f64() * 1000.0))
        .unwrap_or_else(|| "failed".into())
}

fn main() {
    let (pods, runs) = parse_args();
    let server = ApiServer::start(Store::Embedded);
    let mut manifest = String::new();
    for i in 0..pods {
        manifest.push_str(&format!(
            "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: pod-{i}\n  labels: {{app: bench}}\nspec:\n  containers:\n  - name: app\n    image: registry.k8s.io/pause:3.10\n"
        ));
    }
    let file = server.file("pods.yaml", &manifest);
    server.ok(&["create", "-f", &file]);
    let ours = binary("kubectl");
    let upstream = kubectl_path(33);
    println!("kubectl get, {pods} pods, median of {runs} runs (warm discovery cache)");
    println!(
        "{:<22} {:>12} {:>16} {:>8}",
        "command", "ours", "upstream 1.33", "ratio"
    );
    for args in [&["get", "pods"][..], &["get", "pods", "-o", "yaml"][..]] {
        let o = median(&ours, &server, args, runs);
        let u = median(&upstream, &server, args, runs);
        let ratio = match (o, u) {
            (Some(o), Some(u)) if !o.is_zero() => format!("{:.1}x", u.as_secs_f64() / o.as_secs_f64()),
            _ => "-".into(),
        };
        println!(
            "{:<22} {:>12} {:>16} {:>8}",
            format!("kubectl {}", args.join(" ")),
            ms(o),
            ms(u),
            ratio
        );
    }
    let mut cms = String::new();
    for i in 0..50 {
        cms.push_str(&format!(
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\n  labels: {{app: bench}}\ndata:\n  key: value-{i}\n"
        ));
    }
    let cm_file = server.file("configmaps.yaml", &cms);
    let o = median_apply(&ours, &server, &cm_file, "o", runs);
    let u = median_apply(&upstream, &server, &cm_file, "u", runs);
    let ratio = match (o, u) {
        (Some(o), Some(u)) if !o.is_zero() => format!("{:.1}x", u.as_secs_f64() / o.as_secs_f64()),
        _ => "-".into(),
    };
    println!(
        "{:<22} {:>12} {:>16} {:>8}",
        "kubectl apply -f (50 cm)",
        ms(o),
        ms(u),
        ratio
    );
}
