//! `kubectl top pod|node`: resource usage from the metrics.k8s.io API (served by a metrics
//! server through the API server's aggregation layer), printed as upstream does: CPU in
//! millicores, memory in MiB, node usage also as a percentage of allocatable.

use super::Session;
use crate::Output;
use crate::cli::GlobalArgs;
use crate::error::CmdError;
use crate::http::{self, ACCEPT_JSON};
use crate::printers::tabwriter::align;
use api_types::quantity::Quantity;
use clap::{Args, Subcommand};
use serde_json::Value;

#[derive(Args, Debug)]
pub struct TopArgs {
    #[command(subcommand)]
    pub command: TopCommand,
}

#[derive(Subcommand, Debug)]
pub enum TopCommand {
    /// Display resource (CPU/memory) usage of pods
    #[command(alias = "pods", alias = "po")]
    Pod(TopFlags),
    /// Display resource (CPU/memory) usage of nodes
    #[command(alias = "nodes", alias = "no")]
    Node(TopFlags),
}

#[derive(Args, Debug)]
pub struct TopFlags {
    pub name: Vec<String>,
    #[arg(short = 'l', long)]
    pub selector: Option<String>,
    #[arg(short = 'A', long = "all-namespaces", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub all_namespaces: Option<bool>,
    #[arg(long = "no-headers", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub no_headers: Option<bool>,
}

/// Milli-units of a quantity string (0 when it is not one).
fn milli(q: &str) -> i128 {
    Quantity::parse(q).map_or(0, |q| q.0)
}

fn cpu(q: &Value) -> i128 {
    milli(q.as_str().unwrap_or("0"))
}

fn memory_mib(q: &Value) -> i128 {
    milli(q.as_str().unwrap_or("0")) / 1000 / (1024 * 1024)
}

async fn get(s: &Session, path: &str) -> Result<Value, CmdError> {
    let reply = http::get(s.client(), path, ACCEPT_JSON).await?;
    serde_json::from_slice(&reply.body).map_err(|e| CmdError::msg(e.to_string()))
}

pub async fn run(g: &GlobalArgs, a: TopArgs, out: &mut Output) -> Result<i32, CmdError> {
    let (node, f) = match &a.command {
        TopCommand::Pod(f) => (false, f),
        TopCommand::Node(f) => (true, f),
    };
    let mut s = Session::open(g, if node { "kubectl top node" } else { "kubectl top pod" }).await?;
    let available = s
        .discovery(false)
        .await?
        .resources()
        .iter()
        .any(|r| r.group == "metrics.k8s.io");
    if !available {
        return Err(CmdError::msg("Metrics API not available"));
    }
    let mut query = String::new();
    if let Some(l) = &f.selector {
        query = format!(
            "?{}",
            form_urlencoded::Serializer::new(String::new())
                .append_pair("labelSelector", l)
                .finish()
        );
    }
    let all_ns = f.all_namespaces == Some(true);
    let ns = s.conn.namespace.clone();
    let base = "/apis/metrics.k8s.io/v1beta1";
    let items: Vec<Value> = match (node, f.name.as_slice()) {
        (true, [name]) => vec![get(&s, &format!("{base}/nodes/{name}")).await?],
        (true, _) => get(&s, &format!("{base}/nodes{query}")).await?["items"]
            .as_array()
            .cloned()
            .unwrap_or_default(),
        (false, [name]) => vec![get(&s, &format!("{base}/namespaces/{ns}/pods/{name}")).await?],
        (false, _) if all_ns => get(&s, &format!("{base}/pods{query}")).await?["items"]
            .as_array()
            .cloned()
            .unwrap_or_default(),
        (false, _) => get(&s, &format!("{base}/namespaces/{ns}/pods{query}")).await?["items"]
            .as_array()
            .cloned()
            .unwrap_or_default(),
    };
    if items.is_empty() {
        if node {
            return Err(CmdError::msg("metrics not available yet"));
        }
        out.stderr.push_str(&if all_ns {
            "No resources found\n".to_string()
        } else {
            format!("No resources found in {ns} namespace.\n")
        });
        return Ok(0);
    }
    let mut text = String::new();
    if f.no_headers != Some(true) {
        text.push_str(match (node, all_ns) {
            (true, _) => "NAME\tCPU(cores)\tCPU(%)\tMEMORY(bytes)\tMEMORY(%)\t\n",
            (false, true) => "NAMESPACE\tNAME\tCPU(cores)\tMEMORY(bytes)\t\n",
            (false, false) => "NAME\tCPU(cores)\tMEMORY(bytes)\t\n",
        });
    }
    for item in &items {
        let name = item["metadata"]["name"].as_str().unwrap_or_default();
        if node {
            let n = get(&s, &format!("/api/v1/nodes/{name}")).await?;
            let alloc = &n["status"]["allocatable"];
            let (c, m) = (
                cpu(&item["usage"]["cpu"]),
                milli(item["usage"]["memory"].as_str().unwrap_or("0")),
            );
            let pct = |used: i128, total: i128| if total > 0 { used * 100 / total } else { 0 };
            text.push_str(&format!(
                "{name}\t{c}m\t{}%\t{}Mi\t{}%\t\n",
                pct(c, cpu(&alloc["cpu"])),
                memory_mib(&item["usage"]["memory"]),
                pct(m, milli(alloc["memory"].as_str().unwrap_or("0")))
            ));
        } else {
            let containers = item["containers"].as_array().cloned().unwrap_or_default();
            let c: i128 = containers.iter().map(|x| cpu(&x["usage"]["cpu"])).sum();
            let m: i128 = containers.iter().map(|x| memory_mib(&x["usage"]["memory"])).sum();
            if all_ns {
                let pns = item["metadata"]["namespace"].as_str().unwrap_or_default();
                text.push_str(&format!("{pns}\t{name}\t{c}m\t{m}Mi\t\n"));
            } else {
                text.push_str(&format!("{name}\t{c}m\t{m}Mi\t\n"));
            }
        }
    }
    out.stdout.push_str(&align(&text));
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        assert_eq!(milli("250m"), 250);
        assert_eq!(milli("2"), 2000);
        assert_eq!(memory_mib(&Value::from("64Mi")), 64);
        assert_eq!(cpu(&Value::from("1500000n")), 2);
    }
}
