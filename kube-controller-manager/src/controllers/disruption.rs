//! disruption: the status of every PodDisruptionBudget, which the API server's eviction
//! consults: currentHealthy (ready pods not being deleted nor recently evicted),
//! desiredHealthy (minAvailable, or expected minus maxUnavailable; percentages against the
//! scale of the pods' controllers), expectedPods, disruptionsAllowed, observedGeneration and
//! the DisruptionAllowed condition. Evictions recorded in `disruptedPods` are dropped once the
//! pod goes or after two minutes. A failed sync sets disruptionsAllowed to 0 (fail safe), and
//! a pod's DisruptionTarget condition left behind by an eviction that never happened is reset.

use super::Ctx;
use crate::events::{NORMAL, WARNING};
use crate::informer::{Change, Informer, key_of, split_key};
use crate::pods;
use crate::queue::{Queue, run_workers};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{Pod, PodCondition, ReplicationController};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, OwnerReference, Time};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::api::{Api, DynamicObject, GroupVersionKind, PostParams};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

/// How long an eviction recorded in disruptedPods keeps the pod out of currentHealthy.
const DELETION_TIMEOUT: jiff::SignedDuration = jiff::SignedDuration::from_secs(120);
/// How long a DisruptionTarget condition may stand on a pod that was not deleted.
const STALE_POD_DISRUPTION_TIMEOUT: jiff::SignedDuration = jiff::SignedDuration::from_secs(120);
const CONDITION: &str = "DisruptionAllowed";

struct Controller {
    ctx: Ctx,
    pdbs: Informer<PodDisruptionBudget>,
    pods: Informer<Pod>,
    rcs: Informer<ReplicationController>,
    rss: Informer<ReplicaSet>,
    deployments: Informer<Deployment>,
    statefulsets: Informer<StatefulSet>,
    queue: Arc<Queue<String>>,
    stale_pods: Arc<Queue<String>>,
}

pub async fn run(ctx: Ctx) -> anyhow::Result<()> {
    let c = Arc::new(Controller {
        ctx: ctx.clone(),
        pdbs: ctx.informers.get(),
        pods: ctx.informers.get(),
        rcs: ctx.informers.get(),
        rss: ctx.informers.get(),
        deployments: ctx.informers.get(),
        statefulsets: ctx.informers.get(),
        queue: Queue::new(),
        stale_pods: Queue::new(),
    });
    c.pdbs.queue_keys(c.queue.clone());
    let handler = c.clone();
    c.pods.on_change(move |change| {
        let pod = match change {
            Change::Added(p) | Change::Deleted(p) => p,
            Change::Updated { old, new } => {
                handler.enqueue_budgets_of(old, false);
                new
            }
        };
        handler.enqueue_budgets_of(pod, true);
        if !matches!(change, Change::Deleted(_))
            && let Some(wait) = stale_disruption_wait(pod, jiff::Timestamp::now())
        {
            handler.stale_pods.add_after(key_of(pod.as_ref()), wait);
        }
    });
    c.pdbs.synced().await;
    c.pods.synced().await;
    c.rcs.synced().await;
    c.rss.synced().await;
    c.deployments.synced().await;
    c.statefulsets.synced().await;
    let stale = c.clone();
    tokio::spawn(run_workers("disruption_recheck", c.stale_pods.clone(), 1, move |key| {
        let c = stale.clone();
        async move { c.sync_stale_pod(&key).await }
    }));
    run_workers("disruption", c.queue.clone(), 1, move |key: String| {
        let c = c.clone();
        async move { c.sync(&key).await }
    })
    .await;
    Ok(())
}

/// The selector of a budget; an empty one selects every pod of the namespace. None if the
/// budget has no selector (it selects nothing); an error if the selector is invalid.
fn budget_selector(pdb: &PodDisruptionBudget) -> anyhow::Result<Option<api_types::labels::Selector>> {
    let Some(sel) = pdb.spec.as_ref().and_then(|s| s.selector.as_ref()) else {
        return Ok(None);
    };
    let json = serde_json::to_value(sel)?;
    let parsed = api_types::labels::Selector::from_label_selector_json(&json);
    Ok(Some(parsed.map_err(|e| anyhow::anyhow!("{e}"))?))
}

