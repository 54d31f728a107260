//! Pod printer: READY, the aggregate STATUS reason, RESTARTS with the last restart age, and wide columns.

use std::collections::HashSet;

use jiff::Timestamp;
use serde_json::{Value, json};

use super::util::{
    AGE, NAME, NONE, any_condition_true, at, col, first_condition_true, int_at, list_at, name_cell, opt_str,
    parse_time, since_ts, str_at, str_or, wide,
};
use super::{Column, Printer};

static COLUMNS: [Column; 9] = [
    NAME,
    col(
        "Ready",
        "string",
        "The aggregate readiness state of this pod for accepting traffic.",
    ),
    col(
        "Status",
        "string",
        "The aggregate status of the containers in this pod.",
    ),
    col(
        "Restarts",
        "string",
        "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
    ),
    AGE,
    wide(
        "IP",
        "string",
        "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.",
    ),
    wide(
        "Node",
        "string",
        "NodeName indicates in which node this pod is scheduled.",
    ),
    wide(
        "Nominated Node",
        "string",
        "nominatedNodeName is set only when this pod preempts other pods on the node.",
    ),
    wide(
        "Readiness Gates",
        "string",
        "If specified, all readiness gates will be evaluated for pod readiness.",
    ),
];

pub(super) static POD: Printer = Printer { columns: &COLUMNS, row };

/// What the container statuses add up to.
#[derive(Default)]
struct Summary {
    ready: i64,
    total: i64,
    reason: String,
    restarts: i64,
    last_restart: Option<Timestamp>,
}

impl Summary {
    /// Counts a container's restarts and remembers its last termination time.
    fn add_restarts(&mut self, status: &Value) {
        self.restarts += int_at(status, &["restartCount"]);
        self.last_restart = later(self.last_restart, last_termination(status));
    }
}

fn later(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, y) => x.or(y),
    }
}

fn last_termination(status: &Value) -> Option<Timestamp> {
    parse_time(at(status, &["lastState", "terminated", "finishedAt"]))
}

fn row(pod: &Value, now: Timestamp) -> Vec<Value> {
    let summary = summarize(pod);
    let restarts = match summary.last_restart {
        Some(last) if summary.restarts != 0 => {
            format!("{} ({} ago)", summary.restarts, since_ts(last, now))
        }
        _ => summary.restarts.to_string(),
    };
    vec![
        name_cell(pod),
        format!("{}/{}", summary.ready, summary.total).into(),
        summary.reason.into(),
        restarts.into(),
        super::util::age(pod, now),
        pod_ip(pod).into(),
        str_or(pod, &["spec", "nodeName"], NONE).into(),
        str_or(pod, &["status", "nominatedNodeName"], NONE).into(),
        readiness_gates(pod).into(),
    ]
}

fn summarize(pod: &Value) -> Summary {
    let phase = str_at(pod, &["status", "phase"]);
    let conditions = list_at(pod, &["status", "conditions"]);
    let sidecars = sidecar_names(pod);
    let mut summary = Summary {
        total: len(list_at(pod, &["spec", "containers"])) + len_i64(sidecars.len()),
        reason: str_or(pod, &["status", "reason"], phase).to_string(),
        ..Summary::default()
    };
    let gated = conditions
        .iter()
        .any(|c| str_at(c, &["type"]) == "PodScheduled" && str_at(c, &["reason"]) == "SchedulingGated");
    if gated {
        summary.reason = "SchedulingGated".to_string();
    }
    let (sidecar_restarts, initializing) = init_containers(pod, &sidecars, &mut summary);
    if !initializing || first_condition_true(conditions, "Initialized") {
        summary.restarts = sidecar_restarts.restarts;
        summary.last_restart = sidecar_restarts.last_restart;
        app_containers(pod, &mut summary);
    }
    apply_deletion(pod, phase, &mut summary);
    summary
}

/// Names of init containers with `restartPolicy: Always` (sidecars).
fn sidecar_names(pod: &Value) -> HashSet<&str> {
    list_at(pod, &["spec", "initContainers"])
        .iter()
        .filter(|c| str_at(c, &["restartPolicy"]) == "Always")
        .map(|c| str_at(c, &["name"]))
        .collect()
}

