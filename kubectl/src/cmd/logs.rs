//! `kubectl logs`: a container's log from the pod's `log` subresource (which the API server
//! proxies to the kubelet), streamed to stdout as it arrives; `-l` reads several pods, in
//! turn or (with `-f`) at once, optionally prefixing each line with its source.

use super::Session;
use super::pods;
use crate::Output;
use crate::cli::GlobalArgs;
use crate::error::CmdError;
use crate::http::{self, ACCEPT_JSON};
use clap::Args;
use http_body_util::BodyExt;
use serde_json::Value;
use std::io::Write;

#[derive(Args, Debug)]
pub struct LogsArgs {
    pub args: Vec<String>,
    /// Print the logs of this container
    #[arg(short = 'c', long)]
    pub container: Option<String>,
    /// Specify if the logs should be streamed.
    #[arg(short = 'f', long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub follow: Option<bool>,
    /// If true, print the logs for the previous instance of the container in a pod if it exists.
    #[arg(short = 'p', long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub previous: Option<bool>,
    /// Lines of recent log file to display.
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    pub tail: i64,
    /// Only return logs newer than a relative duration like 5s, 2m, or 3h.
    #[arg(long)]
    pub since: Option<String>,
    /// Only return logs after a specific date (RFC3339).
    #[arg(long = "since-time")]
    pub since_time: Option<String>,
    /// Include timestamps on each line in the log output
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub timestamps: Option<bool>,
    /// Maximum bytes of logs to return.
    #[arg(long = "limit-bytes", default_value_t = 0, allow_negative_numbers = true)]
    pub limit_bytes: i64,
    /// Selector (label query) to filter on.
    #[arg(short = 'l', long)]
    pub selector: Option<String>,
    /// Maximum number of concurrent logs to follow when using by a selector.
    #[arg(long = "max-log-requests", default_value_t = 5)]
    pub max_log_requests: usize,
    /// Prefix each log line with the log source (pod name and container name)
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub prefix: Option<bool>,
    /// Get all containers' logs in the pod(s).
    #[arg(long = "all-containers", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub all_containers: Option<bool>,
    /// Suppress informational messages.
    #[arg(short = 'q', long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub quiet: Option<bool>,
    /// If watching / following pod logs, allow for any errors that occur to be non-fatal
    #[arg(long = "ignore-errors", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub ignore_errors: Option<bool>,
    /// The length of time to wait until at least one pod is running
    #[arg(long = "pod-running-timeout")]
    pub pod_running_timeout: Option<String>,
}

const USAGE: &str = "error: expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'.
POD or TYPE/NAME is a required argument for the logs command
See 'kubectl logs -h' for help and examples";

/// One log to read: the pod, the container, the request path.
struct Request {
    pod: String,
    container: String,
    path: String,
}

