//! The pure parts of a Job's status: conditions, counters moved out of
//! `uncountedTerminatedPods`, how many pods should run, and when the Job has failed or met its
//! success policy.

use super::indexed::Intervals;
use super::{DEFAULT_BACKOFF_LIMIT, completions_len, phase, spec};
use jiff::Timestamp;
use k8s_openapi::api::batch::v1::{Job, JobCondition, JobStatus};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

pub fn new_condition(type_: &str, status: &str, reason: &str, message: &str, now: Timestamp) -> JobCondition {
    let text = |s: &str| (!s.is_empty()).then(|| s.to_string());
    JobCondition {
        type_: type_.into(),
        status: status.into(),
        reason: text(reason),
        message: text(message),
        last_probe_time: Some(Time(now)),
        last_transition_time: Some(Time(now)),
    }
}

/// Sets a condition of `type_` to the given state, appending it unless it would be a new False
/// one. Returns whether anything changed.
pub fn ensure_condition(
    conditions: &mut Vec<JobCondition>,
    type_: &str,
    status: &str,
    reason: &str,
    message: &str,
    now: Timestamp,
) -> bool {
    if let Some(c) = conditions.iter_mut().find(|c| c.type_ == type_) {
        let same = c.status == status
            && c.reason.as_deref().unwrap_or("") == reason
            && c.message.as_deref().unwrap_or("") == message;
        if !same {
            *c = new_condition(type_, status, reason, message, now);
        }
        return !same;
    }
    if status != "False" {
        conditions.push(new_condition(type_, status, reason, message, now));
        return true;
    }
    false
}

pub fn nonzero(n: i32) -> Option<i32> {
    (n != 0).then_some(n)
}

/// Moves the uncounted pods whose finalizer is gone (not in `with_finalizer`) to the counters.
pub fn clean_uncounted(status: &mut JobStatus, with_finalizer: &HashSet<String>) -> bool {
    let u = status.uncounted_terminated_pods.get_or_insert_default();
    let drain = |list: &mut Option<Vec<String>>| -> i32 {
        let before = list.as_ref().map_or(0, Vec::len);
        let kept: Vec<String> = list
            .take()
            .unwrap_or_default()
            .into_iter()
            .filter(|u| with_finalizer.contains(u))
            .collect();
        let moved = before - kept.len();
        *list = (!kept.is_empty()).then_some(kept);
        moved as i32
    };
    let (succeeded, failed) = (drain(&mut u.succeeded), drain(&mut u.failed));
    status.succeeded = nonzero(status.succeeded.unwrap_or(0) + succeeded);
    status.failed = nonzero(status.failed.unwrap_or(0) + failed);
    succeeded > 0 || failed > 0
}

pub fn uncounted_len(status: &JobStatus) -> usize {
    status.uncounted_terminated_pods.as_ref().map_or(0, |u| {
        u.succeeded.as_ref().map_or(0, Vec::len) + u.failed.as_ref().map_or(0, Vec::len)
    })
}

/// With restartPolicy OnFailure failures show as container restarts of pending or running pods.
pub fn past_backoff_limit_on_failure(job: &Job, pods: &[Arc<Pod>]) -> bool {
    let restart = spec(job)
        .template
        .spec
        .as_ref()
        .and_then(|s| s.restart_policy.as_deref());
    if restart != Some("OnFailure") {
        return false;
    }
    let restarts: i32 = pods
        .iter()
        .filter(|p| matches!(phase(p), "Running" | "Pending"))
        .filter_map(|p| p.status.as_ref())
        .flat_map(|s| {
            let init = s.init_container_statuses.iter().flatten();
            init.chain(s.container_statuses.iter().flatten())
                .map(|c| c.restart_count)
        })
        .sum();
    let limit = spec(job).backoff_limit.unwrap_or(DEFAULT_BACKOFF_LIMIT);
    if limit == 0 { restarts > 0 } else { restarts >= limit }
}

/// How many pods should be active: up to parallelism, never more than the completions still
/// missing; without completions, parallelism until the first success, then no new ones.
pub fn want_active(job: &Job, active: i32, succeeded: i32) -> i32 {
    let parallelism = spec(job).parallelism.unwrap_or(1);
    match spec(job).completions {
        None if succeeded > 0 => active,
        None => parallelism,
        Some(c) => (c - succeeded).min(parallelism).max(0),
    }
}

/// An Indexed Job's successPolicy: the message of the first rule its succeeded indexes meet.
pub fn match_success_policy(job: &Job, succeeded: &Intervals) -> Option<String> {
    let policy = spec(job).success_policy.as_ref()?;
    if succeeded.total() == 0 {
        return None;
    }
    let completions = completions_len(job);
    for (i, rule) in policy.rules.iter().enumerate() {
        let met = match (&rule.succeeded_indexes, rule.succeeded_count) {
            (Some(required), count) => {
                let required = Intervals::parse(required, completions);
                if required.total() == 0 {
                    continue;
                }
                let contained: usize = required
                    .intervals()
                    .iter()
                    .map(|&(a, b)| (a..=b).filter(|ix| succeeded.has(*ix)).count())
                    .sum();
                contained == required.total() || count.is_some_and(|n| contained as i64 >= i64::from(n))
            }
            (None, Some(n)) => succeeded.total() as i64 >= i64::from(n),
            (None, None) => false,
        };
        if met {
            return Some(format!("Matched rules at index {i}"));
        }
    }
    None
}

