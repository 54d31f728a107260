//! The EndpointSlice reconciler (upstream's k8s.io/endpointslice Reconciler): from a service
//! and its pods, the slices to create, update and delete per address family and port set,
//! minimizing churn: endpoints stay in the slice they are in, changed slices are topped up
//! fullest first, leftovers go into the unchanged slice they fill best before a new slice is
//! made, and a create replaces a delete by reusing the doomed slice's name.

use super::util::{
    ANNOTATION_TRIGGER_TIME, LABEL_HEADLESS, LABEL_MANAGED_BY, LABEL_SERVICE_NAME, SliceTracker, endpoint_key,
    endpoints_equal_beyond_key, find_port, is_service_ip_set, namespace_terminating, pod_ips, port_key,
    publish_not_ready, should_pod_be_in_endpoints, should_set_hostname,
};
use crate::pods;
use k8s_openapi::api::core::v1::{Node, ObjectReference, Pod, Service};
use k8s_openapi::api::discovery::v1::{
    Endpoint, EndpointConditions, EndpointHints, EndpointPort, EndpointSlice, ForZone,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, PostParams};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

const ZONE_LABEL: &str = "topology.kubernetes.io/zone";

/// What a reconcile decided; `update` pairs each slice with the resourceVersion it replaces.
#[derive(Default, Debug)]
pub struct Plan {
    pub create: Vec<EndpointSlice>,
    pub update: Vec<(EndpointSlice, Option<String>)>,
    pub delete: Vec<EndpointSlice>,
    pub errors: Vec<String>,
}

/// The address families a service's slices carry.
pub fn address_types(svc: &Service) -> BTreeSet<&'static str> {
    let spec = svc.spec.as_ref();
    let mut types: BTreeSet<&'static str> = spec
        .and_then(|s| s.ip_families.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|f| match f.as_str() {
            "IPv4" => Some("IPv4"),
            "IPv6" => Some("IPv6"),
            _ => None,
        })
        .collect();
    if types.is_empty() {
        if is_service_ip_set(svc) {
            let ip = spec.and_then(|s| s.cluster_ip.as_deref()).unwrap_or("");
            types.insert(if ip.contains(':') { "IPv6" } else { "IPv4" });
        } else {
            types.extend(["IPv4", "IPv6"]);
        }
    }
    types
}

fn owned_by(slice: &EndpointSlice, svc: &Service) -> bool {
    let uid = svc.metadata.uid.as_deref().unwrap_or_default();
    slice
        .metadata
        .owner_references
        .iter()
        .flatten()
        .any(|o| o.uid == uid && o.kind == "Service" && o.api_version == "v1")
}

fn is_reserved_label(key: &str) -> bool {
    matches!(key, LABEL_SERVICE_NAME | LABEL_MANAGED_BY | LABEL_HEADLESS)
}

