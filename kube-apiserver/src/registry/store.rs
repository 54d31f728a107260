//! The generic store: create, get, update (compare-and-swap with retries), delete and list
//! for any resource, with upstream's object semantics. Kind-specific rules come from
//! `strategy`.

use super::meta::{self, meta_mut, name, now_rfc3339};
use super::resources::ResourceInfo;
use super::strategy;
use crate::cacher::{Cacher, decode, with_rv};
use crate::errors::{ApiError, ApiResult, FieldError};
use crate::storage::{Backend, KeyValue, ListResult, Revision, StorageError};
use serde_json::{Value, json};
use std::sync::Arc;

/// How many times a server-side update (patch, status, finalizer removal) retries a lost race.
const MAX_RETRIES: usize = 16;

/// Per-request options that affect writes.
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    pub dry_run: bool,
    /// The subresource written, if any (`status`, `scale`, ...).
    pub subresource: Option<String>,
    /// The field manager recorded in managedFields (operation Update), if any.
    pub manager: Option<String>,
    /// Server-side apply already recorded ownership: no Update entry.
    pub applied: bool,
}

/// Records `opts.manager` as owner of what this write set (upstream's FieldManager).
fn track_fields(info: &ResourceInfo, old: Option<&Value>, new: Value, opts: &WriteOptions) -> Value {
    use crate::schema::model::SchemaLookup;
    let Some(manager) = opts.manager.as_deref().filter(|_| !opts.applied) else {
        return new;
    };
    let schema = crate::schema::schema();
    let version = info.storage_version();
    let Some(type_name) = schema.kind_type(info.group, version, info.kind) else {
        return new;
    };
    let now = now_rfc3339();
    let api_version = info.api_version(version);
    let ctx = crate::patch::ApplyContext {
        manager,
        force: false,
        api_version: &api_version,
        subresource: opts.subresource.as_deref(),
        now: &now,
    };
    crate::patch::track_update(old, &new, &ctx, schema, type_name)
}

#[derive(Debug, Clone, Default)]
pub struct DeleteOptions {
    pub grace_period: Option<i64>,
    /// `Background`, `Foreground` or `Orphan`.
    pub propagation: Option<String>,
    pub precondition_uid: Option<String>,
    pub precondition_rv: Option<String>,
    pub dry_run: bool,
}

/// The result of a delete: gone at once, or marked for deletion and still there.
pub enum Deleted {
    Gone(Value),
    Pending(Value),
}

pub struct Store {
    pub info: &'static ResourceInfo,
    pub backend: Arc<dyn Backend>,
    pub cacher: Arc<Cacher>,
    /// `<etcd-prefix>/<resource>/`
    pub prefix: String,
}

fn storage_err(info: &ResourceInfo, name: &str, e: StorageError) -> ApiError {
    match e {
        StorageError::AlreadyExists(_) => ApiError::already_exists(info.group, info.resource, name),
        StorageError::NotFound(_) => ApiError::not_found(info.group, info.resource, name),
        StorageError::Conflict { .. } => ApiError::stale_write(info.group, info.resource, name),
        StorageError::Compacted { .. } => ApiError::gone("The resourceVersion for the provided list is too old."),
        StorageError::FutureRevision { requested, current } => ApiError::too_large_resource_version(requested, current),
        StorageError::Backend(m) => ApiError::internal(m),
    }
}

/// Five characters from upstream's alphabet for generateName (no vowels, no look-alikes).
pub fn random_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    uuid::Uuid::new_v4().as_bytes()[..5]
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

/// Values as stored: everything but resourceVersion, which is the revision.
fn to_bytes(obj: &Value) -> ApiResult<Vec<u8>> {
    let mut obj = obj.clone();
    if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("resourceVersion");
    }
    serde_json::to_vec(&obj).map_err(|e| ApiError::internal(e.to_string()))
}

impl Store {
    pub fn key(&self, ns: Option<&str>, name: &str) -> String {
        match ns {
            Some(ns) if self.info.namespaced => format!("{}{ns}/{name}", self.prefix),
            _ => format!("{}{name}", self.prefix),
        }
    }

    fn not_found(&self, name: &str) -> ApiError {
        ApiError::not_found(self.info.group, self.info.resource, name)
    }

    async fn read(&self, ns: Option<&str>, name: &str) -> ApiResult<Option<KeyValue>> {
        self.backend
            .get(&self.key(ns, name))
            .await
            .map_err(|e| storage_err(self.info, name, e))
    }

