//! statefulset: pods with stable identities (upstream's statefulset controller). Pod
//! `<set>-<ordinal>` for each ordinal from spec.ordinals.start, with hostname, subdomain and
//! its own claims from volumeClaimTemplates (created before the pod). OrderedReady creates
//! one pod at a time in ordinal order, each after its predecessors are Running and Ready, and
//! removes them in reverse; Parallel does either all at once. Template changes roll out from
//! the highest ordinal down to the partition, one pod at a time (RollingUpdate), or as pods
//! are deleted (OnDelete), tracked through ControllerRevisions.

mod claims;
mod control;
mod identity;

use super::Ctx;
use super::replicaset::message;
use crate::events::{NORMAL, WARNING};
use crate::expectations::Expectations;
use crate::informer::{Change, Informer, key_of, split_key};
use crate::owners::{Owner, claim, route_pod_changes};
use crate::pods;
use crate::queue::{Queue, run_workers};
use k8s_openapi::api::apps::v1::{ControllerRevision, StatefulSet};
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use kube::api::{Api, DeleteParams, PostParams};
use std::sync::Arc;
use std::time::Duration;

pub(super) struct Controller {
    ctx: Ctx,
    sets: Informer<StatefulSet>,
    pods: Informer<Pod>,
    revisions: Informer<ControllerRevision>,
    claims: Informer<PersistentVolumeClaim>,
    queue: Arc<Queue<String>>,
}

pub async fn run(ctx: Ctx) -> anyhow::Result<()> {
    let c = Arc::new(Controller {
        sets: ctx.informers.get(),
        pods: ctx.informers.get(),
        revisions: ctx.informers.get(),
        claims: ctx.informers.get(),
        queue: Queue::new(),
        ctx: ctx.clone(),
    });
    c.sets.queue_keys(c.queue.clone());
    let finder = c.sets.clone();
    // The set acts on what it sees, not on what it asked for: nothing to expect.
    route_pod_changes(
        &c.pods,
        "StatefulSet",
        Arc::new(Expectations::default()),
        c.queue.clone(),
        move |pod| selecting(&finder, pod),
    );
    // A pod turning ready becomes available minReadySeconds later.
    let (q, sets) = (c.queue.clone(), c.sets.clone());
    c.pods.on_change(move |change| {
        if let Change::Updated { old, new } = change
            && !pods::is_ready(old)
            && pods::is_ready(new)
            && let Some(o) = pods::controller_of(&new.metadata).filter(|o| o.kind == "StatefulSet")
        {
            let key = format!("{}/{}", new.metadata.namespace.as_deref().unwrap_or_default(), o.name);
            let min_ready = sets
                .get(&key)
                .and_then(|s| s.spec.as_ref()?.min_ready_seconds)
                .unwrap_or(0);
            if min_ready > 0 {
                q.add_after(key, Duration::from_secs(min_ready as u64));
            }
        }
    });
    c.sets.synced().await;
    c.pods.synced().await;
    c.revisions.synced().await;
    c.claims.synced().await;
    let workers = ctx.opts.concurrent_statefulset_syncs;
    run_workers("statefulset", c.queue.clone(), workers, move |key: String| {
        let c = c.clone();
        async move { c.sync(&key).await }
    })
    .await;
    Ok(())
}

/// The StatefulSets in the pod's namespace whose selector matches it.
fn selecting(sets: &Informer<StatefulSet>, pod: &Pod) -> Vec<String> {
    let ns = pod.metadata.namespace.as_deref().unwrap_or_default();
    sets.list_namespace(ns)
        .iter()
        .filter(|s| {
            pods::selector(s.spec.as_ref().map(|s| &s.selector))
                .is_some_and(|sel| !sel.is_empty() && pods::matches(&sel, pod.metadata.labels.as_ref()))
        })
        .map(|s| key_of(s.as_ref()))
        .collect()
}

fn name_of<K: kube::Resource>(obj: &K) -> String {
    obj.meta().name.clone().unwrap_or_default()
}

impl Controller {
    fn api<K>(&self, ns: &str) -> Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>,
    {
        Api::namespaced(self.ctx.client.clone(), ns)
    }

