//! The scheduler's counters, served on /metrics in the Prometheus text format under
//! upstream's metric names.

use crate::queue::Counts;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Default)]
pub struct Metrics {
    pub scheduled: AtomicU64,
    pub unschedulable: AtomicU64,
    pub errors: AtomicU64,
    pub bindings: AtomicU64,
    pub binding_errors: AtomicU64,
    /// Sum of scheduling-attempt durations in microseconds.
    pub attempt_micros: AtomicU64,
    pub preemption_attempts: AtomicU64,
    pub preemption_victims: AtomicU64,
}

impl Metrics {
    pub fn render(&self, queue: Counts) -> String {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP scheduler_schedule_attempts_total Number of attempts to schedule pods, by the result."
        );
        let _ = writeln!(out, "# TYPE scheduler_schedule_attempts_total counter");
        for (result, c) in [
            ("scheduled", &self.scheduled),
            ("unschedulable", &self.unschedulable),
            ("error", &self.errors),
        ] {
            let _ = writeln!(
                out,
                "scheduler_schedule_attempts_total{{profile=\"default-scheduler\",result=\"{result}\"}} {}",
                get(c)
            );
        }
        let _ = writeln!(
            out,
            "# HELP scheduler_pending_pods Number of pending pods, by the queue type."
        );
        let _ = writeln!(out, "# TYPE scheduler_pending_pods gauge");
        for (q, n) in [
            ("active", queue.active),
            ("backoff", queue.backoff),
            ("unschedulable", queue.unschedulable),
            ("gated", queue.gated),
        ] {
            let _ = writeln!(out, "scheduler_pending_pods{{queue=\"{q}\"}} {n}");
        }
        let attempts = get(&self.scheduled) + get(&self.unschedulable) + get(&self.errors);
        let _ = writeln!(out, "# TYPE scheduler_scheduling_attempt_duration_seconds summary");
        let _ = writeln!(
            out,
            "scheduler_scheduling_attempt_duration_seconds_sum {}",
            get(&self.attempt_micros) as f64 / 1e6
        );
        let _ = writeln!(out, "scheduler_scheduling_attempt_duration_seconds_count {attempts}");
        let _ = writeln!(out, "# TYPE scheduler_binding_total counter");
        let _ = writeln!(
            out,
            "scheduler_binding_total{{result=\"success\"}} {}",
            get(&self.bindings)
        );
        let _ = writeln!(
            out,
            "scheduler_binding_total{{result=\"error\"}} {}",
            get(&self.binding_errors)
        );
        let _ = writeln!(out, "# TYPE scheduler_preemption_attempts_total counter");
        let _ = writeln!(
            out,
            "scheduler_preemption_attempts_total {}",
            get(&self.preemption_attempts)
        );
        let _ = writeln!(out, "# TYPE scheduler_preemption_victims summary");
        let _ = writeln!(
            out,
            "scheduler_preemption_victims_sum {}",
            get(&self.preemption_victims)
        );
        out
    }
}
