//! `kubectl cluster-info`: the control plane's address, and services labelled
//! `kubernetes.io/cluster-service=true` in kube-system.

use super::Session;
use crate::Output;
use crate::cli::GlobalArgs;
use crate::error::CmdError;
use crate::http;
use serde_json::Value;
use std::io::IsTerminal;

pub async fn run(g: &GlobalArgs, out: &mut Output) -> Result<(), CmdError> {
    let s = Session::open(g, "kubectl cluster-info").await?;
    let server = s.conn.server.trim_end_matches('/').to_string();
    // Upstream colours names green and URLs yellow, only on a terminal.
    let tty = std::io::stdout().is_terminal();
    let green = |t: &str| {
        if tty {
            format!("\x1b[0;32m{t}\x1b[0m")
        } else {
            t.to_string()
        }
    };
    let yellow = |t: &str| {
        if tty {
            format!("\x1b[0;33m{t}\x1b[0m")
        } else {
            t.to_string()
        }
    };
    out.stdout.push_str(&format!(
        "{} is running at {}\n",
        green("Kubernetes control plane"),
        yellow(&server)
    ));
    let path = "/api/v1/namespaces/kube-system/services?labelSelector=kubernetes.io%2Fcluster-service%3Dtrue";
    let reply = http::get(s.client(), path, "application/json").await?;
    let list: Value = serde_json::from_slice(&reply.body).map_err(|e| CmdError::msg(e.to_string()))?;
    for svc in list["items"].as_array().into_iter().flatten() {
        let name = svc["metadata"]["labels"]["kubernetes.io/name"]
            .as_str()
            .or_else(|| svc["metadata"]["name"].as_str())
            .unwrap_or_default();
        let svc_name = svc["metadata"]["name"].as_str().unwrap_or_default();
        let port = svc["spec"]["ports"][0]["name"]
            .as_str()
            .map(|p| format!(":{p}"))
            .unwrap_or_default();
        let url = format!("{server}/api/v1/namespaces/kube-system/services/{svc_name}{port}/proxy");
        out.stdout
            .push_str(&format!("{} is running at {}\n", green(name), yellow(&url)));
    }
    out.stdout
        .push_str("\nTo further debug and diagnose cluster problems, use 'kubectl cluster-info dump'.\n");
    Ok(())
}
