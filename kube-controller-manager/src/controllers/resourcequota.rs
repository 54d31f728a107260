//! resourcequota: every ResourceQuota's `status.hard` follows `spec.hard` and `status.used` is
//! recomputed from the objects of its namespace (pods, services, claims, object counts, under
//! the quota's scopes): when a quota is created or its hard limits change, every five minutes,
//! and as soon as something it counts is deleted or stops counting (a pod finishing, a
//! service changing type, a claim resizing), so the admission plugin, which charges creations
//! up front, sees capacity come back. `count/<resource>.<group>` for kinds without their own
//! cache is measured through a metadata-only watch started when a quota first asks for it.

mod usage;

use super::Ctx;
use crate::informer::{Change, Informer, key_of};
use crate::queue::{Queue, run_workers};
use api_types::quantity::Quantity;
use futures::StreamExt;
use k8s_openapi::api::core::v1::{
    ConfigMap, PersistentVolumeClaim, Pod, ReplicationController, ResourceQuota, ResourceQuotaStatus, Secret, Service,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as ApiQuantity;
use kube::api::{Api, DynamicObject, PartialObjectMeta, PostParams};
use kube::runtime::{WatchStreamExt, watcher};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use usage::{Evaluator, ResourceList};

/// Upstream's default `--resource-quota-sync-period`.
const FULL_RESYNC: Duration = Duration::from_secs(5 * 60);
/// How long a `count/` resource that discovery does not know is left alone.
const UNKNOWN_RETRY: Duration = Duration::from_secs(60);

struct Controller {
    ctx: Ctx,
    quotas: Informer<ResourceQuota>,
    pods: Informer<Pod>,
    services: Informer<Service>,
    claims: Informer<PersistentVolumeClaim>,
    configmaps: Informer<ConfigMap>,
    secrets: Informer<Secret>,
    rcs: Informer<ReplicationController>,
    queue: Arc<Queue<String>>,
    counts: Arc<DynamicCounts>,
}

/// Queues the quotas of a namespace that track something `evaluator` (or a `count/` name)
/// measures: upstream's replenishment.
#[derive(Clone)]
struct Replenish {
    quotas: Informer<ResourceQuota>,
    queue: Arc<Queue<String>>,
}

impl Replenish {
    fn tracked(q: &ResourceQuota) -> Vec<String> {
        let status = q.status.as_ref().and_then(|s| s.hard.as_ref());
        let spec = q.spec.as_ref().and_then(|s| s.hard.as_ref());
        status.or(spec).into_iter().flatten().map(|(k, _)| k.clone()).collect()
    }

    fn namespace(&self, ns: &str, tracks: impl Fn(&[String]) -> bool) {
        for q in self.quotas.list_namespace(ns) {
            if tracks(&Self::tracked(&q)) {
                self.queue.add(key_of(q.as_ref()));
            }
        }
    }

    fn evaluator(&self, ns: Option<&str>, e: Evaluator) {
        self.namespace(ns.unwrap_or_default(), |names| !usage::matching(e, names).is_empty());
    }
}

pub async fn run(ctx: Ctx) -> anyhow::Result<()> {
    let queue: Arc<Queue<String>> = Queue::new();
    let quotas = ctx.informers.get::<ResourceQuota>();
    let replenish = Replenish {
        quotas: quotas.clone(),
        queue: queue.clone(),
    };
    let c = Arc::new(Controller {
        ctx: ctx.clone(),
        quotas: quotas.clone(),
        pods: ctx.informers.get(),
        services: ctx.informers.get(),
        claims: ctx.informers.get(),
        configmaps: ctx.informers.get(),
        secrets: ctx.informers.get(),
        rcs: ctx.informers.get(),
        queue: queue.clone(),
        counts: Arc::new(DynamicCounts {
            client: ctx.client.clone(),
            monitors: Mutex::default(),
            replenish: replenish.clone(),
        }),
    });
    let q = queue.clone();
    quotas.on_change(move |change| match change {
        Change::Added(r) | Change::Deleted(r) => q.add(key_of(r.as_ref())),
        // Status writes (ours and admission's) change nothing to recompute.
        Change::Updated { old, new } => {
            let hard = |r: &ResourceQuota| parse(r.spec.as_ref().and_then(|s| s.hard.as_ref()));
            if hard(old) != hard(new) {
                q.add(key_of(new.as_ref()));
            }
        }
    });
    let r = replenish.clone();
    c.pods.on_change(move |change| {
        let now = jiff::Timestamp::now();
        match change {
            Change::Deleted(p) => r.evaluator(p.metadata.namespace.as_deref(), Evaluator::Pods),
            Change::Updated { old, new } => {
                if usage::counts_for_compute(old, now) && !usage::counts_for_compute(new, now) {
                    r.evaluator(new.metadata.namespace.as_deref(), Evaluator::Pods);
                }
            }
            Change::Added(_) => {}
        }
    });
    let r = replenish.clone();
    c.services.on_change(move |change| match change {
        Change::Deleted(s) => r.evaluator(s.metadata.namespace.as_deref(), Evaluator::Services),
        Change::Updated { old, new } => {
            if usage::quota_service_type(old) != usage::quota_service_type(new) {
                r.evaluator(new.metadata.namespace.as_deref(), Evaluator::Services);
            }
        }
        Change::Added(_) => {}
    });
    let r = replenish.clone();
    c.claims.on_change(move |change| match change {
        Change::Deleted(p) => r.evaluator(p.metadata.namespace.as_deref(), Evaluator::Claims),
        Change::Updated { old, new } => {
            if usage::claim_storage(old) != usage::claim_storage(new) {
                r.evaluator(new.metadata.namespace.as_deref(), Evaluator::Claims);
            }
        }
        Change::Added(_) => {}
    });
    on_delete(&c.configmaps, &replenish, usage::TYPED[3]);
    on_delete(&c.secrets, &replenish, usage::TYPED[4]);
    on_delete(&quotas, &replenish, usage::TYPED[5]);
    on_delete(&c.rcs, &replenish, usage::TYPED[6]);
    quotas.synced().await;
    c.pods.synced().await;
    c.services.synced().await;
    c.claims.synced().await;
    c.configmaps.synced().await;
    c.secrets.synced().await;
    c.rcs.synced().await;
    let (q, all) = (queue.clone(), quotas.clone());
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(FULL_RESYNC).await;
            all.list().iter().for_each(|r| q.add(key_of(r.as_ref())));
        }
    });
    let workers = ctx.opts.concurrent_resource_quota_syncs;
    run_workers("resourcequota_primary", queue, workers, move |key: String| {
        let c = c.clone();
        async move { c.sync(&key).await }
    })
    .await;
    Ok(())
}

