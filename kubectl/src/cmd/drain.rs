//! `kubectl drain NODE`: cordons the node, then evicts its pods through the Eviction API
//! (retrying while a PodDisruptionBudget refuses) or deletes them with `--disable-eviction`,
//! and waits until they are gone. DaemonSet pods, pods without a controller and pods with
//! emptyDir data stop the drain unless `--ignore-daemonsets`, `--force` and
//! `--delete-emptydir-data` allow them; mirror pods are left alone — as upstream.

use super::Session;
use super::targets;
use super::write::{self, DryRun};
use crate::Output;
use crate::cli::GlobalArgs;
use crate::error::CmdError;
use crate::http::{self, ACCEPT_JSON};
use clap::Args;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

#[derive(Args, Debug)]
pub struct DrainArgs {
    pub node: Vec<String>,
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub force: Option<bool>,
    #[arg(long = "ignore-daemonsets", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub ignore_daemonsets: Option<bool>,
    #[arg(long = "delete-emptydir-data", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub delete_emptydir_data: Option<bool>,
    #[arg(long = "disable-eviction", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub disable_eviction: Option<bool>,
    #[arg(long = "grace-period", default_value_t = -1, allow_negative_numbers = true)]
    pub grace_period: i64,
    #[arg(long, default_value = "0s")]
    pub timeout: String,
    #[arg(long = "pod-selector")]
    pub pod_selector: Option<String>,
    #[arg(long = "dry-run", num_args = 0..=1, require_equals = true, default_missing_value = "unchanged")]
    pub dry_run: Option<String>,
}

fn key(p: &Value) -> String {
    format!(
        "{}/{}",
        p["metadata"]["namespace"].as_str().unwrap_or_default(),
        p["metadata"]["name"].as_str().unwrap_or_default()
    )
}

fn controller_kind(p: &Value) -> Option<&str> {
    p["metadata"]["ownerReferences"]
        .as_array()?
        .iter()
        .find(|r| r["controller"] == true)?["kind"]
        .as_str()
}

/// Which pods go, and the warnings and refusals upstream's filters produce.
struct Plan {
    evict: Vec<Value>,
    warnings: Vec<String>,
    errors: Vec<String>,
}

fn plan(pods: Vec<Value>, a: &DrainArgs) -> Plan {
    let (mut daemon, mut unmanaged, mut local, mut evict) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for p in pods {
        if p["metadata"]["annotations"]["kubernetes.io/config.mirror"].is_string() {
            continue;
        }
        let finished = matches!(p["status"]["phase"].as_str(), Some("Succeeded" | "Failed"));
        match controller_kind(&p) {
            Some("DaemonSet") if !finished => {
                daemon.push(key(&p));
                continue;
            }
            None if !finished => unmanaged.push(key(&p)),
            _ => {}
        }
        let empty_dir = p["spec"]["volumes"]
            .as_array()
            .is_some_and(|v| v.iter().any(|v| v["emptyDir"].is_object()));
        if empty_dir && !finished {
            local.push(key(&p));
        }
        evict.push(p);
    }
    let mut out = Plan {
        evict,
        warnings: Vec::new(),
        errors: Vec::new(),
    };
    if !daemon.is_empty() {
        if a.ignore_daemonsets == Some(true) {
            out.warnings
                .push(format!("ignoring DaemonSet-managed Pods: {}", daemon.join(", ")));
        } else {
            out.errors.push(format!(
                "cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): {}",
                daemon.join(", ")
            ));
        }
    }
    if !unmanaged.is_empty() {
        if a.force == Some(true) {
            out.warnings.push(format!(
                "deleting Pods that declare no controller: {}",
                unmanaged.join(", ")
            ));
        } else {
            out.errors.push(format!(
                "cannot delete Pods that declare no controller (use --force to override): {}",
                unmanaged.join(", ")
            ));
        }
    }
    if !local.is_empty() {
        if a.delete_emptydir_data == Some(true) {
            out.warnings
                .push(format!("deleting Pods with local storage: {}", local.join(", ")));
        } else {
            out.errors.push(format!(
                "cannot delete Pods with local storage (use --delete-emptydir-data to override): {}",
                local.join(", ")
            ));
        }
    }
    out
}

