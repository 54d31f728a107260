//! The pod subresources a kubelet serves: `log`, `exec`, `attach` and `portforward`. The pod
//! names its node, the Node names the kubelet's address (`status.addresses` in the order of
//! `--kubelet-preferred-address-types`) and port (`status.daemonEndpoints.kubeletEndpoint`),
//! and the request goes there over TLS with `--kubelet-client-certificate`, as upstream's
//! `LogLocation`/`streamLocation`. Logs stream back as the kubelet writes them; exec, attach
//! and portforward are HTTP upgrades (websocket or SPDY) passed through untouched: the
//! kubelet's 101 goes back to the client and then bytes are copied both ways.

use super::Body;
use super::request::{Query, ResourcePath};
use crate::aggregator::proxy::{DROPPED, NoVerification, SendError, send_tls};
use crate::errors::{ApiError, ApiResult, FieldError};
use crate::state::Api;
use http::{HeaderMap, Method, Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use hyper_util::rt::TokioIo;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

/// The subresources served by the pod's kubelet.
const SUBRESOURCES: &[&str] = &["log", "exec", "attach", "portforward"];
/// The kubelet's port when the Node does not say (upstream's `--kubelet-port` default).
const DEFAULT_KUBELET_PORT: i64 = 10250;
/// How much of a kubelet's error body is read into the Status (upstream's maxReadLength).
const MAX_ERROR_BODY: usize = 50000;

/// The `--kubelet-*` flags.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    pub client_certificate: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
    pub certificate_authority: Option<PathBuf>,
    pub preferred_address_types: Vec<String>,
}

struct KubeletClient {
    tls: Arc<rustls::ClientConfig>,
    preferred_address_types: Vec<String>,
}

static CLIENT: OnceLock<KubeletClient> = OnceLock::new();

/// Builds the kubelet client from the flags; called once at start-up.
pub fn configure(flags: &Flags) -> anyhow::Result<()> {
    let client = KubeletClient {
        tls: Arc::new(tls_config(flags)?),
        preferred_address_types: flags.preferred_address_types.clone(),
    };
    let _ = CLIENT.set(client);
    Ok(())
}

fn client() -> ApiResult<&'static KubeletClient> {
    CLIENT
        .get()
        .ok_or_else(|| ApiError::internal("the kubelet client is not configured"))
}

fn tls_config(flags: &Flags) -> anyhow::Result<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder =
        rustls::ClientConfig::builder_with_provider(provider.clone()).with_safe_default_protocol_versions()?;
    let builder = match &flags.certificate_authority {
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_file_iter(ca)
                .map_err(|e| anyhow::anyhow!("reading --kubelet-certificate-authority {}: {e}", ca.display()))?
            {
                roots.add(cert?)?;
            }
            builder.with_root_certificates(roots)
        }
        // Without a CA upstream does not verify the kubelet's serving certificate.
        None => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerification(provider))),
    };
    let mut cfg = match (&flags.client_certificate, &flags.client_key) {
        (Some(cert), Some(key)) => {
            let chain = CertificateDer::pem_file_iter(cert)
                .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                .map_err(|e| anyhow::anyhow!("reading --kubelet-client-certificate {}: {e}", cert.display()))?;
            let key = PrivateKeyDer::from_pem_file(key)
                .map_err(|e| anyhow::anyhow!("reading --kubelet-client-key {}: {e}", key.display()))?;
            builder.with_client_auth_cert(chain, key)?
        }
        (None, None) => builder.with_no_client_auth(),
        _ => anyhow::bail!("--kubelet-client-certificate and --kubelet-client-key must be given together"),
    };
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(cfg)
}

/// Whether this request is for a subresource the kubelet serves: a pod's streams, or a
/// node's proxy.
pub fn handles(rp: &ResourcePath) -> bool {
    let sub = rp.subresource.as_deref();
    rp.group.is_empty()
        && rp.name.is_some()
        && match rp.resource.as_str() {
            "pods" => sub.is_some_and(|s| SUBRESOURCES.contains(&s)),
            "nodes" => sub == Some("proxy"),
            _ => false,
        }
}

