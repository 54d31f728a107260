//! Command-line flags, with upstream kube-controller-manager's names.

use clap::Parser;
use std::path::PathBuf;

/// Every controller this binary runs, by upstream name.
pub const CONTROLLERS: &[&str] = &["namespace", "root-ca-cert-publisher", "serviceaccount"];

#[derive(Debug, Clone, Parser)]
#[command(name = "kube-controller-manager", about = "The Kubernetes controller manager")]
pub struct Options {
    /// Path to kubeconfig file with authorization and master location information.
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// A list of controllers to enable. '*' enables all on-by-default controllers, 'foo' enables the controller
    /// named 'foo', '-foo' disables the controller named 'foo'.
    #[arg(long, value_delimiter = ',', default_value = "*")]
    pub controllers: Vec<String>,
    /// If set, this root certificate authority will be included in service account's token secret and the
    /// kube-root-ca.crt ConfigMap of every namespace.
    #[arg(long)]
    pub root_ca_file: Option<PathBuf>,
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
    #[arg(long, default_value = "kube-controller-manager")]
    pub leader_elect_resource_name: String,
    /// The namespace of resource object that is used for locking during leader election.
    #[arg(long, default_value = "kube-system")]
    pub leader_elect_resource_namespace: String,
    /// Number for the log level verbosity.
    #[arg(short = 'v', long = "v", default_value_t = 0)]
    pub verbosity: u8,
}

impl Options {
    /// Upstream's `--controllers` rules: an explicit `-name` wins, then `name`, then `*`.
    pub fn enabled(&self, name: &str) -> bool {
        if self.controllers.iter().any(|c| c.strip_prefix('-') == Some(name)) {
            return false;
        }
        self.controllers.iter().any(|c| c == name || c == "*")
    }

    /// Names in `--controllers` that are not controllers.
    pub fn unknown_controllers(&self) -> Vec<String> {
        self.controllers
            .iter()
            .map(|c| c.trim_start_matches('-'))
            .filter(|c| *c != "*" && !CONTROLLERS.contains(c))
            .map(String::from)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controller_selection() {
        let o = |list: &str| Options::parse_from(["kcm", "--controllers", list]);
        assert!(o("*").enabled("namespace"));
        assert!(!o("*,-namespace").enabled("namespace"));
        assert!(o("namespace").enabled("namespace"));
        assert!(!o("serviceaccount").enabled("namespace"));
        assert_eq!(o("*,bogus").unknown_controllers(), ["bogus"]);
    }
}
