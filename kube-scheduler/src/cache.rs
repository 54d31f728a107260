//! The scheduler's view of the cluster: every node with the pods on it and what they request.
//! A pod is counted on its node the moment the scheduler decides (it is "assumed"), before the
//! binding is written and long before the watch confirms it; a failed binding takes it back.

use crate::podinfo::{HostPort, PodInfo};
use crate::resources::Resources;
use api_types::labels::Selector;
use k8s_openapi::api::core::v1::Node;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long an assumed pod whose binding finished may wait for the watch to confirm it.
const ASSUME_TTL: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Default)]
pub struct NodeInfo {
    pub name: String,
    /// None while pods are known on a node whose Node object is not (yet) seen.
    pub node: Option<Arc<Node>>,
    pub labels: BTreeMap<String, String>,
    pub allocatable: Resources,
    pub requested: Resources,
    pub non_zero_requested: Resources,
    pub pods: Vec<Arc<PodInfo>>,
    /// Pods with any (anti-)affinity term, and with required anti-affinity: InterPodAffinity
    /// skips nodes without them (upstream's PodsWithAffinity / PodsWithRequiredAntiAffinity).
    pub pods_with_affinity: usize,
    pub pods_with_required_anti_affinity: usize,
    pub used_ports: Vec<HostPort>,
    /// Container images present on the node (name → size in bytes).
    pub images: HashMap<String, i64>,
}

impl NodeInfo {
    pub fn new(node: Arc<Node>) -> NodeInfo {
        let mut n = NodeInfo::default();
        n.set_node(node);
        n
    }

    fn set_node(&mut self, node: Arc<Node>) {
        self.name = node.metadata.name.clone().unwrap_or_default();
        self.labels = node.metadata.labels.clone().unwrap_or_default();
        let status = node.status.as_ref();
        self.allocatable = Resources::from_list(status.and_then(|s| s.allocatable.as_ref()));
        self.images = status
            .and_then(|s| s.images.as_ref())
            .into_iter()
            .flatten()
            .flat_map(|img| {
                let size = img.size_bytes.unwrap_or(0);
                img.names.iter().flatten().map(move |n| (normalize_image(n), size))
            })
            .collect();
        self.node = Some(node);
    }

    pub fn label(&self, k: &str) -> Option<&str> {
        self.labels.get(k).map(String::as_str)
    }

    pub fn add_pod(&mut self, pod: Arc<PodInfo>) {
        self.requested.add(&pod.requests);
        self.non_zero_requested.milli_cpu += pod.non_zero.milli_cpu;
        self.non_zero_requested.memory += pod.non_zero.memory;
        self.used_ports.extend(pod.host_ports.iter().cloned());
        self.pods_with_affinity += usize::from(pod.has_affinity());
        self.pods_with_required_anti_affinity += usize::from(!pod.required_anti_affinity.is_empty());
        self.pods.push(pod);
    }

    pub fn remove_pod(&mut self, uid: &str) -> bool {
        let Some(i) = self.pods.iter().position(|p| p.uid == uid) else {
            return false;
        };
        let pod = self.pods.swap_remove(i);
        self.requested.sub(&pod.requests);
        self.non_zero_requested.milli_cpu -= pod.non_zero.milli_cpu;
        self.non_zero_requested.memory -= pod.non_zero.memory;
        self.pods_with_affinity -= usize::from(pod.has_affinity());
        self.pods_with_required_anti_affinity -= usize::from(!pod.required_anti_affinity.is_empty());
        for port in &pod.host_ports {
            if let Some(j) = self.used_ports.iter().position(|p| p == port) {
                self.used_ports.swap_remove(j);
            }
        }
        true
    }
}

/// Image names as the kubelet reports them: `nginx` is `docker.io/library/nginx:latest`.
pub fn normalize_image(name: &str) -> String {
    let has_tag = name
        .rsplit('/')
        .next()
        .is_some_and(|last| last.contains(':') || last.contains('@'));
    let mut n = name.to_string();
    if !has_tag {
        n.push_str(":latest");
    }
    let first = n.split('/').next().unwrap_or_default();
    let has_registry = n.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    if !has_registry {
        n = if n.contains('/') {
            format!("docker.io/{n}")
        } else {
            format!("docker.io/library/{n}")
        };
    }
    n
}

#[derive(Debug)]
struct PodState {
    node: String,
    assumed: bool,
    /// When a finished binding stops waiting for the watch.
    deadline: Option<Instant>,
}

