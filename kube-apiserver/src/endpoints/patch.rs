//! PATCH: JSON patch, merge patch, strategic merge patch and server-side apply, applied to
//! the current object inside the store's compare-and-swap loop.

use super::rest::{create_object, object_response, write_options};
use super::{Body, Ctx};
use crate::errors::{ApiError, ApiResult, FieldError};
use crate::patch;
use crate::registry::convert::to_version;
use crate::registry::meta::{self, meta_mut};
use crate::registry::store::Store;
use crate::schema::model::SchemaLookup;
use crate::state::Api;
use http::Response;
use serde_json::{Value, json};

const JSON_PATCH: &str = "application/json-patch+json";
const MERGE_PATCH: &str = "application/merge-patch+json";
const STRATEGIC: &str = "application/strategic-merge-patch+json";
const APPLY: &str = "application/apply-patch+yaml";

fn patch_type(ctx: &Ctx) -> ApiResult<&'static str> {
    let ct = ctx
        .content_type()
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    [JSON_PATCH, MERGE_PATCH, STRATEGIC, APPLY]
        .into_iter()
        .find(|t| *t == ct)
        .ok_or_else(|| ApiError::unsupported_media_type(&format!("{JSON_PATCH}, {MERGE_PATCH}, {STRATEGIC}, {APPLY}")))
}

fn parse_patch(ctx: &Ctx, ty: &str) -> ApiResult<Value> {
    let text = std::str::from_utf8(&ctx.body).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let parsed = if ty == APPLY {
        serde_saphyr::from_str::<Value>(text).map_err(|e| e.to_string())
    } else {
        serde_json::from_str::<Value>(text).map_err(|e| e.to_string())
    };
    parsed.map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))
}

/// The definition name of the request's kind, in the version of the request.
fn type_name(ctx: &Ctx) -> String {
    crate::schema::schema()
        .kind_type(ctx.info.group, &ctx.path.version, ctx.info.kind)
        .map(String::from)
        .unwrap_or_default()
}

/// Applies the request's (non-apply) patch to `current`, which is in the request version.
pub fn apply_to(_api: &Api, ctx: &Ctx, current: &Value, type_name: &str) -> ApiResult<Value> {
    let ty = patch_type(ctx)?;
    let p = parse_patch(ctx, ty)?;
    let name = ctx.path.name.as_deref().unwrap_or_default();
    let invalid = |msg: String| {
        ApiError::invalid(
            ctx.info.group,
            ctx.info.kind,
            name,
            &[FieldError::invalid("patch", "", &msg)],
        )
    };
    match ty {
        JSON_PATCH => patch::json_patch(current, &p).map_err(|e| ApiError::new(422, "Invalid", e.to_string())),
        MERGE_PATCH => Ok(patch::merge_patch(current, &p)),
        STRATEGIC => {
            patch::strategic_merge(current, &p, crate::schema::schema(), type_name).map_err(|e| invalid(e.to_string()))
        }
        _ => Err(ApiError::unsupported_media_type(APPLY)),
    }
}

pub async fn handle(api: &Api, store: &Store, ctx: Ctx, sub: Option<&str>) -> ApiResult<Response<Body>> {
    let ty = patch_type(&ctx)?;
    let name = ctx.path.name.clone().unwrap_or_default();
    let opts = write_options(&ctx, sub);
    let gv = ctx.api_version();
    let storage_gv = ctx.info.storage_api_version();
    let tname = type_name(&ctx);
    if ty == APPLY {
        return apply(api, store, ctx, sub, &tname).await;
    }
    let pinned = parse_patch(&ctx, ty)?.pointer("/metadata/resourceVersion").is_some();
    let updated = store
        .update(ctx.namespace(), &name, &opts, |current| {
            let in_request_version = to_version(current, ctx.info.kind, &gv);
            let mut patched = apply_to(api, &ctx, &in_request_version, &tname)?;
            check_fields(&ctx, &mut patched, &gv)?;
            super::rest::admit(api, &ctx, &mut patched, Some(&in_request_version), sub)?;
            if !pinned {
                meta_mut(&mut patched).remove("resourceVersion");
            }
            Ok(to_version(patched, ctx.info.kind, &storage_gv))
        })
        .await?;
    object_response(&ctx, 200, updated)
}

