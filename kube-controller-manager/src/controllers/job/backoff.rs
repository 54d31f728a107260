//! The delay before replacing failed pods: 10s after the first failure since the last success,
//! doubling with each further failure, capped at 10 minutes (upstream's
//! DefaultJobPodFailureBackOff and MaxJobPodFailureBackOff). Kept per Job in memory.

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::Pod;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

pub const BASE: Duration = Duration::from_secs(10);
pub const MAX: Duration = Duration::from_secs(600);

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Record {
    pub failures_after_last_success: u32,
    pub last_failure: Option<Timestamp>,
}

impl Record {
    /// The record once `succeeded` and `failed` (newly finished pods) are taken into account.
    pub fn next(&self, succeeded: &[&Pod], failed: &[&Pod]) -> Record {
        let mut failed_times: Vec<Timestamp> = failed.iter().map(|p| finished_at(p)).collect();
        failed_times.sort();
        let last_success = succeeded.iter().map(|p| finished_at(p)).max();
        let Some(last_success) = last_success else {
            let Some(last) = failed_times.last() else {
                return self.clone();
            };
            return Record {
                failures_after_last_success: self.failures_after_last_success + failed_times.len() as u32,
                last_failure: Some(*last),
            };
        };
        let after: Vec<_> = failed_times.into_iter().filter(|t| *t > last_success).collect();
        Record {
            failures_after_last_success: after.len() as u32,
            last_failure: after.last().copied(),
        }
    }

    /// How long new pods must still wait at `now`.
    pub fn remaining(&self, now: Timestamp) -> Duration {
        let (Some(last), n) = (self.last_failure, self.failures_after_last_success) else {
            return Duration::ZERO;
        };
        if n == 0 {
            return Duration::ZERO;
        }
        let mut delay = BASE;
        for _ in 1..n {
            delay = delay.saturating_mul(2);
            if delay >= MAX {
                delay = MAX;
                break;
            }
        }
        let elapsed = now.duration_since(last);
        let delay = SignedDuration::try_from(delay).unwrap_or(SignedDuration::MAX);
        if delay < elapsed {
            return Duration::ZERO;
        }
        Duration::try_from(delay - elapsed).unwrap_or(Duration::ZERO)
    }
}

/// When a pod finished: the latest container termination, else when Ready turned false, else
/// its deletion, else its creation.
pub fn finished_at(pod: &Pod) -> Timestamp {
    let status = pod.status.as_ref();
    let from_containers = status.and_then(|s| s.container_statuses.as_ref()).and_then(|cs| {
        let mut latest: Option<Timestamp> = None;
        for c in cs {
            let t = c.state.as_ref()?.terminated.as_ref()?.finished_at.as_ref()?.0;
            latest = Some(latest.map_or(t, |l| l.max(t)));
        }
        latest
    });
    let from_ready = || {
        status?
            .conditions
            .as_ref()?
            .iter()
            .find(|c| c.type_ == "Ready" && c.status == "False")?
            .last_transition_time
            .as_ref()
            .map(|t| t.0)
    };
    from_containers
        .or_else(from_ready)
        .or_else(|| pod.metadata.deletion_timestamp.as_ref().map(|t| t.0))
        .or_else(|| pod.metadata.creation_timestamp.as_ref().map(|t| t.0))
        .unwrap_or_default()
}

/// Records per Job key.
#[derive(Default)]
pub struct Store {
    records: Mutex<HashMap<String, Record>>,
}

impl Store {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Record>> {
        self.records.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn get(&self, key: &str) -> Record {
        self.lock().get(key).cloned().unwrap_or_default()
    }

    pub fn set(&self, key: &str, record: Record) {
        self.lock().insert(key.to_string(), record);
    }

    pub fn remove(&self, key: &str) {
        self.lock().remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(finished: &str) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"creationTimestamp": "2026-01-01T00:00:00Z"},
            "status": {"containerStatuses": [{"name": "c", "image": "i", "imageID": "", "ready": false,
                "restartCount": 0, "state": {"terminated": {"exitCode": 1, "finishedAt": finished}}}]},
        }))
        .unwrap()
    }

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn delay_doubles_from_ten_seconds_and_caps_at_ten_minutes() {
        let r = |n| Record {
            failures_after_last_success: n,
            last_failure: Some(at("2026-01-01T00:00:00Z")),
        };
        let now = at("2026-01-01T00:00:04Z");
        assert_eq!(r(1).remaining(now), Duration::from_secs(6));
        assert_eq!(r(2).remaining(now), Duration::from_secs(16));
        assert_eq!(r(3).remaining(now), Duration::from_secs(36));
        assert_eq!(r(20).remaining(now), Duration::from_secs(596));
        assert_eq!(r(1).remaining(at("2026-01-01T00:01:00Z")), Duration::ZERO);
        assert_eq!(Record::default().remaining(now), Duration::ZERO);
    }

    #[test]
    fn a_success_resets_the_count() {
        let (f1, f2, s) = (
            pod("2026-01-01T00:00:01Z"),
            pod("2026-01-01T00:00:05Z"),
            pod("2026-01-01T00:00:03Z"),
        );
        let r = Record::default().next(&[], &[&f1]);
        assert_eq!(r.failures_after_last_success, 1);
        let r = r.next(&[], &[&f2]);
        assert_eq!(r.failures_after_last_success, 2);
        assert_eq!(r.last_failure, Some(at("2026-01-01T00:00:05Z")));
        // A success counts only failures after it.
        let r = r.next(&[&s], &[&f1, &f2]);
        assert_eq!(r.failures_after_last_success, 1);
        assert_eq!(Record::default().next(&[&s], &[]), Record::default());
    }
}
