//! The controllers, one module each, and the table naming them as upstream does.

pub mod bootstrap_signer;
pub mod clusterrole_aggregation;
pub mod cronjob;
pub mod csr_approving;
pub mod csr_cleaner;
pub mod csr_signing;
pub mod daemonset;
pub mod deployment;
pub mod disruption;
pub mod endpoints;
pub mod endpointslice;
pub mod endpointslice_mirroring;
pub mod garbagecollector;
pub mod hpa;
pub mod job;
pub mod namespace;
pub mod nodeipam;
pub mod nodelifecycle;
pub mod podgc;
pub mod replicaset;
pub mod resourcequota;
pub mod root_ca;
pub mod serviceaccount;
pub mod serviceaccount_token;
pub mod statefulset;
pub mod taint_eviction;
pub mod taints;
pub mod token_cleaner;
pub mod ttl_after_finished;

use crate::events::Recorder;
use crate::informer::Informers;
use crate::options::Options;
use futures::future::BoxFuture;
use kube::api::{Api, PostParams};
use std::sync::Arc;

/// What a running controller is given.
#[derive(Clone)]
pub struct Ctx {
    /// The controller's own client: its `system:controller:*` service account with
    /// `--use-service-account-credentials`, else the manager's.
    pub client: kube::Client,
    /// The caches shared by every controller (one watch per resource).
    pub informers: Informers,
    pub recorder: Recorder,
    pub opts: Arc<Options>,
}

type Start = fn(Ctx) -> BoxFuture<'static, anyhow::Result<()>>;

/// One controller: its canonical name, the older names `--controllers` also accepts, whether
/// `*` includes it, the kube-system ServiceAccount its RBAC role is bound to (empty: it always
/// uses the manager's own credentials), and its loop.
pub struct Descriptor {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub on_by_default: bool,
    pub service_account: &'static str,
    /// The `source.component` of its events.
    pub component: &'static str,
    pub start: Start,
}

