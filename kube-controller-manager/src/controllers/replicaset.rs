//! replicaset and replicationcontroller: keep `spec.replicas` active pods for each
//! ReplicaSet (or ReplicationController, the same loop over the older kind): create the
//! missing ones from the template in slow-start batches (1, 2, 4, ...), delete the surplus in
//! upstream's order (unscheduled, pending, not ready first), adopt matching orphans, and
//! report replicas, fullyLabeledReplicas, readyReplicas and availableReplicas in status.

use super::Ctx;
use crate::events::{NORMAL, WARNING};
use crate::expectations::Expectations;
use crate::informer::{Informer, key_of, split_key};
use crate::owners::{Owner, claim, route_pod_changes};
use crate::pods;
use crate::queue::{Queue, run_workers};
use api_types::labels::{Requirement, Selector};
use futures::future::join_all;
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec, ReplicationController};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, DeleteParams, PostParams};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// Upstream's cap on creations or deletions in one sync.
const BURST_REPLICAS: usize = 500;

/// What the loop needs of a ReplicaSet or a ReplicationController.
pub trait Replicated:
    kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
    + Clone
    + serde::Serialize
    + serde::de::DeserializeOwned
    + std::fmt::Debug
    + Send
    + Sync
    + 'static
{
    const API_VERSION: &'static str;
    const KIND: &'static str;
    /// Its work queue's name, as upstream's metrics label it.
    const QUEUE: &'static str;
    fn selector(&self) -> Option<Selector>;
    fn replicas(&self) -> i32;
    fn min_ready_seconds(&self) -> i32;
    fn template(&self) -> PodTemplateSpec;

    /// The object with `counts` as its status, if that differs from the current one. Both
    /// kinds' statuses have the same fields, so this works on their JSON form.
    fn with_status(&self, c: &Counts) -> Option<Self> {
        let mut obj = serde_json::to_value(self).ok()?;
        let previous = obj.get("status").cloned().unwrap_or_else(|| json!({}));
        let mut conditions: Vec<serde_json::Value> = previous
            .get("conditions")
            .and_then(|c| c.as_array())
            .cloned()
            .unwrap_or_default();
        let failure_since = conditions
            .iter()
            .find(|x| x["type"] == "ReplicaFailure")
            .and_then(|x| x.get("lastTransitionTime").cloned());
        conditions.retain(|x| x["type"] != "ReplicaFailure");
        if let Some((reason, message)) = &c.failure {
            let now = json!(Time(jiff::Timestamp::now()));
            conditions.push(json!({"type": "ReplicaFailure", "status": "True", "reason": reason,
                "message": message, "lastTransitionTime": failure_since.unwrap_or(now)}));
        }
        let mut status = json!({"replicas": c.replicas, "observedGeneration": c.observed_generation});
        for (field, n) in [
            ("fullyLabeledReplicas", c.fully_labeled),
            ("readyReplicas", c.ready),
            ("availableReplicas", c.available),
        ] {
            if n > 0 {
                status[field] = json!(n);
            }
        }
        if !conditions.is_empty() {
            status["conditions"] = json!(conditions);
        }
        if let Some(t) = previous.get("terminatingReplicas") {
            status["terminatingReplicas"] = t.clone();
        }
        obj["status"] = status;
        let updated: Self = serde_json::from_value(obj).ok()?;
        let same = serde_json::to_value(updated.clone()).ok()?.get("status") == Some(&previous);
        (!same).then_some(updated)
    }
}

/// A status as both kinds report it.
pub struct Counts {
    pub replicas: i32,
    pub fully_labeled: i32,
    pub ready: i32,
    pub available: i32,
    pub observed_generation: Option<i64>,
    /// The ReplicaFailure condition: reason and message.
    pub failure: Option<(String, String)>,
}

/// The spec accessors, the same for both kinds.
macro_rules! replicated_spec {
    () => {
        fn replicas(&self) -> i32 {
            self.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
        }
        fn min_ready_seconds(&self) -> i32 {
            self.spec.as_ref().and_then(|s| s.min_ready_seconds).unwrap_or(0)
        }
        fn template(&self) -> PodTemplateSpec {
            self.spec
                .as_ref()
                .and_then(|s| s.template.clone())
                .unwrap_or_default()
        }
    };
}