    /// A consistent read from storage.
    pub async fn get(&self, ns: Option<&str>, name: &str) -> ApiResult<Value> {
        let kv = self.read(ns, name).await?.ok_or_else(|| self.not_found(name))?;
        decode(&kv).ok_or_else(|| ApiError::internal("undecodable object in storage"))
    }

    pub async fn create(&self, ns: Option<&str>, mut obj: Value, opts: &WriteOptions) -> ApiResult<Value> {
        let info = self.info;
        {
            let m = meta_mut(&mut obj);
            let has_name = m.get("name").and_then(Value::as_str).is_some_and(|n| !n.is_empty());
            let generate = m
                .get("generateName")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            if !has_name && !generate.is_empty() {
                m.insert("name".into(), json!(format!("{generate}{}", random_suffix())));
            }
            if info.namespaced {
                if let Some(ns) = ns {
                    m.insert("namespace".into(), json!(ns));
                }
            } else {
                m.remove("namespace");
            }
            m.insert("uid".into(), json!(uuid::Uuid::new_v4().to_string()));
            m.insert("creationTimestamp".into(), json!(now_rfc3339()));
            for k in [
                "resourceVersion",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
                "selfLink",
            ] {
                m.remove(k);
            }
        }
        strategy::prepare_for_create(info, &mut obj);
        strategy::default(info, &mut obj);
        let errs = strategy::validate(info, &obj, None);
        let obj_name = name(&obj).to_string();
        if !errs.is_empty() {
            return Err(ApiError::invalid(info.group, info.kind, &obj_name, &errs));
        }
        let mut obj = track_fields(info, None, obj, opts);
        meta::tidy_metadata(&mut obj);
        if opts.dry_run {
            return Ok(obj);
        }
        let kv = self
            .backend
            .create(self.key(ns, &obj_name), to_bytes(&obj)?)
            .await
            .map_err(|e| storage_err(info, &obj_name, e))?;
        Ok(with_rv(obj, kv.mod_revision))
    }

    /// Reads the object, lets `update` compute its new state, and writes it back if the
    /// object did not change meanwhile. `update` returning an object with a
    /// resourceVersion pins the write to that version (a 409 if it is stale); otherwise a
    /// lost race is retried with the fresh object.
    pub async fn update<F>(&self, ns: Option<&str>, name: &str, opts: &WriteOptions, mut update: F) -> ApiResult<Value>
    where
        F: FnMut(Value) -> ApiResult<Value>,
    {
        let info = self.info;
        for _ in 0..MAX_RETRIES {
            let kv = self.read(ns, name).await?.ok_or_else(|| self.not_found(name))?;
            let current = decode(&kv).ok_or_else(|| ApiError::internal("undecodable object in storage"))?;
            let mut new = update(current.clone())?;
            let pinned = meta::resource_version(&new).to_string();
            if !pinned.is_empty() && pinned != kv.mod_revision.to_string() {
                return Err(ApiError::stale_write(info.group, info.resource, name));
            }
            strategy::prepare_for_update(info, &mut new, &current, opts.subresource.as_deref());
            strategy::default(info, &mut new);
            let errs = strategy::validate(info, &new, Some(&current));
            if !errs.is_empty() {
                return Err(ApiError::invalid(info.group, info.kind, name, &errs));
            }
            let mut new = track_fields(info, Some(&current), new, opts);
            meta::tidy_metadata(&mut new);
            // Finalizers all gone from an object being deleted: the delete completes now.
            if strategy::deletion_complete(info, &new) {
                if opts.dry_run {
                    return Ok(new);
                }
                return match self.backend.delete(self.key(ns, name), Some(kv.mod_revision)).await {
                    Ok(gone) => Ok(with_rv(new, gone.mod_revision)),
                    Err(StorageError::Conflict { .. }) if pinned.is_empty() => continue,
                    Err(e) => Err(storage_err(info, name, e)),
                };
            }
            if with_rv(new.clone(), kv.mod_revision) == current || opts.dry_run {
                return Ok(with_rv(new, kv.mod_revision));
            }
            match self
                .backend
                .update(self.key(ns, name), to_bytes(&new)?, kv.mod_revision)
                .await
            {
                Ok(written) => return Ok(with_rv(new, written.mod_revision)),
                Err(StorageError::Conflict { .. }) if pinned.is_empty() => continue,
                Err(e) => return Err(storage_err(info, name, e)),
            }
        }
        Err(ApiError::stale_write(info.group, info.resource, name))
    }

