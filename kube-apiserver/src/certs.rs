//! The serving certificate: the files given by `--tls-cert-file`/`--tls-private-key-file`,
//! or, as upstream does, a self-signed CA and a serving certificate generated once into
//! `--cert-dir` (`apiserver.crt` holds the serving certificate followed by its CA).

use anyhow::{Context, Result};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    SanType,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub struct Serving {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
}

/// Returns the certificate files to serve with, generating them when none are given.
pub fn ensure(
    cert_file: Option<&Path>,
    key_file: Option<&Path>,
    cert_dir: &Path,
    ips: &[IpAddr],
    hostname: &str,
) -> Result<Serving> {
    if let (Some(c), Some(k)) = (cert_file, key_file) {
        return Ok(Serving {
            cert_file: c.to_path_buf(),
            key_file: k.to_path_buf(),
        });
    }
    let cert = cert_dir.join("apiserver.crt");
    let key = cert_dir.join("apiserver.key");
    if cert.exists() && key.exists() {
        return Ok(Serving {
            cert_file: cert,
            key_file: key,
        });
    }
    std::fs::create_dir_all(cert_dir).with_context(|| format!("creating {}", cert_dir.display()))?;
    let (cert_pem, key_pem) = self_signed(ips, hostname)?;
    std::fs::write(&cert, cert_pem).with_context(|| format!("writing {}", cert.display()))?;
    write_private(&key, &key_pem)?;
    Ok(Serving {
        cert_file: cert,
        key_file: key,
    })
}

fn write_private(path: &Path, data: &str) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(data.as_bytes())?;
    Ok(())
}

/// A CA named `<host>-ca@<unix time>` and a serving certificate it signs.
fn self_signed(ips: &[IpAddr], hostname: &str) -> Result<(String, String)> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let ca_key = KeyPair::generate()?;
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.distinguished_name
        .push(DnType::CommonName, format!("{hostname}-ca@{now}"));
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    let ca_cert = ca.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca, ca_key);

    let mut names: Vec<String> = vec![
        "localhost".into(),
        "kubernetes".into(),
        "kubernetes.default".into(),
        "kubernetes.default.svc".into(),
        "kubernetes.default.svc.cluster.local".into(),
    ];
    if !hostname.is_empty() && !names.iter().any(|n| n == hostname) {
        names.push(hostname.into());
    }
    let mut leaf = CertificateParams::new(names)?;
    for ip in ips {
        leaf.subject_alt_names.push(SanType::IpAddress(*ip));
    }
    leaf.distinguished_name
        .push(DnType::CommonName, format!("{hostname}@{now}"));
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let leaf_key = KeyPair::generate()?;
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer)?;
    Ok((
        format!("{}{}", leaf_cert.pem(), ca_cert.pem()),
        leaf_key.serialize_pem(),
    ))
}

/// A rustls server configuration offering HTTP/2 and HTTP/1.1.
pub fn server_config(
    serving: &Serving,
    client_verifier: Option<Arc<dyn rustls::server::danger::ClientCertVerifier>>,
) -> Result<rustls::ServerConfig> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&serving.cert_file)
        .with_context(|| format!("reading {}", serving.cert_file.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("parsing {}", serving.cert_file.display()))?;
    let key = PrivateKeyDer::from_pem_file(&serving.key_file)
        .with_context(|| format!("reading {}", serving.key_file.display()))?;
    let cfg = rustls::ServerConfig::builder_with_provider(rustls::crypto::aws_lc_rs::default_provider().into())
        .with_safe_default_protocol_versions()?;
    let mut cfg = match client_verifier {
        Some(v) => cfg.with_client_cert_verifier(v),
        None => cfg.with_no_client_auth(),
    }
    .with_single_cert(certs, key)?;
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(cfg)
}
