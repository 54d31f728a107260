//! The embedded backend: redb on local disk, a revision log plus a key index (the model
//! k3s's kine uses on SQLite). One writer thread applies writes in batches, one fsync per
//! batch (group commit), and then publishes the batch's events to watchers in order.

use super::{Backend, Event, EventKind, KeyValue, ListResult, Result, Revision, StorageError, WatchStream};
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use tokio::sync::{broadcast, mpsc, oneshot};

/// revision → encoded entry (key, value, create revision, delete flag).
const LOG: TableDefinition<u64, &[u8]> = TableDefinition::new("log");
/// live key → revision of its latest entry in LOG.
const KEYS: TableDefinition<&str, u64> = TableDefinition::new("keys");
/// "revision", "compacted".
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

/// Writes drained from the queue into one transaction at most.
const MAX_BATCH: usize = 256;

pub struct Embedded {
    shared: Arc<Shared>,
    writes: mpsc::UnboundedSender<Write>,
}

struct Shared {
    db: Database,
    revision: AtomicI64,
    compacted: AtomicI64,
    events: broadcast::Sender<Arc<Vec<Event>>>,
}

enum Op {
    Create {
        key: String,
        value: Vec<u8>,
    },
    Update {
        key: String,
        value: Vec<u8>,
        expected: Revision,
    },
    Delete {
        key: String,
        expected: Option<Revision>,
    },
    Compact {
        revision: Revision,
    },
}

struct Write {
    op: Op,
    reply: oneshot::Sender<Result<KeyValue>>,
}

struct Entry {
    deleted: bool,
    create_revision: Revision,
    key: String,
    value: Vec<u8>,
}

impl Entry {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(17 + self.key.len() + self.value.len());
        out.push(u8::from(self.deleted));
        out.extend_from_slice(&self.create_revision.to_le_bytes());
        out.extend_from_slice(&(self.key.len() as u64).to_le_bytes());
        out.extend_from_slice(self.key.as_bytes());
        out.extend_from_slice(&self.value);
        out
    }

    fn decode(b: &[u8]) -> Result<Entry> {
        let bad = || StorageError::Backend("corrupt log entry".into());
        if b.len() < 17 {
            return Err(bad());
        }
        let create_revision = i64::from_le_bytes(b[1..9].try_into().map_err(|_| bad())?);
        let klen = u64::from_le_bytes(b[9..17].try_into().map_err(|_| bad())?) as usize;
        let key_end = 17usize.checked_add(klen).filter(|e| *e <= b.len()).ok_or_else(bad)?;
        let key = std::str::from_utf8(&b[17..key_end]).map_err(|_| bad())?.to_string();
        Ok(Entry {
            deleted: b[0] == 1,
            create_revision,
            key,
            value: b[key_end..].to_vec(),
        })
    }

    fn into_kv(self, revision: Revision) -> KeyValue {
        KeyValue {
            key: self.key,
            value: self.value,
            create_revision: self.create_revision,
            mod_revision: revision,
        }
    }
}

fn backend_err(e: impl std::fmt::Display) -> StorageError {
    StorageError::Backend(e.to_string())
}

impl Embedded {
    /// Opens (or creates) the store in `dir`.
    pub fn open(dir: &Path) -> Result<Embedded> {
        std::fs::create_dir_all(dir).map_err(backend_err)?;
        let db = Database::create(dir.join("state.redb")).map_err(backend_err)?;
        let (revision, compacted) = {
            let tx = db.begin_write().map_err(backend_err)?;
            let meta_vals = {
                tx.open_table(LOG).map_err(backend_err)?;
                tx.open_table(KEYS).map_err(backend_err)?;
                let meta = tx.open_table(META).map_err(backend_err)?;
                let get =
                    |k: &str| -> Result<u64> { Ok(meta.get(k).map_err(backend_err)?.map(|v| v.value()).unwrap_or(0)) };
                (get("revision")?, get("compacted")?)
            };
            tx.commit().map_err(backend_err)?;
            meta_vals
        };
        let (events, _) = broadcast::channel(1024);
        let shared = Arc::new(Shared {
            db,
            // Revision 1 is the empty store, as on etcd.
            revision: AtomicI64::new((revision as i64).max(1)),
            compacted: AtomicI64::new(compacted as i64),
            events,
        });
        let (writes, rx) = mpsc::unbounded_channel();
        let writer = shared.clone();
        std::thread::Builder::new()
            .name("embedded-store-writer".into())
            .spawn(move || writer.run_writer(rx))
            .map_err(backend_err)?;
        Ok(Embedded { shared, writes })
    }

