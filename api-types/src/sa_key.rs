//! Service-account token signing keys, shared by the API server (TokenRequest) and the
//! controller manager (legacy token Secrets): a PEM private key, ES256 for P-256 keys and RS256
//! for RSA ones, with upstream's key id base64url(sha256(SubjectPublicKeyInfo DER)).

use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use sha2::{Digest, Sha256};
use std::path::Path;

pub struct SigningKey {
    key: EncodingKey,
    pub alg: Algorithm,
    pub kid: String,
    /// The public half, as SubjectPublicKeyInfo DER.
    pub spki: Vec<u8>,
}

/// Upstream's key id of a public key.
pub fn key_id(spki: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(spki))
}

impl SigningKey {
    pub fn from_pem_file(path: &Path) -> anyhow::Result<SigningKey> {
        let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
        let pair = rcgen::KeyPair::from_pem(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let spki = rcgen::PublicKeyData::subject_public_key_info(&pair);
        let der = pair.serialize_der();
        let (alg, key) = if pair.algorithm() == &rcgen::PKCS_ECDSA_P256_SHA256 {
            (Algorithm::ES256, EncodingKey::from_ec_der(&der))
        } else if pair.algorithm() == &rcgen::PKCS_RSA_SHA256 {
            (Algorithm::RS256, EncodingKey::from_rsa_der(&der))
        } else {
            anyhow::bail!("{}: only P-256 EC and RSA keys are supported", path.display());
        };
        Ok(SigningKey {
            key,
            alg,
            kid: key_id(&spki),
            spki,
        })
    }

    /// A signed JWT of `claims`, with this key's id in the header.
    pub fn sign<T: serde::Serialize>(&self, claims: &T) -> Result<String, String> {
        let mut header = Header::new(self.alg);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.key).map_err(|e| e.to_string())
    }
}
