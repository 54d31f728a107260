//! csrsigning: issues certificates for approved requests to the built-in signers
//! (`kubernetes.io/kube-apiserver-client`, `kube-apiserver-client-kubelet`, `kubelet-serving`,
//! `legacy-unknown`) with the CA of `--cluster-signing-cert-file`/`--cluster-signing-key-file`, as upstream's
//! local signer does: subject and alternative names from the request, usages from `spec.usages`, everything else
//! the request asks for dropped, lifetime min(`--cluster-signing-duration`, `spec.expirationSeconds`) backdated
//! five minutes and capped at the CA's expiry. A request its signer's rules refuse gets a Failed condition.
//!
//! The certificate is encoded here (a few DER primitives) rather than with rcgen's builder, which cannot carry a
//! subject with several organizations — the groups of a client certificate.

use super::Ctx;
use super::csr_approving::{
    API_SERVER_CLIENT_SIGNER, KUBELET_CLIENT_SIGNER, KUBELET_SERVING_SIGNER, LEGACY_UNKNOWN_SIGNER, Request,
    has_certificate, has_true_condition, is_approved, parse_request, usages, validate_kubelet_client,
    validate_kubelet_serving,
};
use crate::informer::Informer;
use crate::queue::{Queue, run_workers};
use base64::Engine;
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::ByteString;
use k8s_openapi::api::certificates::v1::{CertificateSigningRequest, CertificateSigningRequestCondition};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, PostParams};
use rcgen::{KeyPair, PublicKeyData, SigningKey};
use std::collections::HashMap;
use std::io::Read;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::extensions::ParsedExtension;
use x509_parser::prelude::{FromDer, X509Certificate};

/// How far back a certificate's validity starts, for clock skew.
const BACKDATE: Duration = Duration::from_secs(5 * 60);
/// Below this lifetime the end is not backdated too (5 minutes is ~1% of 8 hours).
const SHORT: Duration = Duration::from_secs(8 * 3600);
/// The least lifetime granted whatever `spec.expirationSeconds` asks (twice the backdate).
const MIN_DURATION: Duration = Duration::from_secs(10 * 60);

/// The lifetime to grant: the requested one within [10 minutes, `max`].
pub fn duration(max: Duration, expiration_seconds: Option<i32>) -> Duration {
    let Some(seconds) = expiration_seconds else {
        return max;
    };
    let requested = Duration::from_secs(seconds.max(0) as u64);
    if requested > max {
        max
    } else if requested < MIN_DURATION {
        MIN_DURATION
    } else {
        requested
    }
}

/// notBefore and notAfter for a certificate signed at `now`, as upstream's permissive signing policy.
pub fn validity(now: Timestamp, ttl: Duration, ca_not_after: Timestamp) -> Result<(Timestamp, Timestamp), String> {
    let add = |d: Duration| now.checked_add(SignedDuration::try_from(d).unwrap_or(SignedDuration::MAX));
    let sub = |d: Duration| now.checked_sub(SignedDuration::try_from(d).unwrap_or(SignedDuration::MAX));
    let not_before = sub(BACKDATE).map_err(|e| e.to_string())?;
    let end = match ttl < SHORT {
        true => add(ttl),
        false => add(ttl.saturating_sub(BACKDATE)),
    };
    let not_after = end.unwrap_or(Timestamp::MAX).min(ca_not_after);
    if not_before >= ca_not_after {
        return Err(format!("the signer has expired: NotAfter={ca_not_after}"));
    }
    if now >= ca_not_after {
        return Err(format!(
            "refusing to sign a certificate that expired in the past: NotAfter={ca_not_after}"
        ));
    }
    Ok((not_before, not_after))
}

