//! Schema-aware walks over objects for server-side apply, after structured-merge-diff's `typed`
//! package: field sets of a value, comparison, apply merge, item removal.

use serde_json::{Map, Value};

use super::fieldset::{FieldSet, Path, PathElement, path_string};
use crate::schema::model::{FieldMeta, SchemaLookup, TypeRef};

/// How a list's elements are identified.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ListKind {
    Atomic,
    Set,
    Map(Vec<String>),
}

/// What a position in an object holds, for apply purposes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Shape {
    /// A named object type with declared fields.
    Struct(String),
    /// A granular map; `None` elements are deduced from their values.
    Map(Option<TypeRef>),
    List(ListKind, TypeRef),
    /// Scalars and atomic maps and lists.
    Leaf,
    /// Unknown to the schema: maps are granular, everything else atomic.
    Deduced,
}

/// Default values of list-map key fields that clients may omit (upstream reads them from the
/// OpenAPI `default`; `protocol` is the only defaulted key among the built-in types).
fn key_default(key: &str) -> Option<Value> {
    (key == "protocol").then(|| Value::String("TCP".to_string()))
}

fn list_kind(meta: Option<&FieldMeta>, elem: &TypeRef) -> ListKind {
    let Some(meta) = meta else {
        return ListKind::Atomic;
    };
    match meta.list_type.as_deref() {
        Some("set") => return ListKind::Set,
        Some("atomic") => return ListKind::Atomic,
        Some("map") => {
            let keys = if meta.list_map_keys.is_empty() {
                meta.patch_merge_key.iter().cloned().collect()
            } else {
                meta.list_map_keys.clone()
            };
            return if keys.is_empty() {
                ListKind::Atomic
            } else {
                ListKind::Map(keys)
            };
        }
        _ => {}
    }
    let merges = meta
        .patch_strategy
        .as_deref()
        .is_some_and(|s| s.split(',').any(|p| p == "merge"));
    match (&meta.patch_merge_key, elem) {
        (Some(key), _) if merges => ListKind::Map(vec![key.clone()]),
        (None, TypeRef::String | TypeRef::Integer | TypeRef::Number | TypeRef::Boolean) if merges => ListKind::Set,
        _ => ListKind::Atomic,
    }
}

/// The shape of a field of type `tr` with metadata `meta`.
pub(crate) fn resolve(tr: &TypeRef, meta: Option<&FieldMeta>) -> Shape {
    let atomic_map = meta.is_some_and(|m| m.map_type.as_deref() == Some("atomic"));
    match tr {
        TypeRef::Object(name) if !atomic_map => Shape::Struct(name.clone()),
        TypeRef::Map(elem) if !atomic_map => Shape::Map(Some((**elem).clone())),
        TypeRef::Array(elem) => Shape::List(list_kind(meta, elem), (**elem).clone()),
        _ => Shape::Leaf,
    }
}

/// The shape that applies to `value` at a position of shape `shape`.
fn effective(shape: &Shape, value: &Value) -> Shape {
    match (shape, value) {
        (Shape::Deduced, Value::Object(_)) => Shape::Map(None),
        (Shape::Struct(_) | Shape::Map(_), Value::Object(_)) => shape.clone(),
        (Shape::List(..), Value::Array(_)) => shape.clone(),
        _ => Shape::Leaf,
    }
}

fn is_granular(shape: &Shape) -> bool {
    !matches!(shape, Shape::Leaf | Shape::List(ListKind::Atomic, _))
}

fn is_empty_container(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::Object(m)) => m.is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        _ => false,
    }
}

/// Changes between two objects, as upstream's `Comparison`.
#[derive(Debug, Default)]
pub(crate) struct Comparison {
    pub added: FieldSet,
    pub removed: FieldSet,
    pub modified: FieldSet,
}

impl Comparison {
    /// Drops everything at or below the ignored paths.
    pub fn filter(self, ignored: &FieldSet) -> Comparison {
        Comparison {
            added: self.added.recursive_difference(ignored),
            removed: self.removed.recursive_difference(ignored),
            modified: self.modified.recursive_difference(ignored),
        }
    }
}

/// Walks objects with the schema.
pub(crate) struct Typer<'a> {
    pub schema: &'a dyn SchemaLookup,
}

