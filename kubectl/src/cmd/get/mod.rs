//! `kubectl get`: server-side Tables for human output (one table per resource type, a blank
//! line between them, kind-prefixed names when several types are printed), plain objects
//! for `-o json|yaml|name|jsonpath|custom-columns`, paging with `--chunk-size`, selectors,
//! `-A`, `--sort-by` and `--raw`; `watch` streams changes (`-w`, `--watch-only`).

mod watch;

use super::{Session, objects};
use crate::Output;
use crate::cli::{GetArgs, GlobalArgs};
use crate::discovery::Resource;
use crate::error::CmdError;
use crate::http::{self, ACCEPT_JSON, ACCEPT_TABLE};
use crate::inputs;
use crate::printers::custom_columns;
use crate::printers::gotemplate::{GoTemplate, go_quote};
use crate::printers::jsonpath::JsonPath;
use crate::printers::table::{TableOptions, TablePrinter};
use crate::printers::{go_sprint, json, name_of, tabwriter::TabWriter, yaml};
use crate::resources::{self, Target};
use serde_json::{Value, json};

const ALLOWED: &str = "custom-columns,custom-columns-file,go-template,go-template-file,json,jsonpath,jsonpath-as-json,jsonpath-file,name,template,templatefile,wide,yaml";

/// How objects are printed.
enum Format {
    Human {
        wide: bool,
    },
    Json,
    Yaml,
    Name,
    JsonPath(JsonPath),
    Columns(Vec<custom_columns::Column>),
    /// A Go template and its source (shown when it fails).
    Template(GoTemplate, String),
}

impl Format {
    /// JSON and YAML hide managedFields; templates and the rest see whole objects.
    fn hides_managed_fields(&self) -> bool {
        matches!(self, Format::Json | Format::Yaml)
    }
}

fn parse_format(o: Option<&str>) -> Result<Format, CmdError> {
    let o = o.unwrap_or("");
    let read = |path: &str| {
        std::fs::read_to_string(path).map_err(|e| CmdError::msg(format!("error reading template {path}, {e}")))
    };
    let jp = |t: &str| JsonPath::parse(t).map_err(|e| CmdError::msg(format!("error parsing jsonpath {t}, {e}")));
    let cols = |t: &str| custom_columns::parse(t).map_err(|e| CmdError::msg(e.to_string()));
    let gt = |t: &str| {
        GoTemplate::parse(t)
            .map(|p| Format::Template(p, t.to_string()))
            .map_err(|e| CmdError::msg(format!("error parsing template {t}, {e}")))
    };
    Ok(match o {
        "" => Format::Human { wide: false },
        "wide" => Format::Human { wide: true },
        "json" => Format::Json,
        "yaml" => Format::Yaml,
        "name" => Format::Name,
        _ => {
            if let Some(t) = o.strip_prefix("jsonpath=") {
                Format::JsonPath(jp(t)?)
            } else if let Some(f) = o.strip_prefix("jsonpath-file=") {
                Format::JsonPath(jp(&read(f)?)?)
            } else if let Some(t) = o.strip_prefix("custom-columns=") {
                Format::Columns(cols(t)?)
            } else if let Some(f) = o.strip_prefix("custom-columns-file=") {
                let text = read(f)?;
                let mut lines = text.lines();
                let headers: Vec<&str> = lines.next().unwrap_or_default().split_whitespace().collect();
                let paths: Vec<&str> = lines.next().unwrap_or_default().split_whitespace().collect();
                let spec: Vec<String> = headers.iter().zip(paths).map(|(h, p)| format!("{h}:{p}")).collect();
                Format::Columns(cols(&spec.join(","))?)
            } else if let Some(t) = o.strip_prefix("go-template=").or_else(|| o.strip_prefix("template=")) {
                gt(t)?
            } else if let Some(f) = o
                .strip_prefix("go-template-file=")
                .or_else(|| o.strip_prefix("templatefile="))
            {
                gt(&read(f)?)?
            } else if matches!(o, "go-template" | "template" | "go-template-file" | "templatefile") {
                return Err(CmdError::msg("template format specified but no template given"));
            } else if o == "jsonpath" || o == "custom-columns" {
                return Err(CmdError::msg(format!(
                    "{o} template format specified but no template given"
                )));
            } else {
                return Err(CmdError::msg(format!(
                    "unable to match a printer suitable for the output format \"{o}\", allowed formats are: {ALLOWED}"
                )));
            }
        }
    })
}

