//! Restricted checks: privilege escalation, capabilities, volume types, non-root users (seccomp is in
//! `profiles`).

use std::collections::BTreeSet;

use serde_json::Value;

use super::CheckFailure;
use super::baseline::containers_where;
use super::pod::{PodView, container_security_field, field, name, strings};
use super::text::{containers_phrase, join_quote, pluralize, push_containers};

/// `allowPrivilegeEscalation` from 1.8: every container must set allowPrivilegeEscalation=false.
pub(crate) fn allow_privilege_escalation_1_8(pod: &PodView) -> Option<CheckFailure> {
    let bad = containers_where(pod, |c| {
        container_security_field(c, "allowPrivilegeEscalation").and_then(Value::as_bool) != Some(false)
    });
    (!bad.is_empty()).then(|| {
        CheckFailure::new(
            "allowPrivilegeEscalation != false",
            format!(
                "{} must set securityContext.allowPrivilegeEscalation=false",
                containers_phrase(&bad)
            ),
        )
    })
}

/// `allowPrivilegeEscalation` from 1.25: Windows pods are exempt.
pub(crate) fn allow_privilege_escalation_1_25(pod: &PodView) -> Option<CheckFailure> {
    if pod.is_windows() {
        return None;
    }
    allow_privilege_escalation_1_8(pod)
}

/// `capabilities_restricted` from 1.22: every container must drop ALL and may add only NET_BIND_SERVICE.
pub(crate) fn capabilities_restricted_1_22(pod: &PodView) -> Option<CheckFailure> {
    let mut missing_drop_all = Vec::new();
    let mut forbidden = BTreeSet::new();
    let adding_forbidden = containers_where(pod, |c| {
        let Some(capabilities) = container_security_field(c, "capabilities") else {
            missing_drop_all.push(name(c));
            return false;
        };
        if !strings(field(capabilities, "drop")).any(|cap| cap == "ALL") {
            missing_drop_all.push(name(c));
        }
        let added: Vec<&str> = strings(field(capabilities, "add"))
            .filter(|cap| *cap != "NET_BIND_SERVICE")
            .collect();
        forbidden.extend(added.iter().map(|cap| cap.to_string()));
        !added.is_empty()
    });
    let mut details = Vec::new();
    if !missing_drop_all.is_empty() {
        details.push(format!(
            r#"{} must set securityContext.capabilities.drop=["ALL"]"#,
            containers_phrase(&missing_drop_all)
        ));
    }
    if !adding_forbidden.is_empty() {
        let forbidden: Vec<String> = forbidden.into_iter().collect();
        details.push(format!(
            "{} must not include {} in securityContext.capabilities.add",
            containers_phrase(&adding_forbidden),
            join_quote(&forbidden)
        ));
    }
    (!details.is_empty()).then(|| CheckFailure::new("unrestricted capabilities", details.join("; ")))
}

/// `capabilities_restricted` from 1.25: Windows pods are exempt.
pub(crate) fn capabilities_restricted_1_25(pod: &PodView) -> Option<CheckFailure> {
    if pod.is_windows() {
        return None;
    }
    capabilities_restricted_1_22(pod)
}

/// Inline volume sources the restricted level allows.
const ALLOWED_VOLUME_SOURCES: &[&str] = &[
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "image",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

/// Forbidden volume sources, in the order upstream names the first one a volume uses.
const RESTRICTED_VOLUME_SOURCES: &[&str] = &[
    "hostPath",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "gitRepo",
    "nfs",
    "iscsi",
    "glusterfs",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "fc",
    "azureFile",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "portworxVolume",
    "scaleIO",
    "storageos",
];

/// The forbidden source type of a volume, or `None` when its source is allowed.
fn restricted_volume_type(volume: &Value) -> Option<&'static str> {
    if ALLOWED_VOLUME_SOURCES
        .iter()
        .any(|source| field(volume, source).is_some())
    {
        return None;
    }
    let named = RESTRICTED_VOLUME_SOURCES
        .iter()
        .find(|source| field(volume, source).is_some());
    Some(named.copied().unwrap_or("unknown"))
}

/// `restrictedVolumes`: volumes may only use configMap, csi, downwardAPI, emptyDir, ephemeral, image,
/// persistentVolumeClaim, projected or secret sources.
pub(crate) fn restricted_volumes(pod: &PodView) -> Option<CheckFailure> {
    let mut types = BTreeSet::new();
    let bad: Vec<&str> = pod
        .volumes()
        .filter_map(|volume| {
            types.insert(restricted_volume_type(volume)?);
            Some(name(volume))
        })
        .collect();
    (!bad.is_empty()).then(|| {
        let types: Vec<&str> = types.into_iter().collect();
        CheckFailure::new(
            "restricted volume types",
            format!(
                "{} {} {} {} {}",
                pluralize("volume", "volumes", bad.len()),
                join_quote(&bad),
                pluralize("uses", "use", bad.len()),
                pluralize("restricted volume type", "restricted volume types", types.len()),
                join_quote(&types)
            ),
        )
    })
}

/// `runAsNonRoot`: the pod, or else every container, must set runAsNonRoot=true; none may set false.
pub(crate) fn run_as_non_root(pod: &PodView) -> Option<CheckFailure> {
    let reason = "runAsNonRoot != true";
    let pod_value = pod.security_field("runAsNonRoot").and_then(Value::as_bool);
    let mut implicitly_bad = Vec::new();
    let explicitly_bad = containers_where(pod, |c| {
        match container_security_field(c, "runAsNonRoot").and_then(Value::as_bool) {
            Some(value) => !value,
            None => {
                if pod_value != Some(true) {
                    implicitly_bad.push(name(c));
                }
                false
            }
        }
    });
    let mut setters = Vec::new();
    if pod_value == Some(false) {
        setters.push("pod".to_string());
    }
    push_containers(&mut setters, &explicitly_bad);
    if !setters.is_empty() {
        let detail = format!(
            "{} must not set securityContext.runAsNonRoot=false",
            setters.join(" and ")
        );
        return Some(CheckFailure::new(reason, detail));
    }
    (!implicitly_bad.is_empty()).then(|| {
        CheckFailure::new(
            reason,
            format!(
                "pod or {} must set securityContext.runAsNonRoot=true",
                containers_phrase(&implicitly_bad)
            ),
        )
    })
}

/// Whether an optional JSON value is the integer 0.
fn is_zero(value: Option<&Value>) -> bool {
    value.and_then(Value::as_i64) == Some(0)
}

/// `runAsUser` from 1.23: neither the pod nor a container may set runAsUser=0.
pub(crate) fn run_as_user(pod: &PodView) -> Option<CheckFailure> {
    let mut setters = Vec::new();
    if is_zero(pod.security_field("runAsUser")) {
        setters.push("pod".to_string());
    }
    let bad = containers_where(pod, |c| is_zero(container_security_field(c, "runAsUser")));
    push_containers(&mut setters, &bad);
    (!setters.is_empty()).then(|| {
        CheckFailure::new(
            "runAsUser=0",
            format!("{} must not set runAsUser=0", setters.join(" and ")),
        )
    })
}
