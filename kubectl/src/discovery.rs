//! API discovery as kubectl 1.33 does it: aggregated discovery (apidiscovery.k8s.io/v2 from
//! `/api` and `/apis`, legacy per-group-version fallback), cached on disk in upstream's
//! layout (`<cache>/discovery/<host_port>/servergroups.json` and
//! `<group>/<version>/serverresources.json`, 6 h TTL) so that upstream kubectl and ours share
//! the cache and repeated commands make no discovery requests.

use crate::error::CmdError;
use crate::http;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

const ACCEPT_AGGREGATED: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
const TTL: Duration = Duration::from_secs(6 * 3600);

/// One top-level resource of one group-version.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub name: String,
    pub singular: String,
    pub namespaced: bool,
    pub group: String,
    pub version: String,
    pub kind: String,
    pub verbs: Vec<String>,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
}

impl Resource {
    /// `deployments.apps` (or `pods` for the core group).
    pub fn group_resource(&self) -> String {
        if self.group.is_empty() {
            self.name.clone()
        } else {
            format!("{}.{}", self.name, self.group)
        }
    }

    pub fn group_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The collection path, in `namespace` when namespaced and one is given.
    pub fn path(&self, namespace: Option<&str>) -> String {
        let base = if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        };
        match namespace {
            Some(ns) if self.namespaced => format!("{base}/namespaces/{ns}/{}", self.name),
            _ => format!("{base}/{}", self.name),
        }
    }
}

/// A group and its versions, preferred first.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub name: String,
    pub versions: Vec<String>,
}

/// Everything discovery found: groups in priority order, and per group-version the
/// APIResourceList document (subresources included) as the cache stores it.
#[derive(Debug, Clone, Default)]
pub struct Discovery {
    pub groups: Vec<Group>,
    pub lists: Vec<(String, String, Value)>,
}

impl Discovery {
    /// Top-level resources of every version, groups in priority order, preferred version first.
    pub fn resources(&self) -> Vec<Resource> {
        let mut out = Vec::new();
        for g in &self.groups {
            for v in &g.versions {
                let Some((_, _, list)) = self.lists.iter().find(|(lg, lv, _)| lg == &g.name && lv == v) else {
                    continue;
                };
                for r in list["resources"].as_array().into_iter().flatten() {
                    let name = r["name"].as_str().unwrap_or_default();
                    if name.contains('/') || name.is_empty() {
                        continue;
                    }
                    let strings = |k: &str| -> Vec<String> {
                        r[k].as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|s| s.as_str().map(str::to_string))
                            .collect()
                    };
                    out.push(Resource {
                        name: name.to_string(),
                        singular: r["singularName"].as_str().unwrap_or_default().to_string(),
                        namespaced: r["namespaced"].as_bool().unwrap_or(false),
                        group: g.name.clone(),
                        version: v.clone(),
                        kind: r["kind"].as_str().unwrap_or_default().to_string(),
                        verbs: strings("verbs"),
                        short_names: strings("shortNames"),
                        categories: strings("categories"),
                    });
                }
            }
        }
        out
    }

    /// Only the preferred version of each group.
    pub fn preferred_resources(&self) -> Vec<Resource> {
        self.resources()
            .into_iter()
            .filter(|r| {
                self.groups
                    .iter()
                    .find(|g| g.name == r.group)
                    .is_some_and(|g| g.versions.first() == Some(&r.version))
            })
            .collect()
    }
}

/// The discovery cache directory for a server: `<cache>/discovery/<host_port>`.
pub fn cache_dir(base: &Path, server: &str) -> PathBuf {
    let host = server
        .strip_prefix("https://")
        .or_else(|| server.strip_prefix("http://"))
        .unwrap_or(server);
    let host = host.trim_end_matches('/');
    let safe: String = host
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '/' | '.' | '(' | ')') {
                c
            } else {
                '_'
            }
        })
        .collect();
    base.join("discovery").join(safe)
}

/// `--cache-dir`, else `$KUBECACHEDIR`, else `~/.kube/cache`.
pub fn cache_base(flag: Option<&str>) -> PathBuf {
    if let Some(f) = flag.filter(|f| !f.is_empty()) {
        return PathBuf::from(f);
    }
    if let Some(d) = std::env::var_os("KUBECACHEDIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
    home.join(".kube").join("cache")
}

fn fresh(path: &Path) -> bool {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok())
        .is_some_and(|age| age < TTL)
}

fn read_json(path: &Path) -> Option<Value> {
    let text = std::fs::read(path).ok()?;
    serde_json::from_slice(&text).ok()
}

fn list_path(dir: &Path, group: &str, version: &str) -> PathBuf {
    if group.is_empty() {
        dir.join(version).join("serverresources.json")
    } else {
        dir.join(group).join(version).join("serverresources.json")
    }
}

