//! One sync of a StatefulSet (upstream's stateful_set_control.go): find or record the
//! current and update revisions, bring every ordinal to a running pod (creating, replacing
//! failed ones, fixing identity), remove pods beyond the replicas from the highest ordinal
//! down, then roll the update out from the highest ordinal down to the partition. In
//! OrderedReady mode every step waits for the pods before it to be Running and Ready.

use super::Controller;
use super::identity::{self, revision_of};
use crate::history;
use crate::pods;
use futures::future::join_all;
use k8s_openapi::api::apps::v1::{ControllerRevision, StatefulSet, StatefulSetStatus};
use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use std::future::Future;
use std::sync::Arc;

fn phase(pod: &Pod) -> &str {
    pod.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or_default()
}

/// Known to the server: the server gives every pod a phase.
fn is_created(pod: &Pod) -> bool {
    !phase(pod).is_empty()
}

fn is_terminating(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_some()
}

fn is_running_and_ready(pod: &Pod) -> bool {
    phase(pod) == "Running" && pods::is_ready(pod)
}

fn is_running_and_available(pod: &Pod, min_ready: i32) -> bool {
    is_running_and_ready(pod) && pods::is_available(pod, min_ready, jiff::Timestamp::now())
}

fn is_healthy(pod: &Pod) -> bool {
    is_running_and_ready(pod) && !is_terminating(pod)
}

/// The counts of status over some lists of pods (upstream's updateStatus).
pub fn compute_status(
    status: &mut StatefulSetStatus,
    min_ready: i32,
    current: &str,
    update: &str,
    lists: &[&[Arc<Pod>]],
) {
    let (mut replicas, mut ready, mut available, mut at_current, mut at_update) = (0, 0, 0, 0, 0);
    for pod in lists.iter().flat_map(|l| l.iter()) {
        if is_created(pod) {
            replicas += 1;
        }
        if is_running_and_ready(pod) {
            ready += 1;
            if is_running_and_available(pod, min_ready) {
                available += 1;
            }
        }
        if is_created(pod) && !is_terminating(pod) {
            at_current += i32::from(revision_of(pod) == current);
            at_update += i32::from(revision_of(pod) == update);
        }
    }
    let count = |n: i32| (n > 0).then_some(n);
    status.replicas = replicas;
    status.ready_replicas = count(ready);
    status.available_replicas = Some(available);
    status.current_replicas = count(at_current);
    status.updated_replicas = count(at_update);
}

/// What the rolling update does next over the replicas, highest ordinal first.
#[derive(Debug, PartialEq, Eq)]
pub enum RollingStep {
    /// Delete this replica so it comes back at the update revision.
    Delete(usize),
    /// This replica is not healthy yet.
    Wait(usize),
    Done,
}

/// Upstream's update loop: from the highest index down to the partition, the first replica
/// not at the update revision is deleted, and an unhealthy one stops the walk.
pub fn rolling_step(replicas: &[Arc<Pod>], update: &str, partition: usize) -> RollingStep {
    for target in (partition..replicas.len()).rev() {
        let pod = &replicas[target];
        if revision_of(pod) != update && !is_terminating(pod) {
            return RollingStep::Delete(target);
        }
        if !is_healthy(pod) {
            return RollingStep::Wait(target);
        }
    }
    RollingStep::Done
}

/// Runs `f` over `0..n`: in order, stopping at the first that says stop or fails
/// (monotonic), or all at once in slow-start batches, stopping after a batch with a failure.
/// Returns whether to stop.
async fn run_for_all<F, Fut>(n: usize, monotonic: bool, f: F) -> anyhow::Result<bool>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = anyhow::Result<bool>>,
{
    if monotonic {
        for i in 0..n {
            if f(i).await? {
                return Ok(true);
            }
        }
        return Ok(false);
    }
    let (mut done, mut batch) = (0, 1);
    while done < n {
        let size = batch.min(n - done);
        let results = join_all((done..done + size).map(&f)).await;
        if let Some(Err(e)) = results.into_iter().find(Result::is_err) {
            return Err(e);
        }
        done += size;
        batch *= 2;
    }
    Ok(false)
}

