//! job: runs each Job's pods to completion. It keeps up to `parallelism` pods active until
//! `completions` succeeded (NonIndexed: any pods; Indexed: one per index, with the index in an
//! annotation, a label, `JOB_COMPLETION_INDEX` and the hostname), replaces failed pods after an
//! exponential backoff, and fails the Job on backoffLimit, activeDeadlineSeconds or a
//! podFailurePolicy FailJob rule (Indexed Jobs with backoffLimitPerIndex: on failed indexes,
//! see `per_index`). Every pod it creates carries the `batch.kubernetes.io/job-tracking`
//! finalizer: a finished pod is first recorded in `status.uncountedTerminatedPods`, then its
//! finalizer removed, then moved to the succeeded/failed counters, so no pod is ever counted twice
//! or lost, even if it is deleted right after finishing. The terminal Complete/Failed condition
//! follows the interim SuccessCriteriaMet/FailureTarget once no pod is left terminating.

mod backoff;
mod indexed;
mod per_index;
mod policy;
mod status;

use super::Ctx;
use super::replicaset::{message, slow_start};
use crate::events::{NORMAL, WARNING};
use crate::expectations::Expectations;
use crate::informer::{Change, Informer, key_of, split_key};
use crate::owners::{Owner, claim};
use crate::pods::{self, controller_of};
use crate::queue::{Queue, run_workers};
use anyhow::Context as _;
use futures::future::join_all;
use indexed::{COMPLETION_INDEX, COMPLETION_INDEX_ENV, Intervals};
use jiff::Timestamp;
use k8s_openapi::api::batch::v1::{Job, JobCondition, JobSpec};
use k8s_openapi::api::core::v1::{EnvVar, EnvVarSource, ObjectFieldSelector, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::json;
use status::{
    clean_uncounted, ensure_condition, failed_from_target, match_success_policy, new_condition, nonzero,
    past_backoff_limit_on_failure, remaining, uncounted_len, want_active,
};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const TRACKING_FINALIZER: &str = "batch.kubernetes.io/job-tracking";
/// The `spec.managedBy` value that means this controller.
const MANAGED_BY: &str = "kubernetes.io/job-controller";
/// Pod events and status-only Job updates are batched: the Job syncs once a second at most
/// for them, which also gives the Job cache time to see this controller's own status writes.
const BATCH_PERIOD: Duration = Duration::from_secs(1);
/// Upstream's caps: uncounted UIDs in status (keeps it under ~20 KB) and pod creations or
/// deletions per sync.
const MAX_UNCOUNTED: usize = 500;
const MAX_PER_SYNC: usize = 500;
const DEFAULT_BACKOFF_LIMIT: i32 = 6;

/// Pod UIDs whose finalizer removal is in flight, per Job: until the informer shows it gone,
/// such a pod must not be counted again.
#[derive(Default)]
struct FinalizerExpectations {
    pending: Mutex<HashMap<String, HashSet<String>>>,
}

impl FinalizerExpectations {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, HashSet<String>>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }
    fn expect(&self, job: &str, uids: impl IntoIterator<Item = String>) {
        self.lock().entry(job.to_string()).or_default().extend(uids);
    }
    fn observed(&self, job: &str, uid: &str) {
        let mut m = self.lock();
        if let Some(set) = m.get_mut(job) {
            set.remove(uid);
            if set.is_empty() {
                m.remove(job);
            }
        }
    }
    fn get(&self, job: &str) -> HashSet<String> {
        self.lock().get(job).cloned().unwrap_or_default()
    }
    fn forget(&self, job: &str) {
        self.lock().remove(job);
    }
}

struct Controller {
    ctx: Ctx,
    jobs: Informer<Job>,
    pods: Informer<Pod>,
    expectations: Expectations,
    finalizers: FinalizerExpectations,
    backoff: backoff::Store,
    queue: Arc<Queue<String>>,
    /// Pods that may hold the tracking finalizer of a Job that no longer needs it.
    orphans: Arc<Queue<String>>,
}

pub async fn run(ctx: Ctx) -> anyhow::Result<()> {
    let jobs = ctx.informers.get::<Job>();
    let pods = ctx.informers.get::<Pod>();
    let c = Arc::new(Controller {
        ctx: ctx.clone(),
        jobs: jobs.clone(),
        pods: pods.clone(),
        expectations: Expectations::default(),
        finalizers: FinalizerExpectations::default(),
        backoff: backoff::Store::default(),
        queue: Queue::new(),
        orphans: Queue::new(),
    });
    let h = c.clone();
    jobs.on_change(move |change| h.on_job(change));
    let h = c.clone();
    pods.on_change(move |change| h.on_pod(change));
    jobs.synced().await;
    pods.synced().await;
    let workers = ctx.opts.concurrent_job_syncs;
    let (c1, c2) = (c.clone(), c.clone());
    let jobs_loop = run_workers("job", c.queue.clone(), workers, move |key: String| {
        let c = c1.clone();
        async move { c.sync(&key).await }
    });
    let orphans_loop = run_workers("job_orphan_pod", c.orphans.clone(), 1, move |key: String| {
        let c = c2.clone();
        async move { c.sync_orphan(&key).await }
    });
    tokio::join!(jobs_loop, orphans_loop);
    Ok(())
}

fn uid(p: &Pod) -> String {
    p.metadata.uid.clone().unwrap_or_default()
}

fn phase(p: &Pod) -> &str {
    p.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or("")
}

pub fn has_tracking_finalizer(p: &Pod) -> bool {
    p.metadata
        .finalizers
        .as_ref()
        .is_some_and(|f| f.iter().any(|x| x == TRACKING_FINALIZER))
}

fn spec(job: &Job) -> &JobSpec {
    static EMPTY: std::sync::OnceLock<JobSpec> = std::sync::OnceLock::new();
    job.spec.as_ref().unwrap_or_else(|| EMPTY.get_or_init(JobSpec::default))
}

fn is_indexed(job: &Job) -> bool {
    spec(job).completion_mode.as_deref() == Some("Indexed")
}

/// Completions as a count of indexes (an Indexed Job always has completions).
fn completions_len(job: &Job) -> usize {
    spec(job).completions.unwrap_or(0).max(0) as usize
}

fn suspended(job: &Job) -> bool {
    spec(job).suspend == Some(true)
}

fn managed_externally(job: &Job) -> bool {
    spec(job).managed_by.as_deref().is_some_and(|m| m != MANAGED_BY)
}

