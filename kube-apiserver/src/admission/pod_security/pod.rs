//! Read-only accessors over a pod's metadata and spec as JSON, treating `null` like an absent field.

use serde_json::Value;

/// The metadata and spec of a pod or pod template.
pub(crate) struct PodView<'a> {
    pub meta: &'a Value,
    pub spec: &'a Value,
}

impl<'a> PodView<'a> {
    pub(crate) fn new(meta: &'a Value, spec: &'a Value) -> Self {
        PodView { meta, spec }
    }

    /// Every container in upstream's visiting order: init containers, containers, ephemeral containers.
    pub(crate) fn containers(&self) -> impl Iterator<Item = &'a Value> + 'a {
        let spec = self.spec;
        ["initContainers", "containers", "ephemeralContainers"]
            .into_iter()
            .flat_map(move |key| field(spec, key).and_then(Value::as_array).into_iter().flatten())
    }

    /// `spec.securityContext`, if set.
    pub(crate) fn security_context(&self) -> Option<&'a Value> {
        field(self.spec, "securityContext")
    }

    /// `spec.securityContext.<key>`, if set.
    pub(crate) fn security_field(&self, key: &str) -> Option<&'a Value> {
        self.security_context().and_then(|sc| field(sc, key))
    }

    /// `spec.volumes`.
    pub(crate) fn volumes(&self) -> impl Iterator<Item = &'a Value> + 'a {
        field(self.spec, "volumes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
    }

    /// `metadata.annotations` as (key, string value) pairs.
    pub(crate) fn annotations(&self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        field(self.meta, "annotations")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| Some((k.as_str(), v.as_str()?)))
    }

    /// A string annotation value.
    pub(crate) fn annotation(&self, key: &str) -> Option<&'a str> {
        field(self.meta, "annotations")
            .and_then(|a| field(a, key))
            .and_then(Value::as_str)
    }

    /// Whether `spec.<key>` is `true`.
    pub(crate) fn spec_flag(&self, key: &str) -> bool {
        is_true(field(self.spec, key))
    }

    /// Whether `spec.os.name` is `windows` (the 1.25+ exemption of some restricted checks).
    pub(crate) fn is_windows(&self) -> bool {
        field(self.spec, "os").and_then(|os| str_field(os, "name")) == Some("windows")
    }
}

/// `value[key]` unless absent or `null`.
pub(crate) fn field<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    value.get(key).filter(|v| !v.is_null())
}

/// `value[key]` as a string.
pub(crate) fn str_field<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    field(value, key).and_then(Value::as_str)
}

/// Whether an optional JSON value is the boolean `true`.
pub(crate) fn is_true(value: Option<&Value>) -> bool {
    value.and_then(Value::as_bool) == Some(true)
}

/// A container's name (empty when missing).
pub(crate) fn name(container: &Value) -> &str {
    str_field(container, "name").unwrap_or_default()
}

/// `container.securityContext.<key>`, if set.
pub(crate) fn container_security_field<'a>(container: &'a Value, key: &str) -> Option<&'a Value> {
    field(container, "securityContext").and_then(|sc| field(sc, key))
}

/// The strings of an optional JSON array (non-strings skipped).
pub(crate) fn strings(value: Option<&Value>) -> impl Iterator<Item = &str> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}
