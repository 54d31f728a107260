//! The field selectors each resource supports and the values they read (upstream's
//! per-type GetAttrs / field label conversion functions).

use super::resources::ResourceInfo;
use serde_json::Value;

/// Fields beyond metadata.name and metadata.namespace, per resource.
fn extra_fields(info: &ResourceInfo) -> &'static [&'static str] {
    match (info.group, info.resource) {
        ("", "pods") => &[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.podIPs",
            "status.nominatedNodeName",
        ],
        ("", "nodes") => &["spec.unschedulable"],
        ("", "events") | ("events.k8s.io", "events") => &[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ],
        ("", "secrets") => &["type"],
        ("", "namespaces") => &["status.phase"],
        ("", "replicationcontrollers") | ("apps", "replicasets") => &["status.replicas"],
        ("", "persistentvolumeclaims") => &["status.phase"],
        ("batch", "jobs") => &["status.successful"],
        ("certificates.k8s.io", "certificatesigningrequests") => &["spec.signerName"],
        ("", "services") => &["spec.clusterIP", "spec.type"],
        _ => &[],
    }
}

pub fn supports(info: &ResourceInfo, field: &str) -> bool {
    matches!(field, "metadata.name" | "metadata.namespace") || extra_fields(info).contains(&field)
}

/// The value of a selectable field, as upstream renders it.
pub fn value(info: &ResourceInfo, obj: &Value, field: &str) -> Option<String> {
    let pointer = match (info.resource, field) {
        ("events", "source") => "/source/component",
        (_, "status.podIPs") => "/status/podIP",
        _ => return generic(obj, field),
    };
    obj.pointer(pointer).map(render)
}

fn generic(obj: &Value, field: &str) -> Option<String> {
    let pointer = format!("/{}", field.replace('.', "/"));
    match obj.pointer(&pointer) {
        Some(v) => Some(render(v)),
        // Unset booleans select as "false", as the Go zero value does.
        None if matches!(field, "spec.unschedulable" | "spec.hostNetwork") => Some("false".into()),
        None if matches!(field, "status.replicas" | "status.successful") => Some("0".into()),
        None => Some(String::new()),
    }
}

fn render(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}
