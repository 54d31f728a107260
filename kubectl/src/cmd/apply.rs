//! `kubectl apply -f`: client-side apply with the `kubectl.kubernetes.io/last-applied-configuration`
//! annotation (create when absent, else the three-way strategic merge patch of `merge/`, or a
//! JSON merge patch for custom resources), `--server-side` apply patches, `--dry-run`,
//! `-o yaml|json|name` and `--prune -l`/`--all`.

use super::Session;
use super::objects::{self, DryRun, Mapped, OpenApi, Printer};
use crate::Output;
use crate::cli::GlobalArgs;
use crate::error::CmdError;
use crate::inputs;
use crate::merge::{self, schema::Schema};
use crate::printers::{json, name_of};
use clap::Args;
use serde_json::{Map, Value};

pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

#[derive(Args, Debug, Default, Clone)]
pub struct ApplyArgs {
    /// The files that contain the configurations to apply.
    #[arg(short = 'f', long = "filename")]
    pub filename: Vec<String>,
    /// Process the directory used in -f, --filename recursively.
    #[arg(short = 'R', long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub recursive: Option<bool>,
    /// If true, apply runs in the server instead of the client.
    #[arg(long = "server-side", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub server_side: Option<bool>,
    /// If true, server-side apply will force the changes against conflicts.
    #[arg(long = "force-conflicts", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub force_conflicts: Option<bool>,
    /// Name of the manager used to track field ownership.
    #[arg(long = "field-manager")]
    pub field_manager: Option<String>,
    /// Must be "none", "server", or "client".
    #[arg(long = "dry-run", num_args = 0..=1, require_equals = true, default_missing_value = "unchanged")]
    pub dry_run: Option<String>,
    /// Output format.
    #[arg(short = 'o', long)]
    pub output: Option<String>,
    /// Automatically delete resource objects that do not appear in the configs.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub prune: Option<bool>,
    /// Selector (label query) to filter on.
    #[arg(short = 'l', long)]
    pub selector: Option<String>,
    /// Select all resources in the namespace of the specified resource types.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub all: Option<bool>,
    /// Must be one of: strict (or true), warn, ignore (or false).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "strict")]
    pub validate: Option<String>,
}

/// The `fieldValidation` parameter for `--validate`.
pub fn field_validation(v: Option<&str>) -> Result<&'static str, CmdError> {
    match v.unwrap_or("strict") {
        "strict" | "true" => Ok("Strict"),
        "warn" => Ok("Warn"),
        "ignore" | "false" => Ok("Ignore"),
        other => Err(CmdError::msg(format!(
            "invalid - validate option \"{other}\"; must be one of: strict (or true), warn, ignore (or false)"
        ))),
    }
}

/// The annotation's value: the manifest as Go's json.Marshal writes it (keys sorted),
/// without the annotation itself (an empty `annotations` map stays), plus a newline.
pub fn last_applied(object: &Value) -> String {
    let mut o = object.clone();
    if let Some(meta) = o.get_mut("metadata").and_then(Value::as_object_mut) {
        let annotations = meta.entry("annotations").or_insert_with(|| Value::Object(Map::new()));
        if !annotations.is_object() {
            *annotations = Value::Object(Map::new());
        }
        if let Some(a) = annotations.as_object_mut() {
            a.remove(LAST_APPLIED);
        }
    }
    format!("{}\n", json::to_compact(&o))
}

/// The manifest with its last-applied annotation set.
pub fn with_last_applied(object: &Value) -> Value {
    let value = last_applied(object);
    let mut o = object.clone();
    if let Some(meta) = o.get_mut("metadata").and_then(Value::as_object_mut) {
        let annotations = meta.entry("annotations").or_insert_with(|| Value::Object(Map::new()));
        if !annotations.is_object() {
            *annotations = Value::Object(Map::new());
        }
        if let Some(a) = annotations.as_object_mut() {
            a.insert(LAST_APPLIED.into(), Value::String(value));
        }
    }
    o
}