/// Reads a fresh cache, if every file it needs is there and fresh.
pub fn read_cache(dir: &Path) -> Option<Discovery> {
    let groups_file = dir.join("servergroups.json");
    if !fresh(&groups_file) {
        return None;
    }
    let doc = read_json(&groups_file)?;
    let mut d = Discovery::default();
    for g in doc["groups"].as_array()? {
        let name = g["name"].as_str().unwrap_or_default().to_string();
        let mut versions: Vec<String> = g["versions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v["version"].as_str().map(str::to_string))
            .collect();
        if let Some(p) = g["preferredVersion"]["version"].as_str()
            && let Some(i) = versions.iter().position(|v| v == p)
        {
            let pv = versions.remove(i);
            versions.insert(0, pv);
        }
        for v in &versions {
            let p = list_path(dir, &name, v);
            if !fresh(&p) {
                return None;
            }
            d.lists.push((name.clone(), v.clone(), read_json(&p)?));
        }
        d.groups.push(Group { name, versions });
    }
    Some(d)
}

/// Writes the cache as upstream does (compact JSON and a newline, mode 0660 files).
pub fn write_cache(dir: &Path, d: &Discovery) {
    let groups: Vec<Value> = d
        .groups
        .iter()
        .map(|g| {
            let gv = |v: &str| {
                if g.name.is_empty() {
                    v.to_string()
                } else {
                    format!("{}/{v}", g.name)
                }
            };
            let versions: Vec<Value> = g
                .versions
                .iter()
                .map(|v| json!({"groupVersion": gv(v), "version": v}))
                .collect();
            let preferred = g.versions.first().map(|v| json!({"groupVersion": gv(v), "version": v}));
            json!({"name": g.name, "versions": versions, "preferredVersion": preferred})
        })
        .collect();
    let doc = json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups});
    let _ = write_file(&dir.join("servergroups.json"), &doc);
    for (g, v, list) in &d.lists {
        let _ = write_file(&list_path(dir, g, v), list);
    }
}

fn write_file(path: &Path, doc: &Value) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    if let Some(parent) = path.parent() {
        std::fs::DirBuilder::new().recursive(true).mode(0o750).create(parent)?;
    }
    let mut text = serde_json::to_vec(doc)?;
    text.push(b'\n');
    // Write to a temporary file and rename, so a concurrent reader never sees half a file.
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o660)
        .open(&tmp)?;
    f.write_all(&text)?;
    drop(f);
    std::fs::rename(&tmp, path)
}

/// Asks the server (aggregated discovery, legacy fallback).
pub async fn fetch(client: &kube::Client) -> Result<Discovery, CmdError> {
    let mut d = Discovery::default();
    for root in ["/api", "/apis"] {
        let reply = http::get(client, &format!("{root}?timeout=32s"), ACCEPT_AGGREGATED).await?;
        let doc: Value = serde_json::from_slice(&reply.body).map_err(|e| CmdError::msg(e.to_string()))?;
        if reply.content_type.contains("as=APIGroupDiscoveryList") {
            add_aggregated(&mut d, &doc);
        } else {
            add_legacy(client, &mut d, root, &doc).await?;
        }
    }
    Ok(d)
}

fn add_aggregated(d: &mut Discovery, doc: &Value) {
    for item in doc["items"].as_array().into_iter().flatten() {
        let group = item["metadata"]["name"].as_str().unwrap_or_default().to_string();
        let mut versions = Vec::new();
        for v in item["versions"].as_array().into_iter().flatten() {
            let version = v["version"].as_str().unwrap_or_default().to_string();
            let gv = if group.is_empty() {
                version.clone()
            } else {
                format!("{group}/{version}")
            };
            let mut resources = Vec::new();
            for r in v["resources"].as_array().into_iter().flatten() {
                let name = r["resource"].as_str().unwrap_or_default();
                let singular = r["singularResource"].as_str().unwrap_or_default();
                let namespaced = r["scope"] == "Namespaced";
                let kind = r["responseKind"]["kind"].as_str().unwrap_or_default();
                let mut entry = json!({"name": name, "singularName": singular, "namespaced": namespaced,
                    "kind": kind, "verbs": r["verbs"].clone()});
                add_response_gv(&mut entry, &r["responseKind"], &group, &version);
                if let Some(s) = r["shortNames"].as_array().filter(|s| !s.is_empty()) {
                    entry["shortNames"] = Value::Array(s.clone());
                }
                if let Some(c) = r["categories"].as_array().filter(|c| !c.is_empty()) {
                    entry["categories"] = Value::Array(c.clone());
                }
                if entry["verbs"].is_null() {
                    entry["verbs"] = json!([]);
                }
                resources.push(entry);
                for s in r["subresources"].as_array().into_iter().flatten() {
                    let sub = s["subresource"].as_str().unwrap_or_default();
                    let skind = s["responseKind"]["kind"].as_str().unwrap_or_default();
                    let mut e = json!({"name": format!("{name}/{sub}"), "singularName": singular,
                        "namespaced": namespaced, "kind": skind, "verbs": s["verbs"].clone()});
                    add_response_gv(&mut e, &s["responseKind"], &group, &version);
                    if e["verbs"].is_null() {
                        e["verbs"] = json!([]);
                    }
                    resources.push(e);
                }
            }
            let list =
                json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources});
            d.lists.push((group.clone(), version.clone(), list));
            versions.push(version);
        }
        d.groups.push(Group { name: group, versions });
    }
}

