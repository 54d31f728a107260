//! metrics-simulator: an aggregated API server for `metrics.k8s.io/v1beta1` whose usage
//! figures come from a file instead of kubelets, so the aggregation layer, `kubectl top` and
//! the HPA controller can be tested without nodes. It serves TLS with its own CA (written to
//! `--cert-dir/ca.crt` for the APIService's caBundle), accepts only clients with a certificate
//! from `--requestheader-client-ca-file`, and takes the user from X-Remote-User as an
//! extension API server does.

use bytes::Bytes;
use clap::Parser;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, ListParams};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Parser, Clone)]
#[command(
    name = "metrics-simulator",
    about = "A metrics.k8s.io API server with usage read from a file"
)]
struct Args {
    /// Kubeconfig used to list the pods and nodes it reports on.
    #[arg(long)]
    kubeconfig: PathBuf,
    #[arg(long)]
    secure_port: u16,
    /// Where the serving CA (ca.crt) is written.
    #[arg(long)]
    cert_dir: PathBuf,
    /// DNS name in the serving certificate (the Service's <name>.<namespace>.svc).
    #[arg(long)]
    service_name: String,
    /// CA of the front proxy (kube-apiserver's --proxy-client-cert-file).
    #[arg(long)]
    requestheader_client_ca_file: PathBuf,
    /// JSON {"cpu": "200m", "memory": "64Mi"}: each container's usage; read on every request.
    #[arg(long)]
    usage_file: PathBuf,
}

type Body = Full<Bytes>;

fn json_response(code: StatusCode, v: &Value) -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::from(v.to_string())));
    *r.status_mut() = code;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    r
}

fn status(code: StatusCode, reason: &str, message: &str) -> Response<Body> {
    json_response(
        code,
        &json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": message, "reason": reason, "code": code.as_u16()}),
    )
}

fn resource_list() -> Value {
    let res = |name: &str, kind: &str, namespaced: bool| json!({"name": name, "singularName": "", "namespaced": namespaced, "kind": kind, "verbs": ["get", "list"]});
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "metrics.k8s.io/v1beta1",
           "resources": [res("nodes", "NodeMetrics", false), res("pods", "PodMetrics", true)]})
}

struct Server {
    args: Args,
    client: kube::Client,
}

impl Server {
    fn usage(&self) -> anyhow::Result<Value> {
        Ok(serde_json::from_slice(&std::fs::read(&self.args.usage_file)?)?)
    }

    fn pod_metrics(pod: &Pod, usage: &Value, now: &str) -> Value {
        let containers: Vec<Value> = pod
            .spec
            .iter()
            .flat_map(|s| &s.containers)
            .map(|c| json!({"name": c.name, "usage": {"cpu": usage["cpu"], "memory": usage["memory"]}}))
            .collect();
        json!({"kind": "PodMetrics", "apiVersion": "metrics.k8s.io/v1beta1",
               "metadata": {"name": pod.metadata.name, "namespace": pod.metadata.namespace,
                            "labels": pod.metadata.labels, "creationTimestamp": now},
               "timestamp": now, "window": "10s", "containers": containers})
    }

    async fn pods(&self, ns: &str, name: Option<&str>, selector: Option<&str>) -> anyhow::Result<Response<Body>> {
        let usage = self.usage()?;
        let now = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
        let api: Api<Pod> = Api::namespaced(self.client.clone(), ns);
        if let Some(name) = name {
            return Ok(match api.get_opt(name).await? {
                Some(p) => json_response(StatusCode::OK, &Self::pod_metrics(&p, &usage, &now)),
                None => status(
                    StatusCode::NOT_FOUND,
                    "NotFound",
                    &format!("podmetrics.metrics.k8s.io {name:?} not found"),
                ),
            });
        }
        let mut lp = ListParams::default();
        if let Some(s) = selector {
            lp = lp.labels(s);
        }
        let items: Vec<Value> = api
            .list(&lp)
            .await?
            .items
            .iter()
            .filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"))
            .map(|p| Self::pod_metrics(p, &usage, &now))
            .collect();
        Ok(json_response(
            StatusCode::OK,
            &json!({"kind": "PodMetricsList", "apiVersion": "metrics.k8s.io/v1beta1", "metadata": {}, "items": items}),
        ))
    }

