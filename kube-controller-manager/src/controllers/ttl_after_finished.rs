//! ttl-after-finished: deletes a finished Job `spec.ttlSecondsAfterFinished` seconds after its
//! Complete or Failed condition, with foreground propagation so its pods go first. Before
//! deleting it re-reads the Job from the server, since the TTL may have just been changed, and
//! deletes with the uid as precondition so a recreated Job of the same name is never hit.

use super::Ctx;
use crate::informer::{Change, Informer, key_of, split_key};
use crate::queue::{Queue, run_workers};
use jiff::Timestamp;
use k8s_openapi::api::batch::v1::Job;
use kube::api::{Api, DeleteParams, Preconditions, PropagationPolicy};
use std::sync::Arc;
use std::time::Duration;

struct Controller {
    ctx: Ctx,
    jobs: Informer<Job>,
    queue: Arc<Queue<String>>,
}

pub async fn run(ctx: Ctx) -> anyhow::Result<()> {
    let jobs = ctx.informers.get::<Job>();
    let c = Arc::new(Controller {
        ctx: ctx.clone(),
        jobs: jobs.clone(),
        queue: Queue::new(),
    });
    let q = c.queue.clone();
    jobs.on_change(move |change| match change {
        Change::Added(job) | Change::Updated { new: job, .. } => {
            if job.metadata.deletion_timestamp.is_none() && needs_cleanup(job) {
                q.add(key_of(job.as_ref()));
            }
        }
        Change::Deleted(_) => {}
    });
    jobs.synced().await;
    let workers = ctx.opts.concurrent_ttl_after_finished_syncs;
    run_workers("ttl_jobs_to_delete", c.queue.clone(), workers, move |key: String| {
        let c = c.clone();
        async move { c.sync(&key).await }
    })
    .await;
    Ok(())
}

/// Finished, with a TTL.
fn needs_cleanup(job: &Job) -> bool {
    let ttl = job.spec.as_ref().and_then(|s| s.ttl_seconds_after_finished);
    ttl.is_some() && super::job::is_finished(job)
}

/// When the Job finished: its Complete or Failed condition's transition time.
fn finished_at(job: &Job) -> Result<Timestamp, String> {
    let ns = job.metadata.namespace.as_deref().unwrap_or_default();
    let name = job.metadata.name.as_deref().unwrap_or_default();
    let conditions = job.status.as_ref().and_then(|s| s.conditions.as_ref());
    let finished = conditions
        .into_iter()
        .flatten()
        .find(|c| (c.type_ == "Complete" || c.type_ == "Failed") && c.status == "True")
        .ok_or_else(|| format!("unable to find the status of the finished Job {ns}/{name}"))?;
    finished
        .last_transition_time
        .as_ref()
        .map(|t| t.0)
        .ok_or_else(|| format!("unable to find the time when the Job {ns}/{name} finished"))
}

/// What is left of the TTL at `now` (zero or less: expired), or None if the Job needs no
/// cleanup.
fn time_left(job: &Job, now: Timestamp) -> Result<Option<jiff::SignedDuration>, String> {
    if job.metadata.deletion_timestamp.is_some() || !needs_cleanup(job) {
        return Ok(None);
    }
    let ttl = job
        .spec
        .as_ref()
        .and_then(|s| s.ttl_seconds_after_finished)
        .unwrap_or(0);
    let expire = finished_at(job)? + jiff::SignedDuration::from_secs(ttl.into());
    Ok(Some(expire.duration_since(now)))
}

impl Controller {
    /// True when the TTL has expired; otherwise the Job is queued again for when it does.
    fn expired(&self, key: &str, job: &Job) -> anyhow::Result<bool> {
        let Some(left) = time_left(job, Timestamp::now()).map_err(anyhow::Error::msg)? else {
            return Ok(false);
        };
        if left.is_positive() {
            let wait = Duration::try_from(left).unwrap_or(Duration::ZERO);
            self.queue.add_after(key.to_string(), wait);
            return Ok(false);
        }
        Ok(true)
    }

    async fn sync(&self, key: &str) -> anyhow::Result<()> {
        let Some(job) = self.jobs.get(key) else {
            return Ok(());
        };
        if !self.expired(key, &job)? {
            return Ok(());
        }
        let (ns, name) = split_key(key);
        let api: Api<Job> = Api::namespaced(self.ctx.client.clone(), ns.unwrap_or_default());
        // The cached TTL may be stale: decide on the server's copy.
        let Some(fresh) = api.get_opt(name).await? else {
            return Ok(());
        };
        if !self.expired(key, &fresh)? {
            return Ok(());
        }
        let params = DeleteParams {
            propagation_policy: Some(PropagationPolicy::Foreground),
            preconditions: Some(Preconditions {
                uid: fresh.metadata.uid.clone(),
                resource_version: None,
            }),
            ..Default::default()
        };
        tracing::info!(job = key, "cleaning up finished Job");
        super::ignore_not_found(api.delete(name, &params).await)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn job(ttl: Option<i32>, conditions: serde_json::Value) -> Job {
        serde_json::from_value(json!({
            "metadata": {"name": "j", "namespace": "ns"},
            "spec": {"ttlSecondsAfterFinished": ttl, "template": {}},
            "status": {"conditions": conditions},
        }))
        .unwrap()
    }

    #[test]
    fn ttl_counts_from_the_finished_condition() {
        let now: Timestamp = "2026-01-01T00:00:10Z".parse().unwrap();
        let done = json!([{"type": "Complete", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"}]);
        let left = time_left(&job(Some(30), done.clone()), now).unwrap();
        assert_eq!(left, Some(jiff::SignedDuration::from_secs(20)));
        assert_eq!(
            time_left(&job(Some(5), done.clone()), now).unwrap(),
            Some(jiff::SignedDuration::from_secs(-5))
        );
        assert_eq!(time_left(&job(None, done), now).unwrap(), None);
        let running = json!([{"type": "Complete", "status": "False"}]);
        assert_eq!(time_left(&job(Some(0), running), now).unwrap(), None);
        let failed = json!([{"type": "Failed", "status": "True"}]);
        assert!(time_left(&job(Some(0), failed), now).is_err());
    }
}
