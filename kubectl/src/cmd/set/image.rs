//! `kubectl set image RESOURCE NAME=IMAGE…`: sets container images (`*` for every
//! container, init containers included), `image updated`, nothing for objects whose images
//! already match.

use super::{ObjectFlags, Outcome, Session, aggregate, gather, pod_spec, send_changes};
use crate::Output;
use crate::cli::GlobalArgs;
use crate::error::CmdError;
use clap::Args;
use serde_json::{Value, json};

#[derive(Args, Debug)]
pub struct ImageArgs {
    pub args: Vec<String>,
    #[command(flatten)]
    pub objects: ObjectFlags,
}

const COMMAND: &str = "kubectl set image";

/// Splits the arguments into resources and `KEY=VALUE` (or `KEY-`) pairs, which must come last.
pub(super) fn resources_and_pairs(args: &[String], pair_type: &str) -> Result<(Vec<String>, Vec<String>), CmdError> {
    let (mut resources, mut pairs) = (Vec::new(), Vec::new());
    for a in args {
        let is_pair = (a.contains('=') && !a.starts_with('=')) || (a.ends_with('-') && a != "-");
        if is_pair {
            pairs.push(a.clone());
        } else if pairs.is_empty() {
            resources.push(a.clone());
        } else {
            return Err(CmdError::msg(format!(
                "all resources must be specified before {pair_type} changes: {a}"
            )));
        }
    }
    Ok((resources, pairs))
}

/// `NAME=IMAGE` pairs, the last one winning for a name; upstream's error lists the bad ones.
fn parse_images(pairs: &[String]) -> Result<Vec<(String, String)>, CmdError> {
    let mut images: Vec<(String, String)> = Vec::new();
    let mut invalid = Vec::new();
    for p in pairs {
        match p.split_once('=').filter(|_| !p.starts_with('=')) {
            Some((name, image)) => match images.iter_mut().find(|(n, _)| n == name) {
                Some(entry) => entry.1 = image.to_string(),
                None => images.push((name.to_string(), image.to_string())),
            },
            None => invalid.push(p.as_str()),
        }
    }
    if !invalid.is_empty() {
        return Err(CmdError::msg(format!("invalid image format: {}", invalid.join(", "))));
    }
    Ok(images)
}

pub async fn run(g: &GlobalArgs, a: ImageArgs, out: &mut Output) -> Result<i32, CmdError> {
    let f = &a.objects;
    let dry = f.parse_output()?;
    let (resources, pairs) = resources_and_pairs(&a.args, "image")?;
    let images = parse_images(&pairs)?;
    let mut s: Option<Session> = None;
    let targets = gather(&mut s, g, COMMAND, f, &resources, true).await?;
    let mut invalid = Vec::new();
    if f.all() && f.selector.is_some() {
        invalid.push("cannot set --all and --selector at the same time".to_string());
    }
    if resources.is_empty() && f.filename.is_empty() {
        invalid.push("one or more resources must be specified as <resource> <name> or <resource>/<name>".into());
    }
    if images.is_empty() {
        invalid.push("at least one image update is required".into());
    } else if images.len() > 1 && images.iter().any(|(n, _)| n == "*") {
        invalid.push(
            "all containers are already specified by *, but saw more than one container_name=container_image pairs"
                .into(),
        );
    }
    if f.local() && dry == super::DryRun::Server {
        invalid.push("cannot specify --local and --dry-run=server - did you mean --dry-run=client?".into());
    }
    aggregate(invalid)?;
    let mut errors = Vec::new();
    let mut changes = Vec::new();
    for t in targets {
        let mut object = t.object.clone();
        let outcome = match pod_spec(&mut object) {
            Err(e) => Outcome::Failed(e),
            Ok(spec) => {
                let mut none = json!({});
                let spec = spec.unwrap_or(&mut none);
                for (name, image) in &images {
                    let mut found = false;
                    for list in ["initContainers", "containers"] {
                        for c in spec.get_mut(list).and_then(Value::as_array_mut).into_iter().flatten() {
                            if name == "*" || c["name"] == name.as_str() {
                                c["image"] = json!(image);
                                found = true;
                            }
                        }
                    }
                    if !found {
                        errors.push(format!("error: unable to find container named {name:?}"));
                    }
                }
                Outcome::Changed(object)
            }
        };
        changes.push((t, outcome));
    }
    send_changes(
        &mut s,
        g,
        COMMAND,
        f,
        dry,
        changes,
        "image updated",
        "failed to patch image update to pod template: ",
        &mut errors,
        out,
    )
    .await?;
    aggregate(errors)
}
