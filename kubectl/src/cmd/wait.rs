//! `kubectl wait --for=condition=C[=V] | delete | jsonpath='{…}'[=value]`: polls the selected
//! objects until each meets the condition or `--timeout` runs out, with upstream's messages.

use super::Session;
use super::get::object_name;
use super::targets::{self, object_path};
use crate::Output;
use crate::cli::GlobalArgs;
use crate::error::CmdError;
use crate::http::{self, ACCEPT_JSON};
use crate::printers::jsonpath::JsonPath;
use clap::Args;
use serde_json::Value;
use std::time::{Duration, Instant};

#[derive(Args, Debug)]
pub struct WaitArgs {
    pub args: Vec<String>,
    #[arg(long = "for")]
    pub for_: Option<String>,
    #[arg(long, default_value = "30s")]
    pub timeout: String,
    #[arg(short = 'l', long)]
    pub selector: Option<String>,
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub all: Option<bool>,
}

enum Condition {
    Delete,
    Status { name: String, value: String },
    JsonPath { path: JsonPath, value: Option<String> },
}

fn parse(spec: &str) -> Result<Condition, CmdError> {
    if spec == "delete" {
        return Ok(Condition::Delete);
    }
    if let Some(rest) = spec.strip_prefix("condition=") {
        let (name, value) = rest.split_once('=').unwrap_or((rest, "true"));
        return Ok(Condition::Status {
            name: name.to_string(),
            value: value.to_string(),
        });
    }
    if let Some(rest) = spec.strip_prefix("jsonpath=") {
        // `{.a.b}=value`: the value follows the closing brace.
        let (expr, value) = match rest.rfind('}') {
            Some(i) => (&rest[..=i], rest[i + 1..].strip_prefix('=').map(str::to_string)),
            None => (rest, None),
        };
        let path =
            JsonPath::parse(expr).map_err(|e| CmdError::msg(format!("unrecognized condition: {spec:?}: {e}")))?;
        return Ok(Condition::JsonPath { path, value });
    }
    Err(CmdError::msg(format!("unrecognized condition: {spec:?}")))
}

fn met(c: &Condition, obj: &Value) -> bool {
    match c {
        Condition::Delete => false,
        Condition::Status { name, value } => obj["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|cond| {
                cond["type"].as_str().is_some_and(|t| t.eq_ignore_ascii_case(name))
                    && cond["status"].as_str().is_some_and(|s| s.eq_ignore_ascii_case(value))
            }),
        Condition::JsonPath { path, value } => {
            let found = path.values(obj);
            match value {
                None => !found.is_empty(),
                Some(want) => found.iter().any(|v| match v {
                    Value::String(s) => s == want,
                    other => want.as_str() == other.to_string().as_str(),
                }),
            }
        }
    }
}

pub async fn run(g: &GlobalArgs, a: WaitArgs, out: &mut Output) -> Result<i32, CmdError> {
    let condition = parse(a.for_.as_deref().unwrap_or(""))?;
    let timeout = crate::kubeconfig::client::parse_timeout(&a.timeout)
        .map_err(|e| CmdError::msg(e.to_string()))?
        .unwrap_or(Duration::ZERO);
    let mut s = Session::open(g, "kubectl wait").await?;
    let selected = targets::select(&mut s, &a.args, a.selector.as_deref(), a.all == Some(true)).await?;
    let mut errors = Vec::new();
    for e in selected.errors {
        // Waiting for something already gone succeeds.
        if !(matches!(condition, Condition::Delete) && e.is_not_found()) {
            errors.push(e);
        }
    }
    let started = Instant::now();
    for (r, obj) in &selected.objects {
        let path = object_path(r, obj);
        let mut current = obj.clone();
        loop {
            if met(&condition, &current) {
                out.stdout.push_str(&format!("{} condition met\n", object_name(obj)));
                break;
            }
            if started.elapsed() >= timeout {
                let name = obj["metadata"]["name"].as_str().unwrap_or_default();
                return Err(CmdError::msg(if timeout.is_zero() {
                    format!("condition not met for {}/{name}", r.name)
                } else {
                    format!("timed out waiting for the condition on {}/{name}", r.name)
                }));
            }
            tokio::time::sleep(Duration::from_millis(250).min(timeout.saturating_sub(started.elapsed()))).await;
            match http::get(s.client(), &path, ACCEPT_JSON).await {
                Ok(reply) => {
                    current = serde_json::from_slice(&reply.body).map_err(|e| CmdError::msg(e.to_string()))?;
                }
                Err(e) if e.is_not_found() && matches!(condition, Condition::Delete) => {
                    out.stdout.push_str(&format!("{} condition met\n", object_name(obj)));
                    break;
                }
                Err(e) => return Err(e),
            }
        }
    }
    targets::finish(out, errors)
}
