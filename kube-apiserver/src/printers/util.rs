//! Shared cell helpers: JSON field access, ages, label/selector formatting and common columns.

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

use super::Column;

pub(super) const NONE: &str = "<none>";
pub(super) const UNSET: &str = "<unset>";
pub(super) const UNKNOWN: &str = "<unknown>";

/// Swagger doc of `metav1.ObjectMeta.name`.
pub(super) const NAME_DOC: &str = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
/// Swagger doc of `metav1.ObjectMeta.creationTimestamp`.
pub(super) const CREATED_DOC: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

/// A priority-0 column.
pub(super) const fn col(name: &'static str, kind: &'static str, description: &'static str) -> Column {
    Column {
        name,
        kind,
        format: "",
        description,
        priority: 0,
    }
}

/// A priority-1 column, shown by `kubectl get -o wide`.
pub(super) const fn wide(name: &'static str, kind: &'static str, description: &'static str) -> Column {
    Column {
        name,
        kind,
        format: "",
        description,
        priority: 1,
    }
}

pub(super) const NAME: Column = Column {
    name: "Name",
    kind: "string",
    format: "name",
    description: NAME_DOC,
    priority: 0,
};
pub(super) const AGE: Column = col("Age", "string", CREATED_DOC);
pub(super) const CONTAINERS: Column = wide("Containers", "string", "Names of each container in the template.");
pub(super) const IMAGES: Column = wide(
    "Images",
    "string",
    "Images referenced by each container in the template.",
);

/// The value at `path`, if every step exists and it is not null.
pub(super) fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter()
        .try_fold(v, |cur, key| cur.get(key))
        .filter(|found| !found.is_null())
}

/// The string at `path`, or "" when absent or not a string.
pub(super) fn str_at<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    opt_str(v, path).unwrap_or("")
}

pub(super) fn opt_str<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    at(v, path).and_then(Value::as_str)
}

/// The string at `path`, or `fallback` when absent or empty.
pub(super) fn str_or<'a>(v: &'a Value, path: &[&str], fallback: &'a str) -> &'a str {
    opt_str(v, path).filter(|s| !s.is_empty()).unwrap_or(fallback)
}

pub(super) fn opt_int(v: &Value, path: &[&str]) -> Option<i64> {
    at(v, path).and_then(Value::as_i64)
}

/// The integer at `path`, or 0.
pub(super) fn int_at(v: &Value, path: &[&str]) -> i64 {
    opt_int(v, path).unwrap_or(0)
}

pub(super) fn opt_bool(v: &Value, path: &[&str]) -> Option<bool> {
    at(v, path).and_then(Value::as_bool)
}

/// The array at `path`, or an empty slice.
pub(super) fn list_at<'a>(v: &'a Value, path: &[&str]) -> &'a [Value] {
    at(v, path).and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

/// Number of entries of the array or map at `path` (0 when absent).
pub(super) fn count_at(v: &Value, path: &[&str]) -> i64 {
    let len = match at(v, path) {
        Some(Value::Array(items)) => items.len(),
        Some(Value::Object(map)) => map.len(),
        _ => 0,
    };
    i64::try_from(len).unwrap_or(i64::MAX)
}

/// Strings of the array at `path` (non-strings skipped).
pub(super) fn strings_at<'a>(v: &'a Value, path: &[&str]) -> Vec<&'a str> {
    list_at(v, path).iter().filter_map(Value::as_str).collect()
}

pub(super) fn name(v: &Value) -> &str {
    str_at(v, &["metadata", "name"])
}

pub(super) fn name_cell(v: &Value) -> Value {
    name(v).into()
}

pub(super) fn is_deleting(v: &Value) -> bool {
    at(v, &["metadata", "deletionTimestamp"]).is_some()
}

pub(super) fn parse_time(v: Option<&Value>) -> Option<Timestamp> {
    v.and_then(Value::as_str).and_then(|s| s.parse().ok())
}

/// translateTimestampSince: the human age of a timestamp, "<unknown>" when unset.
pub(super) fn since(t: Option<&Value>, now: Timestamp) -> String {
    parse_time(t).map_or_else(|| UNKNOWN.to_string(), |ts| since_ts(ts, now))
}

/// The human duration from `ts` to `now`.
pub(super) fn since_ts(ts: Timestamp, now: Timestamp) -> String {
    human_duration(now.duration_since(ts))
}

/// The Age cell.
pub(super) fn age(v: &Value, now: Timestamp) -> Value {
    since(at(v, &["metadata", "creationTimestamp"]), now).into()
}

/// apimachinery duration.HumanDuration.
pub(super) fn human_duration(d: SignedDuration) -> String {
    let seconds = d.as_secs();
    if seconds < -1 {
        return "<invalid>".to_string();
    }
    if seconds < 0 {
        return "0s".to_string();
    }
    if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        return with_remainder(minutes, "m", seconds % 60, "s");
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        return with_remainder(hours, "h", minutes % 60, "m");
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        return with_remainder(hours / 24, "d", hours % 24, "h");
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        return with_remainder(hours / 24 / 365, "y", (hours / 24) % 365, "d");
    }
    format!("{}y", hours / 24 / 365)
}

