//! `kubectl set env RESOURCE KEY=VALUE… KEY-…`: adds, updates and removes container
//! environment variables (`-e/--env`, `-e -` from stdin, `--from=configmap/x|secret/x` with
//! `--keys` and `--prefix`, `-c` container patterns, `--overwrite=false`), or lists them with
//! `--list` (`--resolve` reads the referenced ConfigMaps, Secrets and fields), as upstream does.

use super::{ObjectFlags, Outcome, Session, Target, aggregate, gather, pod_spec, selected_containers, send_changes};
use crate::Output;
use crate::cli::GlobalArgs;
use crate::error::CmdError;
use crate::http::{self, ACCEPT_JSON};
use api_types::quantity::Quantity;
use base64::Engine;
use clap::Args;
use serde_json::{Map, Value, json};
use std::collections::HashMap;

#[derive(Args, Debug)]
pub struct EnvArgs {
    pub args: Vec<String>,
    /// The names of containers in the selected pod templates to change - may use wildcards
    #[arg(short = 'c', long = "containers", default_value = "*")]
    pub containers: String,
    /// The name of a resource from which to inject environment variables
    #[arg(long)]
    pub from: Option<String>,
    /// Prefix to append to variable names
    #[arg(long, default_value = "")]
    pub prefix: String,
    /// Specify a key-value pair for an environment variable to set into each container.
    #[arg(short = 'e', long = "env")]
    pub env: Vec<String>,
    /// Comma-separated list of keys to import from specified resource
    #[arg(long, value_delimiter = ',')]
    pub keys: Vec<String>,
    /// If true, display the environment and any changes in the standard format.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub list: Option<bool>,
    /// If true, show secret or configmap references when listing variables
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub resolve: Option<bool>,
    /// If true, allow environment to be overwritten, otherwise reject updates that overwrite existing environment.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub overwrite: Option<bool>,
    #[command(flatten)]
    pub objects: ObjectFlags,
}

const COMMAND: &str = "kubectl set env";

/// Whether an argument is an environment change (`KEY=VALUE` or `KEY-`) rather than a resource.
fn is_env_arg(s: &str) -> bool {
    s.find('=').is_some_and(|i| i > 0) || s.ends_with('-')
}

/// Resources first, then environment changes (upstream refuses a resource after a change).
fn split_env(args: &[String]) -> Option<(Vec<String>, Vec<String>)> {
    let (mut resources, mut env) = (Vec::new(), Vec::new());
    for a in args {
        if is_env_arg(a) {
            env.push(a.clone());
        } else if env.is_empty() {
            resources.push(a.clone());
        } else {
            return None;
        }
    }
    Some((resources, env))
}

/// One variable as upstream's typed EnvVar serialises it (no `value` when empty).
fn env_var(name: &str, value: &str) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), json!(name));
    if !value.is_empty() {
        m.insert("value".into(), json!(value));
    }
    Value::Object(m)
}

/// `KEY=VALUE`, `KEY-` and `-` (read `KEY=VALUE` lines from stdin): the variables to set and
/// the names to remove.
fn parse_env(specs: &[String]) -> Result<(Vec<Value>, Vec<String>), CmdError> {
    let (mut env, mut remove, mut set) = (Vec::new(), Vec::new(), Vec::new());
    for spec in specs {
        if spec == "-" {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                .map_err(|e| CmdError::msg(e.to_string()))?;
            for line in text.lines() {
                let line = line.split('#').next().unwrap_or_default();
                if let Some((k, v)) = line.split_once('=') {
                    env.push(env_var(k, v));
                }
            }
        } else if let Some((k, v)) = spec.split_once('=') {
            let errs = api_types::validation::is_env_var_name(k);
            if !errs.is_empty() {
                return Err(CmdError::msg(format!(
                    "{k:?} is not a valid key name: {}",
                    errs.join(";")
                )));
            }
            set.push(k.to_string());
            env.push(env_var(k, v));
        } else if let Some(k) = spec.strip_suffix('-') {
            remove.push(k.to_string());
        } else {
            return Err(CmdError::msg(format!("unknown environment variable: {spec}")));
        }
    }
    if remove.iter().any(|r| set.contains(r)) {
        return Err(CmdError::msg(
            "can not both modify and remove the same environment variable in the same command",
        ));
    }
    Ok((env, remove))
}