fn condition<'a>(job: &'a Job, type_: &str) -> Option<&'a JobCondition> {
    job.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_)
}

/// Complete or Failed: nothing more to do for it.
pub fn is_finished(job: &Job) -> bool {
    finished_type(job).is_some()
}

/// "Complete" or "Failed" when the Job has that condition True.
pub fn finished_type(job: &Job) -> Option<&str> {
    let conditions = job.status.as_ref()?.conditions.as_ref()?;
    conditions
        .iter()
        .find(|c| (c.type_ == "Complete" || c.type_ == "Failed") && c.status == "True")
        .map(|c| c.type_.as_str())
}

/// Only failed pods are replaced (not merely terminating ones): podReplacementPolicy Failed,
/// or a podFailurePolicy, which needs the final phase to judge.
fn only_replace_failed(job: &Job) -> bool {
    spec(job).pod_replacement_policy.as_deref() == Some("Failed") || spec(job).pod_failure_policy.is_some()
}

/// Failed, or (unless only failed pods count) deleted before succeeding.
fn is_pod_failed(p: &Pod, job: &Job) -> bool {
    if phase(p) == "Failed" {
        return true;
    }
    if only_replace_failed(job) {
        return false;
    }
    p.metadata.deletion_timestamp.is_some() && phase(p) != "Succeeded"
}

fn is_terminating(p: &Pod) -> bool {
    p.metadata.deletion_timestamp.is_some() && !matches!(phase(p), "Succeeded" | "Failed")
}

/// One sync's view of a Job and its pods (upstream's syncJobCtx).
struct State {
    key: String,
    job: Job,
    pods: Vec<Arc<Pod>>,
    active_pods: Vec<Arc<Pod>>,
    finished: Option<JobCondition>,
    succeeded: i32,
    prev_succeeded_indexes: Intervals,
    succeeded_indexes: Intervals,
    /// With backoffLimitPerIndex: the indexes that failed for good.
    failed_indexes: Option<Intervals>,
    backoff: backoff::Record,
    expected_rm: HashSet<String>,
    uncounted_succeeded: HashSet<String>,
    uncounted_failed: HashSet<String>,
    terminating: i32,
    ready: i32,
}

impl Controller {
    fn job_api(&self, ns: &str) -> Api<Job> {
        Api::namespaced(self.ctx.client.clone(), ns)
    }

    fn pod_api(&self, ns: &str) -> Api<Pod> {
        Api::namespaced(self.ctx.client.clone(), ns)
    }

    /// The Job a controller reference points to, if it still exists with that uid.
    fn resolve(&self, ns: &str, pod: &Pod) -> Option<Arc<Job>> {
        let r = controller_of(&pod.metadata).filter(|r| r.kind == "Job")?;
        self.jobs
            .get(&format!("{ns}/{}", r.name))
            .filter(|j| j.metadata.uid.as_deref() == Some(&r.uid))
    }

    /// Jobs whose selector matches an orphan pod: they might adopt it.
    fn selecting(&self, pod: &Pod) -> Vec<String> {
        let ns = pod.metadata.namespace.as_deref().unwrap_or_default();
        self.jobs
            .list_namespace(ns)
            .iter()
            .filter(|j| {
                pods::selector(spec(j).selector.as_ref())
                    .is_some_and(|s| !s.is_empty() && pods::matches(&s, pod.metadata.labels.as_ref()))
            })
            .map(|j| key_of(j.as_ref()))
            .collect()
    }

    fn enqueue_batched(&self, key: String) {
        self.queue.add_after(key, BATCH_PERIOD);
    }

    fn on_job(&self, change: &Change<'_, Job>) {
        match change {
            Change::Added(job) => self.queue.add(key_of(job.as_ref())),
            Change::Updated { old, new } => {
                let key = key_of(new.as_ref());
                if old.metadata.generation == new.metadata.generation {
                    self.enqueue_batched(key.clone());
                } else {
                    self.queue.add(key.clone());
                }
                // A backup: a finished Job's pods should already have lost the finalizer.
                if is_finished(new) {
                    self.cleanup_pod_finalizers(new);
                }
                let start = new.status.as_ref().and_then(|s| s.start_time.as_ref());
                let (was, is) = (spec(old).active_deadline_seconds, spec(new).active_deadline_seconds);
                if let (Some(start), Some(deadline)) = (start, is)
                    && was != is
                {
                    let left = remaining(start.0, deadline, Timestamp::now());
                    self.queue.add_after(key, left);
                }
            }
            Change::Deleted(job) => {
                self.queue.add(key_of(job.as_ref()));
                self.cleanup_pod_finalizers(job);
            }
        }
    }

    /// Queues the Job's pods that still hold its finalizer for the orphan worker.
    fn cleanup_pod_finalizers(&self, job: &Job) {
        let ns = job.metadata.namespace.as_deref().unwrap_or_default();
        let Some(sel) = pods::selector(spec(job).selector.as_ref()) else {
            return;
        };
        let uid = job.metadata.uid.as_deref().unwrap_or_default();
        for p in self.pods.list_namespace(ns) {
            let owned = controller_of(&p.metadata).is_some_and(|r| r.uid == uid);
            if owned && has_tracking_finalizer(&p) && pods::matches(&sel, p.metadata.labels.as_ref()) {
                self.orphans.add(key_of(p.as_ref()));
            }
        }
    }

    fn on_pod(&self, change: &Change<'_, Pod>) {
        match change {
            Change::Added(pod) => {
                if pod.metadata.deletion_timestamp.is_some() {
                    // Seen for the first time already being deleted: not a creation.
                    return self.pod_deleted(pod, false);
                }
                let ns = pod.metadata.namespace.as_deref().unwrap_or_default();
                if controller_of(&pod.metadata).is_some() {
                    if let Some(job) = self.resolve(ns, pod) {
                        let key = key_of(job.as_ref());
                        self.expectations.creation_observed(&key);
                        self.enqueue_batched(key);
                    }
                    return;
                }
                if has_tracking_finalizer(pod) {
                    self.orphans.add(key_of(pod.as_ref()));
                }
                self.selecting(pod).into_iter().for_each(|k| self.enqueue_batched(k));
            }
            Change::Updated { old, new } => {
                if old.metadata.resource_version == new.metadata.resource_version {
                    return;
                }
                if new.metadata.deletion_timestamp.is_some() {
                    return self.pod_deleted(new, false);
                }
                let ns = new.metadata.namespace.as_deref().unwrap_or_default();
                let finalizer_removed = !has_tracking_finalizer(new);
                let (was, is) = (controller_of(&old.metadata), controller_of(&new.metadata));
                let ref_changed = was != is;
                let observe = |job: &Job| {
                    let key = key_of(job);
                    if finalizer_removed {
                        self.finalizers.observed(&key, &uid(new));
                    }
                    self.enqueue_batched(key);
                };
                if ref_changed
                    && was.is_some()
                    && let Some(job) = self.resolve(ns, old)
                {
                    observe(&job);
                }
                if is.is_some() {
                    if let Some(job) = self.resolve(ns, new) {
                        observe(&job);
                    } else if has_tracking_finalizer(new) {
                        self.orphans.add(key_of(new.as_ref()));
                    }
                    return;
                }
                if has_tracking_finalizer(new) {
                    self.orphans.add(key_of(new.as_ref()));
                }
                if ref_changed || old.metadata.labels != new.metadata.labels {
                    self.selecting(new).into_iter().for_each(|k| self.enqueue_batched(k));
                }
            }
            Change::Deleted(pod) => self.pod_deleted(pod, true),
        }
    }