/// Where a proxied request goes: the address to dial, the host (for TLS names) and the path.
pub(super) struct Location {
    pub(super) addr: String,
    pub(super) host: String,
    pub(super) path_and_query: String,
}

/// Proxies one request for a pod subresource to the pod's kubelet.
pub async fn serve(
    api: &Api,
    parts: http::request::Parts,
    body: hyper::body::Incoming,
    rp: &ResourcePath,
    query: &Query,
) -> ApiResult<Response<Body>> {
    if rp.resource == "nodes" {
        return node_proxy(api, parts, body, rp.name.as_deref().unwrap_or_default()).await;
    }
    let sub = rp.subresource.as_deref().unwrap_or_default();
    let allowed = match sub {
        "log" => parts.method == Method::GET,
        _ => parts.method == Method::GET || parts.method == Method::POST,
    };
    if !allowed {
        return Err(ApiError::method_not_allowed());
    }
    let ns = rp.namespace.as_deref().unwrap_or("default");
    let name = rp.name.as_deref().unwrap_or_default();
    let store = api
        .store_named("", "pods")
        .ok_or_else(|| ApiError::internal("no pod storage"))?;
    let pod = store.get(Some(ns), name).await?;
    let raw_query = parts.uri.query().unwrap_or_default();
    let (path, params) = match sub {
        "log" => {
            validate_log_options(name, query)?;
            let container = validate_container(&pod, query.str("container"))?;
            if node_name(&pod).is_empty() {
                // Upstream answers an empty stream for a pod that is not scheduled yet.
                return Ok(super::respond(200, "text/plain", bytes::Bytes::new()));
            }
            (format!("/containerLogs/{ns}/{name}/{container}"), log_params(query))
        }
        "exec" | "attach" => {
            let container = validate_container(&pod, query.str("container"))?;
            require_host(&pod, name)?;
            (
                format!("/{sub}/{ns}/{name}/{container}"),
                stream_params(query, raw_query, sub == "exec"),
            )
        }
        _ => {
            require_host(&pod, name)?;
            let mut params = form_urlencoded::Serializer::new(String::new());
            let ports: Vec<String> = form_urlencoded::parse(raw_query.as_bytes())
                .filter(|(k, _)| k == "ports")
                .map(|(_, v)| v.into_owned())
                .collect();
            if !ports.is_empty() {
                params.append_pair("ports", &ports.join(","));
            }
            (format!("/portForward/{ns}/{name}"), params.finish())
        }
    };
    let (addr, host) = kubelet_address(api, node_name(&pod)).await?;
    let path_and_query = if params.is_empty() {
        path
    } else {
        format!("{path}?{params}")
    };
    let location = Location {
        addr,
        host,
        path_and_query,
    };
    if is_upgrade(&parts.headers) {
        upgrade(parts, body, &location).await
    } else if sub == "log" {
        logs(parts, &location, name).await
    } else {
        plain(parts, body, &location).await
    }
}

/// `nodes/NAME[:PORT]/proxy/PATH`: any request, passed to the node's kubelet at PATH (upstream's
/// node ResourceLocation: the kubelet's port unless the name carries one).
async fn node_proxy(
    api: &Api,
    parts: http::request::Parts,
    body: hyper::body::Incoming,
    id: &str,
) -> ApiResult<Response<Body>> {
    let (node, port) = match id.rsplit_once(':') {
        Some((n, p)) if p.parse::<u16>().is_ok() => (n.trim_start_matches("https:"), Some(p)),
        _ => (id.trim_start_matches("https:"), None),
    };
    let (mut addr, host) = kubelet_address(api, node).await?;
    if let Some(p) = port {
        let h = addr.rsplit_once(':').map_or(addr.as_str(), |(h, _)| h).to_string();
        addr = format!("{h}:{p}");
    }
    let location = Location {
        addr,
        host,
        path_and_query: proxied_path(&parts.uri, "nodes"),
    };
    if is_upgrade(&parts.headers) {
        upgrade(parts, body, &location).await
    } else {
        plain(parts, body, &location).await
    }
}