const NO_TYPE: &str = "You must specify the type of resource to get. Use \"kubectl api-resources\" for a complete list of supported resources.\n\nerror: Required resource not specified.\nUse \"kubectl explain <resource>\" for a detailed description of that resource (e.g. kubectl explain pods).\nSee 'kubectl get -h' for help and examples";

pub async fn run(g: &GlobalArgs, a: GetArgs, out: &mut Output) -> Result<i32, CmdError> {
    if let Some(raw) = &a.raw {
        let mut s = Session::open(g, "kubectl get").await?;
        let reply = http::get(s.client(), raw, "application/json, */*").await;
        let _ = &mut s;
        let reply = reply?;
        out.stdout.push_str(&String::from_utf8_lossy(&reply.body));
        return Ok(0);
    }
    let format = parse_format(a.output.as_deref())?;
    if a.args.is_empty() && a.filename.is_empty() {
        return Err(CmdError::Raw(NO_TYPE.into()));
    }
    if !a.args.is_empty() && !a.filename.is_empty() {
        return Err(CmdError::msg(
            "when paths, URLs, or stdin is provided as input, you may not specify resource arguments as well",
        ));
    }
    let all_ns = a.all_namespaces == Some(true);
    let mut s = Session::open(g, "kubectl get").await?;
    let ns = s.conn.namespace.clone();
    let targets = if a.filename.is_empty() {
        resolve_args(&mut s, &a.args, &ns).await?
    } else {
        // The objects the files name, each in its own namespace.
        let objects = inputs::read_all(&a.filename, a.recursive == Some(true)).await?;
        objects::map_objects(&mut s, objects)
            .await?
            .into_iter()
            .map(|m| {
                let target = Target {
                    resource: m.resource,
                    names: vec![m.name],
                };
                (target, m.namespace.unwrap_or_default())
            })
            .collect()
    };
    let list_ns = if all_ns { None } else { Some(ns.as_str()) };
    if a.watch == Some(true) || a.watch_only == Some(true) {
        return match targets.as_slice() {
            [(t, _)] => watch::run(g, &s, t, &format, &a, all_ns, out).await,
            _ if !a.filename.is_empty() => Err(CmdError::msg(
                "watch is only supported on individual resources and resource collections - more than 1 resource was found",
            )),
            _ => Err(CmdError::msg("you may only specify a single resource type")),
        };
    }
    let ignore_nf = a.ignore_not_found == Some(true);
    let mut errors: Vec<CmdError> = Vec::new();
    match &format {
        Format::Human { wide } => {
            let mut infos: Vec<(Resource, Value)> = Vec::new();
            for (t, t_ns) in &targets {
                fetch(&s, t, list_ns, t_ns, &a, true, &mut infos, &mut errors).await;
            }
            if let Some(sort) = &a.sort_by {
                for (_, table) in infos.iter_mut() {
                    sort_rows(table, sort)?;
                }
            }
            let mut kinds: Vec<String> = infos.iter().map(|(r, _)| r.group_resource()).collect();
            kinds.dedup();
            let distinct = {
                let mut k = kinds.clone();
                k.sort();
                k.dedup();
                k.len()
            };
            let with_kind = distinct > 1 || a.show_kind == Some(true);
            let mut written = false;
            let mut last: Option<String> = None;
            let mut tw = TabWriter::new();
            let mut printer: Option<TablePrinter> = None;
            let mut pending_separator = false;
            for (r, table) in &infos {
                if last.as_deref() != Some(&r.group_resource()) {
                    let text = tw.flush();
                    emit(out, &text, &mut pending_separator, &mut written);
                    if last.is_some() && a.no_headers != Some(true) && written {
                        pending_separator = true;
                    }
                    let kind_prefix = with_kind.then(|| {
                        let k = r.kind.to_lowercase();
                        if r.group.is_empty() {
                            k
                        } else {
                            format!("{k}.{}", r.group)
                        }
                    });
                    printer = Some(TablePrinter::new(TableOptions {
                        wide: *wide,
                        no_headers: a.no_headers == Some(true),
                        with_namespace: all_ns && r.namespaced,
                        show_labels: a.show_labels == Some(true),
                        label_columns: a.label_columns.clone(),
                        kind_prefix,
                    }));
                    last = Some(r.group_resource());
                }
                if let Some(p) = printer.as_mut() {
                    tw.write(&p.print(table));
                }
            }
            let text = tw.flush();
            emit(out, &text, &mut pending_separator, &mut written);
            errors.retain(|e| !(ignore_nf && e.is_not_found()));
            if !written && errors.is_empty() && !ignore_nf {
                let namespaced = !all_ns && targets.iter().all(|(t, _)| t.resource.namespaced);
                if namespaced {
                    out.stderr.push_str(&format!("No resources found in {ns} namespace.\n"));
                } else {
                    out.stderr.push_str("No resources found\n");
                }
            }
        }
        _ => {
            let mut objects: Vec<Value> = Vec::new();
            let single = targets.len() == 1 && targets[0].0.names.len() == 1;
            for (t, t_ns) in &targets {
                let mut infos = Vec::new();
                fetch(&s, t, list_ns, t_ns, &a, false, &mut infos, &mut errors).await;
                for (_, obj) in infos {
                    if obj.get("items").is_some() && obj["kind"].as_str().is_some_and(|k| k.ends_with("List")) {
                        objects.extend(list_items(&obj));
                    } else {
                        objects.push(obj);
                    }
                }
            }
            if a.show_managed_fields != Some(true) && format.hides_managed_fields() {
                objects.iter_mut().for_each(strip_managed_fields);
            }
            if let Some(sort) = &a.sort_by {
                sort_objects(&mut objects, sort)?;
            }
            errors.retain(|e| !(ignore_nf && e.is_not_found()));
            if !a.filename.is_empty() && !errors.is_empty() {
                // Objects from files are printed all or nothing.
                objects.clear();
            }
            let doc = if single && objects.len() == 1 {
                objects[0].clone()
            } else {
                json!({"apiVersion": "v1", "items": objects.clone(), "kind": "List", "metadata": {"resourceVersion": ""}})
            };
            let from_files = !a.filename.is_empty();
            let print_doc = !((single || from_files) && objects.is_empty() && !errors.is_empty());
            match &format {
                Format::Json if print_doc => out.stdout.push_str(&json::to_json(&doc)),
                Format::Yaml if print_doc => out.stdout.push_str(&yaml::to_yaml(&doc)),
                Format::JsonPath(p) if print_doc => out.stdout.push_str(&p.execute(&doc)),
                Format::Template(t, src) if print_doc => run_template(t, src, &doc, out)?,
                Format::Name => {
                    for o in &objects {
                        out.stdout.push_str(&object_name(o));
                        out.stdout.push('\n');
                    }
                }
                Format::Columns(cols) if !objects.is_empty() || errors.is_empty() => {
                    let text = custom_columns::print(cols, &objects, a.no_headers == Some(true));
                    let mut tw = TabWriter::new();
                    tw.write(&text);
                    out.stdout.push_str(&tw.flush());
                }
                _ => {}
            }
        }
    }
    if errors.is_empty() {
        return Ok(0);
    }
    for e in &errors {
        out.stderr.push_str(&format!("{e}\n"));
    }
    Ok(1)
}

