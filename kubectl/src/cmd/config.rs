//! `kubectl config`: view (redacted unless `--raw`, `--minify`, `--flatten`, `-o`),
//! get-contexts, current-context, use-context, set-context, set-cluster, set-credentials,
//! delete-context, get-clusters; changes are written to the file upstream would choose.

use crate::Output;
use crate::cli::{
    ConfigCommand, ConfigViewArgs, GetContextsArgs, GlobalArgs, SetClusterArgs, SetContextArgs, SetCredentialsArgs,
};
use crate::error::CmdError;
use crate::kubeconfig::{Config, Entry, Sources, load_file, resolve_path};
use crate::printers::{json, jsonpath::JsonPath, tabwriter, yaml};
use base64::Engine;
use serde_json::{Value, json};
use std::path::PathBuf;

pub fn run(g: &GlobalArgs, cmd: ConfigCommand, out: &mut Output) -> Result<(), CmdError> {
    let sources = Sources::from_env(g.kubeconfig.as_deref());
    match cmd {
        ConfigCommand::View(a) => view(g, &sources, a, out),
        ConfigCommand::GetContexts(a) => get_contexts(&sources, a, out),
        ConfigCommand::CurrentContext => {
            let cfg = sources.load()?;
            if cfg.current_context.is_empty() {
                return Err(CmdError::msg("current-context is not set"));
            }
            out.stdout.push_str(&cfg.current_context);
            out.stdout.push('\n');
            Ok(())
        }
        ConfigCommand::UseContext { name } => use_context(&sources, &name, out),
        ConfigCommand::SetContext(a) => set_context(g, &sources, a, out),
        ConfigCommand::SetCluster(a) => set_cluster(g, &sources, a, out),
        ConfigCommand::SetCredentials(a) => set_credentials(g, &sources, a, out),
        ConfigCommand::DeleteContext { name } => delete_context(&sources, &name, out),
        ConfigCommand::GetClusters => {
            let cfg = sources.load()?;
            out.stdout.push_str("NAME\n");
            for name in cfg.clusters.keys() {
                out.stdout.push_str(name);
                out.stdout.push('\n');
            }
            Ok(())
        }
    }
}

fn view(g: &GlobalArgs, sources: &Sources, a: ConfigViewArgs, out: &mut Output) -> Result<(), CmdError> {
    let mut cfg = sources.load()?;
    if let Some(c) = &g.context {
        cfg.current_context = c.clone();
    }
    if a.minify == Some(true) {
        cfg.minify().map_err(CmdError::msg)?;
    }
    if a.flatten == Some(true) {
        flatten(&mut cfg)?;
    }
    if a.raw != Some(true) {
        cfg.redact();
    }
    let doc = cfg.to_value();
    let format = a.output.as_deref().unwrap_or("yaml");
    match format {
        "yaml" => out.stdout.push_str(&yaml::to_yaml(&doc)),
        "json" => out.stdout.push_str(&json::to_json_ordered(&doc)),
        f if f.starts_with("jsonpath=") => {
            let p = JsonPath::parse(&f["jsonpath=".len()..])
                .map_err(|e| CmdError::msg(format!("error parsing jsonpath {}, {e}", &f["jsonpath=".len()..])))?;
            out.stdout.push_str(&p.execute(&doc));
        }
        other => {
            return Err(CmdError::msg(format!(
                "unable to match a printer suitable for the output format \"{other}\", allowed formats are: json,jsonpath,jsonpath-as-json,jsonpath-file,yaml"
            )));
        }
    }
    Ok(())
}