/// Upstream's name for a ConfigMap or Secret key: `[^a-zA-Z0-9_]` become `_`, upper-cased.
fn key_to_env_name(key: &str) -> String {
    key.chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' })
        .collect::<String>()
        .to_uppercase()
}

/// The existing variables with `env` set over them (in place, new ones appended) and
/// `remove` dropped.
fn update_env(existing: &[Value], env: &[Value], remove: &[String]) -> Vec<Value> {
    let mut covered: Vec<&str> = remove.iter().map(String::as_str).collect();
    let mut out = Vec::new();
    for e in existing {
        let name = e["name"].as_str().unwrap_or_default();
        if covered.contains(&name) {
            continue;
        }
        match env.iter().find(|n| n["name"] == name) {
            Some(newer) => {
                covered.push(name);
                out.push(newer.clone());
            }
            None => out.push(e.clone()),
        }
    }
    for e in env {
        let name = e["name"].as_str().unwrap_or_default();
        if !covered.contains(&name) {
            covered.push(name);
            out.push(e.clone());
        }
    }
    out
}

/// How `--list` shows where a variable comes from.
fn ref_string(from: &Value) -> String {
    if let Some(r) = from.get("configMapKeyRef") {
        return format!(
            "configmap {}, key {}",
            r["name"].as_str().unwrap_or_default(),
            r["key"].as_str().unwrap_or_default()
        );
    }
    if let Some(r) = from.get("secretKeyRef") {
        return format!(
            "secret {}, key {}",
            r["name"].as_str().unwrap_or_default(),
            r["key"].as_str().unwrap_or_default()
        );
    }
    if let Some(r) = from.get("fieldRef") {
        return format!("field path {}", r["fieldPath"].as_str().unwrap_or_default());
    }
    if let Some(r) = from.get("resourceFieldRef") {
        let container = r["containerName"].as_str().filter(|c| !c.is_empty());
        return format!(
            "resource field {}{}",
            container.map(|c| format!("{c}/")).unwrap_or_default(),
            r["resource"].as_str().unwrap_or_default()
        );
    }
    "invalid valueFrom".into()
}

/// The ConfigMaps and Secrets `--resolve` read, by name.
#[derive(Default)]
struct Store {
    objects: HashMap<(&'static str, String), Value>,
}

/// The value a `valueFrom` reference resolves to for `--list --resolve`.
async fn resolve(
    s: &Session,
    store: &mut Store,
    from: &Value,
    object: &Value,
    container: &Value,
) -> Result<String, String> {
    for (field, resource, what) in [
        ("secretKeyRef", "secrets", "secret"),
        ("configMapKeyRef", "configmaps", "config map"),
    ] {
        let Some(r) = from.get(field) else { continue };
        let name = r["name"].as_str().unwrap_or_default().to_string();
        let key = r["key"].as_str().unwrap_or_default();
        let cache_key = (resource, name.clone());
        if !store.objects.contains_key(&cache_key) {
            let path = format!("/api/v1/namespaces/{}/{resource}/{name}", s.conn.namespace);
            let reply = http::get(s.client(), &path, ACCEPT_JSON)
                .await
                .map_err(|e| super::bare(&e))?;
            let v: Value = serde_json::from_slice(&reply.body).map_err(|e| e.to_string())?;
            store.objects.insert(cache_key.clone(), v);
        }
        let data = &store.objects[&cache_key]["data"][key];
        let Some(text) = data.as_str() else {
            return Err(format!("key {key} not found in {what} {name}"));
        };
        if resource == "secrets" {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|e| e.to_string())?;
            return Ok(String::from_utf8_lossy(&bytes).into_owned());
        }
        return Ok(text.to_string());
    }
    if let Some(r) = from.get("fieldRef") {
        return field_ref(object, r["fieldPath"].as_str().unwrap_or_default());
    }
    if let Some(r) = from.get("resourceFieldRef") {
        return resource_field_ref(r, container);
    }
    Err("invalid valueFrom".into())
}

