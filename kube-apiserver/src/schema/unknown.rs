//! Unknown-field detection for `fieldValidation=Strict|Warn`: walks an object against its type and
//! names every undeclared property with the path upstream's strict JSON decoding prints
//! (`spec.template.spec.containers[0].imagee`; map keys as `.key`).

use serde_json::Value;

use super::{Schema, TypeRef};

pub(super) fn unknown_fields(schema: &Schema, type_name: &str, obj: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk_object(schema, type_name, obj, "", &mut out);
    out
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn walk_object(schema: &Schema, type_name: &str, value: &Value, path: &str, out: &mut Vec<String>) {
    let (Some(def), Some(map)) = (schema.definition(type_name), value.as_object()) else {
        return;
    };
    if def.special.is_some() {
        return;
    }
    for (key, child) in map {
        let child_path = join(path, key);
        match def.property(key) {
            Some(prop) => walk_value(schema, &prop.meta.type_ref, child, &child_path, out),
            None => out.push(child_path),
        }
    }
}

fn walk_value(schema: &Schema, type_ref: &TypeRef, value: &Value, path: &str, out: &mut Vec<String>) {
    match (type_ref, value) {
        (TypeRef::Object(name), _) => walk_object(schema, name, value, path, out),
        (TypeRef::Array(inner), Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                walk_value(schema, inner, item, &format!("{path}[{i}]"), out);
            }
        }
        (TypeRef::Map(inner), Value::Object(map)) => {
            for (key, item) in map {
                walk_value(schema, inner, item, &join(path, key), out);
            }
        }
        _ => {}
    }
}
