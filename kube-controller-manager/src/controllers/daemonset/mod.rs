//! daemonset: one pod of each DaemonSet on every node it fits (upstream's daemon
//! controller). Pods are pinned to their node by required node affinity on `metadata.name`
//! and bound by the scheduler; nodes added later get one, pods on nodes the set no longer fits
//! (or that are gone, if never bound) are deleted, failed pods are replaced with backoff.
//! Template changes roll out with RollingUpdate (maxUnavailable, or maxSurge beside the old
//! pod) or wait for deletions (OnDelete), tracked through ControllerRevisions.

mod placement;
mod revisions;
mod update;

use super::Ctx;
use super::replicaset::{message, slow_start};
use crate::events::{NORMAL, WARNING};
use crate::expectations::Expectations;
use crate::informer::{Change, Informer, key_of};
use crate::owners::{Owner, claim, route_pod_changes};
use crate::pods;
use crate::queue::{Queue, run_workers};
use api_types::labels::Selector;
use futures::future::join_all;
use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet, DaemonSetStatus};
use k8s_openapi::api::core::v1::{Node, Pod, PodTemplateSpec};
use kube::api::{Api, DeleteParams, PostParams};
use placement::{Fit, node_should_run};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use update::{GENERATION_LABEL, HASH_LABEL};

/// Upstream's cap on creations or deletions in one sync.
const BURST_REPLICAS: usize = 250;
/// Backoff between deletions of failed pods on one node (upstream: 1s doubling to 15m).
const FAILED_BACKOFF_INITIAL: Duration = Duration::from_secs(1);
const FAILED_BACKOFF_MAX: Duration = Duration::from_secs(15 * 60);

pub(super) struct Controller {
    ctx: Ctx,
    sets: Informer<DaemonSet>,
    revisions: Informer<ControllerRevision>,
    pods: Informer<Pod>,
    nodes: Informer<Node>,
    expectations: Arc<Expectations>,
    queue: Arc<Queue<String>>,
    /// Per DaemonSet, generation and node: when a failed pod was last deleted, and the delay.
    failed_backoff: Mutex<HashMap<String, (Instant, Duration)>>,
}

