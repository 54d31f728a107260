//! PodSecurity admission: the Pod Security Standards checks (privileged, baseline, restricted) and the
//! namespace-label policy, following k8s.io/pod-security-admission of Kubernetes v1.33.
//!
//! Objects are plain `serde_json::Value`s; `evaluate` takes the metadata and spec of a pod or of a
//! workload's pod template.

mod baseline;
mod labels;
mod pod;
mod profiles;
mod registry;
mod restricted;
mod text;
mod version;

#[cfg(test)]
mod tests;

use serde_json::Value;

pub use labels::policy_from_namespace_labels;

/// A Pod Security Standards level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    Privileged,
    Baseline,
    Restricted,
}

impl Level {
    /// The label value / message spelling of the level.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Privileged => "privileged",
            Level::Baseline => "baseline",
            Level::Restricted => "restricted",
        }
    }

    /// Parses a level label value; `None` for anything but the three valid levels.
    pub fn parse(value: &str) -> Option<Level> {
        match value {
            "privileged" => Some(Level::Privileged),
            "baseline" => Some(Level::Baseline),
            "restricted" => Some(Level::Restricted),
            _ => None,
        }
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The policy of a namespace: level and version (`"latest"` or `"v1.x"`) for each mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub enforce: (Level, String),
    pub audit: (Level, String),
    pub warn: (Level, String),
}

impl Default for Policy {
    /// Upstream's default admission configuration: privileged/latest for every mode.
    fn default() -> Self {
        let privileged = || (Level::Privileged, version::LATEST.to_string());
        Policy {
            enforce: privileged(),
            audit: privileged(),
            warn: privileged(),
        }
    }
}

/// One failed check, with upstream's reason and (possibly empty) detail text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckFailure {
    pub reason: String,
    pub detail: String,
}

impl CheckFailure {
    pub(crate) fn new(reason: impl Into<String>, detail: impl Into<String>) -> Self {
        CheckFailure {
            reason: reason.into(),
            detail: detail.into(),
        }
    }
}

/// Runs every check of `level` at `version` against a pod's (or pod template's) metadata and spec and
/// returns the failed ones in upstream's order (baseline checks by ID, then restricted checks by ID).
/// An unparsable version is evaluated as `latest`, like upstream; versions newer than v1.33 evaluate as v1.33.
pub fn evaluate(level: Level, version: &str, meta: &Value, spec: &Value) -> Vec<CheckFailure> {
    let minor = version::effective_minor(version);
    let pod = pod::PodView::new(meta, spec);
    registry::checks_for(level, minor)
        .into_iter()
        .filter_map(|check| check(&pod))
        .collect()
}

/// The admission denial message, e.g.
/// `pods "x" is forbidden: violates PodSecurity "restricted:latest": privileged (container "c" must ...)`.
pub fn forbidden_message(pod_name: &str, level: Level, version: &str, failures: &[CheckFailure]) -> String {
    format!(
        "pods {} is forbidden: violates PodSecurity {}: {}",
        text::go_quote(pod_name),
        text::go_quote(&level_version(level, version)),
        forbidden_detail(failures)
    )
}

/// The warning for `warn` mode and for workload templates, e.g.
/// `would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false (...)`.
pub fn warning_message(level: Level, version: &str, failures: &[CheckFailure]) -> String {
    format!(
        "would violate PodSecurity {}: {}",
        text::go_quote(&level_version(level, version)),
        forbidden_detail(failures)
    )
}

/// `level:version`, as upstream's `LevelVersion.String()`.
fn level_version(level: Level, version: &str) -> String {
    format!("{}:{}", level.as_str(), version)
}

/// Joins failures as `reason (detail), reason, ...`, omitting the parentheses for empty details.
fn forbidden_detail(failures: &[CheckFailure]) -> String {
    failures
        .iter()
        .map(|f| {
            let reason = if f.reason.is_empty() {
                "unknown forbidden reason"
            } else {
                f.reason.as_str()
            };
            if f.detail.is_empty() {
                reason.to_string()
            } else {
                format!("{reason} ({})", f.detail)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}