/// The path and query after `/<resource>/<name>/proxy` in a proxy request, `/` when nothing.
pub(super) fn proxied_path(uri: &http::Uri, resource: &str) -> String {
    let path = uri.path();
    let marker = format!("/{resource}/");
    let after_name = path.find(&marker).map_or("", |i| &path[i + marker.len()..]);
    let rest = after_name
        .split_once('/')
        .map_or("", |(_, r)| r)
        .strip_prefix("proxy")
        .unwrap_or_default();
    let rest = if rest.is_empty() { "/" } else { rest };
    match uri.query() {
        Some(q) => format!("{rest}?{q}"),
        None => rest.to_string(),
    }
}

fn node_name(pod: &Value) -> &str {
    pod["spec"]["nodeName"].as_str().unwrap_or_default()
}

fn require_host(pod: &Value, name: &str) -> ApiResult<()> {
    if node_name(pod).is_empty() {
        return Err(ApiError::bad_request(format!(
            "pod {name} does not have a host assigned"
        )));
    }
    Ok(())
}

/// The container a request is for: the one given (which must exist), or the only one.
fn validate_container(pod: &Value, container: &str) -> ApiResult<String> {
    let name = pod["metadata"]["name"].as_str().unwrap_or_default();
    let names_in = |field: &str| -> Vec<String> {
        pod["spec"][field]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["name"].as_str().map(String::from))
            .collect()
    };
    let containers = names_in("containers");
    // Init containers first, then containers, then ephemeral ones, as upstream visits them.
    let mut all = names_in("initContainers");
    all.extend(containers.iter().cloned());
    all.extend(names_in("ephemeralContainers"));
    if container.is_empty() {
        return match containers.as_slice() {
            [only] => Ok(only.clone()),
            [] => Err(ApiError::bad_request(format!(
                "a container name must be specified for pod {name}"
            ))),
            _ => Err(ApiError::bad_request(format!(
                "a container name must be specified for pod {name}, choose one of: [{}]",
                all.join(" ")
            ))),
        };
    }
    if !all.iter().any(|c| c == container) {
        return Err(ApiError::bad_request(format!(
            "container {container} is not valid for pod {name}"
        )));
    }
    Ok(container.to_string())
}

fn int_param(query: &Query, key: &str) -> ApiResult<Option<i64>> {
    match query.get(key) {
        None | Some("") => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| ApiError::bad_request(format!("{key}: invalid value {v:?}"))),
    }
}

/// Upstream's ValidatePodLogOptions.
fn validate_log_options(name: &str, query: &Query) -> ApiResult<()> {
    let mut errs = Vec::new();
    if let Some(n) = int_param(query, "tailLines")?
        && n < 0
    {
        errs.push(FieldError::invalid(
            "tailLines",
            n,
            "must be greater than or equal to 0",
        ));
    }
    if let Some(n) = int_param(query, "limitBytes")?
        && n < 1
    {
        errs.push(FieldError::invalid("limitBytes", n, "must be greater than 0"));
    }
    let since_seconds = int_param(query, "sinceSeconds")?;
    let since_time = query.get("sinceTime").filter(|t| !t.is_empty());
    if since_seconds.is_some() && since_time.is_some() {
        errs.push(FieldError::forbidden(
            "",
            "at most one of `sinceTime` or `sinceSeconds` may be specified",
        ));
    } else if let Some(n) = since_seconds
        && n < 1
    {
        errs.push(FieldError::invalid("sinceSeconds", n, "must be greater than 0"));
    }
    if let Some(t) = since_time
        && t.parse::<jiff::Timestamp>().is_err()
    {
        return Err(ApiError::bad_request(format!(
            "parsing time {t:?} as \"2006-01-02T15:04:05Z07:00\": cannot parse"
        )));
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid("", "PodLogOptions", name, &errs))
    }
}