    async fn submit(&self, op: Op) -> Result<KeyValue> {
        let (reply, rx) = oneshot::channel();
        self.writes
            .send(Write { op, reply })
            .map_err(|_| backend_err("store writer stopped"))?;
        rx.await.map_err(|_| backend_err("store writer stopped"))?
    }

    async fn read<T: Send + 'static>(&self, f: impl FnOnce(&Shared) -> Result<T> + Send + 'static) -> Result<T> {
        let shared = self.shared.clone();
        tokio::task::spawn_blocking(move || f(&shared))
            .await
            .map_err(backend_err)?
    }
}

impl Shared {
    fn run_writer(&self, mut rx: mpsc::UnboundedReceiver<Write>) {
        while let Some(first) = rx.blocking_recv() {
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(w) => batch.push(w),
                    Err(_) => break,
                }
            }
            self.apply_batch(batch);
        }
    }

    fn apply_batch(&self, batch: Vec<Write>) {
        let start = self.revision.load(Ordering::SeqCst);
        let mut results = Vec::with_capacity(batch.len());
        let mut events = Vec::new();
        let outcome = (|| -> Result<Revision> {
            let mut tx = self.db.begin_write().map_err(backend_err)?;
            tx.set_durability(Durability::Immediate).map_err(backend_err)?;
            let mut rev = start;
            let mut compact_to = None;
            {
                let mut log = tx.open_table(LOG).map_err(backend_err)?;
                let mut keys = tx.open_table(KEYS).map_err(backend_err)?;
                for w in &batch {
                    let r = apply_op(&mut log, &mut keys, &w.op, rev + 1, &mut compact_to);
                    if let Ok((_, Some(ev))) = &r {
                        rev += 1;
                        events.push(ev.clone());
                    }
                    results.push(r.map(|(kv, _)| kv));
                }
                if let Some(c) = compact_to {
                    compact(&mut log, &keys, c)?;
                }
                let mut meta = tx.open_table(META).map_err(backend_err)?;
                meta.insert("revision", rev as u64).map_err(backend_err)?;
                if let Some(c) = compact_to {
                    meta.insert("compacted", c as u64).map_err(backend_err)?;
                }
            }
            tx.commit().map_err(backend_err)?;
            if let Some(c) = compact_to {
                self.compacted.store(c, Ordering::SeqCst);
            }
            Ok(rev)
        })();
        match outcome {
            Ok(rev) => {
                self.revision.store(rev, Ordering::SeqCst);
                if !events.is_empty() {
                    // No receivers is fine: nobody watches yet.
                    let _ = self.events.send(Arc::new(events));
                }
                for (w, r) in batch.into_iter().zip(results) {
                    let _ = w.reply.send(r);
                }
            }
            Err(e) => {
                for w in batch {
                    let _ = w.reply.send(Err(e.clone()));
                }
            }
        }
    }
}

type LogTable<'a> = redb::Table<'a, u64, &'static [u8]>;
type KeyTable<'a> = redb::Table<'a, &'static str, u64>;

fn load_entry(log: &impl ReadableTable<u64, &'static [u8]>, rev: u64) -> Result<Entry> {
    let raw = log
        .get(rev)
        .map_err(backend_err)?
        .ok_or_else(|| backend_err("log entry missing"))?;
    Entry::decode(raw.value())
}

