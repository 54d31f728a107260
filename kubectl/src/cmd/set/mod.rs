//! `kubectl set image|env|resources`: each changes the pod spec of the objects it selects (a
//! Pod, or the pod template of a ReplicationController, Deployment, DaemonSet, ReplicaSet,
//! StatefulSet, Job or CronJob) as upstream's `set` commands do: the objects are read
//! (`TYPE NAME…`, `TYPE/NAME…`, `-l`, `--all`, `-f` refetched from the server, or `-f --local`
//! as written), changed on the client, and the difference sent as a two-way strategic merge
//! patch with `fieldManager=kubectl-set`; unchanged objects are skipped, client dry runs and
//! `--local` print the changed object. Errors are gathered and printed together at the end,
//! in upstream's aggregate layout.

mod env;
mod image;
mod resources;

use super::Session;
use super::objects::{self, OpenApi};
use super::targets;
use super::write::{self, DryRun};
use crate::Output;
use crate::cli::GlobalArgs;
use crate::discovery::Resource;
use crate::error::CmdError;
use crate::inputs;
use crate::merge::{schema::Schema, two_way};
use clap::{Args, Subcommand};
use serde_json::{Map, Value};

#[derive(Args, Debug)]
pub struct SetArgs {
    #[command(subcommand)]
    pub command: SetCommand,
}

#[derive(Subcommand, Debug)]
pub enum SetCommand {
    /// Update the image of a pod template
    Image(image::ImageArgs),
    /// Update environment variables on a pod template
    Env(env::EnvArgs),
    /// Update resource requests/limits on objects with pod templates
    Resources(resources::ResourcesArgs),
}

pub async fn run(g: &GlobalArgs, a: SetArgs, out: &mut Output) -> Result<i32, CmdError> {
    match a.command {
        SetCommand::Image(a) => image::run(g, a, out).await,
        SetCommand::Env(a) => env::run(g, a, out).await,
        SetCommand::Resources(a) => resources::run(g, a, out).await,
    }
}

/// The flags every `set` subcommand has: which objects, and how results print.
#[derive(Args, Debug, Default, Clone)]
pub struct ObjectFlags {
    /// Filename, directory, or URL to files identifying the resource.
    #[arg(short = 'f', long = "filename")]
    pub filename: Vec<String>,
    /// Process the directory used in -f, --filename recursively.
    #[arg(short = 'R', long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub recursive: Option<bool>,
    /// Selector (label query) to filter on.
    #[arg(short = 'l', long)]
    pub selector: Option<String>,
    /// Select all resources in the namespace of the specified resource types.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub all: Option<bool>,
    /// If true, the command will NOT contact api-server but run locally.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub local: Option<bool>,
    /// Output format: json, yaml or name.
    #[arg(short = 'o', long)]
    pub output: Option<String>,
    /// Must be "none", "server", or "client".
    #[arg(long = "dry-run", num_args = 0..=1, require_equals = true, default_missing_value = "unchanged")]
    pub dry_run: Option<String>,
    /// Name of the manager used to track field ownership.
    #[arg(long = "field-manager", default_value = "kubectl-set")]
    pub field_manager: String,
}

impl ObjectFlags {
    fn local(&self) -> bool {
        self.local == Some(true)
    }

    fn all(&self) -> bool {
        self.all == Some(true)
    }

    /// `--dry-run` and `-o`, checked as upstream's Complete does.
    fn parse_output(&self) -> Result<DryRun, CmdError> {
        let dry = DryRun::parse(self.dry_run.as_deref())?;
        match self.output.as_deref().unwrap_or("") {
            "" | "yaml" | "json" | "name" => Ok(dry),
            other => Err(CmdError::msg(format!(
                "unable to match a printer suitable for the output format \"{other}\", allowed formats are: go-template,go-template-file,json,jsonpath,jsonpath-as-json,jsonpath-file,name,template,templatefile,yaml"
            ))),
        }
    }
}

const LOCAL_RESOURCE_ERROR: &str = "error: you must specify resources by --filename when --local is set.
Example resource specifications include:
   '-f rsrc.yaml'
   '--filename=rsrc.json'";

/// One object to change.
pub(super) struct Target {
    /// The resource serving it; None for `--local` objects.
    resource: Option<Resource>,
    object: Value,
}

impl Target {
    /// How upstream names the object in its errors: `deployments/web` for objects read from
    /// the server, `deployment.apps/web` for local ones.
    fn label(&self) -> String {
        let name = self.object["metadata"]["name"].as_str().unwrap_or_default();
        match &self.resource {
            Some(r) => format!("{}/{name}", r.name),
            None => super::get::object_name(&self.object),
        }
    }

