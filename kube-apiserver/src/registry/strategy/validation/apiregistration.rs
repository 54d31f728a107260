//! apiregistration.k8s.io/v1 APIService: the name is `version.group`, priorities in range, and
//! TLS settings only for services that are not local.

use super::{Errs, field, int_of, msgs, str_of};
use crate::errors::FieldError;
use api_types::validation as v;
use serde_json::Value;

pub fn api_service(obj: &Value, errs: &mut Errs) {
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    let (group, version) = (str_of(spec, "group"), str_of(spec, "version"));
    let name = str_of(obj.get("metadata").unwrap_or(&Value::Null), "name");
    let required = format!("{version}.{group}");
    if !name.is_empty() && v::is_path_segment_name(name).is_empty() && name != required {
        errs.push(FieldError::invalid(
            "metadata.name",
            name,
            &format!("must be `spec.version+\".\"+spec.group`: {required:?}"),
        ));
    }
    if group.is_empty() && version != "v1" {
        errs.push(FieldError::required(
            "spec.group",
            "only v1 may have an empty group and it better be legacy kube",
        ));
    }
    if !group.is_empty() {
        msgs("spec.group", group, v::is_dns1123_subdomain(group), errs);
    }
    msgs("spec.version", version, v::is_dns1035_label(version), errs);
    let group_priority = int_of(spec, "groupPriorityMinimum").unwrap_or(0);
    if !(1..=20000).contains(&group_priority) {
        errs.push(FieldError::invalid(
            "spec.groupPriorityMinimum",
            group_priority,
            "must be positive and less than 20000",
        ));
    }
    let version_priority = int_of(spec, "versionPriority").unwrap_or(0);
    if !(1..=1000).contains(&version_priority) {
        errs.push(FieldError::invalid(
            "spec.versionPriority",
            version_priority,
            "must be positive and less than 1000",
        ));
    }
    let ca_len = ca_bundle_len(spec);
    let insecure = spec
        .get("insecureSkipTLSVerify")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let Some(service) = field(spec, "service") else {
        if ca_len > 0 {
            errs.push(FieldError::invalid(
                "spec.caBundle",
                format!("{ca_len} bytes"),
                "local APIServices may not have a caBundle",
            ));
        }
        if insecure {
            errs.push(FieldError::invalid(
                "spec.insecureSkipTLSVerify",
                true,
                "local APIServices may not have insecureSkipTLSVerify",
            ));
        }
        return;
    };
    for key in ["namespace", "name"] {
        if str_of(service, key).is_empty() {
            errs.push(FieldError::required(&format!("spec.service.{key}"), ""));
        }
    }
    if insecure && ca_len > 0 {
        errs.push(FieldError::invalid(
            "spec.insecureSkipTLSVerify",
            true,
            "may not be true if caBundle is present",
        ));
    }
}

/// Decoded length of the base64 `caBundle`.
fn ca_bundle_len(spec: &Value) -> usize {
    use base64::Engine;
    let text = str_of(spec, "caBundle");
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_or(text.len(), |b| b.len())
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use serde_json::json;

    #[test]
    fn api_services() {
        let good = json!({"metadata": {"name": "v1beta1.metrics.k8s.io"},
            "spec": {"group": "metrics.k8s.io", "version": "v1beta1", "groupPriorityMinimum": 100, "versionPriority": 100,
                     "insecureSkipTLSVerify": true, "service": {"namespace": "kube-system", "name": "metrics-server", "port": 443}}});
        check(
            "apiregistration.k8s.io",
            "v1",
            "apiservices",
            &[
                ("valid", good.clone(), &[]),
                (
                    "name must be version.group",
                    with(good.clone(), "/metadata/name", json!("metrics")),
                    &[
                        "metadata.name: Invalid value: \"metrics\": must be `spec.version+\".\"+spec.group`: \"v1beta1.metrics.k8s.io\"",
                    ],
                ),
                (
                    "priorities",
                    with(
                        with(good.clone(), "/spec/groupPriorityMinimum", json!(0)),
                        "/spec/versionPriority",
                        json!(1001),
                    ),
                    &[
                        "spec.groupPriorityMinimum: Invalid value: 0: must be positive and less than 20000",
                        "spec.versionPriority: Invalid value: 1001: must be positive and less than 1000",
                    ],
                ),
                (
                    "ca bundle with insecure",
                    with(good.clone(), "/spec/caBundle", json!("YWJj")),
                    &["spec.insecureSkipTLSVerify: Invalid value: true: may not be true if caBundle is present"],
                ),
                (
                    "service without name",
                    with(good.clone(), "/spec/service", json!({"namespace": "kube-system"})),
                    &["spec.service.name: Required value"],
                ),
                (
                    "local with tls settings",
                    with(good, "/spec/service", json!(null)),
                    &[
                        "spec.insecureSkipTLSVerify: Invalid value: true: local APIServices may not have insecureSkipTLSVerify",
                    ],
                ),
            ],
        );
    }
}
