//! `kubectl exec` and `kubectl attach`: a process in a container (a new command, or the
//! container's main process) with our stdin, stdout and stderr joined to it over the
//! websocket stream protocol (kube-rs), through the API server and the kubelet. The remote
//! command's exit code becomes ours, as upstream's `command terminated with exit code N`.

use super::Session;
use super::pods;
use crate::Output;
use crate::cli::GlobalArgs;
use crate::error::CmdError;
use clap::Args;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Status;
use kube::api::{AttachParams, AttachedProcess};
use std::io::IsTerminal;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Args, Debug)]
pub struct ExecArgs {
    /// The pod (or TYPE/NAME), then `--` and the command.
    pub args: Vec<String>,
    #[command(flatten)]
    pub streams: StreamFlags,
}

/// The flags exec and attach share.
#[derive(Args, Debug)]
pub struct StreamFlags {
    /// Container name. If omitted, use the kubectl.kubernetes.io/default-container annotation
    /// for selecting the container to be attached or the first container in the pod.
    #[arg(short = 'c', long)]
    pub container: Option<String>,
    /// Pass stdin to the container
    #[arg(short = 'i', long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub stdin: Option<bool>,
    /// Stdin is a TTY
    #[arg(short = 't', long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub tty: Option<bool>,
    /// Only print output from the remote session
    #[arg(short = 'q', long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub quiet: Option<bool>,
    /// The length of time to wait until at least one pod is running
    #[arg(long = "pod-running-timeout")]
    pub pod_running_timeout: Option<String>,
}

impl StreamFlags {
    fn quiet(&self) -> bool {
        self.quiet == Some(true)
    }

    /// The streams to open into `pod`: its chosen container, stdin when asked for, and a TTY
    /// (instead of stderr) when one makes sense.
    fn params(&self, pod: &serde_json::Value) -> Result<AttachParams, CmdError> {
        let container = pods::container(pod, self.container.as_deref(), self.quiet(), None)?;
        let stdin = self.stdin == Some(true);
        let tty = tty_wanted(self.tty == Some(true), stdin, self.quiet());
        Ok(AttachParams::default()
            .container(container)
            .stdin(stdin)
            .stdout(true)
            .stderr(!tty)
            .tty(tty))
    }
}

pub async fn exec(g: &GlobalArgs, a: ExecArgs, _out: &mut Output) -> Result<i32, CmdError> {
    // The pod, then the command (after `--`, which clap takes away).
    let Some((target, command)) = a.args.split_first() else {
        return Err(CmdError::msg("pod, type/name or --filename must be specified"));
    };
    if command.is_empty() {
        return Err(CmdError::msg("you must specify at least one command for the container"));
    }
    let mut s = Session::open(g, "kubectl exec").await?;
    let ns = s.conn.namespace.clone();
    let pod = pods::attachable_pod(&mut s, &ns, target).await?;
    check_phase(&pod, "exec into")?;
    let params = a.streams.params(&pod)?;
    let api: kube::Api<Pod> = kube::Api::namespaced(s.client().clone(), &ns);
    let name = pod["metadata"]["name"].as_str().unwrap_or_default();
    let process = match api.exec(name, command.to_vec(), &params).await {
        Ok(p) => p,
        Err(e) => return Err(spdy_retry(&s, &ns, name, "exec", &stream_query(&params, command), e).await),
    };
    relay(process, params.stdin).await
}

#[derive(Args, Debug)]
pub struct AttachArgs {
    /// The pod (or TYPE/NAME).
    pub args: Vec<String>,
    #[command(flatten)]
    pub streams: StreamFlags,
}

