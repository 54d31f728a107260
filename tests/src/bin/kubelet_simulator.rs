//! kubelet-simulator: the streaming side of a kubelet, for testing `kubectl logs`, `exec`,
//! `attach`, `cp` and `port-forward` through kube-apiserver without containers. It registers
//! its Node (InternalIP 127.0.0.1, the daemon endpoint port) and serves the kubelet's paths
//! over TLS, accepting only clients with a certificate from `--client-ca-file`:
//! - `/healthz`: `ok` (for `nodes/<name>/proxy`);
//! - `/containerLogs/{ns}/{pod}/{container}`: the file `<log-dir>/<ns>_<pod>_<container>.log`
//!   (`--previous`: `<ns>_<pod>_<container>.previous.log`), with follow, tailLines, limitBytes
//!   and timestamps (the time a line is served: the files carry none);
//! - `/exec/...`: runs the command as a local process over the websocket stream protocol
//!   (`v5.channel.k8s.io`, `v4.channel.k8s.io`), ending with the kubelet's Status on channel 3;
//! - `/attach/...`: the container's "main process" echoes its input: stdin is appended to the
//!   log file and stdout follows the log file;
//! - `/portForward/{ns}/{pod}`: websocket port forwarding to 127.0.0.1:<port> (a data and an
//!   error channel per port, each opened with the port as 2 bytes little-endian).

use bytes::Bytes;
use clap::Parser;
use futures::{SinkExt, StreamExt};
use http::{Request, Response, StatusCode, header};
use http_body_util::{BodyExt, StreamBody, combinators::BoxBody};
use hyper::body::Frame;
use hyper_util::rt::TokioIo;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::Role;

#[derive(Parser, Clone)]
#[command(
    name = "kubelet-simulator",
    about = "The streaming endpoints of a kubelet, over local processes and files"
)]
struct Args {
    /// Kubeconfig used to register the Node.
    #[arg(long)]
    kubeconfig: PathBuf,
    /// The Node this kubelet registers.
    #[arg(long)]
    hostname_override: String,
    /// The port the kubelet serves on.
    #[arg(long, default_value_t = 10250)]
    port: u16,
    #[arg(long)]
    tls_cert_file: PathBuf,
    #[arg(long)]
    tls_private_key_file: PathBuf,
    /// Clients must present a certificate signed by this CA.
    #[arg(long)]
    client_ca_file: PathBuf,
    /// Directory of `<ns>_<pod>_<container>.log` files.
    #[arg(long)]
    log_dir: PathBuf,
}

type Body = BoxBody<Bytes, std::io::Error>;

const FOLLOW_POLL: Duration = Duration::from_millis(100);
const EXEC_PROTOCOLS: &[&str] = &["v5.channel.k8s.io", "v4.channel.k8s.io"];
const PORTFORWARD_PROTOCOLS: &[&str] = &["v4.channel.k8s.io"];
/// The v5 protocol's channel for closing one stream (payload: the stream's channel).
const CLOSE_CHANNEL: u8 = 255;

fn full(b: impl Into<Bytes>) -> Body {
    http_body_util::Full::new(b.into())
        .map_err(|never| match never {})
        .boxed()
}

fn text(code: StatusCode, message: &str) -> Response<Body> {
    let mut r = Response::new(full(message.to_string()));
    *r.status_mut() = code;
    r
}

struct Query(Vec<(String, String)>);

impl Query {
    fn parse(q: Option<&str>) -> Query {
        Query(
            form_urlencoded::parse(q.unwrap_or_default().as_bytes())
                .into_owned()
                .collect(),
        )
    }
    fn get(&self, k: &str) -> Option<&str> {
        self.0.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str())
    }
    fn all(&self, k: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .collect()
    }
    fn flag(&self, k: &str) -> bool {
        matches!(self.get(k), Some("1" | "true" | "True" | "TRUE" | "t" | "T"))
    }
}

struct Server {
    args: Args,
}

impl Server {
    fn log_file(&self, ns: &str, pod: &str, container: &str, previous: bool) -> PathBuf {
        let suffix = if previous { ".previous.log" } else { ".log" };
        self.args.log_dir.join(format!("{ns}_{pod}_{container}{suffix}"))
    }

