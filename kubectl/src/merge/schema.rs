//! Patch metadata from an OpenAPI v3 group-version document, as client-side apply reads it:
//! a field's `x-kubernetes-patch-strategy` (`merge`, `retainKeys`, `replace`, or a comma list)
//! and `x-kubernetes-patch-merge-key`, found by walking `$ref`/`allOf` from the schema whose
//! `x-kubernetes-group-version-kind` names the object's kind.

use serde_json::Value;

/// How a field patches.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldMeta {
    pub strategies: Vec<String>,
    pub merge_key: Option<String>,
}

impl FieldMeta {
    pub fn is_merge(&self) -> bool {
        self.strategies.iter().any(|s| s == "merge")
    }
}

/// A position in a schema document.
#[derive(Debug, Clone, Copy)]
pub struct Schema<'a> {
    doc: &'a Value,
    node: &'a Value,
}

impl<'a> Schema<'a> {
    /// The schema of `group/version, Kind` in an OpenAPI v3 document.
    pub fn for_kind(doc: &'a Value, group: &str, version: &str, kind: &str) -> Option<Schema<'a>> {
        let schemas = doc["components"]["schemas"].as_object()?;
        let node = schemas.values().find(|s| {
            s["x-kubernetes-group-version-kind"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|gvk| {
                    gvk["group"].as_str().unwrap_or_default() == group
                        && gvk["version"].as_str() == Some(version)
                        && gvk["kind"].as_str() == Some(kind)
                })
        })?;
        Some(Schema { doc, node })
    }

    /// Follows `$ref` and single-element `allOf`.
    fn resolve(doc: &'a Value, mut node: &'a Value) -> &'a Value {
        for _ in 0..16 {
            if let Some(r) = node["$ref"].as_str() {
                let name = r.rsplit('/').next().unwrap_or_default();
                match doc["components"]["schemas"].get(name) {
                    Some(n) => node = n,
                    None => return node,
                }
            } else if let Some([only]) = node["allOf"].as_array().map(Vec::as_slice) {
                node = only;
            } else {
                return node;
            }
        }
        node
    }

    /// A field's patch metadata and its schema.
    pub fn field(&self, name: &str) -> (FieldMeta, Option<Schema<'a>>) {
        let node = Self::resolve(self.doc, self.node);
        let Some(prop) = node["properties"].get(name) else {
            return (FieldMeta::default(), None);
        };
        let meta = FieldMeta {
            strategies: prop["x-kubernetes-patch-strategy"]
                .as_str()
                .map(|s| s.split(',').map(str::to_string).collect())
                .unwrap_or_default(),
            merge_key: prop["x-kubernetes-patch-merge-key"].as_str().map(str::to_string),
        };
        (
            meta,
            Some(Schema {
                doc: self.doc,
                node: Self::resolve(self.doc, prop),
            }),
        )
    }

    /// The schema of an array's items.
    pub fn items(&self) -> Option<Schema<'a>> {
        let node = Self::resolve(self.doc, self.node);
        let items = node.get("items")?;
        Some(Schema {
            doc: self.doc,
            node: Self::resolve(self.doc, items),
        })
    }
}