    /// A pod being deleted (`gone`: removed from the API, not just marked).
    fn pod_deleted(&self, pod: &Pod, gone: bool) {
        let has_finalizer = has_tracking_finalizer(pod);
        let ns = pod.metadata.namespace.as_deref().unwrap_or_default();
        let job = self.resolve(ns, pod).filter(|j| !is_finished(j));
        let Some(job) = job else {
            // No Job will sync this pod: its finalizer is the orphan worker's to remove.
            if has_finalizer {
                self.orphans.add(key_of(pod));
            }
            return;
        };
        let key = key_of(job.as_ref());
        self.expectations.deletion_observed(&key, &key_of(pod));
        if gone || !has_finalizer {
            self.finalizers.observed(&key, &uid(pod));
        }
        self.enqueue_batched(key);
    }

    /// Removes the tracking finalizer from a pod no unfinished Job of ours controls.
    async fn sync_orphan(&self, key: &str) -> anyhow::Result<()> {
        let Some(pod) = self.pods.get(key) else {
            return Ok(());
        };
        if let Some(r) = controller_of(&pod.metadata) {
            if r.kind != "Job" || r.api_version != "batch/v1" {
                return Ok(());
            }
            let ns = split_key(key).0.unwrap_or_default();
            if let Some(job) = self.resolve(ns, &pod)
                && (managed_externally(&job) || !is_finished(&job))
            {
                return Ok(());
            }
        }
        if !has_tracking_finalizer(&pod) {
            return Ok(());
        }
        let (ns, name) = split_key(key);
        let api = self.pod_api(ns.unwrap_or_default());
        super::ignore_not_found(
            api.patch(name, &PatchParams::default(), &remove_finalizer_patch())
                .await,
        )?;
        Ok(())
    }

    /// The Job's pods, after adopting matching orphans (adding the tracking finalizer) and
    /// releasing owned pods its selector no longer matches.
    async fn pods_for_job(&self, job: &Job) -> anyhow::Result<Vec<Arc<Pod>>> {
        let ns = job.metadata.namespace.as_deref().unwrap_or_default();
        let selector = pods::selector(spec(job).selector.as_ref()).context("couldn't convert Job selector")?;
        let candidates = self.pods.list_namespace(ns);
        let uid = job.metadata.uid.as_deref().unwrap_or_default();
        let owned_before: HashSet<String> = candidates
            .iter()
            .filter(|p| controller_of(&p.metadata).is_some_and(|r| r.uid == uid))
            .map(|p| self::uid(p))
            .collect();
        let owner = Owner {
            meta: &job.metadata,
            reference: pods::controller_ref("batch/v1", "Job", &job.metadata),
            selector: &selector,
        };
        let api = self.pod_api(ns);
        let mut claimed = claim(&api, &owner, candidates).await?;
        for p in claimed.iter_mut() {
            if owned_before.contains(&self::uid(p)) || has_tracking_finalizer(p) {
                continue;
            }
            let name = p.metadata.name.clone().unwrap_or_default();
            let add = json!({"metadata": {"finalizers": [TRACKING_FINALIZER]}});
            super::ignore_not_found(api.patch(&name, &PatchParams::default(), &Patch::Strategic(&add)).await)?;
            let mut adopted = (**p).clone();
            adopted
                .metadata
                .finalizers
                .get_or_insert_default()
                .push(TRACKING_FINALIZER.into());
            *p = Arc::new(adopted);
        }
        Ok(claimed)
    }