/// The targets the arguments name, with the namespace named objects are read from.
async fn resolve_args(s: &mut Session, args: &[String], ns: &str) -> Result<Vec<(Target, String)>, CmdError> {
    let pairs = resources::split_args(args)?;
    let targets = match resources::resolve_all(s.discovery(false).await?, &pairs) {
        Ok(t) => t,
        Err(_) => {
            // Unknown type: rediscover once, as upstream invalidates its cache.
            let d = s.discovery(true).await?;
            resources::resolve_all(d, &pairs)
                .map_err(|t| CmdError::msg(format!("the server doesn't have a resource type \"{t}\"")))?
        }
    };
    Ok(targets.into_iter().map(|t| (t, ns.to_string())).collect())
}

/// Writes a flushed block, with the blank line between resource types when one is due.
fn emit(out: &mut Output, text: &str, pending_separator: &mut bool, written: &mut bool) {
    if text.is_empty() {
        return;
    }
    if *pending_separator {
        out.stdout.push('\n');
        *pending_separator = false;
    }
    out.stdout.push_str(text);
    *written = true;
}

/// Runs a Go template over `doc`; on failure prints upstream's debugging dump (on stdout, where
/// the printer writes).
fn run_template(t: &GoTemplate, src: &str, doc: &Value, out: &mut Output) -> Result<(), CmdError> {
    let mut text = String::new();
    let result = t.execute_into(doc, &mut text);
    out.stdout.push_str(&text);
    match result {
        Ok(()) => Ok(()),
        Err(e) => {
            out.stdout.push_str(&format!(
                "Error executing template: {e}. Printing more information for debugging the template:\n\ttemplate was:\n\t\t{src}\n\traw data was:\n\t\t{}\n\tobject given to template engine was:\n\t\t{}\n\n",
                json::to_compact(doc),
                go_sprint(doc)
            ));
            Err(CmdError::msg(format!(
                "error executing template {}: {e}",
                go_quote(src)
            )))
        }
    }
}

