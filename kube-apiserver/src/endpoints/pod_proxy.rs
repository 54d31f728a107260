//! `pods/[SCHEME:]NAME[:PORT]/proxy/PATH` and `services/[SCHEME:]NAME[:PORT]/proxy/PATH`:
//! a request passed to a pod's IP, or to a ready endpoint of a service that is a pod, over
//! HTTP (or HTTPS without verifying the certificate), as upstream's pod and service
//! `ResourceLocation`s choose them. Only global unicast addresses are proxied.

use super::Body;
use super::kubelet_proxy::{Location, kubelet_request, proxied_path};
use super::request::ResourcePath;
use crate::aggregator::proxy::{DROPPED, NoVerification, SendError, send_plain, send_tls};
use crate::errors::{ApiError, ApiResult};
use crate::state::Api;
use http::Response;
use http_body_util::BodyExt;
use rustls_pki_types::ServerName;
use serde_json::Value;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};

pub fn handles(rp: &ResourcePath) -> bool {
    rp.group.is_empty()
        && rp.name.is_some()
        && rp.subresource.as_deref() == Some("proxy")
        && matches!(rp.resource.as_str(), "pods" | "services")
}

/// `[scheme:]name[:port]` (upstream's SplitSchemeNamePort).
fn split_id(id: &str) -> ApiResult<(&str, &str, &str)> {
    let parts: Vec<&str> = id.split(':').collect();
    let (scheme, name, port) = match parts.as_slice() {
        [name] => ("", *name, ""),
        [name, port] => ("", *name, *port),
        [scheme, name, port] if matches!(*scheme, "http" | "https") => (*scheme, *name, *port),
        _ => return Err(ApiError::bad_request(format!("invalid request {id:?}"))),
    };
    if name.is_empty() {
        return Err(ApiError::bad_request(format!("invalid request {id:?}")));
    }
    Ok((scheme, name, port))
}

/// Upstream's IsProxyableIP: global unicast addresses only.
fn proxyable(ip: &str) -> ApiResult<IpAddr> {
    let not_allowed = || ApiError::bad_request("address not allowed");
    let addr: IpAddr = ip.parse().map_err(|_| not_allowed())?;
    let global = match addr {
        IpAddr::V4(a) => {
            !(a.is_loopback() || a.is_link_local() || a.is_multicast() || a.is_unspecified() || a.is_broadcast())
        }
        IpAddr::V6(a) => !(a.is_loopback() || a.is_multicast() || a.is_unspecified() || a.is_unicast_link_local()),
    };
    if !global {
        return Err(not_allowed());
    }
    Ok(addr)
}

fn join(ip: IpAddr, port: &str) -> String {
    match (ip, port) {
        (IpAddr::V6(a), "") => format!("[{a}]:80"),
        (IpAddr::V6(a), p) => format!("[{a}]:{p}"),
        (a, "") => format!("{a}:80"),
        (a, p) => format!("{a}:{p}"),
    }
}

/// The pod's address: its IP and the port asked for, else its first container port.
async fn pod_location(api: &Api, ns: &str, name: &str, port: &str) -> ApiResult<String> {
    let pods = api
        .store_named("", "pods")
        .ok_or_else(|| ApiError::internal("no pod storage"))?;
    let pod = pods.get(Some(ns), name).await?;
    let first_port = || {
        pod["spec"]["containers"]
            .as_array()
            .into_iter()
            .flatten()
            .find_map(|c| {
                c["ports"].as_array()?.first()?["containerPort"]
                    .as_i64()
                    .map(|p| p.to_string())
            })
    };
    let port = if port.is_empty() {
        first_port().unwrap_or_default()
    } else {
        port.to_string()
    };
    let ip = proxyable(pod["status"]["podIP"].as_str().unwrap_or_default())?;
    Ok(join(ip, &port))
}

/// A ready endpoint address of the service for the port asked for (by name, or by number
/// through the service's ports), that belongs to a pod with that IP.
async fn service_location(api: &Api, ns: &str, name: &str, port: &str) -> ApiResult<String> {
    let services = api
        .store_named("", "services")
        .ok_or_else(|| ApiError::internal("no service storage"))?;
    let svc = services.get(Some(ns), name).await?;
    let unavailable = |m: String| ApiError::new(503, "ServiceUnavailable", m);
    let mut port_name = port.to_string();
    if let Ok(n) = port.parse::<i64>() {
        let declared = svc["spec"]["ports"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["port"].as_i64() == Some(n));
        match declared {
            Some(p) => port_name = p["name"].as_str().unwrap_or_default().to_string(),
            None => return Err(unavailable(format!("no service port {n} found for service {name:?}"))),
        }
    }
    let endpoints = api
        .store_named("", "endpoints")
        .ok_or_else(|| ApiError::internal("no endpoints storage"))?
        .get(Some(ns), name)
        .await?;
    let pods = api
        .store_named("", "pods")
        .ok_or_else(|| ApiError::internal("no pod storage"))?;
    for subset in endpoints["subsets"].as_array().into_iter().flatten() {
        let Some(p) = subset["ports"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["name"].as_str().unwrap_or_default() == port_name)
        else {
            continue;
        };
        let port = p["port"].as_i64().unwrap_or_default().to_string();
        for addr in subset["addresses"].as_array().into_iter().flatten() {
            if is_pod_address(pods, addr).await
                && let Ok(ip) = proxyable(addr["ip"].as_str().unwrap_or_default())
            {
                return Ok(join(ip, &port));
            }
        }
    }
    Err(unavailable(format!("no endpoints available for service {name:?}")))
}

