//! bootstrapsigner: signs the `cluster-info` ConfigMap in kube-public with every valid bootstrap token allowed to
//! sign (`usage-bootstrap-signing: "true"`), so a joining node holding a token can check the `kubeconfig` it reads
//! there: one `jws-kubeconfig-<token-id>` key per token, holding a detached JWS (HS256, keyed by the token secret)
//! of the `kubeconfig` value, byte for byte as upstream's cluster-bootstrap computes it. Signatures of tokens that
//! are gone, expired or no longer allowed to sign are removed. Also home to what the token cleaner shares: reading
//! bootstrap token Secrets.

use super::Ctx;
use crate::informer::{Change, Informer};
use crate::queue::{Queue, run_workers};
use base64::Engine;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::{Api, PostParams};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::time::Duration;

pub const TOKEN_NAMESPACE: &str = "kube-system";
pub const TOKEN_SECRET_TYPE: &str = "bootstrap.kubernetes.io/token";
const CONFIG_MAP_NAMESPACE: &str = "kube-public";
const CONFIG_MAP_NAME: &str = "cluster-info";
const KUBECONFIG_KEY: &str = "kubeconfig";
const SIGNATURE_PREFIX: &str = "jws-kubeconfig-";

/// A string value of a Secret's `data`, empty when absent.
pub fn secret_data<'a>(secret: &'a Secret, key: &str) -> &'a str {
    secret
        .data
        .as_ref()
        .and_then(|d| d.get(key))
        .and_then(|v| std::str::from_utf8(&v.0).ok())
        .unwrap_or_default()
}

/// What a token's `expiration` says at a given time.
#[derive(Debug, PartialEq, Eq)]
pub enum Expiry {
    Never,
    In(Duration),
    /// Passed, or unparseable, which counts as passed.
    Expired,
}

pub fn expiry(secret: &Secret, now: Timestamp) -> Expiry {
    let expiration = secret_data(secret, "expiration");
    if expiration.is_empty() {
        return Expiry::Never;
    }
    let Ok(at) = expiration.parse::<Timestamp>() else {
        return Expiry::Expired;
    };
    match at.duration_since(now) {
        left if left.is_positive() => Expiry::In(left.unsigned_abs()),
        _ => Expiry::Expired,
    }
}

pub fn is_bootstrap_token(secret: &Secret) -> bool {
    secret.metadata.namespace.as_deref() == Some(TOKEN_NAMESPACE) && secret.type_.as_deref() == Some(TOKEN_SECRET_TYPE)
}

/// The token id from a Secret named `bootstrap-token-<[a-z0-9]{6}>`.
fn id_from_name(name: &str) -> Option<&str> {
    let id = name.strip_prefix("bootstrap-token-")?;
    let ok = id.len() == 6 && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    ok.then_some(id)
}

/// `(token id, token secret, time left)` when the Secret is a token that may sign now.
fn signing_token(secret: &Secret, now: Timestamp) -> Option<(String, String, Option<Duration>)> {
    let id = id_from_name(secret.metadata.name.as_deref()?)?;
    let (token_id, token_secret) = (secret_data(secret, "token-id"), secret_data(secret, "token-secret"));
    if token_id.is_empty() || token_id != id || token_secret.is_empty() {
        return None;
    }
    let left = match expiry(secret, now) {
        Expiry::Never => None,
        Expiry::In(left) => Some(left),
        Expiry::Expired => return None,
    };
    (secret_data(secret, "usage-bootstrap-signing") == "true").then(|| (id.to_string(), token_secret.into(), left))
}

/// HMAC-SHA256 (RFC 2104).
fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    const BLOCK: usize = 64;
    let mut k = match key.len() > BLOCK {
        true => Sha256::digest(key).to_vec(),
        false => key.to_vec(),
    };
    k.resize(BLOCK, 0);
    let pad = |byte: u8| k.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new().chain_update(pad(0x36)).chain_update(message).finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .to_vec()
}

