//! `spec.backoffLimitPerIndex` (Indexed Jobs): each index has its own failure budget. Every
//! pod carries the failures of its index so far in an annotation; a pod failing once its index
//! has used up the budget (or matching a FailIndex rule) fails the index for good. Failed
//! indexes are kept in `status.failedIndexes`, are not retried, and fail the Job once they
//! exceed `maxFailedIndexes` or when every index has either succeeded or failed. Replacements
//! of an index wait out a backoff computed from that index's failures.

use super::backoff::{self, finished_at};
use super::indexed::{Intervals, valid_index};
use super::policy;
use jiff::Timestamp;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

pub const FAILURE_COUNT: &str = "batch.kubernetes.io/job-index-failure-count";
pub const IGNORED_FAILURE_COUNT: &str = "batch.kubernetes.io/job-index-ignored-failure-count";

fn annotation(pod: &Pod, key: &str) -> i32 {
    pod.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(key))
        .and_then(|v| v.parse().ok())
        .filter(|n: &i32| *n >= 0)
        .unwrap_or(0)
}

pub fn limit(job: &Job) -> Option<i32> {
    job.spec.as_ref()?.backoff_limit_per_index
}

/// Whether a failed pod fails its index (upstream's isIndexFailed).
pub fn fails_index(job: &Job, pod: &Pod, limit: i32) -> bool {
    let verdict = policy::evaluate(job.spec.as_ref().and_then(|s| s.pod_failure_policy.as_ref()), pod);
    if verdict.action.as_deref() == Some("FailIndex") {
        return true;
    }
    verdict.counts && annotation(pod, FAILURE_COUNT) >= limit
}

/// `status.failedIndexes` plus the indexes `newly_failed` pods fail.
pub fn failed_indexes(job: &Job, newly_failed: &[Arc<Pod>], completions: usize, limit: i32) -> Intervals {
    let recorded = job
        .status
        .as_ref()
        .and_then(|s| s.failed_indexes.as_deref())
        .unwrap_or("");
    let new = newly_failed
        .iter()
        .filter(|p| fails_index(job, p, limit))
        .filter_map(|p| valid_index(p, completions));
    Intervals::parse(recorded, completions).with_indexes(new)
}

/// What an index's failed pods say: the counts its next pod carries and when it may start.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct IndexFailures {
    pub failures: i32,
    pub ignored: i32,
    last_failure: Option<Timestamp>,
}

impl IndexFailures {
    /// How long a replacement must still wait at `now`: 10s after the first failure, doubling
    /// with each further one, at most 10 minutes.
    pub fn remaining(&self, now: Timestamp) -> Duration {
        let record = backoff::Record {
            failures_after_last_success: (self.failures + self.ignored).max(0) as u32,
            last_failure: self.last_failure,
        };
        record.remaining(now)
    }
}

/// Per index, the failures recorded by its failed pods (each carries the count before it, so
/// the latest one plus its own failure is the total).
pub fn failures_per_index(job: &Job, pods: &[Arc<Pod>], completions: usize) -> BTreeMap<usize, IndexFailures> {
    let policy = job.spec.as_ref().and_then(|s| s.pod_failure_policy.as_ref());
    let mut out: BTreeMap<usize, IndexFailures> = BTreeMap::new();
    for pod in pods.iter().filter(|p| super::is_pod_failed(p, job)) {
        let Some(ix) = valid_index(pod, completions) else {
            continue;
        };
        let counts = policy::evaluate(policy, pod).counts;
        let (failures, ignored) = (annotation(pod, FAILURE_COUNT), annotation(pod, IGNORED_FAILURE_COUNT));
        let this = IndexFailures {
            failures: failures + i32::from(counts),
            ignored: ignored + i32::from(!counts),
            last_failure: Some(finished_at(pod)),
        };
        let entry = out.entry(ix).or_default();
        if (this.failures + this.ignored) > (entry.failures + entry.ignored) {
            *entry = this;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn job(rules: serde_json::Value) -> Job {
        serde_json::from_value(
            json!({"spec": {"completionMode": "Indexed", "completions": 4, "backoffLimitPerIndex": 1,
            "podFailurePolicy": {"rules": rules},
            "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}},
            "status": {"failedIndexes": "3"}}),
        )
        .unwrap()
    }

    fn failed(ix: usize, count: i32, exit: i32) -> Arc<Pod> {
        Arc::new(
            serde_json::from_value(json!({
                "metadata": {"name": format!("p{ix}-{count}"), "annotations": {
                    "batch.kubernetes.io/job-completion-index": ix.to_string(), FAILURE_COUNT: count.to_string()}},
                "status": {"phase": "Failed", "containerStatuses": [{"name": "c", "image": "busybox", "imageID": "", "ready": false,
                    "restartCount": 0, "state": {"terminated": {"exitCode": exit, "finishedAt": "2026-01-01T00:00:00Z"}}}]}}))
            .unwrap(),
        )
    }

    #[test]
    fn an_index_fails_once_its_budget_is_spent_or_on_fail_index() {
        let j = job(json!([{"action": "FailIndex", "onExitCodes": {"operator": "In", "values": [42]}}]));
        let pods = vec![failed(0, 0, 1), failed(1, 1, 1), failed(2, 0, 42)];
        let failed_ixs = failed_indexes(&j, &pods, 4, 1);
        assert_eq!(
            failed_ixs.to_string(),
            "1-3",
            "index 1 spent its budget, 2 hit FailIndex, 3 was recorded"
        );
        let per = failures_per_index(&j, &pods, 4);
        assert_eq!((per[&0].failures, per[&1].failures), (1, 2));
    }

    #[test]
    fn ignored_failures_are_counted_apart() {
        let j = job(json!([{"action": "Ignore", "onExitCodes": {"operator": "In", "values": [7]}}]));
        let pods = vec![failed(0, 0, 7)];
        let per = failures_per_index(&j, &pods, 4);
        assert_eq!((per[&0].failures, per[&0].ignored), (0, 1));
        assert!(failed_indexes(&j, &pods, 4, 1).to_string() == "3");
    }
}
