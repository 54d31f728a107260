//! Zone disruption, as upstream's node lifecycle controller judges it: nodes are grouped by
//! region and zone; a zone whose nodes are all not ready is in full disruption, one with
//! more than two and at least `--unhealthy-zone-threshold` of them not ready in partial
//! disruption. New NoExecute taints are rate-limited per zone (`--node-eviction-rate`; in a
//! partially disrupted zone `--secondary-node-eviction-rate` when the zone is larger than
//! `--large-cluster-size-threshold`, else none), and when every zone is fully disrupted —
//! most likely the control plane's own network failing — no node is tainted for eviction and
//! existing NoExecute taints are lifted.

use k8s_openapi::api::core::v1::Node;
use std::collections::BTreeMap;
use std::time::Instant;

const REGION_LABEL: &str = "topology.kubernetes.io/region";
const ZONE_LABEL: &str = "topology.kubernetes.io/zone";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Normal,
    PartialDisruption,
    FullDisruption,
}

/// The zone a node is in: region and zone, as upstream's zone key.
pub fn zone_key(node: &Node) -> String {
    let label = |k: &str| {
        node.metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(k))
            .cloned()
            .unwrap_or_default()
    };
    let (region, zone) = (label(REGION_LABEL), label(ZONE_LABEL));
    if region.is_empty() && zone.is_empty() {
        return String::new();
    }
    format!("{region}:\u{0}:{zone}")
}

pub fn state(ready: usize, not_ready: usize, unhealthy_threshold: f64) -> State {
    if ready == 0 && not_ready > 0 {
        State::FullDisruption
    } else if not_ready > 2 && not_ready as f64 / (ready + not_ready) as f64 >= unhealthy_threshold {
        State::PartialDisruption
    } else {
        State::Normal
    }
}

/// The eviction-rate flags.
#[derive(Debug, Clone, Copy)]
pub struct Rates {
    pub primary: f64,
    pub secondary: f64,
    pub large_cluster: usize,
    pub unhealthy_threshold: f64,
}

impl Rates {
    /// Taints per second a zone of `size` nodes in `state` may receive.
    pub fn for_zone(&self, state: State, size: usize) -> f64 {
        match state {
            State::Normal | State::FullDisruption => self.primary,
            State::PartialDisruption if size > self.large_cluster => self.secondary,
            State::PartialDisruption => 0.0,
        }
    }
}

/// A token bucket holding at most one token (upstream's limiter with burst 1).
#[derive(Debug, Clone)]
struct Bucket {
    qps: f64,
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.qps).min(1.0);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Zone states and taint buckets across monitor passes.
#[derive(Debug, Default)]
pub struct Zones {
    states: BTreeMap<String, State>,
    buckets: BTreeMap<String, Bucket>,
    all_disrupted: bool,
}

impl Zones {
    /// Recomputes every zone's state from `nodes` (with their readiness); true while every
    /// zone is fully disrupted.
    pub fn observe(&mut self, nodes: &[(String, bool)], rates: &Rates, now: Instant) -> bool {
        let mut counts: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for (zone, ready) in nodes {
            let c = counts.entry(zone.clone()).or_default();
            if *ready {
                c.0 += 1;
            } else {
                c.1 += 1;
            }
        }
        let mut states = BTreeMap::new();
        for (zone, (ready, not_ready)) in &counts {
            let s = state(*ready, *not_ready, rates.unhealthy_threshold);
            if self.states.get(zone) != Some(&s) {
                tracing::info!(zone = %zone.replace('\u{0}', ""), state = ?s, "zone state changed");
            }
            let qps = rates.for_zone(s, ready + not_ready);
            let bucket = self.buckets.entry(zone.clone()).or_insert(Bucket {
                qps,
                tokens: 1.0,
                at: now,
            });
            bucket.qps = qps;
            states.insert(zone.clone(), s);
        }
        self.buckets.retain(|z, _| states.contains_key(z));
        let all = !states.is_empty() && states.values().all(|s| *s == State::FullDisruption);
        if all != self.all_disrupted {
            if all {
                tracing::warn!("Controller detected that all Nodes are not-Ready. Entering master disruption mode.");
            } else {
                tracing::info!("Controller detected that some Nodes are Ready. Exiting master disruption mode.");
            }
        }
        self.all_disrupted = all;
        self.states = states;
        all
    }

    pub fn all_disrupted(&self) -> bool {
        self.all_disrupted
    }

    /// Whether a node of `zone` may get a new NoExecute taint now.
    pub fn may_taint(&mut self, zone: &str, now: Instant) -> bool {
        !self.all_disrupted && self.buckets.get_mut(zone).is_some_and(|b| b.take(now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const RATES: Rates = Rates {
        primary: 0.1,
        secondary: 0.01,
        large_cluster: 50,
        unhealthy_threshold: 0.55,
    };

    #[test]
    fn states_as_upstream() {
        assert_eq!(state(0, 1, 0.55), State::FullDisruption);
        assert_eq!(state(1, 1, 0.55), State::Normal);
        assert_eq!(state(2, 3, 0.55), State::PartialDisruption);
        assert_eq!(state(3, 3, 0.55), State::Normal, "50% is below the threshold");
        assert_eq!(state(0, 0, 0.55), State::Normal);
        assert_eq!(RATES.for_zone(State::PartialDisruption, 10), 0.0);
        assert_eq!(RATES.for_zone(State::PartialDisruption, 60), 0.01);
    }

    #[test]
    fn taints_are_rate_limited_per_zone_and_stop_when_all_zones_fail() {
        let now = Instant::now();
        let mut z = Zones::default();
        let nodes = vec![
            ("a".to_string(), true),
            ("a".into(), false),
            ("b".into(), false),
            ("b".into(), true),
        ];
        assert!(!z.observe(&nodes, &RATES, now));
        assert!(z.may_taint("a", now));
        assert!(!z.may_taint("a", now), "one token at a time");
        assert!(z.may_taint("b", now), "zones have their own buckets");
        assert!(z.may_taint("a", now + Duration::from_secs(10)), "0.1 per second");
        let down = vec![("a".to_string(), false), ("b".into(), false)];
        assert!(z.observe(&down, &RATES, now + Duration::from_secs(60)));
        assert!(!z.may_taint("a", now + Duration::from_secs(60)));
        assert!(!z.observe(&nodes, &RATES, now + Duration::from_secs(61)));
    }

    #[test]
    fn zone_keys_join_region_and_zone() {
        let node: Node = serde_json::from_value(serde_json::json!({"metadata": {"name": "n",
            "labels": {REGION_LABEL: "eu", ZONE_LABEL: "eu-1"}}}))
        .unwrap();
        assert_eq!(zone_key(&node), "eu:\u{0}:eu-1");
        assert_eq!(zone_key(&Node::default()), "");
    }
}
