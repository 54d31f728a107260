//! `kubectl explain RESOURCE[.field…]`: the resource resolved through discovery as upstream's
//! RESTMapper resolves it, its schema from the server's OpenAPI v3 document for the
//! group-version (`--api-version` overrides it), rendered as upstream's `plaintext` template
//! renders it (`explain/`). `--output=plaintext-openapiv2` asks for the v2 document, which
//! upstream renders with its older printer; we report the server's refusal as upstream does
//! and otherwise refuse the format.

use super::Session;
use super::objects::OpenApi;
use crate::Output;
use crate::cli::GlobalArgs;
use crate::error::CmdError;
use crate::explain::{self, Request, path};
use clap::Args;

#[derive(Args, Debug, Default)]
pub struct ExplainArgs {
    pub args: Vec<String>,
    /// When true, print the name of all the fields recursively. Otherwise, print the available fields with their description.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub recursive: Option<bool>,
    /// Use given api-version (group/version) of the resource.
    #[arg(long = "api-version")]
    pub api_version: Option<String>,
    /// Format in which to render the schema. Valid values are: (plaintext, plaintext-openapiv2).
    #[arg(long)]
    pub output: Option<String>,
}

const OPENAPI_V2_ACCEPT: &str = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";

/// `schema.ParseGroupVersion`.
fn parse_group_version(gv: &str) -> Result<(String, String), CmdError> {
    if gv.is_empty() || gv == "/" {
        return Ok((String::new(), String::new()));
    }
    match gv.matches('/').count() {
        0 => Ok((String::new(), gv.to_string())),
        1 => {
            let (g, v) = gv.split_once('/').unwrap_or_default();
            Ok((g.to_string(), v.to_string()))
        }
        _ => Err(CmdError::msg(format!("unexpected GroupVersion string: {gv}"))),
    }
}

pub async fn run(g: &GlobalArgs, a: ExplainArgs, out: &mut Output) -> Result<i32, CmdError> {
    match a.args.len() {
        0 => {
            return Err(CmdError::msg(
                "You must specify the type of resource to explain. Use \"kubectl api-resources\" for a complete list of supported resources.",
            ));
        }
        1 => {}
        _ => return Err(CmdError::msg("We accept only this format: explain RESOURCE")),
    }
    let input = &a.args[0];
    let api_version = a.api_version.clone().unwrap_or_default();
    let mut s = Session::open(g, "kubectl explain").await?;
    let resolve = |d: &crate::discovery::Discovery| {
        if api_version.is_empty() {
            path::split_with_matching_prefix(d, input)
        } else {
            path::split_plain(d, input)
        }
    };
    let resolved = match resolve(s.discovery(false).await?) {
        Err(path::PathError::NoMatch(_)) => resolve(s.discovery(true).await?),
        other => other,
    };
    let path::Resolved {
        resource,
        fields,
        warnings,
    } = resolved.map_err(|e| match e {
        path::PathError::NoMatch(t) => CmdError::Raw(format!("the server doesn't have a resource type \"{t}\"")),
        path::PathError::Invalid(m) => CmdError::msg(m),
    })?;
    for w in warnings {
        out.stderr.push_str(&w);
        out.stderr.push('\n');
    }
    let output = a.output.clone().unwrap_or_else(|| "plaintext".into());
    let client = s.client().clone();
    let mut openapi = OpenApi::default();
    if output == "plaintext-openapiv2" || (output == "plaintext" && openapi.index(&client).await.is_err()) {
        return openapi_v2(&client).await;
    }
    let (group, version) = if api_version.is_empty() {
        (resource.group.clone(), resource.version.clone())
    } else {
        parse_group_version(&api_version)?
    };
    let req = Request {
        group,
        version,
        resource: resource.name.clone(),
        fields,
        recursive: a.recursive == Some(true),
    };
    let doc = match openapi.fetch(&client, &req.group, &req.version).await {
        Ok(Some(doc)) => doc,
        Ok(None) => {
            return Err(CmdError::msg(format!(
                "couldn't find resource for \"{}\"",
                req.gvr_string()
            )));
        }
        Err(e) => {
            return Err(CmdError::msg(format!(
                "failed to fetch openapi schema for {}: {}",
                OpenApi::key(&req.group, &req.version),
                e.to_string().trim_start_matches("error: ")
            )));
        }
    };
    if output != "plaintext" {
        return Err(CmdError::msg(format!("unrecognized format: {output}")));
    }
    let rendered = explain::render(doc, &req);
    out.stdout.push_str(&rendered.text);
    match rendered.error {
        Some(e) => Err(CmdError::Raw(e)),
        None => Ok(0),
    }
}

/// The v2 rendering: the server's error when it does not serve `/openapi/v2` as upstream asks
/// for it (protobuf); we have no v2 printer otherwise.
async fn openapi_v2(client: &kube::Client) -> Result<i32, CmdError> {
    crate::http::get(client, "/openapi/v2?timeout=32s", OPENAPI_V2_ACCEPT).await?;
    Err(CmdError::msg("unrecognized format: plaintext-openapiv2"))
}
