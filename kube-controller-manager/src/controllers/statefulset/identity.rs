//! A StatefulSet pod's identity (upstream's stateful_set_utils): its name `<set>-<ordinal>`,
//! hostname and subdomain, the pod-name and pod-index labels, and its claims
//! `<template>-<set>-<ordinal>` from volumeClaimTemplates, mounted under the template's name.

use crate::pods;
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{
    PersistentVolumeClaim, PersistentVolumeClaimVolumeSource, Pod, PodTemplateSpec, Volume,
};

pub const POD_NAME_LABEL: &str = "statefulset.kubernetes.io/pod-name";
pub const POD_INDEX_LABEL: &str = "apps.kubernetes.io/pod-index";
/// The name of the ControllerRevision a pod was made from.
pub const REVISION_LABEL: &str = "controller-revision-hash";

/// The set name and ordinal of `<parent>-<ordinal>`; the ordinal must fit an int32.
pub fn parent_and_ordinal(name: &str) -> Option<(&str, i32)> {
    let (parent, digits) = name.rsplit_once('-')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((parent, digits.parse().ok()?))
}

pub fn ordinal(pod: &Pod) -> Option<i32> {
    parent_and_ordinal(pod.metadata.name.as_deref()?).map(|(_, o)| o)
}

fn set_name(set: &StatefulSet) -> &str {
    set.metadata.name.as_deref().unwrap_or_default()
}

/// A pod of this set by name, whatever its labels (upstream's isMemberOf).
pub fn is_member(set: &StatefulSet, pod: &Pod) -> bool {
    let name = pod.metadata.name.as_deref().unwrap_or_default();
    parent_and_ordinal(name).is_some_and(|(parent, _)| parent == set_name(set))
}

pub fn pod_name(set: &StatefulSet, ordinal: i32) -> String {
    format!("{}-{ordinal}", set_name(set))
}

pub fn replicas(set: &StatefulSet) -> i32 {
    set.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1).max(0)
}

/// The first ordinal (spec.ordinals.start, else 0).
pub fn start_ordinal(set: &StatefulSet) -> i32 {
    set.spec
        .as_ref()
        .and_then(|s| s.ordinals.as_ref())
        .and_then(|o| o.start)
        .unwrap_or(0)
}

/// The last ordinal of the current replicas.
pub fn end_ordinal(set: &StatefulSet) -> i32 {
    start_ordinal(set) + replicas(set) - 1
}

pub fn in_ordinal_range(set: &StatefulSet, pod: &Pod) -> bool {
    ordinal(pod).is_some_and(|o| o >= start_ordinal(set) && o <= end_ordinal(set))
}

pub fn revision_of(pod: &Pod) -> &str {
    pod.metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(REVISION_LABEL))
        .map(String::as_str)
        .unwrap_or_default()
}

pub fn claim_name(template: &PersistentVolumeClaim, set: &StatefulSet, ordinal: i32) -> String {
    let claim = template.metadata.name.as_deref().unwrap_or_default();
    format!("{claim}-{}-{ordinal}", set_name(set))
}

fn claim_templates(set: &StatefulSet) -> &[PersistentVolumeClaim] {
    set.spec
        .as_ref()
        .and_then(|s| s.volume_claim_templates.as_deref())
        .unwrap_or_default()
}

/// The claims the pod at `ordinal` uses, with the template (volume) name each is for; they
/// carry the set's matchLabels over the template's labels.
pub fn claims_for(set: &StatefulSet, ordinal: i32) -> Vec<(String, PersistentVolumeClaim)> {
    let match_labels = set.spec.as_ref().and_then(|s| s.selector.match_labels.clone());
    claim_templates(set)
        .iter()
        .map(|t| {
            let mut claim = t.clone();
            claim.metadata.name = Some(claim_name(t, set, ordinal));
            claim.metadata.namespace = set.metadata.namespace.clone();
            claim.metadata.labels = match (claim.metadata.labels.take(), &match_labels) {
                (Some(mut l), Some(m)) => {
                    l.extend(m.clone());
                    Some(l)
                }
                (Some(l), None) => Some(l),
                (None, m) => m.clone(),
            };
            claim.status = None;
            (t.metadata.name.clone().unwrap_or_default(), claim)
        })
        .collect()
}