fn with_remainder(major: i64, major_unit: &str, minor: i64, minor_unit: &str) -> String {
    if minor == 0 {
        format!("{major}{major_unit}")
    } else {
        format!("{major}{major_unit}{minor}{minor_unit}")
    }
}

/// layoutContainerCells: comma-joined container names and images of a pod spec.
pub(super) fn containers(pod_spec: Option<&Value>) -> (Value, Value) {
    let list = pod_spec.map_or(&[][..], |spec| list_at(spec, &["containers"]));
    let names: Vec<&str> = list.iter().map(|c| str_at(c, &["name"])).collect();
    let images: Vec<&str> = list.iter().map(|c| str_at(c, &["image"])).collect();
    (names.join(",").into(), images.join(",").into())
}

/// Container names and images of `spec.template.spec`.
pub(super) fn template_containers(v: &Value) -> (Value, Value) {
    containers(at(v, &["spec", "template", "spec"]))
}

/// labels.FormatLabels: sorted `k=v` pairs, "<none>" when empty.
pub(super) fn format_labels(map: Option<&Value>) -> String {
    let mut pairs: Vec<String> = map
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect()
        })
        .unwrap_or_default();
    pairs.sort();
    if pairs.is_empty() {
        NONE.to_string()
    } else {
        pairs.join(",")
    }
}

/// LabelSelectorAsSelector(...).String(): "" for a nil or empty selector, Err for an invalid one.
pub(super) fn selector_string(sel: Option<&Value>) -> Result<String, ()> {
    let Some(sel) = sel else {
        return Ok(String::new());
    };
    let mut reqs: Vec<(String, String)> = Vec::new();
    if let Some(labels) = at(sel, &["matchLabels"]).and_then(Value::as_object) {
        for (k, v) in labels {
            reqs.push((k.clone(), format!("{k}={}", v.as_str().unwrap_or(""))));
        }
    }
    for expr in list_at(sel, &["matchExpressions"]) {
        let key = str_at(expr, &["key"]);
        reqs.push((key.to_string(), requirement(key, str_at(expr, &["operator"]), expr)?));
    }
    reqs.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(reqs.into_iter().map(|(_, r)| r).collect::<Vec<_>>().join(","))
}

fn requirement(key: &str, operator: &str, expr: &Value) -> Result<String, ()> {
    let mut values = strings_at(expr, &["values"]);
    values.sort_unstable();
    let set = || format!("({})", values.join(","));
    match operator {
        "In" if !values.is_empty() => Ok(format!("{key} in {}", set())),
        "NotIn" if !values.is_empty() => Ok(format!("{key} notin {}", set())),
        "Exists" if values.is_empty() => Ok(key.to_string()),
        "DoesNotExist" if values.is_empty() => Ok(format!("!{key}")),
        _ => Err(()),
    }
}

/// metav1.FormatLabelSelector: "<none>" when empty, "<error>" when invalid.
pub(super) fn format_selector(sel: Option<&Value>) -> String {
    match selector_string(sel) {
        Err(()) => "<error>".to_string(),
        Ok(s) if s.is_empty() => NONE.to_string(),
        Ok(s) => s,
    }
}

/// Joins the first `max` entries, adding " + N more..." when `total` exceeds them; "<unset>" when empty.
pub(super) fn list_with_more(list: &[String], total: usize, max: usize) -> String {
    let shown = list.iter().take(max).cloned().collect::<Vec<_>>().join(",");
    if total > max {
        format!("{shown} + {} more...", total - max)
    } else if shown.is_empty() {
        UNSET.to_string()
    } else {
        shown
    }
}

/// helper.GetAccessModesAsString: RWO, ROX, RWX, RWOP in that order.
pub(super) fn access_modes(modes: &[Value]) -> String {
    const SHORT: [(&str, &str); 4] = [
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    ];
    let has = |mode: &str| modes.iter().any(|m| m.as_str() == Some(mode));
    SHORT
        .iter()
        .filter(|(long, _)| has(long))
        .map(|(_, short)| *short)
        .collect::<Vec<_>>()
        .join(",")
}

/// Quantity.String() of a serialized quantity (string or number); `missing` when absent.
pub(super) fn quantity(v: Option<&Value>, missing: &str) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => missing.to_string(),
    }
}

/// Status of the first condition of the given type (hasJobCondition / isPodInitializedConditionTrue style).
pub(super) fn first_condition_true(conditions: &[Value], kind: &str) -> bool {
    conditions
        .iter()
        .find(|c| str_at(c, &["type"]) == kind)
        .is_some_and(|c| str_at(c, &["status"]) == "True")
}

/// Whether any condition of the given type is True.
pub(super) fn any_condition_true(conditions: &[Value], kind: &str) -> bool {
    conditions
        .iter()
        .any(|c| str_at(c, &["type"]) == kind && str_at(c, &["status"]) == "True")
}

/// "Kind/Name" of a reference object (roleRef, scaleTargetRef).
pub(super) fn kind_slash_name(reference: Option<&Value>) -> String {
    let field = |key: &str| reference.map_or("", |r| str_at(r, &[key]));
    format!("{}/{}", field("kind"), field("name"))
}

/// Go's `printBool`.
pub(super) fn go_bool(value: bool) -> &'static str {
    if value { "True" } else { "False" }
}
