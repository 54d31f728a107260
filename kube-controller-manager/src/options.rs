//! Command-line flags, with upstream kube-controller-manager's names.

use crate::controllers::{ALL, Descriptor};
use clap::Parser;
use std::path::PathBuf;

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
    #[command(flatten)]
    pub leader_election: api_types::leader::Flags,
    /// If true, use individual service account credentials for each controller.
    #[arg(long, default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub use_service_account_credentials: bool,
    /// The port on which to serve HTTPS with authentication and authorization. If 0, don't serve HTTPS at all.
    #[arg(long, default_value_t = 10257)]
    pub secure_port: u16,
    /// The IP address on which to listen for the --secure-port port.
    #[arg(long, default_value = "0.0.0.0")]
    pub bind_address: std::net::IpAddr,
    /// File containing the default x509 Certificate for HTTPS.
    #[arg(long)]
    pub tls_cert_file: Option<PathBuf>,
    /// File containing the default x509 private key matching --tls-cert-file.
    #[arg(long)]
    pub tls_private_key_file: Option<PathBuf>,
    /// CIDR Range for Pods in cluster. Requires --allocate-node-cidrs to be true.
    #[arg(long)]
    pub cluster_cidr: Option<String>,
    /// Should CIDRs for Pods be allocated and set on the cloud provider.
    #[arg(long, default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub allocate_node_cidrs: bool,
    /// Mask size for node cidr in cluster. Default is 24 for IPv4 and 64 for IPv6.
    #[arg(long)]
    pub node_cidr_mask_size: Option<u8>,
    /// CIDR Range for Services in cluster.
    #[arg(long)]
    pub service_cluster_ip_range: Option<String>,
    /// Filename containing a PEM-encoded X509 CA certificate used to issue cluster-scoped certificates.
    #[arg(long)]
    pub cluster_signing_cert_file: Option<PathBuf>,
    /// Filename containing a PEM-encoded RSA or ECDSA private key used to sign cluster-scoped certificates.
    #[arg(long)]
    pub cluster_signing_key_file: Option<PathBuf>,
    /// Filename containing a PEM-encoded X509 CA certificate used to issue certificates for the kubernetes.io/kubelet-serving signer.
    #[arg(long)]
    pub cluster_signing_kubelet_serving_cert_file: Option<PathBuf>,
    /// Filename containing a PEM-encoded RSA or ECDSA private key used to sign certificates for the kubernetes.io/kubelet-serving signer.
    #[arg(long)]
    pub cluster_signing_kubelet_serving_key_file: Option<PathBuf>,
    /// Filename containing a PEM-encoded X509 CA certificate used to issue certificates for the kubernetes.io/kube-apiserver-client-kubelet signer.
    #[arg(long)]
    pub cluster_signing_kubelet_client_cert_file: Option<PathBuf>,
    /// Filename containing a PEM-encoded RSA or ECDSA private key used to sign certificates for the kubernetes.io/kube-apiserver-client-kubelet signer.
    #[arg(long)]
    pub cluster_signing_kubelet_client_key_file: Option<PathBuf>,
    /// Filename containing a PEM-encoded X509 CA certificate used to issue certificates for the kubernetes.io/kube-apiserver-client signer.
    #[arg(long)]
    pub cluster_signing_kube_apiserver_client_cert_file: Option<PathBuf>,
    /// Filename containing a PEM-encoded RSA or ECDSA private key used to sign certificates for the kubernetes.io/kube-apiserver-client signer.
    #[arg(long)]
    pub cluster_signing_kube_apiserver_client_key_file: Option<PathBuf>,
    /// Filename containing a PEM-encoded X509 CA certificate used to issue certificates for the kubernetes.io/legacy-unknown signer.
    #[arg(long)]
    pub cluster_signing_legacy_unknown_cert_file: Option<PathBuf>,
    /// Filename containing a PEM-encoded RSA or ECDSA private key used to sign certificates for the kubernetes.io/legacy-unknown signer.
    #[arg(long)]
    pub cluster_signing_legacy_unknown_key_file: Option<PathBuf>,
    /// The max length of duration signed certificates will be given.
    #[arg(long, default_value = "8760h0m0s", value_parser = api_types::duration::parse)]
    pub cluster_signing_duration: std::time::Duration,
    /// Filename containing a PEM-encoded private RSA or ECDSA key used to sign service account tokens.
    #[arg(long)]
    pub service_account_private_key_file: Option<PathBuf>,
    /// Amount of time which we allow running Node to be unresponsive before marking it unhealthy.
    #[arg(long, default_value = "50s", value_parser = api_types::duration::parse)]
    pub node_monitor_grace_period: std::time::Duration,
    /// Number of nodes per second on which pods are deleted in case of node failure when a zone is healthy.
    #[arg(long, default_value_t = 0.1)]
    pub node_eviction_rate: f64,
    /// Number of nodes per second on which pods are deleted in case of node failure when a zone is unhealthy.
    #[arg(long, default_value_t = 0.01)]
    pub secondary_node_eviction_rate: f64,
    /// Number of nodes from which NodeController treats the cluster as large for the eviction logic purposes.
    #[arg(long, default_value_t = 50)]
    pub large_cluster_size_threshold: usize,
    /// Fraction of Nodes in a zone which needs to be not Ready (minimum 3) for zone to be treated as unhealthy.
    #[arg(long, default_value_t = 0.55)]
    pub unhealthy_zone_threshold: f64,
    /// The period for syncing NodeStatus in cloud-node-lifecycle-controller.
    #[arg(long, default_value = "5s", value_parser = api_types::duration::parse)]
    pub node_monitor_period: std::time::Duration,
    /// Number of terminated pods that can exist before the terminated pod garbage collector starts deleting them.
    #[arg(long, default_value_t = 12500)]
    pub terminated_pod_gc_threshold: i32,
    /// The number of replica sets that are allowed to sync concurrently.
    #[arg(long, default_value_t = 5)]
    pub concurrent_replicaset_syncs: usize,
    /// The number of replication controllers that are allowed to sync concurrently.
    #[arg(long, default_value_t = 5)]
    pub concurrent_rc_syncs: usize,
    /// The number of deployment objects that are allowed to sync concurrently.
    #[arg(long, default_value_t = 5)]
    pub concurrent_deployment_syncs: usize,
    /// The number of daemonset objects that are allowed to sync concurrently.
    #[arg(long, default_value_t = 2)]
    pub concurrent_daemonset_syncs: usize,
    /// The number of statefulset objects that are allowed to sync concurrently.
    #[arg(long, default_value_t = 5)]
    pub concurrent_statefulset_syncs: usize,
    /// The number of job objects that are allowed to sync concurrently.
    #[arg(long, default_value_t = 5)]
    pub concurrent_job_syncs: usize,
    /// The number of cron job objects that are allowed to sync concurrently.
    #[arg(long, default_value_t = 5)]
    pub concurrent_cron_job_syncs: usize,
    /// The number of endpoint syncing operations that will be done concurrently.
    #[arg(long, default_value_t = 5)]
    pub concurrent_endpoint_syncs: usize,
    /// The number of service endpoint syncing operations that will be done concurrently (endpointslice).
    #[arg(long, default_value_t = 5)]
    pub concurrent_service_endpoint_syncs: usize,
    /// The number of namespace objects that are allowed to sync concurrently.
    #[arg(long, default_value_t = 10)]
    pub concurrent_namespace_syncs: usize,
    /// The number of garbage collector workers that are allowed to sync concurrently.
    #[arg(long, default_value_t = 20)]
    pub concurrent_gc_syncs: usize,
    /// The number of resource quotas that are allowed to sync concurrently.
    #[arg(long, default_value_t = 5)]
    pub concurrent_resource_quota_syncs: usize,
    /// The number of TTL-after-finished controller workers that are allowed to sync concurrently.
    #[arg(long, default_value_t = 5)]
    pub concurrent_ttl_after_finished_syncs: usize,
    /// The number of horizontal pod autoscaler objects that are allowed to sync concurrently.
    #[arg(long, default_value_t = 5)]
    pub concurrent_horizontal_pod_autoscaler_syncs: usize,
    /// Number for the log level verbosity.
    #[arg(short = 'v', long = "v", default_value_t = 0)]
    pub verbosity: u8,
}

