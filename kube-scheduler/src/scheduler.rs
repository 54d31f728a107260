//! The scheduler: its cache and queue, the scheduling loop (on a thread of its own, since an
//! attempt is pure computation over the cache), and the asynchronous binding of each decision.

use crate::cache::Cache;
use crate::config::{Config, DEFAULT_SCHEDULER_NAME, Profile};
use crate::events::Recorder;
use crate::metrics::Metrics;
use crate::podinfo::PodInfo;
use crate::preemption;
use crate::queue::{Popped, Queue};
use crate::schedule::{Rng, schedule};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, PostParams};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

/// API writes (bindings, events, status updates) in flight at once.
const MAX_WRITES: usize = 128;

/// The profile a pod asks for (`spec.schedulerName`, default-scheduler when empty).
fn scheduler_name(pod: &Pod) -> &str {
    pod.spec
        .as_ref()
        .and_then(|s| s.scheduler_name.as_deref())
        .filter(|n| !n.is_empty())
        .unwrap_or(DEFAULT_SCHEDULER_NAME)
}

pub struct Scheduler {
    pub profiles: HashMap<String, Profile>,
    pub percentage_of_nodes_to_score: u32,
    cache: Mutex<Cache>,
    pub queue: Queue,
    pub metrics: Metrics,
    pub recorder: Recorder,
    client: kube::Client,
    /// Informers that have not finished their initial list.
    unsynced: AtomicUsize,
    writes: Arc<tokio::sync::Semaphore>,
}

impl Scheduler {
    pub fn new(config: Config, client: kube::Client, informers: usize) -> Scheduler {
        let profiles: HashMap<String, Profile> = config
            .profiles
            .into_iter()
            .map(|p| (p.scheduler_name.clone(), p))
            .collect();
        Scheduler {
            metrics: Metrics::new(profiles.keys()),
            profiles,
            percentage_of_nodes_to_score: config.percentage_of_nodes_to_score,
            cache: Mutex::new(Cache::default()),
            queue: Queue::new(config.initial_backoff, config.max_backoff),
            recorder: Recorder::new(client.clone()),
            client,
            unsynced: AtomicUsize::new(informers),
            writes: Arc::new(tokio::sync::Semaphore::new(MAX_WRITES)),
        }
    }

    pub fn cache(&self) -> MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether one of our profiles schedules this pod (`spec.schedulerName`).
    pub fn responsible_for(&self, pod: &Pod) -> bool {
        self.profiles.contains_key(scheduler_name(pod))
    }

    pub fn mark_synced(&self) {
        let _ = self
            .unsynced
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
    }

    pub fn is_synced(&self) -> bool {
        self.unsynced.load(Ordering::SeqCst) == 0
    }