fn on_delete<K>(informer: &Informer<K>, replenish: &Replenish, e: Evaluator)
where
    K: kube::Resource<DynamicType = ()> + Clone + serde::de::DeserializeOwned + std::fmt::Debug + Send + Sync + 'static,
{
    let r = replenish.clone();
    informer.on_change(move |change| {
        if let Change::Deleted(obj) = change {
            r.evaluator(obj.meta().namespace.as_deref(), e);
        }
    });
}

fn parse(m: Option<&BTreeMap<String, ApiQuantity>>) -> ResourceList {
    m.into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.clone(), Quantity::parse(&v.0)?)))
        .collect()
}

/// Are two resource lists the same, quantity by quantity?
fn same(a: Option<&BTreeMap<String, ApiQuantity>>, b: Option<&BTreeMap<String, ApiQuantity>>) -> bool {
    let keys =
        |m: Option<&BTreeMap<String, ApiQuantity>>| m.into_iter().flatten().map(|(k, _)| k.clone()).collect::<Vec<_>>();
    keys(a) == keys(b) && parse(a) == parse(b)
}

/// The new `status.used`: fresh measurements over the previous ones, for the hard names only.
pub fn next_used(hard: &[String], previous: &ResourceList, measured: &ResourceList) -> ResourceList {
    let mut used = previous.clone();
    used.extend(measured.iter().map(|(k, v)| (k.clone(), *v)));
    used.retain(|k, _| hard.contains(k));
    used
}