pub async fn run(g: &GlobalArgs, a: DrainArgs, out: &mut Output) -> Result<i32, CmdError> {
    let [node] = a.node.as_slice() else {
        return Err(CmdError::Raw(
            "error: USAGE: drain NODE [flags]\nSee 'kubectl drain -h' for help and examples".into(),
        ));
    };
    let dry_run = DryRun::parse(a.dry_run.as_deref())?;
    let timeout = crate::kubeconfig::client::parse_timeout(&a.timeout)
        .map_err(|e| CmdError::msg(e.to_string()))?
        .filter(|d| !d.is_zero());
    let mut s = Session::open(g, "kubectl drain").await?;
    let selected = targets::select(&mut s, &["nodes".to_string(), node.clone()], None, false).await?;
    targets::finish(out, selected.errors)?;
    for (r, obj) in &selected.objects {
        if obj["spec"]["unschedulable"] == true {
            write::report(out, obj, "already cordoned", DryRun::None, None);
        } else {
            if dry_run != DryRun::Client {
                let body = json!({"spec": {"unschedulable": true}});
                write::patch(&s, r, obj, None, write::STRATEGIC, &body, dry_run).await?;
            }
            write::report(out, obj, "cordoned", dry_run, None);
        }
    }
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.append_pair("fieldSelector", &format!("spec.nodeName={node}"));
    if let Some(sel) = &a.pod_selector {
        q.append_pair("labelSelector", sel);
    }
    let reply = http::get(s.client(), &format!("/api/v1/pods?{}", q.finish()), ACCEPT_JSON).await?;
    let list: Value = serde_json::from_slice(&reply.body).map_err(|e| CmdError::msg(e.to_string()))?;
    let plan = plan(list["items"].as_array().cloned().unwrap_or_default(), &a);
    if !plan.errors.is_empty() {
        let joined = plan.errors.join(", ");
        return Err(CmdError::Raw(format!(
            "error: unable to drain node {node:?} due to error: cannot delete {joined}, continuing command...\nThere are pending nodes to be drained:\n {node}\ncannot delete {joined}"
        )));
    }
    for w in &plan.warnings {
        out.stderr.push_str(&format!("Warning: {w}\n"));
    }
    let started = Instant::now();
    for p in &plan.evict {
        let (ns, name) = (
            p["metadata"]["namespace"].as_str().unwrap_or_default(),
            p["metadata"]["name"].as_str().unwrap_or_default(),
        );
        let base = format!("/api/v1/namespaces/{ns}/pods/{name}");
        if dry_run != DryRun::None {
            // A dry run reports the evictions it would make and stops there, as upstream.
            let suffix = if dry_run == DryRun::Client {
                " (dry run)"
            } else {
                " (server dry run)"
            };
            out.stdout.push_str(&format!("evicting pod {ns}/{name}{suffix}\n"));
            continue;
        }
        let grace = (a.grace_period >= 0).then_some(a.grace_period);
        if a.disable_eviction == Some(true) {
            let body = match grace {
                Some(g) => json!({"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": g}),
                None => json!({}),
            };
            http::send(
                s.client(),
                ::http::Method::DELETE,
                &base,
                "application/json",
                body.to_string().into_bytes(),
            )
            .await?;
        } else {
            out.stdout.push_str(&format!("evicting pod {ns}/{name}\n"));
            let mut options = json!({"kind": "DeleteOptions", "apiVersion": "v1"});
            if let Some(g) = grace {
                options["gracePeriodSeconds"] = json!(g);
            }
            let eviction = json!({"apiVersion": "policy/v1", "kind": "Eviction",
                                  "metadata": {"name": name, "namespace": ns}, "deleteOptions": options});
            loop {
                match http::send(
                    s.client(),
                    ::http::Method::POST,
                    &format!("{base}/eviction"),
                    "application/json",
                    eviction.to_string().into_bytes(),
                )
                .await
                {
                    Ok(_) => break,
                    Err(e) if e.is_not_found() => break,
                    Err(CmdError::Server { reason, message }) if reason == "TooManyRequests" => {
                        out.stderr.push_str(&format!(
                            "error when evicting pods/{name:?} -n {ns:?} (will retry after 5s): {message}\n"
                        ));
                        if timeout.is_some_and(|t| started.elapsed() >= t) {
                            return Err(CmdError::msg(format!(
                                "error when evicting pods/{name:?} -n {ns:?}: global timeout reached"
                            )));
                        }
                        tokio::time::sleep(Duration::from_secs(5)).await;
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        {
            let uid = p["metadata"]["uid"].as_str().unwrap_or_default();
            let deadline = timeout.map(|t| started + t);
            if !super::objects::wait_gone(&s, &base, uid, deadline).await? {
                return Err(CmdError::msg(format!(
                    "error when waiting for pod {name:?} in namespace {ns:?} to terminate: context deadline exceeded"
                )));
            }
        }
        let done = if a.disable_eviction == Some(true) {
            "deleted"
        } else {
            "evicted"
        };
        out.stdout.push_str(&format!("pod/{name} {done}\n"));
    }
    out.stdout.push_str(&format!(
        "node/{node} drained{}\n",
        match dry_run {
            DryRun::None => "",
            DryRun::Client => " (dry run)",
            DryRun::Server => " (server dry run)",
        }
    ));
    Ok(0)
}
