//! Per-resource rules applied by the generic store: what is reset on create, what an update
//! may change, defaulting, validation, and how a delete proceeds (graceful, finalizers).

mod defaults;
pub mod validation;

use super::meta::{self, finalizers, format_time, is_deleting, meta_mut, now_rfc3339};
use super::resources::ResourceInfo;
use super::store::DeleteOptions;
use serde_json::{Value, json};

pub use validation::validate;

/// Kinds whose `metadata.generation` tracks spec changes.
fn tracks_generation(info: &ResourceInfo) -> bool {
    matches!(
        info.resource,
        "deployments"
            | "replicasets"
            | "statefulsets"
            | "daemonsets"
            | "jobs"
            | "cronjobs"
            | "horizontalpodautoscalers"
            | "poddisruptionbudgets"
            | "ingresses"
            | "networkpolicies"
            | "replicationcontrollers"
            | "pods"
            | "endpointslices"
    )
}

/// Kinds whose status a client may not set on create (it belongs to controllers).
fn resets_status_on_create(info: &ResourceInfo) -> bool {
    info.has_status() && !matches!(info.resource, "nodes" | "volumeattachments")
}

/// The spec-like part of an object: everything but metadata and status.
fn spec_part(obj: &Value) -> Value {
    let mut v = obj.clone();
    if let Some(m) = v.as_object_mut() {
        m.remove("metadata");
        m.remove("status");
    }
    v
}

pub fn prepare_for_create(info: &ResourceInfo, obj: &mut Value) {
    if resets_status_on_create(info)
        && let Some(m) = obj.as_object_mut()
    {
        m.insert("status".into(), json!({}));
    }
    if tracks_generation(info) {
        meta_mut(obj).insert("generation".into(), json!(1));
    } else {
        meta_mut(obj).remove("generation");
    }
    defaults::initial_status(info, obj);
    if info.resource == "daemonsets" {
        set_template_generation(obj, 1);
    }
    if (info.group, info.resource) == ("batch", "jobs") {
        generate_job_selector(obj);
    }
}

/// Unless `spec.manualSelector` is true, a Job selects its pods by its own uid: the
/// template gets the controller-uid and job-name labels (new and legacy keys), and the Job
/// takes its template's labels when it has none, as upstream's strategy and defaulting do.
fn generate_job_selector(job: &mut Value) {
    if job.pointer("/spec/manualSelector").and_then(Value::as_bool) == Some(true) {
        return;
    }
    let uid = meta::uid(job).to_string();
    let name = meta::name(job).to_string();
    let Some(spec) = job.get_mut("spec").filter(|s| s.is_object()) else {
        return;
    };
    let template = spec
        .as_object_mut()
        .map(|s| s.entry("template").or_insert_with(|| json!({})));
    let Some(template) = template.filter(|t| t.is_object()) else {
        return;
    };
    let labels = meta_mut(template).entry("labels").or_insert_with(|| json!({}));
    if let Some(l) = labels.as_object_mut() {
        for (k, v) in [
            ("batch.kubernetes.io/controller-uid", &uid),
            ("batch.kubernetes.io/job-name", &name),
            ("controller-uid", &uid),
            ("job-name", &name),
        ] {
            l.insert(k.into(), json!(v));
        }
    }
    let template_labels = labels.clone();
    spec["selector"] = json!({"matchLabels": {"batch.kubernetes.io/controller-uid": uid}});
    let job_labels = meta_mut(job).entry("labels").or_insert_with(|| json!({}));
    if job_labels.as_object().is_none_or(|l| l.is_empty()) {
        *job_labels = template_labels;
    }
}

/// Carries over what an update may not change, and applies subresource scoping: a status
/// update changes only status, a main update everything but status.
/// CSR conditions get `lastUpdateTime` now and `lastTransitionTime` now, or the previous one
/// when the condition keeps its status (upstream's populateConditionTimestamps).
fn condition_timestamps(new: &mut Value, old: &Value) {
    let now = now_rfc3339();
    let previous = old
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let Some(conditions) = new.pointer_mut("/status/conditions").and_then(Value::as_array_mut) else {
        return;
    };
    for c in conditions.iter_mut().filter(|c| c.is_object()) {
        if c.get("lastUpdateTime").is_none_or(Value::is_null) {
            c["lastUpdateTime"] = json!(now);
        }
        if c.get("lastTransitionTime").is_none_or(Value::is_null) {
            let same = previous
                .iter()
                .find(|p| p.get("type") == c.get("type") && p.get("status") == c.get("status"));
            c["lastTransitionTime"] = same
                .and_then(|p| p.get("lastTransitionTime").cloned())
                .unwrap_or_else(|| json!(now));
        }
    }
}

