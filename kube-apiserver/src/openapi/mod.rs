//! The OpenAPI documents upstream serves, built once from the type definitions and the resource
//! table: `/openapi/v2` (one Swagger 2.0 document) and `/openapi/v3` (an index plus one OpenAPI 3.0
//! document per group version, e.g. `api/v1`, `apis/apps/v1`, `apis/apps`, `api`, `apis`).
//!
//! kubectl reads them for `explain`, for client-side apply's patch metadata (it finds a kind's schema by
//! `x-kubernetes-group-version-kind`) and to see whether PATCH supports `fieldValidation`.

mod operations;
mod params;
mod render;
mod schemas;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde_json::Value;
use sha2::{Digest, Sha512};

use crate::registry::resources::{self, ResourceInfo};
use crate::schema::{self, Schema};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    V2,
    V3,
}

/// A served document: its JSON bytes and their uppercase hex SHA-512 (the v3 `hash` query value and
/// the v2 `ETag`, unquoted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub json: Vec<u8>,
    pub hash: String,
}

impl Document {
    fn new(value: &Value) -> Document {
        let json = serde_json::to_vec(value).unwrap_or_default();
        let hash = Sha512::digest(&json).iter().map(|b| format!("{b:02X}")).collect();
        Document { json, hash }
    }
}

/// The v3 index and documents, keyed by path ("api/v1").
#[derive(Debug)]
pub struct V3Set {
    pub index: Value,
    pub documents: BTreeMap<String, Document>,
}

static V3: LazyLock<V3Set> = LazyLock::new(|| build_v3(schema::schema(), resources::RESOURCES));
static V2: LazyLock<Document> = LazyLock::new(|| build_v2(schema::schema(), resources::RESOURCES));

/// `GET /openapi/v3`: `{"paths":{"api/v1":{"serverRelativeURL":"/openapi/v3/api/v1?hash=…"},…}}`.
pub fn v3_index() -> &'static Value {
    &V3.index
}

/// `GET /openapi/v3/<path>` for "api", "api/v1", "apis", "apis/apps", "apis/apps/v1", ….
pub fn v3_document(path: &str) -> Option<&'static Document> {
    V3.documents.get(path.trim_matches('/'))
}

/// `GET /openapi/v2` as JSON.
pub fn v2_document() -> &'static Document {
    &V2
}

/// (group, versions) served by `resources`, in discovery order.
fn group_versions(resources: &[ResourceInfo]) -> Vec<(&'static str, Vec<&'static str>)> {
    let mut out: Vec<(&'static str, Vec<&'static str>)> = Vec::new();
    for r in resources {
        let pos = match out.iter().position(|(g, _)| *g == r.group) {
            Some(pos) => pos,
            None => {
                out.push((r.group, Vec::new()));
                out.len() - 1
            }
        };
        for v in r.versions {
            if !out[pos].1.contains(v) {
                out[pos].1.push(v);
            }
        }
    }
    out
}

/// Builds every v3 document and the index for `resources`.
pub fn build_v3(schema: &Schema, resources: &[ResourceInfo]) -> V3Set {
    let gvs = group_versions(resources);
    let mut documents = BTreeMap::new();
    documents.insert(
        "api".to_string(),
        Document::new(&render::root_document(schema, "", &gvs)),
    );
    documents.insert(
        "apis".to_string(),
        Document::new(&render::root_document(schema, "apis", &gvs)),
    );
    for (group, versions) in &gvs {
        if !group.is_empty() {
            let doc = render::group_document(schema, group, &gvs);
            documents.insert(format!("apis/{group}"), Document::new(&doc));
        }
        for version in versions {
            let doc = render::gv_document(schema, resources, group, version, &gvs);
            let path = operations::gv_prefix(group, version);
            documents.insert(path.trim_start_matches('/').to_string(), Document::new(&doc));
        }
    }
    let index = render::index(&documents);
    V3Set { index, documents }
}

/// Builds the v2 document for `resources`.
pub fn build_v2(schema: &Schema, resources: &[ResourceInfo]) -> Document {
    Document::new(&render::v2_document(schema, resources, &group_versions(resources)))
}
