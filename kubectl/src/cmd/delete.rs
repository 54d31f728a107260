//! `kubectl delete`: objects named as `TYPE NAME…`, `TYPE/NAME…`, by `-f` files, by `-l`
//! selector or `--all`; DeleteOptions from `--grace-period`, `--force`, `--now` and
//! `--cascade`; `--wait` (the default) polls until every deleted object is gone.

use super::Session;
use super::apply::finish;
use super::objects::{self, DryRun};
use crate::Output;
use crate::cli::GlobalArgs;
use crate::discovery::Resource;
use crate::error::CmdError;
use crate::inputs;
use crate::resources;
use clap::Args;
use serde_json::json;

#[derive(Args, Debug, Default, Clone)]
pub struct DeleteArgs {
    pub args: Vec<String>,
    /// containing the resource to delete.
    #[arg(short = 'f', long = "filename")]
    pub filename: Vec<String>,
    /// Process the directory used in -f, --filename recursively.
    #[arg(short = 'R', long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub recursive: Option<bool>,
    /// Selector (label query) to filter on.
    #[arg(short = 'l', long)]
    pub selector: Option<String>,
    /// Delete all resources, in the namespace of the specified resource types.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub all: Option<bool>,
    /// Period of time in seconds given to the resource to terminate gracefully.
    #[arg(long = "grace-period", default_value_t = -1, allow_negative_numbers = true)]
    pub grace_period: i64,
    /// If true, immediately remove resources from API and bypass graceful deletion.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub force: Option<bool>,
    /// If true, wait for resources to be gone before returning.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub wait: Option<bool>,
    /// Must be "background", "orphan", or "foreground".
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "background")]
    pub cascade: Option<String>,
    /// Treat "resource not found" as a successful delete.
    #[arg(long = "ignore-not-found", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub ignore_not_found: Option<bool>,
    /// If true, resources are signaled for immediate shutdown (same as --grace-period=1).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub now: Option<bool>,
    /// Output mode. Use "-o name" for shorter output (resource/name).
    #[arg(short = 'o', long)]
    pub output: Option<String>,
    /// Must be "none", "server", or "client".
    #[arg(long = "dry-run", num_args = 0..=1, require_equals = true, default_missing_value = "unchanged")]
    pub dry_run: Option<String>,
}

pub const NO_RESOURCES: &str = "error: You must provide one or more resources by argument or filename.
Example resource specifications include:
   '-f rsrc.yaml'
   '--filename=rsrc.json'
   '<resource> <name>'
   '<resource>'";

/// One object to delete.
struct Victim {
    /// The file it came from, for `error when deleting "<file>"`.
    source: Option<String>,
    resource: Resource,
    namespace: Option<String>,
    name: String,
}

impl Victim {
    fn path(&self) -> String {
        format!("{}/{}", self.resource.path(self.namespace.as_deref()), self.name)
    }
}

