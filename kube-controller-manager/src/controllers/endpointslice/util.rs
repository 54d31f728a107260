//! What the endpoints, endpointslice and endpointslice-mirroring controllers share (upstream's
//! k8s.io/endpointslice/util): which pods back a service and on which ports, which pod changes
//! matter to which services, the last-change-trigger-time bookkeeping, and the tracker that
//! tells a stale EndpointSlice cache from the controller's own writes.

use crate::informer::{Informer, key_of};
use crate::pods;
use k8s_openapi::api::core::v1::{Pod, Service, ServicePort};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointPort, EndpointSlice};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

pub const LABEL_SERVICE_NAME: &str = "kubernetes.io/service-name";
pub const LABEL_MANAGED_BY: &str = "endpointslice.kubernetes.io/managed-by";
pub const LABEL_HEADLESS: &str = "service.kubernetes.io/headless";
pub const LABEL_SKIP_MIRROR: &str = "endpointslice.kubernetes.io/skip-mirror";
pub const ANNOTATION_TRIGGER_TIME: &str = "endpoints.kubernetes.io/last-change-trigger-time";
pub const ANNOTATION_LEADER: &str = "control-plane.alpha.kubernetes.io/leader";
pub const ANNOTATION_LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// A service has a cluster IP unless it is headless (`None`) or has none yet.
pub fn is_service_ip_set(svc: &Service) -> bool {
    let ip = svc.spec.as_ref().and_then(|s| s.cluster_ip.as_deref()).unwrap_or("");
    !ip.is_empty() && ip != "None"
}

pub fn selector_of(svc: &Service) -> Option<&BTreeMap<String, String>> {
    svc.spec.as_ref()?.selector.as_ref()
}

pub fn service_type(svc: &Service) -> &str {
    svc.spec
        .as_ref()
        .and_then(|s| s.type_.as_deref())
        .unwrap_or("ClusterIP")
}

pub fn publish_not_ready(svc: &Service) -> bool {
    svc.spec
        .as_ref()
        .and_then(|s| s.publish_not_ready_addresses)
        .unwrap_or(false)
}

/// Does a service's selector (a plain label map) select these labels? An empty map selects all.
pub fn selects(selector: &BTreeMap<String, String>, labels: Option<&BTreeMap<String, String>>) -> bool {
    selector.iter().all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
}

fn is_terminal(pod: &Pod) -> bool {
    matches!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded" | "Failed")
    )
}

pub fn pod_ips(pod: &Pod) -> Vec<String> {
    let ips = pod.status.as_ref().and_then(|s| s.pod_ips.as_ref());
    ips.into_iter().flatten().map(|ip| ip.ip.clone()).collect()
}

/// A pod backs its services once it has an IP and until it is finished; a terminating pod
/// only where terminating pods are wanted.
pub fn should_pod_be_in_endpoints(pod: &Pod, include_terminating: bool) -> bool {
    if is_terminal(pod) {
        return false;
    }
    let status = pod.status.as_ref();
    let has_ip = status.is_some_and(|s| {
        s.pod_ip.as_deref().is_some_and(|ip| !ip.is_empty()) || s.pod_ips.as_ref().is_some_and(|ips| !ips.is_empty())
    });
    has_ip && (include_terminating || pod.metadata.deletion_timestamp.is_none())
}

/// The pod's hostname goes into its endpoints when the pod asked for the service as subdomain.
pub fn should_set_hostname(pod: &Pod, svc: &Service) -> bool {
    let spec = pod.spec.as_ref();
    let hostname = spec.and_then(|s| s.hostname.as_deref()).unwrap_or("");
    !hostname.is_empty()
        && spec.and_then(|s| s.subdomain.as_deref()) == svc.metadata.name.as_deref()
        && pod.metadata.namespace == svc.metadata.namespace
}