/// `--flatten`: file references become embedded data.
fn flatten(cfg: &mut Config) -> Result<(), CmdError> {
    let embed = |e: &mut Entry, file_key: &str, data_key: &str| -> Result<(), CmdError> {
        if let Some(p) = e.body.get(file_key).and_then(Value::as_str).filter(|p| !p.is_empty()) {
            let path = resolve_path(p, e.origin.as_deref());
            let bytes =
                std::fs::read(&path).map_err(|err| CmdError::msg(format!("open {path}: {}", go_io_error(&err))))?;
            if let Some(m) = e.body.as_object_mut() {
                m.remove(file_key);
                m.insert(
                    data_key.into(),
                    json!(base64::engine::general_purpose::STANDARD.encode(bytes)),
                );
            }
        }
        Ok(())
    };
    for e in cfg.clusters.values_mut() {
        embed(e, "certificate-authority", "certificate-authority-data")?;
    }
    for e in cfg.users.values_mut() {
        embed(e, "client-certificate", "client-certificate-data")?;
        embed(e, "client-key", "client-key-data")?;
    }
    Ok(())
}

fn get_contexts(sources: &Sources, a: GetContextsArgs, out: &mut Output) -> Result<(), CmdError> {
    let cfg = sources.load()?;
    let name_only = match a.output.as_deref() {
        None | Some("") => false,
        Some("name") => true,
        Some(o) => return Err(CmdError::msg(format!("output must be one of '' or 'name': {o}"))),
    };
    let selected: Vec<String> = if a.names.is_empty() {
        cfg.contexts.keys().cloned().collect()
    } else {
        a.names.clone()
    };
    let mut text = String::new();
    if !name_only && a.no_headers != Some(true) {
        text.push_str("CURRENT\tNAME\tCLUSTER\tAUTHINFO\tNAMESPACE\n");
    }
    let mut missing = Vec::new();
    for name in selected {
        let Some(ctx) = cfg.contexts.get(&name) else {
            missing.push(name);
            continue;
        };
        if name_only {
            text.push_str(&name);
            text.push('\n');
            continue;
        }
        let current = if name == cfg.current_context { "*" } else { "" };
        let field = |k: &str| ctx.body[k].as_str().unwrap_or_default().to_string();
        text.push_str(&format!(
            "{current}\t{name}\t{}\t{}\t{}\n",
            field("cluster"),
            field("user"),
            field("namespace")
        ));
    }
    out.stdout
        .push_str(&if name_only { text } else { tabwriter::align(&text) });
    if let Some(m) = missing.first() {
        return Err(CmdError::msg(format!("context {m} not found")));
    }
    Ok(())
}

/// The file that defines `name` in the section `pick`, else the default destination.
fn file_for(sources: &Sources, pick: impl Fn(&Config) -> bool) -> Result<PathBuf, CmdError> {
    for p in sources.precedence() {
        if p.exists() && pick(&load_file(&p)?) {
            return Ok(p);
        }
    }
    Ok(sources.default_file())
}

fn use_context(sources: &Sources, name: &str, out: &mut Output) -> Result<(), CmdError> {
    let cfg = sources.load()?;
    if !cfg.contexts.contains_key(name) {
        return Err(CmdError::msg(format!("no context exists with the name: \"{name}\"")));
    }
    // Like client-go's ModifyConfig, nothing is written when nothing changes.
    if cfg.current_context != name {
        let path = file_for(sources, |c| !c.current_context.is_empty())?;
        let mut file = load_file(&path)?;
        file.current_context = name.to_string();
        file.write(&path)?;
    }
    out.stdout.push_str(&format!("Switched to context \"{name}\".\n"));
    Ok(())
}