pub async fn run(g: &GlobalArgs, a: DeleteArgs, out: &mut Output) -> Result<i32, CmdError> {
    let dry = DryRun::parse(a.dry_run.as_deref())?;
    let by_name = a.output.as_deref() == Some("name");
    let propagation = match a.cascade.as_deref().unwrap_or("background") {
        "background" | "true" => "Background",
        "foreground" => "Foreground",
        "orphan" | "false" => "Orphan",
        other => {
            return Err(CmdError::msg(format!(
                "invalid cascade value ({other}). Must be \"background\", \"foreground\", or \"orphan\""
            )));
        }
    };
    let force = a.force == Some(true);
    let mut grace = a.grace_period;
    if a.now == Some(true) {
        if grace != -1 {
            return Err(CmdError::msg("--now and --grace-period cannot be specified together"));
        }
        grace = 1;
    }
    if grace == 0 && !force {
        grace = 1;
    }
    if force && grace < 0 {
        grace = 0;
    }
    if grace == 0 && force {
        out.stderr.push_str("Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated. The resource may continue to run on the cluster indefinitely.\n");
    }
    let all = a.all == Some(true);
    let selecting = all || a.selector.is_some();
    let ignore_nf = a.ignore_not_found.unwrap_or(selecting);
    if a.args.is_empty() && a.filename.is_empty() {
        return Err(CmdError::Raw(NO_RESOURCES.into()));
    }
    if !a.filename.is_empty() && !a.args.is_empty() {
        return Err(CmdError::msg(
            "Unexpected args: [".to_string() + &a.args.join(" ") + "]\nSee 'kubectl delete -h' for help and examples",
        ));
    }
    let mut s = Session::open(g, "kubectl delete").await?;
    let ns = s.conn.namespace.clone();
    let mut victims: Vec<Victim> = Vec::new();
    let mut errors: Vec<CmdError> = Vec::new();
    if !a.filename.is_empty() {
        let objects = inputs::read_all(&a.filename, a.recursive == Some(true)).await?;
        for m in objects::map_objects(&mut s, objects).await? {
            if let Some(sel) = &a.selector
                && !super::apply::matches_selector(&m.object["metadata"]["labels"], sel)
            {
                continue;
            }
            victims.push(Victim {
                source: Some(m.source),
                resource: m.resource,
                namespace: m.namespace,
                name: m.name,
            });
        }
    } else {
        let pairs = resources::split_args(&a.args)?;
        let targets = match resources::resolve_all(s.discovery(false).await?, &pairs) {
            Ok(t) => t,
            Err(_) => resources::resolve_all(s.discovery(true).await?, &pairs)
                .map_err(|t| CmdError::msg(format!("the server doesn't have a resource type \"{t}\"")))?,
        };
        for t in targets {
            let namespace = t.resource.namespaced.then(|| ns.clone());
            if t.names.is_empty() {
                if !selecting {
                    return Err(CmdError::msg("resource(s) were provided, but no name was specified"));
                }
                let mut path = t.resource.path(namespace.as_deref());
                if let Some(sel) = &a.selector {
                    path.push_str(&format!(
                        "?labelSelector={}",
                        form_urlencoded::byte_serialize(sel.as_bytes()).collect::<String>()
                    ));
                }
                let list = objects::send(s.client(), "GET", &path, None, None).await?;
                if !list.ok() {
                    errors.push(list.error());
                    continue;
                }
                for item in list.body["items"].as_array().into_iter().flatten() {
                    victims.push(Victim {
                        source: None,
                        resource: t.resource.clone(),
                        namespace: namespace.clone(),
                        name: item["metadata"]["name"].as_str().unwrap_or_default().to_string(),
                    });
                }
            } else {
                if selecting {
                    return Err(CmdError::msg("name cannot be provided when a selector is specified"));
                }
                for n in t.names {
                    victims.push(Victim {
                        source: None,
                        resource: t.resource.clone(),
                        namespace: namespace.clone(),
                        name: n,
                    });
                }
            }
        }
        if victims.is_empty() && errors.is_empty() {
            out.stdout.push_str("No resources found\n");
            return Ok(0);
        }
    }
    if let Some(o) = a.output.as_deref()
        && o != "name"
    {
        return Err(CmdError::msg(format!(
            "unexpected -o output mode: {o}. We only support '-o name'"
        )));
    }
    let mut options = json!({"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": propagation});
    if grace >= 0 {
        options["gracePeriodSeconds"] = json!(grace);
    }
    if dry == DryRun::Server {
        options["dryRun"] = json!(["All"]);
    }
    let verb = if force && grace == 0 {
        "force deleted"
    } else {
        "deleted"
    };
    let mut deleted: Vec<(Victim, String)> = Vec::new();
    for v in victims {
        let label = v.resource.kind.to_lowercase()
            + &if v.resource.group.is_empty() {
                String::new()
            } else {
                format!(".{}", v.resource.group)
            };
        let uid = if dry == DryRun::Client {
            let r = objects::send(s.client(), "GET", &v.path(), None, None).await?;
            if !r.ok() {
                if !(ignore_nf && r.code == 404) {
                    errors.push(r.error());
                }
                continue;
            }
            String::new()
        } else {
            let path = format!("{}{}", v.path(), dry.param().replacen('&', "?", 1));
            let r = objects::send(s.client(), "DELETE", &path, Some("application/json"), Some(&options)).await?;
            if !r.ok() {
                if !(ignore_nf && r.code == 404) {
                    errors.push(match &v.source {
                        Some(f) => super::apply::when(r.error(), &format!("error when deleting \"{f}\"")),
                        None => r.error(),
                    });
                }
                continue;
            }
            r.body["metadata"]["uid"]
                .as_str()
                .or(r.body["details"]["uid"].as_str())
                .unwrap_or_default()
                .to_string()
        };
        if by_name {
            out.stdout.push_str(&format!("{label}/{}\n", v.name));
        } else {
            out.stdout
                .push_str(&format!("{label} \"{}\" {verb}{}\n", v.name, dry.suffix()));
        }
        deleted.push((v, uid));
    }
    if a.wait != Some(false) && dry == DryRun::None {
        for (v, uid) in &deleted {
            objects::wait_gone(&s, &v.path(), uid, None).await?;
        }
    }
    finish(errors, out)
}
