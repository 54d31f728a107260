//! What the file-based writing verbs (apply, create -f, replace, delete, diff) share: requests
//! with any method and body, mapping a manifest's apiVersion/kind to a discovered resource,
//! the namespace rules for objects from files, OpenAPI v3 documents per group-version, and the
//! `-o name|yaml|json` printing of results.

use super::Session;
pub use super::write::DryRun;
use crate::discovery::Resource;
use crate::error::CmdError;
use crate::inputs::InputObject;
use crate::printers::{json, name_of, yaml};
use serde_json::Value;

/// A response: status code and body parsed as JSON (Null when empty or not JSON).
pub struct Response {
    pub code: u16,
    pub body: Value,
    raw: Vec<u8>,
}

impl Response {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.code)
    }

    pub fn error(&self) -> CmdError {
        CmdError::from_response(self.code, &self.raw)
    }
}

/// Sends one request with a JSON body, whatever the status.
pub async fn send(
    client: &kube::Client,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: Option<&Value>,
) -> Result<Response, CmdError> {
    let method = http::Method::from_bytes(method.as_bytes()).map_err(|e| CmdError::msg(e.to_string()))?;
    let bytes = body.map(|b| json::to_compact(b).into_bytes()).unwrap_or_default();
    let (code, reply) = crate::http::request(client, method, path, "application/json", content_type, bytes).await?;
    let body = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
    Ok(Response {
        code,
        body,
        raw: reply.body,
    })
}

/// An object from a file, mapped to its resource and namespace.
pub struct Mapped {
    pub source: String,
    pub object: Value,
    pub resource: Resource,
    /// Set for namespaced resources.
    pub namespace: Option<String>,
    pub name: String,
}

impl Mapped {
    /// The object's path (`…/namespaces/<ns>/<resource>/<name>`).
    pub fn path(&self) -> String {
        format!("{}/{}", self.resource.path(self.namespace.as_deref()), self.name)
    }

    pub fn collection(&self) -> String {
        self.resource.path(self.namespace.as_deref())
    }

    /// `deployment.apps/web`.
    pub fn display_name(&self) -> String {
        name_of(&self.resource.kind, &self.resource.group, &self.name)
    }
}

fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    }
}

fn find(s: &crate::discovery::Discovery, group: &str, version: &str, kind: &str) -> Option<Resource> {
    s.resources()
        .into_iter()
        .find(|r| r.group == group && r.version == version && r.kind == kind)
}

