//! A DaemonSet's template history (upstream's daemon/update.go constructHistory): one
//! ControllerRevision per template, named `<set>-<hash>` and labelled
//! `controller-revision-hash=<hash>`; the current one has the highest revision number, and
//! old ones beyond revisionHistoryLimit go unless a pod still runs their template.

use super::Controller;
use super::update::HASH_LABEL;
use crate::history;
use crate::owners::{Owner, claim};
use crate::pods;
use api_types::labels::Selector;
use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::runtime::RawExtension;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::json;
use std::sync::Arc;

/// Whether the revision holds the DaemonSet's current template (upstream's Match).
pub fn matches(ds: &DaemonSet, revision: &ControllerRevision) -> bool {
    let template = ds.spec.as_ref().map(|s| s.template.clone()).unwrap_or_default();
    let ours = history::template_patch(&template);
    revision
        .data
        .as_ref()
        .is_some_and(|d| history::canonical(&d.0) == history::canonical(&ours))
}

fn hash_of(r: &ControllerRevision) -> Option<&String> {
    r.metadata.labels.as_ref()?.get(HASH_LABEL)
}

impl Controller {
    fn revision_api(&self, ns: &str) -> Api<ControllerRevision> {
        Api::namespaced(self.ctx.client.clone(), ns)
    }

    /// The current revision (created or renumbered as needed) and the old ones.
    pub(super) async fn construct_history(
        &self,
        ds: &DaemonSet,
        selector: &Selector,
    ) -> anyhow::Result<(ControllerRevision, Vec<Arc<ControllerRevision>>)> {
        let ns = ds.metadata.namespace.clone().unwrap_or_default();
        let api = self.revision_api(&ns);
        let owner = Owner {
            meta: &ds.metadata,
            reference: pods::controller_ref("apps/v1", "DaemonSet", &ds.metadata),
            selector,
        };
        let controlled = claim(&api, &owner, self.revisions.list_namespace(&ns)).await?;
        let (mut current, mut old) = (Vec::new(), Vec::new());
        for mut r in controlled {
            // Revisions from before hashes were labels are labelled by their name.
            if hash_of(&r).is_none() {
                let mut labelled = (*r).clone();
                let name = labelled.metadata.name.clone().unwrap_or_default();
                labelled
                    .metadata
                    .labels
                    .get_or_insert_default()
                    .insert(HASH_LABEL.into(), name.clone());
                r = Arc::new(api.replace(&name, &PostParams::default(), &labelled).await?);
            }
            if matches(ds, &r) {
                current.push(r);
            } else {
                old.push(r);
            }
        }
        let next = old.iter().map(|r| r.revision).max().unwrap_or(0) + 1;
        let cur = if current.is_empty() {
            self.snapshot(ds, next).await?
        } else {
            let keep = self.dedup(ds, selector, current).await?;
            if keep.revision < next {
                history::renumber(&api, &keep, next).await?
            } else {
                (*keep).clone()
            }
        };
        Ok((cur, old))
    }