/// Every controller this binary runs.
pub const ALL: &[Descriptor] = &[
    Descriptor {
        name: "bootstrap-signer-controller",
        aliases: &["bootstrapsigner"],
        on_by_default: false,
        service_account: "bootstrap-signer",
        component: "bootstrap-signer",
        start: |ctx| Box::pin(bootstrap_signer::run(ctx)),
    },
    Descriptor {
        name: "certificatesigningrequest-approving-controller",
        aliases: &["csrapproving"],
        on_by_default: true,
        service_account: "certificate-controller",
        component: "certificate-controller",
        start: |ctx| Box::pin(csr_approving::run(ctx)),
    },
    Descriptor {
        name: "certificatesigningrequest-cleaner-controller",
        aliases: &["csrcleaner"],
        on_by_default: true,
        service_account: "certificate-controller",
        component: "certificate-controller",
        start: |ctx| Box::pin(csr_cleaner::run(ctx)),
    },
    Descriptor {
        name: "certificatesigningrequest-signing-controller",
        aliases: &["csrsigning"],
        on_by_default: true,
        service_account: "certificate-controller",
        component: "certificate-controller",
        start: |ctx| Box::pin(csr_signing::run(ctx)),
    },
    Descriptor {
        name: "clusterrole-aggregation-controller",
        aliases: &["clusterrole-aggregation"],
        on_by_default: true,
        service_account: "clusterrole-aggregation-controller",
        component: "clusterrole-aggregation-controller",
        start: |ctx| Box::pin(clusterrole_aggregation::run(ctx)),
    },
    Descriptor {
        name: "cronjob-controller",
        aliases: &["cronjob"],
        on_by_default: true,
        service_account: "cronjob-controller",
        component: "cronjob-controller",
        start: |ctx| Box::pin(cronjob::run(ctx)),
    },
    Descriptor {
        name: "daemonset-controller",
        aliases: &["daemonset"],
        on_by_default: true,
        service_account: "daemon-set-controller",
        component: "daemonset-controller",
        start: |ctx| Box::pin(daemonset::run(ctx)),
    },
    Descriptor {
        name: "deployment-controller",
        aliases: &["deployment"],
        on_by_default: true,
        service_account: "deployment-controller",
        component: "deployment-controller",
        start: |ctx| Box::pin(deployment::run(ctx)),
    },
    Descriptor {
        name: "disruption-controller",
        aliases: &["disruption"],
        on_by_default: true,
        service_account: "disruption-controller",
        component: "controllermanager",
        start: |ctx| Box::pin(disruption::run(ctx)),
    },
    Descriptor {
        name: "endpoints-controller",
        aliases: &["endpoint"],
        on_by_default: true,
        service_account: "endpoint-controller",
        component: "endpoint-controller",
        start: |ctx| Box::pin(endpoints::run(ctx)),
    },
    Descriptor {
        name: "endpointslice-controller",
        aliases: &["endpointslice"],
        on_by_default: true,
        service_account: "endpointslice-controller",
        component: "endpoint-slice-controller",
        start: |ctx| Box::pin(endpointslice::run(ctx)),
    },
    Descriptor {
        name: "endpointslice-mirroring-controller",
        aliases: &["endpointslicemirroring"],
        on_by_default: true,
        service_account: "endpointslicemirroring-controller",
        component: "endpoint-slice-mirroring-controller",
        start: |ctx| Box::pin(endpointslice_mirroring::run(ctx)),
    },
    Descriptor {
        name: "garbage-collector-controller",
        aliases: &["garbagecollector"],
        on_by_default: true,
        service_account: "generic-garbage-collector",
        component: "garbage-collector-controller",
        start: |ctx| Box::pin(garbagecollector::run(ctx)),
    },
    Descriptor {
        name: "horizontal-pod-autoscaler-controller",
        aliases: &["horizontalpodautoscaling"],
        on_by_default: true,
        service_account: "horizontal-pod-autoscaler",
        component: "horizontal-pod-autoscaler",
        start: |ctx| Box::pin(hpa::run(ctx)),
    },
    Descriptor {
        name: "job-controller",
        aliases: &["job"],
        on_by_default: true,
        service_account: "job-controller",
        component: "job-controller",
        start: |ctx| Box::pin(job::run(ctx)),
    },
    Descriptor {
        name: "namespace-controller",
        aliases: &["namespace"],
        on_by_default: true,
        service_account: "namespace-controller",
        component: "namespace-controller",
        start: |ctx| Box::pin(namespace::run(ctx)),
    },
    Descriptor {
        name: "node-ipam-controller",
        aliases: &["nodeipam"],
        on_by_default: true,
        service_account: "node-controller",
        component: "node-ipam-controller",
        start: |ctx| Box::pin(nodeipam::run(ctx)),
    },
    Descriptor {
        name: "node-lifecycle-controller",
        aliases: &["nodelifecycle"],
        on_by_default: true,
        service_account: "node-controller",
        component: "node-controller",
        start: |ctx| Box::pin(nodelifecycle::run(ctx)),
    },
    Descriptor {
        name: "pod-garbage-collector-controller",
        aliases: &["podgc"],
        on_by_default: true,
        service_account: "pod-garbage-collector",
        component: "pod-garbage-collector",
        start: |ctx| Box::pin(podgc::run(ctx)),
    },
    Descriptor {
        name: "replicaset-controller",
        aliases: &["replicaset"],
        on_by_default: true,
        service_account: "replicaset-controller",
        component: "replicaset-controller",
        start: |ctx| Box::pin(replicaset::run(ctx)),
    },
    Descriptor {
        name: "replicationcontroller-controller",
        aliases: &["replicationcontroller"],
        on_by_default: true,
        service_account: "replication-controller",
        component: "replication-controller",
        start: |ctx| Box::pin(replicaset::run_replication_controllers(ctx)),
    },
    Descriptor {
        name: "resourcequota-controller",
        aliases: &["resourcequota"],
        on_by_default: true,
        service_account: "resourcequota-controller",
        component: "resourcequota-controller",
        start: |ctx| Box::pin(resourcequota::run(ctx)),
    },
    Descriptor {
        name: "root-ca-certificate-publisher-controller",
        aliases: &["root-ca-cert-publisher"],
        on_by_default: true,
        service_account: "root-ca-cert-publisher",
        component: "root-ca-cert-publisher",
        start: |ctx| Box::pin(root_ca::run(ctx)),
    },
    Descriptor {
        name: "serviceaccount-controller",
        aliases: &["serviceaccount"],
        on_by_default: true,
        service_account: "service-account-controller",
        component: "service-account-controller",
        start: |ctx| Box::pin(serviceaccount::run(ctx)),
    },
    Descriptor {
        name: "serviceaccount-token-controller",
        aliases: &["serviceaccount-token"],
        on_by_default: true,
        service_account: "",
        component: "serviceaccount-token-controller",
        start: |ctx| Box::pin(serviceaccount_token::run(ctx)),
    },
    Descriptor {
        name: "statefulset-controller",
        aliases: &["statefulset"],
        on_by_default: true,
        service_account: "statefulset-controller",
        component: "statefulset-controller",
        start: |ctx| Box::pin(statefulset::run(ctx)),
    },
    Descriptor {
        name: "taint-eviction-controller",
        aliases: &[],
        on_by_default: true,
        service_account: "node-controller",
        component: "taint-eviction-controller",
        start: |ctx| Box::pin(taint_eviction::run(ctx)),
    },
    Descriptor {
        name: "token-cleaner-controller",
        aliases: &["tokencleaner"],
        on_by_default: false,
        service_account: "token-cleaner",
        component: "token-cleaner",
        start: |ctx| Box::pin(token_cleaner::run(ctx)),
    },
    Descriptor {
        name: "ttl-after-finished-controller",
        aliases: &["ttl-after-finished"],
        on_by_default: true,
        service_account: "ttl-after-finished-controller",
        component: "ttl-after-finished-controller",
        start: |ctx| Box::pin(ttl_after_finished::run(ctx)),
    },
];

