//! Validation with upstream's field paths and messages: metadata for every kind, and the
//! specs of the workhorse kinds.

use super::super::meta::{self, name};
use super::super::resources::ResourceInfo;
use crate::errors::FieldError;
use api_types::validation as v;
use serde_json::Value;

const TOTAL_ANNOTATION_SIZE: usize = 256 * 1024;
const MAX_DATA_SIZE: usize = 1024 * 1024;

/// All problems with `obj` (a create when `old` is None, an update otherwise).
pub fn validate(info: &ResourceInfo, obj: &Value, old: Option<&Value>) -> Vec<FieldError> {
    let mut errs = validate_meta(info, obj, old);
    match (info.group, info.resource) {
        ("", "pods") => pod(obj, old, &mut errs),
        ("", "configmaps") => data_map(obj, &["data", "binaryData"], &mut errs),
        ("", "secrets") => data_map(obj, &["data", "stringData"], &mut errs),
        ("", "services") => service(obj, &mut errs),
        ("apps", "deployments" | "replicasets" | "daemonsets" | "statefulsets") => workload(info, obj, &mut errs),
        ("batch", "jobs") => pod_template("spec.template", obj.pointer("/spec/template"), &mut errs),
        _ => {}
    }
    errs
}

/// The name rule of each kind (upstream's ValidateXName functions).
fn name_errors(info: &ResourceInfo, name: &str) -> Vec<String> {
    match info.resource {
        "namespaces" => v::is_dns1123_label(name),
        "services" => v::is_dns1035_label(name),
        "roles" | "clusterroles" | "rolebindings" | "clusterrolebindings" | "certificatesigningrequests" => {
            v::is_path_segment_name(name)
        }
        _ => v::is_dns1123_subdomain(name),
    }
}

pub fn validate_meta(info: &ResourceInfo, obj: &Value, old: Option<&Value>) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let n = name(obj);
    if n.is_empty() {
        errs.push(super::super::store::name_required());
    } else {
        for msg in name_errors(info, n) {
            errs.push(FieldError::invalid("metadata.name", n, &msg));
        }
    }
    let ns = meta::namespace(obj);
    if info.namespaced {
        if ns.is_empty() {
            errs.push(FieldError::required("metadata.namespace", ""));
        } else {
            for msg in v::is_dns1123_label(ns) {
                errs.push(FieldError::invalid("metadata.namespace", ns, &msg));
            }
        }
    } else if !ns.is_empty() {
        errs.push(FieldError::forbidden("metadata.namespace", "not allowed on this type"));
    }
    labels("metadata.labels", obj.pointer("/metadata/labels"), &mut errs);
    if let Some(ann) = obj.pointer("/metadata/annotations").and_then(Value::as_object) {
        let mut total = 0;
        for (k, val) in ann {
            for msg in v::is_qualified_name(&k.to_lowercase()) {
                errs.push(FieldError::invalid("metadata.annotations", k.as_str(), &msg));
            }
            total += k.len() + val.as_str().map_or(0, str::len);
        }
        if total > TOTAL_ANNOTATION_SIZE {
            errs.push(FieldError::too_long("metadata.annotations", TOTAL_ANNOTATION_SIZE));
        }
    }
    for (i, f) in meta::finalizers(obj).iter().enumerate() {
        for msg in v::is_qualified_name(f) {
            errs.push(FieldError::invalid(
                &format!("metadata.finalizers[{i}]"),
                f.as_str(),
                &msg,
            ));
        }
    }
    if let Some(refs) = obj.pointer("/metadata/ownerReferences").and_then(Value::as_array) {
        for (i, r) in refs.iter().enumerate() {
            for f in ["apiVersion", "kind", "name", "uid"] {
                if r.get(f).and_then(Value::as_str).is_none_or(str::is_empty) {
                    let path = format!("metadata.ownerReferences[{i}].{f}");
                    errs.push(FieldError::invalid(&path, "", &format!("{f} must not be empty")));
                }
            }
        }
    }
    if let Some(old) = old
        && is_immutable_data(info, old)
    {
        for f in ["data", "binaryData"] {
            if obj.get(f) != old.get(f) {
                errs.push(FieldError::forbidden(f, "field is immutable when `immutable` is set"));
            }
        }
    }
    errs
}

fn is_immutable_data(info: &ResourceInfo, old: &Value) -> bool {
    matches!(info.resource, "configmaps" | "secrets") && old.get("immutable").and_then(Value::as_bool) == Some(true)
}