/// The container port a service port targets on this pod: a number as is, a name looked up in
/// the containers' (and sidecar init containers') ports with the same protocol.
pub fn find_port(pod: &Pod, port: &ServicePort) -> Option<i32> {
    let name = match &port.target_port {
        None => return Some(port.port),
        Some(IntOrString::Int(n)) => return Some(*n),
        Some(IntOrString::String(name)) => name,
    };
    let protocol = port.protocol.as_deref().unwrap_or("TCP");
    let spec = pod.spec.as_ref()?;
    let sidecars = spec
        .init_containers
        .iter()
        .flatten()
        .filter(|c| c.restart_policy.as_deref() == Some("Always"));
    spec.containers
        .iter()
        .chain(sidecars)
        .flat_map(|c| c.ports.iter().flatten())
        .find(|p| p.name.as_deref() == Some(name.as_str()) && p.protocol.as_deref().unwrap_or("TCP") == protocol)
        .map(|p| p.container_port)
}

/// The keys of the services in the pod's namespace whose selector matches it.
pub fn service_memberships(services: &Informer<Service>, pod: &Pod) -> BTreeSet<String> {
    let ns = pod.metadata.namespace.as_deref().unwrap_or_default();
    services
        .list_namespace(ns)
        .iter()
        .filter(|s| selector_of(s).is_some_and(|sel| selects(sel, pod.metadata.labels.as_ref())))
        .map(|s| key_of(s.as_ref()))
        .collect()
}

/// Whether a pod update changes its endpoints, and whether it may change which services select it.
fn pod_endpoints_changed(old: &Pod, new: &Pod) -> (bool, bool) {
    let host = |p: &Pod| {
        let spec = p.spec.as_ref();
        (
            spec.and_then(|s| s.hostname.clone()),
            spec.and_then(|s| s.subdomain.clone()),
        )
    };
    let labels_changed = old.metadata.labels != new.metadata.labels || host(old) != host(new);
    let changed = old.metadata.deletion_timestamp != new.metadata.deletion_timestamp
        || pods::is_ready(old) != pods::is_ready(new)
        || is_terminal(old) != is_terminal(new)
        || pod_ips(old) != pod_ips(new);
    (changed, labels_changed)
}

/// The services to sync after a pod update: none if nothing relevant changed; on a label change
/// the services it joined or left (all of old and new if its endpoints changed too).
pub fn services_to_update(services: &Informer<Service>, old: &Pod, new: &Pod) -> BTreeSet<String> {
    if old.metadata.resource_version == new.metadata.resource_version {
        return BTreeSet::new();
    }
    let (changed, labels_changed) = pod_endpoints_changed(old, new);
    if !changed && !labels_changed {
        return BTreeSet::new();
    }
    let now = service_memberships(services, new);
    if !labels_changed {
        return now;
    }
    let before = service_memberships(services, old);
    if changed {
        now.union(&before).cloned().collect()
    } else {
        now.symmetric_difference(&before).cloned().collect()
    }
}

#[derive(Default)]
struct TriggerState {
    pods: HashMap<String, jiff::Timestamp>,
    service: Option<jiff::Timestamp>,
}

/// Computes the `endpoints.kubernetes.io/last-change-trigger-time` annotation: the earliest
/// change (a pod's Ready transition, the service's creation) not yet reflected in a sync.
#[derive(Default)]
pub struct TriggerTimeTracker {
    states: Mutex<HashMap<String, TriggerState>>,
}

fn ready_transition(pod: &Pod) -> Option<jiff::Timestamp> {
    let conditions = pod.status.as_ref()?.conditions.as_ref()?;
    let ready = conditions.iter().find(|c| c.type_ == "Ready")?;
    ready.last_transition_time.as_ref().map(|t| t.0)
}

impl TriggerTimeTracker {
    pub fn compute(&self, key: &str, svc: &Service, pods: &[std::sync::Arc<Pod>]) -> Option<jiff::Timestamp> {
        let mut states = self.states.lock().unwrap_or_else(|e| e.into_inner());
        let known = states.contains_key(key);
        let state = states.entry(key.to_string()).or_default();
        let mut earliest: Option<jiff::Timestamp> = None;
        let mut seen = HashMap::new();
        for pod in pods {
            let Some(t) = ready_transition(pod) else { continue };
            let name = pod.metadata.name.clone().unwrap_or_default();
            if state.pods.get(&name).is_none_or(|last| t > *last) {
                earliest = Some(earliest.map_or(t, |e| e.min(t)));
            }
            seen.insert(name, t);
        }
        let created = svc.metadata.creation_timestamp.as_ref().map(|t| t.0);
        if let Some(c) = created
            && state.service.is_none_or(|last| c > last)
        {
            earliest = Some(earliest.map_or(c, |e| e.min(c)));
        }
        state.pods = seen;
        state.service = created;
        if known { earliest } else { created }
    }

