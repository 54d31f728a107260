//! `kubectl run NAME --image=…`: the Pod upstream's generator builds (labels `run=NAME` unless
//! `-l`, ports, env, restart policy, command or args after `--`), created or printed.

use super::Session;
use super::write::{self, DryRun};
use crate::Output;
use crate::cli::GlobalArgs;
use crate::error::CmdError;
use clap::Args;
use serde_json::{Map, Value, json};

#[derive(Args, Debug)]
pub struct RunArgs {
    pub name: Vec<String>,
    #[arg(long)]
    pub image: Option<String>,
    #[arg(short = 'l', long)]
    pub labels: Option<String>,
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    pub port: i32,
    #[arg(long)]
    pub env: Vec<String>,
    #[arg(long, default_value = "Always")]
    pub restart: String,
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub command: Option<bool>,
    #[arg(long = "image-pull-policy")]
    pub image_pull_policy: Option<String>,
    #[arg(last = true)]
    pub args: Vec<String>,
    #[command(flatten)]
    pub w: super::create::WriteFlags,
}

pub async fn run(g: &GlobalArgs, a: RunArgs, out: &mut Output) -> Result<i32, CmdError> {
    let name = match a.name.as_slice() {
        [n] => n.clone(),
        [] => {
            return Err(CmdError::Raw(
                "error: NAME is required for run\nSee 'kubectl run -h' for help and examples".into(),
            ));
        }
        _ => return Err(CmdError::msg("too many arguments: expected NAME [-- COMMAND]")),
    };
    let Some(image) = &a.image else {
        return Err(CmdError::msg("required flag(s) \"image\" not set"));
    };
    let dry_run = DryRun::parse(a.w.dry_run.as_deref())?;
    write::check_output(a.w.output.as_deref())?;
    if !["Always", "OnFailure", "Never"].contains(&a.restart.as_str()) {
        return Err(CmdError::msg(format!("invalid restart policy: {}", a.restart)));
    }
    let mut labels = Map::new();
    match &a.labels {
        Some(l) => {
            for pair in l.split(',').filter(|p| !p.is_empty()) {
                let (k, v) = pair
                    .split_once('=')
                    .ok_or_else(|| CmdError::msg(format!("invalid label spec: {pair}")))?;
                labels.insert(k.into(), json!(v));
            }
        }
        None => {
            labels.insert("run".into(), json!(name));
        }
    }
    let mut container = json!({"name": name, "image": image, "resources": {}});
    if !a.args.is_empty() {
        let key = if a.command == Some(true) { "command" } else { "args" };
        container[key] = json!(a.args);
    }
    if !a.env.is_empty() {
        let env: Vec<Value> = a
            .env
            .iter()
            .map(|e| {
                let (k, v) = e.split_once('=').unwrap_or((e, ""));
                json!({"name": k, "value": v})
            })
            .collect();
        container["env"] = json!(env);
    }
    if a.port >= 0 {
        container["ports"] = json!([{"containerPort": a.port}]);
    }
    if let Some(p) = &a.image_pull_policy {
        container["imagePullPolicy"] = json!(p);
    }
    let pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": labels, "creationTimestamp": null},
        "spec": {"containers": [container], "restartPolicy": a.restart, "dnsPolicy": "ClusterFirst"},
        "status": {},
    });
    let mut s = Session::open(g, "kubectl run").await?;
    write::create(&mut s, out, pod, dry_run, a.w.output.as_deref()).await?;
    Ok(0)
}
