//! Command-line flags, with upstream kube-apiserver's names and defaults.

use clap::Parser;
use std::net::IpAddr;
use std::path::PathBuf;

#[derive(Debug, Clone, Parser)]
#[command(name = "kube-apiserver", about = "The Kubernetes API server", version = crate::endpoints::system::GIT_VERSION)]
pub struct Options {
    /// The port on which to serve HTTPS.
    #[arg(long, default_value_t = 6443)]
    pub secure_port: u16,
    /// The IP address on which to listen for the --secure-port port.
    #[arg(long, default_value = "0.0.0.0")]
    pub bind_address: IpAddr,
    /// The IP address on which to advertise the apiserver to members of the cluster.
    #[arg(long)]
    pub advertise_address: Option<IpAddr>,
    /// File containing the default x509 Certificate for HTTPS (CA cert, if any, concatenated after server cert).
    #[arg(long)]
    pub tls_cert_file: Option<PathBuf>,
    /// File containing the default x509 private key matching --tls-cert-file.
    #[arg(long)]
    pub tls_private_key_file: Option<PathBuf>,
    /// The directory where the TLS certs are located. Ignored if --tls-cert-file and --tls-private-key-file are provided.
    #[arg(long, default_value = "/var/run/kubernetes")]
    pub cert_dir: PathBuf,
    /// List of etcd servers to connect with (scheme://ip:port), comma separated. Without it the embedded store is used.
    #[arg(long, value_delimiter = ',')]
    pub etcd_servers: Vec<String>,
    /// The prefix to prepend to all resource paths in etcd.
    #[arg(long, default_value = "/registry")]
    pub etcd_prefix: String,
    /// The interval of compaction requests.
    #[arg(long, default_value = "5m", value_parser = api_types::duration::parse)]
    pub etcd_compaction_interval: std::time::Duration,
    /// A CIDR notation IP range from which to assign service cluster IPs.
    #[arg(long, default_value = "10.0.0.0/24")]
    pub service_cluster_ip_range: ipnet::IpNet,
    /// A port range to reserve for services with NodePort visibility.
    #[arg(long, default_value = "30000-32767", value_parser = parse_port_range)]
    pub service_node_port_range: (u16, u16),
    /// If set, the file that will be used to secure the secure port of the API server via token authentication.
    #[arg(long)]
    pub token_auth_file: Option<PathBuf>,
    /// If set, any request presenting a client certificate signed by one of the authorities in the client-ca-file
    /// is authenticated with an identity corresponding to the CommonName of the client certificate.
    #[arg(long)]
    pub client_ca_file: Option<PathBuf>,
    /// Enables anonymous requests to the secure port of the API server.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub anonymous_auth: bool,
    /// Enable to allow secrets of type 'bootstrap.kubernetes.io/token' in the 'kube-system' namespace to be used for TLS bootstrapping authentication.
    #[arg(long, default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub enable_bootstrap_token_auth: bool,
    /// File containing PEM-encoded x509 RSA or ECDSA keys (public or private) used to verify ServiceAccount tokens. May be repeated.
    #[arg(long)]
    pub service_account_key_file: Vec<PathBuf>,
    /// Path to the file that contains the current private key of the service account token issuer.
    /// Without it, a key is generated in --cert-dir (sa.key).
    #[arg(long)]
    pub service_account_signing_key_file: Option<PathBuf>,
    /// Identifier of the service account token issuer. May be repeated; the first is used to issue.
    #[arg(long, default_values_t = vec!["https://kubernetes.default.svc.cluster.local".to_string()])]
    pub service_account_issuer: Vec<String>,
    /// Identifiers of the API. Defaults to the service account issuers.
    #[arg(long, value_delimiter = ',')]
    pub api_audiences: Vec<String>,
    /// Ordered list of plug-ins to do authorization on secure port.
    #[arg(long, default_value = "AlwaysAllow", value_delimiter = ',')]
    pub authorization_mode: Vec<String>,
    /// Admission plugins that should be enabled in addition to default enabled ones.
    #[arg(long, value_delimiter = ',')]
    pub enable_admission_plugins: Vec<String>,
    /// Admission plugins that should be disabled although they are in the default enabled plugins list.
    #[arg(long, value_delimiter = ',')]
    pub disable_admission_plugins: Vec<String>,
    /// Client certificate used to prove the identity of the aggregator or kube-apiserver when it must call out during a request.
    #[arg(long)]
    pub proxy_client_cert_file: Option<PathBuf>,
    /// Private key for the client certificate used to prove the identity of the aggregator or kube-apiserver when it must call out during a request.
    #[arg(long)]
    pub proxy_client_key_file: Option<PathBuf>,
    /// Path to a client cert file for TLS (used to reach kubelets).
    #[arg(long)]
    pub kubelet_client_certificate: Option<PathBuf>,
    /// Path to a client key file for TLS (used to reach kubelets).
    #[arg(long)]
    pub kubelet_client_key: Option<PathBuf>,
    /// Path to a cert file for the certificate authority of kubelets; without it their serving certificates are not verified.
    #[arg(long)]
    pub kubelet_certificate_authority: Option<PathBuf>,
    /// List of the preferred NodeAddressTypes to use for kubelet connections.
    #[arg(long, value_delimiter = ',', default_values_t = ["Hostname", "InternalDNS", "InternalIP", "ExternalDNS", "ExternalIP"].map(String::from))]
    pub kubelet_preferred_address_types: Vec<String>,
    /// Turns on aggregator routing requests to endpoints IP rather than cluster IP.
    #[arg(long, default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub enable_aggregator_routing: bool,
    /// Root certificate bundle to use to verify client certificates on incoming requests before trusting usernames in headers specified by --requestheader-username-headers.
    #[arg(long)]
    pub requestheader_client_ca_file: Option<PathBuf>,
    /// List of client certificate common names to allow to provide usernames in headers specified by --requestheader-username-headers. If empty, any client certificate validated by the authorities in --requestheader-client-ca-file is allowed.
    #[arg(long, value_delimiter = ',')]
    pub requestheader_allowed_names: Vec<String>,
    /// List of request headers to inspect for usernames. X-Remote-User is common.
    #[arg(long, value_delimiter = ',')]
    pub requestheader_username_headers: Vec<String>,
    /// List of request headers to inspect for UIDs. X-Remote-Uid is suggested.
    #[arg(long, value_delimiter = ',')]
    pub requestheader_uid_headers: Vec<String>,
    /// List of request headers to inspect for groups. X-Remote-Group is suggested.
    #[arg(long, value_delimiter = ',')]
    pub requestheader_group_headers: Vec<String>,
    /// List of request header prefixes to inspect. X-Remote-Extra- is suggested.
    #[arg(long, value_delimiter = ',')]
    pub requestheader_extra_headers_prefix: Vec<String>,
    /// Where the embedded store keeps its data (used when --etcd-servers is not given).
    #[arg(long, default_value = "/var/lib/kube-apiserver")]
    pub data_dir: PathBuf,
    /// Number for the log level verbosity.
    #[arg(short = 'v', long = "v", default_value_t = 0)]
    pub verbosity: u8,
}

fn parse_port_range(s: &str) -> Result<(u16, u16), String> {
    let (a, b) = s.split_once('-').unwrap_or((s, s));
    let lo: u16 = a.trim().parse().map_err(|_| format!("invalid port range {s:?}"))?;
    let hi: u16 = b.trim().parse().map_err(|_| format!("invalid port range {s:?}"))?;
    if lo > hi {
        return Err(format!("invalid port range {s:?}: start after end"));
    }
    Ok((lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_ranges() {
        assert_eq!(parse_port_range("30000-32767").unwrap(), (30000, 32767));
        assert!(parse_port_range("2-1").is_err());
    }
}
