//! What an object counts against a quota (upstream's quota evaluators): pods by their
//! requests and limits while not finished, services by type and node ports, claims by storage
//! (also per storage class), everything else as an object count; and which pods a quota's
//! scopes take in.

use api_types::quantity::Quantity;
use k8s_openapi::api::core::v1::{
    Container, PersistentVolumeClaim, Pod, PodAffinityTerm, ScopedResourceSelectorRequirement, Service,
    WeightedPodAffinityTerm,
};
use std::collections::BTreeMap;
use std::sync::Arc;

pub type ResourceList = BTreeMap<String, Quantity>;

const STORAGE_CLASS_SUFFIX: &str = ".storageclass.storage.k8s.io/";

/// The evaluators, by the objects they measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Evaluator {
    Pods,
    Services,
    Claims,
    /// A plain object count: the `count/` name and the older alias.
    Count(&'static str, &'static str),
}

pub const TYPED: &[Evaluator] = &[
    Evaluator::Pods,
    Evaluator::Services,
    Evaluator::Claims,
    Evaluator::Count("count/configmaps", "configmaps"),
    Evaluator::Count("count/secrets", "secrets"),
    Evaluator::Count("count/resourcequotas", "resourcequotas"),
    Evaluator::Count("count/replicationcontrollers", "replicationcontrollers"),
];

const POD_RESOURCES: &[&str] = &[
    "count/pods",
    "cpu",
    "memory",
    "ephemeral-storage",
    "requests.cpu",
    "requests.memory",
    "requests.ephemeral-storage",
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
    "pods",
];

/// A resource name outside the kubernetes.io namespace (`example.com/gpu`).
fn is_native(name: &str) -> bool {
    !name.contains('/') || name.contains("kubernetes.io/")
}

/// The names among `names` this evaluator measures.
pub fn matching(e: Evaluator, names: &[String]) -> Vec<String> {
    names
        .iter()
        .filter(|n| match e {
            Evaluator::Pods => {
                POD_RESOURCES.contains(&n.as_str())
                    || n.starts_with("hugepages-")
                    || n.starts_with("requests.hugepages-")
                    || (!is_native(n) && n.starts_with("requests."))
            }
            Evaluator::Services => {
                matches!(
                    n.as_str(),
                    "services" | "count/services" | "services.nodeports" | "services.loadbalancers"
                )
            }
            Evaluator::Claims => {
                matches!(
                    n.as_str(),
                    "persistentvolumeclaims" | "count/persistentvolumeclaims" | "requests.storage"
                ) || n
                    .split_once(STORAGE_CLASS_SUFFIX)
                    .is_some_and(|(_, r)| r == "requests.storage" || r == "persistentvolumeclaims")
            }
            Evaluator::Count(count, alias) => n.as_str() == count || n.as_str() == alias,
        })
        .cloned()
        .collect()
}

pub fn add(into: &mut ResourceList, more: &ResourceList) {
    for (k, v) in more {
        let e = into.entry(k.clone()).or_default();
        *e = *e + *v;
    }
}

fn quantities(m: Option<&BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>>) -> ResourceList {
    m.into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.clone(), Quantity::parse(&v.0)?)))
        .collect()
}

fn max_into(into: &mut ResourceList, other: &ResourceList) {
    for (k, v) in other {
        let e = into.entry(k.clone()).or_default();
        *e = (*e).max(*v);
    }
}

