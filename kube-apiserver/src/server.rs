//! Starting the server: storage, state, built-in objects, periodic compaction, and the
//! HTTPS listener (HTTP/2 and HTTP/1.1 over rustls).

use crate::auth::Authenticator;
use crate::endpoints;
use crate::options::Options;
use crate::state::{Api, ServerConfig};
use crate::storage::{Backend, embedded::Embedded, etcd::Etcd};
use anyhow::{Context, Result};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// The address other members reach us on: the flag, else the bind address, else the
/// address of the interface that holds the default route.
fn advertise_address(opts: &Options) -> IpAddr {
    if let Some(a) = opts.advertise_address {
        return a;
    }
    if !opts.bind_address.is_unspecified() {
        return opts.bind_address;
    }
    let probe = std::net::UdpSocket::bind("0.0.0.0:0").and_then(|s| s.connect("192.0.2.1:80").map(|_| s));
    probe
        .and_then(|s| s.local_addr())
        .map(|a| a.ip())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]))
}

async fn open_backend(opts: &Options) -> Result<Arc<dyn Backend>> {
    if opts.etcd_servers.is_empty() {
        tracing::info!(dir = %opts.data_dir.display(), "using the embedded store");
        Ok(Arc::new(
            Embedded::open(&opts.data_dir).context("opening the embedded store")?,
        ))
    } else {
        tracing::info!(servers = ?opts.etcd_servers, "using etcd");
        Ok(Arc::new(
            Etcd::connect(&opts.etcd_servers).await.context("connecting to etcd")?,
        ))
    }
}

/// Compacts history older than one interval, as upstream's compactor does.
fn spawn_compactor(backend: Arc<dyn Backend>, every: Duration) {
    if every.is_zero() {
        return;
    }
    tokio::spawn(async move {
        let mut previous = None;
        loop {
            tokio::time::sleep(every).await;
            if let Some(rev) = previous
                && let Err(e) = backend.compact(rev).await
            {
                tracing::warn!(error = %e, "compaction failed");
            }
            previous = backend.current_revision().await.ok();
        }
    });
}

pub async fn run(opts: Options) -> Result<()> {
    let modes = crate::auth::authz::parse_modes(&opts.authorization_mode)?;
    let advertise = advertise_address(&opts);
    let hostname = nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "localhost".into());
    let first_service_ip = crate::registry::services::first_service_ip(&opts.service_cluster_ip_range);
    let mut ips = vec![IpAddr::from([127, 0, 0, 1]), advertise];
    ips.extend(first_service_ip);
    let serving = crate::certs::ensure(
        opts.tls_cert_file.as_deref(),
        opts.tls_private_key_file.as_deref(),
        &opts.cert_dir,
        &ips,
        &hostname,
    )?;
    let auth = authenticator(&opts)?;
    let client_verifier = auth.client_ca.as_ref().map(|ca| ca.tls_verifier());
    let tls = TlsAcceptor::from(Arc::new(crate::certs::server_config(&serving, client_verifier)?));
    let backend = open_backend(&opts).await?;
    let config = ServerConfig {
        advertise_address: advertise,
        secure_port: opts.secure_port,
        service_cidr: opts.service_cluster_ip_range,
        node_port_range: opts.service_node_port_range,
        etcd_prefix: opts.etcd_prefix.clone(),
    };
    endpoints::system::set_server_address(SocketAddr::new(advertise, opts.secure_port).to_string());
    let admission =
        crate::admission::Plugins::from_flags(&opts.enable_admission_plugins, &opts.disable_admission_plugins)?;
    let aggregator = crate::aggregator::Aggregator::new(crate::aggregator::Config {
        proxy_client_cert: opts.proxy_client_cert_file.clone(),
        proxy_client_key: opts.proxy_client_key_file.clone(),
        endpoint_routing: opts.enable_aggregator_routing,
    })?;
    endpoints::kubelet_proxy::configure(&endpoints::kubelet_proxy::Flags {
        client_certificate: opts.kubelet_client_certificate.clone(),
        client_key: opts.kubelet_client_key.clone(),
        certificate_authority: opts.kubelet_certificate_authority.clone(),
        preferred_address_types: opts.kubelet_preferred_address_types.clone(),
    })?;
    let api = Api::new(config, backend.clone(), auth, modes, admission, aggregator).await;
    crate::bootstrap::run(&api)
        .await
        .map_err(|e| anyhow::anyhow!("creating built-in objects: {e}"))?;
    crate::bootstrap::authentication_info(&api, &opts)
        .await
        .map_err(|e| anyhow::anyhow!("publishing extension-apiserver-authentication: {e}"))?;
    crate::aggregator::local::register(&api)
        .await
        .map_err(|e| anyhow::anyhow!("registering local APIServices: {e}"))?;
    crate::aggregator::availability::spawn(api.clone());
    if api.authorization_modes.contains(&crate::auth::authz::Mode::Rbac) {
        crate::bootstrap::rbac_policy(&api)
            .await
            .map_err(|e| anyhow::anyhow!("reconciling the RBAC bootstrap policy: {e}"))?;
    }
    spawn_compactor(backend, opts.etcd_compaction_interval);

    let addr = SocketAddr::new(opts.bind_address, opts.secure_port);
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("listening on {addr}"))?;
    tracing::info!(%addr, cert = %serving.cert_file.display(), "serving securely");
    serve(listener, tls, api).await
}

