//! Discovery: the legacy documents (/api, /apis, group and group-version resource lists)
//! and aggregated discovery (apidiscovery.k8s.io/v2) that kubectl 1.30+ asks for. Groups of
//! remote APIServices join `/apis` in priority order (their group/version documents are
//! served by the remote servers themselves, through the aggregator).

use super::request::ApiPath;
use super::{Body, negotiate, plain, respond, respond_value};
use crate::aggregator::{self, RemoteGroup};
use crate::errors::{ApiError, ApiResult};
use crate::registry::resources::{RESOURCES, ResourceInfo, group_versions};
use crate::state::Api;
use bytes::Bytes;
use http::Response;
use serde_json::{Value, json};
use sha2::{Digest, Sha256, Sha512};
use std::sync::LazyLock;

const AGGREGATED_V2: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

pub fn group_version_exists(group: &str, version: &str) -> bool {
    group_versions()
        .iter()
        .any(|(g, vs)| *g == group && vs.contains(&version))
}

fn wants_aggregated(accept: Option<&str>) -> bool {
    accept.unwrap_or_default().split(',').any(|m| {
        let m = m.replace(' ', "");
        m.contains("as=APIGroupDiscoveryList")
            && m.contains("g=apidiscovery.k8s.io")
            && m.contains("v=v2")
            && !m.contains("v=v2beta1")
    })
}

pub fn serve(api: &Api, path: &ApiPath, accept: Option<&str>, pretty: bool) -> ApiResult<Response<Body>> {
    let enc = negotiate::Encoding::Json { pretty };
    let remote = || aggregator::remote_groups(api);
    match path {
        ApiPath::CoreGroups if wants_aggregated(accept) => Ok(aggregated(&AGG_CORE)),
        ApiPath::Groups if wants_aggregated(accept) => match remote() {
            groups if groups.is_empty() => Ok(aggregated(&AGG_GROUPS)),
            groups => Ok(aggregated(&with_remote_discovery(api, &groups))),
        },
        ApiPath::CoreGroups => Ok(respond_value(
            200,
            &json!({
                "kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": super::system::server_address()}],
            }),
            enc,
        )),
        ApiPath::Groups => Ok(respond_value(200, &group_list(&remote()), enc)),
        ApiPath::Group(g) => match group_versions()
            .into_iter()
            .find(|(name, _)| name == g && !name.is_empty())
        {
            Some((name, versions)) => Ok(respond_value(200, &api_group(name, &versions), enc)),
            None => match remote().into_iter().find(|r| r.name == *g) {
                Some(r) => Ok(respond_value(200, &api_group(&r.name, &r.versions), enc)),
                None => Ok(plain(404, "404 page not found\n")),
            },
        },
        ApiPath::GroupVersion { group, version } => {
            if !group_version_exists(group, version) {
                return Ok(plain(404, "404 page not found\n"));
            }
            Ok(respond_value(200, &resource_list(group, version), enc))
        }
        ApiPath::Resource(_) => Err(ApiError::not_found_path()),
    }
}

fn gv_string(group: &str, version: &str) -> String {
    if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    }
}

fn api_group(name: &str, versions: &[impl AsRef<str>]) -> Value {
    let vs: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": gv_string(name, v.as_ref()), "version": v.as_ref()}))
        .collect();
    json!({"kind": "APIGroup", "apiVersion": "v1", "name": name, "versions": vs, "preferredVersion": vs[0]})
}

