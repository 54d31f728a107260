//! `kubectl cp`: files into and out of a container with `tar` run through exec, as upstream:
//! into the pod, a tar archive made here is unpacked by `tar -xmf -`; out of it, the
//! container's `tar cf -` is unpacked here, its paths stripped of the source's prefix.

use super::Session;
use super::exec::{Captured, run_captured};
use super::pods;
use crate::Output;
use crate::cli::GlobalArgs;
use crate::error::CmdError;
use crate::tar;
use clap::Args;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct CpArgs {
    /// <src> and <dest>, one of them `[namespace/]pod:path`.
    pub args: Vec<String>,
    /// Container name. If omitted, use the kubectl.kubernetes.io/default-container annotation
    /// for selecting the container to be attached or the first container in the pod.
    #[arg(short = 'c', long)]
    pub container: Option<String>,
    /// The copied file/directory's ownership and permissions will not be preserved in the container
    #[arg(long = "no-preserve", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub no_preserve: Option<bool>,
    /// Set number of retries to complete a copy operation from a container.
    #[arg(long, default_value_t = 0)]
    pub retries: i32,
}

/// `[namespace/]pod:path` or a local path.
struct Spec {
    namespace: Option<String>,
    pod: Option<String>,
    file: String,
}

const FORMAT: &str = "filespec must match the canonical format: [[namespace/]pod:]file/path";

fn parse(arg: &str) -> Result<Spec, CmdError> {
    let Some(i) = arg.find(':') else {
        return Ok(Spec {
            namespace: None,
            pod: None,
            file: arg.to_string(),
        });
    };
    if i == 0 {
        return Err(CmdError::msg(FORMAT));
    }
    let (pod, file) = (&arg[..i], &arg[i + 1..]);
    let pieces: Vec<&str> = pod.split('/').collect();
    let (namespace, pod) = match pieces.as_slice() {
        [p] => (None, p.to_string()),
        [ns, p] => (Some(ns.to_string()), p.to_string()),
        _ => return Err(CmdError::msg(FORMAT)),
    };
    Ok(Spec {
        namespace,
        pod: Some(pod),
        file: file.to_string(),
    })
}

