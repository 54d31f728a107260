//! Resource handlers: get, create, update, patch, delete and deletecollection, and the
//! subresources (status, scale, binding, eviction, finalize, approval).

use super::negotiate::{self, View};
use super::{Body, Ctx, list, patch, respond_value, table};
use crate::errors::{ApiError, ApiResult};
use crate::registry::convert::to_version;
use crate::registry::meta::{self, is_deleting, meta_mut, now_rfc3339};
use crate::registry::resources::{ResourceInfo, Subresource};
use crate::registry::store::{self, DeleteOptions, Deleted, Store, WriteOptions};
use crate::schema::model::SchemaLookup;
use crate::state::Api;
use http::{Method, Response};
use serde_json::{Value, json};

pub async fn dispatch(api: &Api, ctx: Ctx) -> ApiResult<Response<Body>> {
    let info = ctx.info;
    if info.virtual_resource {
        return virtual_resource(api, ctx).await;
    }
    let store = api.store(info).ok_or_else(ApiError::not_found_path)?;
    if let Some(sub) = ctx.path.subresource.clone() {
        let sub_info = info.subresource(&sub).ok_or_else(ApiError::not_found_path)?;
        return subresource(api, store, ctx, sub_info.kind).await;
    }
    let named = ctx.path.name.is_some();
    match (&ctx.method, named) {
        (&Method::GET, false) if ctx.query.flag("watch") => list::watch(store, ctx).await,
        (&Method::GET, false) => list::list(api, store, ctx).await,
        (&Method::GET, true) => get(store, ctx).await,
        (&Method::POST, false) => create(api, store, ctx).await,
        (&Method::PUT, true) => update(api, store, ctx, None).await,
        (&Method::PATCH, true) => patch::handle(api, store, ctx, None).await,
        (&Method::DELETE, true) => delete(api, store, ctx).await,
        (&Method::DELETE, false) => delete_collection(api, store, ctx).await,
        _ => Err(ApiError::method_not_allowed()),
    }
}

/// Answers with one object in the requested version and view.
pub fn object_response(ctx: &Ctx, code: u16, obj: Value) -> ApiResult<Response<Body>> {
    let obj = to_version(obj, ctx.info.kind, &ctx.api_version());
    let body = match ctx.output.view {
        View::Object => obj,
        View::Table => table::for_objects(
            ctx,
            std::slice::from_ref(&obj),
            json!({"resourceVersion": meta::resource_version(&obj)}),
        ),
        View::PartialMetadata => table::partial_metadata(&obj),
    };
    Ok(ctx.with_warnings(respond_value(code, &body, ctx.output.encoding)))
}

fn name_of(ctx: &Ctx) -> &str {
    ctx.path.name.as_deref().unwrap_or_default()
}

async fn get(store: &Store, ctx: Ctx) -> ApiResult<Response<Body>> {
    let name = name_of(&ctx);
    let obj = if ctx.query.get("resourceVersion") == Some("0") {
        store
            .cached(ctx.namespace(), name)
            .map(|o| o.value.clone())
            .ok_or_else(|| ApiError::not_found(ctx.info.group, ctx.info.resource, name))?
    } else {
        store.get(ctx.namespace(), name).await?
    };
    object_response(&ctx, 200, obj)
}

/// Decodes the request body as an object of this resource, in its storage version.
pub fn decode_object(ctx: &Ctx) -> ApiResult<Value> {
    let mut obj = negotiate::decode_body(ctx.content_type(), &ctx.body)?;
    if !obj.is_object() {
        return Err(ApiError::bad_request(format!(
            "the object provided is unrecognized (must be of type {}): couldn't get version/kind; json parse error: expected an object",
            ctx.info.kind
        )));
    }
    let info = ctx.info;
    let url_version = ctx.api_version();
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or(info.kind).to_string();
    let version = obj
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or(&url_version)
        .to_string();
    let served = info.versions.iter().any(|v| info.api_version(v) == version);
    if kind != info.kind || !served {
        return Err(ApiError::bad_request(format!(
            "{kind} in version {:?} cannot be handled as a {}: no kind {kind:?} is registered for version {version:?}",
            version.rsplit('/').next().unwrap_or_default(),
            info.kind
        )));
    }
    obj["apiVersion"] = json!(version);
    let unknown = prune_unknown(ctx, &mut obj, &version)?;
    if !unknown.is_empty() && field_validation(ctx)? == "Strict" {
        let list: Vec<String> = unknown.iter().map(|f| format!("unknown field {f:?}")).collect();
        return Err(ApiError::bad_request(format!(
            "{kind} in version {:?} cannot be handled as a {}: strict decoding error: {}",
            version.rsplit('/').next().unwrap_or_default(),
            info.kind,
            list.join(", ")
        )));
    }
    Ok(to_version(obj, info.kind, &info.storage_api_version()))
}

