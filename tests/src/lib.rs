//! Test harness for end-to-end tests: starts real kube-apiserver processes (on the embedded
//! store or on a real etcd) on free ports in temporary directories, writes a kubeconfig,
//! and runs real kubectl against them. Everything started is stopped on drop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub mod sim;
pub mod tls_server;

pub const ADMIN_TOKEN: &str = "e2e-admin-token";

/// Upstream kubectl of a given minor version (installed by the machine image).
pub fn kubectl_path(minor: u32) -> PathBuf {
    PathBuf::from(format!("/usr/lib/google-cloud-sdk/bin/kubectl.1.{minor}"))
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The workspace's built binaries (`cargo build --workspace --bins` runs before the tests).
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // Tests run from target/<profile>/deps/, binaries from target/<profile>/.
    let dirs = exe.ancestors().skip(1).take(2);
    let found = dirs.map(|d| d.join(name)).find(|p| p.exists());
    found.unwrap_or_else(|| {
        panic!(
            "{name} is not built next to {}; run `cargo build --workspace --bins` first",
            exe.display()
        )
    })
}

/// A throwaway etcd.
pub struct Etcd {
    pub endpoint: String,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Etcd {
    pub fn start() -> Etcd {
        let dir = tempfile::tempdir().expect("temp dir");
        let (client, peer) = (free_port(), free_port());
        let endpoint = format!("http://127.0.0.1:{client}");
        let child = Command::new("etcd")
            .args(["--data-dir", &dir.path().join("etcd").to_string_lossy()])
            .args(["--listen-client-urls", &endpoint, "--advertise-client-urls", &endpoint])
            .args(["--listen-peer-urls", &format!("http://127.0.0.1:{peer}")])
            .args(["--initial-advertise-peer-urls", &format!("http://127.0.0.1:{peer}")])
            .args(["--initial-cluster", &format!("default=http://127.0.0.1:{peer}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("etcd (installed by deploy/install.sh)");
        let etcd = Etcd {
            endpoint,
            child,
            _dir: dir,
        };
        wait_for_port(client, Duration::from_secs(20));
        etcd
    }
}

impl Drop for Etcd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Serves the files of `dir` over plain HTTP/1.1 on a free port of every address (for `-f
/// URL` tests, and as a pod's server for the API server's pod and service proxies): 200 with
/// the file, 404 otherwise, and `/moved/<file>` redirects to `/<file>`.
pub fn serve_files(dir: PathBuf) -> u16 {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("0.0.0.0:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let mut reader = BufReader::new(&conn);
            let mut request = String::new();
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            // Skip the headers.
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let path = request.split(' ').nth(1).unwrap_or("/").trim_start_matches('/');
            let reply = if let Some(rest) = path.strip_prefix("moved/") {
                format!("HTTP/1.1 302 Found\r\nLocation: /{rest}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            } else {
                match std::fs::read_to_string(dir.join(path)) {
                    Ok(body) if !path.is_empty() => format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    ),
                    _ => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string(),
                }
            };
            let _ = (&conn).write_all(reply.as_bytes());
        }
    });
    port
}

/// This machine's address on its default route (not loopback), for servers the API server
/// must treat as a pod's.
pub fn host_ip() -> String {
    let probe = std::net::UdpSocket::bind("0.0.0.0:0").and_then(|s| s.connect("192.0.2.1:80").map(|_| s));
    probe
        .and_then(|s| s.local_addr())
        .map(|a| a.ip().to_string())
        .expect("a default route")
}

pub fn wait_for_port(port: u16, limit: Duration) {
    let start = Instant::now();
    while start.elapsed() < limit {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("nothing listens on port {port} after {limit:?}");
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    Embedded,
    Etcd,
}

/// A running kube-apiserver with its own directories and kubeconfig.
pub struct ApiServer {
    pub dir: tempfile::TempDir,
    pub port: u16,
    pub kubeconfig: PathBuf,
    pub store: Store,
    etcd: Option<Etcd>,
    extra: Vec<String>,
    child: Option<Child>,
}

impl ApiServer {
    /// A server as the tests without a controller-manager need it: the ServiceAccount admission
    /// plugin is off, since nothing creates the `default` service accounts yet.
    pub fn start(store: Store) -> ApiServer {
        Self::start_with(store, &["--disable-admission-plugins", "ServiceAccount"])
    }

    /// Starts with extra flags for kube-apiserver.
    pub fn start_with(store: Store, extra: &[&str]) -> ApiServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let etcd = (store == Store::Etcd).then(Etcd::start);
        let port = free_port();
        std::fs::write(
            dir.path().join("tokens.csv"),
            format!("{ADMIN_TOKEN},admin,admin-uid,\"system:masters\"\n"),
        )
        .expect("token file");
        let kubeconfig = dir.path().join("kubeconfig");
        let extra = extra.iter().map(|s| s.to_string()).collect();
        let mut server = ApiServer {
            dir,
            port,
            kubeconfig,
            store,
            etcd,
            extra,
            child: None,
        };
        server.write_kubeconfig();
        server.spawn();
        server
    }

    fn write_kubeconfig(&self) {
        let ca = self.dir.path().join("certs/apiserver.crt");
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: e2e\n  cluster:\n    server: https://127.0.0.1:{}\n    certificate-authority: {}\nusers:\n- name: admin\n  user:\n    token: {ADMIN_TOKEN}\ncontexts:\n- name: e2e\n  context:\n    cluster: e2e\n    user: admin\n    namespace: default\ncurrent-context: e2e\n",
            self.port,
            ca.display()
        );
        std::fs::write(&self.kubeconfig, text).expect("kubeconfig");
    }

    /// Starts (or restarts) the server process and waits until it is ready.
    pub fn spawn(&mut self) {
        let d = self.dir.path();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(d.join("apiserver.log"))
            .expect("log file");
        let mut cmd = Command::new(binary("kube-apiserver"));
        cmd.args(["--secure-port", &self.port.to_string(), "--bind-address", "127.0.0.1"])
            .args(["--cert-dir", &d.join("certs").to_string_lossy()])
            .args(["--data-dir", &d.join("data").to_string_lossy()])
            .args(["--token-auth-file", &d.join("tokens.csv").to_string_lossy()])
            .args(["--service-cluster-ip-range", "10.96.0.0/16"])
            .args(&self.extra)
            .stdout(Stdio::null())
            .stderr(log);
        if let Some(etcd) = &self.etcd {
            cmd.args(["--etcd-servers", &etcd.endpoint, "--etcd-prefix", "/registry"]);
        }
        self.child = Some(cmd.spawn().expect("kube-apiserver"));
        self.wait_ready();
    }

    fn wait_ready(&self) {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(30) {
            let out = self.kubectl(&["get", "--raw", "/readyz"]);
            if out.status.success() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("kube-apiserver not ready; log:\n{}", self.log());
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("apiserver.log")).unwrap_or_default()
    }

    /// `kill -9`: no chance to flush anything.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn kubectl(&self, args: &[&str]) -> Output {
        self.kubectl_v(33, args)
    }