fn labels(path: &str, labels: Option<&Value>, errs: &mut Vec<FieldError>) {
    let Some(map) = labels.and_then(Value::as_object) else {
        return;
    };
    for (k, val) in map {
        for msg in v::is_qualified_name(k) {
            errs.push(FieldError::invalid(path, k.as_str(), &msg));
        }
        let s = val.as_str().unwrap_or_default();
        for msg in v::is_valid_label_value(s) {
            errs.push(FieldError::invalid(path, s, &msg));
        }
    }
}

fn data_map(obj: &Value, fields: &[&str], errs: &mut Vec<FieldError>) {
    let mut total = 0;
    for f in fields {
        let Some(map) = obj.get(*f).and_then(Value::as_object) else {
            continue;
        };
        for (k, val) in map {
            for msg in v::is_config_map_key(k) {
                errs.push(FieldError::invalid(&format!("{f}[{k}]"), k.as_str(), &msg));
            }
            total += val.as_str().map_or(0, str::len);
        }
    }
    if total > MAX_DATA_SIZE {
        errs.push(FieldError::too_long("", MAX_DATA_SIZE));
    }
}

fn pod(obj: &Value, old: Option<&Value>, errs: &mut Vec<FieldError>) {
    match old {
        None => pod_spec("spec", obj.get("spec"), errs),
        Some(old) => {
            // Only a few spec fields of a pod may change after creation.
            let strip = |p: &Value| {
                let mut s = p.get("spec").cloned().unwrap_or_default();
                if let Some(m) = s.as_object_mut() {
                    m.remove("activeDeadlineSeconds");
                    m.remove("tolerations");
                    m.remove("terminationGracePeriodSeconds");
                    for key in ["containers", "initContainers"] {
                        for c in m.get_mut(key).and_then(Value::as_array_mut).into_iter().flatten() {
                            if let Some(c) = c.as_object_mut() {
                                c.remove("image");
                            }
                        }
                    }
                }
                s
            };
            if strip(obj) != strip(old) {
                errs.push(FieldError::forbidden(
                    "spec",
                    "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
                ));
            }
        }
    }
}

fn pod_template(path: &str, template: Option<&Value>, errs: &mut Vec<FieldError>) {
    let Some(t) = template else {
        errs.push(FieldError::required(path, ""));
        return;
    };
    labels(&format!("{path}.metadata.labels"), t.pointer("/metadata/labels"), errs);
    pod_spec(&format!("{path}.spec"), t.get("spec"), errs);
}

fn pod_spec(path: &str, spec: Option<&Value>, errs: &mut Vec<FieldError>) {
    let spec = spec.cloned().unwrap_or_default();
    let containers = spec
        .get("containers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if containers.is_empty() {
        errs.push(FieldError::required(&format!("{path}.containers"), ""));
    }
    let mut seen = std::collections::HashSet::new();
    for key in ["initContainers", "containers"] {
        for (i, c) in spec
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let cpath = format!("{path}.{key}[{i}]");
            let cname = c.get("name").and_then(Value::as_str).unwrap_or_default();
            if cname.is_empty() {
                errs.push(FieldError::required(&format!("{cpath}.name"), ""));
            } else {
                for msg in v::is_dns1123_label(cname) {
                    errs.push(FieldError::invalid(&format!("{cpath}.name"), cname, &msg));
                }
                if !seen.insert(cname.to_string()) {
                    errs.push(FieldError::duplicate(&format!("{cpath}.name"), cname));
                }
            }
            if c.get("image")
                .and_then(Value::as_str)
                .is_none_or(|s| s.trim().is_empty())
            {
                errs.push(FieldError::required(&format!("{cpath}.image"), ""));
            }
            for (j, p) in c
                .get("ports")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                let port = p.get("containerPort").and_then(Value::as_i64).unwrap_or(0);
                if !(1..=65535).contains(&port) {
                    errs.push(FieldError::invalid(
                        &format!("{cpath}.ports[{j}].containerPort"),
                        port,
                        "must be between 1 and 65535, inclusive",
                    ));
                }
            }
        }
    }
    if let Some(rp) = spec.get("restartPolicy").and_then(Value::as_str)
        && !matches!(rp, "Always" | "OnFailure" | "Never")
    {
        errs.push(FieldError::not_supported(
            &format!("{path}.restartPolicy"),
            rp,
            &["Always", "Never", "OnFailure"],
        ));
    }
}

