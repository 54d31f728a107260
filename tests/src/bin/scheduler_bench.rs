//! Benchmark for kube-scheduler (not a test), like upstream scheduler_perf's SchedulingBasic:
//! a real kube-apiserver, the scheduler, N simulated nodes (`e2e::sim`), then M pods created at
//! once. Prints pods scheduled per second, p50/p99 per-pod latency (creation to nodeName seen),
//! scheduler CPU seconds and peak RSS. Workloads: `basic` (plain pods with requests) and
//! `affinity` (groups of 10 pods with required anti-affinity per host, spread over 10 zones).
//! The baseline in the same invocation is `direct`: the benchmark binds the pods itself,
//! round-robin and without any scheduling logic, measuring what the API server allows.
//! Build with `cargo build --release --workspace --bins`, then run
//! `target/release/scheduler-bench [--nodes 5000] [--pods 10000] [--workload direct,basic,affinity|all]`.

use e2e::sim::{NodeSpec, SimNodes};
use e2e::{ApiServer, Store, process_usage};
use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, PostParams};
use kube::runtime::watcher;
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Args {
    nodes: usize,
    pods: usize,
    workloads: Vec<String>,
}

fn parse_args() -> Args {
    let mut a = Args {
        nodes: 5000,
        pods: 10_000,
        workloads: vec!["direct".into(), "basic".into()],
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    for pair in argv.chunks(2) {
        let v = pair.get(1).cloned().unwrap_or_default();
        match pair[0].as_str() {
            "--nodes" => a.nodes = v.parse().unwrap_or(a.nodes),
            "--pods" => a.pods = v.parse().unwrap_or(a.pods),
            "--workload" if v == "all" => a.workloads = vec!["direct".into(), "basic".into(), "affinity".into()],
            "--workload" => a.workloads = v.split(',').map(String::from).collect(),
            other => {
                eprintln!("unknown argument {other}; see the file's header for usage");
                std::process::exit(2);
            }
        }
    }
    a
}

fn pod(workload: &str, i: usize) -> Pod {
    let mut p = json!({"metadata": {"name": format!("pod-{i}"), "labels": {"app": "bench"}},
        "spec": {"containers": [{"name": "app", "image": "registry.k8s.io/pause:3.10",
                 "resources": {"requests": {"cpu": "100m", "memory": "100Mi"}}}]}});
    if workload == "affinity" {
        let group = format!("g{}", i / 10);
        p["metadata"]["labels"]["group"] = group.clone().into();
        p["spec"]["affinity"] = json!({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": {"group": group}}, "topologyKey": "kubernetes.io/hostname"}]}});
        p["spec"]["topologySpreadConstraints"] = json!([{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
            "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": {"app": "bench"}}}]);
    }
    serde_json::from_value(p).unwrap_or_default()
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

async fn run(args: &Args, workload: &str) -> anyhow::Result<()> {
    let server = ApiServer::start(Store::Embedded);
    let client = server.client().await;
    let started = Instant::now();
    let mut spec = NodeSpec::new("node", args.nodes).capacity("32", "256Gi", 110);
    spec.lease_interval = None;
    spec.status_interval = None;
    spec.run_pods = false;
    let zones = 10;
    let sim = SimNodes::start(
        client.clone(),
        NodeSpec {
            count: 0,
            ..spec.clone()
        },
    )
    .await?;
    for z in 0..zones {
        let count = args.nodes / zones + usize::from(z < args.nodes % zones);
        let zoned = NodeSpec {
            prefix: format!("node-z{z}"),
            count,
            ..spec.clone()
        }
        .label("topology.kubernetes.io/zone", &format!("zone-{z}"));
        sim.add_nodes(&zoned).await?;
    }
    eprintln!(
        "[{workload}] {} nodes registered in {:.1?}",
        args.nodes,
        started.elapsed()
    );

    let scheduler = (workload != "direct").then(|| server.scheduler(&["--leader-elect=false"]));
    if let Some(s) = &scheduler {
        let wait = Instant::now();
        while !s.log().contains("caches synced") && wait.elapsed() < Duration::from_secs(60) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let cpu_before = scheduler.as_ref().map(|s| process_usage(s.pid()).0).unwrap_or(0.0);

    // Creation and scheduling times per pod, seen by one watch.
    let created: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let scheduled: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    let watch = {
        let (pods, scheduled) = (pods.clone(), scheduled.clone());
        tokio::spawn(async move {
            let mut stream = watcher(pods, watcher::Config::default()).boxed();
            while let Some(Ok(ev)) = stream.next().await {
                if let watcher::Event::Apply(p) | watcher::Event::InitApply(p) = ev
                    && p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_some()
                {
                    let name = p.metadata.name.unwrap_or_default();
                    scheduled
                        .lock()
                        .map(|mut m| m.entry(name).or_insert_with(Instant::now).to_owned())
                        .ok();
                }
            }
        })
    };
    let node_names = sim.node_names();
    let t0 = Instant::now();
    futures::stream::iter(0..args.pods)
        .map(|i| {
            let (pods, created, nodes) = (pods.clone(), created.clone(), &node_names);
            async move {
                let p = pod(workload, i);
                let name = p.metadata.name.clone().unwrap_or_default();
                if let Ok(mut m) = created.lock() {
                    m.insert(name.clone(), Instant::now());
                }
                if let Err(e) = pods.create(&PostParams::default(), &p).await {
                    eprintln!("create {name}: {e}");
                    return;
                }
                if workload == "direct" {
                    let binding = json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": name},
                        "target": {"apiVersion": "v1", "kind": "Node", "name": nodes[i % nodes.len()]}});
                    let r = pods
                        .create_subresource::<_, serde_json::Value>("binding", &name, &PostParams::default(), &binding)
                        .await;
                    if let Err(e) = r {
                        eprintln!("bind {name}: {e}");
                    }
                }
            }
        })
        .buffer_unordered(64)
        .for_each(|_| async {})
        .await;
    let created_in = t0.elapsed();
    let deadline = Instant::now() + Duration::from_secs(600);
    while scheduled.lock().map(|m| m.len()).unwrap_or(0) < args.pods && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let wall = t0.elapsed();
    watch.abort();
    let (created, scheduled) = (
        created.lock().map(|m| m.clone()).unwrap_or_default(),
        scheduled.lock().map(|m| m.clone()).unwrap_or_default(),
    );
    let mut lat: Vec<Duration> = scheduled
        .iter()
        .filter_map(|(n, t)| created.get(n).map(|c| t.saturating_duration_since(*c)))
        .collect();
    lat.sort();
    let last = scheduled.values().max().map(|t| t.duration_since(t0)).unwrap_or(wall);
    let (cpu, rss) = scheduler.as_ref().map(|s| process_usage(s.pid())).unwrap_or((0.0, 0.0));
    println!(
        "{workload:>9}: {} nodes, {}/{} pods scheduled in {:.2}s (created in {:.2}s): {:.0} pods/s, latency p50 {:.0?} p99 {:.0?}; scheduler CPU {:.2}s, peak RSS {:.0} MiB",
        args.nodes,
        scheduled.len(),
        args.pods,
        last.as_secs_f64(),
        created_in.as_secs_f64(),
        scheduled.len() as f64 / last.as_secs_f64().max(1e-9),
        pct(&lat, 0.5),
        pct(&lat, 0.99),
        cpu - cpu_before,
        rss,
    );
    drop(sim);
    Ok(())
}

#[tokio::main]
async fn main() {
    let args = parse_args();
    for w in args.workloads.clone() {
        if !matches!(w.as_str(), "basic" | "affinity" | "direct") {
            eprintln!("unknown workload {w:?}");
            std::process::exit(2);
        }
        if let Err(e) = run(&args, &w).await {
            eprintln!("{w}: {e:#}");
            std::process::exit(1);
        }
    }
}