/// Name, namespace and the identity labels (upstream's updateIdentity).
pub fn update_identity(set: &StatefulSet, pod: &mut Pod) {
    let Some(o) = ordinal(pod) else { return };
    let name = pod_name(set, o);
    pod.metadata.name = Some(name.clone());
    pod.metadata.namespace = set.metadata.namespace.clone();
    let labels = pod.metadata.labels.get_or_insert_default();
    labels.insert(POD_NAME_LABEL.into(), name);
    labels.insert(POD_INDEX_LABEL.into(), o.to_string());
}

pub fn identity_matches(set: &StatefulSet, pod: &Pod) -> bool {
    let name = pod.metadata.name.as_deref().unwrap_or_default();
    let Some((parent, o)) = parent_and_ordinal(name) else {
        return false;
    };
    let label = pod.metadata.labels.as_ref().and_then(|l| l.get(POD_NAME_LABEL));
    parent == set_name(set)
        && name == pod_name(set, o)
        && pod.metadata.namespace == set.metadata.namespace
        && label.map(String::as_str) == Some(name)
}

/// Every claim template is mounted from the pod's own claim.
pub fn storage_matches(set: &StatefulSet, pod: &Pod) -> bool {
    let Some(o) = ordinal(pod) else { return false };
    let volumes = pod.spec.as_ref().and_then(|s| s.volumes.as_deref()).unwrap_or_default();
    claim_templates(set).iter().all(|t| {
        let wanted = claim_name(t, set, o);
        volumes
            .iter()
            .find(|v| Some(&v.name) == t.metadata.name.as_ref())
            .and_then(|v| v.persistent_volume_claim.as_ref())
            .is_some_and(|c| c.claim_name == wanted)
    })
}

/// Mounts the pod's claims in place of the template's volumes of the same names.
pub fn update_storage(set: &StatefulSet, pod: &mut Pod) {
    let Some(o) = ordinal(pod) else { return };
    let claims = claims_for(set, o);
    let spec = pod.spec.get_or_insert_default();
    let current = spec.volumes.take().unwrap_or_default();
    let mut volumes: Vec<Volume> = claims
        .iter()
        .map(|(volume, claim)| Volume {
            name: volume.clone(),
            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                claim_name: claim.metadata.name.clone().unwrap_or_default(),
                read_only: Some(false),
            }),
            ..Default::default()
        })
        .collect();
    volumes.extend(
        current
            .into_iter()
            .filter(|v| !claims.iter().any(|(n, _)| *n == v.name)),
    );
    spec.volumes = Some(volumes);
}

/// A new pod for `ordinal` from `template` (upstream's newStatefulSetPod), not yet created.
pub fn new_pod(set: &StatefulSet, template: &PodTemplateSpec, ordinal: i32) -> Pod {
    let reference = pods::controller_ref("apps/v1", "StatefulSet", &set.metadata);
    let mut pod = pods::from_template(template, reference, &pods::name_prefix(set_name(set)));
    pod.metadata.name = Some(pod_name(set, ordinal));
    update_identity(set, &mut pod);
    // Only set at creation: they are immutable afterwards.
    let name = pod.metadata.name.clone();
    let spec = pod.spec.get_or_insert_default();
    spec.hostname = name;
    spec.subdomain = set
        .spec
        .as_ref()
        .and_then(|s| s.service_name.clone())
        .filter(|s| !s.is_empty());
    update_storage(set, &mut pod);
    pod
}

