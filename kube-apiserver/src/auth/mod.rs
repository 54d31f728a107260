//! Authentication: who a request is from. x509 client certificates, static tokens, service
//! account JWTs and bootstrap tokens are tried; any that succeeds decides the user. A request
//! with no credentials is anonymous when `--anonymous-auth` allows it; bad credentials are
//! a 401, logged once.

pub mod authz;
pub mod bootstrap_tokens;
pub mod node;
pub mod policy;
pub mod rbac;
pub mod serviceaccount;
pub mod tokens;
pub mod x509;

use crate::errors::{ApiError, ApiResult};
use crate::state::Api;
use std::collections::BTreeMap;

/// The authenticated user (the same type the authorizers take).
pub type User = rbac::UserInfo;

impl User {
    pub fn anonymous() -> User {
        User {
            name: "system:anonymous".into(),
            groups: vec!["system:unauthenticated".into()],
            ..Default::default()
        }
    }

    pub fn in_group(&self, g: &str) -> bool {
        self.groups.iter().any(|x| x == g)
    }
}

/// What the TLS handshake learned about the client: nothing, or a verified or refused chain.
pub type PeerIdentity = Option<Result<User, String>>;

pub struct Authenticator {
    pub tokens: tokens::TokenFile,
    pub client_ca: Option<x509::ClientCa>,
    pub service_accounts: Option<serviceaccount::ServiceAccountTokens>,
    pub bootstrap_tokens: bool,
    pub anonymous: bool,
}

impl Authenticator {
    /// Only static tokens, anonymous allowed (tests and the simplest setups).
    pub fn with_tokens(tokens: tokens::TokenFile) -> Authenticator {
        Authenticator {
            tokens,
            client_ca: None,
            service_accounts: None,
            bootstrap_tokens: false,
            anonymous: true,
        }
    }

    pub async fn authenticate(&self, api: &Api, peer: &PeerIdentity, authorization: Option<&str>) -> ApiResult<User> {
        let mut failure = None;
        match peer {
            Some(Ok(user)) => return Ok(user.clone()),
            Some(Err(e)) => failure = Some(format!("x509: {e}")),
            None => {}
        }
        if let Some(header) = authorization {
            match bearer(header) {
                Some(token) => match self.token_user(api, token).await {
                    Ok(user) => return Ok(user),
                    Err(e) => failure = Some(e),
                },
                None => failure = Some("unsupported Authorization header".into()),
            }
        }
        match failure {
            Some(reason) => {
                tracing::info!(%reason, "Unable to authenticate the request");
                Err(ApiError::unauthorized())
            }
            None if self.anonymous => Ok(User::anonymous()),
            None => Err(ApiError::unauthorized()),
        }
    }

    async fn token_user(&self, api: &Api, token: &str) -> Result<User, String> {
        if let Some(user) = self.tokens.lookup(token) {
            return Ok(user);
        }
        if self.bootstrap_tokens
            && let Some((id, secret)) = bootstrap_tokens::parse(token)
        {
            let obj = lookup(api, "secrets", Some("kube-system"), &format!("bootstrap-token-{id}")).await;
            let obj = obj.ok_or_else(|| format!("bootstrap token {id}: secret not found"))?;
            return bootstrap_tokens::authenticate(id, secret, &obj);
        }
        if token.split('.').count() == 3
            && let Some(sa) = &self.service_accounts
        {
            if serviceaccount::issuer(token).as_deref() == Some(serviceaccount::LEGACY_ISSUER) {
                let claims = sa.verify_legacy(token)?;
                return legacy_token_user(api, token, &claims).await;
            }
            let claims = sa.verify(token)?;
            return service_account_user(api, &claims).await;
        }
        Err("invalid bearer token".into())
    }
}

fn bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty()).then(|| token.trim())
}

/// An object from the watch cache, else from storage (the cache may trail a fresh write).
async fn lookup(api: &Api, resource: &str, ns: Option<&str>, name: &str) -> Option<serde_json::Value> {
    let store = api.store_named("", resource)?;
    if let Some(o) = store.cached(ns, name) {
        return Some(o.value.clone());
    }
    store.get(ns, name).await.ok()
}

/// A legacy token is good while its Secret still holds it and its service account (same
/// uid) exists, as upstream's legacy validator checks.
async fn legacy_token_user(api: &Api, token: &str, c: &serviceaccount::LegacyClaims) -> Result<User, String> {
    use base64::Engine;
    let ns = c.namespace.as_str();
    let secret = lookup(api, "secrets", Some(ns), &c.secret_name)
        .await
        .ok_or_else(|| format!("secret {ns}/{} referenced by the token no longer exists", c.secret_name))?;
    let held = secret
        .pointer("/data/token")
        .and_then(serde_json::Value::as_str)
        .and_then(|t| base64::engine::general_purpose::STANDARD.decode(t).ok());
    if held.as_deref() != Some(token.as_bytes()) {
        return Err(format!("the token in secret {ns}/{} has been replaced", c.secret_name));
    }
    let sa = lookup(api, "serviceaccounts", Some(ns), &c.service_account_name).await;
    if sa
        .as_ref()
        .map(|o| crate::registry::meta::uid(o).to_string())
        .as_deref()
        != Some(c.service_account_uid.as_str())
    {
        return Err(format!(
            "service account {ns}/{} has been deleted",
            c.service_account_name
        ));
    }
    Ok(User {
        name: format!("system:serviceaccount:{ns}:{}", c.service_account_name),
        uid: c.service_account_uid.clone(),
        groups: vec![
            "system:serviceaccounts".into(),
            format!("system:serviceaccounts:{ns}"),
            "system:authenticated".into(),
        ],
        extra: BTreeMap::new(),
    })
}

/// A verified token is only as good as the objects it is bound to: the service account
/// (same uid), and the pod or secret it names.
async fn service_account_user(api: &Api, c: &serviceaccount::Claims) -> Result<User, String> {
    let k = &c.kubernetes;
    let ns = k.namespace.as_str();
    let uid_of = |o: &serde_json::Value| crate::registry::meta::uid(o).to_string();
    let sa = lookup(api, "serviceaccounts", Some(ns), &k.serviceaccount.name).await;
    if sa.as_ref().map(uid_of).as_deref() != Some(k.serviceaccount.uid.as_str()) {
        return Err(format!(
            "service account {ns}/{} has been deleted",
            k.serviceaccount.name
        ));
    }
    let mut extra = BTreeMap::new();
    for (kind, resource, bound) in [("pod", "pods", &k.pod), ("secret", "secrets", &k.secret)] {
        if let Some(r) = bound {
            let obj = lookup(api, resource, Some(ns), &r.name).await;
            if obj.as_ref().map(uid_of).as_deref() != Some(r.uid.as_str()) {
                return Err(format!(
                    "the {kind} {ns}/{} the token is bound to no longer exists",
                    r.name
                ));
            }
            extra.insert(
                format!("authentication.kubernetes.io/{kind}-name"),
                vec![r.name.clone()],
            );
            extra.insert(format!("authentication.kubernetes.io/{kind}-uid"), vec![r.uid.clone()]);
        }
    }
    if let Some(jti) = &c.jti {
        extra.insert(
            "authentication.kubernetes.io/credential-id".into(),
            vec![format!("JTI={jti}")],
        );
    }
    Ok(User {
        name: format!("system:serviceaccount:{ns}:{}", k.serviceaccount.name),
        uid: k.serviceaccount.uid.clone(),
        groups: vec![
            "system:serviceaccounts".into(),
            format!("system:serviceaccounts:{ns}"),
            "system:authenticated".into(),
        ],
        extra,
    })
}
