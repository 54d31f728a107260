//! Validation with upstream's field paths and messages: metadata for every kind, the specs of
//! the workhorse kinds (one submodule per API area), and the helpers they share.

mod apiregistration;
mod apps;
mod batch;
pub mod certificates;
mod coordination;
mod core;
mod core_pod;
mod discovery;
mod rbac;

use super::super::meta::{self, name};
use super::super::resources::ResourceInfo;
use crate::errors::FieldError;
use api_types::validation as v;
use serde_json::Value;

const TOTAL_ANNOTATION_SIZE: usize = 256 * 1024;

pub(super) type Errs = Vec<FieldError>;

/// All problems with `obj` (a create when `old` is None, an update otherwise).
pub fn validate(info: &ResourceInfo, obj: &Value, old: Option<&Value>) -> Vec<FieldError> {
    let mut errs = validate_meta(info, obj, old);
    let e = &mut errs;
    match (info.group, info.resource) {
        ("", "pods") => core_pod::pod(obj, old, e),
        ("", "podtemplates") => core_pod::pod_template("template", obj.get("template"), e),
        ("", "replicationcontrollers") => apps::replication_controller(obj, e),
        ("", "services") => core::service(obj, old, e),
        ("", "endpoints") => core::endpoints(obj, e),
        ("", "configmaps") => core::config_map(obj, old, e),
        ("", "secrets") => core::secret(obj, old, e),
        ("", "namespaces") => core::namespace(obj, e),
        ("", "nodes") => core::node(obj, old, e),
        ("", "persistentvolumeclaims") => core::pvc(obj, old, e),
        ("", "events") | ("events.k8s.io", "events") => core::event(info.group, obj, old, e),
        ("apiregistration.k8s.io", "apiservices") => apiregistration::api_service(obj, e),
        ("apps", "deployments") => apps::deployment(obj, old, e),
        ("apps", "replicasets") => apps::replica_set(obj, old, e),
        ("apps", "daemonsets") => apps::daemon_set(obj, old, e),
        ("apps", "statefulsets") => apps::stateful_set(obj, old, e),
        ("batch", "jobs") => batch::job(obj, old, e),
        ("batch", "cronjobs") => batch::cron_job(obj, old, e),
        ("discovery.k8s.io", "endpointslices") => discovery::endpoint_slice(obj, old, e),
        ("coordination.k8s.io", "leases") => coordination::lease(obj, e),
        ("rbac.authorization.k8s.io", "roles") => rbac::role(obj, true, e),
        ("rbac.authorization.k8s.io", "clusterroles") => rbac::role(obj, false, e),
        ("rbac.authorization.k8s.io", "rolebindings") => rbac::binding(obj, old, true, e),
        ("rbac.authorization.k8s.io", "clusterrolebindings") => rbac::binding(obj, old, false, e),
        ("certificates.k8s.io", "certificatesigningrequests") => certificates::certificate_signing_request(obj, e),
        _ => {}
    }
    errs
}

/// The name rule of each kind (upstream's ValidateXName functions).
fn name_errors(info: &ResourceInfo, name: &str) -> Vec<String> {
    match info.resource {
        "namespaces" => v::is_dns1123_label(name),
        "services" => v::is_dns1035_label(name),
        "roles"
        | "clusterroles"
        | "rolebindings"
        | "clusterrolebindings"
        | "certificatesigningrequests"
        | "apiservices" => v::is_path_segment_name(name),
        _ => v::is_dns1123_subdomain(name),
    }
}

pub fn validate_meta(info: &ResourceInfo, obj: &Value, _old: Option<&Value>) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let n = name(obj);
    if n.is_empty() {
        errs.push(super::super::store::name_required());
    } else {
        msgs("metadata.name", n, name_errors(info, n), &mut errs);
    }
    let ns = meta::namespace(obj);
    if info.namespaced {
        if ns.is_empty() {
            errs.push(FieldError::required("metadata.namespace", ""));
        } else {
            msgs("metadata.namespace", ns, v::is_dns1123_label(ns), &mut errs);
        }
    } else if !ns.is_empty() {
        errs.push(FieldError::forbidden("metadata.namespace", "not allowed on this type"));
    }
    labels("metadata.labels", obj.pointer("/metadata/labels"), &mut errs);
    if let Some(ann) = obj.pointer("/metadata/annotations").and_then(Value::as_object) {
        let mut total = 0;
        for (k, val) in ann {
            msgs(
                "metadata.annotations",
                k.as_str(),
                v::is_qualified_name(&k.to_lowercase()),
                &mut errs,
            );
            total += k.len() + val.as_str().map_or(0, str::len);
        }
        if total > TOTAL_ANNOTATION_SIZE {
            errs.push(FieldError::too_long("metadata.annotations", TOTAL_ANNOTATION_SIZE));
        }
    }
    let fins = meta::finalizers(obj);
    for f in &fins {
        msgs("metadata.finalizers", f.as_str(), v::is_qualified_name(f), &mut errs);
    }
    if fins.iter().any(|f| f == "orphan") && fins.iter().any(|f| f == "foregroundDeletion") {
        errs.push(FieldError::invalid(
            "metadata.finalizers",
            serde_json::json!(fins),
            "finalizer orphan and foregroundDeletion cannot be both set",
        ));
    }
    for (i, r) in list(obj.get("metadata").unwrap_or(&Value::Null), "ownerReferences")
        .iter()
        .enumerate()
    {
        for f in ["apiVersion", "kind", "name", "uid"] {
            if str_of(r, f).is_empty() {
                let path = format!("metadata.ownerReferences[{i}].{f}");
                errs.push(FieldError::invalid(&path, "", &format!("{f} must not be empty")));
            }
        }
    }
    errs
}

