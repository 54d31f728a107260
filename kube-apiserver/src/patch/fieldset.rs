//! Field sets as structured-merge-diff keeps them: a tree of path elements with member flags, its set
//! algebra, the FieldsV1 wire form (`f:`, `k:`, `v:`, `i:`, `.`) and the `.spec.x[name="a"]` path text.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// One step of a field path.
#[derive(Debug, Clone)]
pub enum PathElement {
    /// A struct field or map key (`f:`).
    Field(String),
    /// A list-map element, identified by its key fields sorted by name (`k:`).
    Key(Vec<(String, Value)>),
    /// A set element (`v:`).
    Value(Value),
    /// An atomic-list position (`i:`).
    Index(usize),
}

impl PathElement {
    fn rank(&self) -> u8 {
        match self {
            PathElement::Field(_) => 0,
            PathElement::Key(_) => 1,
            PathElement::Value(_) => 2,
            PathElement::Index(_) => 3,
        }
    }
}

impl Ord for PathElement {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (PathElement::Field(a), PathElement::Field(b)) => a.cmp(b),
            (PathElement::Key(a), PathElement::Key(b)) => compare_key_lists(a, b),
            (PathElement::Value(a), PathElement::Value(b)) => compare_values(a, b),
            (PathElement::Index(a), PathElement::Index(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl PartialOrd for PathElement {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for PathElement {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for PathElement {}

fn compare_key_lists(a: &[(String, Value)], b: &[(String, Value)]) -> Ordering {
    for (x, y) in a.iter().zip(b.iter()) {
        let ord = x.0.cmp(&y.0).then_with(|| compare_values(&x.1, &y.1));
        if ord != Ordering::Equal {
            return ord;
        }
    }
    a.len().cmp(&b.len())
}

fn value_rank(v: &Value) -> u8 {
    match v {
        Value::Number(_) => 0,
        Value::String(_) => 1,
        Value::Bool(_) => 2,
        Value::Array(_) => 3,
        Value::Object(_) => 4,
        Value::Null => 5,
    }
}

/// A total order over JSON values (numbers < strings < bools < lists < maps < null), as upstream's
/// `value.Compare`.
pub fn compare_values(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => i.cmp(&j),
            _ => x.as_f64().unwrap_or(0.0).total_cmp(&y.as_f64().unwrap_or(0.0)),
        },
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Array(x), Value::Array(y)) => {
            for (p, q) in x.iter().zip(y.iter()) {
                let ord = compare_values(p, q);
                if ord != Ordering::Equal {
                    return ord;
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Object(x), Value::Object(y)) => compare_maps(x, y),
        _ => value_rank(a).cmp(&value_rank(b)),
    }
}

fn compare_maps(x: &Map<String, Value>, y: &Map<String, Value>) -> Ordering {
    let mut xs: Vec<_> = x.iter().collect();
    let mut ys: Vec<_> = y.iter().collect();
    xs.sort_by(|p, q| p.0.cmp(q.0));
    ys.sort_by(|p, q| p.0.cmp(q.0));
    for (p, q) in xs.iter().zip(ys.iter()) {
        let ord = p.0.cmp(q.0).then_with(|| compare_values(p.1, q.1));
        if ord != Ordering::Equal {
            return ord;
        }
    }
    xs.len().cmp(&ys.len())
}

/// A path from the object root.
pub type Path = Vec<PathElement>;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Node {
    member: bool,
    children: FieldSet,
}

impl Node {
    fn is_empty(&self) -> bool {
        !self.member && self.children.is_empty()
    }
}

/// A set of field paths. A path can be a member and also have members below it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSet {
    nodes: BTreeMap<PathElement, Node>,
}

impl FieldSet {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Adds `path` as a member (the empty path is ignored).
    pub fn insert(&mut self, path: &[PathElement]) {
        let Some((first, rest)) = path.split_first() else {
            return;
        };
        let node = self.nodes.entry(first.clone()).or_default();
        if rest.is_empty() {
            node.member = true;
        } else {
            node.children.insert(rest);
        }
    }

    /// Whether `path` is a member.
    pub fn has(&self, path: &[PathElement]) -> bool {
        match path.split_first() {
            None => false,
            Some((first, [])) => self.member_at(first),
            Some((first, rest)) => self.child(first).is_some_and(|c| c.has(rest)),
        }
    }

    /// Whether the element right below the root is a member.
    pub fn member_at(&self, pe: &PathElement) -> bool {
        self.nodes.get(pe).is_some_and(|n| n.member)
    }

    /// The members below `pe`, if any.
    pub fn child(&self, pe: &PathElement) -> Option<&FieldSet> {
        self.nodes.get(pe).map(|n| &n.children).filter(|c| !c.is_empty())
    }

    pub(crate) fn entries(&self) -> impl Iterator<Item = (&PathElement, bool, &FieldSet)> {
        self.nodes.iter().map(|(pe, n)| (pe, n.member, &n.children))
    }

    pub(crate) fn put(&mut self, pe: PathElement, member: bool, children: FieldSet) {
        let node = Node { member, children };
        if !node.is_empty() {
            self.nodes.insert(pe, node);
        }
    }

    pub fn union(&self, other: &FieldSet) -> FieldSet {
        let mut out = self.clone();
        for (pe, node) in &other.nodes {
            let mine = out.nodes.entry(pe.clone()).or_default();
            mine.member |= node.member;
            mine.children = mine.children.union(&node.children);
        }
        out
    }

    /// Members of `self` that are not members of `other` (a member of `other` does not remove
    /// members below it).
    pub fn difference(&self, other: &FieldSet) -> FieldSet {
        self.combine(other, |mine, theirs| mine && !theirs, |c, o| c.difference(o), true)
    }

    pub fn intersection(&self, other: &FieldSet) -> FieldSet {
        self.combine(other, |mine, theirs| mine && theirs, |c, o| c.intersection(o), false)
    }

    /// Like `difference`, but a member of `other` also removes everything below it.
    pub fn recursive_difference(&self, other: &FieldSet) -> FieldSet {
        let mut out = FieldSet::new();
        for (pe, node) in &self.nodes {
            if other.member_at(pe) {
                continue;
            }
            let children = match other.child(pe) {
                Some(o) => node.children.recursive_difference(o),
                None => node.children.clone(),
            };
            out.put(pe.clone(), node.member, children);
        }
        out
    }

    fn combine(
        &self,
        other: &FieldSet,
        member: impl Fn(bool, bool) -> bool + Copy,
        recurse: impl Fn(&FieldSet, &FieldSet) -> FieldSet + Copy,
        keep_unmatched_children: bool,
    ) -> FieldSet {
        let empty = FieldSet::new();
        let mut out = FieldSet::new();
        for (pe, node) in &self.nodes {
            let theirs = other.nodes.get(pe);
            let their_member = theirs.is_some_and(|n| n.member);
            let children = match theirs {
                Some(n) => recurse(&node.children, &n.children),
                None if keep_unmatched_children => node.children.clone(),
                None => recurse(&node.children, &empty),
            };
            out.put(pe.clone(), member(node.member, their_member), children);
        }
        out
    }

    /// Member paths: the members at each level first, then the levels below, as upstream iterates.
    pub fn paths(&self) -> Vec<Path> {
        let mut out = Vec::new();
        self.collect_paths(&mut Vec::new(), &mut out);
        out
    }

    fn collect_paths(&self, prefix: &mut Path, out: &mut Vec<Path>) {
        for (pe, node) in &self.nodes {
            if node.member {
                let mut p = prefix.clone();
                p.push(pe.clone());
                out.push(p);
            }
        }
        for (pe, node) in &self.nodes {
            prefix.push(pe.clone());
            node.children.collect_paths(prefix, out);
            prefix.pop();
        }
    }

    /// The FieldsV1 JSON form.
    pub fn to_fields_v1(&self) -> Value {
        let mut out = Map::new();
        for (pe, node) in &self.nodes {
            let mut inner = Map::new();
            if node.member && !node.children.is_empty() {
                inner.insert(".".to_string(), Value::Object(Map::new()));
            }
            if let Value::Object(children) = node.children.to_fields_v1() {
                inner.extend(children);
            }
            out.insert(encode_element(pe), Value::Object(inner));
        }
        Value::Object(out)
    }

    /// Parses the FieldsV1 JSON form.
    pub fn from_fields_v1(value: &Value) -> Result<FieldSet, String> {
        let Value::Object(map) = value else {
            return Err("FieldsV1 must be an object".to_string());
        };
        let mut out = FieldSet::new();
        for (key, child) in map {
            if key == "." {
                continue;
            }
            let pe = decode_element(key)?;
            let Value::Object(inner) = child else {
                return Err(format!("FieldsV1 entry {key} must be an object"));
            };
            let member = inner.is_empty() || inner.contains_key(".");
            out.put(pe, member, FieldSet::from_fields_v1(child)?);
        }
        Ok(out)
    }
}

fn encode_element(pe: &PathElement) -> String {
    match pe {
        PathElement::Field(name) => format!("f:{name}"),
        PathElement::Key(fields) => {
            let map: Map<String, Value> = fields.iter().cloned().collect();
            format!("k:{}", Value::Object(map))
        }
        PathElement::Value(v) => format!("v:{v}"),
        PathElement::Index(i) => format!("i:{i}"),
    }
}

fn decode_element(key: &str) -> Result<PathElement, String> {
    let bad = || format!("invalid FieldsV1 key {key:?}");
    let (kind, rest) = key.split_once(':').ok_or_else(bad)?;
    match kind {
        "f" => Ok(PathElement::Field(rest.to_string())),
        "k" => match serde_json::from_str::<Value>(rest) {
            Ok(Value::Object(m)) => {
                let mut fields: Vec<(String, Value)> = m.into_iter().collect();
                fields.sort_by(|a, b| a.0.cmp(&b.0));
                Ok(PathElement::Key(fields))
            }
            _ => Err(bad()),
        },
        "v" => serde_json::from_str(rest).map(PathElement::Value).map_err(|_| bad()),
        "i" => rest.parse().map(PathElement::Index).map_err(|_| bad()),
        _ => Err(bad()),
    }
}

/// Upstream's `value.ToString`: strings quoted, everything else as JSON.
fn value_text(v: &Value) -> String {
    v.to_string()
}

/// The text form of a path, e.g. `.spec.template.spec.containers[name="main"].image`.
pub fn path_string(path: &[PathElement]) -> String {
    let mut out = String::new();
    for pe in path {
        match pe {
            PathElement::Field(name) => {
                out.push('.');
                out.push_str(name);
            }
            PathElement::Key(fields) => {
                let parts: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={}", value_text(v))).collect();
                out.push_str(&format!("[{}]", parts.join(",")));
            }
            PathElement::Value(v) => out.push_str(&format!("[={}]", value_text(v))),
            PathElement::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// A path from field names, for building sets by hand.
pub fn field_path(names: &[&str]) -> Path {
    names.iter().map(|n| PathElement::Field((*n).to_string())).collect()
}