impl Replicated for ReplicaSet {
    const API_VERSION: &'static str = "apps/v1";
    const KIND: &'static str = "ReplicaSet";
    const QUEUE: &'static str = "replicaset";
    fn selector(&self) -> Option<Selector> {
        pods::selector(self.spec.as_ref().map(|s| &s.selector))
    }
    replicated_spec!();
}

impl Replicated for ReplicationController {
    const API_VERSION: &'static str = "v1";
    const KIND: &'static str = "ReplicationController";
    const QUEUE: &'static str = "replicationmanager";
    /// A plain label map: every pair must match (an empty one matches nothing here).
    fn selector(&self) -> Option<Selector> {
        let map = self.spec.as_ref()?.selector.clone()?;
        Some(Selector {
            requirements: map.into_iter().map(|(k, v)| Requirement::Equals(k, v)).collect(),
        })
    }
    replicated_spec!();
}

struct Controller<K> {
    ctx: Ctx,
    sets: Informer<K>,
    pods: Informer<Pod>,
    expectations: Arc<Expectations>,
    queue: Arc<Queue<String>>,
}

pub async fn run(ctx: Ctx) -> anyhow::Result<()> {
    run_kind::<ReplicaSet>(ctx.clone(), ctx.opts.concurrent_replicaset_syncs).await
}

pub async fn run_replication_controllers(ctx: Ctx) -> anyhow::Result<()> {
    run_kind::<ReplicationController>(ctx.clone(), ctx.opts.concurrent_rc_syncs).await
}

async fn run_kind<K: Replicated>(ctx: Ctx, workers: usize) -> anyhow::Result<()> {
    let sets = ctx.informers.get::<K>();
    let pods = ctx.informers.get::<Pod>();
    let c = Arc::new(Controller {
        ctx: ctx.clone(),
        sets: sets.clone(),
        pods: pods.clone(),
        expectations: Arc::default(),
        queue: Queue::new(),
    });
    sets.queue_keys(c.queue.clone());
    let finder = sets.clone();
    route_pod_changes(&pods, K::KIND, c.expectations.clone(), c.queue.clone(), move |pod| {
        selecting(&finder, pod)
    });
    sets.synced().await;
    pods.synced().await;
    run_workers(K::QUEUE, c.queue.clone(), workers, move |key: String| {
        let c = c.clone();
        async move { c.sync(&key).await }
    })
    .await;
    Ok(())
}

/// The controllers in the pod's namespace whose selector matches it.
fn selecting<K: Replicated>(sets: &Informer<K>, pod: &Pod) -> Vec<String> {
    let ns = pod.metadata.namespace.as_deref().unwrap_or_default();
    sets.list_namespace(ns)
        .iter()
        .filter(|rs| {
            rs.selector()
                .is_some_and(|sel| !sel.is_empty() && pods::matches(&sel, pod.metadata.labels.as_ref()))
        })
        .map(|rs| key_of(rs.as_ref()))
        .collect()
}

impl<K: Replicated> Controller<K> {
    async fn sync(&self, key: &str) -> anyhow::Result<()> {
        let Some(rs) = self.sets.get(key) else {
            self.expectations.forget(key);
            return Ok(());
        };
        let ns = split_key(key).0.unwrap_or_default();
        let Some(selector) = rs.selector().filter(|s| !s.is_empty()) else {
            return Ok(());
        };
        // Its own pods and the namespace's orphans: the only ones it could claim.
        let uid = rs.meta().uid.as_deref().unwrap_or_default();
        let mut candidates = self.pods.controlled_by(uid);
        candidates.extend(self.pods.orphans(ns));
        candidates.retain(|p| pods::is_active(p));
        let owner = Owner {
            meta: rs.meta(),
            reference: pods::controller_ref(K::API_VERSION, K::KIND, rs.meta()),
            selector: &selector,
        };
        let api: Api<Pod> = Api::namespaced(self.ctx.client.clone(), ns);
        let owned = claim(&api, &owner, candidates).await?;
        let mut manage_error = None;
        if self.expectations.satisfied(key) && rs.meta().deletion_timestamp.is_none() {
            manage_error = self.manage(key, &rs, owned.clone(), &api).await.err();
        }
        let manage_error = manage_error.map(|(reason, e)| (reason, anyhow::Error::from(e)));
        let counts = self.counts(&rs, &owned, manage_error.as_ref());
        if let Some(updated) = rs.with_status(&counts) {
            let sets: Api<K> = Api::namespaced(self.ctx.client.clone(), ns);
            super::update_status(&sets, &updated, |latest| {
                if let Some(u) = latest.with_status(&counts) {
                    *latest = u;
                }
            })
            .await?;
        }
        let min_ready = rs.min_ready_seconds();
        if manage_error.is_none() && min_ready > 0 && counts.ready != counts.available {
            self.queue
                .add_after(key.to_string(), Duration::from_secs(min_ready as u64));
        }
        manage_error.map_or(Ok(()), |(_, e)| Err(e))
    }