    async fn sync(&self, key: &str) -> anyhow::Result<()> {
        let Some(shared) = self.jobs.get(key) else {
            self.expectations.forget(key);
            self.finalizers.forget(key);
            self.backoff.remove(key);
            return Ok(());
        };
        if managed_externally(&shared) {
            return Ok(());
        }
        if is_finished(&shared) {
            self.backoff.remove(key);
            return Ok(());
        }
        let mode = spec(&shared).completion_mode.as_deref().unwrap_or("NonIndexed");
        if mode != "NonIndexed" && mode != "Indexed" {
            let msg = "Skipped Job sync because completion mode is unknown";
            self.ctx
                .recorder
                .event(shared.as_ref(), WARNING, "UnknownCompletionMode", msg);
            return Ok(());
        }
        let now = Timestamp::now();
        let mut job = (*shared).clone();
        let status = job.status.get_or_insert_default();
        status.uncounted_terminated_pods.get_or_insert_default();
        let uncounted = status.uncounted_terminated_pods.clone().unwrap_or_default();
        // Expectations are read before the pods: a pod arriving in between only defers the
        // sync, never makes it act on a stale count.
        let satisfied = self.expectations.satisfied(key);
        let pods = self.pods_for_job(&job).await?;
        let active_pods: Vec<Arc<Pod>> = pods.iter().filter(|p| pods::is_active(p)).cloned().collect();
        let mut s = State {
            key: key.to_string(),
            ready: active_pods.iter().filter(|p| pods::is_ready(p)).count() as i32,
            terminating: pods.iter().filter(|p| is_terminating(p)).count() as i32,
            active_pods,
            finished: None,
            succeeded: 0,
            prev_succeeded_indexes: Intervals::default(),
            succeeded_indexes: Intervals::default(),
            failed_indexes: None,
            backoff: backoff::Record::default(),
            expected_rm: self.finalizers.get(key),
            uncounted_succeeded: uncounted.succeeded.unwrap_or_default().into_iter().collect(),
            uncounted_failed: uncounted.failed.unwrap_or_default().into_iter().collect(),
            pods,
            job,
        };
        let mut active = s.active_pods.len() as i32;
        let (new_succeeded, new_failed) = s.new_finished_pods();
        let policy = spec(&s.job).pod_failure_policy.clone();
        let counted_failures = new_failed
            .iter()
            .filter(|p| policy::evaluate(policy.as_ref(), p).counts)
            .count() as i32;
        let status = s.job.status.clone().unwrap_or_default();
        s.succeeded = status.succeeded.unwrap_or(0) + new_succeeded.len() as i32 + s.uncounted_succeeded.len() as i32;
        let failed = status.failed.unwrap_or(0) + counted_failures + s.uncounted_failed.len() as i32;
        if status.start_time.is_none() && !suspended(&s.job) {
            s.job.status.get_or_insert_default().start_time = Some(Time(now));
        }
        let succeeded_refs: Vec<&Pod> = new_succeeded.iter().map(|p| p.as_ref()).collect();
        let failed_refs: Vec<&Pod> = new_failed.iter().map(|p| p.as_ref()).collect();
        s.backoff = self.backoff.get(key).next(&succeeded_refs, &failed_refs);
        if is_indexed(&s.job)
            && let Some(limit) = per_index::limit(&s.job)
        {
            s.failed_indexes = Some(per_index::failed_indexes(
                &s.job,
                &new_failed,
                completions_len(&s.job),
                limit,
            ));
        }

        s.finished = condition(&s.job, "SuccessCriteriaMet")
            .filter(|c| c.status == "True")
            .cloned();
        if s.finished.is_none() {
            if let Some(target) = condition(&s.job, "FailureTarget").filter(|c| c.status == "True") {
                s.finished = Some(failed_from_target(target, now));
            } else if let Some(msg) = fail_job_message(&s.job, &s.pods) {
                s.finished = Some(new_condition("FailureTarget", "True", "PodFailurePolicy", &msg, now));
            }
        }
        if s.finished.is_none() {
            let limit = spec(&s.job).backoff_limit.unwrap_or(DEFAULT_BACKOFF_LIMIT);
            let deadline = spec(&s.job).active_deadline_seconds;
            let started = s.job.status.as_ref().and_then(|st| st.start_time.as_ref()).map(|t| t.0);
            if failed > limit || past_backoff_limit_on_failure(&s.job, &s.pods) {
                let msg = "Job has reached the specified backoff limit";
                s.finished = Some(new_condition("FailureTarget", "True", "BackoffLimitExceeded", msg, now));
            } else if let (Some(d), Some(start), false) = (deadline, started, suspended(&s.job)) {
                let left = remaining(start, d, now);
                if left.is_zero() {
                    let msg = "Job was active longer than specified deadline";
                    s.finished = Some(new_condition("FailureTarget", "True", "DeadlineExceeded", msg, now));
                } else {
                    self.queue.add_after(key.to_string(), left);
                }
            }
        }
        if is_indexed(&s.job) {
            s.calculate_succeeded_indexes();
            s.succeeded = s.succeeded_indexes.total() as i32;
            if s.finished.is_none()
                && let Some(failed) = &s.failed_indexes
            {
                let total = failed.total();
                let max = spec(&s.job).max_failed_indexes;
                if max.is_some_and(|m| total > m.max(0) as usize) {
                    let msg = "Job has exceeded the specified maximal number of failed indexes";
                    s.finished = Some(new_condition(
                        "FailureTarget",
                        "True",
                        "MaxFailedIndexesExceeded",
                        msg,
                        now,
                    ));
                } else if total > 0 && total + s.succeeded_indexes.total() >= completions_len(&s.job) {
                    let msg = "Job has failed indexes";
                    s.finished = Some(new_condition("FailureTarget", "True", "FailedIndexes", msg, now));
                }
            }
            if s.finished.is_none()
                && let Some(msg) = match_success_policy(&s.job, &s.succeeded_indexes)
            {
                s.finished = Some(new_condition("SuccessCriteriaMet", "True", "SuccessPolicy", &msg, now));
            }
        }

        let mut suspend_changed = false;
        let mut manage_error = None;
        if s.finished.is_some() {
            let (ready, deleted, err) = self.delete_active_pods(&s.job, &s.active_pods).await;
            if deleted != active || !satisfied {
                // Pods not yet deleted or not yet in the cache: not finished yet.
                s.finished = None;
            }
            active -= deleted;
            s.terminating += deleted;
            s.ready -= ready;
            manage_error = err;
        } else {
            let mut managed = false;
            if satisfied && s.job.metadata.deletion_timestamp.is_none() {
                let (now_active, err) = self.manage(&mut s).await;
                active = now_active;
                manage_error = err;
                managed = true;
            }
            let complete = match spec(&s.job).completions {
                None => s.succeeded > 0 && active == 0,
                Some(c) => s.succeeded >= c && active == 0,
            };
            if complete {
                let msg = "Reached expected number of succeeded pods";
                s.finished = Some(new_condition(
                    "SuccessCriteriaMet",
                    "True",
                    "CompletionsReached",
                    msg,
                    now,
                ));
            } else if managed {
                let is_suspended = suspended(&s.job);
                let conditions = s.job.status.get_or_insert_default().conditions.get_or_insert_default();
                if is_suspended {
                    if ensure_condition(conditions, "Suspended", "True", "JobSuspended", "Job suspended", now) {
                        suspend_changed = true;
                        self.ctx.recorder.event(&s.job, NORMAL, "Suspended", "Job suspended");
                    }
                } else if ensure_condition(conditions, "Suspended", "False", "JobResumed", "Job resumed", now) {
                    suspend_changed = true;
                    self.ctx.recorder.event(&s.job, NORMAL, "Resumed", "Job resumed");
                    // activeDeadlineSeconds counts continuous activity: resuming restarts it.
                    s.job.status.get_or_insert_default().start_time = Some(Time(now));
                }
            }
        }
        let st = s.job.status.get_or_insert_default();
        let needs_update = suspend_changed
            || active != st.active.unwrap_or(0)
            || Some(s.ready) != st.ready
            || Some(s.terminating) != st.terminating;
        st.active = nonzero(active);
        st.ready = Some(s.ready);
        st.terminating = Some(s.terminating);
        self.track_status_and_remove_finalizers(&mut s, needs_update)
            .await
            .context("tracking status")?;
        manage_error.map_or(Ok(()), |e| Err(e.into()))
    }

