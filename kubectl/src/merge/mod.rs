//! The patch client-side apply sends: upstream's three-way strategic merge patch
//! (`CreateThreeWayMergePatch`) from the last-applied configuration (original), the file
//! (modified) and the live object (current). Changes and additions come from current→modified,
//! deletions from original→modified, so fields other actors set survive; lists with a `merge`
//! strategy merge by their merge key (`$patch: delete` items, `$setElementOrder/…`,
//! `$deleteFromPrimitiveList/…`), other lists are replaced whole. Without a schema (custom
//! resources) the same computation yields a JSON merge patch.

pub mod schema;
mod two_way;

pub use two_way::two_way;

use schema::{FieldMeta, Schema};
use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, Default)]
struct Opts {
    ignore_deletions: bool,
    ignore_changes_and_additions: bool,
}

/// The three-way patch; an empty map means nothing to change.
pub fn three_way(
    original: &Value,
    modified: &Value,
    current: &Value,
    schema: Option<Schema<'_>>,
) -> Map<String, Value> {
    let empty = Map::new();
    let as_map = |v: &Value| v.as_object().cloned().unwrap_or_else(|| empty.clone());
    let (o, m, c) = (as_map(original), as_map(modified), as_map(current));
    let delta = diff_maps(
        &c,
        &m,
        schema,
        Opts {
            ignore_deletions: true,
            ignore_changes_and_additions: false,
        },
    );
    let deletions = diff_maps(
        &o,
        &m,
        schema,
        Opts {
            ignore_deletions: false,
            ignore_changes_and_additions: true,
        },
    );
    merge_patches(deletions, delta, schema)
}

fn field<'a>(schema: Option<Schema<'a>>, name: &str) -> (FieldMeta, Option<Schema<'a>>) {
    match schema {
        Some(s) => s.field(name),
        None => (FieldMeta::default(), None),
    }
}

fn diff_maps(
    from: &Map<String, Value>,
    to: &Map<String, Value>,
    schema: Option<Schema<'_>>,
    o: Opts,
) -> Map<String, Value> {
    let mut patch = Map::new();
    for (k, tv) in to {
        let (meta, sub) = field(schema, k);
        match from.get(k) {
            None => {
                if !o.ignore_changes_and_additions {
                    patch.insert(k.clone(), tv.clone());
                }
            }
            Some(fv) => match (fv, tv) {
                (Value::Object(a), Value::Object(b)) => {
                    let p = diff_maps(a, b, sub, o);
                    if !p.is_empty() {
                        patch.insert(k.clone(), Value::Object(p));
                    }
                }
                (Value::Array(a), Value::Array(b)) => diff_lists(k, a, b, &meta, sub, o, &mut patch),
                _ => {
                    if fv != tv && !o.ignore_changes_and_additions {
                        patch.insert(k.clone(), tv.clone());
                    }
                }
            },
        }
    }
    if !o.ignore_deletions {
        for k in from.keys() {
            if !to.contains_key(k) {
                patch.insert(k.clone(), Value::Null);
            }
        }
    }
    patch
}

fn key_of<'v>(item: &'v Value, key: &str) -> Option<&'v Value> {
    item.as_object().and_then(|m| m.get(key))
}