#[derive(Debug, Default)]
pub struct Cache {
    /// Nodes whose Node object exists, in the order they were added (the scan order).
    nodes: Vec<NodeInfo>,
    index: HashMap<String, usize>,
    /// Pods bound to nodes whose Node object is not (or no longer) known.
    orphans: HashMap<String, NodeInfo>,
    pods: HashMap<String, PodState>,
    pub namespaces: HashMap<String, BTreeMap<String, String>>,
    /// How many nodes hold each image (for ImageLocality's spread).
    image_nodes: HashMap<String, usize>,
    /// Selectors of Services, ReplicaSets, StatefulSets and ReplicationControllers by
    /// `Kind/namespace/name`, for the default topology spreading.
    spreading: HashMap<String, (String, Selector)>,
}

impl Cache {
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The i-th node in add order.
    pub fn node_at(&self, i: usize) -> Option<&NodeInfo> {
        self.nodes.get(i)
    }

    pub fn nodes(&self) -> impl Iterator<Item = &NodeInfo> {
        self.nodes.iter()
    }

    pub fn node(&self, name: &str) -> Option<&NodeInfo> {
        self.index.get(name).and_then(|i| self.nodes.get(*i))
    }

    fn node_mut(&mut self, name: &str) -> Option<&mut NodeInfo> {
        match self.index.get(name) {
            Some(i) => self.nodes.get_mut(*i),
            None => self.orphans.get_mut(name),
        }
    }

    pub fn image_node_count(&self, image: &str) -> usize {
        self.image_nodes.get(image).copied().unwrap_or(0)
    }

    fn count_images(&mut self, images: &HashMap<String, i64>, delta: isize) {
        for img in images.keys() {
            let e = self.image_nodes.entry(img.clone()).or_default();
            *e = e.saturating_add_signed(delta);
        }
    }

    pub fn set_node(&mut self, node: Arc<Node>) {
        let name = node.metadata.name.clone().unwrap_or_default();
        let i = match self.index.get(&name) {
            Some(i) => *i,
            None => {
                let info = self.orphans.remove(&name).unwrap_or_default();
                self.nodes.push(info);
                self.index.insert(name, self.nodes.len() - 1);
                self.nodes.len() - 1
            }
        };
        let old = std::mem::take(&mut self.nodes[i].images);
        self.count_images(&old, -1);
        self.nodes[i].set_node(node);
        let new = self.nodes[i].images.clone();
        self.count_images(&new, 1);
    }

    pub fn remove_node(&mut self, name: &str) {
        let Some(i) = self.index.remove(name) else { return };
        let mut info = self.nodes.remove(i);
        for idx in self.index.values_mut() {
            if *idx > i {
                *idx -= 1;
            }
        }
        let images = std::mem::take(&mut info.images);
        self.count_images(&images, -1);
        info.node = None;
        if !info.pods.is_empty() {
            self.orphans.insert(name.to_string(), info);
        }
    }

    fn place(&mut self, pod: Arc<PodInfo>, node: &str) {
        if let Some(info) = self.node_mut(node) {
            info.add_pod(pod);
            return;
        }
        let mut info = NodeInfo {
            name: node.to_string(),
            ..Default::default()
        };
        info.add_pod(pod);
        self.orphans.insert(node.to_string(), info);
    }

    fn unplace(&mut self, uid: &str, node: &str) {
        if let Some(info) = self.node_mut(node) {
            info.remove_pod(uid);
        }
        if self.orphans.get(node).is_some_and(|o| o.pods.is_empty()) {
            self.orphans.remove(node);
        }
    }

    /// Counts `pod` on `node` now; the binding is still to be written.
    pub fn assume(&mut self, pod: Arc<PodInfo>, node: &str) {
        let uid = pod.uid.clone();
        if let Some(old) = self.pods.remove(&uid) {
            self.unplace(&uid, &old.node);
        }
        self.place(pod, node);
        self.pods.insert(
            uid,
            PodState {
                node: node.to_string(),
                assumed: true,
                deadline: None,
            },
        );
    }

    /// The binding was written: the assumed pod now waits (a bounded time) for the watch.
    pub fn finish_binding(&mut self, uid: &str) {
        if let Some(p) = self.pods.get_mut(uid).filter(|p| p.assumed) {
            p.deadline = Some(Instant::now() + ASSUME_TTL);
        }
    }

    /// The binding failed: the pod no longer counts on its node.
    pub fn forget(&mut self, uid: &str) {
        if self.pods.get(uid).is_some_and(|p| p.assumed)
            && let Some(p) = self.pods.remove(uid)
        {
            self.unplace(uid, &p.node);
        }
    }

