//! The scheduler's counters, served on /metrics in the Prometheus text format under
//! upstream's metric names.

use crate::queue::Counts;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// Attempt outcomes of one profile.
#[derive(Default)]
pub struct Attempts {
    pub scheduled: AtomicU64,
    pub unschedulable: AtomicU64,
    pub errors: AtomicU64,
}

#[derive(Default)]
pub struct Metrics {
    /// By profile (scheduler name).
    attempts: BTreeMap<String, Attempts>,
    pub bindings: AtomicU64,
    pub binding_errors: AtomicU64,
    /// Sum of scheduling-attempt durations in microseconds.
    pub attempt_micros: AtomicU64,
    pub preemption_attempts: AtomicU64,
    pub preemption_victims: AtomicU64,
}

impl Metrics {
    pub fn new<'a>(profiles: impl Iterator<Item = &'a String>) -> Metrics {
        Metrics {
            attempts: profiles.map(|p| (p.clone(), Attempts::default())).collect(),
            ..Default::default()
        }
    }

    pub fn attempts(&self, profile: &str) -> Option<&Attempts> {
        self.attempts.get(profile)
    }

    pub fn render(&self, queue: Counts) -> String {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut out = String::new();
        let mut line = |l: String| {
            out.push_str(&l);
            out.push('\n');
        };
        line("# HELP scheduler_schedule_attempts_total Number of attempts to schedule pods, by the result.".into());
        line("# TYPE scheduler_schedule_attempts_total counter".into());
        let mut total = 0;
        for (profile, a) in &self.attempts {
            for (result, c) in [
                ("scheduled", &a.scheduled),
                ("unschedulable", &a.unschedulable),
                ("error", &a.errors),
            ] {
                total += get(c);
                line(format!(
                    "scheduler_schedule_attempts_total{{profile=\"{profile}\",result=\"{result}\"}} {}",
                    get(c)
                ));
            }
        }
        line("# HELP scheduler_pending_pods Number of pending pods, by the queue type.".into());
        line("# TYPE scheduler_pending_pods gauge".into());
        for (q, n) in [
            ("active", queue.active),
            ("backoff", queue.backoff),
            ("unschedulable", queue.unschedulable),
            ("gated", queue.gated),
        ] {
            line(format!("scheduler_pending_pods{{queue=\"{q}\"}} {n}"));
        }
        line("# TYPE scheduler_scheduling_attempt_duration_seconds summary".into());
        line(format!(
            "scheduler_scheduling_attempt_duration_seconds_sum {}",
            get(&self.attempt_micros) as f64 / 1e6
        ));
        line(format!("scheduler_scheduling_attempt_duration_seconds_count {total}"));
        line("# TYPE scheduler_binding_total counter".into());
        line(format!(
            "scheduler_binding_total{{result=\"success\"}} {}",
            get(&self.bindings)
        ));
        line(format!(
            "scheduler_binding_total{{result=\"error\"}} {}",
            get(&self.binding_errors)
        ));
        line("# TYPE scheduler_preemption_attempts_total counter".into());
        line(format!(
            "scheduler_preemption_attempts_total {}",
            get(&self.preemption_attempts)
        ));
        line("# TYPE scheduler_preemption_victims summary".into());
        line(format!(
            "scheduler_preemption_victims_sum {}",
            get(&self.preemption_victims)
        ));
        out
    }
}