pub async fn attach(g: &GlobalArgs, a: AttachArgs, _out: &mut Output) -> Result<i32, CmdError> {
    let [target] = a.args.as_slice() else {
        return Err(CmdError::Raw(
            "error: expected POD, TYPE/NAME, or TYPE NAME, (at most 2 arguments) saw 0: []\nSee 'kubectl attach -h' for help and examples".into(),
        ));
    };
    let mut s = Session::open(g, "kubectl attach").await?;
    let ns = s.conn.namespace.clone();
    let pod = pods::attachable_pod(&mut s, &ns, target).await?;
    check_phase(&pod, "attach to")?;
    let params = a.streams.params(&pod)?;
    if !a.streams.quiet() {
        eprintln!("If you don't see a command prompt, try pressing enter.");
    }
    let api: kube::Api<Pod> = kube::Api::namespaced(s.client().clone(), &ns);
    let name = pod["metadata"]["name"].as_str().unwrap_or_default();
    let process = match api.attach(name, &params).await {
        Ok(p) => p,
        Err(e) => return Err(spdy_retry(&s, &ns, name, "attach", &stream_query(&params, &[]), e).await),
    };
    relay(process, params.stdin).await
}

/// The query of an exec or attach request.
fn stream_query(p: &AttachParams, command: &[String]) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (key, on) in [
        ("stdin", p.stdin),
        ("stdout", p.stdout),
        ("stderr", p.stderr),
        ("tty", p.tty),
    ] {
        if on {
            q.append_pair(key, "true");
        }
    }
    if let Some(c) = &p.container {
        q.append_pair("container", c);
    }
    for c in command {
        q.append_pair("command", c);
    }
    q.finish()
}

/// After a refused websocket upgrade upstream kubectl retries the request over SPDY (a
/// POST, authorized as `create`) and reports that answer. We speak no SPDY, but send the
/// same upgrade request so that a refusal reads as upstream's; a server that would accept
/// it is told no and the websocket's error stands.
pub async fn spdy_retry(s: &Session, ns: &str, pod: &str, sub: &str, query: &str, ws_error: kube::Error) -> CmdError {
    if !matches!(ws_error, kube::Error::Api(_)) {
        return CmdError::from_kube(ws_error);
    }
    let path = format!("/api/v1/namespaces/{ns}/pods/{pod}/{sub}?{query}");
    let req = http::Request::post(path)
        .header(http::header::CONNECTION, "Upgrade")
        .header(http::header::UPGRADE, "SPDY/3.1")
        .header("X-Stream-Protocol-Version", "v4.channel.k8s.io")
        .body(kube::client::Body::from(Vec::new()));
    let Ok(req) = req else {
        return CmdError::from_kube(ws_error);
    };
    match s.client().send(req).await {
        Ok(res) if res.status() != http::StatusCode::SWITCHING_PROTOCOLS => {
            let code = res.status().as_u16();
            match http_body_util::BodyExt::collect(res.into_body()).await {
                Ok(body) => CmdError::from_response(code, &body.to_bytes()),
                Err(_) => CmdError::from_kube(ws_error),
            }
        }
        _ => CmdError::from_kube(ws_error),
    }
}

fn check_phase(pod: &serde_json::Value, what: &str) -> Result<(), CmdError> {
    match pod["status"]["phase"].as_str() {
        Some(phase @ ("Succeeded" | "Failed")) => Err(CmdError::msg(format!(
            "cannot {what} a container in a completed pod; current phase is {phase}"
        ))),
        _ => Ok(()),
    }
}

/// `-t` only with a terminal on stdin, as upstream: otherwise it says so and goes on without.
fn tty_wanted(tty: bool, stdin: bool, quiet: bool) -> bool {
    if !tty {
        return false;
    }
    if !stdin {
        if !quiet {
            eprintln!("Unable to use a TTY - input is not a terminal or the right kind of file");
        }
        return false;
    }
    if !std::io::stdin().is_terminal() {
        if !quiet {
            eprintln!("Unable to use a TTY - input is not a terminal or the right kind of file");
        }
        return false;
    }
    true
}