    async fn sync(&self, key: &str) -> anyhow::Result<()> {
        let Some(set) = self.sets.get(key) else {
            return Ok(());
        };
        let ns = split_key(key).0.unwrap_or_default();
        let Some(selector) = set.spec.as_ref().and_then(|s| pods::selector(Some(&s.selector))) else {
            return Ok(());
        };
        // Revisions left behind by an earlier set of this name are adopted.
        let orphans: Vec<_> = crate::history::owned_or_orphaned(&self.revisions, &set.metadata, &selector)
            .into_iter()
            .filter(|r| pods::controller_of(&r.metadata).is_none())
            .collect();
        let owner = Owner {
            meta: &set.metadata,
            reference: pods::controller_ref("apps/v1", "StatefulSet", &set.metadata),
            selector: &selector,
        };
        if !orphans.is_empty() {
            claim(&self.api::<ControllerRevision>(ns), &owner, orphans).await?;
        }
        let members = self
            .pods
            .list_namespace(ns)
            .into_iter()
            .filter(|p| identity::is_member(&set, p))
            .collect();
        let owned = claim(&self.api::<Pod>(ns), &owner, members).await?;
        let status = self.update_set(&set, owned).await?;
        let min_ready = set.spec.as_ref().and_then(|s| s.min_ready_seconds).unwrap_or(0);
        if min_ready > 0 && status.available_replicas.unwrap_or(0) != identity::replicas(&set) {
            self.queue
                .add_after(key.to_string(), Duration::from_secs(min_ready as u64));
        }
        Ok(())
    }

    /// `<verb> Pod <pod> in StatefulSet <set> successful`, or `failed error: ...`.
    fn pod_event(&self, verb: &str, set: &StatefulSet, pod: &Pod, error: Option<&str>) {
        let (title, pod, set_name) = (title(verb), name_of(pod), name_of(set));
        match error {
            None => {
                let msg = format!("{verb} Pod {pod} in StatefulSet {set_name} successful");
                self.ctx
                    .recorder
                    .event(set, NORMAL, &format!("Successful{title}"), &msg);
            }
            Some(e) => {
                let msg = format!("{verb} Pod {pod} in StatefulSet {set_name} failed error: {e}");
                self.ctx.recorder.event(set, WARNING, &format!("Failed{title}"), &msg);
            }
        }
    }

    fn claim_event(&self, set: &StatefulSet, pod: &Pod, claim: &str, error: Option<&str>) {
        let (pod, set_name) = (name_of(pod), name_of(set));
        match error {
            None => {
                let msg = format!("create Claim {claim} Pod {pod} in StatefulSet {set_name} success");
                self.ctx.recorder.event(set, NORMAL, "SuccessfulCreate", &msg);
            }
            Some(e) => {
                let msg = format!("create Claim {claim} for Pod {pod} in StatefulSet {set_name} failed error: {e}");
                self.ctx.recorder.event(set, WARNING, "FailedCreate", &msg);
            }
        }
    }

    fn cached_claim(&self, ns: &str, name: &str) -> Option<Arc<PersistentVolumeClaim>> {
        self.claims.get(&format!("{ns}/{name}"))
    }

    /// Creates the pod's missing claims (upstream's createPersistentVolumeClaims).
    async fn create_claims(&self, set: &StatefulSet, pod: &Pod) -> anyhow::Result<()> {
        let Some(o) = identity::ordinal(pod) else { return Ok(()) };
        let ns = set.metadata.namespace.clone().unwrap_or_default();
        let api: Api<PersistentVolumeClaim> = self.api(&ns);
        let mut errors = Vec::new();
        for (_, claim) in identity::claims_for(set, o) {
            let name = name_of(&claim);
            match self.cached_claim(&ns, &name) {
                None => match api.create(&PostParams::default(), &claim).await {
                    Ok(_) => self.claim_event(set, pod, &name, None),
                    Err(kube::Error::Api(s)) if s.code == 409 => {
                        errors.push(format!("failed to create PVC {name}: {}", s.message))
                    }
                    Err(e) => {
                        self.claim_event(set, pod, &name, Some(&message(&e)));
                        errors.push(format!("failed to create PVC {name}: {}", message(&e)));
                    }
                },
                Some(existing) if existing.metadata.deletion_timestamp.is_some() => {
                    errors.push(format!("pvc {name} is being deleted"))
                }
                Some(_) => {}
            }
        }
        match errors.is_empty() {
            true => Ok(()),
            false => Err(anyhow::anyhow!(errors.join(", "))),
        }
    }

    /// Whether every existing claim of the pod carries out the retention policy.
    fn claims_match_policy(&self, set: &StatefulSet, pod: &Pod) -> bool {
        let Some(o) = identity::ordinal(pod) else { return true };
        let ns = set.metadata.namespace.as_deref().unwrap_or_default();
        let scaled_down = !identity::in_ordinal_range(set, pod);
        identity::claims_for(set, o).iter().all(|(_, c)| {
            self.cached_claim(ns, &name_of(c))
                .is_none_or(|existing| claims::is_up_to_date(&existing, set, pod, scaled_down))
        })
    }

