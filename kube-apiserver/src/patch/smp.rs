//! Strategic merge patch (`application/strategic-merge-patch+json`) as apimachinery's strategicpatch
//! package applies it on the server, with every directive: `$patch`, `$setElementOrder/`,
//! `$deleteFromPrimitiveList/` and `$retainKeys`.

use serde_json::{Map, Value};

use super::PatchError;
use crate::schema::model::{FieldMeta, SchemaLookup, TypeRef};

const DIRECTIVE: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const SET_ORDER_PREFIX: &str = "$setElementOrder";
const DELETE_PRIMITIVE_PREFIX: &str = "$deleteFromPrimitiveList";

const ERR_RETAIN_KEYS: &str = "invalid patch format of retainKeys";
const ERR_SET_ORDER: &str = "invalid patch format of setElementOrder list";
const ERR_PRIMITIVE_LIST: &str = "invalid patch format of primitive list";

/// Applies a strategic merge patch to `original`, an object of type `type_name`.
pub fn strategic_merge(
    original: &Value,
    patch: &Value,
    schema: &dyn SchemaLookup,
    type_name: &str,
) -> Result<Value, PatchError> {
    let Value::Object(patch) = patch else {
        return Err(PatchError::BadRequest("invalid JSON document".into()));
    };
    let original = original.as_object().cloned().unwrap_or_default();
    let merger = Merger { schema };
    merger
        .merge_map(original, patch.clone(), &Ctx::Struct(type_name.to_string()))
        .map(Value::Object)
}

/// The type of the map being merged.
#[derive(Debug, Clone)]
enum Ctx {
    Struct(String),
    MapOf(TypeRef),
    Unknown,
}

impl Ctx {
    fn of(tr: &TypeRef) -> Ctx {
        match tr {
            TypeRef::Object(name) => Ctx::Struct(name.clone()),
            TypeRef::Map(elem) => Ctx::MapOf((**elem).clone()),
            TypeRef::Array(elem) => Ctx::of(elem),
            _ => Ctx::Unknown,
        }
    }
}

/// Patch metadata of one field.
#[derive(Debug, Default)]
struct FieldPatch {
    merge: bool,
    replace: bool,
    merge_key: Option<String>,
}

impl FieldPatch {
    fn from_meta(meta: Option<&FieldMeta>) -> Self {
        let Some(meta) = meta else {
            return Self::default();
        };
        let strategies: Vec<&str> = meta.patch_strategy.as_deref().unwrap_or("").split(',').collect();
        FieldPatch {
            merge: strategies.contains(&"merge"),
            replace: strategies.contains(&"replace"),
            merge_key: meta.patch_merge_key.clone(),
        }
    }

    fn key(&self) -> &str {
        self.merge_key.as_deref().unwrap_or("")
    }
}

fn bad(msg: impl Into<String>) -> PatchError {
    PatchError::BadRequest(msg.into())
}

fn no_merge_key(item: &Value, key: &str) -> PatchError {
    bad(format!("map: {item} does not contain declared merge key: {key}"))
}

/// The element kind of a list, as Go's reflect kinds matter to upstream.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Map,
    Scalar,
}

fn element_kind(lists: &[&[Value]]) -> Result<Option<Kind>, PatchError> {
    let mut seen: Option<u8> = None;
    for v in lists.iter().flat_map(|l| l.iter()) {
        let tag = match v {
            Value::Array(_) => return Err(PatchError::Invalid("lists of lists are not supported".into())),
            Value::Object(_) => 0,
            Value::String(_) => 1,
            Value::Number(_) => 2,
            Value::Bool(_) => 3,
            Value::Null => 4,
        };
        match seen {
            Some(prev) if prev != tag => {
                let all: Vec<Value> = lists.iter().map(|l| Value::Array(l.to_vec())).collect();
                return Err(bad(format!(
                    "list element types are not identical: {}",
                    Value::Array(all)
                )));
            }
            _ => seen = Some(tag),
        }
    }
    Ok(seen.map(|t| if t == 0 { Kind::Map } else { Kind::Scalar }))
}

