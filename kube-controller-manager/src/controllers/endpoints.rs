//! endpoints: the core/v1 Endpoints of every Service with a selector (not ExternalName): the
//! IPs of the matching pods that have one, ready pods under `addresses` and the others under
//! `notReadyAddresses` (all under `addresses` with publishNotReadyAddresses), each service port
//! resolved on the pod by number or container port name, subsets grouped by identical port
//! sets as upstream's RepackSubsets; at most 1000 addresses (the rest cut and the
//! `endpoints.kubernetes.io/over-capacity: truncated` annotation set). A deleted service's
//! Endpoints go; a selector-less service's Endpoints belong to whoever wrote them.

use super::Ctx;
use super::endpointslice::util::{
    ANNOTATION_LEADER, ANNOTATION_TRIGGER_TIME, LABEL_HEADLESS, TriggerTimeTracker, is_service_ip_set, selector_of,
    selects, service_memberships, service_type, services_to_update, should_pod_be_in_endpoints, should_set_hostname,
};
use crate::events::WARNING;
use crate::informer::{Change, Informer, key_of, split_key};
use crate::pods;
use crate::queue::{Queue, run_workers};
use k8s_openapi::api::core::v1::{
    EndpointAddress, EndpointPort, EndpointSubset, Endpoints, ObjectReference, Pod, Service,
};
use kube::api::{Api, DeleteParams, PostParams};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

const MAX_CAPACITY: usize = 1000;
const ANNOTATION_OVER_CAPACITY: &str = "endpoints.kubernetes.io/over-capacity";
/// Marks the Endpoints this controller wrote (new in v1.33).
const LABEL_MANAGED_BY: &str = "endpoints.kubernetes.io/managed-by";
const MANAGED_BY: &str = "endpoint-controller";

struct Controller {
    ctx: Ctx,
    services: Informer<Service>,
    pods: Informer<Pod>,
    endpoints: Informer<Endpoints>,
    triggers: TriggerTimeTracker,
    /// Per Endpoints key, the resourceVersion last written over: seeing it again in the
    /// cache means the cache is behind.
    stale: Mutex<HashMap<String, String>>,
}

pub async fn run(ctx: Ctx) -> anyhow::Result<()> {
    let services = ctx.informers.get::<Service>();
    let pods = ctx.informers.get::<Pod>();
    let endpoints = ctx.informers.get::<Endpoints>();
    let queue: Arc<Queue<String>> = Queue::new();
    let c = Arc::new(Controller {
        ctx: ctx.clone(),
        services: services.clone(),
        pods: pods.clone(),
        endpoints: endpoints.clone(),
        triggers: TriggerTimeTracker::default(),
        stale: Mutex::default(),
    });
    services.queue_keys(queue.clone());
    let (q, svcs) = (queue.clone(), services.clone());
    pods.on_change(move |change| {
        let keys = match change {
            Change::Added(p) | Change::Deleted(p) => service_memberships(&svcs, p),
            Change::Updated { old, new } => services_to_update(&svcs, old, new),
        };
        keys.into_iter().for_each(|k| q.add(k));
    });
    let q = queue.clone();
    endpoints.on_change(move |change| {
        if let Change::Deleted(e) = change {
            q.add(key_of(e.as_ref()));
        }
    });
    services.synced().await;
    pods.synced().await;
    endpoints.synced().await;
    // Endpoints whose service went while the controller was down are found once, at start.
    for e in endpoints.list() {
        let leader = e
            .metadata
            .annotations
            .as_ref()
            .is_some_and(|a| a.contains_key(ANNOTATION_LEADER));
        if !leader {
            queue.add(key_of(e.as_ref()));
        }
    }
    let workers = ctx.opts.concurrent_endpoint_syncs;
    run_workers("endpoint", queue, workers, move |key: String| {
        let c = c.clone();
        async move { c.sync(&key).await }
    })
    .await;
    Ok(())
}