/// Walks the init container statuses up to the first unfinished one. Returns the restart
/// tally of the sidecars seen and whether initialization is still in progress.
fn init_containers(pod: &Value, sidecars: &HashSet<&str>, summary: &mut Summary) -> (Summary, bool) {
    let spec_count = list_at(pod, &["spec", "initContainers"]).len();
    let mut sidecar = Summary::default();
    for (i, status) in list_at(pod, &["status", "initContainerStatuses"]).iter().enumerate() {
        summary.add_restarts(status);
        let is_sidecar = sidecars.contains(str_at(status, &["name"]));
        if is_sidecar {
            sidecar.add_restarts(status);
        }
        let terminated = at(status, &["state", "terminated"]);
        if terminated.is_some_and(|t| int_at(t, &["exitCode"]) == 0) {
            continue;
        }
        if is_sidecar && at(status, &["started"]).and_then(Value::as_bool) == Some(true) {
            if at(status, &["ready"]).and_then(Value::as_bool) == Some(true) {
                summary.ready += 1;
            }
            continue;
        }
        summary.reason = init_reason(status, terminated, i, spec_count);
        return (sidecar, true);
    }
    (sidecar, false)
}

/// STATUS of a pod stuck on its `index`th init container.
fn init_reason(status: &Value, terminated: Option<&Value>, index: usize, count: usize) -> String {
    if let Some(t) = terminated {
        return format!("Init:{}", terminated_reason(t));
    }
    match opt_str(status, &["state", "waiting", "reason"]) {
        Some(reason) if !reason.is_empty() && reason != "PodInitializing" => {
            format!("Init:{reason}")
        }
        _ => format!("Init:{index}/{count}"),
    }
}

/// A terminated state's reason, or "Signal:N" / "ExitCode:N" when it has none.
fn terminated_reason(terminated: &Value) -> String {
    let reason = str_at(terminated, &["reason"]);
    let signal = int_at(terminated, &["signal"]);
    if !reason.is_empty() {
        reason.to_string()
    } else if signal != 0 {
        format!("Signal:{signal}")
    } else {
        format!("ExitCode:{}", int_at(terminated, &["exitCode"]))
    }
}

/// Walks the app container statuses (last to first, as upstream) for reason, readiness and restarts.
fn app_containers(pod: &Value, summary: &mut Summary) {
    let mut has_running = false;
    for status in list_at(pod, &["status", "containerStatuses"]).iter().rev() {
        summary.add_restarts(status);
        let waiting = str_at(status, &["state", "waiting", "reason"]);
        if !waiting.is_empty() {
            summary.reason = waiting.to_string();
        } else if let Some(terminated) = at(status, &["state", "terminated"]) {
            summary.reason = terminated_reason(terminated);
        } else if at(status, &["ready"]).and_then(Value::as_bool) == Some(true)
            && at(status, &["state", "running"]).is_some()
        {
            has_running = true;
            summary.ready += 1;
        }
    }
    if summary.reason == "Completed" && has_running {
        let ready = any_condition_true(list_at(pod, &["status", "conditions"]), "Ready");
        summary.reason = if ready { "Running" } else { "NotReady" }.to_string();
    }
}

fn apply_deletion(pod: &Value, phase: &str, summary: &mut Summary) {
    if !super::util::is_deleting(pod) {
        return;
    }
    if str_at(pod, &["status", "reason"]) == "NodeLost" {
        summary.reason = "Unknown".to_string();
    } else if phase != "Succeeded" && phase != "Failed" {
        summary.reason = "Terminating".to_string();
    }
}

fn pod_ip(pod: &Value) -> &str {
    let first = list_at(pod, &["status", "podIPs"])
        .first()
        .map_or("", |ip| str_at(ip, &["ip"]));
    if !first.is_empty() {
        return first;
    }
    str_or(pod, &["status", "podIP"], NONE)
}

fn readiness_gates(pod: &Value) -> String {
    let gates = list_at(pod, &["spec", "readinessGates"]);
    if gates.is_empty() {
        return NONE.to_string();
    }
    let conditions = list_at(pod, &["status", "conditions"]);
    let met = gates
        .iter()
        .filter(|gate| first_condition_true(conditions, str_at(gate, &["conditionType"])))
        .count();
    format!("{met}/{}", gates.len())
}

/// The `Completed` row condition of a Succeeded or Failed pod.
pub(super) fn row_conditions(pod: &Value) -> Option<Value> {
    let (reason, message) = match str_at(pod, &["status", "phase"]) {
        "Succeeded" => ("Succeeded", "The pod has completed successfully."),
        "Failed" => ("Failed", "The pod failed."),
        _ => return None,
    };
    Some(json!([{"type": "Completed", "status": "True", "reason": reason, "message": message}]))
}

fn len(list: &[Value]) -> i64 {
    len_i64(list.len())
}

fn len_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