    async fn handle(self: Arc<Self>, req: Request<hyper::body::Incoming>) -> Response<Body> {
        let path = req.uri().path().to_string();
        let query = Query::parse(req.uri().query());
        eprintln!("{} {}", req.method(), req.uri());
        let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        match segs.as_slice() {
            ["healthz"] => text(StatusCode::OK, "ok"),
            ["containerLogs", ns, pod, container] => self.logs(ns, pod, container, &query).await,
            ["exec", ns, pod, container] => {
                let command = query.all("command");
                if command.is_empty() {
                    return text(StatusCode::BAD_REQUEST, "you must specify at least 1 command");
                }
                let _ = (ns, pod, container);
                websocket(req, EXEC_PROTOCOLS, move |ws, v5| exec(ws, v5, command, query))
            }
            ["attach", ns, pod, container] => {
                let file = self.log_file(ns, pod, container, false);
                websocket(req, EXEC_PROTOCOLS, move |ws, v5| attach(ws, v5, file, query))
            }
            ["portForward", ns, pod] => {
                let mut ports = Vec::new();
                for list in query.all("ports") {
                    for p in list.split(',') {
                        match p.parse::<u16>() {
                            Ok(p) if p > 0 => ports.push(p),
                            _ => return text(StatusCode::BAD_REQUEST, &format!("unable to parse {list:?} as a port")),
                        }
                    }
                }
                if ports.is_empty() {
                    return text(StatusCode::BAD_REQUEST, "query parameter \"port\" is required");
                }
                let pod = format!("{pod}_{ns}");
                websocket(req, PORTFORWARD_PROTOCOLS, move |ws, _| port_forward(ws, pod, ports))
            }
            _ => text(StatusCode::NOT_FOUND, "404 page not found"),
        }
    }

    async fn logs(&self, ns: &str, pod: &str, container: &str, q: &Query) -> Response<Body> {
        let previous = q.flag("previous");
        let file = self.log_file(ns, pod, container, previous);
        let Ok(content) = tokio::fs::read(&file).await else {
            let msg = if previous {
                format!("previous terminated container {container:?} in pod {pod:?} not found")
            } else {
                format!("container {container:?} in pod {pod:?} is not available")
            };
            return text(StatusCode::BAD_REQUEST, &msg);
        };
        let mut start = 0;
        if let Some(n) = q.get("tailLines").and_then(|n| n.parse::<usize>().ok()) {
            start = tail_start(&content, n);
        }
        let limit = q.get("limitBytes").and_then(|n| n.parse::<usize>().ok());
        let timestamps = q.flag("timestamps");
        let follow = q.flag("follow");
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, std::io::Error>>(16);
        tokio::spawn(async move {
            let mut sent = 0usize;
            let mut offset = content.len();
            let mut pending = content[start..].to_vec();
            loop {
                if !pending.is_empty() {
                    let mut chunk = if timestamps { stamp(&pending) } else { pending.clone() };
                    if let Some(limit) = limit {
                        chunk.truncate(limit.saturating_sub(sent));
                    }
                    sent += chunk.len();
                    if !chunk.is_empty() && tx.send(Ok(Frame::data(Bytes::from(chunk)))).await.is_err() {
                        return;
                    }
                }
                if !follow || limit.is_some_and(|l| sent >= l) {
                    return;
                }
                // Follow: wait for whole new lines appended to the file.
                loop {
                    tokio::time::sleep(FOLLOW_POLL).await;
                    if tx.is_closed() {
                        return;
                    }
                    let Ok(now) = tokio::fs::read(&file).await else { return };
                    if now.len() < offset {
                        offset = 0;
                    }
                    if let Some(end) = now[offset..].iter().rposition(|b| *b == b'\n') {
                        pending = now[offset..offset + end + 1].to_vec();
                        offset += end + 1;
                        break;
                    }
                }
            }
        });
        let body = StreamBody::new(tokio_stream(rx));
        let mut r = Response::new(BodyExt::boxed(body));
        r.headers_mut()
            .insert(header::CONTENT_TYPE, http::HeaderValue::from_static("text/plain"));
        r
    }
}