pub fn prepare_for_update(info: &ResourceInfo, new: &mut Value, old: &Value, subresource: Option<&str>) {
    if subresource == Some("approval") {
        // Approval changes the conditions only; the certificate stays as it was.
        let conditions = new.pointer("/status/conditions").cloned();
        let pinned = meta::resource_version(new).to_string();
        *new = old.clone();
        if !new.get("status").is_some_and(Value::is_object) {
            new["status"] = json!({});
        }
        new["status"]["conditions"] = conditions.unwrap_or(json!([]));
        if !pinned.is_empty() {
            meta_mut(new).insert("resourceVersion".into(), json!(pinned));
        }
        condition_timestamps(new, old);
        return;
    }
    if subresource == Some("status") {
        let status = new.get("status").cloned();
        let pinned = meta::resource_version(new).to_string();
        *new = old.clone();
        match status {
            Some(s) => new["status"] = s,
            None => {
                if let Some(m) = new.as_object_mut() {
                    m.remove("status");
                }
            }
        }
        if !pinned.is_empty() {
            meta_mut(new).insert("resourceVersion".into(), json!(pinned));
        }
        if info.resource == "certificatesigningrequests" {
            condition_timestamps(new, old);
        }
        return;
    }
    if info.has_status()
        && subresource.is_none()
        && let Some(m) = new.as_object_mut()
    {
        match old.get("status") {
            Some(s) => {
                m.insert("status".into(), s.clone());
            }
            None => {
                m.remove("status");
            }
        }
    }
    let old_meta = old.get("metadata").cloned().unwrap_or_default();
    let m = meta_mut(new);
    for k in [
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "generation",
        "namespace",
    ] {
        match old_meta.get(k) {
            Some(v) => {
                m.insert(k.into(), v.clone());
            }
            None => {
                m.remove(k);
            }
        }
    }
    // An EndpointSlice's labels (its service and manager) count as its spec, as upstream.
    let labels_changed =
        info.resource == "endpointslices" && new.pointer("/metadata/labels") != old.pointer("/metadata/labels");
    if tracks_generation(info) && (spec_part(new) != spec_part(old) || labels_changed) {
        let g = old_meta.get("generation").and_then(Value::as_i64).unwrap_or(0);
        meta_mut(new).insert("generation".into(), json!(g + 1));
    }
    if info.resource == "daemonsets" {
        let previous = template_generation(old);
        let changed = new.pointer("/spec/template") != old.pointer("/spec/template");
        set_template_generation(new, if changed { previous + 1 } else { previous });
    }
}

/// A DaemonSet's template generation, kept in apps/v1 as the
/// `deprecated.daemonset.template.generation` annotation (upstream's spec.templateGeneration).
const TEMPLATE_GENERATION: &str = "deprecated.daemonset.template.generation";

fn template_generation(obj: &Value) -> i64 {
    obj.pointer("/metadata/annotations")
        .and_then(|a| a.get(TEMPLATE_GENERATION))
        .and_then(Value::as_str)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn set_template_generation(obj: &mut Value, generation: i64) {
    let m = meta_mut(obj);
    if !m.get("annotations").is_some_and(Value::is_object) {
        m.insert("annotations".into(), json!({}));
    }
    m["annotations"][TEMPLATE_GENERATION] = json!(generation.to_string());
}

pub fn default(info: &ResourceInfo, obj: &mut Value) {
    defaults::apply(info, obj);
}

/// Decides how a delete proceeds: `None` removes the object now; `Some(obj)` is the object
/// marked for deletion (finalizers pending, or a pod's grace period running).
pub fn plan_delete(info: &ResourceInfo, current: &Value, opts: &DeleteOptions) -> Option<Value> {
    let mut fins = finalizers(current);
    let mut marked = current.clone();
    let propagation = opts.propagation.as_deref().unwrap_or("Background");
    match propagation {
        "Foreground" if !fins.iter().any(|f| f == "foregroundDeletion") => fins.push("foregroundDeletion".into()),
        "Orphan" if !fins.iter().any(|f| f == "orphan") => fins.push("orphan".into()),
        _ => {}
    }
    if info.resource == "namespaces" {
        if !is_deleting(current) {
            meta_mut(&mut marked).insert("deletionTimestamp".into(), json!(now_rfc3339()));
            marked["status"] = json!({"phase": "Terminating"});
        }
        let spec_fins = current
            .pointer("/spec/finalizers")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty());
        if spec_fins || !fins.is_empty() {
            set_finalizers(&mut marked, fins);
            return Some(marked);
        }
        return None;
    }
    if info.resource == "pods" {
        if let Some(grace) = pod_grace_period(current, opts) {
            if !is_deleting(current) || grace < current_grace(current) {
                let at = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(grace);
                let m = meta_mut(&mut marked);
                m.insert("deletionTimestamp".into(), json!(format_time(at)));
                m.insert("deletionGracePeriodSeconds".into(), json!(grace));
            }
            set_finalizers(&mut marked, fins);
            return Some(marked);
        }
        if fins.is_empty() {
            return None;
        }
    }
    if fins.is_empty() {
        return None;
    }
    if !is_deleting(current) {
        let m = meta_mut(&mut marked);
        m.insert("deletionTimestamp".into(), json!(now_rfc3339()));
        m.insert("deletionGracePeriodSeconds".into(), json!(0));
    }
    set_finalizers(&mut marked, fins);
    Some(marked)
}

