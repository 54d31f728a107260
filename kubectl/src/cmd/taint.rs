//! `kubectl taint`: adds `key[=value]:Effect` taints and removes `key[:Effect]-` ones on
//! nodes, with upstream's messages (`tainted`, `untainted`, the overwrite and not-found errors).

use super::Session;
use super::targets;
use super::write::{self, DryRun};
use crate::Output;
use crate::cli::GlobalArgs;
use crate::error::CmdError;
use clap::Args;
use serde_json::{Value, json};

#[derive(Args, Debug)]
pub struct TaintArgs {
    pub args: Vec<String>,
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub overwrite: Option<bool>,
    #[arg(short = 'l', long)]
    pub selector: Option<String>,
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub all: Option<bool>,
    #[command(flatten)]
    pub w: super::create::WriteFlags,
}

const EFFECTS: &[&str] = &["NoSchedule", "PreferNoSchedule", "NoExecute"];

#[derive(Debug, PartialEq)]
enum Change {
    Add {
        key: String,
        value: Option<String>,
        effect: String,
    },
    Remove {
        key: String,
        effect: Option<String>,
    },
}

fn parse(spec: &str) -> Result<Change, CmdError> {
    let invalid = || CmdError::msg(format!("invalid taint spec: {spec}"));
    if let Some(rest) = spec.strip_suffix('-') {
        let (key, effect) = match rest.split_once(':') {
            Some((k, e)) => (k, Some(e.to_string())),
            None => (rest, None),
        };
        if key.is_empty() {
            return Err(invalid());
        }
        return Ok(Change::Remove {
            key: key.into(),
            effect,
        });
    }
    let (kv, effect) = spec.split_once(':').ok_or_else(invalid)?;
    if !EFFECTS.contains(&effect) {
        return Err(CmdError::Raw(format!(
            "error: invalid taint effect: {effect}, unsupported taint effect\nSee 'kubectl taint -h' for help and examples"
        )));
    }
    let (key, value) = match kv.split_once('=') {
        Some((k, v)) => (k, Some(v.to_string())),
        None => (kv, None),
    };
    if key.is_empty() {
        return Err(invalid());
    }
    Ok(Change::Add {
        key: key.into(),
        value,
        effect: effect.into(),
    })
}

pub async fn run(g: &GlobalArgs, a: TaintArgs, out: &mut Output) -> Result<i32, CmdError> {
    let dry_run = DryRun::parse(a.w.dry_run.as_deref())?;
    write::check_output(a.w.output.as_deref())?;
    let (mut resources, mut specs) = (Vec::new(), Vec::new());
    for (i, arg) in a.args.iter().enumerate() {
        if i > 0 && (arg.contains(':') || arg.ends_with('-') || arg.contains('=')) {
            specs.push(parse(arg)?);
        } else {
            resources.push(arg.clone());
        }
    }
    if specs.is_empty() {
        return Err(CmdError::msg("at least one taint update is required"));
    }
    let mut s = Session::open(g, "kubectl taint").await?;
    let selected = targets::select(&mut s, &resources, a.selector.as_deref(), a.all == Some(true)).await?;
    for (r, node) in &selected.objects {
        let mut taints: Vec<Value> = node["spec"]["taints"].as_array().cloned().unwrap_or_default();
        let mut removed = false;
        let mut added = false;
        for c in &specs {
            match c {
                Change::Add { key, value, effect } => {
                    let same = taints
                        .iter()
                        .position(|t| t["key"] == key.as_str() && t["effect"] == effect.as_str());
                    if let Some(ix) = same {
                        if a.overwrite != Some(true) {
                            return Err(CmdError::msg(format!(
                                "node {} already has {key} taint(s) with same effect(s) and --overwrite is false",
                                node["metadata"]["name"].as_str().unwrap_or_default()
                            )));
                        }
                        taints.remove(ix);
                    }
                    let mut t = json!({"key": key, "effect": effect});
                    if let Some(v) = value {
                        t["value"] = json!(v);
                    }
                    taints.push(t);
                    added = true;
                }
                Change::Remove { key, effect } => {
                    let before = taints.len();
                    taints.retain(|t| {
                        !(t["key"] == key.as_str() && effect.as_ref().is_none_or(|e| t["effect"] == e.as_str()))
                    });
                    if taints.len() == before {
                        return Err(CmdError::msg(format!("taint {key:?} not found")));
                    }
                    removed = true;
                }
            }
        }
        let op = if removed && !added {
            "untainted"
        } else if removed {
            "modified"
        } else {
            "tainted"
        };
        let mut updated = node.clone();
        updated["spec"]["taints"] = json!(taints);
        if dry_run != DryRun::Client {
            let body = json!({"spec": {"taints": if taints.is_empty() { Value::Null } else { json!(taints) }}});
            updated = write::patch(&s, r, node, None, write::MERGE, &body, dry_run).await?;
        }
        write::report(out, &updated, op, dry_run, a.w.output.as_deref());
    }
    targets::finish(out, selected.errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taint_specs() {
        assert_eq!(
            parse("k=v:NoSchedule").unwrap(),
            Change::Add {
                key: "k".into(),
                value: Some("v".into()),
                effect: "NoSchedule".into()
            }
        );
        assert_eq!(
            parse("k:NoExecute-").unwrap(),
            Change::Remove {
                key: "k".into(),
                effect: Some("NoExecute".into())
            }
        );
        assert_eq!(
            parse("k-").unwrap(),
            Change::Remove {
                key: "k".into(),
                effect: None
            }
        );
        assert!(parse("k=v:Sometimes").is_err());
    }
}