/// Drops `metadata.managedFields`, which kubectl hides unless `--show-managed-fields`.
fn strip_managed_fields(obj: &mut Value) {
    if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("managedFields");
    }
}

/// The items of a List with kind and apiVersion filled in from the list.
pub fn list_items(list: &Value) -> Vec<Value> {
    let kind = list["kind"]
        .as_str()
        .unwrap_or_default()
        .trim_end_matches("List")
        .to_string();
    let api_version = list["apiVersion"].clone();
    list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|item| {
            let mut item = item.clone();
            if let Some(m) = item.as_object_mut() {
                if !m.contains_key("kind") && !kind.is_empty() {
                    m.insert("kind".into(), json!(kind));
                }
                if !m.contains_key("apiVersion") {
                    m.insert("apiVersion".into(), api_version.clone());
                }
            }
            item
        })
        .collect()
}

/// `kind.group/name` of an object.
pub fn object_name(o: &Value) -> String {
    let kind = o["kind"].as_str().unwrap_or_default();
    let group = o["apiVersion"]
        .as_str()
        .and_then(|v| v.split_once('/').map(|(g, _)| g))
        .unwrap_or_default();
    name_of(kind, group, o["metadata"]["name"].as_str().unwrap_or_default())
}

/// Lists (all pages) or gets each name of one target; results go to `infos`, errors to
/// `errors`.
#[allow(clippy::too_many_arguments)]
async fn fetch(
    s: &Session,
    t: &Target,
    list_ns: Option<&str>,
    ns: &str,
    a: &GetArgs,
    table: bool,
    infos: &mut Vec<(Resource, Value)>,
    errors: &mut Vec<CmdError>,
) {
    let accept = if table { ACCEPT_TABLE } else { ACCEPT_JSON };
    let r = &t.resource;
    if t.names.is_empty() {
        match list_all(s, r, list_ns, a, accept, table).await {
            Ok(v) => infos.push((r.clone(), v)),
            Err(e) => errors.push(e),
        }
        return;
    }
    for name in &t.names {
        let mut path = format!("{}/{}", r.path(Some(ns)), encode(name));
        if table && a.sort_by.is_some() {
            path.push_str("?includeObject=Object");
        }
        match http::get(s.client(), &path, accept).await {
            Ok(reply) => match serde_json::from_slice::<Value>(&reply.body) {
                Ok(v) => infos.push((r.clone(), v)),
                Err(e) => errors.push(CmdError::msg(e.to_string())),
            },
            Err(e) => errors.push(e),
        }
    }
}

fn encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

