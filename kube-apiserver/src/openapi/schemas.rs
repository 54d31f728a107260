//! Renders type definitions as OpenAPI schemas, the way upstream's v2 (`definitions`) and v3
//! (`components.schemas`) documents show them, and finds the definitions a document needs.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::Flavor;
use crate::schema::{Definition, FieldMeta, Property, Schema, TypeRef};

const QUANTITY: &str = "io.k8s.apimachinery.pkg.api.resource.Quantity";
const INT_OR_STRING: &str = "io.k8s.apimachinery.pkg.util.intstr.IntOrString";

/// `#/definitions/<name>` (v2) or `#/components/schemas/<name>` (v3).
pub(super) fn ref_path(flavor: Flavor, name: &str) -> String {
    match flavor {
        Flavor::V2 => format!("#/definitions/{name}"),
        Flavor::V3 => format!("#/components/schemas/{name}"),
    }
}

pub(super) fn ref_schema(flavor: Flavor, name: &str) -> Value {
    json!({ "$ref": ref_path(flavor, name) })
}

/// `[{"group":…,"kind":…,"version":…}]`, the form of `x-kubernetes-group-version-kind` on definitions.
pub(super) fn gvk_list(gvks: &[(String, String, String)]) -> Value {
    gvks.iter().map(|(g, v, k)| gvk_object(g, v, k)).collect()
}

pub(super) fn gvk_object(group: &str, version: &str, kind: &str) -> Value {
    json!({ "group": group, "kind": kind, "version": version })
}

/// The schema of one definition. `extra_gvks` are added to the definition's own (DeleteOptions and
/// WatchEvent are registered in every group).
pub(super) fn definition_schema(def: &Definition, flavor: Flavor, extra_gvks: &[(String, String, String)]) -> Value {
    let mut out = match &def.special {
        Some((type_, format)) => special_schema(&def.name, type_.as_deref(), format.as_deref(), flavor),
        None => object_schema(def, flavor),
    };
    if !def.description.is_empty() {
        out.insert("description".into(), def.description.clone().into());
    }
    let gvks: Vec<_> = def.gvk.iter().chain(extra_gvks).cloned().collect();
    if !gvks.is_empty() {
        out.insert("x-kubernetes-group-version-kind".into(), gvk_list(&gvks));
    }
    if let Some(map_type) = &def.map_type {
        out.insert("x-kubernetes-map-type".into(), map_type.clone().into());
    }
    Value::Object(out)
}

fn object_schema(def: &Definition, flavor: Flavor) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("type".into(), "object".into());
    let properties: Map<String, Value> = def
        .properties
        .iter()
        .map(|p| (p.meta.name.clone(), property_schema(p, flavor)))
        .collect();
    if !properties.is_empty() {
        out.insert("properties".into(), Value::Object(properties));
    }
    let required: Vec<&str> = def.required().collect();
    if !required.is_empty() {
        out.insert("required".into(), json!(required));
    }
    out
}

/// Types with a JSON form of their own, as upstream renders them.
fn special_schema(name: &str, type_: Option<&str>, format: Option<&str>, flavor: Flavor) -> Map<String, Value> {
    let value = match (name, flavor) {
        (QUANTITY, Flavor::V2) => json!({ "type": "string" }),
        (QUANTITY, Flavor::V3) => json!({ "oneOf": [{ "type": "string" }, { "type": "number" }] }),
        (INT_OR_STRING, Flavor::V2) => json!({ "type": "string", "format": "int-or-string" }),
        (INT_OR_STRING, Flavor::V3) => {
            json!({ "format": "int-or-string", "oneOf": [{ "type": "integer" }, { "type": "string" }] })
        }
        // JSON and JSONSchemaPropsOr*: any JSON value; upstream gives them no type.
        (n, _) if n.starts_with("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON") => json!({}),
        _ => scalar(type_.unwrap_or("object"), format),
    };
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn scalar(type_: &str, format: Option<&str>) -> Value {
    match format {
        Some(f) => json!({ "type": type_, "format": f }),
        None => json!({ "type": type_ }),
    }
}

/// A property: its type, description and patch/apply extensions. A reference with a description is
/// `$ref` + `description` in v2 and `allOf: [{$ref}]` + `description` in v3 (OpenAPI 3.0 ignores
/// siblings of `$ref`).
fn property_schema(prop: &Property, flavor: Flavor) -> Value {
    let meta = &prop.meta;
    let mut out = match (&meta.type_ref, flavor) {
        (TypeRef::Object(name) | TypeRef::Special(name), Flavor::V3) if !meta.description.is_empty() => {
            let mut m = Map::new();
            m.insert("allOf".into(), json!([ref_schema(flavor, name)]));
            m
        }
        (type_ref, _) => type_map(type_ref, prop.format.as_deref(), flavor),
    };
    if !meta.description.is_empty() {
        out.insert("description".into(), meta.description.clone().into());
    }
    add_extensions(&mut out, meta);
    Value::Object(out)
}

fn add_extensions(out: &mut Map<String, Value>, meta: &FieldMeta) {
    let pairs = [
        ("x-kubernetes-patch-strategy", &meta.patch_strategy),
        ("x-kubernetes-patch-merge-key", &meta.patch_merge_key),
        ("x-kubernetes-list-type", &meta.list_type),
        ("x-kubernetes-map-type", &meta.map_type),
    ];
    for (key, value) in pairs {
        if let Some(v) = value {
            out.insert(key.into(), v.clone().into());
        }
    }
    if !meta.list_map_keys.is_empty() {
        out.insert("x-kubernetes-list-map-keys".into(), json!(meta.list_map_keys));
    }
}

fn type_map(type_ref: &TypeRef, format: Option<&str>, flavor: Flavor) -> Map<String, Value> {
    let value = match type_ref {
        TypeRef::Object(name) | TypeRef::Special(name) if name != "object" => ref_schema(flavor, name),
        TypeRef::Array(inner) => json!({ "type": "array", "items": type_map(inner, format, flavor) }),
        TypeRef::Map(inner) => json!({ "type": "object", "additionalProperties": type_map(inner, format, flavor) }),
        TypeRef::String => scalar("string", format),
        TypeRef::Integer => scalar("integer", format),
        TypeRef::Number => scalar("number", format),
        TypeRef::Boolean => scalar("boolean", format),
        TypeRef::Object(_) | TypeRef::Special(_) => json!({ "type": "object" }),
    };
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// Every definition reachable from `roots` (the types the operations name).
pub(super) fn closure<'a>(schema: &Schema, roots: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<String> = roots.into_iter().map(str::to_string).collect();
    while let Some(name) = stack.pop() {
        let Some(def) = schema.definition(&name) else { continue };
        if !seen.insert(name) {
            continue;
        }
        for prop in &def.properties {
            collect_refs(&prop.meta.type_ref, &mut stack);
        }
    }
    seen
}

fn collect_refs(type_ref: &TypeRef, out: &mut Vec<String>) {
    match type_ref {
        TypeRef::Object(name) | TypeRef::Special(name) => out.push(name.clone()),
        TypeRef::Array(inner) | TypeRef::Map(inner) => collect_refs(inner, out),
        _ => {}
    }
}
