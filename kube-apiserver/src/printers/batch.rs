//! batch/v1 printers: jobs (with the STATUS column) and cronjobs.

use jiff::Timestamp;
use serde_json::Value;

use super::util::{
    AGE, CONTAINERS, IMAGES, NAME, NONE, UNSET, age, at, containers, count_at, first_condition_true, format_selector,
    go_bool, int_at, list_at, name_cell, opt_bool, opt_int, opt_str, parse_time, since, since_ts, str_at,
    template_containers, wide,
};
use super::{Column, Printer, util::col};

pub(super) fn printer(resource: &str) -> Option<&'static Printer> {
    Some(match resource {
        "jobs" => &JOB,
        "cronjobs" => &CRON_JOB,
        _ => return None,
    })
}

const SELECTOR: Column = wide(
    "Selector",
    "string",
    "A label query over pods that should match the pod count.",
);

static JOB: Printer = Printer {
    columns: &[
        NAME,
        col("Status", "string", "Status of the job."),
        col(
            "Completions",
            "string",
            "The number of pods which reached phase Succeeded.",
        ),
        col("Duration", "string", "Time required to complete the job."),
        AGE,
        CONTAINERS,
        IMAGES,
        SELECTOR,
    ],
    row: job_row,
};

fn job_row(job: &Value, now: Timestamp) -> Vec<Value> {
    let (names, images) = template_containers(job);
    vec![
        name_cell(job),
        job_status(job).into(),
        completions(job).into(),
        job_duration(job, now).into(),
        age(job, now),
        names,
        images,
        format_selector(at(job, &["spec", "selector"])).into(),
    ]
}

/// Complete, Failed, Terminating, Suspended, FailureTarget or Running (v1.33 order).
fn job_status(job: &Value) -> &'static str {
    let conditions = list_at(job, &["status", "conditions"]);
    let has = |kind: &str| first_condition_true(conditions, kind);
    if has("Complete") {
        "Complete"
    } else if has("Failed") {
        "Failed"
    } else if super::util::is_deleting(job) {
        "Terminating"
    } else if has("Suspended") {
        "Suspended"
    } else if has("FailureTarget") {
        "FailureTarget"
    } else {
        "Running"
    }
}

/// "succeeded/completions", or "succeeded/1 of parallelism" for work queues.
fn completions(job: &Value) -> String {
    let succeeded = int_at(job, &["status", "succeeded"]);
    match opt_int(job, &["spec", "completions"]) {
        Some(total) => format!("{succeeded}/{total}"),
        None => match int_at(job, &["spec", "parallelism"]) {
            parallelism if parallelism > 1 => format!("{succeeded}/1 of {parallelism}"),
            _ => format!("{succeeded}/1"),
        },
    }
}

/// Time from start to completion (or to now while running); "" before the job started.
fn job_duration(job: &Value, now: Timestamp) -> String {
    let Some(start) = at(job, &["status", "startTime"]) else {
        return String::new();
    };
    match (
        parse_time(Some(start)),
        parse_time(at(job, &["status", "completionTime"])),
    ) {
        (Some(start), Some(end)) => since_ts(start, end),
        _ => since(Some(start), now),
    }
}

static CRON_JOB: Printer = Printer {
    columns: &[
        NAME,
        col("Schedule", "string", "The schedule in Cron format."),
        col("Timezone", "string", "The time zone name for the given schedule."),
        col(
            "Suspend",
            "boolean",
            "This flag tells the controller to suspend subsequent executions.",
        ),
        col("Active", "integer", "A list of pointers to currently running jobs."),
        col(
            "Last Schedule",
            "string",
            "Information when was the last time the job was successfully scheduled.",
        ),
        AGE,
        CONTAINERS,
        IMAGES,
        SELECTOR,
    ],
    row: cron_job_row,
};

fn cron_job_row(cron: &Value, now: Timestamp) -> Vec<Value> {
    let job_spec = at(cron, &["spec", "jobTemplate", "spec"]);
    let (names, images) = containers(job_spec.and_then(|s| at(s, &["template", "spec"])));
    let last_schedule = match at(cron, &["status", "lastScheduleTime"]) {
        Some(t) => since(Some(t), now),
        None => NONE.to_string(),
    };
    vec![
        name_cell(cron),
        str_at(cron, &["spec", "schedule"]).into(),
        opt_str(cron, &["spec", "timeZone"]).unwrap_or(NONE).into(),
        opt_bool(cron, &["spec", "suspend"]).map_or(UNSET, go_bool).into(),
        count_at(cron, &["status", "active"]).into(),
        last_schedule.into(),
        age(cron, now),
        names,
        images,
        format_selector(job_spec.and_then(|s| at(s, &["selector"]))).into(),
    ]
}