/// A `fieldRef` path read from the object itself (as upstream does for templates).
fn field_ref(object: &Value, path: &str) -> Result<String, String> {
    let meta = &object["metadata"];
    if let Some((field, key)) = path
        .strip_suffix("']")
        .and_then(|p| p.split_once("['"))
        .filter(|(f, _)| !f.is_empty())
    {
        return match field {
            "metadata.annotations" => Ok(meta["annotations"][key].as_str().unwrap_or_default().to_string()),
            "metadata.labels" => Ok(meta["labels"][key].as_str().unwrap_or_default().to_string()),
            _ => Err(format!("fieldPath {path:?} does not support subscript")),
        };
    }
    let format_map = |m: &Value| {
        let mut keys: Vec<(&String, &Value)> = m.as_object().into_iter().flatten().collect();
        keys.sort_by(|a, b| a.0.cmp(b.0));
        keys.iter()
            .map(|(k, v)| format!("{k}={:?}", v.as_str().unwrap_or_default()))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let plain = |f: &str| meta[f].as_str().unwrap_or_default().to_string();
    match path {
        "metadata.annotations" => Ok(format_map(&meta["annotations"])),
        "metadata.labels" => Ok(format_map(&meta["labels"])),
        "metadata.name" => Ok(plain("name")),
        "metadata.namespace" => Ok(plain("namespace")),
        "metadata.uid" => Ok(plain("uid")),
        _ => Err(format!("unsupported fieldPath: {path}")),
    }
}

/// A `resourceFieldRef` read from the container's requests and limits, divided by the divisor
/// and rounded up.
fn resource_field_ref(r: &Value, container: &Value) -> Result<String, String> {
    let resource = r["resource"].as_str().unwrap_or_default();
    let divisor = r["divisor"]
        .as_str()
        .and_then(Quantity::parse)
        .filter(|d| d.0 != 0)
        .unwrap_or(Quantity::from_units(1));
    let Some((section, name)) = resource.split_once('.') else {
        return Err(format!("Unsupported container resource : {resource}"));
    };
    let known = matches!(name, "cpu" | "memory" | "ephemeral-storage") || name.starts_with("hugepages-");
    if !matches!(section, "limits" | "requests") || !known {
        return Err(format!("Unsupported container resource : {resource}"));
    }
    let q = container["resources"][section][name]
        .as_str()
        .and_then(Quantity::parse)
        .unwrap_or_default();
    // CPU compares milli-units; the others whole units (rounded up, as Value() does).
    let units = |x: Quantity| {
        if name == "cpu" {
            x.0
        } else {
            (x.0 + 999).div_euclid(1000)
        }
    };
    let (v, d) = (units(q), units(divisor).max(1));
    Ok(((v + d - 1).div_euclid(d)).to_string())
}

pub async fn run(g: &GlobalArgs, a: EnvArgs, out: &mut Output) -> Result<i32, CmdError> {
    let f = &a.objects;
    if f.all() && f.selector.is_some() {
        return Err(CmdError::msg("cannot set --all and --selector at the same time"));
    }
    let Some((resources, env_args)) = split_env(&a.args) else {
        return Err(CmdError::msg(format!(
            "all resources must be specified before environment changes: {}",
            a.args.join(" ")
        )));
    };
    let dry = f.parse_output()?;
    let list = a.list == Some(true);
    if f.local() && dry == super::DryRun::Server {
        return Err(CmdError::msg(
            "cannot specify --local and --dry-run=server - did you mean --dry-run=client?",
        ));
    }
    if f.filename.is_empty() && resources.is_empty() {
        return Err(CmdError::msg(
            "one or more resources must be specified as <resource> <name> or <resource>/<name>",
        ));
    }
    if list && f.output.as_deref().is_some_and(|o| !o.is_empty()) {
        return Err(CmdError::msg("--list and --output may not be specified together"));
    }
    if !a.keys.is_empty() && a.from.is_none() {
        return Err(CmdError::msg(
            "when specifying --keys, a configmap or secret must be provided with --from",
        ));
    }
    let specs: Vec<String> = a.env.iter().chain(&env_args).cloned().collect();
    let (mut env, remove) = parse_env(&specs)?;
    let mut s: Option<Session> = None;
    if let Some(from) = a.from.as_deref().filter(|f| !f.is_empty()) {
        let sources = gather(&mut s, g, COMMAND, f, &[from.to_string()], false).await?;
        for source in sources {
            let kind = source.kind();
            if !matches!(kind, "Secret" | "ConfigMap") || source.object["apiVersion"] != "v1" {
                return Err(CmdError::msg("unsupported resource specified in --from"));
            }
            let field = if kind == "Secret" {
                "secretKeyRef"
            } else {
                "configMapKeyRef"
            };
            // Upstream walks a Go map (random order); ours is sorted.
            let mut keys: Vec<&String> = source.object["data"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, _)| k)
                .collect();
            keys.sort();
            for k in keys {
                if !a.keys.is_empty() && !a.keys.contains(k) {
                    continue;
                }
                let name = key_to_env_name(k);
                if name != *k {
                    out.stderr
                        .push_str(&format!("Warning: key {k} transferred to {name}\n"));
                }
                env.push(json!({"name": name, "valueFrom": {field: {"key": k, "name": source.name()}}}));
            }
        }
    }
    if !a.prefix.is_empty() {
        for e in &mut env {
            let name = format!("{}{}", a.prefix, e["name"].as_str().unwrap_or_default());
            e["name"] = json!(name);
        }
    }
    let targets = gather(&mut s, g, COMMAND, f, &resources, false).await?;
    let mut changes = Vec::new();
    let mut store = Store::default();
    for t in targets {
        let outcome = change(&a, &t, &env, &remove, list, s.as_ref(), &mut store, out).await;
        changes.push((t, outcome));
    }
    if list {
        return Ok(0);
    }
    let mut errors = Vec::new();
    send_changes(
        &mut s,
        g,
        COMMAND,
        f,
        dry,
        changes,
        "env updated",
        "failed to patch env update to pod template: ",
        &mut errors,
        out,
    )
    .await?;
    aggregate(errors)
}

