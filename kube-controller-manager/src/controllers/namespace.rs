//! namespace: a namespace being deleted has everything in it deleted (every namespaced
//! resource the server lists and deletes), then its `kubernetes` finalizer removed, after
//! which the API server removes the namespace.

use super::{Ctx, ignore_not_found};
use crate::informer::Change;
use crate::queue::{Queue, run_workers};
use k8s_openapi::api::core::v1::{Namespace, NamespaceCondition};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, PostParams};
use kube::discovery::{Discovery, Scope, verbs};
use std::collections::BTreeMap;
use std::time::Duration;

const FINALIZER: &str = "kubernetes";

/// A deletion condition: its type, the failure (reason, message) if any, and the success
/// reason and message.
type Condition = (&'static str, Option<(&'static str, String)>, &'static str, &'static str);

/// What one deletion pass found: objects left per resource (`plural.group`), the finalizers
/// holding them, and what failed.
#[derive(Default)]
struct Pass {
    remaining: BTreeMap<String, usize>,
    finalizers: BTreeMap<String, usize>,
    discovery_failed: Option<String>,
    delete_failed: Vec<String>,
}

impl Pass {
    fn left(&self) -> usize {
        self.remaining.values().sum()
    }

    /// Upstream's deletion conditions: each type is "True" with a failure reason while its
    /// problem lasts, else "False" with the success reason and message.
    fn conditions(&self) -> Vec<Condition> {
        let listed = |m: &BTreeMap<String, usize>, what: &str| {
            m.iter()
                .map(|(k, n)| format!("{k} {what} {n} resource instances"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        vec![
            (
                "NamespaceDeletionDiscoveryFailure",
                self.discovery_failed
                    .clone()
                    .map(|e| ("DiscoveryFailed", format!("Discovery failed for some groups: {e}"))),
                "ResourcesDiscovered",
                "All resources successfully discovered",
            ),
            (
                "NamespaceDeletionGroupVersionParsingFailure",
                None,
                "ParsedGroupVersions",
                "All legacy kube types successfully parsed",
            ),
            (
                "NamespaceDeletionContentFailure",
                (!self.delete_failed.is_empty()).then(|| {
                    (
                        "ContentDeletionFailed",
                        format!(
                            "Failed to delete all resource types, {} remaining: {}",
                            self.delete_failed.len(),
                            self.delete_failed.join(", ")
                        ),
                    )
                }),
                "ContentDeleted",
                "All content successfully deleted, may be waiting on finalization",
            ),
            (
                "NamespaceContentRemaining",
                (!self.remaining.is_empty()).then(|| {
                    (
                        "SomeResourcesRemain",
                        format!("Some resources are remaining: {}", listed(&self.remaining, "has")),
                    )
                }),
                "ContentRemoved",
                "All content successfully removed",
            ),
            (
                "NamespaceFinalizersRemaining",
                (!self.finalizers.is_empty()).then(|| {
                    (
                        "SomeFinalizersRemain",
                        format!(
                            "Some content in the namespace has finalizers remaining: {}",
                            listed(&self.finalizers, "in")
                        ),
                    )
                }),
                "ContentHasNoFinalizers",
                "All content-preserving finalizers finished",
            ),
        ]
    }
}

/// Deletes what is left in `ns`, reporting what this pass found.
async fn delete_contents(client: &kube::Client, ns: &str) -> anyhow::Result<Pass> {
    let discovery = Discovery::new(client.clone()).run().await?;
    let mut pass = Pass::default();
    for group in discovery.groups() {
        for (ar, caps) in group.recommended_resources() {
            if caps.scope != Scope::Namespaced
                || !caps.supports_operation(verbs::LIST)
                || !caps.supports_operation(verbs::DELETE)
            {
                continue;
            }
            let resource = if ar.group.is_empty() {
                ar.plural.clone()
            } else {
                format!("{}.{}", ar.plural, ar.group)
            };
            let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &ar);
            let list = match api.list_metadata(&ListParams::default()).await {
                Ok(l) => l,
                Err(e) => {
                    pass.discovery_failed = Some(format!("{resource}: {e}"));
                    continue;
                }
            };
            if list.items.is_empty() {
                continue;
            }
            pass.remaining.insert(resource.clone(), list.items.len());
            for f in list.items.iter().flat_map(|i| i.metadata.finalizers.iter().flatten()) {
                *pass.finalizers.entry(f.clone()).or_default() += 1;
            }
            let live = list
                .items
                .iter()
                .filter(|i| i.metadata.deletion_timestamp.is_none())
                .count();
            // One request for the lot where the resource allows it, as upstream.
            if live > 1 && caps.supports_operation(verbs::DELETE_COLLECTION) {
                match api
                    .delete_collection(&DeleteParams::background(), &ListParams::default())
                    .await
                {
                    Ok(_) => continue,
                    Err(e) => tracing::debug!(namespace = ns, %resource, error = %e, "deletecollection failed"),
                }
            }
            for item in list.items {
                if item.metadata.deletion_timestamp.is_some() {
                    continue;
                }
                let name = item.metadata.name.unwrap_or_default();
                match api.delete(&name, &DeleteParams::background()).await {
                    Ok(_) => {}
                    Err(kube::Error::Api(s)) if s.code == 404 => {}
                    Err(e) => {
                        tracing::warn!(namespace = ns, %resource, %name, error = %e, "delete failed");
                        if !pass.delete_failed.contains(&resource) {
                            pass.delete_failed.push(resource.clone());
                        }
                    }
                }
            }
        }
    }
    Ok(pass)
}

/// Writes the pass's conditions on the namespace, keeping transition times that did not change.
async fn report(client: &kube::Client, ns: &Namespace, pass: &Pass) -> anyhow::Result<()> {
    let now = Time(jiff::Timestamp::now());
    let mut status = ns.status.clone().unwrap_or_default();
    let conditions = status.conditions.get_or_insert_default();
    for (type_, failure, ok_reason, ok_message) in pass.conditions() {
        let (state, reason, message) = match failure {
            Some((r, m)) => ("True", r, m),
            None => ("False", ok_reason, ok_message.to_string()),
        };
        let since = conditions
            .iter()
            .find(|c| c.type_ == type_ && c.status == state)
            .and_then(|c| c.last_transition_time.clone());
        conditions.retain(|c| c.type_ != type_);
        conditions.push(NamespaceCondition {
            type_: type_.into(),
            status: state.into(),
            reason: Some(reason.into()),
            message: Some(message),
            last_transition_time: since.or(Some(now.clone())),
        });
    }
    if ns.status.as_ref() == Some(&status) {
        return Ok(());
    }
    let api: Api<Namespace> = Api::all(client.clone());
    super::update_status(&api, ns, |n| n.status = Some(status.clone())).await?;
    Ok(())
}

pub async fn run(ctx: Ctx) -> anyhow::Result<()> {
    let namespaces = ctx.informers.get::<Namespace>();
    let queue = Queue::<String>::new();
    let q = queue.clone();
    namespaces.on_change(move |c| {
        if let Change::Added(ns) | Change::Updated { new: ns, .. } = c
            && ns.metadata.deletion_timestamp.is_some()
        {
            q.add(ns.metadata.name.clone().unwrap_or_default());
        }
    });
    namespaces.synced().await;
    let workers = ctx.opts.concurrent_namespace_syncs;
    let again = queue.clone();
    run_workers("namespace", queue, workers, move |name: String| {
        let (ctx, namespaces, again) = (ctx.clone(), namespaces.clone(), again.clone());
        async move {
            let Some(ns) = namespaces.get(&name) else { return Ok(()) };
            let held = ns
                .spec
                .as_ref()
                .and_then(|s| s.finalizers.as_ref())
                .is_some_and(|f| f.iter().any(|x| x == FINALIZER));
            if ns.metadata.deletion_timestamp.is_none() || !held {
                return Ok(());
            }
            let pass = delete_contents(&ctx.client, &name).await?;
            report(&ctx.client, &ns, &pass).await?;
            if pass.left() > 0 {
                again.add_after(name, Duration::from_secs(1));
                return Ok(());
            }
            let mut done = (*ns).clone();
            if let Some(spec) = done.spec.as_mut() {
                spec.finalizers = Some(
                    spec.finalizers
                        .take()
                        .unwrap_or_default()
                        .into_iter()
                        .filter(|f| f != FINALIZER)
                        .collect(),
                );
            }
            let api: Api<Namespace> = Api::all(ctx.client.clone());
            ignore_not_found(
                api.replace_subresource("finalize", &name, &PostParams::default(), &done)
                    .await,
            )?;
            tracing::info!(namespace = %name, "namespace emptied and finalized");
            Ok(())
        }
    })
    .await;
    Ok(())
}
