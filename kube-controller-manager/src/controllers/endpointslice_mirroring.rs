//! endpointslice-mirroring: the Endpoints someone wrote for a Service without a selector are
//! mirrored into EndpointSlices managed by `endpointslicemirroring-controller.k8s.io`: one
//! slice per repacked subset and address family (at most 1000 addresses each), labels and
//! annotations copied (but the trigger time and kubectl's last-applied), owned by the
//! Endpoints. Endpoints labelled `endpointslice.kubernetes.io/skip-mirror: true` or carrying a
//! leader-election record are not mirrored; mirrored slices go when the Endpoints, the
//! Service, or the reason to mirror goes.

use super::Ctx;
use super::endpoints::repack_subsets;
use super::endpointslice::route_slice_change;
use super::endpointslice::util::{
    ANNOTATION_LAST_APPLIED, ANNOTATION_LEADER, ANNOTATION_TRIGGER_TIME, LABEL_MANAGED_BY, LABEL_SERVICE_NAME,
    LABEL_SKIP_MIRROR, SliceTracker, endpoint_key, endpoints_equal_beyond_key, namespace_terminating, port_key,
    selector_of,
};
use crate::events::WARNING;
use crate::informer::{Change, Informer, key_of, split_key};
use crate::pods;
use crate::queue::{Queue, run_workers};
use k8s_openapi::api::core::v1::{EndpointAddress, Endpoints, Service};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort, EndpointSlice};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, PostParams};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

pub const CONTROLLER_NAME: &str = "endpointslicemirroring-controller.k8s.io";
/// Upstream's default `--mirroring-max-endpoints-per-subset`.
const MAX_ENDPOINTS_PER_SUBSET: usize = 1000;

struct Controller {
    ctx: Ctx,
    services: Informer<Service>,
    endpoints: Informer<Endpoints>,
    slices: Informer<EndpointSlice>,
    tracker: Arc<SliceTracker>,
}

/// Whether an Endpoints object is one to mirror (its service still to be checked).
fn should_mirror(e: &Endpoints) -> bool {
    let skip = e
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(LABEL_SKIP_MIRROR))
        .map(String::as_str)
        == Some("true");
    let leader = e
        .metadata
        .annotations
        .as_ref()
        .is_some_and(|a| a.contains_key(ANNOTATION_LEADER));
    !skip && !leader
}

