//! The etcd v3 backend: every write is a transaction comparing the key's mod revision,
//! so a stale write loses cleanly; watches stream from a revision with previous values.

use super::{Backend, Event, EventKind, KeyValue, ListResult, Result, Revision, StorageError, WatchStream, prefix_end};
use etcd_client::{
    Client, Compare, CompareOp, DeleteOptions, GetOptions, PutOptions, Txn, TxnOp, TxnOpResponse, WatchOptions,
};
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};

pub struct Etcd {
    client: Client,
}

fn etcd_err(e: etcd_client::Error) -> StorageError {
    StorageError::Backend(e.to_string())
}

/// etcd reports compaction and future revisions only as text.
fn read_err(e: etcd_client::Error, requested: Revision) -> StorageError {
    let msg = e.to_string();
    if msg.contains("required revision has been compacted") {
        StorageError::Compacted {
            requested,
            compacted: requested + 1,
        }
    } else if msg.contains("future revision") {
        StorageError::FutureRevision { requested, current: 0 }
    } else {
        StorageError::Backend(msg)
    }
}

fn to_kv(kv: &etcd_client::KeyValue) -> Result<KeyValue> {
    Ok(KeyValue {
        key: String::from_utf8(kv.key().to_vec()).map_err(|_| StorageError::Backend("non-UTF-8 key".into()))?,
        value: kv.value().to_vec(),
        create_revision: kv.create_revision(),
        mod_revision: kv.mod_revision(),
    })
}

impl Etcd {
    /// Connects to the servers of `--etcd-servers` (comma-separated URLs).
    pub async fn connect(servers: &[String]) -> Result<Etcd> {
        let endpoints: Vec<String> = servers
            .iter()
            .map(|s| s.trim_start_matches("http://").to_string())
            .collect();
        let client = Client::connect(endpoints, None).await.map_err(etcd_err)?;
        Ok(Etcd { client })
    }

    /// The key's current revision from a failed transaction's `else` get, or NotFound.
    fn current_of(key: &str, responses: &[TxnOpResponse]) -> Result<Revision> {
        match responses.first() {
            Some(TxnOpResponse::Get(g)) => g
                .kvs()
                .first()
                .map(|kv| kv.mod_revision())
                .ok_or_else(|| StorageError::NotFound(key.to_string())),
            _ => Err(StorageError::NotFound(key.to_string())),
        }
    }

    async fn guarded_write(&self, key: String, expected: Revision, then: TxnOp) -> Result<etcd_client::TxnResponse> {
        let txn = Txn::new()
            .when([Compare::mod_revision(key.clone(), CompareOp::Equal, expected)])
            .and_then([then])
            .or_else([TxnOp::get(key.clone(), None)]);
        let resp = self.client.clone().txn(txn).await.map_err(etcd_err)?;
        if resp.succeeded() {
            return Ok(resp);
        }
        let actual = Self::current_of(&key, &resp.op_responses())?;
        Err(StorageError::Conflict { key, expected, actual })
    }
}

fn header_revision(h: Option<&etcd_client::ResponseHeader>) -> Revision {
    h.map(|h| h.revision()).unwrap_or(0)
}

