//! `kubectl create -f` and `kubectl replace -f`: every object of the files is POSTed
//! (`created`) or PUT (`replaced`; `--force` deletes and re-creates), with `--save-config`,
//! `--dry-run` and `-o yaml|json|name`, and upstream's `error when creating "<file>": …` wording.

use super::Session;
use super::apply::{LAST_APPLIED, field_validation, finish, when, with_last_applied};
use super::objects::{self, DryRun, Printer};
use crate::Output;
use crate::cli::GlobalArgs;
use crate::error::CmdError;
use crate::inputs;
use clap::Args;
use serde_json::{Value, json};

/// The flags of the `-f` form of `create` and of `replace`.
#[derive(Args, Debug, Default, Clone)]
pub struct FileArgs {
    /// Filename, directory, or URL to files to use.
    #[arg(short = 'f', long = "filename")]
    pub filename: Vec<String>,
    /// Process the directory used in -f, --filename recursively.
    #[arg(short = 'R', long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub recursive: Option<bool>,
    /// Must be "none", "server", or "client".
    #[arg(long = "dry-run", num_args = 0..=1, require_equals = true, default_missing_value = "unchanged")]
    pub dry_run: Option<String>,
    /// Output format.
    #[arg(short = 'o', long)]
    pub output: Option<String>,
    /// If true, the configuration of current object will be saved in its annotation.
    #[arg(long = "save-config", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub save_config: Option<bool>,
    /// Must be one of: strict (or true), warn, ignore (or false).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "strict")]
    pub validate: Option<String>,
    /// Name of the manager used to track field ownership.
    #[arg(long = "field-manager")]
    pub field_manager: Option<String>,
}

#[derive(Args, Debug, Default, Clone)]
pub struct ReplaceArgs {
    #[command(flatten)]
    pub files: FileArgs,
    /// If true, replace deletes and re-creates the resource.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub force: Option<bool>,
    /// Period of time in seconds given to the old resource to terminate gracefully (with --force).
    #[arg(long = "grace-period", default_value_t = -1, allow_negative_numbers = true)]
    pub grace_period: i64,
}

/// `kubectl create -f …`.
pub async fn create(g: &GlobalArgs, a: FileArgs, out: &mut Output) -> Result<i32, CmdError> {
    let dry = DryRun::parse(a.dry_run.as_deref())?;
    let printer = Printer::parse(a.output.as_deref())?;
    let validation = field_validation(a.validate.as_deref())?;
    let manager = a.field_manager.clone().unwrap_or_else(|| "kubectl-create".into());
    let objects = inputs::read_all(&a.filename, a.recursive == Some(true)).await?;
    let mut s = Session::open(g, "kubectl create").await?;
    let mapped = objects::map_objects(&mut s, objects).await?;
    if mapped.is_empty() {
        return Err(CmdError::msg("no objects passed to create"));
    }
    let mut errors = Vec::new();
    let mut printed = 0;
    for m in &mapped {
        let body = if a.save_config == Some(true) {
            with_last_applied(&m.object)
        } else {
            m.object.clone()
        };
        let result = if dry == DryRun::Client {
            body
        } else {
            let path = format!(
                "{}?fieldManager={manager}&fieldValidation={validation}{}",
                m.collection(),
                dry.param()
            );
            let r = objects::send(s.client(), "POST", &path, Some("application/json"), Some(&body)).await?;
            if !r.ok() {
                errors.push(when(r.error(), &format!("error when creating \"{}\"", m.source)));
                continue;
            }
            r.body
        };
        printer.print(
            &mut out.stdout,
            &m.display_name(),
            "created",
            dry.suffix(),
            &result,
            printed,
        );
        printed += 1;
    }
    finish(errors, out)
}

/// `kubectl replace -f …`.
pub async fn replace(g: &GlobalArgs, a: ReplaceArgs, out: &mut Output) -> Result<i32, CmdError> {
    let f = &a.files;
    if f.filename.is_empty() {
        return Err(CmdError::Raw(
            "error: must specify --filename to replace\nSee 'kubectl replace -h' for help and examples".into(),
        ));
    }
    let dry = DryRun::parse(f.dry_run.as_deref())?;
    let printer = Printer::parse(f.output.as_deref())?;
    let validation = field_validation(f.validate.as_deref())?;
    let manager = f.field_manager.clone().unwrap_or_else(|| "kubectl-replace".into());
    let objects = inputs::read_all(&f.filename, f.recursive == Some(true)).await?;
    let mut s = Session::open(g, "kubectl replace").await?;
    let mapped = objects::map_objects(&mut s, objects).await?;
    let mut errors = Vec::new();
    let mut printed = 0;
    for m in &mapped {
        let has_annotation = !m.object["metadata"]["annotations"][LAST_APPLIED].is_null();
        let body = if f.save_config == Some(true) || has_annotation {
            with_last_applied(&m.object)
        } else {
            m.object.clone()
        };
        if a.force == Some(true) {
            let mut options = json!({"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"});
            if a.grace_period >= 0 {
                options["gracePeriodSeconds"] = json!(a.grace_period);
            }
            let r = objects::send(
                s.client(),
                "DELETE",
                &m.path(),
                Some("application/json"),
                Some(&options),
            )
            .await?;
            if r.ok() {
                let label = m.display_name();
                let (kind, name) = label.split_once('/').unwrap_or((&label, ""));
                out.stdout.push_str(&format!("{kind} \"{name}\" deleted\n"));
                objects::wait_gone(&s, &m.path(), "", None).await?;
            } else if r.code != 404 {
                errors.push(r.error());
                continue;
            }
            let mut body = body;
            if let Some(meta) = body.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.remove("resourceVersion");
            }
            let path = format!("{}?fieldManager={manager}&fieldValidation={validation}", m.collection());
            let r = objects::send(s.client(), "POST", &path, Some("application/json"), Some(&body)).await?;
            if !r.ok() {
                errors.push(when(r.error(), &format!("error when creating \"{}\"", m.source)));
                continue;
            }
            printer.print(&mut out.stdout, &m.display_name(), "replaced", "", &r.body, printed);
            printed += 1;
            continue;
        }
        let result = if dry == DryRun::Client {
            body
        } else {
            let path = format!(
                "{}?fieldManager={manager}&fieldValidation={validation}{}",
                m.path(),
                dry.param()
            );
            let r = objects::send(s.client(), "PUT", &path, Some("application/json"), Some(&body)).await?;
            if !r.ok() {
                errors.push(when(r.error(), &format!("error when replacing \"{}\"", m.source)));
                continue;
            }
            r.body
        };
        printer.print(
            &mut out.stdout,
            &m.display_name(),
            "replaced",
            dry.suffix(),
            &result,
            printed,
        );
        printed += 1;
    }
    finish(errors, out)
}