    /// kubectl of version 1.`minor` with its kubeconfig, and cache and home in the server's dir.
    fn kubectl_command(&self, minor: u32, kubeconfig: &Path) -> Command {
        let mut cmd = Command::new(kubectl_path(minor));
        cmd.env("KUBECONFIG", kubeconfig)
            .env("KUBECACHEDIR", self.dir.path().join("cache"))
            .env("HOME", self.dir.path());
        cmd
    }

    pub fn kubectl_v(&self, minor: u32, args: &[&str]) -> Output {
        self.kubectl_command(minor, &self.kubeconfig)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("kubectl")
    }

    /// Runs kubectl, asserts success, and returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.kubectl(args);
        assert!(
            out.status.success(),
            "kubectl {} failed ({}):\n{}{}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs kubectl, asserts failure, and returns stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.kubectl(args);
        assert!(
            !out.status.success(),
            "kubectl {} should fail:\n{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    /// Runs kubectl as another identity (`--client-certificate …`, `--token …`, or nothing for
    /// anonymous), with no kubeconfig credentials.
    pub fn kubectl_as(&self, identity: &[&str], args: &[&str]) -> Output {
        let empty = self.dir.path().join("empty-kubeconfig");
        if !empty.exists() {
            std::fs::write(&empty, "apiVersion: v1\nkind: Config\n").expect("empty kubeconfig");
        }
        self.kubectl_command(33, &empty)
            .args([
                "--server",
                &self.server_url(),
                "--certificate-authority",
                &self.ca_file().to_string_lossy(),
            ])
            .args(identity)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("kubectl")
    }

    /// Runs kubectl with `input` on stdin.
    pub fn ok_stdin(&self, args: &[&str], input: &str) -> String {
        use std::io::Write;
        let mut child = self
            .kubectl_command(33, &self.kubeconfig)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kubectl");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
        let out = child.wait_with_output().expect("kubectl output");
        assert!(
            out.status.success(),
            "kubectl {} failed:\n{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Writes a file in the server's temp dir and returns its path.
    pub fn file(&self, name: &str, content: &str) -> String {
        let p = self.dir.path().join(name);
        std::fs::write(&p, content).expect("write file");
        p.to_string_lossy().into_owned()
    }

    /// A started `kubectl` process with piped stdout (for `get -w`).
    pub fn spawn_kubectl(&self, args: &[&str]) -> Child {
        self.kubectl_command(33, &self.kubeconfig)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kubectl")
    }

    /// The server process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// A kube-rs client for this server.
    pub async fn client(&self) -> kube::Client {
        let kc = kube::config::Kubeconfig::read_from(&self.kubeconfig).expect("kubeconfig");
        let cfg = kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
            .await
            .expect("config");
        kube::Client::try_from(cfg).expect("client")
    }

    /// One raw HTTPS request as the admin, with curl; returns (status code, body).
    pub fn request(&self, method: &str, path: &str, content_type: &str, body: Option<&str>) -> (u16, String) {
        self.request_with(Some(ADMIN_TOKEN), method, path, content_type, body)
    }

    /// The status code of a GET with no credentials at all (kubectl would prompt for them).
    pub fn anonymous_get(&self, path: &str) -> u16 {
        self.request_with(None, "GET", path, "application/json", None).0
    }

    /// One raw HTTPS request with curl, with `token` or anonymous; returns (status code, body).
    pub fn request_with(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        content_type: &str,
        body: Option<&str>,
    ) -> (u16, String) {
        let auth = token.map(|t| format!("Authorization: Bearer {t}"));
        let extra: Vec<&str> = auth.as_deref().map(|h| vec!["-H", h]).unwrap_or_default();
        self.curl(&extra, method, path, content_type, body)
    }

    /// One raw HTTPS request with curl and extra curl arguments (`--cert`, `--key`, headers).
    pub fn curl(
        &self,
        extra: &[&str],
        method: &str,
        path: &str,
        content_type: &str,
        body: Option<&str>,
    ) -> (u16, String) {
        let dir = self.dir.path();
        let out_file = dir.join(format!("curl-out-{}", free_port()));
        let mut cmd = Command::new("curl");
        cmd.args(["-s", "-o", &out_file.to_string_lossy(), "-w", "%{http_code}"])
            .args(["--cacert", &self.ca_file().to_string_lossy()])
            .args(["-H", &format!("Content-Type: {content_type}")])
            .args(["-X", method, &format!("{}{path}", self.server_url())]);
        cmd.args(extra);
        let body_file = dir.join(format!("curl-body-{}", free_port()));
        if let Some(b) = body {
            std::fs::write(&body_file, b).expect("body file");
            cmd.args(["--data-binary", &format!("@{}", body_file.display())]);
        }
        let out = cmd.output().expect("curl (installed by deploy/install.sh)");
        let code = String::from_utf8_lossy(&out.stdout).parse().unwrap_or(0);
        let text = std::fs::read_to_string(&out_file).unwrap_or_default();
        let _ = std::fs::remove_file(&out_file);
        let _ = std::fs::remove_file(&body_file);
        (code, text)
    }

    pub fn server_url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("certs/apiserver.crt")
    }
}

/// A component process started against an ApiServer; killed on drop.
pub struct Component {
    child: Child,
    pub log: PathBuf,
    /// The component's --secure-port, where it has one.
    pub port: u16,
}

impl Component {
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Stops the process at once (`kill -9`).
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Component {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl ApiServer {
    /// Starts one of the workspace's component binaries with the admin kubeconfig; its log
    /// (stderr) goes to `<name>-<n>.log` in the server's directory.
    pub fn component(&self, name: &str, port: u16, args: &[&str]) -> Component {
        let path = self.dir.path().join(format!("{name}-{}.log", free_port()));
        let log = std::fs::File::create(&path).expect("log file");
        let child = Command::new(binary(name))
            .args(["--kubeconfig", &self.kubeconfig.to_string_lossy()])
            .args(args)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        Component { child, log: path, port }
    }

    /// Starts kube-controller-manager on a free --secure-port, with the server's CA as root CA.
    pub fn controller_manager(&self, extra: &[&str]) -> Component {
        let ca = self.ca_file().to_string_lossy().into_owned();
        let port = free_port();
        let port_arg = port.to_string();
        let args: Vec<&str> = ["--root-ca-file", ca.as_str(), "--secure-port", port_arg.as_str()]
            .into_iter()
            .chain(["--bind-address", "127.0.0.1"])
            .chain(extra.iter().copied())
            .collect();
        self.component("kube-controller-manager", port, &args)
    }

    /// Starts kube-scheduler on a free --secure-port.
    pub fn scheduler(&self, extra: &[&str]) -> Component {
        let port = free_port();
        let port_arg = port.to_string();
        let args: Vec<&str> = ["--secure-port", port_arg.as_str()]
            .into_iter()
            .chain(extra.iter().copied())
            .collect();
        self.component("kube-scheduler", port, &args)
    }

    /// Polls `check` every 100ms for up to `secs` seconds.
    pub fn eventually(&self, what: &str, secs: u64, mut check: impl FnMut() -> bool) {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(secs) {
            if check() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let mut logs = String::new();
        for entry in std::fs::read_dir(self.dir.path()).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("kube-") {
                logs.push_str(&format!(
                    "--- {name}\n{}",
                    std::fs::read_to_string(entry.path()).unwrap_or_default()
                ));
            }
        }
        panic!("timed out waiting for {what}; component logs:\n{logs}");
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        self.kill9();
    }
}

impl ApiServer {
    /// A server as controller tests want it: RBAC on (`Node,RBAC`), so every controller's
    /// role is exercised; ServiceAccount admission off, as in `start`.
    pub fn start_rbac() -> ApiServer {
        Self::start_rbac_with(&[])
    }

    /// Like `start_rbac`, with extra flags.
    pub fn start_rbac_with(extra: &[&str]) -> ApiServer {
        let mut args = vec![
            "--disable-admission-plugins",
            "ServiceAccount",
            "--authorization-mode",
            "Node,RBAC",
        ];
        args.extend_from_slice(extra);
        Self::start_with(Store::Embedded, &args)
    }

    /// kube-controller-manager running only `list` (a `--controllers` value), each controller
    /// as its own service account.
    pub fn controllers(&self, list: &str, extra: &[&str]) -> Component {
        let mut args = vec!["--use-service-account-credentials", "--controllers", list];
        args.extend_from_slice(extra);
        self.controller_manager(&args)
    }

    /// `kubectl get <what> -o jsonpath=<path>`; empty when there is nothing to print.
    pub fn jsonpath(&self, what: &[&str], path: &str) -> String {
        let expr = format!("jsonpath={path}");
        let mut args = vec!["get"];
        args.extend_from_slice(what);
        args.extend(["-o", expr.as_str()]);
        String::from_utf8_lossy(&self.kubectl(&args).stdout).into_owned()
    }
}

/// Nodes for a test: simulated nodes (`sim`) and a real kube-scheduler, so pods are scheduled
/// and run as on a cluster of kubelets. Everything stops when this is dropped.
pub struct SimulatedCluster {
    pub nodes: sim::SimNodes,
    pub scheduler: Component,
    /// Runs the simulator; tests may spawn their own watchers on it.
    pub runtime: tokio::runtime::Runtime,
}

impl ApiServer {
    /// `count` simulated nodes named `node-<i>` and a scheduler.
    pub fn simulated_cluster(&self, count: usize) -> SimulatedCluster {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let client = runtime.block_on(self.client());
        let nodes = runtime
            .block_on(sim::SimNodes::start(client, sim::NodeSpec::new("node", count)))
            .expect("simulated nodes");
        let scheduler = self.scheduler(&["--leader-elect=false"]);
        SimulatedCluster {
            nodes,
            scheduler,
            runtime,
        }
    }
}

/// Until the scheduler and simulated nodes run here, tests play both for every pod: one pinned
/// to a single node by node affinity on `metadata.name` (a DaemonSet's) is bound to that node
/// through `pods/binding`; every pod becomes Running and Ready as soon as it exists; and a
/// bound pod being deleted is removed at once, as its kubelet would once it stopped.
pub async fn make_pods_ready(client: kube::Client) {
    use futures::StreamExt;
    use k8s_openapi::api::core::v1::Pod;
    use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
    use kube::runtime::{WatchStreamExt, watcher};
    let all: Api<Pod> = Api::all(client.clone());
    let mut events = watcher(all, watcher::Config::default()).applied_objects().boxed();
    while let Some(Ok(pod)) = events.next().await {
        let name = pod.metadata.name.clone().unwrap_or_default();
        let api: Api<Pod> = Api::namespaced(client.clone(), pod.metadata.namespace.as_deref().unwrap_or_default());
        let bound = pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.as_deref())
            .is_some_and(|n| !n.is_empty());
        if pod.metadata.deletion_timestamp.is_some() {
            if bound {
                let now = DeleteParams {
                    grace_period_seconds: Some(0),
                    ..Default::default()
                };
                let _ = api.delete(&name, &now).await;
            }
            continue;
        }
        if !bound && let Some(node) = pinned_node(&pod) {
            let binding = serde_json::json!({"apiVersion": "v1", "kind": "Binding",
                "metadata": {"name": name}, "target": {"kind": "Node", "name": node}});
            let _ = api
                .create_subresource::<_, serde_json::Value>("binding", &name, &PostParams::default(), &binding)
                .await;
        }
        let ready = pod
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready"));
        if ready {
            continue;
        }
        let now = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
        let patch = serde_json::json!({"status": {"phase": "Running", "conditions": [
            {"type": "Ready", "status": "True", "lastTransitionTime": now}]}});
        let _ = api
            .patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await;
    }
}

/// The one node a pod's required node affinity names by `metadata.name`, if so pinned.
fn pinned_node(pod: &k8s_openapi::api::core::v1::Pod) -> Option<String> {
    let terms = &pod
        .spec
        .as_ref()?
        .affinity
        .as_ref()?
        .node_affinity
        .as_ref()?
        .required_during_scheduling_ignored_during_execution
        .as_ref()?
        .node_selector_terms;
    let [term] = terms.as_slice() else { return None };
    match term.match_fields.as_deref()? {
        [r] if r.key == "metadata.name" && r.operator == "In" => match r.values.as_deref()? {
            [node] => Some(node.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// (CPU seconds, peak RSS in MiB) of a process, from /proc; for benchmarks.
pub fn process_usage(pid: u32) -> (f64, f64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the parenthesised command: utime and stime are the 12th and 13th.
    let rest = stat.rsplit(')').next().unwrap_or_default();
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    let cpu = (ticks(11) + ticks(12)) / 100.0;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let hwm = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0);
    (cpu, hwm / 1024.0)
}