fn tokio_stream<T: Send + 'static>(
    mut rx: tokio::sync::mpsc::Receiver<T>,
) -> impl futures::Stream<Item = T> + Send + 'static {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

/// Where the last `n` lines of `content` start.
fn tail_start(content: &[u8], n: usize) -> usize {
    if n == 0 {
        return content.len();
    }
    let body = content.strip_suffix(b"\n").unwrap_or(content);
    let mut seen = 0;
    for (i, b) in body.iter().enumerate().rev() {
        if *b == b'\n' {
            seen += 1;
            if seen == n {
                return i + 1;
            }
        }
    }
    0
}

/// Each line prefixed with the time it is served, RFC 3339 with nanoseconds as the kubelet.
fn stamp(lines: &[u8]) -> Vec<u8> {
    let now = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%S.%fZ").to_string();
    let mut out = Vec::new();
    for line in lines.split_inclusive(|b| *b == b'\n') {
        out.extend_from_slice(now.as_bytes());
        out.push(b' ');
        out.extend_from_slice(line);
    }
    out
}

/// Answers a websocket upgrade with the first protocol the client offers that we speak, then
/// runs `serve` on the connection; `serve` learns whether the protocol is v5.
fn websocket<F, Fut>(
    mut req: Request<hyper::body::Incoming>,
    supported: &'static [&'static str],
    serve: F,
) -> Response<Body>
where
    F: FnOnce(WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>, bool) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let Some(key) = req.headers().get(header::SEC_WEBSOCKET_KEY).cloned() else {
        return text(StatusCode::BAD_REQUEST, "a websocket upgrade is required");
    };
    let offered: Vec<String> = req
        .headers()
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(',').map(|p| p.trim().to_string()))
        .collect();
    let protocol = offered.iter().find(|p| supported.contains(&p.as_str())).cloned();
    if protocol.is_none() && !offered.is_empty() {
        return text(
            StatusCode::BAD_REQUEST,
            &format!("unable to upgrade: no supported protocol among {offered:?}"),
        );
    }
    let v5 = protocol.as_deref() == Some("v5.channel.k8s.io");
    let on_upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => {
                let ws = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
                serve(ws, v5).await;
            }
            Err(e) => eprintln!("upgrade failed: {e}"),
        }
    });
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
    let mut r = Response::new(full(Bytes::new()));
    *r.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = r.headers_mut();
    h.insert(header::CONNECTION, http::HeaderValue::from_static("Upgrade"));
    h.insert(header::UPGRADE, http::HeaderValue::from_static("websocket"));
    if let Ok(v) = accept.parse() {
        h.insert(header::SEC_WEBSOCKET_ACCEPT, v);
    }
    if let Some(p) = protocol.and_then(|p| p.parse().ok()) {
        h.insert(header::SEC_WEBSOCKET_PROTOCOL, p);
    }
    r
}

fn frame(channel: u8, data: &[u8]) -> Message {
    let mut v = Vec::with_capacity(data.len() + 1);
    v.push(channel);
    v.extend_from_slice(data);
    Message::binary(v)
}

type Outgoing = tokio::sync::mpsc::Sender<Message>;

/// Copies a reader into `channel` frames until it ends.
async fn pump(mut r: impl tokio::io::AsyncRead + Unpin, channel: u8, out: Outgoing) {
    let mut buf = vec![0u8; 32 * 1024];
    while let Ok(n) = r.read(&mut buf).await {
        if n == 0 || out.send(frame(channel, &buf[..n])).await.is_err() {
            break;
        }
    }
}

/// The Status the kubelet reports when a command ends.
fn exit_status(code: Option<i32>, command: &[String]) -> Value {
    match code {
        Some(0) => json!({"metadata": {}, "status": "Success"}),
        Some(rc) => json!({
            "metadata": {},
            "status": "Failure",
            "message": format!("command terminated with non-zero exit code: error executing command [{}], exit code {rc}", command.join(" ")),
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": rc.to_string()}]}
        }),
        None => json!({
            "metadata": {},
            "status": "Failure",
            "message": "error executing command in container: the process was killed by a signal",
            "reason": "InternalError",
            "code": 500
        }),
    }
}

