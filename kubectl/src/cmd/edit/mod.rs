//! `kubectl edit`: the objects (`TYPE NAME…`, `TYPE/NAME…`, `TYPE` for all of a type, or
//! `-f` files read again from the server) go to a temporary file as YAML (or JSON with
//! `-o json`) under upstream's header, without managedFields; the editor runs on it; the
//! edited objects are matched to the originals by uid and each difference is sent as a two-way
//! strategic merge patch (a JSON merge patch for custom resources) after upstream's
//! preconditions (apiVersion, kind and name unchanged). Invalid edits reopen the file with the
//! server's causes in the header; an unchanged reopened file stops with the file kept.

mod editor;

use super::Session;
use super::apply::{field_validation, with_last_applied};
use super::objects::{self, OpenApi};
use super::targets;
use super::write::{self, DryRun};
use crate::Output;
use crate::cli::GlobalArgs;
use crate::discovery::Resource;
use crate::error::CmdError;
use crate::merge::{schema::Schema, two_way};
use crate::printers::{json, yaml};
use clap::Args;
use editor::{Editor, Reason, strip_comments};
use serde_json::{Map, Value, json};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct EditArgs {
    pub args: Vec<String>,
    /// Filename, directory, or URL to files to use to edit the resource
    #[arg(short = 'f', long = "filename")]
    pub filename: Vec<String>,
    /// Process the directory used in -f, --filename recursively.
    #[arg(short = 'R', long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub recursive: Option<bool>,
    /// Output format. One of: (json, yaml).
    #[arg(short = 'o', long)]
    pub output: Option<String>,
    /// Output the patch if the resource is edited.
    #[arg(long = "output-patch", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub output_patch: Option<bool>,
    /// Defaults to the line ending native to your platform.
    #[arg(long = "windows-line-endings", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub windows_line_endings: Option<bool>,
    /// Must be one of: strict (or true), warn, ignore (or false).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "strict")]
    pub validate: Option<String>,
    /// If true, the configuration of current object will be saved in its annotation.
    #[arg(long = "save-config", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub save_config: Option<bool>,
    /// Name of the manager used to track field ownership.
    #[arg(long = "field-manager", default_value = "kubectl-edit")]
    pub field_manager: String,
    /// If specified, edit will operate on the subresource of the requested object.
    #[arg(long)]
    pub subresource: Option<String>,
}

/// One object being edited.
struct Original {
    resource: Resource,
    object: Value,
}

/// What one pass of patching found.
#[derive(Default)]
struct Results {
    reasons: Vec<Reason>,
    /// Objects the server found invalid (the file reopens for them).
    invalid: usize,
    retryable: usize,
    not_found: usize,
}

/// `group.resource "name"` as upstream names an object in edit errors.
fn resource_string(r: &Resource) -> String {
    r.group_resource()
}

/// Records a failed patch as upstream's `addError` does and returns the line it prints.
fn add_error(results: &mut Results, e: &CmdError, body: &Value, r: &Resource, name: &str) -> String {
    let res = resource_string(r);
    match e {
        CmdError::Server { reason, .. } if reason == "Invalid" => {
            results.invalid += 1;
            let other = body["details"]["causes"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| {
                    format!(
                        "{}: {}",
                        c["field"].as_str().unwrap_or_default(),
                        c["message"].as_str().unwrap_or_default()
                    )
                })
                .collect();
            results.reasons.push(Reason {
                head: format!("{res} \"{name}\" was not valid"),
                other,
            });
            format!("error: {res} \"{name}\" is invalid")
        }
        CmdError::Server { reason, .. } if reason == "NotFound" => {
            results.not_found += 1;
            format!("error: {res} \"{name}\" could not be found on the server")
        }
        other => {
            results.retryable += 1;
            let msg = match other {
                CmdError::Server { message, .. } | CmdError::ServerPlain(message) | CmdError::Message(message) => {
                    message.clone()
                }
                CmdError::Raw(m) => m.clone(),
            };
            format!("error: {res} \"{name}\" could not be patched: {msg}")
        }
    }
}

/// The name kubectl runs under (`kubectl`), for the temporary file and the replace advice.
fn program_name() -> String {
    std::env::args()
        .next()
        .map(|a| {
            std::path::Path::new(&a)
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or(a)
        })
        .unwrap_or_else(|| "kubectl".into())
}

/// Upstream's message when it stops with the edited file kept: where the file is.
fn preserved(out: &mut Output, file: Option<&PathBuf>, e: CmdError) -> Result<i32, CmdError> {
    if let Some(f) = file.filter(|f| f.exists()) {
        out.stderr.push_str(&format!(
            "A copy of your changes has been stored to {}\n",
            editor::go_quote(&f.display().to_string())
        ));
    }
    Err(e)
}

