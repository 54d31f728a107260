//! Server-side apply and field ownership for ordinary writes, after structured-merge-diff's `Updater`
//! and apimachinery's field manager chain (strip-meta, managed-fields updater, skip-non-applied).

use serde_json::Value;

use super::fieldset::{FieldSet, Path, field_path, path_string};
use super::managed::{self, APPLY, Manager, UPDATE};
use super::typed::{Shape, Typer};
use crate::schema::model::SchemaLookup;

/// Who is writing, and how.
#[derive(Debug, Clone, Copy)]
pub struct ApplyContext<'a> {
    /// The field manager (`fieldManager` parameter).
    pub manager: &'a str,
    /// `force=true`: take conflicting fields over instead of failing.
    pub force: bool,
    /// The request's group/version, e.g. "apps/v1".
    pub api_version: &'a str,
    /// "status", "scale", … or None for the main resource.
    pub subresource: Option<&'a str>,
    /// The current time, RFC 3339 ("2026-01-02T03:04:05Z").
    pub now: &'a str,
}

/// A field another manager owns and the apply would change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub manager: String,
    /// "Apply" or "Update".
    pub operation: String,
    pub subresource: Option<String>,
    pub api_version: String,
    /// The field path, e.g. ".spec.replicas".
    pub field: String,
}

impl Conflict {
    /// The manager as upstream prints it: `"name"`, plus ` with subresource "s"` and, for
    /// updaters, ` using apps/v1`. This is also the `message` of the FieldManagerConflict cause.
    pub fn manager_text(&self) -> String {
        let mut out = quote(&self.manager);
        if let Some(s) = &self.subresource {
            out.push_str(&format!(" with subresource {}", quote(s)));
        }
        if self.operation == UPDATE {
            out.push_str(&format!(" using {}", self.api_version));
        }
        out
    }

    /// The cause message: `conflict with "kubectl.1.33" with subresource "scale" using apps/v1`.
    pub fn cause_message(&self) -> String {
        format!("conflict with {}", self.manager_text())
    }
}

fn quote(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

/// Why an apply failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApplyError {
    /// 409 Conflict; the message is `conflict_message`.
    #[error("{}", conflict_message(.0))]
    Conflicts(Vec<Conflict>),
    /// 422/400: the applied configuration cannot be used.
    #[error("{0}")]
    Invalid(String),
}

/// The Status message for apply conflicts, as upstream words it.
pub fn conflict_message(conflicts: &[Conflict]) -> String {
    if let [c] = conflicts {
        return format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            c.manager_text(),
            c.field
        );
    }
    let mut lines: Vec<String> = Vec::new();
    let mut last: Option<String> = None;
    for c in conflicts {
        let who = c.manager_text();
        if last.as_ref() != Some(&who) {
            lines.push(format!("conflicts with {who}:"));
            last = Some(who);
        }
        lines.push(format!("- {}", c.field));
    }
    format!("Apply failed with {} conflicts: {}", conflicts.len(), lines.join("\n"))
}

/// Fields never recorded in field sets (upstream's strip-meta manager).
fn stripped_fields() -> FieldSet {
    let mut set = FieldSet::new();
    for path in [
        &["apiVersion"][..],
        &["kind"],
        &["metadata"],
        &["metadata", "name"],
        &["metadata", "namespace"],
        &["metadata", "creationTimestamp"],
        &["metadata", "selfLink"],
        &["metadata", "uid"],
        &["metadata", "clusterName"],
        &["metadata", "generation"],
        &["metadata", "managedFields"],
        &["metadata", "resourceVersion"],
    ] {
        set.insert(&field_path(path));
    }
    set
}

/// Fields a write through `subresource` does not own (upstream's reset fields: the main resource
/// does not set status, the status subresource does not set spec).
fn ignored_fields(subresource: Option<&str>) -> FieldSet {
    let mut set = FieldSet::new();
    match subresource {
        None => set.insert(&field_path(&["status"])),
        Some("status") => set.insert(&field_path(&["spec"])),
        Some(_) => {}
    }
    set
}

