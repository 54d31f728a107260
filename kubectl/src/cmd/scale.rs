//! `kubectl scale`: sets `spec.replicas` through the `scale` subresource, after checking
//! `--current-replicas` and `--resource-version` preconditions as upstream does.

use super::Session;
use super::targets::{self, object_path};
use super::write::{self, DryRun};
use crate::Output;
use crate::cli::GlobalArgs;
use crate::error::CmdError;
use crate::http::{self, ACCEPT_JSON};
use clap::Args;
use serde_json::{Value, json};

#[derive(Args, Debug)]
pub struct ScaleArgs {
    pub args: Vec<String>,
    #[arg(long, allow_negative_numbers = true)]
    pub replicas: Option<i64>,
    #[arg(long = "current-replicas", default_value_t = -1, allow_negative_numbers = true)]
    pub current_replicas: i64,
    #[arg(long = "resource-version")]
    pub resource_version: Option<String>,
    #[arg(short = 'l', long)]
    pub selector: Option<String>,
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub all: Option<bool>,
    #[command(flatten)]
    pub w: super::create::WriteFlags,
}

pub async fn run(g: &GlobalArgs, a: ScaleArgs, out: &mut Output) -> Result<i32, CmdError> {
    let Some(replicas) = a.replicas else {
        return Err(CmdError::msg("required flag(s) \"replicas\" not set"));
    };
    if replicas < 0 {
        return Err(CmdError::msg(
            "The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0",
        ));
    }
    let dry_run = DryRun::parse(a.w.dry_run.as_deref())?;
    write::check_output(a.w.output.as_deref())?;
    let mut s = Session::open(g, "kubectl scale").await?;
    let selected = targets::select(&mut s, &a.args, a.selector.as_deref(), a.all == Some(true)).await?;
    for (r, obj) in &selected.objects {
        let path = format!("{}/scale", object_path(r, obj));
        let scale: Value = serde_json::from_slice(&http::get(s.client(), &path, ACCEPT_JSON).await?.body)
            .map_err(|e| CmdError::msg(e.to_string()))?;
        let current = scale["spec"]["replicas"].as_i64().unwrap_or(0);
        if a.current_replicas >= 0 && a.current_replicas != current {
            return Err(CmdError::msg(format!(
                "Expected replicas to be {}, was {current}",
                a.current_replicas
            )));
        }
        if let Some(rv) = &a.resource_version
            && scale["metadata"]["resourceVersion"].as_str() != Some(rv.as_str())
        {
            return Err(CmdError::msg(format!(
                "Expected resourceVersion to be {rv}, was {}",
                scale["metadata"]["resourceVersion"].as_str().unwrap_or_default()
            )));
        }
        if dry_run != DryRun::Client {
            let body = json!({"spec": {"replicas": replicas}});
            write::patch(&s, r, obj, Some("scale"), write::MERGE, &body, dry_run).await?;
        }
        write::report(out, obj, "scaled", dry_run, a.w.output.as_deref());
    }
    targets::finish(out, selected.errors)
}