/// The kube-apiserver-client signer's usage rule.
pub fn validate_api_server_client(_: &Request, usages: &[String]) -> Result<(), String> {
    let mut client_auth = false;
    for u in usages {
        match u.as_str() {
            "digital signature" | "key encipherment" => {}
            "client auth" => client_auth = true,
            other => return Err(format!("invalid usage for client certificate: {other}")),
        }
    }
    match client_auth {
        true => Ok(()),
        false => Err("missing required usage for client certificate: client auth".into()),
    }
}

type Validate = fn(&Request, &[String]) -> Result<(), String>;

/// The rule of each built-in signer; other signer names are someone else's.
fn signer_rule(signer: &str) -> Option<Validate> {
    match signer {
        KUBELET_SERVING_SIGNER => Some(validate_kubelet_serving),
        KUBELET_CLIENT_SIGNER => Some(validate_kubelet_client),
        API_SERVER_CLIENT_SIGNER => Some(validate_api_server_client),
        // No restrictions, for compatibility with certificates.k8s.io/v1beta1.
        LEGACY_UNKNOWN_SIGNER => Some(|_, _| Ok(())),
        _ => None,
    }
}

/// A loaded signing CA.
pub struct Authority {
    /// The CA certificate's subject, DER: the issuer of what it signs.
    subject: Vec<u8>,
    key_id: Option<Vec<u8>>,
    not_after: Timestamp,
    key: KeyPair,
}

fn pem_blocks(data: &[u8]) -> Vec<x509_parser::pem::Pem> {
    x509_parser::pem::Pem::iter_from_buffer(data)
        .map_while(Result::ok)
        .collect()
}

impl Authority {
    /// One PEM certificate and its PEM private key (PKCS#8, PKCS#1 RSA or SEC1 EC).
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<Authority, String> {
        let certs: Vec<_> = pem_blocks(cert_pem)
            .into_iter()
            .filter(|b| b.label == "CERTIFICATE")
            .collect();
        let [cert] = certs.as_slice() else {
            return Err(format!("expected 1 certificate, found {}", certs.len()));
        };
        let (_, parsed) = X509Certificate::from_der(&cert.contents).map_err(|e| e.to_string())?;
        let key = pem_blocks(key_pem)
            .into_iter()
            .find(|b| b.label.ends_with("PRIVATE KEY"))
            .ok_or("data does not contain a valid RSA or ECDSA private key")?;
        let key = KeyPair::try_from(key.contents.as_slice()).map_err(|e| e.to_string())?;
        if parsed.tbs_certificate.subject_pki.subject_public_key.data.as_ref() != key.der_bytes() {
            return Err("private key does not match public key".into());
        }
        let key_id = parsed.extensions().iter().find_map(|e| match e.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(id) => Some(id.0.to_vec()),
            _ => None,
        });
        Ok(Authority {
            subject: parsed.tbs_certificate.subject.as_raw().to_vec(),
            key_id,
            not_after: Timestamp::from_second(parsed.validity().not_after.timestamp()).unwrap_or(Timestamp::MIN),
            key,
        })
    }

    /// A DER certificate for `req`.
    pub fn sign(&self, req: &Request, usages: &[String], ttl: Duration, now: Timestamp) -> Result<Vec<u8>, String> {
        let (_, csr) = X509CertificationRequest::from_der(&req.der)
            .map_err(|e| format!("unable to parse certificate request: {e}"))?;
        csr.verify_signature()
            .map_err(|e| format!("unable to verify certificate request signature: {e}"))?;
        let (key_usage, ext_key_usages) = key_usages(usages)?;
        let (not_before, not_after) = validity(now, ttl, self.not_after)?;
        let algorithm = signature_algorithm(&self.key)?;
        let subject = der::name(&req.subject);

        let mut extensions = Vec::new();
        if key_usage != 0 {
            extensions.push(der::extension("2.5.29.15", true, &der::key_usage(key_usage)));
        }
        if !ext_key_usages.is_empty() {
            let oids: Vec<Vec<u8>> = ext_key_usages.iter().map(|o| der::oid(o)).collect();
            extensions.push(der::extension("2.5.29.37", false, &der::seq(&oids)));
        }
        extensions.push(der::extension("2.5.29.19", true, &der::seq(&[])));
        if let Some(id) = self.key_id.as_ref().filter(|_| self.subject != subject) {
            extensions.push(der::extension("2.5.29.35", false, &der::seq(&[der::tlv(0x80, id)])));
        }
        if let Some(sans) = der::alternative_names(req) {
            // Critical when the subject is empty, as RFC 5280 requires.
            extensions.push(der::extension("2.5.29.17", subject == der::seq(&[]), &sans));
        }
        let tbs = der::seq(&[
            der::tlv(0xa0, &der::tlv(0x02, &[2])),
            der::integer(&random_serial()?),
            algorithm.clone(),
            self.subject.clone(),
            der::seq(&[der::time(not_before), der::time(not_after)]),
            subject,
            req.public_key_info.clone(),
            der::tlv(0xa3, &der::seq(&extensions)),
        ]);
        let signature = self
            .key
            .sign(&tbs)
            .map_err(|e| format!("failed to sign certificate: {e}"))?;
        Ok(der::seq(&[tbs, algorithm, der::bit_string(0, &signature)]))
    }
}

