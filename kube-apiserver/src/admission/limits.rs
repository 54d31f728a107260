//! LimitRanger: Container defaults from the namespace's LimitRanges (`default` limits,
//! `defaultRequest` requests, recorded in the `kubernetes.io/limit-ranger` annotation), then
//! the min, max and maxLimitRequestRatio constraints per Container and per Pod.

use super::{Attributes, Operation};
use crate::errors::{ApiError, ApiResult};
use crate::registry::meta::{self, meta_mut};
use api_types::quantity::Quantity;
use serde_json::{Map, Value, json};

fn q(v: &Value) -> Option<Quantity> {
    v.as_str()
        .and_then(Quantity::parse)
        .or_else(|| v.as_i64().map(Quantity::from_units))
}

fn item_map<'a>(item: &'a Value, key: &str) -> Option<&'a Map<String, Value>> {
    item.get(key).and_then(Value::as_object)
}

/// `default` (limits) and `defaultRequest` (requests) of an item, with upstream's fallbacks:
/// max stands in for a missing default, min for a missing defaultRequest, and default for
/// defaultRequest.
fn defaults(item: &Value) -> (Map<String, Value>, Map<String, Value>) {
    let mut limits = item_map(item, "default").cloned().unwrap_or_default();
    for (k, v) in item_map(item, "max").into_iter().flatten() {
        limits.entry(k.clone()).or_insert_with(|| v.clone());
    }
    let mut requests = item_map(item, "defaultRequest").cloned().unwrap_or_default();
    for (k, v) in item_map(item, "min").into_iter().flatten().chain(limits.iter()) {
        requests.entry(k.clone()).or_insert_with(|| v.clone());
    }
    (limits, requests)
}