/// The object with its selected containers' environment updated (and listed with `--list`).
#[allow(clippy::too_many_arguments)]
async fn change(
    a: &EnvArgs,
    t: &Target,
    env: &[Value],
    remove: &[String],
    list: bool,
    s: Option<&Session>,
    store: &mut Store,
    out: &mut Output,
) -> Outcome {
    let mut object = t.object.clone();
    let spec = match pod_spec(&mut object) {
        Err(e) => return Outcome::Failed(e),
        Ok(spec) => spec.map(|s| s.clone()).unwrap_or_else(|| json!({})),
    };
    let mut spec = spec;
    let picked = selected_containers(&spec, &a.containers);
    if picked.is_empty() {
        out.stderr.push_str(&format!(
            "Warning: {}/{} does not have any containers matching {:?}\n",
            t.kind(),
            t.name(),
            a.containers
        ));
        return Outcome::Changed(t.object.clone());
    }
    let mut unresolved = false;
    for (list_name, i) in picked {
        let c = &mut spec[list_name][i];
        let existing: Vec<Value> = c["env"].as_array().cloned().unwrap_or_default();
        if a.overwrite == Some(false) {
            for e in env {
                if let Some(cur) = existing.iter().find(|x| x["name"] == e["name"])
                    && cur["value"] != e["value"]
                {
                    return Outcome::Failed(format!(
                        "'{}' already has a value ({}), and --overwrite is false",
                        cur["name"].as_str().unwrap_or_default(),
                        cur["value"].as_str().unwrap_or_default()
                    ));
                }
            }
        }
        let updated = update_env(&existing, env, remove);
        if let Some(m) = c.as_object_mut() {
            if updated.is_empty() {
                m.remove("env");
            } else {
                m.insert("env".into(), Value::Array(updated.clone()));
            }
        }
        if list {
            let c = c.clone();
            unresolved |= print_list(a, t, &c, &updated, s, store, out).await;
        }
    }
    if unresolved {
        return Outcome::Failed("failed to retrieve valueFrom references".into());
    }
    if let Ok(Some(target)) = pod_spec(&mut object) {
        *target = spec;
    }
    Outcome::Changed(object)
}