    pub fn delete(&self, key: &str) {
        self.states.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
    }
}

/// The identity of an endpoint within a slice: its addresses, hostname and target.
pub fn endpoint_key(ep: &Endpoint) -> String {
    let mut addresses = ep.addresses.clone();
    addresses.sort();
    let target = ep.target_ref.as_ref();
    let key = (
        target.and_then(|t| t.namespace.clone()).unwrap_or_default(),
        target.and_then(|t| t.name.clone()).unwrap_or_default(),
        ep.hostname.clone().unwrap_or_default(),
        addresses,
    );
    serde_json::to_string(&key).unwrap_or_default()
}

/// Whether two endpoints with the same key differ in anything a slice records.
pub fn endpoints_equal_beyond_key(a: &Endpoint, b: &Endpoint) -> bool {
    let cond = |e: &Endpoint| {
        let c = e.conditions.clone().unwrap_or_default();
        (c.ready, c.serving, c.terminating)
    };
    a.node_name == b.node_name
        && a.zone == b.zone
        && cond(a) == cond(b)
        && a.hints == b.hints
        && a.target_ref == b.target_ref
}

/// Sorts ports into a canonical order and names the set (upstream's PortMapKey).
pub fn port_key(ports: &mut [EndpointPort]) -> String {
    ports.sort_by(|a, b| {
        (&a.name, a.port, &a.protocol, &a.app_protocol).cmp(&(&b.name, b.port, &b.protocol, &b.app_protocol))
    });
    let parts: Vec<_> = ports
        .iter()
        .map(|p| (&p.name, p.port, &p.protocol, &p.app_protocol))
        .collect();
    serde_json::to_string(&parts).unwrap_or_default()
}

/// The service an EndpointSlice belongs to, by its `kubernetes.io/service-name` label.
pub fn service_key_of(slice: &EndpointSlice) -> Option<String> {
    let name = slice.metadata.labels.as_ref()?.get(LABEL_SERVICE_NAME)?;
    Some(format!(
        "{}/{name}",
        slice.metadata.namespace.as_deref().unwrap_or_default()
    ))
}

/// A create refused because the namespace is going away: retrying cannot help.
pub fn namespace_terminating(e: &kube::Error) -> bool {
    match e {
        kube::Error::Api(s) => s
            .details
            .as_ref()
            .is_some_and(|d| d.causes.iter().any(|c| c.reason == "NamespaceTerminating")),
        _ => false,
    }
}

pub fn managed_by(slice: &EndpointSlice) -> Option<&str> {
    slice
        .metadata
        .labels
        .as_ref()?
        .get(LABEL_MANAGED_BY)
        .map(String::as_str)
}

#[derive(Clone, Debug, PartialEq)]
enum Tracked {
    /// What the controller last wrote, and the resourceVersion that write replaced.
    Written {
        generation: i64,
        resource_version: String,
        replaced: Option<String>,
    },
    DeletionExpected,
}

/// Upstream's EndpointSliceTracker: remembers the slices this controller wrote or deleted, per
/// service, so that echoes of its own writes cause no sync and a sync against a cache that has
/// not caught up yet fails (and is retried) rather than acting on stale slices. Generations
/// order writes where the server maintains them; otherwise the replaced resourceVersion
/// recognizes the stale copy.
#[derive(Default)]
pub struct SliceTracker {
    by_service: Mutex<HashMap<String, HashMap<String, Tracked>>>,
}

fn uid(slice: &EndpointSlice) -> String {
    slice.metadata.uid.clone().unwrap_or_default()
}