    /// The scheduling loop; returns when the queue is closed. Runs on a dedicated thread.
    pub fn run_loop(self: Arc<Self>, rt: tokio::runtime::Handle) {
        while !self.is_synced() {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        tracing::info!("caches synced; scheduling");
        let mut next_start = 0;
        let mut rng = Rng::seeded();
        while let Some(popped) = self.queue.pop() {
            self.schedule_one(&rt, popped, &mut next_start, &mut rng);
        }
    }

    fn schedule_one(
        self: &Arc<Self>,
        rt: &tokio::runtime::Handle,
        popped: Popped,
        next_start: &mut usize,
        rng: &mut Rng,
    ) {
        let info = popped.info;
        let key = info.key();
        let scheduler_name = scheduler_name(&info.pod);
        let Some(profile) = self.profiles.get(scheduler_name) else {
            self.queue.done(&key);
            return;
        };
        let started = Instant::now();
        let result = {
            let cache = self.cache();
            if cache.has_pod(&info.uid) {
                // Already bound or assumed (a stale queue entry).
                drop(cache);
                self.queue.done(&key);
                return;
            }
            schedule(
                profile,
                self.percentage_of_nodes_to_score,
                &cache,
                &info,
                next_start,
                rng,
            )
        };
        self.metrics
            .attempt_micros
            .fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
        match result {
            Ok(decision) => {
                tracing::debug!(pod = %key, node = %decision.node, evaluated = decision.evaluated,
                    feasible = decision.feasible, "scheduled");
                self.cache().assume(info.clone(), &decision.node);
                self.queue.done(&key);
                if let Some(a) = self.metrics.attempts(scheduler_name) {
                    a.scheduled.fetch_add(1, Ordering::Relaxed);
                }
                rt.spawn(self.clone().bind(info, decision.node));
            }
            Err(fit) => {
                if let Some(a) = self.metrics.attempts(scheduler_name) {
                    a.unschedulable.fetch_add(1, Ordering::Relaxed);
                }
                let outcome = {
                    let cache = self.cache();
                    preemption::run(profile, &cache, &info, &fit)
                };
                let mut message = fit.message();
                if let Some(post) = &outcome.message {
                    message = format!("{message} {post}");
                }
                tracing::info!(pod = %key, %message, "unable to schedule pod");
                self.queue.failed(info.clone(), popped.cycle, true, fit.plugins());
                if !outcome.victims.is_empty() {
                    self.metrics.preemption_attempts.fetch_add(1, Ordering::Relaxed);
                    self.metrics
                        .preemption_victims
                        .fetch_add(outcome.victims.len() as u64, Ordering::Relaxed);
                }
                rt.spawn(self.clone().report_failure(info, message, outcome));
            }
        }
    }

    async fn report_failure(self: Arc<Self>, info: Arc<PodInfo>, message: String, outcome: preemption::Outcome) {
        let Ok(_permit) = self.writes.clone().acquire_owned().await else {
            return;
        };
        if let Some(node) = &outcome.nominated {
            for victim in &outcome.victims {
                preemption::evict(&self.client, &self.recorder, victim, &info, node).await;
            }
        }
        let r = &self.recorder;
        tokio::join!(
            r.event(&info.pod, "Warning", "FailedScheduling", "Scheduling", &message),
            r.unschedulable(&info.pod, &message, outcome.nominated.as_deref()),
        );
    }

    async fn bind(self: Arc<Self>, info: Arc<PodInfo>, node: String) {
        let Ok(_permit) = self.writes.clone().acquire_owned().await else {
            return;
        };
        let binding = serde_json::json!({
            "apiVersion": "v1", "kind": "Binding",
            "metadata": {"name": info.name, "namespace": info.namespace, "uid": info.uid},
            "target": {"apiVersion": "v1", "kind": "Node", "name": node},
        });
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &info.namespace);
        let result = api
            .create_subresource::<_, serde_json::Value>("binding", &info.name, &PostParams::default(), &binding)
            .await;
        match result {
            Ok(_) => {
                self.cache().finish_binding(&info.uid);
                self.metrics.bindings.fetch_add(1, Ordering::Relaxed);
                let note = format!("Successfully assigned {} to {node}", info.key());
                self.recorder
                    .event(&info.pod, "Normal", "Scheduled", "Binding", &note)
                    .await;
            }
            Err(e) => {
                self.cache().forget(&info.uid);
                self.metrics.binding_errors.fetch_add(1, Ordering::Relaxed);
                if let Some(a) = self.metrics.attempts(scheduler_name(&info.pod)) {
                    a.errors.fetch_add(1, Ordering::Relaxed);
                }
                let gone = matches!(&e, kube::Error::Api(s) if s.code == 404 || s.code == 409);
                tracing::warn!(pod = %info.key(), %node, error = %e, "binding rejected");
                if !gone {
                    self.queue.failed(info.clone(), u64::MAX, false, Vec::new());
                    let msg = format!("Binding rejected: {e}");
                    self.recorder
                        .event(&info.pod, "Warning", "FailedScheduling", "Scheduling", &msg)
                        .await;
                }
            }
        }
    }
}