    /// Records the current template as a new revision; a name taken by another template
    /// raises `status.collisionCount` so the next attempt hashes to another name.
    async fn snapshot(&self, ds: &DaemonSet, revision: i64) -> anyhow::Result<ControllerRevision> {
        let ns = ds.metadata.namespace.clone().unwrap_or_default();
        let name = ds.metadata.name.clone().unwrap_or_default();
        let template = ds.spec.as_ref().map(|s| s.template.clone()).unwrap_or_default();
        let collisions = ds.status.as_ref().and_then(|s| s.collision_count);
        let hash = history::template_hash(&template, collisions);
        let mut labels = template
            .metadata
            .as_ref()
            .and_then(|m| m.labels.clone())
            .unwrap_or_default();
        labels.insert(HASH_LABEL.into(), hash.clone());
        let cr = ControllerRevision {
            metadata: ObjectMeta {
                name: Some(format!("{name}-{hash}")),
                namespace: Some(ns.clone()),
                labels: Some(labels),
                annotations: ds.metadata.annotations.clone(),
                owner_references: Some(vec![pods::controller_ref("apps/v1", "DaemonSet", &ds.metadata)]),
                ..Default::default()
            },
            data: Some(RawExtension(history::template_patch(&template))),
            revision,
        };
        let api = self.revision_api(&ns);
        match api.create(&PostParams::default(), &cr).await {
            Err(kube::Error::Api(s)) if s.code == 409 => {
                let existing = api.get(&format!("{name}-{hash}")).await?;
                if matches(ds, &existing) {
                    return Ok(existing);
                }
                let sets: Api<DaemonSet> = Api::namespaced(self.ctx.client.clone(), &ns);
                let fresh = sets.get(&name).await?;
                let fresh_count = fresh.status.as_ref().and_then(|s| s.collision_count);
                if fresh_count != collisions {
                    anyhow::bail!(
                        "found a stale collision count of DaemonSet {ns}/{name}; will retry once it is updated"
                    );
                }
                let bumped = collisions.unwrap_or(0) + 1;
                super::super::update_status(&sets, &fresh, |d| {
                    d.status.get_or_insert_default().collision_count = Some(bumped)
                })
                .await?;
                anyhow::bail!("hash collision on revision {name}-{hash}; collisionCount raised to {bumped}")
            }
            other => Ok(other?),
        }
    }

    /// Keeps the newest of several revisions with the current template, moving pods labelled
    /// with the others over to it first.
    async fn dedup(
        &self,
        ds: &DaemonSet,
        selector: &Selector,
        mut current: Vec<Arc<ControllerRevision>>,
    ) -> anyhow::Result<Arc<ControllerRevision>> {
        current.sort_by_key(|r| r.revision);
        let Some(keep) = current.pop() else {
            anyhow::bail!("no current revision");
        };
        if current.is_empty() {
            return Ok(keep);
        }
        let ns = ds.metadata.namespace.clone().unwrap_or_default();
        let hash = hash_of(&keep).cloned().unwrap_or_default();
        let pod_api: Api<Pod> = Api::namespaced(self.ctx.client.clone(), &ns);
        for pod in self.daemon_pods(ds, selector).await? {
            let label = pod.metadata.labels.as_ref().and_then(|l| l.get(HASH_LABEL));
            if label != Some(&hash) {
                let patch = json!({"metadata": {"labels": {HASH_LABEL: hash}}});
                let name = pod.metadata.name.clone().unwrap_or_default();
                super::super::ignore_not_found(
                    pod_api
                        .patch(&name, &PatchParams::default(), &Patch::Strategic(&patch))
                        .await,
                )?;
            }
        }
        let api = self.revision_api(&ns);
        for dup in current {
            let name = dup.metadata.name.clone().unwrap_or_default();
            super::super::ignore_not_found(api.delete(&name, &DeleteParams::default()).await)?;
        }
        Ok(keep)
    }

    /// Deletes the oldest revisions beyond revisionHistoryLimit that no pod runs.
    pub(super) async fn cleanup_history(
        &self,
        ds: &DaemonSet,
        selector: &Selector,
        mut old: Vec<Arc<ControllerRevision>>,
    ) -> anyhow::Result<()> {
        let limit = ds
            .spec
            .as_ref()
            .and_then(|s| s.revision_history_limit)
            .unwrap_or(10)
            .max(0) as usize;
        let mut excess = old.len().saturating_sub(limit);
        if excess == 0 {
            return Ok(());
        }
        let live: std::collections::HashSet<String> = self
            .daemon_pods(ds, selector)
            .await?
            .iter()
            .filter_map(|p| p.metadata.labels.as_ref()?.get(HASH_LABEL).cloned())
            .collect();
        old.sort_by_key(|r| r.revision);
        let api = self.revision_api(ds.metadata.namespace.as_deref().unwrap_or_default());
        for r in old {
            if excess == 0 {
                break;
            }
            if hash_of(&r).is_some_and(|h| live.contains(h)) {
                continue;
            }
            let name = r.metadata.name.clone().unwrap_or_default();
            super::super::ignore_not_found(api.delete(&name, &DeleteParams::default()).await)?;
            excess -= 1;
        }
        Ok(())
    }
}