/// Adds the `error when …` context upstream puts in front of a server message.
pub fn when(e: CmdError, what: &str) -> CmdError {
    match e {
        CmdError::Server { reason, message } => CmdError::Server {
            reason,
            message: format!("{what}: {message}"),
        },
        CmdError::ServerPlain(m) => CmdError::ServerPlain(format!("{what}: {m}")),
        other => other,
    }
}

pub async fn run(g: &GlobalArgs, a: ApplyArgs, out: &mut Output) -> Result<i32, CmdError> {
    if a.filename.is_empty() {
        return Err(CmdError::msg("must specify one of -f and -k"));
    }
    let dry = DryRun::parse(a.dry_run.as_deref())?;
    let printer = Printer::parse(a.output.as_deref())?;
    let validation = field_validation(a.validate.as_deref())?;
    let server_side = a.server_side == Some(true);
    let prune = a.prune == Some(true);
    if prune && a.selector.is_none() && a.all != Some(true) {
        return Err(CmdError::msg(
            "all resources selected for prune without explicitly passing --all. To prune all resources, pass the --all flag. If you did not mean to prune all resources, specify a label selector",
        ));
    }
    if server_side && dry == DryRun::Client {
        return Err(CmdError::msg(
            "--dry-run=client doesn't work with --server-side (did you mean --dry-run=server instead?)",
        ));
    }
    if a.force_conflicts == Some(true) && !server_side {
        return Err(CmdError::msg("--force-conflicts only works with --server-side"));
    }
    let objects = inputs::read_all(&a.filename, a.recursive == Some(true)).await?;
    let mut s = Session::open(g, "kubectl apply").await?;
    let mut mapped = objects::map_objects(&mut s, objects).await?;
    if let Some(sel) = &a.selector {
        mapped.retain(|m| matches_selector(&m.object["metadata"]["labels"], sel));
    }
    if mapped.is_empty() {
        return Err(CmdError::msg("no objects passed to apply"));
    }
    let mut openapi = OpenApi::default();
    let mut errors: Vec<CmdError> = Vec::new();
    let mut printed = 0;
    let mut collected: Vec<Value> = Vec::new();
    for m in &mapped {
        let result = if server_side {
            server_side_apply(&s, m, &a, dry).await
        } else {
            client_side_apply(&s, &mut openapi, m, &a, dry, validation, out).await
        };
        match result {
            Ok((action, object)) => {
                if matches!(printer, Printer::Yaml | Printer::Json) {
                    collected.push(objects::without_managed_fields(object));
                } else {
                    let name = m.display_name();
                    printer.print(&mut out.stdout, &name, action, dry.suffix(), &object, printed);
                }
                printed += 1;
            }
            Err(e) => errors.push(e),
        }
    }
    print_collected(printer, collected, out);
    if prune {
        // Upstream logs this through klog whenever a namespace applies (always, in effect).
        out.stderr.push_str(&klog_warning(
            "prune.go:71",
            "Deprecated: kubectl apply will no longer prune non-namespaced resources by default when used with the --namespace flag in a future release. To preserve the current behaviour, list the resources you want to target explicitly in the --prune-allowlist flag.",
        ));
    }
    if prune
        && errors.is_empty()
        && let Err(e) = prune_objects(&mut s, &mapped, &a, dry, printer, out).await
    {
        errors.push(e);
    }
    finish(errors, out)
}

