//! The watch cache: one per resource, kept current by a storage watch. It serves LIST at
//! `resourceVersion=0` / NotOlderThan and consistent reads, and every WATCH, from memory,
//! with a window of recent events so a watch can resume from a recent resourceVersion.

use crate::errors::{ApiError, ApiResult};
use crate::storage::{Backend, EventKind, KeyValue, Revision};
use futures::StreamExt;
use serde_json::Value;
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::{broadcast, watch};

/// Recent events kept for watches that resume from a resourceVersion.
const HISTORY: usize = 10_000;
/// How long a read waits for the cache to reach a requested resourceVersion (upstream: 3s).
const FRESHNESS_WAIT: Duration = Duration::from_secs(3);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// An object as the cache holds it: the value (for selectors and views) and its compact
/// JSON, serialized once per change and reused by every LIST and watcher.
#[derive(Debug)]
pub struct Cached {
    pub value: Value,
    pub json: bytes::Bytes,
}

impl std::ops::Deref for Cached {
    type Target = Value;
    fn deref(&self) -> &Value {
        &self.value
    }
}

pub fn cached(value: Value) -> Arc<Cached> {
    let json = bytes::Bytes::from(serde_json::to_vec(&value).unwrap_or_default());
    Arc::new(Cached { value, json })
}

#[derive(Debug)]
pub struct CacheEvent {
    pub kind: EventType,
    /// The storage key relative to the resource prefix (`ns/name` or `name`).
    pub key: String,
    /// The object after the change (for a delete: its last state, at the delete's revision).
    pub object: Arc<Cached>,
    /// The object before the change, for filtered watches that must see transitions.
    pub prev: Option<Arc<Cached>>,
    pub rv: Revision,
}

struct State {
    objects: BTreeMap<String, Arc<Cached>>,
    history: VecDeque<Arc<CacheEvent>>,
    /// Every event after this revision is in `history`.
    oldest: Revision,
    rv: Revision,
}

pub struct Cacher {
    prefix: String,
    state: RwLock<State>,
    events: broadcast::Sender<Arc<CacheEvent>>,
    rv: watch::Sender<Revision>,
}

/// What a new watch starts with: events to send first, then the live channel.
pub struct Subscription {
    pub initial: Vec<Arc<CacheEvent>>,
    pub live: broadcast::Receiver<Arc<CacheEvent>>,
    /// The revision the initial events bring the watcher to.
    pub rv: Revision,
}

pub enum WatchStart {
    /// Synthetic ADDED events for every current object, then changes (resourceVersion "" or "0").
    Snapshot,
    /// Changes after this revision.
    After(Revision),
}

/// Sets `metadata.resourceVersion`, which storage does not keep in the value.
pub fn with_rv(mut obj: Value, rv: Revision) -> Value {
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.insert("resourceVersion".into(), Value::String(rv.to_string()));
    }
    obj
}

pub fn decode(kv: &KeyValue) -> Option<Value> {
    serde_json::from_slice::<Value>(&kv.value)
        .ok()
        .map(|v| with_rv(v, kv.mod_revision))
}

impl Cacher {
    /// Starts the cache for `prefix` (ending in `/`) and keeps it current in the background.
    pub async fn start(prefix: String, backend: Arc<dyn Backend>) -> Arc<Cacher> {
        let (events, _) = broadcast::channel(4096);
        let (rv, _) = watch::channel(0);
        let cacher = Arc::new(Cacher {
            prefix,
            state: RwLock::new(State {
                objects: BTreeMap::new(),
                history: VecDeque::new(),
                oldest: 0,
                rv: 0,
            }),
            events,
            rv,
        });
        let c = cacher.clone();
        tokio::spawn(async move { c.run(backend).await });
        cacher
    }

