//! kube-controller-manager: parses upstream's flags and runs the controllers.

use clap::Parser;

#[tokio::main]
async fn main() {
    let opts = kube_controller_manager::options::Options::parse();
    api_types::logging::init(opts.verbosity);
    if let Err(e) = kube_controller_manager::run(opts).await {
        eprintln!("Error: {e:#}");
        std::process::exit(1);
    }
}
