//! cronjob: creates a Job for each CronJob at its scheduled times (upstream's cronjob
//! controller v2). A Job is named `<cronjob>-<scheduled minutes since the epoch>`, so a
//! restart can never create one twice; a schedule missed by more than startingDeadlineSeconds
//! is skipped; concurrencyPolicy Forbid skips a run while one is active and Replace deletes
//! the active ones first. Finished Jobs beyond the history limits are deleted, oldest first.
//! Each CronJob is requeued for just after its next scheduled time.

use super::Ctx;
use super::job::finished_type;
use crate::events::{NORMAL, WARNING};
use crate::informer::{Change, Informer, key_of, split_key};
use crate::pods::{controller_of, controller_ref};
use crate::queue::{Queue, run_workers};
use api_types::cron::{self as schedule, Schedule};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use kube::api::{Api, DeleteParams, PostParams, PropagationPolicy};
use std::sync::Arc;
use std::time::Duration;

pub const SCHEDULED_TIMESTAMP: &str = "batch.kubernetes.io/cronjob-scheduled-timestamp";
/// Requeue a little after the scheduled time so clock skew never lands just before it.
const NEXT_SCHEDULE_DELTA: SignedDuration = SignedDuration::from_millis(100);
/// More missed schedules than this and the controller says so (and only runs the latest).
const MANY_MISSED: i64 = 100;

struct Controller {
    ctx: Ctx,
    cronjobs: Informer<CronJob>,
    jobs: Informer<Job>,
    queue: Arc<Queue<String>>,
}

pub async fn run(ctx: Ctx) -> anyhow::Result<()> {
    let cronjobs = ctx.informers.get::<CronJob>();
    let jobs = ctx.informers.get::<Job>();
    let c = Arc::new(Controller {
        ctx: ctx.clone(),
        cronjobs: cronjobs.clone(),
        jobs: jobs.clone(),
        queue: Queue::new(),
    });
    let h = c.clone();
    jobs.on_change(move |change| match change {
        Change::Added(job) | Change::Deleted(job) => h.enqueue_owner(job),
        Change::Updated { old, new } => {
            if controller_of(&old.metadata) != controller_of(&new.metadata) {
                h.enqueue_owner(old);
            }
            h.enqueue_owner(new);
        }
    });
    let h = c.clone();
    cronjobs.on_change(move |change| match change {
        Change::Added(cj) | Change::Deleted(cj) => h.queue.add(key_of(cj.as_ref())),
        Change::Updated { old, new } => {
            let key = key_of(new.as_ref());
            let (o, n) = (old.spec.as_ref(), new.spec.as_ref());
            let changed = o.map(|s| (&s.schedule, &s.time_zone)) != n.map(|s| (&s.schedule, &s.time_zone));
            // A new schedule: wait for its next time (the sync would requeue the same way).
            let wait = changed
                .then(|| parse(new).ok())
                .flatten()
                .and_then(|sched| next_schedule_in(new, Timestamp::now(), &sched));
            match wait {
                Some(d) => h.queue.add_after(key, d),
                None => h.queue.add(key),
            }
        }
    });
    cronjobs.synced().await;
    jobs.synced().await;
    let workers = ctx.opts.concurrent_cron_job_syncs;
    run_workers("cronjob", c.queue.clone(), workers, move |key: String| {
        let c = c.clone();
        async move {
            if let Some(after) = c.sync(&key).await? {
                c.queue.add_after(key, after);
            }
            Ok(())
        }
    })
    .await;
    Ok(())
}

fn uid(meta: &ObjectMeta) -> &str {
    meta.uid.as_deref().unwrap_or_default()
}

fn active(cj: &CronJob) -> &[ObjectReference] {
    cj.status.as_ref().and_then(|s| s.active.as_deref()).unwrap_or_default()
}

fn in_active_list(cj: &CronJob, job_uid: &str) -> bool {
    active(cj).iter().any(|r| r.uid.as_deref() == Some(job_uid))
}

fn remove_from_active(cj: &mut CronJob, job_uid: &str) {
    let status = cj.status.get_or_insert_default();
    if let Some(list) = status.active.as_mut() {
        list.retain(|r| r.uid.as_deref() != Some(job_uid));
        if list.is_empty() {
            status.active = None;
        }
    }
}

