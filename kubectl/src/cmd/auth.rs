//! `kubectl auth whoami` (SelfSubjectReview) and `kubectl auth can-i` (SelfSubjectAccessReview):
//! who the server takes us for, and whether it would allow an action (`yes`, or `no` with
//! exit code 1).

use super::Session;
use crate::Output;
use crate::cli::GlobalArgs;
use crate::error::CmdError;
use crate::http;
use crate::printers::tabwriter::align;
use crate::printers::{go_sprint, json, yaml};
use clap::{Args, Subcommand};
use serde_json::{Value, json};

#[derive(Args, Debug)]
pub struct AuthArgs {
    #[command(subcommand)]
    pub command: AuthCommand,
}

#[derive(Subcommand, Debug)]
pub enum AuthCommand {
    /// Experimental: Check self subject attributes
    Whoami {
        #[arg(short = 'o', long)]
        output: Option<String>,
    },
    /// Check whether an action is allowed
    #[command(name = "can-i")]
    CanI(CanIArgs),
}

#[derive(Args, Debug)]
pub struct CanIArgs {
    pub args: Vec<String>,
    #[arg(short = 'A', long = "all-namespaces", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub all_namespaces: Option<bool>,
    #[arg(short = 'q', long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub quiet: Option<bool>,
    #[arg(long)]
    pub subresource: Option<String>,
}

async fn post(s: &Session, path: &str, body: Value) -> Result<Value, CmdError> {
    let reply = http::send(
        s.client(),
        ::http::Method::POST,
        path,
        "application/json",
        body.to_string().into_bytes(),
    )
    .await?;
    serde_json::from_slice(&reply.body).map_err(|e| CmdError::msg(e.to_string()))
}

async fn whoami(g: &GlobalArgs, output: Option<&str>, out: &mut Output) -> Result<i32, CmdError> {
    let s = Session::open(g, "kubectl auth whoami").await?;
    let review = json!({"kind": "SelfSubjectReview", "apiVersion": "authentication.k8s.io/v1", "metadata": {"creationTimestamp": null}, "status": {"userInfo": {}}});
    let got = post(&s, "/apis/authentication.k8s.io/v1/selfsubjectreviews", review).await?;
    // Printed in the typed order upstream's struct has.
    let ui = &got["status"]["userInfo"];
    let mut info = serde_json::Map::new();
    for key in ["username", "uid", "groups", "extra"] {
        if !ui[key].is_null() {
            info.insert(key.into(), ui[key].clone());
        }
    }
    let got = json!({"kind": got["kind"], "apiVersion": got["apiVersion"], "metadata": got["metadata"],
                     "status": {"userInfo": info}});
    match output.unwrap_or("") {
        "json" => out.stdout.push_str(&json::to_json_ordered(&got)),
        "yaml" => out.stdout.push_str(&yaml::to_yaml(&got)),
        "" => {
            let ui = &got["status"]["userInfo"];
            let mut text = String::from("ATTRIBUTE\tVALUE\n");
            for (label, key) in [("Username", "username"), ("UID", "uid")] {
                if let Some(v) = ui[key].as_str().filter(|v| !v.is_empty()) {
                    text.push_str(&format!("{label}\t{v}\n"));
                }
            }
            if ui["groups"].as_array().is_some_and(|g| !g.is_empty()) {
                text.push_str(&format!("Groups\t{}\n", go_sprint(&ui["groups"])));
            }
            if let Some(extra) = ui["extra"].as_object() {
                let mut keys: Vec<&String> = extra.keys().collect();
                keys.sort();
                for k in keys {
                    text.push_str(&format!("Extra: {k}\t{}\n", go_sprint(&extra[k])));
                }
            }
            out.stdout.push_str(&align(&text));
        }
        other => {
            return Err(CmdError::msg(format!(
                "unable to match a printer suitable for the output format \"{other}\", allowed formats are: json,yaml"
            )));
        }
    }
    Ok(0)
}

async fn can_i(g: &GlobalArgs, a: &CanIArgs, out: &mut Output) -> Result<i32, CmdError> {
    let (verb, target) = match a.args.as_slice() {
        [verb, target] => (verb.clone(), target.clone()),
        _ => {
            return Err(CmdError::Raw(
                "error: you must specify two arguments: verb resource or verb resource/resourceName.\nSee 'kubectl auth can-i -h' for help and examples."
                    .into(),
            ));
        }
    };
    let mut s = Session::open(g, "kubectl auth can-i").await?;
    let spec = if target.starts_with('/') {
        json!({"nonResourceAttributes": {"path": target, "verb": verb}})
    } else {
        let (kind, name) = target.split_once('/').unwrap_or((target.as_str(), ""));
        let (resource, group) = if kind == "*" {
            ("*".to_string(), "*".to_string())
        } else {
            match crate::resources::resolve(s.discovery(false).await?, kind).and_then(|r| r.into_iter().next()) {
                Some(r) => (r.name, r.group),
                None => {
                    out.stderr.push_str(&format!(
                        "Warning: the server doesn't have a resource type '{kind}'\n\n"
                    ));
                    let (res, group) = kind.split_once('.').unwrap_or((kind, ""));
                    (res.to_string(), group.to_string())
                }
            }
        };
        let namespace = if a.all_namespaces == Some(true) {
            String::new()
        } else {
            s.conn.namespace.clone()
        };
        let mut attrs = json!({"namespace": namespace, "verb": verb, "group": group, "resource": resource});
        if !name.is_empty() {
            attrs["name"] = json!(name);
        }
        if let Some(sub) = &a.subresource {
            attrs["subresource"] = json!(sub);
        }
        json!({"resourceAttributes": attrs})
    };
    let review = json!({"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1", "spec": spec});
    let got = post(&s, "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", review).await?;
    let allowed = got["status"]["allowed"].as_bool().unwrap_or(false);
    if a.quiet != Some(true) {
        out.stdout.push_str(if allowed { "yes\n" } else { "no\n" });
    }
    Ok(if allowed { 0 } else { 1 })
}

pub async fn run(g: &GlobalArgs, a: AuthArgs, out: &mut Output) -> Result<i32, CmdError> {
    match &a.command {
        AuthCommand::Whoami { output } => whoami(g, output.as_deref(), out).await,
        AuthCommand::CanI(c) => can_i(g, c, out).await,
    }
}
