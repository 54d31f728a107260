//! Resource amounts as the scheduler counts them (milli-cpu, bytes, counts), and a pod's
//! effective requests computed as upstream's `resource.PodRequests`: the larger of the
//! long-running containers (plus sidecars) and the biggest init step, plus the pod overhead.

use api_types::quantity::Quantity;
use k8s_openapi::api::core::v1::{Container, PodSpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as KQuantity;
use std::collections::BTreeMap;

/// The request assumed for a container that states no cpu request, for scoring only.
pub const DEFAULT_MILLI_CPU_REQUEST: i64 = 100;
/// The request assumed for a container that states no memory request, for scoring only (200Mi).
pub const DEFAULT_MEMORY_REQUEST: i64 = 200 * 1024 * 1024;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resources {
    pub milli_cpu: i64,
    pub memory: i64,
    pub ephemeral_storage: i64,
    /// A node's allowed pod count (unused for pods).
    pub pods: i64,
    /// Extended resources, hugepages and the like, in whole units.
    pub scalar: BTreeMap<String, i64>,
}

fn units(q: &KQuantity) -> i64 {
    let milli = Quantity::parse(&q.0).map(|q| q.0).unwrap_or(0);
    // Round up to a whole unit, as Value() does.
    ((milli + 999).div_euclid(1000)).clamp(0, i64::MAX as i128) as i64
}

fn milli(q: &KQuantity) -> i64 {
    Quantity::parse(&q.0)
        .map(|q| q.0)
        .unwrap_or(0)
        .clamp(0, i64::MAX as i128) as i64
}

impl Resources {
    pub fn from_list(list: Option<&BTreeMap<String, KQuantity>>) -> Resources {
        let mut r = Resources::default();
        for (name, q) in list.into_iter().flatten() {
            match name.as_str() {
                "cpu" => r.milli_cpu = milli(q),
                "memory" => r.memory = units(q),
                "ephemeral-storage" => r.ephemeral_storage = units(q),
                "pods" => r.pods = units(q),
                other => {
                    r.scalar.insert(other.to_string(), units(q));
                }
            }
        }
        r
    }

    pub fn add(&mut self, o: &Resources) {
        self.milli_cpu += o.milli_cpu;
        self.memory += o.memory;
        self.ephemeral_storage += o.ephemeral_storage;
        self.pods += o.pods;
        for (k, v) in &o.scalar {
            *self.scalar.entry(k.clone()).or_default() += v;
        }
    }

    pub fn sub(&mut self, o: &Resources) {
        self.milli_cpu -= o.milli_cpu;
        self.memory -= o.memory;
        self.ephemeral_storage -= o.ephemeral_storage;
        self.pods -= o.pods;
        for (k, v) in &o.scalar {
            *self.scalar.entry(k.clone()).or_default() -= v;
        }
    }

    /// Raises each amount to at least `o`'s.
    pub fn set_max(&mut self, o: &Resources) {
        self.milli_cpu = self.milli_cpu.max(o.milli_cpu);
        self.memory = self.memory.max(o.memory);
        self.ephemeral_storage = self.ephemeral_storage.max(o.ephemeral_storage);
        for (k, v) in &o.scalar {
            let e = self.scalar.entry(k.clone()).or_default();
            *e = (*e).max(*v);
        }
    }

    /// The amount of one named resource.
    pub fn get(&self, name: &str) -> i64 {
        match name {
            "cpu" => self.milli_cpu,
            "memory" => self.memory,
            "ephemeral-storage" => self.ephemeral_storage,
            "pods" => self.pods,
            other => self.scalar.get(other).copied().unwrap_or(0),
        }
    }

    pub fn is_zero(&self) -> bool {
        self.milli_cpu == 0 && self.memory == 0 && self.ephemeral_storage == 0 && self.scalar.values().all(|v| *v == 0)
    }
}

fn container_requests(c: &Container, non_zero: bool) -> Resources {
    let requests = c.resources.as_ref().and_then(|r| r.requests.as_ref());
    let mut r = Resources::from_list(requests);
    if non_zero {
        let has = |k: &str| requests.is_some_and(|m| m.contains_key(k));
        if !has("cpu") {
            r.milli_cpu = DEFAULT_MILLI_CPU_REQUEST;
        }
        if !has("memory") {
            r.memory = DEFAULT_MEMORY_REQUEST;
        }
    }
    r
}

/// A pod's effective requests. With `non_zero`, containers without a cpu or memory request
/// count upstream's defaults (100m, 200Mi), as the scoring plugins do.
pub fn pod_requests(spec: &PodSpec, non_zero: bool) -> Resources {
    let mut reqs = Resources::default();
    for c in &spec.containers {
        reqs.add(&container_requests(c, non_zero));
    }
    // Sidecars (init containers with restartPolicy Always) keep running next to later init
    // containers and the app containers; plain init containers run one at a time.
    let mut sidecars = Resources::default();
    let mut init_peak = Resources::default();
    for c in spec.init_containers.iter().flatten() {
        let r = container_requests(c, non_zero);
        let step = if c.restart_policy.as_deref() == Some("Always") {
            reqs.add(&r);
            sidecars.add(&r);
            sidecars.clone()
        } else {
            let mut s = r;
            s.add(&sidecars);
            s
        };
        init_peak.set_max(&step);
    }
    reqs.set_max(&init_peak);
    if let Some(overhead) = spec.overhead.as_ref() {
        reqs.add(&Resources::from_list(Some(overhead)));
    }
    reqs
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(v: serde_json::Value) -> PodSpec {
        serde_json::from_value(v).expect("pod spec")
    }

    #[test]
    fn requests_as_upstream_computes_them() {
        let c = |name: &str, cpu: &str, mem: &str| json!({"name": name, "resources": {"requests": {"cpu": cpu, "memory": mem}}});
        let cases = [
            (
                "containers add up",
                spec(json!({"containers": [c("a", "100m", "1Gi"), c("b", "200m", "1Gi")]})),
                300,
                2 << 30,
            ),
            (
                "the largest init container wins when larger",
                spec(json!({"containers": [c("a", "100m", "1Gi")], "initContainers": [c("i", "2", "512Mi")]})),
                2000,
                1 << 30,
            ),
            (
                "sidecars add to everything after them",
                spec(json!({"containers": [c("a", "100m", "1Gi")],
                            "initContainers": [{"name": "s", "restartPolicy": "Always", "resources": {"requests": {"cpu": "500m"}}}, c("i", "1", "0")]})),
                1500,
                1 << 30,
            ),
            (
                "overhead is added",
                spec(json!({"containers": [c("a", "100m", "1Gi")], "overhead": {"cpu": "250m", "memory": "100Mi"}})),
                350,
                (1 << 30) + 100 * (1 << 20),
            ),
        ];
        for (what, s, cpu, mem) in cases {
            let r = pod_requests(&s, false);
            assert_eq!((r.milli_cpu, r.memory), (cpu, mem), "{what}");
        }
    }

    #[test]
    fn non_zero_defaults_only_for_missing_requests() {
        let s = spec(json!({"containers": [{"name": "a"}, {"name": "b", "resources": {"requests": {"cpu": "0"}}}]}));
        let r = pod_requests(&s, true);
        assert_eq!(r.milli_cpu, 100);
        assert_eq!(r.memory, 2 * DEFAULT_MEMORY_REQUEST);
        assert!(pod_requests(&s, false).is_zero());
    }
}
