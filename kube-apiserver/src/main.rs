//! kube-apiserver: parses upstream's flags and runs the server.

use clap::Parser;

#[tokio::main]
async fn main() {
    let opts = kube_apiserver::options::Options::parse();
    api_types::logging::init(opts.verbosity);
    if let Err(e) = kube_apiserver::server::run(opts).await {
        eprintln!("Error: {e:#}");
        std::process::exit(1);
    }
}