impl Controller {
    async fn sync(&self, key: &str) -> anyhow::Result<()> {
        let (ns, name) = split_key(key);
        let ns = ns.unwrap_or_default();
        let api: Api<Endpoints> = Api::namespaced(self.ctx.client.clone(), ns);
        let Some(svc) = self.services.get(key) else {
            super::ignore_not_found(api.delete(name, &DeleteParams::default()).await)?;
            self.triggers.delete(key);
            self.lock_stale().remove(key);
            return Ok(());
        };
        if service_type(&svc) == "ExternalName" {
            return Ok(());
        }
        let Some(selector) = selector_of(&svc) else {
            return Ok(());
        };
        let pods: Vec<Arc<Pod>> = self
            .pods
            .list_namespace(ns)
            .into_iter()
            .filter(|p| selects(selector, p.metadata.labels.as_ref()))
            .collect();
        // Computed even when nothing gets written, to keep the tracker's view current.
        let trigger = self.triggers.compute(key, &svc, &pods);
        let subsets = repack_subsets(desired_subsets(&svc, &pods));
        let current = self.endpoints.get(key);
        if let Some(cur) = &current
            && self.lock_stale().get(key) == cur.metadata.resource_version.as_ref()
        {
            anyhow::bail!(
                "endpoints informer cache is out of date, resource version {} already processed for endpoints {key}",
                cur.metadata.resource_version.as_deref().unwrap_or_default()
            );
        }
        let svc_labels = svc.metadata.labels.clone().unwrap_or_default();
        if let Some(cur) = &current {
            let mut labels = cur.metadata.labels.clone().unwrap_or_default();
            labels.remove(LABEL_HEADLESS);
            labels.remove(LABEL_MANAGED_BY);
            let annotations = cur.metadata.annotations.as_ref();
            let capacity_ok = address_count(cur.subsets.as_deref().unwrap_or_default()) <= MAX_CAPACITY
                && !annotations.is_some_and(|a| a.contains_key(ANNOTATION_OVER_CAPACITY));
            if cur.subsets.clone().unwrap_or_default() == subsets && labels == svc_labels && capacity_ok {
                return Ok(());
            }
        }
        let mut next = current.as_deref().cloned().unwrap_or_else(|| Endpoints {
            metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                name: Some(name.to_string()),
                namespace: Some(ns.to_string()),
                ..Default::default()
            },
            subsets: None,
        });
        let mut subsets = subsets;
        let truncated = truncate(&mut subsets);
        next.subsets = (!subsets.is_empty()).then_some(subsets);
        let annotations = next.metadata.annotations.get_or_insert_with(BTreeMap::new);
        match trigger {
            Some(t) => annotations.insert(ANNOTATION_TRIGGER_TIME.into(), t.to_string()),
            None => annotations.remove(ANNOTATION_TRIGGER_TIME),
        };
        match truncated {
            true => annotations.insert(ANNOTATION_OVER_CAPACITY.into(), "truncated".into()),
            false => annotations.remove(ANNOTATION_OVER_CAPACITY),
        };
        let mut labels = svc_labels;
        if is_service_ip_set(&svc) {
            labels.remove(LABEL_HEADLESS);
        } else {
            labels.insert(LABEL_HEADLESS.into(), String::new());
        }
        labels.insert(LABEL_MANAGED_BY.into(), MANAGED_BY.into());
        next.metadata.labels = Some(labels);
        let written = match &current {
            None => api.create(&PostParams::default(), &next).await,
            Some(_) => api.replace(name, &PostParams::default(), &next).await,
        };
        match written {
            Ok(w) => {
                let before = current.and_then(|c| c.metadata.resource_version.clone());
                if let Some(before) = before
                    && w.metadata.resource_version.as_ref() != Some(&before)
                {
                    self.lock_stale().insert(key.to_string(), before);
                }
                Ok(())
            }
            Err(e) if current.is_none() && super::endpointslice::util::namespace_terminating(&e) => Ok(()),
            Err(e) => {
                let (reason, message) = match current {
                    None => (
                        "FailedToCreateEndpoint",
                        format!("Failed to create endpoint for service {key}: {e}"),
                    ),
                    Some(_) => (
                        "FailedToUpdateEndpoint",
                        format!("Failed to update endpoint {key}: {e}"),
                    ),
                };
                self.ctx.recorder.event(&next, WARNING, reason, &message);
                Err(e.into())
            }
        }
    }

    fn lock_stale(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        self.stale.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The pod's address in the service's (first) IP family, if it has one.
fn pod_address(svc: &Service, pod: &Pod) -> Option<EndpointAddress> {
    let spec = svc.spec.as_ref();
    let family = spec.and_then(|s| s.ip_families.as_ref()?.first().cloned());
    let v6 = match family {
        Some(f) => f == "IPv6",
        None if is_service_ip_set(svc) => spec
            .and_then(|s| s.cluster_ip.as_deref())
            .is_some_and(|ip| ip.contains(':')),
        None => pod
            .status
            .as_ref()
            .and_then(|s| s.pod_ip.as_deref())
            .is_some_and(|ip| ip.contains(':')),
    };
    let ip = super::endpointslice::util::pod_ips(pod)
        .into_iter()
        .find(|ip| ip.contains(':') == v6)?;
    Some(EndpointAddress {
        ip,
        node_name: pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.clone())
            .filter(|n| !n.is_empty()),
        hostname: should_set_hostname(pod, svc)
            .then(|| pod.spec.as_ref().and_then(|s| s.hostname.clone()))
            .flatten(),
        target_ref: Some(ObjectReference {
            kind: Some("Pod".into()),
            namespace: pod.metadata.namespace.clone(),
            name: pod.metadata.name.clone(),
            uid: pod.metadata.uid.clone(),
            ..Default::default()
        }),
    })
}