pub async fn run(ctx: Ctx) -> anyhow::Result<()> {
    let c = Arc::new(Controller {
        sets: ctx.informers.get(),
        revisions: ctx.informers.get(),
        pods: ctx.informers.get(),
        nodes: ctx.informers.get(),
        expectations: Arc::default(),
        queue: Queue::new(),
        failed_backoff: Mutex::default(),
        ctx: ctx.clone(),
    });
    let (q, e) = (c.queue.clone(), c.expectations.clone());
    c.sets.on_change(move |change| match change {
        Change::Added(ds) | Change::Updated { new: ds, .. } => q.add(key_of(ds.as_ref())),
        Change::Deleted(ds) => {
            let key = key_of(ds.as_ref());
            e.forget(&key);
            q.add(key);
        }
    });
    let (q, sets) = (c.queue.clone(), c.sets.clone());
    c.revisions.on_change(move |change| {
        let (old, new) = match change {
            Change::Added(r) | Change::Deleted(r) => (None, r),
            Change::Updated { old, new } => (Some(old), new),
        };
        for r in old.into_iter().chain([new]) {
            match pods::controller_of(&r.metadata).filter(|o| o.kind == "DaemonSet") {
                Some(o) => q.add(format!(
                    "{}/{}",
                    r.metadata.namespace.as_deref().unwrap_or_default(),
                    o.name
                )),
                None if pods::controller_of(&r.metadata).is_none() => {
                    selecting(&sets, &r.metadata).into_iter().for_each(|k| q.add(k))
                }
                None => {}
            }
        }
    });
    let finder = c.sets.clone();
    route_pod_changes(
        &c.pods,
        "DaemonSet",
        c.expectations.clone(),
        c.queue.clone(),
        move |pod| selecting(&finder, &pod.metadata),
    );
    // A pod turning ready becomes available minReadySeconds later.
    let (q, sets) = (c.queue.clone(), c.sets.clone());
    c.pods.on_change(move |change| {
        if let Change::Updated { old, new } = change
            && !pods::is_ready(old)
            && pods::is_ready(new)
            && let Some(o) = pods::controller_of(&new.metadata).filter(|o| o.kind == "DaemonSet")
        {
            let key = format!("{}/{}", new.metadata.namespace.as_deref().unwrap_or_default(), o.name);
            let min_ready = sets
                .get(&key)
                .and_then(|ds| ds.spec.as_ref()?.min_ready_seconds)
                .unwrap_or(0);
            if min_ready > 0 {
                q.add_after(key, Duration::from_secs(min_ready as u64 + 1));
            }
        }
    });
    let (q, sets) = (c.queue.clone(), c.sets.clone());
    c.nodes.on_change(move |change| match change {
        Change::Added(node) => {
            for ds in sets.list() {
                if node_should_run(&template(&ds).spec.unwrap_or_default(), node).should_run {
                    q.add(key_of(ds.as_ref()));
                }
            }
        }
        Change::Updated { old, new } => {
            if ignorable_node_update(old, new) {
                return;
            }
            for ds in sets.list() {
                let spec = template(&ds).spec.unwrap_or_default();
                if node_should_run(&spec, old) != node_should_run(&spec, new) {
                    q.add(key_of(ds.as_ref()));
                }
            }
        }
        // Pods pinned to a node that is gone can never be bound: the sync removes them.
        Change::Deleted(_) => sets.list().iter().for_each(|ds| q.add(key_of(ds.as_ref()))),
    });
    c.sets.synced().await;
    c.revisions.synced().await;
    c.pods.synced().await;
    c.nodes.synced().await;
    let workers = ctx.opts.concurrent_daemonset_syncs;
    run_workers("daemonset", c.queue.clone(), workers, move |key: String| {
        let c = c.clone();
        async move { c.sync(&key).await }
    })
    .await;
    Ok(())
}

fn template(ds: &DaemonSet) -> PodTemplateSpec {
    ds.spec.as_ref().map(|s| s.template.clone()).unwrap_or_default()
}

/// The DaemonSets in the object's namespace whose selector matches its labels.
fn selecting(
    sets: &Informer<DaemonSet>,
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
) -> Vec<String> {
    let ns = meta.namespace.as_deref().unwrap_or_default();
    sets.list_namespace(ns)
        .iter()
        .filter(|ds| {
            pods::selector(ds.spec.as_ref().map(|s| &s.selector))
                .is_some_and(|sel| !sel.is_empty() && pods::matches(&sel, meta.labels.as_ref()))
        })
        .map(|ds| key_of(ds.as_ref()))
        .collect()
}

/// True conditions as a set: heartbeats and other condition churn change nothing.
fn true_conditions(node: &Node) -> Vec<String> {
    let mut v: Vec<String> = node
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .into_iter()
        .flatten()
        .filter(|c| c.status == "True")
        .map(|c| c.type_.clone())
        .collect();
    v.sort();
    v
}

/// An update that changed only resourceVersion and condition details (upstream's
/// shouldIgnoreNodeUpdate).
fn ignorable_node_update(old: &Node, new: &Node) -> bool {
    if true_conditions(old) != true_conditions(new) {
        return false;
    }
    let strip = |n: &Node| {
        let mut n = n.clone();
        n.metadata.resource_version = None;
        n.metadata.managed_fields = None;
        if let Some(s) = n.status.as_mut() {
            s.conditions = None;
        }
        n
    };
    strip(old) == strip(new)
}

/// Upstream's podByCreationTimestampAndPhase: bound pods first, then oldest, then by name.
fn oldest_first(pods: &mut [Arc<Pod>]) {
    let bound = |p: &Pod| {
        p.spec
            .as_ref()
            .and_then(|s| s.node_name.as_deref())
            .is_some_and(|n| !n.is_empty())
    };
    pods.sort_by(|a, b| {
        bound(b)
            .cmp(&bound(a))
            .then_with(|| {
                let created = |p: &Pod| p.metadata.creation_timestamp.as_ref().map(|t| t.0);
                created(a).cmp(&created(b))
            })
            .then_with(|| a.metadata.name.cmp(&b.metadata.name))
    });
}

