//! deployment: rolls a Deployment's pod template out through ReplicaSets, as upstream: one
//! ReplicaSet per template revision (named `<deployment>-<pod-template-hash>`), scaled up and
//! the old ones down within maxSurge/maxUnavailable (RollingUpdate) or all old ones to zero
//! first (Recreate); paused deployments only scale; old ReplicaSets beyond
//! revisionHistoryLimit are deleted; status carries the counts and the Available and
//! Progressing conditions. `kubectl rollout undo` works by putting an old template back,
//! which finds its old ReplicaSet again and gives it the next revision.

mod status;
mod util;

use super::Ctx;
use crate::events::NORMAL;
use crate::informer::{Change, Informer, key_of, split_key};
use crate::owners::{Owner, claim};
use crate::pods;
use crate::queue::{Queue, run_workers};
use k8s_openapi::api::apps::v1::{Deployment, DeploymentStatus, ReplicaSet, ReplicaSetSpec};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, PostParams};
use std::sync::Arc;
use util::{replicas, rs_replicas};

struct Controller {
    ctx: Ctx,
    deployments: Informer<Deployment>,
    sets: Informer<ReplicaSet>,
    pods: Informer<Pod>,
    queue: Arc<Queue<String>>,
}

pub async fn run(ctx: Ctx) -> anyhow::Result<()> {
    let c = Arc::new(Controller {
        deployments: ctx.informers.get(),
        sets: ctx.informers.get(),
        pods: ctx.informers.get(),
        queue: Queue::new(),
        ctx: ctx.clone(),
    });
    c.deployments.queue_keys(c.queue.clone());
    let (q, finder) = (c.queue.clone(), c.deployments.clone());
    c.sets.on_change(move |change| {
        let (old, new) = match change {
            Change::Added(rs) | Change::Deleted(rs) => (None, rs),
            Change::Updated { old, new } => (Some(old), new),
        };
        for rs in old.into_iter().chain([new]) {
            match pods::controller_of(&rs.metadata).filter(|r| r.kind == "Deployment") {
                Some(r) => q.add(format!(
                    "{}/{}",
                    rs.metadata.namespace.as_deref().unwrap_or_default(),
                    r.name
                )),
                None => selecting(&finder, &rs.metadata).into_iter().for_each(|k| q.add(k)),
            }
        }
    });
    // Recreate waits for the old pods to be gone.
    let (q, sets) = (c.queue.clone(), c.sets.clone());
    c.pods.on_change(move |change| {
        if let Change::Deleted(pod) = change
            && let Some(r) = pods::controller_of(&pod.metadata).filter(|r| r.kind == "ReplicaSet")
        {
            let ns = pod.metadata.namespace.as_deref().unwrap_or_default();
            if let Some(rs) = sets.get(&format!("{ns}/{}", r.name))
                && let Some(d) = pods::controller_of(&rs.metadata).filter(|r| r.kind == "Deployment")
            {
                q.add(format!("{ns}/{}", d.name));
            }
        }
    });
    c.deployments.synced().await;
    c.sets.synced().await;
    c.pods.synced().await;
    run_workers(
        "deployment",
        c.queue.clone(),
        ctx.opts.concurrent_deployment_syncs,
        move |key: String| {
            let c = c.clone();
            async move { c.sync(&key).await }
        },
    )
    .await;
    Ok(())
}

/// Deployments in the namespace whose selector matches an orphaned ReplicaSet.
fn selecting(deployments: &Informer<Deployment>, meta: &ObjectMeta) -> Vec<String> {
    let ns = meta.namespace.as_deref().unwrap_or_default();
    deployments
        .list_namespace(ns)
        .iter()
        .filter(|d| {
            pods::selector(d.spec.as_ref().map(|s| &s.selector))
                .is_some_and(|sel| !sel.is_empty() && pods::matches(&sel, meta.labels.as_ref()))
        })
        .map(|d| key_of(d.as_ref()))
        .collect()
}