    async fn nodes(&self) -> anyhow::Result<Response<Body>> {
        let usage = self.usage()?;
        let now = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
        let nodes: Api<Node> = Api::all(self.client.clone());
        let items: Vec<Value> = nodes
            .list(&ListParams::default())
            .await?
            .items
            .iter()
            .map(|n| {
                json!({"kind": "NodeMetrics", "apiVersion": "metrics.k8s.io/v1beta1",
                       "metadata": {"name": n.metadata.name, "labels": n.metadata.labels, "creationTimestamp": now},
                       "timestamp": now, "window": "10s", "usage": {"cpu": usage["cpu"], "memory": usage["memory"]}})
            })
            .collect();
        Ok(json_response(
            StatusCode::OK,
            &json!({"kind": "NodeMetricsList", "apiVersion": "metrics.k8s.io/v1beta1", "metadata": {}, "items": items}),
        ))
    }

    async fn handle(&self, req: Request<hyper::body::Incoming>) -> Response<Body> {
        let Some(user) = req.headers().get("x-remote-user").and_then(|v| v.to_str().ok()) else {
            return status(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized");
        };
        eprintln!("{} {} as {user}", req.method(), req.uri());
        let query: Vec<(String, String)> = form_urlencoded::parse(req.uri().query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
        let selector = query
            .iter()
            .find(|(k, _)| k == "labelSelector")
            .map(|(_, v)| v.as_str());
        let path = req.uri().path().trim_end_matches('/');
        let Some(rest) = path.strip_prefix("/apis/metrics.k8s.io/v1beta1") else {
            return status(
                StatusCode::NOT_FOUND,
                "NotFound",
                "the server could not find the requested resource",
            );
        };
        let segs: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
        let result = match segs.as_slice() {
            [] => Ok(json_response(StatusCode::OK, &resource_list())),
            ["nodes"] => self.nodes().await,
            ["namespaces", ns, "pods"] => self.pods(ns, None, selector).await,
            ["namespaces", ns, "pods", name] => self.pods(ns, Some(name), None).await,
            _ => Ok(status(
                StatusCode::NOT_FOUND,
                "NotFound",
                "the server could not find the requested resource",
            )),
        };
        result.unwrap_or_else(|e| status(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", &e.to_string()))
    }
}

/// A CA and a serving certificate for `name` and localhost; the CA is written to `dir/ca.crt`.
fn serving_identity(
    dir: &std::path::Path,
    name: &str,
) -> anyhow::Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate()?;
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "metrics-simulator-ca");
    let ca_cert = ca.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate()?;
    let leaf = CertificateParams::new(vec![name.to_string(), "localhost".to_string()])?.signed_by(&key, &issuer)?;
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("ca.crt"), ca_cert.pem())?;
    let key = PrivateKeyDer::from_pem_slice(key.serialize_pem().as_bytes())?;
    Ok((vec![leaf.der().clone()], key))
}

async fn run(args: Args) -> anyhow::Result<()> {
    let kc = kube::config::Kubeconfig::read_from(&args.kubeconfig)?;
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default()).await?;
    let client = kube::Client::try_from(cfg)?;
    let (chain, key) = serving_identity(&args.cert_dir, &args.service_name)?;
    let tls = e2e::tls_server::mutual_tls(chain, key, &args.requestheader_client_ca_file, &[b"h2", b"http/1.1"])?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.secure_port)).await?;
    let server = Arc::new(Server { args, client });
    eprintln!("serving metrics.k8s.io on {}", listener.local_addr()?);
    e2e::tls_server::serve(listener, tls, move |req| {
        let server = server.clone();
        async move { server.handle(req).await }
    })
    .await
}

#[tokio::main]
async fn main() {
    if let Err(e) = run(Args::parse()).await {
        eprintln!("Error: {e:#}");
        std::process::exit(1);
    }
}
