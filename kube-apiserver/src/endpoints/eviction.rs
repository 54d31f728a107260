//! `pods/eviction`: a delete that respects PodDisruptionBudgets, as upstream's eviction
//! REST: a pod covered by a budget with no disruptions left is refused with 429, and an
//! allowed eviction is charged to the budget (compare-and-swap) before the pod goes.

use super::negotiate;
use super::rest::created_status;
use super::{Body, Ctx, respond_value};
use crate::errors::{ApiError, ApiResult};
use crate::registry::meta;
use crate::registry::store::{Store, WriteOptions};
use crate::state::Api;
use api_types::labels::Selector;
use http::Response;
use serde_json::{Value, json};

/// Pods that are done, not yet running, or already going need no budget.
fn ignores_budgets(pod: &Value) -> bool {
    meta::is_deleting(pod)
        || matches!(
            pod.pointer("/status/phase").and_then(Value::as_str),
            Some("Succeeded" | "Failed" | "Pending")
        )
}

fn too_many_requests(cause: String) -> ApiError {
    ApiError::new(
        429,
        "TooManyRequests",
        "Cannot evict pod as it would violate the pod's disruption budget.",
    )
    .with_details(json!({"causes": [{"reason": "DisruptionBudget", "message": cause}]}))
}

pub async fn evict(api: &Api, store: &Store, ctx: Ctx) -> ApiResult<Response<Body>> {
    let eviction = negotiate::decode_body(ctx.content_type(), &ctx.body)?;
    let name = ctx.path.name.clone().unwrap_or_default();
    let ns = ctx.namespace().unwrap_or_default().to_string();
    let options = eviction.get("deleteOptions").cloned().unwrap_or(json!({}));
    let opts = super::rest::parse_delete_options(&options, &Default::default(), ctx.dry_run())?;
    let pod = store.get(Some(&ns), &name).await?;
    if !ignores_budgets(&pod) {
        charge_budget(api, &ns, &name, &pod, ctx.dry_run()).await?;
    }
    if !ctx.dry_run() {
        mark_disruption_target(store, &ns, &name).await?;
    }
    store.delete(Some(&ns), &name, &opts).await?;
    Ok(respond_value(201, &created_status(), ctx.output.encoding))
}

/// The pod records why it goes: the DisruptionTarget condition, as upstream sets it before an
/// eviction's delete.
async fn mark_disruption_target(store: &Store, ns: &str, name: &str) -> ApiResult<()> {
    let opts = WriteOptions {
        subresource: Some("status".into()),
        ..Default::default()
    };
    store
        .update(Some(ns), name, &opts, |mut current| {
            let condition = json!({"type": "DisruptionTarget", "status": "True", "reason": "EvictionByEvictionAPI",
                "message": "Eviction API: evicting", "lastTransitionTime": meta::now_rfc3339()});
            if !current.get("status").is_some_and(Value::is_object) {
                current["status"] = json!({});
            }
            let conditions = current["status"]
                .as_object_mut()
                .map(|s| s.entry("conditions").or_insert_with(|| json!([])));
            if let Some(Value::Array(list)) = conditions {
                list.retain(|c| c.get("type").and_then(Value::as_str) != Some("DisruptionTarget"));
                list.push(condition);
            }
            meta::meta_mut(&mut current).remove("resourceVersion");
            Ok(current)
        })
        .await?;
    Ok(())
}

/// Finds the one budget covering the pod and takes one disruption from it.
async fn charge_budget(api: &Api, ns: &str, pod_name: &str, pod: &Value, dry_run: bool) -> ApiResult<()> {
    let Some(pdbs) = api.store_named("policy", "poddisruptionbudgets") else {
        return Ok(());
    };
    let (all, _) = pdbs.cacher.list(&format!("{ns}/"));
    let covering: Vec<&Value> = all
        .iter()
        .map(|p| &p.value)
        .filter(|p| {
            p.pointer("/spec/selector")
                .and_then(|s| Selector::from_label_selector_json(s).ok())
                .is_some_and(|s| !s.is_empty() && s.matches_json(pod.pointer("/metadata/labels")))
        })
        .collect();
    let pdb = match covering.as_slice() {
        [] => return Ok(()),
        [one] => meta::name(one).to_string(),
        _ => {
            return Err(ApiError::internal(
                "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
            ));
        }
    };
    let opts = WriteOptions {
        dry_run,
        subresource: Some("status".into()),
        ..Default::default()
    };
    pdbs.update(Some(ns), &pdb, &opts, |mut current| {
        let generation = current
            .pointer("/metadata/generation")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let observed = current
            .pointer("/status/observedGeneration")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        if observed < generation {
            return Err(too_many_requests(format!(
                "The disruption budget {pdb} is still being processed by the server."
            )));
        }
        let allowed = current
            .pointer("/status/disruptionsAllowed")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        if allowed <= 0 {
            let desired = current
                .pointer("/status/desiredHealthy")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            let healthy = current
                .pointer("/status/currentHealthy")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            return Err(too_many_requests(format!(
                "The disruption budget {pdb} needs {desired} healthy pods and has {healthy} currently"
            )));
        }
        current["status"]["disruptionsAllowed"] = json!(allowed - 1);
        let disrupted = current["status"]
            .as_object_mut()
            .map(|s| s.entry("disruptedPods").or_insert_with(|| json!({})));
        if let Some(map) = disrupted {
            map[pod_name] = json!(meta::now_rfc3339());
        }
        meta::meta_mut(&mut current).remove("resourceVersion");
        Ok(current)
    })
    .await?;
    Ok(())
}
