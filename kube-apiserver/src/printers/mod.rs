//! Server-side Table printers with upstream Kubernetes v1.33 columns and cells
//! (pkg/printers/internalversion), working on objects as `serde_json::Value`.
//!
//! The upstream server always prints with `Wide: true`, so every row carries a cell for
//! every column, priority 1 ("wide") columns included.

mod apps;
mod autoscaling;
mod batch;
mod corev1;
mod events;
mod networking;
mod other;
mod pod;
mod rbac;
mod storage;
mod util;

#[cfg(test)]
mod tests;

use jiff::Timestamp;
use serde_json::Value;

/// One Table column definition (`metav1.TableColumnDefinition`).
pub struct Column {
    pub name: &'static str,
    /// "string" | "integer" | "number" | "boolean" | "date".
    pub kind: &'static str,
    /// "name" for the Name column, else "".
    pub format: &'static str,
    pub description: &'static str,
    /// 0 for default columns, 1 for `-o wide` columns.
    pub priority: i32,
}

/// The columns of a resource and the function computing one row's cells.
pub struct Printer {
    pub columns: &'static [Column],
    pub row: fn(&Value, Timestamp) -> Vec<Value>,
}

/// The printer for a resource (`group` is "" for core). None when upstream has no dedicated
/// printer (e.g. roles, clusterroles, limitranges): use [`default_printer`].
pub fn printer_for(group: &str, resource: &str) -> Option<&'static Printer> {
    match group {
        "" => corev1::printer(resource),
        "apps" => apps::printer(resource),
        "batch" => batch::printer(resource),
        "events.k8s.io" => events::printer_events_group(resource),
        "networking.k8s.io" | "discovery.k8s.io" => networking::printer(group, resource),
        "rbac.authorization.k8s.io" => rbac::printer(resource),
        "storage.k8s.io" => storage::printer(resource),
        _ => other::printer(group, resource),
    }
}

static DEFAULT_COLUMNS: [Column; 2] = [
    util::NAME,
    Column {
        name: "Created At",
        kind: "date",
        format: "",
        description: util::CREATED_DOC,
        priority: 0,
    },
];

static DEFAULT: Printer = Printer {
    columns: &DEFAULT_COLUMNS,
    row: default_row,
};

/// Upstream's default table (rest.DefaultTableConvertor): Name and "Created At".
pub fn default_printer() -> &'static Printer {
    &DEFAULT
}

/// Cells of the default table: the name and the creation time in RFC 3339, UTC, whole seconds.
fn default_row(obj: &Value, _now: Timestamp) -> Vec<Value> {
    let created = util::parse_time(util::at(obj, &["metadata", "creationTimestamp"])).map_or_else(
        || "0001-01-01T00:00:00Z".to_string(),
        |ts| ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
    );
    vec![util::name_cell(obj), created.into()]
}

/// Human age as upstream's translateTimestampSince ("0s", "5m", "3h12m", "2d", "<unknown>").
pub fn human_age(created: Option<&str>, now: Timestamp) -> String {
    created.and_then(|s| s.parse::<Timestamp>().ok()).map_or_else(
        || util::UNKNOWN.to_string(),
        |ts| util::human_duration(now.duration_since(ts)),
    )
}

/// Upstream's `row.conditions` (`metav1.TableRowCondition` list), which only pods set:
/// a `Completed` condition for Succeeded or Failed pods. None for every other row.
pub fn row_conditions(group: &str, resource: &str, obj: &Value) -> Option<Value> {
    (group.is_empty() && resource == "pods")
        .then(|| pod::row_conditions(obj))
        .flatten()
}
