//! CertificateSigningRequest validation: a PEM certificate request whose signature checks,
//! a signer name, known key usages and a minimum expiration.

use crate::errors::FieldError;
use base64::Engine;
use serde_json::Value;

const USAGES: &[&str] = &[
    "signing",
    "digital signature",
    "content commitment",
    "key encipherment",
    "key agreement",
    "data encipherment",
    "cert sign",
    "crl sign",
    "encipher only",
    "decipher only",
    "any",
    "server auth",
    "client auth",
    "code signing",
    "email protection",
    "s/mime",
    "ipsec end system",
    "ipsec tunnel",
    "ipsec user",
    "timestamping",
    "ocsp signing",
    "microsoft sgc",
    "netscape sgc",
];

/// Decodes `spec.request` (base64 of PEM) into the DER of its CERTIFICATE REQUEST block.
pub fn request_der(csr: &Value) -> Result<Vec<u8>, String> {
    use rustls_pki_types::pem::{PemObject, SectionKind};
    let raw = csr.pointer("/spec/request").and_then(Value::as_str).unwrap_or_default();
    let pem = base64::engine::general_purpose::STANDARD
        .decode(raw)
        .map_err(|_| "PEM block type must be CERTIFICATE REQUEST".to_string())?;
    match <(SectionKind, Vec<u8>)>::from_pem_slice(&pem) {
        Ok((SectionKind::Csr, der)) => Ok(der),
        _ => Err("PEM block type must be CERTIFICATE REQUEST".into()),
    }
}

fn check_request(csr: &Value) -> Result<(), String> {
    use x509_parser::prelude::FromDer;
    let der = request_der(csr)?;
    let (_, req) = x509_parser::certification_request::X509CertificationRequest::from_der(&der)
        .map_err(|e| format!("asn1: {e}"))?;
    req.verify_signature()
        .map_err(|_| "x509: ECDSA verification failure".to_string())
}

pub fn certificate_signing_request(obj: &Value, e: &mut Vec<FieldError>) {
    if let Err(msg) = check_request(obj) {
        let raw = obj.pointer("/spec/request").cloned().unwrap_or(Value::Null);
        e.push(FieldError::invalid("spec.request", raw, &msg));
    }
    let signer = obj
        .pointer("/spec/signerName")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if signer.is_empty() {
        e.push(FieldError::required("spec.signerName", ""));
    } else if !signer.contains('/') || signer.starts_with('/') || signer.ends_with('/') {
        e.push(FieldError::invalid(
            "spec.signerName",
            signer,
            "must be a fully qualified domain and path of the form 'example.com/signer-name'",
        ));
    }
    match obj.pointer("/spec/usages").and_then(Value::as_array) {
        Some(list) if !list.is_empty() => {
            for (i, u) in list.iter().enumerate() {
                let u = u.as_str().unwrap_or_default();
                if !USAGES.contains(&u) {
                    e.push(FieldError::not_supported(&format!("spec.usages[{i}]"), u, USAGES));
                }
            }
        }
        _ => e.push(FieldError::required("spec.usages", "usages must be provided")),
    }
    if let Some(secs) = obj.pointer("/spec/expirationSeconds").and_then(Value::as_i64)
        && secs < 600
    {
        e.push(FieldError::invalid(
            "spec.expirationSeconds",
            secs,
            "may not specify a duration less than 600 seconds (10 minutes)",
        ));
    }
}