/// One single-address subset per pod and resolved port, before repacking.
fn desired_subsets(svc: &Service, pods: &[Arc<Pod>]) -> Vec<EndpointSubset> {
    let tolerate = super::endpointslice::util::publish_not_ready(svc);
    let spec = svc.spec.as_ref();
    let ports = spec.and_then(|s| s.ports.clone()).unwrap_or_default();
    let headless = spec.and_then(|s| s.cluster_ip.as_deref()) == Some("None");
    let mut out = Vec::new();
    for pod in pods {
        if !should_pod_be_in_endpoints(pod, tolerate) {
            continue;
        }
        let Some(addr) = pod_address(svc, pod) else { continue };
        let ready = tolerate || pods::is_ready(pod);
        let subset = |port: Option<EndpointPort>| EndpointSubset {
            addresses: ready.then(|| vec![addr.clone()]),
            not_ready_addresses: (!ready).then(|| vec![addr.clone()]),
            ports: port.map(|p| vec![p]),
        };
        if ports.is_empty() {
            // A headless service may have no ports at all.
            if headless {
                out.push(subset(None));
            }
            continue;
        }
        for sp in &ports {
            let Some(number) = super::endpointslice::util::find_port(pod, sp) else {
                continue;
            };
            out.push(subset(Some(EndpointPort {
                name: sp.name.clone().filter(|n| !n.is_empty()),
                port: number,
                protocol: Some(sp.protocol.clone().unwrap_or_else(|| "TCP".into())),
                app_protocol: sp.app_protocol.clone(),
            })));
        }
    }
    out
}

type AddressKey = (String, String);

fn address_key(a: &EndpointAddress) -> AddressKey {
    let uid = a.target_ref.as_ref().and_then(|t| t.uid.clone()).unwrap_or_default();
    (a.ip.clone(), uid)
}

fn port_sort_key(p: &EndpointPort) -> (Option<String>, i32, Option<String>, Option<String>) {
    (p.name.clone(), p.port, p.protocol.clone(), p.app_protocol.clone())
}

/// Upstream's RepackSubsets: addresses are deduplicated by IP and target uid, not-ready wins
/// over ready for the same port, and ports offered by exactly the same addresses share a
/// subset; everything sorted so equal inputs give equal output.
pub fn repack_subsets(subsets: Vec<EndpointSubset>) -> Vec<EndpointSubset> {
    let mut addresses: BTreeMap<AddressKey, EndpointAddress> = BTreeMap::new();
    // Per port (in a canonical order), each address and whether it is ready there.
    let mut by_port: BTreeMap<String, (Option<EndpointPort>, BTreeMap<AddressKey, bool>)> = BTreeMap::new();
    for subset in subsets {
        let ports: Vec<Option<EndpointPort>> = match subset.ports {
            Some(p) if !p.is_empty() => p.into_iter().map(Some).collect(),
            _ => vec![None],
        };
        let all = subset
            .addresses
            .into_iter()
            .flatten()
            .map(|a| (a, true))
            .chain(subset.not_ready_addresses.into_iter().flatten().map(|a| (a, false)));
        let all: Vec<_> = all.collect();
        for port in ports {
            let pk = serde_json::to_string(&port.as_ref().map(port_sort_key)).unwrap_or_default();
            let entry = by_port.entry(pk).or_insert_with(|| (port.clone(), BTreeMap::new()));
            for (addr, ready) in &all {
                let key = address_key(addr);
                addresses.entry(key.clone()).or_insert_with(|| addr.clone());
                let was = entry.1.entry(key).or_insert(*ready);
                *was = *was && *ready;
            }
        }
    }
    let mut groups: BTreeMap<Vec<(AddressKey, bool)>, Vec<EndpointPort>> = BTreeMap::new();
    for (_, (port, set)) in by_port {
        let ports = groups.entry(set.into_iter().collect()).or_default();
        ports.extend(port);
    }
    groups
        .into_iter()
        .map(|(set, mut ports)| {
            ports.sort_by_key(port_sort_key);
            let pick = |want: bool| -> Option<Vec<EndpointAddress>> {
                let v: Vec<_> = set
                    .iter()
                    .filter(|(_, r)| *r == want)
                    .filter_map(|(k, _)| addresses.get(k).cloned())
                    .collect();
                (!v.is_empty()).then_some(v)
            };
            EndpointSubset {
                addresses: pick(true),
                not_ready_addresses: pick(false),
                ports: (!ports.is_empty()).then_some(ports),
            }
        })
        .collect()
}