fn group_list(remote: &[RemoteGroup]) -> Value {
    let local = group_versions()
        .into_iter()
        .filter(|(g, _)| !g.is_empty())
        .map(|(g, vs)| (aggregator::local::group_priority(g), api_group(g, &vs)));
    let remote = remote.iter().map(|r| (r.priority, api_group(&r.name, &r.versions)));
    let groups: Vec<Value> = by_priority(local.chain(remote).collect())
        .into_iter()
        .map(|mut grp| {
            if let Some(m) = grp.as_object_mut() {
                m.remove("kind");
                m.remove("apiVersion");
            }
            grp
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// Highest group priority first; equal priorities keep their order (built-in groups first).
fn by_priority(mut groups: Vec<(i64, Value)>) -> Vec<Value> {
    groups.sort_by_key(|g| std::cmp::Reverse(g.0));
    groups.into_iter().map(|(_, g)| g).collect()
}

/// upstream's storageVersionHash: base64 of the first 8 bytes of sha256("group/version/kind").
fn storage_version_hash(info: &ResourceInfo) -> String {
    use base64::Engine;
    let digest = Sha256::digest(format!("{}/{}/{}", info.group, info.storage_version(), info.kind).as_bytes());
    base64::engine::general_purpose::STANDARD.encode(&digest[..8])
}

fn resources_in(group: &str, version: &str) -> impl Iterator<Item = &'static ResourceInfo> {
    let (group, version) = (group.to_string(), version.to_string());
    RESOURCES
        .iter()
        .filter(move |r| r.group == group && r.versions.contains(&version.as_str()))
}

fn resource_list(group: &str, version: &str) -> Value {
    let mut out = Vec::new();
    for r in resources_in(group, version) {
        let mut entry = json!({"name": r.resource, "singularName": r.singular, "namespaced": r.namespaced, "kind": r.kind, "verbs": r.verbs});
        if !r.short_names.is_empty() {
            entry["shortNames"] = json!(r.short_names);
        }
        if !r.categories.is_empty() {
            entry["categories"] = json!(r.categories);
        }
        if !r.virtual_resource {
            entry["storageVersionHash"] = json!(storage_version_hash(r));
        }
        out.push(entry);
        for s in r.subresources {
            let mut sub = json!({"name": format!("{}/{}", r.resource, s.name), "singularName": "", "namespaced": r.namespaced,
                                 "kind": s.response.map(|x| x.2).unwrap_or(r.kind), "verbs": s.verbs});
            if let Some((g, v, _)) = s.response {
                sub["group"] = json!(g);
                sub["version"] = json!(v);
            }
            out.push(sub);
        }
    }
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv_string(group, version), "resources": out})
}

fn discovery_resource(r: &ResourceInfo) -> Value {
    let mut entry = json!({
        "resource": r.resource,
        "responseKind": {"group": "", "version": "", "kind": r.kind},
        "scope": if r.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": r.singular,
        "verbs": r.verbs,
    });
    if !r.short_names.is_empty() {
        entry["shortNames"] = json!(r.short_names);
    }
    if !r.categories.is_empty() {
        entry["categories"] = json!(r.categories);
    }
    let subs: Vec<Value> = r
        .subresources
        .iter()
        .map(|s| {
            let (g, v, k) = s.response.unwrap_or(("", "", r.kind));
            json!({"subresource": s.name, "responseKind": {"group": g, "version": v, "kind": k}, "verbs": s.verbs})
        })
        .collect();
    if !subs.is_empty() {
        entry["subresources"] = Value::Array(subs);
    }
    entry
}

fn discovery_items(core: bool) -> Vec<Value> {
    group_versions()
        .into_iter()
        .filter(|(g, _)| g.is_empty() == core)
        .map(|(g, versions)| {
            let vs: Vec<Value> = versions
                .iter()
                .map(|v| json!({"version": v, "resources": resources_in(g, v).map(discovery_resource).collect::<Vec<_>>(), "freshness": "Current"}))
                .collect();
            let metadata = if g.is_empty() { json!({"creationTimestamp": null}) } else { json!({"name": g, "creationTimestamp": null}) };
            json!({"metadata": metadata, "versions": vs})
        })
        .collect()
}

fn discovery_list(items: Vec<Value>) -> (Bytes, String) {
    let doc = json!({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items});
    let bytes = negotiate::json_bytes(&doc, false);
    let etag = format!("\"{}\"", hex_upper(&Sha512::digest(&bytes)));
    (bytes, etag)
}

