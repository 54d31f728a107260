//! `kubectl set resources RESOURCE --limits=cpu=200m,memory=512Mi --requests=…`: sets the
//! requests and limits of the selected containers (`-c`, all by default), quantities written
//! in upstream's canonical form (`0.5` → `500m`, `1024Mi` → `1Gi`).

use super::{ObjectFlags, Outcome, Session, aggregate, gather, pod_spec, selected_containers, send_changes};
use crate::Output;
use crate::cli::GlobalArgs;
use crate::error::CmdError;
use clap::Args;
use serde_json::{Map, Value, json};

#[derive(Args, Debug)]
pub struct ResourcesArgs {
    pub args: Vec<String>,
    /// The names of containers in the selected pod templates to change, all containers are selected by default - may use wildcards
    #[arg(short = 'c', long = "containers", default_value = "*")]
    pub containers: String,
    /// The resource requirement limits for this container.  For example, 'cpu=100m,memory=256Mi'.
    #[arg(long, default_value = "")]
    pub limits: String,
    /// The resource requirement requests for this container.  For example, 'cpu=100m,memory=256Mi'.
    #[arg(long, default_value = "")]
    pub requests: String,
    #[command(flatten)]
    pub objects: ObjectFlags,
}

const COMMAND: &str = "kubectl set resources";

/// `cpu=100m,memory=256Mi` as resource names and canonical quantities.
fn resource_list(spec: &str) -> Result<Vec<(String, String)>, CmdError> {
    if spec.is_empty() {
        return Ok(Vec::new());
    }
    let mut out: Vec<(String, String)> = Vec::new();
    for statement in spec.split(',') {
        let parts: Vec<&str> = statement.split('=').collect();
        let [name, quantity] = parts.as_slice() else {
            return Err(CmdError::msg(format!(
                "Invalid argument syntax {statement}, expected <resource>=<value>"
            )));
        };
        let q = api_types::quantity::canonical(quantity).map_err(CmdError::msg)?;
        match out.iter_mut().find(|(n, _)| n == name) {
            Some(entry) => entry.1 = q,
            None => out.push((name.to_string(), q)),
        }
    }
    Ok(out)
}

pub async fn run(g: &GlobalArgs, a: ResourcesArgs, out: &mut Output) -> Result<i32, CmdError> {
    let f = &a.objects;
    let dry = f.parse_output()?;
    let mut s: Option<Session> = None;
    let targets = gather(&mut s, g, COMMAND, f, &a.args, true).await?;
    if f.local() && dry == super::DryRun::Server {
        return Err(CmdError::msg(
            "cannot specify --local and --dry-run=server - did you mean --dry-run=client?",
        ));
    }
    if f.all() && f.selector.is_some() {
        return Err(CmdError::msg("cannot set --all and --selector at the same time"));
    }
    if a.limits.is_empty() && a.requests.is_empty() {
        return Err(CmdError::msg(
            "you must specify an update to requests or limits (in the form of --requests/--limits)",
        ));
    }
    let limits = resource_list(&a.limits)?;
    let requests = resource_list(&a.requests)?;
    let mut errors = Vec::new();
    let mut changes = Vec::new();
    for t in targets {
        let mut object = t.object.clone();
        let outcome = match pod_spec(&mut object) {
            Err(e) => Outcome::Failed(e),
            Ok(spec) => {
                let mut none = json!({});
                let spec = spec.unwrap_or(&mut none);
                let picked = selected_containers(spec, &a.containers);
                if picked.is_empty() {
                    errors.push(format!("error: unable to find container named {}", a.containers));
                    Outcome::Skipped
                } else {
                    for (list, i) in picked {
                        let c = &mut spec[list][i];
                        for (section, flag, values) in
                            [("limits", &a.limits, &limits), ("requests", &a.requests, &requests)]
                        {
                            if flag.is_empty() {
                                continue;
                            }
                            let _ = resource_map(c, "resources");
                            if let Some(map) = c.get_mut("resources").and_then(|r| resource_map(r, section)) {
                                for (name, q) in values {
                                    map.insert(name.clone(), json!(q));
                                }
                            }
                        }
                    }
                    Outcome::Changed(object)
                }
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
        "resource requirements updated",
        "failed to patch resources update to pod template ",
        &mut errors,
        out,
    )
    .await?;
    aggregate(errors)
}

/// The map under `key` of the map `v` (made when missing or not a map).
fn resource_map<'a>(v: &'a mut Value, key: &str) -> Option<&'a mut Map<String, Value>> {
    let slot = v
        .as_object_mut()?
        .entry(key)
        .or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    slot.as_object_mut()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists() {
        assert_eq!(
            resource_list("cpu=0.5,memory=1024Mi").unwrap(),
            vec![("cpu".into(), "500m".into()), ("memory".into(), "1Gi".into())]
        );
        assert_eq!(
            resource_list("cpu").unwrap_err().to_string(),
            "error: Invalid argument syntax cpu, expected <resource>=<value>"
        );
        assert!(resource_list("cpu=abc").is_err());
        assert!(resource_list("").unwrap().is_empty());
    }
}
