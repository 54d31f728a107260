//! From a loaded kubeconfig plus the global flags (`--context`, `--cluster`, `--user`,
//! `--server`, `--token`, certificates, `--insecure-skip-tls-verify`, `--request-timeout`)
//! to a kube-rs `Client`; in-cluster service-account config when nothing else is set.
//! Exec credential plugins are run by kube-rs from the resolved user entry.

use super::{Config, Sources, resolve_path};
use serde_json::{Value, json};
use std::time::Duration;

/// The connection flags every command accepts.
#[derive(Debug, Clone, Default)]
pub struct ConnectionFlags {
    pub kubeconfig: Option<String>,
    pub context: Option<String>,
    pub cluster: Option<String>,
    pub user: Option<String>,
    pub namespace: Option<String>,
    pub server: Option<String>,
    pub token: Option<String>,
    pub certificate_authority: Option<String>,
    pub client_certificate: Option<String>,
    pub client_key: Option<String>,
    pub insecure_skip_tls_verify: Option<bool>,
    pub tls_server_name: Option<String>,
    pub request_timeout: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{0}")]
    Kubeconfig(#[from] super::KubeconfigError),
    #[error("context was not found for specified context: {0}")]
    NoContext(String),
    #[error("cluster \"{0}\" does not exist")]
    NoCluster(String),
    #[error("invalid configuration: {0}")]
    Invalid(String),
    #[error("{0}")]
    Kube(String),
}

/// Everything a command needs to talk to the server.
pub struct Connection {
    pub client: kube::Client,
    /// `-n`, else the context's namespace, else `default`.
    pub namespace: String,
    /// Whether `-n` was given (some commands care).
    pub namespace_explicit: bool,
    /// The server URL (for the discovery cache directory and cluster-info).
    pub server: String,
}

/// The cluster and user entries the flags select, with overrides applied and relative paths
/// resolved; `None` when the kubeconfig sets no server at all.
pub fn effective(cfg: &Config, flags: &ConnectionFlags) -> Result<Option<(Value, Value, String)>, ClientError> {
    let context_name = flags.context.clone().unwrap_or_else(|| cfg.current_context.clone());
    let context = if context_name.is_empty() {
        None
    } else {
        match cfg.contexts.get(&context_name) {
            Some(c) => Some(c.body.clone()),
            None if flags.context.is_some() => return Err(ClientError::NoContext(context_name)),
            None => None,
        }
    };
    let context = context.unwrap_or_else(|| json!({}));
    let cluster_name = flags
        .cluster
        .clone()
        .unwrap_or_else(|| context["cluster"].as_str().unwrap_or_default().to_string());
    let mut cluster = match cfg.clusters.get(&cluster_name) {
        Some(e) => {
            let mut body = e.body.clone();
            resolve_field(&mut body, "certificate-authority", e.origin.as_deref());
            body
        }
        None if flags.cluster.is_some() => return Err(ClientError::NoCluster(cluster_name)),
        None => json!({}),
    };
    let user_name = flags
        .user
        .clone()
        .unwrap_or_else(|| context["user"].as_str().unwrap_or_default().to_string());
    let mut user = match cfg.users.get(&user_name) {
        Some(e) => {
            let mut body = e.body.clone();
            for f in ["client-certificate", "client-key", "tokenFile"] {
                resolve_field(&mut body, f, e.origin.as_deref());
            }
            if let Some(cmd) = body["exec"]["command"].as_str().filter(|c| c.contains('/')) {
                let abs = resolve_path(cmd, e.origin.as_deref());
                body["exec"]["command"] = Value::String(abs);
            }
            body
        }
        None => json!({}),
    };
    if let Some(s) = &flags.server {
        cluster["server"] = json!(s);
    }
    if let Some(ca) = &flags.certificate_authority {
        cluster["certificate-authority"] = json!(resolve_path(ca, None));
        if let Some(m) = cluster.as_object_mut() {
            m.remove("certificate-authority-data");
        }
    }
    if let Some(i) = flags.insecure_skip_tls_verify {
        cluster["insecure-skip-tls-verify"] = json!(i);
        if i && let Some(m) = cluster.as_object_mut() {
            m.remove("certificate-authority");
            m.remove("certificate-authority-data");
        }
    }
    if let Some(n) = &flags.tls_server_name {
        cluster["tls-server-name"] = json!(n);
    }
    if let Some(t) = &flags.token {
        user = json!({"token": t});
    }
    if let Some(c) = &flags.client_certificate {
        user["client-certificate"] = json!(resolve_path(c, None));
        if let Some(m) = user.as_object_mut() {
            m.remove("client-certificate-data");
        }
    }
    if let Some(k) = &flags.client_key {
        user["client-key"] = json!(resolve_path(k, None));
        if let Some(m) = user.as_object_mut() {
            m.remove("client-key-data");
        }
    }
    if let Some(u) = &flags.username {
        user["username"] = json!(u);
    }
    if let Some(p) = &flags.password {
        user["password"] = json!(p);
    }
    let namespace = flags
        .namespace
        .clone()
        .filter(|n| !n.is_empty())
        .or_else(|| {
            context["namespace"]
                .as_str()
                .filter(|n| !n.is_empty())
                .map(str::to_string)
        })
        .unwrap_or_else(|| "default".to_string());
    if cluster["server"].as_str().is_none_or(str::is_empty) {
        return Ok(None);
    }
    Ok(Some((cluster, user, namespace)))
}

fn resolve_field(body: &mut Value, field: &str, origin: Option<&std::path::Path>) {
    if let Some(p) = body.get(field).and_then(Value::as_str).filter(|p| !p.is_empty()) {
        let abs = resolve_path(p, origin);
        body[field] = Value::String(abs);
    }
}

/// Parses `--request-timeout` (`0` = none, plain seconds, or a Go duration like `5s`, `1m`).
pub fn parse_timeout(s: &str) -> Result<Option<Duration>, ClientError> {
    let bad = || {
        ClientError::Invalid(format!(
            "invalid timeout value. Timeout must be a single integer in seconds, or an integer followed by a corresponding time unit (e.g. 1s | 2m | 3h): {s}"
        ))
    };
    if s.is_empty() || s == "0" {
        return Ok(None);
    }
    if let Ok(n) = s.parse::<u64>() {
        return Ok(Some(Duration::from_secs(n)));
    }
    let (num, unit) = s.split_at(s.find(|c: char| c.is_alphabetic()).ok_or_else(bad)?);
    let n: f64 = num.parse().map_err(|_| bad())?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(bad()),
    };
    Ok(Some(Duration::from_secs_f64(secs)).filter(|d| !d.is_zero()))
}