// ---- shared helpers ----

/// The string at `v[key]`, or "".
pub(super) fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// The array at `v[key]`, or an empty one.
pub(super) fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key).and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

/// `v[key]` unless absent or null.
pub(super) fn field<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.get(key).filter(|x| !x.is_null())
}

pub(super) fn int_of(v: &Value, key: &str) -> Option<i64> {
    v.get(key).and_then(Value::as_i64)
}

/// `path.child`, or `child` at the root.
pub(super) fn child(path: &str, c: &str) -> String {
    if path.is_empty() {
        c.to_string()
    } else {
        format!("{path}.{c}")
    }
}

/// One Invalid error per message.
pub(super) fn msgs(path: &str, value: impl Into<Value> + Clone, messages: Vec<String>, errs: &mut Errs) {
    for m in messages {
        errs.push(FieldError::invalid(path, value.clone(), &m));
    }
}

/// Upstream's ValidateNonnegativeField for the integer at `v[key]`, when set.
pub(super) fn non_negative(path: &str, v: &Value, key: &str, errs: &mut Errs) {
    if let Some(n) = int_of(v, key)
        && n < 0
    {
        errs.push(FieldError::invalid(
            &child(path, key),
            n,
            "must be greater than or equal to 0",
        ));
    }
}

/// `Invalid(path, new, "field is immutable")` when the two differ (absent and null are equal).
pub(super) fn immutable(path: &str, new: Option<&Value>, old: Option<&Value>, errs: &mut Errs) {
    let new = new.filter(|x| !x.is_null());
    let old = old.filter(|x| !x.is_null());
    if new != old {
        errs.push(FieldError::invalid(
            path,
            new.cloned().unwrap_or(Value::Null),
            "field is immutable",
        ));
    }
}

/// An enumerated string field: Required when empty, NotSupported when not one of `supported`.
pub(super) fn one_of(path: &str, value: &str, supported: &[&str], errs: &mut Errs) {
    if value.is_empty() {
        errs.push(FieldError::required(path, ""));
    } else if !supported.contains(&value) {
        errs.push(FieldError::not_supported(path, value, supported));
    }
}

/// Like `one_of` for an optional field: nothing when absent.
pub(super) fn opt_one_of(path: &str, v: &Value, key: &str, supported: &[&str], errs: &mut Errs) {
    if let Some(s) = v.get(key).and_then(Value::as_str) {
        one_of(&child(path, key), s, supported, errs);
    }
}

pub(super) fn dns_label(path: &str, s: &str, errs: &mut Errs) {
    msgs(path, s, v::is_dns1123_label(s), errs);
}

pub(super) fn dns_subdomain(path: &str, s: &str, errs: &mut Errs) {
    msgs(path, s, v::is_dns1123_subdomain(s), errs);
}

/// A label map: keys are qualified names, values label values (upstream's ValidateLabels).
pub(super) fn labels(path: &str, labels: Option<&Value>, errs: &mut Errs) {
    let Some(map) = labels.and_then(Value::as_object) else {
        return;
    };
    for (k, val) in map {
        msgs(path, k.as_str(), v::is_qualified_name(k), errs);
        let s = val.as_str().unwrap_or_default();
        msgs(path, s, v::is_valid_label_value(s), errs);
    }
}

/// A metav1.LabelSelector: matchLabels as labels, matchExpressions' keys, operators and values.
pub(super) fn label_selector(path: &str, sel: &Value, errs: &mut Errs) {
    for (i, e) in list(sel, "matchExpressions").iter().enumerate() {
        let ep = format!("{path}.matchExpressions[{i}]");
        let op = str_of(e, "operator");
        let values = list(e, "values");
        match op {
            "In" | "NotIn" if values.is_empty() => errs.push(FieldError::required(
                &child(&ep, "values"),
                "must be specified when `operator` is 'In' or 'NotIn'",
            )),
            "Exists" | "DoesNotExist" if !values.is_empty() => errs.push(FieldError::forbidden(
                &child(&ep, "values"),
                "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
            )),
            "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
            _ => errs.push(FieldError::invalid(
                &child(&ep, "operator"),
                op,
                "not a valid selector operator",
            )),
        }
        let key = str_of(e, "key");
        msgs(&child(&ep, "key"), key, v::is_qualified_name(key), errs);
    }
    labels(&child(path, "matchLabels"), sel.get("matchLabels"), errs);
}

