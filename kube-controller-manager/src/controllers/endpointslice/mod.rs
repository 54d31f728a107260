//! endpointslice: the discovery.k8s.io/v1 EndpointSlices of every Service with a selector, one
//! set per address family, at most 100 endpoints a slice, labelled
//! `kubernetes.io/service-name` and managed-by `endpointslice-controller.k8s.io`, owned by the
//! Service (so they go with it). Endpoints carry ready/serving/terminating, the node and its
//! zone; the reconciler keeps rewrites to a minimum.

pub mod reconciler;
pub mod util;

use super::Ctx;
use crate::events::WARNING;
use crate::informer::{Change, Informer, split_key};
use crate::queue::{Queue, run_workers};
use k8s_openapi::api::core::v1::{Node, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::Api;
use std::sync::Arc;
use util::{
    LABEL_MANAGED_BY, LABEL_SERVICE_NAME, SliceTracker, TriggerTimeTracker, managed_by, selector_of, selects,
    service_key_of, service_memberships, service_type, services_to_update,
};

pub const CONTROLLER_NAME: &str = "endpointslice-controller.k8s.io";
/// Upstream's default `--max-endpoints-per-slice`.
const MAX_ENDPOINTS_PER_SLICE: usize = 100;

struct Controller {
    ctx: Ctx,
    services: Informer<Service>,
    pods: Informer<Pod>,
    nodes: Informer<Node>,
    slices: Informer<EndpointSlice>,
    triggers: TriggerTimeTracker,
    tracker: Arc<SliceTracker>,
}

pub async fn run(ctx: Ctx) -> anyhow::Result<()> {
    let services = ctx.informers.get::<Service>();
    let pods = ctx.informers.get::<Pod>();
    let nodes = ctx.informers.get::<Node>();
    let slices = ctx.informers.get::<EndpointSlice>();
    let queue: Arc<Queue<String>> = Queue::new();
    let tracker = Arc::new(SliceTracker::default());
    let c = Arc::new(Controller {
        ctx: ctx.clone(),
        services: services.clone(),
        pods: pods.clone(),
        nodes: nodes.clone(),
        slices: slices.clone(),
        triggers: TriggerTimeTracker::default(),
        tracker: tracker.clone(),
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
    slices.on_change(move |change| route_slice_change(change, CONTROLLER_NAME, &tracker, &q));
    services.synced().await;
    pods.synced().await;
    nodes.synced().await;
    slices.synced().await;
    let workers = ctx.opts.concurrent_service_endpoint_syncs;
    run_workers("endpoint_slice", queue, workers, move |key: String| {
        let c = c.clone();
        async move { c.sync(&key).await }
    })
    .await;
    Ok(())
}

/// Slice changes that need a sync of their service: a moved `service-name` label, a change of
/// manager, or a change to one of ours that this controller did not make itself.
pub fn route_slice_change(
    change: &Change<'_, EndpointSlice>,
    controller: &str,
    tracker: &SliceTracker,
    queue: &Queue<String>,
) {
    let ours = |s: &EndpointSlice| managed_by(s) == Some(controller);
    let enqueue = |s: &EndpointSlice| {
        if let Some(k) = service_key_of(s) {
            queue.add(k);
        }
    };
    match change {
        Change::Added(s) => {
            if ours(s) && tracker.should_sync(s) {
                enqueue(s);
            }
        }
        Change::Updated { old, new } => {
            let name = |s: &EndpointSlice| {
                s.metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get(LABEL_SERVICE_NAME).cloned())
            };
            if name(old) != name(new) {
                enqueue(old);
                enqueue(new);
            } else if ours(old) != ours(new) || (ours(new) && tracker.should_sync(new)) {
                enqueue(new);
            }
        }
        Change::Deleted(s) => {
            if ours(s) && tracker.has(s) && !tracker.handle_deletion(s) {
                enqueue(s);
            }
        }
    }
}

impl Controller {
    async fn sync(&self, key: &str) -> anyhow::Result<()> {
        let Some(svc) = self.services.get(key) else {
            // The slices are owned by the service and go with it.
            self.triggers.delete(key);
            self.tracker.delete_service(key);
            return Ok(());
        };
        let Some(selector) = selector_of(&svc) else {
            return Ok(());
        };
        if service_type(&svc) == "ExternalName" || svc.metadata.deletion_timestamp.is_some() {
            return Ok(());
        }
        let (ns, name) = split_key(key);
        let ns = ns.unwrap_or_default();
        let pods: Vec<Arc<Pod>> = self
            .pods
            .list_namespace(ns)
            .into_iter()
            .filter(|p| selects(selector, p.metadata.labels.as_ref()))
            .collect();
        let slices: Vec<Arc<EndpointSlice>> = self
            .slices
            .list_namespace(ns)
            .into_iter()
            .filter(|s| {
                let labels = s.metadata.labels.as_ref();
                labels.and_then(|l| l.get(LABEL_SERVICE_NAME)).map(String::as_str) == Some(name)
                    && labels.and_then(|l| l.get(LABEL_MANAGED_BY)).map(String::as_str) == Some(CONTROLLER_NAME)
                    && s.metadata.deletion_timestamp.is_none()
            })
            .collect();
        if self.tracker.stale(key, &slices) {
            anyhow::bail!("EndpointSlice informer cache is out of date");
        }
        let trigger = self.triggers.compute(key, &svc, &pods);
        let nodes = self.nodes.clone();
        let node = move |n: &str| nodes.get(n);
        let plan = reconciler::plan(&reconciler::Input {
            service: &svc,
            pods: &pods,
            node: &node,
            existing: &slices,
            controller: CONTROLLER_NAME,
            max_per_slice: MAX_ENDPOINTS_PER_SLICE,
        });
        let api: Api<EndpointSlice> = Api::namespaced(self.ctx.client.clone(), ns);
        let errors = reconciler::finalize(&api, &self.tracker, &svc, plan, trigger).await;
        if errors.is_empty() {
            return Ok(());
        }
        let message = format!(
            "Error updating Endpoint Slices for Service {key}: {}",
            errors.join(", ")
        );
        self.ctx
            .recorder
            .event(svc.as_ref(), WARNING, "FailedToUpdateEndpointSlices", &message);
        anyhow::bail!(message)
    }
}