fn phase(pod: &Pod) -> &str {
    pod.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or_default()
}

impl Controller {
    /// The pods this DaemonSet controls, after adopting orphans and releasing mismatches.
    async fn daemon_pods(&self, ds: &DaemonSet, selector: &Selector) -> anyhow::Result<Vec<Arc<Pod>>> {
        let ns = ds.metadata.namespace.as_deref().unwrap_or_default();
        let owner = Owner {
            meta: &ds.metadata,
            reference: pods::controller_ref("apps/v1", "DaemonSet", &ds.metadata),
            selector,
        };
        let api: Api<Pod> = Api::namespaced(self.ctx.client.clone(), ns);
        claim(&api, &owner, self.pods.list_namespace(ns)).await
    }

    /// The DaemonSet's pods by the node each is for.
    async fn pods_by_node(
        &self,
        ds: &DaemonSet,
        selector: &Selector,
    ) -> anyhow::Result<BTreeMap<String, Vec<Arc<Pod>>>> {
        let mut by_node: BTreeMap<String, Vec<Arc<Pod>>> = BTreeMap::new();
        for pod in self.daemon_pods(ds, selector).await? {
            if let Some(node) = placement::target_node(&pod) {
                by_node.entry(node).or_default().push(pod);
            }
        }
        Ok(by_node)
    }