/// Upstream prints one object as is and several as a `List` (for JSON in Go's struct order:
/// kind, apiVersion, metadata, items).
fn print_collected(printer: Printer, collected: Vec<Value>, out: &mut Output) {
    if collected.len() == 1 {
        printer.print(&mut out.stdout, "", "", "", &collected[0], 0);
    } else if !collected.is_empty() {
        if printer == Printer::Json {
            let items = json::to_json(&Value::Array(collected));
            let items = items.trim_end().replace('\n', "\n    ");
            out.stdout.push_str(&format!(
                "{{\n    \"kind\": \"List\",\n    \"apiVersion\": \"v1\",\n    \"metadata\": {{}},\n    \"items\": {items}\n}}\n"
            ));
        } else {
            let list = serde_json::json!({"apiVersion": "v1", "items": collected, "kind": "List", "metadata": {}});
            printer.print(&mut out.stdout, "", "", "", &list, 0);
        }
    }
}

/// A klog warning line: `W1122 11:58:47.360684   24737 prune.go:71] message`.
fn klog_warning(at: &str, message: &str) -> String {
    let now = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::system());
    format!(
        "W{:02}{:02} {:02}:{:02}:{:02}.{:06} {:>7} {at}] {message}\n",
        now.month(),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        now.subsec_nanosecond() / 1000,
        std::process::id()
    )
}

/// Prints every error but the last, which becomes the command's error.
pub fn finish(mut errors: Vec<CmdError>, out: &mut Output) -> Result<i32, CmdError> {
    let Some(last) = errors.pop() else {
        return Ok(0);
    };
    for e in errors {
        out.stderr.push_str(&format!("{e}\n"));
    }
    Err(last)
}

async fn client_side_apply(
    s: &Session,
    openapi: &mut OpenApi,
    m: &Mapped,
    a: &ApplyArgs,
    dry: DryRun,
    validation: &str,
    out: &mut Output,
) -> Result<(&'static str, Value), CmdError> {
    let client = s.client();
    let manager = a.field_manager.as_deref().unwrap_or("kubectl-client-side-apply");
    let modified = with_last_applied(&m.object);
    let got = objects::send(client, "GET", &m.path(), None, None).await?;
    if got.code == 404 {
        if dry == DryRun::Client {
            return Ok(("created", modified));
        }
        let path = format!(
            "{}?fieldManager={manager}&fieldValidation={validation}{}",
            m.collection(),
            dry.param()
        );
        let r = objects::send(client, "POST", &path, Some("application/json"), Some(&modified)).await?;
        if !r.ok() {
            return Err(when(r.error(), &format!("error when creating \"{}\"", m.source)));
        }
        return Ok(("created", r.body));
    }
    if !got.ok() {
        return Err(when(
            got.error(),
            &format!(
                "error when retrieving current configuration of:\nResource: \"{}\", GroupVersionKind: \"{}\"\nName: \"{}\", Namespace: \"{}\"\nfrom server for: \"{}\"",
                resource_text(m),
                gvk_text(m),
                m.name,
                m.namespace.clone().unwrap_or_default(),
                m.source
            ),
        ));
    }
    let current = got.body;
    let r = &m.resource;
    let strategic = objects::builtin_group(&r.group);
    let doc = if strategic {
        openapi.document(client, &r.group, &r.version).await.cloned()
    } else {
        None
    };
    let schema = doc
        .as_ref()
        .and_then(|d| Schema::for_kind(d, &r.group, &r.version, &r.kind));
    if dry == DryRun::Client {
        // Upstream reports every existing object as configured in a client dry run.
        return Ok(("configured", current));
    }
    let original = match current["metadata"]["annotations"][LAST_APPLIED].as_str() {
        Some(text) => serde_json::from_str::<Value>(text).unwrap_or(Value::Null),
        None => {
            out.stderr.push_str(&format!(
                "Warning: resource {}/{} is missing the {LAST_APPLIED} annotation which is required by kubectl apply. kubectl apply should only be used on resources created declaratively by either kubectl create --save-config or kubectl apply. The missing annotation will be patched automatically.\n",
                m.resource.group_resource(),
                m.name
            ));
            Value::Null
        }
    };
    let patch = merge::three_way(&original, &modified, &current, schema);
    if patch.is_empty() {
        return Ok(("unchanged", current));
    }
    let content_type = if strategic {
        "application/strategic-merge-patch+json"
    } else {
        "application/merge-patch+json"
    };
    let path = format!(
        "{}?fieldManager={manager}&fieldValidation={validation}{}",
        m.path(),
        dry.param()
    );
    let patch = Value::Object(patch);
    let res = objects::send(client, "PATCH", &path, Some(content_type), Some(&patch)).await?;
    if !res.ok() {
        return Err(when(
            res.error(),
            &format!(
                "error when applying patch:\n{}\nto:\nResource: \"{}\", GroupVersionKind: \"{}\"\nName: \"{}\", Namespace: \"{}\"\nfor: \"{}\"",
                json::to_compact(&patch),
                resource_text(m),
                gvk_text(m),
                m.name,
                m.namespace.clone().unwrap_or_default(),
                m.source
            ),
        ));
    }
    Ok(("configured", res.body))
}