/// Splits a websocket into a sender task fed by a channel and the incoming message stream.
fn split(
    ws: WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>,
) -> (
    Outgoing,
    futures::stream::SplitStream<WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>>,
    tokio::task::JoinHandle<()>,
) {
    let (mut sink, stream) = ws.split();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Message>(64);
    let writer = tokio::spawn(async move {
        while let Some(m) = rx.recv().await {
            if sink.send(m).await.is_err() {
                return;
            }
        }
        // A normal closure: clients treat a close without a code as an error.
        let close = tokio_tungstenite::tungstenite::protocol::CloseFrame {
            code: tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode::Normal,
            reason: "".into(),
        };
        let _ = sink.send(Message::Close(Some(close))).await;
        let _ = sink.close().await;
    });
    (tx, stream, writer)
}

async fn exec(ws: WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>, v5: bool, command: Vec<String>, q: Query) {
    let (tx, mut incoming, writer) = split(ws);
    let mut cmd = tokio::process::Command::new(&command[0]);
    cmd.args(&command[1..])
        .stdin(if q.flag("stdin") {
            std::process::Stdio::piped()
        } else {
            std::process::Stdio::null()
        })
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            // The runtime's message for a missing executable, as the kubelet reports it.
            let status = json!({"metadata": {}, "status": "Failure", "reason": "InternalError", "code": 500,
                "message": format!("Internal error occurred: error executing command in container: failed to exec in container: exec: {:?}: {e}", command[0])});
            let _ = tx.send(frame(3, status.to_string().as_bytes())).await;
            drop(tx);
            let _ = writer.await;
            return;
        }
    };
    let mut stdin = child.stdin.take();
    let out = tokio::spawn(pump(child.stdout.take().expect("stdout"), 1, tx.clone()));
    let err = tokio::spawn(pump(child.stderr.take().expect("stderr"), 2, tx.clone()));
    let reader = tokio::spawn(async move {
        while let Some(Ok(msg)) = incoming.next().await {
            let Message::Binary(data) = msg else {
                if matches!(msg, Message::Close(_)) {
                    break;
                }
                continue;
            };
            match data.first() {
                Some(0) => {
                    if let Some(s) = stdin.as_mut()
                        && s.write_all(&data[1..]).await.is_err()
                    {
                        stdin = None;
                    }
                }
                Some(&CLOSE_CHANNEL) if v5 && data.get(1) == Some(&0) => stdin = None,
                _ => {}
            }
        }
    });
    let code = child.wait().await.ok().and_then(|s| s.code());
    let _ = out.await;
    let _ = err.await;
    let _ = tx
        .send(frame(3, exit_status(code, &command).to_string().as_bytes()))
        .await;
    drop(tx);
    reader.abort();
    let _ = writer.await;
}

async fn attach(ws: WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>, v5: bool, file: PathBuf, q: Query) {
    let (tx, mut incoming, writer) = split(ws);
    let start = tokio::fs::metadata(&file).await.map(|m| m.len()).unwrap_or(0);
    let follow_tx = tx.clone();
    let follow_file = file.clone();
    let stdout = q.flag("stdout");
    let follower = tokio::spawn(async move {
        let mut offset = start as usize;
        loop {
            tokio::time::sleep(FOLLOW_POLL).await;
            let Ok(now) = tokio::fs::read(&follow_file).await else {
                continue;
            };
            if now.len() > offset {
                if stdout && follow_tx.send(frame(1, &now[offset..])).await.is_err() {
                    return;
                }
                offset = now.len();
            }
        }
    });
    let stdin_open = q.flag("stdin");
    while let Some(Ok(msg)) = incoming.next().await {
        match msg {
            Message::Binary(data) => match data.first() {
                Some(0) if stdin_open => {
                    if let Ok(mut f) = tokio::fs::OpenOptions::new()
                        .append(true)
                        .create(true)
                        .open(&file)
                        .await
                    {
                        let _ = f.write_all(&data[1..]).await;
                    }
                }
                Some(&CLOSE_CHANNEL) if v5 => break,
                _ => {}
            },
            Message::Close(_) => break,
            _ => {}
        }
    }
    // Let the follower deliver what the input produced before the stream ends.
    tokio::time::sleep(FOLLOW_POLL * 3).await;
    follower.abort();
    let _ = tx
        .send(frame(3, exit_status(Some(0), &[]).to_string().as_bytes()))
        .await;
    drop(tx);
    let _ = writer.await;
}

