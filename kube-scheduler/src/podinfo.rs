//! What the scheduler needs to know about a pod, computed once when the pod is seen rather
//! than in every filter call: requests, host ports, parsed affinity terms, priority.

use crate::resources::{Resources, pod_requests};
use api_types::labels::Selector;
use k8s_openapi::api::core::v1::{Pod, PodAffinityTerm, Toleration};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A parsed pod (anti-)affinity term.
#[derive(Debug, Clone)]
pub struct AffinityTerm {
    /// None when the term has no labelSelector: it matches no pod.
    pub selector: Option<Selector>,
    /// Usually one name: a list compares faster than a hash set.
    pub namespaces: Vec<String>,
    pub namespace_selector: Option<Selector>,
    pub topology_key: String,
}

impl AffinityTerm {
    fn parse(owner_ns: &str, term: &PodAffinityTerm) -> AffinityTerm {
        let parse = |s: &k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector| {
            serde_json::to_value(s)
                .ok()
                .and_then(|v| Selector::from_label_selector_json(&v).ok())
        };
        let mut namespaces: Vec<String> = term.namespaces.iter().flatten().cloned().collect();
        let namespace_selector = term.namespace_selector.as_ref().and_then(parse);
        // No namespaces and no namespace selector mean the pod's own namespace.
        if namespaces.is_empty() && term.namespace_selector.is_none() {
            namespaces.push(owner_ns.to_string());
        }
        AffinityTerm {
            selector: term.label_selector.as_ref().and_then(parse),
            namespaces,
            namespace_selector,
            topology_key: term.topology_key.clone(),
        }
    }

    /// Whether `pod` (in a namespace with `ns_labels`) is selected by this term.
    pub fn matches(&self, pod: &PodInfo, ns_labels: Option<&BTreeMap<String, String>>) -> bool {
        let in_ns = self.namespaces.contains(&pod.namespace)
            || self
                .namespace_selector
                .as_ref()
                .is_some_and(|s| s.matches(|k| ns_labels.and_then(|l| l.get(k)).map(String::as_str)));
        in_ns && self.selector.as_ref().is_some_and(|s| s.matches(|k| pod.label(k)))
    }
}

#[derive(Debug, Clone)]
pub struct WeightedTerm {
    pub weight: i64,
    pub term: AffinityTerm,
}

/// A host port a container asks for: (protocol, hostIP, port).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostPort {
    pub protocol: String,
    pub ip: String,
    pub port: i32,
}

#[derive(Debug, Clone)]
pub struct PodInfo {
    pub pod: Arc<Pod>,
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub labels: BTreeMap<String, String>,
    pub priority: i32,
    pub requests: Resources,
    /// cpu and memory with upstream's defaults for missing requests (for scoring).
    pub non_zero: Resources,
    pub host_ports: Vec<HostPort>,
    pub tolerations: Vec<Toleration>,
    pub required_affinity: Vec<AffinityTerm>,
    pub required_anti_affinity: Vec<AffinityTerm>,
    pub preferred_affinity: Vec<WeightedTerm>,
    pub preferred_anti_affinity: Vec<WeightedTerm>,
}

impl PodInfo {
    pub fn new(pod: Arc<Pod>) -> PodInfo {
        let namespace = pod.metadata.namespace.clone().unwrap_or_default();
        let spec = pod.spec.clone().unwrap_or_default();
        let host_ports = spec
            .containers
            .iter()
            .flat_map(|c| c.ports.iter().flatten())
            .filter(|p| p.host_port.unwrap_or(0) > 0)
            .map(|p| HostPort {
                protocol: p.protocol.clone().unwrap_or_else(|| "TCP".into()),
                ip: p
                    .host_ip
                    .clone()
                    .filter(|ip| !ip.is_empty())
                    .unwrap_or_else(|| "0.0.0.0".into()),
                port: p.host_port.unwrap_or(0),
            })
            .collect();
        let affinity = spec.affinity.clone().unwrap_or_default();
        let pa = affinity.pod_affinity.unwrap_or_default();
        let paa = affinity.pod_anti_affinity.unwrap_or_default();
        let required = |terms: Option<Vec<PodAffinityTerm>>| -> Vec<AffinityTerm> {
            terms
                .iter()
                .flatten()
                .map(|t| AffinityTerm::parse(&namespace, t))
                .collect()
        };
        let preferred = |terms: Option<Vec<k8s_openapi::api::core::v1::WeightedPodAffinityTerm>>| -> Vec<WeightedTerm> {
            terms
                .iter()
                .flatten()
                .map(|w| WeightedTerm {
                    weight: w.weight as i64,
                    term: AffinityTerm::parse(&namespace, &w.pod_affinity_term),
                })
                .collect()
        };
        PodInfo {
            name: pod.metadata.name.clone().unwrap_or_default(),
            uid: pod.metadata.uid.clone().unwrap_or_default(),
            labels: pod.metadata.labels.clone().unwrap_or_default(),
            priority: spec.priority.unwrap_or(0),
            requests: pod_requests(&spec, false),
            non_zero: pod_requests(&spec, true),
            host_ports,
            tolerations: spec.tolerations.clone().unwrap_or_default(),
            required_affinity: required(pa.required_during_scheduling_ignored_during_execution),
            required_anti_affinity: required(paa.required_during_scheduling_ignored_during_execution),
            preferred_affinity: preferred(pa.preferred_during_scheduling_ignored_during_execution),
            preferred_anti_affinity: preferred(paa.preferred_during_scheduling_ignored_during_execution),
            namespace,
            pod,
        }
    }

    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    pub fn label(&self, k: &str) -> Option<&str> {
        self.labels.get(k).map(String::as_str)
    }

    pub fn spec(&self) -> Option<&k8s_openapi::api::core::v1::PodSpec> {
        self.pod.spec.as_ref()
    }

    pub fn has_affinity(&self) -> bool {
        !(self.required_affinity.is_empty()
            && self.required_anti_affinity.is_empty()
            && self.preferred_affinity.is_empty()
            && self.preferred_anti_affinity.is_empty())
    }
}

/// A PodInfo from JSON, for tests.
#[cfg(test)]
pub fn pod(v: serde_json::Value) -> Arc<PodInfo> {
    let mut v = v;
    if v.get("metadata").is_none() {
        v["metadata"] = serde_json::json!({"name": "p", "namespace": "default"});
    }
    if v["metadata"].get("namespace").is_none() {
        v["metadata"]["namespace"] = "default".into();
    }
    if v.get("spec").is_none() {
        v["spec"] = serde_json::json!({"containers": [{"name": "c"}]});
    }
    Arc::new(PodInfo::new(Arc::new(serde_json::from_value(v).expect("pod"))))
}
