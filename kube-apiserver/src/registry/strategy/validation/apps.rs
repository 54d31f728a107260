//! Workloads (apps/v1 and ReplicationController): selectors, templates, strategies and the
//! update rules (selectors immutable, StatefulSet spec mostly immutable).

use super::core_pod::pod_template;
use super::{
    Errs, child, field, immutable, int_of, int_or_percent, label_selector, non_negative, selector_is_empty,
    selector_matches, str_of,
};
use crate::errors::FieldError;
use serde_json::Value;

/// selector: present, valid, not empty (`kind` names the workload in the message).
fn selector(spec: &Value, kind: &str, required: bool, errs: &mut Errs) {
    match field(spec, "selector") {
        None if required => errs.push(FieldError::required("spec.selector", "")),
        None => {}
        Some(sel) => {
            label_selector("spec.selector", sel, errs);
            if selector_is_empty(sel) {
                errs.push(FieldError::invalid(
                    "spec.selector",
                    sel.clone(),
                    &format!("empty selector is invalid for {kind}"),
                ));
            }
        }
    }
}

/// The template of a controller that keeps pods running: labels match the selector,
/// restartPolicy Always, no activeDeadlineSeconds.
fn running_template(spec: &Value, kind: &str, errs: &mut Errs) {
    let template = field(spec, "template");
    if let (Some(sel), Some(t)) = (field(spec, "selector"), template)
        && !selector_is_empty(sel)
        && !selector_matches(sel, t.pointer("/metadata/labels"))
    {
        errs.push(FieldError::invalid(
            "spec.template.metadata.labels",
            t.pointer("/metadata/labels").cloned().unwrap_or_default(),
            "`selector` does not match template `labels`",
        ));
    }
    pod_template("spec.template", template, errs);
    let Some(t) = template else { return };
    let rp = t
        .pointer("/spec/restartPolicy")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if rp != "Always" {
        errs.push(FieldError::not_supported(
            "spec.template.spec.restartPolicy",
            rp,
            &["Always"],
        ));
    }
    if t.pointer("/spec/activeDeadlineSeconds").is_some_and(|v| !v.is_null()) {
        errs.push(FieldError::forbidden(
            "spec.template.spec.activeDeadlineSeconds",
            &format!("activeDeadlineSeconds in {kind} is not Supported"),
        ));
    }
}

fn counts(spec: &Value, keys: &[&str], errs: &mut Errs) {
    for k in keys {
        non_negative("spec", spec, k, errs);
    }
}

fn selector_immutable(obj: &Value, old: Option<&Value>, errs: &mut Errs) {
    if let Some(old) = old {
        immutable(
            "spec.selector",
            obj.pointer("/spec/selector"),
            old.pointer("/spec/selector"),
            errs,
        );
    }
}

pub fn deployment(obj: &Value, old: Option<&Value>, errs: &mut Errs) {
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    counts(spec, &["replicas"], errs);
    selector(spec, "deployment", true, errs);
    running_template(spec, "ReplicaSet", errs);
    if let Some(s) = field(spec, "strategy") {
        deployment_strategy(s, errs);
    }
    counts(
        spec,
        &["minReadySeconds", "revisionHistoryLimit", "progressDeadlineSeconds"],
        errs,
    );
    if let Some(pds) = int_of(spec, "progressDeadlineSeconds")
        && pds <= int_of(spec, "minReadySeconds").unwrap_or(0)
    {
        errs.push(FieldError::invalid(
            "spec.progressDeadlineSeconds",
            pds,
            "must be greater than minReadySeconds",
        ));
    }
    selector_immutable(obj, old, errs);
}

