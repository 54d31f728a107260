//! What the pod-streaming verbs (`logs`, `exec`, `attach`, `port-forward`, `cp`) share: the
//! pod an argument names (`NAME`, `pod/NAME`, or `TYPE/NAME` of a workload or service, which
//! picks its most active pod as upstream's attachablePodForObject), and the container a
//! command runs in when `-c` is not given.

use super::Session;
use crate::error::CmdError;
use crate::http::{self, ACCEPT_JSON};
use crate::resources;
use serde_json::Value;

/// The annotation naming the container kubectl defaults to.
pub const DEFAULT_CONTAINER_ANNOTATION: &str = "kubectl.kubernetes.io/default-container";

pub async fn get_pod(s: &Session, ns: &str, name: &str) -> Result<Value, CmdError> {
    let reply = http::get(s.client(), &format!("/api/v1/namespaces/{ns}/pods/{name}"), ACCEPT_JSON).await?;
    serde_json::from_slice(&reply.body).map_err(|e| CmdError::msg(e.to_string()))
}

/// The pod `arg` names in `ns`.
pub async fn attachable_pod(s: &mut Session, ns: &str, arg: &str) -> Result<Value, CmdError> {
    let Some((kind, name)) = arg.split_once('/') else {
        return get_pod(s, ns, arg).await;
    };
    let resource = match resources::resolve(s.discovery(false).await?, kind) {
        Some(r) => r,
        None => resources::resolve(s.discovery(true).await?, kind)
            .ok_or_else(|| CmdError::msg(format!("the server doesn't have a resource type \"{kind}\"")))?,
    };
    let r = resource
        .into_iter()
        .next()
        .ok_or_else(|| CmdError::msg(format!("the server doesn't have a resource type \"{kind}\"")))?;
    if r.group.is_empty() && r.name == "pods" {
        return get_pod(s, ns, name).await;
    }
    let reply = http::get(s.client(), &format!("{}/{name}", r.path(Some(ns))), ACCEPT_JSON).await?;
    let obj: Value = serde_json::from_slice(&reply.body).map_err(|e| CmdError::msg(e.to_string()))?;
    let selector = selector_of(&obj).ok_or_else(|| {
        CmdError::msg(format!(
            "cannot attach to {}: selector for {} not implemented",
            obj["kind"].as_str().unwrap_or(kind),
            obj["kind"].as_str().unwrap_or(kind)
        ))
    })?;
    let q = form_urlencoded::Serializer::new(String::new())
        .append_pair("labelSelector", &selector)
        .finish();
    let reply = http::get(s.client(), &format!("/api/v1/namespaces/{ns}/pods?{q}"), ACCEPT_JSON).await?;
    let list: Value = serde_json::from_slice(&reply.body).map_err(|e| CmdError::msg(e.to_string()))?;
    let mut pods: Vec<Value> = list["items"].as_array().cloned().unwrap_or_default();
    pods.sort_by(|a, b| activity(b).cmp(&activity(a)).then_with(|| created(a).cmp(created(b))));
    pods.into_iter()
        .next()
        .ok_or_else(|| CmdError::msg("timed out waiting for the condition"))
}

/// The label selector of a workload (`spec.selector` as a LabelSelector) or of a Service or
/// ReplicationController (a plain map).
fn selector_of(obj: &Value) -> Option<String> {
    let sel = obj.pointer("/spec/selector")?;
    if sel.get("matchLabels").is_some() || sel.get("matchExpressions").is_some() {
        return api_types::labels::Selector::from_label_selector_json(sel)
            .ok()
            .map(|s| s.to_string());
    }
    let map = sel.as_object()?;
    Some(
        map.iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
            .collect::<Vec<_>>()
            .join(","),
    )
}

/// How active a pod is, as upstream's ActivePods orders them: scheduled, then running,
/// then ready.
fn activity(pod: &Value) -> (bool, u8, bool) {
    let assigned = pod["spec"]["nodeName"].as_str().is_some_and(|n| !n.is_empty());
    let phase = match pod["status"]["phase"].as_str() {
        Some("Running") => 2,
        Some("Unknown") => 1,
        _ => 0,
    };
    let ready = pod["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "Ready" && c["status"] == "True");
    (assigned, phase, ready)
}

fn created(pod: &Value) -> &str {
    pod["metadata"]["creationTimestamp"].as_str().unwrap_or_default()
}

fn names(pod: &Value, field: &str) -> Vec<String> {
    pod["spec"][field]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["name"].as_str().map(String::from))
        .collect()
}

/// Every container of the pod: init containers, containers, then ephemeral containers.
pub fn all_containers(pod: &Value) -> Vec<String> {
    let mut all = names(pod, "initContainers");
    all.extend(names(pod, "containers"));
    all.extend(names(pod, "ephemeralContainers"));
    all
}

/// `a (init), b, c (ephem)`, as upstream lists them.
fn all_container_names(pod: &Value) -> String {
    let mut out: Vec<String> = names(pod, "initContainers")
        .iter()
        .map(|n| format!("{n} (init)"))
        .collect();
    out.extend(names(pod, "containers"));
    out.extend(names(pod, "ephemeralContainers").iter().map(|n| format!("{n} (ephem)")));
    out.join(", ")
}

/// The container `-c` names, else the default-container annotation's, else the first one
/// (saying so on stderr when there was a choice, unless `quiet`). An unknown name is the
/// server's to refuse, except where the verb checks it (`logs`, with its wording).
pub fn container(
    pod: &Value,
    name: Option<&str>,
    quiet: bool,
    check: Option<fn(&str, &str) -> String>,
) -> Result<String, CmdError> {
    let pod_name = pod["metadata"]["name"].as_str().unwrap_or_default();
    let all = all_containers(pod);
    if let Some(n) = name.filter(|n| !n.is_empty()) {
        return match check {
            Some(missing) if !all.iter().any(|c| c == n) => Err(CmdError::msg(missing(n, pod_name))),
            _ => Ok(n.to_string()),
        };
    }
    let containers = names(pod, "containers");
    let Some(first) = containers.first() else {
        return Err(CmdError::msg(format!(
            "pod {}/{pod_name} does not have any containers",
            pod["metadata"]["namespace"].as_str().unwrap_or_default()
        )));
    };
    if let Some(d) = pod["metadata"]["annotations"][DEFAULT_CONTAINER_ANNOTATION].as_str()
        && all.iter().any(|c| c == d)
    {
        return Ok(d.to_string());
    }
    if !quiet && all.len() > 1 {
        eprintln!("Defaulted container {first:?} out of: {}", all_container_names(pod));
    }
    Ok(first.clone())
}
