//! autoscaling printer: horizontalpodautoscalers (v2 `metrics`, or v1 `targetCPUUtilizationPercentage`).

use jiff::Timestamp;
use serde_json::Value;

use super::Printer;
use super::util::{
    AGE, NAME, UNKNOWN, UNSET, age, at, col, int_at, kind_slash_name, list_at, name_cell, opt_int, quantity, str_at,
};

pub(super) static HORIZONTAL_POD_AUTOSCALER: Printer = Printer {
    columns: &[
        NAME,
        col(
            "Reference",
            "string",
            "reference to scaled resource; horizontal pod autoscaler will learn the current resource consumption and will set the desired number of pods by using its Scale subresource.",
        ),
        col(
            "Targets",
            "string",
            "metrics contains the specifications for which to use to calculate the desired replica count.",
        ),
        col(
            "MinPods",
            "string",
            "minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.",
        ),
        col(
            "MaxPods",
            "string",
            "maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up.",
        ),
        col(
            "Replicas",
            "string",
            "currentReplicas is current number of replicas of pods managed by this autoscaler.",
        ),
        AGE,
    ],
    row: hpa_row,
};

fn hpa_row(hpa: &Value, now: Timestamp) -> Vec<Value> {
    let min_pods = opt_int(hpa, &["spec", "minReplicas"]).map_or_else(|| UNSET.to_string(), |n| n.to_string());
    vec![
        name_cell(hpa),
        kind_slash_name(at(hpa, &["spec", "scaleTargetRef"])).into(),
        targets(hpa).into(),
        min_pods.into(),
        int_at(hpa, &["spec", "maxReplicas"]).into(),
        int_at(hpa, &["status", "currentReplicas"]).into(),
        age(hpa, now),
    ]
}

/// formatHPAMetrics: one entry per metric, the first two shown, then " + N more...".
fn targets(hpa: &Value) -> String {
    let entries = match at(hpa, &["spec", "metrics"]) {
        Some(_) => v2_entries(hpa),
        None => v1_entries(hpa),
    };
    if entries.is_empty() {
        return "<none>".to_string();
    }
    let shown = entries.iter().take(2).cloned().collect::<Vec<_>>().join(", ");
    if entries.len() > 2 {
        format!("{shown} + {} more...", entries.len() - 2)
    } else {
        shown
    }
}

/// autoscaling/v1 carries a single CPU utilization target.
fn v1_entries(hpa: &Value) -> Vec<String> {
    let Some(target) = opt_int(hpa, &["spec", "targetCPUUtilizationPercentage"]) else {
        return Vec::new();
    };
    let current = opt_int(hpa, &["status", "currentCPUUtilizationPercentage"])
        .map_or_else(|| UNKNOWN.to_string(), |n| format!("{n}%"));
    vec![format!("cpu: {current}/{target}%")]
}

fn v2_entries(hpa: &Value) -> Vec<String> {
    let statuses = list_at(hpa, &["status", "currentMetrics"]);
    list_at(hpa, &["spec", "metrics"])
        .iter()
        .enumerate()
        .map(|(i, spec)| metric_entry(spec, statuses.get(i)))
        .collect()
}

/// The source field of a metric spec/status for its type ("Resource" → "resource").
fn source_key(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "External" => "external",
        "Pods" => "pods",
        "Object" => "object",
        "Resource" => "resource",
        "ContainerResource" => "containerResource",
        _ => return None,
    })
}

fn metric_entry(spec: &Value, status: Option<&Value>) -> String {
    let kind = str_at(spec, &["type"]);
    let Some(key) = source_key(kind) else {
        return "<unknown type>".to_string();
    };
    let source = at(spec, &[key]).unwrap_or(&Value::Null);
    let current = status.and_then(|s| at(s, &[key]));
    match kind {
        "Pods" => format!(
            "{}/{}",
            current_of(current, "averageValue", "<nil>"),
            qty(source, "averageValue")
        ),
        "External" | "Object" => value_entry(source, current),
        _ => resource_entry(source, current),
    }
}

/// External/Object metrics: an average value "(avg)" or a plain value.
fn value_entry(source: &Value, current: Option<&Value>) -> String {
    if at(source, &["target", "averageValue"]).is_some() {
        format!(
            "{}/{} (avg)",
            current_of(current, "averageValue", UNKNOWN),
            qty(source, "averageValue")
        )
    } else {
        format!("{}/{}", current_of(current, "value", "<nil>"), qty(source, "value"))
    }
}

/// Resource/ContainerResource metrics: "name: current/target", as value or utilization.
fn resource_entry(source: &Value, current: Option<&Value>) -> String {
    let name = str_at(source, &["name"]);
    if at(source, &["target", "averageValue"]).is_some() {
        return format!(
            "{name}: {}/{}",
            current_of(current, "averageValue", "<nil>"),
            qty(source, "averageValue")
        );
    }
    let percent = |v: Option<&Value>, path: &[&str]| v.and_then(|v| opt_int(v, path)).map(|n| format!("{n}%"));
    let target = percent(Some(source), &["target", "averageUtilization"]).unwrap_or_else(|| "<auto>".to_string());
    let current = percent(current, &["current", "averageUtilization"]).unwrap_or_else(|| UNKNOWN.to_string());
    format!("{name}: {current}/{target}")
}

/// A current metric quantity from the metric's status source: "<unknown>" when no status was
/// reported for the metric, `missing` when the status lacks the field.
fn current_of(status: Option<&Value>, field: &str, missing: &str) -> String {
    match status {
        Some(s) => quantity(at(s, &["current", field]), missing),
        None => UNKNOWN.to_string(),
    }
}

/// A target quantity of a metric source.
fn qty(source: &Value, field: &str) -> String {
    quantity(at(source, &["target", field]), "<nil>")
}