impl Typer<'_> {
    /// The shape of `key` inside a map-like position, and whether it is a declared struct field.
    fn field_shape(&self, shape: &Shape, key: &str) -> (Shape, bool) {
        match shape {
            Shape::Struct(name) => match self.schema.field(name, key) {
                Some(meta) => (resolve(&meta.type_ref, Some(meta)), true),
                None => (Shape::Deduced, false),
            },
            Shape::Map(Some(elem)) => (resolve(elem, None), false),
            _ => (Shape::Deduced, false),
        }
    }

    /// The shape below `pe` in a position of shape `shape`.
    fn child_shape(&self, shape: &Shape, pe: &PathElement) -> Shape {
        match (shape, pe) {
            (_, PathElement::Field(name)) => self.field_shape(shape, name).0,
            (Shape::List(_, elem), _) => resolve(elem, None),
            _ => Shape::Deduced,
        }
    }

    /// The path element of a list item.
    pub fn item_element(&self, kind: &ListKind, item: &Value, index: usize) -> Result<PathElement, String> {
        match kind {
            ListKind::Atomic => Ok(PathElement::Index(index)),
            ListKind::Set => match item {
                Value::Object(_) => Err("associative list without keys has an element that's a map type".into()),
                Value::Array(_) => Err("not supported: associative list with lists as elements".into()),
                Value::Null => Err("associative list without keys has an element that's an explicit null".into()),
                _ => Ok(PathElement::Value(item.clone())),
            },
            ListKind::Map(keys) => {
                let obj = match item {
                    Value::Object(m) => m,
                    Value::Null => return Err("associative list with keys may not have a null element".into()),
                    _ => return Err("associative list with keys may not have non-map elements".into()),
                };
                let mut fields = Vec::with_capacity(keys.len());
                for key in keys {
                    let value = obj.get(key).cloned().or_else(|| key_default(key)).ok_or_else(|| {
                        format!("associative list with keys has an element that omits key field {key:?} (and doesn't have default value)")
                    })?;
                    fields.push((key.clone(), value));
                }
                fields.sort_by(|a, b| a.0.cmp(&b.0));
                Ok(PathElement::Key(fields))
            }
        }
    }

    /// Items of a granular list with their path elements; the first of duplicates wins. With
    /// `strict`, bad or duplicate items are errors.
    fn index_items<'v>(
        &self,
        kind: &ListKind,
        items: &'v [Value],
        path: &Path,
        strict: bool,
    ) -> Result<Vec<(PathElement, &'v Value)>, String> {
        let mut out: Vec<(PathElement, &Value)> = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let pe = match self.item_element(kind, item, i) {
                Ok(pe) => pe,
                Err(e) if strict => return Err(format!("{}: element {i}: {e}", path_string(path))),
                Err(_) => continue,
            };
            if out.iter().any(|(p, _)| *p == pe) {
                if strict {
                    return Err(format!(
                        "{}: duplicate entries for key {}",
                        path_string(path),
                        path_string(&[pe])
                    ));
                }
                continue;
            }
            out.push((pe, item));
        }
        Ok(out)
    }

    /// The fields set in `value` (upstream `ToFieldSet`). Errors on malformed list items.
    pub fn to_field_set(&self, value: &Value, shape: &Shape) -> Result<FieldSet, String> {
        let mut out = FieldSet::new();
        self.collect_fields(value, shape, &mut Vec::new(), &mut out)?;
        Ok(out)
    }

    fn collect_fields(&self, value: &Value, shape: &Shape, path: &mut Path, out: &mut FieldSet) -> Result<(), String> {
        match (effective(shape, value), value) {
            (s @ (Shape::Struct(_) | Shape::Map(_)), Value::Object(map)) => {
                for (key, child) in map {
                    let (cshape, declared) = self.field_shape(&s, key);
                    path.push(PathElement::Field(key.clone()));
                    self.collect_fields(child, &cshape, path, out)?;
                    if child.is_null() || child.as_object().is_some_and(Map::is_empty) || !declared {
                        out.insert(path);
                    }
                    path.pop();
                }
            }
            (Shape::List(kind, elem), Value::Array(items)) if kind != ListKind::Atomic => {
                let eshape = resolve(&elem, None);
                for (pe, item) in self.index_items(&kind, items, path, true)? {
                    path.push(pe);
                    self.collect_fields(item, &eshape, path, out)?;
                    out.insert(path);
                    path.pop();
                }
            }
            _ => out.insert(path),
        }
        Ok(())
    }

    /// Compares two objects (upstream `Compare`).
    pub fn compare(&self, lhs: &Value, rhs: &Value, shape: &Shape) -> Comparison {
        let mut c = Comparison::default();
        self.compare_at(Some(lhs), Some(rhs), shape, &mut Vec::new(), false, &mut c);
        c
    }

    fn compare_at(
        &self,
        lhs: Option<&Value>,
        rhs: Option<&Value>,
        shape: &Shape,
        path: &mut Path,
        mark_self: bool,
        c: &mut Comparison,
    ) {
        let Some(eff) = common_shape(shape, lhs, rhs) else {
            return;
        };
        let leaf = !is_granular(&eff) || (is_empty_container(lhs) && is_empty_container(rhs));
        if leaf {
            match (lhs, rhs) {
                (None, _) => c.added.insert(path),
                (_, None) => c.removed.insert(path),
                (Some(l), Some(r)) if l != r => c.modified.insert(path),
                _ => {}
            }
            return;
        }
        self.compare_children(lhs, rhs, &eff, path, c);
        // Upstream marks added or removed non-leaf nodes too, but compares against Go zero values
        // where value structs and fields without omitempty (required ones) always exist; those are
        // never marked.
        if !mark_self {
            return;
        }
        match (lhs, rhs) {
            (None, _) => c.added.insert(path),
            (_, None) => c.removed.insert(path),
            _ => {}
        }
    }

    fn compare_children(
        &self,
        lhs: Option<&Value>,
        rhs: Option<&Value>,
        eff: &Shape,
        path: &mut Path,
        c: &mut Comparison,
    ) {
        match eff {
            Shape::List(kind, elem) => {
                let eshape = resolve(elem, None);
                let l = self.list_items(kind, lhs, path);
                let r = self.list_items(kind, rhs, path);
                for (pe, lv, rv) in zip_items(&l, &r) {
                    path.push(pe);
                    self.compare_at(lv, rv, &eshape, path, true, c);
                    path.pop();
                }
            }
            _ => {
                let empty = Map::new();
                let l = lhs.and_then(Value::as_object).unwrap_or(&empty);
                let r = rhs.and_then(Value::as_object).unwrap_or(&empty);
                for key in l.keys().chain(r.keys().filter(|k| !l.contains_key(*k))) {
                    let (cshape, _) = self.field_shape(eff, key);
                    let required = match eff {
                        Shape::Struct(name) => self.schema.field(name, key).is_some_and(|m| m.required),
                        _ => false,
                    };
                    path.push(PathElement::Field(key.clone()));
                    let mark = !required && !matches!(cshape, Shape::Struct(_));
                    self.compare_at(l.get(key), r.get(key), &cshape, path, mark, c);
                    path.pop();
                }
            }
        }
    }

    fn list_items<'v>(&self, kind: &ListKind, v: Option<&'v Value>, path: &Path) -> Vec<(PathElement, &'v Value)> {
        match v {
            Some(Value::Array(items)) => self.index_items(kind, items, path, false).unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    /// Merges the applied configuration `rhs` into `lhs` (upstream `Merge` with keep-RHS rules).
    pub fn merge(&self, lhs: &Value, rhs: &Value, shape: &Shape) -> Result<Value, String> {
        self.merge_at(Some(lhs), rhs, shape, &mut Vec::new())
    }

    fn merge_at(&self, lhs: Option<&Value>, rhs: &Value, shape: &Shape, path: &mut Path) -> Result<Value, String> {
        let Some(lhs) = lhs else {
            self.to_field_set(rhs, shape)?;
            return Ok(rhs.clone());
        };
        let Some(eff) = common_shape(shape, Some(lhs), Some(rhs)) else {
            return Ok(rhs.clone());
        };
        if !is_granular(&eff) || (is_empty_container(Some(lhs)) && is_empty_container(Some(rhs))) {
            return Ok(rhs.clone());
        }
        match (&eff, lhs, rhs) {
            (Shape::List(kind, elem), Value::Array(l), Value::Array(r)) => {
                let eshape = resolve(elem, None);
                let l = self.index_items(kind, l, path, false)?;
                let r = self.index_items(kind, r, path, true)?;
                let mut out = Vec::with_capacity(l.len().max(r.len()));
                for (pe, lv, rv) in ordered_merge(&l, &r) {
                    path.push(pe);
                    out.push(match rv {
                        Some(rv) => self.merge_at(lv, rv, &eshape, path)?,
                        None => lv.cloned().unwrap_or(Value::Null),
                    });
                    path.pop();
                }
                Ok(Value::Array(out))
            }
            (_, Value::Object(l), Value::Object(r)) => {
                let mut out = l.clone();
                for (key, rv) in r {
                    let (cshape, _) = self.field_shape(&eff, key);
                    path.push(PathElement::Field(key.clone()));
                    let merged = self.merge_at(l.get(key), rv, &cshape, path)?;
                    path.pop();
                    out.insert(key.clone(), merged);
                }
                Ok(Value::Object(out))
            }
            _ => Ok(rhs.clone()),
        }
    }

    /// Removes the members of `set` (with everything below them) from `value`.
    pub fn remove_items(&self, value: &Value, set: &FieldSet, shape: &Shape) -> Value {
        match (effective(shape, value), value) {
            (Shape::List(kind, elem), Value::Array(items)) if kind != ListKind::Atomic => {
                let eshape = resolve(&elem, None);
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let Ok(pe) = self.item_element(&kind, item, i) else {
                        out.push(item.clone());
                        continue;
                    };
                    if set.member_at(&pe) {
                        continue;
                    }
                    out.push(match set.child(&pe) {
                        Some(sub) => self.remove_items(item, sub, &eshape),
                        None => item.clone(),
                    });
                }
                Value::Array(out)
            }
            (s @ (Shape::Struct(_) | Shape::Map(_)), Value::Object(map)) => {
                let mut out = Map::new();
                for (key, child) in map {
                    let pe = PathElement::Field(key.clone());
                    if set.member_at(&pe) {
                        continue;
                    }
                    let kept = match set.child(&pe) {
                        Some(sub) => self.remove_items(child, sub, &self.field_shape(&s, key).0),
                        None => child.clone(),
                    };
                    out.insert(key.clone(), kept);
                }
                Value::Object(out)
            }
            _ => value.clone(),
        }
    }

    /// Adds declared struct fields that have members below them as members themselves (upstream
    /// `EnsureNamedFieldsAreMembers`).
    pub fn ensure_named_fields(&self, set: &FieldSet, shape: &Shape) -> FieldSet {
        let mut out = FieldSet::new();
        for (pe, member, children) in set.entries() {
            let named = match (shape, pe) {
                (Shape::Struct(name), PathElement::Field(f)) => self.schema.field(name, f).is_some(),
                _ => false,
            };
            let cshape = self.child_shape(shape, pe);
            let has_children = !children.is_empty();
            out.put(
                pe.clone(),
                member || (named && has_children),
                self.ensure_named_fields(children, &cshape),
            );
        }
        out
    }
}