    /// Creates or deletes pods so that `replicas` are active.
    async fn manage(
        &self,
        key: &str,
        rs: &K,
        mut owned: Vec<Arc<Pod>>,
        api: &Api<Pod>,
    ) -> Result<(), (&'static str, kube::Error)> {
        let want = rs.replicas().max(0) as usize;
        let name = rs.meta().name.clone().unwrap_or_default();
        if owned.len() < want {
            let missing = (want - owned.len()).min(BURST_REPLICAS);
            self.expectations.expect(key, missing, []);
            let pod = pods::from_template(
                &rs.template(),
                pods::controller_ref(K::API_VERSION, K::KIND, rs.meta()),
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

    fn counts(&self, rs: &K, owned: &[Arc<Pod>], error: Option<&(&str, anyhow::Error)>) -> Counts {
        let template_labels = rs.template().metadata.and_then(|m| m.labels);
        let now = jiff::Timestamp::now();
        let min_ready = rs.min_ready_seconds();
        let fully_labeled = owned
            .iter()
            .filter(|p| {
                template_labels.as_ref().is_none_or(|want| {
                    want.iter()
                        .all(|(k, v)| p.metadata.labels.as_ref().and_then(|l| l.get(k)) == Some(v))
                })
            })
            .count();
        Counts {
            replicas: owned.len() as i32,
            fully_labeled: fully_labeled as i32,
            ready: owned.iter().filter(|p| pods::is_ready(p)).count() as i32,
            available: owned.iter().filter(|p| pods::is_available(p, min_ready, now)).count() as i32,
            observed_generation: rs.meta().generation,
            failure: error.map(|(reason, e)| (reason.to_string(), format!("{e:#}"))),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(ready: i32, failure: Option<(&str, &str)>) -> Counts {
        Counts {
            replicas: 3,
            fully_labeled: 3,
            ready,
            available: ready,
            observed_generation: Some(2),
            failure: failure.map(|(r, m)| (r.to_string(), m.to_string())),
        }
    }

    #[test]
    fn status_is_rewritten_only_when_it_changes_and_keeps_the_failure_time() {
        let rc: ReplicationController = serde_json::from_value(json!({"metadata": {"name": "rc"}})).unwrap();
        let first = rc.with_status(&counts(1, None)).expect("a new status");
        let st = first.status.clone().unwrap();
        assert_eq!(
            (st.replicas, st.ready_replicas, st.observed_generation),
            (3, Some(1), Some(2))
        );
        assert!(first.with_status(&counts(1, None)).is_none());
        let failing = first.with_status(&counts(1, Some(("FailedCreate", "quota")))).unwrap();
        let since = failing.status.as_ref().unwrap().conditions.as_ref().unwrap()[0]
            .last_transition_time
            .clone();
        assert!(
            failing
                .with_status(&counts(1, Some(("FailedCreate", "quota"))))
                .is_none()
        );
        let rs: ReplicaSet = serde_json::from_value(json!({"metadata": {"name": "rs"}})).unwrap();
        let zero = rs.with_status(&counts(0, None)).unwrap();
        assert_eq!(zero.status.unwrap().ready_replicas, None);
        assert!(since.is_some());
    }
}
