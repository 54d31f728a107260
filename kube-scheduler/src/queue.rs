//! The scheduling queue, as upstream's PriorityQueue: activeQ (highest priority first, then
//! oldest), backoffQ (pods waiting out an exponential backoff after a failed attempt), and
//! the unschedulable pods, which cluster events (a node added, a pod deleted, ...) move back.
//! Pods with scheduling gates wait until the gates are removed.

use crate::podinfo::PodInfo;
use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Unschedulable pods are retried after this long even without a cluster event.
const MAX_UNSCHEDULABLE: Duration = Duration::from_secs(5 * 60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Active,
    Backoff,
    Unschedulable,
    InFlight,
    Gated,
}

struct Entry {
    info: Arc<PodInfo>,
    /// When the pod (re-)entered activeQ: the tie-breaker after priority.
    timestamp: Instant,
    attempts: u32,
    last_failure: Option<Instant>,
    /// Plugins that rejected the pod in its last attempt.
    rejected_by: Vec<&'static str>,
    place: Place,
    /// Heap entries carry the token they were pushed with; a stale token is skipped.
    token: u64,
}

#[derive(PartialEq, Eq)]
struct ActiveItem {
    priority: i32,
    timestamp: Instant,
    token: u64,
    key: String,
}

impl Ord for ActiveItem {
    fn cmp(&self, o: &Self) -> Ordering {
        self.priority
            .cmp(&o.priority)
            .then_with(|| o.timestamp.cmp(&self.timestamp))
            .then_with(|| o.token.cmp(&self.token))
    }
}

impl PartialOrd for ActiveItem {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

#[derive(Default)]
struct Inner {
    pods: HashMap<String, Entry>,
    active: BinaryHeap<ActiveItem>,
    backoff: BinaryHeap<Reverse<(Instant, u64, String)>>,
    next_token: u64,
    /// Scheduling cycles started, and the cycle of the last move request.
    cycle: u64,
    move_cycle: u64,
    last_flush: Option<Instant>,
    closed: bool,
}

/// A popped pod with its attempt number and scheduling cycle.
pub struct Popped {
    pub info: Arc<PodInfo>,
    pub attempts: u32,
    pub cycle: u64,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub active: usize,
    pub backoff: usize,
    pub unschedulable: usize,
    pub gated: usize,
}

pub struct Queue {
    inner: Mutex<Inner>,
    ready: Condvar,
    initial_backoff: Duration,
    max_backoff: Duration,
}

fn gated(info: &PodInfo) -> bool {
    info.spec()
        .and_then(|s| s.scheduling_gates.as_ref())
        .is_some_and(|g| !g.is_empty())
}

impl Inner {
    fn token(&mut self) -> u64 {
        self.next_token += 1;
        self.next_token
    }

    fn activate(&mut self, key: &str) {
        let token = self.token();
        let Some(e) = self.pods.get_mut(key) else { return };
        e.place = Place::Active;
        e.timestamp = Instant::now();
        e.token = token;
        self.active.push(ActiveItem {
            priority: e.info.priority,
            timestamp: e.timestamp,
            token,
            key: key.to_string(),
        });
    }

