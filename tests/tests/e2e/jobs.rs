//! Batch controllers of kube-controller-manager (job, cronjob, ttl-after-finished, podgc)
//! against a real API server with RBAC on, each acting as its own service account. Nothing
//! runs pods here: the test plays the kubelet by writing pod status.

use e2e::ApiServer;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// (name, phase) of the Job's pods.
fn job_pods(s: &ApiServer, job: &str) -> Vec<(String, String)> {
    let out = s.jsonpath(
        &["pods", "-l", &format!("batch.kubernetes.io/job-name={job}")],
        r#"{range .items[*]}{.metadata.name} {.status.phase}{"\n"}{end}"#,
    );
    out.lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(n, p)| (n.to_string(), p.to_string()))
        .collect()
}

fn running(pods: &[(String, String)]) -> Vec<String> {
    pods.iter()
        .filter(|(_, p)| p != "Succeeded" && p != "Failed")
        .map(|(n, _)| n.clone())
        .collect()
}

fn set_status(s: &ApiServer, pod: &str, status: &str) {
    s.ok(&[
        "patch",
        "pod",
        pod,
        "--subresource=status",
        "--type=merge",
        "-p",
        &format!(r#"{{"status":{status}}}"#),
    ]);
}

fn succeed(s: &ApiServer, pod: &str) {
    set_status(s, pod, r#"{"phase":"Succeeded"}"#);
}

/// UTC now plus `offset` (e.g. "-2 minutes"), RFC 3339.
fn utc(offset: &str) -> String {
    let out = std::process::Command::new("date")
        .args(["-u", "-d", offset, "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .expect("date");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn fail(s: &ApiServer, pod: &str, exit_code: i32) {
    let status = format!(
        r#"{{"phase":"Failed","containerStatuses":[{{"name":"c","image":"busybox","imageID":"","ready":false,
        "restartCount":0,"state":{{"terminated":{{"exitCode":{exit_code},"finishedAt":"{}"}}}}}}]}}"#,
        utc("now")
    );
    set_status(s, pod, &status.replace('\n', ""));
}

fn events(s: &ApiServer, name: &str) -> String {
    s.ok(&[
        "get",
        "events",
        "--field-selector",
        &format!("involvedObject.name={name}"),
        "-o",
        "wide",
    ])
}

const PARALLEL: &str = "apiVersion: batch/v1
kind: Job
metadata: {name: pi}
spec:
  completions: 5
  parallelism: 2
  template:
    metadata: {labels: {app: pi}}
    spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}
";