pub async fn run(ctx: Ctx) -> anyhow::Result<()> {
    let services = ctx.informers.get::<Service>();
    let endpoints = ctx.informers.get::<Endpoints>();
    let slices = ctx.informers.get::<EndpointSlice>();
    let queue: Arc<Queue<String>> = Queue::new();
    let tracker = Arc::new(SliceTracker::default());
    let c = Arc::new(Controller {
        ctx: ctx.clone(),
        services: services.clone(),
        endpoints: endpoints.clone(),
        slices: slices.clone(),
        tracker: tracker.clone(),
    });
    let q = queue.clone();
    services.on_change(move |change| match change {
        Change::Added(s) | Change::Deleted(s) => {
            if selector_of(s).is_none() {
                q.add(key_of(s.as_ref()));
            }
        }
        Change::Updated { old, new } => {
            if selector_of(old).is_none() != selector_of(new).is_none() {
                q.add(key_of(new.as_ref()));
            }
        }
    });
    let q = queue.clone();
    endpoints.on_change(move |change| match change {
        Change::Added(e) | Change::Deleted(e) => {
            if should_mirror(e) {
                q.add(key_of(e.as_ref()));
            }
        }
        Change::Updated { old, new } => {
            if old.metadata.resource_version != new.metadata.resource_version
                && (should_mirror(old) || should_mirror(new))
            {
                q.add(key_of(new.as_ref()));
            }
        }
    });
    let q = queue.clone();
    slices.on_change(move |change| route_slice_change(change, CONTROLLER_NAME, &tracker, &q));
    services.synced().await;
    endpoints.synced().await;
    slices.synced().await;
    let workers = ctx.opts.concurrent_service_endpoint_syncs;
    run_workers("endpoint_slice_mirroring", queue, workers, move |key: String| {
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
        let endpoints = self.endpoints.get(key).filter(|e| should_mirror(e));
        let service = self.services.get(key);
        let (Some(endpoints), Some(_)) = (endpoints, service.filter(|s| selector_of(s).is_none())) else {
            return self.delete_mirrored(ns, name, key).await;
        };
        let slices = self.mirrored(ns, name);
        if self.tracker.stale(key, &slices) {
            anyhow::bail!("EndpointSlice informer cache is out of date");
        }
        let (plan, skipped, invalid) = plan(&endpoints, &slices, MAX_ENDPOINTS_PER_SUBSET);
        if invalid > 0 {
            let msg = format!("Skipped {invalid} invalid IP addresses when mirroring to EndpointSlices");
            self.ctx
                .recorder
                .event(endpoints.as_ref(), WARNING, "InvalidIPAddress", &msg);
        }
        if skipped > invalid {
            let msg = format!(
                "A max of {MAX_ENDPOINTS_PER_SUBSET} addresses can be mirrored to EndpointSlices per Endpoints subset. {skipped} addresses were skipped"
            );
            self.ctx
                .recorder
                .event(endpoints.as_ref(), WARNING, "TooManyAddressesToMirror", &msg);
        }
        self.finalize(ns, &endpoints, plan).await
    }

    fn mirrored(&self, ns: &str, name: &str) -> Vec<Arc<EndpointSlice>> {
        self.slices
            .list_namespace(ns)
            .into_iter()
            .filter(|s| {
                let labels = s.metadata.labels.as_ref();
                labels.and_then(|l| l.get(LABEL_SERVICE_NAME)).map(String::as_str) == Some(name)
                    && labels.and_then(|l| l.get(LABEL_MANAGED_BY)).map(String::as_str) == Some(CONTROLLER_NAME)
            })
            .collect()
    }

    async fn delete_mirrored(&self, ns: &str, name: &str, key: &str) -> anyhow::Result<()> {
        let slices = self.mirrored(ns, name);
        self.tracker.delete_service(key);
        let api: Api<EndpointSlice> = Api::namespaced(self.ctx.client.clone(), ns);
        for s in slices {
            let slice_name = s.metadata.name.clone().unwrap_or_default();
            super::ignore_not_found(api.delete(&slice_name, &DeleteParams::default()).await)?;
        }
        Ok(())
    }

    async fn finalize(&self, ns: &str, endpoints: &Endpoints, mut plan: Plan) -> anyhow::Result<()> {
        recycle(&mut plan);
        let api: Api<EndpointSlice> = Api::namespaced(self.ctx.client.clone(), ns);
        let what = format!(
            "Endpoints {ns}/{}",
            endpoints.metadata.name.as_deref().unwrap_or_default()
        );
        if endpoints.metadata.deletion_timestamp.is_none() {
            for slice in plan.create {
                match api.create(&PostParams::default(), &slice).await {
                    Ok(created) => self.tracker.update(&created, None),
                    Err(e) if namespace_terminating(&e) => return Ok(()),
                    Err(e) => anyhow::bail!("failed to create EndpointSlice for {what}: {e}"),
                }
            }
        }
        for (slice, replaced) in plan.update {
            let name = slice.metadata.name.clone().unwrap_or_default();
            match api.replace(&name, &PostParams::default(), &slice).await {
                Ok(updated) => self.tracker.update(&updated, replaced),
                Err(e) => anyhow::bail!("failed to update {name} EndpointSlice for {what}: {e}"),
            }
        }
        for slice in plan.delete {
            let name = slice.metadata.name.clone().unwrap_or_default();
            match api.delete(&name, &DeleteParams::default()).await {
                Ok(_) => self.tracker.expect_deletion(&slice),
                Err(kube::Error::Api(s)) if s.code == 404 => self.tracker.expect_deletion(&slice),
                Err(e) => anyhow::bail!("failed to delete {name} EndpointSlice for {what}: {e}"),
            }
        }
        Ok(())
    }
}

#[derive(Default, Debug)]
pub struct Plan {
    pub create: Vec<EndpointSlice>,
    pub update: Vec<(EndpointSlice, Option<String>)>,
    pub delete: Vec<EndpointSlice>,
}

fn address_type(ip: &str) -> Option<&'static str> {
    match ip.parse::<IpAddr>().ok()? {
        IpAddr::V4(_) => Some("IPv4"),
        IpAddr::V6(_) => Some("IPv6"),
    }
}

