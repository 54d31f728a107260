//! Patch engines: strategic merge patch, JSON merge patch, JSON patch, and server-side apply with
//! managedFields tracking, following Kubernetes v1.33 (apimachinery strategicpatch and
//! structured-merge-diff).

mod apply;
mod fieldset;
mod managed;
mod smp;
mod typed;

#[cfg(test)]
mod tests;

use serde_json::Value;

pub use apply::{ApplyContext, ApplyError, Conflict, conflict_message, server_side_apply, track_update};
pub use fieldset::{FieldSet, PathElement, path_string};
pub use smp::strategic_merge;

/// A patch that cannot be applied. Messages follow upstream's where cheap.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PatchError {
    /// Malformed patch: 400 BadRequest.
    #[error("{0}")]
    BadRequest(String),
    /// Well-formed patch that does not apply: 422 (upstream answers with a bare Invalid status).
    #[error("{0}")]
    Invalid(String),
}

/// Applies an RFC 7386 JSON merge patch (`application/merge-patch+json`).
pub fn merge_patch(original: &Value, patch: &Value) -> Value {
    let mut doc = original.clone();
    json_patch::merge(&mut doc, patch);
    doc
}

/// Applies an RFC 6902 JSON patch (`application/json-patch+json`).
pub fn json_patch(original: &Value, patch: &Value) -> Result<Value, PatchError> {
    let ops: json_patch::Patch =
        serde_json::from_value(patch.clone()).map_err(|e| PatchError::BadRequest(e.to_string()))?;
    let mut doc = original.clone();
    json_patch::patch(&mut doc, &ops).map_err(|e| PatchError::Invalid(json_patch_error_text(&ops, &e)))?;
    Ok(doc)
}

/// Upstream (evanphx/json-patch) wording for a failed operation.
fn json_patch_error_text(ops: &json_patch::Patch, err: &json_patch::PatchError) -> String {
    use json_patch::{PatchErrorKind, PatchOperation};
    let path = err.path.to_string();
    let op = ops.0.get(err.operation);
    let name = match op {
        Some(PatchOperation::Add(_)) => "add",
        Some(PatchOperation::Remove(_)) => "remove",
        Some(PatchOperation::Replace(_)) => "replace",
        Some(PatchOperation::Move(_)) => "move",
        Some(PatchOperation::Copy(_)) => "copy",
        Some(PatchOperation::Test(_)) | None => "test",
    };
    match err.kind {
        PatchErrorKind::TestFailed => format!("testing value {path} failed: test failed"),
        PatchErrorKind::InvalidFromPointer => {
            let from = match op {
                Some(PatchOperation::Move(m)) => m.from.to_string(),
                Some(PatchOperation::Copy(c)) => c.from.to_string(),
                _ => path.clone(),
            };
            format!("{name} operation does not apply: doc is missing from path: {from}: missing value")
        }
        PatchErrorKind::InvalidPointer => {
            format!("{name} operation does not apply: doc is missing path: {path:?}: missing value")
        }
        _ => format!("{name} operation failed: {}", err.kind),
    }
}