fn resource_text(m: &Mapped) -> String {
    format!(
        "{}/{}, Resource={}",
        m.resource.group, m.resource.version, m.resource.name
    )
}

fn gvk_text(m: &Mapped) -> String {
    format!("{}/{}, Kind={}", m.resource.group, m.resource.version, m.resource.kind)
}

const CONFLICT_ADVICE: &str = "Please review the fields above--they currently have other managers. Here
are the ways you can resolve this warning:
* If you intend to manage all of these fields, please re-run the apply
  command with the `--force-conflicts` flag.
* If you do not intend to manage all of the fields, please edit your
  manifest to remove references to the fields that should keep their
  current managers.
* You may co-own fields by updating your manifest to match the existing
  value; in this case, you'll become the manager if the other manager(s)
  stop managing the field (remove it from their configuration).
See https://kubernetes.io/docs/reference/using-api/server-side-apply/#conflicts";

async fn server_side_apply(
    s: &Session,
    m: &Mapped,
    a: &ApplyArgs,
    dry: DryRun,
) -> Result<(&'static str, Value), CmdError> {
    let manager = a.field_manager.as_deref().unwrap_or("kubectl");
    let force = a.force_conflicts == Some(true);
    let path = format!(
        "{}?fieldManager={manager}&fieldValidation=Strict&force={force}{}",
        m.path(),
        dry.param()
    );
    let r = objects::send(
        s.client(),
        "PATCH",
        &path,
        Some("application/apply-patch+yaml"),
        Some(&m.object),
    )
    .await?;
    if r.code == 409 && r.body["reason"] == "Conflict" {
        let message = r.body["message"].as_str().unwrap_or_default();
        let mut text = format!("{message}\n");
        for c in r.body["details"]["causes"].as_array().into_iter().flatten() {
            let _ = c;
        }
        text.push_str(CONFLICT_ADVICE);
        return Err(CmdError::msg(text));
    }
    if !r.ok() {
        return Err(when(r.error(), &format!("error when patching \"{}\"", m.source)));
    }
    Ok(("serverside-applied", r.body))
}

/// Label selectors of the `a=b,c!=d,e,!f` form.
pub fn matches_selector(labels: &Value, selector: &str) -> bool {
    selector.split(',').filter(|t| !t.trim().is_empty()).all(|term| {
        let term = term.trim();
        if let Some((k, v)) = term.split_once("!=") {
            labels[k.trim()].as_str() != Some(v.trim())
        } else if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
            labels[k.trim()].as_str() == Some(v.trim())
        } else if let Some(k) = term.strip_prefix('!') {
            labels.get(k.trim()).is_none()
        } else {
            labels.get(term).is_some()
        }
    })
}