fn address_to_endpoint(a: &EndpointAddress, ready: bool) -> Endpoint {
    Endpoint {
        addresses: vec![a.ip.clone()],
        conditions: Some(EndpointConditions {
            ready: Some(ready),
            ..Default::default()
        }),
        target_ref: a.target_ref.clone(),
        node_name: a.node_name.clone(),
        hostname: a.hostname.clone().filter(|h| !h.is_empty()),
        ..Default::default()
    }
}

fn copied_annotations(e: &Endpoints) -> BTreeMap<String, String> {
    let all = e.metadata.annotations.clone().unwrap_or_default();
    all.into_iter()
        .filter(|(k, _)| k != ANNOTATION_TRIGGER_TIME && k != ANNOTATION_LAST_APPLIED)
        .collect()
}

fn new_slice(e: &Endpoints, ports: &[EndpointPort], address_type: &str, name: Option<String>) -> EndpointSlice {
    let mut labels = e.metadata.labels.clone().unwrap_or_default();
    let svc = e.metadata.name.clone().unwrap_or_default();
    labels.insert(LABEL_SERVICE_NAME.into(), svc.clone());
    labels.insert(LABEL_MANAGED_BY.into(), CONTROLLER_NAME.into());
    EndpointSlice {
        metadata: ObjectMeta {
            generate_name: name.is_none().then(|| format!("{svc}-")),
            name,
            namespace: e.metadata.namespace.clone(),
            labels: Some(labels),
            annotations: Some(copied_annotations(e)),
            owner_references: Some(vec![pods::controller_ref("v1", "Endpoints", &e.metadata)]),
            ..Default::default()
        },
        address_type: address_type.into(),
        endpoints: Vec::new(),
        ports: Some(ports.to_vec()),
    }
}

/// The ports and endpoints wanted for one port set and address family.
type Desired = (Vec<EndpointPort>, BTreeMap<String, Endpoint>);

