//! node-simulator: registers simulated nodes against an API server and keeps them alive (see
//! `e2e::sim`). A simulator for scale tests and benchmarks: no containers run anywhere.

use clap::Parser;
use e2e::sim::{NodeSpec, SimNodes};

#[derive(Parser)]
#[command(
    name = "node-simulator",
    about = "Simulated nodes (like kwok): Ready nodes and Running pods, no containers"
)]
struct Args {
    /// Path to the kubeconfig of the cluster.
    #[arg(long)]
    kubeconfig: std::path::PathBuf,
    /// How many nodes to simulate.
    #[arg(long, default_value_t = 10)]
    nodes: usize,
    /// Node names are <prefix>-<index>.
    #[arg(long, default_value = "sim")]
    prefix: String,
    #[arg(long, default_value = "4")]
    cpu: String,
    #[arg(long, default_value = "16Gi")]
    memory: String,
    #[arg(long, default_value_t = 110)]
    pods: u32,
    /// Extra node labels, key=value.
    #[arg(long, value_delimiter = ',')]
    labels: Vec<String>,
}

async fn run(args: Args) -> anyhow::Result<()> {
    let kc = kube::config::Kubeconfig::read_from(&args.kubeconfig)?;
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default()).await?;
    let client = kube::Client::try_from(cfg)?;
    let mut spec = NodeSpec::new(&args.prefix, args.nodes).capacity(&args.cpu, &args.memory, args.pods);
    for l in &args.labels {
        let (k, v) = l
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("--labels: {l:?} is not key=value"))?;
        spec = spec.label(k, v);
    }
    let start = std::time::Instant::now();
    let _sim = SimNodes::start(client, spec).await?;
    eprintln!(
        "{} simulated nodes ready in {:?}; Ctrl-C stops",
        args.nodes,
        start.elapsed()
    );
    tokio::signal::ctrl_c().await?;
    Ok(())
}

#[tokio::main]
async fn main() {
    if let Err(e) = run(Args::parse()).await {
        eprintln!("Error: {e:#}");
        std::process::exit(1);
    }
}