/// Applies one write at revision `rev`; returns the result and, when it changed the store,
/// its event.
fn apply_op(
    log: &mut LogTable,
    keys: &mut KeyTable,
    op: &Op,
    rev: Revision,
    compact_to: &mut Option<Revision>,
) -> Result<(KeyValue, Option<Event>)> {
    let current = |keys: &KeyTable, key: &str| -> Result<Option<u64>> {
        Ok(keys.get(key).map_err(backend_err)?.map(|v| v.value()))
    };
    match op {
        Op::Create { key, value } => {
            if current(keys, key)?.is_some() {
                return Err(StorageError::AlreadyExists(key.clone()));
            }
            let entry = Entry {
                deleted: false,
                create_revision: rev,
                key: key.clone(),
                value: value.clone(),
            };
            put_entry(log, keys, entry, rev, EventKind::Put)
        }
        Op::Update { key, value, expected } => {
            let Some(cur) = current(keys, key)? else {
                return Err(StorageError::NotFound(key.clone()));
            };
            if cur as i64 != *expected {
                return Err(StorageError::Conflict {
                    key: key.clone(),
                    expected: *expected,
                    actual: cur as i64,
                });
            }
            let old = load_entry(log, cur)?;
            let entry = Entry {
                deleted: false,
                create_revision: old.create_revision,
                key: key.clone(),
                value: value.clone(),
            };
            put_entry(log, keys, entry, rev, EventKind::Put)
        }
        Op::Delete { key, expected } => {
            let Some(cur) = current(keys, key)? else {
                return Err(StorageError::NotFound(key.clone()));
            };
            if let Some(exp) = expected
                && cur as i64 != *exp
            {
                return Err(StorageError::Conflict {
                    key: key.clone(),
                    expected: *exp,
                    actual: cur as i64,
                });
            }
            let old = load_entry(log, cur)?;
            let entry = Entry {
                deleted: true,
                create_revision: old.create_revision,
                key: key.clone(),
                value: old.value,
            };
            put_entry(log, keys, entry, rev, EventKind::Delete)
        }
        Op::Compact { revision } => {
            *compact_to = Some((*revision).min(rev - 1).max(compact_to.unwrap_or(0)));
            Ok((
                KeyValue {
                    key: String::new(),
                    value: Vec::new(),
                    create_revision: 0,
                    mod_revision: 0,
                },
                None,
            ))
        }
    }
}

fn put_entry(
    log: &mut LogTable,
    keys: &mut KeyTable,
    entry: Entry,
    rev: Revision,
    kind: EventKind,
) -> Result<(KeyValue, Option<Event>)> {
    log.insert(rev as u64, entry.encode().as_slice()).map_err(backend_err)?;
    if kind == EventKind::Delete {
        keys.remove(entry.key.as_str()).map_err(backend_err)?;
    } else {
        keys.insert(entry.key.as_str(), rev as u64).map_err(backend_err)?;
    }
    let kv = entry.into_kv(rev);
    Ok((kv.clone(), Some(Event { kind, kv })))
}

/// Removes every log entry older than `to` that no longer is the live version of its key.
fn compact(log: &mut LogTable, keys: &KeyTable, to: Revision) -> Result<()> {
    let mut dead = Vec::new();
    for item in log.range(..to as u64).map_err(backend_err)? {
        let (rev, raw) = item.map_err(backend_err)?;
        let entry = Entry::decode(raw.value())?;
        let live = keys.get(entry.key.as_str()).map_err(backend_err)?.map(|v| v.value());
        if entry.deleted || live != Some(rev.value()) {
            dead.push(rev.value());
        }
    }
    for rev in dead {
        log.remove(rev).map_err(backend_err)?;
    }
    Ok(())
}