impl Options {
    /// Upstream's `--controllers` rules: an explicit `-name` wins, then `name`, then `*` for
    /// controllers on by default. A controller answers to its canonical name and its aliases.
    pub fn enabled(&self, c: &Descriptor) -> bool {
        let named = |n: &str| n == c.name || c.aliases.contains(&n);
        if self.controllers.iter().any(|x| x.strip_prefix('-').is_some_and(named)) {
            return false;
        }
        self.controllers
            .iter()
            .any(|x| named(x) || (x == "*" && c.on_by_default))
    }

    /// The signing CA (certificate, key) of each signer: its own `--cluster-signing-<signer>-*`
    /// files, or the shared `--cluster-signing-{cert,key}-file` (upstream's rules, messages included).
    pub fn signing_files(&self) -> Result<Vec<(&'static str, PathBuf, PathBuf)>, String> {
        let specific = [
            (
                "kubernetes.io/kubelet-serving",
                &self.cluster_signing_kubelet_serving_cert_file,
                &self.cluster_signing_kubelet_serving_key_file,
            ),
            (
                "kubernetes.io/kube-apiserver-client-kubelet",
                &self.cluster_signing_kubelet_client_cert_file,
                &self.cluster_signing_kubelet_client_key_file,
            ),
            (
                "kubernetes.io/kube-apiserver-client",
                &self.cluster_signing_kube_apiserver_client_cert_file,
                &self.cluster_signing_kube_apiserver_client_key_file,
            ),
            (
                "kubernetes.io/legacy-unknown",
                &self.cluster_signing_legacy_unknown_cert_file,
                &self.cluster_signing_legacy_unknown_key_file,
            ),
        ];
        let pair = |cert: &Option<PathBuf>, key: &Option<PathBuf>| match (cert, key) {
            (Some(c), Some(k)) => Ok(Some((c.clone(), k.clone()))),
            (None, None) => Ok(None),
            (None, Some(_)) => Err("cannot specify key without cert".to_string()),
            (Some(_), None) => Err("cannot specify cert without key".to_string()),
        };
        let shared = pair(&self.cluster_signing_cert_file, &self.cluster_signing_key_file)?;
        let any_specific = specific.iter().any(|(_, c, k)| c.is_some() || k.is_some());
        if shared.is_some() && any_specific {
            return Err(
                "cannot specify --cluster-signing-{cert,key}-file and other --cluster-signing-*-file flags at the same time"
                    .into(),
            );
        }
        let mut out = Vec::new();
        for (signer, cert, key) in specific {
            if let Some((c, k)) = pair(cert, key)?.or_else(|| shared.clone()) {
                out.push((signer, c, k));
            }
        }
        Ok(out)
    }