/// A detached JWS (RFC 7515 appendix F) of `content`: the compact form `header..signature` with the protected
/// header `{"alg":"HS256","kid":<token id>}`.
pub fn detached_signature(content: &str, token_id: &str, token_secret: &str) -> String {
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let header = serde_json::json!({"alg": "HS256", "kid": token_id}).to_string();
    let signing_input = format!("{}.{}", b64(header.as_bytes()), b64(content.as_bytes()));
    let signature = hmac_sha256(token_secret.as_bytes(), signing_input.as_bytes());
    format!("{}..{}", b64(header.as_bytes()), b64(&signature))
}

/// The ConfigMap data with exactly one current signature per token (id → secret), or `None` when it already has
/// them (or has no `kubeconfig` to sign).
pub fn signed(data: &BTreeMap<String, String>, tokens: &BTreeMap<String, String>) -> Option<BTreeMap<String, String>> {
    let content = data.get(KUBECONFIG_KEY)?;
    let mut next: BTreeMap<String, String> = data
        .iter()
        .filter(|(k, _)| !k.starts_with(SIGNATURE_PREFIX))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (id, secret) in tokens {
        next.insert(
            format!("{SIGNATURE_PREFIX}{id}"),
            detached_signature(content, id, secret),
        );
    }
    (next != *data).then_some(next)
}

pub async fn run(ctx: Ctx) -> anyhow::Result<()> {
    let maps = ctx.informers.get::<ConfigMap>();
    let secrets = ctx.informers.get::<Secret>();
    let queue = Queue::<String>::new();
    let q = queue.clone();
    maps.on_change(move |c| {
        if let Change::Added(cm) | Change::Updated { new: cm, .. } = c
            && cm.metadata.namespace.as_deref() == Some(CONFIG_MAP_NAMESPACE)
            && cm.metadata.name.as_deref() == Some(CONFIG_MAP_NAME)
        {
            q.add(CONFIG_MAP_NAME.into());
        }
    });
    let q = queue.clone();
    secrets.on_change(move |c| match c {
        Change::Added(s) | Change::Updated { new: s, .. } | Change::Deleted(s) if is_bootstrap_token(s) => {
            q.add(CONFIG_MAP_NAME.into())
        }
        _ => {}
    });
    maps.synced().await;
    secrets.synced().await;
    run_workers("bootstrap_signer_queue", queue.clone(), 1, move |key: String| {
        let (ctx, maps, secrets, queue) = (ctx.clone(), maps.clone(), secrets.clone(), queue.clone());
        async move {
            if let Some(next_expiry) = sign(&ctx, &maps, &secrets).await? {
                // A token's signature goes once the token expires.
                queue.add_after(key, next_expiry);
            }
            Ok(())
        }
    })
    .await;
    Ok(())
}