    async fn run(self: Arc<Self>, backend: Arc<dyn Backend>) {
        loop {
            if let Err(e) = self.sync(backend.as_ref()).await {
                tracing::warn!(prefix = %self.prefix, error = %e, "watch cache resyncing");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Lists, then follows the storage watch until it fails.
    async fn sync(&self, backend: &dyn Backend) -> Result<(), crate::storage::StorageError> {
        let list = backend.list(&self.prefix, "", 0, 0).await?;
        self.replace(list.items, list.revision);
        let mut stream = backend.watch(self.prefix.clone(), list.revision).await?;
        while let Some(ev) = stream.next().await {
            let ev = ev?;
            match ev.kind {
                EventKind::Progress => self.advance(ev.kv.mod_revision),
                EventKind::Put | EventKind::Delete => self.apply(ev.kind, &ev.kv),
            }
        }
        Ok(())
    }

    fn relative(&self, key: &str) -> String {
        key.strip_prefix(&self.prefix).unwrap_or(key).to_string()
    }

    /// Replaces the contents after a (re)list, turning differences into events.
    fn replace(&self, items: Vec<KeyValue>, rv: Revision) {
        let mut fresh = BTreeMap::new();
        for kv in &items {
            if let Some(v) = decode(kv) {
                fresh.insert(self.relative(&kv.key), cached(v));
            }
        }
        let mut st = self.state.write().unwrap_or_else(|p| p.into_inner());
        let first_sync = st.rv == 0;
        if !first_sync {
            let old = std::mem::take(&mut st.objects);
            for (k, prev) in &old {
                match fresh.get(k) {
                    None => self.record(
                        &mut st,
                        EventType::Deleted,
                        k,
                        cached(with_rv(prev.value.clone(), rv)),
                        Some(prev.clone()),
                        rv,
                    ),
                    Some(now) if now.json != prev.json => {
                        self.record(&mut st, EventType::Modified, k, now.clone(), Some(prev.clone()), rv)
                    }
                    _ => {}
                }
            }
            for (k, now) in &fresh {
                if !old.contains_key(k) {
                    self.record(&mut st, EventType::Added, k, now.clone(), None, rv);
                }
            }
        } else {
            st.oldest = rv;
        }
        st.objects = fresh;
        st.rv = st.rv.max(rv);
        let now = st.rv;
        drop(st);
        self.rv.send_replace(now);
    }

    fn apply(&self, kind: EventKind, kv: &KeyValue) {
        let Some(obj) = decode(kv) else {
            tracing::error!(key = %kv.key, "undecodable object in storage");
            return;
        };
        let key = self.relative(&kv.key);
        let obj = cached(obj);
        let mut st = self.state.write().unwrap_or_else(|p| p.into_inner());
        let prev = if kind == EventKind::Delete {
            st.objects.remove(&key)
        } else {
            st.objects.insert(key.clone(), obj.clone())
        };
        let ty = match (kind, &prev) {
            (EventKind::Delete, _) => EventType::Deleted,
            (_, Some(_)) => EventType::Modified,
            (_, None) => EventType::Added,
        };
        self.record(&mut st, ty, &key, obj, prev, kv.mod_revision);
        st.rv = kv.mod_revision;
        drop(st);
        self.rv.send_replace(kv.mod_revision);
    }

    fn advance(&self, rv: Revision) {
        let mut st = self.state.write().unwrap_or_else(|p| p.into_inner());
        if rv > st.rv {
            st.rv = rv;
            drop(st);
            self.rv.send_replace(rv);
        }
    }

    /// Appends to history and publishes, under the state lock so subscribers see no gap.
    fn record(
        &self,
        st: &mut State,
        kind: EventType,
        key: &str,
        object: Arc<Cached>,
        prev: Option<Arc<Cached>>,
        rv: Revision,
    ) {
        let ev = Arc::new(CacheEvent {
            kind,
            key: key.to_string(),
            object,
            prev,
            rv,
        });
        st.history.push_back(ev.clone());
        while st.history.len() > HISTORY {
            if let Some(old) = st.history.pop_front() {
                st.oldest = old.rv;
            }
        }
        let _ = self.events.send(ev);
    }

    pub fn revision(&self) -> Revision {
        *self.rv.borrow()
    }

    /// Waits until the cache has seen revision `rv`; 504 "Too large resource version" after 3s.
    pub async fn wait_for(&self, rv: Revision) -> ApiResult<()> {
        self.wait_for_within(rv, FRESHNESS_WAIT)
            .await
            .map_err(|current| ApiError::too_large_resource_version(rv, current))
    }

    /// Waits up to `limit` for revision `rv`; on timeout returns the revision reached.
    pub async fn wait_for_within(&self, rv: Revision, limit: Duration) -> Result<(), Revision> {
        let mut rx = self.rv.subscribe();
        let reached = tokio::time::timeout(limit, rx.wait_for(|cur| *cur >= rv)).await;
        match reached {
            Ok(Ok(_)) => Ok(()),
            _ => Err(self.revision()),
        }
    }

    /// Objects whose relative key starts with `within` (`ns/` or empty), with the revision.
    pub fn list(&self, within: &str) -> (Vec<Arc<Cached>>, Revision) {
        let st = self.state.read().unwrap_or_else(|p| p.into_inner());
        let items = st
            .objects
            .range(within.to_string()..)
            .take_while(|(k, _)| k.starts_with(within))
            .map(|(_, v)| v.clone())
            .collect();
        (items, st.rv)
    }

    pub fn get(&self, key: &str) -> Option<Arc<Cached>> {
        let st = self.state.read().unwrap_or_else(|p| p.into_inner());
        st.objects.get(key).cloned()
    }

    /// Starts a watch. `After(rv)` older than the kept history is 410 Expired.
    pub async fn subscribe(&self, start: WatchStart) -> ApiResult<Subscription> {
        if let WatchStart::After(rv) = start {
            self.wait_for(rv).await?;
        }
        let st = self.state.read().unwrap_or_else(|p| p.into_inner());
        let live = self.events.subscribe();
        let initial: Vec<Arc<CacheEvent>> = match start {
            WatchStart::Snapshot => st
                .objects
                .iter()
                .map(|(k, v)| {
                    Arc::new(CacheEvent {
                        kind: EventType::Added,
                        key: k.clone(),
                        object: v.clone(),
                        prev: None,
                        rv: st.rv,
                    })
                })
                .collect(),
            WatchStart::After(rv) => {
                if rv < st.oldest {
                    return Err(ApiError::gone(format!(
                        "too old resource version: {rv} ({})",
                        st.oldest
                    )));
                }
                let from = st.history.partition_point(|e| e.rv <= rv);
                st.history.range(from..).cloned().collect()
            }
        };
        Ok(Subscription {
            initial,
            live,
            rv: st.rv,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::embedded::Embedded;

    #[tokio::test]
    async fn follows_storage_and_serves_watches() {
        let dir = tempfile::tempdir().unwrap();
        let backend: Arc<dyn Backend> = Arc::new(Embedded::open(dir.path()).unwrap());
        let a = backend
            .create(
                "/registry/configmaps/ns/a".into(),
                br#"{"metadata":{"name":"a"}}"#.to_vec(),
            )
            .await
            .unwrap();
        let cacher = Cacher::start("/registry/configmaps/".into(), backend.clone()).await;
        cacher.wait_for(a.mod_revision).await.unwrap();
        let (items, _) = cacher.list("ns/");
        assert_eq!(items[0]["metadata"]["resourceVersion"], a.mod_revision.to_string());

        let mut sub = cacher.subscribe(WatchStart::After(a.mod_revision)).await.unwrap();
        assert!(sub.initial.is_empty());
        let b = backend
            .create(
                "/registry/configmaps/ns/b".into(),
                br#"{"metadata":{"name":"b"}}"#.to_vec(),
            )
            .await
            .unwrap();
        let ev = tokio::time::timeout(Duration::from_secs(5), sub.live.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (ev.kind, ev.key.as_str(), ev.rv),
            (EventType::Added, "ns/b", b.mod_revision)
        );

        // A write elsewhere advances the cache's revision through progress events.
        let other = backend
            .create("/registry/secrets/ns/s".into(), b"{}".to_vec())
            .await
            .unwrap();
        cacher.wait_for(other.mod_revision).await.unwrap();

        // Resuming from the first revision replays what followed.
        let resumed = cacher.subscribe(WatchStart::After(a.mod_revision)).await.unwrap();
        assert_eq!(resumed.initial.len(), 1);
        let snap = cacher.subscribe(WatchStart::Snapshot).await.unwrap();
        assert_eq!(snap.initial.len(), 2);

        backend.delete("/registry/configmaps/ns/a".into(), None).await.unwrap();
        let ev = tokio::time::timeout(Duration::from_secs(5), sub.live.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(ev.kind, EventType::Deleted);
        assert_eq!(ev.object["metadata"]["name"], "a");

        let err = cacher.wait_for(cacher.revision() + 100).await.unwrap_err();
        assert_eq!(err.code, 504);
    }
}
