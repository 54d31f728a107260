//! The arithmetic and bookkeeping of rollouts (upstream's deployment/util): template hashes,
//! revision annotations, maxSurge/maxUnavailable resolution.

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;
use std::sync::Arc;

pub const REVISION: &str = "deployment.kubernetes.io/revision";
pub const REVISION_HISTORY: &str = "deployment.kubernetes.io/revision-history";
pub const DESIRED_REPLICAS: &str = "deployment.kubernetes.io/desired-replicas";
pub const MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";
pub const HASH_LABEL: &str = "pod-template-hash";
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";
const ROLLBACK_TO: &str = "deprecated.deployment.rollback.to";

/// The characters upstream's `rand.SafeEncodeString` maps to (no vowels, no look-alikes).
const SAFE: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// The `pod-template-hash` of a template: FNV-1a over its canonical JSON and the collision
/// count, written in upstream's safe alphabet.
pub fn template_hash(template: &PodTemplateSpec, collisions: Option<i32>) -> String {
    let mut hash: u32 = 0x811c9dc5;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            hash ^= u32::from(*b);
            hash = hash.wrapping_mul(0x01000193);
        }
    };
    feed(serde_json::to_string(template).unwrap_or_default().as_bytes());
    if let Some(c) = collisions {
        feed(c.to_string().as_bytes());
    }
    hash.to_string()
        .bytes()
        .map(|b| SAFE[b as usize % SAFE.len()] as char)
        .collect()
}

/// Templates equal apart from the pod-template-hash label.
pub fn equal_ignore_hash(a: &PodTemplateSpec, b: &PodTemplateSpec) -> bool {
    let strip = |t: &PodTemplateSpec| {
        let mut t = t.clone();
        if let Some(labels) = t.metadata.as_mut().and_then(|m| m.labels.as_mut()) {
            labels.remove(HASH_LABEL);
        }
        serde_json::to_value(t).unwrap_or_default()
    };
    strip(a) == strip(b)
}

pub fn revision(rs: &ReplicaSet) -> i64 {
    annotation(&rs.metadata.annotations, REVISION)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn annotation<'a>(annotations: &'a Option<BTreeMap<String, String>>, key: &str) -> Option<&'a str> {
    annotations.as_ref()?.get(key).map(String::as_str)
}

pub fn replicas(d: &Deployment) -> i32 {
    d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
}

pub fn rs_replicas(rs: &ReplicaSet) -> i32 {
    rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
}

pub fn rs_available(rs: &ReplicaSet) -> i32 {
    rs.status.as_ref().and_then(|s| s.available_replicas).unwrap_or(0)
}

/// `maxSurge` and `maxUnavailable` as pod counts: surge rounds up, unavailable down, and both
/// zero means one may be unavailable, as upstream's ResolveFenceposts.
pub fn fenceposts(d: &Deployment) -> (i32, i32) {
    let Some(rolling) = rolling(d) else {
        return (0, 0);
    };
    let desired = replicas(d);
    let default = IntOrString::String("25%".into());
    let scaled = |v: Option<&IntOrString>, round_up: bool| match v.unwrap_or(&default) {
        IntOrString::Int(n) => *n,
        IntOrString::String(s) => {
            let pct: i64 = s.trim_end_matches('%').parse().unwrap_or(0);
            let product = pct * i64::from(desired);
            (if round_up { (product + 99) / 100 } else { product / 100 }) as i32
        }
    };
    let surge = scaled(rolling.max_surge.as_ref(), true);
    let unavailable = scaled(rolling.max_unavailable.as_ref(), false);
    if surge == 0 && unavailable == 0 {
        return (0, 1);
    }
    (surge, unavailable)
}

fn rolling(d: &Deployment) -> Option<k8s_openapi::api::apps::v1::RollingUpdateDeployment> {
    let strategy = d.spec.as_ref()?.strategy.as_ref()?;
    match strategy.type_.as_deref() {
        Some("Recreate") => None,
        _ => Some(strategy.rolling_update.clone().unwrap_or_default()),
    }
}

pub fn is_recreate(d: &Deployment) -> bool {
    rolling(d).is_none()
}

pub fn max_surge(d: &Deployment) -> i32 {
    fenceposts(d).0
}

/// Pods that may be unavailable during the rollout, never more than the replicas.
pub fn max_unavailable(d: &Deployment) -> i32 {
    let desired = replicas(d);
    if rolling(d).is_none() || desired == 0 {
        return 0;
    }
    fenceposts(d).1.min(desired)
}

/// How many replicas the new ReplicaSet should have now (upstream's NewRSNewReplicas);
/// `all` includes the new ReplicaSet when it exists.
pub fn new_rs_replicas(d: &Deployment, all: &[Arc<ReplicaSet>], new_rs: Option<&ReplicaSet>) -> i32 {
    let desired = replicas(d);
    if is_recreate(d) {
        return desired;
    }
    let current_new = new_rs.map(rs_replicas).unwrap_or(0);
    let current: i32 = all.iter().map(|r| rs_replicas(r)).sum();
    let max_total = desired + max_surge(d);
    if current >= max_total {
        return current_new;
    }
    let up = max_total - current;
    current_new + up.min(desired - current_new).max(0)
}

/// The deployment's annotations a ReplicaSet carries (all but the rollout bookkeeping).
pub fn copied_annotations(d: &Deployment) -> BTreeMap<String, String> {
    let skip = [
        LAST_APPLIED,
        REVISION,
        REVISION_HISTORY,
        DESIRED_REPLICAS,
        MAX_REPLICAS,
        ROLLBACK_TO,
    ];
    d.metadata
        .annotations
        .clone()
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| !skip.contains(&k.as_str()))
        .collect()
}

/// Sets the replica annotations; whether anything changed.
pub fn set_replica_annotations(rs: &mut ReplicaSet, desired: i32, max: i32) -> bool {
    let a = rs.metadata.annotations.get_or_insert_default();
    let before = (a.get(DESIRED_REPLICAS).cloned(), a.get(MAX_REPLICAS).cloned());
    a.insert(DESIRED_REPLICAS.into(), desired.to_string());
    a.insert(MAX_REPLICAS.into(), max.to_string());
    before != (Some(desired.to_string()), Some(max.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment(replicas: i32, surge: serde_json::Value, unavailable: serde_json::Value) -> Deployment {
        serde_json::from_value(json!({"spec": {"replicas": replicas, "selector": {},
            "template": {}, "strategy": {"type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable}}}}))
        .unwrap()
    }

    #[test]
    fn fenceposts_round_like_upstream() {
        assert_eq!(fenceposts(&deployment(10, json!("25%"), json!("25%"))), (3, 2));
        assert_eq!(fenceposts(&deployment(5, json!(1), json!(0))), (1, 0));
        assert_eq!(fenceposts(&deployment(3, json!("0%"), json!("0%"))), (0, 1));
        assert_eq!(max_unavailable(&deployment(1, json!(0), json!(5))), 1);
    }

    #[test]
    fn hash_is_stable_safe_and_changes_with_template_or_collisions() {
        let t: PodTemplateSpec =
            serde_json::from_value(json!({"spec": {"containers": [{"name": "c", "image": "a"}]}})).unwrap();
        let h = template_hash(&t, None);
        assert_eq!(h, template_hash(&t, None));
        assert!(h.bytes().all(|b| SAFE.contains(&b)));
        assert_ne!(h, template_hash(&t, Some(1)));
        let u: PodTemplateSpec =
            serde_json::from_value(json!({"spec": {"containers": [{"name": "c", "image": "b"}]}})).unwrap();
        assert_ne!(h, template_hash(&u, None));
    }
}