/// A pod's requests or limits as the scheduler sees them: containers summed, sidecars (restartable
/// init containers) added, each other init container counted with the sidecars before it, the
/// larger of the two; plus overhead (for limits only where a limit is set).
fn pod_resources(pod: &Pod, limits: bool) -> ResourceList {
    let Some(spec) = pod.spec.as_ref() else {
        return ResourceList::new();
    };
    let of = |c: &Container| {
        let r = c.resources.as_ref();
        quantities(if limits {
            r.and_then(|r| r.limits.as_ref())
        } else {
            r.and_then(|r| r.requests.as_ref())
        })
    };
    let mut total = ResourceList::new();
    for c in &spec.containers {
        add(&mut total, &of(c));
    }
    let mut sidecars = ResourceList::new();
    let mut init = ResourceList::new();
    for c in spec.init_containers.iter().flatten() {
        let mut r = of(c);
        if c.restart_policy.as_deref() == Some("Always") {
            add(&mut total, &r);
            add(&mut sidecars, &r);
            r = sidecars.clone();
        } else {
            add(&mut r, &sidecars);
        }
        max_into(&mut init, &r);
    }
    max_into(&mut total, &init);
    let overhead = quantities(spec.overhead.as_ref());
    for (k, v) in overhead {
        if !limits || total.contains_key(&k) {
            let e = total.entry(k).or_default();
            *e = *e + v;
        }
    }
    total
}

fn is_terminal(pod: &Pod) -> bool {
    matches!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded" | "Failed")
    )
}

/// Whether a pod still counts for compute quota: not finished, and not stuck terminating past
/// its grace period (a lost node must not pin its pods' quota).
pub fn counts_for_compute(pod: &Pod, now: jiff::Timestamp) -> bool {
    if is_terminal(pod) {
        return false;
    }
    match (
        &pod.metadata.deletion_timestamp,
        pod.metadata.deletion_grace_period_seconds,
    ) {
        (Some(at), Some(grace)) => now <= at.0 + jiff::SignedDuration::from_secs(grace),
        _ => true,
    }
}

pub fn pod_usage(pod: &Pod, now: jiff::Timestamp) -> ResourceList {
    let one = Quantity::from_units(1);
    let mut out = ResourceList::from([("count/pods".to_string(), one)]);
    if !counts_for_compute(pod, now) {
        return out;
    }
    out.insert("pods".into(), one);
    let requests = pod_resources(pod, false);
    let limits = pod_resources(pod, true);
    for r in ["cpu", "memory", "ephemeral-storage"] {
        if let Some(q) = requests.get(r) {
            out.insert(r.into(), *q);
            out.insert(format!("requests.{r}"), *q);
        }
        if let Some(q) = limits.get(r) {
            out.insert(format!("limits.{r}"), *q);
        }
    }
    for (name, q) in &requests {
        if name.starts_with("hugepages-") {
            out.insert(name.clone(), *q);
            out.insert(format!("requests.{name}"), *q);
        } else if !is_native(name) && !name.starts_with("requests.") {
            out.insert(format!("requests.{name}"), *q);
        }
    }
    out
}

pub fn service_usage(svc: &Service) -> ResourceList {
    let one = Quantity::from_units(1);
    let spec = svc.spec.clone().unwrap_or_default();
    let ports = spec.ports.clone().unwrap_or_default();
    let mut out = ResourceList::from([
        ("count/services".to_string(), one),
        ("services".to_string(), one),
        ("services.loadbalancers".to_string(), Quantity::zero()),
        ("services.nodeports".to_string(), Quantity::zero()),
    ]);
    match spec.type_.as_deref() {
        Some("NodePort") => {
            out.insert("services.nodeports".into(), Quantity::from_units(ports.len() as i64));
        }
        Some("LoadBalancer") => {
            // Without node port allocation only the ports asking for one explicitly count.
            let node_ports = match spec.allocate_load_balancer_node_ports {
                Some(false) => ports.iter().filter(|p| p.node_port.is_some_and(|n| n != 0)).count(),
                _ => ports.len(),
            };
            out.insert("services.nodeports".into(), Quantity::from_units(node_ports as i64));
            out.insert("services.loadbalancers".into(), one);
        }
        _ => {}
    }
    out
}

/// The type that matters to quota: NodePort, LoadBalancer, or neither.
pub fn quota_service_type(svc: &Service) -> &str {
    let t = svc.spec.as_ref().and_then(|s| s.type_.as_deref()).unwrap_or_default();
    if matches!(t, "NodePort" | "LoadBalancer") {
        t
    } else {
        ""
    }
}