/// The labels a slice of `svc` carries (the service's own, minus reserved keys, plus the
/// reserved ones), and whether the service's labels differ from the slice's.
pub fn slice_labels(
    current: Option<&BTreeMap<String, String>>,
    svc: &Service,
    controller: &str,
) -> (BTreeMap<String, String>, bool) {
    let unreserved = |m: Option<&BTreeMap<String, String>>| -> BTreeMap<String, String> {
        m.into_iter()
            .flatten()
            .filter(|(k, _)| !is_reserved_label(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    let mut labels = unreserved(svc.metadata.labels.as_ref());
    let changed = unreserved(current) != labels;
    if !is_service_ip_set(svc) {
        labels.insert(LABEL_HEADLESS.into(), String::new());
    }
    labels.insert(LABEL_SERVICE_NAME.into(), svc.metadata.name.clone().unwrap_or_default());
    labels.insert(LABEL_MANAGED_BY.into(), controller.into());
    (labels, changed)
}

fn new_slice(svc: &Service, ports: &[EndpointPort], address_type: &str, controller: &str) -> EndpointSlice {
    let (labels, _) = slice_labels(None, svc, controller);
    EndpointSlice {
        metadata: ObjectMeta {
            generate_name: Some(format!("{}-", svc.metadata.name.as_deref().unwrap_or_default())),
            namespace: svc.metadata.namespace.clone(),
            labels: Some(labels),
            owner_references: Some(vec![pods::controller_ref("v1", "Service", &svc.metadata)]),
            ..Default::default()
        },
        address_type: address_type.into(),
        endpoints: Vec::new(),
        ports: Some(ports.to_vec()),
    }
}

/// The slice ports for a pod: each service port resolved on the pod; a headless service may
/// have none.
fn endpoint_ports(svc: &Service, pod: &Pod) -> Vec<EndpointPort> {
    let spec = svc.spec.as_ref();
    let ports = spec.and_then(|s| s.ports.as_ref());
    ports
        .into_iter()
        .flatten()
        .filter_map(|sp| {
            let port = find_port(pod, sp)?;
            Some(EndpointPort {
                name: Some(sp.name.clone().unwrap_or_default()),
                port: Some(port),
                protocol: Some(sp.protocol.clone().unwrap_or_else(|| "TCP".into())),
                app_protocol: sp.app_protocol.clone(),
            })
        })
        .collect()
}

/// A pod as an endpoint: ready only if serving and not terminating (or if the service
/// publishes not-ready addresses).
pub fn pod_to_endpoint(pod: &Pod, node: Option<&Node>, svc: &Service, address_type: &str) -> Endpoint {
    let serving = pods::is_ready(pod);
    let terminating = pod.metadata.deletion_timestamp.is_some();
    let ready = publish_not_ready(svc) || (serving && !terminating);
    let addresses = pod_ips(pod)
        .into_iter()
        .filter(|ip| ip.contains(':') == (address_type == "IPv6"))
        .collect();
    let node_name = pod
        .spec
        .as_ref()
        .and_then(|s| s.node_name.clone())
        .filter(|n| !n.is_empty());
    let zone = node
        .and_then(|n| n.metadata.labels.as_ref()?.get(ZONE_LABEL).cloned())
        .filter(|z| !z.is_empty());
    Endpoint {
        addresses,
        conditions: Some(EndpointConditions {
            ready: Some(ready),
            serving: Some(serving),
            terminating: Some(terminating),
        }),
        target_ref: Some(ObjectReference {
            kind: Some("Pod".into()),
            namespace: pod.metadata.namespace.clone(),
            name: pod.metadata.name.clone(),
            uid: pod.metadata.uid.clone(),
            ..Default::default()
        }),
        node_name,
        hints: zone_hint(svc, zone.as_deref()),
        zone,
        hostname: should_set_hostname(pod, svc)
            .then(|| pod.spec.as_ref().and_then(|s| s.hostname.clone()))
            .flatten(),
        ..Default::default()
    }
}

/// `trafficDistribution: PreferClose`: an endpoint is for clients in its own zone (upstream's
/// preferClose heuristic); other services carry no hints.
fn zone_hint(svc: &Service, zone: Option<&str>) -> Option<EndpointHints> {
    let prefer_close = svc.spec.as_ref().and_then(|s| s.traffic_distribution.as_deref()) == Some("PreferClose");
    let zone = zone.filter(|_| prefer_close)?;
    Some(EndpointHints {
        for_zones: Some(vec![ForZone { name: zone.to_string() }]),
        ..Default::default()
    })
}

/// The reconcile inputs that stay fixed across address families.
pub struct Input<'a> {
    pub service: &'a Service,
    pub pods: &'a [Arc<Pod>],
    pub node: &'a dyn Fn(&str) -> Option<Arc<Node>>,
    pub existing: &'a [Arc<EndpointSlice>],
    pub controller: &'a str,
    pub max_per_slice: usize,
}

/// Decides the writes that bring a service's slices in line with its pods.
pub fn plan(input: &Input<'_>) -> Plan {
    let mut plan = Plan::default();
    let types = address_types(input.service);
    let mut by_type: BTreeMap<&str, Vec<Arc<EndpointSlice>>> = BTreeMap::new();
    let mut unsupported = Vec::new();
    for slice in input.existing {
        match types.get(slice.address_type.as_str()) {
            Some(t) => by_type.entry(t).or_default().push(slice.clone()),
            None => unsupported.push(slice.as_ref().clone()),
        }
    }
    for t in &types {
        let existing = by_type.remove(t).unwrap_or_default();
        let p = plan_address_type(input, &existing, t);
        plan.create.extend(p.create);
        plan.update.extend(p.update);
        plan.delete.extend(p.delete);
        plan.errors.extend(p.errors);
    }
    plan.delete.extend(unsupported);
    plan
}

struct Desired {
    ports: Vec<EndpointPort>,
    endpoints: BTreeMap<String, Endpoint>,
}

fn plan_address_type(input: &Input<'_>, existing: &[Arc<EndpointSlice>], address_type: &str) -> Plan {
    let svc = input.service;
    let mut plan = Plan::default();
    let mut existing_by_ports: BTreeMap<String, Vec<Arc<EndpointSlice>>> = BTreeMap::new();
    for slice in existing {
        if owned_by(slice, svc) {
            let mut ports = slice.ports.clone().unwrap_or_default();
            existing_by_ports
                .entry(port_key(&mut ports))
                .or_default()
                .push(slice.clone());
        } else {
            plan.delete.push(slice.as_ref().clone());
        }
    }
    let mut desired: BTreeMap<String, Desired> = BTreeMap::new();
    for pod in input.pods {
        if !should_pod_be_in_endpoints(pod, true) {
            continue;
        }
        let mut ports = endpoint_ports(svc, pod);
        let key = port_key(&mut ports);
        let entry = desired.entry(key).or_insert_with(|| Desired {
            ports,
            endpoints: BTreeMap::new(),
        });
        let node_name = pod.spec.as_ref().and_then(|s| s.node_name.clone()).unwrap_or_default();
        let node = (input.node)(&node_name);
        if node.is_none() && !publish_not_ready(svc) {
            // Left out until its node shows up, so a missing node never wedges the slices.
            plan.errors.push(format!(
                "skipping Pod {} for Service {}/{}: Node {node_name} Not Found",
                pod.metadata.name.as_deref().unwrap_or_default(),
                svc.metadata.namespace.as_deref().unwrap_or_default(),
                svc.metadata.name.as_deref().unwrap_or_default(),
            ));
            continue;
        }
        let ep = pod_to_endpoint(pod, node.as_deref(), svc, address_type);
        if !ep.addresses.is_empty() {
            entry.endpoints.insert(endpoint_key(&ep), ep);
        }
    }
    let mut create = Vec::new();
    let mut update = Vec::new();
    let mut delete = plan.delete;
    for (key, want) in desired.iter_mut() {
        let current = existing_by_ports.get(key).map(Vec::as_slice).unwrap_or_default();
        let endpoints = std::mem::take(&mut want.endpoints);
        let p = plan_port_mapping(input, current, endpoints, &want.ports, address_type);
        create.extend(p.create);
        update.extend(p.update);
        delete.extend(p.delete);
    }
    for (key, slices) in &existing_by_ports {
        if !desired.contains_key(key) {
            delete.extend(slices.iter().map(|s| s.as_ref().clone()));
        }
    }
    // A service with no endpoints still gets one empty slice.
    if existing.len() == delete.len() && create.is_empty() {
        let placeholder = new_slice(svc, &[], address_type, input.controller);
        if delete.len() == 1 && same_placeholder(&delete[0], &placeholder) {
            delete.clear();
        } else {
            create.push(placeholder);
        }
    }
    Plan {
        create,
        update,
        delete,
        errors: plan.errors,
    }
}

fn same_placeholder(a: &EndpointSlice, b: &EndpointSlice) -> bool {
    a.metadata.namespace == b.metadata.namespace
        && a.metadata.labels.clone().unwrap_or_default() == b.metadata.labels.clone().unwrap_or_default()
        && a.address_type == b.address_type
        && a.endpoints.is_empty()
        && b.endpoints.is_empty()
        && a.ports.as_ref().is_none_or(Vec::is_empty)
        && b.ports.as_ref().is_none_or(Vec::is_empty)
}

/// One port set's slices: keep endpoints where they are, top up changed slices, then fill the
/// unchanged slice that ends up closest to full, then new slices.
fn plan_port_mapping(
    input: &Input<'_>,
    existing: &[Arc<EndpointSlice>],
    mut desired: BTreeMap<String, Endpoint>,
    ports: &[EndpointPort],
    address_type: &str,
) -> Plan {
    let max = input.max_per_slice.max(1);
    let mut by_name: BTreeMap<String, EndpointSlice> = BTreeMap::new();
    let mut unchanged = BTreeSet::new();
    let mut to_update = BTreeSet::new();
    let mut to_delete = BTreeSet::new();
    let mut replaced: BTreeMap<String, Option<String>> = BTreeMap::new();
    for slice in existing {
        let name = slice.metadata.name.clone().unwrap_or_default();
        replaced.insert(name.clone(), slice.metadata.resource_version.clone());
        let mut kept = Vec::new();
        let mut changed = false;
        for ep in &slice.endpoints {
            if let Some(want) = desired.remove(&endpoint_key(ep)) {
                changed |= !endpoints_equal_beyond_key(&want, ep);
                kept.push(want);
            }
        }
        let (labels, labels_changed) = slice_labels(slice.metadata.labels.as_ref(), input.service, input.controller);
        let mut next = slice.as_ref().clone();
        if changed || kept.len() != slice.endpoints.len() {
            if kept.is_empty() {
                to_delete.insert(name.clone());
            } else {
                next.endpoints = kept;
                next.metadata.labels = Some(labels);
                to_update.insert(name.clone());
            }
        } else if labels_changed {
            next.metadata.labels = Some(labels);
            to_update.insert(name.clone());
        } else {
            unchanged.insert(name.clone());
        }
        by_name.insert(name, next);
    }
    if !desired.is_empty() && !to_update.is_empty() {
        let mut names: Vec<String> = to_update.iter().cloned().collect();
        names.sort_by_key(|n| std::cmp::Reverse(by_name.get(n).map_or(0, |s| s.endpoints.len())));
        for name in names {
            let Some(slice) = by_name.get_mut(&name) else { continue };
            while slice.endpoints.len() < max {
                let Some((_, ep)) = desired.pop_first() else { break };
                slice.endpoints.push(ep);
            }
        }
    }
    let mut create = Vec::new();
    while !desired.is_empty() {
        let fill = if desired.len() < max {
            let sizes = unchanged
                .iter()
                .filter_map(|n: &String| Some((n.clone(), by_name.get(n)?.endpoints.len())));
            slice_to_fill(sizes, desired.len(), max)
        } else {
            None
        };
        let mut slice = match fill.and_then(|n| by_name.get(&n).cloned()) {
            Some(s) => s,
            None => new_slice(input.service, ports, address_type, input.controller),
        };
        while slice.endpoints.len() < max {
            let Some((_, ep)) = desired.pop_first() else { break };
            slice.endpoints.push(ep);
        }
        match slice.metadata.name.clone().filter(|n| !n.is_empty()) {
            Some(name) => {
                unchanged.remove(&name);
                to_update.insert(name.clone());
                by_name.insert(name, slice);
            }
            None => create.push(slice),
        }
    }
    let take = |names: &BTreeSet<String>| -> Vec<EndpointSlice> {
        names.iter().filter_map(|n| by_name.get(n).cloned()).collect()
    };
    Plan {
        update: take(&to_update)
            .into_iter()
            .map(|s| {
                let rv = replaced
                    .get(s.metadata.name.as_deref().unwrap_or_default())
                    .cloned()
                    .flatten();
                (s, rv)
            })
            .collect(),
        delete: take(&to_delete),
        create,
        errors: Vec::new(),
    }
}

/// The slice that comes closest to full (without overflowing) when `count` endpoints are added.
fn slice_to_fill(sizes: impl Iterator<Item = (String, usize)>, count: usize, max: usize) -> Option<String> {
    let mut best: Option<(usize, String)> = None;
    for (name, len) in sizes {
        let Some(room) = max.checked_sub(count + len) else {
            continue;
        };
        if best.as_ref().is_none_or(|(r, _)| room < *r) {
            best = Some((room, name));
            if room == 0 {
                break;
            }
        }
    }
    best.map(|(_, n)| n)
}

/// Turns creates into updates of slices that would be deleted (same family, same owner), so a
/// changed port set costs one write instead of two.
pub fn recycle(plan: &mut Plan, svc: &Service) {
    let mut i = 0;
    while i < plan.delete.len() && !plan.create.is_empty() {
        let victim = &plan.delete[i];
        let last = plan.create.len() - 1;
        if victim.address_type == plan.create[last].address_type && owned_by(victim, svc) {
            let victim = plan.delete.remove(i);
            if let Some(mut slice) = plan.create.pop() {
                slice.metadata.name = victim.metadata.name.clone();
                plan.update.push((slice, victim.metadata.resource_version.clone()));
            }
        } else {
            i += 1;
        }
    }
}

fn set_trigger_time(slice: &mut EndpointSlice, trigger: Option<jiff::Timestamp>) {
    let annotations = slice.metadata.annotations.get_or_insert_with(Default::default);
    match trigger {
        Some(t) => {
            annotations.insert(ANNOTATION_TRIGGER_TIME.into(), t.to_string());
        }
        None => {
            annotations.remove(ANNOTATION_TRIGGER_TIME);
        }
    }
}

/// Carries out a plan: creates (unless the service is going away), updates, deletes; each
/// write is recorded in the tracker. Returns the errors, joined.
pub async fn finalize(
    api: &Api<EndpointSlice>,
    tracker: &SliceTracker,
    svc: &Service,
    mut plan: Plan,
    trigger: Option<jiff::Timestamp>,
) -> Vec<String> {
    recycle(&mut plan, svc);
    let mut errors = plan.errors;
    let what = format!(
        "Service {}/{}",
        svc.metadata.namespace.as_deref().unwrap_or_default(),
        svc.metadata.name.as_deref().unwrap_or_default()
    );
    if svc.metadata.deletion_timestamp.is_none() {
        for mut slice in plan.create {
            set_trigger_time(&mut slice, trigger);
            match api.create(&PostParams::default(), &slice).await {
                Ok(created) => tracker.update(&created, None),
                Err(e) if namespace_terminating(&e) => return Vec::new(),
                Err(e) => errors.push(format!("failed to create EndpointSlice for {what}: {e}")),
            }
        }
    }
    for (mut slice, replaced) in plan.update {
        set_trigger_time(&mut slice, trigger);
        let name = slice.metadata.name.clone().unwrap_or_default();
        match api.replace(&name, &PostParams::default(), &slice).await {
            Ok(updated) => tracker.update(&updated, replaced),
            Err(e) => errors.push(format!("failed to update {name} EndpointSlice for {what}: {e}")),
        }
    }
    for slice in plan.delete {
        let name = slice.metadata.name.clone().unwrap_or_default();
        match api.delete(&name, &DeleteParams::default()).await {
            Ok(_) => tracker.expect_deletion(&slice),
            Err(kube::Error::Api(s)) if s.code == 404 => tracker.expect_deletion(&slice),
            Err(e) => errors.push(format!("failed to delete {name} EndpointSlice for {what}: {e}")),
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn service(extra: serde_json::Value) -> Service {
        let mut v = json!({"metadata": {"name": "web", "namespace": "ns", "uid": "svc-uid", "labels": {"app": "web"}},
            "spec": {"clusterIP": "10.96.0.10", "ipFamilies": ["IPv4"], "selector": {"app": "web"},
                     "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]}});
        if let (Some(spec), Some(more)) = (v["spec"].as_object_mut(), extra.as_object()) {
            spec.extend(more.clone());
        }
        serde_json::from_value(v).unwrap()
    }

    fn pod(i: usize, ready: bool) -> Arc<Pod> {
        Arc::new(
            serde_json::from_value(json!({
                "metadata": {"name": format!("p{i:03}"), "namespace": "ns", "uid": format!("u{i}"), "labels": {"app": "web"}},
                "spec": {"nodeName": "n1", "containers": [{"name": "c", "ports": [{"name": "http", "containerPort": 8080}]}]},
                "status": {"phase": "Running", "podIP": format!("10.1.{}.{}", i / 200, i % 200 + 1),
                           "podIPs": [{"ip": format!("10.1.{}.{}", i / 200, i % 200 + 1)}],
                           "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}}]}}))
            .unwrap(),
        )
    }

    fn node(_: &str) -> Option<Arc<Node>> {
        Some(Arc::new(
            serde_json::from_value(json!({"metadata": {"name": "n1", "labels": {ZONE_LABEL: "zone-a"}}})).unwrap(),
        ))
    }

    fn run(svc: &Service, pods: &[Arc<Pod>], existing: &[Arc<EndpointSlice>]) -> Plan {
        let mut p = plan(&Input {
            service: svc,
            pods,
            node: &node,
            existing,
            controller: "endpointslice-controller.k8s.io",
            max_per_slice: 100,
        });
        recycle(&mut p, svc);
        p
    }

    /// Pretends the plan was written: created slices get names.
    fn apply(p: Plan, existing: &[Arc<EndpointSlice>]) -> Vec<Arc<EndpointSlice>> {
        let deleted: BTreeSet<_> = p.delete.iter().map(|s| s.metadata.name.clone()).collect();
        let updated: BTreeMap<_, _> = p
            .update
            .into_iter()
            .map(|(s, _)| (s.metadata.name.clone(), s))
            .collect();
        let mut out: Vec<Arc<EndpointSlice>> = existing
            .iter()
            .filter(|s| !deleted.contains(&s.metadata.name))
            .map(|s| {
                Arc::new(
                    updated
                        .get(&s.metadata.name)
                        .cloned()
                        .unwrap_or_else(|| s.as_ref().clone()),
                )
            })
            .collect();
        for (i, mut s) in p.create.into_iter().enumerate() {
            s.metadata.name = Some(format!("web-{}-{i}", out.len()));
            out.push(Arc::new(s));
        }
        out
    }

    #[test]
    fn pods_become_endpoints_with_conditions_zone_and_ports() {
        let svc = service(json!({}));
        let p = run(&svc, &[pod(1, true), pod(2, false)], &[]);
        assert_eq!(p.create.len(), 1);
        let s = &p.create[0];
        assert_eq!(s.address_type, "IPv4");
        assert_eq!(s.metadata.generate_name.as_deref(), Some("web-"));
        let labels = s.metadata.labels.clone().unwrap();
        assert_eq!(labels[LABEL_SERVICE_NAME], "web");
        assert_eq!(labels[LABEL_MANAGED_BY], "endpointslice-controller.k8s.io");
        assert_eq!(labels["app"], "web");
        let ports = s.ports.clone().unwrap();
        assert_eq!((ports[0].name.as_deref(), ports[0].port), (Some("http"), Some(8080)));
        let ready: Vec<_> = s
            .endpoints
            .iter()
            .map(|e| e.conditions.clone().unwrap().ready)
            .collect();
        assert_eq!(ready, [Some(true), Some(false)]);
        assert_eq!(s.endpoints[0].zone.as_deref(), Some("zone-a"));
        assert_eq!(s.endpoints[0].node_name.as_deref(), Some("n1"));
    }

    #[test]
    fn prefer_close_hints_each_endpoint_at_its_zone() {
        let plain = run(&service(json!({})), &[pod(1, true)], &[]);
        assert_eq!(plain.create[0].endpoints[0].hints, None);
        let close = run(
            &service(json!({"trafficDistribution": "PreferClose"})),
            &[pod(1, true)],
            &[],
        );
        let hints = close.create[0].endpoints[0].hints.clone().unwrap();
        assert_eq!(hints.for_zones.unwrap()[0].name, "zone-a");
    }

    #[test]
    fn at_most_100_per_slice_and_a_placeholder_when_empty() {
        let svc = service(json!({}));
        let pods: Vec<_> = (0..250).map(|i| pod(i, true)).collect();
        let p = run(&svc, &pods, &[]);
        let sizes: Vec<_> = p.create.iter().map(|s| s.endpoints.len()).collect();
        assert_eq!(sizes, [100, 100, 50]);
        let slices = apply(p, &[]);
        // Nothing changed: nothing to write.
        let again = run(&svc, &pods, &slices);
        assert!(again.create.is_empty() && again.update.is_empty() && again.delete.is_empty());
        // No pods: the slices go and one empty slice stays; the empty slice is then kept.
        let p = run(&svc, &[], &slices);
        assert_eq!(p.update.len(), 1, "a delete recycled into the placeholder");
        assert!(p.update[0].0.endpoints.is_empty());
        assert_eq!(p.delete.len(), 2);
        let slices = apply(p, &slices);
        let p = run(&svc, &[], &slices);
        assert!(
            p.create.is_empty() && p.update.is_empty() && p.delete.is_empty(),
            "{p:?}"
        );
    }

    #[test]
    fn churn_is_minimal() {
        let svc = service(json!({}));
        let pods: Vec<_> = (0..150).map(|i| pod(i, true)).collect();
        let slices = apply(run(&svc, &pods, &[]), &[]);
        // One pod turns not ready: only its slice is rewritten.
        let mut changed = pods.clone();
        changed[120] = pod(120, false);
        let p = run(&svc, &changed, &slices);
        assert!(p.create.is_empty() && p.delete.is_empty());
        assert_eq!(p.update.len(), 1);
        assert_eq!(p.update[0].0.endpoints.len(), 50);
        // Three new pods go into the slice with room, not a new one.
        let mut more = pods.clone();
        more.extend((150..153).map(|i| pod(i, true)));
        let p = run(&svc, &more, &slices);
        assert!(p.create.is_empty());
        assert_eq!(p.update.len(), 1);
        assert_eq!(p.update[0].0.endpoints.len(), 53);
        // A removed pod leaves its slice, the others untouched.
        let p = run(&svc, &pods[1..], &slices);
        assert_eq!(p.update.len(), 1);
        assert_eq!(p.update[0].0.endpoints.len(), 99);
    }

    #[test]
    fn families_and_foreign_slices() {
        let svc = service(json!({"ipFamilies": ["IPv4", "IPv6"]}));
        assert_eq!(address_types(&svc).len(), 2);
        let headless: Service = serde_json::from_value(json!({"spec": {"clusterIP": "None"}})).unwrap();
        assert_eq!(
            address_types(&headless).into_iter().collect::<Vec<_>>(),
            ["IPv4", "IPv6"]
        );
        let single = service(json!({}));
        let p = run(&single, &[pod(1, true)], &[]);
        let mut slices = apply(p, &[]);
        let mut v6 = slices[0].as_ref().clone();
        v6.address_type = "IPv6".into();
        v6.metadata.name = Some("web-v6".into());
        slices.push(Arc::new(v6));
        let p = run(&single, &[pod(1, true)], &slices);
        let gone: Vec<_> = p.delete.iter().map(|s| s.metadata.name.clone().unwrap()).collect();
        assert_eq!(gone, ["web-v6"]);
    }

    #[test]
    fn fills_the_slice_that_ends_closest_to_full() {
        let sizes = vec![("a".to_string(), 10), ("b".to_string(), 95), ("c".to_string(), 60)];
        assert_eq!(slice_to_fill(sizes.clone().into_iter(), 5, 100).as_deref(), Some("b"));
        assert_eq!(slice_to_fill(sizes.clone().into_iter(), 30, 100).as_deref(), Some("c"));
        assert_eq!(slice_to_fill(sizes.into_iter(), 95, 100), None);
    }
}