fn job_ref(job: &Job) -> ObjectReference {
    ObjectReference {
        api_version: Some("batch/v1".into()),
        kind: Some("Job".into()),
        namespace: job.metadata.namespace.clone(),
        name: job.metadata.name.clone(),
        uid: job.metadata.uid.clone(),
        resource_version: job.metadata.resource_version.clone(),
        field_path: None,
    }
}

/// The schedule as written, or with the CronJob's timeZone; without either it is in the
/// controller manager's own zone, as upstream.
fn parse(cj: &CronJob) -> Result<Schedule, String> {
    let spec = cj.spec.clone().unwrap_or_default();
    let tz = match spec.time_zone.as_deref() {
        Some(name) if !spec.schedule.contains("TZ") => schedule::load_zone(name)?,
        _ => TimeZone::system(),
    };
    schedule::parse(&spec.schedule, tz)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Missed {
    None,
    Few,
    Many,
}

/// Upstream's mostRecentScheduleTime: where scheduling starts from (the last scheduled time,
/// else creation, or `now - startingDeadlineSeconds` if that is later when asked), the most
/// recent scheduled time not after `now` that has not run yet, and how many were missed.
fn most_recent_schedule(
    cj: &CronJob,
    now: Timestamp,
    sched: &Schedule,
    with_deadline: bool,
) -> Result<(Timestamp, Option<Timestamp>, Missed), String> {
    let created = cj.metadata.creation_timestamp.as_ref().map(|t| t.0).unwrap_or(now);
    let last = cj
        .status
        .as_ref()
        .and_then(|s| s.last_schedule_time.as_ref())
        .map(|t| t.0);
    let mut earliest = last.unwrap_or(created);
    let deadline = cj.spec.as_ref().and_then(|s| s.starting_deadline_seconds);
    if with_deadline && let Some(d) = deadline {
        earliest = earliest.max(now - SignedDuration::from_secs(d));
    }
    let too_close = || "time difference between two schedules is less than 1 second".to_string();
    let t1 = sched.next(earliest).ok_or_else(too_close)?;
    let t2 = sched.next(t1).ok_or_else(too_close)?;
    if now < t1 {
        return Ok((earliest, None, Missed::None));
    }
    if now < t2 {
        return Ok((earliest, Some(t1), Missed::None));
    }
    let between = t2.duration_since(t1).as_secs_f64().round() as i64;
    if between < 1 {
        return Err(too_close());
    }
    // Estimate the count from the interval, then walk the last few for the exact time.
    let missed = now.duration_since(t1).as_secs() / between + 1;
    let start = t1 + SignedDuration::from_secs((missed - 2) * between);
    let mut recent = None;
    let mut t = sched.next(start);
    while let Some(at) = t.filter(|at| *at <= now) {
        recent = Some(at);
        t = sched.next(at);
    }
    let kind = if missed > MANY_MISSED {
        Missed::Many
    } else {
        Missed::Few
    };
    Ok((earliest, recent, kind))
}

/// How long until just after the next scheduled time (upstream's nextScheduleTimeDuration).
fn next_schedule_in(cj: &CronJob, now: Timestamp, sched: &Schedule) -> Option<Duration> {
    let base = match most_recent_schedule(cj, now, sched, false) {
        Err(_) => now,
        Ok((_, Some(recent), _)) => recent,
        Ok((earliest, None, Missed::None)) => earliest,
        Ok((_, None, _)) => now,
    };
    let at = sched.next(base)? + NEXT_SCHEDULE_DELTA;
    Some(Duration::try_from(at.duration_since(now)).unwrap_or(Duration::ZERO))
}

/// `<cronjob>-<minutes since the epoch>`: one name per scheduled time.
pub fn job_name(cronjob: &str, scheduled: Timestamp) -> String {
    format!("{cronjob}-{}", scheduled.as_second().div_euclid(60))
}

/// RFC 3339 in `tz`, `Z` for UTC (Go's time.RFC3339).
fn rfc3339(t: Timestamp, tz: &TimeZone) -> String {
    let z = t.to_zoned(tz.clone());
    if z.offset().seconds() == 0 {
        return z.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    }
    z.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

/// The Job for one scheduled run.
fn job_from_template(cj: &CronJob, scheduled: Timestamp) -> Result<Job, String> {
    let spec = cj.spec.clone().unwrap_or_default();
    let template = spec.job_template;
    let tmeta = template.metadata.unwrap_or_default();
    let tz = schedule::load_zone(spec.time_zone.as_deref().unwrap_or(""))?;
    let mut annotations = tmeta.annotations.unwrap_or_default();
    annotations.insert(SCHEDULED_TIMESTAMP.into(), rfc3339(scheduled, &tz));
    let name = cj.metadata.name.clone().unwrap_or_default();
    Ok(Job {
        metadata: ObjectMeta {
            name: Some(job_name(&name, scheduled)),
            namespace: cj.metadata.namespace.clone(),
            labels: tmeta.labels,
            annotations: Some(annotations),
            owner_references: Some(vec![controller_ref("batch/v1", "CronJob", &cj.metadata)]),
            ..Default::default()
        },
        spec: template.spec,
        status: None,
    })
}

/// Oldest first: by start time (never started last), then name.
fn by_start_time(jobs: &mut [Arc<Job>]) {
    let start = |j: &Job| j.status.as_ref().and_then(|s| s.start_time.as_ref()).map(|t| t.0);
    jobs.sort_by(|a, b| match (start(a), start(b)) {
        (Some(x), Some(y)) if x != y => x.cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        _ => a.metadata.name.cmp(&b.metadata.name),
    });
}

fn message(e: &kube::Error) -> String {
    super::replicaset::message(e)
}

fn is_status(e: &kube::Error, code: u16) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == code)
}

