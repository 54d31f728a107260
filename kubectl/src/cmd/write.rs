//! What the verbs that write share: `--dry-run` and `-o` flags, the request that creates
//! or changes an object (with `dryRun=All` for a server dry run), and upstream's one-line
//! report (`deployment.apps/web created`, `… (dry run)`, `… (server dry run)`) or the
//! object printed as `-o yaml|json|name` asks.

use super::Session;
use super::get::object_name;
use crate::Output;
use crate::discovery::Resource;
use crate::error::CmdError;
use crate::http;
use crate::printers::{json, yaml};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DryRun {
    None,
    Client,
    Server,
}

impl DryRun {
    pub fn parse(flag: Option<&str>) -> Result<DryRun, CmdError> {
        // `true` and `false` are the deprecated boolean forms.
        match flag {
            None | Some("none" | "false") => Ok(DryRun::None),
            Some("client" | "true") => Ok(DryRun::Client),
            Some("server") => Ok(DryRun::Server),
            Some(other) => Err(CmdError::msg(format!(
                "Invalid dry-run value ({other}). Must be \"none\", \"server\", or \"client\"."
            ))),
        }
    }

    pub fn suffix(self) -> &'static str {
        match self {
            DryRun::None => "",
            DryRun::Client => " (dry run)",
            DryRun::Server => " (server dry run)",
        }
    }

    /// The query parameter a request carries.
    pub fn query(self) -> &'static str {
        if self == DryRun::Server { "?dryRun=All" } else { "" }
    }

    /// The same, after other query parameters.
    pub fn param(self) -> &'static str {
        if self == DryRun::Server { "&dryRun=All" } else { "" }
    }
}

/// `-o`: empty for the one-line report.
pub fn check_output(o: Option<&str>) -> Result<(), CmdError> {
    match o.unwrap_or("") {
        "" | "yaml" | "json" | "name" => Ok(()),
        other => Err(CmdError::msg(format!(
            "unable to match a printer suitable for the output format \"{other}\", allowed formats are: json,name,yaml"
        ))),
    }
}

/// Prints `obj` after an operation as `-o` asks.
pub fn report(out: &mut Output, obj: &Value, operation: &str, dry_run: DryRun, output: Option<&str>) {
    // Printed objects leave managedFields out, as upstream's printers do by default.
    let shown = || {
        let mut o = obj.clone();
        if let Some(m) = o.get_mut("metadata").and_then(Value::as_object_mut) {
            m.remove("managedFields");
        }
        o
    };
    match output.unwrap_or("") {
        "yaml" => out.stdout.push_str(&yaml::to_yaml(&shown())),
        "json" => out.stdout.push_str(&json::to_json(&shown())),
        "name" => {
            out.stdout.push_str(&object_name(obj));
            out.stdout.push('\n');
        }
        _ => {
            out.stdout
                .push_str(&format!("{} {operation}{}\n", object_name(obj), dry_run.suffix()));
        }
    }
}

pub const STRATEGIC: &str = "application/strategic-merge-patch+json";
pub const MERGE: &str = "application/merge-patch+json";
pub const JSON_PATCH: &str = "application/json-patch+json";

/// PATCHes `obj` (or its `subresource`) with `body` of `content_type` and returns what the
/// server wrote.
pub async fn patch(
    s: &Session,
    r: &Resource,
    obj: &Value,
    subresource: Option<&str>,
    content_type: &str,
    body: &Value,
    dry_run: DryRun,
) -> Result<Value, CmdError> {
    let sub = subresource.map(|x| format!("/{x}")).unwrap_or_default();
    let path = format!("{}{sub}{}", super::targets::object_path(r, obj), dry_run.query());
    let reply = http::send(
        s.client(),
        ::http::Method::PATCH,
        &path,
        content_type,
        body.to_string().into_bytes(),
    )
    .await?;
    serde_json::from_slice(&reply.body).map_err(|e| CmdError::msg(e.to_string()))
}

/// The resource serving objects of `apiVersion`/`kind`.
pub async fn resource_for(s: &mut Session, api_version: &str, kind: &str) -> Result<Resource, CmdError> {
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let find = |d: &crate::discovery::Discovery| {
        d.resources()
            .into_iter()
            .find(|r| r.group == group && r.version == version && r.kind == kind)
    };
    if let Some(r) = find(s.discovery(false).await?) {
        return Ok(r);
    }
    find(s.discovery(true).await?).ok_or_else(|| {
        CmdError::msg(format!(
            "resource mapping not found for kind \"{kind}\" in version \"{api_version}\""
        ))
    })
}

/// Creates `obj` (in `namespace` when its kind is namespaced) and reports it; a client dry
/// run prints the object as built.
pub async fn create(
    s: &mut Session,
    out: &mut Output,
    obj: Value,
    dry_run: DryRun,
    output: Option<&str>,
) -> Result<(), CmdError> {
    create_reporting(s, out, obj, dry_run, output, "created").await
}

/// `create` with another word in the report (`exposed`, `autoscaled`).
pub async fn create_reporting(
    s: &mut Session,
    out: &mut Output,
    mut obj: Value,
    dry_run: DryRun,
    output: Option<&str>,
    operation: &str,
) -> Result<(), CmdError> {
    let api_version = obj["apiVersion"].as_str().unwrap_or_default().to_string();
    let kind = obj["kind"].as_str().unwrap_or_default().to_string();
    let r = resource_for(s, &api_version, &kind).await?;
    let ns = s.conn.namespace.clone();
    // Generators that name the namespace do so only when -n was given (autoscale never does).
    if r.namespaced && s.conn.namespace_explicit && operation != "autoscaled" {
        obj["metadata"]["namespace"] = Value::String(ns.clone());
    }
    if dry_run == DryRun::Client {
        report(out, &obj, operation, dry_run, output);
        return Ok(());
    }
    let path = format!("{}{}", r.path(Some(&ns)), dry_run.query());
    let body = serde_json::to_vec(&obj).map_err(|e| CmdError::msg(e.to_string()))?;
    let reply = http::send(s.client(), ::http::Method::POST, &path, "application/json", body)
        .await
        .map_err(|e| match e {
            // Generators report a refused create as upstream does.
            CmdError::Server { message, .. } | CmdError::ServerPlain(message) => {
                CmdError::msg(format!("failed to create {}: {message}", kind.to_lowercase()))
            }
            other => other,
        })?;
    let created: Value = serde_json::from_slice(&reply.body).map_err(|e| CmdError::msg(e.to_string()))?;
    report(out, &created, operation, dry_run, output);
    Ok(())
}
