//! `kubectl set image`: changes container images in a pod template (Deployment, ReplicaSet,
//! DaemonSet, StatefulSet, Job, CronJob, ReplicationController) or a Pod, `*` meaning every
//! container; `image updated`, or nothing when the images already match, as upstream.

use super::Session;
use super::targets;
use super::write::{self, DryRun};
use crate::Output;
use crate::cli::GlobalArgs;
use crate::error::CmdError;
use clap::{Args, Subcommand};
use serde_json::{Value, json};

#[derive(Args, Debug)]
pub struct SetArgs {
    #[command(subcommand)]
    pub command: SetCommand,
}

#[derive(Subcommand, Debug)]
pub enum SetCommand {
    /// Update the image of a pod template
    Image(SetImageArgs),
}

#[derive(Args, Debug)]
pub struct SetImageArgs {
    pub args: Vec<String>,
    #[arg(short = 'l', long)]
    pub selector: Option<String>,
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub all: Option<bool>,
    #[command(flatten)]
    pub w: super::create::WriteFlags,
}

/// The JSON pointer of the pod spec inside an object of `kind`.
fn pod_spec_pointer(kind: &str) -> &'static str {
    match kind {
        "Pod" => "/spec",
        "CronJob" => "/spec/jobTemplate/spec/template/spec",
        _ => "/spec/template/spec",
    }
}

pub async fn run(g: &GlobalArgs, a: SetArgs, out: &mut Output) -> Result<i32, CmdError> {
    let SetCommand::Image(a) = a.command;
    let dry_run = DryRun::parse(a.w.dry_run.as_deref())?;
    write::check_output(a.w.output.as_deref())?;
    let (resources, images): (Vec<String>, Vec<String>) = a.args.iter().cloned().partition(|x| !x.contains('='));
    if images.is_empty() {
        return Err(CmdError::msg("at least one image update is required"));
    }
    let mut s = Session::open(g, "kubectl set image").await?;
    let selected = targets::select(&mut s, &resources, a.selector.as_deref(), a.all == Some(true)).await?;
    for (r, obj) in &selected.objects {
        let pointer = pod_spec_pointer(obj["kind"].as_str().unwrap_or_default());
        let mut updated = obj.clone();
        let Some(spec) = updated.pointer_mut(pointer) else {
            continue;
        };
        for pair in &images {
            let (name, image) = pair.split_once('=').unwrap_or((pair, ""));
            let mut found = false;
            for list in ["initContainers", "containers"] {
                for c in spec.get_mut(list).and_then(Value::as_array_mut).into_iter().flatten() {
                    if name == "*" || c["name"] == name {
                        c["image"] = json!(image);
                        found = true;
                    }
                }
            }
            if !found {
                return Err(CmdError::msg(format!("unable to find container named {name:?}")));
            }
        }
        if updated == *obj {
            continue;
        }
        if dry_run != DryRun::Client {
            let new_spec = updated.pointer(pointer).cloned().unwrap_or(Value::Null);
            let ops = json!([{"op": "replace", "path": pointer, "value": new_spec}]);
            updated = write::patch(&s, r, obj, None, write::JSON_PATCH, &ops, dry_run).await?;
        }
        write::report(out, &updated, "image updated", dry_run, a.w.output.as_deref());
    }
    targets::finish(out, selected.errors)
}
