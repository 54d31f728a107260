//! `kubectl expose` (a Service selecting a workload's or Service's pods, ports from the flags
//! or the pod template) and `kubectl autoscale` (an autoscaling/v2 HPA for a scalable
//! workload), as upstream's generators build them.

use super::Session;
use super::targets;
use super::write::{self, DryRun};
use crate::Output;
use crate::cli::GlobalArgs;
use crate::error::CmdError;
use clap::Args;
use serde_json::{Value, json};

#[derive(Args, Debug)]
pub struct ExposeArgs {
    pub args: Vec<String>,
    #[arg(long)]
    pub port: Option<String>,
    #[arg(long = "target-port")]
    pub target_port: Option<String>,
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long = "type")]
    pub type_: Option<String>,
    #[arg(long, default_value = "TCP")]
    pub protocol: String,
    #[command(flatten)]
    pub w: super::create::WriteFlags,
}

#[derive(Args, Debug)]
pub struct AutoscaleArgs {
    pub args: Vec<String>,
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    pub min: i32,
    #[arg(long, allow_negative_numbers = true)]
    pub max: Option<i32>,
    #[arg(long = "cpu-percent", default_value_t = -1, allow_negative_numbers = true)]
    pub cpu_percent: i32,
    #[arg(long)]
    pub name: Option<String>,
    #[command(flatten)]
    pub w: super::create::WriteFlags,
}

/// The selector of the pods an object runs (or a Service selects).
fn selector_of(obj: &Value) -> Option<Value> {
    match obj["kind"].as_str()? {
        "Pod" => obj["metadata"]["labels"].as_object().map(|l| json!(l)),
        "Service" | "ReplicationController" => obj["spec"]["selector"].as_object().map(|l| json!(l)),
        _ => obj["spec"]["selector"]["matchLabels"].as_object().map(|l| json!(l)),
    }
}

/// Container ports of the pod template (or a Service's ports).
fn introspected_ports(obj: &Value) -> Vec<i64> {
    let spec = match obj["kind"].as_str() {
        Some("Pod") => &obj["spec"],
        Some("Service") => {
            return obj["spec"]["ports"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p["port"].as_i64())
                .collect();
        }
        _ => &obj["spec"]["template"]["spec"],
    };
    spec["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["ports"].as_array().cloned().unwrap_or_default())
        .filter_map(|p| p["containerPort"].as_i64())
        .collect()
}

fn int_or_string(s: &str) -> Value {
    s.parse::<i64>().map_or_else(|_| json!(s), |n| json!(n))
}

async fn one_object(
    s: &mut Session,
    args: &[String],
    verb: &str,
) -> Result<(crate::discovery::Resource, Value), CmdError> {
    if args.is_empty() {
        return Err(CmdError::Raw(format!(
            "error: You must provide one or more resources by argument or filename.\nExample resource specifications include:\n   '-f rsrc.yaml'\n   '--filename=rsrc.json'\n   '<resource> <name>'\n   '<resource>'\nSee 'kubectl {verb} -h' for help and examples"
        )));
    }
    let mut selected = targets::select(s, args, None, false).await?;
    if let Some(e) = selected.errors.pop() {
        return Err(e);
    }
    selected
        .objects
        .pop()
        .ok_or_else(|| CmdError::msg("no objects passed to ".to_string() + verb))
}

pub async fn expose(g: &GlobalArgs, a: ExposeArgs, out: &mut Output) -> Result<i32, CmdError> {
    let dry_run = DryRun::parse(a.w.dry_run.as_deref())?;
    write::check_output(a.w.output.as_deref())?;
    let mut s = Session::open(g, "kubectl expose").await?;
    let (_, obj) = one_object(&mut s, &a.args, "expose").await?;
    let kind = obj["kind"].as_str().unwrap_or_default().to_string();
    let Some(selector) = selector_of(&obj) else {
        return Err(CmdError::msg(format!("cannot expose a {kind}")));
    };
    let ports: Vec<String> = match &a.port {
        Some(p) => vec![p.clone()],
        None => introspected_ports(&obj).iter().map(i64::to_string).collect(),
    };
    if ports.is_empty() {
        return Err(CmdError::msg("couldn't find port via --port flag or introspection"));
    }
    let many = ports.len() > 1;
    let service_ports: Vec<Value> = ports
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let port = int_or_string(p);
            let target = a.target_port.as_deref().map_or_else(|| port.clone(), int_or_string);
            let mut sp = json!({"port": port, "protocol": a.protocol, "targetPort": target});
            if many {
                sp["name"] = json!(format!("port-{}", i + 1));
            }
            sp
        })
        .collect();
    let name = a
        .name
        .clone()
        .unwrap_or_else(|| obj["metadata"]["name"].as_str().unwrap_or_default().to_string());
    let mut meta = json!({"name": name, "creationTimestamp": null});
    if let Some(labels) = obj["metadata"]["labels"].as_object() {
        meta["labels"] = json!(labels);
    }
    let mut spec = json!({"ports": service_ports, "selector": selector});
    if let Some(t) = &a.type_ {
        spec["type"] = json!(t);
    }
    let svc =
        json!({"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": spec, "status": {"loadBalancer": {}}});
    write::create_reporting(&mut s, out, svc, dry_run, a.w.output.as_deref(), "exposed").await?;
    Ok(0)
}

pub async fn autoscale(g: &GlobalArgs, a: AutoscaleArgs, out: &mut Output) -> Result<i32, CmdError> {
    let dry_run = DryRun::parse(a.w.dry_run.as_deref())?;
    write::check_output(a.w.output.as_deref())?;
    let Some(max) = a.max else {
        return Err(CmdError::msg("required flag(s) \"max\" not set"));
    };
    if max < 1 {
        return Err(CmdError::msg(format!(
            "--max=MAXPODS is required and must be at least 1, max: {max}"
        )));
    }
    if max < a.min {
        return Err(CmdError::msg(format!(
            "--max=MAXPODS must be larger or equal to --min=MINPODS, max: {max}, min: {}",
            a.min
        )));
    }
    let mut s = Session::open(g, "kubectl autoscale").await?;
    let (r, obj) = one_object(&mut s, &a.args, "autoscale").await?;
    let target_name = obj["metadata"]["name"].as_str().unwrap_or_default().to_string();
    let mut spec = json!({
        "maxReplicas": max,
        "scaleTargetRef": {"apiVersion": r.group_version(), "kind": obj["kind"], "name": target_name},
    });
    if a.min >= 0 {
        spec["minReplicas"] = json!(a.min);
    }
    if a.cpu_percent >= 0 {
        spec["metrics"] = json!([{"type": "Resource",
            "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": a.cpu_percent}}}]);
    }
    let name = a.name.clone().unwrap_or(target_name);
    let hpa = json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                     "metadata": {"name": name, "creationTimestamp": null}, "spec": spec,
                     "status": {"currentMetrics": null, "desiredReplicas": 0}});
    write::create_reporting(&mut s, out, hpa, dry_run, a.w.output.as_deref(), "autoscaled").await?;
    Ok(0)
}