/// The kubelet's containerLogs query, in url.Values.Encode order (sorted by key).
fn log_params(query: &Query) -> String {
    let mut pairs: Vec<(&str, String)> = Vec::new();
    for key in ["follow", "previous", "timestamps"] {
        if query.flag(key) {
            pairs.push((key, "true".into()));
        }
    }
    for key in ["sinceSeconds", "sinceTime", "tailLines", "limitBytes"] {
        if let Some(v) = query.get(key).filter(|v| !v.is_empty()) {
            pairs.push((key, v.to_string()));
        }
    }
    pairs.sort_by(|a, b| a.0.cmp(b.0));
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        out.append_pair(k, &v);
    }
    out.finish()
}

/// The kubelet's exec/attach query: the streams as `1`, and for exec every `command`.
fn stream_params(query: &Query, raw_query: &str, exec: bool) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    if exec {
        for (k, v) in form_urlencoded::parse(raw_query.as_bytes()) {
            if k == "command" {
                out.append_pair("command", &v);
            }
        }
    }
    for key in ["stderr", "stdin", "stdout", "tty"] {
        if query.flag(key) {
            out.append_pair(key, "1");
        }
    }
    out.finish()
}

/// The kubelet's `host:port` and host name for a node.
async fn kubelet_address(api: &Api, node: &str) -> ApiResult<(String, String)> {
    let nodes = api
        .store_named("", "nodes")
        .ok_or_else(|| ApiError::internal("no node storage"))?;
    let node_obj = nodes.get(None, node).await?;
    let addresses = node_obj["status"]["addresses"].as_array().cloned().unwrap_or_default();
    let host = client()?
        .preferred_address_types
        .iter()
        .find_map(|t| {
            addresses
                .iter()
                .find(|a| a["type"].as_str() == Some(t.as_str()))
                .and_then(|a| a["address"].as_str())
        })
        .map(String::from)
        .ok_or_else(|| {
            let known: Vec<String> = addresses
                .iter()
                .map(|a| {
                    format!(
                        "{{{} {}}}",
                        a["type"].as_str().unwrap_or_default(),
                        a["address"].as_str().unwrap_or_default()
                    )
                })
                .collect();
            ApiError::new(
                500,
                "",
                format!("no preferred addresses found; known addresses: [{}]", known.join(" ")),
            )
        })?;
    let port = node_obj["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"]
        .as_i64()
        .filter(|p| *p > 0)
        .unwrap_or(DEFAULT_KUBELET_PORT);
    let addr = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    Ok((addr, host))
}

fn is_upgrade(headers: &HeaderMap) -> bool {
    headers.get_all(header::CONNECTION).iter().any(|v| {
        v.to_str()
            .is_ok_and(|s| s.split(',').any(|t| t.trim().eq_ignore_ascii_case("upgrade")))
    }) && headers.contains_key(header::UPGRADE)
}

/// The client's headers for the kubelet: without credentials, identity headers and (unless
/// this is an upgrade) hop-by-hop headers.
fn kubelet_headers(incoming: &HeaderMap, location: &Location, upgrade: bool) -> HeaderMap {
    let mut out = HeaderMap::new();
    for (k, v) in incoming {
        let name = k.as_str();
        let hop = DROPPED.contains(&name) && !(upgrade && (name == "connection" || name == "upgrade"));
        if hop || name.starts_with("impersonate-") || name.starts_with("x-remote-") {
            continue;
        }
        out.append(k.clone(), v.clone());
    }
    if let Ok(v) = location.addr.parse() {
        out.insert(header::HOST, v);
    }
    out
}

