//! Unknown-field detection for `fieldValidation=Strict|Warn`: walks an object against its type and
//! names every undeclared property with the path upstream's strict JSON decoding prints
//! (`spec.template.spec.containers[0].imagee`; map keys as `.key`).

use serde_json::Value;

use super::{Schema, TypeRef};

/// Removes every undeclared property from `obj` (as typed decoding drops them) and returns
/// their paths, for the strict error or the warnings.
pub(super) fn prune_unknown(schema: &Schema, type_name: &str, obj: &mut Value) -> Vec<String> {
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

fn walk_object(schema: &Schema, type_name: &str, value: &mut Value, path: &str, out: &mut Vec<String>) {
    let (Some(def), Some(map)) = (schema.definition(type_name), value.as_object_mut()) else {
        return;
    };
    if def.special.is_some() {
        return;
    }
    // Report in document order (as upstream's strict decoder does), then drop.
    let mut unknown = Vec::new();
    for (key, child) in map.iter_mut() {
        match def.property(key) {
            Some(prop) => walk_value(schema, &prop.meta.type_ref, child, &join(path, key), out),
            None => {
                out.push(join(path, key));
                unknown.push(key.clone());
            }
        }
    }
    if !unknown.is_empty() {
        map.retain(|key, _| !unknown.contains(key));
    }
}

fn walk_value(schema: &Schema, type_ref: &TypeRef, value: &mut Value, path: &str, out: &mut Vec<String>) {
    match (type_ref, value) {
        (TypeRef::Object(name), value) => walk_object(schema, name, value, path, out),
        (TypeRef::Array(inner), Value::Array(items)) => {
            for (i, item) in items.iter_mut().enumerate() {
                walk_value(schema, inner, item, &format!("{path}[{i}]"), out);
            }
        }
        (TypeRef::Map(inner), Value::Object(map)) => {
            for (key, item) in map.iter_mut() {
                walk_value(schema, inner, item, &join(path, key), out);
            }
        }
        _ => {}
    }
}