/// The `fieldValidation` mode; absent means Warn, as upstream.
pub fn field_validation(ctx: &Ctx) -> ApiResult<&str> {
    match ctx.query.get("fieldValidation") {
        None | Some("") => Ok("Warn"),
        Some(m @ ("Ignore" | "Warn" | "Strict")) => Ok(m),
        Some(other) => {
            let kind = match ctx.method {
                Method::POST => "CreateOptions",
                Method::PATCH => "PatchOptions",
                _ => "UpdateOptions",
            };
            Err(ApiError::invalid_options(
                kind,
                &[crate::errors::FieldError::not_supported(
                    "fieldValidation",
                    other,
                    &["", "Ignore", "Strict", "Warn"],
                )],
            ))
        }
    }
}

/// Drops fields the type does not declare (as typed decoding does) and, in Warn mode,
/// records a warning for each. Returns the dropped paths.
pub fn prune_unknown(ctx: &Ctx, obj: &mut Value, api_version: &str) -> ApiResult<Vec<String>> {
    let version = api_version.rsplit('/').next().unwrap_or_default();
    let Some(type_name) = crate::schema::schema().kind_type(ctx.info.group, version, ctx.info.kind) else {
        return Ok(Vec::new());
    };
    let unknown = crate::schema::schema().prune_unknown(type_name, obj);
    if field_validation(ctx)? == "Warn" {
        for f in &unknown {
            ctx.warn(format!("unknown field {f:?}"));
        }
    }
    Ok(unknown)
}

pub fn write_options(ctx: &Ctx, subresource: Option<&str>) -> WriteOptions {
    WriteOptions {
        dry_run: ctx.dry_run(),
        subresource: subresource.map(String::from),
        manager: Some(field_manager(ctx)),
        // Server-side apply records its own ownership.
        applied: ctx.method == Method::PATCH
            && ctx
                .content_type()
                .is_some_and(|ct| ct.starts_with("application/apply-patch")),
    }
}