fn server_name(location: &Location) -> ApiResult<ServerName<'static>> {
    ServerName::try_from(location.host.clone())
        .map_err(|e| ApiError::internal(format!("kubelet address {}: {e}", location.host)))
}

pub(super) fn kubelet_request(
    parts: &http::request::Parts,
    body: Body,
    location: &Location,
    upgrade: bool,
) -> ApiResult<Request<Body>> {
    let mut req = Request::new(body);
    *req.method_mut() = parts.method.clone();
    *req.uri_mut() = location
        .path_and_query
        .parse()
        .map_err(|_| ApiError::bad_request("invalid kubelet path"))?;
    *req.headers_mut() = kubelet_headers(&parts.headers, location, upgrade);
    Ok(req)
}

fn url(location: &Location) -> String {
    format!("https://{}{}", location.addr, location.path_and_query)
}

/// Logs: the kubelet's body streamed back as text/plain; a failure becomes a Status as
/// upstream's GenericHttpResponseChecker makes it.
async fn logs(parts: http::request::Parts, location: &Location, name: &str) -> ApiResult<Response<Body>> {
    let req = kubelet_request(&parts, super::full(bytes::Bytes::new()), location, false)?;
    let resp = send_tls(client()?.tls.clone(), &location.addr, server_name(location)?, req)
        .await
        .map_err(|e| ApiError::new(500, "", format!("Get {:?}: {e}", url(location))))?;
    let code = resp.status().as_u16();
    if !(200..=206).contains(&code) {
        let body = http_body_util::Limited::new(resp.into_body(), MAX_ERROR_BODY)
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        return Err(kubelet_error(code, &String::from_utf8_lossy(&body), name));
    }
    let (mut head, body) = resp.into_parts();
    for h in DROPPED {
        head.headers.remove(*h);
    }
    head.headers
        .insert(header::CONTENT_TYPE, http::HeaderValue::from_static("text/plain"));
    Ok(Response::from_parts(head, body.map_err(std::io::Error::other).boxed()))
}

/// Upstream's NewGenericServerResponse for pods/log (with its empty verb).
fn kubelet_error(code: u16, text: &str, name: &str) -> ApiError {
    let (reason, message) = match code {
        500 => return ApiError::internal(text),
        400 => return ApiError::bad_request(text),
        404 => (
            "NotFound",
            "the server could not find the requested resource".to_string(),
        ),
        401 => (
            "Unauthorized",
            "the server has asked for the client to provide credentials".to_string(),
        ),
        403 => (
            "Forbidden",
            "the server does not allow access to the requested resource".to_string(),
        ),
        409 => ("Conflict", "the server reported a conflict".to_string()),
        503 => (
            "ServiceUnavailable",
            "the server is currently unable to handle the request".to_string(),
        ),
        _ => (
            "",
            format!("the server responded with the status code {code} but did not return more information"),
        ),
    };
    ApiError::new(code, reason, format!("{message} ( pods/log {name})")).with_details(json!({
        "name": name, "kind": "pods/log",
        "causes": [{"reason": "UnexpectedServerResponse", "message": text}]
    }))
}

/// A non-upgrade exec/attach/portforward request: forwarded as is.
async fn plain(
    parts: http::request::Parts,
    body: hyper::body::Incoming,
    location: &Location,
) -> ApiResult<Response<Body>> {
    let req = kubelet_request(&parts, body.map_err(std::io::Error::other).boxed(), location, false)?;
    let resp = send_tls(client()?.tls.clone(), &location.addr, server_name(location)?, req)
        .await
        .map_err(backend_error)?;
    let (mut head, body) = resp.into_parts();
    for h in DROPPED {
        head.headers.remove(*h);
    }
    Ok(Response::from_parts(head, body.map_err(std::io::Error::other).boxed()))
}

