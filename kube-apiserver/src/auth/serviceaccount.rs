//! Service-account tokens: JWTs signed with `--service-account-signing-key-file`, verified
//! with the keys of `--service-account-key-file`, issued by the TokenRequest subresource and
//! bound to a pod or secret; plus the OIDC discovery documents (`/.well-known/openid-
//! configuration`, `/openid/v1/jwks`).

use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, SubjectPublicKeyInfoDer};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Value, json};
use std::path::Path;
use x509_parser::prelude::FromDer;

/// A reference to a bound object inside the `kubernetes.io` claim.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ObjectRef {
    pub name: String,
    pub uid: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct KubernetesClaims {
    pub namespace: String,
    pub serviceaccount: ObjectRef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<ObjectRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<ObjectRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<ObjectRef>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    #[serde(deserialize_with = "one_or_many")]
    pub aud: Vec<String>,
    pub exp: i64,
    pub iat: i64,
    pub nbf: i64,
    pub sub: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    #[serde(rename = "kubernetes.io")]
    pub kubernetes: KubernetesClaims,
}

/// The issuer of legacy, Secret-based tokens.
pub const LEGACY_ISSUER: &str = "kubernetes/serviceaccount";

/// The claims of a legacy token, as the controller manager's token controller writes them.
#[derive(Debug, Clone, Deserialize)]
pub struct LegacyClaims {
    #[serde(rename = "kubernetes.io/serviceaccount/namespace")]
    pub namespace: String,
    #[serde(rename = "kubernetes.io/serviceaccount/secret.name")]
    pub secret_name: String,
    #[serde(rename = "kubernetes.io/serviceaccount/service-account.name")]
    pub service_account_name: String,
    #[serde(rename = "kubernetes.io/serviceaccount/service-account.uid")]
    pub service_account_uid: String,
}

/// The unverified issuer of a JWT, to pick how to verify it.
pub fn issuer(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("iss")?.as_str().map(String::from)
}

fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

struct PublicKey {
    key: DecodingKey,
    alg: Algorithm,
    kid: String,
    jwk: Value,
}

/// Issuing and verifying service-account JWTs.
pub struct ServiceAccountTokens {
    pub issuers: Vec<String>,
    pub audiences: Vec<String>,
    signing: Option<api_types::sa_key::SigningKey>,
    keys: Vec<PublicKey>,
}