impl Controller {
    async fn sync(&self, key: &str) -> anyhow::Result<()> {
        let Some(quota) = self.quotas.get(key) else {
            return Ok(());
        };
        let ns = quota.metadata.namespace.clone().unwrap_or_default();
        let spec_hard = quota.spec.as_ref().and_then(|s| s.hard.clone()).unwrap_or_default();
        let names: Vec<String> = spec_hard.keys().cloned().collect();
        let scopes = usage::scope_requirements(&quota);
        let (measured, pending) = self.measure(&ns, &names, &scopes);
        if pending {
            // A `count/` watch is still starting: its last recorded value stands until then.
            self.queue.add_after(key.to_string(), Duration::from_secs(1));
        }
        let status = quota.status.clone().unwrap_or_default();
        let used = next_used(&names, &parse(status.used.as_ref()), &measured);
        let used: BTreeMap<String, ApiQuantity> = used
            .iter()
            .map(|(k, v)| (k.clone(), ApiQuantity(v.to_string())))
            .collect();
        let dirty = status.hard.is_none()
            || status.used.is_none()
            || !same(Some(&spec_hard), status.hard.as_ref())
            || !same(Some(&used), status.used.as_ref());
        if !dirty {
            return Ok(());
        }
        let mut next = quota.as_ref().clone();
        next.status = Some(ResourceQuotaStatus {
            hard: Some(spec_hard),
            used: Some(used),
        });
        // A conflict (admission charged a creation meanwhile) is retried from fresh caches.
        let api: Api<ResourceQuota> = Api::namespaced(self.ctx.client.clone(), &ns);
        let name = quota.metadata.name.clone().unwrap_or_default();
        super::ignore_not_found(api.replace_status(&name, &PostParams::default(), &next).await)?;
        Ok(())
    }

    /// Current usage of every hard name some evaluator can measure, and whether some `count/`
    /// name could not be measured yet.
    fn measure(
        &self,
        ns: &str,
        names: &[String],
        scopes: &[k8s_openapi::api::core::v1::ScopedResourceSelectorRequirement],
    ) -> (ResourceList, bool) {
        let now = jiff::Timestamp::now();
        let mut pending = false;
        let mut out = ResourceList::new();
        let mut handled = BTreeSet::new();
        for e in usage::TYPED {
            let tracked = usage::matching(*e, names);
            if tracked.is_empty() {
                continue;
            }
            handled.extend(tracked.iter().cloned());
            // Only pods have scopes; a scoped quota counts nothing else.
            let unscoped = scopes.is_empty();
            let stats = match e {
                Evaluator::Pods => usage::usage_stats(
                    &self.pods.list_namespace(ns),
                    &tracked,
                    |p| scopes.iter().all(|s| usage::pod_matches_scope(s, p)),
                    |p| usage::pod_usage(p, now),
                ),
                Evaluator::Services => usage::usage_stats(
                    &self.services.list_namespace(ns),
                    &tracked,
                    |_| unscoped,
                    usage::service_usage,
                ),
                Evaluator::Claims => usage::usage_stats(
                    &self.claims.list_namespace(ns),
                    &tracked,
                    |_| unscoped,
                    usage::claim_usage,
                ),
                Evaluator::Count(count, alias) => {
                    let n = match *count {
                        "count/configmaps" => self.configmaps.list_namespace(ns).len(),
                        "count/secrets" => self.secrets.list_namespace(ns).len(),
                        "count/resourcequotas" => self.quotas.list_namespace(ns).len(),
                        _ => self.rcs.list_namespace(ns).len(),
                    };
                    let n = if unscoped { n } else { 0 };
                    let mut stats = usage::count_usage(count, alias);
                    stats.values_mut().for_each(|v| *v = Quantity::from_units(n as i64));
                    stats.retain(|k, _| tracked.contains(k));
                    stats
                }
            };
            out.extend(stats);
        }
        for name in names
            .iter()
            .filter(|n| n.starts_with("count/") && !handled.contains(*n))
        {
            match self.counts.count(name, ns) {
                Count::Ready(n) => {
                    let n = if scopes.is_empty() { n } else { 0 };
                    out.insert(name.clone(), Quantity::from_units(n as i64));
                }
                Count::Starting => pending = true,
                // Not a resource this server has: like upstream, the quota keeps what it had.
                Count::Unknown => {}
            }
        }
        (out, pending)
    }
}

/// The objects of one kind, by namespace, from a metadata-only watch.
#[derive(Default)]
struct Store {
    objects: RwLock<HashMap<String, BTreeSet<String>>>,
    synced: AtomicBool,
}

enum Count {
    Ready(usize),
    Starting,
    Unknown,
}

enum Monitor {
    Running(Arc<Store>),
    Unknown(Instant),
}

/// Object counts for `count/<resource>.<group>` names without a typed cache.
struct DynamicCounts {
    client: kube::Client,
    monitors: Mutex<HashMap<String, Monitor>>,
    replenish: Replenish,
}