/// `fieldManager`, else what upstream derives from the User-Agent: the text before the first `/`.
fn field_manager(ctx: &Ctx) -> String {
    if let Some(m) = ctx.query.get("fieldManager").filter(|m| !m.is_empty()) {
        return m.to_string();
    }
    let ua = ctx
        .headers
        .get(http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    ua.split('/').next().unwrap_or_default().to_string()
}

/// New objects need their namespace to exist and not be terminating.
pub async fn ensure_namespace(api: &Api, info: &ResourceInfo, ns: &str, name: &str) -> ApiResult<()> {
    let store = api
        .store_named("", "namespaces")
        .ok_or_else(|| ApiError::internal("no namespaces store"))?;
    let obj = match store.cached(None, ns) {
        Some(o) => (*o).clone(),
        None => store
            .get(None, ns)
            .await
            .map_err(|_| ApiError::not_found("", "namespaces", ns))?,
    };
    if is_deleting(&obj) {
        return Err(ApiError::forbidden(format!(
            "{} {name:?} is forbidden: unable to create new content in namespace {ns} because it is being terminated",
            info.qualified()
        ))
        .with_details(
            json!({"name": name, "group": info.group, "kind": info.resource, "causes": [{
                "reason": "NamespaceTerminating",
                "message": format!("namespace {ns} is being terminated"),
                "field": "metadata.namespace"
            }]}),
        ));
    }
    Ok(())
}

pub async fn create(api: &Api, store: &Store, ctx: Ctx) -> ApiResult<Response<Body>> {
    let obj = decode_object(&ctx)?;
    store::check_identity(ctx.info, &obj, ctx.namespace(), None)?;
    let created = create_object(api, store, &ctx, obj).await?;
    object_response(&ctx, 201, created)
}

/// Admission and storage for a new object (shared by POST, create-on-update and apply).
pub async fn create_object(api: &Api, store: &Store, ctx: &Ctx, mut obj: Value) -> ApiResult<Value> {
    let info = ctx.info;
    if meta::name(&obj).is_empty()
        && meta::str_at(&obj, &["metadata", "generateName"])
            .unwrap_or_default()
            .is_empty()
    {
        return Err(ApiError::invalid(info.group, info.kind, "", &[store::name_required()]));
    }
    if info.namespaced {
        let ns = ctx
            .namespace()
            .ok_or_else(|| ApiError::bad_request("a namespace is required for this resource"))?;
        ensure_namespace(api, info, ns, meta::name(&obj)).await?;
        // Admission (address allocation) records the object's namespace.
        meta_mut(&mut obj).insert("namespace".into(), json!(ns));
    }
    admit(api, ctx, &mut obj, None, None)?;
    let ns = ctx.namespace().unwrap_or_default();
    crate::admission::quota::charge(api, info, ns, &obj, ctx.dry_run()).await?;
    let admitted = crate::registry::services::admit_create(api, info, &mut obj, ctx.dry_run()).await;
    let result = match admitted {
        Ok(()) => {
            store
                .create(ctx.namespace(), obj.clone(), &write_options(ctx, None))
                .await
        }
        Err(e) => Err(e),
    };
    if result.is_err() && !ctx.dry_run() {
        crate::registry::services::release(api, info, &obj).await;
    }
    result
}

pub async fn update(api: &Api, store: &Store, ctx: Ctx, sub: Option<&str>) -> ApiResult<Response<Body>> {
    let obj = decode_object(&ctx)?;
    let name = name_of(&ctx).to_string();
    store::check_identity(ctx.info, &obj, ctx.namespace(), Some(&name))?;
    let opts = write_options(&ctx, sub);
    let result = store
        .update(ctx.namespace(), &name, &opts, |current| {
            let mut new = obj.clone();
            admit(api, &ctx, &mut new, Some(&current), sub)?;
            Ok(new)
        })
        .await;
    match result {
        Err(e) if e.code == 404 && sub.is_none() && creates_on_update(ctx.info) => {
            let created = create_object(api, store, &ctx, obj).await?;
            object_response(&ctx, 201, created)
        }
        other => object_response(&ctx, 200, other?),
    }
}

/// Admission for a write: RBAC escalation checks, then the admission plugins; their
/// warnings go to the response.
pub fn admit(api: &Api, ctx: &Ctx, obj: &mut Value, old: Option<&Value>, sub: Option<&str>) -> ApiResult<()> {
    let url_name = ctx.path.name.as_deref().unwrap_or_default();
    crate::admission::rbac::check(api, &ctx.user, ctx.info, url_name, obj, old)?;
    let attrs = crate::admission::Attributes {
        api,
        user: &ctx.user,
        info: ctx.info,
        operation: if old.is_some() {
            crate::admission::Operation::Update
        } else {
            crate::admission::Operation::Create
        },
        subresource: sub,
        namespace: ctx.namespace().unwrap_or_default(),
        dry_run: ctx.dry_run(),
    };
    for w in crate::admission::admit(&attrs, obj, old)? {
        ctx.warn(w);
    }
    Ok(())
}

/// Kinds whose PUT creates a missing object, as upstream's AllowCreateOnUpdate.
fn creates_on_update(info: &ResourceInfo) -> bool {
    matches!(
        info.resource,
        "endpoints" | "events" | "leases" | "limitranges" | "nodes"
    )
}

pub fn delete_options(ctx: &Ctx) -> ApiResult<DeleteOptions> {
    let body: Value = if ctx.body.is_empty() {
        json!({})
    } else {
        negotiate::decode_body(ctx.content_type(), &ctx.body)?
    };
    parse_delete_options(&body, &ctx.query, ctx.dry_run())
}

/// DeleteOptions from a body (or an Eviction's `deleteOptions`), with the query as fallback.
pub fn parse_delete_options(body: &Value, q: &super::request::Query, dry_run: bool) -> ApiResult<DeleteOptions> {
    let grace = body
        .get("gracePeriodSeconds")
        .and_then(Value::as_i64)
        .or_else(|| q.get("gracePeriodSeconds").and_then(|s| s.parse().ok()));
    let mut propagation = body
        .get("propagationPolicy")
        .and_then(Value::as_str)
        .map(String::from)
        .or_else(|| q.get("propagationPolicy").map(String::from));
    let orphan = body
        .get("orphanDependents")
        .and_then(Value::as_bool)
        .or_else(|| q.get("orphanDependents").map(|v| v == "true"));
    if propagation.is_none() && orphan == Some(true) {
        propagation = Some("Orphan".into());
    }
    if let Some(p) = &propagation
        && !matches!(p.as_str(), "Orphan" | "Background" | "Foreground")
    {
        return Err(ApiError::invalid_options(
            "DeleteOptions",
            &[crate::errors::FieldError::not_supported(
                "propagationPolicy",
                p.as_str(),
                &["Foreground", "Background", "Orphan", "nil"],
            )],
        ));
    }
    let dry = body
        .get("dryRun")
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|v| v == "All"))
        || dry_run;
    Ok(DeleteOptions {
        grace_period: grace,
        propagation,
        precondition_uid: body
            .pointer("/preconditions/uid")
            .and_then(Value::as_str)
            .map(String::from),
        precondition_rv: body
            .pointer("/preconditions/resourceVersion")
            .and_then(Value::as_str)
            .map(String::from),
        dry_run: dry,
    })
}

