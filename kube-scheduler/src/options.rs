//! Command-line flags, with upstream kube-scheduler's names and defaults.

use clap::Parser;
use std::path::PathBuf;

#[derive(Debug, Clone, Parser)]
#[command(
    name = "kube-scheduler",
    about = "The Kubernetes scheduler: assigns pending pods to nodes"
)]
pub struct Options {
    /// Path to kubeconfig file with authorization and master location information.
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// The path to the configuration file (KubeSchedulerConfiguration, kubescheduler.config.k8s.io/v1).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The port on which to serve HTTPS (/healthz, /livez, /readyz, /metrics); 0 disables it.
    #[arg(long, default_value_t = 10259)]
    pub secure_port: u16,
    /// The IP address on which to listen for the --secure-port port.
    #[arg(long, default_value = "0.0.0.0")]
    pub bind_address: std::net::IpAddr,
    /// File containing the default x509 Certificate for HTTPS; without it a self-signed one is made.
    #[arg(long)]
    pub tls_cert_file: Option<PathBuf>,
    /// File containing the default x509 private key matching --tls-cert-file.
    #[arg(long)]
    pub tls_private_key_file: Option<PathBuf>,
    #[command(flatten)]
    pub leader_election: api_types::leader::Flags,
    /// Number for the log level verbosity.
    #[arg(short = 'v', long = "v", default_value_t = 0)]
    pub verbosity: u8,
}