/// Writes `obj` with `status` through the status subresource (PUT, as upstream's controllers
/// do: their RBAC roles grant `update` on status, not `patch`). A conflict means the cached
/// copy was stale: it is re-read and written once more.
/// Returns the object as written, `None` if it is gone.
pub async fn update_status<K>(api: &Api<K>, obj: &K, set: impl Fn(&mut K)) -> Result<Option<K>, kube::Error>
where
    K: kube::Resource + Clone + serde::Serialize + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let name = obj.meta().name.clone().unwrap_or_default();
    let mut next = obj.clone();
    set(&mut next);
    let written = match api.replace_status(&name, &PostParams::default(), &next).await {
        Err(kube::Error::Api(s)) if s.code == 409 => {
            let Some(mut fresh) = api.get_opt(&name).await? else {
                return Ok(None);
            };
            set(&mut fresh);
            api.replace_status(&name, &PostParams::default(), &fresh).await
        }
        other => other,
    };
    match written {
        Ok(o) => Ok(Some(o)),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(None),
        Err(e) => Err(e),
    }
}

/// A create that lost a race to an identical one (409) already has what it wanted.
pub fn ignore_conflict<T>(r: Result<T, kube::Error>) -> Result<(), kube::Error> {
    match r {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 409 => Ok(()),
        Err(e) => Err(e),
    }
}

/// A delete or update of something already gone (404) is done.
pub fn ignore_not_found<T>(r: Result<T, kube::Error>) -> Result<(), kube::Error> {
    match r {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
        Err(e) => Err(e),
    }
}
