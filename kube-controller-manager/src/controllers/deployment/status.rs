//! Deployment status and its conditions (upstream's syncRolloutStatus): replica counts summed
//! over the ReplicaSets, `Available` against maxUnavailable, and `Progressing` with its
//! deadline.

use super::util::{self, replicas};
use k8s_openapi::api::apps::v1::{Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use std::sync::Arc;

pub const AVAILABLE: &str = "Available";
pub const PROGRESSING: &str = "Progressing";
pub const REPLICA_FAILURE: &str = "ReplicaFailure";

pub fn condition<'a>(status: &'a DeploymentStatus, type_: &str) -> Option<&'a DeploymentCondition> {
    status.conditions.as_ref()?.iter().find(|c| c.type_ == type_)
}

/// Sets a condition; the transition time stays when the status does not change.
pub fn set_condition(status: &mut DeploymentStatus, mut c: DeploymentCondition) {
    let conditions = status.conditions.get_or_insert_default();
    if let Some(old) = conditions.iter().find(|o| o.type_ == c.type_) {
        if old.status == c.status && old.reason == c.reason {
            return;
        }
        if old.status == c.status {
            c.last_transition_time = old.last_transition_time.clone();
        }
    }
    conditions.retain(|o| o.type_ != c.type_);
    conditions.push(c);
}

pub fn new_condition(type_: &str, status: &str, reason: &str, message: String) -> DeploymentCondition {
    let now = Some(Time(jiff::Timestamp::now()));
    DeploymentCondition {
        type_: type_.into(),
        status: status.into(),
        reason: Some(reason.into()),
        message: Some(message),
        last_update_time: now.clone(),
        last_transition_time: now,
    }
}

/// The counts and the `Available` condition.
pub fn calculate(d: &Deployment, all: &[Arc<ReplicaSet>], new_rs: Option<&ReplicaSet>) -> DeploymentStatus {
    let sum = |f: fn(&ReplicaSet) -> i32| all.iter().map(|r| f(r)).sum::<i32>();
    let available = sum(util::rs_available);
    let total = sum(|r| r.status.as_ref().map_or(0, |s| s.replicas));
    let previous = d.status.clone().unwrap_or_default();
    let mut status = DeploymentStatus {
        observed_generation: d.metadata.generation,
        replicas: Some(total),
        updated_replicas: Some(new_rs.and_then(|r| r.status.as_ref()).map_or(0, |s| s.replicas)),
        ready_replicas: Some(sum(|r| r.status.as_ref().and_then(|s| s.ready_replicas).unwrap_or(0))),
        available_replicas: Some(available),
        unavailable_replicas: Some((replicas(d) - available).max(0)),
        collision_count: previous.collision_count,
        conditions: previous.conditions.clone(),
        terminating_replicas: None,
    };
    if available >= replicas(d) - util::max_unavailable(d) {
        let c = new_condition(
            AVAILABLE,
            "True",
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.".into(),
        );
        set_condition(&mut status, c);
    } else {
        let c = new_condition(
            AVAILABLE,
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.".into(),
        );
        set_condition(&mut status, c);
    }
    // A ReplicaSet that cannot create pods makes the deployment report it.
    let failure = all
        .iter()
        .filter_map(|r| r.status.as_ref()?.conditions.as_ref())
        .flatten()
        .find(|c| c.type_ == REPLICA_FAILURE && c.status == "True");
    match failure {
        Some(f) => set_condition(
            &mut status,
            new_condition(
                REPLICA_FAILURE,
                "True",
                f.reason.as_deref().unwrap_or_default(),
                f.message.clone().unwrap_or_default(),
            ),
        ),
        None => {
            if let Some(c) = status.conditions.as_mut() {
                c.retain(|c| c.type_ != REPLICA_FAILURE)
            }
        }
    }
    status
}

/// Every replica updated and available, and the latest spec observed.
pub fn complete(d: &Deployment, s: &DeploymentStatus) -> bool {
    let n = replicas(d);
    s.updated_replicas == Some(n)
        && s.replicas == Some(n)
        && s.available_replicas == Some(n)
        && s.observed_generation >= d.metadata.generation
}

/// Whether the rollout moved since the last status (upstream's DeploymentProgressing).
pub fn progressed(old: &DeploymentStatus, new: &DeploymentStatus) -> bool {
    let g = |v: Option<i32>| v.unwrap_or(0);
    let old_old = g(old.replicas) - g(old.updated_replicas);
    let new_old = g(new.replicas) - g(new.updated_replicas);
    g(new.updated_replicas) > g(old.updated_replicas)
        || new_old < old_old
        || g(new.ready_replicas) > g(old.ready_replicas)
        || g(new.available_replicas) > g(old.available_replicas)
}

/// Adds `Progressing`: complete, progressing, or timed out past progressDeadlineSeconds.
/// Returns when to look again for a timeout, if the rollout is still running.
pub fn progress(
    d: &Deployment,
    new_rs: Option<&ReplicaSet>,
    status: &mut DeploymentStatus,
) -> Option<std::time::Duration> {
    let spec = d.spec.as_ref()?;
    let deadline = spec.progress_deadline_seconds?;
    if spec.paused == Some(true) {
        return None;
    }
    let rs_name = new_rs.and_then(|r| r.metadata.name.clone()).unwrap_or_default();
    let old = d.status.clone().unwrap_or_default();
    let current = condition(status, PROGRESSING).cloned();
    if complete(d, status) {
        let msg = format!("ReplicaSet \"{rs_name}\" has successfully progressed.");
        set_condition(
            status,
            new_condition(PROGRESSING, "True", "NewReplicaSetAvailable", msg),
        );
        return None;
    }
    if progressed(&old, status) {
        let msg = format!("ReplicaSet \"{rs_name}\" is progressing.");
        let mut c = new_condition(PROGRESSING, "True", "ReplicaSetUpdated", msg);
        if let Some(cur) = current.as_ref().filter(|c| c.status == "True") {
            c.last_transition_time = cur.last_transition_time.clone();
        }
        status
            .conditions
            .get_or_insert_default()
            .retain(|o| o.type_ != PROGRESSING);
        status.conditions.get_or_insert_default().push(c);
        return Some(std::time::Duration::from_secs(deadline.max(0) as u64));
    }
    let cur = current?;
    if cur.reason.as_deref() == Some("ProgressDeadlineExceeded") {
        return None;
    }
    let since = cur.last_update_time.as_ref()?.0;
    let due = since + jiff::SignedDuration::from_secs(deadline.into());
    let now = jiff::Timestamp::now();
    if now > due {
        let msg = format!("ReplicaSet \"{rs_name}\" has timed out progressing.");
        set_condition(
            status,
            new_condition(PROGRESSING, "False", "ProgressDeadlineExceeded", msg),
        );
        return None;
    }
    Some(std::time::Duration::from_millis(
        due.duration_since(now).as_millis().max(0) as u64 + 1000,
    ))
}