/// Adds `group`/`version` to an entry when its response kind lives in another group-version.
fn add_response_gv(entry: &mut Value, response: &Value, group: &str, version: &str) {
    let rg = response["group"].as_str().unwrap_or_default();
    let rv = response["version"].as_str().unwrap_or_default();
    if (!rg.is_empty() || !rv.is_empty()) && (rg != group || rv != version) {
        // Keep the field order of upstream's cache: name, singularName, namespaced, group, version, kind…
        let mut ordered = serde_json::Map::new();
        if let Some(m) = entry.as_object() {
            for (k, v) in m {
                if k == "kind" {
                    ordered.insert("group".into(), json!(rg));
                    ordered.insert("version".into(), json!(rv));
                }
                ordered.insert(k.clone(), v.clone());
            }
        }
        *entry = Value::Object(ordered);
    }
}

async fn add_legacy(client: &kube::Client, d: &mut Discovery, root: &str, doc: &Value) -> Result<(), CmdError> {
    let groups: Vec<(String, Vec<String>)> = if root == "/api" {
        let versions = doc["versions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
        vec![(String::new(), versions)]
    } else {
        doc["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|g| {
                let name = g["name"].as_str().unwrap_or_default().to_string();
                let mut versions: Vec<String> = g["versions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v["version"].as_str().map(str::to_string))
                    .collect();
                if let Some(p) = g["preferredVersion"]["version"].as_str()
                    && let Some(i) = versions.iter().position(|v| v == p)
                {
                    let pv = versions.remove(i);
                    versions.insert(0, pv);
                }
                (name, versions)
            })
            .collect()
    };
    let mut requests = Vec::new();
    for (g, versions) in &groups {
        for v in versions {
            let path = if g.is_empty() {
                format!("/api/{v}")
            } else {
                format!("/apis/{g}/{v}")
            };
            requests.push((g.clone(), v.clone(), path));
        }
    }
    let fetched = futures::future::join_all(requests.iter().map(|(_, _, path)| async move {
        http::get(client, &format!("{path}?timeout=32s"), "application/json, */*").await
    }))
    .await;
    for ((g, v, _), reply) in requests.into_iter().zip(fetched) {
        let reply = reply?;
        let list: Value = serde_json::from_slice(&reply.body).map_err(|e| CmdError::msg(e.to_string()))?;
        d.lists.push((g, v, list));
    }
    for (name, versions) in groups {
        d.groups.push(Group { name, versions });
    }
    Ok(())
}

/// Discovery from the cache when fresh, else from the server (and the cache is rewritten).
pub async fn load(client: &kube::Client, dir: &Path, refresh: bool) -> Result<Discovery, CmdError> {
    if !refresh && let Some(d) = read_cache(dir) {
        return Ok(d);
    }
    let d = fetch(client).await?;
    write_cache(dir, &d);
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aggregated() -> Value {
        json!({"kind": "APIGroupDiscoveryList", "items": [
            {"metadata": {"name": "apps"}, "versions": [{"version": "v1", "resources": [
                {"resource": "deployments", "responseKind": {"group": "", "version": "", "kind": "Deployment"},
                 "scope": "Namespaced", "singularResource": "deployment", "verbs": ["get", "list"],
                 "shortNames": ["deploy"], "categories": ["all"],
                 "subresources": [{"subresource": "scale", "responseKind": {"group": "autoscaling", "version": "v1", "kind": "Scale"}, "verbs": ["get"]}]}]}]}]})
    }

    #[test]
    fn aggregated_to_resource_lists() {
        let mut d = Discovery::default();
        add_aggregated(&mut d, &aggregated());
        let list = &d.lists[0].2;
        assert_eq!(list["groupVersion"], "apps/v1");
        assert_eq!(list["resources"][1]["name"], "deployments/scale");
        assert_eq!(list["resources"][1]["group"], "autoscaling");
        let text = serde_json::to_string(&list["resources"][1]).unwrap_or_default();
        assert!(text.starts_with(r#"{"name":"deployments/scale","singularName":"deployment","namespaced":true,"group":"autoscaling","version":"v1","kind":"Scale""#), "{text}");
        let r = d.resources();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].short_names, vec!["deploy"]);
        assert_eq!(r[0].path(Some("ns")), "/apis/apps/v1/namespaces/ns/deployments");
    }

    #[test]
    fn cache_round_trip() {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = cache_dir(tmp.path(), "https://127.0.0.1:6443");
        assert!(dir.ends_with("discovery/127.0.0.1_6443"));
        let mut d = Discovery::default();
        add_aggregated(&mut d, &aggregated());
        write_cache(&dir, &d);
        assert!(dir.join("apps/v1/serverresources.json").exists());
        let back = read_cache(&dir).expect("fresh cache");
        assert_eq!(back.groups, d.groups);
        assert_eq!(back.resources(), d.resources());
    }
}
