//! `kubectl patch`: a strategic merge (default), JSON merge or JSON patch from `-p` or
//! `--patch-file`, reported `patched` or `patched (no change)` when the object came back
//! the same.

use super::Session;
use super::targets;
use super::write::{self, DryRun};
use crate::Output;
use crate::cli::GlobalArgs;
use crate::error::CmdError;
use clap::Args;
use serde_json::Value;

#[derive(Args, Debug)]
pub struct PatchArgs {
    pub args: Vec<String>,
    #[arg(short = 'p', long)]
    pub patch: Option<String>,
    #[arg(long = "patch-file")]
    pub patch_file: Option<String>,
    #[arg(long = "type", default_value = "strategic")]
    pub type_: String,
    #[arg(long)]
    pub subresource: Option<String>,
    #[command(flatten)]
    pub w: super::create::WriteFlags,
}

fn content_type(t: &str) -> Result<&'static str, CmdError> {
    match t {
        "strategic" => Ok(write::STRATEGIC),
        "merge" => Ok(write::MERGE),
        "json" => Ok(write::JSON_PATCH),
        other => Err(CmdError::msg(format!(
            "--type must be one of [json merge strategic], not {other:?}"
        ))),
    }
}

pub async fn run(g: &GlobalArgs, a: PatchArgs, out: &mut Output) -> Result<i32, CmdError> {
    let ct = content_type(&a.type_)?;
    let patch = match (&a.patch, &a.patch_file) {
        (Some(p), None) => p.clone(),
        (None, Some(f)) => {
            std::fs::read_to_string(f).map_err(|e| CmdError::msg(format!("unable to read patch file: {e}")))?
        }
        (Some(_), Some(_)) => return Err(CmdError::msg("cannot specify --patch and --patch-file together")),
        (None, None) => {
            return Err(CmdError::msg(
                "must specify --patch or --patch-file containing the contents of the patch",
            ));
        }
    };
    // A YAML patch is sent as JSON.
    let body: Value =
        serde_saphyr::from_str(&patch).map_err(|e| CmdError::msg(format!("unable to parse {patch:?}: {e}")))?;
    let dry_run = DryRun::parse(a.w.dry_run.as_deref())?;
    write::check_output(a.w.output.as_deref())?;
    let mut s = Session::open(g, "kubectl patch").await?;
    let selected = targets::select(&mut s, &a.args, None, false).await?;
    for (r, obj) in &selected.objects {
        let sub = a.subresource.as_deref();
        let patched = write::patch(&s, r, obj, sub, ct, &body, dry_run).await?;
        let op = if sub.is_none() && patched == *obj {
            "patched (no change)"
        } else {
            "patched"
        };
        write::report(out, &patched, op, dry_run, a.w.output.as_deref());
    }
    targets::finish(out, selected.errors)
}
