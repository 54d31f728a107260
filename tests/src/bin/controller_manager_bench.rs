//! Benchmark for kube-controller-manager (not a test): a real kube-apiserver, kube-scheduler,
//! kube-controller-manager with every default controller, and N simulated nodes (`e2e::sim`);
//! then D Deployments of R replicas created at once. Prints how long until all D×R pods are
//! Running, the time to the first and to half of them, and the controller-manager's (and the
//! scheduler's) CPU seconds and peak RSS. Build with `cargo build --release --workspace --bins`,
//! then run `target/release/controller-manager-bench [--nodes 500] [--deployments 100] [--replicas 100]`.

use e2e::sim::{NodeSpec, SimNodes};
use e2e::{ApiServer, Store, process_usage};
use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, PostParams};
use kube::runtime::watcher;
use serde_json::json;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Args {
    nodes: usize,
    deployments: usize,
    replicas: usize,
}

fn parse_args() -> Args {
    let mut a = Args {
        nodes: 500,
        deployments: 100,
        replicas: 100,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    for pair in argv.chunks(2) {
        let v = pair.get(1).and_then(|v| v.parse().ok());
        match (pair[0].as_str(), v) {
            ("--nodes", Some(n)) => a.nodes = n,
            ("--deployments", Some(n)) => a.deployments = n,
            ("--replicas", Some(n)) => a.replicas = n,
            (other, _) => {
                eprintln!("bad argument {other}; see the file's header for usage");
                std::process::exit(2);
            }
        }
    }
    a
}

fn deployment(i: usize, replicas: usize) -> Deployment {
    let app = format!("app-{i}");
    serde_json::from_value(json!({
        "metadata": {"name": app},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": app}},
            "template": {"metadata": {"labels": {"app": app}},
                "spec": {"containers": [{"name": "app", "image": "registry.k8s.io/pause:3.10",
                    "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}}},
    }))
    .unwrap_or_default()
}

fn running(p: &Pod) -> bool {
    p.metadata.deletion_timestamp.is_none() && p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
}

async fn run(args: &Args) -> anyhow::Result<()> {
    let server = ApiServer::start(Store::Embedded);
    let client = server.client().await;
    let t = Instant::now();
    let spec = NodeSpec::new("node", args.nodes).capacity("64", "256Gi", 110);
    let _sim = SimNodes::start(client.clone(), spec).await?;
    eprintln!("{} simulated nodes registered in {:.1?}", args.nodes, t.elapsed());
    let scheduler = server.scheduler(&["--leader-elect=false"]);
    let kcm = server.controller_manager(&["--leader-elect=false"]);
    let wait = Instant::now();
    while !scheduler.log().contains("caches synced") && wait.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let kcm_before = process_usage(kcm.pid()).0;
    let sched_before = process_usage(scheduler.pid()).0;

    let total = args.deployments * args.replicas;
    let running_pods: Arc<Mutex<HashSet<String>>> = Arc::default();
    let marks: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let t0 = Instant::now();
    let watch = {
        let (pods, running_pods, marks) = (
            Api::<Pod>::default_namespaced(client.clone()),
            running_pods.clone(),
            marks.clone(),
        );
        tokio::spawn(async move {
            let mut stream = watcher(pods, watcher::Config::default()).boxed();
            while let Some(Ok(ev)) = stream.next().await {
                if let watcher::Event::Apply(p) | watcher::Event::InitApply(p) = ev
                    && running(&p)
                    && let Ok(mut set) = running_pods.lock()
                    && set.insert(p.metadata.name.unwrap_or_default())
                    && let Ok(mut m) = marks.lock()
                {
                    m.push(t0.elapsed());
                }
            }
        })
    };
    let deployments: Api<Deployment> = Api::default_namespaced(client.clone());
    futures::stream::iter(0..args.deployments)
        .map(|i| {
            let deployments = deployments.clone();
            async move {
                if let Err(e) = deployments
                    .create(&PostParams::default(), &deployment(i, args.replicas))
                    .await
                {
                    eprintln!("create deployment {i}: {e}");
                }
            }
        })
        .buffer_unordered(16)
        .for_each(|_| async {})
        .await;
    let deadline = Instant::now() + Duration::from_secs(900);
    while running_pods.lock().map(|s| s.len()).unwrap_or(0) < total && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    watch.abort();
    let marks = marks.lock().map(|m| m.clone()).unwrap_or_default();
    let at = |n: usize| marks.get(n.saturating_sub(1)).copied().unwrap_or_default();
    let (kcm_cpu, kcm_rss) = process_usage(kcm.pid());
    let (sched_cpu, sched_rss) = process_usage(scheduler.pid());
    println!(
        "{} deployments x {} replicas on {} nodes: {}/{} pods Running in {:.2}s (first {:.2}s, half {:.2}s), {:.0} pods/s",
        args.deployments,
        args.replicas,
        args.nodes,
        marks.len(),
        total,
        at(marks.len()).as_secs_f64(),
        at(1).as_secs_f64(),
        at(total / 2).as_secs_f64(),
        marks.len() as f64 / at(marks.len()).as_secs_f64().max(1e-9),
    );
    println!(
        "kube-controller-manager: CPU {:.2}s, peak RSS {:.0} MiB; kube-scheduler: CPU {:.2}s, peak RSS {:.0} MiB",
        kcm_cpu - kcm_before,
        kcm_rss,
        sched_cpu - sched_before,
        sched_rss
    );
    Ok(())
}

#[tokio::main]
async fn main() {
    let args = parse_args();
    if let Err(e) = run(&args).await {
        eprintln!("controller-manager-bench: {e:#}");
        std::process::exit(1);
    }
}