struct Engine<'a> {
    typer: Typer<'a>,
    shape: Shape,
    ctx: &'a ApplyContext<'a>,
    ignored: FieldSet,
}

impl<'a> Engine<'a> {
    fn new(ctx: &'a ApplyContext<'a>, schema: &'a dyn SchemaLookup, type_name: &str) -> Self {
        Engine {
            typer: Typer { schema },
            shape: Shape::Struct(type_name.to_string()),
            ctx,
            ignored: ignored_fields(ctx.subresource),
        }
    }

    fn find(&self, managers: &[Manager], operation: &str) -> Option<usize> {
        let c = self.ctx;
        managers
            .iter()
            .position(|m| m.is(c.manager, operation, c.api_version, c.subresource))
    }

    fn new_manager(&self, operation: &str, set: FieldSet) -> Manager {
        Manager {
            manager: self.ctx.manager.to_string(),
            operation: operation.to_string(),
            api_version: self.ctx.api_version.to_string(),
            subresource: self.ctx.subresource.map(str::to_string),
            time: None,
            set,
        }
    }

    /// Moves ownership for the change `old` → `new`: other managers lose the fields whose values
    /// changed and the fields removed. Without `force`, owned changed fields are conflicts.
    fn update_ownership(
        &self,
        old: &Value,
        new: &Value,
        managers: &mut [Manager],
        skip: Option<usize>,
        force: bool,
    ) -> Result<FieldSet, Vec<Conflict>> {
        let cmp = self.typer.compare(old, new, &self.shape).filter(&self.ignored);
        let changed = cmp.modified.union(&cmp.added);
        let mut conflicts = Vec::new();
        for (i, m) in managers.iter().enumerate() {
            if Some(i) != skip {
                conflicts.extend(conflicts_with(m, &m.set.intersection(&changed)));
            }
        }
        if !force && !conflicts.is_empty() {
            conflicts.sort_by_key(conflict_order);
            return Err(conflicts);
        }
        for (i, m) in managers.iter_mut().enumerate() {
            if Some(i) != skip {
                m.set = m.set.difference(&changed).difference(&cmp.removed);
            }
        }
        Ok(changed)
    }

    /// Removes from `merged` the fields the applier owned before but no longer applies, unless
    /// another manager owns them.
    fn prune(&self, merged: Value, managers: &[Manager], last: &FieldSet) -> Value {
        if last.is_empty() {
            return merged;
        }
        let owned = managers.iter().fold(FieldSet::new(), |acc, m| acc.union(&m.set));
        let owned = self.typer.ensure_named_fields(&owned, &self.shape);
        let last = self.typer.ensure_named_fields(last, &self.shape);
        self.typer.remove_items(&merged, &last.difference(&owned), &self.shape)
    }

    /// Managers of an object that has none yet: "before-first-apply" owns what is there.
    fn first_apply_managers(&self, live: &Value) -> Vec<Manager> {
        let set = match self.typer.to_field_set(live, &self.shape) {
            Ok(s) => s.recursive_difference(&self.ignored).difference(&stripped_fields()),
            Err(_) => return Vec::new(),
        };
        let mut m = self.new_manager(UPDATE, set);
        m.manager = "before-first-apply".into();
        m.subresource = None;
        m.time = Some(self.ctx.now.to_string());
        vec![m]
    }
}

fn conflicts_with(m: &Manager, set: &FieldSet) -> Vec<Conflict> {
    set.paths()
        .iter()
        .map(|p: &Path| Conflict {
            manager: m.manager.clone(),
            operation: m.operation.clone(),
            subresource: m.subresource.clone(),
            api_version: m.api_version.clone(),
            field: path_string(p),
        })
        .collect()
}

fn conflict_order(c: &Conflict) -> (String, String, String, Option<String>) {
    (
        c.manager.clone(),
        c.operation.clone(),
        c.api_version.clone(),
        c.subresource.clone(),
    )
}

fn strip_all(managers: &mut Vec<Manager>) {
    let strip = stripped_fields();
    for m in managers.iter_mut() {
        m.set = m.set.difference(&strip);
    }
    managers.retain(|m| !m.set.is_empty());
}