    /// Names in `--controllers` that are not controllers.
    pub fn unknown_controllers(&self) -> Vec<String> {
        self.controllers
            .iter()
            .map(|c| c.trim_start_matches('-'))
            .filter(|c| *c != "*" && !ALL.iter().any(|d| d.name == *c || d.aliases.contains(c)))
            .map(String::from)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signing_files_per_signer_or_shared() {
        let o = |args: &[&str]| Options::parse_from([&["kcm"], args].concat());
        let shared = o(&[
            "--cluster-signing-cert-file",
            "ca.crt",
            "--cluster-signing-key-file",
            "ca.key",
        ]);
        assert_eq!(shared.signing_files().unwrap().len(), 4);
        let one = o(&[
            "--cluster-signing-kubelet-serving-cert-file",
            "s.crt",
            "--cluster-signing-kubelet-serving-key-file",
            "s.key",
        ]);
        let files = one.signing_files().unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].0, "kubernetes.io/kubelet-serving");
        let both = o(&[
            "--cluster-signing-cert-file",
            "ca.crt",
            "--cluster-signing-key-file",
            "ca.key",
            "--cluster-signing-legacy-unknown-cert-file",
            "l.crt",
        ]);
        assert!(both.signing_files().unwrap_err().contains("at the same time"));
        let half = o(&["--cluster-signing-kubelet-client-key-file", "k.key"]);
        assert_eq!(half.signing_files().unwrap_err(), "cannot specify key without cert");
    }

    #[test]
    fn controller_selection() {
        let o = |list: &str| Options::parse_from(["kcm", "--controllers", list]);
        let by = |name: &str| ALL.iter().find(|d| d.name == name).unwrap();
        let ns = by("namespace-controller");
        assert!(o("*").enabled(ns));
        assert!(!o("*,-namespace").enabled(ns));
        assert!(!o("*,-namespace-controller").enabled(ns));
        assert!(o("namespace").enabled(ns));
        assert!(!o("serviceaccount").enabled(ns));
        assert_eq!(o("*,bogus").unknown_controllers(), ["bogus"]);
        assert!(o("*,-bogus,replicaset-controller").unknown_controllers() == ["bogus"]);
    }
}