/// Upstream proxies only to endpoint addresses that are pods with that IP.
async fn is_pod_address(pods: &crate::registry::store::Store, addr: &Value) -> bool {
    let target = &addr["targetRef"];
    if target["kind"] != "Pod" {
        return false;
    }
    let (ns, name) = (
        target["namespace"].as_str().unwrap_or_default(),
        target["name"].as_str().unwrap_or_default(),
    );
    let Ok(pod) = pods.get(Some(ns), name).await else {
        return false;
    };
    let ip = &addr["ip"];
    pod["status"]["podIP"] == *ip
        || pod["status"]["podIPs"]
            .as_array()
            .is_some_and(|ips| ips.iter().any(|i| i["ip"] == *ip))
}

/// Proxies one request to the pod or service the path names.
pub async fn serve(
    api: &Api,
    parts: http::request::Parts,
    body: hyper::body::Incoming,
    rp: &ResourcePath,
) -> ApiResult<Response<Body>> {
    let ns = rp.namespace.as_deref().unwrap_or("default");
    let (scheme, name, port) = split_id(rp.name.as_deref().unwrap_or_default())?;
    let addr = if rp.resource == "pods" {
        pod_location(api, ns, name, port).await?
    } else {
        service_location(api, ns, name, port).await?
    };
    let host = addr.rsplit_once(':').map_or(addr.as_str(), |(h, _)| h);
    let location = Location {
        host: host.trim_matches(['[', ']']).to_string(),
        path_and_query: proxied_path(&parts.uri, &rp.resource),
        addr: addr.clone(),
    };
    let req = kubelet_request(&parts, body.map_err(std::io::Error::other).boxed(), &location, false)?;
    let sent = if scheme == "https" {
        let name = ServerName::try_from(location.host.clone()).map_err(|e| ApiError::bad_request(e.to_string()))?;
        send_tls(insecure_tls()?, &addr, name, req).await
    } else {
        send_plain(&addr, req).await
    };
    let resp = sent.map_err(|e| match e {
        SendError::Dial(m) => ApiError::new(503, "ServiceUnavailable", format!("error trying to reach service: {m}")),
        SendError::Http(m) => ApiError::new(503, "ServiceUnavailable", format!("error trying to reach service: {m}")),
    })?;
    let (mut head, body) = resp.into_parts();
    for h in DROPPED {
        head.headers.remove(*h);
    }
    Ok(Response::from_parts(head, body.map_err(std::io::Error::other).boxed()))
}

/// Pods and services are reached over TLS without verifying their certificates, as upstream's
/// proxy transport does.
fn insecure_tls() -> ApiResult<Arc<rustls::ClientConfig>> {
    static CONFIG: OnceLock<Option<Arc<rustls::ClientConfig>>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
            let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
                .with_safe_default_protocol_versions()
                .ok()?;
            let verifier = Arc::new(NoVerification(provider));
            Some(Arc::new(
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(verifier)
                    .with_no_client_auth(),
            ))
        })
        .clone()
        .ok_or_else(|| ApiError::internal("no TLS configuration for proxying"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_addresses() {
        assert_eq!(split_id("web").ok(), Some(("", "web", "")));
        assert_eq!(split_id("web:8080").ok(), Some(("", "web", "8080")));
        assert_eq!(split_id("https:web:443").ok(), Some(("https", "web", "443")));
        assert!(split_id("a:b:c:d").is_err());
        assert!(proxyable("127.0.0.1").is_err());
        assert!(proxyable("169.254.1.1").is_err());
        assert!(proxyable("").is_err());
        assert!(proxyable("10.1.2.3").is_ok());
        assert_eq!(join("10.1.2.3".parse().unwrap(), ""), "10.1.2.3:80");
        assert_eq!(join("fd00::1".parse().unwrap(), "8080"), "[fd00::1]:8080");
    }
}
