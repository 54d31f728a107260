//! Watches that feed the scheduler: pods (pending ones into the queue, bound ones into the
//! cache), nodes, namespaces (labels for namespaceSelector), and the Services and controllers
//! whose selectors drive the default topology spreading. A relist that misses an object is a
//! deletion, as with client-go's informers.

use crate::podinfo::PodInfo;
use crate::scheduler::Scheduler;
use api_types::labels::{Requirement, Selector};
use futures::StreamExt;
use k8s_openapi::api::apps::v1::{ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{Namespace, Node, Pod, ReplicationController, Service};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::Resource;
use kube::api::Api;
use kube::runtime::watcher;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

/// How many informers `spawn` starts (each reports once when its first list is done).
pub const COUNT: usize = 7;

enum Change<K> {
    Upsert(K),
    Remove(K),
}

fn key_of<K: Resource>(o: &K) -> String {
    let m = o.meta();
    format!(
        "{}/{}",
        m.namespace.as_deref().unwrap_or_default(),
        m.name.as_deref().unwrap_or_default()
    )
}

/// Runs a watch forever, turning its events (and relists) into changes.
async fn watch<K>(api: Api<K>, cfg: watcher::Config, sched: Arc<Scheduler>, mut on: impl FnMut(&Scheduler, Change<K>))
where
    K: Resource<DynamicType = ()> + Default + Clone + std::fmt::Debug + serde::de::DeserializeOwned + Send + 'static,
{
    // Key → uid of every object seen, to tell deletions missed during a relist.
    let mut known: HashMap<String, Option<String>> = HashMap::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut synced = false;
    let mut stream = watcher(api, cfg).boxed();
    while let Some(event) = stream.next().await {
        match event {
            Ok(watcher::Event::Init) => seen.clear(),
            Ok(watcher::Event::InitApply(mut o)) | Ok(watcher::Event::Apply(mut o)) => {
                // managedFields are a large share of every object and of no use here.
                o.meta_mut().managed_fields = None;
                let k = key_of(&o);
                seen.insert(k.clone());
                known.insert(k, o.meta().uid.clone());
                on(&sched, Change::Upsert(o));
            }
            Ok(watcher::Event::Delete(o)) => {
                known.remove(&key_of(&o));
                on(&sched, Change::Remove(o));
            }
            Ok(watcher::Event::InitDone) => {
                let gone: Vec<String> = known.keys().filter(|k| !seen.contains(*k)).cloned().collect();
                for k in gone {
                    let uid = known.remove(&k).flatten();
                    let (ns, name) = k.split_once('/').unwrap_or_default();
                    let mut o = K::default();
                    let meta = o.meta_mut();
                    meta.namespace = Some(ns.to_string()).filter(|n| !n.is_empty());
                    meta.name = Some(name.to_string());
                    meta.uid = uid;
                    on(&sched, Change::Remove(o));
                }
                if !synced {
                    synced = true;
                    sched.mark_synced();
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, kind = %K::kind(&()), "watch failed; retrying");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        }
    }
}

fn on_pod(s: &Scheduler, change: Change<Pod>) {
    match change {
        Change::Upsert(pod) => {
            let node = pod
                .spec
                .as_ref()
                .and_then(|sp| sp.node_name.clone())
                .filter(|n| !n.is_empty());
            let info = Arc::new(PodInfo::new(Arc::new(pod)));
            match node {
                Some(node) => {
                    let new = {
                        let mut cache = s.cache();
                        let new = !cache.has_pod(&info.uid);
                        cache.add_or_update_pod(info.clone(), &node);
                        new
                    };
                    s.queue.delete(&info.key());
                    // A pod placed by someone else may satisfy (anti-)affinity or spreading.
                    if new {
                        s.queue.move_unschedulable(|plugins| {
                            plugins
                                .iter()
                                .any(|p| matches!(*p, "InterPodAffinity" | "PodTopologySpread"))
                        });
                    }
                }
                None if info.pod.metadata.deletion_timestamp.is_some() => s.queue.delete(&info.key()),
                None => {
                    if s.responsible_for(&info.pod) && !s.cache().is_assumed(&info.uid) {
                        s.queue.add(info);
                    }
                }
            }
        }
        Change::Remove(pod) => {
            let uid = pod.metadata.uid.clone().unwrap_or_default();
            s.queue.delete(&key_of(&pod));
            let was_placed = {
                let mut cache = s.cache();
                let had = cache.has_pod(&uid);
                cache.remove_pod(&uid);
                had
            };
            if was_placed {
                s.queue.move_unschedulable(|_| true);
            }
        }
    }
}

/// Whether a node update can change scheduling (not just a heartbeat).
fn node_changed(old: &Node, new: &Node) -> bool {
    let conditions = |n: &Node| -> Vec<(String, String)> {
        n.status
            .iter()
            .flat_map(|s| s.conditions.iter().flatten())
            .map(|c| (c.type_.clone(), c.status.clone()))
            .collect()
    };
    let status = |n: &Node| {
        n.status
            .as_ref()
            .map(|s| (s.allocatable.clone(), s.images.as_ref().map(Vec::len)))
    };
    old.metadata.labels != new.metadata.labels
        || old.spec != new.spec
        || status(old) != status(new)
        || conditions(old) != conditions(new)
}

fn on_node(s: &Scheduler, change: Change<Node>) {
    match change {
        Change::Upsert(node) => {
            let name = node.metadata.name.clone().unwrap_or_default();
            let changed = {
                let mut cache = s.cache();
                let changed = cache
                    .node(&name)
                    .and_then(|n| n.node.as_deref())
                    .is_none_or(|old| node_changed(old, &node));
                cache.set_node(Arc::new(node));
                changed
            };
            if changed {
                s.queue.move_unschedulable(|_| true);
            }
        }
        Change::Remove(node) => s.cache().remove_node(node.metadata.name.as_deref().unwrap_or_default()),
    }
}

fn on_namespace(s: &Scheduler, change: Change<Namespace>) {
    let mut cache = s.cache();
    match change {
        Change::Upsert(ns) => {
            let labels = ns.metadata.labels.clone().unwrap_or_default();
            cache
                .namespaces
                .insert(ns.metadata.name.clone().unwrap_or_default(), labels);
        }
        Change::Remove(ns) => {
            cache.namespaces.remove(ns.metadata.name.as_deref().unwrap_or_default());
        }
    }
}

fn map_selector(m: Option<&BTreeMap<String, String>>) -> Selector {
    Selector {
        requirements: m
            .into_iter()
            .flatten()
            .map(|(k, v)| Requirement::Equals(k.clone(), v.clone()))
            .collect(),
    }
}

fn label_selector(s: Option<&LabelSelector>) -> Selector {
    s.and_then(|s| serde_json::to_value(s).ok())
        .and_then(|v| Selector::from_label_selector_json(&v).ok())
        .unwrap_or_default()
}

/// A handler that records one kind's selectors for default spreading.
fn spreading<K: Resource<DynamicType = ()>>(selector: fn(&K) -> Selector) -> impl FnMut(&Scheduler, Change<K>) {
    move |s, change| {
        let mut cache = s.cache();
        match change {
            Change::Upsert(o) => {
                let key = format!("{}/{}", K::kind(&()), key_of(&o));
                let ns = o.meta().namespace.clone().unwrap_or_default();
                cache.set_spreading_selector(&key, &ns, selector(&o));
            }
            Change::Remove(o) => cache.remove_spreading_selector(&format!("{}/{}", K::kind(&()), key_of(&o))),
        }
    }
}

/// Starts every informer; they run until the scheduler stops.
pub fn spawn(sched: &Arc<Scheduler>, client: &kube::Client, tasks: &mut tokio::task::JoinSet<()>) {
    let c = || client.clone();
    let s = || sched.clone();
    let all = watcher::Config::default;
    // Finished pods hold no resources (upstream's informer uses the same selector).
    let pods = all().fields("status.phase!=Succeeded,status.phase!=Failed");
    tasks.spawn(watch(Api::<Pod>::all(c()), pods, s(), on_pod));
    tasks.spawn(watch(Api::<Node>::all(c()), all(), s(), on_node));
    tasks.spawn(watch(Api::<Namespace>::all(c()), all(), s(), on_namespace));
    tasks.spawn(watch(
        Api::<Service>::all(c()),
        all(),
        s(),
        spreading(|o: &Service| map_selector(o.spec.as_ref().and_then(|sp| sp.selector.as_ref()))),
    ));
    tasks.spawn(watch(
        Api::<ReplicationController>::all(c()),
        all(),
        s(),
        spreading(|o: &ReplicationController| map_selector(o.spec.as_ref().and_then(|sp| sp.selector.as_ref()))),
    ));
    tasks.spawn(watch(
        Api::<ReplicaSet>::all(c()),
        all(),
        s(),
        spreading(|o: &ReplicaSet| label_selector(o.spec.as_ref().map(|sp| &sp.selector))),
    ));
    tasks.spawn(watch(
        Api::<StatefulSet>::all(c()),
        all(),
        s(),
        spreading(|o: &StatefulSet| label_selector(o.spec.as_ref().map(|sp| &sp.selector))),
    ));
    // Assumed pods whose binding was never observed are dropped after a while.
    let sched = sched.clone();
    tasks.spawn(async move {
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(10)).await;
            sched.cache().expire_assumed();
        }
    });
}
