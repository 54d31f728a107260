//! Placeholder until the patch engines land: merge-based behaviour only.

use crate::schema::model::SchemaLookup;
use serde_json::Value;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PatchError(String);

pub fn merge_patch(original: &Value, patch: &Value) -> Value {
    let mut out = original.clone();
    json_patch::merge(&mut out, patch);
    out
}

pub fn json_patch(original: &Value, patch: &Value) -> Result<Value, PatchError> {
    let p: json_patch::Patch = serde_json::from_value(patch.clone()).map_err(|e| PatchError(e.to_string()))?;
    let mut out = original.clone();
    json_patch::patch(&mut out, &p).map_err(|e| PatchError(e.to_string()))?;
    Ok(out)
}

pub fn strategic_merge(original: &Value, patch: &Value, _s: &dyn SchemaLookup, _t: &str) -> Result<Value, PatchError> {
    Ok(merge_patch(original, patch))
}

pub struct ApplyContext<'a> {
    pub manager: &'a str,
    pub force: bool,
    pub api_version: &'a str,
    pub subresource: Option<&'a str>,
    pub now: &'a str,
}

pub struct Conflict {
    pub manager: String,
    pub subresource: Option<String>,
    pub api_version: String,
    pub field: String,
}

pub enum ApplyError {
    Conflicts(Vec<Conflict>),
    Invalid(String),
}

pub fn server_side_apply(
    live: Option<&Value>,
    applied: &Value,
    _c: &ApplyContext,
    _s: &dyn SchemaLookup,
    _t: &str,
) -> Result<Value, ApplyError> {
    Ok(match live {
        Some(l) => merge_patch(l, applied),
        None => applied.clone(),
    })
}

pub fn conflict_message(conflicts: &[Conflict]) -> String {
    format!("Apply failed with {} conflicts", conflicts.len())
}