/// True when a label selector selects nothing in particular (no labels, no expressions).
pub(super) fn selector_is_empty(sel: &Value) -> bool {
    let n_labels = sel.get("matchLabels").and_then(Value::as_object).map_or(0, |m| m.len());
    n_labels + list(sel, "matchExpressions").len() == 0
}

/// Whether a label selector matches the labels at `labels` (a selector that does not parse
/// matches nothing).
pub(super) fn selector_matches(sel: &Value, labels: Option<&Value>) -> bool {
    api_types::labels::Selector::from_label_selector_json(sel).is_ok_and(|s| s.matches_json(labels))
}

/// An IntOrString port: a number in 1..=65535 or an IANA service name.
pub(super) fn port_num_or_name(path: &str, port: &Value, errs: &mut Errs) {
    match port {
        Value::Number(n) => {
            let n = n.as_i64().unwrap_or(0);
            msgs(path, n, v::is_valid_port_num(n), errs);
        }
        Value::String(s) => msgs(path, s.as_str(), v::is_valid_port_name(s), errs),
        _ => errs.push(FieldError::invalid(path, port.clone(), "must be an integer or string")),
    }
}

/// An IntOrString that is a non-negative integer or a percentage; returns its value.
pub(super) fn int_or_percent(path: &str, value: Option<&Value>, errs: &mut Errs) -> i64 {
    match value {
        None | Some(Value::Null) => 0,
        Some(Value::Number(n)) => {
            let n = n.as_i64().unwrap_or(0);
            if n < 0 {
                errs.push(FieldError::invalid(path, n, "must be greater than or equal to 0"));
            }
            n
        }
        Some(Value::String(s)) => {
            let m = v::is_valid_percent(s);
            if m.is_empty() {
                let pct = s.trim_end_matches('%').parse::<i64>().unwrap_or(0);
                if pct > 100 {
                    errs.push(FieldError::invalid(path, s.as_str(), "must not be greater than 100%"));
                }
                pct
            } else {
                msgs(path, s.as_str(), m, errs);
                0
            }
        }
        Some(other) => {
            errs.push(FieldError::invalid(
                path,
                other.clone(),
                "must be an integer or percentage (e.g '5%%')",
            ));
            0
        }
    }
}

#[cfg(test)]
pub(super) mod testing {
    //! Table helpers: run a case through `validate` and compare the rendered errors.
    use super::*;
    use crate::registry::resources::find;

    pub fn errors(group: &str, version: &str, resource: &str, obj: &Value, old: Option<&Value>) -> Vec<String> {
        let Some(info) = find(group, version, resource) else {
            panic!("unknown resource {group}/{version}/{resource}");
        };
        validate(info, obj, old).iter().map(ToString::to_string).collect()
    }

    /// Asserts each case: (name, object, expected error strings).
    pub fn check(group: &str, version: &str, resource: &str, cases: &[(&str, Value, &[&str])]) {
        for (name, obj, want) in cases {
            let got = errors(group, version, resource, obj, None);
            assert_eq!(got, *want, "case {name}");
        }
    }

    /// Asserts update cases: (name, old, new, expected error strings).
    pub fn check_update(group: &str, version: &str, resource: &str, cases: &[(&str, Value, Value, &[&str])]) {
        for (name, old, new, want) in cases {
            let got = errors(group, version, resource, new, Some(old));
            assert_eq!(got, *want, "case {name}");
        }
    }

    /// Sets `obj` at the JSON pointer `ptr` (creating objects on the way) and returns it.
    pub fn with(mut obj: Value, ptr: &str, value: Value) -> Value {
        let mut cur = &mut obj;
        for part in ptr.trim_start_matches('/').split('/') {
            if let Ok(i) = part.parse::<usize>()
                && cur.is_array()
            {
                cur = &mut cur[i];
            } else {
                if !cur.is_object() {
                    *cur = Value::Object(Default::default());
                }
                cur = &mut cur[part];
            }
        }
        *cur = value;
        obj
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use serde_json::json;

    #[test]
    fn metadata() {
        let cm = json!({"metadata":{"name":"Bad_Name","namespace":"default","labels":{"a":"-x"}},"data":{"a b":"c"}});
        let errs = errors("", "v1", "configmaps", &cm, None);
        let fields: Vec<&str> = errs.iter().map(|e| e.split(':').next().unwrap_or_default()).collect();
        assert_eq!(fields, ["metadata.name", "metadata.labels", "data[a b]"]);
        let ns = json!({"metadata":{"name":"x","namespace":"y"}});
        assert_eq!(
            errors("", "v1", "namespaces", &ns, None),
            ["metadata.namespace: Forbidden: not allowed on this type"]
        );
        let fin = json!({"metadata":{"name":"x","namespace":"d","finalizers":["orphan","foregroundDeletion"]}});
        assert_eq!(
            errors("", "v1", "configmaps", &fin, None),
            [
                "metadata.finalizers: Invalid value: [\"orphan\",\"foregroundDeletion\"]: finalizer orphan and foregroundDeletion cannot be both set"
            ]
        );
        let no_ns = json!({"metadata":{"name":"x"}});
        assert_eq!(
            errors("", "v1", "configmaps", &no_ns, None),
            ["metadata.namespace: Required value"]
        );
    }
}
