//! Conversion between the served versions of one resource: objects are stored in the
//! preferred version and converted on the way in and out.

use serde_json::{Map, Value, json};

/// Converts `obj` (in whatever version it is) to `api_version` of the same kind.
pub fn to_version(mut obj: Value, kind: &str, api_version: &str) -> Value {
    let from = obj
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if from != api_version {
        obj = match (kind, from.as_str(), api_version) {
            ("Event", "v1", "events.k8s.io/v1") => core_event_to_events(obj),
            ("Event", "events.k8s.io/v1", "v1") => events_to_core_event(obj),
            ("HorizontalPodAutoscaler", "autoscaling/v2", "autoscaling/v1") => hpa_v2_to_v1(obj),
            ("HorizontalPodAutoscaler", "autoscaling/v1", "autoscaling/v2") => hpa_v1_to_v2(obj),
            _ => obj,
        };
    }
    set_type_meta(&mut obj, kind, api_version);
    obj
}

/// Puts kind and apiVersion first, as upstream serializes them.
pub fn set_type_meta(obj: &mut Value, kind: &str, api_version: &str) {
    let Some(m) = obj.as_object_mut() else { return };
    let mut out = Map::with_capacity(m.len() + 2);
    out.insert("kind".into(), json!(kind));
    out.insert("apiVersion".into(), json!(api_version));
    for (k, v) in std::mem::take(m) {
        if k != "kind" && k != "apiVersion" {
            out.insert(k, v);
        }
    }
    *m = out;
}

/// Field renames between core/v1 Event (left) and events.k8s.io/v1 Event (right).
const EVENT_FIELDS: &[(&str, &str)] = &[
    ("involvedObject", "regarding"),
    ("message", "note"),
    ("firstTimestamp", "deprecatedFirstTimestamp"),
    ("lastTimestamp", "deprecatedLastTimestamp"),
    ("count", "deprecatedCount"),
    ("source", "deprecatedSource"),
    ("reportingComponent", "reportingController"),
];

fn rename(obj: Value, forward: bool) -> Value {
    let Value::Object(m) = obj else { return obj };
    let out = m
        .into_iter()
        .map(|(k, v)| {
            let renamed = EVENT_FIELDS
                .iter()
                .find(|(core, ev)| if forward { core == &k } else { ev == &k })
                .map(|(core, ev)| if forward { ev.to_string() } else { core.to_string() });
            (renamed.unwrap_or(k), v)
        })
        .collect();
    Value::Object(out)
}

fn core_event_to_events(obj: Value) -> Value {
    rename(obj, true)
}

fn events_to_core_event(obj: Value) -> Value {
    rename(obj, false)
}

fn hpa_v2_to_v1(mut obj: Value) -> Value {
    let cpu_target = obj.pointer("/spec/metrics").and_then(Value::as_array).and_then(|ms| {
        ms.iter()
            .find(|m| m.pointer("/resource/name").and_then(Value::as_str) == Some("cpu"))
            .and_then(|m| m.pointer("/resource/target/averageUtilization").cloned())
    });
    let cpu_current = obj
        .pointer("/status/currentMetrics")
        .and_then(Value::as_array)
        .and_then(|ms| {
            ms.iter()
                .find(|m| m.pointer("/resource/name").and_then(Value::as_str) == Some("cpu"))
                .and_then(|m| m.pointer("/resource/current/averageUtilization").cloned())
        });
    if let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut) {
        spec.remove("metrics");
        spec.remove("behavior");
        if let Some(t) = cpu_target {
            spec.insert("targetCPUUtilizationPercentage".into(), t);
        }
    }
    if let Some(status) = obj.get_mut("status").and_then(Value::as_object_mut) {
        status.remove("currentMetrics");
        status.remove("conditions");
        if let Some(c) = cpu_current {
            status.insert("currentCPUUtilizationPercentage".into(), c);
        }
    }
    obj
}

fn hpa_v1_to_v2(mut obj: Value) -> Value {
    if let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut)
        && let Some(t) = spec.remove("targetCPUUtilizationPercentage")
    {
        spec.insert(
            "metrics".into(),
            json!([{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": t}}}]),
        );
    }
    if let Some(status) = obj.get_mut("status").and_then(Value::as_object_mut)
        && let Some(c) = status.remove("currentCPUUtilizationPercentage")
    {
        status.insert(
            "currentMetrics".into(),
            json!([{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": c}}}]),
        );
    }
    obj
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip() {
        let core = json!({"apiVersion":"v1","kind":"Event","involvedObject":{"name":"p"},"message":"m","count":2});
        let ev = to_version(core.clone(), "Event", "events.k8s.io/v1");
        assert_eq!(ev["regarding"]["name"], "p");
        assert_eq!(ev["note"], "m");
        assert_eq!(to_version(ev, "Event", "v1"), core.clone().tap_kind_first());
    }

    trait KindFirst {
        fn tap_kind_first(self) -> Value;
    }
    impl KindFirst for Value {
        fn tap_kind_first(mut self) -> Value {
            set_type_meta(&mut self, "Event", "v1");
            self
        }
    }

    #[test]
    fn hpa_versions() {
        let v1 = json!({"apiVersion":"autoscaling/v1","spec":{"maxReplicas":3,"targetCPUUtilizationPercentage":50}});
        let v2 = to_version(v1, "HorizontalPodAutoscaler", "autoscaling/v2");
        assert_eq!(v2["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"], 50);
        let back = to_version(v2, "HorizontalPodAutoscaler", "autoscaling/v1");
        assert_eq!(back["spec"]["targetCPUUtilizationPercentage"], 50);
        assert!(back["spec"].get("metrics").is_none());
    }
}
