//! Forwarding a request to the server behind an APIService: resolving its Service to an
//! address, TLS as the APIService asks (caBundle, or insecureSkipTLSVerify) with the proxy
//! client certificate, and the authenticated user passed in X-Remote-* headers, as upstream's
//! aggregator does. Bodies stream both ways, so watches work through it.

use super::Config;
use crate::auth::User;
use crate::endpoints::Body;
use crate::errors::{ApiError, ApiResult};
use crate::state::Api;
use http::{HeaderMap, HeaderName, HeaderValue, Request, Response};
use http_body_util::BodyExt;
use hyper_util::rt::TokioIo;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Headers that describe one hop, never forwarded; and identity headers a client could forge.
pub const DROPPED: &[&str] = &[
    "authorization",
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
];
const FORGEABLE_PREFIXES: &[&str] = &["impersonate-", "x-remote-"];

/// Where a remote APIService is served: the address to dial and the name its certificate must carry.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub addr: String,
    pub server_name: String,
}

/// Why a remote APIService cannot be reached, in upstream's availability terms.
#[derive(Debug, Clone, PartialEq)]
pub struct Unreachable {
    pub reason: &'static str,
    pub message: String,
}

/// The Service an APIService names, resolved to an address (upstream's ResolveCluster, or
/// ResolveEndpoint with --enable-aggregator-routing).
pub fn resolve(api: &Api, svc: &Value, endpoint_routing: bool) -> Result<Target, Unreachable> {
    let r = &svc["spec"]["service"];
    let (ns, name) = (
        r["namespace"].as_str().unwrap_or_default(),
        r["name"].as_str().unwrap_or_default(),
    );
    let port = r["port"].as_i64().unwrap_or(443);
    let server_name = format!("{name}.{ns}.svc");
    let unreachable = |reason, message| Unreachable { reason, message };
    let service = api
        .store_named("", "services")
        .and_then(|s| s.cached(Some(ns), name))
        .ok_or_else(|| unreachable("ServiceNotFound", format!("service/{name} in {ns:?} is not present")))?;
    let spec = &service["spec"];
    if spec["type"] == "ExternalName" {
        let host = spec["externalName"].as_str().unwrap_or_default();
        return Ok(Target {
            addr: join_host_port(host, port),
            server_name,
        });
    }
    let service_port = spec["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["port"].as_i64() == Some(port))
        .ok_or_else(|| {
            unreachable(
                "ServicePortError",
                format!("service/{name} in {ns:?} is not listening on port {port}"),
            )
        })?;
    let port_name = service_port["name"].as_str().unwrap_or_default();
    let endpoint = ready_endpoint(api, ns, name, port_name).ok_or_else(|| {
        unreachable(
            "MissingEndpoints",
            format!("endpoints for service/{name} in {ns:?} have no addresses with port name {port_name:?}"),
        )
    })?;
    let addr = if endpoint_routing {
        endpoint
    } else {
        match spec["clusterIP"].as_str() {
            Some(ip) if !ip.is_empty() && ip != "None" => join_host_port(ip, port),
            _ => {
                return Err(unreachable(
                    "ServiceNotFound",
                    format!("service/{name} in {ns:?} has no cluster IP"),
                ));
            }
        }
    };
    Ok(Target { addr, server_name })
}

/// A ready address of the service's Endpoints with the named port, as `ip:port`.
fn ready_endpoint(api: &Api, ns: &str, name: &str, port_name: &str) -> Option<String> {
    let endpoints = api.store_named("", "endpoints")?.cached(Some(ns), name)?;
    endpoints["subsets"].as_array()?.iter().find_map(|subset| {
        let port = subset["ports"]
            .as_array()?
            .iter()
            .find(|p| p["name"].as_str().unwrap_or_default() == port_name)?["port"]
            .as_i64()?;
        let ip = subset["addresses"].as_array()?.first()?["ip"].as_str()?;
        Some(join_host_port(ip, port))
    })
}

fn join_host_port(host: &str, port: i64) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// TLS client settings per APIService, rebuilt when the APIService changes.
pub struct Transport {
    client_cert: Option<(Vec<CertificateDer<'static>>, Arc<PrivateKeyDer<'static>>)>,
    configs: Mutex<HashMap<String, (String, Arc<rustls::ClientConfig>)>>,
}

impl Transport {
    pub fn new(config: &Config) -> anyhow::Result<Transport> {
        let client_cert = match (&config.proxy_client_cert, &config.proxy_client_key) {
            (Some(cert), Some(key)) => {
                let chain = CertificateDer::pem_file_iter(cert)
                    .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                    .map_err(|e| anyhow::anyhow!("reading --proxy-client-cert-file {}: {e}", cert.display()))?;
                let key = PrivateKeyDer::from_pem_file(key)
                    .map_err(|e| anyhow::anyhow!("reading --proxy-client-key-file {}: {e}", key.display()))?;
                Some((chain, Arc::new(key)))
            }
            (None, None) => None,
            _ => anyhow::bail!("--proxy-client-cert-file and --proxy-client-key-file must be given together"),
        };
        Ok(Transport {
            client_cert,
            configs: Default::default(),
        })
    }

    fn tls_config(&self, svc: &Value) -> Result<Arc<rustls::ClientConfig>, String> {
        let name = crate::registry::meta::name(svc).to_string();
        let rv = crate::registry::meta::resource_version(svc).to_string();
        let mut configs = self.configs.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((seen, cfg)) = configs.get(&name)
            && *seen == rv
        {
            return Ok(cfg.clone());
        }
        let cfg = Arc::new(self.build(&svc["spec"])?);
        configs.insert(name, (rv, cfg.clone()));
        Ok(cfg)
    }

    fn build(&self, spec: &Value) -> Result<rustls::ClientConfig, String> {
        use base64::Engine;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?;
        let builder = if spec["insecureSkipTLSVerify"] == true {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(NoVerification(provider)))
        } else {
            let pem = base64::engine::general_purpose::STANDARD
                .decode(spec["caBundle"].as_str().unwrap_or_default())
                .map_err(|e| format!("caBundle: {e}"))?;
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(&pem) {
                roots
                    .add(cert.map_err(|e| format!("caBundle: {e}"))?)
                    .map_err(|e| format!("caBundle: {e}"))?;
            }
            builder.with_root_certificates(roots)
        };
        let mut cfg = match &self.client_cert {
            Some((chain, key)) => builder
                .with_client_auth_cert(chain.clone(), key.clone_key())
                .map_err(|e| e.to_string())?,
            None => builder.with_no_client_auth(),
        };
        cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(cfg)
    }

    /// Sends `req` to `target` and returns the response with its body streaming.
    pub async fn send(
        &self,
        svc: &Value,
        target: &Target,
        req: Request<Body>,
    ) -> Result<Response<hyper::body::Incoming>, String> {
        let cfg = self.tls_config(svc)?;
        let server_name = ServerName::try_from(target.server_name.clone()).map_err(|e| e.to_string())?;
        send_tls(cfg, &target.addr, server_name, req)
            .await
            .map_err(|e| e.to_string())
    }
}

