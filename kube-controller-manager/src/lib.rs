//! kube-controller-manager: control loops that watch the cluster through the API server and
//! move it toward the desired state. The controllers share one set of informers (one watch
//! per resource) and each drains its own work queue. Only the API server touches storage:
//! these loops read and write through it.

pub mod controllers;
pub mod credentials;
pub mod events;
pub mod expectations;
pub mod history;
pub mod informer;
pub mod metrics;
pub mod options;
pub mod owners;
pub mod pods;
pub mod queue;

use anyhow::Context;
use controllers::{ALL, Ctx};
use options::Options;
use std::sync::Arc;

async fn config(opts: &Options) -> anyhow::Result<kube::Config> {
    Ok(match &opts.kubeconfig {
        Some(path) => {
            let kc =
                kube::config::Kubeconfig::read_from(path).with_context(|| format!("reading {}", path.display()))?;
            kube::Config::from_custom_kubeconfig(kc, &Default::default()).await?
        }
        None => kube::Config::infer().await?,
    })
}

pub async fn run(opts: Options) -> anyhow::Result<()> {
    let unknown = opts.unknown_controllers();
    if !unknown.is_empty() {
        anyhow::bail!("--controllers: unknown controllers {unknown:?}");
    }
    opts.signing_files().map_err(|e| anyhow::anyhow!(e))?;
    let config = config(&opts).await?;
    let client = kube::Client::try_from(config.clone())?;
    if opts.secure_port != 0 {
        api_types::serving::start(api_types::serving::Serving {
            addr: (opts.bind_address, opts.secure_port).into(),
            cert_file: opts.tls_cert_file.clone(),
            key_file: opts.tls_private_key_file.clone(),
            client: client.clone(),
            metrics: Arc::new(metrics::render),
            ready: Arc::new(|| None),
            name: "kube-controller-manager".into(),
        })
        .await?;
    }
    let opts = Arc::new(opts);
    if !opts.leader_election.leader_elect {
        metrics::set_leading(true);
        return run_controllers(opts, config, client).await;
    }
    let cfg = opts.leader_election.config("kube-controller-manager");
    let mut result = Ok(());
    let work = async {
        metrics::set_leading(true);
        result = run_controllers(opts.clone(), config, client.clone()).await
    };
    api_types::leader::run(client.clone(), cfg, work).await?;
    result
}

async fn run_controllers(opts: Arc<Options>, config: kube::Config, client: kube::Client) -> anyhow::Result<()> {
    let informers = informer::Informers::new(client.clone());
    let tokens = tempfile::Builder::new().prefix("kube-controller-manager-").tempdir()?;
    let mut tasks = tokio::task::JoinSet::new();
    for d in ALL.iter().filter(|d| opts.enabled(d)) {
        let own = match opts.use_service_account_credentials && !d.service_account.is_empty() {
            true => credentials::client_for(&client, &config, tokens.path(), d.service_account)
                .await
                .with_context(|| format!("credentials for {}", d.name))?,
            false => client.clone(),
        };
        let ctx = Ctx {
            recorder: events::Recorder::new(own.clone(), d.component),
            client: own,
            informers: informers.clone(),
            opts: opts.clone(),
        };
        tracing::info!(controller = d.name, "starting");
        tasks.spawn((d.start)(ctx));
    }
    // A controller that has nothing to do (a flag it needs is unset) returns at once; only a
    // failure ends the process.
    let failed = async {
        loop {
            match tasks.join_next().await {
                Some(Ok(Err(e))) => return e,
                Some(Err(e)) => return e.into(),
                Some(Ok(Ok(()))) => {}
                None => std::future::pending::<()>().await,
            }
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => Ok(()),
        e = failed => Err(e),
    }
}
