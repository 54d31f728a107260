//! The availability controller: sets each APIService's `Available` condition (Local ones are
//! always available; a remote one must resolve to an address and answer its discovery
//! document), and keeps the discovery documents of the remote ones for `/apis`.

use super::proxy::{Target, resolve};
use super::{GROUP, RESOURCE, Remote};
use crate::auth::User;
use crate::registry::meta;
use crate::registry::store::WriteOptions;
use crate::state::Api;
use http::Request;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

const DISCOVERY_TIMEOUT: Duration = Duration::from_secs(5);
/// How often every APIService is checked when nothing changed.
const RECHECK: Duration = Duration::from_secs(30);
/// ... and while one of them is failing.
const RECHECK_FAILING: Duration = Duration::from_secs(5);

/// The `Available` condition's status, reason and message.
#[derive(Debug, Clone, PartialEq)]
struct Availability {
    status: &'static str,
    reason: String,
    message: String,
}

impl Availability {
    fn new(status: &'static str, reason: &str, message: String) -> Availability {
        Availability {
            status,
            reason: reason.to_string(),
            message,
        }
    }
}

/// Checks every APIService whenever APIServices, Services or Endpoints change, and
/// periodically otherwise.
pub fn spawn(api: Arc<Api>) {
    tokio::spawn(async move {
        let revision = |group: &str, resource: &str| api.store_named(group, resource).map(|s| s.cacher.revision());
        let mut seen = None;
        let mut checked = Instant::now();
        let mut failing = false;
        loop {
            let now = (
                revision(GROUP, RESOURCE),
                revision("", "services"),
                revision("", "endpoints"),
            );
            let every = if failing { RECHECK_FAILING } else { RECHECK };
            if seen != Some(now) || checked.elapsed() >= every {
                seen = Some(now);
                checked = Instant::now();
                failing = check_all(&api).await;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
}

/// Checks each APIService; true when some remote one is unavailable.
async fn check_all(api: &Arc<Api>) -> bool {
    let mut failing = false;
    for svc in super::api_services(api) {
        let name = meta::name(&svc).to_string();
        let (availability, remote) = check(api, &svc).await;
        failing |= availability.status != "True";
        api.aggregator.set_remote(&name, remote);
        if let Err(e) = record(api, &svc, &availability).await {
            tracing::warn!(apiservice = %name, error = %e, "updating APIService status");
        }
    }
    failing
}

async fn check(api: &Api, svc: &Value) -> (Availability, Option<Remote>) {
    if !svc.pointer("/spec/service").is_some_and(Value::is_object) {
        let message = "Local APIServices are always available".to_string();
        return (Availability::new("True", "Local", message), None);
    }
    let target = match resolve(api, svc, api.aggregator.config.endpoint_routing) {
        Ok(t) => t,
        Err(u) => return (Availability::new("False", u.reason, u.message), None),
    };
    let path = format!(
        "/apis/{}/{}",
        svc["spec"]["group"].as_str().unwrap_or_default(),
        svc["spec"]["version"].as_str().unwrap_or_default()
    );
    let url = format!("https://{}{path}", target.addr);
    match tokio::time::timeout(DISCOVERY_TIMEOUT, discover(api, svc, &target, &path, &url)).await {
        Ok(Ok(resources)) => (
            Availability::new("True", "Passed", "all checks passed".into()),
            Some(Remote { resources }),
        ),
        Ok(Err(message)) => (Availability::new("False", "FailedDiscoveryCheck", message), None),
        Err(_) => (
            Availability::new(
                "False",
                "FailedDiscoveryCheck",
                format!("failing or missing response from {url}: timeout"),
            ),
            None,
        ),
    }
}

/// GETs the group/version discovery document as the aggregator itself; the error is the
/// condition message.
async fn discover(api: &Api, svc: &Value, target: &Target, path: &str, url: &str) -> Result<Value, String> {
    let failing = |e: &dyn std::fmt::Display| format!("failing or missing response from {url}: {e}");
    let user = User {
        name: "system:kube-aggregator".into(),
        groups: vec!["system:masters".into()],
        ..Default::default()
    };
    let mut req = Request::new(crate::endpoints::full(bytes::Bytes::new()));
    *req.uri_mut() = path.parse().map_err(|e| failing(&e))?;
    let mut headers = http::HeaderMap::new();
    headers.insert(http::header::ACCEPT, http::HeaderValue::from_static("application/json"));
    *req.headers_mut() = super::proxy::forwarded_headers(&headers, &user, target);
    let resp = api
        .aggregator
        .proxy
        .send(svc, target, req)
        .await
        .map_err(|e| failing(&e))?;
    let status = resp.status();
    if !status.is_success() {
        return Err(format!("bad status from {url}: {}", status.as_u16()));
    }
    let body = resp.into_body().collect().await.map_err(|e| failing(&e))?.to_bytes();
    serde_json::from_slice(&body).map_err(|e| failing(&e))
}

/// Writes the condition when it changed; lastTransitionTime moves only with the status.
async fn record(api: &Api, svc: &Value, a: &Availability) -> crate::errors::ApiResult<()> {
    let current = svc["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["type"] == "Available")
        .cloned();
    if let Some(c) = &current
        && c["status"] == a.status
        && c["reason"] == a.reason.as_str()
        && c["message"] == a.message.as_str()
    {
        return Ok(());
    }
    let Some(store) = api.store_named(GROUP, RESOURCE) else {
        return Ok(());
    };
    let since = match &current {
        Some(c) if c["status"] == a.status => c["lastTransitionTime"].clone(),
        _ => json!(meta::now_rfc3339()),
    };
    let condition = json!({"type": "Available", "status": a.status, "lastTransitionTime": since,
                           "reason": a.reason, "message": a.message});
    let opts = WriteOptions {
        subresource: Some("status".into()),
        manager: Some("kube-apiserver".into()),
        ..Default::default()
    };
    let result = store
        .update(None, meta::name(svc), &opts, |mut obj| {
            let conditions = obj["status"]["conditions"].as_array().cloned().unwrap_or_default();
            let mut kept: Vec<Value> = conditions.into_iter().filter(|c| c["type"] != "Available").collect();
            kept.push(condition.clone());
            obj["status"] = json!({"conditions": kept});
            meta::meta_mut(&mut obj).remove("resourceVersion");
            Ok(obj)
        })
        .await;
    match result {
        Err(e) if e.code == 404 => Ok(()),
        other => other.map(|_| ()),
    }
}