/// What is left of `deadline_seconds` since `start`.
pub fn remaining(start: Timestamp, deadline_seconds: i64, now: Timestamp) -> Duration {
    let end = start + jiff::SignedDuration::from_secs(deadline_seconds);
    Duration::try_from(end.duration_since(now)).unwrap_or(Duration::ZERO)
}

pub fn failed_from_target(target: &JobCondition, now: Timestamp) -> JobCondition {
    let reason = target.reason.as_deref().unwrap_or_default();
    let msg = target.message.as_deref().unwrap_or_default();
    new_condition("Failed", "True", reason, msg, now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn job(spec: serde_json::Value, status: serde_json::Value) -> Job {
        serde_json::from_value(json!({
            "metadata": {"name": "j", "namespace": "ns", "uid": "job-uid"},
            "spec": spec, "status": status,
        }))
        .unwrap()
    }

    fn pod(phase: &str, extra: serde_json::Value) -> Arc<Pod> {
        let mut v = json!({
            "metadata": {"name": "p", "namespace": "ns", "uid": format!("uid-{phase}")},
            "spec": {"containers": [{"name": "c"}], "restartPolicy": "Never"},
            "status": {"phase": phase},
        });
        if let (Some(m), Some(e)) = (v.as_object_mut(), extra.as_object()) {
            for (k, x) in e {
                m.insert(k.clone(), x.clone());
            }
        }
        Arc::new(serde_json::from_value(v).unwrap())
    }

    #[test]
    fn active_count_follows_completions_and_parallelism() {
        let j = |c: Option<i32>, p: i32| job(json!({"completions": c, "parallelism": p, "template": {}}), json!({}));
        assert_eq!(want_active(&j(Some(5), 2), 0, 0), 2);
        assert_eq!(want_active(&j(Some(5), 2), 2, 4), 1);
        assert_eq!(want_active(&j(Some(5), 2), 0, 5), 0);
        assert_eq!(want_active(&j(None, 3), 1, 0), 3);
        // Without completions nothing new starts after the first success.
        assert_eq!(want_active(&j(None, 3), 1, 1), 1);
    }

    #[test]
    fn uncounted_pods_move_to_counters_once_their_finalizer_is_gone() {
        let mut status: JobStatus = serde_json::from_value(json!({
            "succeeded": 1,
            "uncountedTerminatedPods": {"succeeded": ["a", "b"], "failed": ["c"]},
        }))
        .unwrap();
        let still: HashSet<String> = ["b".to_string()].into();
        assert!(clean_uncounted(&mut status, &still));
        assert_eq!(status.succeeded, Some(2));
        assert_eq!(status.failed, Some(1));
        let u = status.uncounted_terminated_pods.clone().unwrap();
        assert_eq!(u.succeeded, Some(vec!["b".to_string()]));
        assert_eq!(u.failed, None);
        assert!(!clean_uncounted(&mut status, &still));
    }

    #[test]
    fn conditions_change_only_when_state_does() {
        let now = Timestamp::now();
        let mut c = Vec::new();
        assert!(!ensure_condition(
            &mut c,
            "Suspended",
            "False",
            "JobResumed",
            "Job resumed",
            now
        ));
        assert!(c.is_empty(), "a new False condition is not added");
        assert!(ensure_condition(
            &mut c,
            "Suspended",
            "True",
            "JobSuspended",
            "Job suspended",
            now
        ));
        assert!(!ensure_condition(
            &mut c,
            "Suspended",
            "True",
            "JobSuspended",
            "Job suspended",
            now
        ));
        assert!(ensure_condition(
            &mut c,
            "Suspended",
            "False",
            "JobResumed",
            "Job resumed",
            now
        ));
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].reason.as_deref(), Some("JobResumed"));
    }

    #[test]
    fn restarts_count_against_the_limit_with_restart_on_failure() {
        let j = job(
            json!({"backoffLimit": 2, "template": {"spec": {"restartPolicy": "OnFailure", "containers": []}}}),
            json!({}),
        );
        let restarted = |n: i32| {
            pod(
                "Running",
                json!({"status": {"phase": "Running", "containerStatuses": [
                {"name": "c", "image": "i", "imageID": "", "ready": true, "restartCount": n}]}}),
            )
        };
        assert!(!past_backoff_limit_on_failure(&j, &[restarted(1)]));
        assert!(past_backoff_limit_on_failure(&j, &[restarted(1), restarted(1)]));
    }

    #[test]
    fn success_policy_matches_indexes_or_counts() {
        let j = job(
            json!({"completions": 5, "completionMode": "Indexed", "template": {}, "successPolicy": {"rules": [
                {"succeededIndexes": "0,1"},
                {"succeededCount": 3},
            ]}}),
            json!({}),
        );
        assert_eq!(match_success_policy(&j, &Intervals::parse("1,2", 5)), None);
        assert_eq!(
            match_success_policy(&j, &Intervals::parse("0-1", 5)).as_deref(),
            Some("Matched rules at index 0")
        );
        assert_eq!(
            match_success_policy(&j, &Intervals::parse("2-4", 5)).as_deref(),
            Some("Matched rules at index 1")
        );
    }
}
