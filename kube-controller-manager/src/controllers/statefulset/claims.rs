//! persistentVolumeClaimRetentionPolicy (upstream's isClaimOwnerUpToDate and
//! updateClaimOwnerRefForSetAndPod): the policy is carried out by owner references on the
//! claims, which the garbage collector follows. whenDeleted=Delete makes the set a claim's
//! controller; whenScaled=Delete makes a scaled-down pod its controller instead, so the claim
//! goes with the pod. Claims another controller owns, or holding references to an earlier set
//! or pod of the same name, are left alone.

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

/// (whenScaled is Delete, whenDeleted is Delete); anything else is Retain.
pub fn policy(set: &StatefulSet) -> (bool, bool) {
    let p = set
        .spec
        .as_ref()
        .and_then(|s| s.persistent_volume_claim_retention_policy.as_ref());
    let delete = |v: Option<&String>| v.map(String::as_str) == Some("Delete");
    (
        delete(p.and_then(|p| p.when_scaled.as_ref())),
        delete(p.and_then(|p| p.when_deleted.as_ref())),
    )
}

/// An owner: its group/version, kind and metadata.
struct Obj<'a> {
    api_version: &'static str,
    kind: &'static str,
    meta: &'a ObjectMeta,
}

impl Obj<'_> {
    fn uid(&self) -> &str {
        self.meta.uid.as_deref().unwrap_or_default()
    }

    /// Names this object by kind and name, whatever the uid.
    fn matches(&self, r: &OwnerReference) -> bool {
        r.api_version == self.api_version && r.kind == self.kind && Some(&r.name) == self.meta.name.as_ref()
    }

    fn controller_ref(&self) -> OwnerReference {
        OwnerReference {
            api_version: self.api_version.into(),
            kind: self.kind.into(),
            name: self.meta.name.clone().unwrap_or_default(),
            uid: self.uid().into(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        }
    }
}

fn set_obj(set: &StatefulSet) -> Obj<'_> {
    Obj {
        api_version: "apps/v1",
        kind: "StatefulSet",
        meta: &set.metadata,
    }
}

fn pod_obj(pod: &Pod) -> Obj<'_> {
    Obj {
        api_version: "v1",
        kind: "Pod",
        meta: &pod.metadata,
    }
}

fn refs(claim: &PersistentVolumeClaim) -> &[OwnerReference] {
    claim.metadata.owner_references.as_deref().unwrap_or_default()
}

fn has_owner_ref(claim: &PersistentVolumeClaim, owner: &Obj) -> bool {
    refs(claim).iter().any(|r| r.uid == owner.uid())
}

/// A reference naming the object but with another uid: left by an earlier object.
fn has_stale_ref(claim: &PersistentVolumeClaim, owner: &Obj) -> bool {
    refs(claim)
        .iter()
        .find(|r| owner.matches(r))
        .is_some_and(|r| r.uid != owner.uid())
}

/// Whether the pod's claim is stale: it belongs to an earlier pod of the same name, so the
/// garbage collector is about to delete it and the new pod must wait (whenScaled=Delete only).
pub fn claim_is_stale(set: &StatefulSet, pod: &Pod, claim: &PersistentVolumeClaim) -> bool {
    policy(set).0 && has_stale_ref(claim, &pod_obj(pod))
}

/// Some other controller owns the claim (only a concern with a Delete policy).
pub fn has_unexpected_controller(claim: &PersistentVolumeClaim, set: &StatefulSet, pod: &Pod) -> bool {
    if policy(set) == (false, false) {
        return false;
    }
    let (s, p) = (set_obj(set), pod_obj(pod));
    for r in refs(claim) {
        if s.matches(r) {
            if r.uid != s.uid() {
                return true;
            }
        } else if p.matches(r) {
            if r.uid != p.uid() {
                return true;
            }
        } else if r.controller == Some(true) {
            return true;
        }
    }
    false
}

fn has_non_controller_owner(claim: &PersistentVolumeClaim, set: &StatefulSet, pod: &Pod) -> bool {
    let uids = [set_obj(set).uid().to_string(), pod_obj(pod).uid().to_string()];
    refs(claim)
        .iter()
        .any(|r| uids.contains(&r.uid) && r.controller != Some(true))
}