fn spec_template(set: &StatefulSet) -> PodTemplateSpec {
    set.spec.as_ref().map(|s| s.template.clone()).unwrap_or_default()
}

fn name_of(r: &ControllerRevision) -> &str {
    r.metadata.name.as_deref().unwrap_or_default()
}

impl Controller {
    /// Upstream's UpdateStatefulSet: the sync, then history truncation whatever happened.
    pub(super) async fn update_set(&self, set: &StatefulSet, pods: Vec<Arc<Pod>>) -> anyhow::Result<StatefulSetStatus> {
        let Some(selector) = set.spec.as_ref().and_then(|s| pods::selector(Some(&s.selector))) else {
            return Ok(set.status.clone().unwrap_or_default());
        };
        let mut revisions = history::owned_or_orphaned(&self.revisions, &set.metadata, &selector);
        history::sort(&mut revisions);
        let (current, update, collisions) = self.current_and_update_revisions(set, &revisions).await?;
        let (status, result) = self.update_pods(set, &current, &update, collisions, &pods).await;
        let status_result = self.write_status(set, status.clone()).await;
        let truncated = self.truncate_history(set, &pods, &revisions, &current, &update).await;
        result?;
        status_result?;
        truncated?;
        Ok(status)
    }

    /// The revision pods are at (status.currentRevision, else the update revision) and the
    /// one for the current template: an equal existing revision (renumbered to be the newest
    /// if it was not), or a new one.
    async fn current_and_update_revisions(
        &self,
        set: &StatefulSet,
        revisions: &[Arc<ControllerRevision>],
    ) -> anyhow::Result<(ControllerRevision, ControllerRevision, i32)> {
        let mut collisions = set.status.as_ref().and_then(|s| s.collision_count).unwrap_or(0);
        let template = spec_template(set);
        let labels = template.metadata.as_ref().and_then(|m| m.labels.as_ref());
        let mut candidate = history::new_revision(
            &set.metadata,
            pods::controller_ref("apps/v1", "StatefulSet", &set.metadata),
            labels,
            history::template_patch(&template),
            history::next_revision(revisions),
            Some(collisions),
        );
        candidate.metadata.annotations = set.metadata.annotations.clone();
        let equal: Vec<&Arc<ControllerRevision>> = revisions
            .iter()
            .filter(|r| history::equal_revision(r, &candidate))
            .collect();
        let api = self.api(set.metadata.namespace.as_deref().unwrap_or_default());
        let update = match (equal.last(), revisions.last()) {
            (Some(eq), Some(latest)) if history::equal_revision(latest, eq) => (**latest).clone(),
            (Some(eq), _) => history::renumber(&api, eq, candidate.revision).await?,
            (None, _) => {
                let owner = set.metadata.name.as_deref().unwrap_or_default();
                history::create(&api, owner, &candidate, &mut collisions).await?
            }
        };
        let wanted = set.status.as_ref().and_then(|s| s.current_revision.as_deref());
        let current = revisions
            .iter()
            .find(|r| wanted.is_some_and(|w| w == name_of(r)))
            .map(|r| (**r).clone())
            .unwrap_or_else(|| update.clone());
        Ok((current, update, collisions))
    }

