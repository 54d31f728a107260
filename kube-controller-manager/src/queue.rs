//! The work queue every controller drains (client-go's rate-limited workqueue): a key is
//! queued at most once however often it is added, is never handed to two workers at once
//! (an add while it is being processed queues it again afterwards), and failures are
//! retried with per-key exponential backoff from 5ms up to 1000s.

use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

const BASE_DELAY: Duration = Duration::from_millis(5);
const MAX_DELAY: Duration = Duration::from_secs(1000);

struct State<T> {
    queue: VecDeque<T>,
    dirty: HashSet<T>,
    processing: HashSet<T>,
    failures: HashMap<T, u32>,
}

pub struct Queue<T> {
    state: Mutex<State<T>>,
    ready: Notify,
    adds: AtomicU64,
    retries: AtomicU64,
}

impl<T: Hash + Eq + Clone + Send + Sync + 'static> Queue<T> {
    pub fn new() -> Arc<Queue<T>> {
        Arc::new(Queue {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                dirty: HashSet::new(),
                processing: HashSet::new(),
                failures: HashMap::new(),
            }),
            ready: Notify::new(),
            adds: AtomicU64::new(0),
            retries: AtomicU64::new(0),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn add(&self, item: T) {
        self.adds.fetch_add(1, Ordering::Relaxed);
        let mut s = self.state();
        if !s.dirty.insert(item.clone()) {
            return;
        }
        if !s.processing.contains(&item) {
            s.queue.push_back(item);
            self.ready.notify_one();
        }
    }

    pub fn add_after(self: &Arc<Self>, item: T, delay: Duration) {
        if delay.is_zero() {
            return self.add(item);
        }
        let queue = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            queue.add(item);
        });
    }

    /// Re-adds after the item's next backoff step.
    pub fn add_rate_limited(self: &Arc<Self>, item: T) {
        self.retries.fetch_add(1, Ordering::Relaxed);
        let failures = {
            let mut s = self.state();
            let n = s.failures.entry(item.clone()).or_insert(0);
            *n += 1;
            *n
        };
        let delay = BASE_DELAY.saturating_mul(1u32 << (failures - 1).min(31)).min(MAX_DELAY);
        self.add_after(item, delay);
    }

    /// Clears the item's backoff after a success.
    pub fn forget(&self, item: &T) {
        self.state().failures.remove(item);
    }

    pub async fn get(&self) -> T {
        loop {
            let notified = self.ready.notified();
            {
                let mut s = self.state();
                if let Some(item) = s.queue.pop_front() {
                    s.dirty.remove(&item);
                    s.processing.insert(item.clone());
                    if !s.queue.is_empty() {
                        self.ready.notify_one();
                    }
                    return item;
                }
            }
            notified.await;
        }
    }

    pub fn done(&self, item: &T) {
        let mut s = self.state();
        s.processing.remove(item);
        if s.dirty.contains(item) {
            s.queue.push_back(item.clone());
            self.ready.notify_one();
        }
    }

    pub fn len(&self) -> usize {
        self.state().queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T: Hash + Eq + Clone + Send + Sync + 'static> crate::metrics::QueueStats for Queue<T> {
    fn depth(&self) -> usize {
        self.len()
    }
    fn adds(&self) -> u64 {
        self.adds.load(Ordering::Relaxed)
    }
    fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }
}

/// Runs `workers` loops that take keys and sync them; a failed sync is retried with backoff.
pub async fn run_workers<T, F, Fut>(name: &'static str, queue: Arc<Queue<T>>, workers: usize, sync: F)
where
    T: Hash + Eq + Clone + Send + Sync + std::fmt::Display + 'static,
    F: Fn(T) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send,
{
    crate::metrics::register_queue(name, queue.clone());
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..workers.max(1) {
        let (queue, sync) = (queue.clone(), sync.clone());
        tasks.spawn(async move {
            loop {
                let key = queue.get().await;
                match sync(key.clone()).await {
                    Ok(()) => queue.forget(&key),
                    Err(e) => {
                        let error = match e.downcast_ref::<kube::Error>() {
                            Some(kube::Error::Api(s)) => s.message.clone(),
                            _ => format!("{e:#}"),
                        };
                        tracing::info!(queue = name, %key, %error, "sync failed, retrying");
                        queue.add_rate_limited(key.clone());
                    }
                }
                queue.done(&key);
            }
        });
    }
    while tasks.join_next().await.is_some() {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn dedupes_and_never_hands_out_a_key_twice_at_once() {
        let q = Queue::new();
        q.add("a");
        q.add("a");
        q.add("b");
        assert_eq!(q.len(), 2);
        let a = q.get().await;
        assert_eq!(a, "a");
        q.add("a"); // while processing: held back until done
        assert_eq!(q.get().await, "b");
        assert!(q.is_empty());
        q.done(&"a");
        assert_eq!(q.get().await, "a");
    }

    #[tokio::test]
    async fn failures_back_off_exponentially_and_forget_resets() {
        let q = Queue::new();
        q.add_rate_limited("x");
        q.add_rate_limited("x");
        q.add_rate_limited("x");
        assert_eq!(q.state().failures[&"x"], 3);
        let got = tokio::time::timeout(Duration::from_secs(1), q.get()).await;
        assert_eq!(got.ok(), Some("x"));
        q.forget(&"x");
        assert!(q.state().failures.is_empty());
    }
}
