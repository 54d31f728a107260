//! Event printers for core/v1 and events.k8s.io/v1, which share one table but name fields differently.

use jiff::Timestamp;
use serde_json::Value;

use super::util::{NAME_DOC, at, col, int_at, name, since, str_at, wide};
use super::{Column, Printer};

static COLUMNS: [Column; 10] = [
    col(
        "Last Seen",
        "string",
        "The time at which the most recent occurrence of this event was recorded.",
    ),
    col(
        "Type",
        "string",
        "Type of this event (Normal, Warning), new types could be added in the future",
    ),
    col(
        "Reason",
        "string",
        "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
    ),
    col("Object", "string", "The object that this event is about."),
    wide(
        "Subobject",
        "string",
        "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement.",
    ),
    wide(
        "Source",
        "string",
        "The component reporting this event. Should be a short machine understandable string.",
    ),
    col(
        "Message",
        "string",
        "A human-readable description of the status of this operation.",
    ),
    wide(
        "First Seen",
        "string",
        "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)",
    ),
    wide("Count", "string", "The number of times this event has occurred."),
    super::Column {
        name: "Name",
        kind: "string",
        format: "name",
        description: NAME_DOC,
        priority: 1,
    },
];

/// Where each printed field lives in one API version of Event.
struct Fields {
    first_seen: &'static str,
    last_seen: &'static str,
    count: &'static str,
    object: &'static str,
    source: &'static str,
    controller: &'static str,
    message: &'static str,
}

const CORE: Fields = Fields {
    first_seen: "firstTimestamp",
    last_seen: "lastTimestamp",
    count: "count",
    object: "involvedObject",
    source: "source",
    controller: "reportingComponent",
    message: "message",
};

const EVENTS_GROUP: Fields = Fields {
    first_seen: "deprecatedFirstTimestamp",
    last_seen: "deprecatedLastTimestamp",
    count: "deprecatedCount",
    object: "regarding",
    source: "deprecatedSource",
    controller: "reportingController",
    message: "note",
};

pub(super) static CORE_EVENT: Printer = Printer {
    columns: &COLUMNS,
    row: |obj, now| cells(obj, now, &CORE),
};

static GROUP_EVENT: Printer = Printer {
    columns: &COLUMNS,
    row: |obj, now| cells(obj, now, &EVENTS_GROUP),
};

pub(super) fn printer_events_group(resource: &str) -> Option<&'static Printer> {
    (resource == "events").then_some(&GROUP_EVENT)
}

fn cells(event: &Value, now: Timestamp, f: &Fields) -> Vec<Value> {
    let first = match at(event, &[f.first_seen]) {
        Some(t) => since(Some(t), now),
        None => since(at(event, &["eventTime"]), now),
    };
    let mut last = match at(event, &[f.last_seen]) {
        Some(t) => since(Some(t), now),
        None => first.clone(),
    };
    let mut count = int_at(event, &[f.count]);
    if let Some(series) = at(event, &["series"]) {
        last = since(at(series, &["lastObservedTime"]), now);
        count = int_at(series, &["count"]);
    } else if count == 0 {
        count = 1;
    }
    let object = at(event, &[f.object]);
    let field = |key: &str| object.map_or("", |o| str_at(o, &[key]));
    vec![
        last.into(),
        str_at(event, &["type"]).into(),
        str_at(event, &["reason"]).into(),
        target(field("kind"), field("name")).into(),
        field("fieldPath").into(),
        source(event, f).into(),
        str_at(event, &[f.message]).trim().into(),
        first.into(),
        count.into(),
        name(event).into(),
    ]
}

/// "kind/name" with the kind lower-cased, or just the kind when there is no name.
fn target(kind: &str, name: &str) -> String {
    let kind = kind.to_lowercase();
    if name.is_empty() {
        kind
    } else {
        format!("{kind}/{name}")
    }
}

/// formatEventSource: component (or reporting controller), then ", host" (or reporting instance).
fn source(event: &Value, f: &Fields) -> String {
    let pick = |primary: &str, fallback: &str| {
        let value = str_at(event, &[f.source, primary]);
        if value.is_empty() {
            str_at(event, &[fallback]).to_string()
        } else {
            value.to_string()
        }
    };
    let component = pick("component", f.controller);
    let instance = pick("host", "reportingInstance");
    if instance.is_empty() {
        component
    } else {
        format!("{component}, {instance}")
    }
}
