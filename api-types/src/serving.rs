//! The secure port every component other than the API server serves (`--secure-port`):
//! HTTPS with the certificate from `--tls-cert-file`/`--tls-private-key-file`, or a
//! self-signed one made at start as upstream does; `/healthz`, `/livez` and `/readyz` open to
//! anyone (upstream's `--authorization-always-allow-paths`), and `/metrics` in the Prometheus
//! text format for callers the API server authenticates (TokenReview) and authorizes
//! (SubjectAccessReview for `get` on the path), as upstream's delegated authentication does.

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use k8s_openapi::api::authentication::v1::TokenReview;
use k8s_openapi::api::authorization::v1::SubjectAccessReview;
use kube::api::{Api, PostParams};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
use serde_json::json;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Renders the metrics text on each scrape.
pub type Metrics = Arc<dyn Fn() -> String + Send + Sync>;
/// `None` when ready, else the failed check's `/readyz` line (e.g. `[-]sched-handler-sync failed`).
pub type Readiness = Arc<dyn Fn() -> Option<String> + Send + Sync>;

pub struct Serving {
    pub addr: SocketAddr,
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    /// Who checks `/metrics` callers.
    pub client: kube::Client,
    pub metrics: Metrics,
    pub ready: Readiness,
    /// The component name, for the self-signed certificate.
    pub name: String,
}

fn tls_config(s: &Serving) -> anyhow::Result<rustls::ServerConfig> {
    let (certs, key) = match (&s.cert_file, &s.key_file) {
        (Some(cert), Some(key)) => (
            CertificateDer::pem_file_iter(cert)?.collect::<Result<Vec<_>, _>>()?,
            PrivateKeyDer::from_pem_file(key)?,
        ),
        _ => {
            let names = vec!["localhost".to_string(), s.name.clone()];
            let made = rcgen::generate_simple_self_signed(names)?;
            let key = PrivateKeyDer::try_from(made.signing_key.serialize_der()).map_err(anyhow::Error::msg)?;
            (vec![made.cert.der().clone()], key)
        }
    };
    let mut cfg = rustls::ServerConfig::builder_with_provider(rustls::crypto::aws_lc_rs::default_provider().into())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(cfg)
}

/// Binds the port (an error if it is taken) and serves it in the background.
pub async fn start(s: Serving) -> anyhow::Result<()> {
    let tls = tokio_rustls::TlsAcceptor::from(Arc::new(tls_config(&s)?));
    let listener = TcpListener::bind(s.addr)
        .await
        .map_err(|e| anyhow::anyhow!("failed to listen on {}: {e}", s.addr))?;
    let s = Arc::new(s);
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let (tls, s) = (tls.clone(), s.clone());
            tokio::spawn(async move {
                let Ok(stream) = tls.accept(tcp).await else { return };
                let service = hyper::service::service_fn(move |req| {
                    let s = s.clone();
                    async move { Ok::<_, std::convert::Infallible>(handle(&s, req).await) }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(())
}

fn text(code: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = code;
    r.headers_mut().insert(
        "content-type",
        "text/plain; charset=utf-8".parse().expect("static header"),
    );
    r
}

async fn handle(s: &Serving, req: Request<Incoming>) -> Response<Full<Bytes>> {
    match req.uri().path() {
        "/healthz" | "/livez" => text(StatusCode::OK, "ok".into()),
        "/readyz" => match (s.ready)() {
            None => text(StatusCode::OK, "ok".into()),
            Some(failed) => text(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("{failed}: reason withheld\nreadyz check failed"),
            ),
        },
        "/metrics" => {
            let token = req
                .headers()
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(String::from);
            match authorize(&s.client, token, "/metrics").await {
                Ok(()) => text(StatusCode::OK, (s.metrics)()),
                Err(code) => text(code, format!("{}\n", code.canonical_reason().unwrap_or_default())),
            }
        }
        _ => text(StatusCode::NOT_FOUND, "404 page not found\n".into()),
    }
}

/// Delegated authentication and authorization of a non-resource request.
async fn authorize(client: &kube::Client, token: Option<String>, path: &str) -> Result<(), StatusCode> {
    let token = token.ok_or(StatusCode::UNAUTHORIZED)?;
    let review: TokenReview =
        serde_json::from_value(json!({"spec": {"token": token}})).map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    let reviewed = Api::<TokenReview>::all(client.clone())
        .create(&PostParams::default(), &review)
        .await
        .map_err(|_| StatusCode::UNAUTHORIZED)?;
    let status = reviewed.status.unwrap_or_default();
    let user = status
        .user
        .filter(|_| status.authenticated == Some(true))
        .ok_or(StatusCode::UNAUTHORIZED)?;
    let sar: SubjectAccessReview = serde_json::from_value(json!({"spec": {
        "user": user.username, "groups": user.groups, "uid": user.uid, "extra": user.extra,
        "nonResourceAttributes": {"path": path, "verb": "get"},
    }}))
    .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    let decided = Api::<SubjectAccessReview>::all(client.clone())
        .create(&PostParams::default(), &sar)
        .await
        .map_err(|_| StatusCode::FORBIDDEN)?;
    match decided.status.is_some_and(|s| s.allowed) {
        true => Ok(()),
        false => Err(StatusCode::FORBIDDEN),
    }
}

/// This process's CPU seconds and resident memory, for `/metrics`.
pub fn process_metrics() -> String {
    let mut out = String::new();
    if let Ok(stat) = std::fs::read_to_string("/proc/self/stat") {
        // Fields after the command name: utime and stime are the 12th and 13th.
        let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
        let f: Vec<&str> = rest.split_whitespace().collect();
        let ticks: f64 = [11, 12].iter().filter_map(|i| f.get(*i)?.parse::<f64>().ok()).sum();
        out += &format!(
            "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total {}\n",
            ticks / 100.0
        );
    }
    if let Ok(status) = std::fs::read_to_string("/proc/self/status")
        && let Some(kb) = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
    {
        out += &format!(
            "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes {}\n",
            kb * 1024
        );
    }
    out
}