fn b64url(b: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

fn public_key(spki: &[u8]) -> anyhow::Result<PublicKey> {
    use x509_parser::public_key::PublicKey as Parsed;
    let (_, info) = x509_parser::x509::SubjectPublicKeyInfo::from_der(spki)?;
    let kid = api_types::sa_key::key_id(spki);
    match info.parsed()? {
        Parsed::EC(point) => {
            let raw = point.data();
            if raw.len() != 65 || raw[0] != 4 {
                anyhow::bail!("only P-256 EC keys are supported");
            }
            let jwk = json!({"use": "sig", "kty": "EC", "kid": kid, "crv": "P-256", "alg": "ES256",
                             "x": b64url(&raw[1..33]), "y": b64url(&raw[33..])});
            Ok(PublicKey {
                key: DecodingKey::from_ec_der(raw),
                alg: Algorithm::ES256,
                kid,
                jwk,
            })
        }
        Parsed::RSA(rsa) => {
            let trim = |b: &[u8]| {
                b.iter()
                    .position(|x| *x != 0)
                    .map(|i| b[i..].to_vec())
                    .unwrap_or_default()
            };
            let (n, e) = (trim(rsa.modulus), trim(rsa.exponent));
            let jwk = json!({"use": "sig", "kty": "RSA", "kid": kid, "alg": "RS256", "n": b64url(&n), "e": b64url(&e)});
            Ok(PublicKey {
                key: DecodingKey::from_rsa_raw_components(&n, &e),
                alg: Algorithm::RS256,
                kid,
                jwk,
            })
        }
        _ => anyhow::bail!("unsupported service-account key type"),
    }
}

/// The SPKI of every key in a PEM file: public keys, certificates, or private keys.
fn spkis_in(path: &Path) -> anyhow::Result<Vec<Vec<u8>>> {
    let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
    let mut out = Vec::new();
    for spki in SubjectPublicKeyInfoDer::pem_slice_iter(text.as_bytes()).flatten() {
        out.push(spki.to_vec());
    }
    for cert in CertificateDer::pem_slice_iter(text.as_bytes()).flatten() {
        let (_, parsed) = x509_parser::parse_x509_certificate(&cert)?;
        out.push(parsed.public_key().raw.to_vec());
    }
    if out.is_empty() && text.contains("PRIVATE KEY") {
        let pair = rcgen::KeyPair::from_pem(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        out.push(rcgen::PublicKeyData::subject_public_key_info(&pair));
    }
    if out.is_empty() {
        anyhow::bail!("{}: no public key, certificate or private key found", path.display());
    }
    Ok(out)
}

/// Writes a new P-256 key (PKCS#8 PEM) for a server started without one.
pub fn generate_key(path: &Path) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let pair = rcgen::KeyPair::generate()?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(pair.serialize_pem().as_bytes())?;
    Ok(())
}

impl ServiceAccountTokens {
    pub fn load(
        key_files: &[std::path::PathBuf],
        signing_key_file: Option<&Path>,
        issuers: Vec<String>,
        audiences: Vec<String>,
    ) -> anyhow::Result<Self> {
        let mut keys = Vec::new();
        let mut signing = None;
        if let Some(p) = signing_key_file {
            let sk = api_types::sa_key::SigningKey::from_pem_file(p)?;
            keys.push(public_key(&sk.spki)?);
            signing = Some(sk);
        }
        for f in key_files {
            for spki in spkis_in(f)? {
                let k = public_key(&spki)?;
                if !keys.iter().any(|have| have.kid == k.kid) {
                    keys.push(k);
                }
            }
        }
        let audiences = if audiences.is_empty() {
            issuers.clone()
        } else {
            audiences
        };
        Ok(ServiceAccountTokens {
            issuers,
            audiences,
            signing,
            keys,
        })
    }

    pub fn can_issue(&self) -> bool {
        self.signing.is_some() && !self.issuers.is_empty()
    }

    /// Signs a token; the caller fills the claims.
    pub fn issue(&self, claims: &Claims) -> Result<String, String> {
        let sk = self
            .signing
            .as_ref()
            .ok_or("no --service-account-signing-key-file configured")?;
        sk.sign(claims)
    }

    /// Checks the signature, issuer, audience and lifetime of a token that looks like a JWT.
    pub fn verify(&self, token: &str) -> Result<Claims, String> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| format!("invalid token: {e}"))?;
        let candidates = self
            .keys
            .iter()
            .filter(|k| header.kid.as_deref().is_none_or(|kid| kid == k.kid) && k.alg == header.alg);
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&self.issuers);
        validation.set_audience(&self.audiences);
        validation.leeway = 0;
        validation.validate_nbf = true;
        let mut last = "no key matches the token".to_string();
        for k in candidates {
            match jsonwebtoken::decode::<Claims>(token, &k.key, &validation) {
                Ok(data) => return Ok(data.claims),
                Err(e) => last = e.to_string(),
            }
        }
        Err(format!("invalid bearer token: {last}"))
    }

    /// Checks a legacy token (a Secret's, issuer `kubernetes/serviceaccount`): signature only,
    /// as they carry no audience or expiry; the caller checks the Secret still holds it.
    pub fn verify_legacy(&self, token: &str) -> Result<LegacyClaims, String> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| format!("invalid token: {e}"))?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[LEGACY_ISSUER]);
        validation.validate_aud = false;
        validation.validate_exp = false;
        validation.required_spec_claims.clear();
        let mut last = "no key matches the token".to_string();
        for k in self.keys.iter().filter(|k| k.alg == header.alg) {
            match jsonwebtoken::decode::<LegacyClaims>(token, &k.key, &validation) {
                Ok(data) => return Ok(data.claims),
                Err(e) => last = e.to_string(),
            }
        }
        Err(format!("invalid bearer token: {last}"))
    }

    pub fn openid_configuration(&self) -> Value {
        let issuer = self.issuers.first().cloned().unwrap_or_default();
        json!({
            "issuer": issuer,
            "jwks_uri": format!("{}/openid/v1/jwks", issuer.trim_end_matches('/')),
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": self.keys.iter().map(|k| match k.alg { Algorithm::ES256 => "ES256", _ => "RS256" }).collect::<std::collections::BTreeSet<_>>(),
        })
    }

    pub fn jwks(&self) -> Value {
        json!({"keys": self.keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>()})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(now: i64, aud: &str) -> Claims {
        Claims {
            iss: "https://kubernetes.default.svc".into(),
            aud: vec![aud.into()],
            exp: now + 600,
            iat: now,
            nbf: now,
            sub: "system:serviceaccount:ns:sa".into(),
            jti: Some("id".into()),
            kubernetes: KubernetesClaims {
                namespace: "ns".into(),
                serviceaccount: ObjectRef {
                    name: "sa".into(),
                    uid: "u1".into(),
                },
                pod: None,
                secret: None,
                node: None,
            },
        }
    }

    #[test]
    fn issue_verify_and_refuse() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("sa.key");
        generate_key(&key).unwrap();
        let issuer = vec!["https://kubernetes.default.svc".to_string()];
        let t = ServiceAccountTokens::load(&[], Some(&key), issuer.clone(), vec![]).unwrap();
        let now = jiff::Timestamp::now().as_second();
        let token = t.issue(&claims(now, "https://kubernetes.default.svc")).unwrap();
        assert_eq!(t.verify(&token).unwrap().kubernetes.serviceaccount.uid, "u1");
        // Wrong audience, expired, forged and garbage tokens are refused.
        assert!(t.verify(&t.issue(&claims(now, "other")).unwrap()).is_err());
        let mut old = claims(now - 7200, "https://kubernetes.default.svc");
        old.exp = now - 3600;
        assert!(t.verify(&t.issue(&old).unwrap()).is_err());
        let other_key = dir.path().join("other.key");
        generate_key(&other_key).unwrap();
        let forger = ServiceAccountTokens::load(&[], Some(&other_key), issuer, vec![]).unwrap();
        assert!(
            t.verify(&forger.issue(&claims(now, "https://kubernetes.default.svc")).unwrap())
                .is_err()
        );
        assert!(t.verify("not.a.jwt").is_err());
        let jwks = t.jwks();
        assert_eq!(jwks["keys"][0]["kty"], "EC");
        assert_eq!(
            t.openid_configuration()["jwks_uri"],
            "https://kubernetes.default.svc/openid/v1/jwks"
        );
    }
}