fn deployment_strategy(s: &Value, errs: &mut Errs) {
    match str_of(s, "type") {
        "Recreate" => {
            if field(s, "rollingUpdate").is_some() {
                errs.push(FieldError::forbidden(
                    "spec.strategy.rollingUpdate",
                    "may not be specified when strategy `type` is 'Recreate'",
                ));
            }
        }
        "RollingUpdate" => match field(s, "rollingUpdate") {
            None => errs.push(FieldError::required(
                "spec.strategy.rollingUpdate",
                "this should be defaulted and never be nil",
            )),
            Some(ru) => {
                let up = "spec.strategy.rollingUpdate.maxUnavailable";
                let unavailable = int_or_percent(up, ru.get("maxUnavailable"), errs);
                let surge = int_or_percent("spec.strategy.rollingUpdate.maxSurge", ru.get("maxSurge"), errs);
                if unavailable == 0 && surge == 0 {
                    let value = ru.get("maxUnavailable").cloned().unwrap_or_default();
                    errs.push(FieldError::invalid(up, value, "may not be 0 when `maxSurge` is 0"));
                }
            }
        },
        ty => errs.push(FieldError::not_supported(
            "spec.strategy",
            ty,
            &["Recreate", "RollingUpdate"],
        )),
    }
}

pub fn replica_set(obj: &Value, old: Option<&Value>, errs: &mut Errs) {
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    counts(spec, &["replicas", "minReadySeconds"], errs);
    selector(spec, "deployment", true, errs);
    running_template(spec, "ReplicaSet", errs);
    selector_immutable(obj, old, errs);
}

/// ReplicationController: a plain label map selector (defaulted from the template upstream).
pub fn replication_controller(obj: &Value, errs: &mut Errs) {
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    counts(spec, &["replicas", "minReadySeconds"], errs);
    super::labels("spec.selector", spec.get("selector"), errs);
    let template = field(spec, "template");
    if let (Some(sel), Some(t)) = (spec.get("selector").and_then(Value::as_object), template) {
        let labels = t.pointer("/metadata/labels");
        if !sel.is_empty() && !sel.iter().all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v)) {
            errs.push(FieldError::invalid(
                "spec.template.metadata.labels",
                labels.cloned().unwrap_or_default(),
                "`selector` does not match template `labels`",
            ));
        }
    }
    pod_template("spec.template", template, errs);
}

pub fn daemon_set(obj: &Value, old: Option<&Value>, errs: &mut Errs) {
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    selector(spec, "daemonset", true, errs);
    running_template(spec, "DaemonSet", errs);
    counts(
        spec,
        &["minReadySeconds", "templateGeneration", "revisionHistoryLimit"],
        errs,
    );
    if let Some(s) = field(spec, "updateStrategy") {
        match str_of(s, "type") {
            "OnDelete" => {}
            "RollingUpdate" => {
                let ru = s.get("rollingUpdate").unwrap_or(&Value::Null);
                let up = "spec.updateStrategy.rollingUpdate";
                let unavailable = int_or_percent(&child(up, "maxUnavailable"), ru.get("maxUnavailable"), errs);
                let surge = int_or_percent(&child(up, "maxSurge"), ru.get("maxSurge"), errs);
                if unavailable != 0 && surge != 0 {
                    errs.push(FieldError::invalid(
                        &child(up, "maxSurge"),
                        ru.get("maxSurge").cloned().unwrap_or_default(),
                        "may not be set when maxUnavailable is non-zero",
                    ));
                } else if unavailable == 0 && surge == 0 {
                    errs.push(FieldError::required(
                        &child(up, "maxUnavailable"),
                        "cannot be 0 when maxSurge is 0",
                    ));
                }
            }
            ty => errs.push(FieldError::not_supported(
                "spec.updateStrategy",
                ty,
                &["OnDelete", "RollingUpdate"],
            )),
        }
    }
    selector_immutable(obj, old, errs);
}

const STS_MUTABLE: &[&str] = &[
    "replicas",
    "ordinals",
    "template",
    "updateStrategy",
    "revisionHistoryLimit",
    "persistentVolumeClaimRetentionPolicy",
    "minReadySeconds",
];