/// Writes what was printed so far, so that it comes before the editor's own output.
fn flush(out: &mut Output) {
    use std::io::Write;
    let _ = std::io::stdout().write_all(out.stdout.as_bytes());
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().write_all(out.stderr.as_bytes());
    out.stdout.clear();
    out.stderr.clear();
}

pub async fn run(g: &GlobalArgs, a: EditArgs, out: &mut Output) -> Result<i32, CmdError> {
    if a.args.is_empty() && a.filename.is_empty() {
        return Err(CmdError::Raw(super::delete::NO_RESOURCES.into()));
    }
    if !a.args.is_empty() && !a.filename.is_empty() {
        return Err(CmdError::msg(
            "resource/name arguments cannot be provided when a path is specified",
        ));
    }
    let mut s = Session::open(g, "kubectl edit").await?;
    let selected = if a.filename.is_empty() {
        targets::select(&mut s, &a.args, None, true).await?
    } else {
        targets::from_files(&mut s, &a.filename, a.recursive == Some(true)).await?
    };
    if !selected.errors.is_empty() {
        return targets::finish(out, selected.errors);
    }
    let mut originals = Vec::new();
    for (resource, object) in selected.objects {
        let object = match &a.subresource {
            Some(sub) => {
                let path = format!("{}/{sub}", targets::object_path(&resource, &object));
                let r = objects::send(s.client(), "GET", &path, None, None).await?;
                if !r.ok() {
                    return Err(r.error());
                }
                r.body
            }
            None => object,
        };
        originals.push(Original { resource, object });
    }
    let json_output = match a.output.as_deref().unwrap_or("") {
        "" | "yaml" => false,
        "json" => true,
        other => {
            return Err(CmdError::msg(format!(
                "unable to match a printer suitable for the output format \"{other}\", allowed formats are: json,yaml"
            )));
        }
    };
    let validation = field_validation(a.validate.as_deref())?;
    if let Some(sub) = a.subresource.as_deref().filter(|s| *s != "status") {
        return Err(CmdError::msg(format!(
            "invalid subresource value: \"{sub}\". Must be one of [status]"
        )));
    }
    if originals.is_empty() {
        return Err(CmdError::msg("edit cancelled, no objects found"));
    }
    let session = Edit {
        a: &a,
        s: &mut s,
        originals,
        json_output,
        validation,
        openapi: OpenApi::default(),
    };
    session.run(out).await
}

struct Edit<'a> {
    a: &'a EditArgs,
    s: &'a mut Session,
    originals: Vec<Original>,
    json_output: bool,
    validation: &'static str,
    openapi: OpenApi,
}