/// Server-side apply: merges the applied configuration into `live` (None: create) and records
/// ownership in metadata.managedFields.
pub fn server_side_apply(
    live: Option<&Value>,
    applied: &Value,
    ctx: &ApplyContext,
    schema: &dyn SchemaLookup,
    type_name: &str,
) -> Result<Value, ApplyError> {
    if !applied.is_object() {
        return Err(ApplyError::Invalid(
            "the applied configuration must be an object".into(),
        ));
    }
    if managed::raw_entries(applied).is_some() {
        return Err(ApplyError::Invalid("metadata.managedFields must be nil".into()));
    }
    let engine = Engine::new(ctx, schema, type_name);
    let live_value = live.cloned().unwrap_or_else(|| Value::Object(Default::default()));
    let mut managers = managed::decode(&live_value).unwrap_or_default();
    let live_clean = managed::without_managed_fields(&live_value);
    if managers.is_empty() && live.is_some() {
        managers = engine.first_apply_managers(&live_clean);
    }
    let typer = &engine.typer;
    let invalid = |e: String| ApplyError::Invalid(format!("failed to create typed patch object: {e}"));
    let new_set = typer
        .to_field_set(applied, &engine.shape)
        .map_err(invalid)?
        .recursive_difference(&engine.ignored);
    let merged = typer.merge(&live_clean, applied, &engine.shape).map_err(invalid)?;

    let (idx, last) = match engine.find(&managers, APPLY) {
        Some(i) => (i, std::mem::replace(&mut managers[i].set, new_set.clone())),
        None => {
            managers.push(engine.new_manager(APPLY, new_set.clone()));
            (managers.len() - 1, FieldSet::new())
        }
    };
    let merged = engine.prune(merged, &managers, &last);
    engine
        .update_ownership(&live_clean, &merged, &mut managers, Some(idx), ctx.force)
        .map_err(ApplyError::Conflicts)?;
    if merged != live_clean || managers[idx].time.is_none() {
        managers[idx].time = Some(ctx.now.to_string());
    }
    strip_all(&mut managers);
    Ok(managed::with_managed_fields(merged, &managers))
}

/// Managers for a non-apply write: the request's own list unless it is absent, empty or bad (or
/// the write is to a subresource), then the stored one; `[{}]` resets them.
fn update_managers(old: Option<&Value>, new: &Value, subresource: Option<&str>) -> Vec<Manager> {
    let stored = || old.and_then(|o| managed::decode(o).ok()).unwrap_or_default();
    if subresource.is_some() {
        return stored();
    }
    if managed::is_reset(new) {
        return Vec::new();
    }
    match managed::decode(new) {
        Ok(m) if !m.is_empty() => m,
        _ => stored(),
    }
}

/// Records a create/update/patch by `ctx.manager` (operation Update): it owns the fields it set or
/// changed, and other managers lose them. Returns `new` with managedFields updated.
pub fn track_update(
    old: Option<&Value>,
    new: &Value,
    ctx: &ApplyContext,
    schema: &dyn SchemaLookup,
    type_name: &str,
) -> Value {
    let mut managers = update_managers(old, new, ctx.subresource);
    let new_clean = managed::without_managed_fields(new);
    if managers.is_empty() && old.is_some() {
        return new_clean;
    }
    let engine = Engine::new(ctx, schema, type_name);
    let old_clean = old
        .map(managed::without_managed_fields)
        .unwrap_or_else(|| Value::Object(Default::default()));
    let Ok(changed) = engine.update_ownership(&old_clean, &new_clean, &mut managers, None, true) else {
        return new_clean;
    };
    let changed = changed.recursive_difference(&engine.ignored);
    if !changed.is_empty() {
        let time = Some(ctx.now.to_string());
        match engine.find(&managers, UPDATE) {
            Some(i) => {
                managers[i].set = managers[i].set.union(&changed);
                managers[i].time = time;
            }
            None => {
                let mut m = engine.new_manager(UPDATE, changed);
                m.time = time;
                managers.push(m);
            }
        }
    }
    strip_all(&mut managers);
    managed::with_managed_fields(new_clean, &managers)
}
