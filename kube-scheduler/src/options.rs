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
    /// Start a leader election client and gain leadership before executing the main loop.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub leader_elect: bool,
    /// The duration that non-leader candidates will wait after observing a leadership renewal before attempting
    /// to acquire leadership of a led but unrenewed leader slot.
    #[arg(long, default_value = "15s", value_parser = api_types::duration::parse)]
    pub leader_elect_lease_duration: std::time::Duration,
    /// The interval between attempts by the acting master to renew a leadership slot before it stops leading.
    #[arg(long, default_value = "10s", value_parser = api_types::duration::parse)]
    pub leader_elect_renew_deadline: std::time::Duration,
    /// The duration the clients should wait between attempting acquisition and renewal of a leadership.
    #[arg(long, default_value = "2s", value_parser = api_types::duration::parse)]
    pub leader_elect_retry_period: std::time::Duration,
    /// The name of resource object that is used for locking during leader election.
    #[arg(long, default_value = "kube-scheduler")]
    pub leader_elect_resource_name: String,
    /// The namespace of resource object that is used for locking during leader election.
    #[arg(long, default_value = "kube-system")]
    pub leader_elect_resource_namespace: String,
    /// Number for the log level verbosity.
    #[arg(short = 'v', long = "v", default_value_t = 0)]
    pub verbosity: u8,
}