async fn delete(api: &Api, store: &Store, ctx: Ctx) -> ApiResult<Response<Body>> {
    let opts = delete_options(&ctx)?;
    let name = name_of(&ctx).to_string();
    let immortal = ["default", "kube-system", "kube-public"].contains(&name.as_str());
    if ctx.info.resource == "namespaces" && immortal && api.admission.on("NamespaceLifecycle") {
        return Err(ApiError::forbidden(format!(
            "namespaces {name:?} is forbidden: this namespace may not be deleted"
        ))
        .with_details(json!({"name": name, "kind": "namespaces"})));
    }
    match store.delete(ctx.namespace(), &name, &opts).await? {
        Deleted::Gone(obj) => {
            if !opts.dry_run {
                crate::registry::services::release(api, ctx.info, &obj).await;
            }
            Ok(respond_value(200, &success_status(ctx.info, &obj), ctx.output.encoding))
        }
        Deleted::Pending(obj) => object_response(&ctx, 200, obj),
    }
}

/// The `Status` a completed delete answers with.
pub fn success_status(info: &ResourceInfo, obj: &Value) -> Value {
    let mut details = json!({"name": meta::name(obj), "kind": info.resource, "uid": meta::uid(obj)});
    if !info.group.is_empty() {
        details["group"] = json!(info.group);
    }
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details})
}

async fn delete_collection(api: &Api, store: &Store, ctx: Ctx) -> ApiResult<Response<Body>> {
    let opts = delete_options(&ctx)?;
    let filter = list::Filter::from_query(ctx.info, &ctx.query)?;
    let (items, rv) = list::consistent_snapshot(api, store, ctx.namespace()).await?;
    let mut deleted = Vec::new();
    for obj in items.iter().filter(|o| filter.matches(ctx.info, o)).map(|o| &o.value) {
        let ns = Some(meta::namespace(obj)).filter(|n| !n.is_empty());
        match store.delete(ns, meta::name(obj), &opts).await {
            Ok(Deleted::Gone(o)) | Ok(Deleted::Pending(o)) => deleted.push(crate::cacher::cached(o)),
            Err(e) if e.code == 404 => {}
            Err(e) => return Err(e),
        }
    }
    Ok(list::list_response(
        &ctx,
        &deleted,
        json!({"resourceVersion": rv.to_string()}),
    ))
}

async fn subresource(api: &Api, store: &Store, ctx: Ctx, kind: Subresource) -> ApiResult<Response<Body>> {
    let m = ctx.method.clone();
    match (kind, m) {
        (Subresource::Status | Subresource::Approval, Method::GET) => get(store, ctx).await,
        (Subresource::Status | Subresource::Approval, Method::PUT) => update(api, store, ctx, Some("status")).await,
        (Subresource::Status | Subresource::Approval, Method::PATCH) => {
            patch::handle(api, store, ctx, Some("status")).await
        }
        (Subresource::Scale, _) => scale(api, store, ctx).await,
        (Subresource::Binding, Method::POST) => bind(store, ctx).await,
        (Subresource::Eviction, Method::POST) => super::eviction::evict(api, store, ctx).await,
        (Subresource::Finalize, Method::PUT) => finalize(store, ctx).await,
        (Subresource::EphemeralContainers | Subresource::Resize, Method::GET) => get(store, ctx).await,
        (Subresource::Token, Method::POST) => super::authn::token_request(api, &ctx).await,
        (Subresource::Connect, _) => Err(ApiError::new(
            503,
            "ServiceUnavailable",
            format!(
                "the {} subresource needs a kubelet, and none serves this object yet",
                ctx.path.subresource.as_deref().unwrap_or("")
            ),
        )),
        _ => Err(ApiError::method_not_allowed()),
    }
}