pub fn limit_ranger(a: &Attributes, pod: &mut Value) -> ApiResult<()> {
    let is_pod = a.info.group.is_empty() && a.info.resource == "pods" && a.subresource.is_none();
    if !is_pod || a.operation != Operation::Create {
        return Ok(());
    }
    let Some(store) = a.api.store_named("", "limitranges") else {
        return Ok(());
    };
    let (ranges, _) = store.cacher.list(&format!("{}/", a.namespace));
    let items: Vec<Value> = ranges
        .iter()
        .flat_map(|r| {
            r.pointer("/spec/limits")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .collect();
    if items.is_empty() {
        return Ok(());
    }
    let mut set = Vec::new();
    for item in items
        .iter()
        .filter(|i| i.get("type").and_then(Value::as_str) == Some("Container"))
    {
        set.extend(apply_defaults(pod, item));
    }
    if !set.is_empty() {
        let m = meta_mut(pod);
        let ann = m.entry("annotations").or_insert_with(|| json!({}));
        ann["kubernetes.io/limit-ranger"] = json!(format!("LimitRanger plugin set: {}", set.join("; ")));
    }
    let mut errs = Vec::new();
    for item in &items {
        match item.get("type").and_then(Value::as_str) {
            Some("Container") => {
                for c in containers(pod) {
                    check(item, "Container", requests_of(&c), limits_of(&c), &mut errs);
                }
            }
            Some("Pod") => {
                let (req, lim) = pod_totals(pod);
                check(item, "Pod", req, lim, &mut errs);
            }
            _ => {}
        }
    }
    if errs.is_empty() {
        return Ok(());
    }
    let text = if errs.len() == 1 {
        errs.remove(0)
    } else {
        format!("[{}]", errs.join(", "))
    };
    let name = meta::name(pod).to_string();
    Err(ApiError::forbidden(format!("pods {name:?} is forbidden: {text}"))
        .with_details(json!({"name": name, "kind": "pods"})))
}

fn containers(pod: &Value) -> Vec<Value> {
    ["initContainers", "containers"]
        .iter()
        .flat_map(|k| {
            pod.pointer(&format!("/spec/{k}"))
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .collect()
}

fn resources_at(c: &Value, which: &str) -> Map<String, Value> {
    c.pointer(&format!("/resources/{which}"))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

fn requests_of(c: &Value) -> Map<String, Value> {
    resources_at(c, "requests")
}

fn limits_of(c: &Value) -> Map<String, Value> {
    resources_at(c, "limits")
}

/// Fills missing limits and requests of every container; describes what it set.
fn apply_defaults(pod: &mut Value, item: &Value) -> Vec<String> {
    let (limits, requests) = defaults(item);
    let mut set = Vec::new();
    for key in ["initContainers", "containers"] {
        let Some(list) = pod.pointer_mut(&format!("/spec/{key}")).and_then(Value::as_array_mut) else {
            continue;
        };
        for c in list {
            let name = c.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
            for (which, defaults) in [("requests", &requests), ("limits", &limits)] {
                let res = c
                    .as_object_mut()
                    .map(|c| c.entry("resources").or_insert_with(|| json!({})));
                let Some(res) = res.and_then(Value::as_object_mut) else {
                    continue;
                };
                let target = res.entry(which).or_insert_with(|| json!({}));
                let Some(target) = target.as_object_mut() else { continue };
                let mut names = Vec::new();
                for (k, v) in defaults {
                    // A limit given without a request makes the request equal to the limit.
                    if !target.contains_key(k) {
                        target.insert(k.clone(), v.clone());
                        names.push(k.clone());
                    }
                }
                if !names.is_empty() {
                    let what = if which == "requests" { "request" } else { "limit" };
                    set.push(format!("{} {what} for container {name}", names.join(", ")));
                }
            }
        }
    }
    set
}

fn pod_totals(pod: &Value) -> (Map<String, Value>, Map<String, Value>) {
    let sum = |which: &str| {
        let mut total: std::collections::BTreeMap<String, Quantity> = Default::default();
        for c in pod
            .pointer("/spec/containers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            for (k, v) in resources_at(c, which) {
                if let Some(x) = q(&v) {
                    let e = total.entry(k).or_default();
                    *e = *e + x;
                }
            }
        }
        total
            .into_iter()
            .map(|(k, v)| (k, json!(v.to_string())))
            .collect::<Map<String, Value>>()
    };
    (sum("requests"), sum("limits"))
}

/// min, max and maxLimitRequestRatio of one item against requests and limits.
fn check(item: &Value, kind: &str, req: Map<String, Value>, lim: Map<String, Value>, errs: &mut Vec<String>) {
    for (res, min) in item_map(item, "min").into_iter().flatten() {
        let (Some(min_q), text) = (q(min), min.as_str().unwrap_or_default()) else {
            continue;
        };
        match req.get(res).and_then(q) {
            None => errs.push(format!(
                "minimum {res} usage per {kind} is {text}.  No request is specified"
            )),
            Some(r) if r < min_q => errs.push(format!("minimum {res} usage per {kind} is {text}, but request is {r}")),
            _ => {}
        }
    }
    for (res, max) in item_map(item, "max").into_iter().flatten() {
        let (Some(max_q), text) = (q(max), max.as_str().unwrap_or_default()) else {
            continue;
        };
        match lim.get(res).and_then(q) {
            None => errs.push(format!(
                "maximum {res} usage per {kind} is {text}.  No limit is specified"
            )),
            Some(l) if l > max_q => errs.push(format!("maximum {res} usage per {kind} is {text}, but limit is {l}")),
            _ => {}
        }
    }
    for (res, ratio) in item_map(item, "maxLimitRequestRatio").into_iter().flatten() {
        let (Some(ratio_q), Some(l), Some(r)) = (q(ratio), lim.get(res).and_then(q), req.get(res).and_then(q)) else {
            continue;
        };
        if r.0 > 0 && l.0 * 1000 > ratio_q.0 * r.0 {
            let actual = (l.0 * 1000 / r.0) as f64 / 1000.0;
            errs.push(format!(
                "{res} max limit to request ratio per {kind} is {}, but provided ratio is {actual:.6}",
                ratio.as_str().unwrap_or_default()
            ));
        }
    }
}
