//! `kubectl get --watch` and `--watch-only`: print the current object or list (unless
//! watch-only), then one line or document per watch event as it arrives, until the server
//! closes the watch or `--request-timeout` passes. Tables from the server carry column
//! definitions only in the first event; widths are remembered so rows stay aligned.

use super::{Format, list_all, object_name, strip_managed_fields};
use crate::Output;
use crate::cli::{GetArgs, GlobalArgs};
use crate::cmd::Session;
use crate::error::CmdError;
use crate::http::{self, ACCEPT_JSON, ACCEPT_TABLE};
use crate::kubeconfig::client::parse_timeout;
use crate::printers::table::{TableOptions, TablePrinter};
use crate::printers::{json, tabwriter::TabWriter, yaml};
use crate::resources::Target;
use serde_json::{Value, json};
use tokio::time::Instant;

/// Prints objects and events in the chosen format, keeping what must persist between them.
struct EventPrinter<'a> {
    format: &'a Format,
    table: Option<TablePrinter>,
    columns: Value,
    tw: TabWriter,
    with_events: bool,
    show_managed_fields: bool,
    documents: usize,
    custom_header_done: bool,
}

impl EventPrinter<'_> {
    /// Prints one object (a one-row Table for human output) as event `kind`.
    fn print(&mut self, kind: &str, mut obj: Value, out: &mut Output) {
        if let Some(printer) = self.table.as_mut() {
            // Later events omit the column definitions: reuse the first ones.
            match obj.get("columnDefinitions").filter(|c| c.is_array()) {
                Some(c) => self.columns = c.clone(),
                None => obj["columnDefinitions"] = self.columns.clone(),
            }
            let text = printer.print_event(&obj, self.with_events.then_some(kind));
            self.tw.write(&text);
            out.stdout.push_str(&self.tw.flush());
            return;
        }
        if let (Format::Json, true) = (self.format, self.with_events) {
            // One line per event, `type` before `object` as in the typed WatchEvent.
            let line = format!("{{\"type\":{},\"object\":{}}}\n", json!(kind), json::to_compact(&obj));
            out.stdout.push_str(&line);
            return;
        }
        if self.with_events {
            obj = json!({"type": kind, "object": obj});
        } else if !self.show_managed_fields && self.format.hides_managed_fields() {
            strip_managed_fields(&mut obj);
        }
        match self.format {
            Format::Json => out.stdout.push_str(&json::to_json(&obj)),
            Format::Yaml => {
                if self.documents > 0 {
                    out.stdout.push_str("---\n");
                }
                out.stdout.push_str(&yaml::to_yaml(&obj));
            }
            Format::Name => {
                out.stdout.push_str(&object_name(&obj));
                out.stdout.push('\n');
            }
            Format::JsonPath(p) => out.stdout.push_str(&p.execute(&obj)),
            Format::Template(t, src) => {
                if let Err(e) = super::run_template(t, src, &obj, out) {
                    out.stderr.push_str(&format!("{e}\n"));
                }
            }
            Format::Columns(cols) => {
                let text = crate::printers::custom_columns::print(cols, &[obj], self.custom_header_done);
                self.custom_header_done = true;
                self.tw.write(&text);
                out.stdout.push_str(&self.tw.flush());
            }
            Format::Human { .. } => {}
        }
        self.documents += 1;
    }
}