    /// Upstream's updateStatefulSet: the status it computed, and whether all went well.
    async fn update_pods(
        &self,
        set: &StatefulSet,
        current: &ControllerRevision,
        update: &ControllerRevision,
        collisions: i32,
        pods: &[Arc<Pod>],
    ) -> (StatefulSetStatus, anyhow::Result<()>) {
        let spec = set.spec.clone().unwrap_or_default();
        let min_ready = spec.min_ready_seconds.unwrap_or(0);
        let current_template = history::template_of(current).unwrap_or_else(|| spec_template(set));
        let update_template = history::template_of(update).unwrap_or_else(|| spec_template(set));
        let (cur_name, upd_name) = (name_of(current), name_of(update));
        let mut status = StatefulSetStatus {
            observed_generation: set.metadata.generation,
            current_revision: Some(cur_name.to_string()),
            update_revision: Some(upd_name.to_string()),
            collision_count: Some(collisions),
            conditions: set.status.as_ref().and_then(|s| s.conditions.clone()),
            ..Default::default()
        };
        compute_status(&mut status, min_ready, cur_name, upd_name, &[pods]);

        // Replicas by ordinal, the missing ones new (uncreated) pods; the rest condemned.
        let start = identity::start_ordinal(set);
        let mut slots: Vec<Option<Arc<Pod>>> = vec![None; identity::replicas(set) as usize];
        let mut condemned = Vec::new();
        for pod in pods {
            match identity::ordinal(pod) {
                Some(_) if identity::in_ordinal_range(set, pod) => {
                    let i = (identity::ordinal(pod).unwrap_or(start) - start) as usize;
                    slots[i] = Some(pod.clone());
                }
                Some(_) => condemned.push(pod.clone()),
                None => {}
            }
        }
        let replicas: Vec<Arc<Pod>> = slots
            .into_iter()
            .enumerate()
            .map(|(i, slot)| {
                slot.unwrap_or_else(|| {
                    let ordinal = start + i as i32;
                    let (template, revision) = match identity::gets_current_revision(set, ordinal) {
                        true => (&current_template, cur_name),
                        false => (&update_template, upd_name),
                    };
                    let mut pod = identity::new_pod(set, template, ordinal);
                    pod.metadata
                        .labels
                        .get_or_insert_default()
                        .insert(identity::REVISION_LABEL.into(), revision.into());
                    Arc::new(pod)
                })
            })
            .collect();
        condemned.sort_by_key(|p| std::cmp::Reverse(identity::ordinal(p)));
        let first_unhealthy = replicas
            .iter()
            .chain(condemned.iter().rev())
            .find(|p| !is_healthy(p))
            .and_then(|p| p.metadata.name.clone());

        if set.metadata.deletion_timestamp.is_some() {
            return (status, Ok(()));
        }
        let monotonic = spec.pod_management_policy.as_deref() != Some("Parallel");
        let recount = |status: &mut StatefulSetStatus| {
            compute_status(status, min_ready, cur_name, upd_name, &[&replicas, &condemned]);
        };

        let stop = run_for_all(replicas.len(), monotonic, |i| {
            self.process_replica(set, monotonic, min_ready, &replicas[i])
        })
        .await;
        if !matches!(stop, Ok(false)) {
            recount(&mut status);
            return (status, stop.map(|_| ()));
        }
        // Claims of condemned pods change owner for the retention policy before they go.
        let stop = run_for_all(condemned.len(), monotonic, |i| {
            let pod = condemned[i].clone();
            async move {
                if !self.claims_match_policy(set, &pod) {
                    self.update_claims_for_policy(set, &pod).await?;
                }
                Ok(false)
            }
        })
        .await;
        if !matches!(stop, Ok(false)) {
            recount(&mut status);
            return (status, stop.map(|_| ()));
        }
        let stop = run_for_all(condemned.len(), monotonic, |i| {
            self.process_condemned(set, first_unhealthy.as_deref(), monotonic, min_ready, &condemned[i])
        })
        .await;
        recount(&mut status);
        if !matches!(stop, Ok(false)) {
            return (status, stop.map(|_| ()));
        }
        let strategy = spec.update_strategy.clone().unwrap_or_default();
        if strategy.type_.as_deref() == Some("OnDelete") {
            return (status, Ok(()));
        }
        let partition = strategy.rolling_update.and_then(|r| r.partition).unwrap_or(0).max(0) as usize;
        if let RollingStep::Delete(target) = rolling_step(&replicas, upd_name, partition) {
            let result = self.delete_pod(set, &replicas[target]).await;
            let result = match result {
                Err(e) if matches!(e.downcast_ref::<kube::Error>(), Some(kube::Error::Api(s)) if s.code == 404) => {
                    Ok(())
                }
                other => other,
            };
            status.current_replicas = status.current_replicas.map(|n| n - 1).filter(|n| *n > 0);
            return (status, result);
        }
        (status, Ok(()))
    }