    pub async fn delete(&self, ns: Option<&str>, name: &str, opts: &DeleteOptions) -> ApiResult<Deleted> {
        let info = self.info;
        for _ in 0..MAX_RETRIES {
            let kv = self.read(ns, name).await?.ok_or_else(|| self.not_found(name))?;
            let current = decode(&kv).ok_or_else(|| ApiError::internal("undecodable object in storage"))?;
            check_preconditions(info, name, &current, opts)?;
            let plan = strategy::plan_delete(info, &current, opts);
            let Some(mut marked) = plan else {
                if opts.dry_run {
                    return Ok(Deleted::Gone(current));
                }
                match self.backend.delete(self.key(ns, name), Some(kv.mod_revision)).await {
                    Ok(gone) => return Ok(Deleted::Gone(with_rv(current, gone.mod_revision))),
                    Err(StorageError::Conflict { .. }) => continue,
                    Err(e) => return Err(storage_err(info, name, e)),
                }
            };
            if marked == current || opts.dry_run {
                return Ok(Deleted::Pending(marked));
            }
            meta::tidy_metadata(&mut marked);
            match self
                .backend
                .update(self.key(ns, name), to_bytes(&marked)?, kv.mod_revision)
                .await
            {
                Ok(written) => return Ok(Deleted::Pending(with_rv(marked, written.mod_revision))),
                Err(StorageError::Conflict { .. }) => continue,
                Err(e) => return Err(storage_err(info, name, e)),
            }
        }
        Err(ApiError::stale_write(info.group, info.resource, name))
    }

    /// A page of objects from storage (consistent, or at a past revision for paging).
    pub async fn list_storage(
        &self,
        within: &str,
        start: &str,
        revision: Revision,
        limit: usize,
    ) -> ApiResult<(ListResult, Vec<Value>)> {
        let prefix = format!("{}{within}", self.prefix);
        let start = if start.is_empty() {
            String::new()
        } else {
            format!("{}{start}", self.prefix)
        };
        let page = self.backend.list(&prefix, &start, revision, limit).await.map_err(|e| match e {
            StorageError::Compacted { .. } => ApiError::gone(
                "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
            ),
            other => storage_err(self.info, "", other),
        })?;
        let objs = page.items.iter().filter_map(decode).collect();
        Ok((page, objs))
    }

    /// The watch cache's copy of an object, if it has one.
    pub fn cached(&self, ns: Option<&str>, name: &str) -> Option<Arc<crate::cacher::Cached>> {
        let key = match ns {
            Some(ns) if self.info.namespaced => format!("{ns}/{name}"),
            _ => name.to_string(),
        };
        self.cacher.get(&key)
    }

    /// The key of an object relative to this store's prefix (for continue tokens).
    pub fn relative_key(&self, obj: &Value) -> String {
        let ns = meta::namespace(obj);
        if self.info.namespaced {
            format!("{ns}/{}", name(obj))
        } else {
            name(obj).to_string()
        }
    }
}

fn check_preconditions(info: &ResourceInfo, name: &str, current: &Value, opts: &DeleteOptions) -> ApiResult<()> {
    if let Some(uid) = &opts.precondition_uid
        && uid != meta::uid(current)
    {
        return Err(ApiError::conflict(
            info.group,
            info.resource,
            name,
            &format!(
                "the UID in the precondition ({uid}) does not match the UID in record ({}). The object might have been deleted and then recreated",
                meta::uid(current)
            ),
        ));
    }
    if let Some(rv) = &opts.precondition_rv
        && rv != meta::resource_version(current)
    {
        return Err(ApiError::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} {name:?}: the ResourceVersion in the precondition ({rv}) does not match the ResourceVersion in record ({}). The object might have been modified",
                info.kind,
                meta::resource_version(current)
            ),
        )
        .with_details(json!({"name": name, "kind": info.resource})));
    }
    Ok(())
}

/// Validation errors for a mismatch between the body and the URL, as upstream reports them.
pub fn check_identity(info: &ResourceInfo, obj: &Value, url_ns: Option<&str>, url_name: Option<&str>) -> ApiResult<()> {
    let body_ns = meta::namespace(obj);
    if info.namespaced
        && let Some(ns) = url_ns
        && !body_ns.is_empty()
        && body_ns != ns
    {
        return Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        ));
    }
    if let Some(url_name) = url_name {
        let body_name = name(obj);
        if body_name != url_name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({body_name}) does not match the name on the URL ({url_name})"
            )));
        }
    }
    Ok(())
}

/// `metadata.name: Required value: name or generateName is required`.
pub fn name_required() -> FieldError {
    FieldError::required("metadata.name", "name or generateName is required")
}
