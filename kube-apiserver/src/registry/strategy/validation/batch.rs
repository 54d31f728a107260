//! batch/v1 Job and CronJob: counts, completion modes, selectors, templates, schedules (parsed
//! as robfig/cron's standard parser does, with its error texts) and the update rules.

use super::core_pod::pod_template;
use super::{Errs, child, field, immutable, int_of, label_selector, labels, non_negative, selector_matches, str_of};
use crate::errors::FieldError;
use serde_json::Value;

const MAX_INDEXED_PARALLELISM: i64 = 100_000;

pub fn job(obj: &Value, old: Option<&Value>, errs: &mut Errs) {
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    // Upstream generates the selector unless manualSelector is set; this server leaves it out.
    let manual = spec.get("manualSelector").and_then(Value::as_bool) == Some(true);
    job_spec("spec", spec, manual, errs);
    let Some(old) = old else { return };
    let old_spec = old.get("spec").unwrap_or(&Value::Null);
    let p = |k: &str| child("spec", k);
    immutable(&p("selector"), spec.get("selector"), old_spec.get("selector"), errs);
    immutable(
        &p("completionMode"),
        spec.get("completionMode"),
        old_spec.get("completionMode"),
        errs,
    );
    immutable(
        &p("podFailurePolicy"),
        spec.get("podFailurePolicy"),
        old_spec.get("podFailurePolicy"),
        errs,
    );
    immutable(
        &p("backoffLimitPerIndex"),
        spec.get("backoffLimitPerIndex"),
        old_spec.get("backoffLimitPerIndex"),
        errs,
    );
    let indexed = str_of(spec, "completionMode") == "Indexed";
    let elastic = indexed && int_of(spec, "completions") == int_of(spec, "parallelism");
    if !elastic {
        immutable(
            &p("completions"),
            spec.get("completions"),
            old_spec.get("completions"),
            errs,
        );
    }
    // A suspended Job that never started may change its pod's scheduling directives.
    let suspended = old_spec.get("suspend").and_then(Value::as_bool) == Some(true)
        && old.pointer("/status/startTime").is_none_or(Value::is_null);
    let scheduling = |t: Option<&Value>| {
        let mut t = t.cloned().unwrap_or_default();
        if suspended {
            if let Some(m) = t.get_mut("metadata").and_then(Value::as_object_mut) {
                m.remove("labels");
                m.remove("annotations");
            }
            if let Some(m) = t.get_mut("spec").and_then(Value::as_object_mut) {
                for k in ["nodeSelector", "tolerations", "affinity", "schedulingGates"] {
                    m.remove(k);
                }
            }
        }
        t
    };
    if scheduling(spec.get("template")) != scheduling(old_spec.get("template")) {
        errs.push(FieldError::invalid(
            "spec.template",
            spec.get("template").cloned().unwrap_or_default(),
            "field is immutable",
        ));
    }
}

