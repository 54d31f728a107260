//! Non-resource paths: /version, /healthz, /livez, /readyz (with `?verbose`, `?exclude=`
//! and per-check subpaths), and the OpenAPI documents.

use super::request::Query;
use super::{Body, negotiate, plain, respond_value};
use crate::state::Api;
use http::{Method, Response};
use serde_json::json;
use std::sync::OnceLock;

pub const GIT_VERSION: &str = "v1.33.0+rs";
static SERVER_ADDRESS: OnceLock<String> = OnceLock::new();

/// Records `<advertise-address>:<port>` for discovery documents.
pub fn set_server_address(addr: String) {
    let _ = SERVER_ADDRESS.set(addr);
}

pub fn server_address() -> String {
    SERVER_ADDRESS.get().cloned().unwrap_or_default()
}

pub fn version_info() -> serde_json::Value {
    json!({
        "major": "1", "minor": "33", "emulationMajor": "1", "emulationMinor": "33",
        "minCompatibilityMajor": "1", "minCompatibilityMinor": "32",
        "gitVersion": GIT_VERSION, "gitCommit": env!("CARGO_PKG_VERSION"), "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z", "goVersion": "rust", "compiler": "rustc",
        "platform": format!("{}/{}", std::env::consts::OS, if cfg!(target_arch = "x86_64") { "amd64" } else { std::env::consts::ARCH }),
    })
}

/// Serves a non-resource path, or returns None for paths under /api and /apis.
pub async fn serve(api: &Api, req: &http::request::Parts, query: &Query) -> Option<Response<Body>> {
    let (method, path) = (&req.method, req.uri.path());
    if method != Method::GET && method != Method::HEAD {
        return None;
    }
    if path == "/openapi/v2" || path.starts_with("/openapi/v3") {
        return Some(openapi(req, path, query));
    }
    match path {
        "/version" | "/version/" => Some(respond_value(
            200,
            &version_info(),
            negotiate::Encoding::Json { pretty: true },
        )),
        "/healthz" | "/livez" | "/readyz" => Some(health(api, &path[1..], None, query).await),
        "/.well-known/openid-configuration" => {
            let sa = api.auth.service_accounts.as_ref()?;
            Some(respond_value(
                200,
                &sa.openid_configuration(),
                negotiate::Encoding::Json { pretty: false },
            ))
        }
        "/openid/v1/jwks" => {
            let sa = api.auth.service_accounts.as_ref()?;
            let (_, body) = negotiate::encode(&sa.jwks(), negotiate::Encoding::Json { pretty: false });
            Some(super::respond(200, "application/jwk-set+json", body))
        }
        _ => {
            for root in ["/healthz/", "/livez/", "/readyz/"] {
                if let Some(check) = path.strip_prefix(root) {
                    return Some(health(api, &root[1..root.len() - 1], Some(check), query).await);
                }
            }
            None
        }
    }
}

async fn checks(api: &Api, endpoint: &str) -> Vec<(&'static str, bool)> {
    let etcd = api.backend.current_revision().await.is_ok();
    let mut list = vec![
        ("ping", true),
        ("log", true),
        ("etcd", etcd),
        ("poststarthook/start-apiserver-admission-initializer", true),
        ("poststarthook/generic-apiserver-start-informers", true),
        ("poststarthook/bootstrap-controller", true),
        ("poststarthook/start-system-namespaces-controller", true),
    ];
    if endpoint == "readyz" {
        list.insert(3, ("etcd-readiness", etcd));
        list.insert(4, ("informer-sync", api.caches_synced()));
        list.push(("shutdown", true));
    }
    list
}

async fn health(api: &Api, endpoint: &str, only: Option<&str>, query: &Query) -> Response<Body> {
    let all = checks(api, endpoint).await;
    if let Some(name) = only {
        return match all.iter().find(|(n, _)| *n == name) {
            Some((_, true)) => plain(200, "ok"),
            Some((n, false)) => plain(500, &format!("internal server error: {n} failed\n")),
            None => plain(404, "404 page not found\n"),
        };
    }
    let excluded: Vec<String> = query
        .get("exclude")
        .map(|e| e.split(',').map(String::from).collect())
        .unwrap_or_default();
    let mut text = String::new();
    let mut ok = true;
    for (name, pass) in &all {
        if excluded.iter().any(|e| e == name) {
            text.push_str(&format!("[+]{name} excluded: ok\n"));
        } else if *pass {
            text.push_str(&format!("[+]{name} ok\n"));
        } else {
            ok = false;
            text.push_str(&format!("[-]{name} failed: reason withheld\n"));
        }
    }
    if ok {
        if query.has("verbose") {
            text.push_str(&format!("{endpoint} check passed\n"));
            plain(200, &text)
        } else {
            plain(200, "ok")
        }
    } else {
        text.push_str(&format!("{endpoint} check failed\n"));
        plain(500, &text)
    }
}

/// The OpenAPI documents, with upstream's caching headers: a v3 document asked for by its
/// current hash is immutable; a stale hash is redirected to the current one.
fn openapi(req: &http::request::Parts, path: &str, query: &Query) -> Response<Body> {
    use http::header;
    let if_none_match = req.headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok());
    let with_etag = |mut r: Response<Body>, etag: &str| {
        if let Ok(v) = format!("\"{etag}\"").parse() {
            r.headers_mut().insert(header::ETAG, v);
        }
        r
    };
    let not_modified = |etag: &str| if_none_match.is_some_and(|v| v.trim_matches('"') == etag);
    if path == "/openapi/v2" {
        let accept = req
            .headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let json_ok = accept.is_empty()
            || accept.split(',').any(|a| {
                matches!(
                    a.split(';').next().unwrap_or_default().trim(),
                    "application/json" | "*/*"
                )
            });
        if !json_ok {
            return super::respond(406, "text/plain", bytes::Bytes::new());
        }
        let doc = crate::openapi::v2_document();
        if not_modified(&doc.hash) {
            return with_etag(super::respond(304, "application/json", bytes::Bytes::new()), &doc.hash);
        }
        return with_etag(
            super::respond(200, "application/json", bytes::Bytes::from_static(doc.json.as_slice())),
            &doc.hash,
        );
    }
    let rest = path.trim_start_matches("/openapi/v3").trim_matches('/');
    if rest.is_empty() {
        let index = crate::openapi::v3_index();
        return respond_value(200, index, negotiate::Encoding::Json { pretty: false });
    }
    let Some(doc) = crate::openapi::v3_document(rest) else {
        return plain(404, "404 page not found\n");
    };
    match query.get("hash") {
        Some(h) if h != doc.hash => {
            let mut r = super::respond(301, "text/plain", bytes::Bytes::new());
            if let Ok(v) = format!("/openapi/v3/{rest}?hash={}", doc.hash).parse() {
                r.headers_mut().insert(header::LOCATION, v);
            }
            r
        }
        hash => {
            if not_modified(&doc.hash) {
                return with_etag(super::respond(304, "application/json", bytes::Bytes::new()), &doc.hash);
            }
            let mut r = with_etag(
                super::respond(200, "application/json", bytes::Bytes::from_static(doc.json.as_slice())),
                &doc.hash,
            );
            let h = r.headers_mut();
            h.insert(header::VARY, http::HeaderValue::from_static("Accept"));
            if hash.is_some() {
                h.insert(
                    header::CACHE_CONTROL,
                    http::HeaderValue::from_static("public, immutable"),
                );
                let expires = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * 365);
                if let Ok(v) = expires.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string().parse() {
                    h.insert(header::EXPIRES, v);
                }
            }
            r
        }
    }
}