    pub fn is_assumed(&self, uid: &str) -> bool {
        self.pods.get(uid).is_some_and(|p| p.assumed)
    }

    /// A pod the watch reports on a node (confirming an assumed pod, or any other).
    pub fn add_or_update_pod(&mut self, pod: Arc<PodInfo>, node: &str) {
        let uid = pod.uid.clone();
        if let Some(old) = self.pods.remove(&uid) {
            self.unplace(&uid, &old.node);
        }
        self.place(pod, node);
        self.pods.insert(
            uid,
            PodState {
                node: node.to_string(),
                assumed: false,
                deadline: None,
            },
        );
    }

    pub fn remove_pod(&mut self, uid: &str) {
        if let Some(p) = self.pods.remove(uid) {
            self.unplace(uid, &p.node);
        }
    }

    /// Whether the cache holds a pod (bound or assumed).
    pub fn has_pod(&self, uid: &str) -> bool {
        self.pods.contains_key(uid)
    }

    pub fn set_spreading_selector(&mut self, key: &str, namespace: &str, selector: Selector) {
        if selector.is_empty() {
            self.spreading.remove(key);
        } else {
            self.spreading
                .insert(key.to_string(), (namespace.to_string(), selector));
        }
    }

    pub fn remove_spreading_selector(&mut self, key: &str) {
        self.spreading.remove(key);
    }

    /// Upstream's DefaultSelector: the requirements of every Service and controller in the
    /// pod's namespace that selects it, together.
    pub fn default_spreading_selector(&self, pod: &PodInfo) -> Selector {
        let mut keys: Vec<&String> = self
            .spreading
            .iter()
            .filter(|(_, (ns, sel))| *ns == pod.namespace && sel.matches(|k| pod.label(k)))
            .map(|(k, _)| k)
            .collect();
        keys.sort();
        let mut out = Selector::default();
        for k in keys {
            for r in &self.spreading[k].1.requirements {
                if !out.requirements.contains(r) {
                    out.requirements.push(r.clone());
                }
            }
        }
        out
    }

    /// Drops assumed pods whose binding finished long ago but were never confirmed.
    pub fn expire_assumed(&mut self) {
        let now = Instant::now();
        let expired: Vec<String> = self
            .pods
            .iter()
            .filter(|(_, p)| p.assumed && p.deadline.is_some_and(|d| d < now))
            .map(|(k, _)| k.clone())
            .collect();
        for uid in expired {
            tracing::warn!(uid, "assumed pod expired before its binding was observed");
            self.remove_pod(&uid);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::podinfo::pod;
    use serde_json::json;

    fn node(name: &str) -> Arc<Node> {
        Arc::new(
            serde_json::from_value(json!({"metadata": {"name": name}, "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"}}}))
                .expect("node"),
        )
    }

    #[test]
    fn assumed_pods_count_until_forgotten() {
        let mut c = Cache::default();
        c.set_node(node("n1"));
        let p = pod(json!({"metadata": {"name": "a", "uid": "u1"},
                           "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": "1"}}}]}}));
        c.assume(p.clone(), "n1");
        assert_eq!(c.node("n1").map(|n| n.requested.milli_cpu), Some(1000));
        c.forget("u1");
        assert_eq!(c.node("n1").map(|n| n.requested.milli_cpu), Some(0));
        // A confirmed pod is not forgotten by a late failure report.
        c.assume(p.clone(), "n1");
        c.add_or_update_pod(p, "n1");
        c.forget("u1");
        assert_eq!(c.node("n1").map(|n| n.pods.len()), Some(1));
        c.remove_pod("u1");
        assert_eq!(c.node("n1").map(|n| n.pods.len()), Some(0));
    }

    #[test]
    fn pods_before_their_node() {
        let mut c = Cache::default();
        c.add_or_update_pod(pod(json!({"metadata": {"name": "a", "uid": "u1"}})), "late");
        assert_eq!(c.node_count(), 0);
        c.set_node(node("late"));
        assert_eq!(c.node("late").map(|n| n.pods.len()), Some(1));
        assert_eq!(c.node_count(), 1);
    }

    #[test]
    fn image_names() {
        assert_eq!(normalize_image("nginx"), "docker.io/library/nginx:latest");
        assert_eq!(normalize_image("gcr.io/x/y:1"), "gcr.io/x/y:1");
        assert_eq!(normalize_image("me/app"), "docker.io/me/app:latest");
    }
}