    fn kind(&self) -> &str {
        self.object["kind"].as_str().unwrap_or_default()
    }

    fn name(&self) -> &str {
        self.object["metadata"]["name"].as_str().unwrap_or_default()
    }
}

/// The objects the command acts on: `-f` files (as written with `--local`, else read again
/// from the server), or the `TYPE NAME…` arguments with `-l`/`--all`. With `local_args`
/// false (`set env`), `--local` ignores the arguments as upstream's builder does.
async fn gather(
    s: &mut Option<Session>,
    g: &GlobalArgs,
    command: &str,
    f: &ObjectFlags,
    args: &[String],
    local_args: bool,
) -> Result<Vec<Target>, CmdError> {
    if f.local() {
        if local_args && !args.is_empty() {
            return Err(CmdError::Raw(LOCAL_RESOURCE_ERROR.into()));
        }
        if f.filename.is_empty() {
            return Err(CmdError::Raw(super::delete::NO_RESOURCES.into()));
        }
        let objects = inputs::read_all(&f.filename, f.recursive == Some(true)).await?;
        return Ok(objects
            .into_iter()
            .map(|o| Target {
                resource: None,
                object: o.object,
            })
            .collect());
    }
    if !f.filename.is_empty() && !args.is_empty() {
        return Err(CmdError::msg(
            "resource/name arguments cannot be provided when a path is specified",
        ));
    }
    if f.filename.is_empty() && args.is_empty() {
        if f.selector.is_some() || f.all() {
            return Err(CmdError::msg(
                "at least one resource must be specified to use a selector",
            ));
        }
        return Err(CmdError::Raw(super::delete::NO_RESOURCES.into()));
    }
    if f.selector.is_some() || f.all() {
        if args.iter().any(|a| a.contains('/')) {
            return Err(CmdError::msg(
                "selectors and the all flag cannot be used when passing resource/name arguments",
            ));
        }
        if args.len() > 1 {
            return Err(CmdError::msg("name cannot be provided when a selector is specified"));
        }
    }
    let session = session(s, g, command).await?;
    let selected = if f.filename.is_empty() {
        targets::select(session, args, f.selector.as_deref(), f.all()).await?
    } else {
        targets::from_files(session, &f.filename, f.recursive == Some(true)).await?
    };
    let found = selected
        .objects
        .into_iter()
        .map(|(r, object)| Target {
            resource: Some(r),
            object,
        })
        .collect();
    collect(found, selected.errors)
}

/// The objects, or the lookup errors (all of them: upstream acts on nothing when one failed).
fn collect(found: Vec<Target>, mut errors: Vec<CmdError>) -> Result<Vec<Target>, CmdError> {
    let Some(last) = errors.pop() else {
        return Ok(found);
    };
    if errors.is_empty() {
        return Err(last);
    }
    let mut text: Vec<String> = errors.iter().map(ToString::to_string).collect();
    text.push(last.to_string());
    Err(CmdError::Raw(text.join("\n")))
}

/// The session, opened on first use (`--local` runs never open one).
async fn session<'a>(s: &'a mut Option<Session>, g: &GlobalArgs, command: &str) -> Result<&'a mut Session, CmdError> {
    if s.is_none() {
        *s = Some(Session::open(g, command).await?);
    }
    s.as_mut().ok_or_else(|| CmdError::msg("no session"))
}

/// Where the pod spec of an object of `kind` in `group` lives.
fn pod_spec_pointer(group: &str, kind: &str) -> Option<&'static str> {
    match (group, kind) {
        ("", "Pod") => Some("/spec"),
        ("", "ReplicationController")
        | ("apps", "Deployment" | "DaemonSet" | "ReplicaSet" | "StatefulSet")
        | ("batch", "Job") => Some("/spec/template/spec"),
        ("batch", "CronJob") => Some("/spec/jobTemplate/spec/template/spec"),
        _ => None,
    }
}

/// The object's pod spec (None when the object has none yet), or upstream's error for kinds
/// without a pod template (naming the Go type it decoded into).
fn pod_spec(object: &mut Value) -> Result<Option<&mut Value>, String> {
    let api_version = object["apiVersion"].as_str().unwrap_or_default().to_string();
    let kind = object["kind"].as_str().unwrap_or_default().to_string();
    let (group, version) = api_version.split_once('/').unwrap_or(("", &api_version));
    let Some(pointer) = pod_spec_pointer(group, &kind) else {
        let go_type = if objects::builtin_group(group) {
            format!("*{version}.{kind}")
        } else {
            "*unstructured.Unstructured".into()
        };
        return Err(format!(
            "the object is not a pod or does not have a pod template: {go_type}"
        ));
    };
    Ok(object.pointer_mut(pointer).filter(|v| v.is_object()))
}