fn job_spec(path: &str, spec: &Value, manual: bool, errs: &mut Errs) {
    let p = |k: &str| child(path, k);
    for k in [
        "parallelism",
        "completions",
        "activeDeadlineSeconds",
        "backoffLimit",
        "ttlSecondsAfterFinished",
        "backoffLimitPerIndex",
        "maxFailedIndexes",
    ] {
        non_negative(path, spec, k, errs);
    }
    let mode = str_of(spec, "completionMode");
    if field(spec, "completionMode").is_some() && !matches!(mode, "NonIndexed" | "Indexed") {
        errs.push(FieldError::not_supported(
            &p("completionMode"),
            mode,
            &["NonIndexed", "Indexed"],
        ));
    }
    if mode == "Indexed" {
        if field(spec, "completions").is_none() {
            errs.push(FieldError::required(
                &p("completions"),
                "when completion mode is Indexed",
            ));
        }
        if let Some(par) = int_of(spec, "parallelism")
            && par > MAX_INDEXED_PARALLELISM
        {
            errs.push(FieldError::invalid(
                &p("parallelism"),
                par,
                &format!("must be less than or equal to {MAX_INDEXED_PARALLELISM} when completion mode is Indexed"),
            ));
        }
    }
    if field(spec, "backoffLimitPerIndex").is_some() && mode != "Indexed" {
        errs.push(FieldError::invalid(
            &p("backoffLimitPerIndex"),
            spec.get("backoffLimitPerIndex").cloned().unwrap_or_default(),
            "requires indexed completion mode",
        ));
    }
    if field(spec, "maxFailedIndexes").is_some() && field(spec, "backoffLimitPerIndex").is_none() {
        errs.push(FieldError::required(
            &p("backoffLimitPerIndex"),
            "when maxFailedIndexes is specified",
        ));
    }
    if let Some(policy) = field(spec, "podReplacementPolicy").and_then(Value::as_str)
        && !matches!(policy, "TerminatingOrFailed" | "Failed")
    {
        errs.push(FieldError::not_supported(
            &p("podReplacementPolicy"),
            policy,
            &["TerminatingOrFailed", "Failed"],
        ));
    }
    match field(spec, "selector") {
        None if manual => errs.push(FieldError::required(&p("selector"), "")),
        None => {}
        Some(sel) => {
            label_selector(&p("selector"), sel, errs);
            let template_labels = spec.pointer("/template/metadata/labels");
            if !selector_matches(sel, template_labels) {
                errs.push(FieldError::invalid(
                    &format!("{path}.template.metadata.labels"),
                    template_labels.cloned().unwrap_or_default(),
                    "`selector` does not match template `labels`",
                ));
            }
        }
    }
    pod_template(&p("template"), field(spec, "template"), errs);
    if let Some(t) = field(spec, "template") {
        let rp = t
            .pointer("/spec/restartPolicy")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !matches!(rp, "OnFailure" | "Never") {
            errs.push(FieldError::not_supported(
                &format!("{path}.template.spec.restartPolicy"),
                rp,
                &["OnFailure", "Never"],
            ));
        }
    }
}

pub fn cron_job(obj: &Value, old: Option<&Value>, errs: &mut Errs) {
    let name = super::super::super::meta::name(obj);
    if old.is_none() && name.len() > 52 {
        errs.push(FieldError::invalid(
            "metadata.name",
            name,
            "must be no more than 52 characters",
        ));
    }
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    let schedule = str_of(spec, "schedule");
    let tz = field(spec, "timeZone").map(|t| t.as_str().unwrap_or_default());
    if schedule.is_empty() {
        errs.push(FieldError::required("spec.schedule", ""));
    } else {
        if let Err(e) = parse_schedule(schedule) {
            errs.push(FieldError::invalid("spec.schedule", schedule, &e));
        }
        if schedule.contains("TZ") {
            let detail = if tz.is_some() {
                "cannot use both timeZone field and TZ or CRON_TZ in schedule"
            } else {
                "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"
            };
            errs.push(FieldError::invalid("spec.schedule", schedule, detail));
        }
    }
    if let Some(tz) = tz {
        time_zone(tz, errs);
    }
    for k in [
        "startingDeadlineSeconds",
        "successfulJobsHistoryLimit",
        "failedJobsHistoryLimit",
    ] {
        non_negative("spec", spec, k, errs);
    }
    match str_of(spec, "concurrencyPolicy") {
        "Allow" | "Forbid" | "Replace" => {}
        "" => errs.push(FieldError::required("spec.concurrencyPolicy", "")),
        other => errs.push(FieldError::not_supported(
            "spec.concurrencyPolicy",
            other,
            &["Allow", "Forbid", "Replace"],
        )),
    }
    let jt = spec.get("jobTemplate").unwrap_or(&Value::Null);
    labels("spec.jobTemplate.metadata.labels", jt.pointer("/metadata/labels"), errs);
    let job = jt.get("spec").unwrap_or(&Value::Null);
    if let Some(sel) = field(job, "selector") {
        errs.push(FieldError::invalid(
            "spec.jobTemplate.spec.selector",
            sel.clone(),
            "`selector` will be auto-generated",
        ));
    }
    if job.get("manualSelector").and_then(Value::as_bool) == Some(true) {
        errs.push(FieldError::not_supported(
            "spec.jobTemplate.spec.manualSelector",
            true,
            &["nil", "false"],
        ));
    }
    let job_without_selector = {
        let mut j = job.clone();
        if let Some(m) = j.as_object_mut() {
            m.remove("selector");
        }
        j
    };
    job_spec("spec.jobTemplate.spec", &job_without_selector, false, errs);
}