    /// Creates or deletes pods so that the wanted number is active; returns the new active
    /// count and the first API error.
    async fn manage(&self, s: &mut State) -> (i32, Option<kube::Error>) {
        let job = s.job.clone();
        let active = s.active_pods.len() as i32;
        if suspended(&job) {
            let victims = for_removal(&job, &s.active_pods, s.active_pods.len());
            let (ready, removed, err) = self.delete_job_pods(&job, &s.key, victims).await;
            s.terminating += removed;
            s.ready -= ready;
            return (active - removed, err);
        }
        let want = want_active(&job, active, s.succeeded);
        let rm_at_least = (active - want).max(0) as usize;
        let mut victims = for_removal(&job, &s.active_pods, rm_at_least);
        if let Some(failed) = &s.failed_indexes {
            // Pods of an index that failed for good are not wanted any more.
            let completions = completions_len(&job);
            let of_failed: Vec<Arc<Pod>> = s
                .active_pods
                .iter()
                .filter(|p| {
                    indexed::valid_index(p, completions).is_some_and(|ix| failed.has(ix))
                        && !victims.iter().any(|v| Arc::ptr_eq(v, p))
                })
                .cloned()
                .collect();
            victims.extend(of_failed);
        }
        victims.truncate(MAX_PER_SYNC);
        if !victims.is_empty() {
            // Deletion takes precedence: one or the other per sync, never both.
            let (ready, removed, err) = self.delete_job_pods(&job, &s.key, victims).await;
            s.terminating += removed;
            s.ready -= ready;
            return (active - removed, err);
        }
        let terminating = if only_replace_failed(&job) { s.terminating } else { 0 };
        let mut diff = (want - terminating - active).max(0) as usize;
        if diff == 0 {
            return (active, None);
        }
        let wait = if s.failed_indexes.is_some() {
            Duration::ZERO // per index, below
        } else {
            s.backoff.remaining(Timestamp::now())
        };
        if !wait.is_zero() {
            self.queue.add_after(s.key.clone(), wait.max(BATCH_PERIOD));
            return (active, None);
        }
        diff = diff.min(MAX_PER_SYNC);
        let mut indexes = Vec::new();
        let failures = match s.failed_indexes {
            Some(_) => per_index::failures_per_index(&job, &s.pods, completions_len(&job)),
            None => Default::default(),
        };
        if is_indexed(&job) {
            let mut non_pending = s
                .succeeded_indexes
                .with_indexes(s.active_pods.iter().filter_map(|p| indexed::completion_index(p)));
            if only_replace_failed(&job) {
                let terminating = s.pods.iter().filter(|p| is_terminating(p));
                non_pending = non_pending.with_indexes(terminating.filter_map(|p| indexed::completion_index(p)));
            }
            if let Some(failed) = &s.failed_indexes {
                non_pending = non_pending.with_indexes(failed.intervals().iter().flat_map(|&(a, b)| a..=b));
            }
            indexes = indexed::first_pending(&non_pending, diff, completions_len(&job));
            if s.failed_indexes.is_some() {
                // An index whose pods failed waits out its own backoff.
                let now = Timestamp::now();
                let mut soonest: Option<Duration> = None;
                indexes.retain(|ix| {
                    let wait = failures.get(ix).map_or(Duration::ZERO, |f| f.remaining(now));
                    if !wait.is_zero() {
                        soonest = Some(soonest.map_or(wait, |w| w.min(wait)));
                    }
                    wait.is_zero()
                });
                if let Some(wait) = soonest {
                    self.queue.add_after(s.key.clone(), wait.max(BATCH_PERIOD));
                }
            }
            diff = indexes.len();
        }
        if diff == 0 {
            return (active, None);
        }
        self.expectations.expect(&s.key, diff, []);
        let template = pod_template(&job);
        let name = job.metadata.name.clone().unwrap_or_default();
        let api = self.pod_api(job.metadata.namespace.as_deref().unwrap_or_default());
        let created = slow_start(diff, |i| {
            let mut pod = template.clone();
            if let Some(&ix) = indexes.get(i) {
                let ix_text = ix.to_string();
                pod.metadata
                    .annotations
                    .get_or_insert_default()
                    .insert(COMPLETION_INDEX.into(), ix_text.clone());
                pod.metadata
                    .labels
                    .get_or_insert_default()
                    .insert(COMPLETION_INDEX.into(), ix_text);
                pod.metadata.generate_name = Some(indexed::generate_name(&name, ix));
                if s.failed_indexes.is_some() {
                    let f = failures.get(&ix).copied().unwrap_or_default();
                    let annotations = pod.metadata.annotations.get_or_insert_default();
                    annotations.insert(per_index::FAILURE_COUNT.into(), f.failures.to_string());
                    if f.ignored > 0 {
                        annotations.insert(per_index::IGNORED_FAILURE_COUNT.into(), f.ignored.to_string());
                    }
                }
                if let Some(spec) = pod.spec.as_mut() {
                    spec.hostname = Some(format!("{name}-{ix}"));
                }
            }
            let (api, job) = (&api, &job);
            async move {
                match api.create(&PostParams::default(), &pod).await {
                    Ok(p) => {
                        let msg = format!("Created pod: {}", p.metadata.name.unwrap_or_default());
                        self.ctx.recorder.event(job, NORMAL, "SuccessfulCreate", &msg);
                        Ok(())
                    }
                    Err(e) => {
                        let msg = format!("Error creating: {}", message(&e));
                        self.ctx.recorder.event(job, WARNING, "FailedCreate", &msg);
                        Err(e)
                    }
                }
            }
        })
        .await;
        // What was never created will never be observed.
        for _ in created.succeeded..diff {
            self.expectations.creation_observed(&s.key);
        }
        (active + created.succeeded as i32, created.error)
    }