pub(super) async fn run(
    g: &GlobalArgs,
    s: &Session,
    t: &Target,
    format: &Format,
    a: &GetArgs,
    all_ns: bool,
    out: &mut Output,
) -> Result<i32, CmdError> {
    let timeout =
        parse_timeout(g.request_timeout.as_deref().unwrap_or("0")).map_err(|e| CmdError::msg(e.to_string()))?;
    let deadline = timeout.map(|d| Instant::now() + d);
    let r = &t.resource;
    let ns = s.conn.namespace.as_str();
    let list_ns = if all_ns { None } else { Some(ns) };
    let human = matches!(format, Format::Human { .. });
    let accept = if human { ACCEPT_TABLE } else { ACCEPT_JSON };
    let mut printer = EventPrinter {
        format,
        table: match format {
            Format::Human { wide } => Some(TablePrinter::new(TableOptions {
                wide: *wide,
                no_headers: a.no_headers == Some(true),
                with_namespace: all_ns && r.namespaced,
                show_labels: a.show_labels == Some(true),
                label_columns: a.label_columns.clone(),
                kind_prefix: None,
            })),
            _ => None,
        },
        columns: Value::Null,
        tw: TabWriter::remembering(),
        with_events: a.output_watch_events == Some(true),
        show_managed_fields: a.show_managed_fields == Some(true),
        documents: 0,
        custom_header_done: a.no_headers == Some(true),
    };
    let watch_only = a.watch_only == Some(true);
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("watch", "1");
    // A single object: print it, then watch it by name from "now" (resourceVersion 0), which
    // starts with a synthetic ADDED event that is not printed.
    let mut skip_first = false;
    match t.names.as_slice() {
        [] => {
            let list = list_all(s, r, list_ns, a, accept, human).await?;
            if !watch_only {
                print_list(&mut printer, &list, human, out);
            }
            let rv = list["metadata"]["resourceVersion"].as_str().unwrap_or("0");
            query.append_pair("resourceVersion", rv);
            if let Some(l) = &a.selector {
                query.append_pair("labelSelector", l);
            }
            if let Some(f) = &a.field_selector {
                query.append_pair("fieldSelector", f);
            }
        }
        [name] => {
            let path = format!("{}/{}", r.path(Some(ns)), super::encode(name));
            let reply = http::get(s.client(), &path, accept).await?;
            let obj: Value = serde_json::from_slice(&reply.body).map_err(|e| CmdError::msg(e.to_string()))?;
            if !watch_only {
                print_list(&mut printer, &obj, human, out);
            }
            skip_first = true;
            query.append_pair("resourceVersion", "0");
            query.append_pair("fieldSelector", &format!("metadata.name={name}"));
        }
        _ => {
            return Err(CmdError::msg(
                "watch is only supported on individual resources and resource collections - more than 1 resource was found",
            ));
        }
    }
    out.flush();
    let path = format!("{}?{}", r.path(list_ns.filter(|_| r.namespaced)), query.finish());
    let mut lines = http::stream(s.client(), &path, accept).await?;
    loop {
        let next = match deadline {
            Some(d) => match tokio::time::timeout_at(d, lines.next()).await {
                Ok(line) => line,
                Err(_) => return Ok(0),
            },
            None => lines.next().await,
        };
        let line = match next {
            Ok(Some(line)) => line,
            // The server ended the watch, or the request timeout cut the stream.
            Ok(None) => return Ok(0),
            Err(_) if deadline.is_some_and(|d| Instant::now() >= d) => return Ok(0),
            Err(e) => return Err(e),
        };
        if line.is_empty() {
            continue;
        }
        let event: Value = serde_json::from_slice(&line).map_err(|e| CmdError::msg(e.to_string()))?;
        let kind = event["type"].as_str().unwrap_or_default().to_string();
        match kind.as_str() {
            "BOOKMARK" => continue,
            "ERROR" => return Err(CmdError::from_response(500, &line_status(&event))),
            _ => {}
        }
        if std::mem::take(&mut skip_first) {
            continue;
        }
        printer.print(&kind, event["object"].clone(), out);
        out.flush();
    }
}

/// The initial state: a Table or list prints its rows or items one by one, as ADDED events.
fn print_list(printer: &mut EventPrinter, obj: &Value, human: bool, out: &mut Output) {
    if human || obj.get("items").is_none() {
        printer.print("ADDED", obj.clone(), out);
        return;
    }
    for item in super::list_items(obj) {
        printer.print("ADDED", item, out);
    }
}

/// The Status an ERROR event carries, as a response body.
fn line_status(event: &Value) -> Vec<u8> {
    serde_json::to_vec(&event["object"]).unwrap_or_default()
}