/// Whether two list items are the same element: by merge key for maps, by value otherwise.
fn same_item(a: &Value, b: &Value, key: &str) -> bool {
    if key.is_empty() {
        return a == b;
    }
    match (a.get(key), b.get(key)) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

fn position(list: &[Value], item: &Value, key: &str) -> Option<usize> {
    list.iter().position(|v| same_item(v, item, key))
}

fn is_delete_item(v: &Value) -> bool {
    v.get(DIRECTIVE).and_then(Value::as_str) == Some("delete")
}

fn require_merge_key(items: &[Value], key: &str) -> Result<(), PatchError> {
    match items.iter().find(|v| v.get(key).is_none()) {
        Some(item) => Err(no_merge_key(item, key)),
        None => Ok(()),
    }
}

/// Sorts `items` by their place in `order` (stable; items not in `order` keep their place among
/// equals), with `$patch: delete` items moved to the end.
fn sort_by_order(items: Vec<Value>, order: &[Value], key: &str, kind: Kind) -> Result<Vec<Value>, PatchError> {
    let (mut keep, deletes): (Vec<Value>, Vec<Value>) = if kind == Kind::Map {
        require_merge_key(&items, key)?;
        require_merge_key(order, key)?;
        items.into_iter().partition(|v| !is_delete_item(v))
    } else {
        (items, Vec::new())
    };
    keep.sort_by_key(|v| position(order, v, key).unwrap_or(usize::MAX));
    keep.extend(deletes);
    Ok(keep)
}

/// Upstream's `normalizeElementOrder`: patch items ordered by `patch_order`, server-only items by
/// `server_order`, then interleaved by their places in `server_order`.
fn normalize_order(
    patch_items: Vec<Value>,
    server_only: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    key: &str,
    kind: Kind,
) -> Result<Vec<Value>, PatchError> {
    let right = sort_by_order(patch_items, patch_order, key, kind)?;
    let left = sort_by_order(server_only, server_order, key, kind)?;
    let mut out = Vec::with_capacity(left.len() + right.len());
    let (mut i, mut j) = (0, 0);
    while i < left.len() || j < right.len() {
        let take_left = if i >= left.len() {
            false
        } else if j >= right.len() {
            true
        } else {
            match (
                position(server_order, &left[i], key),
                position(server_order, &right[j], key),
            ) {
                (Some(li), Some(ri)) => li < ri,
                _ => false,
            }
        };
        if take_left {
            out.push(left[i].clone());
            i += 1;
        } else {
            out.push(right[j].clone());
            j += 1;
        }
    }
    Ok(out)
}

/// Splits `merged` into items present in `by` and the others.
fn partition(merged: Vec<Value>, by: &[Value], key: &str) -> (Vec<Value>, Vec<Value>) {
    merged.into_iter().partition(|v| position(by, v, key).is_some())
}

fn directive_key<'k>(key: &'k str, prefix: &str, err: &str) -> Result<Option<&'k str>, PatchError> {
    match key.split_once('/') {
        Some((p, rest)) if p == prefix => Ok(Some(rest)),
        None if key == prefix => Err(bad(err)),
        _ => Ok(None),
    }
}

struct Merger<'a> {
    schema: &'a dyn SchemaLookup,
}