fn claim_class(pvc: &PersistentVolumeClaim) -> Option<String> {
    let beta = pvc
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get("volume.beta.kubernetes.io/storage-class").cloned());
    beta.or_else(|| pvc.spec.as_ref()?.storage_class_name.clone())
        .filter(|c| !c.is_empty())
}

/// A claim's storage: its request rounded up to whole bytes, or what was allocated if more.
pub fn claim_storage(pvc: &PersistentVolumeClaim) -> Option<Quantity> {
    let round = |q: Quantity| Quantity((q.0 + 999).div_euclid(1000) * 1000);
    let requests = pvc.spec.as_ref()?.resources.as_ref()?.requests.as_ref();
    let requested = round(Quantity::parse(&requests?.get("storage")?.0)?);
    let status = pvc.status.as_ref();
    let allocated = status
        .and_then(|s| s.allocated_resources.as_ref()?.get("storage"))
        .and_then(|q| Quantity::parse(&q.0))
        .map(round);
    Some(allocated.filter(|a| *a > requested).unwrap_or(requested))
}

pub fn claim_usage(pvc: &PersistentVolumeClaim) -> ResourceList {
    let one = Quantity::from_units(1);
    let mut out = ResourceList::from([
        ("persistentvolumeclaims".to_string(), one),
        ("count/persistentvolumeclaims".to_string(), one),
    ]);
    let class = claim_class(pvc);
    if let Some(c) = &class {
        out.insert(format!("{c}{STORAGE_CLASS_SUFFIX}persistentvolumeclaims"), one);
    }
    if let Some(storage) = claim_storage(pvc) {
        out.insert("requests.storage".into(), storage);
        if let Some(c) = &class {
            out.insert(format!("{c}{STORAGE_CLASS_SUFFIX}requests.storage"), storage);
        }
    }
    out
}

pub fn count_usage(count: &str, alias: &str) -> ResourceList {
    let one = Quantity::from_units(1);
    let mut out = ResourceList::from([(count.to_string(), one)]);
    if !alias.is_empty() {
        out.insert(alias.to_string(), one);
    }
    out
}

fn is_best_effort(pod: &Pod) -> bool {
    let Some(spec) = pod.spec.as_ref() else { return true };
    let containers = spec.containers.iter().chain(spec.init_containers.iter().flatten());
    !containers.into_iter().any(|c| {
        let r = c.resources.as_ref();
        [r.and_then(|r| r.requests.as_ref()), r.and_then(|r| r.limits.as_ref())]
            .into_iter()
            .flatten()
            .flat_map(|m| m.iter())
            .any(|(k, v)| (k == "cpu" || k == "memory") && Quantity::parse(&v.0).is_some_and(|q| q.0 != 0))
    })
}

fn cross_namespace(terms: &[PodAffinityTerm]) -> bool {
    terms
        .iter()
        .any(|t| t.namespaces.as_ref().is_some_and(|n| !n.is_empty()) || t.namespace_selector.is_some())
}

fn weighted(terms: &Option<Vec<WeightedPodAffinityTerm>>) -> Vec<PodAffinityTerm> {
    terms.iter().flatten().map(|w| w.pod_affinity_term.clone()).collect()
}

fn uses_cross_namespace_affinity(pod: &Pod) -> bool {
    let Some(a) = pod.spec.as_ref().and_then(|s| s.affinity.as_ref()) else {
        return false;
    };
    let affinity = a.pod_affinity.as_ref().is_some_and(|p| {
        cross_namespace(
            p.required_during_scheduling_ignored_during_execution
                .as_deref()
                .unwrap_or_default(),
        ) || cross_namespace(&weighted(&p.preferred_during_scheduling_ignored_during_execution))
    });
    let anti = a.pod_anti_affinity.as_ref().is_some_and(|p| {
        cross_namespace(
            p.required_during_scheduling_ignored_during_execution
                .as_deref()
                .unwrap_or_default(),
        ) || cross_namespace(&weighted(&p.preferred_during_scheduling_ignored_during_execution))
    });
    affinity || anti
}

