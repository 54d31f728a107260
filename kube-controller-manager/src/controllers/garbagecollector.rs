//! garbagecollector: deletes objects whose owners are gone and carries out the foreground and
//! orphan propagation policies, as upstream. It watches the metadata of every resource the
//! server can list, watch and delete (re-discovered every 30s, so new CRDs are covered) and
//! keeps a graph of owner references. Work comes in two kinds:
//! - `delete`: an object whose owners may be gone, or that waits for its dependents
//!   (foregroundDeletion). Owners are verified with a live GET before anything is deleted;
//!   an object with a live owner keeps it and only loses references to absent owners.
//! - `orphan`: an owner deleted with the orphan policy: its dependents lose their reference
//!   to it, then its `orphan` finalizer goes.

use super::Ctx;
use crate::queue::{Queue, run_workers};
use futures::StreamExt;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, PartialObjectMeta, Patch, PatchParams, PropagationPolicy,
};
use kube::discovery::{Discovery, Scope, verbs};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const FOREGROUND: &str = "foregroundDeletion";
const ORPHAN: &str = "orphan";
/// Resources upstream's collector ignores.
const IGNORED: &[(&str, &str)] = &[("", "events"), ("events.k8s.io", "events")];

/// One object in the graph.
struct Node {
    resource: Arc<ApiResource>,
    namespace: Option<String>,
    name: String,
    owners: Vec<OwnerReference>,
    deleting: bool,
    finalizers: Vec<String>,
}

impl Node {
    fn deleting_dependents(&self) -> bool {
        self.deleting && self.finalizers.iter().any(|f| f == FOREGROUND)
    }
    fn orphaning(&self) -> bool {
        self.deleting && self.finalizers.iter().any(|f| f == ORPHAN)
    }
}

#[derive(Default)]
struct Graph {
    nodes: HashMap<String, Node>,
    /// owner uid -> dependent uids; kept even while the owner is not (or no longer) known.
    dependents: HashMap<String, HashSet<String>>,
}

/// A served kind, for owners named by reference: its resource, and whether it is namespaced.
type Kind = (Arc<ApiResource>, bool);

struct Collector {
    ctx: Ctx,
    graph: Mutex<Graph>,
    kinds: Mutex<HashMap<(String, String), Kind>>,
    queue: Arc<Queue<String>>,
}