/// The Scale view of a workload: spec.replicas, status.replicas and the selector string.
fn to_scale(obj: &Value) -> Value {
    let selector = obj
        .pointer("/spec/selector")
        .map(|s| match s.get("matchLabels").or(s.get("matchExpressions")) {
            Some(_) => api_types::labels::Selector::from_label_selector_json(s)
                .map(|s| s.to_string())
                .unwrap_or_default(),
            // ReplicationControllers use a plain map selector.
            None => s
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .unwrap_or_default(),
        })
        .unwrap_or_default();
    let m = &obj["metadata"];
    let mut metadata = json!({"name": m["name"], "namespace": m["namespace"], "uid": m["uid"], "resourceVersion": m["resourceVersion"], "creationTimestamp": m["creationTimestamp"]});
    if let Some(map) = metadata.as_object_mut() {
        map.retain(|_, v| !v.is_null());
    }
    json!({
        "kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": metadata,
        "spec": {"replicas": obj.pointer("/spec/replicas").cloned().unwrap_or(json!(1))},
        "status": {"replicas": obj.pointer("/status/replicas").cloned().unwrap_or(json!(0)), "selector": selector},
    })
}

async fn scale(api: &Api, store: &Store, ctx: Ctx) -> ApiResult<Response<Body>> {
    let name = name_of(&ctx).to_string();
    let scale_out = to_scale;
    let result = match ctx.method {
        Method::GET => scale_out(&store.get(ctx.namespace(), &name).await?),
        Method::PUT | Method::PATCH => {
            let body = if ctx.method == Method::PUT {
                Some(negotiate::decode_body(ctx.content_type(), &ctx.body)?)
            } else {
                None
            };
            let opts = write_options(&ctx, Some("scale"));
            let updated = store
                .update(ctx.namespace(), &name, &opts, |current| {
                    let scale = match &body {
                        Some(b) => b.clone(),
                        None => {
                            // A patch pins a resourceVersion only when it sets one itself; the
                            // current one is not a precondition (a lost race is retried).
                            let mut base = scale_out(&current);
                            meta_mut(&mut base).remove("resourceVersion");
                            patch::apply_to(api, &ctx, &base, "io.k8s.api.autoscaling.v1.Scale")?
                        }
                    };
                    let replicas = scale.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(0);
                    if replicas < 0 {
                        return Err(ApiError::invalid(
                            "autoscaling",
                            "Scale",
                            &name,
                            &[crate::errors::FieldError::invalid(
                                "spec.replicas",
                                replicas,
                                "must be greater than or equal to 0",
                            )],
                        ));
                    }
                    let mut new = current.clone();
                    new["spec"]["replicas"] = json!(replicas);
                    if let Some(rv) = scale
                        .pointer("/metadata/resourceVersion")
                        .and_then(Value::as_str)
                        .filter(|s| !s.is_empty())
                    {
                        meta_mut(&mut new).insert("resourceVersion".into(), json!(rv));
                    } else {
                        meta_mut(&mut new).remove("resourceVersion");
                    }
                    Ok(new)
                })
                .await?;
            scale_out(&updated)
        }
        _ => return Err(ApiError::method_not_allowed()),
    };
    Ok(respond_value(200, &result, ctx.output.encoding))
}

