//! `metadata.managedFields`: decoding entries into per-manager field sets and encoding them back in
//! upstream's order.

use serde_json::{Map, Value};

use super::fieldset::FieldSet;

pub(crate) const APPLY: &str = "Apply";
pub(crate) const UPDATE: &str = "Update";

/// One manager's fields: a managedFields entry.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Manager {
    pub manager: String,
    pub operation: String,
    pub api_version: String,
    pub subresource: Option<String>,
    pub time: Option<String>,
    pub set: FieldSet,
}

impl Manager {
    /// Whether `self` is the manager identified by the other fields; appliers are one manager
    /// across API versions, updaters one per version (upstream `BuildManagerIdentifier`).
    pub fn is(&self, manager: &str, operation: &str, api_version: &str, subresource: Option<&str>) -> bool {
        self.manager == manager
            && self.operation == operation
            && self.subresource.as_deref() == subresource
            && (operation == APPLY || self.api_version == api_version)
    }

    fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("manager".into(), Value::String(self.manager.clone()));
        m.insert("operation".into(), Value::String(self.operation.clone()));
        m.insert("apiVersion".into(), Value::String(self.api_version.clone()));
        if let Some(t) = &self.time {
            m.insert("time".into(), Value::String(t.clone()));
        }
        m.insert("fieldsType".into(), Value::String("FieldsV1".into()));
        m.insert("fieldsV1".into(), self.set.to_fields_v1());
        if let Some(s) = &self.subresource {
            m.insert("subresource".into(), Value::String(s.clone()));
        }
        Value::Object(m)
    }

    fn from_value(v: &Value, index: usize) -> Result<Manager, String> {
        let text = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let operation = text("operation");
        if operation != APPLY && operation != UPDATE {
            return Err("operation must be `Apply` or `Update`".into());
        }
        let api_version = text("apiVersion");
        if api_version.is_empty() {
            return Err("apiVersion must not be empty".into());
        }
        match text("fieldsType").as_str() {
            "FieldsV1" => {}
            "" => return Err(format!("missing fieldsType in managed fields entry {index}")),
            other => return Err(format!("invalid fieldsType {other:?} in managed fields entry {index}")),
        }
        let set = match v.get("fieldsV1") {
            Some(f) => FieldSet::from_fields_v1(f)?,
            None => FieldSet::new(),
        };
        let subresource = Some(text("subresource")).filter(|s| !s.is_empty());
        let time = v.get("time").and_then(Value::as_str).map(str::to_string);
        Ok(Manager {
            manager: text("manager"),
            operation,
            api_version,
            subresource,
            time,
            set,
        })
    }
}

/// The raw managedFields list of an object, if any.
pub(crate) fn raw_entries(obj: &Value) -> Option<&Vec<Value>> {
    obj.get("metadata")?.get("managedFields")?.as_array()
}

/// Decodes an object's managedFields; a missing list is empty.
pub(crate) fn decode(obj: &Value) -> Result<Vec<Manager>, String> {
    let Some(entries) = raw_entries(obj) else {
        return Ok(Vec::new());
    };
    entries
        .iter()
        .enumerate()
        .map(|(i, e)| Manager::from_value(e, i))
        .collect()
}

/// Whether the list is the reset marker `[{}]`.
pub(crate) fn is_reset(obj: &Value) -> bool {
    raw_entries(obj).is_some_and(|e| e.len() == 1 && e[0].as_object().is_some_and(Map::is_empty))
}

/// Encodes managers (dropping empty ones) in upstream's order: operation, time, manager,
/// apiVersion, subresource.
pub(crate) fn encode(managers: &[Manager]) -> Vec<Value> {
    let mut kept: Vec<&Manager> = managers.iter().filter(|m| !m.set.is_empty()).collect();
    kept.sort_by(|a, b| {
        a.operation
            .cmp(&b.operation)
            .then_with(|| a.time.as_deref().unwrap_or("").cmp(b.time.as_deref().unwrap_or("")))
            .then_with(|| a.manager.cmp(&b.manager))
            .then_with(|| a.api_version.cmp(&b.api_version))
            .then_with(|| a.subresource.cmp(&b.subresource))
    });
    kept.into_iter().map(Manager::to_value).collect()
}

/// `obj` with its managedFields replaced (removed when there are none).
pub(crate) fn with_managed_fields(mut obj: Value, managers: &[Manager]) -> Value {
    let entries = encode(managers);
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        if entries.is_empty() {
            meta.remove("managedFields");
        } else {
            meta.insert("managedFields".into(), Value::Array(entries));
        }
    } else if let (false, Some(root)) = (entries.is_empty(), obj.as_object_mut()) {
        let mut meta = Map::new();
        meta.insert("managedFields".into(), Value::Array(entries));
        root.insert("metadata".into(), Value::Object(meta));
    }
    obj
}

/// `obj` without managedFields, for comparisons.
pub(crate) fn without_managed_fields(obj: &Value) -> Value {
    let mut out = obj.clone();
    if let Some(meta) = out.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
    }
    out
}