/// How long until a DisruptionTarget=True condition on a live pod counts as stale.
fn stale_disruption_wait(pod: &Pod, now: jiff::Timestamp) -> Option<Duration> {
    if pod.metadata.deletion_timestamp.is_some() {
        return None;
    }
    let conditions = pod.status.as_ref()?.conditions.as_ref()?;
    let c = conditions
        .iter()
        .find(|c| c.type_ == "DisruptionTarget" && c.status == "True")?;
    let since = c.last_transition_time.as_ref().map_or(now, |t| t.0);
    let left = STALE_POD_DISRUPTION_TIMEOUT - now.duration_since(since);
    Some(Duration::try_from(left).unwrap_or(Duration::ZERO))
}

/// `intstr.GetScaledValueFromIntOrPercent` rounding up: a number as is, `N%` of `total`.
pub fn scaled_value(v: &IntOrString, total: i32) -> anyhow::Result<i32> {
    match v {
        IntOrString::Int(n) => Ok(*n),
        IntOrString::String(s) => {
            let Some(p) = s.strip_suffix('%') else {
                anyhow::bail!("invalid value for IntOrString: invalid type: string is not a percentage");
            };
            let p: i64 = p
                .parse()
                .map_err(|e| anyhow::anyhow!("invalid value for IntOrString: invalid value {s:?}: {e}"))?;
            Ok((p * i64::from(total) + 99).div_euclid(100) as i32)
        }
    }
}

/// The budget's (expectedPods, desiredHealthy), given the pods it selects and the summed scale
/// of their controllers (asked for only when a percentage or maxUnavailable needs it).
pub fn expected_and_desired(
    pdb: &PodDisruptionBudget,
    pod_count: usize,
    scale: impl FnOnce() -> anyhow::Result<i32>,
) -> anyhow::Result<(i32, i32)> {
    let spec = pdb.spec.clone().unwrap_or_default();
    if let Some(max_unavailable) = &spec.max_unavailable {
        let expected = scale()?;
        let desired = (expected - scaled_value(max_unavailable, expected)?).max(0);
        return Ok((expected, desired));
    }
    match &spec.min_available {
        Some(IntOrString::Int(n)) => Ok((pod_count as i32, *n)),
        Some(v @ IntOrString::String(_)) => {
            let expected = scale()?;
            Ok((expected, scaled_value(v, expected)?))
        }
        None => Ok((0, 0)),
    }
}

/// The disruptedPods entries still in force (pod present, not being deleted, evicted less than
/// two minutes ago), the pods whose eviction never happened, and when to look again.
pub fn live_disruptions(
    recorded: &BTreeMap<String, Time>,
    pods: &[Arc<Pod>],
    now: jiff::Timestamp,
) -> (BTreeMap<String, Time>, Vec<Arc<Pod>>, Option<jiff::Timestamp>) {
    let mut live = BTreeMap::new();
    let mut overdue = Vec::new();
    let mut recheck: Option<jiff::Timestamp> = None;
    for pod in pods {
        if pod.metadata.deletion_timestamp.is_some() {
            continue;
        }
        let name = pod.metadata.name.clone().unwrap_or_default();
        let Some(at) = recorded.get(&name) else { continue };
        let expected = at.0 + DELETION_TIMEOUT;
        if expected < now {
            overdue.push(pod.clone());
        } else {
            recheck = Some(recheck.map_or(expected, |r| r.min(expected)));
            live.insert(name, at.clone());
        }
    }
    (live, overdue, recheck)
}