pub fn hex_upper(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

static AGG_CORE: LazyLock<(Bytes, String)> = LazyLock::new(|| discovery_list(discovery_items(true)));
/// The built-in groups' aggregated entries, built once.
static GROUP_ITEMS: LazyLock<Vec<Value>> = LazyLock::new(|| discovery_items(false));
static AGG_GROUPS: LazyLock<(Bytes, String)> = LazyLock::new(|| discovery_list(GROUP_ITEMS.clone()));

/// The aggregated `/apis` document with the remote groups whose servers answered their
/// last availability check.
fn with_remote_discovery(api: &Api, remote: &[RemoteGroup]) -> (Bytes, String) {
    let local = GROUP_ITEMS.iter().cloned().map(|item| {
        let group = item["metadata"]["name"].as_str().unwrap_or_default();
        (aggregator::local::group_priority(group), item)
    });
    let remote = remote.iter().filter_map(|r| {
        let versions: Vec<Value> = r
            .versions
            .iter()
            .filter_map(|v| {
                let doc = api
                    .aggregator
                    .remote(&aggregator::local::api_service_name(&r.name, v))?;
                Some(remote_version(v, &doc.resources))
            })
            .collect();
        (!versions.is_empty()).then(|| {
            (
                r.priority,
                json!({"metadata": {"name": r.name, "creationTimestamp": null}, "versions": versions}),
            )
        })
    });
    discovery_list(by_priority(local.chain(remote).collect()))
}

/// A remote server's APIResourceList in the aggregated (v2) form.
fn remote_version(version: &str, list: &Value) -> Value {
    let resources = list["resources"].as_array().map_or(&[][..], Vec::as_slice);
    let kind_of = |r: &Value| {
        json!({"group": r["group"].as_str().unwrap_or_default(), "version": r["version"].as_str().unwrap_or_default(),
               "kind": r["kind"].as_str().unwrap_or_default()})
    };
    let out: Vec<Value> = resources
        .iter()
        .filter(|r| !r["name"].as_str().unwrap_or_default().contains('/'))
        .map(|r| {
            let name = r["name"].as_str().unwrap_or_default();
            let mut entry = json!({
                "resource": name,
                "responseKind": kind_of(r),
                "scope": if r["namespaced"] == true { "Namespaced" } else { "Cluster" },
                "singularResource": r["singularName"].as_str().unwrap_or_default(),
                "verbs": r["verbs"].clone(),
            });
            for key in ["shortNames", "categories"] {
                if r[key].as_array().is_some_and(|a| !a.is_empty()) {
                    entry[key] = r[key].clone();
                }
            }
            let subs: Vec<Value> = resources
                .iter()
                .filter_map(|s| {
                    let sub = s["name"].as_str()?.strip_prefix(name)?.strip_prefix('/')?;
                    Some(json!({"subresource": sub, "responseKind": kind_of(s), "verbs": s["verbs"].clone()}))
                })
                .collect();
            if !subs.is_empty() {
                entry["subresources"] = Value::Array(subs);
            }
            entry
        })
        .collect();
    json!({"version": version, "resources": out, "freshness": "Current"})
}

fn aggregated(doc: &(Bytes, String)) -> Response<Body> {
    let mut r = respond(200, AGGREGATED_V2, doc.0.clone());
    let h = r.headers_mut();
    if let Ok(v) = doc.1.parse() {
        h.insert(http::header::ETAG, v);
    }
    h.insert(http::header::VARY, http::HeaderValue::from_static("Accept"));
    h.insert(http::header::CACHE_CONTROL, http::HeaderValue::from_static("public"));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_have_upstream_shape() {
        let core = resource_list("", "v1");
        let pods = core["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == "pods")
            .unwrap();
        assert_eq!(pods["shortNames"], json!(["po"]));
        assert_eq!(pods["categories"], json!(["all"]));
        let eviction = core["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == "pods/eviction")
            .unwrap();
        assert_eq!(
            (eviction["group"].as_str(), eviction["kind"].as_str()),
            (Some("policy"), Some("Eviction"))
        );
        let groups = group_list(&[]);
        assert_eq!(groups["groups"][0]["name"], "apiregistration.k8s.io");
        assert_eq!(groups["groups"][1]["name"], "apps");
        let remote = RemoteGroup {
            name: "metrics.k8s.io".into(),
            versions: vec!["v1beta1".into()],
            priority: 100,
        };
        let groups = group_list(std::slice::from_ref(&remote));
        let names: Vec<&str> = groups["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["name"].as_str().unwrap())
            .collect();
        assert_eq!(names.last(), Some(&"metrics.k8s.io"));
        let first = RemoteGroup {
            priority: 20000,
            ..remote
        };
        assert_eq!(group_list(&[first])["groups"][0]["name"], "metrics.k8s.io");
        let agg: Value = serde_json::from_slice(&AGG_GROUPS.0).unwrap();
        let autoscaling = agg["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["metadata"]["name"] == "autoscaling")
            .unwrap();
        assert_eq!(autoscaling["versions"][0]["version"], "v2");
        assert!(wants_aggregated(Some(
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
        )));
        assert!(!wants_aggregated(Some("application/json")));
    }
}