/// Does a pod fall under one scope requirement?
pub fn pod_matches_scope(req: &ScopedResourceSelectorRequirement, pod: &Pod) -> bool {
    let spec = pod.spec.as_ref();
    match req.scope_name.as_str() {
        "Terminating" => spec.and_then(|s| s.active_deadline_seconds).is_some_and(|d| d >= 0),
        "NotTerminating" => spec.and_then(|s| s.active_deadline_seconds).is_none_or(|d| d < 0),
        "BestEffort" => is_best_effort(pod),
        "NotBestEffort" => !is_best_effort(pod),
        "PriorityClass" => {
            let class = spec.and_then(|s| s.priority_class_name.clone()).unwrap_or_default();
            let values = req.values.clone().unwrap_or_default();
            match req.operator.as_str() {
                "Exists" => !class.is_empty(),
                "In" => values.contains(&class),
                "NotIn" => !values.contains(&class),
                _ => false,
            }
        }
        "CrossNamespacePodAffinity" => uses_cross_namespace_affinity(pod),
        _ => false,
    }
}

/// The quota's scopes as requirements: each listed scope must hold, and each selector term.
pub fn scope_requirements(quota: &k8s_openapi::api::core::v1::ResourceQuota) -> Vec<ScopedResourceSelectorRequirement> {
    let spec = quota.spec.clone().unwrap_or_default();
    let listed = spec
        .scopes
        .unwrap_or_default()
        .into_iter()
        .map(|s| ScopedResourceSelectorRequirement {
            scope_name: s,
            operator: "Exists".into(),
            values: None,
        });
    let selected = spec
        .scope_selector
        .and_then(|s| s.match_expressions)
        .unwrap_or_default();
    listed.chain(selected).collect()
}