/// Ready pods that are neither being deleted nor (recently) evicted.
pub fn current_healthy(pods: &[Arc<Pod>], disrupted: &BTreeMap<String, Time>, now: jiff::Timestamp) -> i32 {
    let evicted = |p: &Pod| {
        let name = p.metadata.name.as_deref().unwrap_or_default();
        disrupted.get(name).is_some_and(|t| t.0 + DELETION_TIMEOUT > now)
    };
    pods.iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none() && !evicted(p) && pods::is_ready(p))
        .count() as i32
}

/// Sets a condition as apimachinery's SetStatusCondition does: the transition time moves only
/// when the status changes.
fn set_condition(conditions: &mut Vec<Condition>, mut new: Condition) {
    match conditions.iter_mut().find(|c| c.type_ == new.type_) {
        Some(c) => {
            if c.status != new.status {
                c.status = new.status;
                c.last_transition_time = new.last_transition_time;
            }
            c.reason = new.reason;
            c.message = new.message;
            c.observed_generation = new.observed_generation;
        }
        None => {
            new.last_transition_time = Time(jiff::Timestamp::now());
            conditions.push(new);
        }
    }
}

fn allowed_condition(allowed: i32, observed: Option<i64>) -> Condition {
    let (status, reason) = match allowed > 0 {
        true => ("True", "SufficientPods"),
        false => ("False", "InsufficientPods"),
    };
    Condition {
        type_: CONDITION.into(),
        status: status.into(),
        reason: reason.into(),
        message: String::new(),
        observed_generation: observed,
        last_transition_time: Time(jiff::Timestamp::now()),
    }
}

/// The status for the computed counts; None if the current one already says all that.
pub fn next_status(
    pdb: &PodDisruptionBudget,
    healthy: i32,
    desired: i32,
    expected: i32,
    disrupted: BTreeMap<String, Time>,
) -> Option<PodDisruptionBudgetStatus> {
    let allowed = if expected <= 0 { 0 } else { (healthy - desired).max(0) };
    let cur = pdb.status.clone().unwrap_or_default();
    let generation = pdb.metadata.generation;
    let cond_ok = cur
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == CONDITION)
        .is_some_and(|c| {
            let want = allowed_condition(allowed, None);
            c.status == want.status && c.reason == want.reason
        });
    if cur.current_healthy == healthy
        && cur.desired_healthy == desired
        && cur.expected_pods == expected
        && cur.disruptions_allowed == allowed
        && cur.disrupted_pods.clone().unwrap_or_default() == disrupted
        && cur.observed_generation == generation
        && cond_ok
    {
        return None;
    }
    let mut conditions = cur.conditions.unwrap_or_default();
    set_condition(&mut conditions, allowed_condition(allowed, generation));
    Some(PodDisruptionBudgetStatus {
        current_healthy: healthy,
        desired_healthy: desired,
        expected_pods: expected,
        disruptions_allowed: allowed,
        disrupted_pods: (!disrupted.is_empty()).then_some(disrupted),
        observed_generation: generation,
        conditions: Some(conditions),
    })
}

fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

/// Is the reference of this kind in one of these groups?
fn refers_to(r: &OwnerReference, kind: &str, groups: &[&str]) -> bool {
    r.kind == kind && groups.contains(&group_of(&r.api_version))
}

impl Controller {
    /// Queues the budgets selecting a pod (warning, as upstream, when there are several).
    fn enqueue_budgets_of(&self, pod: &Pod, warn: bool) {
        let ns = pod.metadata.namespace.as_deref().unwrap_or_default();
        let matching: Vec<String> = self
            .pdbs
            .list_namespace(ns)
            .iter()
            .filter(|b| {
                budget_selector(b)
                    .ok()
                    .flatten()
                    .is_some_and(|s| pods::matches(&s, pod.metadata.labels.as_ref()))
            })
            .map(|b| key_of(b.as_ref()))
            .collect();
        if warn && matching.len() > 1 {
            let msg = format!(
                "Pod {:?}/{:?} matches multiple PodDisruptionBudgets.  Chose {:?} arbitrarily.",
                ns,
                pod.metadata.name.as_deref().unwrap_or_default(),
                split_key(&matching[0]).1
            );
            self.ctx
                .recorder
                .event(pod, WARNING, "MultiplePodDisruptionBudgets", &msg);
        }
        matching.into_iter().for_each(|k| self.queue.add(k));
    }

