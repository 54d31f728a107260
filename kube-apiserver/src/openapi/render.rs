//! Assembles the served documents: operations rendered for v2 or v3, the definitions they need,
//! and the v3 index.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::operations::{self, MEDIA, Operation, PathItem, Returns};
use super::{Document, Flavor, schemas};
use crate::registry::resources::ResourceInfo;
use crate::schema::Schema;

const META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.";
/// Definitions registered in every group version, so upstream lists a GVK for each.
const SHARED_KINDS: &[&str] = &["DeleteOptions", "WatchEvent"];

type GroupVersions = [(&'static str, Vec<&'static str>)];

fn security(flavor: Flavor) -> (&'static str, Value) {
    let scheme = json!({"description": "Bearer Token authentication", "in": "header", "name": "authorization", "type": "apiKey"});
    match flavor {
        Flavor::V2 => ("securityDefinitions", json!({ "BearerToken": scheme })),
        Flavor::V3 => ("securitySchemes", json!({ "BearerToken": scheme })),
    }
}

// ---------------------------------------------------------------- operations

fn response_schema(returns: &Returns, flavor: Flavor) -> Value {
    match returns {
        Returns::Type(name, _) => schemas::ref_schema(flavor, name),
        Returns::Text => json!({ "type": "string" }),
    }
}

fn status_text(code: u16) -> &'static str {
    match code {
        201 => "Created",
        202 => "Accepted",
        _ => "OK",
    }
}

fn content(media: &[&str], schema: &Value) -> Value {
    media
        .iter()
        .map(|m| (m.to_string(), json!({ "schema": schema })))
        .collect::<Map<_, _>>()
        .into()
}

fn responses(op: &Operation, flavor: Flavor) -> Value {
    let codes: &[u16] = match &op.returns {
        Returns::Type(_, codes) => codes,
        Returns::Text => &[200],
    };
    let schema = response_schema(&op.returns, flavor);
    let mut out: Map<String, Value> = codes
        .iter()
        .map(|code| {
            let body = match flavor {
                Flavor::V2 => json!({ "description": status_text(*code), "schema": schema }),
                Flavor::V3 => json!({ "description": status_text(*code), "content": content(op.produces, &schema) }),
            };
            (code.to_string(), body)
        })
        .collect();
    out.insert("401".into(), json!({ "description": "Unauthorized" }));
    Value::Object(out)
}

fn operation(op: &Operation, kind: &str, tag: &str, flavor: Flavor) -> Value {
    let (g, v, k) = &op.gvk;
    let mut out = json!({
        "description": op.description,
        "operationId": op.id,
        "responses": responses(op, flavor),
        "tags": [tag],
        "x-kubernetes-action": op.action,
        "x-kubernetes-group-version-kind": schemas::gvk_object(g, v, k),
    });
    let mut params: Vec<Value> = op.params.iter().map(|p| p.render(kind, flavor)).collect();
    match (flavor, &op.body) {
        (Flavor::V2, body) => {
            if let Some(b) = body {
                let schema = schemas::ref_schema(flavor, &b.type_name);
                params.insert(
                    0,
                    json!({ "in": "body", "name": "body", "required": true, "schema": schema }),
                );
            }
            out["consumes"] = json!(body.as_ref().map_or(&["*/*"][..], |b| b.media));
            out["produces"] = json!(op.produces);
            out["schemes"] = json!(["https"]);
        }
        (Flavor::V3, Some(b)) => {
            let schema = schemas::ref_schema(flavor, &b.type_name);
            out["requestBody"] = json!({ "content": content(b.media, &schema), "required": true });
        }
        (Flavor::V3, None) => {}
    }
    if !params.is_empty() {
        out["parameters"] = Value::Array(params);
    }
    out
}

fn path_item(item: &PathItem, tag: &str, flavor: Flavor) -> Value {
    let mut out = Map::new();
    let params: Vec<Value> = item.params.iter().map(|p| p.render(&item.kind, flavor)).collect();
    if !params.is_empty() {
        out.insert("parameters".into(), Value::Array(params));
    }
    for op in &item.operations {
        out.insert(op.method.into(), operation(op, &item.kind, tag, flavor));
    }
    Value::Object(out)
}

/// A discovery GET (`/api/`, `/apis/apps/`, `/apis/apps/v1/`): no GVK, no action.
fn discovery_get(id: &str, description: &str, type_name: &str, tag: &str, flavor: Flavor) -> Value {
    let op = Operation {
        method: "get",
        id: id.to_string(),
        description: description.to_string(),
        action: "",
        gvk: Default::default(),
        params: &[],
        body: None,
        returns: Returns::Type(type_name.to_string(), &[200]),
        produces: MEDIA,
    };
    let mut out = operation(&op, "", tag, flavor);
    if let Some(o) = out.as_object_mut() {
        o.remove("x-kubernetes-action");
        o.remove("x-kubernetes-group-version-kind");
    }
    json!({ "get": out })
}

// ---------------------------------------------------------------- documents

/// Paths, and the definitions they name, for one group version.
fn gv_paths(
    schema: &Schema,
    resources: &[ResourceInfo],
    group: &str,
    version: &str,
    flavor: Flavor,
) -> (Map<String, Value>, Vec<String>) {
    let tag = operations::tag(group, version);
    let items = operations::resource_paths(schema, resources, group, version);
    let mut roots = vec![format!("{META}APIResourceList")];
    let mut paths = Map::new();
    let root_id = format!(
        "get{}{}APIResources",
        operations::group_ident(group),
        operations::capitalize(version)
    );
    let list = format!("{META}APIResourceList");
    let root = discovery_get(&root_id, "get available resources", &list, &tag, flavor);
    paths.insert(format!("{}/", operations::gv_prefix(group, version)), root);
    for item in &items {
        roots.extend(item.operations.iter().flat_map(named_types));
        paths.insert(item.path.clone(), path_item(item, &tag, flavor));
    }
    (paths, roots)
}

