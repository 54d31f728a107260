//! The admission plugins: ServiceAccount, TaintNodesByCondition, Priority,
//! DefaultTolerationSeconds (mutating), NodeRestriction and PodSecurity (validating).

use super::pod_security::{self, Level};
use super::{Attributes, Operation};
use crate::auth::node::node_name;
use crate::errors::{ApiError, ApiResult};
use crate::registry::meta;
use serde_json::{Value, json};

const TOKEN_MOUNT: &str = "/var/run/secrets/kubernetes.io/serviceaccount";
const MIRROR: &str = "kubernetes.io/config.mirror";

fn is_pod_create(a: &Attributes) -> bool {
    a.info.group.is_empty() && a.info.resource == "pods" && a.operation == Operation::Create && a.subresource.is_none()
}

fn forbidden(a: &Attributes, obj: &Value, why: &str) -> ApiError {
    let name = meta::name(obj);
    ApiError::forbidden(format!("{} {name:?} is forbidden: {why}", a.info.qualified()))
        .with_details(json!({"name": name, "kind": a.info.resource}))
}

/// An object from a watch cache by its relative key (`ns/name` or `name`).
fn cached(a: &Attributes, group: &str, resource: &str, key: &str) -> Option<Value> {
    a.api
        .store_named(group, resource)?
        .cacher
        .get(key)
        .map(|o| o.value.clone())
}

fn is_mirror(pod: &Value) -> bool {
    pod.pointer("/metadata/annotations")
        .and_then(|a| a.get(MIRROR))
        .is_some()
}

fn containers_mut(spec: &mut Value) -> impl Iterator<Item = &mut Value> {
    let (init, main) = match spec.as_object_mut() {
        Some(m) => {
            let mut init = None;
            let mut main = None;
            for (k, v) in m.iter_mut() {
                match k.as_str() {
                    "initContainers" => init = v.as_array_mut(),
                    "containers" => main = v.as_array_mut(),
                    _ => {}
                }
            }
            (init, main)
        }
        None => (None, None),
    };
    init.into_iter().flatten().chain(main.into_iter().flatten())
}