/// Whether `name` matches upstream's container selector: `*` for all, else the exact name, or
/// a pattern whose `*` match anything (upstream's non-greedy, forward-only matcher).
fn select_string(name: &str, spec: &str) -> bool {
    if spec == "*" {
        return true;
    }
    if !spec.contains('*') {
        return name == spec;
    }
    let parts: Vec<&str> = spec.split('*').collect();
    let mut pos: isize = 0;
    for (i, part) in parts.iter().enumerate() {
        if part.is_empty() {
            continue;
        }
        let next = name
            .get(pos as usize..)
            .and_then(|rest| rest.find(part))
            .map_or(-1, |n| n as isize);
        if next < pos
            || (i == 0 && pos != 0)
            || (i == parts.len() - 1 && name.len() as isize != part.len() as isize + next)
        {
            return false;
        }
        pos = next;
    }
    true
}

/// The containers `selector` picks, as (list, index): regular containers first, then init
/// containers, as upstream visits them.
fn selected_containers(spec: &Value, selector: &str) -> Vec<(&'static str, usize)> {
    let mut out = Vec::new();
    for list in ["containers", "initContainers"] {
        for (i, c) in spec[list].as_array().into_iter().flatten().enumerate() {
            if select_string(c["name"].as_str().unwrap_or_default(), selector) {
                out.push((list, i));
            }
        }
    }
    out
}

/// What a subcommand made of one object.
pub(super) enum Outcome {
    /// Nothing to send (upstream's mutation returned no object).
    Skipped,
    /// The object as changed (possibly equal to the original).
    Changed(Value),
    /// `error: <label> <message>` in the final report.
    Failed(String),
}

/// The object as upstream prints it after decoding into its Go type: object metadata (the
/// object's and its pod and job templates') always has `creationTimestamp`, null when unset,
/// and the struct fields Go never omits are there empty (`status`, containers' `resources`,
/// a Deployment's `strategy`, a DaemonSet's or StatefulSet's `updateStrategy`).
fn typed_view(object: &Value) -> Value {
    let mut o = object.clone();
    let kind = o["kind"].as_str().unwrap_or_default().to_string();
    let empty = || Value::Object(Map::new());
    if let Some(m) = o.as_object_mut() {
        m.entry("status").or_insert_with(empty);
    }
    let strategy = match kind.as_str() {
        "Deployment" => Some("strategy"),
        "DaemonSet" | "StatefulSet" => Some("updateStrategy"),
        _ => None,
    };
    if let (Some(field), Some(spec)) = (strategy, o.get_mut("spec").and_then(Value::as_object_mut)) {
        spec.entry(field).or_insert_with(empty);
    }
    let api_version = o["apiVersion"].as_str().unwrap_or_default().to_string();
    let group = api_version.split_once('/').map_or("", |(g, _)| g);
    if let Some(pointer) = pod_spec_pointer(group, &kind) {
        for list in ["initContainers", "containers", "ephemeralContainers"] {
            let path = format!("{pointer}/{list}");
            for c in o.pointer_mut(&path).and_then(Value::as_array_mut).into_iter().flatten() {
                if let Some(c) = c.as_object_mut() {
                    c.entry("resources").or_insert_with(empty);
                }
            }
        }
    }
    for pointer in [
        "",
        "/spec/template",
        "/spec/jobTemplate",
        "/spec/jobTemplate/spec/template",
    ] {
        let Some(t) = o.pointer_mut(pointer).and_then(Value::as_object_mut) else {
            continue;
        };
        if pointer.is_empty() && !t.contains_key("metadata") {
            continue;
        }
        let meta = t.entry("metadata").or_insert_with(|| Value::Object(Map::new()));
        if let Some(m) = meta.as_object_mut()
            && !m.contains_key("creationTimestamp")
        {
            m.insert("creationTimestamp".into(), Value::Null);
        }
    }
    o
}

/// A server error as Go's `err.Error()` reads: the message alone.
fn bare(e: &CmdError) -> String {
    match e {
        CmdError::Server { message, .. } | CmdError::ServerPlain(message) | CmdError::Message(message) => {
            message.clone()
        }
        CmdError::Raw(m) => m.clone(),
    }
}

