//! Reads a namespace's `pod-security.kubernetes.io/*` labels into a [`Policy`].

use serde_json::Value;

use super::text::go_quote;
use super::{Level, Policy, version};

const LABEL_PREFIX: &str = "pod-security.kubernetes.io/";

/// Reads the `pod-security.kubernetes.io/{enforce,audit,warn}[-version]` labels (unset labels default to
/// privileged/latest). Any invalid value is an error with upstream's field-error text, e.g.
/// `metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "foo": must be one of privileged,
/// baseline, restricted`; several errors are listed as `[first, second]`.
pub fn policy_from_namespace_labels(labels: Option<&Value>) -> Result<Policy, String> {
    let labels = labels.and_then(Value::as_object);
    let lookup = |key: &str| labels.and_then(|map| map.get(&format!("{LABEL_PREFIX}{key}")));
    let defaults = Policy::default();
    let mut errors = Vec::new();
    let policy = Policy {
        enforce: read_mode(&lookup, "enforce", defaults.enforce, &mut errors),
        audit: read_mode(&lookup, "audit", defaults.audit, &mut errors),
        warn: read_mode(&lookup, "warn", defaults.warn, &mut errors),
    };
    match errors.len() {
        0 => Ok(policy),
        1 => Err(errors.swap_remove(0)),
        _ => Err(format!("[{}]", errors.join(", "))),
    }
}

/// Reads the level and version labels of one mode, recording an error for each invalid value.
fn read_mode<'a>(
    lookup: &impl Fn(&str) -> Option<&'a Value>,
    mode: &str,
    default: (Level, String),
    errors: &mut Vec<String>,
) -> (Level, String) {
    let (mut level, mut version) = default;
    if let Some(raw) = lookup(mode) {
        let value = label_text(raw);
        match Level::parse(&value) {
            Some(parsed) => level = parsed,
            None => errors.push(invalid(mode, &value, "must be one of privileged, baseline, restricted")),
        }
    }
    let version_key = format!("{mode}-version");
    if let Some(raw) = lookup(&version_key) {
        let value = label_text(raw);
        match version::parse(&value) {
            Ok(_) => version = value,
            Err(message) => errors.push(invalid(&version_key, &value, message)),
        }
    }
    (level, version)
}

/// A label value as text (labels are strings; anything else is rendered as JSON and fails parsing).
fn label_text(raw: &Value) -> String {
    raw.as_str().map_or_else(|| raw.to_string(), str::to_string)
}

/// Upstream's `field.Invalid(metadata.labels[<key>], value, message)` text.
fn invalid(key: &str, value: &str, message: &str) -> String {
    format!(
        "metadata.labels[{LABEL_PREFIX}{key}]: Invalid value: {}: {message}",
        go_quote(value)
    )
}