/// `--list` for one container: `# Kind name, container c`, then `NAME=value` or
/// `# NAME from <reference>` lines; resolution errors on stderr. True when one failed.
async fn print_list(
    a: &EnvArgs,
    t: &Target,
    container: &Value,
    env: &[Value],
    s: Option<&Session>,
    store: &mut Store,
    out: &mut Output,
) -> bool {
    out.stdout.push_str(&format!(
        "# {} {}, container {}\n",
        t.kind(),
        t.name(),
        container["name"].as_str().unwrap_or_default()
    ));
    let mut failures: Vec<(String, Vec<String>)> = Vec::new();
    for e in env {
        let name = e["name"].as_str().unwrap_or_default();
        let Some(from) = e.get("valueFrom").filter(|v| !v.is_null()) else {
            out.stdout
                .push_str(&format!("{name}={}\n", e["value"].as_str().unwrap_or_default()));
            continue;
        };
        let resolved = match (a.resolve == Some(true), s) {
            (true, Some(s)) => Some(resolve(s, store, from, &t.object, container).await),
            (true, None) => Some(Err("no connection to resolve references".to_string())),
            (false, _) => None,
        };
        match resolved {
            Some(Ok(v)) => out.stdout.push_str(&format!("{name}={v}\n")),
            Some(Err(err)) => {
                out.stdout.push_str(&format!("# {name} from {}\n", ref_string(from)));
                match failures.iter_mut().find(|(e, _)| *e == err) {
                    Some((_, names)) => names.push(name.to_string()),
                    None => failures.push((err, vec![name.to_string()])),
                }
            }
            None => out.stdout.push_str(&format!("# {name} from {}\n", ref_string(from))),
        }
    }
    let mut lines: Vec<String> = failures
        .iter_mut()
        .map(|(err, names)| {
            names.sort();
            format!("error retrieving reference for {}: {err}", names.join(", "))
        })
        .collect();
    lines.sort();
    for l in &lines {
        out.stderr.push_str(&format!("{l}\n"));
    }
    !lines.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_parses() {
        let args: Vec<String> = ["deploy/web", "A=1", "B-"].iter().map(|s| s.to_string()).collect();
        let (r, e) = split_env(&args).unwrap();
        assert_eq!(r, vec!["deploy/web"]);
        assert_eq!(e, vec!["A=1", "B-"]);
        let bad: Vec<String> = ["A=1", "deploy/web"].iter().map(|s| s.to_string()).collect();
        assert!(split_env(&bad).is_none());
        let (env, remove) = parse_env(&["A=1".into(), "E=".into(), "B-".into()]).unwrap();
        assert_eq!(env, vec![json!({"name": "A", "value": "1"}), json!({"name": "E"})]);
        assert_eq!(remove, vec!["B"]);
        assert!(parse_env(&["1A=x".into()]).is_err());
        assert!(parse_env(&["A=1".into(), "A-".into()]).is_err());
        assert_eq!(key_to_env_name("bad.key-x"), "BAD_KEY_X");
    }

    #[test]
    fn updates_in_place() {
        let existing = vec![json!({"name": "A", "value": "1"}), json!({"name": "B", "value": "2"})];
        let env = vec![json!({"name": "B", "value": "3"}), json!({"name": "C", "value": "4"})];
        let out = update_env(&existing, &env, &["A".into()]);
        assert_eq!(
            out,
            vec![json!({"name": "B", "value": "3"}), json!({"name": "C", "value": "4"})]
        );
    }

    #[test]
    fn references() {
        assert_eq!(
            ref_string(&json!({"configMapKeyRef": {"name": "c", "key": "k"}})),
            "configmap c, key k"
        );
        let c = json!({"resources": {"limits": {"cpu": "500m", "memory": "1Gi"}}});
        assert_eq!(
            resource_field_ref(&json!({"resource": "limits.cpu", "divisor": "1m"}), &c).unwrap(),
            "500"
        );
        assert_eq!(resource_field_ref(&json!({"resource": "limits.cpu"}), &c).unwrap(), "1");
        assert_eq!(
            resource_field_ref(&json!({"resource": "limits.memory", "divisor": "1Mi"}), &c).unwrap(),
            "1024"
        );
        let o = json!({"metadata": {"name": "web", "labels": {"b": "2", "a": "1"}}});
        assert_eq!(field_ref(&o, "metadata.name").unwrap(), "web");
        assert_eq!(field_ref(&o, "metadata.labels").unwrap(), "a=\"1\"\nb=\"2\"");
        assert_eq!(field_ref(&o, "metadata.labels['b']").unwrap(), "2");
    }
}