/// Sends (or, for client dry runs and `--local`, prints) every changed object; failures are
/// added to `errors` as `<failure><server message>`.
#[allow(clippy::too_many_arguments)]
async fn send_changes(
    s: &mut Option<Session>,
    g: &GlobalArgs,
    command: &str,
    f: &ObjectFlags,
    dry: DryRun,
    changes: Vec<(Target, Outcome)>,
    operation: &str,
    failure: &str,
    errors: &mut Vec<String>,
    out: &mut Output,
) -> Result<(), CmdError> {
    let mut openapi = OpenApi::default();
    for (t, outcome) in changes {
        let changed = match outcome {
            Outcome::Failed(e) => {
                errors.push(format!("error: {} {e}\n", t.label()));
                continue;
            }
            Outcome::Skipped => continue,
            Outcome::Changed(c) if c == t.object => continue,
            Outcome::Changed(c) => c,
        };
        let output = f.output.as_deref();
        let Some(r) = t.resource.as_ref().filter(|_| !f.local() && dry != DryRun::Client) else {
            write::report(out, &typed_view(&changed), operation, dry, output);
            continue;
        };
        let session = session(s, g, command).await?;
        let doc = if objects::builtin_group(&r.group) {
            openapi.document(session.client(), &r.group, &r.version).await
        } else {
            None
        };
        let schema = doc.and_then(|d| Schema::for_kind(d, &r.group, &r.version, &r.kind));
        let patch = Value::Object(two_way(&t.object, &changed, schema));
        let content_type = if schema.is_some() {
            write::STRATEGIC
        } else {
            write::MERGE
        };
        let path = format!(
            "{}?fieldManager={}{}",
            targets::object_path(r, &t.object),
            form_urlencoded::byte_serialize(f.field_manager.as_bytes()).collect::<String>(),
            dry.param()
        );
        let reply = objects::send(session.client(), "PATCH", &path, Some(content_type), Some(&patch)).await?;
        if !reply.ok() {
            errors.push(format!("{failure}{}", bare(&reply.error())));
            continue;
        }
        write::report(out, &typed_view(&reply.body), operation, dry, output);
    }
    Ok(())
}

/// Upstream's aggregate of errors: one prints as `error: …`; several each on their own, each
/// followed by a newline (so messages that end in one are followed by a blank line).
fn aggregate(errors: Vec<String>) -> Result<i32, CmdError> {
    let with_prefix = |e: &String| {
        if e.starts_with("error: ") {
            e.clone()
        } else {
            format!("error: {e}")
        }
    };
    match errors.as_slice() {
        [] => Ok(0),
        [one] => Err(CmdError::Raw(with_prefix(one).trim_end_matches('\n').to_string())),
        many => {
            let text: String = many.iter().map(|e| format!("{}\n", with_prefix(e))).collect();
            Err(CmdError::Raw(text.strip_suffix('\n').unwrap_or(&text).to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn container_selectors() {
        assert!(select_string("main", "*"));
        assert!(select_string("main", "main"));
        assert!(!select_string("main", "side"));
        assert!(select_string("main", "ma*"));
        assert!(select_string("main", "*in"));
        assert!(!select_string("main", "*x"));
        let spec = json!({"containers": [{"name": "a"}, {"name": "b"}], "initContainers": [{"name": "i"}]});
        assert_eq!(
            selected_containers(&spec, "*"),
            vec![("containers", 0), ("containers", 1), ("initContainers", 0)]
        );
    }

    #[test]
    fn pod_specs_and_errors() {
        let mut cm = json!({"apiVersion": "v1", "kind": "ConfigMap"});
        assert_eq!(
            pod_spec(&mut cm).unwrap_err(),
            "the object is not a pod or does not have a pod template: *v1.ConfigMap"
        );
        let mut cj = json!({"apiVersion": "batch/v1", "kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": []}}}}}});
        assert!(pod_spec(&mut cj).unwrap().unwrap()["containers"].is_array());
        let t =
            typed_view(&json!({"kind": "Deployment", "metadata": {"name": "x"}, "spec": {"template": {"spec": {}}}}));
        assert_eq!(t["spec"]["template"]["metadata"], json!({"creationTimestamp": null}));
        assert_eq!(t["metadata"]["creationTimestamp"], Value::Null);
    }

    #[test]
    fn aggregates() {
        assert_eq!(aggregate(vec![]).ok(), Some(0));
        let one = aggregate(vec!["error: a x\n".into()]).unwrap_err().to_string();
        assert_eq!(one, "error: a x");
        let two = aggregate(vec!["error: a\n".into(), "b".into()])
            .unwrap_err()
            .to_string();
        assert_eq!(two, "error: a\n\nerror: b");
    }
}