/// The AlgorithmIdentifier Go's x509 picks for a CA key: SHA-256 for RSA, the curve's hash for ECDSA.
fn signature_algorithm(key: &KeyPair) -> Result<Vec<u8>, String> {
    let alg = key.algorithm();
    let (oid, null_params) = if alg == &rcgen::PKCS_RSA_SHA256 {
        ("1.2.840.113549.1.1.11", true)
    } else if alg == &rcgen::PKCS_ECDSA_P256_SHA256 {
        ("1.2.840.10045.4.3.2", false)
    } else if alg == &rcgen::PKCS_ECDSA_P384_SHA384 {
        ("1.2.840.10045.4.3.3", false)
    } else if alg == &rcgen::PKCS_ECDSA_P521_SHA512 {
        ("1.2.840.10045.4.3.4", false)
    } else if alg == &rcgen::PKCS_ED25519 {
        ("1.3.101.112", false)
    } else {
        return Err("unsupported CA key algorithm".into());
    };
    let mut parts = vec![der::oid(oid)];
    if null_params {
        parts.push(der::tlv(0x05, &[]));
    }
    Ok(der::seq(&parts))
}

/// The key usage bits (Go's x509.KeyUsage) and extended key usage OIDs (in Go's order) for `spec.usages`.
fn key_usages(usages: &[String]) -> Result<(u16, Vec<&'static str>), String> {
    const EXTENDED: &[(&str, &str)] = &[
        ("any", "2.5.29.37.0"),
        ("server auth", "1.3.6.1.5.5.7.3.1"),
        ("client auth", "1.3.6.1.5.5.7.3.2"),
        ("code signing", "1.3.6.1.5.5.7.3.3"),
        ("email protection", "1.3.6.1.5.5.7.3.4"),
        ("s/mime", "1.3.6.1.5.5.7.3.4"),
        ("ipsec end system", "1.3.6.1.5.5.7.3.5"),
        ("ipsec tunnel", "1.3.6.1.5.5.7.3.6"),
        ("ipsec user", "1.3.6.1.5.5.7.3.7"),
        ("timestamping", "1.3.6.1.5.5.7.3.8"),
        ("ocsp signing", "1.3.6.1.5.5.7.3.9"),
        ("microsoft sgc", "1.3.6.1.4.1.311.10.3.3"),
        ("netscape sgc", "2.16.840.1.113730.4.1"),
    ];
    let mut bits = 0u16;
    let mut extended = Vec::new();
    let mut unknown = Vec::new();
    for u in usages {
        let bit = match u.as_str() {
            "signing" | "digital signature" => Some(0),
            "content commitment" => Some(1),
            "key encipherment" => Some(2),
            "data encipherment" => Some(3),
            "key agreement" => Some(4),
            "cert sign" => Some(5),
            "crl sign" => Some(6),
            "encipher only" => Some(7),
            "decipher only" => Some(8),
            _ => None,
        };
        if let Some(b) = bit {
            bits |= 1 << b;
        } else if let Some(i) = EXTENDED.iter().position(|(name, _)| name == u) {
            extended.push(i);
        } else {
            unknown.push(format!("{u:?}"));
        }
    }
    if !unknown.is_empty() {
        return Err(format!("unrecognized usage values: [{}]", unknown.join(" ")));
    }
    extended.sort_unstable();
    let mut oids: Vec<&'static str> = extended.into_iter().map(|i| EXTENDED[i].1).collect();
    oids.dedup();
    Ok((bits, oids))
}