/// One sync's view: the deployment and its ReplicaSets.
struct Rollout {
    d: Arc<Deployment>,
    ns: String,
    new_rs: Option<Arc<ReplicaSet>>,
    old: Vec<Arc<ReplicaSet>>,
}

impl Rollout {
    fn all(&self) -> Vec<Arc<ReplicaSet>> {
        self.new_rs.iter().cloned().chain(self.old.iter().cloned()).collect()
    }
}

impl Controller {
    fn api<K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>>(
        &self,
        ns: &str,
    ) -> Api<K> {
        Api::namespaced(self.ctx.client.clone(), ns)
    }

    async fn sync(&self, key: &str) -> anyhow::Result<()> {
        let Some(d) = self.deployments.get(key) else {
            return Ok(());
        };
        let ns = split_key(key).0.unwrap_or_default().to_string();
        let spec = d.spec.clone().unwrap_or_default();
        let Some(selector) = pods::selector(Some(&spec.selector)).filter(|s| !s.is_empty()) else {
            return Ok(());
        };
        let owner = Owner {
            meta: &d.metadata,
            reference: pods::controller_ref("apps/v1", "Deployment", &d.metadata),
            selector: &selector,
        };
        let mut candidates = self.sets.controlled_by(d.metadata.uid.as_deref().unwrap_or_default());
        candidates.extend(self.sets.orphans(&ns));
        let owned = claim(&self.api(&ns), &owner, candidates).await?;
        let (mut new_rs, mut old) = (None, Vec::new());
        let template = spec.template.clone();
        let mut sorted = owned;
        sorted.sort_by_key(|r| r.metadata.creation_timestamp.as_ref().map(|t| t.0));
        for rs in sorted {
            let same = rs
                .spec
                .as_ref()
                .and_then(|s| s.template.as_ref())
                .is_some_and(|t| util::equal_ignore_hash(t, &template));
            if same && new_rs.is_none() {
                new_rs = Some(rs);
            } else {
                old.push(rs);
            }
        }
        let mut r = Rollout {
            d: d.clone(),
            ns,
            new_rs,
            old,
        };
        if d.metadata.deletion_timestamp.is_some() {
            return self.sync_status(&r).await;
        }
        let paused = spec.paused == Some(true);
        if paused || self.is_scaling_event(&r) {
            self.sync_revision(&mut r, false).await?;
            self.scale(&r).await?;
            if paused {
                self.cleanup(&r).await?;
            }
            return self.sync_status(&r).await;
        }
        if util::is_recreate(&d) {
            self.rollout_recreate(&mut r).await
        } else {
            self.rollout_rolling(&mut r).await
        }
    }

