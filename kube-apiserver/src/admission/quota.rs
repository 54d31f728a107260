//! ResourceQuota: a new object's usage (object counts, and for pods the summed requests and
//! limits) is checked against every quota of its namespace and charged to the quota's
//! `status.used` with compare-and-swap before the object is stored, as upstream does; a quota
//! whose status the quota controller has not filled yet refuses, as upstream's does.

use crate::errors::{ApiError, ApiResult};
use crate::registry::meta;
use crate::registry::resources::ResourceInfo;
use crate::registry::store::WriteOptions;
use crate::state::Api;
use api_types::quantity::Quantity;
use serde_json::{Value, json};
use std::collections::BTreeMap;

type Usage = BTreeMap<String, Quantity>;

fn one() -> Quantity {
    Quantity::from_units(1)
}

fn container_sum(pod: &Value, which: &str) -> BTreeMap<String, Quantity> {
    let sum_of = |key: &str| {
        let mut t: BTreeMap<String, Quantity> = BTreeMap::new();
        for c in pod
            .pointer(&format!("/spec/{key}"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            for (k, v) in c
                .pointer(&format!("/resources/{which}"))
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                if let Some(x) = v.as_str().and_then(Quantity::parse) {
                    let e = t.entry(k.clone()).or_default();
                    *e = *e + x;
                }
            }
        }
        t
    };
    // Init containers run one at a time: the pod needs the larger of their max and the sum.
    let mut total = sum_of("containers");
    for (k, v) in sum_of("initContainers") {
        let e = total.entry(k).or_default();
        *e = (*e).max(v);
    }
    total
}

/// What creating `obj` adds to a namespace's usage.
fn usage(info: &ResourceInfo, obj: &Value) -> Usage {
    let mut u = Usage::new();
    let count_name = if info.group.is_empty() {
        format!("count/{}", info.resource)
    } else {
        format!("count/{}", info.qualified())
    };
    u.insert(count_name, one());
    match (info.group, info.resource) {
        ("", "pods") => {
            u.insert("pods".into(), one());
            for (k, v) in container_sum(obj, "requests") {
                u.insert(format!("requests.{k}"), v);
                if k == "cpu" || k == "memory" {
                    u.insert(k, v);
                }
            }
            for (k, v) in container_sum(obj, "limits") {
                u.insert(format!("limits.{k}"), v);
            }
        }
        ("", "services") => {
            u.insert("services".into(), one());
            let ty = obj.pointer("/spec/type").and_then(Value::as_str).unwrap_or("ClusterIP");
            if ty == "LoadBalancer" {
                u.insert("services.loadbalancers".into(), one());
            }
            if matches!(ty, "NodePort" | "LoadBalancer") {
                let ports = obj.pointer("/spec/ports").and_then(Value::as_array).map_or(0, Vec::len);
                u.insert("services.nodeports".into(), Quantity::from_units(ports as i64));
            }
        }
        ("", "persistentvolumeclaims") => {
            u.insert("persistentvolumeclaims".into(), one());
            if let Some(s) = obj
                .pointer("/spec/resources/requests/storage")
                .and_then(Value::as_str)
                .and_then(Quantity::parse)
            {
                u.insert("requests.storage".into(), s);
            }
        }
        ("", r @ ("configmaps" | "secrets" | "replicationcontrollers" | "resourcequotas")) => {
            u.insert(r.into(), one());
        }
        _ => {}
    }
    u
}

fn parse_map(v: Option<&Value>) -> BTreeMap<String, (Quantity, String)> {
    v.and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| {
            let s = v.as_str().map(String::from).unwrap_or_else(|| v.to_string());
            Quantity::parse(&s).map(|q| (k.clone(), (q, s)))
        })
        .collect()
}

fn render(m: &BTreeMap<String, Quantity>) -> String {
    m.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",")
}

/// Checks and charges every quota of the namespace for a new object.
pub async fn charge(api: &Api, info: &ResourceInfo, namespace: &str, obj: &Value, dry_run: bool) -> ApiResult<()> {
    if !api.admission.on("ResourceQuota") || namespace.is_empty() {
        return Ok(());
    }
    let Some(store) = api.store_named("", "resourcequotas") else {
        return Ok(());
    };
    let (quotas, _) = store.cacher.list(&format!("{namespace}/"));
    if quotas.is_empty() {
        return Ok(());
    }
    let delta = usage(info, obj);
    let name = meta::name(obj).to_string();
    let refuse = |why: String| {
        ApiError::forbidden(format!("{} {name:?} is forbidden: {why}", info.qualified()))
            .with_details(json!({"name": name, "kind": info.resource}))
    };
    for quota in quotas {
        let hard = parse_map(quota.pointer("/spec/hard"));
        let constrained: Vec<&String> = delta.keys().filter(|k| hard.contains_key(*k)).collect();
        if constrained.is_empty()
            || quota
                .pointer("/spec/scopes")
                .is_some_and(|s| s.as_array().is_some_and(|a| !a.is_empty()))
        {
            continue;
        }
        let qname = meta::name(&quota).to_string();
        if quota.pointer("/status/hard").is_none() {
            let keys: Vec<&str> = hard.keys().map(String::as_str).collect();
            return Err(refuse(format!(
                "status unknown for quota: {qname}, resources: {}",
                keys.join(",")
            )));
        }
        if dry_run {
            continue;
        }
        store
            .update(
                Some(namespace),
                &qname,
                &WriteOptions {
                    subresource: Some("status".into()),
                    ..Default::default()
                },
                |mut q| {
                    let used = parse_map(q.pointer("/status/used"));
                    let (mut requested, mut in_use, mut limited) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
                    let mut new_used = q.pointer("/status/used").cloned().unwrap_or(json!({}));
                    for k in &constrained {
                        let was = used.get(*k).map(|u| u.0).unwrap_or_default();
                        let now = was + delta[*k];
                        let (limit, _) = hard[*k];
                        if now > limit {
                            requested.insert((*k).clone(), delta[*k]);
                            in_use.insert((*k).clone(), was);
                            limited.insert((*k).clone(), limit);
                        }
                        new_used[k.as_str()] = json!(now.to_string());
                    }
                    if !requested.is_empty() {
                        return Err(refuse(format!(
                            "exceeded quota: {qname}, requested: {}, used: {}, limited: {}",
                            render(&requested),
                            render(&in_use),
                            render(&limited)
                        )));
                    }
                    q["status"]["used"] = new_used;
                    meta::meta_mut(&mut q).remove("resourceVersion");
                    Ok(q)
                },
            )
            .await?;
    }
    Ok(())
}