    /// One replica (upstream's processReplica); `Ok(true)` stops an ordered sync here.
    async fn process_replica(
        &self,
        set: &StatefulSet,
        monotonic: bool,
        min_ready: i32,
        pod: &Arc<Pod>,
    ) -> anyhow::Result<bool> {
        // Failed or finished pods are replaced: deleted now, recreated once gone.
        if matches!(phase(pod), "Failed" | "Succeeded") {
            if !is_terminating(pod) {
                self.delete_pod(set, pod).await?;
            }
            return Ok(true);
        }
        if !is_created(pod) {
            if self.claim_is_stale(set, pod) {
                return Ok(true);
            }
            self.create_pod(set, pod).await?;
            if monotonic {
                return Ok(true);
            }
        }
        if phase(pod) == "Pending" {
            self.create_claims(set, pod).await?;
            if let Err(e) = self.update_claims_for_policy(set, pod).await {
                self.pod_event("update", set, pod, Some(&format!("{e:#}")));
                return Err(e);
            }
        }
        if monotonic && (is_terminating(pod) || !is_running_and_available(pod, min_ready)) {
            return Ok(true);
        }
        let consistent = identity::identity_matches(set, pod)
            && identity::storage_matches(set, pod)
            && self.claims_match_policy(set, pod);
        if !consistent {
            self.update_pod(set, pod).await?;
        }
        Ok(false)
    }

    /// One pod beyond the replicas (upstream's processCondemned): deleted, in ordered mode
    /// only once it is healthy or the first unhealthy pod, and one at a time.
    async fn process_condemned(
        &self,
        set: &StatefulSet,
        first_unhealthy: Option<&str>,
        monotonic: bool,
        min_ready: i32,
        pod: &Arc<Pod>,
    ) -> anyhow::Result<bool> {
        if is_terminating(pod) {
            return Ok(monotonic);
        }
        let is_first_unhealthy = pod.metadata.name.as_deref() == first_unhealthy;
        if monotonic && !is_running_and_available(pod, min_ready) && !is_first_unhealthy {
            return Ok(true);
        }
        self.delete_pod(set, pod).await?;
        Ok(true)
    }

    /// Writes status when it changed; a finished rolling update makes the update revision
    /// current (upstream's completeRollingUpdate).
    async fn write_status(&self, set: &StatefulSet, mut status: StatefulSetStatus) -> anyhow::Result<()> {
        let rolling = set
            .spec
            .as_ref()
            .and_then(|s| s.update_strategy.as_ref())
            .and_then(|s| s.type_.as_deref())
            .unwrap_or("RollingUpdate")
            == "RollingUpdate";
        let n = |v: Option<i32>| v.unwrap_or(0);
        if rolling && n(status.updated_replicas) == status.replicas && n(status.ready_replicas) == status.replicas {
            status.current_replicas = status.updated_replicas;
            status.current_revision = status.update_revision.clone();
        }
        let old = set.status.clone().unwrap_or_default();
        let changed = status.observed_generation.unwrap_or(0) > old.observed_generation.unwrap_or(0)
            || status.replicas != old.replicas
            || n(status.current_replicas) != n(old.current_replicas)
            || n(status.ready_replicas) != n(old.ready_replicas)
            || n(status.updated_replicas) != n(old.updated_replicas)
            || status.current_revision != old.current_revision
            || n(status.available_replicas) != n(old.available_replicas)
            || status.update_revision != old.update_revision;
        if !changed {
            return Ok(());
        }
        let api = self.api(set.metadata.namespace.as_deref().unwrap_or_default());
        super::super::update_status(&api, set, |s| s.status = Some(status.clone())).await?;
        Ok(())
    }