    fn back_off(&mut self, key: &str, until: Instant) {
        let token = self.token();
        let Some(e) = self.pods.get_mut(key) else { return };
        e.place = Place::Backoff;
        e.token = token;
        self.backoff.push(Reverse((until, token, key.to_string())));
    }
}

impl Queue {
    pub fn new(initial_backoff: Duration, max_backoff: Duration) -> Queue {
        Queue {
            inner: Mutex::new(Inner::default()),
            ready: Condvar::new(),
            initial_backoff,
            max_backoff,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Upstream's backoff: initial * 2^(attempts-1), at most max.
    pub fn backoff(&self, attempts: u32) -> Duration {
        let factor = 1u32.checked_shl(attempts.saturating_sub(1)).unwrap_or(u32::MAX);
        self.initial_backoff.saturating_mul(factor).min(self.max_backoff)
    }

    fn backoff_until(&self, e: &Entry) -> Option<Instant> {
        e.last_failure.map(|t| t + self.backoff(e.attempts))
    }

    /// Moves a waiting pod back: to backoffQ while its backoff lasts, else to activeQ.
    fn requeue(&self, q: &mut Inner, key: &str) {
        let until = q.pods.get(key).and_then(|e| self.backoff_until(e));
        match until {
            Some(t) if t > Instant::now() => q.back_off(key, t),
            _ => q.activate(key),
        }
    }

    /// A pending pod was added or changed.
    pub fn add(&self, info: Arc<PodInfo>) {
        let key = info.key();
        let mut q = self.lock();
        let is_gated = gated(&info);
        match q.pods.get_mut(&key) {
            None => {
                q.pods.insert(
                    key.clone(),
                    Entry {
                        info,
                        timestamp: Instant::now(),
                        attempts: 0,
                        last_failure: None,
                        rejected_by: Vec::new(),
                        place: Place::Gated,
                        token: 0,
                    },
                );
                if !is_gated {
                    q.activate(&key);
                }
            }
            Some(e) => {
                let spec_changed = e.info.pod.spec != info.pod.spec || e.info.labels != info.labels;
                let priority_changed = e.info.priority != info.priority;
                e.info = info;
                let place = e.place;
                match place {
                    Place::InFlight => {}
                    _ if is_gated => e.place = Place::Gated,
                    Place::Gated | Place::Unschedulable if spec_changed => self.requeue(&mut q, &key),
                    Place::Gated => q.activate(&key),
                    Place::Active if priority_changed => q.activate(&key),
                    _ => {}
                }
            }
        }
        drop(q);
        self.ready.notify_one();
    }

    pub fn delete(&self, key: &str) {
        self.lock().pods.remove(key);
    }

    pub fn contains(&self, key: &str) -> bool {
        self.lock().pods.contains_key(key)
    }

    /// Blocks until a pod is ready to be scheduled; None once closed.
    pub fn pop(&self) -> Option<Popped> {
        let mut q = self.lock();
        loop {
            if q.closed {
                return None;
            }
            let now = Instant::now();
            self.flush(&mut q, now);
            while let Some(item) = q.active.pop() {
                let valid = q
                    .pods
                    .get(&item.key)
                    .is_some_and(|e| e.place == Place::Active && e.token == item.token);
                if !valid {
                    continue;
                }
                q.cycle += 1;
                let cycle = q.cycle;
                let e = q.pods.get_mut(&item.key)?;
                e.place = Place::InFlight;
                e.attempts += 1;
                return Some(Popped {
                    info: e.info.clone(),
                    attempts: e.attempts,
                    cycle,
                });
            }
            let wait = q
                .backoff
                .peek()
                .map(|Reverse((t, _, _))| t.saturating_duration_since(now))
                .unwrap_or(Duration::from_secs(1))
                .clamp(Duration::from_millis(1), Duration::from_secs(1));
            q = self.ready.wait_timeout(q, wait).unwrap_or_else(|e| e.into_inner()).0;
        }
    }

    /// Moves pods whose backoff is over to activeQ, and long-unschedulable pods back.
    fn flush(&self, q: &mut Inner, now: Instant) {
        while let Some(Reverse((t, token, key))) = q.backoff.peek().cloned() {
            if t > now {
                break;
            }
            q.backoff.pop();
            if q.pods
                .get(&key)
                .is_some_and(|e| e.place == Place::Backoff && e.token == token)
            {
                q.activate(&key);
            }
        }
        if q.last_flush
            .is_some_and(|t| now.duration_since(t) < Duration::from_secs(30))
        {
            return;
        }
        q.last_flush = Some(now);
        let stale: Vec<String> = q
            .pods
            .iter()
            .filter(|(_, e)| {
                e.place == Place::Unschedulable
                    && e.last_failure
                        .is_some_and(|t| now.duration_since(t) > MAX_UNSCHEDULABLE)
            })
            .map(|(k, _)| k.clone())
            .collect();
        for key in stale {
            self.requeue(q, &key);
        }
    }

    /// The pod was assumed on a node: it leaves the queue.
    pub fn done(&self, key: &str) {
        let mut q = self.lock();
        if q.pods.get(key).is_some_and(|e| e.place == Place::InFlight) {
            q.pods.remove(key);
        }
    }

    /// A scheduling attempt failed. Unschedulable pods wait for a cluster event, unless one
    /// came while they were being scheduled; errors (and those) back off.
    pub fn failed(&self, info: Arc<PodInfo>, cycle: u64, unschedulable: bool, rejected_by: Vec<&'static str>) {
        let key = info.key();
        let mut q = self.lock();
        let moved_meanwhile = q.move_cycle >= cycle;
        let Some(e) = q.pods.get_mut(&key) else {
            // Deleted while in flight, or a binding failure after leaving the queue.
            if unschedulable {
                return;
            }
            let token = q.next_token + 1;
            q.next_token = token;
            q.pods.insert(
                key.clone(),
                Entry {
                    info,
                    timestamp: Instant::now(),
                    attempts: 1,
                    last_failure: Some(Instant::now()),
                    rejected_by,
                    place: Place::InFlight,
                    token,
                },
            );
            self.requeue(&mut q, &key);
            return;
        };
        e.last_failure = Some(Instant::now());
        e.rejected_by = rejected_by;
        if unschedulable && !moved_meanwhile {
            e.place = Place::Unschedulable;
        } else {
            self.requeue(&mut q, &key);
        }
        drop(q);
        self.ready.notify_one();
    }

    /// A cluster event that may make unschedulable pods schedulable: those for which
    /// `affected(rejecting plugins)` holds go back to backoffQ or activeQ.
    pub fn move_unschedulable(&self, affected: impl Fn(&[&'static str]) -> bool) {
        let mut q = self.lock();
        q.move_cycle = q.cycle;
        let keys: Vec<String> = q
            .pods
            .iter()
            .filter(|(_, e)| e.place == Place::Unschedulable && affected(&e.rejected_by))
            .map(|(k, _)| k.clone())
            .collect();
        for key in &keys {
            self.requeue(&mut q, key);
        }
        drop(q);
        if !keys.is_empty() {
            self.ready.notify_all();
        }
    }

    pub fn counts(&self) -> Counts {
        let q = self.lock();
        let mut c = Counts::default();
        for e in q.pods.values() {
            match e.place {
                Place::Active => c.active += 1,
                Place::Backoff => c.backoff += 1,
                Place::Unschedulable => c.unschedulable += 1,
                Place::Gated => c.gated += 1,
                Place::InFlight => {}
            }
        }
        c
    }

    pub fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::podinfo::pod;
    use serde_json::json;

    fn named(name: &str, priority: i32) -> Arc<PodInfo> {
        pod(
            json!({"metadata": {"name": name, "uid": name}, "spec": {"containers": [{"name": "c"}], "priority": priority}}),
        )
    }

    fn queue() -> Queue {
        Queue::new(Duration::from_millis(50), Duration::from_millis(200))
    }

    #[test]
    fn priority_then_age() {
        let q = queue();
        q.add(named("low", 0));
        q.add(named("high", 10));
        q.add(named("low2", 0));
        let order: Vec<String> = (0..3).filter_map(|_| q.pop()).map(|p| p.info.name.clone()).collect();
        assert_eq!(order, ["high", "low", "low2"]);
    }

    #[test]
    fn backoff_doubles_up_to_the_max() {
        let q = Queue::new(Duration::from_secs(1), Duration::from_secs(10));
        let got: Vec<u64> = (1..=6).map(|a| q.backoff(a).as_secs()).collect();
        assert_eq!(got, [1, 2, 4, 8, 10, 10]);
    }

    #[test]
    fn unschedulable_pods_wait_for_an_event_then_back_off() {
        let q = queue();
        q.add(named("p", 0));
        let popped = q.pop().expect("pod");
        q.failed(popped.info, popped.cycle, true, vec!["NodeResourcesFit"]);
        assert_eq!(q.counts().unschedulable, 1);
        q.move_unschedulable(|plugins| plugins.contains(&"InterPodAffinity"));
        assert_eq!(q.counts().unschedulable, 1, "not affected by this event");
        q.move_unschedulable(|_| true);
        assert_eq!(q.counts().backoff, 1, "still backing off");
        let start = Instant::now();
        let again = q.pop().expect("pod after backoff");
        assert!(start.elapsed() >= Duration::from_millis(30));
        assert_eq!(again.attempts, 2);
    }

    #[test]
    fn an_event_during_the_attempt_means_backoff_not_waiting() {
        let q = queue();
        q.add(named("p", 0));
        let popped = q.pop().expect("pod");
        q.move_unschedulable(|_| true);
        q.failed(popped.info, popped.cycle, true, vec![]);
        assert_eq!(q.counts().backoff, 1);
    }

    #[test]
    fn gated_pods_wait_for_their_gates() {
        let q = queue();
        let gated = pod(json!({"metadata": {"name": "g", "uid": "g"},
            "spec": {"containers": [{"name": "c"}], "schedulingGates": [{"name": "example.com/wait"}]}}));
        q.add(gated);
        assert_eq!(q.counts().gated, 1);
        q.add(named("g", 0));
        assert_eq!(q.counts().active, 1);
    }
}