    async fn sync(&self, key: &str) -> anyhow::Result<()> {
        let Some(pdb) = self.pdbs.get(key) else { return Ok(()) };
        match self.try_sync(&pdb).await {
            Ok(()) => Ok(()),
            Err(e) if is_conflict(&e) => Err(e),
            // As upstream: once disruptions are safely refused, the next change retries.
            Err(e) => {
                tracing::info!(pdb = key, error = %format!("{e:#}"), "failed to sync PodDisruptionBudget");
                self.fail_safe(&pdb, &e).await
            }
        }
    }

    async fn try_sync(&self, pdb: &Arc<PodDisruptionBudget>) -> anyhow::Result<()> {
        let ns = pdb.metadata.namespace.as_deref().unwrap_or_default();
        let selector = match budget_selector(pdb) {
            Ok(s) => s,
            Err(e) => {
                let msg = format!("Failed to get pods: {e}");
                self.ctx.recorder.event(pdb.as_ref(), WARNING, "NoPods", &msg);
                return Err(e);
            }
        };
        let pods: Vec<Arc<Pod>> = match &selector {
            None => Vec::new(),
            Some(sel) => self
                .pods
                .list_namespace(ns)
                .into_iter()
                .filter(|p| pods::matches(sel, p.metadata.labels.as_ref()))
                .collect(),
        };
        if pods.is_empty() {
            self.ctx
                .recorder
                .event(pdb.as_ref(), NORMAL, "NoPods", "No matching pods found");
        }
        let needs_scale = {
            let spec = pdb.spec.clone().unwrap_or_default();
            spec.max_unavailable.is_some() || matches!(spec.min_available, Some(IntOrString::String(_)))
        };
        let (scaled, unmanaged) = match needs_scale {
            false => (None, false),
            true => match self.expected_scale(ns, &pods).await {
                Ok((n, unmanaged)) => (Some(Ok(n)), unmanaged),
                Err(e) => (Some(Err(e)), false),
            },
        };
        let counts = expected_and_desired(pdb, pods.len(), || match scaled {
            Some(Ok(n)) => Ok(n),
            Some(Err(e)) => Err(e),
            None => Ok(0),
        });
        let (expected, desired) = match counts {
            Ok(c) => c,
            Err(e) => {
                let msg = format!("Failed to calculate the number of expected pods: {e}");
                self.ctx
                    .recorder
                    .event(pdb.as_ref(), WARNING, "CalculateExpectedPodCountFailed", &msg);
                return Err(e);
            }
        };
        if unmanaged {
            let msg = format!(
                "Pods selected by this PodDisruptionBudget (selector: {}) were found to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. To account for these pods please set \".spec.minAvailable\" field of the PDB to an integer value.",
                serde_json::to_string(&pdb.spec.as_ref().and_then(|s| s.selector.clone())).unwrap_or_default()
            );
            self.ctx.recorder.event(pdb.as_ref(), WARNING, "UnmanagedPods", &msg);
        }
        let now = jiff::Timestamp::now();
        let recorded = pdb
            .status
            .as_ref()
            .and_then(|s| s.disrupted_pods.clone())
            .unwrap_or_default();
        let (disrupted, overdue, recheck) = live_disruptions(&recorded, &pods, now);
        for pod in overdue {
            let msg = format!("Pod was expected by PDB {ns}/{ns} to be deleted but it wasn't");
            self.ctx.recorder.event(pod.as_ref(), WARNING, "NotDeleted", &msg);
        }
        let healthy = current_healthy(&pods, &disrupted, now);
        if let Some(status) = next_status(pdb, healthy, desired, expected, disrupted) {
            self.write_status(pdb, status).await?;
        }
        if let Some(at) = recheck {
            let wait = Duration::try_from(at.duration_since(now)).unwrap_or(Duration::ZERO);
            self.queue
                .add_after(key_of(pdb.as_ref()), wait + Duration::from_millis(10));
        }
        Ok(())
    }