    async fn sync(&self, key: &str) -> anyhow::Result<()> {
        let Some(ds) = self.sets.get(key) else {
            self.expectations.forget(key);
            return Ok(());
        };
        let nodes = self.nodes.list();
        let spec = ds.spec.clone().unwrap_or_default();
        let everything = spec.selector.match_labels.as_ref().is_none_or(|m| m.is_empty())
            && spec.selector.match_expressions.as_ref().is_none_or(|m| m.is_empty());
        if everything {
            let msg = "This daemon set is selecting all pods. A non-empty selector is required.";
            self.ctx.recorder.event(ds.as_ref(), WARNING, "SelectingAll", msg);
            return Ok(());
        }
        let Some(selector) = pods::selector(Some(&spec.selector)) else {
            return Ok(());
        };
        // Whether its revisions still exist is unknowable while it is being deleted.
        if ds.metadata.deletion_timestamp.is_some() {
            return Ok(());
        }
        let (cur, old) = self.construct_history(&ds, &selector).await?;
        let hash = cur
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(HASH_LABEL))
            .cloned()
            .unwrap_or_default();
        if !self.expectations.satisfied(key) {
            return self.update_status(&ds, &selector, &nodes, &hash, false).await;
        }
        let result = self.update(key, &ds, &selector, &nodes, &hash, old).await;
        let status = self.update_status(&ds, &selector, &nodes, &hash, true).await;
        result.and(status)
    }

    async fn update(
        &self,
        key: &str,
        ds: &DaemonSet,
        selector: &Selector,
        nodes: &[Arc<Node>],
        hash: &str,
        old: Vec<Arc<ControllerRevision>>,
    ) -> anyhow::Result<()> {
        self.manage(key, ds, selector, nodes, hash).await?;
        let strategy = ds.spec.as_ref().and_then(|s| s.update_strategy.as_ref());
        let rolling = strategy.and_then(|s| s.type_.as_deref()).unwrap_or("RollingUpdate") == "RollingUpdate";
        if self.expectations.satisfied(key) && rolling {
            self.rolling_update(key, ds, selector, nodes, hash).await?;
        }
        self.cleanup_history(ds, selector, old)
            .await
            .map_err(|e| e.context("failed to clean up revisions of DaemonSet"))
    }

    /// Creates a pod on every node that should run one and lacks it, and deletes pods that
    /// should not be where they are.
    async fn manage(
        &self,
        key: &str,
        ds: &DaemonSet,
        selector: &Selector,
        nodes: &[Arc<Node>],
        hash: &str,
    ) -> anyhow::Result<()> {
        let by_node = self.pods_by_node(ds, selector).await?;
        let (mut create_on, mut delete) = (Vec::new(), Vec::new());
        for node in nodes {
            self.pods_for_node(key, ds, node, &by_node, hash, &mut create_on, &mut delete);
        }
        // Never bound, and their node is gone: nothing else will remove them.
        for (node, pods) in &by_node {
            if nodes.iter().any(|n| n.metadata.name.as_deref() == Some(node)) {
                continue;
            }
            let unbound = pods.iter().filter(|p| {
                p.spec
                    .as_ref()
                    .and_then(|s| s.node_name.as_deref())
                    .is_none_or(str::is_empty)
            });
            delete.extend(unbound.map(|p| p.metadata.name.clone().unwrap_or_default()));
        }
        self.sync_nodes(key, ds, delete, create_on, hash).await
    }

    /// Upstream's podsShouldBeOnNode for one node.
    #[allow(clippy::too_many_arguments)]
    fn pods_for_node(
        &self,
        key: &str,
        ds: &DaemonSet,
        node: &Node,
        by_node: &BTreeMap<String, Vec<Arc<Pod>>>,
        hash: &str,
        create_on: &mut Vec<String>,
        delete: &mut Vec<String>,
    ) {
        let node_name = node.metadata.name.clone().unwrap_or_default();
        let Fit {
            should_run,
            should_continue_running,
        } = node_should_run(&template(ds).spec.unwrap_or_default(), node);
        let pods = by_node.get(&node_name);
        let name = |p: &Pod| p.metadata.name.clone().unwrap_or_default();
        match pods {
            None if should_run => create_on.push(node_name),
            Some(pods) if should_continue_running => {
                let mut running = Vec::new();
                for pod in pods.iter().filter(|p| p.metadata.deletion_timestamp.is_none()) {
                    let pod_ref = format!(
                        "{}/{}",
                        pod.metadata.namespace.as_deref().unwrap_or_default(),
                        name(pod)
                    );
                    match phase(pod) {
                        "Failed" => {
                            // Kubelets rejecting a pod would make this loop hot: back off per node.
                            if let Some(wait) = self.failed_backoff_wait(ds, &node_name) {
                                self.queue.add_after(key.to_string(), wait);
                                continue;
                            }
                            let msg =
                                format!("Found failed daemon pod {pod_ref} on node {node_name}, will try to kill it");
                            self.ctx.recorder.event(ds, WARNING, "FailedDaemonPod", &msg);
                            delete.push(name(pod));
                        }
                        "Succeeded" => {
                            let msg = format!(
                                "Found succeeded daemon pod {pod_ref} on node {node_name}, will try to delete it"
                            );
                            self.ctx.recorder.event(ds, NORMAL, "SucceededDaemonPod", &msg);
                            delete.push(name(pod));
                        }
                        _ => running.push(pod.clone()),
                    }
                }
                oldest_first(&mut running);
                if !update::allows_surge(ds) {
                    // One pod per node: the oldest stays.
                    delete.extend(running.iter().skip(1).map(|p| name(p)));
                    return;
                }
                if running.is_empty() {
                    if should_run {
                        create_on.push(node_name);
                    }
                    return;
                }
                // Surging: keep the oldest new and oldest old pod; the old one goes once it is
                // not ready or the new one is available.
                let (mut newest, mut oldest_old) = (None, None);
                for pod in &running {
                    let is_new = pod
                        .metadata
                        .labels
                        .as_ref()
                        .and_then(|l| l.get(HASH_LABEL))
                        .map(String::as_str)
                        == Some(hash);
                    let slot = if is_new { &mut newest } else { &mut oldest_old };
                    if slot.is_none() {
                        *slot = Some(pod.clone());
                    } else {
                        delete.push(name(pod));
                    }
                }
                if let (Some(new), Some(old)) = (newest, oldest_old) {
                    let min_ready = ds.spec.as_ref().and_then(|s| s.min_ready_seconds).unwrap_or(0);
                    if !pods::is_ready(&old) || pods::is_available(&new, min_ready, jiff::Timestamp::now()) {
                        delete.push(name(&old));
                    }
                }
            }
            Some(pods) if !should_continue_running => {
                let live = pods.iter().filter(|p| p.metadata.deletion_timestamp.is_none());
                delete.extend(live.map(|p| name(p)));
            }
            _ => {}
        }
    }

    /// `Some(wait)` while failed pods on the node are in backoff; else starts the next step.
    fn failed_backoff_wait(&self, ds: &DaemonSet, node: &str) -> Option<Duration> {
        let generation = ds.status.as_ref().and_then(|s| s.observed_generation).unwrap_or(0);
        let key = format!("{}/{generation}/{node}", ds.metadata.uid.as_deref().unwrap_or_default());
        let mut backoff = self.failed_backoff.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        backoff.retain(|_, (at, _)| now.duration_since(*at) <= 2 * FAILED_BACKOFF_MAX);
        match backoff.get_mut(&key) {
            Some((at, delay)) if now.duration_since(*at) < *delay => Some(*delay),
            Some((at, delay)) => {
                *delay = (*delay * 2).min(FAILED_BACKOFF_MAX);
                *at = now;
                None
            }
            None => {
                backoff.insert(key, (now, FAILED_BACKOFF_INITIAL));
                None
            }
        }
    }

    /// The pod template of this revision: the daemon tolerations and the hash label added.
    fn pod_template(ds: &DaemonSet, hash: &str) -> PodTemplateSpec {
        let mut t = template(ds);
        placement::add_daemon_tolerations(t.spec.get_or_insert_default());
        let labels = t.metadata.get_or_insert_default().labels.get_or_insert_default();
        if let Some(g) = update::template_generation(ds) {
            labels.insert(GENERATION_LABEL.into(), g.to_string());
        }
        if !hash.is_empty() {
            labels.insert(HASH_LABEL.into(), hash.into());
        }
        t
    }

    /// Creates pods on `create_on` in slow-start batches and deletes `delete`, at most
    /// BURST_REPLICAS of each, with expectations set first.
    async fn sync_nodes(
        &self,
        key: &str,
        ds: &DaemonSet,
        mut delete: Vec<String>,
        mut create_on: Vec<String>,
        hash: &str,
    ) -> anyhow::Result<()> {
        create_on.truncate(BURST_REPLICAS);
        delete.truncate(BURST_REPLICAS);
        if create_on.is_empty() && delete.is_empty() {
            return Ok(());
        }
        let ns = ds.metadata.namespace.clone().unwrap_or_default();
        self.expectations
            .expect(key, create_on.len(), delete.iter().map(|n| format!("{ns}/{n}")));
        let api: Api<Pod> = Api::namespaced(self.ctx.client.clone(), &ns);
        let template = Self::pod_template(ds, hash);
        let reference = pods::controller_ref("apps/v1", "DaemonSet", &ds.metadata);
        let prefix = pods::name_prefix(ds.metadata.name.as_deref().unwrap_or_default());
        let created = slow_start(create_on.len(), |i| {
            let mut t = template.clone();
            let spec = t.spec.get_or_insert_default();
            spec.affinity = Some(placement::pin_to_node(spec.affinity.take(), &create_on[i]));
            let pod = pods::from_template(&t, reference.clone(), &prefix);
            let api = api.clone();
            async move {
                match api.create(&PostParams::default(), &pod).await {
                    Ok(p) => {
                        let msg = format!("Created pod: {}", p.metadata.name.unwrap_or_default());
                        self.ctx.recorder.event(ds, NORMAL, "SuccessfulCreate", &msg);
                        Ok(())
                    }
                    // A namespace being deleted takes every later creation with it.
                    Err(kube::Error::Api(s)) if s.code == 403 && s.message.contains("is being terminated") => Ok(()),
                    Err(e) => {
                        let msg = format!("Error creating: {}", message(&e));
                        self.ctx.recorder.event(ds, WARNING, "FailedCreate", &msg);
                        Err(e)
                    }
                }
            }
        })
        .await;
        // What failed or was never tried will never be observed.
        for _ in created.succeeded..create_on.len() {
            self.expectations.creation_observed(key);
        }
        let deleted = join_all(delete.iter().map(|name| {
            let api = api.clone();
            let pod_key = format!("{ns}/{name}");
            async move {
                match api.delete(name, &DeleteParams::default()).await {
                    Ok(_) => {
                        let msg = format!("Deleted pod: {name}");
                        self.ctx.recorder.event(ds, NORMAL, "SuccessfulDelete", &msg);
                        Ok(())
                    }
                    Err(kube::Error::Api(s)) if s.code == 404 => {
                        self.expectations.deletion_observed(key, &pod_key);
                        Ok(())
                    }
                    Err(e) => {
                        self.expectations.deletion_observed(key, &pod_key);
                        let msg = format!("Error deleting: {}", message(&e));
                        self.ctx.recorder.event(ds, WARNING, "FailedDelete", &msg);
                        Err(e)
                    }
                }
            }
        }))
        .await;
        if let Some(e) = created.error {
            return Err(e.into());
        }
        deleted.into_iter().collect::<Result<Vec<_>, _>>()?;
        Ok(())
    }

    /// One round of RollingUpdate (see `update`).
    async fn rolling_update(
        &self,
        key: &str,
        ds: &DaemonSet,
        selector: &Selector,
        nodes: &[Arc<Node>],
        hash: &str,
    ) -> anyhow::Result<()> {
        let mut by_node = self.pods_by_node(ds, selector).await?;
        let spec = template(ds).spec.unwrap_or_default();
        let fits: HashMap<String, bool> = nodes
            .iter()
            .map(|n| {
                (
                    n.metadata.name.clone().unwrap_or_default(),
                    node_should_run(&spec, n).should_run,
                )
            })
            .collect();
        let mut desired = 0;
        for (node, fit) in &fits {
            if *fit {
                desired += 1;
                by_node.entry(node.clone()).or_default();
            }
        }
        let (max_surge, max_unavailable) = update::fenceposts(ds, desired);
        let generation = update::template_generation(ds);
        let min_ready = ds.spec.as_ref().and_then(|s| s.min_ready_seconds).unwrap_or(0);
        let now = jiff::Timestamp::now();
        let plan = update::Round {
            by_node: &by_node,
            max_surge,
            max_unavailable,
            desired,
            updated: |p: &Pod| update::is_updated(p, hash, generation),
            available: |p: &Pod| pods::is_available(p, min_ready, now),
            should_run: |n: &str| fits.get(n).copied().unwrap_or(false),
        }
        .plan();
        self.sync_nodes(key, ds, plan.delete, plan.create_on, hash).await
    }

    async fn update_status(
        &self,
        ds: &DaemonSet,
        selector: &Selector,
        nodes: &[Arc<Node>],
        hash: &str,
        observed: bool,
    ) -> anyhow::Result<()> {
        let by_node = self.pods_by_node(ds, selector).await?;
        let spec = ds.spec.clone().unwrap_or_default();
        let min_ready = spec.min_ready_seconds.unwrap_or(0);
        let generation = update::template_generation(ds);
        let now = jiff::Timestamp::now();
        let (mut desired, mut current, mut misscheduled, mut ready, mut updated, mut available) = (0, 0, 0, 0, 0, 0);
        for node in nodes {
            let should_run = node_should_run(&spec.template.spec.clone().unwrap_or_default(), node).should_run;
            let mut pods = by_node
                .get(node.metadata.name.as_deref().unwrap_or_default())
                .cloned()
                .unwrap_or_default();
            if !should_run {
                misscheduled += i32::from(!pods.is_empty());
                continue;
            }
            desired += 1;
            oldest_first(&mut pods);
            let Some(pod) = pods.first() else { continue };
            current += 1;
            if pods::is_ready(pod) {
                ready += 1;
                available += i32::from(pods::is_available(pod, min_ready, now));
            }
            updated += i32::from(update::is_updated(pod, hash, generation));
        }
        let count = |n: i32| (n > 0).then_some(n);
        let previous = ds.status.clone().unwrap_or_default();
        let status = DaemonSetStatus {
            desired_number_scheduled: desired,
            current_number_scheduled: current,
            number_misscheduled: misscheduled,
            number_ready: ready,
            updated_number_scheduled: count(updated),
            number_available: count(available),
            number_unavailable: count(desired - available),
            observed_generation: if observed {
                ds.metadata.generation
            } else {
                previous.observed_generation
            },
            ..previous.clone()
        };
        let seen = previous.observed_generation.unwrap_or(0) >= ds.metadata.generation.unwrap_or(0);
        let same_counts = DaemonSetStatus {
            observed_generation: previous.observed_generation,
            ..status.clone()
        } == previous;
        if !(same_counts && seen) {
            let ns = ds.metadata.namespace.as_deref().unwrap_or_default();
            let api: Api<DaemonSet> = Api::namespaced(self.ctx.client.clone(), ns);
            super::update_status(&api, ds, |d| {
                let s = d.status.get_or_insert_default();
                *s = DaemonSetStatus {
                    collision_count: s.collision_count,
                    conditions: s.conditions.clone(),
                    ..status.clone()
                };
            })
            .await?;
        }
        if min_ready > 0 && ready != available {
            let key = key_of(ds);
            self.queue.add_after(key, Duration::from_secs(min_ready as u64));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn node_heartbeats_are_ignored_but_taints_and_readiness_are_not() {
        let node = |ready: &str, heartbeat: &str, taints: serde_json::Value| -> Node {
            serde_json::from_value(json!({"metadata": {"name": "n", "resourceVersion": heartbeat},
                "spec": {"taints": taints},
                "status": {"conditions": [{"type": "Ready", "status": ready, "lastHeartbeatTime": heartbeat}]}}))
            .unwrap()
        };
        let a = node("True", "2026-01-01T00:00:00Z", json!([]));
        assert!(ignorable_node_update(
            &a,
            &node("True", "2026-01-01T00:00:10Z", json!([]))
        ));
        assert!(!ignorable_node_update(
            &a,
            &node("False", "2026-01-01T00:00:10Z", json!([]))
        ));
        let tainted = node(
            "True",
            "2026-01-01T00:00:00Z",
            json!([{"key": "k", "effect": "NoSchedule"}]),
        );
        assert!(!ignorable_node_update(&a, &tainted));
    }

    #[test]
    fn pods_carry_tolerations_hash_and_generation() {
        let ds: DaemonSet = serde_json::from_value(json!({
            "metadata": {"name": "d", "annotations": {update::GENERATION_ANNOTATION: "3"}},
            "spec": {"selector": {"matchLabels": {"app": "d"}},
                     "template": {"metadata": {"labels": {"app": "d"}}, "spec": {"containers": []}}}}))
        .unwrap();
        let t = Controller::pod_template(&ds, "abc");
        let labels = t.metadata.unwrap().labels.unwrap();
        assert_eq!(labels[HASH_LABEL], "abc");
        assert_eq!(labels[GENERATION_LABEL], "3");
        assert_eq!(labels["app"], "d");
        assert_eq!(t.spec.unwrap().tolerations.unwrap().len(), 6);
    }

    #[test]
    fn bound_pods_sort_first_then_oldest() {
        let pod = |name: &str, node: Option<&str>, created: &str| -> Arc<Pod> {
            Arc::new(
                serde_json::from_value(json!({"metadata": {"name": name, "creationTimestamp": created},
                    "spec": {"nodeName": node, "containers": []}}))
                .unwrap(),
            )
        };
        let mut pods = vec![
            pod("unbound-old", None, "2026-01-01T00:00:00Z"),
            pod("bound-new", Some("n"), "2026-01-01T00:00:09Z"),
            pod("bound-old", Some("n"), "2026-01-01T00:00:01Z"),
        ];
        oldest_first(&mut pods);
        let names: Vec<_> = pods.iter().map(|p| p.metadata.name.clone().unwrap()).collect();
        assert_eq!(names, ["bound-old", "bound-new", "unbound-old"]);
    }
}