fn address_count(subsets: &[EndpointSubset]) -> usize {
    subsets
        .iter()
        .map(|s| s.addresses.as_ref().map_or(0, Vec::len) + s.not_ready_addresses.as_ref().map_or(0, Vec::len))
        .sum()
}

/// Cuts the subsets down to 1000 addresses, ready ones first, each subset keeping its share;
/// true if anything was cut.
pub fn truncate(subsets: &mut [EndpointSubset]) -> bool {
    let ready: usize = subsets.iter().map(|s| s.addresses.as_ref().map_or(0, Vec::len)).sum();
    let not_ready = address_count(subsets) - ready;
    if ready + not_ready <= MAX_CAPACITY {
        return false;
    }
    let truncate_ready = ready > MAX_CAPACITY;
    let (max, total) = match truncate_ready {
        true => (MAX_CAPACITY, ready),
        false => (MAX_CAPACITY - ready, not_ready),
    };
    let mut room = max;
    for s in subsets.iter_mut() {
        let list = match truncate_ready {
            true => &mut s.addresses,
            false => &mut s.not_ready_addresses,
        };
        let n = list.as_ref().map_or(0, Vec::len);
        let share = (n * max).div_ceil(total.max(1)).min(room);
        if let Some(l) = list.as_mut() {
            l.truncate(share);
        }
        room -= list.as_ref().map_or(0, Vec::len);
        if truncate_ready {
            s.not_ready_addresses = None;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn addr(ip: &str, uid: &str) -> EndpointAddress {
        serde_json::from_value(json!({"ip": ip, "targetRef": {"kind": "Pod", "uid": uid}})).unwrap()
    }

    fn port(name: &str, n: i32) -> EndpointPort {
        EndpointPort {
            name: Some(name.into()),
            port: n,
            protocol: Some("TCP".into()),
            app_protocol: None,
        }
    }

    fn subset(ready: &[EndpointAddress], not_ready: &[EndpointAddress], ports: &[EndpointPort]) -> EndpointSubset {
        EndpointSubset {
            addresses: (!ready.is_empty()).then(|| ready.to_vec()),
            not_ready_addresses: (!not_ready.is_empty()).then(|| not_ready.to_vec()),
            ports: (!ports.is_empty()).then(|| ports.to_vec()),
        }
    }

    #[test]
    fn repack_merges_addresses_sharing_ports_and_splits_the_rest() {
        let (a, b, c) = (addr("10.0.0.2", "a"), addr("10.0.0.1", "b"), addr("10.0.0.3", "c"));
        let got = repack_subsets(vec![
            subset(std::slice::from_ref(&a), &[], &[port("http", 80)]),
            subset(std::slice::from_ref(&b), &[], &[port("http", 80)]),
            subset(std::slice::from_ref(&a), &[], &[port("https", 443)]),
            subset(std::slice::from_ref(&b), &[], &[port("https", 443)]),
            subset(&[], std::slice::from_ref(&c), &[port("http", 80)]),
        ]);
        // Ports 80 and 443 share {a, b} ready; 80 also has c not ready, so 80 and 443 differ.
        assert_eq!(got.len(), 2, "{got:?}");
        let with_c = got.iter().find(|s| s.not_ready_addresses.is_some()).unwrap();
        assert_eq!(with_c.ports.as_deref(), Some(&[port("http", 80)][..]));
        let ips: Vec<_> = with_c.addresses.iter().flatten().map(|a| a.ip.as_str()).collect();
        assert_eq!(ips, ["10.0.0.1", "10.0.0.2"], "sorted by IP");
        let other = got.iter().find(|s| s.not_ready_addresses.is_none()).unwrap();
        assert_eq!(other.ports.as_deref(), Some(&[port("https", 443)][..]));
    }

    #[test]
    fn repack_not_ready_wins_and_duplicates_collapse() {
        let a = addr("10.0.0.1", "a");
        let got = repack_subsets(vec![
            subset(std::slice::from_ref(&a), &[], &[port("p", 1)]),
            subset(&[], std::slice::from_ref(&a), &[port("p", 1)]),
            subset(std::slice::from_ref(&a), &[], &[port("p", 1)]),
        ]);
        assert_eq!(got, vec![subset(&[], &[a], &[port("p", 1)])]);
        // Same ports on every address: one subset with both ports.
        let (x, y) = (addr("10.0.0.1", "x"), addr("10.0.0.2", "y"));
        let got = repack_subsets(vec![
            subset(std::slice::from_ref(&x), &[], &[port("a", 1), port("b", 2)]),
            subset(std::slice::from_ref(&y), &[], &[port("b", 2), port("a", 1)]),
        ]);
        assert_eq!(got, vec![subset(&[x, y], &[], &[port("a", 1), port("b", 2)])]);
        // Headless without ports: addresses kept, no ports.
        let got = repack_subsets(vec![subset(&[addr("10.0.0.9", "h")], &[], &[])]);
        assert_eq!(got.len(), 1);
        assert!(got[0].ports.is_none());
    }

    #[test]
    fn truncation_keeps_1000_ready_first_in_proportion() {
        let many = |prefix: u32, n: u32| -> Vec<EndpointAddress> {
            (0..n)
                .map(|i| {
                    addr(
                        &format!("10.{prefix}.{}.{}", i / 250, i % 250),
                        &format!("{prefix}-{i}"),
                    )
                })
                .collect()
        };
        let mut s = vec![
            subset(&many(1, 900), &many(2, 50), &[port("a", 1)]),
            subset(&many(3, 300), &many(4, 50), &[port("b", 2)]),
        ];
        assert!(truncate(&mut s));
        assert_eq!(address_count(&s), 1000);
        assert_eq!(s[0].addresses.as_ref().unwrap().len(), 750);
        assert_eq!(s[1].addresses.as_ref().unwrap().len(), 250);
        assert!(s.iter().all(|x| x.not_ready_addresses.is_none()));
        let mut s = vec![subset(&many(1, 900), &many(2, 200), &[port("a", 1)])];
        assert!(truncate(&mut s));
        assert_eq!(s[0].addresses.as_ref().unwrap().len(), 900);
        assert_eq!(s[0].not_ready_addresses.as_ref().unwrap().len(), 100);
        let mut small = vec![subset(&many(1, 10), &[], &[port("a", 1)])];
        assert!(!truncate(&mut small));
    }

    #[test]
    fn subsets_from_pods_resolve_ports_and_readiness() {
        let svc: Service = serde_json::from_value(json!({
            "metadata": {"name": "web", "namespace": "ns"},
            "spec": {"clusterIP": "10.96.0.5", "ipFamilies": ["IPv4"], "selector": {"app": "web"},
                     "ports": [{"name": "http", "port": 80, "targetPort": "web"}, {"name": "raw", "port": 9000, "targetPort": 9001}]}}))
        .unwrap();
        let pod = |name: &str, ip: &str, ready: bool, named_port: bool| -> Arc<Pod> {
            let ports = if named_port {
                json!([{"name": "web", "containerPort": 8080}])
            } else {
                json!([])
            };
            Arc::new(serde_json::from_value(json!({
                "metadata": {"name": name, "namespace": "ns", "uid": name},
                "spec": {"nodeName": "n1", "hostname": name, "subdomain": "web", "containers": [{"name": "c", "ports": ports}]},
                "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}],
                           "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}}]}})).unwrap())
        };
        let pods = [
            pod("a", "10.0.0.1", true, true),
            pod("b", "10.0.0.2", false, true),
            pod("c", "10.0.0.3", true, false),
        ];
        let got = repack_subsets(desired_subsets(&svc, &pods));
        let find = |port: i32| {
            got.iter()
                .find(|s| s.ports.iter().flatten().any(|p| p.port == port))
                .unwrap()
        };
        let http = find(8080);
        assert_eq!(http.addresses.as_ref().unwrap()[0].hostname.as_deref(), Some("a"));
        assert_eq!(http.not_ready_addresses.as_ref().unwrap()[0].ip, "10.0.0.2");
        let raw = find(9001);
        let ready: Vec<_> = raw.addresses.iter().flatten().map(|a| a.ip.as_str()).collect();
        assert_eq!(ready, ["10.0.0.1", "10.0.0.3"]);
        assert_eq!(raw.addresses.as_ref().unwrap()[0].node_name.as_deref(), Some("n1"));
    }
}
