//! Expectations (client-go's UIDTrackingControllerExpectations): after a controller asks for
//! N creations and some named deletions, it does not act on that owner again until the
//! informers have shown them all (or five minutes passed), so a stale cache never makes it
//! create or delete twice.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const TTL: Duration = Duration::from_secs(5 * 60);

struct Pending {
    creations: i64,
    deletions: HashSet<String>,
    since: Instant,
}

#[derive(Default)]
pub struct Expectations {
    pending: Mutex<HashMap<String, Pending>>,
}

impl Expectations {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Pending>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records what `owner` is about to ask for, replacing what it expected before.
    pub fn expect(&self, owner: &str, creations: usize, deletions: impl IntoIterator<Item = String>) {
        self.lock().insert(
            owner.to_string(),
            Pending {
                creations: creations as i64,
                deletions: deletions.into_iter().collect(),
                since: Instant::now(),
            },
        );
    }

    /// A creation was seen (or failed, so will never be seen).
    pub fn creation_observed(&self, owner: &str) {
        if let Some(p) = self.lock().get_mut(owner) {
            p.creations -= 1;
        }
    }

    /// The object `key` was seen going away (or its deletion failed).
    pub fn deletion_observed(&self, owner: &str, key: &str) {
        if let Some(p) = self.lock().get_mut(owner) {
            p.deletions.remove(key);
        }
    }

    pub fn satisfied(&self, owner: &str) -> bool {
        match self.lock().get(owner) {
            None => true,
            Some(p) => (p.creations <= 0 && p.deletions.is_empty()) || p.since.elapsed() > TTL,
        }
    }

    /// Forgets an owner that is gone.
    pub fn forget(&self, owner: &str) {
        self.lock().remove(owner);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn satisfied_once_everything_asked_for_is_observed() {
        let e = Expectations::default();
        assert!(e.satisfied("ns/rs"));
        e.expect("ns/rs", 2, ["ns/p1".to_string()]);
        assert!(!e.satisfied("ns/rs"));
        e.creation_observed("ns/rs");
        e.creation_observed("ns/rs");
        assert!(!e.satisfied("ns/rs"));
        e.deletion_observed("ns/rs", "ns/p1");
        e.deletion_observed("ns/rs", "ns/p1"); // terminating, then gone: counted once
        assert!(e.satisfied("ns/rs"));
    }
}