fn random_serial() -> Result<[u8; 16], String> {
    let mut serial = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut serial))
        .map_err(|e| format!("unable to generate a serial number: {e}"))?;
    Ok(serial)
}

/// PEM of one DER certificate.
pub fn certificate_pem(der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// The DER encoding of what a certificate holds.
mod der {
    use super::Request;
    use jiff::Timestamp;
    use std::net::IpAddr;

    pub fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let len = body.len();
        if len < 0x80 {
            out.push(len as u8);
        } else {
            let bytes = len.to_be_bytes();
            let skip = bytes.iter().take_while(|b| **b == 0).count();
            out.push(0x80 | (bytes.len() - skip) as u8);
            out.extend_from_slice(&bytes[skip..]);
        }
        out.extend_from_slice(body);
        out
    }

    pub fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
        tlv(0x30, &parts.concat())
    }

    /// A SET OF, its elements in DER's sorted order.
    fn set(mut parts: Vec<Vec<u8>>) -> Vec<u8> {
        parts.sort();
        tlv(0x31, &parts.concat())
    }

    /// An OBJECT IDENTIFIER from its dotted form.
    pub fn oid(dotted: &str) -> Vec<u8> {
        let arcs: Vec<u64> = dotted.split('.').filter_map(|a| a.parse().ok()).collect();
        let mut body = Vec::new();
        let first = arcs.first().copied().unwrap_or(0) * 40 + arcs.get(1).copied().unwrap_or(0);
        for mut arc in std::iter::once(first).chain(arcs.iter().skip(2).copied()) {
            let mut base128 = vec![(arc & 0x7f) as u8];
            arc >>= 7;
            while arc > 0 {
                base128.push(0x80 | (arc & 0x7f) as u8);
                arc >>= 7;
            }
            body.extend(base128.iter().rev());
        }
        tlv(0x06, &body)
    }

    /// A non-negative INTEGER from big-endian magnitude bytes.
    pub fn integer(magnitude: &[u8]) -> Vec<u8> {
        let trimmed: Vec<u8> = magnitude.iter().copied().skip_while(|b| *b == 0).collect();
        match trimmed.first() {
            None => tlv(0x02, &[0]),
            Some(b) if b & 0x80 != 0 => tlv(0x02, &[&[0u8][..], &trimmed].concat()),
            Some(_) => tlv(0x02, &trimmed),
        }
    }

    pub fn bit_string(unused_bits: u8, bytes: &[u8]) -> Vec<u8> {
        tlv(0x03, &[&[unused_bits][..], bytes].concat())
    }

    /// UTCTime for 1950–2049, GeneralizedTime otherwise (RFC 5280), to the second.
    pub fn time(t: Timestamp) -> Vec<u8> {
        let year = t.to_zoned(jiff::tz::TimeZone::UTC).year();
        match (1950..2050).contains(&year) {
            true => tlv(0x17, t.strftime("%y%m%d%H%M%SZ").to_string().as_bytes()),
            false => tlv(0x18, t.strftime("%Y%m%d%H%M%SZ").to_string().as_bytes()),
        }
    }

    pub fn extension(id: &str, critical: bool, value: &[u8]) -> Vec<u8> {
        let mut parts = vec![oid(id)];
        if critical {
            parts.push(tlv(0x01, &[0xff]));
        }
        parts.push(tlv(0x04, value));
        seq(&parts)
    }

    /// The KeyUsage BIT STRING: bit 0 (digitalSignature) first, trailing zero bits dropped.
    pub fn key_usage(bits: u16) -> Vec<u8> {
        let bytes = [(bits as u8).reverse_bits(), ((bits >> 8) as u8).reverse_bits()];
        let used = if bytes[1] != 0 { 2 } else { 1 };
        let last = bytes[used - 1];
        let unused = if last == 0 { 0 } else { last.trailing_zeros() as u8 };
        bit_string(unused, &bytes[..used])
    }

    /// PrintableString when the characters allow it, else UTF8String (Go's choice).
    fn string(s: &str) -> Vec<u8> {
        let printable = s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || " '()+,-./:=?".contains(c));
        tlv(if printable { 0x13 } else { 0x0c }, s.as_bytes())
    }

    /// The subject as Go writes a parsed name back: country, province, locality, street, postal code,
    /// organization, organizational unit, common name, serial number; several values of one type share an RDN.
    pub fn name(attributes: &[(String, String)]) -> Vec<u8> {
        const ORDER: &[(&str, bool)] = &[
            ("2.5.4.6", true),
            ("2.5.4.8", true),
            ("2.5.4.7", true),
            ("2.5.4.9", true),
            ("2.5.4.17", true),
            ("2.5.4.10", true),
            ("2.5.4.11", true),
            ("2.5.4.3", false),
            ("2.5.4.5", false),
        ];
        let mut rdns = Vec::new();
        for (id, multi) in ORDER {
            let mut values: Vec<&str> = attributes
                .iter()
                .filter(|(o, _)| o == id)
                .map(|(_, v)| v.as_str())
                .collect();
            if !multi && values.len() > 1 {
                values.drain(..values.len() - 1);
            }
            if values.is_empty() || (!multi && values[0].is_empty()) {
                continue;
            }
            rdns.push(set(values.iter().map(|v| seq(&[oid(id), string(v)])).collect()));
        }
        seq(&rdns)
    }

    /// The subjectAltName value: DNS names, emails, IPs, URIs (Go's order); `None` when there are none.
    pub fn alternative_names(req: &Request) -> Option<Vec<u8>> {
        let mut names = Vec::new();
        names.extend(req.dns_names.iter().map(|n| tlv(0x82, n.as_bytes())));
        names.extend(req.emails.iter().map(|n| tlv(0x81, n.as_bytes())));
        for ip in &req.ips {
            let bytes = match ip {
                IpAddr::V4(v4) => v4.octets().to_vec(),
                IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                    Some(v4) => v4.octets().to_vec(),
                    None => v6.octets().to_vec(),
                },
            };
            names.push(tlv(0x87, &bytes));
        }
        names.extend(req.uris.iter().map(|n| tlv(0x86, n.as_bytes())));
        (!names.is_empty()).then(|| seq(&names))
    }
}

