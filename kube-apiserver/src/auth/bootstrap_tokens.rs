//! Bootstrap tokens (`--enable-bootstrap-token-auth`): `<id>.<secret>` matched against the
//! Secret `bootstrap-token-<id>` of type bootstrap.kubernetes.io/token in kube-system.

use super::User;
use base64::Engine;
use serde_json::Value;

/// `[a-z0-9]{6}.[a-z0-9]{16}`.
pub fn parse(token: &str) -> Option<(&str, &str)> {
    let (id, secret) = token.split_once('.')?;
    let ok = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    (ok(id, 6) && ok(secret, 16)).then_some((id, secret))
}

fn data(secret: &Value, key: &str) -> Option<String> {
    let raw = secret.pointer(&format!("/data/{key}"))?.as_str()?;
    let bytes = base64::engine::general_purpose::STANDARD.decode(raw).ok()?;
    String::from_utf8(bytes).ok()
}

/// The user for a token, given its Secret; an error says why the token is refused.
pub fn authenticate(id: &str, token_secret: &str, secret: &Value) -> Result<User, String> {
    if secret.get("type").and_then(Value::as_str) != Some("bootstrap.kubernetes.io/token") {
        return Err(format!("secret bootstrap-token-{id} is not a bootstrap token"));
    }
    if data(secret, "token-id").as_deref() != Some(id) || data(secret, "token-secret").as_deref() != Some(token_secret)
    {
        return Err(format!("bootstrap token {id} does not match its secret"));
    }
    if data(secret, "usage-bootstrap-authentication").as_deref() != Some("true") {
        return Err(format!("bootstrap token {id} is not usable for authentication"));
    }
    if let Some(exp) = data(secret, "expiration") {
        let at: jiff::Timestamp = exp
            .parse()
            .map_err(|_| format!("bootstrap token {id} has an invalid expiration"))?;
        if at <= jiff::Timestamp::now() {
            return Err(format!("bootstrap token {id} has expired"));
        }
    }
    if secret
        .pointer("/metadata/deletionTimestamp")
        .is_some_and(|d| !d.is_null())
    {
        return Err(format!("bootstrap token {id} is being deleted"));
    }
    let mut groups = vec!["system:bootstrappers".to_string()];
    for g in data(secret, "auth-extra-groups")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|g| !g.is_empty())
    {
        if !g.starts_with("system:bootstrappers:") {
            return Err(format!("bootstrap token {id} has an invalid extra group {g:?}"));
        }
        groups.push(g.to_string());
    }
    groups.push("system:authenticated".into());
    Ok(User {
        name: format!("system:bootstrap:{id}"),
        uid: String::new(),
        groups,
        extra: Default::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    fn secret(expiration: &str) -> Value {
        json!({"type": "bootstrap.kubernetes.io/token", "data": {
            "token-id": b64("abcdef"), "token-secret": b64("0123456789abcdef"),
            "usage-bootstrap-authentication": b64("true"), "expiration": b64(expiration),
            "auth-extra-groups": b64("system:bootstrappers:kubeadm:default-node-token")}})
    }

    #[test]
    fn tokens() {
        assert_eq!(parse("abcdef.0123456789abcdef"), Some(("abcdef", "0123456789abcdef")));
        assert_eq!(parse("ABCDEF.0123456789abcdef"), None);
        assert_eq!(parse("abcdef0123456789abcdef"), None);
        let u = authenticate("abcdef", "0123456789abcdef", &secret("2999-01-01T00:00:00Z")).unwrap();
        assert_eq!(u.name, "system:bootstrap:abcdef");
        assert_eq!(
            u.groups,
            [
                "system:bootstrappers",
                "system:bootstrappers:kubeadm:default-node-token",
                "system:authenticated"
            ]
        );
        assert!(authenticate("abcdef", "0123456789abcdeX", &secret("2999-01-01T00:00:00Z")).is_err());
        assert!(
            authenticate("abcdef", "0123456789abcdef", &secret("2001-01-01T00:00:00Z"))
                .unwrap_err()
                .contains("expired")
        );
    }
}