impl Edit<'_> {
    /// The file's body: the object, or a List of them, without managedFields.
    fn printed(&self) -> String {
        let strip = |o: &Value| objects::without_managed_fields(o.clone());
        let doc = match self.originals.as_slice() {
            [one] => strip(&one.object),
            many => json!({
                "apiVersion": "v1",
                "items": many.iter().map(|o| strip(&o.object)).collect::<Vec<_>>(),
                "kind": "List",
                "metadata": {},
            }),
        };
        if self.json_output {
            json::to_json(&doc)
        } else {
            yaml::to_yaml(&doc)
        }
    }

    async fn run(mut self, out: &mut Output) -> Result<i32, CmdError> {
        let editor = Editor::from_env();
        let prefix = format!("{}-edit-", program_name());
        let suffix = if self.json_output { ".json" } else { ".yaml" };
        let mut contains_error = false;
        let mut reasons: Vec<Reason> = Vec::new();
        let mut original = String::new();
        let mut edited = String::new();
        // The file of the previous pass (removed once a new one is written).
        let mut previous: Option<PathBuf> = None;
        loop {
            let mut buf = String::new();
            if !self.json_output {
                buf.push_str(&editor::header(&reasons));
            }
            if contains_error {
                buf.push_str(&editor::manual_strip(&edited));
            } else {
                buf.push_str(&self.printed());
                original = buf.clone();
            }
            if self.a.windows_line_endings == Some(true) {
                buf = buf.replace('\n', "\r\n");
            }
            let edited_before = std::mem::take(&mut edited);
            flush(out);
            let file = match editor::temp_file(&prefix, suffix, &buf) {
                Ok(f) => f,
                Err(e) => return preserved(out, previous.as_ref(), CmdError::msg(e)),
            };
            if let Err(e) = editor.launch(&file) {
                return preserved(out, previous.as_ref(), CmdError::msg(e));
            }
            edited = match std::fs::read_to_string(&file) {
                Ok(t) => t,
                Err(e) => return preserved(out, previous.as_ref(), CmdError::msg(e.to_string())),
            };
            if contains_error && strip_comments(&edited_before) == strip_comments(&edited) {
                return preserved(
                    out,
                    Some(&file),
                    CmdError::msg("Edit cancelled, no valid changes were saved."),
                );
            }
            if let Some(p) = previous.take() {
                let _ = std::fs::remove_file(p);
            }
            if let Err(e) = editor::validate(&edited) {
                let first = &self.originals[0];
                let res = resource_string(&first.resource);
                let name = first.object["metadata"]["name"].as_str().unwrap_or_default();
                reasons = vec![Reason {
                    head: format!("{res} \"{name}\" was not valid"),
                    other: vec![format!(
                        "<nil>: Invalid value: \"The edited file failed validation\": {e}"
                    )],
                }];
                out.stderr.push_str(&format!("error: {res} \"{name}\" is invalid\n"));
                contains_error = true;
                previous = Some(file);
                continue;
            }
            if strip_comments(&original) == strip_comments(&edited) {
                let _ = std::fs::remove_file(&file);
                out.stderr.push_str("Edit cancelled, no changes made.\n");
                return Ok(0);
            }
            if !editor::has_lines(&edited) {
                let _ = std::fs::remove_file(&file);
                out.stderr.push_str("Edit cancelled, saved file was empty.\n");
                return Ok(0);
            }
            previous = Some(file.clone());
            let updated = match self.parse(&edited).await {
                Ok(u) => u,
                Err(Parse::Syntax(e)) => {
                    contains_error = true;
                    reasons = vec![Reason {
                        head: format!("The edited file had a syntax error: {e}"),
                        other: Vec::new(),
                    }];
                    continue;
                }
                Err(Parse::Fatal(e)) => return preserved(out, Some(&file), e),
            };
            let mut results = Results::default();
            for (resource, object) in updated {
                if let Err(e) = self.patch_one(&resource, object, &mut results, out).await {
                    return preserved(out, Some(&file), e);
                }
            }
            if results.retryable > 0 {
                out.stderr.push_str(&format!(
                    "You can run `{} replace -f {}` to try this update again.\n",
                    program_name(),
                    file.display()
                ));
                return Ok(1);
            }
            if results.not_found > 0 {
                out.stderr.push_str(&format!(
                    "The edits you made on deleted resources have been saved to {}\n",
                    editor::go_quote(&file.display().to_string())
                ));
                return Ok(1);
            }
            if results.invalid == 0 {
                let _ = std::fs::remove_file(&file);
                return Ok(0);
            }
            reasons = results.reasons;
            contains_error = !reasons.is_empty();
        }
    }

    /// The edited objects, mapped to their resources and namespaced as the command is.
    async fn parse(&mut self, text: &str) -> Result<Vec<(Resource, Value)>, Parse> {
        let parsed = crate::inputs::parse_source("edited-file", text).map_err(|e| Parse::Syntax(bare(e)))?;
        let cmd_ns = self.s.conn.namespace.clone();
        let mut out = Vec::new();
        for o in parsed {
            let mut object = o.object;
            let api_version = object["apiVersion"].as_str().unwrap_or_default().to_string();
            let kind = object["kind"].as_str().unwrap_or_default().to_string();
            let name = object["metadata"]["name"].as_str().unwrap_or_default().to_string();
            let ns = object["metadata"]["namespace"].as_str().unwrap_or_default().to_string();
            let resource = write::resource_for(self.s, &api_version, &kind).await.map_err(|_| {
                Parse::Syntax(format!(
                    "resource mapping not found for name: \"{name}\" namespace: \"{ns}\" from \"edited-file\": no matches for kind \"{kind}\" in version \"{api_version}\"\nensure CRDs are installed first"
                ))
            })?;
            if resource.namespaced {
                if ns.is_empty() {
                    if let Some(m) = object.get_mut("metadata").and_then(Value::as_object_mut) {
                        m.insert("namespace".into(), json!(cmd_ns));
                    }
                } else if ns != cmd_ns {
                    return Err(Parse::Fatal(CmdError::msg(format!(
                        "the namespace from the provided object \"{ns}\" does not match the namespace \"{cmd_ns}\". You must pass '--namespace={ns}' to perform this operation."
                    ))));
                }
            }
            out.push((resource, object));
        }
        Ok(out)
    }

    /// Compares one edited object with its original and sends the difference.
    async fn patch_one(
        &mut self,
        resource: &Resource,
        mut edited: Value,
        results: &mut Results,
        out: &mut Output,
    ) -> Result<(), CmdError> {
        let uid = edited["metadata"]["uid"].clone();
        let Some(original) = self
            .originals
            .iter()
            .find(|o| o.object["metadata"]["uid"] == uid)
            .map(|o| o.object.clone())
        else {
            return Err(CmdError::msg(format!(
                "no original object found for {}",
                json::to_compact(&edited)
            )));
        };
        // managedFields were left out of the file; the edited object gets the original's back.
        if let Some(m) = edited.get_mut("metadata").and_then(Value::as_object_mut) {
            match original["metadata"].get("managedFields") {
                Some(mf) => {
                    m.insert("managedFields".into(), mf.clone());
                }
                None => {
                    m.remove("managedFields");
                }
            }
        }
        if self.a.save_config == Some(true) {
            edited = with_last_applied(&edited);
        }
        let output = self.a.output.as_deref();
        if edited == original {
            write::report(out, &edited, "skipped", DryRun::None, output);
            return Ok(());
        }
        let r = resource;
        let doc = if objects::builtin_group(&r.group) {
            self.openapi.document(self.s.client(), &r.group, &r.version).await
        } else {
            None
        };
        let schema = doc.and_then(|d| Schema::for_kind(d, &r.group, &r.version, &r.kind));
        let patch = two_way(&original, &edited, schema);
        let changed_identity = ["apiVersion", "kind", "managedFields"]
            .iter()
            .any(|k| patch.contains_key(*k))
            || patch
                .get("metadata")
                .and_then(Value::as_object)
                .is_some_and(|m: &Map<String, Value>| m.contains_key("name"));
        if changed_identity {
            return Err(CmdError::msg("At least one of apiVersion, kind and name was changed"));
        }
        let patch = Value::Object(patch);
        if self.a.output_patch == Some(true) {
            out.stdout.push_str(&format!("Patch: {}\n", json::to_compact(&patch)));
        }
        let content_type = if schema.is_some() {
            write::STRATEGIC
        } else {
            write::MERGE
        };
        let sub = self
            .a
            .subresource
            .as_deref()
            .map(|s| format!("/{s}"))
            .unwrap_or_default();
        let path = format!(
            "{}{sub}?fieldManager={}&fieldValidation={}",
            targets::object_path(r, &edited),
            form_urlencoded::byte_serialize(self.a.field_manager.as_bytes()).collect::<String>(),
            self.validation
        );
        let reply = objects::send(self.s.client(), "PATCH", &path, Some(content_type), Some(&patch)).await?;
        if !reply.ok() {
            let name = edited["metadata"]["name"].as_str().unwrap_or_default();
            let line = add_error(results, &reply.error(), &reply.body, r, name);
            out.stderr.push_str(&format!("{line}\n"));
            return Ok(());
        }
        write::report(out, &reply.body, "edited", DryRun::None, output);
        Ok(())
    }
}