/// Go's path.Clean for slash-separated remote paths.
fn clean(p: &str) -> String {
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            s => parts.push(s),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

fn base(p: &str) -> String {
    let c = clean(p);
    c.rsplit('/')
        .next()
        .filter(|b| !b.is_empty())
        .unwrap_or("/")
        .to_string()
}

fn dir(p: &str) -> String {
    let c = clean(p);
    match c.rfind('/') {
        Some(0) => "/".into(),
        Some(i) => c[..i].to_string(),
        None => ".".into(),
    }
}

/// The prefix the container's tar gives the source's entries: no leading slashes, cleaned,
/// without leading `../` (upstream's stripPathShortcuts).
fn prefix(src: &str) -> String {
    let mut p = clean(src.trim_start_matches('/'));
    while let Some(rest) = p.strip_prefix("../") {
        p = rest.to_string();
    }
    if p == ".." || p == "." {
        return String::new();
    }
    p
}

pub async fn run(g: &GlobalArgs, a: CpArgs, _out: &mut Output) -> Result<i32, CmdError> {
    let [src, dest] = a.args.as_slice() else {
        return Err(CmdError::msg("source and destination are required"));
    };
    let (src, dest) = (parse(src)?, parse(dest)?);
    if src.pod.is_some() && dest.pod.is_some() {
        return Err(CmdError::msg("one of src or dest must be a local file specification"));
    }
    if src.file.is_empty() || dest.file.is_empty() {
        return Err(CmdError::msg("filepath can not be empty"));
    }
    if src.pod.is_none() && dest.pod.is_none() {
        return Err(CmdError::msg("one of src or dest must be a remote file specification"));
    }
    let mut s = Session::open(g, "kubectl cp").await?;
    let remote = if src.pod.is_some() { &src } else { &dest };
    let ns = remote.namespace.clone().unwrap_or_else(|| s.conn.namespace.clone());
    let pod_name = remote.pod.clone().unwrap_or_default();
    let pod = pods::get_pod(&s, &ns, &pod_name).await?;
    let container = pods::container(&pod, a.container.as_deref(), false, None)?;
    if src.pod.is_some() {
        from_pod(&mut s, &ns, &pod_name, &container, &src.file, Path::new(&dest.file)).await
    } else {
        to_pod(
            &mut s,
            &ns,
            &pod_name,
            &container,
            Path::new(&src.file),
            &dest.file,
            a.no_preserve == Some(true),
        )
        .await
    }
}

/// Prints a command's output, and turns a non-zero exit into ours.
fn finish(c: &Captured) -> i32 {
    let _ = std::io::stderr().write_all(&c.stderr);
    let _ = std::io::stdout().write_all(&c.stdout);
    if c.code != 0 {
        eprintln!("command terminated with exit code {}", c.code);
    }
    c.code
}

async fn to_pod(
    s: &mut Session,
    ns: &str,
    pod: &str,
    container: &str,
    src: &Path,
    dest: &str,
    no_preserve: bool,
) -> Result<i32, CmdError> {
    if std::fs::symlink_metadata(src).is_err() {
        return Err(CmdError::msg(format!(
            "{} doesn't exist in local filesystem",
            src.display()
        )));
    }
    let mut dest = dest.to_string();
    let is_dir = run_captured(
        s,
        ns,
        pod,
        container,
        vec!["test".into(), "-d".into(), dest.clone()],
        None,
    )
    .await?;
    if is_dir.code == 0 {
        let src_base = src
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        dest = format!("{}/{src_base}", dest.trim_end_matches('/'));
    }
    let archive = tar::archive(src, &base(&dest)).map_err(|e| CmdError::msg(e.to_string()))?;
    let mut command = vec!["tar".to_string()];
    if no_preserve {
        command.extend(["--no-same-permissions".to_string(), "--no-same-owner".to_string()]);
    }
    command.extend(["-xmf", "-", "-C"].map(String::from));
    command.push(dir(&dest));
    let c = run_captured(s, ns, pod, container, command, Some(archive)).await?;
    Ok(finish(&c))
}

async fn from_pod(
    s: &mut Session,
    ns: &str,
    pod: &str,
    container: &str,
    src: &str,
    dest: &Path,
) -> Result<i32, CmdError> {
    let command = vec!["tar".to_string(), "cf".to_string(), "-".to_string(), src.to_string()];
    let c = run_captured(s, ns, pod, container, command, None).await?;
    // Upstream sends the remote tar's messages to stdout, and unpacks what arrived whatever
    // the remote tar's exit code (a missing source is an empty copy).
    let _ = std::io::stdout().write_all(&c.stderr);
    let prefix = prefix(src);
    let entries = tar::entries(&c.stdout).map_err(CmdError::msg)?;
    for e in entries {
        let Some(rest) = e.name.strip_prefix(prefix.as_str()) else {
            return Err(CmdError::msg("tar contents corrupted"));
        };
        let rel = clean(rest.trim_start_matches('/'));
        if rel.starts_with("..") {
            eprintln!(
                "warning: file {:?} is outside target destination, skipping",
                dest.join(&rel).display().to_string()
            );
            continue;
        }
        let target: PathBuf = if rel == "." {
            dest.to_path_buf()
        } else {
            dest.join(&rel)
        };
        if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| CmdError::msg(e.to_string()))?;
        }
        match e.kind {
            b'5' => std::fs::create_dir_all(&target).map_err(|e| CmdError::msg(e.to_string()))?,
            b'2' => eprintln!(
                "warning: skipping symlink: {:?} -> {:?}",
                target.display().to_string(),
                e.link
            ),
            _ => std::fs::write(&target, &e.data).map_err(|err| CmdError::msg(err.to_string()))?,
        }
    }
    Ok(0)
}