fn set_context(g: &GlobalArgs, sources: &Sources, a: SetContextArgs, out: &mut Output) -> Result<(), CmdError> {
    let cfg = sources.load()?;
    let name = if a.current == Some(true) {
        if a.name.is_some() {
            return Err(CmdError::msg("you cannot specify a context name and --current"));
        }
        if cfg.current_context.is_empty() {
            return Err(CmdError::msg("no current context is set"));
        }
        cfg.current_context.clone()
    } else {
        match a.name {
            Some(n) => n,
            None => return Err(CmdError::msg("you must specify a non-empty context name or --current")),
        }
    };
    let exists = cfg.contexts.contains_key(&name);
    let path = file_for(sources, |c| c.contexts.contains_key(&name))?;
    let mut file = load_file(&path)?;
    let before = file.to_value();
    let entry = file.contexts.entry(name.clone()).or_insert_with(|| Entry {
        body: json!({"cluster": "", "user": ""}),
        origin: Some(path.clone()),
    });
    for (flag, key) in [(&g.cluster, "cluster"), (&g.user, "user"), (&g.namespace, "namespace")] {
        if let Some(v) = flag {
            set_or_remove(&mut entry.body, key, v, key != "namespace");
        }
    }
    write_if_changed(&file, &before, &path)?;
    let verb = if exists { "modified" } else { "created" };
    out.stdout.push_str(&format!("Context \"{name}\" {verb}.\n"));
    Ok(())
}

/// Sets a string field; an empty value removes an omitempty field.
fn set_or_remove(body: &mut Value, key: &str, v: &str, keep_empty: bool) {
    if let Some(m) = body.as_object_mut() {
        if v.is_empty() && !keep_empty {
            m.remove(key);
        } else {
            m.insert(key.into(), json!(v));
        }
    }
}

fn set_cluster(g: &GlobalArgs, sources: &Sources, a: SetClusterArgs, out: &mut Output) -> Result<(), CmdError> {
    let name = a.name;
    let path = file_for(sources, |c| c.clusters.contains_key(&name))?;
    let mut file = load_file(&path)?;
    let before = file.to_value();
    let entry = file.clusters.entry(name.clone()).or_insert_with(|| Entry {
        body: json!({"server": ""}),
        origin: Some(path.clone()),
    });
    let b = &mut entry.body;
    if let Some(s) = &g.server {
        set_or_remove(b, "server", s, true);
    }
    if let Some(n) = &g.tls_server_name {
        set_or_remove(b, "tls-server-name", n, false);
    }
    if let Some(p) = &a.proxy_url {
        set_or_remove(b, "proxy-url", p, false);
    }
    if let Some(i) = g.insecure_skip_tls_verify
        && let Some(m) = b.as_object_mut()
    {
        if i {
            m.insert("insecure-skip-tls-verify".into(), json!(true));
            m.remove("certificate-authority");
            m.remove("certificate-authority-data");
        } else {
            m.remove("insecure-skip-tls-verify");
        }
    }
    if let Some(ca) = &g.certificate_authority
        && let Some(m) = b.as_object_mut()
    {
        if a.embed_certs == Some(true) {
            let data = std::fs::read(ca)
                .map_err(|e| CmdError::msg(format!("could not read certificate-authority data from {ca}: {e}")))?;
            m.insert(
                "certificate-authority-data".into(),
                json!(base64::engine::general_purpose::STANDARD.encode(data)),
            );
            m.remove("certificate-authority");
            m.remove("insecure-skip-tls-verify");
        } else if !ca.is_empty() {
            m.insert("certificate-authority".into(), json!(resolve_path(ca, None)));
            m.remove("certificate-authority-data");
            m.remove("insecure-skip-tls-verify");
        }
    }
    write_if_changed(&file, &before, &path)?;
    out.stdout.push_str(&format!("Cluster \"{name}\" set.\n"));
    Ok(())
}