/// The file contents a CA was loaded from, and the CA.
type Loaded = (Vec<u8>, Vec<u8>, Arc<Authority>);

/// The CA files, re-read on every use and re-parsed when they change (upstream reloads them too).
struct CaFiles {
    cert: PathBuf,
    key: PathBuf,
    loaded: Mutex<Option<Loaded>>,
}

impl CaFiles {
    fn current(&self) -> anyhow::Result<Arc<Authority>> {
        let read = |p: &PathBuf| std::fs::read(p).map_err(|e| anyhow::anyhow!("error reading {}: {e}", p.display()));
        let (cert, key) = (read(&self.cert)?, read(&self.key)?);
        let mut loaded = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((c, k, ca)) = loaded.as_ref()
            && (c, k) == (&cert, &key)
        {
            return Ok(ca.clone());
        }
        let ca = Authority::from_pem(&cert, &key).map_err(|e| {
            anyhow::anyhow!(
                "error reading CA files {}, {}: {e}",
                self.cert.display(),
                self.key.display()
            )
        })?;
        let ca = Arc::new(ca);
        *loaded = Some((cert, key, ca.clone()));
        Ok(ca)
    }
}

pub async fn run(ctx: Ctx) -> anyhow::Result<()> {
    let files = ctx.opts.signing_files().map_err(|e| anyhow::anyhow!(e))?;
    if files.is_empty() {
        tracing::info!("Skipping CSR signer controller because no csr cert/key was specified");
        return std::future::pending().await;
    }
    let mut cas = HashMap::new();
    for (signer, cert, key) in files {
        let ca = Arc::new(CaFiles {
            cert,
            key,
            loaded: Mutex::new(None),
        });
        ca.current()?;
        cas.insert(signer, ca);
    }
    let cas = Arc::new(cas);
    let csrs = ctx.informers.get::<CertificateSigningRequest>();
    let queue = Queue::<String>::new();
    csrs.queue_keys(queue.clone());
    csrs.synced().await;
    run_workers("certificate", queue, 5, move |name: String| {
        let (ctx, csrs, cas) = (ctx.clone(), csrs.clone(), cas.clone());
        async move { sync(&ctx, &csrs, &cas, &name).await }
    })
    .await;
    Ok(())
}

