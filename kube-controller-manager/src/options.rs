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
