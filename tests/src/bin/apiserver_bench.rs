//! Benchmark for kube-apiserver (not a test): create/get/list throughput and latency at 1, 8
//! and 64 concurrent clients, LIST of 10k pods, watch delivery latency with 1000 watchers,
//! and server RSS with 10k pods stored; run on the embedded store and, as the baseline in
//! the same invocation, on etcd. Build with `cargo build --release --workspace --bins` and
//! run `target/release/apiserver-bench [--pods N] [--watchers N] [--store embedded|etcd|both]`.

use e2e::{ApiServer, Store};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::{Api, ListParams, PostParams, WatchEvent, WatchParams};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Args {
    pods: usize,
    watchers: usize,
    ops: usize,
    stores: Vec<Store>,
}

fn parse_args() -> Args {
    let mut a = Args {
        pods: 10_000,
        watchers: 1000,
        ops: 2000,
        stores: vec![Store::Embedded, Store::Etcd],
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < argv.len() {
        let v = argv.get(i + 1).cloned().unwrap_or_default();
        match argv[i].as_str() {
            "--pods" => a.pods = v.parse().unwrap_or(a.pods),
            "--watchers" => a.watchers = v.parse().unwrap_or(a.watchers),
            "--ops" => a.ops = v.parse().unwrap_or(a.ops),
            "--store" => {
                a.stores = match v.as_str() {
                    "embedded" => vec![Store::Embedded],
                    "etcd" => vec![Store::Etcd],
                    _ => vec![Store::Embedded, Store::Etcd],
                }
            }
            other => {
                eprintln!("unknown argument {other}");
                std::process::exit(2);
            }
        }
        i += 2;
    }
    a
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn report(label: &str, clients: usize, wall: Duration, mut lat: Vec<Duration>) {
    lat.sort();
    println!(
        "  {label:<6} clients={clients:<3} ops={:<6} {:>9.0} ops/s  p50={:>8.2}ms  p99={:>8.2}ms",
        lat.len(),
        lat.len() as f64 / wall.as_secs_f64(),
        pct(&lat, 0.50).as_secs_f64() * 1e3,
        pct(&lat, 0.99).as_secs_f64() * 1e3
    );
}

/// Runs `ops` operations over `clients` concurrent workers; returns wall time and latencies.
async fn run<F, Fut>(clients: usize, ops: usize, f: F) -> (Duration, Vec<Duration>)
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let f = Arc::new(f);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (f, next) = (f.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= ops {
                    return lat;
                }
                let t = Instant::now();
                f(i).await;
                lat.push(t.elapsed());
            }
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("worker"));
    }
    (start.elapsed(), all)
}

fn cm(name: &str) -> ConfigMap {
    serde_json::from_value(
        serde_json::json!({"metadata": {"name": name, "labels": {"bench": "yes"}}, "data": {"k": "v".repeat(64)}}),
    )
    .expect("cm")
}