/// Whether the claim's owner references already carry out the policy for the pod.
pub fn is_up_to_date(claim: &PersistentVolumeClaim, set: &StatefulSet, pod: &Pod, scaled_down: bool) -> bool {
    let (s, p) = (set_obj(set), pod_obj(pod));
    if has_stale_ref(claim, &s) || has_stale_ref(claim, &p) {
        return true;
    }
    if has_unexpected_controller(claim, set, pod) {
        return !(has_owner_ref(claim, &s) || has_owner_ref(claim, &p));
    }
    if has_non_controller_owner(claim, set, pod) {
        return false;
    }
    let (on_set, on_pod) = (has_owner_ref(claim, &s), has_owner_ref(claim, &p));
    match policy(set) {
        (false, false) => !on_set && !on_pod,
        (false, true) => on_set && !on_pod,
        (true, false) => !on_set && scaled_down == on_pod,
        (true, true) => scaled_down != on_set && scaled_down == on_pod,
    }
}

/// Rewrites the claim's references to the set and pod as the policy asks.
pub fn update_owner_refs(claim: &mut PersistentVolumeClaim, set: &StatefulSet, pod: &Pod, scaled_down: bool) {
    let unexpected = has_unexpected_controller(claim, set, pod);
    let (s, p) = (set_obj(set), pod_obj(pod));
    let mut kept: Vec<OwnerReference> = refs(claim)
        .iter()
        .filter(|r| !s.matches(r) && !p.matches(r))
        .cloned()
        .collect();
    if !unexpected {
        let mut add = |o: &Obj| {
            if !kept.iter().any(|r| r.uid == o.uid()) {
                kept.push(o.controller_ref());
            }
        };
        match policy(set) {
            (false, false) => {}
            (false, true) => add(&s),
            (true, false) => {
                if scaled_down {
                    add(&p)
                }
            }
            (true, true) => add(if scaled_down { &p } else { &s }),
        }
    }
    claim.metadata.owner_references = (!kept.is_empty()).then_some(kept);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn set(scaled: &str, deleted: &str) -> StatefulSet {
        serde_json::from_value(json!({"metadata": {"name": "web", "uid": "set-uid"},
            "spec": {"selector": {}, "template": {}, "persistentVolumeClaimRetentionPolicy":
                {"whenScaled": scaled, "whenDeleted": deleted}}}))
        .unwrap()
    }

    fn pod() -> Pod {
        serde_json::from_value(json!({"metadata": {"name": "web-1", "uid": "pod-uid"}})).unwrap()
    }

    fn claim(refs: serde_json::Value) -> PersistentVolumeClaim {
        serde_json::from_value(json!({"metadata": {"name": "www-web-1", "ownerReferences": refs}})).unwrap()
    }

    fn owners(c: &PersistentVolumeClaim) -> Vec<String> {
        refs(c).iter().map(|r| r.kind.clone()).collect()
    }

    #[test]
    fn retain_retain_leaves_no_references() {
        let (s, p) = (set("Retain", "Retain"), pod());
        let mut c = claim(json!([]));
        assert!(is_up_to_date(&c, &s, &p, false));
        update_owner_refs(&mut c, &s, &p, true);
        assert!(owners(&c).is_empty());
    }

    #[test]
    fn delete_policies_move_ownership_between_set_and_pod() {
        let p = pod();
        let s = set("Retain", "Delete");
        let mut c = claim(json!([]));
        assert!(!is_up_to_date(&c, &s, &p, false));
        update_owner_refs(&mut c, &s, &p, false);
        assert_eq!(owners(&c), ["StatefulSet"]);
        assert!(is_up_to_date(&c, &s, &p, false));

        let s = set("Delete", "Delete");
        assert!(is_up_to_date(&c, &s, &p, false));
        assert!(!is_up_to_date(&c, &s, &p, true));
        update_owner_refs(&mut c, &s, &p, true);
        assert_eq!(owners(&c), ["Pod"]);
        assert!(is_up_to_date(&c, &s, &p, true));

        let s = set("Delete", "Retain");
        let mut c = claim(json!([]));
        assert!(is_up_to_date(&c, &s, &p, false));
        update_owner_refs(&mut c, &s, &p, true);
        assert_eq!(owners(&c), ["Pod"]);
    }

    #[test]
    fn foreign_controllers_and_stale_references_are_respected() {
        let (s, p) = (set("Delete", "Delete"), pod());
        let other = claim(json!([{"apiVersion": "v1", "kind": "Other", "name": "x", "uid": "x", "controller": true}]));
        assert!(has_unexpected_controller(&other, &s, &p));
        assert!(is_up_to_date(&other, &s, &p, false));
        let stale =
            claim(json!([{"apiVersion": "v1", "kind": "Pod", "name": "web-1", "uid": "old", "controller": true}]));
        assert!(is_up_to_date(&stale, &s, &p, false));
        assert!(claim_is_stale(&s, &p, &stale));
        assert!(!claim_is_stale(&set("Retain", "Delete"), &p, &stale));
    }
}