/// Sets the pod's service account (default "default"), which must exist, and mounts an API
/// token, the cluster CA and the namespace as the `kube-api-access-*` projected volume.
pub fn service_account(a: &Attributes, pod: &mut Value) -> ApiResult<()> {
    if !is_pod_create(a) || is_mirror(pod) {
        return Ok(());
    }
    let spec = pod.get("spec").cloned().unwrap_or_default();
    let name = spec
        .get("serviceAccountName")
        .or(spec.get("serviceAccount"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .unwrap_or("default")
        .to_string();
    let Some(sa) = cached(a, "", "serviceaccounts", &format!("{}/{name}", a.namespace)) else {
        let why = format!(
            "error looking up service account {}/{name}: serviceaccount {name:?} not found",
            a.namespace
        );
        return Err(forbidden(a, pod, &why));
    };
    pod["spec"]["serviceAccountName"] = json!(name);
    pod["spec"]["serviceAccount"] = json!(name);
    let automount = spec
        .get("automountServiceAccountToken")
        .or(sa.get("automountServiceAccountToken"))
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let mounted = spec
        .get("containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .flat_map(|c| c.get("volumeMounts").and_then(Value::as_array).into_iter().flatten())
        .any(|m| m.get("mountPath").and_then(Value::as_str) == Some(TOKEN_MOUNT));
    if !automount || mounted {
        return Ok(());
    }
    let volume = format!("kube-api-access-{}", crate::registry::store::random_suffix());
    let spec = &mut pod["spec"];
    let volumes = spec
        .as_object_mut()
        .map(|s| s.entry("volumes").or_insert_with(|| json!([])));
    if let Some(Value::Array(v)) = volumes {
        v.push(json!({"name": volume, "projected": {"defaultMode": 420, "sources": [
            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
            {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
            {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}
        ]}}));
    }
    for c in containers_mut(spec) {
        let mounts = c
            .as_object_mut()
            .map(|c| c.entry("volumeMounts").or_insert_with(|| json!([])));
        if let Some(Value::Array(m)) = mounts {
            m.push(json!({"name": volume, "readOnly": true, "mountPath": TOKEN_MOUNT}));
        }
    }
    Ok(())
}

/// New nodes start tainted not-ready until the node lifecycle controller says otherwise.
pub fn taint_new_nodes(a: &Attributes, node: &mut Value) {
    if a.info.resource != "nodes" || a.operation != Operation::Create {
        return;
    }
    let spec = node
        .as_object_mut()
        .map(|n| n.entry("spec").or_insert_with(|| json!({})));
    let Some(spec) = spec.and_then(Value::as_object_mut) else {
        return;
    };
    let taints = spec.entry("taints").or_insert_with(|| json!([]));
    if let Some(list) = taints.as_array_mut()
        && !list
            .iter()
            .any(|t| t.get("key").and_then(Value::as_str) == Some("node.kubernetes.io/not-ready"))
    {
        list.push(json!({"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}));
    }
}

/// Resolves `priorityClassName` (or the global default class) into `priority`.
pub fn priority(a: &Attributes, pod: &mut Value) -> ApiResult<()> {
    if !is_pod_create(a) {
        return Ok(());
    }
    let class_name = pod
        .pointer("/spec/priorityClassName")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let class = if class_name.is_empty() {
        a.api
            .store_named("scheduling.k8s.io", "priorityclasses")
            .map(|s| s.cacher.list("").0)
            .unwrap_or_default()
            .into_iter()
            .find(|c| c.get("globalDefault").and_then(Value::as_bool) == Some(true))
            .map(|c| c.value.clone())
    } else {
        let found = cached(a, "scheduling.k8s.io", "priorityclasses", &class_name);
        Some(found.ok_or_else(|| forbidden(a, pod, &format!("no PriorityClass with name {class_name} was found")))?)
    };
    let value = class
        .as_ref()
        .and_then(|c| c.get("value"))
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if let Some(given) = pod.pointer("/spec/priority").and_then(Value::as_i64)
        && given != value
    {
        return Err(forbidden(
            a,
            pod,
            &format!(
                "the integer value of priority ({given}) must not be provided in pod spec; priority admission controller computed {value} from the given PriorityClass name"
            ),
        ));
    }
    let policy = class
        .as_ref()
        .and_then(|c| c.get("preemptionPolicy"))
        .cloned()
        .unwrap_or(json!("PreemptLowerPriority"));
    let spec = &mut pod["spec"];
    spec["priority"] = json!(value);
    if spec.get("preemptionPolicy").is_none_or(Value::is_null) {
        spec["preemptionPolicy"] = policy;
    }
    if let (Some(c), true) = (&class, class_name.is_empty()) {
        spec["priorityClassName"] = json!(meta::name(c));
    }
    Ok(())
}

/// Pods tolerate not-ready and unreachable nodes for 300s unless they say otherwise.
pub fn default_toleration_seconds(a: &Attributes, pod: &mut Value) {
    if !is_pod_create(a) {
        return;
    }
    let spec = pod
        .as_object_mut()
        .map(|p| p.entry("spec").or_insert_with(|| json!({})));
    let Some(spec) = spec.and_then(Value::as_object_mut) else {
        return;
    };
    let tolerations = spec.entry("tolerations").or_insert_with(|| json!([]));
    let Some(list) = tolerations.as_array_mut() else { return };
    for key in ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"] {
        let covered = list.iter().any(|t| {
            let k = t.get("key").and_then(Value::as_str).unwrap_or_default();
            let effect = t.get("effect").and_then(Value::as_str).unwrap_or_default();
            (k == key || (k.is_empty() && t.get("operator").and_then(Value::as_str) == Some("Exists")))
                && (effect.is_empty() || effect == "NoExecute")
        });
        if !covered {
            list.push(json!({"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}));
        }
    }
}

/// A kubelet may write only its own Node and mirror pods bound to it, and only the status of
/// pods bound to it.
pub fn node_restriction(a: &Attributes, obj: &Value, old: Option<&Value>) -> ApiResult<()> {
    let Some(node) = node_name(a.user) else { return Ok(()) };
    match (a.info.group, a.info.resource) {
        ("", "nodes") => {
            let name = meta::name(obj);
            if name != node {
                return Err(forbidden(
                    a,
                    obj,
                    &format!("node {node:?} is not allowed to modify node {name:?}"),
                ));
            }
        }
        ("", "pods") if a.operation == Operation::Create && a.subresource.is_none() => {
            if !is_mirror(obj) {
                return Err(forbidden(
                    a,
                    obj,
                    &format!("pod does not have \"{MIRROR}\" annotation, node {node:?} can only create mirror pods"),
                ));
            }
            if obj.pointer("/spec/nodeName").and_then(Value::as_str) != Some(node) {
                return Err(forbidden(
                    a,
                    obj,
                    &format!("node {node:?} can only create pods with spec.nodeName set to itself"),
                ));
            }
        }
        ("", "pods") if a.subresource == Some("status") => {
            let bound = old.unwrap_or(obj).pointer("/spec/nodeName").and_then(Value::as_str);
            if bound != Some(node) {
                return Err(forbidden(
                    a,
                    obj,
                    &format!("node {node:?} can only update pod status for pods with spec.nodeName set to itself"),
                ));
            }
        }
        _ => {}
    }
    Ok(())
}

/// Kinds whose pod template PodSecurity checks (with warnings only).
fn template_path(a: &Attributes) -> Option<&'static str> {
    match (a.info.group, a.info.resource) {
        ("apps", "deployments" | "replicasets" | "statefulsets" | "daemonsets")
        | ("batch", "jobs")
        | ("", "replicationcontrollers") => Some("/spec/template"),
        ("batch", "cronjobs") => Some("/spec/jobTemplate/spec/template"),
        ("", "podtemplates") => Some("/template"),
        _ => None,
    }
}

/// Enforces the namespace's Pod Security level on pods; warns for pods and pod templates.
pub fn pod_security(a: &Attributes, obj: &Value) -> ApiResult<Vec<String>> {
    let is_pod = a.info.group.is_empty() && a.info.resource == "pods" && a.subresource.is_none();
    let template = if is_pod {
        Some(obj.clone())
    } else {
        template_path(a).and_then(|p| obj.pointer(p).cloned())
    };
    let Some(template) = template else {
        return Ok(Vec::new());
    };
    if is_pod && a.operation == Operation::Update {
        return Ok(Vec::new());
    }
    let ns = cached(a, "", "namespaces", a.namespace);
    let policy = pod_security::policy_from_namespace_labels(ns.as_ref().and_then(|n| n.pointer("/metadata/labels")))
        .unwrap_or_default();
    let meta = template.get("metadata").cloned().unwrap_or(json!({}));
    let spec = template.get("spec").cloned().unwrap_or(json!({}));
    let mut warnings = Vec::new();
    let (level, version) = &policy.enforce;
    if *level != Level::Privileged {
        let failures = pod_security::evaluate(*level, version, &meta, &spec);
        if !failures.is_empty() {
            if is_pod {
                let msg = pod_security::forbidden_message(meta::name(obj), *level, version, &failures);
                return Err(ApiError::forbidden(msg).with_details(json!({"name": meta::name(obj), "kind": "pods"})));
            }
            warnings.push(pod_security::warning_message(*level, version, &failures));
        }
    }
    let (wlevel, wversion) = &policy.warn;
    if *wlevel != Level::Privileged && (wlevel, wversion) != (level, version) {
        let failures = pod_security::evaluate(*wlevel, wversion, &meta, &spec);
        if !failures.is_empty() {
            warnings.push(pod_security::warning_message(*wlevel, wversion, &failures));
        }
    }
    Ok(warnings)
}
