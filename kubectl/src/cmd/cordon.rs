//! `kubectl cordon` / `uncordon`: marks nodes unschedulable or schedulable again
//! (`node/n cordoned`, `node/n already cordoned`, …).

use super::Session;
use super::targets;
use super::write::{self, DryRun};
use crate::Output;
use crate::cli::GlobalArgs;
use crate::error::CmdError;
use clap::Args;
use serde_json::{Value, json};

#[derive(Args, Debug)]
pub struct CordonArgs {
    pub nodes: Vec<String>,
    #[arg(short = 'l', long)]
    pub selector: Option<String>,
    #[arg(long = "dry-run", num_args = 0..=1, require_equals = true, default_missing_value = "unchanged")]
    pub dry_run: Option<String>,
}

pub async fn run(g: &GlobalArgs, a: CordonArgs, cordon: bool, out: &mut Output) -> Result<i32, CmdError> {
    let verb = if cordon { "cordon" } else { "uncordon" };
    let dry_run = DryRun::parse(a.dry_run.as_deref())?;
    if a.nodes.is_empty() && a.selector.is_none() {
        return Err(CmdError::msg(format!("USAGE: {verb} NODE [flags]")));
    }
    let mut args = vec!["nodes".to_string()];
    args.extend(a.nodes.iter().cloned());
    let mut s = Session::open(g, &format!("kubectl {verb}")).await?;
    let selected = targets::select(&mut s, &args, a.selector.as_deref(), false).await?;
    for (r, node) in &selected.objects {
        let unschedulable = node["spec"]["unschedulable"].as_bool().unwrap_or(false);
        let done = if cordon { "cordoned" } else { "uncordoned" };
        if unschedulable == cordon {
            write::report(out, node, &format!("already {done}"), DryRun::None, None);
            continue;
        }
        if dry_run != DryRun::Client {
            let value = if cordon { json!(true) } else { Value::Null };
            let body = json!({"spec": {"unschedulable": value}});
            write::patch(&s, r, node, None, write::STRATEGIC, &body, dry_run).await?;
        }
        write::report(out, node, done, dry_run, None);
    }
    targets::finish(out, selected.errors)
}