impl Controller {
    fn job_api(&self, ns: &str) -> Api<Job> {
        Api::namespaced(self.ctx.client.clone(), ns)
    }

    /// Queues the CronJob controlling `job`, if it exists.
    fn enqueue_owner(&self, job: &Job) {
        let Some(r) = controller_of(&job.metadata).filter(|r| r.kind == "CronJob") else {
            return;
        };
        let ns = job.metadata.namespace.as_deref().unwrap_or_default();
        let key = format!("{ns}/{}", r.name);
        if self.cronjobs.get(&key).is_some_and(|cj| uid(&cj.metadata) == r.uid) {
            self.queue.add(key);
        }
    }

    /// The Jobs whose controller reference names this CronJob.
    fn children(&self, cj: &CronJob) -> Vec<Arc<Job>> {
        let ns = cj.metadata.namespace.as_deref().unwrap_or_default();
        let name = cj.metadata.name.as_deref().unwrap_or_default();
        self.jobs
            .list_namespace(ns)
            .into_iter()
            .filter(|j| controller_of(&j.metadata).is_some_and(|r| r.kind == "CronJob" && r.name == name))
            .collect()
    }

    /// Returns when to look at the CronJob again.
    async fn sync(&self, key: &str) -> anyhow::Result<Option<Duration>> {
        let Some(shared) = self.cronjobs.get(key) else {
            return Ok(None);
        };
        let children = self.children(&shared);
        let mut cj = (*shared).clone();
        let mut update = self.cleanup_finished(&mut cj, &children).await;
        let result = self.reconcile(&mut cj, &children, &mut update).await;
        if let Err(e) = &result {
            tracing::debug!(cronjob = key, error = %e, "error reconciling cronjob");
        }
        if update {
            let (ns, name) = split_key(key);
            let api: Api<CronJob> = Api::namespaced(self.ctx.client.clone(), ns.unwrap_or_default());
            super::ignore_not_found(api.replace_status(name, &PostParams::default(), &cj).await)?;
        }
        result
    }