/// Server-side apply: creates the object when missing, else merges with ownership.
async fn apply(api: &Api, store: &Store, ctx: Ctx, sub: Option<&str>, tname: &str) -> ApiResult<Response<Body>> {
    let manager = ctx.query.get("fieldManager").unwrap_or_default().to_string();
    if manager.is_empty() {
        return Err(ApiError::invalid_options(
            "PatchOptions",
            &[FieldError::required("fieldManager", "is required for apply patch")],
        ));
    }
    let force = ctx.query.flag("force");
    let mut applied = parse_patch(&ctx, APPLY)?;
    check_fields(&ctx, &mut applied, &ctx.api_version())?;
    let name = ctx.path.name.clone().unwrap_or_default();
    let gv = ctx.api_version();
    let storage_gv = ctx.info.storage_api_version();
    let now = meta::now_rfc3339();
    let apply_ctx = patch::ApplyContext {
        manager: &manager,
        force,
        api_version: &gv,
        subresource: sub,
        now: &now,
    };
    let schema = crate::schema::schema();
    let to_api_error = |e: patch::ApplyError| match e {
        patch::ApplyError::Conflicts(c) => {
            let causes: Vec<Value> = c
                .iter()
                .map(|c| json!({"reason": "FieldManagerConflict", "message": conflict_summary(c), "field": c.field}))
                .collect();
            ApiError::new(409, "Conflict", patch::conflict_message(&c)).with_details(json!({"causes": causes}))
        }
        patch::ApplyError::Invalid(m) => ApiError::bad_request(m),
    };
    let opts = write_options(&ctx, sub);
    let result = store
        .update(ctx.namespace(), &name, &opts, |current| {
            let live = to_version(current, ctx.info.kind, &gv);
            let mut merged =
                patch::server_side_apply(Some(&live), &applied, &apply_ctx, schema, tname).map_err(to_api_error)?;
            super::rest::admit(api, &ctx, &mut merged, Some(&live), sub)?;
            if applied.pointer("/metadata/resourceVersion").is_none() {
                meta_mut(&mut merged).remove("resourceVersion");
            }
            Ok(to_version(merged, ctx.info.kind, &storage_gv))
        })
        .await;
    match result {
        Err(e) if e.code == 404 && sub.is_none() => {
            let created = patch::server_side_apply(None, &applied, &apply_ctx, schema, tname).map_err(to_api_error)?;
            let mut created = to_version(created, ctx.info.kind, &storage_gv);
            meta_mut(&mut created).insert("name".into(), json!(name));
            let obj = create_object(api, store, &ctx, created).await?;
            object_response(&ctx, 201, obj)
        }
        other => object_response(&ctx, 200, other?),
    }
}

/// One conflict as a cause message: `conflict with "m" with subresource "scale" using apps/v1`.
fn conflict_summary(c: &patch::Conflict) -> String {
    let sub = c
        .subresource
        .as_deref()
        .map(|s| format!(" with subresource {s:?}"))
        .unwrap_or_default();
    format!("conflict with {:?}{sub} using {}", c.manager, c.api_version)
}

/// Unknown fields in a patch: dropped, and in Strict mode refused as upstream does
/// (`patch: Invalid value: …: strict decoding error: unknown field "spec.foo"`).
fn check_fields(ctx: &Ctx, obj: &mut Value, api_version: &str) -> ApiResult<()> {
    let unknown = super::rest::prune_unknown(ctx, obj, api_version)?;
    if unknown.is_empty() || super::rest::field_validation(ctx)? != "Strict" {
        return Ok(());
    }
    let list: Vec<String> = unknown.iter().map(|f| format!("unknown field {f:?}")).collect();
    let body = String::from_utf8_lossy(&ctx.body).into_owned();
    let name = ctx.path.name.as_deref().unwrap_or_default();
    Err(ApiError::invalid(
        ctx.info.group,
        ctx.info.kind,
        name,
        &[FieldError::invalid(
            "patch",
            body,
            &format!("strict decoding error: {}", list.join(", ")),
        )],
    ))
}