/// Whether a new pod at `ordinal` gets the current revision rather than the update revision
/// (upstream's newVersionedStatefulSetPod): below the partition, or below the pods already at
/// the current revision when a rolling update has no partition settings.
pub fn gets_current_revision(set: &StatefulSet, ordinal: i32) -> bool {
    let strategy = set.spec.as_ref().and_then(|s| s.update_strategy.as_ref());
    let rolling = strategy.and_then(|s| s.type_.as_deref()).unwrap_or("RollingUpdate") == "RollingUpdate";
    let start = start_ordinal(set);
    match strategy.and_then(|s| s.rolling_update.as_ref()) {
        None => {
            let current = set.status.as_ref().and_then(|s| s.current_replicas).unwrap_or(0);
            rolling && ordinal < start + current
        }
        Some(r) => ordinal < start + r.partition.unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn set(extra: serde_json::Value) -> StatefulSet {
        let mut v = json!({"metadata": {"name": "web", "namespace": "ns", "uid": "u"},
            "spec": {"replicas": 3, "serviceName": "nginx", "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c"}],
                    "volumes": [{"name": "www", "emptyDir": {}}, {"name": "cfg", "emptyDir": {}}]}},
                "volumeClaimTemplates": [{"metadata": {"name": "www", "labels": {"tier": "data"}},
                    "spec": {"accessModes": ["ReadWriteOnce"]}}]}});
        if let (Some(spec), Some(extra)) = (v["spec"].as_object_mut(), extra.as_object()) {
            spec.extend(extra.clone());
        }
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn ordinals_parse_like_upstream() {
        assert_eq!(parent_and_ordinal("web-0"), Some(("web", 0)));
        assert_eq!(parent_and_ordinal("my-web-12"), Some(("my-web", 12)));
        assert_eq!(parent_and_ordinal("web"), None);
        assert_eq!(parent_and_ordinal("web-"), None);
        assert_eq!(parent_and_ordinal("web-1a"), None);
        assert_eq!(parent_and_ordinal("web-99999999999"), None);
    }

    #[test]
    fn ordinal_range_follows_ordinals_start() {
        let s = set(json!({"ordinals": {"start": 5}}));
        let pod = |name: &str| Pod {
            metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                name: Some(name.into()),
                ..Default::default()
            },
            ..Default::default()
        };
        assert_eq!((start_ordinal(&s), end_ordinal(&s)), (5, 7));
        assert!(!in_ordinal_range(&s, &pod("web-4")));
        assert!(in_ordinal_range(&s, &pod("web-7")));
        assert!(!in_ordinal_range(&s, &pod("web-8")));
        assert!(is_member(&s, &pod("web-8")) && !is_member(&s, &pod("webx-1")));
    }

    #[test]
    fn new_pods_have_stable_identity_and_claims() {
        let s = set(json!({}));
        let template = s.spec.as_ref().unwrap().template.clone();
        let pod = new_pod(&s, &template, 1);
        assert_eq!(pod.metadata.name.as_deref(), Some("web-1"));
        let labels = pod.metadata.labels.clone().unwrap();
        assert_eq!(labels[POD_NAME_LABEL], "web-1");
        assert_eq!(labels[POD_INDEX_LABEL], "1");
        let spec = pod.spec.clone().unwrap();
        assert_eq!(spec.hostname.as_deref(), Some("web-1"));
        assert_eq!(spec.subdomain.as_deref(), Some("nginx"));
        let volumes = spec.volumes.unwrap();
        assert_eq!(volumes[0].name, "www");
        assert_eq!(
            volumes[0].persistent_volume_claim.as_ref().unwrap().claim_name,
            "www-web-1"
        );
        assert_eq!(volumes[1].name, "cfg");
        assert_eq!(volumes.len(), 2);
        assert!(identity_matches(&s, &pod) && storage_matches(&s, &pod));
        let claims = claims_for(&s, 1);
        let labels = claims[0].1.metadata.labels.clone().unwrap();
        assert_eq!((labels["app"].as_str(), labels["tier"].as_str()), ("web", "data"));
        let mut renamed = pod.clone();
        renamed.metadata.labels = None;
        assert!(!identity_matches(&s, &renamed));
        update_identity(&s, &mut renamed);
        assert!(identity_matches(&s, &renamed));
    }

    #[test]
    fn new_pods_below_the_partition_keep_the_current_revision() {
        let s = set(json!({"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}}));
        assert!(gets_current_revision(&s, 1));
        assert!(!gets_current_revision(&s, 2));
        let on_delete = set(json!({"updateStrategy": {"type": "OnDelete"}}));
        assert!(!gets_current_revision(&on_delete, 0));
    }
}