    /// Deletes pods a running Job no longer wants: finalizer first (they are not counted), then
    /// the pod. Returns (ready pods removed, pods removed, first error).
    async fn delete_job_pods(&self, job: &Job, key: &str, victims: Vec<Arc<Pod>>) -> (i32, i32, Option<kube::Error>) {
        self.expectations
            .expect(key, 0, victims.iter().map(|p| key_of(p.as_ref())));
        let api = self.pod_api(job.metadata.namespace.as_deref().unwrap_or_default());
        let results = join_all(victims.iter().map(|p| {
            let api = &api;
            async move {
                let name = p.metadata.name.clone().unwrap_or_default();
                let mut result = Ok(());
                if has_tracking_finalizer(p) {
                    result = api
                        .patch(&name, &PatchParams::default(), &remove_finalizer_patch())
                        .await
                        .map(|_| ());
                }
                if result.is_ok() {
                    result = self.delete_pod(job, api, &name).await;
                }
                match result {
                    Ok(()) => Ok(pods::is_ready(p)),
                    Err(e) => {
                        self.expectations.deletion_observed(key, &key_of(p.as_ref()));
                        match e {
                            kube::Error::Api(s) if s.code == 404 => Ok(pods::is_ready(p)),
                            e => Err(e),
                        }
                    }
                }
            }
        }))
        .await;
        tally(results)
    }

    /// Deletes the active pods of a finishing Job, keeping their finalizers: the status
    /// tracking removes those once the pods are counted.
    async fn delete_active_pods(&self, job: &Job, active: &[Arc<Pod>]) -> (i32, i32, Option<kube::Error>) {
        let api = self.pod_api(job.metadata.namespace.as_deref().unwrap_or_default());
        let results = join_all(active.iter().map(|p| {
            let api = &api;
            async move {
                let name = p.metadata.name.clone().unwrap_or_default();
                match self.delete_pod(job, api, &name).await {
                    Ok(()) => Ok(pods::is_ready(p)),
                    Err(kube::Error::Api(s)) if s.code == 404 => Ok(pods::is_ready(p)),
                    Err(e) => Err(e),
                }
            }
        }))
        .await;
        tally(results)
    }

    async fn delete_pod(&self, job: &Job, api: &Api<Pod>, name: &str) -> Result<(), kube::Error> {
        match api.delete(name, &DeleteParams::default()).await {
            Ok(_) => {
                let msg = format!("Deleted pod: {name}");
                self.ctx.recorder.event(job, NORMAL, "SuccessfulDelete", &msg);
                Ok(())
            }
            Err(e) => {
                if !matches!(&e, kube::Error::Api(s) if s.code == 404) {
                    let msg = format!("Error deleting: {}", message(&e));
                    self.ctx.recorder.event(job, WARNING, "FailedDelete", &msg);
                }
                Err(e)
            }
        }
    }

    async fn write_status(&self, job: &Job) -> Result<Job, kube::Error> {
        let ns = job.metadata.namespace.as_deref().unwrap_or_default();
        let name = job.metadata.name.as_deref().unwrap_or_default();
        self.job_api(ns).replace_status(name, &PostParams::default(), job).await
    }

    /// Upstream's trackJobStatusAndRemoveFinalizers: records finished pods as uncounted, writes
    /// that, removes their finalizers, moves them to the counters, and sets the terminal
    /// condition once nothing is uncounted or terminating.
    async fn track_status_and_remove_finalizers(&self, s: &mut State, mut needs_flush: bool) -> anyhow::Result<()> {
        let indexed = is_indexed(&s.job);
        let completions = completions_len(&s.job);
        if indexed {
            s.pods
                .sort_by_key(|p| indexed::completion_index(p).map_or(-1, |i| i as i64));
        }
        let mut with_finalizer: HashSet<String> = s
            .pods
            .iter()
            .filter(|p| has_tracking_finalizer(p) && !s.expected_rm.contains(&uid(p)))
            .map(|p| uid(p))
            .collect();
        let status = s.job.status.get_or_insert_default();
        needs_flush |= clean_uncounted(status, &with_finalizer);
        let policy = spec(&s.job).pod_failure_policy.clone();
        let terminating_job = s.finished.as_ref().is_some_and(|c| c.type_ != "SuccessCriteriaMet");
        let mut to_unfinalize: Vec<Arc<Pod>> = Vec::new();
        let mut new_indexes = Vec::new();
        let mut reached_max = false;
        let job_deleting = s.job.metadata.deletion_timestamp.is_some();
        for pod in &s.pods {
            let id = uid(pod);
            if !has_tracking_finalizer(pod) || s.expected_rm.contains(&id) {
                continue; // counted by an earlier sync
            }
            let failed = is_pod_failed(pod, &s.job);
            let removable = job_deleting || s.finished.is_some() || phase(pod) == "Succeeded" || failed;
            if !removable {
                continue;
            }
            to_unfinalize.push(pod.clone());
            let status = s.job.status.get_or_insert_default();
            let u = status.uncounted_terminated_pods.get_or_insert_default();
            if phase(pod) == "Succeeded" && !s.uncounted_failed.contains(&id) {
                if indexed {
                    if let Some(ix) = indexed::valid_index(pod, completions)
                        && !s.prev_succeeded_indexes.has(ix)
                    {
                        new_indexes.push(ix);
                        needs_flush = true;
                    }
                } else if !s.uncounted_succeeded.contains(&id) {
                    u.succeeded.get_or_insert_default().push(id.clone());
                    needs_flush = true;
                }
            } else if (failed || terminating_job)
                && !s.uncounted_failed.contains(&id)
                && (!indexed || indexed::valid_index(pod, completions).is_some())
                && policy::evaluate(policy.as_ref(), pod).counts
            {
                // A finishing Job counts every pod that did not succeed as failed.
                u.failed.get_or_insert_default().push(id.clone());
                needs_flush = true;
            }
            if new_indexes.len() + uncounted_len(status) >= MAX_UNCOUNTED {
                reached_max = true;
                break;
            }
        }
        let status = s.job.status.get_or_insert_default();
        if indexed {
            s.succeeded_indexes = s.succeeded_indexes.with_indexes(new_indexes);
            let text = s.succeeded_indexes.to_string();
            if text != status.completed_indexes.clone().unwrap_or_default() {
                needs_flush = true;
            }
            status.succeeded = nonzero(s.succeeded_indexes.total() as i32);
            status.completed_indexes = (!text.is_empty()).then_some(text);
            if let Some(failed) = &s.failed_indexes {
                let text = failed.to_string();
                if status.failed_indexes.as_deref() != Some(text.as_str()) {
                    status.failed_indexes = Some(text);
                    needs_flush = true;
                }
            }
        }
        let now = Timestamp::now();
        if let Some(target) = s.finished.clone().filter(|c| c.type_ == "FailureTarget") {
            // The interim condition is written before any finalizer goes, so the failure
            // reason survives a crash; Failed follows once every pod is accounted for.
            status.conditions.get_or_insert_default().push(target.clone());
            needs_flush = true;
            s.finished = Some(failed_from_target(&target, now));
        }
        if let Some(met) = s.finished.clone().filter(|c| c.type_ == "SuccessCriteriaMet") {
            if condition(&s.job, "SuccessCriteriaMet").is_none() {
                let status = s.job.status.get_or_insert_default();
                status.conditions.get_or_insert_default().push(met.clone());
                needs_flush = true;
            }
            let (reason, msg) = (met.reason.unwrap_or_default(), met.message.unwrap_or_default());
            s.finished = Some(new_condition("Complete", "True", &reason, &msg, now));
        }

        // Flush the uncounted pods, then remove their finalizers, then count them.
        if needs_flush {
            s.job = self
                .write_status(&s.job)
                .await
                .context("adding uncounted pods to status")?;
            self.backoff.set(&s.key, s.backoff.clone());
            needs_flush = false;
        }
        let mut rm_error = None;
        if !to_unfinalize.is_empty() {
            let (removed, err) = self.remove_finalizers(&s.key, &to_unfinalize).await;
            for id in removed {
                with_finalizer.remove(&id);
            }
            rm_error = err;
        }
        needs_flush |= clean_uncounted(s.job.status.get_or_insert_default(), &with_finalizer);
        if let Some(e) = rm_error {
            if needs_flush {
                self.write_status(&s.job)
                    .await
                    .context("removing uncounted pods from status")?;
            }
            return Err(anyhow::Error::from(e).context("removing tracking finalizer"));
        }
        let finished = !reached_max && self.enact_finished(s, now);
        if needs_flush || finished {
            let written = self
                .write_status(&s.job)
                .await
                .context("removing uncounted pods from status")?;
            if finished && let Some(c) = &s.finished {
                self.record_finished(&written, c);
            }
        }
        Ok(())
    }

