//! The patch `kubectl edit` and `kubectl set …` send: upstream's two-way strategic merge patch
//! (`CreateTwoWayMergePatch`) from an object as read (original) to the object as changed
//! (modified), with the patch metadata upstream takes from the Go types: lists with a `merge`
//! strategy are matched by their merge key walking both sides sorted by it (`$patch: delete`
//! for removed items, appended after the changed ones in the modified order, and
//! `$setElementOrder/…` when the content or the order changed), primitive merge lists get a
//! `$deleteFromPrimitiveList/…` list, and maps with a `retainKeys` strategy (or the items of
//! such a list) carry `$retainKeys`. Without a schema the same walk yields a JSON merge patch.

use super::schema::{FieldMeta, Schema};
use super::{field, key_of};
use crate::printers::go_sprint;
use serde_json::{Map, Value};

/// The two-way patch; an empty map means the objects are the same.
pub fn two_way(original: &Value, modified: &Value, schema: Option<Schema<'_>>) -> Map<String, Value> {
    match (original.as_object(), modified.as_object()) {
        (Some(o), Some(m)) => diff_maps(o, m, schema, false),
        (None, Some(m)) => m.clone(),
        _ => Map::new(),
    }
}

fn diff_maps(
    original: &Map<String, Value>,
    modified: &Map<String, Value>,
    schema: Option<Schema<'_>>,
    retain_keys: bool,
) -> Map<String, Value> {
    let mut patch = Map::new();
    let mut retained: Vec<String> = Vec::new();
    for (key, mv) in modified {
        if retain_keys && !mv.is_null() {
            retained.push(key.clone());
        }
        let Some(ov) = original.get(key) else {
            patch.insert(key.clone(), mv.clone());
            continue;
        };
        let (meta, sub) = field(schema, key);
        match (ov, mv) {
            (Value::Object(a), Value::Object(b)) => {
                let p = if meta.strategies.iter().any(|s| s == "replace") {
                    if a != b {
                        patch.insert(key.clone(), mv.clone());
                    }
                    continue;
                } else {
                    diff_maps(a, b, sub, meta.strategies.iter().any(|s| s == "retainKeys"))
                };
                if !p.is_empty() {
                    patch.insert(key.clone(), Value::Object(p));
                }
            }
            (Value::Array(a), Value::Array(b)) if meta.is_merge() => {
                diff_merge_list(key, a, b, &meta, sub, &mut patch);
            }
            _ => {
                if ov != mv {
                    patch.insert(key.clone(), mv.clone());
                }
            }
        }
    }
    for key in original.keys() {
        if !modified.contains_key(key) {
            patch.insert(key.clone(), Value::Null);
        }
    }
    let cleared = original.iter().any(|(k, v)| !v.is_null() && !modified.contains_key(k));
    if !retained.is_empty() && (!patch.is_empty() || cleared) {
        retained.sort();
        patch.insert(
            "$retainKeys".into(),
            Value::Array(retained.into_iter().map(Value::String).collect()),
        );
    }
    patch
}

/// How Go's `%v` prints a merge key or a scalar (the order upstream sorts them in).
fn sort_key(v: &Value) -> String {
    go_sprint(v)
}