/// Maps every object to its resource (rediscovering once for unknown kinds) and applies the
/// namespace rules: `-n` fills in a missing namespace and must agree with a given one.
pub async fn map_objects(s: &mut Session, objects: Vec<InputObject>) -> Result<Vec<Mapped>, CmdError> {
    let mut out = Vec::new();
    let mut refreshed = false;
    for o in objects {
        let api_version = o.object["apiVersion"].as_str().unwrap_or_default().to_string();
        let kind = o.object["kind"].as_str().unwrap_or_default().to_string();
        let (group, version) = split_api_version(&api_version);
        let mut found = find(s.discovery(false).await?, group, version, &kind);
        if found.is_none() && !refreshed {
            refreshed = true;
            found = find(s.discovery(true).await?, group, version, &kind);
        }
        let name = o.object["metadata"]["name"].as_str().unwrap_or_default().to_string();
        let obj_ns = o.object["metadata"]["namespace"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let Some(resource) = found else {
            return Err(CmdError::msg(format!(
                "resource mapping not found for name: \"{name}\" namespace: \"{obj_ns}\" from \"{}\": no matches for kind \"{kind}\" in version \"{api_version}\"\nensure CRDs are installed first",
                o.source
            )));
        };
        let namespace = if resource.namespaced {
            if obj_ns.is_empty() {
                Some(s.conn.namespace.clone())
            } else {
                if s.conn.namespace_explicit && obj_ns != s.conn.namespace {
                    return Err(CmdError::msg(format!(
                        "the namespace from the provided object \"{obj_ns}\" does not match the namespace \"{}\". You must pass '--namespace={obj_ns}' to perform this operation.",
                        s.conn.namespace
                    )));
                }
                Some(obj_ns)
            }
        } else {
            None
        };
        let mut object = o.object;
        if let (Some(ns), Some(meta)) = (&namespace, object.get_mut("metadata").and_then(Value::as_object_mut)) {
            meta.insert("namespace".into(), Value::String(ns.clone()));
        }
        out.push(Mapped {
            source: o.source,
            object,
            resource,
            namespace,
            name,
        });
    }
    Ok(out)
}

/// The OpenAPI v3 documents of the group-versions fetched so far.
#[derive(Default)]
pub struct OpenApi {
    index: Option<Value>,
    docs: Vec<(String, Value)>,
}

impl OpenApi {
    /// `api/v1` for the core group, `apis/<group>/<version>` otherwise: the document's key in
    /// the `/openapi/v3` index.
    pub fn key(group: &str, version: &str) -> String {
        if group.is_empty() {
            format!("api/{version}")
        } else {
            format!("apis/{group}/{version}")
        }
    }

    /// The `/openapi/v3` index (`{"paths": {"api/v1": {"serverRelativeURL": …}, …}}`).
    pub async fn index(&mut self, client: &kube::Client) -> Result<&Value, CmdError> {
        if self.index.is_none() {
            let r = send(client, "GET", "/openapi/v3?timeout=32s", None, None).await?;
            if !r.ok() {
                return Err(r.error());
            }
            self.index = Some(r.body);
        }
        self.index.as_ref().ok_or_else(|| CmdError::msg("no OpenAPI v3 index"))
    }

    /// The document of `group/version` (`api/v1`, `apis/apps/v1`); `None` when the server has none.
    pub async fn document(&mut self, client: &kube::Client, group: &str, version: &str) -> Option<&Value> {
        self.fetch(client, group, version).await.ok().flatten()
    }

    /// The document of `group/version`: `Ok(None)` when the index does not list it, an error
    /// when fetching it failed.
    pub async fn fetch(
        &mut self,
        client: &kube::Client,
        group: &str,
        version: &str,
    ) -> Result<Option<&Value>, CmdError> {
        let key = Self::key(group, version);
        if !self.docs.iter().any(|(k, _)| k == &key) {
            let Some(url) = self.index(client).await?["paths"][&key]["serverRelativeURL"]
                .as_str()
                .map(str::to_string)
            else {
                return Ok(None);
            };
            let sep = if url.contains('?') { '&' } else { '?' };
            let r = send(client, "GET", &format!("{url}{sep}timeout=32s"), None, None).await?;
            if !r.ok() {
                return Err(r.error());
            }
            self.docs.push((key.clone(), r.body));
        }
        Ok(self.docs.iter().find(|(k, _)| k == &key).map(|(_, d)| d))
    }
}

/// Whether a group is built in (strategic merge patch) rather than a custom resource's.
pub fn builtin_group(group: &str) -> bool {
    !group.contains('.') || group.ends_with(".k8s.io")
}

/// Drops `metadata.managedFields` as kubectl's printers do.
pub fn without_managed_fields(mut v: Value) -> Value {
    if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("managedFields");
    }
    v
}

/// How results print: the action line, or the object with `-o yaml|json|name`.
#[derive(Clone, Copy, PartialEq)]
pub enum Printer {
    Action,
    Name,
    Yaml,
    Json,
}

impl Printer {
    pub fn parse(o: Option<&str>) -> Result<Printer, CmdError> {
        Ok(match o.unwrap_or("") {
            "" => Printer::Action,
            "name" => Printer::Name,
            "yaml" => Printer::Yaml,
            "json" => Printer::Json,
            other => {
                return Err(CmdError::msg(format!(
                    "unable to match a printer suitable for the output format \"{other}\", allowed formats are: json,name,yaml"
                )));
            }
        })
    }

    /// One result: `deployment.apps/web created (dry run)`.
    pub fn print(&self, out: &mut String, name: &str, action: &str, suffix: &str, object: &Value, count: usize) {
        match self {
            Printer::Action => out.push_str(&format!("{name} {action}{suffix}\n")),
            Printer::Name => out.push_str(&format!("{name}\n")),
            Printer::Yaml => {
                if count > 0 {
                    out.push_str("---\n");
                }
                out.push_str(&yaml::to_yaml(&without_managed_fields(object.clone())));
            }
            Printer::Json => out.push_str(&json::to_json(&without_managed_fields(object.clone()))),
        }
    }
}

/// Polls `path` until the object is gone (404) or replaced by another with a different uid
/// (when `uid` is given); false when `deadline` passed first.
pub async fn wait_gone(
    s: &Session,
    path: &str,
    uid: &str,
    deadline: Option<std::time::Instant>,
) -> Result<bool, CmdError> {
    let mut delay = std::time::Duration::from_millis(50);
    loop {
        let r = send(s.client(), "GET", path, None, None).await?;
        if r.code == 404 || (r.ok() && !uid.is_empty() && r.body["metadata"]["uid"].as_str() != Some(uid)) {
            return Ok(true);
        }
        if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
            return Ok(false);
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(std::time::Duration::from_secs(1));
    }
}