pub async fn run(ctx: Ctx) -> anyhow::Result<()> {
    let c = Arc::new(Collector {
        ctx: ctx.clone(),
        graph: Mutex::default(),
        kinds: Mutex::default(),
        queue: Queue::new(),
    });
    let mut started: HashSet<(String, String)> = HashSet::new();
    let first = c.clone().monitor_new_resources(&mut started).await?;
    for synced in first {
        let _ = synced.await;
    }
    let discovery = c.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(30)).await;
            if let Err(e) = discovery.clone().monitor_new_resources(&mut started).await {
                tracing::debug!(error = %e, "garbage collector discovery failed");
            }
        }
    });
    let workers = ctx.opts.concurrent_gc_syncs;
    run_workers(
        "garbage_collector_attempt_to_delete",
        c.queue.clone(),
        workers,
        move |task: String| {
            let c = c.clone();
            async move {
                match task.split_once(':') {
                    Some(("delete", uid)) => c.attempt_to_delete(uid).await,
                    Some(("orphan", uid)) => c.attempt_to_orphan(uid).await,
                    _ => Ok(()),
                }
            }
        },
    )
    .await;
    Ok(())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Collector {
    /// Starts a metadata watch for every deletable resource not watched yet; returns a
    /// receiver per new watch that fires when its first list is in the graph.
    async fn monitor_new_resources(
        self: Arc<Self>,
        started: &mut HashSet<(String, String)>,
    ) -> anyhow::Result<Vec<tokio::sync::oneshot::Receiver<()>>> {
        let discovery = Discovery::new(self.ctx.client.clone()).run().await?;
        let mut synced = Vec::new();
        for group in discovery.groups() {
            for (ar, caps) in group.recommended_resources() {
                let namespaced = caps.scope == Scope::Namespaced;
                let key = (ar.api_version.clone(), ar.kind.clone());
                lock(&self.kinds).insert(key, (Arc::new(ar.clone()), namespaced));
                let id = (ar.group.clone(), ar.plural.clone());
                let usable = [verbs::LIST, verbs::WATCH, verbs::DELETE]
                    .iter()
                    .all(|v| caps.supports_operation(v));
                if !usable || IGNORED.contains(&(ar.group.as_str(), ar.plural.as_str())) || !started.insert(id) {
                    continue;
                }
                let (tx, rx) = tokio::sync::oneshot::channel();
                synced.push(rx);
                tokio::spawn(self.clone().monitor(Arc::new(ar), tx));
            }
        }
        Ok(synced)
    }

    async fn monitor(self: Arc<Self>, ar: Arc<ApiResource>, synced: tokio::sync::oneshot::Sender<()>) {
        let api: Api<PartialObjectMeta<DynamicObject>> = Api::all_with(self.ctx.client.clone(), &*ar);
        let mut stream = watcher(api, watcher::Config::default()).default_backoff().boxed();
        let mut synced = Some(synced);
        let mut listed: Option<HashSet<String>> = None;
        while let Some(event) = stream.next().await {
            match event {
                Ok(watcher::Event::Init) => listed = Some(HashSet::new()),
                Ok(watcher::Event::InitApply(obj)) => {
                    if let Some(l) = listed.as_mut() {
                        l.insert(obj.metadata.uid.clone().unwrap_or_default());
                    }
                    self.observe(&ar, obj);
                }
                Ok(watcher::Event::InitDone) => {
                    // What vanished while the watch was down is a deletion.
                    let seen = listed.take().unwrap_or_default();
                    let gone: Vec<String> = lock(&self.graph)
                        .nodes
                        .iter()
                        .filter(|(uid, n)| Arc::ptr_eq(&n.resource, &ar) && !seen.contains(*uid))
                        .map(|(uid, _)| uid.clone())
                        .collect();
                    gone.iter().for_each(|uid| self.forget(uid));
                    if let Some(tx) = synced.take() {
                        let _ = tx.send(());
                    }
                }
                Ok(watcher::Event::Apply(obj)) => self.observe(&ar, obj),
                Ok(watcher::Event::Delete(obj)) => self.forget(obj.metadata.uid.as_deref().unwrap_or_default()),
                Err(e) => tracing::debug!(resource = %ar.plural, error = %e, "watch failed, retrying"),
            }
        }
    }

    /// An object was added or changed: update the graph and queue what it makes necessary.
    fn observe(&self, ar: &Arc<ApiResource>, obj: PartialObjectMeta<DynamicObject>) {
        let meta = obj.metadata;
        let uid = meta.uid.clone().unwrap_or_default();
        let node = Node {
            resource: ar.clone(),
            namespace: meta.namespace.clone(),
            name: meta.name.clone().unwrap_or_default(),
            owners: meta.owner_references.clone().unwrap_or_default(),
            deleting: meta.deletion_timestamp.is_some(),
            finalizers: meta.finalizers.clone().unwrap_or_default(),
        };
        let mut g = lock(&self.graph);
        let previous = g
            .nodes
            .get(&uid)
            .map(|n| n.owners.iter().map(|o| o.uid.clone()).collect::<Vec<_>>());
        for old in previous.iter().flatten() {
            if let Some(d) = g.dependents.get_mut(old) {
                d.remove(&uid);
            }
        }
        for o in &node.owners {
            g.dependents.entry(o.uid.clone()).or_default().insert(uid.clone());
        }
        // An owner not in the graph may be gone: check (with a live read) whether this
        // object should go too.
        if node.owners.iter().any(|o| !g.nodes.contains_key(&o.uid)) {
            self.queue.add(format!("delete:{uid}"));
        }
        if node.deleting_dependents() {
            self.queue.add(format!("delete:{uid}"));
            for d in g.dependents.get(&uid).into_iter().flatten() {
                self.queue.add(format!("delete:{d}"));
            }
        }
        if node.orphaning() {
            self.queue.add(format!("orphan:{uid}"));
        }
        g.nodes.insert(uid, node);
    }

    /// An object is gone: its dependents may have lost their last owner, and an owner
    /// waiting for its dependents may be done.
    fn forget(&self, uid: &str) {
        let mut g = lock(&self.graph);
        let Some(node) = g.nodes.remove(uid) else { return };
        for o in &node.owners {
            if let Some(d) = g.dependents.get_mut(&o.uid) {
                d.remove(uid);
            }
            if g.nodes.get(&o.uid).is_some_and(Node::deleting_dependents) {
                self.queue.add(format!("delete:{}", o.uid));
            }
        }
        // Dependents keep their reference to it until they are deleted or let go.
        for d in g.dependents.get(uid).into_iter().flatten() {
            if g.nodes.contains_key(d) {
                self.queue.add(format!("delete:{d}"));
            }
        }
    }

    fn api(&self, ar: &ApiResource, namespace: Option<&str>) -> Api<DynamicObject> {
        match namespace {
            Some(ns) => Api::namespaced_with(self.ctx.client.clone(), ns, ar),
            None => Api::all_with(self.ctx.client.clone(), ar),
        }
    }

    /// The node's identity for API calls.
    fn locate(&self, uid: &str) -> Option<(Arc<ApiResource>, Option<String>, String)> {
        let g = lock(&self.graph);
        let n = g.nodes.get(uid)?;
        Some((n.resource.clone(), n.namespace.clone(), n.name.clone()))
    }

    async fn attempt_to_delete(&self, uid: &str) -> anyhow::Result<()> {
        let Some((ar, ns, name)) = self.locate(uid) else {
            return Ok(());
        };
        let api = self.api(&ar, ns.as_deref());
        let Some(latest) = api.get_opt(&name).await? else {
            return Ok(());
        };
        if latest.metadata.uid.as_deref() != Some(uid) {
            return Ok(());
        }
        let finalizers = latest.metadata.finalizers.clone().unwrap_or_default();
        let deleting = latest.metadata.deletion_timestamp.is_some();
        if deleting && finalizers.iter().any(|f| f == FOREGROUND) {
            return self.process_deleting_dependents(uid, &api, &latest).await;
        }
        let owners = latest.metadata.owner_references.clone().unwrap_or_default();
        if owners.is_empty() {
            return Ok(());
        }
        let (mut solid, mut dangling, mut waiting) = (Vec::new(), Vec::new(), Vec::new());
        for owner in &owners {
            match self.owner_state(owner, ns.as_deref()).await? {
                OwnerState::Absent => dangling.push(owner.uid.clone()),
                OwnerState::DeletingDependents => waiting.push(owner.uid.clone()),
                OwnerState::Present => solid.push(owner.uid.clone()),
                OwnerState::Unknown => return Ok(()),
            }
        }
        if !solid.is_empty() {
            if dangling.is_empty() && waiting.is_empty() {
                return Ok(());
            }
            // Keep the live owners; drop references to the absent and the deleting ones.
            let keep: Vec<&OwnerReference> = owners.iter().filter(|o| solid.contains(&o.uid)).collect();
            let patch = json!({"metadata": {"ownerReferences": keep, "uid": uid}});
            return ignore_gone(api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch)).await);
        }
        let has_dependents = lock(&self.graph).dependents.get(uid).is_some_and(|d| !d.is_empty());
        let policy = if !waiting.is_empty() && has_dependents {
            PropagationPolicy::Foreground
        } else if finalizers.iter().any(|f| f == ORPHAN) {
            PropagationPolicy::Orphan
        } else if finalizers.iter().any(|f| f == FOREGROUND) {
            PropagationPolicy::Foreground
        } else {
            PropagationPolicy::Background
        };
        if deleting {
            return Ok(());
        }
        tracing::info!(resource = %ar.plural, namespace = ?ns, %name, ?policy, "deleting an object whose owners are gone");
        let dp = DeleteParams {
            propagation_policy: Some(policy),
            preconditions: Some(kube::api::Preconditions {
                uid: Some(uid.to_string()),
                resource_version: None,
            }),
            ..Default::default()
        };
        ignore_gone(api.delete(&name, &dp).await)
    }

    /// A foreground deletion: once no dependent blocks it, the owner's finalizer goes;
    /// until then its blocking dependents are deleted.
    async fn process_deleting_dependents(
        &self,
        uid: &str,
        api: &Api<DynamicObject>,
        latest: &DynamicObject,
    ) -> anyhow::Result<()> {
        let blocking: Vec<String> = {
            let g = lock(&self.graph);
            g.dependents
                .get(uid)
                .into_iter()
                .flatten()
                .filter(|d| {
                    g.nodes.get(*d).is_some_and(|n| {
                        n.owners
                            .iter()
                            .any(|o| o.uid == uid && o.block_owner_deletion == Some(true))
                    })
                })
                .cloned()
                .collect()
        };
        if blocking.is_empty() {
            return self.remove_finalizer(api, latest, FOREGROUND).await;
        }
        for d in blocking {
            self.queue.add(format!("delete:{d}"));
        }
        Ok(())
    }

    async fn attempt_to_orphan(&self, uid: &str) -> anyhow::Result<()> {
        let Some((ar, ns, name)) = self.locate(uid) else {
            return Ok(());
        };
        let dependents: Vec<String> = lock(&self.graph)
            .dependents
            .get(uid)
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        for d in dependents {
            let Some((dar, dns, dname)) = self.locate(&d) else {
                continue;
            };
            let dapi = self.api(&dar, dns.as_deref());
            let Some(obj) = dapi.get_opt(&dname).await? else {
                continue;
            };
            let owners = obj.metadata.owner_references.clone().unwrap_or_default();
            if !owners.iter().any(|o| o.uid == uid) {
                continue;
            }
            let keep: Vec<&OwnerReference> = owners.iter().filter(|o| o.uid != uid).collect();
            let patch = json!({"metadata": {"ownerReferences": keep, "uid": d}});
            ignore_gone(dapi.patch(&dname, &PatchParams::default(), &Patch::Merge(&patch)).await)?;
        }
        let api = self.api(&ar, ns.as_deref());
        let Some(latest) = api.get_opt(&name).await? else {
            return Ok(());
        };
        self.remove_finalizer(&api, &latest, ORPHAN).await
    }

    /// Removes a finalizer, guarded by the resourceVersion read.
    async fn remove_finalizer(
        &self,
        api: &Api<DynamicObject>,
        obj: &DynamicObject,
        finalizer: &str,
    ) -> anyhow::Result<()> {
        let finalizers = obj.metadata.finalizers.clone().unwrap_or_default();
        if !finalizers.iter().any(|f| f == finalizer) {
            return Ok(());
        }
        let rest: Vec<&String> = finalizers.iter().filter(|f| *f != finalizer).collect();
        let patch = json!({"metadata": {"finalizers": rest, "resourceVersion": obj.metadata.resource_version}});
        let name = obj.metadata.name.clone().unwrap_or_default();
        ignore_gone(api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch)).await)
    }

    /// Whether an owner named by a reference exists (same uid), checked against the API.
    async fn owner_state(&self, owner: &OwnerReference, namespace: Option<&str>) -> anyhow::Result<OwnerState> {
        if let Some(n) = lock(&self.graph).nodes.get(&owner.uid) {
            return Ok(match n.deleting_dependents() {
                true => OwnerState::DeletingDependents,
                false => OwnerState::Present,
            });
        }
        let ar = lock(&self.kinds)
            .get(&(owner.api_version.clone(), owner.kind.clone()))
            .cloned();
        let Some((ar, namespaced)) = ar else {
            tracing::debug!(kind = %owner.kind, api_version = %owner.api_version, "owner kind not served; leaving dependent alone");
            return Ok(OwnerState::Unknown);
        };
        let scoped = if namespaced { namespace } else { None };
        let live = self.api(&ar, scoped).get_opt(&owner.name).await?;
        Ok(match live {
            Some(o) if o.metadata.uid.as_deref() == Some(owner.uid.as_str()) => {
                let f = o.metadata.finalizers.unwrap_or_default();
                if o.metadata.deletion_timestamp.is_some() && f.iter().any(|x| x == FOREGROUND) {
                    OwnerState::DeletingDependents
                } else {
                    OwnerState::Present
                }
            }
            _ => OwnerState::Absent,
        })
    }
}

enum OwnerState {
    Present,
    Absent,
    DeletingDependents,
    /// The owner's kind is not served: nothing can be concluded.
    Unknown,
}

/// 404 (already gone) and 409/422 (changed under us; the watch will bring it back) end the
/// attempt; anything else is retried.
fn ignore_gone<T>(r: Result<T, kube::Error>) -> anyhow::Result<()> {
    match r {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if matches!(s.code, 404 | 409 | 422) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