/// Why the edited file could not be read back.
enum Parse {
    /// Reopens the file with the reason in its header.
    Syntax(String),
    /// Stops with the file kept.
    Fatal(CmdError),
}

/// An error's text without the `error: ` upstream adds when printing it.
fn bare(e: CmdError) -> String {
    match e {
        CmdError::Message(m) | CmdError::Raw(m) => m,
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployments() -> Resource {
        Resource {
            name: "deployments".into(),
            singular: "deployment".into(),
            namespaced: true,
            group: "apps".into(),
            version: "v1".into(),
            kind: "Deployment".into(),
            verbs: Vec::new(),
            short_names: Vec::new(),
            categories: Vec::new(),
        }
    }

    #[test]
    fn errors_as_upstream_reports_them() {
        let mut results = Results::default();
        let invalid = CmdError::Server {
            reason: "Invalid".into(),
            message: "x".into(),
        };
        let body = json!({"details": {"causes": [{"field": "spec.replicas", "message": "Invalid value: -1: must be greater than or equal to 0"}]}});
        let line = add_error(&mut results, &invalid, &body, &deployments(), "web");
        assert_eq!(line, "error: deployments.apps \"web\" is invalid");
        assert_eq!(results.invalid, 1);
        assert_eq!(
            results.reasons[0].other,
            vec!["spec.replicas: Invalid value: -1: must be greater than or equal to 0"]
        );
        let conflict = CmdError::Server {
            reason: "Conflict".into(),
            message: "the object has been modified".into(),
        };
        let line = add_error(&mut results, &conflict, &Value::Null, &deployments(), "web");
        assert_eq!(
            line,
            "error: deployments.apps \"web\" could not be patched: the object has been modified"
        );
        assert_eq!(results.retryable, 1);
    }
}
