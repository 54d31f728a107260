//! `/metrics` for the controller manager: every controller's work queue (upstream's
//! `workqueue_depth`, `workqueue_adds_total`, `workqueue_retries_total`), whether this
//! instance leads, and the process's CPU and memory.

use std::fmt::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// What a work queue reports.
pub trait QueueStats: Send + Sync {
    fn depth(&self) -> usize;
    fn adds(&self) -> u64;
    fn retries(&self) -> u64;
}

static QUEUES: Mutex<Vec<(&'static str, Arc<dyn QueueStats>)>> = Mutex::new(Vec::new());
static LEADING: AtomicBool = AtomicBool::new(false);

pub fn register_queue(name: &'static str, queue: Arc<dyn QueueStats>) {
    QUEUES.lock().unwrap_or_else(|e| e.into_inner()).push((name, queue));
}

pub fn set_leading(leading: bool) {
    LEADING.store(leading, Ordering::Relaxed);
}

pub fn render() -> String {
    let queues = QUEUES.lock().unwrap_or_else(|e| e.into_inner());
    let mut out = String::new();
    type Family = (&'static str, &'static str, fn(&dyn QueueStats) -> f64);
    let families: [Family; 3] = [
        ("workqueue_depth", "gauge", |q| q.depth() as f64),
        ("workqueue_adds_total", "counter", |q| q.adds() as f64),
        ("workqueue_retries_total", "counter", |q| q.retries() as f64),
    ];
    for (family, kind, value) in families {
        let _ = writeln!(out, "# TYPE {family} {kind}");
        for (name, q) in queues.iter() {
            let _ = writeln!(out, "{family}{{name=\"{name}\"}} {}", value(q.as_ref()));
        }
    }
    let _ = writeln!(out, "# TYPE leader_election_master_status gauge");
    let _ = writeln!(
        out,
        "leader_election_master_status{{name=\"kube-controller-manager\"}} {}",
        LEADING.load(Ordering::Relaxed) as u8
    );
    out + &api_types::serving::process_metrics()
}