    /// PUT of the status computed from the cached budget: a conflict means an eviction (or
    /// anyone) wrote since, so the whole sync is redone rather than overwriting it.
    async fn write_status(&self, pdb: &PodDisruptionBudget, status: PodDisruptionBudgetStatus) -> anyhow::Result<()> {
        let ns = pdb.metadata.namespace.as_deref().unwrap_or_default();
        let api: Api<PodDisruptionBudget> = Api::namespaced(self.ctx.client.clone(), ns);
        let mut next = pdb.clone();
        next.status = Some(status);
        let name = pdb.metadata.name.clone().unwrap_or_default();
        super::ignore_not_found(api.replace_status(&name, &PostParams::default(), &next).await)?;
        Ok(())
    }

    async fn fail_safe(&self, pdb: &PodDisruptionBudget, err: &anyhow::Error) -> anyhow::Result<()> {
        let mut status = pdb.status.clone().unwrap_or_default();
        status.disruptions_allowed = 0;
        let mut conditions = status.conditions.take().unwrap_or_default();
        let observed = status.observed_generation;
        set_condition(
            &mut conditions,
            Condition {
                type_: CONDITION.into(),
                status: "False".into(),
                reason: "SyncFailed".into(),
                message: format!("{err:#}"),
                observed_generation: observed,
                last_transition_time: Time(jiff::Timestamp::now()),
            },
        );
        status.conditions = Some(conditions);
        if pdb.status.as_ref() == Some(&status) {
            return Ok(());
        }
        self.write_status(pdb, status).await
    }

    /// The summed scale of the controllers of the pods, and whether some pods have none.
    async fn expected_scale(&self, ns: &str, pods: &[Arc<Pod>]) -> anyhow::Result<(i32, bool)> {
        let mut scales: HashMap<String, i32> = HashMap::new();
        let mut unmanaged = false;
        for pod in pods {
            let Some(r) = pods::controller_of(&pod.metadata) else {
                unmanaged = true;
                continue;
            };
            if scales.contains_key(&r.uid) {
                continue;
            }
            let found = match self.cached_scale(ns, r) {
                Some(found) => Some(found),
                None => self.scale_subresource(ns, r).await?,
            };
            let Some((uid, scale)) = found else {
                anyhow::bail!(
                    "found no controllers for pod {:?}",
                    pod.metadata.name.as_deref().unwrap_or_default()
                );
            };
            scales.insert(uid, scale);
        }
        Ok((scales.values().sum(), unmanaged))
    }

