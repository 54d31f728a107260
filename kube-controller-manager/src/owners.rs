//! Claiming (upstream's ControllerRefManager): a controller owns the objects whose controller
//! reference names it and that its selector still matches; it adopts matching orphans and
//! releases owned objects its selector no longer matches. Both are strategic merge patches on
//! `ownerReferences` with the object's uid as precondition, so they never clobber other owners.

use crate::expectations::Expectations;
use crate::informer::{Change, Informer, key_of};
use crate::pods::{controller_of, matches};
use crate::queue::Queue;
use api_types::labels::Selector;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::Resource;
use kube::api::{Api, Patch, PatchParams};
use serde::de::DeserializeOwned;
use serde_json::json;
use std::fmt::Debug;
use std::sync::Arc;

/// The controller doing the claiming.
pub struct Owner<'a> {
    pub meta: &'a ObjectMeta,
    /// The controller reference it puts on what it adopts.
    pub reference: OwnerReference,
    pub selector: &'a Selector,
}

/// The candidates `owner` controls once orphans are adopted and mismatches released.
pub async fn claim<K>(api: &Api<K>, owner: &Owner<'_>, candidates: Vec<Arc<K>>) -> anyhow::Result<Vec<Arc<K>>>
where
    K: Resource + Clone + DeserializeOwned + Debug,
{
    let uid = owner.meta.uid.as_deref().unwrap_or_default();
    let owner_deleting = owner.meta.deletion_timestamp.is_some();
    let mut claimed = Vec::new();
    for obj in candidates {
        let meta = obj.meta();
        let name = meta.name.as_deref().unwrap_or_default();
        let selected = matches(owner.selector, meta.labels.as_ref());
        match controller_of(meta) {
            Some(r) if r.uid == uid => {
                if selected {
                    claimed.push(obj);
                } else if !owner_deleting {
                    let patch = json!({"metadata": {
                        "ownerReferences": [{"$patch": "delete", "uid": uid}],
                        "uid": meta.uid,
                    }});
                    ignore_gone(
                        api.patch(name, &PatchParams::default(), &Patch::Strategic(&patch))
                            .await,
                    )?;
                }
            }
            Some(_) => {}
            None if selected && !owner_deleting && meta.deletion_timestamp.is_none() => {
                let patch = json!({"metadata": {"ownerReferences": [owner.reference], "uid": meta.uid}});
                match api
                    .patch(name, &PatchParams::default(), &Patch::Strategic(&patch))
                    .await
                {
                    Ok(adopted) => claimed.push(Arc::new(adopted)),
                    Err(e) => ignore_gone::<()>(Err(e))?,
                }
            }
            None => {}
        }
    }
    Ok(claimed)
}

/// A 404 (object gone) or 422 (uid precondition: replaced by another object) means there is
/// nothing left to claim or release.
fn ignore_gone<T>(r: Result<T, kube::Error>) -> anyhow::Result<()> {
    match r {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 || s.code == 422 => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Routes pod changes to the controllers of `kind` that own them (upstream's addPod,
/// updatePod and deletePod handlers): the owner is queued and its expectations credited;
/// an orphan queues every controller `orphan_owners` says might adopt it.
pub fn route_pod_changes(
    pods: &Informer<Pod>,
    kind: &'static str,
    expectations: Arc<Expectations>,
    queue: Arc<Queue<String>>,
    orphan_owners: impl Fn(&Pod) -> Vec<String> + Send + Sync + 'static,
) {
    let owner_key = move |pod: &Pod| {
        let r = controller_of(&pod.metadata).filter(|r| r.kind == kind)?;
        Some(format!(
            "{}/{}",
            pod.metadata.namespace.as_deref().unwrap_or_default(),
            r.name
        ))
    };
    pods.on_change(move |change| match change {
        Change::Added(pod) => match owner_key(pod) {
            Some(owner) => {
                if pod.metadata.deletion_timestamp.is_some() {
                    expectations.deletion_observed(&owner, &key_of(pod.as_ref()));
                } else {
                    expectations.creation_observed(&owner);
                }
                queue.add(owner);
            }
            None if controller_of(&pod.metadata).is_none() => orphan_owners(pod).into_iter().for_each(|k| queue.add(k)),
            None => {}
        },
        Change::Updated { old, new } => {
            if old.metadata.resource_version == new.metadata.resource_version {
                return;
            }
            let (was, is) = (owner_key(old), owner_key(new));
            if new.metadata.deletion_timestamp.is_some()
                && let Some(owner) = &is
            {
                expectations.deletion_observed(owner, &key_of(new.as_ref()));
            }
            if was != is
                && let Some(owner) = was
            {
                queue.add(owner);
            }
            match is {
                Some(owner) => queue.add(owner),
                None if controller_of(&new.metadata).is_none()
                    && (old.metadata.labels != new.metadata.labels || controller_of(&old.metadata).is_some()) =>
                {
                    orphan_owners(new).into_iter().for_each(|k| queue.add(k))
                }
                None => {}
            }
        }
        Change::Deleted(pod) => {
            if let Some(owner) = owner_key(pod) {
                expectations.deletion_observed(&owner, &key_of(pod.as_ref()));
                queue.add(owner);
            }
        }
    });
}