fn set_credentials(g: &GlobalArgs, sources: &Sources, a: SetCredentialsArgs, out: &mut Output) -> Result<(), CmdError> {
    let name = a.name;
    let path = file_for(sources, |c| c.users.contains_key(&name))?;
    let mut file = load_file(&path)?;
    let before = file.to_value();
    let entry = file.users.entry(name.clone()).or_insert_with(|| Entry {
        body: json!({}),
        origin: Some(path.clone()),
    });
    let b = &mut entry.body;
    let embed = a.embed_certs == Some(true);
    for (flag, file_key, data_key) in [
        (&g.client_certificate, "client-certificate", "client-certificate-data"),
        (&g.client_key, "client-key", "client-key-data"),
    ] {
        if let Some(p) = flag
            && let Some(m) = b.as_object_mut()
        {
            if embed {
                let data = std::fs::read(p)
                    .map_err(|e| CmdError::msg(format!("error reading {file_key} data from {p}: {e}")))?;
                m.insert(
                    data_key.into(),
                    json!(base64::engine::general_purpose::STANDARD.encode(data)),
                );
                m.remove(file_key);
            } else {
                m.insert(file_key.into(), json!(resolve_path(p, None)));
                m.remove(data_key);
            }
        }
    }
    if let Some(t) = &g.token {
        set_or_remove(b, "token", t, false);
    }
    if let Some(u) = &g.username {
        set_or_remove(b, "username", u, false);
    }
    if let Some(p) = &g.password {
        set_or_remove(b, "password", p, false);
    }
    // Setting one kind of credentials clears the other, as upstream does.
    let set_token = g.token.as_deref().is_some_and(|t| !t.is_empty());
    let set_basic =
        g.username.as_deref().is_some_and(|t| !t.is_empty()) || g.password.as_deref().is_some_and(|t| !t.is_empty());
    if (set_token || set_basic)
        && let Some(m) = b.as_object_mut()
    {
        if !set_token {
            m.remove("token");
        }
        if !set_basic {
            m.remove("username");
            m.remove("password");
        }
    }
    if a.exec_command.is_some() || a.exec_api_version.is_some() || !a.exec_arg.is_empty() || !a.exec_env.is_empty() {
        let mut exec = b.get("exec").cloned().unwrap_or_else(
            || json!({"command": "", "args": null, "env": null, "apiVersion": "", "provideClusterInfo": false}),
        );
        if let Some(c) = &a.exec_command {
            exec["command"] = json!(c);
        }
        if let Some(v) = &a.exec_api_version {
            exec["apiVersion"] = json!(v);
        }
        if !a.exec_arg.is_empty() {
            exec["args"] = json!(a.exec_arg);
        }
        if !a.exec_env.is_empty() {
            let env: Vec<Value> = a
                .exec_env
                .iter()
                .filter_map(|e| e.split_once('='))
                .map(|(k, v)| json!({"name": k, "value": v}))
                .collect();
            exec["env"] = Value::Array(env);
        }
        if exec.get("interactiveMode").is_none() {
            exec["interactiveMode"] = json!("IfAvailable");
        }
        b["exec"] = exec;
    }
    write_if_changed(&file, &before, &path)?;
    out.stdout.push_str(&format!("User \"{name}\" set.\n"));
    Ok(())
}

fn delete_context(sources: &Sources, name: &str, out: &mut Output) -> Result<(), CmdError> {
    let cfg = sources.load()?;
    let shown = sources.default_file();
    if !cfg.contexts.contains_key(name) {
        return Err(CmdError::msg(format!(
            "cannot delete context {name}, not in {}",
            shown.display()
        )));
    }
    if cfg.current_context == name {
        out.stderr.push_str(
            "warning: this removed your active context, use \"kubectl config use-context\" to select a different one\n",
        );
    }
    let path = file_for(sources, |c| c.contexts.contains_key(name))?;
    let mut file = load_file(&path)?;
    file.contexts.remove(name);
    file.write(&path)?;
    out.stdout
        .push_str(&format!("deleted context {name} from {}\n", shown.display()));
    Ok(())
}

/// An I/O error worded as Go's syscall errors are (`no such file or directory`).
pub fn go_io_error(e: &std::io::Error) -> String {
    let text = e.to_string();
    let text = match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => text,
    }
}

/// Writes the file only when its content changed, as client-go's ModifyConfig does.
fn write_if_changed(file: &Config, before: &Value, path: &std::path::Path) -> Result<(), CmdError> {
    if &file.to_value() != before || !path.exists() {
        file.write(path)?;
    }
    Ok(())
}