fn authenticator(opts: &Options) -> Result<Authenticator> {
    let client_ca = opts
        .client_ca_file
        .as_deref()
        .map(crate::auth::x509::ClientCa::load)
        .transpose()?;
    let signing = match &opts.service_account_signing_key_file {
        Some(p) => p.clone(),
        None => {
            let p = opts.cert_dir.join("sa.key");
            if !p.exists() {
                std::fs::create_dir_all(&opts.cert_dir)?;
                crate::auth::serviceaccount::generate_key(&p)?;
            }
            p
        }
    };
    let service_accounts = crate::auth::serviceaccount::ServiceAccountTokens::load(
        &opts.service_account_key_file,
        Some(&signing),
        opts.service_account_issuer.clone(),
        opts.api_audiences.clone(),
    )?;
    Ok(Authenticator {
        tokens: crate::auth::tokens::TokenFile::load(opts.token_auth_file.as_deref())?,
        client_ca,
        service_accounts: Some(service_accounts),
        bootstrap_tokens: opts.enable_bootstrap_token_auth,
        anonymous: opts.anonymous_auth,
    })
}

async fn serve(listener: TcpListener, tls: TlsAcceptor, api: Arc<Api>) -> Result<()> {
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => accepted?,
            _ = sigterm.recv() => { tracing::info!("SIGTERM: shutting down"); return Ok(()); }
            _ = tokio::signal::ctrl_c() => { tracing::info!("interrupted: shutting down"); return Ok(()); }
        };
        let _ = tcp.set_nodelay(true);
        let (tls, api) = (tls.clone(), api.clone());
        tokio::spawn(async move {
            let stream = match tls.accept(tcp).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::debug!(%peer, error = %e, "TLS handshake failed");
                    return;
                }
            };
            // The client certificate is checked once per connection.
            let identity: Arc<crate::auth::PeerIdentity> =
                Arc::new(match (&api.auth.client_ca, stream.get_ref().1.peer_certificates()) {
                    (Some(ca), Some(chain)) if !chain.is_empty() => Some(ca.identify(chain)),
                    _ => None,
                });
            let service = hyper::service::service_fn(move |req| {
                let (api, identity) = (api.clone(), identity.clone());
                async move { Ok::<_, std::convert::Infallible>(endpoints::handle(api, identity, req).await) }
            });
            let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            if let Err(e) = builder
                .serve_connection_with_upgrades(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(%peer, error = %e, "connection ended");
            }
        });
    }
}