pub async fn run(g: &GlobalArgs, a: LogsArgs, _out: &mut Output) -> Result<i32, CmdError> {
    if a.args.is_empty() && a.selector.is_none() {
        return Err(CmdError::Raw(USAGE.into()));
    }
    if a.args.len() > 2 {
        return Err(CmdError::Raw(USAGE.into()));
    }
    if a.limit_bytes < 0 {
        return Err(CmdError::msg("--limit-bytes must be greater than 0"));
    }
    if a.tail < -1 {
        return Err(CmdError::msg("--tail must be greater than or equal to -1"));
    }
    let since_seconds = match &a.since {
        Some(d) => {
            let d = api_types::duration::parse(d)
                .map_err(|e| CmdError::msg(format!("invalid argument {d:?} for \"--since\" flag: {e}")))?;
            Some(d.as_secs() + u64::from(d.subsec_nanos() > 0))
        }
        None => None,
    };
    if since_seconds.is_some() && a.since_time.is_some() {
        return Err(CmdError::msg(
            "at most one of `sinceTime` or `sinceSeconds` may be specified",
        ));
    }
    if let Some(t) = &a.since_time
        && t.parse::<jiff::Timestamp>().is_err()
    {
        return Err(CmdError::msg(format!(
            "parsing time {t:?} as \"2006-01-02T15:04:05Z07:00\": cannot parse {t:?} as \"2006\""
        )));
    }
    let follow = a.follow == Some(true);
    let all_containers = a.all_containers == Some(true);
    let mut s = Session::open(g, "kubectl logs").await?;
    let ns = s.conn.namespace.clone();
    let tail = if a.selector.is_some() && a.tail == -1 {
        10
    } else {
        a.tail
    };
    let mut query = form_urlencoded::Serializer::new(String::new());
    if follow {
        query.append_pair("follow", "true");
    }
    if a.previous == Some(true) {
        query.append_pair("previous", "true");
    }
    if let Some(n) = since_seconds {
        query.append_pair("sinceSeconds", &n.to_string());
    }
    if let Some(t) = &a.since_time {
        query.append_pair("sinceTime", t);
    }
    if a.timestamps == Some(true) {
        query.append_pair("timestamps", "true");
    }
    if tail >= 0 {
        query.append_pair("tailLines", &tail.to_string());
    }
    if a.limit_bytes > 0 {
        query.append_pair("limitBytes", &a.limit_bytes.to_string());
    }
    let query = query.finish();

    let targets: Vec<Value> = match &a.selector {
        Some(l) => {
            if !a.args.is_empty() {
                return Err(CmdError::msg("only one of -l or a resource name may be specified"));
            }
            let q = form_urlencoded::Serializer::new(String::new())
                .append_pair("labelSelector", l)
                .finish();
            let reply = http::get(s.client(), &format!("/api/v1/namespaces/{ns}/pods?{q}"), ACCEPT_JSON).await?;
            let list: Value = serde_json::from_slice(&reply.body).map_err(|e| CmdError::msg(e.to_string()))?;
            let items = list["items"].as_array().cloned().unwrap_or_default();
            if items.is_empty() {
                eprintln!("No resources found in {ns} namespace.");
                return Ok(0);
            }
            items
        }
        None => {
            // Upstream resolves the argument with the resource builder, hence this wording.
            match pods::attachable_pod(&mut s, &ns, &a.args[0]).await {
                Err(CmdError::Server { reason, message }) if reason == "NotFound" => {
                    return Err(CmdError::msg(format!(
                        "error from server (NotFound): {message} in namespace {ns:?}"
                    )));
                }
                other => vec![other?],
            }
        }
    };
    // `kubectl logs POD CONTAINER` is the old form of `-c`.
    let container_flag = a.container.clone().or_else(|| a.args.get(1).cloned());
    let mut requests = Vec::new();
    for pod in &targets {
        let name = pod["metadata"]["name"].as_str().unwrap_or_default().to_string();
        let containers = if all_containers {
            pods::all_containers(pod)
        } else {
            vec![pods::container(
                pod,
                container_flag.as_deref(),
                a.quiet == Some(true),
                Some(|c, p| format!("container {c} is not valid for pod {p}")),
            )?]
        };
        for c in containers {
            let mut q = form_urlencoded::Serializer::new(String::new());
            q.append_pair("container", &c);
            let mut q = q.finish();
            if !query.is_empty() {
                q = format!("{q}&{query}");
            }
            requests.push(Request {
                path: format!("/api/v1/namespaces/{ns}/pods/{name}/log?{q}"),
                pod: name.clone(),
                container: c,
            });
        }
    }
    if follow && requests.len() > a.max_log_requests {
        return Err(CmdError::msg(format!(
            "you are attempting to follow {} log streams, but maximum allowed concurrency is {}, use --max-log-requests to increase the limit",
            requests.len(),
            a.max_log_requests
        )));
    }
    let prefix = a.prefix == Some(true);
    let ignore_errors = a.ignore_errors == Some(true);
    if follow && requests.len() > 1 {
        let streams = requests.iter().map(|r| copy(&s, r, prefix));
        let results = futures::future::join_all(streams).await;
        for r in results {
            if let Err(e) = r
                && !ignore_errors
            {
                return Err(e);
            }
        }
    } else {
        for r in &requests {
            copy(&s, r, prefix).await?;
        }
    }
    Ok(0)
}

/// Streams one log to stdout, line by line when prefixing so lines of streams read at the
/// same time do not mix.
async fn copy(s: &Session, r: &Request, prefix: bool) -> Result<(), CmdError> {
    let mut body = http::get_stream(s.client(), &r.path, "application/json, */*").await?;
    let tag = format!("[pod/{}/{}] ", r.pod, r.container);
    let mut partial: Vec<u8> = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| CmdError::msg(e.to_string()))?;
        let Ok(data) = frame.into_data() else { continue };
        let mut stdout = std::io::stdout().lock();
        if !prefix {
            let _ = stdout.write_all(&data);
        } else {
            partial.extend_from_slice(&data);
            while let Some(i) = partial.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = partial.drain(..=i).collect();
                let _ = stdout.write_all(tag.as_bytes());
                let _ = stdout.write_all(&line);
            }
        }
        let _ = stdout.flush();
    }
    if !partial.is_empty() {
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(tag.as_bytes());
        let _ = stdout.write_all(&partial);
        let _ = stdout.flush();
    }
    Ok(())
}