/// Copies our stdin to the process and its output to ours until it ends; its exit code.
async fn relay(mut process: AttachedProcess, stdin: bool) -> Result<i32, CmdError> {
    if stdin && let Some(mut remote) = process.stdin() {
        tokio::spawn(async move {
            let mut local = tokio::io::stdin();
            let mut buf = vec![0u8; 32 * 1024];
            while let Ok(n) = local.read(&mut buf).await {
                if n == 0 || remote.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
            // End of our input closes the remote stdin.
            let _ = remote.shutdown().await;
        });
    }
    let out = process.stdout().map(|r| tokio::spawn(copy_out(r, false)));
    let err = process.stderr().map(|r| tokio::spawn(copy_out(r, true)));
    let status = process.take_status();
    if let Some(h) = out {
        let _ = h.await;
    }
    if let Some(h) = err {
        let _ = h.await;
    }
    let status = match status {
        Some(s) => s.await,
        None => None,
    };
    let _ = process.join().await;
    let code = exit_code(status)?;
    if code != 0 {
        eprintln!("command terminated with exit code {code}");
    }
    Ok(code)
}

/// The remote command's exit code from the Status the kubelet sent last; an error for a
/// failure other than a non-zero exit.
fn exit_code(status: Option<Status>) -> Result<i32, CmdError> {
    let Some(status) = status else {
        return Ok(0);
    };
    if status.status.as_deref() == Some("Success") {
        return Ok(0);
    }
    if status.reason.as_deref() == Some("NonZeroExitCode") {
        let code = status
            .details
            .as_ref()
            .and_then(|d| d.causes.as_ref())
            .into_iter()
            .flatten()
            .find(|c| c.reason.as_deref() == Some("ExitCode"))
            .and_then(|c| c.message.as_deref())
            .and_then(|m| m.parse::<i32>().ok());
        if let Some(code) = code {
            return Ok(code);
        }
    }
    Err(CmdError::msg(status.message.unwrap_or_default()))
}

/// What a command run with `run_captured` left: its output and exit code.
pub struct Captured {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub code: i32,
}

/// Runs `command` in a container with `input` (if any) as its whole stdin and collects its
/// output, for verbs built on exec (`cp`).
pub async fn run_captured(
    s: &Session,
    ns: &str,
    pod: &str,
    container: &str,
    command: Vec<String>,
    input: Option<Vec<u8>>,
) -> Result<Captured, CmdError> {
    let params = AttachParams::default()
        .container(container)
        .stdin(input.is_some())
        .stdout(true)
        .stderr(true);
    let api: kube::Api<Pod> = kube::Api::namespaced(s.client().clone(), ns);
    let mut process = match api.exec(pod, command.clone(), &params).await {
        Ok(p) => p,
        Err(e) => return Err(spdy_retry(s, ns, pod, "exec", &stream_query(&params, &command), e).await),
    };
    if let (Some(input), Some(mut remote)) = (input, process.stdin()) {
        tokio::spawn(async move {
            let _ = remote.write_all(&input).await;
            let _ = remote.shutdown().await;
        });
    }
    let read_all = |r: Option<tokio::io::ReadHalf<tokio::io::SimplexStream>>| async move {
        let mut buf = Vec::new();
        if let Some(mut r) = r {
            let _ = r.read_to_end(&mut buf).await;
        }
        buf
    };
    let (out, err) = (process.stdout(), process.stderr());
    let status = process.take_status();
    let (stdout, stderr) = tokio::join!(read_all(out), read_all(err));
    let status = match status {
        Some(s) => s.await,
        None => None,
    };
    let _ = process.join().await;
    Ok(Captured {
        stdout,
        stderr,
        code: exit_code(status)?,
    })
}

async fn copy_out(mut r: impl tokio::io::AsyncRead + Unpin, stderr: bool) {
    use std::io::Write;
    let mut buf = vec![0u8; 32 * 1024];
    while let Ok(n) = r.read(&mut buf).await {
        if n == 0 {
            break;
        }
        if stderr {
            let mut e = std::io::stderr().lock();
            let _ = e.write_all(&buf[..n]);
            let _ = e.flush();
        } else {
            let mut o = std::io::stdout().lock();
            let _ = o.write_all(&buf[..n]);
            let _ = o.flush();
        }
    }
}