fn pod(name: &str) -> Pod {
    serde_json::from_value(serde_json::json!({
        "metadata": {"name": name, "labels": {"app": "bench", "tier": "load"}},
        "spec": {"containers": [{"name": "main", "image": "registry.local/app:1.0", "ports": [{"containerPort": 8080}],
                 "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]}
    }))
    .expect("pod")
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

async fn crud(client: &kube::Client, ops: usize) {
    println!(" create / get / list (ConfigMaps, {ops} ops per level)");
    for clients in [1, 8, 64] {
        let ns = format!("crud-{clients}");
        let nss: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
        let _ = nss
            .create(
                &PostParams::default(),
                &serde_json::from_value(serde_json::json!({"metadata": {"name": ns}})).expect("ns"),
            )
            .await;
        let api: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
        let a = api.clone();
        let (wall, lat) = run(clients, ops, move |i| {
            let a = a.clone();
            async move {
                a.create(&PostParams::default(), &cm(&format!("c{i}")))
                    .await
                    .expect("create");
            }
        })
        .await;
        report("create", clients, wall, lat);
        let a = api.clone();
        let (wall, lat) = run(clients, ops, move |i| {
            let a = a.clone();
            async move {
                a.get(&format!("c{i}")).await.expect("get");
            }
        })
        .await;
        report("get", clients, wall, lat);
        let a = api.clone();
        let (wall, lat) = run(clients, ops / 10, move |_| {
            let a = a.clone();
            async move {
                a.list(&ListParams::default().limit(50)).await.expect("list");
            }
        })
        .await;
        report("list50", clients, wall, lat);
    }
}

async fn big_list(client: &kube::Client, pods: usize, pid: Option<u32>) {
    let api: Api<Pod> = Api::namespaced(client.clone(), "default");
    let a = api.clone();
    let (wall, lat) = run(64, pods, move |i| {
        let a = a.clone();
        async move {
            a.create(&PostParams::default(), &pod(&format!("p{i:05}")))
                .await
                .expect("create pod");
        }
    })
    .await;
    println!(" {pods} pods");
    report("create", 64, wall, lat);
    for (label, lp) in [
        ("rv=\"\"", ListParams::default()),
        ("rv=0", ListParams::default().match_any()),
    ] {
        let mut times = Vec::new();
        let mut count = 0;
        for _ in 0..5 {
            let t = Instant::now();
            count = api.list(&lp).await.expect("list pods").items.len();
            times.push(t.elapsed());
        }
        times.sort();
        println!(
            "  LIST {count} pods ({label}): median {:.1} ms, best {:.1} ms",
            pct(&times, 0.5).as_secs_f64() * 1e3,
            times[0].as_secs_f64() * 1e3
        );
    }
    if let Some(pid) = pid {
        println!(
            "  server RSS with {pods} pods stored: {:.1} MiB",
            rss_kib(pid) as f64 / 1024.0
        );
    }
}

async fn watch_latency(client: &kube::Client, watchers: usize) {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let rv = api
        .list(&ListParams::default().limit(1))
        .await
        .expect("list")
        .metadata
        .resource_version
        .unwrap_or_default();
    let sent: Arc<std::sync::Mutex<std::collections::HashMap<String, Instant>>> = Default::default();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Duration>();
    let mut tasks = Vec::new();
    for _ in 0..watchers {
        let (api, rv, sent, tx) = (api.clone(), rv.clone(), sent.clone(), tx.clone());
        tasks.push(tokio::spawn(async move {
            let stream = api
                .watch(&WatchParams::default().labels("watched=yes"), &rv)
                .await
                .expect("watch");
            let mut stream = stream.boxed();
            while let Ok(Some(ev)) = stream.try_next().await {
                if let WatchEvent::Added(o) = ev {
                    let name = o.metadata.name.unwrap_or_default();
                    let at = sent.lock().ok().and_then(|m| m.get(&name).copied());
                    if let Some(at) = at {
                        let _ = tx.send(at.elapsed());
                    }
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let events = 20;
    for i in 0..events {
        let name = format!("w{i}");
        let mut obj = cm(&name);
        obj.metadata
            .labels
            .get_or_insert_default()
            .insert("watched".into(), "yes".into());
        sent.lock().expect("lock").insert(name, Instant::now());
        api.create(&PostParams::default(), &obj).await.expect("create watched");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut lat = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while lat.len() < events * watchers && Instant::now() < deadline {
        if let Ok(Some(d)) = tokio::time::timeout(Duration::from_secs(1), rx.recv()).await {
            lat.push(d);
        }
    }
    for t in tasks {
        t.abort();
    }
    lat.sort();
    println!(
        " watch: {watchers} watchers, {events} events: delivered {}/{}, latency p50={:.2}ms p99={:.2}ms max={:.2}ms",
        lat.len(),
        events * watchers,
        pct(&lat, 0.5).as_secs_f64() * 1e3,
        pct(&lat, 0.99).as_secs_f64() * 1e3,
        lat.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );
}

#[tokio::main]
async fn main() {
    let args = parse_args();
    for store in &args.stores {
        println!("== kube-apiserver on {store:?} store ==");
        let s = ApiServer::start(*store);
        let client = s.client().await;
        if let Some(pid) = s.pid() {
            println!(" server RSS at start: {:.1} MiB", rss_kib(pid) as f64 / 1024.0);
        }
        crud(&client, args.ops).await;
        big_list(&client, args.pods, s.pid()).await;
        watch_latency(&client, args.watchers).await;
    }
}