impl Merger<'_> {
    /// The patch metadata and the child context of `key` in a map of context `ctx`.
    fn field(&self, ctx: &Ctx, key: &str) -> (FieldPatch, Ctx) {
        match ctx {
            Ctx::Struct(name) => match self.schema.field(name, key) {
                Some(meta) => (FieldPatch::from_meta(Some(meta)), Ctx::of(&meta.type_ref)),
                None => (FieldPatch::default(), Ctx::Unknown),
            },
            Ctx::MapOf(elem) => (FieldPatch::default(), Ctx::of(elem)),
            Ctx::Unknown => (FieldPatch::default(), Ctx::Unknown),
        }
    }

    fn merge_map(
        &self,
        mut original: Map<String, Value>,
        mut patch: Map<String, Value>,
        ctx: &Ctx,
    ) -> Result<Map<String, Value>, PatchError> {
        if let Some(directive) = patch.remove(DIRECTIVE) {
            return match directive.as_str() {
                Some("replace") => self.merge_map(Map::new(), patch, ctx),
                Some("delete") => Ok(Map::new()),
                _ => {
                    patch.insert(DIRECTIVE.into(), directive.clone());
                    Err(bad(format!(
                        "unknown patch type: {directive} in map: {}",
                        Value::Object(patch)
                    )))
                }
            };
        }
        apply_retain_keys(&mut original, &mut patch)?;
        self.apply_set_element_order(&mut original, &mut patch, ctx)?;
        for (key, value) in patch {
            self.merge_entry(&mut original, key, value, ctx)?;
        }
        Ok(original)
    }

    fn merge_entry(
        &self,
        original: &mut Map<String, Value>,
        key: String,
        value: Value,
        ctx: &Ctx,
    ) -> Result<(), PatchError> {
        let (key, is_delete_list) = match directive_key(&key, DELETE_PRIMITIVE_PREFIX, ERR_PRIMITIVE_LIST)? {
            Some(k) => (k.to_string(), true),
            None => (key, false),
        };
        if value.is_null() {
            original.remove(&key);
            return Ok(());
        }
        let (meta, child) = self.field(ctx, &key);
        let merged = match original.get(&key) {
            None if is_delete_list => return Ok(()),
            None => self.fresh_value(value, &meta, &child)?,
            Some(current) => match (current, value) {
                (Value::Object(o), Value::Object(p)) if !meta.replace => {
                    Value::Object(self.merge_map(o.clone(), p, &child)?)
                }
                (Value::Array(o), Value::Array(p)) => {
                    Value::Array(self.merge_list_field(o.clone(), p, &meta, &child, is_delete_list)?)
                }
                (_, _) if is_delete_list => return Ok(()),
                (_, value) => value,
            },
        };
        original.insert(key, merged);
        Ok(())
    }

    /// A patch value for a key the original lacks, with its directives and nulls processed.
    fn fresh_value(&self, value: Value, meta: &FieldPatch, child: &Ctx) -> Result<Value, PatchError> {
        match value {
            Value::Object(p) if !meta.replace => Ok(Value::Object(self.merge_map(Map::new(), p, child)?)),
            Value::Array(p) => Ok(Value::Array(self.merge_list_field(
                Vec::new(),
                p,
                meta,
                child,
                false,
            )?)),
            other => Ok(other),
        }
    }

    fn merge_list_field(
        &self,
        original: Vec<Value>,
        patch: Vec<Value>,
        meta: &FieldPatch,
        child: &Ctx,
        is_delete_list: bool,
    ) -> Result<Vec<Value>, PatchError> {
        if !meta.merge {
            return Ok(patch);
        }
        self.merge_slice(original, patch, meta.key(), child, is_delete_list)
    }

    fn merge_slice(
        &self,
        original: Vec<Value>,
        patch: Vec<Value>,
        key: &str,
        child: &Ctx,
        is_delete_list: bool,
    ) -> Result<Vec<Value>, PatchError> {
        let Some(kind) = element_kind(&[&original, &patch])? else {
            return Ok(original);
        };
        let (server_order, patch, merged) = if kind == Kind::Scalar {
            if is_delete_list {
                return Ok(original.into_iter().filter(|v| !patch.contains(v)).collect());
            }
            let mut merged = original.clone();
            for v in &patch {
                if !merged.contains(v) {
                    merged.push(v.clone());
                }
            }
            (original, patch, merged)
        } else {
            if key.is_empty() {
                return Err(bad("cannot merge lists without merge key for type map"));
            }
            let (original, patch) = apply_special_elements(original, patch, key)?;
            let merged = self.merge_keyed_items(original.clone(), &patch, key, child)?;
            (original, patch, merged)
        };
        let item_key = if kind == Kind::Map { key } else { "" };
        let (patch_items, server_only) = partition(merged, &patch, item_key);
        normalize_order(patch_items, server_only, &patch, &server_order, item_key, kind)
    }

    fn merge_keyed_items(
        &self,
        mut original: Vec<Value>,
        patch: &[Value],
        key: &str,
        child: &Ctx,
    ) -> Result<Vec<Value>, PatchError> {
        for item in patch {
            let Value::Object(p) = item else {
                return Err(no_merge_key(item, key));
            };
            if !p.contains_key(key) {
                return Err(no_merge_key(item, key));
            }
            match original.iter().position(|o| same_item(o, item, key)) {
                Some(i) => {
                    let current = original[i].as_object().cloned().unwrap_or_default();
                    original[i] = Value::Object(self.merge_map(current, p.clone(), child)?);
                }
                None => original.push(Value::Object(self.merge_map(Map::new(), p.clone(), child)?)),
            }
        }
        Ok(original)
    }

    /// Processes every `$setElementOrder/<list>` in `patch`, merging the list it names and ordering the
    /// result; both are then gone from `patch`.
    fn apply_set_element_order(
        &self,
        original: &mut Map<String, Value>,
        patch: &mut Map<String, Value>,
        ctx: &Ctx,
    ) -> Result<(), PatchError> {
        let order_keys: Vec<String> = patch
            .keys()
            .filter(|k| k.starts_with(SET_ORDER_PREFIX))
            .cloned()
            .collect();
        for order_key in order_keys {
            let Some(list_key) = directive_key(&order_key, SET_ORDER_PREFIX, ERR_SET_ORDER)? else {
                continue;
            };
            let list_key = list_key.to_string();
            let order = match patch.remove(&order_key) {
                Some(Value::Array(order)) => order,
                _ => return Err(bad(ERR_SET_ORDER)),
            };
            let current = take_list(original.get(&list_key))?;
            let patch_list = take_list(patch.remove(&list_key).as_ref())?;
            let (meta, child) = self.field(ctx, &list_key);
            validate_against_order(patch_list.as_deref().unwrap_or(&[]), &order, meta.key())?;
            let merged = match (&current, patch_list.clone()) {
                (None, None) => continue,
                (Some(o), None) => o.clone(),
                (o, Some(p)) => self.merge_list_field(o.clone().unwrap_or_default(), p, &meta, &child, false)?,
            };
            let current = current.unwrap_or_default();
            let Some(kind) = element_kind(&[&current, patch_list.as_deref().unwrap_or(&[])])? else {
                original.insert(list_key, Value::Array(merged));
                continue;
            };
            let key = if kind == Kind::Map { meta.key() } else { "" };
            if kind == Kind::Map && key.is_empty() {
                original.insert(list_key, Value::Array(merged));
                continue;
            }
            let (patch_items, server_only) = partition(merged, &order, key);
            let ordered = normalize_order(patch_items, server_only, &order, &current, key, kind)?;
            original.insert(list_key, Value::Array(ordered));
        }
        Ok(())
    }
}

