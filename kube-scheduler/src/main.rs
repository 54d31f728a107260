//! kube-scheduler: parses upstream's flags and runs the scheduler.

use clap::Parser;

#[tokio::main]
async fn main() {
    let opts = kube_scheduler::options::Options::parse();
    api_types::logging::init(opts.verbosity);
    if let Err(e) = kube_scheduler::run(opts).await {
        eprintln!("Error: {e:#}");
        std::process::exit(1);
    }
}
