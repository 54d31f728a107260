//! `kubectl diff -f`: the live objects against what a server-side dry-run apply would make
//! of the files (client-side apply's patch, or `--server-side` apply), written as YAML into
//! `LIVE-*` and `MERGED-*` directories and compared with `diff -u -N` (or
//! `$KUBECTL_EXTERNAL_DIFF`) as upstream does; exit 1 when they differ.

use super::Session;
use super::apply::{LAST_APPLIED, last_applied, when};
use super::objects::{self, OpenApi};
use crate::Output;
use crate::cli::GlobalArgs;
use crate::error::CmdError;
use crate::inputs;
use crate::merge::{self, schema::Schema};
use crate::printers::yaml;
use clap::Args;
use serde_json::Value;

#[derive(Args, Debug, Default, Clone)]
pub struct DiffArgs {
    /// Filename, directory, or URL to files contains the configuration to diff.
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
    /// Include managed fields in the diff.
    #[arg(long = "show-managed-fields", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub show_managed_fields: Option<bool>,
}

/// A fresh directory `<tmp>/<prefix>-<digits>`, as Go's os.MkdirTemp names it.
fn temp_dir(prefix: &str) -> Result<std::path::PathBuf, CmdError> {
    let base = std::env::temp_dir();
    for _ in 0..100 {
        let n: u32 = (uuid::Uuid::new_v4().as_u128() % 1_000_000_000) as u32;
        let p = base.join(format!("{prefix}-{n}"));
        if std::fs::create_dir(&p).is_ok() {
            return Ok(p);
        }
    }
    Err(CmdError::msg("could not create a temporary directory"))
}

fn file_name(object: &Value, fallback_ns: &str) -> String {
    let api_version = object["apiVersion"].as_str().unwrap_or_default().replace('/', ".");
    let kind = object["kind"].as_str().unwrap_or_default();
    let ns = object["metadata"]["namespace"].as_str().unwrap_or(fallback_ns);
    let name = object["metadata"]["name"].as_str().unwrap_or_default();
    format!("{api_version}.{kind}.{ns}.{name}")
}

pub async fn run(g: &GlobalArgs, a: DiffArgs, out: &mut Output) -> Result<i32, CmdError> {
    if a.filename.is_empty() {
        return Err(CmdError::Raw(
            "error: must specify one of -f and -k\n\nSee 'kubectl diff -h' for help and examples".into(),
        ));
    }
    let objects = inputs::read_all(&a.filename, a.recursive == Some(true)).await?;
    let mut s = Session::open(g, "kubectl diff").await?;
    let mapped = objects::map_objects(&mut s, objects).await?;
    let live_dir = temp_dir("LIVE")?;
    let merged_dir = temp_dir("MERGED")?;
    let cleanup = |_: ()| {
        let _ = std::fs::remove_dir_all(&live_dir);
        let _ = std::fs::remove_dir_all(&merged_dir);
    };
    let mut openapi = OpenApi::default();
    let server_side = a.server_side == Some(true);
    let show_mf = a.show_managed_fields == Some(true);
    let strip = |v: Value| if show_mf { v } else { objects::without_managed_fields(v) };
    for m in &mapped {
        let client = s.client();
        let got = objects::send(client, "GET", &m.path(), None, None).await?;
        let live = if got.code == 404 {
            None
        } else if got.ok() {
            if !got.body["metadata"]["deletionTimestamp"].is_null() {
                out.stderr.push_str(&format!(
                    "Warning: Detected changes to resource {} which is currently being deleted.\n",
                    m.name
                ));
            }
            Some(got.body)
        } else {
            cleanup(());
            return Err(got.error());
        };
        let merged = if server_side {
            let manager = a.field_manager.as_deref().unwrap_or("kubectl");
            let force = a.force_conflicts == Some(true);
            let path = format!("{}?dryRun=All&fieldManager={manager}&force={force}", m.path());
            let r = objects::send(
                client,
                "PATCH",
                &path,
                Some("application/apply-patch+yaml"),
                Some(&m.object),
            )
            .await?;
            if !r.ok() {
                cleanup(());
                return Err(r.error());
            }
            r.body
        } else {
            let manager = a.field_manager.as_deref().unwrap_or("kubectl-client-side-apply");
            // Upstream diffs against the manifest without the annotation: a new object is
            // created without it, and a patch leaves the live one alone.
            let modified = serde_json::from_str::<Value>(&last_applied(&m.object)).unwrap_or_else(|_| m.object.clone());
            match &live {
                None => {
                    let path = format!("{}?dryRun=All&fieldManager={manager}", m.collection());
                    let r = objects::send(client, "POST", &path, Some("application/json"), Some(&modified)).await?;
                    if !r.ok() {
                        cleanup(());
                        return Err(when(r.error(), &format!("error when creating \"{}\"", m.source)));
                    }
                    r.body
                }
                Some(current) => {
                    let original = current["metadata"]["annotations"][LAST_APPLIED]
                        .as_str()
                        .and_then(|t| serde_json::from_str::<Value>(t).ok())
                        .unwrap_or(Value::Null);
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
                    let mut patch = merge::three_way(&original, &modified, current, schema);
                    let rv = current["metadata"]["resourceVersion"].clone();
                    let meta = patch
                        .entry("metadata")
                        .or_insert_with(|| Value::Object(Default::default()));
                    if let Some(meta) = meta.as_object_mut() {
                        meta.insert("resourceVersion".into(), rv);
                    }
                    let ct = if strategic {
                        "application/strategic-merge-patch+json"
                    } else {
                        "application/merge-patch+json"
                    };
                    let path = format!("{}?dryRun=All&fieldManager={manager}", m.path());
                    let res = objects::send(client, "PATCH", &path, Some(ct), Some(&Value::Object(patch))).await?;
                    if !res.ok() {
                        cleanup(());
                        return Err(res.error());
                    }
                    res.body
                }
            }
        };
        let name = file_name(&merged, m.namespace.as_deref().unwrap_or_default());
        let write = |dir: &std::path::Path, v: Option<Value>| -> Result<(), CmdError> {
            let text = v.map(|v| yaml::to_yaml(&strip(v))).unwrap_or_default();
            std::fs::write(dir.join(&name), text).map_err(|e| CmdError::msg(e.to_string()))
        };
        if let Err(e) = write(&live_dir, live).and_then(|_| write(&merged_dir, Some(merged))) {
            cleanup(());
            return Err(e);
        }
    }
    let program = std::env::var("KUBECTL_EXTERNAL_DIFF").unwrap_or_default();
    let mut words: Vec<String> = program.split_whitespace().map(str::to_string).collect();
    if words.is_empty() {
        words = vec!["diff".into(), "-u".into(), "-N".into()];
    }
    let result = std::process::Command::new(&words[0])
        .args(&words[1..])
        .arg(&live_dir)
        .arg(&merged_dir)
        .output();
    cleanup(());
    let output = result.map_err(|e| CmdError::msg(format!("failed to run \"{}\": {e}", words[0])))?;
    out.stdout.push_str(&String::from_utf8_lossy(&output.stdout));
    out.stderr.push_str(&String::from_utf8_lossy(&output.stderr));
    match output.status.code() {
        Some(0) => Ok(0),
        Some(1) => Ok(1),
        Some(c) => Err(CmdError::msg(format!("exit status {c}"))),
        None => Err(CmdError::msg("diff was killed")),
    }
}