    /// The replica count changed while the template did not: an active ReplicaSet's
    /// desired-replicas annotation disagrees with the deployment.
    fn is_scaling_event(&self, r: &Rollout) -> bool {
        let want = replicas(&r.d).to_string();
        r.all().iter().filter(|rs| rs_replicas(rs) > 0).any(|rs| {
            rs.metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(util::DESIRED_REPLICAS))
                .is_some_and(|v| *v != want)
        })
    }

    /// Gives the new ReplicaSet the next revision (creating it if asked) and records the
    /// revision on the deployment.
    async fn sync_revision(&self, r: &mut Rollout, create: bool) -> anyhow::Result<()> {
        let max_old = r.old.iter().map(|rs| util::revision(rs)).max().unwrap_or(0);
        let next = max_old + 1;
        let max = replicas(&r.d) + util::max_surge(&r.d);
        if let Some(rs) = r.new_rs.clone() {
            let mut updated = (*rs).clone();
            let mut changed = false;
            let annotations = updated.metadata.annotations.get_or_insert_default();
            for (k, v) in util::copied_annotations(&r.d) {
                if annotations.get(&k) != Some(&v) {
                    annotations.insert(k, v);
                    changed = true;
                }
            }
            if util::revision(&rs) < next {
                annotations.insert(util::REVISION.into(), next.to_string());
                changed = true;
            }
            if !annotations.contains_key(util::DESIRED_REPLICAS) {
                changed |= util::set_replica_annotations(&mut updated, replicas(&r.d), max);
            }
            if changed {
                let name = rs.metadata.name.clone().unwrap_or_default();
                r.new_rs = Some(Arc::new(
                    self.api(&r.ns).replace(&name, &PostParams::default(), &updated).await?,
                ));
            }
        } else if create {
            r.new_rs = Some(Arc::new(self.create_new_rs(r, next, max).await?));
        }
        let revision = r
            .new_rs
            .as_ref()
            .map(|rs| util::revision(rs))
            .unwrap_or(next)
            .to_string();
        let current = r.d.metadata.annotations.as_ref().and_then(|a| a.get(util::REVISION));
        if r.new_rs.is_some() && current != Some(&revision) {
            let mut d = (*r.d).clone();
            d.metadata
                .annotations
                .get_or_insert_default()
                .insert(util::REVISION.into(), revision);
            let name = d.metadata.name.clone().unwrap_or_default();
            r.d = Arc::new(self.api(&r.ns).replace(&name, &PostParams::default(), &d).await?);
        }
        Ok(())
    }

    async fn create_new_rs(&self, r: &mut Rollout, revision: i64, max: i32) -> anyhow::Result<ReplicaSet> {
        let d = r.d.clone();
        let spec = d.spec.clone().unwrap_or_default();
        let collisions = d.status.as_ref().and_then(|s| s.collision_count);
        let hash = util::template_hash(&spec.template, collisions);
        let d = d.as_ref();
        let mut template = spec.template.clone();
        template
            .metadata
            .get_or_insert_default()
            .labels
            .get_or_insert_default()
            .insert(util::HASH_LABEL.into(), hash.clone());
        let mut selector = spec.selector.clone();
        selector
            .match_labels
            .get_or_insert_default()
            .insert(util::HASH_LABEL.into(), hash.clone());
        let name = format!("{}-{hash}", d.metadata.name.as_deref().unwrap_or_default());
        let all = r.all();
        let count = util::new_rs_replicas(d, &all, None);
        let mut annotations = util::copied_annotations(d);
        annotations.insert(util::REVISION.into(), revision.to_string());
        annotations.insert(util::DESIRED_REPLICAS.into(), replicas(d).to_string());
        annotations.insert(util::MAX_REPLICAS.into(), max.to_string());
        let rs = ReplicaSet {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                namespace: Some(r.ns.clone()),
                labels: template.metadata.as_ref().and_then(|m| m.labels.clone()),
                annotations: Some(annotations),
                owner_references: Some(vec![pods::controller_ref("apps/v1", "Deployment", &d.metadata)]),
                ..Default::default()
            },
            spec: Some(ReplicaSetSpec {
                replicas: Some(count),
                min_ready_seconds: spec.min_ready_seconds,
                selector,
                template: Some(template),
            }),
            status: None,
        };
        let api: Api<ReplicaSet> = self.api(&r.ns);
        match api.create(&PostParams::default(), &rs).await {
            Ok(created) => {
                if count > 0 {
                    let msg = format!("Scaled up replica set {name} from 0 to {count}");
                    self.ctx.recorder.event(d, NORMAL, "ScalingReplicaSet", &msg);
                }
                let msg = format!("Created new replica set \"{name}\"");
                let mut st = d.status.clone().unwrap_or_default();
                status::set_condition(
                    &mut st,
                    status::new_condition(status::PROGRESSING, "True", "NewReplicaSetCreated", msg),
                );
                if let Some(written) = self.write_status(d, st).await? {
                    r.d = Arc::new(written);
                }
                Ok(created)
            }
            Err(kube::Error::Api(s)) if s.code == 409 => {
                // Ours already (a stale cache), or a hash collision: then count it and retry.
                let existing = api.get(&name).await?;
                let mine =
                    pods::controller_of(&existing.metadata).is_some_and(|o| Some(&o.uid) == d.metadata.uid.as_ref());
                let same = existing
                    .spec
                    .as_ref()
                    .and_then(|s| s.template.as_ref())
                    .is_some_and(|t| util::equal_ignore_hash(t, &spec.template));
                if mine && same {
                    return Ok(existing);
                }
                let mut st = d.status.clone().unwrap_or_default();
                st.collision_count = Some(collisions.unwrap_or(0) + 1);
                self.write_status(d, st).await?;
                anyhow::bail!("replica set {name} already exists with another template; collision count raised")
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Sets a ReplicaSet's replicas and replica annotations; whether it changed.
    async fn scale_rs(&self, r: &Rollout, rs: &ReplicaSet, to: i32) -> anyhow::Result<bool> {
        let from = rs_replicas(rs);
        let mut updated = rs.clone();
        let max = replicas(&r.d) + util::max_surge(&r.d);
        let annotated = util::set_replica_annotations(&mut updated, replicas(&r.d), max);
        if from == to && !annotated {
            return Ok(false);
        }
        updated.spec.get_or_insert_default().replicas = Some(to);
        let name = rs.metadata.name.clone().unwrap_or_default();
        self.api::<ReplicaSet>(&r.ns)
            .replace(&name, &PostParams::default(), &updated)
            .await?;
        if from != to {
            let way = if to > from { "up" } else { "down" };
            let msg = format!("Scaled {way} replica set {name} from {from} to {to}");
            self.ctx.recorder.event(r.d.as_ref(), NORMAL, "ScalingReplicaSet", &msg);
        }
        Ok(from != to)
    }

    async fn rollout_rolling(&self, r: &mut Rollout) -> anyhow::Result<()> {
        self.sync_revision(r, true).await?;
        let all = r.all();
        let want = replicas(&r.d);
        if let Some(new_rs) = r.new_rs.clone() {
            let current = rs_replicas(&new_rs);
            let target = if current > want {
                want
            } else {
                util::new_rs_replicas(&r.d, &all, Some(&new_rs))
            };
            if target != current && self.scale_rs(r, &new_rs, target).await? {
                return self.sync_status(r).await;
            }
        }
        if self.reconcile_old(r).await? {
            return self.sync_status(r).await;
        }
        self.finish(r).await
    }

    /// Scales old ReplicaSets down as far as maxUnavailable allows: unhealthy replicas first,
    /// then available ones, oldest ReplicaSet first.
    async fn reconcile_old(&self, r: &Rollout) -> anyhow::Result<bool> {
        let mut old: Vec<Arc<ReplicaSet>> = r.old.iter().filter(|rs| rs_replicas(rs) > 0).cloned().collect();
        if old.is_empty() {
            return Ok(false);
        }
        old.sort_by_key(|rs| rs.metadata.creation_timestamp.as_ref().map(|t| t.0));
        let all = r.all();
        let all_pods: i32 = all.iter().map(|rs| rs_replicas(rs)).sum();
        let min_available = replicas(&r.d) - util::max_unavailable(&r.d);
        let new_unavailable = r
            .new_rs
            .as_ref()
            .map_or(0, |rs| rs_replicas(rs) - util::rs_available(rs));
        let max_scaled_down = all_pods - min_available - new_unavailable;
        if max_scaled_down <= 0 {
            return Ok(false);
        }
        let mut changed = false;
        let mut cleaned = 0;
        let mut remaining = Vec::new();
        for rs in &old {
            let unhealthy = rs_replicas(rs) - util::rs_available(rs);
            let n = (max_scaled_down - cleaned).min(unhealthy).max(0);
            if n > 0 {
                changed |= self.scale_rs(r, rs, rs_replicas(rs) - n).await?;
                cleaned += n;
            }
            remaining.push((rs.clone(), rs_replicas(rs) - n));
        }
        // A ReplicaSet just scaled down still reports the pods it is deleting as available
        // until its controller catches up; counting them would let a second pass scale down
        // again below minAvailable.
        let available: i32 = all.iter().map(|rs| util::rs_available(rs).min(rs_replicas(rs))).sum();
        let mut allowed = available - min_available;
        for (rs, replicas_now) in remaining {
            if allowed <= 0 {
                break;
            }
            let n = replicas_now.min(allowed);
            if n > 0 {
                changed |= self.scale_rs(r, &rs, replicas_now - n).await?;
                allowed -= n;
            }
        }
        Ok(changed)
    }

    async fn rollout_recreate(&self, r: &mut Rollout) -> anyhow::Result<()> {
        self.sync_revision(r, false).await?;
        let mut scaled = false;
        for rs in r.old.clone().iter().filter(|rs| rs_replicas(rs) > 0) {
            scaled |= self.scale_rs(r, rs, 0).await?;
        }
        if scaled {
            return self.sync_status(r).await;
        }
        let old_running = r.old.iter().any(|rs| {
            let pods = self.pods.controlled_by(rs.metadata.uid.as_deref().unwrap_or_default());
            pods.iter().any(|p| {
                !matches!(
                    p.status.as_ref().and_then(|s| s.phase.as_deref()),
                    Some("Failed" | "Succeeded")
                )
            })
        });
        if old_running {
            return self.sync_status(r).await;
        }
        if r.new_rs.is_none() {
            self.sync_revision(r, true).await?;
        }
        if let Some(new_rs) = r.new_rs.clone()
            && self.scale_rs(r, &new_rs, replicas(&r.d)).await?
        {
            return self.sync_status(r).await;
        }
        self.finish(r).await
    }

    /// After the last step: old revisions beyond the history limit go, then the status.
    async fn finish(&self, r: &Rollout) -> anyhow::Result<()> {
        let st = status::calculate(&r.d, &r.all(), r.new_rs.as_deref());
        if status::complete(&r.d, &st) {
            self.cleanup(r).await?;
        }
        self.sync_status(r).await
    }

    /// Proportional scaling of a paused or resized deployment (upstream's scale()).
    async fn scale(&self, r: &Rollout) -> anyhow::Result<()> {
        let want = replicas(&r.d);
        let active: Vec<Arc<ReplicaSet>> = r.all().into_iter().filter(|rs| rs_replicas(rs) > 0).collect();
        if active.len() <= 1 {
            let target = active.first().cloned().or_else(|| r.new_rs.clone()).or_else(|| {
                r.old
                    .iter()
                    .max_by_key(|rs| rs.metadata.creation_timestamp.as_ref().map(|t| t.0))
                    .cloned()
            });
            if let Some(rs) = target {
                self.scale_rs(r, &rs, want).await?;
            }
            return Ok(());
        }
        if let Some(new_rs) = &r.new_rs
            && rs_replicas(new_rs) == want
            && util::rs_available(new_rs) >= want
        {
            for rs in &r.old {
                self.scale_rs(r, rs, 0).await?;
            }
            return Ok(());
        }
        let allowed = want + util::max_surge(&r.d);
        let current: i32 = active.iter().map(|rs| rs_replicas(rs)).sum();
        let to_add = allowed - current;
        let mut sizes: Vec<(Arc<ReplicaSet>, i32)> = active.iter().map(|rs| (rs.clone(), rs_replicas(rs))).collect();
        // Largest first; the newest wins ties on the way up, the oldest on the way down.
        sizes.sort_by(|(a, x), (b, y)| {
            let age = |rs: &ReplicaSet| rs.metadata.creation_timestamp.as_ref().map(|t| t.0);
            let by_age = if to_add > 0 {
                age(b).cmp(&age(a))
            } else {
                age(a).cmp(&age(b))
            };
            y.cmp(x).then(by_age)
        });
        let mut added = 0;
        let mut targets = Vec::new();
        for (rs, size) in &sizes {
            let share = if current > 0 {
                (i64::from(*size) * i64::from(to_add) / i64::from(current)) as i32
            } else {
                0
            };
            let share = if to_add > 0 {
                share.min(to_add - added)
            } else {
                share.max(to_add - added)
            };
            added += share;
            targets.push((rs.clone(), size + share));
        }
        if let Some(first) = targets.first_mut() {
            first.1 = (first.1 + to_add - added).max(0);
        }
        for (rs, to) in targets {
            self.scale_rs(r, &rs, to.max(0)).await?;
        }
        Ok(())
    }

    /// Deletes old, empty ReplicaSets beyond revisionHistoryLimit, lowest revisions first.
    async fn cleanup(&self, r: &Rollout) -> anyhow::Result<()> {
        let limit =
            r.d.spec
                .as_ref()
                .and_then(|s| s.revision_history_limit)
                .unwrap_or(10)
                .max(0) as usize;
        let mut alive: Vec<&Arc<ReplicaSet>> = r
            .old
            .iter()
            .filter(|rs| rs.metadata.deletion_timestamp.is_none())
            .collect();
        if alive.len() <= limit {
            return Ok(());
        }
        alive.sort_by_key(|rs| util::revision(rs));
        let excess = alive.len() - limit;
        let api: Api<ReplicaSet> = self.api(&r.ns);
        let empty = |rs: &ReplicaSet| {
            rs_replicas(rs) == 0
                && rs.status.as_ref().map_or(0, |s| s.replicas) == 0
                && rs.status.as_ref().and_then(|s| s.observed_generation) >= rs.metadata.generation
        };
        for rs in alive.into_iter().take(excess).filter(|rs| empty(rs)) {
            let name = rs.metadata.name.clone().unwrap_or_default();
            super::ignore_not_found(api.delete(&name, &DeleteParams::default()).await)?;
        }
        Ok(())
    }

    async fn sync_status(&self, r: &Rollout) -> anyhow::Result<()> {
        let d = &r.d;
        let mut st = status::calculate(d, &r.all(), r.new_rs.as_deref());
        let paused = d.spec.as_ref().and_then(|s| s.paused) == Some(true);
        let progressing = status::condition(&st, status::PROGRESSING).cloned();
        if paused && progressing.as_ref().and_then(|c| c.reason.as_deref()) != Some("DeploymentPaused") {
            let c = status::new_condition(
                status::PROGRESSING,
                "Unknown",
                "DeploymentPaused",
                "Deployment is paused".into(),
            );
            st.conditions
                .get_or_insert_default()
                .retain(|c| c.type_ != status::PROGRESSING);
            st.conditions.get_or_insert_default().push(c);
        } else if !paused && progressing.as_ref().and_then(|c| c.reason.as_deref()) == Some("DeploymentPaused") {
            let c = status::new_condition(
                status::PROGRESSING,
                "Unknown",
                "DeploymentResumed",
                "Deployment is resumed".into(),
            );
            st.conditions
                .get_or_insert_default()
                .retain(|c| c.type_ != status::PROGRESSING);
            st.conditions.get_or_insert_default().push(c);
        }
        let recheck = status::progress(d, r.new_rs.as_deref(), &mut st);
        self.write_status(d, st).await?;
        if let Some(after) = recheck {
            self.queue.add_after(key_of(d.as_ref()), after);
        }
        Ok(())
    }

    /// Writes the status if it changed; the deployment as written.
    async fn write_status(&self, d: &Deployment, st: DeploymentStatus) -> anyhow::Result<Option<Deployment>> {
        if d.status.as_ref() == Some(&st) {
            return Ok(None);
        }
        let api: Api<Deployment> = self.api(d.metadata.namespace.as_deref().unwrap_or_default());
        Ok(super::update_status(&api, d, |x| x.status = Some(st.clone())).await?)
    }
}
