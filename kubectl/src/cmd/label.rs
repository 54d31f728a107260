//! `kubectl label` and `kubectl annotate`: `key=value` sets, `key-` removes, `--overwrite`
//! allows changing a value; the change goes as a JSON merge patch of the metadata map, and
//! each object is reported as upstream does (`labeled`, `not labeled`, `unlabeled`,
//! `annotated`).

use super::Session;
use super::targets;
use super::write::{self, DryRun};
use crate::Output;
use crate::cli::GlobalArgs;
use crate::error::CmdError;
use clap::Args;
use serde_json::{Map, Value, json};

#[derive(Args, Debug)]
pub struct MetaArgs {
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

/// Which metadata map a command edits.
#[derive(Clone, Copy, PartialEq)]
pub enum Field {
    Labels,
    Annotations,
}

/// Splits arguments into resource arguments and changes (`k=v` sets, `k-` removes).
fn split(args: &[String]) -> (Vec<String>, Vec<(String, Option<String>)>) {
    let mut resources = Vec::new();
    let mut changes = Vec::new();
    for a in args {
        if let Some((k, v)) = a.split_once('=') {
            changes.push((k.to_string(), Some(v.to_string())));
        } else if let Some(k) = a.strip_suffix('-') {
            changes.push((k.to_string(), None));
        } else {
            resources.push(a.clone());
        }
    }
    (resources, changes)
}

/// The outcome of applying `changes` to one object's map.
#[derive(Debug, PartialEq)]
struct Edit {
    new: Map<String, Value>,
    /// Keys asked to be removed that are not there.
    missing: Vec<String>,
    message: &'static str,
}

fn edit(
    field: Field,
    old: Option<&Map<String, Value>>,
    changes: &[(String, Option<String>)],
    overwrite: bool,
) -> Result<Edit, CmdError> {
    let mut new = old.cloned().unwrap_or_default();
    let mut missing = Vec::new();
    for (k, v) in changes {
        match v {
            Some(v) => {
                if let Some(current) = new.get(k).and_then(Value::as_str)
                    && current != v
                    && !overwrite
                {
                    return Err(CmdError::msg(match field {
                        Field::Labels => format!("'{k}' already has a value ({current}), and --overwrite is false"),
                        Field::Annotations => format!(
                            "--overwrite is false but found the following declared annotation(s): '{k}' already has a value ({current})"
                        ),
                    }));
                }
                new.insert(k.clone(), json!(v));
            }
            None => {
                if new.remove(k).is_none() {
                    missing.push(k.clone());
                }
            }
        }
    }
    // Upstream compares the serialized objects: an absent map set to `{}` counts as a change,
    // and a shorter one (without --overwrite) as a removal.
    let size = |m: &Map<String, Value>| serde_json::to_string(m).map_or(0, |t| t.len() + 9);
    let old_size = old.map_or(0, size);
    let message = match field {
        Field::Annotations => "annotated",
        Field::Labels if old == Some(&new) => "not labeled",
        Field::Labels if !overwrite && size(&new) < old_size => "unlabeled",
        Field::Labels => "labeled",
    };
    Ok(Edit { new, missing, message })
}

pub async fn run(g: &GlobalArgs, field: Field, a: MetaArgs, out: &mut Output) -> Result<i32, CmdError> {
    let (name, key) = match field {
        Field::Labels => ("label", "labels"),
        Field::Annotations => ("annotate", "annotations"),
    };
    let dry_run = DryRun::parse(a.w.dry_run.as_deref())?;
    write::check_output(a.w.output.as_deref())?;
    let (resource_args, changes) = split(&a.args);
    if changes.is_empty() {
        return Err(CmdError::msg(match field {
            Field::Labels => "at least one label update is required",
            Field::Annotations => "at least one annotation update is required",
        }));
    }
    if resource_args.is_empty() {
        return Err(CmdError::msg(
            "one or more resources must be specified as <resource> <name> or <resource>/<name>",
        ));
    }
    let mut s = Session::open(g, &format!("kubectl {name}")).await?;
    let selected = targets::select(&mut s, &resource_args, a.selector.as_deref(), a.all == Some(true)).await?;
    let overwrite = a.overwrite == Some(true);
    for (r, obj) in &selected.objects {
        let old = obj["metadata"][key].as_object();
        let e = edit(field, old, &changes, overwrite)?;
        for k in &e.missing {
            if field == Field::Labels {
                out.stdout.push_str(&format!("label {k:?} not found.\n"));
            }
        }
        let mut updated = obj.clone();
        updated["metadata"][key] = Value::Object(e.new.clone());
        if dry_run == DryRun::Client {
            write::report(out, &updated, e.message, dry_run, a.w.output.as_deref());
            continue;
        }
        // The merge patch: new and changed keys, removed ones as null.
        let mut patch = Map::new();
        for (k, v) in &e.new {
            if old.and_then(|o| o.get(k)) != Some(v) {
                patch.insert(k.clone(), v.clone());
            }
        }
        for k in old.into_iter().flat_map(|o| o.keys()) {
            if !e.new.contains_key(k) {
                patch.insert(k.clone(), Value::Null);
            }
        }
        let body = json!({"metadata": {key: patch}});
        let written = write::patch(&s, r, obj, None, write::MERGE, &body, dry_run).await?;
        write::report(out, &written, e.message, dry_run, a.w.output.as_deref());
    }
    targets::finish(out, selected.errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changes(s: &[&str]) -> Vec<(String, Option<String>)> {
        split(&s.iter().map(|x| x.to_string()).collect::<Vec<_>>()).1
    }

    #[test]
    fn messages_as_upstream() {
        let old: Map<String, Value> = serde_json::from_value(json!({"tier": "x"})).unwrap();
        let e = |c: &[&str], overwrite: bool, old: Option<&Map<String, Value>>| {
            edit(Field::Labels, old, &changes(c), overwrite)
        };
        assert_eq!(e(&["tier=x"], false, Some(&old)).unwrap().message, "not labeled");
        assert_eq!(e(&["a=1"], false, Some(&old)).unwrap().message, "labeled");
        assert_eq!(e(&["tier-"], false, Some(&old)).unwrap().message, "unlabeled");
        assert_eq!(e(&["tier=y"], true, Some(&old)).unwrap().message, "labeled");
        assert_eq!(
            e(&["tier=y"], false, Some(&old)).unwrap_err().to_string(),
            "error: 'tier' already has a value (x), and --overwrite is false"
        );
        let absent = e(&["tier-"], false, None).unwrap();
        assert_eq!((absent.message, absent.missing), ("labeled", vec!["tier".to_string()]));
    }
}
