//! apps/v1 printers: deployments, replicasets, daemonsets, statefulsets, controllerrevisions.

use jiff::Timestamp;
use serde_json::Value;

use super::util::{
    AGE, CONTAINERS, IMAGES, NAME, NONE, age, at, col, format_labels, format_selector, int_at, list_at, name_cell,
    opt_int, selector_string, str_at, template_containers, wide,
};
use super::{Column, Printer};

pub(super) fn printer(resource: &str) -> Option<&'static Printer> {
    Some(match resource {
        "deployments" => &DEPLOYMENT,
        "replicasets" => &REPLICA_SET,
        "daemonsets" => &DAEMON_SET,
        "statefulsets" => &STATEFUL_SET,
        "controllerrevisions" => &CONTROLLER_REVISION,
        _ => return None,
    })
}

const SELECTOR: Column = wide("Selector", "string", "Label selector for pods.");
const READY: Column = col("Ready", "string", "Number of the pod with ready state");

/// `spec.replicas`, which the API defaults to 1.
fn desired(obj: &Value) -> i64 {
    opt_int(obj, &["spec", "replicas"]).unwrap_or(1)
}

/// "ready/desired".
fn ready_of_desired(obj: &Value) -> Value {
    format!("{}/{}", int_at(obj, &["status", "readyReplicas"]), desired(obj)).into()
}

static DEPLOYMENT: Printer = Printer {
    columns: &[
        NAME,
        READY,
        col(
            "Up-to-date",
            "string",
            "Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
        ),
        col(
            "Available",
            "string",
            "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
        ),
        AGE,
        CONTAINERS,
        IMAGES,
        SELECTOR,
    ],
    row: |obj, now| {
        let (names, images) = template_containers(obj);
        let selector = selector_string(at(obj, &["spec", "selector"])).unwrap_or_else(|()| "<invalid>".to_string());
        vec![
            name_cell(obj),
            ready_of_desired(obj),
            int_at(obj, &["status", "updatedReplicas"]).into(),
            int_at(obj, &["status", "availableReplicas"]).into(),
            age(obj, now),
            names,
            images,
            selector.into(),
        ]
    },
};

static REPLICA_SET: Printer = Printer {
    columns: &[
        NAME,
        col("Desired", "integer", "Replicas is the number of desired replicas."),
        col(
            "Current",
            "integer",
            "Replicas is the most recently observed number of replicas.",
        ),
        col("Ready", "integer", "The number of ready replicas for this replica set."),
        AGE,
        CONTAINERS,
        IMAGES,
        SELECTOR,
    ],
    row: |obj, now| {
        let (names, images) = template_containers(obj);
        vec![
            name_cell(obj),
            desired(obj).into(),
            int_at(obj, &["status", "replicas"]).into(),
            int_at(obj, &["status", "readyReplicas"]).into(),
            age(obj, now),
            names,
            images,
            format_selector(at(obj, &["spec", "selector"])).into(),
        ]
    },
};

static DAEMON_SET: Printer = Printer {
    columns: &[
        NAME,
        col(
            "Desired",
            "integer",
            "The total number of nodes that should be running the daemon pod.",
        ),
        col(
            "Current",
            "integer",
            "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.",
        ),
        col(
            "Ready",
            "integer",
            "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.",
        ),
        col(
            "Up-to-date",
            "integer",
            "The total number of nodes that are running updated daemon pod",
        ),
        col(
            "Available",
            "integer",
            "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available.",
        ),
        col(
            "Node Selector",
            "string",
            "NodeSelector is a selector which must be true for the pod to fit on a node.",
        ),
        AGE,
        CONTAINERS,
        IMAGES,
        SELECTOR,
    ],
    row: daemon_set_row,
};

fn daemon_set_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    let (names, images) = template_containers(obj);
    let status = |key: &str| Value::from(int_at(obj, &["status", key]));
    vec![
        name_cell(obj),
        status("desiredNumberScheduled"),
        status("currentNumberScheduled"),
        status("numberReady"),
        status("updatedNumberScheduled"),
        status("numberAvailable"),
        format_labels(at(obj, &["spec", "template", "spec", "nodeSelector"])).into(),
        age(obj, now),
        names,
        images,
        format_selector(at(obj, &["spec", "selector"])).into(),
    ]
}

static STATEFUL_SET: Printer = Printer {
    columns: &[NAME, READY, AGE, CONTAINERS, IMAGES],
    row: |obj, now| {
        let (names, images) = template_containers(obj);
        vec![name_cell(obj), ready_of_desired(obj), age(obj, now), names, images]
    },
};

static CONTROLLER_REVISION: Printer = Printer {
    columns: &[
        NAME,
        col("Controller", "string", "Controller of the object"),
        col(
            "Revision",
            "string",
            "Revision indicates the revision of the state represented by Data.",
        ),
        AGE,
    ],
    row: |obj, now| {
        vec![
            name_cell(obj),
            controller(obj).into(),
            int_at(obj, &["revision"]).into(),
            age(obj, now),
        ]
    },
};

/// The controlling owner as "kind.group/name" (lower-cased kind.group), or "<none>".
fn controller(obj: &Value) -> String {
    let owners = list_at(obj, &["metadata", "ownerReferences"]);
    let Some(owner) = owners
        .iter()
        .find(|o| at(o, &["controller"]).and_then(Value::as_bool) == Some(true))
    else {
        return NONE.to_string();
    };
    let api_version = str_at(owner, &["apiVersion"]);
    let group = match api_version.split_once('/') {
        Some((group, _)) => group,
        None => "",
    };
    let kind = str_at(owner, &["kind"]);
    let name = str_at(owner, &["name"]);
    match (kind, group) {
        ("", "") => name.to_string(),
        (kind, "") => format!("{}/{name}", kind.to_lowercase()),
        (kind, group) => format!("{}.{}/{name}", kind.to_lowercase(), group.to_lowercase()),
    }
}
