//! The existing objects a verb acts on: `TYPE NAME…`, `TYPE/NAME…`, or every object of the
//! types matching `-l` (or `--all`), fetched as JSON with the resource serving them. Lookup
//! failures are kept apart so a verb can act on what exists and report the rest after, as
//! upstream does.

use super::Session;
use crate::discovery::Resource;
use crate::error::CmdError;
use crate::http::{self, ACCEPT_JSON};
use crate::resources;
use serde_json::Value;

pub struct Selected {
    pub objects: Vec<(Resource, Value)>,
    pub errors: Vec<CmdError>,
}

/// The object's path on the server.
pub fn object_path(r: &Resource, obj: &Value) -> String {
    let ns = obj["metadata"]["namespace"].as_str();
    let name = obj["metadata"]["name"].as_str().unwrap_or_default();
    format!("{}/{}", r.path(ns), name)
}

pub async fn select(s: &mut Session, args: &[String], selector: Option<&str>, all: bool) -> Result<Selected, CmdError> {
    let pairs = resources::split_args(args)?;
    let targets = match resources::resolve_all(s.discovery(false).await?, &pairs) {
        Ok(t) => t,
        Err(_) => resources::resolve_all(s.discovery(true).await?, &pairs)
            .map_err(|t| CmdError::msg(format!("the server doesn't have a resource type \"{t}\"")))?,
    };
    let ns = s.conn.namespace.clone();
    let mut selected = Selected {
        objects: Vec::new(),
        errors: Vec::new(),
    };
    for t in targets {
        let r = &t.resource;
        if t.names.is_empty() {
            if selector.is_none() && !all {
                return Err(CmdError::msg("resource(s) were provided, but no name was specified"));
            }
            let mut path = r.path(Some(&ns));
            if let Some(l) = selector {
                let q: String = form_urlencoded::Serializer::new(String::new())
                    .append_pair("labelSelector", l)
                    .finish();
                path = format!("{path}?{q}");
            }
            let reply = http::get(s.client(), &path, ACCEPT_JSON).await?;
            let list: Value = serde_json::from_slice(&reply.body).map_err(|e| CmdError::msg(e.to_string()))?;
            for item in super::get::list_items(&list) {
                selected.objects.push((r.clone(), item));
            }
            continue;
        }
        for name in &t.names {
            let path = format!("{}/{}", r.path(Some(&ns)), name);
            match http::get(s.client(), &path, ACCEPT_JSON).await {
                Ok(reply) => match serde_json::from_slice::<Value>(&reply.body) {
                    Ok(v) => selected.objects.push((r.clone(), v)),
                    Err(e) => selected.errors.push(CmdError::msg(e.to_string())),
                },
                Err(e) => selected.errors.push(e),
            }
        }
    }
    Ok(selected)
}

/// The objects named in `-f` files, read again from the server (upstream's `Latest()`):
/// found objects and lookup errors.
pub async fn from_files(s: &mut Session, files: &[String], recursive: bool) -> Result<Selected, CmdError> {
    let objects = crate::inputs::read_all(files, recursive).await?;
    let mapped = super::objects::map_objects(s, objects).await?;
    let mut selected = Selected {
        objects: Vec::new(),
        errors: Vec::new(),
    };
    for m in mapped {
        let r = super::objects::send(s.client(), "GET", &m.path(), None, None).await?;
        if r.ok() {
            selected.objects.push((m.resource, r.body));
        } else {
            selected.errors.push(r.error());
        }
    }
    Ok(selected)
}

/// Reports all but the last error on stderr and returns the last, as upstream prints them.
pub fn finish(out: &mut crate::Output, mut errors: Vec<CmdError>) -> Result<i32, CmdError> {
    let Some(last) = errors.pop() else {
        return Ok(0);
    };
    for e in errors {
        out.stderr.push_str(&format!("{e}\n"));
    }
    Err(last)
}