    /// Upstream's syncCronJob: reconciles `status.active` with the Jobs, then starts the run
    /// that is due, if any. Sets `update` when the status changed.
    async fn reconcile(
        &self,
        cj: &mut CronJob,
        children: &[Arc<Job>],
        update: &mut bool,
    ) -> anyhow::Result<Option<Duration>> {
        let now = Timestamp::now();
        let ns = cj.metadata.namespace.clone().unwrap_or_default();
        let name = cj.metadata.name.clone().unwrap_or_default();
        let cronjobs: Api<CronJob> = Api::namespaced(self.ctx.client.clone(), &ns);
        for job in children {
            let job_uid = uid(&job.metadata);
            let found = in_active_list(cj, job_uid);
            let finished = finished_type(job);
            if !found && finished.is_none() {
                // Maybe our own status write is not in the cache yet: ask the server.
                let fresh = cronjobs.get(&name).await?;
                if in_active_list(&fresh, job_uid) {
                    *cj = fresh;
                    continue;
                }
                let msg = format!(
                    "Saw a job that the controller did not create or forgot: {}",
                    job.metadata.name.as_deref().unwrap_or_default()
                );
                self.ctx.recorder.event(cj, WARNING, "UnexpectedJob", &msg);
            } else if let (true, Some(condition)) = (found, finished) {
                remove_from_active(cj, job_uid);
                let msg = format!(
                    "Saw completed job: {}, condition: {condition}",
                    job.metadata.name.as_deref().unwrap_or_default()
                );
                self.ctx.recorder.event(cj, NORMAL, "SawCompletedJob", &msg);
                *update = true;
            } else if finished == Some("Complete") {
                // Counted even when no longer active: lastSuccessfulTime only moves forward.
                let done = job.status.as_ref().and_then(|s| s.completion_time.clone());
                let status = cj.status.get_or_insert_default();
                if status.last_successful_time.is_none() {
                    status.last_successful_time = done.clone();
                    *update = true;
                }
                if let (Some(t), Some(prev)) = (&done, &status.last_successful_time)
                    && t.0 > prev.0
                {
                    status.last_successful_time = done;
                    *update = true;
                }
            }
        }
        // Drop active entries whose Job is gone (checked with the server, not the cache).
        let jobs = self.job_api(&ns);
        for r in active(cj).to_vec() {
            let r_uid = r.uid.clone().unwrap_or_default();
            if children.iter().any(|j| uid(&j.metadata) == r_uid) {
                continue;
            }
            let job_name = r.name.clone().unwrap_or_default();
            match jobs.get(&job_name).await {
                Err(e) if is_status(&e, 404) => {
                    let msg = format!("Active job went missing: {job_name}");
                    self.ctx.recorder.event(cj, NORMAL, "MissingJob", &msg);
                    remove_from_active(cj, &r_uid);
                    *update = true;
                }
                Err(e) => return Err(e.into()),
                Ok(_) => {}
            }
        }
        if cj.metadata.deletion_timestamp.is_some() {
            return Ok(None);
        }
        let spec = cj.spec.clone().unwrap_or_default();
        if let Some(tz) = spec.time_zone.as_deref()
            && let Err(e) = schedule::load_zone(tz)
        {
            let msg = format!("invalid timeZone: {tz:?}: {e}");
            self.ctx.recorder.event(cj, WARNING, "UnknownTimeZone", &msg);
            return Ok(None);
        }
        if spec.suspend == Some(true) {
            return Ok(None);
        }
        if spec.schedule.contains("TZ") {
            let msg = format!(
                "CRON_TZ or TZ used in schedule {:?} is not officially supported, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details",
                spec.schedule
            );
            self.ctx.recorder.event(cj, WARNING, "UnsupportedSchedule", &msg);
        }
        let sched = match parse(cj) {
            Ok(s) => s,
            Err(e) => {
                let msg = format!("unparseable schedule: {:?} : {e}", spec.schedule);
                self.ctx.recorder.event(cj, WARNING, "UnparseableSchedule", &msg);
                return Ok(None);
            }
        };
        let scheduled = match most_recent_schedule(cj, now, &sched, true) {
            Err(e) => {
                let msg = format!("invalid schedule: {} : {e}", spec.schedule);
                self.ctx.recorder.event(cj, WARNING, "InvalidSchedule", &msg);
                return Ok(None);
            }
            Ok((_, recent, missed)) => {
                if recent.is_some() && missed == Missed::Many {
                    let msg = "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew";
                    self.ctx.recorder.event(cj, WARNING, "TooManyMissedTimes", msg);
                }
                recent
            }
        };
        let Some(scheduled) = scheduled else {
            return Ok(next_schedule_in(cj, now, &sched));
        };
        let too_late = spec
            .starting_deadline_seconds
            .is_some_and(|d| scheduled + SignedDuration::from_secs(d) < now);
        if too_late {
            let at = scheduled
                .to_zoned(TimeZone::UTC)
                .strftime("%a, %d %b %Y %H:%M:%S %z")
                .to_string();
            let msg = format!("Missed scheduled time to start a job: {at}");
            self.ctx.recorder.event(cj, WARNING, "MissSchedule", &msg);
            return Ok(next_schedule_in(cj, now, &sched));
        }
        let wanted = job_name(&name, scheduled);
        let last = cj
            .status
            .as_ref()
            .and_then(|s| s.last_schedule_time.as_ref())
            .map(|t| t.0);
        let processed = active(cj).iter().any(|r| r.name.as_deref() == Some(&wanted)) || last == Some(scheduled);
        if processed {
            return Ok(next_schedule_in(cj, now, &sched));
        }
        let policy = spec.concurrency_policy.as_deref().unwrap_or("Allow");
        if policy == "Forbid" && !active(cj).is_empty() {
            let msg = "Not starting job because prior execution is running and concurrency policy is Forbid";
            self.ctx.recorder.event(cj, NORMAL, "JobAlreadyActive", msg);
            return Ok(next_schedule_in(cj, now, &sched));
        }
        if policy == "Replace" {
            for r in active(cj).to_vec() {
                let job_name = r.name.clone().unwrap_or_default();
                let job = match jobs.get(&job_name).await {
                    Ok(j) => j,
                    Err(e) => {
                        let msg = format!("Get job: {}", message(&e));
                        self.ctx.recorder.event(cj, WARNING, "FailedGet", &msg);
                        return Err(e.into());
                    }
                };
                if !self.delete_job(cj, &job).await {
                    anyhow::bail!("could not replace job {ns}/{job_name}");
                }
                *update = true;
            }
        }
        let request = job_from_template(cj, scheduled).map_err(anyhow::Error::msg)?;
        let created = match jobs.create(&PostParams::default(), &request).await {
            Ok(job) => {
                let msg = format!("Created job {}", job.metadata.name.as_deref().unwrap_or_default());
                self.ctx.recorder.event(cj, NORMAL, "SuccessfulCreate", &msg);
                job
            }
            Err(e) if is_status(&e, 409) => {
                // Created before, but maybe never recorded in status.
                let job = jobs.get(&wanted).await?;
                let ours = controller_of(&job.metadata).is_some_and(|r| r.uid == uid(&cj.metadata));
                if !ours || in_active_list(cj, uid(&job.metadata)) {
                    return Ok(None);
                }
                job
            }
            Err(e) => {
                let msg = format!("Error creating job: {}", message(&e));
                self.ctx.recorder.event(cj, WARNING, "FailedCreate", &msg);
                return Err(e.into());
            }
        };
        let status = cj.status.get_or_insert_default();
        status.active.get_or_insert_default().push(job_ref(&created));
        status.last_schedule_time = Some(Time(scheduled));
        *update = true;
        Ok(next_schedule_in(cj, now, &sched))
    }