fn take_list(v: Option<&Value>) -> Result<Option<Vec<Value>>, PatchError> {
    match v {
        None => Ok(None),
        Some(Value::Array(items)) => Ok(Some(items.clone())),
        Some(other) => Err(bad(format!("expected a []interface {{}}, but received {other}"))),
    }
}

/// `$patch` elements of a merge list: `delete` removes matching originals, `replace` makes the other
/// patch items the whole list. Returns the new original and the plain patch items.
fn apply_special_elements(
    mut original: Vec<Value>,
    patch: Vec<Value>,
    key: &str,
) -> Result<(Vec<Value>, Vec<Value>), PatchError> {
    let mut plain = Vec::with_capacity(patch.len());
    let mut replace = false;
    for item in patch {
        let Some(directive) = item.get(DIRECTIVE) else {
            plain.push(item);
            continue;
        };
        match directive.as_str() {
            Some("delete") => {
                let Some(target) = item.get(key) else {
                    return Err(no_merge_key(&item, key));
                };
                original.retain(|o| o.get(key) != Some(target));
            }
            Some("replace") => replace = true,
            Some("merge") => return Err(bad("merging lists cannot yet be specified in the patch")),
            _ => return Err(bad(format!("unknown patch type: {directive} in map: {item}"))),
        }
    }
    if replace {
        Ok((plain, Vec::new()))
    } else {
        Ok((original, plain))
    }
}

/// `$retainKeys`: drops original keys not listed; every patch key must be listed.
fn apply_retain_keys(original: &mut Map<String, Value>, patch: &mut Map<String, Value>) -> Result<(), PatchError> {
    let Some(retain) = patch.remove(RETAIN_KEYS) else {
        return Ok(());
    };
    let Value::Array(retain) = retain else {
        return Err(bad(ERR_RETAIN_KEYS));
    };
    let listed = |k: &str| retain.iter().any(|r| r.as_str() == Some(k));
    for (k, v) in patch.iter() {
        let directive = k.starts_with(DELETE_PRIMITIVE_PREFIX) || k.starts_with(SET_ORDER_PREFIX);
        if !v.is_null() && !directive && !listed(k) {
            return Err(bad(ERR_RETAIN_KEYS));
        }
    }
    original.retain(|k, _| listed(k));
    Ok(())
}

/// The non-deleted patch items must appear in `$setElementOrder` in the same relative order.
fn validate_against_order(patch: &[Value], order: &[Value], key: &str) -> Result<(), PatchError> {
    if patch.is_empty() || order.is_empty() {
        return Ok(());
    }
    let items: Vec<&Value> = patch.iter().filter(|v| !is_delete_item(v)).collect();
    let (mut pi, mut oi) = (0, 0);
    while pi < items.len() && oi < order.len() {
        if items[pi].get(DIRECTIVE).is_some() {
            pi += 1;
            continue;
        }
        if !key.is_empty() {
            for v in [items[pi], &order[oi]] {
                if v.get(key).is_none() {
                    return Err(no_merge_key(v, key));
                }
            }
        }
        if same_item(items[pi], &order[oi], key) {
            pi += 1;
        }
        oi += 1;
    }
    if pi < items.len() {
        return Err(bad(format!(
            "The order in patch list:\n{}\n doesn't match {SET_ORDER_PREFIX} list:\n{}\n",
            Value::Array(patch.to_vec()),
            Value::Array(order.to_vec())
        )));
    }
    Ok(())
}