/// Why a request to a backend failed: the dial (TCP or TLS) or the HTTP exchange.
#[derive(Debug)]
pub enum SendError {
    Dial(String),
    Http(String),
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendError::Dial(m) | SendError::Http(m) => f.write_str(m),
        }
    }
}

/// Go's wording for a failed dial (`dial tcp 127.0.0.1:10250: connect: connection refused`).
fn dial_error(addr: &str, e: &std::io::Error) -> String {
    let why = match e.kind() {
        std::io::ErrorKind::ConnectionRefused => "connect: connection refused".to_string(),
        std::io::ErrorKind::TimedOut => "i/o timeout".to_string(),
        _ => e.to_string(),
    };
    format!("dial tcp {addr}: {why}")
}

/// One request over a new HTTP/1.1 connection to `addr` with TLS; the connection supports
/// upgrades, so a 101 answer can be taken over with `hyper::upgrade::on`.
pub async fn send_tls(
    cfg: Arc<rustls::ClientConfig>,
    addr: &str,
    server_name: ServerName<'static>,
    req: Request<Body>,
) -> Result<Response<hyper::body::Incoming>, SendError> {
    let tcp = tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect(addr))
        .await
        .map_err(|_| SendError::Dial(format!("dial tcp {addr}: i/o timeout")))?
        .map_err(|e| SendError::Dial(dial_error(addr, &e)))?;
    let _ = tcp.set_nodelay(true);
    let tls = tokio_rustls::TlsConnector::from(cfg)
        .connect(server_name, tcp)
        .await
        .map_err(|e| SendError::Dial(format!("tls: {e}")))?;
    exchange(TokioIo::new(tls), req).await
}

