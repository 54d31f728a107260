//! replicaset: keeps `spec.replicas` active pods for each ReplicaSet: creates the missing ones
//! from the template in slow-start batches (1, 2, 4, ...), deletes the surplus in upstream's
//! order (unscheduled, pending, not ready first), adopts matching orphans, and reports
//! replicas, fullyLabeledReplicas, readyReplicas and availableReplicas in status.

use super::Ctx;
use crate::events::{NORMAL, WARNING};
use crate::expectations::Expectations;
use crate::informer::{Change, Informer, key_of, split_key};
use crate::owners::{Owner, claim, route_pod_changes};
use crate::pods;
use crate::queue::{Queue, run_workers};
use futures::future::join_all;
use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetStatus};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, PostParams};
use std::sync::Arc;
use std::time::Duration;

/// Upstream's cap on creations or deletions in one sync.
const BURST_REPLICAS: usize = 500;

struct Controller {
    ctx: Ctx,
    sets: Informer<ReplicaSet>,
    pods: Informer<Pod>,
    expectations: Arc<Expectations>,
    queue: Arc<Queue<String>>,
}

pub async fn run(ctx: Ctx) -> anyhow::Result<()> {
    let sets = ctx.informers.get::<ReplicaSet>();
    let pods = ctx.informers.get::<Pod>();
    let c = Arc::new(Controller {
        ctx: ctx.clone(),
        sets: sets.clone(),
        pods: pods.clone(),
        expectations: Arc::default(),
        queue: Queue::new(),
    });
    let q = c.queue.clone();
    sets.on_change(move |change| match change {
        Change::Added(rs) | Change::Updated { new: rs, .. } | Change::Deleted(rs) => q.add(key_of(rs.as_ref())),
    });
    let finder = sets.clone();
    route_pod_changes(
        &pods,
        "ReplicaSet",
        c.expectations.clone(),
        c.queue.clone(),
        move |pod| selecting(&finder, pod),
    );
    sets.synced().await;
    pods.synced().await;
    let workers = ctx.opts.concurrent_replicaset_syncs;
    run_workers("replicaset-controller", c.queue.clone(), workers, move |key: String| {
        let c = c.clone();
        async move { c.sync(&key).await }
    })
    .await;
    Ok(())
}

/// The ReplicaSets in the pod's namespace whose selector matches it.
fn selecting(sets: &Informer<ReplicaSet>, pod: &Pod) -> Vec<String> {
    let ns = pod.metadata.namespace.as_deref().unwrap_or_default();
    sets.list_namespace(ns)
        .iter()
        .filter(|rs| {
            pods::selector(rs.spec.as_ref().map(|s| &s.selector))
                .is_some_and(|sel| !sel.is_empty() && pods::matches(&sel, pod.metadata.labels.as_ref()))
        })
        .map(|rs| key_of(rs.as_ref()))
        .collect()
}

impl Controller {
    async fn sync(&self, key: &str) -> anyhow::Result<()> {
        let Some(rs) = self.sets.get(key) else {
            self.expectations.forget(key);
            return Ok(());
        };
        let ns = split_key(key).0.unwrap_or_default();
        let spec = rs.spec.clone().unwrap_or_default();
        let Some(selector) = pods::selector(Some(&spec.selector)).filter(|s| !s.is_empty()) else {
            return Ok(());
        };
        let candidates: Vec<Arc<Pod>> = self
            .pods
            .list_namespace(ns)
            .into_iter()
            .filter(|p| pods::is_active(p))
            .collect();
        let owner = Owner {
            meta: &rs.metadata,
            reference: pods::controller_ref("apps/v1", "ReplicaSet", &rs.metadata),
            selector: &selector,
        };
        let api: Api<Pod> = Api::namespaced(self.ctx.client.clone(), ns);
        let owned = claim(&api, &owner, candidates).await?;
        let mut manage_error = None;
        if self.expectations.satisfied(key) && rs.metadata.deletion_timestamp.is_none() {
            manage_error = self.manage(key, &rs, owned.clone(), &api).await.err();
        }
        let manage_error = manage_error.map(|(reason, e)| (reason, anyhow::Error::from(e)));
        let status = self.status(&rs, &owned, manage_error.as_ref());
        if Some(&status) != rs.status.as_ref() {
            let sets: Api<ReplicaSet> = Api::namespaced(self.ctx.client.clone(), ns);
            super::update_status(&sets, &rs, |r| r.status = Some(status.clone())).await?;
        }
        let min_ready = spec.min_ready_seconds.unwrap_or(0);
        if manage_error.is_none() && min_ready > 0 && status.ready_replicas != status.available_replicas {
            self.queue
                .add_after(key.to_string(), Duration::from_secs(min_ready as u64));
        }
        manage_error.map_or(Ok(()), |(_, e)| Err(e))
    }