async fn sync(
    ctx: &Ctx,
    csrs: &Informer<CertificateSigningRequest>,
    cas: &HashMap<&'static str, Arc<CaFiles>>,
    name: &str,
) -> anyhow::Result<()> {
    let Some(csr) = csrs.get(name) else { return Ok(()) };
    if has_certificate(&csr) || !is_approved(&csr) || has_true_condition(&csr, "Failed") {
        return Ok(());
    }
    // A signer without a CA of its own is left to whoever runs it.
    let (Some(rule), Some(ca)) = (
        signer_rule(&csr.spec.signer_name),
        cas.get(csr.spec.signer_name.as_str()),
    ) else {
        return Ok(());
    };
    let req = parse_request(&csr.spec.request.0).map_err(|e| anyhow::anyhow!("unable to parse csr {name:?}: {e}"))?;
    let usages = usages(&csr);
    let api: Api<CertificateSigningRequest> = Api::all(ctx.client.clone());
    let mut next = (*csr).clone();
    let status = next.status.get_or_insert_default();
    if let Err(message) = rule(&req, &usages) {
        status
            .conditions
            .get_or_insert_default()
            .push(CertificateSigningRequestCondition {
                type_: "Failed".into(),
                status: "True".into(),
                reason: Some("SignerValidationFailure".into()),
                message: Some(message),
                last_update_time: Some(Time(Timestamp::now())),
                last_transition_time: None,
            });
        api.replace_status(name, &PostParams::default(), &next)
            .await
            .map_err(|e| anyhow::anyhow!("error adding failure condition for csr: {e}"))?;
        return Ok(());
    }
    let ttl = duration(ctx.opts.cluster_signing_duration, csr.spec.expiration_seconds);
    let der = ca
        .current()?
        .sign(&req, &usages, ttl, Timestamp::now())
        .map_err(|e| anyhow::anyhow!("error auto signing csr: {e}"))?;
    status.certificate = Some(ByteString(certificate_pem(&der).into_bytes()));
    api.replace_status(name, &PostParams::default(), &next)
        .await
        .map_err(|e| anyhow::anyhow!("error updating signature for csr: {e}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyUsagePurpose};
    use x509_parser::prelude::parse_x509_certificate;

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn duration_is_the_request_within_ten_minutes_and_the_maximum() {
        let max = 8760 * HOUR;
        assert_eq!(duration(max, None), max);
        assert_eq!(duration(max, Some(3600)), HOUR);
        assert_eq!(duration(max, Some(60)), Duration::from_secs(600));
        assert_eq!(duration(HOUR, Some(7200)), HOUR);
    }

    #[test]
    fn validity_is_backdated_and_capped_by_the_ca() {
        let now: Timestamp = "2025-01-01T00:00:00Z".parse().expect("time");
        let far: Timestamp = "2030-01-01T00:00:00Z".parse().expect("time");
        let at = |s: &str| s.parse::<Timestamp>().expect("time");
        // Long-lived: both ends five minutes early.
        assert_eq!(
            validity(now, 24 * HOUR, far),
            Ok((at("2024-12-31T23:55:00Z"), at("2025-01-01T23:55:00Z")))
        );
        // Short-lived: only the start is backdated.
        assert_eq!(
            validity(now, HOUR, far),
            Ok((at("2024-12-31T23:55:00Z"), at("2025-01-01T01:00:00Z")))
        );
        // Never past the CA's own end.
        let ca_end = at("2025-01-01T00:30:00Z");
        assert_eq!(validity(now, HOUR, ca_end), Ok((at("2024-12-31T23:55:00Z"), ca_end)));
        let expired = at("2024-12-31T23:50:00Z");
        assert!(
            validity(now, HOUR, expired)
                .unwrap_err()
                .starts_with("the signer has expired")
        );
    }

    #[test]
    fn client_usages() {
        let req = Request::default();
        let u = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            validate_api_server_client(&req, &u(&["client auth", "digital signature"])),
            Ok(())
        );
        assert_eq!(
            validate_api_server_client(&req, &u(&["server auth", "client auth"])).unwrap_err(),
            "invalid usage for client certificate: server auth"
        );
        assert_eq!(
            validate_api_server_client(&req, &u(&["digital signature"])).unwrap_err(),
            "missing required usage for client certificate: client auth"
        );
        assert_eq!(
            key_usages(&u(&["bogus"])).unwrap_err(),
            "unrecognized usage values: [\"bogus\"]"
        );
        let (bits, ext) = key_usages(&u(&[
            "client auth",
            "server auth",
            "key encipherment",
            "digital signature",
        ]))
        .expect("usages");
        assert_eq!(bits, 0b101);
        assert_eq!(ext, ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]);
    }

    #[test]
    fn der_primitives() {
        assert_eq!(
            der::oid("1.2.840.10045.4.3.2"),
            [6, 8, 0x2a, 0x86, 0x48, 0xce, 0x3d, 4, 3, 2]
        );
        assert_eq!(der::integer(&[0, 0, 0x80]), [2, 2, 0, 0x80]);
        assert_eq!(der::integer(&[0]), [2, 1, 0]);
        // digitalSignature + keyEncipherment: 0b101 → 0xa0 with 5 unused bits (Go's encoding).
        assert_eq!(der::key_usage(0b101), [3, 2, 5, 0xa0]);
        assert_eq!(der::key_usage(1 << 8), [3, 3, 7, 0, 0x80]);
        assert_eq!(der::tlv(4, &[0; 200])[..3], [4, 0x81, 200]);
    }

    /// A request whose subject has several organizations, which rcgen's own builder cannot write.
    fn request_with_groups(cn: &str, orgs: &[&str], sans: &[&str]) -> Vec<u8> {
        let key = KeyPair::generate().expect("key");
        let mut subject: Vec<(String, String)> = vec![("2.5.4.3".into(), cn.into())];
        subject.extend(orgs.iter().map(|o| ("2.5.4.10".to_string(), o.to_string())));
        let req = Request {
            dns_names: sans
                .iter()
                .filter(|s| s.parse::<std::net::IpAddr>().is_err())
                .map(|s| s.to_string())
                .collect(),
            ips: sans.iter().filter_map(|s| s.parse().ok()).collect(),
            ..Default::default()
        };
        let san = der::alternative_names(&req).expect("names");
        let extension_request = der::seq(&[
            der::oid("1.2.840.113549.1.9.14"),
            der::tlv(0x31, &der::seq(&[der::extension("2.5.29.17", false, &san)])),
        ]);
        let info = der::seq(&[
            der::integer(&[0]),
            der::name(&subject),
            key.subject_public_key_info(),
            der::tlv(0xa0, &extension_request),
        ]);
        let signature = key.sign(&info).expect("sign");
        let csr = der::seq(&[
            info,
            signature_algorithm(&key).expect("alg"),
            der::bit_string(0, &signature),
        ]);
        certificate_pem(&csr)
            .replace("CERTIFICATE", "CERTIFICATE REQUEST")
            .into_bytes()
    }

    fn test_ca(key: KeyPair) -> (String, String) {
        let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
        p.distinguished_name.push(DnType::CommonName, "test-ca");
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        let cert = p.self_signed(&key).expect("ca");
        (cert.pem(), key.serialize_pem())
    }

    #[test]
    fn signs_with_ecdsa_and_rsa_cas() {
        let keys = [
            KeyPair::generate().expect("ecdsa"),
            KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048).expect("rsa"),
        ];
        for key in keys {
            let (cert_pem, key_pem) = test_ca(key);
            let ca = Authority::from_pem(cert_pem.as_bytes(), key_pem.as_bytes()).expect("ca");
            let req = parse_request(&request_with_groups(
                "alice",
                &["devs", "ops"],
                &["a.example", "10.1.2.3"],
            ))
            .expect("req");
            let usages = vec!["digital signature".to_string(), "client auth".to_string()];
            let now = Timestamp::now();
            let der = ca.sign(&req, &usages, HOUR, now).expect("sign");
            let (_, cert) = parse_x509_certificate(&der).expect("parse");
            let ca_der = pem_blocks(cert_pem.as_bytes()).remove(0).contents;
            let (_, issuer) = parse_x509_certificate(&ca_der).expect("ca");
            cert.verify_signature(Some(issuer.public_key()))
                .expect("signed by the CA");
            let subject = cert.subject();
            assert_eq!(
                subject.iter_common_name().next().and_then(|a| a.as_str().ok()),
                Some("alice")
            );
            let orgs: Vec<&str> = subject.iter_organization().filter_map(|a| a.as_str().ok()).collect();
            // One multi-valued RDN, whose values DER orders by encoding (shorter first), as Go writes it.
            assert_eq!(orgs, ["ops", "devs"]);
            assert_eq!(cert.issuer().as_raw(), issuer.subject().as_raw());
            assert_eq!(
                cert.validity().not_after.timestamp() - cert.validity().not_before.timestamp(),
                3900
            );
            let eku = cert.extended_key_usage().expect("eku").expect("present").value;
            assert!(eku.client_auth && !eku.server_auth);
            let ku = cert.key_usage().expect("ku").expect("present");
            assert!(ku.critical && ku.value.digital_signature() && !ku.value.key_encipherment());
            let bc = cert.basic_constraints().expect("bc").expect("present");
            assert!(bc.critical && !bc.value.ca);
            let san = cert.subject_alternative_name().expect("san").expect("present");
            assert_eq!(san.value.general_names.len(), 2);
        }
    }

    #[test]
    fn refuses_a_key_that_is_not_the_certificates() {
        let (cert_pem, _) = test_ca(KeyPair::generate().expect("key"));
        let other = KeyPair::generate().expect("key").serialize_pem();
        let err = Authority::from_pem(cert_pem.as_bytes(), other.as_bytes()).err();
        assert_eq!(err.as_deref(), Some("private key does not match public key"));
        let two = format!("{cert_pem}{cert_pem}");
        let err = Authority::from_pem(two.as_bytes(), other.as_bytes()).err();
        assert_eq!(err.as_deref(), Some("expected 1 certificate, found 2"));
    }
}
