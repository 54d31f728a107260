//! The Kubernetes v1.33 type definitions, loaded once from `definitions.json` (written by
//! `tools/gen_openapi_schema.py`): field types, descriptions and patch/apply metadata for every
//! built-in type, the kind → type mapping, and unknown-field detection for `fieldValidation`.

pub mod model;
mod unknown;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::LazyLock;

use serde::Deserialize;

pub use model::{FieldMeta, SchemaLookup, TypeRef};

/// One property of an object type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    pub meta: FieldMeta,
    /// The OpenAPI format of the innermost scalar ("int32", "int64", "double", "byte", "date-time").
    pub format: Option<String>,
}

/// One named type ("io.k8s.api.core.v1.PodSpec").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Definition {
    pub name: String,
    pub description: String,
    /// (group, version, kind) for top-level kinds and their lists.
    pub gvk: Vec<(String, String, String)>,
    /// `x-kubernetes-map-type` of the whole struct (`+structType=atomic`).
    pub map_type: Option<String>,
    /// Properties sorted by JSON name. Empty for special types.
    pub properties: Vec<Property>,
    /// Types with a JSON form of their own (Quantity, Time, RawExtension, …): the plain OpenAPI
    /// (type, format) the type definitions give, when they give one.
    pub special: Option<(Option<String>, Option<String>)>,
}

impl Definition {
    pub fn property(&self, name: &str) -> Option<&Property> {
        self.properties
            .binary_search_by(|p| p.meta.name.as_str().cmp(name))
            .ok()
            .map(|i| &self.properties[i])
    }

    pub fn required(&self) -> impl Iterator<Item = &str> {
        self.properties
            .iter()
            .filter(|p| p.meta.required)
            .map(|p| p.meta.name.as_str())
    }
}

/// All definitions, with lookups by name and by kind.
#[derive(Debug)]
pub struct Schema {
    definitions: HashMap<String, Definition>,
    kinds: HashMap<(String, String, String), String>,
}

static SCHEMA: LazyLock<Schema> = LazyLock::new(|| Schema::parse(include_str!("definitions.json")));

/// The built-in type definitions.
pub fn schema() -> &'static Schema {
    &SCHEMA
}

impl Schema {
    /// Parses the generated data file. The file is part of the binary, so a malformed one is a build defect;
    /// an unparsable file yields an empty schema rather than a panic at request time.
    fn parse(text: &str) -> Schema {
        let raw: RawFile = serde_json::from_str(text).unwrap_or_default();
        let special: Vec<String> = raw
            .definitions
            .iter()
            .filter(|(_, d)| d.special)
            .map(|(n, _)| n.clone())
            .collect();
        let definitions: HashMap<String, Definition> = raw
            .definitions
            .into_iter()
            .map(|(name, d)| (name.clone(), d.into_definition(name, &special)))
            .collect();
        let kinds = definitions
            .values()
            .flat_map(|d| d.gvk.iter().map(move |gvk| (gvk.clone(), d.name.clone())))
            .collect();
        Schema { definitions, kinds }
    }

    pub fn definition(&self, name: &str) -> Option<&Definition> {
        self.definitions.get(name)
    }

    pub fn definitions(&self) -> impl Iterator<Item = &Definition> {
        self.definitions.values()
    }

    /// The properties of `obj` (an instance of `type_name`) that the type does not declare, as upstream's
    /// strict decoding names them: `spec.template.spec.containers[0].imagee`, `metadata.labelz`.
    pub fn unknown_fields(&self, type_name: &str, obj: &serde_json::Value) -> Vec<String> {
        unknown::prune_unknown(self, type_name, &mut obj.clone())
    }

    /// Drops undeclared properties from `obj`, returning their paths.
    pub fn prune_unknown(&self, type_name: &str, obj: &mut serde_json::Value) -> Vec<String> {
        unknown::prune_unknown(self, type_name, obj)
    }
}

impl SchemaLookup for Schema {
    fn field(&self, type_name: &str, field: &str) -> Option<&FieldMeta> {
        self.definitions.get(type_name)?.property(field).map(|p| &p.meta)
    }

    fn kind_type(&self, group: &str, version: &str, kind: &str) -> Option<&str> {
        self.kinds
            .get(&(group.to_string(), version.to_string(), kind.to_string()))
            .map(String::as_str)
    }
}

// ---------------------------------------------------------------- data file

#[derive(Deserialize, Default)]
struct RawFile {
    definitions: HashMap<String, RawDefinition>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawDefinition {
    #[serde(default)]
    description: String,
    #[serde(default)]
    gvk: Vec<(String, String, String)>,
    map_type: Option<String>,
    #[serde(default)]
    required: Vec<String>,
    #[serde(default)]
    properties: HashMap<String, RawProperty>,
    #[serde(default)]
    special: bool,
    #[serde(rename = "type")]
    type_: Option<String>,
    format: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawProperty {
    #[serde(rename = "type")]
    type_: String,
    format: Option<String>,
    #[serde(default)]
    description: String,
    patch_strategy: Option<String>,
    patch_merge_key: Option<String>,
    list_type: Option<String>,
    #[serde(default)]
    list_map_keys: Vec<String>,
    map_type: Option<String>,
}

impl RawDefinition {
    fn into_definition(self, name: String, special: &[String]) -> Definition {
        let required = self.required;
        let mut properties: Vec<Property> = self
            .properties
            .into_iter()
            .map(|(field, prop)| {
                let is_required = required.contains(&field);
                prop.into_property(field, is_required, special)
            })
            .collect();
        properties.sort_by(|a, b| a.meta.name.cmp(&b.meta.name));
        Definition {
            name,
            description: self.description,
            gvk: self.gvk,
            map_type: self.map_type,
            properties,
            special: self.special.then_some((self.type_, self.format)),
        }
    }
}

impl RawProperty {
    fn into_property(self, name: String, required: bool, special: &[String]) -> Property {
        Property {
            meta: FieldMeta {
                name,
                type_ref: parse_type(&self.type_, special),
                description: self.description,
                required,
                patch_strategy: self.patch_strategy,
                patch_merge_key: self.patch_merge_key,
                list_type: self.list_type,
                list_map_keys: self.list_map_keys,
                map_type: self.map_type,
            },
            format: self.format,
        }
    }
}

/// Parses the generator's type notation: `#name`, `[]T`, `{}T`, or a scalar.
fn parse_type(text: &str, special: &[String]) -> TypeRef {
    if let Some(name) = text.strip_prefix('#') {
        if special.iter().any(|s| s == name) {
            return TypeRef::Special(name.to_string());
        }
        return TypeRef::Object(name.to_string());
    }
    if let Some(inner) = text.strip_prefix("[]") {
        return TypeRef::Array(Box::new(parse_type(inner, special)));
    }
    if let Some(inner) = text.strip_prefix("{}") {
        return TypeRef::Map(Box::new(parse_type(inner, special)));
    }
    match text {
        "integer" => TypeRef::Integer,
        "number" => TypeRef::Number,
        "boolean" => TypeRef::Boolean,
        // A free-form object: no declared fields, any content.
        "object" => TypeRef::Special("object".to_string()),
        _ => TypeRef::String,
    }
}
