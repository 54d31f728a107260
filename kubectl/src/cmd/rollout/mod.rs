//! `kubectl rollout pause|resume|restart|history|undo|status`: Deployments for all of them,
//! DaemonSets and StatefulSets for restart, history, undo and status, with upstream's
//! messages.

mod history;
mod status;
mod undo;

use super::Session;
use super::targets::{self, object_path};
use super::write::{self, DryRun};
use crate::Output;
use crate::cli::GlobalArgs;
use crate::discovery::Resource;
use crate::error::CmdError;
use crate::http::{self, ACCEPT_JSON};
use clap::{Args, Subcommand};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

#[derive(Args, Debug)]
pub struct RolloutArgs {
    #[command(subcommand)]
    pub command: RolloutCommand,
}

#[derive(Args, Debug)]
pub struct RolloutTarget {
    pub args: Vec<String>,
    #[arg(short = 'l', long)]
    pub selector: Option<String>,
    #[command(flatten)]
    pub w: super::create::WriteFlags,
}

#[derive(Subcommand, Debug)]
pub enum RolloutCommand {
    /// Mark the provided resource as paused
    Pause(RolloutTarget),
    /// Resume a paused resource
    Resume(RolloutTarget),
    /// Restart a resource
    Restart(RolloutTarget),
    /// View rollout history
    History {
        #[command(flatten)]
        t: RolloutTarget,
        /// See the details, including podTemplate of the revision specified
        #[arg(long, default_value_t = 0)]
        revision: i64,
    },
    /// Undo a previous rollout
    Undo {
        #[command(flatten)]
        t: RolloutTarget,
        #[arg(long = "to-revision", default_value_t = 0)]
        to_revision: i64,
    },
    /// Show the status of the rollout
    Status {
        #[command(flatten)]
        t: RolloutTarget,
        #[arg(short = 'w', long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
        watch: bool,
        #[arg(long, default_value = "0s")]
        timeout: String,
    },
}

/// `deployments.apps "web"` as upstream names an object in messages.
fn quoted(r: &Resource, obj: &Value) -> String {
    format!(
        "{} {:?}",
        r.group_resource(),
        obj["metadata"]["name"].as_str().unwrap_or_default()
    )
}

/// upstream's refusal of a kind without a history viewer or rollbacker.
fn no_visitor(what: &str, r: &Resource, obj: &Value) -> CmdError {
    let kind = obj["kind"].as_str().unwrap_or_default();
    CmdError::msg(format!(
        "error retrieving {what} for \"{kind}\", no visitor method exists for {{{} {kind}}}",
        r.group
    ))
}

pub async fn run(g: &GlobalArgs, a: RolloutArgs, out: &mut Output) -> Result<i32, CmdError> {
    let (sub, t) = match &a.command {
        RolloutCommand::Pause(t) => ("pause", t),
        RolloutCommand::Resume(t) => ("resume", t),
        RolloutCommand::Restart(t) => ("restart", t),
        RolloutCommand::History { t, .. } => ("history", t),
        RolloutCommand::Undo { t, .. } => ("undo", t),
        RolloutCommand::Status { t, .. } => ("status", t),
    };
    let dry_run = DryRun::parse(t.w.dry_run.as_deref())?;
    write::check_output(t.w.output.as_deref())?;
    if t.args.is_empty() && t.selector.is_none() {
        return Err(CmdError::msg("required resource not specified"));
    }
    let mut s = Session::open(g, &format!("kubectl rollout {sub}")).await?;
    // `rollout history TYPE` covers every object of the type.
    let all = matches!(a.command, RolloutCommand::History { .. });
    let selected = targets::select(&mut s, &t.args, t.selector.as_deref(), all).await?;
    for (r, obj) in &selected.objects {
        match &a.command {
            RolloutCommand::Pause(_) | RolloutCommand::Resume(_) => {
                let pause = sub == "pause";
                if r.group != "apps" || r.name != "deployments" {
                    let verb = if pause { "pausing" } else { "resuming" };
                    return Err(CmdError::msg(format!("{} {verb} is not supported", quoted(r, obj))));
                }
                let paused = obj["spec"]["paused"].as_bool().unwrap_or(false);
                if paused == pause {
                    let state = if pause { "already paused" } else { "not paused" };
                    return Err(CmdError::msg(format!("{} is {state}", quoted(r, obj))));
                }
                let value = if pause { json!(true) } else { Value::Null };
                let written = write::patch(
                    &s,
                    r,
                    obj,
                    None,
                    write::STRATEGIC,
                    &json!({"spec": {"paused": value}}),
                    dry_run,
                )
                .await?;
                write::report(
                    out,
                    &written,
                    if pause { "paused" } else { "resumed" },
                    dry_run,
                    t.w.output.as_deref(),
                );
            }
            RolloutCommand::Restart(_) => {
                if !(r.group == "apps" && matches!(r.name.as_str(), "deployments" | "daemonsets" | "statefulsets")) {
                    return Err(CmdError::msg(format!("{} restarting is not supported", quoted(r, obj))));
                }
                if obj["spec"]["paused"] == true {
                    return Err(CmdError::msg(format!(
                        "{} can't restart paused deployment (run rollout resume first)",
                        quoted(r, obj)
                    )));
                }
                let now = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
                let body = json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": now}}}}});
                let written = write::patch(&s, r, obj, None, write::STRATEGIC, &body, dry_run).await?;
                write::report(out, &written, "restarted", dry_run, t.w.output.as_deref());
            }
            RolloutCommand::History { revision, .. } => {
                let revisions = history::revisions(&s, r, obj).await?;
                let name = super::get::object_name(obj);
                out.stdout.push_str(&history::view(&name, &revisions, *revision)?);
            }
            RolloutCommand::Undo { to_revision, .. } => {
                let output = t.w.output.as_deref();
                match (r.group.as_str(), r.name.as_str()) {
                    ("apps", "deployments") => undo::deployment(&s, r, obj, *to_revision, dry_run, output, out).await?,
                    ("apps", "daemonsets" | "statefulsets") => {
                        undo::controller_revision(&s, r, obj, *to_revision, dry_run, output, out).await?
                    }
                    _ => return Err(no_visitor("rollbacker", r, obj)),
                }
            }
            RolloutCommand::Status { watch, timeout, .. } => {
                if !(r.group == "apps" && matches!(r.name.as_str(), "deployments" | "daemonsets" | "statefulsets")) {
                    return Err(CmdError::msg(format!(
                        "no status viewer has been implemented for {}",
                        obj["kind"].as_str().unwrap_or_default()
                    )));
                }
                let limit = crate::kubeconfig::client::parse_timeout(timeout)
                    .map_err(|e| CmdError::msg(e.to_string()))?
                    .filter(|d| !d.is_zero());
                let started = Instant::now();
                let mut last = String::new();
                let mut current = obj.clone();
                loop {
                    let (msg, done) = status::status(&s, r, &current).await?;
                    if msg != last {
                        out.stdout.push_str(&msg);
                        out.flush();
                        last = msg;
                    }
                    if done || !watch {
                        break;
                    }
                    if limit.is_some_and(|l| started.elapsed() >= l) {
                        return Err(CmdError::msg("timed out waiting for the condition"));
                    }
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    let reply = http::get(s.client(), &object_path(r, obj), ACCEPT_JSON).await?;
                    current = serde_json::from_slice(&reply.body).map_err(|e| CmdError::msg(e.to_string()))?;
                }
            }
        }
    }
    targets::finish(out, selected.errors)
}