impl SliceTracker {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, HashMap<String, Tracked>>> {
        self.by_service.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records a slice as written, `replaced` being the resourceVersion it was written over.
    pub fn update(&self, slice: &EndpointSlice, replaced: Option<String>) {
        let Some(svc) = service_key_of(slice) else { return };
        self.lock().entry(svc).or_default().insert(
            uid(slice),
            Tracked::Written {
                generation: slice.metadata.generation.unwrap_or(0),
                resource_version: slice.metadata.resource_version.clone().unwrap_or_default(),
                replaced,
            },
        );
    }

    pub fn expect_deletion(&self, slice: &EndpointSlice) {
        let Some(svc) = service_key_of(slice) else { return };
        self.lock()
            .entry(svc)
            .or_default()
            .insert(uid(slice), Tracked::DeletionExpected);
    }

    pub fn has(&self, slice: &EndpointSlice) -> bool {
        let Some(svc) = service_key_of(slice) else { return false };
        self.lock().get(&svc).is_some_and(|m| m.contains_key(&uid(slice)))
    }

    /// Whether a slice seen in the cache is news to this controller.
    pub fn should_sync(&self, slice: &EndpointSlice) -> bool {
        let Some(svc) = service_key_of(slice) else { return true };
        let map = self.lock();
        match map.get(&svc).and_then(|m| m.get(&uid(slice))) {
            None | Some(Tracked::DeletionExpected) => true,
            Some(Tracked::Written {
                generation,
                resource_version,
                ..
            }) => {
                let seen = slice.metadata.generation.unwrap_or(0);
                if seen > 0 || *generation > 0 {
                    seen > *generation
                } else {
                    slice.metadata.resource_version.as_deref() != Some(resource_version.as_str())
                }
            }
        }
    }

    /// Forgets a deleted slice; false if the deletion was not this controller's doing.
    pub fn handle_deletion(&self, slice: &EndpointSlice) -> bool {
        let Some(svc) = service_key_of(slice) else { return true };
        let mut map = self.lock();
        let Some(m) = map.get_mut(&svc) else { return true };
        !matches!(m.remove(&uid(slice)), Some(Tracked::Written { .. }))
    }

    /// Whether the cached slices of a service lag behind what this controller wrote.
    pub fn stale(&self, service_key: &str, slices: &[std::sync::Arc<EndpointSlice>]) -> bool {
        let map = self.lock();
        let Some(tracked) = map.get(service_key) else {
            return false;
        };
        for slice in slices {
            match tracked.get(&uid(slice)) {
                Some(Tracked::DeletionExpected) => return true,
                Some(Tracked::Written {
                    generation, replaced, ..
                }) => {
                    let seen = slice.metadata.generation.unwrap_or(0);
                    if *generation > seen {
                        return true;
                    }
                    if replaced.is_some() && slice.metadata.resource_version == *replaced {
                        return true;
                    }
                }
                None => {}
            }
        }
        tracked
            .iter()
            .any(|(u, t)| *t != Tracked::DeletionExpected && !slices.iter().any(|s| uid(s) == *u))
    }