    /// Deletes finished Jobs beyond the history limits, oldest first.
    async fn cleanup_finished(&self, cj: &mut CronJob, children: &[Arc<Job>]) -> bool {
        let spec = cj.spec.clone().unwrap_or_default();
        let (ok_limit, failed_limit) = (spec.successful_jobs_history_limit, spec.failed_jobs_history_limit);
        if ok_limit.is_none() && failed_limit.is_none() {
            return false;
        }
        let of = |t: &str| -> Vec<Arc<Job>> {
            children
                .iter()
                .filter(|j| finished_type(j) == Some(t))
                .cloned()
                .collect()
        };
        let mut changed = false;
        for (mut jobs, limit) in [(of("Complete"), ok_limit), (of("Failed"), failed_limit)] {
            let Some(limit) = limit else { continue };
            let excess = jobs.len().saturating_sub(limit.max(0) as usize);
            if excess == 0 {
                continue;
            }
            by_start_time(&mut jobs);
            for job in jobs.iter().take(excess) {
                changed |= self.delete_job(cj, job).await;
            }
        }
        changed
    }

    /// Deletes a Job (its pods follow by background garbage collection) and forgets it.
    async fn delete_job(&self, cj: &mut CronJob, job: &Job) -> bool {
        let ns = job.metadata.namespace.as_deref().unwrap_or_default();
        let name = job.metadata.name.as_deref().unwrap_or_default();
        let params = DeleteParams {
            propagation_policy: Some(PropagationPolicy::Background),
            ..Default::default()
        };
        if let Err(e) = self.job_api(ns).delete(name, &params).await {
            let msg = format!("Deleted job: {}", message(&e));
            self.ctx.recorder.event(cj, WARNING, "FailedDelete", &msg);
            return false;
        }
        remove_from_active(cj, uid(&job.metadata));
        self.ctx
            .recorder
            .event(cj, NORMAL, "SuccessfulDelete", &format!("Deleted job {name}"));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cronjob(schedule: &str, created: &str, last: Option<&str>, deadline: Option<i64>) -> CronJob {
        serde_json::from_value(json!({
            "metadata": {"name": "cj", "namespace": "ns", "uid": "u", "creationTimestamp": created},
            "spec": {"schedule": schedule, "startingDeadlineSeconds": deadline,
                     "jobTemplate": {"metadata": {"labels": {"a": "b"}}, "spec": {"template": {}}}},
            "status": {"lastScheduleTime": last},
        }))
        .unwrap()
    }

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn utc(spec: &str) -> Schedule {
        schedule::parse(spec, TimeZone::UTC).unwrap()
    }

    #[test]
    fn nothing_due_before_the_first_scheduled_time() {
        let cj = cronjob("* * * * *", "2026-03-01T10:00:30Z", None, None);
        let now = at("2026-03-01T10:00:40Z");
        let (_, recent, missed) = most_recent_schedule(&cj, now, &utc("* * * * *"), true).unwrap();
        assert_eq!((recent, missed), (None, Missed::None));
        assert_eq!(
            next_schedule_in(&cj, now, &utc("* * * * *")),
            Some(Duration::from_millis(20_100))
        );
    }

    #[test]
    fn the_latest_missed_time_runs_once() {
        let cj = cronjob(
            "*/5 * * * *",
            "2026-03-01T09:00:00Z",
            Some("2026-03-01T10:00:00Z"),
            None,
        );
        let now = at("2026-03-01T10:17:00Z");
        let (_, recent, missed) = most_recent_schedule(&cj, now, &utc("*/5 * * * *"), true).unwrap();
        assert_eq!(recent, Some(at("2026-03-01T10:15:00Z")));
        assert_eq!(missed, Missed::Few);
        let due = cronjob(
            "*/5 * * * *",
            "2026-03-01T09:00:00Z",
            Some("2026-03-01T10:10:00Z"),
            None,
        );
        let (_, recent, missed) = most_recent_schedule(&due, now, &utc("*/5 * * * *"), true).unwrap();
        assert_eq!((recent, missed), (Some(at("2026-03-01T10:15:00Z")), Missed::None));
    }

    #[test]
    fn many_missed_times_are_reported_and_the_deadline_bounds_the_search() {
        let cj = cronjob("* * * * *", "2026-03-01T00:00:00Z", None, None);
        let now = at("2026-03-01T10:00:30Z");
        let (_, recent, missed) = most_recent_schedule(&cj, now, &utc("* * * * *"), true).unwrap();
        assert_eq!((recent, missed), (Some(at("2026-03-01T10:00:00Z")), Missed::Many));
        let bounded = cronjob("* * * * *", "2026-03-01T00:00:00Z", None, Some(200));
        let (_, recent, missed) = most_recent_schedule(&bounded, now, &utc("* * * * *"), true).unwrap();
        assert_eq!((recent, missed), (Some(at("2026-03-01T10:00:00Z")), Missed::Few));
    }

    #[test]
    fn impossible_schedules_are_errors() {
        let cj = cronjob("0 0 30 2 *", "2026-03-01T00:00:00Z", None, None);
        assert!(most_recent_schedule(&cj, at("2026-03-02T00:00:00Z"), &utc("0 0 30 2 *"), true).is_err());
    }

    #[test]
    fn jobs_are_named_by_scheduled_minute_and_annotated() {
        let cj = cronjob("* * * * *", "2026-03-01T00:00:00Z", None, None);
        let t = at("2026-03-01T10:01:00Z");
        let job = job_from_template(&cj, t).unwrap();
        let name = job.metadata.name.clone().unwrap();
        assert_eq!(name, format!("cj-{}", t.as_second() / 60));
        let annotations = job.metadata.annotations.unwrap();
        assert_eq!(annotations[SCHEDULED_TIMESTAMP], "2026-03-01T10:01:00Z");
        assert_eq!(job.metadata.labels.unwrap()["a"], "b");
        let owner = &job.metadata.owner_references.unwrap()[0];
        assert_eq!((owner.kind.as_str(), owner.controller), ("CronJob", Some(true)));
        let tokyo = rfc3339(t, &schedule::load_zone("Asia/Tokyo").unwrap());
        assert_eq!(tokyo, "2026-03-01T19:01:00+09:00");
    }
}
