//! HTTP endpoints: routing a request to discovery, system paths or a resource handler, and
//! turning results and errors into responses.

pub mod authn;
pub mod authorize;
pub mod discovery;
pub mod eviction;
pub mod impersonate;
pub mod kubelet_proxy;
pub mod list;
pub mod negotiate;
pub mod patch;
pub mod pod_proxy;
pub mod request;
pub mod rest;
pub mod reviews;
pub mod system;
pub mod table;

use crate::auth::User;
use crate::errors::{ApiError, ApiResult};
use crate::registry::resources::{self, ResourceInfo};
use crate::state::Api;
use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited, combinators::BoxBody};
use negotiate::{Encoding, Output};
use request::{ApiPath, Query, ResourcePath};
use std::sync::Arc;

pub type Body = BoxBody<Bytes, std::io::Error>;

/// Largest request body accepted (upstream: 3 MiB).
pub const MAX_BODY: usize = 3 * 1024 * 1024;

pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).map_err(|never| match never {}).boxed()
}

pub fn respond(code: u16, content_type: &str, body: Bytes) -> Response<Body> {
    let mut r = Response::new(full(body));
    *r.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = r.headers_mut();
    if let Ok(v) = content_type.parse() {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-cache, private"),
    );
    r
}

pub fn respond_value(code: u16, value: &serde_json::Value, encoding: Encoding) -> Response<Body> {
    let (ct, bytes) = negotiate::encode(value, encoding);
    respond(code, ct, bytes)
}

pub fn error_response(e: &ApiError, encoding: Encoding) -> Response<Body> {
    let encoding = if encoding == Encoding::Yaml {
        Encoding::Json { pretty: false }
    } else {
        encoding
    };
    let mut r = respond_value(e.code, &e.status(), encoding);
    if let Some(secs) = e.retry_after
        && let Ok(v) = secs.to_string().parse()
    {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

pub fn plain(code: u16, text: &str) -> Response<Body> {
    respond(code, "text/plain; charset=utf-8", Bytes::from(text.to_string()))
}

/// Everything a resource handler needs about one request.
pub struct Ctx {
    pub method: Method,
    pub path: ResourcePath,
    pub info: &'static ResourceInfo,
    pub query: Query,
    pub output: Output,
    pub headers: HeaderMap,
    pub user: User,
    pub body: Bytes,
    /// `Warning` headers for the response.
    pub warnings: std::sync::Mutex<Vec<String>>,
}

impl Ctx {
    pub fn content_type(&self) -> Option<&str> {
        self.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok())
    }
    pub fn api_version(&self) -> String {
        self.info.api_version(&self.path.version)
    }
    pub fn namespace(&self) -> Option<&str> {
        self.path.namespace.as_deref()
    }
    pub fn dry_run(&self) -> bool {
        self.query.get("dryRun") == Some("All")
    }
    pub fn warn(&self, text: String) {
        if let Ok(mut w) = self.warnings.lock()
            && !w.contains(&text)
        {
            w.push(text);
        }
    }
    /// Adds the collected warnings as `Warning: 299 - "<text>"` headers.
    pub fn with_warnings(&self, mut resp: Response<Body>) -> Response<Body> {
        let warnings = self.warnings.lock().map(|w| w.clone()).unwrap_or_default();
        for w in warnings {
            let escaped = w.replace('\\', "\\\\").replace('"', "\\\"");
            if let Ok(v) = format!("299 - \"{escaped}\"").parse() {
                resp.headers_mut().append(header::WARNING, v);
            }
        }
        resp
    }
}

fn wants_pretty(headers: &HeaderMap, query: &Query) -> bool {
    match query.get("pretty") {
        Some(_) if query.flag("pretty") => true,
        Some(_) => false,
        None => headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ua| ua.starts_with("curl") || ua.starts_with("Wget") || ua.starts_with("Mozilla/5.0")),
    }
}

/// The entry point for every request.
pub async fn handle(
    api: Arc<Api>,
    peer: Arc<crate::auth::PeerIdentity>,
    req: Request<hyper::body::Incoming>,
) -> Response<Body> {
    let query = Query::parse(req.uri().query());
    let pretty = wants_pretty(req.headers(), &query);
    let json = Encoding::Json { pretty };
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let started = std::time::Instant::now();
    let resp = match route(api, &peer, req, query, pretty).await {
        Ok(r) => r,
        Err(e) => error_response(&e, json),
    };
    tracing::debug!(%method, %path, status = resp.status().as_u16(), elapsed_us = started.elapsed().as_micros() as u64, "request");
    resp
}

async fn read_body(body: hyper::body::Incoming) -> ApiResult<Bytes> {
    match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => Ok(b.to_bytes()),
        Err(e) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => {
            Err(ApiError::too_large_body(MAX_BODY))
        }
        Err(e) => Err(ApiError::bad_request(format!("reading request body: {e}"))),
    }
}

async fn route(
    api: Arc<Api>,
    peer: &crate::auth::PeerIdentity,
    req: Request<hyper::body::Incoming>,
    query: Query,
    pretty: bool,
) -> ApiResult<Response<Body>> {
    let (parts, body) = req.into_parts();
    let authorization = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let user = api.auth.authenticate(&api, peer, authorization).await?;
    let user = impersonate::apply(&api, user, &parts.headers)?;
    let path = parts.uri.path();
    let api_path = request::parse_path(path);
    match &api_path {
        Some(ApiPath::Resource(rp)) => {
            authorize::check(&api, &authorize::resource_attributes(&user, &parts.method, rp, &query))?
        }
        _ => authorize::check(&api, &authorize::path_attributes(&user, &parts.method, path))?,
    }
    if let Some(resp) = system::serve(&api, &parts, &query).await {
        return Ok(resp);
    }
    let accept = parts.headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let Some(api_path) = api_path else {
        return Ok(plain(404, "404 page not found\n"));
    };
    let aggregated = match &api_path {
        ApiPath::Resource(ResourcePath { group, version, .. }) | ApiPath::GroupVersion { group, version }
            if !discovery::group_version_exists(group, version) =>
        {
            crate::aggregator::remote_service(&api, group, version)
        }
        _ => None,
    };
    if let Some(svc) = aggregated {
        return crate::aggregator::proxy::forward(&api, &svc, parts, body, &user).await;
    }
    let rp = match api_path {
        ApiPath::Resource(rp) => rp,
        other => return discovery::serve(&api, &other, accept, pretty),
    };
    if !discovery::group_version_exists(&rp.group, &rp.version) {
        return Ok(plain(404, "404 page not found\n"));
    }
    let info = resources::find(&rp.group, &rp.version, &rp.resource).ok_or_else(ApiError::not_found_path)?;
    if rp.namespace.is_some() && !info.namespaced {
        return Err(ApiError::not_found_path());
    }
    if kubelet_proxy::handles(&rp) {
        return kubelet_proxy::serve(&api, parts, body, &rp, &query).await;
    }
    if pod_proxy::handles(&rp) {
        return pod_proxy::serve(&api, parts, body, &rp).await;
    }
    let output = negotiate::negotiate(accept, pretty)?;
    let body = read_body(body).await?;
    let ctx = Ctx {
        warnings: Default::default(),
        method: parts.method,
        path: rp,
        info,
        query,
        output,
        headers: parts.headers,
        user,
        body,
    };
    rest::dispatch(&api, ctx).await
}