impl Backend for Etcd {
    fn get(&self, key: &str) -> BoxFuture<'_, Result<Option<KeyValue>>> {
        let key = key.to_string();
        async move {
            let resp = self.client.clone().get(key, None).await.map_err(etcd_err)?;
            resp.kvs().first().map(to_kv).transpose()
        }
        .boxed()
    }

    fn list<'a>(
        &'a self,
        prefix: &'a str,
        start: &'a str,
        revision: Revision,
        limit: usize,
    ) -> BoxFuture<'a, Result<ListResult>> {
        async move {
            let from = if start.is_empty() || start < prefix {
                prefix
            } else {
                start
            };
            let mut opts = GetOptions::new().with_range(prefix_end(prefix)).with_revision(revision);
            if limit > 0 {
                opts = opts.with_limit(limit as i64);
            }
            let resp = self
                .client
                .clone()
                .get(from, Some(opts))
                .await
                .map_err(|e| read_err(e, revision))?;
            let items = resp.kvs().iter().map(to_kv).collect::<Result<Vec<_>>>()?;
            let remaining = if resp.more() {
                resp.count() - items.len() as i64
            } else {
                0
            };
            let revision = if revision == 0 {
                header_revision(resp.header())
            } else {
                revision
            };
            Ok(ListResult {
                items,
                revision,
                remaining,
            })
        }
        .boxed()
    }

    fn create(&self, key: String, value: Vec<u8>) -> BoxFuture<'_, Result<KeyValue>> {
        async move {
            let txn = Txn::new()
                .when([Compare::create_revision(key.clone(), CompareOp::Equal, 0)])
                .and_then([TxnOp::put(key.clone(), value.clone(), None)]);
            let resp = self.client.clone().txn(txn).await.map_err(etcd_err)?;
            if !resp.succeeded() {
                return Err(StorageError::AlreadyExists(key));
            }
            let rev = header_revision(resp.header());
            Ok(KeyValue {
                key,
                value,
                create_revision: rev,
                mod_revision: rev,
            })
        }
        .boxed()
    }

    fn update(&self, key: String, value: Vec<u8>, expected: Revision) -> BoxFuture<'_, Result<KeyValue>> {
        async move {
            let put = TxnOp::put(key.clone(), value.clone(), Some(PutOptions::new().with_prev_key()));
            let resp = self.guarded_write(key.clone(), expected, put).await?;
            let create_revision = match resp.op_responses().first() {
                Some(TxnOpResponse::Put(p)) => p.prev_key().map(|kv| kv.create_revision()).unwrap_or(0),
                _ => 0,
            };
            Ok(KeyValue {
                key,
                value,
                create_revision,
                mod_revision: header_revision(resp.header()),
            })
        }
        .boxed()
    }

    fn delete(&self, key: String, expected: Option<Revision>) -> BoxFuture<'_, Result<KeyValue>> {
        async move {
            let del = TxnOp::delete(key.clone(), Some(DeleteOptions::new().with_prev_key()));
            let resp = match expected {
                Some(exp) => self.guarded_write(key.clone(), exp, del).await?,
                None => {
                    let txn = Txn::new().and_then([del]);
                    self.client.clone().txn(txn).await.map_err(etcd_err)?
                }
            };
            let prev = match resp.op_responses().first() {
                Some(TxnOpResponse::Delete(d)) => d.prev_kvs().first().map(to_kv).transpose()?,
                _ => None,
            };
            let mut kv = prev.ok_or_else(|| StorageError::NotFound(key.clone()))?;
            kv.mod_revision = header_revision(resp.header());
            Ok(kv)
        }
        .boxed()
    }

    fn watch(&self, prefix: String, after: Revision) -> BoxFuture<'_, Result<WatchStream>> {
        async move {
            let opts = WatchOptions::new()
                .with_range(prefix_end(&prefix))
                .with_start_revision(after + 1)
                .with_prev_key();
            let stream = self.client.clone().watch(prefix, Some(opts)).await.map_err(etcd_err)?;
            let (sender, responses) = stream.split();
            let state = (
                sender,
                responses,
                std::collections::VecDeque::<Result<Event>>::new(),
                false,
            );
            Ok(
                futures::stream::unfold(state, move |(sender, mut responses, mut pending, done)| async move {
                    loop {
                        if let Some(item) = pending.pop_front() {
                            return Some((item, (sender, responses, pending, done)));
                        }
                        if done {
                            return None;
                        }
                        match responses.message().await {
                            Ok(Some(resp)) => {
                                if resp.compact_revision() > 0 {
                                    pending.push_back(Err(StorageError::Compacted {
                                        requested: after,
                                        compacted: resp.compact_revision(),
                                    }));
                                    return pending.pop_front().map(|i| (i, (sender, responses, pending, true)));
                                }
                                for ev in resp.events() {
                                    pending.push_back(convert_event(ev));
                                }
                                if resp.canceled() {
                                    pending.push_back(Err(StorageError::Backend(format!(
                                        "watch canceled: {}",
                                        resp.cancel_reason()
                                    ))));
                                    return pending.pop_front().map(|i| (i, (sender, responses, pending, true)));
                                }
                            }
                            Ok(None) => return None,
                            Err(e) => return Some((Err(etcd_err(e)), (sender, responses, pending, true))),
                        }
                    }
                })
                .boxed(),
            )
        }
        .boxed()
    }

    fn current_revision(&self) -> BoxFuture<'_, Result<Revision>> {
        async move {
            // A count-only read of an empty range is the cheapest quorum read of the revision.
            let resp = self
                .client
                .clone()
                .get("/", Some(GetOptions::new().with_count_only()))
                .await
                .map_err(etcd_err)?;
            Ok(header_revision(resp.header()))
        }
        .boxed()
    }

    fn compact(&self, revision: Revision) -> BoxFuture<'_, Result<()>> {
        async move {
            match self.client.clone().compact(revision, None).await {
                Ok(_) => Ok(()),
                Err(e) if e.to_string().contains("required revision has been compacted") => Ok(()),
                Err(e) => Err(etcd_err(e)),
            }
        }
        .boxed()
    }
}

fn convert_event(ev: &etcd_client::Event) -> Result<Event> {
    let kv = ev
        .kv()
        .ok_or_else(|| StorageError::Backend("watch event without key".into()))?;
    match ev.event_type() {
        etcd_client::EventType::Put => Ok(Event {
            kind: EventKind::Put,
            kv: to_kv(kv)?,
        }),
        etcd_client::EventType::Delete => {
            let prev = ev
                .prev_kv()
                .ok_or_else(|| StorageError::Backend("delete event without previous value".into()))?;
            let mut last = to_kv(prev)?;
            last.mod_revision = kv.mod_revision();
            Ok(Event {
                kind: EventKind::Delete,
                kv: last,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn passes_the_storage_suite() {
        let etcd = super::super::suite::start_etcd().await;
        let store = Etcd::connect(std::slice::from_ref(&etcd.endpoint)).await.unwrap();
        super::super::suite::run(&store, "/registry-test").await;
    }
}