impl DynamicCounts {
    /// The count of `name` objects in `ns`, once the watch has listed them.
    fn count(self: &Arc<Self>, name: &str, ns: &str) -> Count {
        let mut monitors = self.monitors.lock().unwrap_or_else(|e| e.into_inner());
        match monitors.get(name) {
            Some(Monitor::Running(store)) => {
                if !store.synced.load(Ordering::Acquire) {
                    return Count::Starting;
                }
                let objects = store.objects.read().unwrap_or_else(|e| e.into_inner());
                return Count::Ready(objects.get(ns).map_or(0, BTreeSet::len));
            }
            Some(Monitor::Unknown(at)) if at.elapsed() < UNKNOWN_RETRY => return Count::Unknown,
            _ => {}
        }
        let store = Arc::new(Store::default());
        monitors.insert(name.to_string(), Monitor::Running(store.clone()));
        let (me, name) = (self.clone(), name.to_string());
        tokio::spawn(async move {
            if let Err(e) = me.watch(&name, store).await {
                tracing::info!(resource = %name, error = %e, "cannot count objects for quota");
                let mut monitors = me.monitors.lock().unwrap_or_else(|e| e.into_inner());
                monitors.insert(name, Monitor::Unknown(Instant::now()));
            }
        });
        Count::Starting
    }

    /// Finds the resource by discovery and keeps `store` current; deletions replenish quotas.
    async fn watch(&self, name: &str, store: Arc<Store>) -> anyhow::Result<()> {
        let qualified = name.strip_prefix("count/").unwrap_or(name);
        let (plural, group) = qualified.split_once('.').unwrap_or((qualified, ""));
        let found = kube::discovery::group(&self.client, group).await?;
        let (resource, _) = found
            .recommended_resources()
            .into_iter()
            .find(|(r, caps)| {
                r.plural == plural
                    && caps.scope == kube::discovery::Scope::Namespaced
                    && caps.supports_operation(kube::discovery::verbs::WATCH)
            })
            .ok_or_else(|| anyhow::anyhow!("no namespaced resource {qualified} to watch"))?;
        let api: Api<PartialObjectMeta<DynamicObject>> = Api::all_with(self.client.clone(), &resource);
        let mut events = watcher(api, watcher::Config::default()).default_backoff().boxed();
        let mut relisted: Option<HashMap<String, BTreeSet<String>>> = None;
        let id = |m: &kube::api::ObjectMeta| {
            (
                m.namespace.clone().unwrap_or_default(),
                m.name.clone().unwrap_or_default(),
            )
        };
        let tracks = |names: &[String]| names.iter().any(|n| n == name);
        while let Some(event) = events.next().await {
            match event {
                Ok(watcher::Event::Init) => relisted = Some(HashMap::new()),
                Ok(watcher::Event::InitApply(o)) => {
                    let (ns, n) = id(&o.metadata);
                    relisted
                        .get_or_insert_with(HashMap::new)
                        .entry(ns)
                        .or_default()
                        .insert(n);
                }
                Ok(watcher::Event::InitDone) => {
                    let fresh = relisted.take().unwrap_or_default();
                    let namespaces: BTreeSet<String> = {
                        let mut objects = store.objects.write().unwrap_or_else(|e| e.into_inner());
                        let all = objects.keys().chain(fresh.keys()).cloned().collect();
                        *objects = fresh;
                        all
                    };
                    store.synced.store(true, Ordering::Release);
                    namespaces.iter().for_each(|ns| self.replenish.namespace(ns, tracks));
                }
                Ok(watcher::Event::Apply(o)) => {
                    let (ns, n) = id(&o.metadata);
                    let mut objects = store.objects.write().unwrap_or_else(|e| e.into_inner());
                    objects.entry(ns).or_default().insert(n);
                }
                Ok(watcher::Event::Delete(o)) => {
                    let (ns, n) = id(&o.metadata);
                    if let Some(set) = store.objects.write().unwrap_or_else(|e| e.into_inner()).get_mut(&ns) {
                        set.remove(&n);
                    }
                    self.replenish.namespace(&ns, tracks);
                }
                Err(e) => tracing::debug!(resource = %name, error = %e, "watch failed, retrying"),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn used_keeps_unmeasured_values_and_only_hard_names() {
        let q = |s: &str| Quantity::parse(s).unwrap();
        let hard = vec!["pods".to_string(), "example.com/widgets".to_string()];
        let previous = ResourceList::from([
            ("pods".to_string(), q("3")),
            ("example.com/widgets".to_string(), q("2")),
            ("secrets".to_string(), q("1")),
        ]);
        let measured = ResourceList::from([("pods".to_string(), q("1"))]);
        let used = next_used(&hard, &previous, &measured);
        assert_eq!(
            used,
            ResourceList::from([
                ("example.com/widgets".to_string(), q("2")),
                ("pods".to_string(), q("1")),
            ])
        );
    }
}