pub fn stateful_set(obj: &Value, old: Option<&Value>, errs: &mut Errs) {
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    let policy = str_of(spec, "podManagementPolicy");
    match policy {
        "" => errs.push(FieldError::required("spec.podManagementPolicy", "")),
        "OrderedReady" | "Parallel" => {}
        _ => errs.push(FieldError::invalid(
            "spec.podManagementPolicy",
            policy,
            "must be 'OrderedReady' or 'Parallel'",
        )),
    }
    let strategy = spec.get("updateStrategy").unwrap_or(&Value::Null);
    match str_of(strategy, "type") {
        "" => errs.push(FieldError::required("spec.updateStrategy", "")),
        "OnDelete" => {
            if field(strategy, "rollingUpdate").is_some() {
                errs.push(FieldError::invalid(
                    "spec.updateStrategy.rollingUpdate",
                    strategy.get("rollingUpdate").cloned().unwrap_or_default(),
                    "only allowed for updateStrategy 'RollingUpdate'",
                ));
            }
        }
        "RollingUpdate" => {
            if let Some(ru) = field(strategy, "rollingUpdate") {
                non_negative("spec.updateStrategy.rollingUpdate", ru, "partition", errs);
                if let Some(mu) = field(ru, "maxUnavailable") {
                    let p = "spec.updateStrategy.rollingUpdate.maxUnavailable";
                    if int_or_percent(p, Some(mu), errs) == 0 {
                        errs.push(FieldError::invalid(p, mu.clone(), "must be greater than 0"));
                    }
                }
            }
        }
        _ => errs.push(FieldError::invalid(
            "spec.updateStrategy",
            strategy.clone(),
            "must be 'RollingUpdate' or 'OnDelete'",
        )),
    }
    counts(spec, &["revisionHistoryLimit", "replicas", "minReadySeconds"], errs);
    if let Some(policy) = field(spec, "persistentVolumeClaimRetentionPolicy") {
        for k in ["whenDeleted", "whenScaled"] {
            let p = format!("spec.persistentVolumeClaimRetentionPolicy.{k}");
            super::one_of(&p, str_of(policy, k), &["Retain", "Delete"], errs);
        }
    }
    if let Some(o) = field(spec, "ordinals") {
        non_negative("spec.ordinals", o, "start", errs);
    }
    selector(spec, "statefulset", true, errs);
    running_template(spec, "StatefulSet", errs);
    for (i, t) in super::list(spec, "volumeClaimTemplates").iter().enumerate() {
        let tp = format!("spec.volumeClaimTemplates[{i}]");
        let name = t.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default();
        if name.is_empty() {
            errs.push(FieldError::required(&format!("{tp}.metadata.name"), ""));
        } else {
            super::dns_subdomain(&format!("{tp}.metadata.name"), name, errs);
        }
        super::core::pvc_spec(&child(&tp, "spec"), t.get("spec").unwrap_or(&Value::Null), errs);
    }
    if let Some(old) = old {
        let strip = |o: &Value| {
            let mut s = o.get("spec").cloned().unwrap_or_default();
            if let Some(m) = s.as_object_mut() {
                for k in STS_MUTABLE {
                    m.remove(*k);
                }
            }
            s
        };
        if strip(obj) != strip(old) {
            errs.push(FieldError::forbidden(
                "spec",
                "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::registry::resources::find;
    use crate::registry::strategy::default;
    use serde_json::{Value, json};

    /// A workload as `kubectl create deployment web --image=nginx` sends it, defaulted.
    fn workload(resource: &str, extra_spec: Value) -> Value {
        let mut spec = json!({"selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}});
        if let (Some(s), Some(e)) = (spec.as_object_mut(), extra_spec.as_object()) {
            s.extend(e.clone());
        }
        let mut obj = json!({"metadata": {"name": "web", "namespace": "default"}, "spec": spec});
        if let Some(info) = find("apps", "v1", resource) {
            default(info, &mut obj);
        }
        obj
    }

    #[test]
    fn deployments() {
        check(
            "apps",
            "v1",
            "deployments",
            &[
                ("kubectl create deployment", workload("deployments", json!({})), &[]),
                (
                    "negative replicas, empty selector",
                    workload("deployments", json!({"replicas": -1, "selector": {}})),
                    &[
                        "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
                        "spec.selector: Invalid value: {}: empty selector is invalid for deployment",
                    ],
                ),
                (
                    "selector mismatch",
                    workload("deployments", json!({"selector": {"matchLabels": {"app": "other"}}})),
                    &[
                        "spec.template.metadata.labels: Invalid value: {\"app\":\"web\"}: `selector` does not match template `labels`",
                    ],
                ),
                (
                    "strategy",
                    workload(
                        "deployments",
                        json!({"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "0%", "maxSurge": 0}}}),
                    ),
                    &[
                        "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: \"0%\": may not be 0 when `maxSurge` is 0",
                    ],
                ),
                (
                    "recreate with rollingUpdate, bad percent",
                    workload(
                        "deployments",
                        json!({"strategy": {"type": "Recreate", "rollingUpdate": {"maxSurge": "x"}}}),
                    ),
                    &[
                        "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'",
                    ],
                ),
                (
                    "restartPolicy",
                    with(
                        workload("deployments", json!({})),
                        "/spec/template/spec/restartPolicy",
                        json!("Never"),
                    ),
                    &["spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\""],
                ),
            ],
        );
        let old = workload("deployments", json!({}));
        check_update(
            "apps",
            "v1",
            "deployments",
            &[
                ("scale", old.clone(), with(old.clone(), "/spec/replicas", json!(3)), &[]),
                (
                    "selector change",
                    old.clone(),
                    with(
                        with(old.clone(), "/spec/selector/matchLabels/tier", json!("x")),
                        "/spec/template/metadata/labels/tier",
                        json!("x"),
                    ),
                    &[
                        "spec.selector: Invalid value: {\"matchLabels\":{\"app\":\"web\",\"tier\":\"x\"}}: field is immutable",
                    ],
                ),
            ],
        );
    }

    #[test]
    fn replica_sets_and_daemon_sets() {
        check(
            "apps",
            "v1",
            "replicasets",
            &[
                ("valid", workload("replicasets", json!({})), &[]),
                (
                    "no selector",
                    with(workload("replicasets", json!({})), "/spec/selector", Value::Null),
                    &["spec.selector: Required value"],
                ),
            ],
        );
        check(
            "apps",
            "v1",
            "daemonsets",
            &[
                ("valid", workload("daemonsets", json!({})), &[]),
                (
                    "strategy",
                    workload(
                        "daemonsets",
                        json!({"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 0}}}),
                    ),
                    &[
                        "spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0",
                    ],
                ),
                (
                    "bad strategy type",
                    workload("daemonsets", json!({"updateStrategy": {"type": "Sometimes"}})),
                    &[
                        "spec.updateStrategy: Unsupported value: \"Sometimes\": supported values: \"OnDelete\", \"RollingUpdate\"",
                    ],
                ),
                (
                    "deadline",
                    with(
                        workload("daemonsets", json!({})),
                        "/spec/template/spec/activeDeadlineSeconds",
                        json!(5),
                    ),
                    &[
                        "spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in DaemonSet is not Supported",
                    ],
                ),
            ],
        );
    }

    #[test]
    fn stateful_sets() {
        let claim = json!([{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]);
        let good = workload(
            "statefulsets",
            json!({"serviceName": "web", "volumeClaimTemplates": claim}),
        );
        check(
            "apps",
            "v1",
            "statefulsets",
            &[
                ("valid", good.clone(), &[]),
                (
                    "policy",
                    with(good.clone(), "/spec/podManagementPolicy", json!("Random")),
                    &["spec.podManagementPolicy: Invalid value: \"Random\": must be 'OrderedReady' or 'Parallel'"],
                ),
                (
                    "claim template",
                    with(good.clone(), "/spec/volumeClaimTemplates/0/spec/accessModes", json!([])),
                    &[
                        "spec.volumeClaimTemplates[0].spec.accessModes: Required value: at least 1 access mode is required",
                    ],
                ),
                (
                    "empty selector",
                    with(good.clone(), "/spec/selector", json!({})),
                    &["spec.selector: Invalid value: {}: empty selector is invalid for statefulset"],
                ),
            ],
        );
        check_update(
            "apps",
            "v1",
            "statefulsets",
            &[
                (
                    "scale",
                    good.clone(),
                    with(good.clone(), "/spec/replicas", json!(5)),
                    &[],
                ),
                (
                    "serviceName",
                    good.clone(),
                    with(good.clone(), "/spec/serviceName", json!("other")),
                    &[
                        "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
                    ],
                ),
            ],
        );
    }
}