/// Assigns a pod to a node, once (pods/binding and the bindings resource).
async fn bind_pod(store: &Store, ns: Option<&str>, pod: &str, binding: &Value, dry_run: bool) -> ApiResult<Value> {
    let node = binding
        .pointer("/target/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if node.is_empty() {
        return Err(ApiError::invalid(
            "",
            "Binding",
            pod,
            &[crate::errors::FieldError::required("target.name", "")],
        ));
    }
    let opts = WriteOptions {
        dry_run,
        subresource: Some("binding".into()),
        ..Default::default()
    };
    store
        .update(ns, pod, &opts, |mut current| {
            if is_deleting(&current) {
                return Err(ApiError::conflict("", "pods", pod, "pod is being deleted, cannot be assigned to a host"));
            }
            if let Some(existing) = current.pointer("/spec/nodeName").and_then(Value::as_str).filter(|n| !n.is_empty()) {
                return Err(ApiError::conflict("", "pods", pod, &format!("pod {pod} is already assigned to node {existing:?}")));
            }
            current["spec"]["nodeName"] = json!(node);
            if let Some(ann) = binding.pointer("/metadata/annotations").and_then(Value::as_object) {
                let m = meta_mut(&mut current);
                let target = m.entry("annotations").or_insert_with(|| json!({}));
                for (k, v) in ann {
                    target[k] = v.clone();
                }
            }
            set_condition(&mut current, json!({"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": now_rfc3339()}));
            Ok(current)
        })
        .await
}

fn set_condition(obj: &mut Value, cond: Value) {
    let ty = cond["type"].clone();
    let status = obj
        .as_object_mut()
        .map(|m| m.entry("status").or_insert_with(|| json!({})));
    let Some(status) = status else { return };
    let conds = status
        .as_object_mut()
        .map(|s| s.entry("conditions").or_insert_with(|| json!([])));
    if let Some(Value::Array(list)) = conds {
        list.retain(|c| c["type"] != ty);
        list.push(cond);
    }
}

pub fn created_status() -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201})
}

async fn bind(store: &Store, ctx: Ctx) -> ApiResult<Response<Body>> {
    let binding = negotiate::decode_body(ctx.content_type(), &ctx.body)?;
    bind_pod(store, ctx.namespace(), name_of(&ctx), &binding, ctx.dry_run()).await?;
    Ok(respond_value(201, &created_status(), ctx.output.encoding))
}

async fn finalize(store: &Store, ctx: Ctx) -> ApiResult<Response<Body>> {
    let body = decode_object(&ctx)?;
    let name = name_of(&ctx).to_string();
    let finalizers = body.pointer("/spec/finalizers").cloned().unwrap_or(json!([]));
    let opts = write_options(&ctx, Some("finalize"));
    let updated = store
        .update(None, &name, &opts, |mut current| {
            current["spec"]["finalizers"] = finalizers.clone();
            Ok(current)
        })
        .await?;
    object_response(&ctx, 200, updated)
}

async fn virtual_resource(api: &Api, ctx: Ctx) -> ApiResult<Response<Body>> {
    match (ctx.info.resource, &ctx.method) {
        ("bindings", &Method::POST) => {
            let binding = negotiate::decode_body(ctx.content_type(), &ctx.body)?;
            let pod = meta::name(&binding).to_string();
            let store = api
                .store_named("", "pods")
                .ok_or_else(|| ApiError::internal("no pods store"))?;
            bind_pod(store, ctx.namespace(), &pod, &binding, ctx.dry_run()).await?;
            Ok(respond_value(201, &created_status(), ctx.output.encoding))
        }
        ("tokenreviews", &Method::POST) => super::authn::token_review(api, &ctx).await,
        ("selfsubjectreviews", &Method::POST) => super::authn::self_subject_review(&ctx),
        ("subjectaccessreviews" | "localsubjectaccessreviews" | "selfsubjectaccessreviews", &Method::POST) => {
            super::reviews::access_review(api, &ctx)
        }
        ("selfsubjectrulesreviews", &Method::POST) => super::reviews::rules_review(api, &ctx),
        ("componentstatuses", &Method::GET) => {
            let healthy = api.backend.current_revision().await.is_ok();
            let cs = |name: &str| {
                json!({"kind": "ComponentStatus", "apiVersion": "v1", "metadata": {"name": name},
                       "conditions": [{"type": "Healthy", "status": if healthy {"True"} else {"False"}, "message": "ok"}]})
            };
            match ctx.path.name.as_deref() {
                Some("etcd-0") => object_response(&ctx, 200, cs("etcd-0")),
                Some(other) => Err(ApiError::not_found("", "componentstatuses", other)),
                None => Ok(list::list_response(
                    &ctx,
                    &[crate::cacher::cached(cs("etcd-0"))],
                    json!({}),
                )),
            }
        }
        _ => Err(ApiError::method_not_allowed()),
    }
}