    /// Sets the owner references of the pod's claims for the retention policy.
    async fn update_claims_for_policy(&self, set: &StatefulSet, pod: &Pod) -> anyhow::Result<()> {
        let Some(o) = identity::ordinal(pod) else { return Ok(()) };
        let ns = set.metadata.namespace.clone().unwrap_or_default();
        let scaled_down = !identity::in_ordinal_range(set, pod);
        let api: Api<PersistentVolumeClaim> = self.api(&ns);
        for (_, c) in identity::claims_for(set, o) {
            let name = name_of(&c);
            let Some(existing) = self.cached_claim(&ns, &name) else {
                continue;
            };
            if claims::has_unexpected_controller(&existing, set, pod) {
                let msg = format!(
                    "PersistentVolumeClaim {name} has a conflicting OwnerReference that acts as a manging controller, the retention policy is ignored for this claim"
                );
                self.ctx.recorder.event(set, WARNING, "ConflictingController", &msg);
            } else if !claims::is_up_to_date(&existing, set, pod, scaled_down) {
                let mut updated = (*existing).clone();
                claims::update_owner_refs(&mut updated, set, pod, scaled_down);
                api.replace(&name, &PostParams::default(), &updated)
                    .await
                    .map_err(|e| {
                        anyhow::anyhow!(
                            "could not update claim {name} for delete policy ownerRefs: {}",
                            message(&e)
                        )
                    })?;
            }
        }
        Ok(())
    }

    /// Whether a claim of the pod still belongs to an earlier pod of its name.
    fn claim_is_stale(&self, set: &StatefulSet, pod: &Pod) -> bool {
        let Some(o) = identity::ordinal(pod) else { return false };
        let ns = set.metadata.namespace.as_deref().unwrap_or_default();
        identity::claims_for(set, o).iter().any(|(_, c)| {
            self.cached_claim(ns, &name_of(c))
                .is_some_and(|existing| claims::claim_is_stale(set, pod, &existing))
        })
    }

    /// Creates the pod's claims, then the pod (upstream's CreateStatefulPod).
    async fn create_pod(&self, set: &StatefulSet, pod: &Pod) -> anyhow::Result<()> {
        if let Err(e) = self.create_claims(set, pod).await {
            self.pod_event("create", set, pod, Some(&format!("{e:#}")));
            return Err(e);
        }
        let ns = set.metadata.namespace.clone().unwrap_or_default();
        match self.api::<Pod>(&ns).create(&PostParams::default(), pod).await {
            Err(kube::Error::Api(s)) if s.code == 409 => return Err(kube::Error::Api(s).into()),
            Err(e) => {
                self.pod_event("create", set, pod, Some(&message(&e)));
                return Err(e.into());
            }
            Ok(_) => {}
        }
        if let Err(e) = self.update_claims_for_policy(set, pod).await {
            self.pod_event("update", set, pod, Some(&format!("{e:#}")));
            return Err(e);
        }
        self.pod_event("create", set, pod, None);
        Ok(())
    }

    async fn delete_pod(&self, set: &StatefulSet, pod: &Pod) -> anyhow::Result<()> {
        let ns = set.metadata.namespace.clone().unwrap_or_default();
        let result = self
            .api::<Pod>(&ns)
            .delete(&name_of(pod), &DeleteParams::default())
            .await;
        self.pod_event("delete", set, pod, result.as_ref().err().map(message).as_deref());
        result.map(|_| ()).map_err(Into::into)
    }

    /// Brings an existing pod's identity, storage and claim ownership in line (upstream's
    /// UpdateStatefulPod), retrying on conflicts with a fresh copy.
    async fn update_pod(&self, set: &StatefulSet, pod: &Pod) -> anyhow::Result<()> {
        let ns = set.metadata.namespace.clone().unwrap_or_default();
        let api: Api<Pod> = self.api(&ns);
        let mut pod = pod.clone();
        let mut attempted = false;
        let mut result = Ok(());
        for _ in 0..5 {
            let mut consistent = true;
            if !identity::identity_matches(set, &pod) {
                identity::update_identity(set, &mut pod);
                consistent = false;
            }
            if !identity::storage_matches(set, &pod) {
                identity::update_storage(set, &mut pod);
                consistent = false;
                if let Err(e) = self.create_claims(set, &pod).await {
                    self.pod_event("update", set, &pod, Some(&format!("{e:#}")));
                    return Err(e);
                }
            }
            if !self.claims_match_policy(set, &pod) {
                if let Err(e) = self.update_claims_for_policy(set, &pod).await {
                    self.pod_event("update", set, &pod, Some(&format!("{e:#}")));
                    return Err(e);
                }
                consistent = false;
            }
            if consistent {
                result = Ok(());
                break;
            }
            attempted = true;
            match api.replace(&name_of(&pod), &PostParams::default(), &pod).await {
                Ok(_) => {
                    result = Ok(());
                    break;
                }
                Err(kube::Error::Api(s)) if s.code == 409 => {
                    result = Err(kube::Error::Api(s.clone()));
                    if let Ok(fresh) = api.get(&name_of(&pod)).await {
                        pod = fresh;
                    }
                }
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        if attempted {
            self.pod_event("update", set, &pod, result.as_ref().err().map(message).as_deref());
        }
        result.map_err(Into::into)
    }
}

/// `create` -> `Create`, for event reasons.
fn title(verb: &str) -> String {
    let mut c = verb.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}