fn time_zone(tz: &str, errs: &mut Errs) {
    let detail = if tz.is_empty() {
        Some("timeZone must be nil or non-empty string".to_string())
    } else if tz.eq_ignore_ascii_case("Local") {
        Some("timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones".to_string())
    } else if tz != "UTC" && jiff::tz::db().get(tz).is_err() {
        Some(format!("unknown time zone {tz}"))
    } else {
        None
    };
    if let Some(d) = detail {
        errs.push(FieldError::invalid("spec.timeZone", tz, &d));
    }
}

/// A standard five-field schedule or a descriptor; the error text is robfig/cron's.
pub fn parse_schedule(spec: &str) -> Result<(), String> {
    api_types::cron::parse(spec, jiff::tz::TimeZone::UTC).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use crate::registry::resources::find;
    use crate::registry::strategy::default;
    use serde_json::{Value, json};

    fn job(spec: Value) -> Value {
        let mut base = json!({"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}});
        if let (Some(b), Some(e)) = (base.as_object_mut(), spec.as_object()) {
            b.extend(e.clone());
        }
        let mut obj = json!({"metadata": {"name": "once", "namespace": "shop"}, "spec": base});
        if let Some(info) = find("batch", "v1", "jobs") {
            default(info, &mut obj);
        }
        obj
    }

    #[test]
    fn jobs() {
        check(
            "batch",
            "v1",
            "jobs",
            &[
                ("e2e job", job(json!({})), &[]),
                (
                    "negative counts",
                    job(json!({"parallelism": -1, "completions": -2, "backoffLimit": -3})),
                    &[
                        "spec.parallelism: Invalid value: -1: must be greater than or equal to 0",
                        "spec.completions: Invalid value: -2: must be greater than or equal to 0",
                        "spec.backoffLimit: Invalid value: -3: must be greater than or equal to 0",
                    ],
                ),
                (
                    "restartPolicy Always",
                    with(job(json!({})), "/spec/template/spec/restartPolicy", json!("Always")),
                    &[
                        "spec.template.spec.restartPolicy: Unsupported value: \"Always\": supported values: \"OnFailure\", \"Never\"",
                    ],
                ),
                (
                    "indexed without completions",
                    with(
                        job(json!({"completionMode": "Indexed", "parallelism": 2})),
                        "/spec/completions",
                        Value::Null,
                    ),
                    &["spec.completions: Required value: when completion mode is Indexed"],
                ),
                (
                    "bad mode",
                    job(json!({"completionMode": "Sometimes"})),
                    &[
                        "spec.completionMode: Unsupported value: \"Sometimes\": supported values: \"NonIndexed\", \"Indexed\"",
                    ],
                ),
                (
                    "manual selector",
                    job(json!({"manualSelector": true})),
                    &["spec.selector: Required value"],
                ),
                (
                    "selector mismatch",
                    job(json!({"manualSelector": true, "selector": {"matchLabels": {"a": "b"}}})),
                    &[
                        "spec.template.metadata.labels: Invalid value: null: `selector` does not match template `labels`",
                    ],
                ),
            ],
        );
        let old = job(json!({}));
        let changed = with(old.clone(), "/spec/template/spec/containers/0/image", json!("alpine"));
        let errs = errors("batch", "v1", "jobs", &changed, Some(&old));
        assert_eq!(errs.len(), 1);
        assert!(errs[0].starts_with("spec.template: Invalid value: {") && errs[0].ends_with(": field is immutable"));
        check_update(
            "batch",
            "v1",
            "jobs",
            &[
                (
                    "suspend",
                    old.clone(),
                    with(old.clone(), "/spec/suspend", json!(true)),
                    &[],
                ),
                (
                    "completions",
                    old.clone(),
                    with(old.clone(), "/spec/completions", json!(3)),
                    &["spec.completions: Invalid value: 3: field is immutable"],
                ),
            ],
        );
        let suspended = with(old.clone(), "/spec/suspend", json!(true));
        let moved = with(
            suspended.clone(),
            "/spec/template/spec/nodeSelector",
            json!({"zone": "a"}),
        );
        assert!(errors("batch", "v1", "jobs", &moved, Some(&suspended)).is_empty());
    }

    fn cron(name: &str, spec: Value) -> Value {
        let mut base = json!({"schedule": "*/5 * * * *", "jobTemplate": {"spec": {"template": {"spec": {"restartPolicy": "OnFailure", "containers": [{"name": "c", "image": "busybox"}]}}}}});
        if let (Some(b), Some(e)) = (base.as_object_mut(), spec.as_object()) {
            b.extend(e.clone());
        }
        let mut obj = json!({"metadata": {"name": name, "namespace": "d"}, "spec": base});
        if let Some(info) = find("batch", "v1", "cronjobs") {
            default(info, &mut obj);
        }
        obj
    }

    #[test]
    fn cron_jobs() {
        let long = "a".repeat(53);
        check(
            "batch",
            "v1",
            "cronjobs",
            &[
                ("valid", cron("c", json!({})), &[]),
                (
                    "descriptor",
                    cron("c", json!({"schedule": "@hourly", "timeZone": "Europe/Berlin"})),
                    &[],
                ),
                (
                    "long name",
                    cron(&long, json!({})),
                    &[&format!(
                        "metadata.name: Invalid value: \"{long}\": must be no more than 52 characters"
                    )],
                ),
                (
                    "bad schedule",
                    cron("c", json!({"schedule": "* * *"})),
                    &["spec.schedule: Invalid value: \"* * *\": expected exactly 5 fields, found 3: [* * *]"],
                ),
                (
                    "bad minute, policy",
                    cron("c", json!({"schedule": "61 * * * *", "concurrencyPolicy": "Sometimes"})),
                    &[
                        "spec.schedule: Invalid value: \"61 * * * *\": end of range (61) above maximum (59): 61",
                        "spec.concurrencyPolicy: Unsupported value: \"Sometimes\": supported values: \"Allow\", \"Forbid\", \"Replace\"",
                    ],
                ),
                (
                    "TZ in schedule",
                    cron("c", json!({"schedule": "TZ=UTC 0 * * * *"})),
                    &[
                        "spec.schedule: Invalid value: \"TZ=UTC 0 * * * *\": cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
                    ],
                ),
                (
                    "selector in template",
                    with(
                        cron("c", json!({})),
                        "/spec/jobTemplate/spec/selector",
                        json!({"matchLabels": {"a": "b"}}),
                    ),
                    &[
                        "spec.jobTemplate.spec.selector: Invalid value: {\"matchLabels\":{\"a\":\"b\"}}: `selector` will be auto-generated",
                    ],
                ),
                (
                    "bad time zone",
                    cron("c", json!({"timeZone": "Mars/Base"})),
                    &["spec.timeZone: Invalid value: \"Mars/Base\": unknown time zone Mars/Base"],
                ),
            ],
        );
    }
}