/// The kinds upstream prunes by default (group, version, kind).
const PRUNE_KINDS: &[(&str, &str, &str)] = &[
    ("", "v1", "ConfigMap"),
    ("", "v1", "Endpoints"),
    ("", "v1", "Namespace"),
    ("", "v1", "PersistentVolumeClaim"),
    ("", "v1", "PersistentVolume"),
    ("", "v1", "Pod"),
    ("", "v1", "ReplicationController"),
    ("", "v1", "Secret"),
    ("", "v1", "Service"),
    ("batch", "v1", "Job"),
    ("batch", "v1", "CronJob"),
    ("networking.k8s.io", "v1", "Ingress"),
    ("apps", "v1", "DaemonSet"),
    ("apps", "v1", "Deployment"),
    ("apps", "v1", "ReplicaSet"),
    ("apps", "v1", "StatefulSet"),
];

async fn prune_objects(
    s: &mut Session,
    applied: &[Mapped],
    a: &ApplyArgs,
    dry: DryRun,
    printer: Printer,
    out: &mut Output,
) -> Result<(), CmdError> {
    let mut namespaces: Vec<String> = applied.iter().filter_map(|m| m.namespace.clone()).collect();
    namespaces.sort();
    namespaces.dedup();
    let resources = s.discovery(false).await?.resources();
    let selector = a.selector.clone().unwrap_or_default();
    let client = s.client().clone();
    for (group, version, kind) in PRUNE_KINDS {
        let Some(r) = resources
            .iter()
            .find(|r| r.group == *group && r.version == *version && r.kind == *kind)
        else {
            continue;
        };
        let scopes: Vec<Option<&str>> = if r.namespaced {
            namespaces.iter().map(|n| Some(n.as_str())).collect()
        } else {
            vec![None]
        };
        for ns in scopes {
            let mut path = r.path(ns);
            if !selector.is_empty() {
                path.push_str(&format!(
                    "?labelSelector={}",
                    form_urlencoded::byte_serialize(selector.as_bytes()).collect::<String>()
                ));
            }
            let list = objects::send(&client, "GET", &path, None, None).await?;
            if !list.ok() {
                continue;
            }
            for item in list.body["items"].as_array().into_iter().flatten() {
                if item["metadata"]["annotations"][LAST_APPLIED].is_null() {
                    continue;
                }
                let name = item["metadata"]["name"].as_str().unwrap_or_default();
                let item_ns = item["metadata"]["namespace"].as_str();
                let kept = applied.iter().any(|m| {
                    m.resource.group == r.group
                        && m.resource.kind == r.kind
                        && m.name == name
                        && m.namespace.as_deref() == item_ns
                });
                if kept {
                    continue;
                }
                if dry != DryRun::Client {
                    let del = format!(
                        "{}/{name}{}",
                        r.path(item_ns),
                        if dry == DryRun::Server { "?dryRun=All" } else { "" }
                    );
                    let body = serde_json::json!({"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"});
                    let res = objects::send(&client, "DELETE", &del, Some("application/json"), Some(&body)).await?;
                    if !res.ok() && res.code != 404 {
                        return Err(res.error());
                    }
                }
                printer.print(
                    &mut out.stdout,
                    &name_of(&r.kind, &r.group, name),
                    "pruned",
                    dry.suffix(),
                    item,
                    1,
                );
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn annotation_value() {
        let o = json!({"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "a", "namespace": "x"}, "data": {"k": "<v>"}});
        assert_eq!(
            last_applied(&o),
            "{\"apiVersion\":\"v1\",\"data\":{\"k\":\"\\u003cv\\u003e\"},\"kind\":\"ConfigMap\",\"metadata\":{\"annotations\":{},\"name\":\"a\",\"namespace\":\"x\"}}\n"
        );
        let w = with_last_applied(&o);
        assert_eq!(last_applied(&w), last_applied(&o));
    }

    #[test]
    fn selectors() {
        let l = json!({"app": "web", "tier": "x"});
        assert!(matches_selector(&l, "app=web"));
        assert!(matches_selector(&l, "app=web,tier!=y,!nope"));
        assert!(!matches_selector(&l, "app=db"));
        assert!(!matches_selector(&Value::Null, "app"));
    }
}