fn named_types(op: &Operation) -> Vec<String> {
    let mut out: Vec<String> = op.body.iter().map(|b| b.type_name.clone()).collect();
    if let Returns::Type(name, _) = &op.returns {
        out.push(name.clone());
    }
    out
}

fn shared_gvks(gvs: &GroupVersions, kind: &str) -> Vec<(String, String, String)> {
    gvs.iter()
        .flat_map(|(g, vs)| vs.iter().map(move |v| (g.to_string(), v.to_string(), kind.to_string())))
        .collect()
}

/// The definitions reachable from `roots`, rendered.
fn definitions(schema: &Schema, roots: &[String], gvs: &GroupVersions, flavor: Flavor) -> Value {
    let names = schemas::closure(schema, roots.iter().map(String::as_str));
    let out: Map<String, Value> = names
        .iter()
        .filter_map(|name| {
            let def = schema.definition(name)?;
            let shared = SHARED_KINDS.iter().find(|k| name.strip_prefix(META) == Some(**k));
            let extra = shared.map(|k| shared_gvks(gvs, k)).unwrap_or_default();
            Some((name.clone(), schemas::definition_schema(def, flavor, &extra)))
        })
        .collect();
    Value::Object(out)
}

fn v3_document(schema: &Schema, paths: Map<String, Value>, roots: &[String], gvs: &GroupVersions) -> Value {
    let (security_key, schemes) = security(Flavor::V3);
    let mut components = json!({ "schemas": definitions(schema, roots, gvs, Flavor::V3) });
    components[security_key] = schemes;
    sorted(json!({
        "components": components,
        "info": { "title": "Kubernetes", "version": "unversioned" },
        "openapi": "3.0.0",
        "paths": paths,
        "security": [{ "BearerToken": [] }],
    }))
}

/// `/openapi/v3/api/v1`, `/openapi/v3/apis/apps/v1`.
pub(super) fn gv_document(
    schema: &Schema,
    resources: &[ResourceInfo],
    group: &str,
    version: &str,
    gvs: &GroupVersions,
) -> Value {
    let (paths, roots) = gv_paths(schema, resources, group, version, Flavor::V3);
    v3_document(schema, paths, &roots, gvs)
}

/// `/openapi/v3/apis/apps`: the group's discovery document.
pub(super) fn group_document(schema: &Schema, group: &str, gvs: &GroupVersions) -> Value {
    let ident = operations::group_ident(group);
    let tag = operations::tag(group, "").trim_end_matches('_').to_string();
    let type_name = format!("{META}APIGroup");
    let get = discovery_get(
        &format!("get{ident}APIGroup"),
        "get information of a group",
        &type_name,
        &tag,
        Flavor::V3,
    );
    let paths: Map<String, Value> = [(format!("/apis/{group}/"), get)].into_iter().collect();
    v3_document(schema, paths, &[type_name], gvs)
}

/// `/openapi/v3/api` (`""`) and `/openapi/v3/apis` (`"apis"`): the root discovery documents.
pub(super) fn root_document(schema: &Schema, which: &str, gvs: &GroupVersions) -> Value {
    let (path, id, tag, type_name) = match which {
        "" => ("/api/", "getCoreAPIVersions", "core", format!("{META}APIVersions")),
        _ => ("/apis/", "getAPIVersions", "apis", format!("{META}APIGroupList")),
    };
    let get = discovery_get(id, "get available API versions", &type_name, tag, Flavor::V3);
    let paths: Map<String, Value> = [(path.to_string(), get)].into_iter().collect();
    v3_document(schema, paths, &[type_name], gvs)
}

/// The v3 index: one `serverRelativeURL` with the content hash per document.
pub(super) fn index(documents: &BTreeMap<String, Document>) -> Value {
    let paths: Map<String, Value> = documents
        .iter()
        .map(|(path, doc)| {
            let url = format!("/openapi/v3/{path}?hash={}", doc.hash);
            (path.clone(), json!({ "serverRelativeURL": url }))
        })
        .collect();
    json!({ "paths": paths })
}

/// The whole v2 document: every group version's paths and all the definitions they name.
pub(super) fn v2_document(schema: &Schema, resources: &[ResourceInfo], gvs: &GroupVersions) -> Value {
    let mut paths = Map::new();
    let mut roots = Vec::new();
    for (group, versions) in gvs {
        for version in versions {
            let (p, r) = gv_paths(schema, resources, group, version, Flavor::V2);
            paths.extend(p);
            roots.extend(r);
        }
    }
    let (security_key, schemes) = security(Flavor::V2);
    let mut doc = json!({
        "definitions": definitions(schema, &roots, gvs, Flavor::V2),
        "info": { "title": "Kubernetes", "version": "unversioned" },
        "paths": paths,
        "security": [{ "BearerToken": [] }],
        "swagger": "2.0",
    });
    doc[security_key] = schemes;
    sorted(doc)
}

/// The value with every object's keys sorted (upstream's documents are key-sorted).
fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().map(|(k, v)| (k, sorted(v))).collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}