/// Brings the signatures up to date; returns when the soonest signing token expires.
async fn sign(ctx: &Ctx, maps: &Informer<ConfigMap>, secrets: &Informer<Secret>) -> anyhow::Result<Option<Duration>> {
    let now = Timestamp::now();
    let mut tokens = BTreeMap::new();
    let mut soonest: Option<Duration> = None;
    for secret in secrets.list_namespace(TOKEN_NAMESPACE) {
        if secret.type_.as_deref() != Some(TOKEN_SECRET_TYPE) {
            continue;
        }
        let Some((id, token_secret, left)) = signing_token(&secret, now) else {
            continue;
        };
        if tokens.contains_key(&id) {
            tracing::debug!(token = %id, "Duplicate bootstrap tokens found for id, ignoring the duplicate secret");
            continue;
        }
        soonest = match (soonest, left) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        tokens.insert(id, token_secret);
    }
    let Some(cm) = maps.get(&format!("{CONFIG_MAP_NAMESPACE}/{CONFIG_MAP_NAME}")) else {
        return Ok(soonest);
    };
    let Some(data) = signed(cm.data.as_ref().unwrap_or(&BTreeMap::new()), &tokens) else {
        return Ok(soonest);
    };
    let mut next = (*cm).clone();
    next.data = Some(data);
    let api: Api<ConfigMap> = Api::namespaced(ctx.client.clone(), CONFIG_MAP_NAMESPACE);
    // A conflict or a deletion brings a new event (and another pass) anyway, as upstream relies on.
    match api.replace(CONFIG_MAP_NAME, &PostParams::default(), &next).await {
        Err(kube::Error::Api(s)) if s.code == 409 || s.code == 404 => {}
        Err(e) => tracing::info!(error = %e, "Error updating ConfigMap"),
        Ok(_) => {}
    }
    Ok(soonest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::ByteString;

    // cluster-bootstrap's own vectors (token/jws/jws_test.go).
    const CONTENT: &str = "Hello from the other side. I must have called a thousand times.";

    #[test]
    fn detached_signature_matches_upstream() {
        assert_eq!(
            detached_signature(CONTENT, "joshua", "my voice is my passcode"),
            "eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9..VShe2taLd-YTrmWuRkcL_8QTNDHYxQIEBsAYYiIj1_8"
        );
        assert_eq!(
            detached_signature("", "joshua", "my voice is my passcode"),
            "eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9..7Ui1ALizW4jXphVUB7xUqC9vLYLL9RZeOFfVLoB7Tgk"
        );
        assert_eq!(
            detached_signature(CONTENT, "joshua", ""),
            "eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9..UfkqvDGiIFxrMnFseDj9LYJOLNrvjW8aHhF71mvvAs8"
        );
    }

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test case 2 and test case 6 (a key longer than the block).
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        let mac = hmac_sha256(&[0xaa; 131], b"Test Using Larger Than Block-Size Key - Hash Key First");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    }

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn signs_with_current_tokens_and_drops_stale_signatures() {
        let tokens = map(&[("abcdef", "0123456789abcdef")]);
        let data = map(&[("kubeconfig", "cfg"), ("jws-kubeconfig-gone00", "old")]);
        let next = signed(&data, &tokens).expect("changed");
        assert_eq!(next.keys().collect::<Vec<_>>(), ["jws-kubeconfig-abcdef", "kubeconfig"]);
        assert_eq!(
            next["jws-kubeconfig-abcdef"],
            detached_signature("cfg", "abcdef", "0123456789abcdef")
        );
        assert_eq!(signed(&next, &tokens), None);
        assert_eq!(signed(&map(&[("other", "x")]), &tokens), None);
    }

    fn token(name: &str, data: &[(&str, &str)]) -> Secret {
        let mut s = Secret::default();
        s.metadata.name = Some(name.into());
        s.metadata.namespace = Some(TOKEN_NAMESPACE.into());
        s.type_ = Some(TOKEN_SECRET_TYPE.into());
        s.data = Some(
            data.iter()
                .map(|(k, v)| (k.to_string(), ByteString(v.as_bytes().to_vec())))
                .collect(),
        );
        s
    }

    #[test]
    fn which_tokens_sign() {
        let now: Timestamp = "2025-01-01T00:00:00Z".parse().expect("time");
        let base = [
            ("token-id", "abcdef"),
            ("token-secret", "0123456789abcdef"),
            ("usage-bootstrap-signing", "true"),
        ];
        let ok = token("bootstrap-token-abcdef", &base);
        assert_eq!(
            signing_token(&ok, now),
            Some(("abcdef".into(), "0123456789abcdef".into(), None))
        );
        assert_eq!(signing_token(&token("bootstrap-token-zzzzzz", &base), now), None);
        assert_eq!(signing_token(&token("bootstrap-token-abcdef", &base[..2]), now), None);
        let mut later = base.to_vec();
        later.push(("expiration", "2025-01-01T01:00:00Z"));
        let left = signing_token(&token("bootstrap-token-abcdef", &later), now).and_then(|t| t.2);
        assert_eq!(left, Some(Duration::from_secs(3600)));
        let mut expired = base.to_vec();
        expired.push(("expiration", "2024-12-31T00:00:00Z"));
        assert_eq!(signing_token(&token("bootstrap-token-abcdef", &expired), now), None);
        let mut garbled = base.to_vec();
        garbled.push(("expiration", "tomorrow"));
        assert_eq!(expiry(&token("bootstrap-token-abcdef", &garbled), now), Expiry::Expired);
    }
}