fn list_at(shared: &Shared, prefix: &str, start: &str, revision: Revision, limit: usize) -> Result<ListResult> {
    let current = shared.revision.load(Ordering::SeqCst);
    let compacted = shared.compacted.load(Ordering::SeqCst);
    if revision > current {
        return Err(StorageError::FutureRevision {
            requested: revision,
            current,
        });
    }
    if revision != 0 && revision < compacted {
        return Err(StorageError::Compacted {
            requested: revision,
            compacted,
        });
    }
    let tx = shared.db.begin_read().map_err(backend_err)?;
    let log = tx.open_table(LOG).map_err(backend_err)?;
    let from = if start.is_empty() || start < prefix {
        prefix
    } else {
        start
    };
    let in_range = |k: &str| k.starts_with(prefix) && k >= from;
    let mut items = Vec::new();
    let mut remaining = 0i64;
    if revision == 0 || revision == current {
        let keys = tx.open_table(KEYS).map_err(backend_err)?;
        for item in keys.range(from..).map_err(backend_err)? {
            let (k, rev) = item.map_err(backend_err)?;
            if !k.value().starts_with(prefix) {
                break;
            }
            if limit > 0 && items.len() >= limit {
                remaining += 1;
                continue;
            }
            items.push(load_entry(&log, rev.value())?.into_kv(rev.value() as i64));
        }
    } else {
        // A past revision: replay the log up to it (rare: exact-revision lists and paging).
        let mut state = std::collections::BTreeMap::new();
        for item in log.range(..=revision as u64).map_err(backend_err)? {
            let (rev, raw) = item.map_err(backend_err)?;
            let entry = Entry::decode(raw.value())?;
            if !in_range(&entry.key) {
                continue;
            }
            if entry.deleted {
                state.remove(&entry.key);
            } else {
                state.insert(entry.key.clone(), entry.into_kv(rev.value() as i64));
            }
        }
        for kv in state.into_values() {
            if limit > 0 && items.len() >= limit {
                remaining += 1;
            } else {
                items.push(kv);
            }
        }
    }
    let revision = if revision == 0 { current } else { revision };
    Ok(ListResult {
        items,
        revision,
        remaining,
    })
}

/// Log entries under `prefix` after `after`, as events.
fn replay(shared: &Shared, prefix: &str, after: Revision) -> Result<Vec<Event>> {
    let tx = shared.db.begin_read().map_err(backend_err)?;
    let log = tx.open_table(LOG).map_err(backend_err)?;
    let mut out = Vec::new();
    for item in log.range(after as u64 + 1..).map_err(backend_err)? {
        let (rev, raw) = item.map_err(backend_err)?;
        let entry = Entry::decode(raw.value())?;
        if entry.key.starts_with(prefix) {
            let kind = if entry.deleted {
                EventKind::Delete
            } else {
                EventKind::Put
            };
            out.push(Event {
                kind,
                kv: entry.into_kv(rev.value() as i64),
            });
        }
    }
    Ok(out)
}

impl Backend for Embedded {
    fn get(&self, key: &str) -> BoxFuture<'_, Result<Option<KeyValue>>> {
        let key = key.to_string();
        self.read(move |s| {
            let tx = s.db.begin_read().map_err(backend_err)?;
            let keys = tx.open_table(KEYS).map_err(backend_err)?;
            let Some(rev) = keys.get(key.as_str()).map_err(backend_err)?.map(|v| v.value()) else {
                return Ok(None);
            };
            let log = tx.open_table(LOG).map_err(backend_err)?;
            Ok(Some(load_entry(&log, rev)?.into_kv(rev as i64)))
        })
        .boxed()
    }

    fn list<'a>(
        &'a self,
        prefix: &'a str,
        start: &'a str,
        revision: Revision,
        limit: usize,
    ) -> BoxFuture<'a, Result<ListResult>> {
        let (prefix, start) = (prefix.to_string(), start.to_string());
        self.read(move |s| list_at(s, &prefix, &start, revision, limit)).boxed()
    }

    fn create(&self, key: String, value: Vec<u8>) -> BoxFuture<'_, Result<KeyValue>> {
        self.submit(Op::Create { key, value }).boxed()
    }

    fn update(&self, key: String, value: Vec<u8>, expected: Revision) -> BoxFuture<'_, Result<KeyValue>> {
        self.submit(Op::Update { key, value, expected }).boxed()
    }

    fn delete(&self, key: String, expected: Option<Revision>) -> BoxFuture<'_, Result<KeyValue>> {
        self.submit(Op::Delete { key, expected }).boxed()
    }

    fn watch(&self, prefix: String, after: Revision) -> BoxFuture<'_, Result<WatchStream>> {
        async move {
            // Subscribe before replaying so nothing falls between the two.
            let rx = self.shared.events.subscribe();
            let compacted = self.shared.compacted.load(Ordering::SeqCst);
            if after + 1 < compacted {
                return Err(StorageError::Compacted {
                    requested: after,
                    compacted,
                });
            }
            let shared = self.shared.clone();
            let state = WatchState {
                shared,
                prefix,
                last: after,
                caught_up: false,
                rx,
                pending: Default::default(),
            };
            Ok(futures::stream::unfold(state, |mut st| async move {
                let item = st.next_event().await?;
                Some((item, st))
            })
            .boxed())
        }
        .boxed()
    }

    fn current_revision(&self) -> BoxFuture<'_, Result<Revision>> {
        let rev = self.shared.revision.load(Ordering::SeqCst);
        async move { Ok(rev) }.boxed()
    }

    fn compact(&self, revision: Revision) -> BoxFuture<'_, Result<()>> {
        self.submit(Op::Compact { revision }).map(|r| r.map(|_| ())).boxed()
    }
}

