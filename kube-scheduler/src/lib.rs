//! kube-scheduler: watches pending pods and nodes through the API server and binds each pod
//! to the best feasible node, with upstream's scheduling framework, plugins and queue.

pub mod cache;
pub mod config;
pub mod events;
pub mod framework;
pub mod informers;
pub mod metrics;
pub mod options;
pub mod plugins;
pub mod podinfo;
pub mod preemption;
pub mod queue;
pub mod resources;
pub mod schedule;
pub mod scheduler;

use anyhow::Context;
use config::Config;
use options::Options;
use scheduler::Scheduler;
use std::sync::Arc;

async fn client(kubeconfig: Option<&std::path::Path>) -> anyhow::Result<kube::Client> {
    let config = match kubeconfig {
        Some(path) => {
            let kc =
                kube::config::Kubeconfig::read_from(path).with_context(|| format!("reading {}", path.display()))?;
            kube::Config::from_custom_kubeconfig(kc, &Default::default()).await?
        }
        None => kube::Config::infer().await?,
    };
    Ok(kube::Client::try_from(config)?)
}

pub async fn run(mut opts: Options) -> anyhow::Result<()> {
    let config = match &opts.config {
        Some(path) => Config::load(path).map_err(|e| anyhow::anyhow!(e))?,
        None => Config::default_config(),
    };
    // The configuration file wins over the flags it also carries, as upstream.
    let le = &config.leader_election;
    let flags = &mut opts.leader_election;
    flags.leader_elect = le.leader_elect.unwrap_or(flags.leader_elect);
    flags.leader_elect_lease_duration = le.lease_duration.unwrap_or(flags.leader_elect_lease_duration);
    flags.leader_elect_renew_deadline = le.renew_deadline.unwrap_or(flags.leader_elect_renew_deadline);
    flags.leader_elect_retry_period = le.retry_period.unwrap_or(flags.leader_elect_retry_period);
    if let Some(n) = &le.resource_name {
        flags.leader_elect_resource_name = Some(n.clone());
    }
    if let Some(n) = &le.resource_namespace {
        flags.leader_elect_resource_namespace = n.clone();
    }
    let kubeconfig = opts.kubeconfig.clone().or_else(|| config.kubeconfig.clone());
    let client = client(kubeconfig.as_deref()).await?;
    let sched = Arc::new(Scheduler::new(config, client.clone(), informers::COUNT));
    if opts.secure_port != 0 {
        let (m, r) = (sched.clone(), sched.clone());
        api_types::serving::start(api_types::serving::Serving {
            addr: (opts.bind_address, opts.secure_port).into(),
            cert_file: opts.tls_cert_file.clone(),
            key_file: opts.tls_private_key_file.clone(),
            client: client.clone(),
            metrics: Arc::new(move || m.metrics.render(m.queue.counts()) + &api_types::serving::process_metrics()),
            ready: Arc::new(move || (!r.is_synced()).then(|| "[-]sched-handler-sync failed".to_string())),
            name: "kube-scheduler".into(),
        })
        .await?;
    }
    if !opts.leader_election.leader_elect {
        return schedule(sched, client).await;
    }
    let cfg = opts.leader_election.config("kube-scheduler");
    let mut result = Ok(());
    let work = async { result = schedule(sched.clone(), client.clone()).await };
    api_types::leader::run(client.clone(), cfg, work).await?;
    result
}

/// Starts the informers and the scheduling loop; returns on Ctrl-C or when a task fails.
async fn schedule(sched: Arc<Scheduler>, client: kube::Client) -> anyhow::Result<()> {
    let mut tasks = tokio::task::JoinSet::new();
    informers::spawn(&sched, &client, &mut tasks);
    let (s, rt) = (sched.clone(), tokio::runtime::Handle::current());
    let loop_thread = std::thread::Builder::new()
        .name("scheduling-loop".into())
        .spawn(move || s.run_loop(rt))?;
    let outcome = tokio::select! {
        _ = tokio::signal::ctrl_c() => Ok(()),
        done = tasks.join_next() => match done {
            Some(Err(e)) => Err(e.into()),
            _ => Err(anyhow::anyhow!("an informer stopped")),
        },
    };
    sched.queue.close();
    let _ = tokio::task::spawn_blocking(move || loop_thread.join()).await;
    outcome
}
