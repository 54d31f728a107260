//! `kubectl version`: client version, and the server's from `/version` unless `--client`;
//! `-o json|yaml` print the same fields as upstream.

use super::Session;
use crate::Output;
use crate::cli::{GlobalArgs, VersionArgs};
use crate::error::CmdError;
use crate::http;
use crate::printers::yaml;
use serde_json::{Value, json};

/// The kustomize version upstream kubectl 1.33 embeds; we have no kustomize, but scripts
/// parse this line.
const KUSTOMIZE: &str = "v5.6.0";

fn client_info() -> Value {
    let v = crate::VERSION;
    let minor = v.split('.').nth(1).unwrap_or("33");
    json!({"major": "1", "minor": minor, "gitVersion": v, "gitCommit": "", "gitTreeState": "clean",
        "buildDate": "1970-01-01T00:00:00Z", "goVersion": "rust", "compiler": "rustc", "platform": "linux/amd64"})
}

pub async fn run(g: &GlobalArgs, a: VersionArgs, out: &mut Output) -> Result<(), CmdError> {
    let mut doc = serde_json::Map::new();
    doc.insert("clientVersion".into(), client_info());
    doc.insert("kustomizeVersion".into(), json!(KUSTOMIZE));
    let mut server_err = None;
    if a.client != Some(true) {
        match server_version(g).await {
            Ok(v) => {
                doc.insert("serverVersion".into(), v);
            }
            Err(e) => server_err = Some(e),
        }
    }
    let doc = Value::Object(doc);
    match a.output.as_deref() {
        None | Some("") => {
            out.stdout.push_str(&format!("Client Version: {}\n", crate::VERSION));
            out.stdout.push_str(&format!("Kustomize Version: {KUSTOMIZE}\n"));
            if let Some(s) = doc.get("serverVersion") {
                out.stdout.push_str(&format!(
                    "Server Version: {}\n",
                    s["gitVersion"].as_str().unwrap_or_default()
                ));
            }
        }
        Some("json") => {
            let text = serde_json::to_string_pretty(&doc).map_err(|e| CmdError::msg(e.to_string()))?;
            out.stdout.push_str(&text);
            out.stdout.push('\n');
        }
        Some("yaml") => {
            // Upstream ends the document with an empty line.
            out.stdout.push_str(&yaml::to_yaml(&doc));
            out.stdout.push('\n');
        }
        Some(other) => return Err(CmdError::msg(format!("--output {other} is not available"))),
    }
    match server_err {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

async fn server_version(g: &GlobalArgs) -> Result<Value, CmdError> {
    let s = Session::open(g, "kubectl version").await?;
    let reply = http::get(s.client(), "/version?timeout=32s", "application/json, */*").await?;
    serde_json::from_slice(&reply.body).map_err(|e| CmdError::msg(e.to_string()))
}