    pub fn delete_service(&self, service_key: &str) {
        self.lock().remove(service_key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::Arc;

    fn pod(v: serde_json::Value) -> Pod {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn ports_resolve_by_number_and_by_name_and_protocol() {
        let p = pod(json!({"spec": {
            "containers": [{"name": "c", "ports": [
                {"name": "http", "containerPort": 8080, "protocol": "TCP"},
                {"name": "dns", "containerPort": 5353, "protocol": "UDP"}]}],
            "initContainers": [
                {"name": "plain", "ports": [{"name": "side", "containerPort": 1}]},
                {"name": "sidecar", "restartPolicy": "Always", "ports": [{"name": "metrics", "containerPort": 9090}]}]}}));
        let sp = |v: serde_json::Value| -> ServicePort { serde_json::from_value(v).unwrap() };
        assert_eq!(find_port(&p, &sp(json!({"port": 80, "targetPort": 81}))), Some(81));
        assert_eq!(find_port(&p, &sp(json!({"port": 80}))), Some(80));
        assert_eq!(
            find_port(&p, &sp(json!({"port": 80, "targetPort": "http"}))),
            Some(8080)
        );
        let dns_tcp = sp(json!({"port": 53, "targetPort": "dns", "protocol": "TCP"}));
        assert_eq!(find_port(&p, &dns_tcp), None);
        let dns_udp = sp(json!({"port": 53, "targetPort": "dns", "protocol": "UDP"}));
        assert_eq!(find_port(&p, &dns_udp), Some(5353));
        assert_eq!(
            find_port(&p, &sp(json!({"port": 1, "targetPort": "metrics"}))),
            Some(9090)
        );
        assert_eq!(find_port(&p, &sp(json!({"port": 1, "targetPort": "side"}))), None);
    }

    #[test]
    fn pods_need_an_ip_and_must_not_be_finished() {
        let with = |status: serde_json::Value, deleting: bool| {
            let mut v = json!({"metadata": {"name": "p"}, "status": status});
            if deleting {
                v["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
            }
            pod(v)
        };
        assert!(!should_pod_be_in_endpoints(
            &with(json!({"phase": "Running"}), false),
            true
        ));
        let running = json!({"phase": "Running", "podIP": "10.0.0.1", "podIPs": [{"ip": "10.0.0.1"}]});
        assert!(should_pod_be_in_endpoints(&with(running.clone(), false), false));
        assert!(!should_pod_be_in_endpoints(&with(running.clone(), true), false));
        assert!(should_pod_be_in_endpoints(&with(running, true), true));
        let done = json!({"phase": "Succeeded", "podIP": "10.0.0.1"});
        assert!(!should_pod_be_in_endpoints(&with(done, false), true));
    }

    #[test]
    fn trigger_time_is_creation_first_then_earliest_new_change() {
        let t = TriggerTimeTracker::default();
        let svc: Service =
            serde_json::from_value(json!({"metadata": {"name": "s", "creationTimestamp": "2026-01-01T00:00:00Z"}}))
                .unwrap();
        let ready_at = |name: &str, at: &str| {
            Arc::new(pod(json!({"metadata": {"name": name}, "status": {"conditions": [
                {"type": "Ready", "status": "True", "lastTransitionTime": at}]}})))
        };
        let a = ready_at("a", "2026-01-01T00:01:00Z");
        let first = t.compute("ns/s", &svc, std::slice::from_ref(&a));
        assert_eq!(first.unwrap().to_string(), "2026-01-01T00:00:00Z");
        assert_eq!(t.compute("ns/s", &svc, std::slice::from_ref(&a)), None);
        let b = ready_at("b", "2026-01-01T00:03:00Z");
        let c = ready_at("a", "2026-01-01T00:02:00Z");
        let next = t.compute("ns/s", &svc, &[c, b]);
        assert_eq!(next.unwrap().to_string(), "2026-01-01T00:02:00Z");
    }

    #[test]
    fn tracker_tells_own_writes_from_news_and_stale_caches() {
        let t = SliceTracker::default();
        let slice = |rv: &str| -> Arc<EndpointSlice> {
            Arc::new(
                serde_json::from_value(json!({"metadata": {"name": "s-1", "namespace": "ns", "uid": "u1",
                    "resourceVersion": rv, "labels": {LABEL_SERVICE_NAME: "s"}}, "addressType": "IPv4", "endpoints": []}))
                .unwrap(),
            )
        };
        t.update(&slice("5"), Some("3".into()));
        assert!(!t.should_sync(&slice("5")));
        assert!(t.should_sync(&slice("7")));
        assert!(t.stale("ns/s", &[slice("3")]));
        assert!(!t.stale("ns/s", &[slice("5")]));
        assert!(t.stale("ns/s", &[]), "a written slice missing from the cache");
        t.expect_deletion(&slice("5"));
        assert!(t.stale("ns/s", &[slice("5")]));
        assert!(t.handle_deletion(&slice("5")));
        assert!(!t.has(&slice("5")));
    }
}