async fn port_forward(ws: WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>, pod: String, ports: Vec<u16>) {
    let (tx, mut incoming, writer) = split(ws);
    let mut conns = Vec::new();
    for (i, port) in ports.iter().enumerate() {
        let (data, error) = (2 * i as u8, 2 * i as u8 + 1);
        let _ = tx.send(frame(data, &port.to_le_bytes())).await;
        let _ = tx.send(frame(error, &port.to_le_bytes())).await;
        match tokio::net::TcpStream::connect(("127.0.0.1", *port)).await {
            Ok(tcp) => {
                let (r, w) = tcp.into_split();
                tokio::spawn(pump(r, data, tx.clone()));
                conns.push(Some(w));
            }
            Err(e) => {
                let msg = format!(
                    "error forwarding port {port} to pod {pod}, uid : failed to connect to localhost:{port} inside namespace {pod}, IPv4: dial tcp4 127.0.0.1:{port}: {e}"
                );
                let _ = tx.send(frame(error, msg.as_bytes())).await;
                conns.push(None);
            }
        }
    }
    drop(tx);
    let writer_done = writer;
    let reader = async {
        while let Some(Ok(msg)) = incoming.next().await {
            match msg {
                Message::Binary(data) if !data.is_empty() => {
                    let ch = data[0] as usize;
                    if ch.is_multiple_of(2)
                        && let Some(Some(w)) = conns.get_mut(ch / 2)
                        && w.write_all(&data[1..]).await.is_err()
                    {
                        conns[ch / 2] = None;
                    }
                }
                Message::Close(_) => break,
                _ => {}
            }
        }
    };
    // The stream ends when the client closes it or every forwarded connection has ended.
    tokio::select! {
        _ = reader => {}
        _ = writer_done => {}
    }
}

fn load_tls(args: &Args) -> anyhow::Result<rustls::ServerConfig> {
    let chain = CertificateDer::pem_file_iter(&args.tls_cert_file)?.collect::<Result<Vec<_>, _>>()?;
    let key = PrivateKeyDer::from_pem_file(&args.tls_private_key_file)?;
    e2e::tls_server::mutual_tls(chain, key, &args.client_ca_file, &[b"http/1.1"])
}

/// Creates (or updates) this kubelet's Node with its address and daemon endpoint.
async fn register(args: &Args) -> anyhow::Result<()> {
    use k8s_openapi::api::core::v1::Node;
    use kube::api::{Api, Patch, PatchParams, PostParams};
    let kc = kube::config::Kubeconfig::read_from(&args.kubeconfig)?;
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default()).await?;
    let nodes: Api<Node> = Api::all(kube::Client::try_from(cfg)?);
    let name = &args.hostname_override;
    let node: Node =
        serde_json::from_value(json!({"metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}}}))?;
    match nodes.create(&PostParams::default(), &node).await {
        Ok(_) => {}
        Err(kube::Error::Api(e)) if e.code == 409 => {}
        Err(e) => return Err(e.into()),
    }
    let status = json!({"status": {
        "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": args.port}},
        "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status"}]
    }});
    nodes
        .patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
        .await?;
    Ok(())
}

async fn run(args: Args) -> anyhow::Result<()> {
    let tls = load_tls(&args)?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port)).await?;
    register(&args).await?;
    let server = Arc::new(Server { args });
    eprintln!("serving the kubelet API on {}", listener.local_addr()?);
    e2e::tls_server::serve(listener, tls, move |req| server.clone().handle(req)).await
}

#[tokio::main]
async fn main() {
    if let Err(e) = run(Args::parse()).await {
        eprintln!("Error: {e:#}");
        std::process::exit(1);
    }
}