/// One request over a new plain HTTP/1.1 connection to `addr`.
pub async fn send_plain(addr: &str, req: Request<Body>) -> Result<Response<hyper::body::Incoming>, SendError> {
    let tcp = tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect(addr))
        .await
        .map_err(|_| SendError::Dial(format!("dial tcp {addr}: i/o timeout")))?
        .map_err(|e| SendError::Dial(dial_error(addr, &e)))?;
    let _ = tcp.set_nodelay(true);
    exchange(TokioIo::new(tcp), req).await
}

/// Sends `req` over a fresh connection `io` that supports upgrades.
async fn exchange<T>(io: T, req: Request<Body>) -> Result<Response<hyper::body::Incoming>, SendError>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| SendError::Http(e.to_string()))?;
    tokio::spawn(async move {
        if let Err(e) = conn.with_upgrades().await {
            tracing::debug!(error = %e, "proxied connection ended");
        }
    });
    sender
        .send_request(req)
        .await
        .map_err(|e| SendError::Http(e.to_string()))
}

/// Accepts any server certificate (insecureSkipTLSVerify), still checking handshake signatures.
#[derive(Debug)]
pub struct NoVerification(pub Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The headers sent on: the client's, minus hop-by-hop and identity headers, plus the user.
pub fn forwarded_headers(incoming: &HeaderMap, user: &User, target: &Target) -> HeaderMap {
    let mut out = HeaderMap::new();
    for (k, v) in incoming {
        let name = k.as_str();
        if DROPPED.contains(&name) || FORGEABLE_PREFIXES.iter().any(|p| name.starts_with(p)) {
            continue;
        }
        out.append(k.clone(), v.clone());
    }
    let mut add = |name: &str, value: &str| {
        if let (Ok(n), Ok(v)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            out.append(n, v);
        }
    };
    add("host", &target.addr);
    add("x-remote-user", &user.name);
    for g in &user.groups {
        add("x-remote-group", g);
    }
    for (key, values) in &user.extra {
        for v in values {
            add(&format!("x-remote-extra-{}", escape_key(key)), v);
        }
    }
    out
}

/// Percent-encodes an extra key as upstream does (url.PathEscape).
fn escape_key(key: &str) -> String {
    key.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Forwards one request for an aggregated group/version.
pub async fn forward(
    api: &Api,
    svc: &Value,
    parts: http::request::Parts,
    body: hyper::body::Incoming,
    user: &User,
) -> ApiResult<Response<Body>> {
    let available = svc["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "Available" && c["status"] == "True");
    let aggregator = &api.aggregator;
    let target = match resolve(api, svc, aggregator.config.endpoint_routing) {
        Ok(t) if available => t,
        _ => return Ok(crate::endpoints::plain(503, "service unavailable\n")),
    };
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut req = Request::new(body.map_err(std::io::Error::other).boxed());
    *req.method_mut() = parts.method.clone();
    *req.uri_mut() = path
        .parse()
        .map_err(|_| ApiError::bad_request("invalid request path"))?;
    *req.headers_mut() = forwarded_headers(&parts.headers, user, &target);
    let resp = aggregator
        .proxy
        .send(svc, &target, req)
        .await
        .map_err(|e| ApiError::new(503, "ServiceUnavailable", format!("error trying to reach service: {e}")))?;
    let (mut head, body) = resp.into_parts();
    for h in DROPPED {
        head.headers.remove(*h);
    }
    Ok(Response::from_parts(head, body.map_err(std::io::Error::other).boxed()))
}