/// Upstream's UpgradeAwareHandler wording when the kubelet cannot be reached.
fn backend_error(e: SendError) -> ApiError {
    match e {
        SendError::Dial(m) => ApiError::new(500, "", format!("error dialing backend: {m}")),
        SendError::Http(m) => ApiError::new(500, "", format!("error sending request: {m}")),
    }
}

/// An upgrade: the kubelet's answer goes back as is; after a 101 both connections are
/// joined and bytes copied until either side closes.
async fn upgrade(
    parts: http::request::Parts,
    body: hyper::body::Incoming,
    location: &Location,
) -> ApiResult<Response<Body>> {
    let req = kubelet_request(&parts, super::full(bytes::Bytes::new()), location, true)?;
    let mut resp = send_tls(client()?.tls.clone(), &location.addr, server_name(location)?, req)
        .await
        .map_err(backend_error)?;
    if resp.status() != StatusCode::SWITCHING_PROTOCOLS {
        let (head, body) = resp.into_parts();
        return Ok(Response::from_parts(head, body.map_err(std::io::Error::other).boxed()));
    }
    let kubelet_side = hyper::upgrade::on(&mut resp);
    let mut client_req = Request::from_parts(parts, body);
    let client_side = hyper::upgrade::on(&mut client_req);
    tokio::spawn(async move {
        let (kubelet, client) = match tokio::try_join!(kubelet_side, client_side) {
            Ok(both) => both,
            Err(e) => {
                tracing::debug!(error = %e, "upgrade to the kubelet failed");
                return;
            }
        };
        let (mut kubelet, mut client) = (TokioIo::new(kubelet), TokioIo::new(client));
        if let Err(e) = tokio::io::copy_bidirectional(&mut client, &mut kubelet).await {
            tracing::debug!(error = %e, "kubelet stream ended");
        }
    });
    let (head, _) = resp.into_parts();
    Ok(Response::from_parts(head, super::full(bytes::Bytes::new())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(containers: &[&str], init: &[&str]) -> Value {
        let list = |names: &[&str]| names.iter().map(|n| json!({"name": n})).collect::<Vec<_>>();
        json!({"metadata": {"name": "web"}, "spec": {"containers": list(containers), "initContainers": list(init)}})
    }

    #[test]
    fn containers_are_defaulted_and_checked_as_upstream() {
        assert_eq!(validate_container(&pod(&["a"], &[]), "").unwrap(), "a");
        assert_eq!(validate_container(&pod(&["a", "b"], &["i"]), "i").unwrap(), "i");
        let many = validate_container(&pod(&["a", "b"], &["i"]), "").unwrap_err();
        assert_eq!(
            (many.code, many.message.as_str()),
            (
                400,
                "a container name must be specified for pod web, choose one of: [i a b]"
            )
        );
        let unknown = validate_container(&pod(&["a"], &[]), "nope").unwrap_err();
        assert_eq!(unknown.message, "container nope is not valid for pod web");
    }

    #[test]
    fn kubelet_queries_in_upstream_order() {
        let q = Query::parse(Some("tailLines=2&follow=true&timestamps=1&limitBytes=10&container=x"));
        assert_eq!(log_params(&q), "follow=true&limitBytes=10&tailLines=2&timestamps=true");
        let raw = "command=sh&command=-c&command=echo+hi&stdout=true&stdin=1&tty=false";
        assert_eq!(
            stream_params(&Query::parse(Some(raw)), raw, true),
            "command=sh&command=-c&command=echo+hi&stdin=1&stdout=1"
        );
    }

    #[test]
    fn log_options_are_validated() {
        let err = validate_log_options(
            "web",
            &Query::parse(Some("sinceSeconds=5&sinceTime=2024-01-01T00:00:00Z")),
        )
        .unwrap_err();
        assert_eq!(err.code, 422);
        assert!(
            err.message
                .ends_with("Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified"),
            "{}",
            err.message
        );
        assert!(validate_log_options("web", &Query::parse(Some("tailLines=0&limitBytes=1"))).is_ok());
    }
}