    /// The workload controllers known from the caches, in upstream's order: a
    /// ReplicationController, a ReplicaSet's Deployment, a ReplicaSet on its own, a StatefulSet.
    fn cached_scale(&self, ns: &str, r: &OwnerReference) -> Option<(String, i32)> {
        let key = format!("{ns}/{}", r.name);
        let same = |uid: &Option<String>| uid.as_deref() == Some(r.uid.as_str());
        if refers_to(r, "ReplicationController", &[""]) {
            let rc = self.rcs.get(&key).filter(|rc| same(&rc.metadata.uid))?;
            return Some((r.uid.clone(), rc.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)));
        }
        if refers_to(r, "ReplicaSet", &["apps", "extensions"]) {
            let rs = self.rss.get(&key).filter(|rs| same(&rs.metadata.uid))?;
            return match pods::controller_of(&rs.metadata) {
                Some(d) if refers_to(d, "Deployment", &["apps", "extensions"]) => {
                    let dep = self.deployments.get(&format!("{ns}/{}", d.name))?;
                    (dep.metadata.uid.as_deref() == Some(d.uid.as_str()))
                        .then(|| (d.uid.clone(), dep.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)))
                }
                Some(d) if d.kind == "Deployment" => None,
                _ => Some((r.uid.clone(), rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1))),
            };
        }
        if refers_to(r, "StatefulSet", &["apps"]) {
            let ss = self.statefulsets.get(&key).filter(|ss| same(&ss.metadata.uid))?;
            return Some((r.uid.clone(), ss.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)));
        }
        None
    }

    /// Any other controller through its scale subresource, found by discovery.
    async fn scale_subresource(&self, ns: &str, r: &OwnerReference) -> anyhow::Result<Option<(String, i32)>> {
        let (group, version) = r.api_version.rsplit_once('/').unwrap_or(("", r.api_version.as_str()));
        let gvk = GroupVersionKind::gvk(group, version, &r.kind);
        let (resource, caps) = kube::discovery::pinned_kind(&self.ctx.client, &gvk).await?;
        let api: Api<DynamicObject> = Api::namespaced_with(self.ctx.client.clone(), ns, &resource);
        match api.get_scale(&r.name).await {
            Ok(scale) => Ok((scale.metadata.uid.as_deref() == Some(r.uid.as_str()))
                .then(|| (r.uid.clone(), scale.spec.and_then(|s| s.replicas).unwrap_or(0)))),
            Err(kube::Error::Api(s)) if s.code == 404 => {
                if caps.subresources.iter().any(|(sub, _)| sub.plural == "scale") {
                    return Ok(None);
                }
                let gr = match group {
                    "" => resource.plural.clone(),
                    g => format!("{}.{g}", resource.plural),
                };
                anyhow::bail!("{gr} does not implement the scale subresource")
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Resets a DisruptionTarget condition that stood two minutes on a pod never deleted.
    async fn sync_stale_pod(&self, key: &str) -> anyhow::Result<()> {
        let Some(pod) = self.pods.get(key) else { return Ok(()) };
        match stale_disruption_wait(&pod, jiff::Timestamp::now()) {
            None => return Ok(()),
            Some(wait) if !wait.is_zero() => {
                self.stale_pods.add_after(key.to_string(), wait);
                return Ok(());
            }
            Some(_) => {}
        }
        let ns = split_key(key).0.unwrap_or_default();
        let api: Api<Pod> = Api::namespaced(self.ctx.client.clone(), ns);
        super::update_status(&api, &pod, |p| {
            let conditions = p
                .status
                .get_or_insert_with(Default::default)
                .conditions
                .get_or_insert_with(Vec::new);
            if let Some(c) = conditions.iter_mut().find(|c| c.type_ == "DisruptionTarget") {
                if c.status != "False" {
                    c.status = "False".into();
                    c.last_transition_time = Some(Time(jiff::Timestamp::now()));
                }
            } else {
                conditions.push(PodCondition {
                    type_: "DisruptionTarget".into(),
                    status: "False".into(),
                    last_transition_time: Some(Time(jiff::Timestamp::now())),
                    ..Default::default()
                });
            }
        })
        .await?;
        Ok(())
    }
}

fn is_conflict(e: &anyhow::Error) -> bool {
    matches!(e.downcast_ref::<kube::Error>(), Some(kube::Error::Api(s)) if s.code == 409)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pdb(spec: serde_json::Value, status: serde_json::Value) -> PodDisruptionBudget {
        serde_json::from_value(json!({"metadata": {"name": "b", "namespace": "ns", "generation": 2},
            "spec": spec, "status": status}))
        .unwrap()
    }

    fn pod(name: &str, ready: bool, deleting: bool) -> Arc<Pod> {
        let mut v = json!({"metadata": {"name": name},
            "status": {"conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}}]}});
        if deleting {
            v["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
        }
        Arc::new(serde_json::from_value(v).unwrap())
    }

    #[test]
    fn percentages_round_up_against_the_scale() {
        let s = |v: &str| IntOrString::String(v.into());
        assert_eq!(scaled_value(&s("50%"), 5).unwrap(), 3);
        assert_eq!(scaled_value(&s("0%"), 5).unwrap(), 0);
        assert_eq!(scaled_value(&s("100%"), 3).unwrap(), 3);
        assert_eq!(scaled_value(&IntOrString::Int(2), 10).unwrap(), 2);
        assert!(scaled_value(&s("50"), 5).is_err());
        assert!(scaled_value(&s("x%"), 5).is_err());
    }

    #[test]
    fn expected_and_desired_follow_the_spec() {
        let b = pdb(json!({"minAvailable": 2}), json!({}));
        assert_eq!(
            expected_and_desired(&b, 4, || panic!("no scale needed")).unwrap(),
            (4, 2)
        );
        let b = pdb(json!({"minAvailable": "50%"}), json!({}));
        assert_eq!(expected_and_desired(&b, 4, || Ok(5)).unwrap(), (5, 3));
        let b = pdb(json!({"maxUnavailable": 1}), json!({}));
        assert_eq!(expected_and_desired(&b, 4, || Ok(5)).unwrap(), (5, 4));
        let b = pdb(json!({"maxUnavailable": "30%"}), json!({}));
        assert_eq!(expected_and_desired(&b, 4, || Ok(10)).unwrap(), (10, 7));
        let b = pdb(json!({"maxUnavailable": 9}), json!({}));
        assert_eq!(expected_and_desired(&b, 4, || Ok(3)).unwrap(), (3, 0));
    }

    #[test]
    fn healthy_excludes_deleting_unready_and_recently_evicted() {
        let now: jiff::Timestamp = "2026-01-01T00:10:00Z".parse().unwrap();
        let pods = vec![
            pod("a", true, false),
            pod("b", true, false),
            pod("c", false, false),
            pod("d", true, true),
            pod("e", true, false),
        ];
        let t = |s: &str| Time(s.parse().unwrap());
        let recorded = BTreeMap::from([
            ("b".to_string(), t("2026-01-01T00:09:30Z")),
            ("e".to_string(), t("2026-01-01T00:05:00Z")),
            ("gone".to_string(), t("2026-01-01T00:09:00Z")),
        ]);
        let (live, overdue, recheck) = live_disruptions(&recorded, &pods, now);
        assert_eq!(
            live.keys().collect::<Vec<_>>(),
            ["b"],
            "stale and vanished entries are dropped"
        );
        assert_eq!(overdue[0].metadata.name.as_deref(), Some("e"));
        assert_eq!(recheck.unwrap().to_string(), "2026-01-01T00:11:30Z");
        assert_eq!(current_healthy(&pods, &live, now), 2, "a and e");
    }

    #[test]
    fn status_allows_disruptions_only_above_desired_and_with_expected_pods() {
        let b = pdb(json!({"minAvailable": 2}), json!({}));
        let s = next_status(&b, 3, 2, 3, BTreeMap::new()).unwrap();
        assert_eq!((s.disruptions_allowed, s.observed_generation), (1, Some(2)));
        let c = &s.conditions.as_ref().unwrap()[0];
        assert_eq!(
            (c.type_.as_str(), c.status.as_str(), c.reason.as_str()),
            (CONDITION, "True", "SufficientPods")
        );
        let s = next_status(&b, 2, 2, 3, BTreeMap::new()).unwrap();
        assert_eq!(s.disruptions_allowed, 0);
        assert_eq!(s.conditions.as_ref().unwrap()[0].reason, "InsufficientPods");
        assert_eq!(
            next_status(&b, 3, 0, 0, BTreeMap::new()).unwrap().disruptions_allowed,
            0
        );
        // Written once, the same counts need no write.
        let mut done = b.clone();
        done.status = next_status(&b, 3, 2, 3, BTreeMap::new());
        assert!(next_status(&done, 3, 2, 3, BTreeMap::new()).is_none());
    }
}
