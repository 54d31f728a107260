//! kube-controller-manager: control loops that watch the cluster through the API server and
//! move it toward the desired state. Each controller is a kube-rs `Controller`; they share one
//! client. Only the API server touches storage: these loops read and write through it.

pub mod controllers;
pub mod options;

use anyhow::Context;
use options::Options;

async fn client(opts: &Options) -> anyhow::Result<kube::Client> {
    let config = match &opts.kubeconfig {
        Some(path) => {
            let kc =
                kube::config::Kubeconfig::read_from(path).with_context(|| format!("reading {}", path.display()))?;
            kube::Config::from_custom_kubeconfig(kc, &Default::default()).await?
        }
        None => kube::Config::infer().await?,
    };
    Ok(kube::Client::try_from(config)?)
}

pub async fn run(opts: Options) -> anyhow::Result<()> {
    let unknown = opts.unknown_controllers();
    if !unknown.is_empty() {
        anyhow::bail!("--controllers: unknown controllers {unknown:?}");
    }
    let client = client(&opts).await?;
    if !opts.leader_elect {
        return run_controllers(&opts, client).await;
    }
    let cfg = api_types::leader::Config {
        namespace: opts.leader_elect_resource_namespace.clone(),
        name: opts.leader_elect_resource_name.clone(),
        lease_duration: opts.leader_elect_lease_duration,
        renew_deadline: opts.leader_elect_renew_deadline,
        retry_period: opts.leader_elect_retry_period,
        ..api_types::leader::Config::new(&opts.leader_elect_resource_name)
    };
    let mut result = Ok(());
    let work = async { result = run_controllers(&opts, client.clone()).await };
    api_types::leader::run(client.clone(), cfg, work).await?;
    result
}

async fn run_controllers(opts: &Options, client: kube::Client) -> anyhow::Result<()> {
    let mut tasks = tokio::task::JoinSet::new();
    if opts.enabled("serviceaccount") {
        tasks.spawn(controllers::serviceaccount::run(client.clone()));
    }
    if opts.enabled("root-ca-cert-publisher") {
        match &opts.root_ca_file {
            Some(path) => {
                let ca = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
                tasks.spawn(controllers::root_ca::run(client.clone(), ca));
            }
            None => tracing::info!("root-ca-cert-publisher: no --root-ca-file, not started"),
        }
    }
    if opts.enabled("namespace") {
        tasks.spawn(controllers::namespace::run(client.clone()));
    }
    tokio::select! {
        _ = tokio::signal::ctrl_c() => Ok(()),
        done = tasks.join_next() => match done {
            Some(Ok(Err(e))) => Err(e),
            Some(Err(e)) => Err(e.into()),
            _ => Ok(()),
        },
    }
}
