//! Shared informers: one watch per resource type for every controller (client-go's
//! SharedInformerFactory). Each informer keeps the current objects and calls the handlers
//! controllers registered with every change, old and new object both, so a handler can
//! enqueue the owners of what an object was as well as of what it is.

use futures::StreamExt;
use kube::Resource;
use kube::api::Api;
use kube::runtime::{WatchStreamExt, watcher};
use serde::de::DeserializeOwned;
use std::any::{Any, TypeId};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Debug;
use std::sync::{Arc, Mutex, RwLock};
use tokio::sync::watch;

/// What happened to an object.
pub enum Change<'a, K> {
    Added(&'a Arc<K>),
    Updated { old: &'a Arc<K>, new: &'a Arc<K> },
    Deleted(&'a Arc<K>),
}

type Handler<K> = Box<dyn Fn(&Change<'_, K>) + Send + Sync>;

/// The store key of an object: `namespace/name`, or `name` when cluster-scoped.
pub fn key_of<K: Resource>(obj: &K) -> String {
    let meta = obj.meta();
    let name = meta.name.as_deref().unwrap_or_default();
    match meta.namespace.as_deref() {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_string(),
    }
}

/// Splits a store key into namespace and name.
pub fn split_key(key: &str) -> (Option<&str>, &str) {
    match key.split_once('/') {
        Some((ns, name)) => (Some(ns), name),
        None => (None, key),
    }
}

/// The cached objects, and their keys by controlling owner: every controller asks "what do I
/// own, and which orphans might I adopt", and should not scan the namespace for it.
struct Store<K> {
    objects: BTreeMap<String, Arc<K>>,
    by_owner: HashMap<String, BTreeSet<String>>,
}

/// The index key of an object: its controller's uid, or `orphan:<namespace>`.
fn owner_key<K: Resource>(obj: &K) -> String {
    let meta = obj.meta();
    let controller = meta
        .owner_references
        .iter()
        .flatten()
        .find(|r| r.controller == Some(true));
    match controller {
        Some(r) => r.uid.clone(),
        None => format!("orphan:{}", meta.namespace.as_deref().unwrap_or_default()),
    }
}

impl<K: Resource> Store<K> {
    fn new() -> Self {
        Store {
            objects: BTreeMap::new(),
            by_owner: HashMap::new(),
        }
    }

    fn insert(&mut self, key: String, obj: Arc<K>) -> Option<Arc<K>> {
        let old = self.remove(&key);
        self.by_owner
            .entry(owner_key(obj.as_ref()))
            .or_default()
            .insert(key.clone());
        self.objects.insert(key, obj);
        old
    }

    fn remove(&mut self, key: &str) -> Option<Arc<K>> {
        let old = self.objects.remove(key)?;
        let index = owner_key(old.as_ref());
        if let Some(keys) = self.by_owner.get_mut(&index) {
            keys.remove(key);
            if keys.is_empty() {
                self.by_owner.remove(&index);
            }
        }
        Some(old)
    }

    fn indexed(&self, index: &str) -> Vec<Arc<K>> {
        let keys = self.by_owner.get(index).into_iter().flatten();
        keys.filter_map(|k| self.objects.get(k).cloned()).collect()
    }
}

/// The form an object is cached in: without managedFields, which no controller reads and
/// which are often the largest part of an object.
fn cached<K: Resource>(mut obj: K) -> Arc<K> {
    obj.meta_mut().managed_fields = None;
    Arc::new(obj)
}

struct Inner<K> {
    store: RwLock<Store<K>>,
    handlers: RwLock<Vec<Handler<K>>>,
    synced: watch::Sender<bool>,
}

/// One resource type's shared cache and event fan-out.
pub struct Informer<K> {
    inner: Arc<Inner<K>>,
}

impl<K> Clone for Informer<K> {
    fn clone(&self) -> Self {
        Informer {
            inner: self.inner.clone(),
        }
    }
}

impl<K> Informer<K>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    fn start(client: kube::Client) -> Informer<K> {
        let inner = Arc::new(Inner {
            store: RwLock::new(Store::new()),
            handlers: RwLock::new(Vec::new()),
            synced: watch::channel(false).0,
        });
        let task = inner.clone();
        tokio::spawn(async move {
            let api: Api<K> = Api::all(client);
            let mut stream = watcher(api, watcher::Config::default()).default_backoff().boxed();
            let mut relisted: Option<BTreeMap<String, Arc<K>>> = None;
            while let Some(event) = stream.next().await {
                match event {
                    Ok(watcher::Event::Init) => relisted = Some(BTreeMap::new()),
                    Ok(watcher::Event::InitApply(obj)) => {
                        if let Some(list) = relisted.as_mut() {
                            list.insert(key_of(&obj), cached(obj));
                        }
                    }
                    Ok(watcher::Event::InitDone) => {
                        task.replace(relisted.take().unwrap_or_default());
                        task.synced.send_replace(true);
                    }
                    Ok(watcher::Event::Apply(obj)) => task.apply(cached(obj)),
                    Ok(watcher::Event::Delete(obj)) => task.remove(&key_of(&obj)),
                    Err(e) => tracing::debug!(kind = %K::kind(&()), error = %e, "watch failed, retrying"),
                }
            }
        });
        Informer { inner }
    }

    /// Registers a handler; it first sees every object already cached as `Added`.
    pub fn on_change(&self, handler: impl Fn(&Change<'_, K>) + Send + Sync + 'static) {
        let mut handlers = self.inner.handlers.write().unwrap_or_else(|e| e.into_inner());
        for obj in self.list() {
            handler(&Change::Added(&obj));
        }
        handlers.push(Box::new(handler));
    }

    /// Queues the key of every object that is added, changed or deleted: the handler of a
    /// controller's primary resource.
    pub fn queue_keys(&self, queue: Arc<crate::queue::Queue<String>>) {
        self.on_change(move |c| match c {
            Change::Added(o) | Change::Updated { new: o, .. } | Change::Deleted(o) => queue.add(key_of(o.as_ref())),
        });
    }

    /// Waits until the first full list has been received.
    pub async fn synced(&self) {
        let mut rx = self.inner.synced.subscribe();
        let _ = rx.wait_for(|s| *s).await;
    }

    fn store(&self) -> std::sync::RwLockReadGuard<'_, Store<K>> {
        self.inner.store.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn get(&self, key: &str) -> Option<Arc<K>> {
        self.store().objects.get(key).cloned()
    }

    pub fn list(&self) -> Vec<Arc<K>> {
        self.store().objects.values().cloned().collect()
    }

    /// The objects whose controller (ownerReference with `controller: true`) has this uid.
    pub fn controlled_by(&self, uid: &str) -> Vec<Arc<K>> {
        self.store().indexed(uid)
    }

    /// The objects of a namespace that have no controller.
    pub fn orphans(&self, ns: &str) -> Vec<Arc<K>> {
        self.store().indexed(&format!("orphan:{ns}"))
    }

    /// The objects of one namespace.
    pub fn list_namespace(&self, ns: &str) -> Vec<Arc<K>> {
        let prefix = format!("{ns}/");
        let store = self.store();
        store
            .objects
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(_, v)| v.clone())
            .collect()
    }
}

impl<K> Inner<K> {
    fn notify(&self, change: Change<'_, K>) {
        for h in self.handlers.read().unwrap_or_else(|e| e.into_inner()).iter() {
            h(&change);
        }
    }

    fn apply(&self, obj: Arc<K>)
    where
        K: Resource,
    {
        let key = key_of(obj.as_ref());
        let old = self
            .store
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, obj.clone());
        match old {
            Some(old) => self.notify(Change::Updated { old: &old, new: &obj }),
            None => self.notify(Change::Added(&obj)),
        }
    }

    fn remove(&self, key: &str)
    where
        K: Resource,
    {
        let old = self.store.write().unwrap_or_else(|e| e.into_inner()).remove(key);
        if let Some(old) = old {
            self.notify(Change::Deleted(&old));
        }
    }

    /// A relist: what changed while the watch was down becomes ordinary changes.
    fn replace(&self, fresh: BTreeMap<String, Arc<K>>)
    where
        K: Resource,
    {
        let mut store = Store::new();
        for (key, obj) in &fresh {
            store.insert(key.clone(), obj.clone());
        }
        let old = std::mem::replace(&mut *self.store.write().unwrap_or_else(|e| e.into_inner()), store).objects;
        for (key, obj) in &fresh {
            match old.get(key) {
                None => self.notify(Change::Added(obj)),
                Some(prev) if prev.meta().resource_version != obj.meta().resource_version => {
                    self.notify(Change::Updated { old: prev, new: obj })
                }
                Some(_) => {}
            }
        }
        for (key, obj) in &old {
            if !fresh.contains_key(key) {
                self.notify(Change::Deleted(obj));
            }
        }
    }
}