    /// Deletes the oldest revisions beyond revisionHistoryLimit that are neither current,
    /// update, nor what some pod runs.
    async fn truncate_history(
        &self,
        set: &StatefulSet,
        pods: &[Arc<Pod>],
        revisions: &[Arc<ControllerRevision>],
        current: &ControllerRevision,
        update: &ControllerRevision,
    ) -> anyhow::Result<()> {
        let live = |r: &ControllerRevision| {
            let name = name_of(r);
            name == name_of(current) || name == name_of(update) || pods.iter().any(|p| revision_of(p) == name)
        };
        let old: Vec<&Arc<ControllerRevision>> = revisions.iter().filter(|r| !live(r)).collect();
        let limit = set
            .spec
            .as_ref()
            .and_then(|s| s.revision_history_limit)
            .unwrap_or(10)
            .max(0) as usize;
        let api: kube::Api<ControllerRevision> = self.api(set.metadata.namespace.as_deref().unwrap_or_default());
        for r in old.iter().take(old.len().saturating_sub(limit)) {
            super::super::ignore_not_found(api.delete(name_of(r), &Default::default()).await)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(name: &str, revision: &str, ready: bool) -> Arc<Pod> {
        Arc::new(
            serde_json::from_value(
                json!({"metadata": {"name": name, "labels": {identity::REVISION_LABEL: revision}},
                "status": {"phase": "Running", "conditions": [
                    {"type": "Ready", "status": if ready {"True"} else {"False"}}]}}),
            )
            .unwrap(),
        )
    }

    #[test]
    fn rolling_update_goes_from_the_highest_ordinal_down_to_the_partition() {
        let all_old = [
            pod("web-0", "a", true),
            pod("web-1", "a", true),
            pod("web-2", "a", true),
        ];
        assert_eq!(rolling_step(&all_old, "b", 0), RollingStep::Delete(2));
        assert_eq!(rolling_step(&all_old, "b", 2), RollingStep::Delete(2));
        assert_eq!(rolling_step(&all_old, "b", 3), RollingStep::Done);
        // web-2 came back updated but is not ready yet: wait for it.
        let waiting = [
            pod("web-0", "a", true),
            pod("web-1", "a", true),
            pod("web-2", "b", false),
        ];
        assert_eq!(rolling_step(&waiting, "b", 0), RollingStep::Wait(2));
        let next = [
            pod("web-0", "a", true),
            pod("web-1", "a", true),
            pod("web-2", "b", true),
        ];
        assert_eq!(rolling_step(&next, "b", 0), RollingStep::Delete(1));
        // The partition keeps web-0 and web-1 at the old revision.
        assert_eq!(rolling_step(&next, "b", 2), RollingStep::Done);
    }

    #[test]
    fn status_counts_created_ready_and_revisions() {
        let mut uncreated = (*pod("web-2", "b", false)).clone();
        uncreated.status = None;
        let pods = [pod("web-0", "a", true), pod("web-1", "b", false), Arc::new(uncreated)];
        let mut status = StatefulSetStatus::default();
        compute_status(&mut status, 0, "a", "b", &[&pods]);
        assert_eq!(status.replicas, 2);
        assert_eq!(status.ready_replicas, Some(1));
        assert_eq!(status.available_replicas, Some(1));
        assert_eq!(status.current_replicas, Some(1));
        assert_eq!(status.updated_replicas, Some(1));
    }

    #[tokio::test]
    async fn ordered_runs_stop_at_the_first_blocked_replica() {
        let seen = std::sync::Mutex::new(Vec::new());
        let stop = run_for_all(4, true, |i| {
            seen.lock().unwrap().push(i);
            async move { Ok(i == 1) }
        })
        .await;
        assert!(stop.unwrap());
        assert_eq!(*seen.lock().unwrap(), [0, 1]);
        let stop = run_for_all(4, false, |i| async move { Ok(i == 1) }).await;
        assert!(!stop.unwrap());
    }
}