fn diff_merge_list(
    name: &str,
    original: &[Value],
    modified: &[Value],
    meta: &FieldMeta,
    sub: Option<Schema<'_>>,
    patch: &mut Map<String, Value>,
) {
    if original.is_empty() {
        if !modified.is_empty() {
            patch.insert(name.to_string(), Value::Array(modified.to_vec()));
        }
        return;
    }
    let all_maps = original.iter().chain(modified).all(Value::is_object);
    match &meta.merge_key {
        Some(key) if all_maps => {
            let retain = meta.strategies.iter().any(|s| s == "retainKeys");
            let items = sub.and_then(|s| s.items());
            let (mut list, deletions) = diff_lists_of_maps(original, modified, key, items, retain);
            // Changes in the modified order, then the deletions.
            list.sort_by_key(|p| {
                let kv = key_of(p, key).map(sort_key);
                modified
                    .iter()
                    .position(|m| key_of(m, key).map(sort_key) == kv)
                    .unwrap_or(usize::MAX)
            });
            let order_same = original.len() == modified.len()
                && original
                    .iter()
                    .zip(modified)
                    .all(|(o, m)| key_of(o, key).map(sort_key) == key_of(m, key).map(sort_key));
            list.extend(deletions);
            if !list.is_empty() || !order_same {
                let order: Vec<Value> = modified
                    .iter()
                    .map(|m| {
                        let mut o = Map::new();
                        o.insert(key.clone(), key_of(m, key).cloned().unwrap_or(Value::Null));
                        Value::Object(o)
                    })
                    .collect();
                if !list.is_empty() {
                    patch.insert(name.to_string(), Value::Array(list));
                }
                patch.insert(format!("$setElementOrder/{name}"), Value::Array(order));
            }
        }
        _ => {
            // A merge list of scalars (finalizers).
            let mut o: Vec<&Value> = original.iter().collect();
            let mut m: Vec<&Value> = modified.iter().collect();
            o.sort_by_key(|v| sort_key(v));
            m.sort_by_key(|v| sort_key(v));
            let (mut added, mut removed) = (Vec::new(), Vec::new());
            let (mut i, mut j) = (0, 0);
            while i < o.len() || j < m.len() {
                let os = o.get(i).map(|v| sort_key(v));
                let ms = m.get(j).map(|v| sort_key(v));
                match (os, ms) {
                    (Some(a), Some(b)) if a == b => {
                        i += 1;
                        j += 1;
                    }
                    (Some(a), Some(b)) if a > b => {
                        added.push(m[j].clone());
                        j += 1;
                    }
                    (None, Some(_)) => {
                        added.push(m[j].clone());
                        j += 1;
                    }
                    _ => {
                        removed.push(o[i].clone());
                        i += 1;
                    }
                }
            }
            removed.dedup();
            added.sort_by_key(|a| modified.iter().position(|m| m == a).unwrap_or(usize::MAX));
            let changed = original != modified;
            if !added.is_empty() {
                patch.insert(name.to_string(), Value::Array(added));
            }
            if !removed.is_empty() {
                patch.insert(
                    format!("$deleteFromPrimitiveList/{name}"),
                    Value::Array(removed.clone()),
                );
            }
            if !removed.is_empty() || changed {
                patch.insert(format!("$setElementOrder/{name}"), Value::Array(modified.to_vec()));
            }
        }
    }
}

/// Walks both lists sorted by merge key: the changed or added items and the delete directives.
fn diff_lists_of_maps(
    original: &[Value],
    modified: &[Value],
    key: &str,
    items: Option<Schema<'_>>,
    retain: bool,
) -> (Vec<Value>, Vec<Value>) {
    let sorted = |l: &[Value]| {
        let mut v: Vec<Value> = l.to_vec();
        v.sort_by_key(|x| key_of(x, key).map(sort_key).unwrap_or_default());
        v
    };
    let (o, m) = (sorted(original), sorted(modified));
    let (mut list, mut deletions) = (Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    while i < o.len() || j < m.len() {
        let os = o.get(i).map(|x| key_of(x, key).map(sort_key).unwrap_or_default());
        let ms = m.get(j).map(|x| key_of(x, key).map(sort_key).unwrap_or_default());
        match (os, ms) {
            (Some(a), Some(b)) if a == b => {
                let empty = Map::new();
                let (om, mm) = (o[i].as_object().unwrap_or(&empty), m[j].as_object().unwrap_or(&empty));
                let mut p = diff_maps(om, mm, items, retain);
                if !p.is_empty() {
                    p.insert(key.to_string(), key_of(&m[j], key).cloned().unwrap_or(Value::Null));
                    list.push(Value::Object(p));
                }
                i += 1;
                j += 1;
            }
            (None, Some(_)) => {
                list.push(m[j].clone());
                j += 1;
            }
            (Some(a), Some(b)) if a > b => {
                list.push(m[j].clone());
                j += 1;
            }
            _ => {
                let mut d = Map::new();
                d.insert("$patch".into(), Value::String("delete".into()));
                d.insert(key.to_string(), key_of(&o[i], key).cloned().unwrap_or(Value::Null));
                deletions.push(Value::Object(d));
                i += 1;
            }
        }
    }
    (list, deletions)
}