/// The factory: the first request for a type starts its watch; later ones share it.
#[derive(Clone)]
pub struct Informers {
    client: kube::Client,
    started: Arc<Mutex<HashMap<TypeId, Box<dyn Any + Send + Sync>>>>,
}

impl Informers {
    pub fn new(client: kube::Client) -> Informers {
        Informers {
            client,
            started: Arc::default(),
        }
    }

    pub fn get<K>(&self) -> Informer<K>
    where
        K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    {
        let mut started = self.started.lock().unwrap_or_else(|e| e.into_inner());
        let entry = started
            .entry(TypeId::of::<K>())
            .or_insert_with(|| Box::new(Informer::<K>::start(self.client.clone())));
        entry
            .downcast_ref::<Informer<K>>()
            .expect("informer map is keyed by type")
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::Pod;

    fn pod(name: &str, owner: Option<&str>) -> Arc<Pod> {
        let refs = owner.map(|uid| {
            serde_json::json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "name": "rs", "uid": uid, "controller": true}])
        });
        Arc::new(
            serde_json::from_value(serde_json::json!({"metadata": {"name": name, "namespace": "ns",
                "ownerReferences": refs}}))
            .unwrap(),
        )
    }

    #[test]
    fn owner_index_follows_inserts_updates_and_removals() {
        let mut s = Store::new();
        s.insert("ns/a".into(), pod("a", Some("u1")));
        s.insert("ns/b".into(), pod("b", None));
        assert_eq!(s.indexed("u1").len(), 1);
        assert_eq!(s.indexed("orphan:ns").len(), 1);
        // Adopted: moves from the orphans to its owner.
        s.insert("ns/b".into(), pod("b", Some("u1")));
        assert_eq!(s.indexed("u1").len(), 2);
        assert!(s.indexed("orphan:ns").is_empty());
        s.remove("ns/a");
        assert_eq!(s.indexed("u1").len(), 1);
        assert!(!s.by_owner.contains_key("orphan:ns"));
    }
}