struct WatchState {
    shared: Arc<Shared>,
    prefix: String,
    /// The revision this watch has delivered (or skipped) up to.
    last: Revision,
    /// False until the log has been replayed, and again after the live channel overflowed.
    caught_up: bool,
    rx: broadcast::Receiver<Arc<Vec<Event>>>,
    pending: std::collections::VecDeque<Event>,
}

impl WatchState {
    /// The next event after `last`: first from the log, then from the live channel; when the
    /// channel overflowed, from the log again.
    async fn next_event(&mut self) -> Option<Result<Event>> {
        loop {
            if let Some(ev) = self.pending.pop_front() {
                self.last = self.last.max(ev.kv.mod_revision);
                return Some(Ok(ev));
            }
            if !self.caught_up {
                let (shared, prefix, last) = (self.shared.clone(), self.prefix.clone(), self.last);
                match tokio::task::spawn_blocking(move || replay(&shared, &prefix, last)).await {
                    Ok(Ok(evs)) => self.pending.extend(evs),
                    Ok(Err(e)) => return Some(Err(e)),
                    Err(e) => return Some(Err(backend_err(e))),
                }
                self.caught_up = true;
                continue;
            }
            match self.rx.recv().await {
                Ok(batch) => {
                    let last = self.last;
                    let prefix = &self.prefix;
                    self.pending.extend(
                        batch
                            .iter()
                            .filter(|e| e.kv.mod_revision > last && e.kv.key.starts_with(prefix.as_str()))
                            .cloned(),
                    );
                    if let Some(newest) = batch.last() {
                        if self.pending.is_empty() && newest.kv.mod_revision > self.last {
                            self.pending.push_back(Event {
                                kind: EventKind::Progress,
                                kv: KeyValue {
                                    key: String::new(),
                                    value: Vec::new(),
                                    create_revision: 0,
                                    mod_revision: newest.kv.mod_revision,
                                },
                            });
                        }
                        self.last = self.last.max(newest.kv.mod_revision);
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => self.caught_up = false,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn passes_the_storage_suite() {
        let dir = tempfile::tempdir().unwrap();
        let store = Embedded::open(dir.path()).unwrap();
        super::super::suite::run(&store, "/registry-test").await;
    }

    #[tokio::test]
    async fn survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let rev = {
            let store = Embedded::open(dir.path()).unwrap();
            store.create("/r/a".into(), b"1".to_vec()).await.unwrap();
            store.create("/r/b".into(), b"2".to_vec()).await.unwrap().mod_revision
        };
        // The writer thread holds the database until its channel closes.
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let store = Embedded::open(dir.path()).unwrap();
        assert_eq!(store.current_revision().await.unwrap(), rev);
        let got = store.get("/r/b").await.unwrap().unwrap();
        assert_eq!(got.value, b"2");
        let kv = store.create("/r/c".into(), b"3".to_vec()).await.unwrap();
        assert_eq!(kv.mod_revision, rev + 1);
    }
}