async fn list_all(
    s: &Session,
    r: &Resource,
    ns: Option<&str>,
    a: &GetArgs,
    accept: &str,
    table: bool,
) -> Result<Value, CmdError> {
    let mut merged: Option<Value> = None;
    let mut cont: Option<String> = None;
    loop {
        let mut q = form_urlencoded::Serializer::new(String::new());
        if let Some(l) = &a.selector {
            q.append_pair("labelSelector", l);
        }
        if let Some(f) = &a.field_selector {
            q.append_pair("fieldSelector", f);
        }
        if table && a.sort_by.is_some() {
            q.append_pair("includeObject", "Object");
        }
        if a.chunk_size > 0 {
            q.append_pair("limit", &a.chunk_size.to_string());
        }
        if let Some(c) = &cont {
            q.append_pair("continue", c);
        }
        let query = q.finish();
        let path = if query.is_empty() {
            r.path(ns)
        } else {
            format!("{}?{query}", r.path(ns))
        };
        let reply = http::get(s.client(), &path, accept).await?;
        let page: Value = serde_json::from_slice(&reply.body).map_err(|e| CmdError::msg(e.to_string()))?;
        cont = page["metadata"]["continue"]
            .as_str()
            .filter(|c| !c.is_empty())
            .map(str::to_string);
        let key = if table { "rows" } else { "items" };
        match merged.as_mut() {
            None => merged = Some(page),
            Some(m) => {
                let more = page[key].as_array().cloned().unwrap_or_default();
                if let Some(arr) = m.get_mut(key).and_then(Value::as_array_mut) {
                    arr.extend(more);
                } else {
                    m[key] = Value::Array(more);
                }
                m["metadata"] = page["metadata"].clone();
            }
        }
        if cont.is_none() {
            break;
        }
    }
    Ok(merged.unwrap_or(Value::Null))
}

/// The sort key of one object for `--sort-by` (first value the path selects).
fn sort_key(path: &JsonPath, obj: &Value) -> Value {
    path.values(obj).into_iter().next().unwrap_or(Value::Null)
}

fn compare(a: &Value, b: &Value) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64().partial_cmp(&y.as_f64()).unwrap_or(Ordering::Equal),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        (x, y) => x.to_string().cmp(&y.to_string()),
    }
}

fn sort_path(spec: &str) -> Result<JsonPath, CmdError> {
    let inner = spec.trim().trim_start_matches('{').trim_end_matches('}');
    let inner = if inner.starts_with('.') {
        inner.to_string()
    } else {
        format!(".{inner}")
    };
    JsonPath::parse(&format!("{{{inner}}}")).map_err(|e| CmdError::msg(format!("error parsing jsonpath {spec}, {e}")))
}

fn sort_objects(objects: &mut [Value], spec: &str) -> Result<(), CmdError> {
    let p = sort_path(spec)?;
    objects.sort_by(|a, b| compare(&sort_key(&p, a), &sort_key(&p, b)));
    Ok(())
}

fn sort_rows(table: &mut Value, spec: &str) -> Result<(), CmdError> {
    let p = sort_path(spec)?;
    if let Some(rows) = table.get_mut("rows").and_then(Value::as_array_mut) {
        rows.sort_by(|a, b| compare(&sort_key(&p, &a["object"]), &sort_key(&p, &b["object"])));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_items_get_kind() {
        let l = json!({"kind": "DeploymentList", "apiVersion": "apps/v1", "items": [{"metadata": {"name": "a"}}]});
        let items = list_items(&l);
        assert_eq!(items[0]["kind"], "Deployment");
        assert_eq!(object_name(&items[0]), "deployment.apps/a");
    }

    #[test]
    fn sorting() {
        let mut v = vec![
            json!({"metadata": {"name": "b"}, "spec": {"n": 2}}),
            json!({"metadata": {"name": "a"}, "spec": {"n": 10}}),
        ];
        sort_objects(&mut v, ".metadata.name").expect("sort");
        assert_eq!(v[0]["metadata"]["name"], "a");
        sort_objects(&mut v, "{.spec.n}").expect("sort");
        assert_eq!(v[0]["spec"]["n"], 2);
    }

    #[test]
    fn formats() {
        assert!(parse_format(Some("foo")).is_err());
        assert!(matches!(parse_format(Some("wide")), Ok(Format::Human { wide: true })));
        assert!(matches!(parse_format(Some("jsonpath={.a}")), Ok(Format::JsonPath(_))));
    }
}