fn workload(info: &ResourceInfo, obj: &Value, errs: &mut Vec<FieldError>) {
    let spec = obj.get("spec").cloned().unwrap_or_default();
    if let Some(r) = spec.get("replicas").and_then(Value::as_i64)
        && r < 0
    {
        errs.push(FieldError::invalid(
            "spec.replicas",
            r,
            "must be greater than or equal to 0",
        ));
    }
    match spec.get("selector") {
        None | Some(Value::Null) => errs.push(FieldError::required("spec.selector", "")),
        Some(sel) => match api_types::labels::Selector::from_label_selector_json(sel) {
            Ok(s) if s.is_empty() => errs.push(FieldError::invalid(
                "spec.selector",
                sel.clone(),
                "empty selector is invalid for deployment",
            )),
            Ok(s) => {
                if !s.matches_json(spec.pointer("/template/metadata/labels")) {
                    errs.push(FieldError::invalid(
                        "spec.template.metadata.labels",
                        spec.pointer("/template/metadata/labels").cloned().unwrap_or_default(),
                        "`selector` does not match template `labels`",
                    ));
                }
            }
            Err(e) => errs.push(FieldError::invalid("spec.selector", sel.clone(), &e.to_string())),
        },
    }
    pod_template("spec.template", spec.get("template"), errs);
    if info.resource != "statefulsets"
        && let Some(rp) = spec.pointer("/template/spec/restartPolicy").and_then(Value::as_str)
        && rp != "Always"
    {
        errs.push(FieldError::not_supported(
            "spec.template.spec.restartPolicy",
            rp,
            &["Always"],
        ));
    }
}

fn service(obj: &Value, errs: &mut Vec<FieldError>) {
    let spec = obj.get("spec").cloned().unwrap_or_default();
    let ty = spec.get("type").and_then(Value::as_str).unwrap_or("ClusterIP");
    if !matches!(ty, "ClusterIP" | "NodePort" | "LoadBalancer" | "ExternalName") {
        errs.push(FieldError::not_supported(
            "spec.type",
            ty,
            &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"],
        ));
    }
    let ports = spec.get("ports").and_then(Value::as_array).cloned().unwrap_or_default();
    let headless = spec.get("clusterIP").and_then(Value::as_str) == Some("None");
    if ports.is_empty() && ty != "ExternalName" && !headless {
        errs.push(FieldError::required("spec.ports", ""));
    }
    let mut names = std::collections::HashSet::new();
    for (i, p) in ports.iter().enumerate() {
        let port = p.get("port").and_then(Value::as_i64).unwrap_or(0);
        if !(1..=65535).contains(&port) {
            errs.push(FieldError::invalid(
                &format!("spec.ports[{i}].port"),
                port,
                "must be between 1 and 65535, inclusive",
            ));
        }
        let pname = p.get("name").and_then(Value::as_str).unwrap_or_default();
        if ports.len() > 1 && pname.is_empty() {
            errs.push(FieldError::required(&format!("spec.ports[{i}].name"), ""));
        }
        if !pname.is_empty() && !names.insert(pname.to_string()) {
            errs.push(FieldError::duplicate(&format!("spec.ports[{i}].name"), pname));
        }
        if let Some(proto) = p.get("protocol").and_then(Value::as_str)
            && !matches!(proto, "TCP" | "UDP" | "SCTP")
        {
            errs.push(FieldError::not_supported(
                &format!("spec.ports[{i}].protocol"),
                proto,
                &["SCTP", "TCP", "UDP"],
            ));
        }
    }
    if ty == "ExternalName"
        && spec
            .get("externalName")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
    {
        errs.push(FieldError::required("spec.externalName", ""));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::resources::find;
    use serde_json::json;

    #[test]
    fn pod_without_image() {
        let info = find("", "v1", "pods").unwrap();
        let pod = json!({"metadata":{"name":"x","namespace":"default"},"spec":{"containers":[{"name":"c"}]}});
        let errs = validate(info, &pod, None);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].to_string(), "spec.containers[0].image: Required value");
    }

    #[test]
    fn bad_names_and_labels() {
        let info = find("", "v1", "configmaps").unwrap();
        let cm = json!({"metadata":{"name":"Bad_Name","namespace":"default","labels":{"a":"-x"}},"data":{"a b":"c"}});
        let errs = validate(info, &cm, None);
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["metadata.name", "metadata.labels", "data[a b]"]);
    }

    #[test]
    fn deployment_selector_must_match() {
        let info = find("apps", "v1", "deployments").unwrap();
        let d = json!({"metadata":{"name":"d","namespace":"n"},"spec":{"selector":{"matchLabels":{"app":"a"}},
            "template":{"metadata":{"labels":{"app":"b"}},"spec":{"containers":[{"name":"c","image":"i"}]}}}});
        let errs = validate(info, &d, None);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].field, "spec.template.metadata.labels");
    }
}