#[test]
fn job_runs_to_completion_with_bounded_parallelism() {
    let s = ApiServer::start_rbac();
    let _kcm = s.controllers("job", &[]);
    s.ok_stdin(&["apply", "-f", "-"], PARALLEL);
    let mut finished = BTreeSet::new();
    let start = Instant::now();
    while finished.len() < 5 {
        assert!(start.elapsed() < Duration::from_secs(40), "job stalled at {finished:?}");
        let pods = job_pods(&s, "pi");
        let active = running(&pods);
        assert!(active.len() <= 2, "more than parallelism active: {pods:?}");
        assert!(pods.len() <= 5, "more pods than completions: {pods:?}");
        if let Some(p) = active.first() {
            succeed(&s, p);
            finished.insert(p.clone());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    s.eventually("the Complete condition", 20, || {
        s.jsonpath(&["job", "pi"], r#"{.status.conditions[?(@.type=="Complete")].status}"#) == "True"
    });
    let status = s.jsonpath(
        &["job", "pi"],
        "{.status.succeeded} {.status.active} {.status.ready} {.status.terminating}",
    );
    assert_eq!(status, "5  0 0");
    let reasons = s.jsonpath(
        &["job", "pi"],
        "{.status.conditions[*].type}={.status.conditions[*].reason}",
    );
    assert_eq!(
        reasons,
        "SuccessCriteriaMet Complete=CompletionsReached CompletionsReached"
    );
    assert!(!s.jsonpath(&["job", "pi"], "{.status.completionTime}").is_empty());
    assert_eq!(job_pods(&s, "pi").len(), 5);
    // Counted pods lose the tracking finalizer; they carry the Job's labels and owner.
    let finalizers = s.jsonpath(&["pods", "-l", "app=pi"], "{.items[*].metadata.finalizers}");
    assert!(finalizers.is_empty(), "{finalizers}");
    let uid = s.jsonpath(&["job", "pi"], "{.metadata.uid}");
    let labels = s.jsonpath(
        &["pods", "-l", &format!("controller-uid={uid}")],
        "{.items[0].metadata.labels}",
    );
    assert!(labels.contains(r#""batch.kubernetes.io/job-name":"pi""#), "{labels}");
    assert!(labels.contains("batch.kubernetes.io/controller-uid"), "{labels}");
    let events = events(&s, "pi");
    assert!(
        events.contains("SuccessfulCreate") && events.contains("Created pod: pi-"),
        "{events}"
    );
    assert!(
        events.contains("Completed") && events.contains("Job completed"),
        "{events}"
    );
    assert!(events.contains("job-controller"), "{events}");
}

const FAILING: &str = "apiVersion: batch/v1
kind: Job
metadata: {name: flaky}
spec:
  backoffLimit: 1
  template:
    spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}
";

const FATAL: &str = "apiVersion: batch/v1
kind: Job
metadata: {name: fatal}
spec:
  podReplacementPolicy: Failed
  podFailurePolicy:
    rules:
    - {action: FailJob, onExitCodes: {containerName: c, operator: In, values: [42]}}
  template:
    spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}
";

#[test]
fn job_fails_at_its_backoff_limit_or_on_a_fail_job_rule() {
    let s = ApiServer::start_rbac();
    let _kcm = s.controllers("job", &[]);
    s.ok_stdin(&["apply", "-f", "-"], FAILING);
    s.ok_stdin(&["apply", "-f", "-"], FATAL);
    s.eventually("the fatal job's pod", 20, || job_pods(&s, "fatal").len() == 1);
    let fatal = job_pods(&s, "fatal")[0].0.clone();
    fail(&s, &fatal, 42);
    s.eventually("the first pod", 20, || job_pods(&s, "flaky").len() == 1);
    let first = job_pods(&s, "flaky")[0].0.clone();
    fail(&s, &first, 1);
    let failed_at = Instant::now();
    // The replacement waits out the 10s pod-failure backoff.
    s.eventually("a replacement pod", 25, || job_pods(&s, "flaky").len() == 2);
    let waited = failed_at.elapsed();
    assert!(waited >= Duration::from_secs(8), "replaced after {waited:?}");
    let second = running(&job_pods(&s, "flaky"));
    assert_eq!(second.len(), 1);
    fail(&s, &second[0], 1);
    s.eventually("the Failed condition", 20, || {
        s.jsonpath(&["job", "flaky"], r#"{.status.conditions[?(@.type=="Failed")].status}"#) == "True"
    });
    let failed = s.jsonpath(
        &["job", "flaky"],
        r#"{.status.conditions[?(@.type=="Failed")].reason}: {.status.conditions[?(@.type=="Failed")].message}"#,
    );
    assert_eq!(
        failed,
        "BackoffLimitExceeded: Job has reached the specified backoff limit"
    );
    let types = s.jsonpath(&["job", "flaky"], "{.status.conditions[*].type}");
    assert_eq!(types, "FailureTarget Failed");
    assert_eq!(s.jsonpath(&["job", "flaky"], "{.status.failed}"), "2");
    assert_eq!(job_pods(&s, "flaky").len(), 2, "no pod after the limit");
    let events = events(&s, "flaky");
    assert!(
        events.contains("Warning") && events.contains("BackoffLimitExceeded"),
        "{events}"
    );

    // A FailJob rule fails the Job at the first matching exit code, without retries.
    let failed = s.jsonpath(
        &["job", "fatal"],
        r#"{.status.conditions[?(@.type=="Failed")].reason}: {.status.conditions[?(@.type=="Failed")].message}"#,
    );
    let want = format!("Container c for pod default/{fatal} failed with exit code 42 matching FailJob rule at index 0");
    assert_eq!(failed, format!("PodFailurePolicy: {want}"));
    assert_eq!(job_pods(&s, "fatal").len(), 1);
}

const INDEXED: &str = "apiVersion: batch/v1
kind: Job
metadata: {name: idx}
spec:
  completions: 3
  parallelism: 3
  completionMode: Indexed
  template:
    spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}
";

#[test]
fn indexed_job_pods_carry_their_index() {
    let s = ApiServer::start_rbac();
    let _kcm = s.controllers("job", &[]);
    s.ok_stdin(&["apply", "-f", "-"], INDEXED);
    s.eventually("3 pods", 20, || job_pods(&s, "idx").len() == 3);
    let rows = s.jsonpath(&["pods", "-l", "batch.kubernetes.io/job-name=idx"],
        r#"{range .items[*]}{.metadata.name} {.metadata.annotations.batch\.kubernetes\.io/job-completion-index} {.metadata.labels.batch\.kubernetes\.io/job-completion-index} {.spec.hostname} {.spec.containers[0].env[0].name}{"\n"}{end}"#,
    );
    let mut indexes = BTreeSet::new();
    let mut by_index = Vec::new();
    for row in rows.lines() {
        let f: Vec<&str> = row.split(' ').collect();
        assert_eq!(f.len(), 5, "{row}");
        assert_eq!(f[1], f[2], "annotation and label agree: {row}");
        assert!(f[0].starts_with(&format!("idx-{}-", f[1])), "{row}");
        assert_eq!(f[3], format!("idx-{}", f[1]));
        assert_eq!(f[4], "JOB_COMPLETION_INDEX");
        indexes.insert(f[1].to_string());
        by_index.push((f[1].to_string(), f[0].to_string()));
    }
    assert_eq!(indexes, BTreeSet::from(["0".into(), "1".into(), "2".into()]));
    by_index.sort();
    succeed(&s, &by_index[1].1);
    s.eventually("completedIndexes 1", 20, || {
        s.jsonpath(&["job", "idx"], "{.status.completedIndexes}") == "1"
    });
    succeed(&s, &by_index[0].1);
    succeed(&s, &by_index[2].1);
    s.eventually("the Complete condition", 20, || {
        s.jsonpath(&["job", "idx"], r#"{.status.conditions[?(@.type=="Complete")].status}"#) == "True"
    });
    assert_eq!(
        s.jsonpath(&["job", "idx"], "{.status.completedIndexes} {.status.succeeded}"),
        "0-2 3"
    );
}

const PER_INDEX: &str = "apiVersion: batch/v1
kind: Job
metadata: {name: per}
spec:
  completions: 3
  parallelism: 3
  completionMode: Indexed
  backoffLimitPerIndex: 1
  podFailurePolicy:
    rules: [{action: FailIndex, onExitCodes: {operator: In, values: [42]}}]
  template:
    spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}
";

/// (index, failure-count annotation, name, phase) of a Job's pods, sorted.
fn indexed_pods(s: &ApiServer, job: &str) -> Vec<(String, String, String, String)> {
    let rows = s.jsonpath(
        &["pods", "-l", &format!("batch.kubernetes.io/job-name={job}")],
        r#"{range .items[*]}{.metadata.annotations.batch\.kubernetes\.io/job-completion-index} {.metadata.annotations.batch\.kubernetes\.io/job-index-failure-count} {.metadata.name} {.status.phase}{"\n"}{end}"#,
    );
    let mut out: Vec<_> = rows
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            (f.len() == 4).then(|| (f[0].into(), f[1].into(), f[2].into(), f[3].into()))
        })
        .collect();
    out.sort();
    out
}

#[test]
fn backoff_limit_per_index_fails_indexes_not_the_whole_job_at_once() {
    let s = ApiServer::start_rbac();
    let _kcm = s.controllers("job", &[]);
    s.ok_stdin(&["apply", "-f", "-"], PER_INDEX);
    assert_eq!(s.jsonpath(&["job", "per"], "{.spec.backoffLimit}"), "2147483647");
    s.eventually("3 pods", 20, || indexed_pods(&s, "per").len() == 3);
    let pods = indexed_pods(&s, "per");
    assert!(pods.iter().all(|p| p.1 == "0"), "{pods:?}");
    // Exit code 42 matches the FailIndex rule: index 0 fails at once, without a retry.
    fail(&s, &pods[0].2, 42);
    s.eventually("failedIndexes 0", 20, || {
        s.jsonpath(&["job", "per"], "{.status.failedIndexes}") == "0"
    });
    // Index 1 has one retry: its replacement carries the failure count.
    fail(&s, &pods[1].2, 1);
    succeed(&s, &pods[2].2);
    s.eventually("a replacement for index 1", 30, || indexed_pods(&s, "per").len() == 4);
    let replacement = indexed_pods(&s, "per")
        .into_iter()
        .find(|p| p.0 == "1" && p.3 != "Failed")
        .expect("index 1 replaced");
    assert_eq!(replacement.1, "1");
    assert!(
        indexed_pods(&s, "per").iter().filter(|p| p.0 == "0").count() == 1,
        "index 0 is not retried"
    );
    fail(&s, &replacement.2, 1);
    s.eventually("the Failed condition", 20, || {
        s.jsonpath(&["job", "per"], r#"{.status.conditions[?(@.type=="Failed")].status}"#) == "True"
    });
    let failed = s.jsonpath(
        &["job", "per"],
        r#"{.status.conditions[?(@.type=="Failed")].reason}: {.status.conditions[?(@.type=="Failed")].message}"#,
    );
    assert_eq!(failed, "FailedIndexes: Job has failed indexes");
    assert_eq!(
        s.jsonpath(
            &["job", "per"],
            "{.status.failedIndexes} {.status.completedIndexes} {.status.failed}"
        ),
        "0,1 2 3"
    );
    // With maxFailedIndexes 0, the first failed index fails the Job and stops the others.
    s.ok_stdin(
        &["apply", "-f", "-"],
        &PER_INDEX.replace("name: per}", "name: strict}").replace(
            "backoffLimitPerIndex: 1",
            "backoffLimitPerIndex: 1\n  maxFailedIndexes: 0",
        ),
    );
    s.eventually("3 strict pods", 20, || indexed_pods(&s, "strict").len() == 3);
    fail(&s, &indexed_pods(&s, "strict")[2].2, 42);
    s.eventually("the strict Job failed", 20, || {
        s.jsonpath(
            &["job", "strict"],
            r#"{.status.conditions[?(@.type=="Failed")].reason}"#,
        ) == "MaxFailedIndexesExceeded"
    });
}

const TTL: &str = "apiVersion: batch/v1
kind: Job
metadata: {name: brief}
spec:
  ttlSecondsAfterFinished: 2
  template:
    spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}
";

#[test]
fn finished_job_is_deleted_after_its_ttl() {
    let s = ApiServer::start_rbac();
    let _kcm = s.controllers("job,ttl-after-finished,garbagecollector", &[]);
    s.ok_stdin(&["apply", "-f", "-"], TTL);
    s.eventually("the pod", 20, || job_pods(&s, "brief").len() == 1);
    succeed(&s, &job_pods(&s, "brief")[0].0);
    s.eventually("the Complete condition", 20, || {
        s.jsonpath(
            &["job", "brief"],
            r#"{.status.conditions[?(@.type=="Complete")].status}"#,
        ) == "True"
    });
    let finished = s.jsonpath(
        &["job", "brief"],
        r#"{.status.conditions[?(@.type=="Complete")].lastTransitionTime}"#,
    );
    s.eventually("the Job and its pod deleted", 30, || {
        s.ok(&["get", "jobs,pods", "-o", "name"]).trim().is_empty()
    });
    let gone = epoch("now");
    assert!(
        gone >= epoch(&finished) + 2,
        "deleted at {gone}, before {finished} + 2s"
    );
}

/// Seconds since the epoch of a time `date -d` understands.
fn epoch(time: &str) -> i64 {
    let out = std::process::Command::new("date")
        .args(["-u", "-d", time, "+%s"])
        .output()
        .expect("date");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("epoch seconds")
}

const CRON: &str = "apiVersion: batch/v1
kind: CronJob
metadata: {name: tick}
spec:
  schedule: '* * * * *'
  concurrencyPolicy: Replace
  suspend: true
  jobTemplate:
    metadata: {labels: {app: tick}}
    spec:
      template:
        spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}