    /// Sets Complete or Failed when nothing is left uncounted or terminating.
    fn enact_finished(&self, s: &mut State, now: Timestamp) -> bool {
        let Some(c) = s.finished.clone() else {
            return false;
        };
        let status = s.job.status.get_or_insert_default();
        if uncounted_len(status) > 0 || s.terminating > 0 {
            return false;
        }
        let conditions = status.conditions.get_or_insert_default();
        let (reason, msg) = (
            c.reason.clone().unwrap_or_default(),
            c.message.clone().unwrap_or_default(),
        );
        ensure_condition(conditions, &c.type_, &c.status, &reason, &msg, now);
        if c.type_ == "Complete" {
            status.completion_time = c.last_transition_time.clone();
        }
        true
    }

    fn record_finished(&self, job: &Job, c: &JobCondition) {
        if c.type_ == "Complete" {
            let succeeded = job.status.as_ref().and_then(|s| s.succeeded).unwrap_or(0);
            if spec(job).completions.is_some_and(|n| succeeded > n) {
                let msg = "Too many succeeded pods running after completion count reached";
                self.ctx.recorder.event(job, WARNING, "TooManySucceededPods", msg);
            }
            self.ctx.recorder.event(job, NORMAL, "Completed", "Job completed");
        } else {
            let reason = c.reason.as_deref().unwrap_or_default();
            self.ctx
                .recorder
                .event(job, WARNING, reason, c.message.as_deref().unwrap_or_default());
        }
    }

    /// Removes the tracking finalizer from `pods`; returns the UIDs it is gone from (a pod
    /// already deleted counts) and the first error.
    async fn remove_finalizers(&self, key: &str, pods: &[Arc<Pod>]) -> (Vec<String>, Option<kube::Error>) {
        self.finalizers.expect(key, pods.iter().map(|p| uid(p)));
        let results = join_all(pods.iter().map(|p| async move {
            let ns = p.metadata.namespace.as_deref().unwrap_or_default();
            let name = p.metadata.name.as_deref().unwrap_or_default();
            let r = self
                .pod_api(ns)
                .patch(name, &PatchParams::default(), &remove_finalizer_patch())
                .await;
            match r {
                Ok(_) => Ok(uid(p)),
                Err(e) => {
                    // No update will show the finalizer gone: stop waiting for one.
                    self.finalizers.observed(key, &uid(p));
                    match e {
                        kube::Error::Api(s) if s.code == 404 => Ok(uid(p)),
                        e => Err(e),
                    }
                }
            }
        }))
        .await;
        let mut removed = Vec::new();
        let mut error = None;
        for r in results {
            match r {
                Ok(id) => removed.push(id),
                Err(e) => {
                    error.get_or_insert(e);
                }
            }
        }
        (removed, error)
    }
}

impl State {
    /// Finished pods not yet in the status: tracked (finalizer present, not being removed),
    /// not already uncounted and, for Indexed Jobs, with a valid index.
    fn new_finished_pods(&self) -> (Vec<Arc<Pod>>, Vec<Arc<Pod>>) {
        let completions = completions_len(&self.job);
        let indexed = is_indexed(&self.job);
        let valid = |p: &Pod| {
            has_tracking_finalizer(p)
                && !self.expected_rm.contains(&uid(p))
                && (!indexed || indexed::valid_index(p, completions).is_some())
        };
        let succeeded = self
            .pods
            .iter()
            .filter(|p| valid(p) && !self.uncounted_succeeded.contains(&uid(p)) && phase(p) == "Succeeded")
            .cloned()
            .collect();
        let failed = self
            .pods
            .iter()
            .filter(|p| valid(p) && !self.uncounted_failed.contains(&uid(p)) && is_pod_failed(p, &self.job))
            .cloned()
            .collect();
        (succeeded, failed)
    }

    /// `completedIndexes` so far, and with the succeeded pods not yet counted.
    fn calculate_succeeded_indexes(&mut self) {
        let completions = completions_len(&self.job);
        let text = self.job.status.as_ref().and_then(|s| s.completed_indexes.clone());
        self.prev_succeeded_indexes = Intervals::parse(text.as_deref().unwrap_or(""), completions);
        let new = self
            .pods
            .iter()
            .filter(|p| phase(p) == "Succeeded" && has_tracking_finalizer(p))
            .filter_map(|p| indexed::valid_index(p, completions));
        self.succeeded_indexes = self.prev_succeeded_indexes.with_indexes(new);
    }
}

/// The message of the first FailJob rule a failed pod matches.
fn fail_job_message(job: &Job, pods: &[Arc<Pod>]) -> Option<String> {
    let policy = spec(job).pod_failure_policy.as_ref()?;
    pods.iter()
        .filter(|p| is_pod_failed(p, job))
        .find_map(|p| policy::evaluate(Some(policy), p).fail_job)
}

