//! Storage: one trait and two backends (embedded redb, etcd v3). Keys are
//! `<prefix>/<resource>/<namespace>/<name>`, values are the object's JSON without its
//! resourceVersion, which is the store revision that last wrote the key.

pub mod embedded;
pub mod etcd;

use futures::future::BoxFuture;
use futures::stream::BoxStream;

pub type Revision = i64;

/// A stored key at some revision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyValue {
    pub key: String,
    pub value: Vec<u8>,
    pub create_revision: Revision,
    pub mod_revision: Revision,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    Put,
    Delete,
    /// Nothing under the watched prefix changed up to `kv.mod_revision` (other keys did).
    Progress,
}

/// A change seen by a watch. For a delete, `kv.value` is the last value the key held and
/// `kv.mod_revision` the revision of the delete.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub kind: EventKind,
    pub kv: KeyValue,
}

/// One page of a range read.
#[derive(Clone, Debug, Default)]
pub struct ListResult {
    pub items: Vec<KeyValue>,
    /// The revision the read was served at.
    pub revision: Revision,
    /// Keys in the range after the last returned one (non-zero only when `limit` cut it).
    pub remaining: i64,
}

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum StorageError {
    #[error("key {0} already exists")]
    AlreadyExists(String),
    #[error("key {0} not found")]
    NotFound(String),
    /// A compare-and-swap lost: the key is at another revision now.
    #[error("key {key} is at revision {actual}, not {expected}")]
    Conflict {
        key: String,
        expected: Revision,
        actual: Revision,
    },
    /// The requested revision was compacted away; `compacted` is the oldest revision still kept.
    #[error("revision {requested} has been compacted (oldest kept: {compacted})")]
    Compacted { requested: Revision, compacted: Revision },
    #[error("revision {requested} is in the future (current: {current})")]
    FutureRevision { requested: Revision, current: Revision },
    #[error("storage backend: {0}")]
    Backend(String),
}

pub type Result<T> = std::result::Result<T, StorageError>;
pub type WatchStream = BoxStream<'static, Result<Event>>;

/// What the API server needs from a key-value store with revisions.
pub trait Backend: Send + Sync + 'static {
    fn get(&self, key: &str) -> BoxFuture<'_, Result<Option<KeyValue>>>;

    /// Keys starting with `prefix` and not before `start`, in key order, at `revision`
    /// (0 = current), at most `limit` of them (0 = no limit).
    fn list<'a>(
        &'a self,
        prefix: &'a str,
        start: &'a str,
        revision: Revision,
        limit: usize,
    ) -> BoxFuture<'a, Result<ListResult>>;

    /// Creates a key that must not exist.
    fn create(&self, key: String, value: Vec<u8>) -> BoxFuture<'_, Result<KeyValue>>;

    /// Replaces a key whose current revision must be `expected`.
    fn update(&self, key: String, value: Vec<u8>, expected: Revision) -> BoxFuture<'_, Result<KeyValue>>;

    /// Deletes a key, if `expected` is given only at that revision. Returns the deleted
    /// value with the revision of the delete as `mod_revision`.
    fn delete(&self, key: String, expected: Option<Revision>) -> BoxFuture<'_, Result<KeyValue>>;

    /// Changes under `prefix` after revision `after`, in revision order, then live.
    fn watch(&self, prefix: String, after: Revision) -> BoxFuture<'_, Result<WatchStream>>;

    /// The store's latest revision (a quorum read on etcd).
    fn current_revision(&self) -> BoxFuture<'_, Result<Revision>>;

    /// Drops history older than `revision`; reads and watches before it get `Compacted`.
    fn compact(&self, revision: Revision) -> BoxFuture<'_, Result<()>>;
}

/// The end of the key range for `prefix` (etcd's "range_end"): the prefix with its last
/// byte incremented.
pub fn prefix_end(prefix: &str) -> Vec<u8> {
    let mut end = prefix.as_bytes().to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    vec![0]
}

#[cfg(test)]
pub(crate) mod suite;
