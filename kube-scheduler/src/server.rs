//! The HTTPS endpoint on --secure-port: /healthz, /livez, /readyz and /metrics, with a
//! self-signed certificate generated at start (as upstream does without --tls-cert-file).

use crate::scheduler::Scheduler;
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::sync::Arc;

fn tls_config() -> anyhow::Result<rustls::ServerConfig> {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let names = vec!["localhost".to_string(), host.trim().to_string()];
    let certified =
        rcgen::generate_simple_self_signed(names.into_iter().filter(|n| !n.is_empty()).collect::<Vec<_>>())?;
    let cert = CertificateDer::from(certified.cert.der().to_vec());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der()));
    let mut cfg = rustls::ServerConfig::builder_with_provider(rustls::crypto::aws_lc_rs::default_provider().into())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)?;
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(cfg)
}

fn respond(sched: &Scheduler, req: &Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
    let (code, body) = match req.uri().path() {
        "/healthz" | "/livez" => (200, "ok".to_string()),
        "/readyz" if sched.is_synced() => (200, "ok".to_string()),
        "/readyz" => (
            500,
            "[-]sched-handler-sync failed: reason withheld\nreadyz check failed".to_string(),
        ),
        "/metrics" => (200, sched.metrics.render(sched.queue.counts())),
        _ => (404, "404 page not found\n".to_string()),
    };
    Response::builder()
        .status(code)
        .header("Content-Type", "text/plain; charset=utf-8")
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_default()
}

pub async fn serve(addr: std::net::SocketAddr, sched: Arc<Scheduler>) -> anyhow::Result<()> {
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls_config()?));
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("listening on {addr}: {e}"))?;
    tracing::info!(%addr, "serving securely");
    loop {
        let (tcp, _) = listener.accept().await?;
        let (acceptor, sched) = (acceptor.clone(), sched.clone());
        tokio::spawn(async move {
            let Ok(stream) = acceptor.accept(tcp).await else { return };
            let service = hyper::service::service_fn(move |req| {
                let resp = respond(&sched, &req);
                async move { Ok::<_, std::convert::Infallible>(resp) }
            });
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