/// Active pods to delete: for Indexed Jobs first those with a bad or repeated index, then
/// in deletion order until `at_least` are chosen.
fn for_removal(job: &Job, active: &[Arc<Pod>], at_least: usize) -> Vec<Arc<Pod>> {
    let (mut rm, mut left) = if is_indexed(job) {
        indexed::split_duplicates(active, completions_len(job), pods::deletion_order)
    } else {
        (Vec::new(), active.to_vec())
    };
    if rm.len() < at_least {
        pods::deletion_order(&mut left);
        let more = (at_least - rm.len()).min(left.len());
        rm.extend(left.into_iter().take(more));
    }
    rm
}

/// The pod every creation starts from: the Job's template with the tracking finalizer and,
/// for Indexed Jobs, `JOB_COMPLETION_INDEX` in every container.
fn pod_template(job: &Job) -> Pod {
    let name = job.metadata.name.clone().unwrap_or_default();
    let owner = pods::controller_ref("batch/v1", "Job", &job.metadata);
    let mut pod = pods::from_template(&spec(job).template, owner, &pods::name_prefix(&name));
    let finalizers = pod.metadata.finalizers.get_or_insert_default();
    if !finalizers.iter().any(|f| f == TRACKING_FINALIZER) {
        finalizers.push(TRACKING_FINALIZER.into());
    }
    if is_indexed(job)
        && let Some(spec) = pod.spec.as_mut()
    {
        let env = EnvVar {
            name: COMPLETION_INDEX_ENV.into(),
            value: None,
            value_from: Some(EnvVarSource {
                field_ref: Some(ObjectFieldSelector {
                    // What the API server defaults it to.
                    api_version: Some("v1".into()),
                    field_path: format!("metadata.annotations['{COMPLETION_INDEX}']"),
                }),
                ..Default::default()
            }),
        };
        let containers = spec
            .init_containers
            .iter_mut()
            .flatten()
            .chain(spec.containers.iter_mut());
        for c in containers {
            let vars = c.env.get_or_insert_default();
            if !vars.iter().any(|v| v.name == COMPLETION_INDEX_ENV) {
                vars.push(env.clone());
            }
        }
    }
    pod
}

fn remove_finalizer_patch() -> Patch<serde_json::Value> {
    Patch::Strategic(json!({"metadata": {"$deleteFromPrimitiveList/finalizers": [TRACKING_FINALIZER]}}))
}

/// (ready removed, removed, first error) from per-pod results (Ok(was ready)).
fn tally(results: Vec<Result<bool, kube::Error>>) -> (i32, i32, Option<kube::Error>) {
    let (mut ready, mut removed, mut error) = (0, 0, None);
    for r in results {
        match r {
            Ok(was_ready) => {
                removed += 1;
                ready += i32::from(was_ready);
            }
            Err(e) => {
                error.get_or_insert(e);
            }
        }
    }
    (ready, removed, error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(spec: serde_json::Value, status: serde_json::Value) -> Job {
        serde_json::from_value(json!({
            "metadata": {"name": "j", "namespace": "ns", "uid": "job-uid"},
            "spec": spec, "status": status,
        }))
        .unwrap()
    }

    fn pod(phase: &str, extra: serde_json::Value) -> Arc<Pod> {
        let mut v = json!({
            "metadata": {"name": "p", "namespace": "ns", "uid": format!("uid-{phase}"),
                         "finalizers": [TRACKING_FINALIZER]},
            "spec": {"containers": [{"name": "c"}], "restartPolicy": "Never"},
            "status": {"phase": phase},
        });
        if let (Some(m), Some(e)) = (v.as_object_mut(), extra.as_object()) {
            for (k, x) in e {
                m.insert(k.clone(), x.clone());
            }
        }
        Arc::new(serde_json::from_value(v).unwrap())
    }

    #[test]
    fn deleted_pods_count_as_failed_unless_only_failed_pods_are_replaced() {
        let deleting = pod(
            "Running",
            json!({"metadata": {"name": "p", "uid": "u",
            "deletionTimestamp": "2026-01-01T00:00:00Z", "finalizers": [TRACKING_FINALIZER]}}),
        );
        let plain = job(json!({"template": {}}), json!({}));
        assert!(is_pod_failed(&deleting, &plain));
        let failed_only = job(json!({"template": {}, "podReplacementPolicy": "Failed"}), json!({}));
        assert!(!is_pod_failed(&deleting, &failed_only));
        assert!(is_terminating(&deleting));
        assert!(is_pod_failed(&pod("Failed", json!({})), &failed_only));
    }

    #[test]
    fn finished_pods_already_counted_or_untracked_are_not_new() {
        let j = job(json!({"template": {}}), json!({}));
        let untracked = pod("Succeeded", json!({"metadata": {"name": "x", "uid": "x"}}));
        let mut s = State {
            key: "ns/j".into(),
            pods: vec![pod("Succeeded", json!({})), pod("Failed", json!({})), untracked],
            active_pods: vec![],
            finished: None,
            succeeded: 0,
            prev_succeeded_indexes: Intervals::default(),
            succeeded_indexes: Intervals::default(),
            failed_indexes: None,
            backoff: backoff::Record::default(),
            expected_rm: HashSet::new(),
            uncounted_succeeded: HashSet::new(),
            uncounted_failed: HashSet::new(),
            terminating: 0,
            ready: 0,
            job: j,
        };
        let (ok, failed) = s.new_finished_pods();
        assert_eq!((ok.len(), failed.len()), (1, 1));
        s.uncounted_succeeded.insert("uid-Succeeded".into());
        s.expected_rm.insert("uid-Failed".into());
        let (ok, failed) = s.new_finished_pods();
        assert_eq!((ok.len(), failed.len()), (0, 0));
    }

    #[test]
    fn indexed_template_gets_the_index_variable_and_finalizer() {
        let j = job(
            json!({"completionMode": "Indexed", "completions": 3,
                   "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c"}]}}}),
            json!({}),
        );
        let p = pod_template(&j);
        assert_eq!(p.metadata.finalizers, Some(vec![TRACKING_FINALIZER.to_string()]));
        let env = p.spec.unwrap().containers[0].env.clone().unwrap();
        assert_eq!(env[0].name, COMPLETION_INDEX_ENV);
        assert_eq!(p.metadata.generate_name.as_deref(), Some("j-"));
    }
}