/// Sums usage over the items the scopes take in; every tracked resource starts at zero, and
/// only those are kept.
pub fn usage_stats<T>(
    items: &[Arc<T>],
    resources: &[String],
    in_scope: impl Fn(&T) -> bool,
    usage: impl Fn(&T) -> ResourceList,
) -> ResourceList {
    let mut out: ResourceList = resources.iter().map(|r| (r.clone(), Quantity::zero())).collect();
    for item in items {
        if in_scope(item) {
            add(&mut out, &usage(item));
        }
    }
    out.retain(|k, _| resources.contains(k));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(v: serde_json::Value) -> Pod {
        serde_json::from_value(v).unwrap()
    }

    fn q(s: &str) -> Quantity {
        Quantity::parse(s).unwrap()
    }

    #[test]
    fn pods_count_requests_limits_sidecars_and_overhead() {
        let p = pod(json!({"spec": {
            "containers": [
                {"name": "a", "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "200m"}}},
                {"name": "b", "resources": {"requests": {"cpu": "100m", "example.com/gpu": "1"}}}],
            "initContainers": [
                {"name": "side", "restartPolicy": "Always", "resources": {"requests": {"cpu": "50m"}}},
                {"name": "setup", "resources": {"requests": {"cpu": "1", "memory": "32Mi"}}}],
            "overhead": {"cpu": "10m"}}}));
        let now = jiff::Timestamp::now();
        let u = pod_usage(&p, now);
        // Init: max(250m total, 1 + 50m sidecar) = 1050m, plus 10m overhead.
        assert_eq!(u["requests.cpu"], q("1060m"));
        assert_eq!(u["cpu"], q("1060m"));
        assert_eq!(u["requests.memory"], q("64Mi"));
        assert_eq!(u["limits.cpu"], q("210m"));
        assert_eq!(u["requests.example.com/gpu"], q("1"));
        assert_eq!((u["pods"], u["count/pods"]), (q("1"), q("1")));
        let done = pod(json!({"status": {"phase": "Succeeded"}, "spec": {"containers": [
            {"name": "a", "resources": {"requests": {"cpu": "1"}}}]}}));
        let u = pod_usage(&done, now);
        assert_eq!(
            u.keys().collect::<Vec<_>>(),
            ["count/pods"],
            "finished pods only count as objects"
        );
        let stuck = pod(
            json!({"metadata": {"deletionTimestamp": "2026-01-01T00:00:00Z", "deletionGracePeriodSeconds": 30},
            "spec": {"containers": []}}),
        );
        assert!(!counts_for_compute(&stuck, "2026-01-01T00:01:00Z".parse().unwrap()));
        assert!(counts_for_compute(&stuck, "2026-01-01T00:00:10Z".parse().unwrap()));
    }

    #[test]
    fn services_claims_and_counts() {
        let svc: Service = serde_json::from_value(json!({"spec": {"type": "LoadBalancer",
            "ports": [{"port": 80}, {"port": 443}]}}))
        .unwrap();
        let u = service_usage(&svc);
        assert_eq!((u["services.nodeports"], u["services.loadbalancers"]), (q("2"), q("1")));
        let pvc: PersistentVolumeClaim = serde_json::from_value(json!({"spec": {"storageClassName": "fast",
            "resources": {"requests": {"storage": "1500m"}}}, "status": {"allocatedResources": {"storage": "1Gi"}}}))
        .unwrap();
        let u = claim_usage(&pvc);
        assert_eq!(u["requests.storage"], q("1Gi"));
        assert_eq!(u["fast.storageclass.storage.k8s.io/requests.storage"], q("1Gi"));
        assert_eq!(u["fast.storageclass.storage.k8s.io/persistentvolumeclaims"], q("1"));
        let names: Vec<String> = [
            "pods",
            "requests.storage",
            "count/secrets",
            "secrets",
            "count/deployments.apps",
            "fast.storageclass.storage.k8s.io/requests.storage",
            "requests.example.com/gpu",
            "requests.cpu",
        ]
        .map(String::from)
        .into();
        assert_eq!(
            matching(Evaluator::Pods, &names),
            ["pods", "requests.example.com/gpu", "requests.cpu"]
        );
        assert_eq!(matching(Evaluator::Claims, &names).len(), 2);
        assert_eq!(
            matching(Evaluator::Count("count/secrets", "secrets"), &names),
            ["count/secrets", "secrets"]
        );
    }

    #[test]
    fn scopes_select_pods() {
        let req = |scope: &str, op: &str, values: &[&str]| ScopedResourceSelectorRequirement {
            scope_name: scope.into(),
            operator: op.into(),
            values: Some(values.iter().map(|v| v.to_string()).collect()),
        };
        let best_effort = pod(
            json!({"spec": {"containers": [{"name": "a"}], "activeDeadlineSeconds": 10,
            "priorityClassName": "high"}}),
        );
        let burstable =
            pod(json!({"spec": {"containers": [{"name": "a", "resources": {"requests": {"memory": "1Mi"}}}]}}));
        assert!(pod_matches_scope(&req("BestEffort", "Exists", &[]), &best_effort));
        assert!(pod_matches_scope(&req("NotBestEffort", "Exists", &[]), &burstable));
        assert!(pod_matches_scope(&req("Terminating", "Exists", &[]), &best_effort));
        assert!(pod_matches_scope(&req("NotTerminating", "Exists", &[]), &burstable));
        assert!(pod_matches_scope(&req("PriorityClass", "In", &["high"]), &best_effort));
        assert!(!pod_matches_scope(&req("PriorityClass", "In", &["high"]), &burstable));
        assert!(pod_matches_scope(&req("PriorityClass", "NotIn", &["high"]), &burstable));
        assert!(!pod_matches_scope(&req("PriorityClass", "Exists", &[]), &burstable));
        let pods = vec![Arc::new(best_effort), Arc::new(burstable)];
        let names = vec!["pods".to_string(), "requests.memory".to_string()];
        let scoped = req("BestEffort", "Exists", &[]);
        let u = usage_stats(
            &pods,
            &names,
            |p| pod_matches_scope(&scoped, p),
            |p| pod_usage(p, jiff::Timestamp::now()),
        );
        assert_eq!((u["pods"], u["requests.memory"]), (q("1"), q("0")));
    }
}