/// An object marked for deletion goes once no finalizer holds it (for a namespace, neither
/// `metadata.finalizers` nor `spec.finalizers`).
pub fn deletion_complete(info: &ResourceInfo, obj: &Value) -> bool {
    let spec_held = info.resource == "namespaces"
        && obj
            .pointer("/spec/finalizers")
            .and_then(Value::as_array)
            .is_some_and(|f| !f.is_empty());
    is_deleting(obj) && finalizers(obj).is_empty() && !spec_held
}

fn set_finalizers(obj: &mut Value, fins: Vec<String>) {
    if !fins.is_empty() {
        meta_mut(obj).insert("finalizers".into(), json!(fins));
    }
}

fn current_grace(pod: &Value) -> i64 {
    pod.pointer("/metadata/deletionGracePeriodSeconds")
        .and_then(Value::as_i64)
        .unwrap_or(i64::MAX)
}

/// A pod on a node gets a grace period (for the kubelet to stop it); an unscheduled or
/// finished pod, or an explicit zero, goes at once.
fn pod_grace_period(pod: &Value, opts: &DeleteOptions) -> Option<i64> {
    let grace = opts
        .grace_period
        .or_else(|| {
            pod.pointer("/spec/terminationGracePeriodSeconds")
                .and_then(Value::as_i64)
        })
        .unwrap_or(30)
        .max(0);
    let scheduled = pod
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .is_some_and(|n| !n.is_empty());
    let finished = matches!(
        pod.pointer("/status/phase").and_then(Value::as_str),
        Some("Succeeded" | "Failed")
    );
    if grace == 0 || !scheduled || finished {
        None
    } else {
        Some(grace)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::resources::find;

    #[test]
    fn daemonset_template_generation_counts_template_changes() {
        let info = find("apps", "v1", "daemonsets").expect("daemonsets");
        let mut ds =
            json!({"metadata": {"name": "d"}, "spec": {"template": {"spec": {"containers": [{"image": "a"}]}}}});
        prepare_for_create(info, &mut ds);
        assert_eq!(template_generation(&ds), 1);
        let mut same = ds.clone();
        same["metadata"]["labels"] = json!({"x": "y"});
        prepare_for_update(info, &mut same, &ds, None);
        assert_eq!(template_generation(&same), 1);
        let mut changed = same.clone();
        changed["spec"]["template"]["spec"]["containers"][0]["image"] = json!("b");
        prepare_for_update(info, &mut changed, &same, None);
        assert_eq!(template_generation(&changed), 2);
    }

    #[test]
    fn endpointslice_generation_follows_endpoints_and_labels() {
        let info = find("discovery.k8s.io", "v1", "endpointslices").expect("endpointslices");
        let mut eps = json!({"metadata": {"name": "e", "labels": {"a": "1"}}, "addressType": "IPv4", "endpoints": []});
        prepare_for_create(info, &mut eps);
        assert_eq!(eps["metadata"]["generation"], 1);
        let mut relabelled = eps.clone();
        relabelled["metadata"]["labels"]["a"] = json!("2");
        prepare_for_update(info, &mut relabelled, &eps, None);
        assert_eq!(relabelled["metadata"]["generation"], 2);
        let mut annotated = relabelled.clone();
        annotated["metadata"]["annotations"] = json!({"n": "v"});
        prepare_for_update(info, &mut annotated, &relabelled, None);
        assert_eq!(annotated["metadata"]["generation"], 2);
    }
}