/// Builds the connection. `command` is the `Kubectl-Command` header value.
pub async fn connect(flags: &ConnectionFlags, command: &str) -> Result<Connection, ClientError> {
    let sources = Sources::from_env(flags.kubeconfig.as_deref());
    let cfg = sources.load()?;
    let timeout = parse_timeout(flags.request_timeout.as_deref().unwrap_or("0"))?;
    let (mut config, namespace, server) = match effective(&cfg, flags)? {
        Some((cluster, mut user, namespace)) => {
            super::exec::resolve(&mut user, &cluster)?;
            let server = cluster["server"].as_str().unwrap_or_default().to_string();
            let kc = json!({
                "apiVersion": "v1", "kind": "Config",
                "clusters": [{"name": "c", "cluster": cluster}],
                "users": [{"name": "u", "user": user}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u", "namespace": namespace}}],
                "current-context": "x",
            });
            let kc: kube::config::Kubeconfig =
                serde_json::from_value(kc).map_err(|e| ClientError::Invalid(e.to_string()))?;
            let config = kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
                .await
                .map_err(|e| ClientError::Kube(e.to_string()))?;
            (config, namespace, server)
        }
        None => match kube::Config::incluster() {
            Ok(c) => {
                let ns = flags.namespace.clone().unwrap_or_else(|| c.default_namespace.clone());
                let server = c.cluster_url.to_string();
                (c, ns, server)
            }
            Err(_) => {
                return Err(ClientError::Kube(
                    "The connection to the server localhost:8080 was refused - did you specify the right host or port?"
                        .into(),
                ));
            }
        },
    };
    // kube-rs retries 429/503/504 up to 15 times with growing pauses; upstream kubectl only
    // waits when the server sends Retry-After, so an unavailable API fails at once.
    config.default_retry = false;
    config.read_timeout = timeout;
    if let Some(t) = timeout {
        config.connect_timeout = Some(t);
    }
    let session = uuid::Uuid::new_v4().to_string();
    let ua = format!("kubectl/{} (linux/amd64) kubernetes/rs", crate::VERSION);
    for (k, v) in [
        ("user-agent", ua.as_str()),
        ("kubectl-command", command),
        ("kubectl-session", &session),
    ] {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(k.as_bytes()),
            http::HeaderValue::from_str(v),
        ) {
            config.headers.push((name, value));
        }
    }
    let client = kube::Client::try_from(config).map_err(|e| ClientError::Kube(e.to_string()))?;
    Ok(Connection {
        client,
        namespace,
        namespace_explicit: flags.namespace.is_some(),
        server,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kubeconfig::parse;
    use std::path::Path;

    const CFG: &str = "clusters:\n- name: c\n  cluster: {server: https://h:1, certificate-authority: ca.crt}\n- name: d\n  cluster: {server: https://h:2}\nusers:\n- name: u\n  user: {token: t, client-key: k.pem}\ncontexts:\n- name: x\n  context: {cluster: c, user: u, namespace: ns}\ncurrent-context: x\n";

    #[test]
    fn overrides_and_relative_paths() {
        let cfg = parse(CFG, Some(Path::new("/cfg/config"))).expect("parse");
        let (cluster, user, ns) = effective(&cfg, &ConnectionFlags::default())
            .expect("ok")
            .expect("server");
        assert_eq!(cluster["certificate-authority"], "/cfg/ca.crt");
        assert_eq!(user["client-key"], "/cfg/k.pem");
        assert_eq!(ns, "ns");
        let flags = ConnectionFlags {
            cluster: Some("d".into()),
            token: Some("other".into()),
            namespace: Some("n2".into()),
            ..Default::default()
        };
        let (cluster, user, ns) = effective(&cfg, &flags).expect("ok").expect("server");
        assert_eq!(cluster["server"], "https://h:2");
        assert_eq!(user, json!({"token": "other"}));
        assert_eq!(ns, "n2");
        let flags = ConnectionFlags {
            context: Some("nope".into()),
            ..Default::default()
        };
        assert!(matches!(effective(&cfg, &flags), Err(ClientError::NoContext(_))));
    }

    #[test]
    fn timeouts() {
        assert_eq!(parse_timeout("0").ok().flatten(), None);
        assert_eq!(parse_timeout("5").ok().flatten(), Some(Duration::from_secs(5)));
        assert_eq!(parse_timeout("2m").ok().flatten(), Some(Duration::from_secs(120)));
        assert!(parse_timeout("abc").is_err());
    }
}