";

fn cron_jobs(s: &ApiServer) -> Vec<String> {
    let out = s.jsonpath(&["jobs", "-l", "app=tick"], "{.items[*].metadata.name}");
    out.split_whitespace().map(String::from).collect()
}

#[test]
fn cronjob_starts_jobs_on_schedule() {
    let s = ApiServer::start_rbac();
    let _kcm = s.controllers("cronjob", &[]);
    s.ok_stdin(&["apply", "-f", "-"], CRON);
    // A run missed two minutes ago: the most recent missed time runs at once.
    let lst = format!(r#"{{"status":{{"lastScheduleTime":"{}"}}}}"#, utc("-2 minutes"));
    s.ok(&[
        "patch",
        "cronjob",
        "tick",
        "--subresource=status",
        "--type=merge",
        "-p",
        &lst,
    ]);
    s.ok(&[
        "patch",
        "cronjob",
        "tick",
        "--type=merge",
        "-p",
        r#"{"spec":{"suspend":false}}"#,
    ]);
    s.eventually("a job for the missed run", 30, || cron_jobs(&s).len() == 1);
    let first = cron_jobs(&s)[0].clone();
    let minutes: i64 = first.trim_start_matches("tick-").parse().expect("tick-<minutes>");
    let scheduled = s.jsonpath(
        &["job", &first],
        r#"{.metadata.annotations.batch\.kubernetes\.io/cronjob-scheduled-timestamp}"#,
    );
    let at_minute = |m: i64| utc(&format!("@{}", m * 60));
    assert_eq!(scheduled, at_minute(minutes));
    assert_eq!(
        s.jsonpath(&["job", &first], "{.metadata.ownerReferences[0].kind}"),
        "CronJob"
    );
    s.eventually("status.active and lastScheduleTime", 30, || {
        s.jsonpath(
            &["cronjob", "tick"],
            "{.status.active[0].name} {.status.lastScheduleTime}",
        ) == format!("{first} {scheduled}")
    });
    // The next minute's run replaces the still-active one.
    s.eventually("the next scheduled job", 70, || {
        let jobs = cron_jobs(&s);
        jobs.len() == 1 && jobs[0] != first
    });
    let second = cron_jobs(&s)[0].clone();
    let next: i64 = second.trim_start_matches("tick-").parse().expect("tick-<minutes>");
    assert!(next > minutes, "{second} after {first}");
    let events = events(&s, "tick");
    assert!(events.contains(&format!("Created job {first}")), "{events}");
    assert!(events.contains(&format!("Created job {second}")), "{events}");
    assert!(events.contains(&format!("Deleted job {first}")), "{events}");
}

#[test]
fn podgc_deletes_orphaned_terminated_and_unscheduled_terminating_pods() {
    let s = ApiServer::start_rbac();
    let pod = |name: &str, extra: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}{extra}}}\nspec: {{containers: [{{name: c, image: busybox}}]{}}}\n",
            if name == "b-ghost" {
                ", nodeName: no-such-node"
            } else {
                ""
            }
        )
    };
    // Oldest first by name within a second: the two held pods sort before the finished ones.
    s.ok_stdin(
        &["apply", "-f", "-"],
        &pod("a-stuck", ", finalizers: [example.com/hold]"),
    );
    s.ok_stdin(
        &["apply", "-f", "-"],
        &pod("b-ghost", ", finalizers: [example.com/hold]"),
    );
    for p in ["c-done-1", "c-done-2", "c-done-3"] {
        s.ok_stdin(&["apply", "-f", "-"], &pod(p, ""));
        succeed(&s, p);
    }
    s.ok(&["delete", "pod", "a-stuck", "--wait=false"]);
    let started = Instant::now();
    let _kcm = s.controllers("podgc", &["--terminated-pod-gc-threshold=1"]);
    let names = || s.ok(&["get", "pods", "-o", "name"]);
    s.eventually("terminated pods beyond the threshold deleted, oldest first", 15, || {
        let n = names();
        !n.contains("c-done-1") && !n.contains("c-done-2") && n.contains("c-done-3")
    });
    s.eventually("the unscheduled terminating pod marked failed", 15, || {
        s.jsonpath(&["pod", "a-stuck"], "{.status.phase}") == "Failed"
    });
    // The pod on a node that does not exist goes after the 40s quarantine.
    s.eventually("the orphaned pod marked failed and deleted", 70, || {
        s.jsonpath(&["pod", "b-ghost"], "{.status.phase} {.metadata.deletionTimestamp}")
            .starts_with("Failed 2")
    });
    assert!(started.elapsed() >= Duration::from_secs(39), "quarantine skipped");
    let condition = s.jsonpath(&["pod", "b-ghost"],
        r#"{.status.conditions[?(@.type=="DisruptionTarget")].reason}: {.status.conditions[?(@.type=="DisruptionTarget")].message}"#,
    );
    assert_eq!(condition, "DeletionByPodGC: PodGC: node no longer exists");
    for p in ["a-stuck", "b-ghost"] {
        s.ok(&[
            "patch",
            "pod",
            p,
            "--type=merge",
            "-p",
            r#"{"metadata":{"finalizers":null}}"#,
        ]);
    }
    s.eventually("held pods gone once released", 10, || {
        let n = names();
        !n.contains("a-stuck") && !n.contains("b-ghost")
    });
}