/// The slices an Endpoints object should have, against those it has. Also returns the number
/// of addresses skipped (over the per-subset limit or invalid) and of invalid ones.
pub fn plan(e: &Endpoints, existing: &[Arc<EndpointSlice>], max: usize) -> (Plan, usize, usize) {
    // Desired endpoints per (port set, family); BTreeMaps keep the outcome deterministic.
    let mut desired: BTreeMap<(String, &'static str), Desired> = BTreeMap::new();
    let (mut skipped, mut invalid) = (0, 0);
    for subset in repack_subsets(e.subsets.clone().unwrap_or_default()) {
        let mut ports: Vec<EndpointPort> = subset
            .ports
            .iter()
            .flatten()
            .map(|p| EndpointPort {
                name: Some(p.name.clone().unwrap_or_default()),
                port: Some(p.port),
                protocol: Some(p.protocol.clone().unwrap_or_else(|| "TCP".into())),
                app_protocol: p.app_protocol.clone(),
            })
            .collect();
        let pk = port_key(&mut ports);
        for family in ["IPv4", "IPv6"] {
            desired
                .entry((pk.clone(), family))
                .or_insert_with(|| (ports.clone(), BTreeMap::new()));
        }
        let all = subset
            .addresses
            .iter()
            .flatten()
            .map(|a| (a, true))
            .chain(subset.not_ready_addresses.iter().flatten().map(|a| (a, false)));
        let (mut total, mut added) = (0, 0);
        for (addr, ready) in all {
            total += 1;
            if added >= max {
                continue;
            }
            match address_type(&addr.ip) {
                Some(family) => {
                    let ep = address_to_endpoint(addr, ready);
                    if let Some((_, set)) = desired.get_mut(&(pk.clone(), family)) {
                        set.insert(endpoint_key(&ep), ep);
                    }
                    added += 1;
                }
                None => invalid += 1,
            }
        }
        skipped += total - added;
    }
    let mut existing_by_key: BTreeMap<(String, String), Vec<Arc<EndpointSlice>>> = BTreeMap::new();
    for s in existing {
        let mut ports = s.ports.clone().unwrap_or_default();
        existing_by_key
            .entry((port_key(&mut ports), s.address_type.clone()))
            .or_default()
            .push(s.clone());
    }
    let mut plan = Plan::default();
    for ((pk, family), (ports, want)) in &desired {
        let current = existing_by_key
            .get(&(pk.clone(), family.to_string()))
            .map(Vec::as_slice)
            .unwrap_or_default();
        plan_port_mapping(e, current, want.clone(), ports, family, max, &mut plan);
    }
    for ((pk, family), slices) in existing_by_key {
        let known = ["IPv4", "IPv6"].contains(&family.as_str())
            && desired.keys().any(|(k, f)| *k == pk && *f == family.as_str());
        if !known {
            plan.delete.extend(slices.iter().map(|s| s.as_ref().clone()));
        }
    }
    (plan, skipped, invalid)
}

/// One port set and family: a single slice holds the endpoints; extra slices go.
fn plan_port_mapping(
    e: &Endpoints,
    existing: &[Arc<EndpointSlice>],
    mut want: BTreeMap<String, Endpoint>,
    ports: &[EndpointPort],
    family: &str,
    max: usize,
    plan: &mut Plan,
) {
    if want.is_empty() {
        plan.delete.extend(existing.iter().map(|s| s.as_ref().clone()));
        return;
    }
    let first = existing.first();
    if let Some(first) = first {
        plan.delete.extend(existing[1..].iter().map(|s| s.as_ref().clone()));
        let mut labels = first.metadata.labels.clone().unwrap_or_default();
        labels.remove(LABEL_MANAGED_BY);
        labels.remove(LABEL_SERVICE_NAME);
        let unchanged = first.endpoints.len() == want.len()
            && first.endpoints.iter().all(|ep| {
                want.get(&endpoint_key(ep))
                    .is_some_and(|w| endpoints_equal_beyond_key(w, ep))
            })
            && e.metadata.labels.clone().unwrap_or_default() == labels
            && copied_annotations(e) == first.metadata.annotations.clone().unwrap_or_default();
        if unchanged {
            return;
        }
    }
    let mut slice = new_slice(e, ports, family, first.and_then(|f| f.metadata.name.clone()));
    while slice.endpoints.len() < max {
        let Some((_, ep)) = want.pop_first() else { break };
        slice.endpoints.push(ep);
    }
    match first {
        Some(f) => plan.update.push((slice, f.metadata.resource_version.clone())),
        None => plan.create.push(slice),
    }
}

/// Reuses slices about to be deleted for slices about to be created of the same family.
fn recycle(plan: &mut Plan) {
    let mut creates = std::mem::take(&mut plan.create);
    let mut kept = Vec::new();
    for mut slice in creates.drain(..) {
        match plan.delete.iter().position(|d| d.address_type == slice.address_type) {
            Some(i) => {
                let victim = plan.delete.remove(i);
                slice.metadata.name = victim.metadata.name.clone();
                plan.update.push((slice, victim.metadata.resource_version.clone()));
            }
            None => kept.push(slice),
        }
    }
    plan.create = kept;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn endpoints(subsets: serde_json::Value) -> Endpoints {
        serde_json::from_value(json!({
            "metadata": {"name": "ext", "namespace": "ns", "uid": "ep-uid",
                         "labels": {"team": "a"},
                         "annotations": {"note": "x", ANNOTATION_TRIGGER_TIME: "2026-01-01T00:00:00Z"}},
            "subsets": subsets}))
        .unwrap()
    }

    fn written(mut p: Plan) -> Vec<Arc<EndpointSlice>> {
        recycle(&mut p);
        let mut out: Vec<_> = p.update.into_iter().map(|(s, _)| Arc::new(s)).collect();
        for (i, mut s) in p.create.into_iter().enumerate() {
            s.metadata.name = Some(format!("ext-{i}"));
            out.push(Arc::new(s));
        }
        out
    }

    #[test]
    fn mirrors_subsets_per_family_with_labels_and_annotations() {
        let e = endpoints(json!([
            {"addresses": [{"ip": "10.0.0.1"}, {"ip": "fd00::1"}], "notReadyAddresses": [{"ip": "10.0.0.2"}],
             "ports": [{"name": "http", "port": 80}]},
            {"addresses": [{"ip": "not-an-ip"}], "ports": [{"name": "http", "port": 80}]}]));
        let (p, skipped, invalid) = plan(&e, &[], 1000);
        assert_eq!((skipped, invalid), (1, 1));
        assert_eq!(p.create.len(), 2);
        let v4 = p.create.iter().find(|s| s.address_type == "IPv4").unwrap();
        assert_eq!(v4.endpoints.len(), 2);
        let ready: Vec<_> = v4
            .endpoints
            .iter()
            .map(|ep| ep.conditions.clone().unwrap().ready)
            .collect();
        assert!(ready.contains(&Some(true)) && ready.contains(&Some(false)));
        let labels = v4.metadata.labels.clone().unwrap();
        assert_eq!(labels[LABEL_MANAGED_BY], CONTROLLER_NAME);
        assert_eq!(labels[LABEL_SERVICE_NAME], "ext");
        assert_eq!(labels["team"], "a");
        let annotations = v4.metadata.annotations.clone().unwrap();
        assert_eq!(annotations.get("note").map(String::as_str), Some("x"));
        assert!(!annotations.contains_key(ANNOTATION_TRIGGER_TIME));
        assert_eq!(v4.metadata.owner_references.as_ref().unwrap()[0].kind, "Endpoints");
        // Mirrored again with nothing changed: nothing to write.
        let slices = written(p);
        let (again, _, _) = plan(&e, &slices, 1000);
        assert!(
            again.create.is_empty() && again.update.is_empty() && again.delete.is_empty(),
            "{again:?}"
        );
        // A changed port recycles the slices rather than deleting and creating.
        let e2 = endpoints(json!([{"addresses": [{"ip": "10.0.0.1"}], "ports": [{"name": "http", "port": 81}]}]));
        let (mut p2, _, _) = plan(&e2, &slices, 1000);
        recycle(&mut p2);
        assert!(p2.create.is_empty());
        assert_eq!(p2.update.len(), 1);
        assert_eq!(p2.delete.len(), 1, "the IPv6 slice goes");
    }

    #[test]
    fn at_most_max_addresses_per_subset() {
        let addrs: Vec<_> = (0..5).map(|i| json!({"ip": format!("10.0.0.{}", i + 1)})).collect();
        let e = endpoints(json!([{"addresses": addrs, "ports": [{"port": 80}]}]));
        let (p, skipped, invalid) = plan(&e, &[], 3);
        assert_eq!((skipped, invalid), (2, 0));
        assert_eq!(p.create[0].endpoints.len(), 3);
    }
}