/// The shape both sides share, or the leaf shape when they disagree.
fn common_shape(shape: &Shape, lhs: Option<&Value>, rhs: Option<&Value>) -> Option<Shape> {
    match (lhs, rhs) {
        (None, None) => None,
        (Some(v), None) | (None, Some(v)) => Some(effective(shape, v)),
        (Some(l), Some(r)) => {
            let (a, b) = (effective(shape, l), effective(shape, r));
            Some(if a == b { a } else { Shape::Leaf })
        }
    }
}

type Zipped<'v> = (PathElement, Option<&'v Value>, Option<&'v Value>);

/// Union of two indexed lists: left items in order, then right-only items.
fn zip_items<'v>(l: &[(PathElement, &'v Value)], r: &[(PathElement, &'v Value)]) -> Vec<Zipped<'v>> {
    let find = |list: &[(PathElement, &'v Value)], pe: &PathElement| list.iter().find(|(p, _)| p == pe).map(|x| x.1);
    let mut out: Vec<Zipped<'v>> = l.iter().map(|(pe, v)| (pe.clone(), Some(*v), find(r, pe))).collect();
    for (pe, v) in r {
        if find(l, pe).is_none() {
            out.push((pe.clone(), None, Some(*v)));
        }
    }
    out
}

/// The element order of an apply merge, as upstream: shared items follow the applied order, live-only
/// items keep their place, new items come where the applied list puts them.
fn ordered_merge<'v>(l: &[(PathElement, &'v Value)], r: &[(PathElement, &'v Value)]) -> Vec<Zipped<'v>> {
    let find = |list: &[(PathElement, &'v Value)], pe: &PathElement| list.iter().find(|(p, _)| p == pe).map(|x| x.1);
    let shared: Vec<&PathElement> = r.iter().map(|(pe, _)| pe).filter(|pe| find(l, pe).is_some()).collect();
    let mut next_shared = 0usize;
    let mut done: Vec<PathElement> = Vec::new();
    let mut out = Vec::new();
    let (mut li, mut ri) = (0usize, 0usize);
    while li < l.len() || ri < r.len() {
        if li < l.len() && ri < r.len() {
            let pe = &l[li].0;
            if *pe == r[ri].0 {
                done.push(pe.clone());
                out.push((pe.clone(), Some(l[li].1), Some(r[ri].1)));
                li += 1;
                ri += 1;
                next_shared += 1;
                continue;
            }
            let in_rhs = find(r, pe).is_some();
            if in_rhs && shared.get(next_shared).is_some_and(|s| *s != pe) {
                li += 1;
                continue;
            }
        }
        if li < l.len() {
            let pe = &l[li].0;
            if find(r, pe).is_none() {
                out.push((pe.clone(), Some(l[li].1), None));
                li += 1;
                continue;
            }
            if done.contains(pe) {
                li += 1;
                continue;
            }
        }
        if ri < r.len() {
            let pe = &r[ri].0;
            done.push(pe.clone());
            out.push((pe.clone(), find(l, pe), Some(r[ri].1)));
            ri += 1;
            if shared.get(next_shared).is_some_and(|s| *s == pe) {
                next_shared += 1;
            }
        }
    }
    out
}