fn diff_lists(
    name: &str,
    from: &[Value],
    to: &[Value],
    meta: &FieldMeta,
    sub: Option<Schema<'_>>,
    o: Opts,
    patch: &mut Map<String, Value>,
) {
    if !meta.is_merge() {
        if from != to && !o.ignore_changes_and_additions {
            patch.insert(name.to_string(), Value::Array(to.to_vec()));
        }
        return;
    }
    let items = sub.and_then(|s| s.items());
    match &meta.merge_key {
        Some(key) if to.iter().chain(from).all(Value::is_object) => {
            let mut list = Vec::new();
            let mut changed = false;
            let mut deleted = false;
            if !o.ignore_changes_and_additions {
                for t in to {
                    let kv = key_of(t, key);
                    match from.iter().find(|f| kv.is_some() && key_of(f, key) == kv) {
                        None => {
                            list.push(t.clone());
                            changed = true;
                        }
                        Some(f) => {
                            let (Some(fm), Some(tm)) = (f.as_object(), t.as_object()) else {
                                continue;
                            };
                            let mut p = diff_maps(fm, tm, items, o);
                            if !p.is_empty() {
                                if let Some(kv) = kv {
                                    p.insert(key.clone(), kv.clone());
                                }
                                list.push(Value::Object(p));
                                changed = true;
                            }
                        }
                    }
                }
            } else {
                // Deletions inside kept items.
                for t in to {
                    let kv = key_of(t, key);
                    if let Some(f) = from.iter().find(|f| kv.is_some() && key_of(f, key) == kv)
                        && let (Some(fm), Some(tm)) = (f.as_object(), t.as_object())
                    {
                        let mut p = diff_maps(fm, tm, items, o);
                        if !p.is_empty() {
                            if let Some(kv) = kv {
                                p.insert(key.clone(), kv.clone());
                            }
                            list.push(Value::Object(p));
                            deleted = true;
                        }
                    }
                }
            }
            if !o.ignore_deletions {
                for f in from {
                    let kv = key_of(f, key);
                    if kv.is_some() && !to.iter().any(|t| key_of(t, key) == kv) {
                        let mut d = Map::new();
                        d.insert("$patch".into(), Value::String("delete".into()));
                        if let Some(kv) = kv {
                            d.insert(key.clone(), kv.clone());
                        }
                        list.push(Value::Object(d));
                        deleted = true;
                    }
                }
            }
            if !list.is_empty() {
                patch.insert(name.to_string(), Value::Array(list));
            }
            if changed || deleted {
                let order: Vec<Value> = to
                    .iter()
                    .filter_map(|t| {
                        key_of(t, key).map(|kv| {
                            let mut m = Map::new();
                            m.insert(key.clone(), kv.clone());
                            Value::Object(m)
                        })
                    })
                    .collect();
                patch.insert(format!("$setElementOrder/{name}"), Value::Array(order));
            }
        }
        _ => {
            // A merge list of primitives (finalizers).
            let mut added = Vec::new();
            let mut removed = Vec::new();
            if !o.ignore_changes_and_additions {
                added = to.iter().filter(|t| !from.contains(t)).cloned().collect();
            }
            if !o.ignore_deletions {
                removed = from.iter().filter(|f| !to.contains(f)).cloned().collect();
            }
            if !added.is_empty() {
                patch.insert(name.to_string(), Value::Array(added.clone()));
            }
            if !removed.is_empty() {
                patch.insert(
                    format!("$deleteFromPrimitiveList/{name}"),
                    Value::Array(removed.clone()),
                );
            }
            if !added.is_empty() || !removed.is_empty() {
                patch.insert(format!("$setElementOrder/{name}"), Value::Array(to.to_vec()));
            }
        }
    }
}

/// Merges the deletions patch with the changes patch (the changes win on conflicts).
fn merge_patches(mut a: Map<String, Value>, b: Map<String, Value>, schema: Option<Schema<'_>>) -> Map<String, Value> {
    for (k, bv) in b {
        let (meta, sub) = field(schema, &k);
        let merged = match (a.remove(&k), bv) {
            (Some(Value::Object(x)), Value::Object(y)) => Value::Object(merge_patches(x, y, sub)),
            (Some(Value::Array(x)), Value::Array(y)) if meta.is_merge() && meta.merge_key.is_some() => {
                let key = meta.merge_key.clone().unwrap_or_default();
                let items = sub.and_then(|s| s.items());
                let mut out = x;
                for item in y {
                    let kv = key_of(&item, &key).cloned();
                    let pos = out.iter().position(|e| kv.is_some() && key_of(e, &key) == kv.as_ref());
                    match (pos, item) {
                        (Some(i), Value::Object(im)) => {
                            if let Value::Object(em) = out.remove(i) {
                                out.insert(i, Value::Object(merge_patches(em, im, items)));
                            }
                        }
                        (_, item) => out.push(item),
                    }
                }
                Value::Array(out)
            }
            (_, bv) => bv,
        };
        a.insert(k, merged);
    }
    a
}

#[cfg(test)]
mod tests;