    /// Creates or deletes pods so that `replicas` are active.
    async fn manage(
        &self,
        key: &str,
        rs: &ReplicaSet,
        mut owned: Vec<Arc<Pod>>,
        api: &Api<Pod>,
    ) -> Result<(), (&'static str, kube::Error)> {
        let spec = rs.spec.clone().unwrap_or_default();
        let want = spec.replicas.unwrap_or(1).max(0) as usize;
        let name = rs.metadata.name.clone().unwrap_or_default();
        if owned.len() < want {
            let missing = (want - owned.len()).min(BURST_REPLICAS);
            self.expectations.expect(key, missing, []);
            let template = spec.template.unwrap_or_default();
            let pod = pods::from_template(
                &template,
                pods::controller_ref("apps/v1", "ReplicaSet", &rs.metadata),
                &pods::name_prefix(&name),
            );
            let created = slow_start(missing, |_| async {
                match api.create(&PostParams::default(), &pod).await {
                    Ok(p) => {
                        let msg = format!("Created pod: {}", p.metadata.name.unwrap_or_default());
                        self.ctx.recorder.event(rs, NORMAL, "SuccessfulCreate", &msg);
                        Ok(())
                    }
                    Err(e) => {
                        self.ctx.recorder.event(
                            rs,
                            WARNING,
                            "FailedCreate",
                            &format!("Error creating: {}", message(&e)),
                        );
                        Err(e)
                    }
                }
            })
            .await;
            // What was never created will never be observed.
            for _ in created.succeeded..missing {
                self.expectations.creation_observed(key);
            }
            return created.error.map_or(Ok(()), |e| Err(("FailedCreate", e)));
        }
        if owned.len() > want {
            let surplus = (owned.len() - want).min(BURST_REPLICAS);
            pods::deletion_order(&mut owned);
            let victims: Vec<Arc<Pod>> = owned.into_iter().take(surplus).collect();
            self.expectations
                .expect(key, 0, victims.iter().map(|p| key_of(p.as_ref())));
            let results = join_all(victims.iter().map(|p| async move {
                let pod_name = p.metadata.name.clone().unwrap_or_default();
                match api.delete(&pod_name, &DeleteParams::default()).await {
                    Ok(_) => {
                        let msg = format!("Deleted pod: {pod_name}");
                        self.ctx.recorder.event(rs, NORMAL, "SuccessfulDelete", &msg);
                        Ok(())
                    }
                    Err(kube::Error::Api(s)) if s.code == 404 => {
                        self.expectations.deletion_observed(key, &key_of(p.as_ref()));
                        Ok(())
                    }
                    Err(e) => {
                        self.expectations.deletion_observed(key, &key_of(p.as_ref()));
                        let msg = format!("Error deleting: {}", message(&e));
                        self.ctx.recorder.event(rs, WARNING, "FailedDelete", &msg);
                        Err(e)
                    }
                }
            }))
            .await;
            if let Some(Err(e)) = results.into_iter().find(Result::is_err) {
                return Err(("FailedDelete", e));
            }
        }
        Ok(())
    }

    fn status(&self, rs: &ReplicaSet, owned: &[Arc<Pod>], error: Option<&(&str, anyhow::Error)>) -> ReplicaSetStatus {
        let spec = rs.spec.clone().unwrap_or_default();
        let template_labels = spec.template.as_ref().and_then(|t| t.metadata.as_ref()?.labels.clone());
        let now = jiff::Timestamp::now();
        let min_ready = spec.min_ready_seconds.unwrap_or(0);
        let fully_labeled = owned
            .iter()
            .filter(|p| {
                template_labels.as_ref().is_none_or(|want| {
                    want.iter()
                        .all(|(k, v)| p.metadata.labels.as_ref().and_then(|l| l.get(k)) == Some(v))
                })
            })
            .count();
        let ready = owned.iter().filter(|p| pods::is_ready(p)).count();
        let available = owned.iter().filter(|p| pods::is_available(p, min_ready, now)).count();
        let previous = rs.status.clone().unwrap_or_default();
        let mut conditions: Vec<_> = previous
            .conditions
            .clone()
            .unwrap_or_default()
            .into_iter()
            .filter(|c| c.type_ != "ReplicaFailure")
            .collect();
        if let Some((reason, e)) = error {
            conditions.push(k8s_openapi::api::apps::v1::ReplicaSetCondition {
                type_: "ReplicaFailure".into(),
                status: "True".into(),
                reason: Some(reason.to_string()),
                message: Some(format!("{e:#}")),
                last_transition_time: Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(now)),
            });
        }
        let count = |n: usize| (n > 0).then_some(n as i32);
        ReplicaSetStatus {
            replicas: owned.len() as i32,
            fully_labeled_replicas: count(fully_labeled),
            ready_replicas: count(ready),
            available_replicas: count(available),
            observed_generation: rs.metadata.generation,
            conditions: (!conditions.is_empty()).then_some(conditions),
            terminating_replicas: previous.terminating_replicas,
        }
    }
}

/// The outcome of a slow-start run.
pub struct SlowStart {
    pub succeeded: usize,
    pub error: Option<kube::Error>,
}

/// Runs `count` calls in batches of 1, 2, 4, ... all of a batch at once, stopping after the
/// first batch with a failure, so a quota or admission error costs one call, not hundreds.
pub async fn slow_start<F, Fut>(count: usize, call: F) -> SlowStart
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = Result<(), kube::Error>>,
{
    let (mut done, mut batch) = (0, 1);
    while done < count {
        let size = batch.min(count - done);
        let results = join_all((done..done + size).map(&call)).await;
        let ok = results.iter().filter(|r| r.is_ok()).count();
        if let Some(Err(e)) = results.into_iter().find(Result::is_err) {
            return SlowStart {
                succeeded: done + ok,
                error: Some(e),
            };
        }
        done += size;
        batch *= 2;
    }
    SlowStart {
        succeeded: done,
        error: None,
    }
}

/// The server's message for a failed call.
pub fn message(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => s.message.clone(),
        other => other.to_string(),
    }
}
