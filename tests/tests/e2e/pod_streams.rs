//! Pod streams end to end: `kubectl logs`, `exec`, `port-forward` (and `cp`) through
//! kube-apiserver's kubelet proxy to the kubelet simulator, which registers its Node
//! (InternalIP 127.0.0.1 and its port) and trusts only the API server's kubelet client
//! certificate. Upstream kubectl 1.33 and ours run the same command lines.

use super::kubectl_parity::{check_rows, row};
use e2e::{ApiServer, binary, free_port, kubectl_path};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One CA signing the kubelet's serving certificate (for 127.0.0.1) and the API server's
/// kubelet client certificate.
fn kubelet_pki(dir: &Path) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "kubelet-ca");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let serving_key = KeyPair::generate().unwrap();
    let mut serving = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
    serving.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let serving_cert = serving.signed_by(&serving_key, &issuer).unwrap();
    let client_key = KeyPair::generate().unwrap();
    let mut client = CertificateParams::new(Vec::<String>::new()).unwrap();
    client
        .distinguished_name
        .push(DnType::CommonName, "kube-apiserver-kubelet-client");
    client.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let client_cert = client.signed_by(&client_key, &issuer).unwrap();
    // A user of the API server (which trusts this CA for client certificates too).
    let alice_key = KeyPair::generate().unwrap();
    let mut alice = CertificateParams::new(Vec::<String>::new()).unwrap();
    alice.distinguished_name.push(DnType::CommonName, "alice");
    alice.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let alice_cert = alice.signed_by(&alice_key, &issuer).unwrap();
    for (name, text) in [
        ("ca.crt", ca_cert.pem()),
        ("kubelet.crt", serving_cert.pem()),
        ("kubelet.key", serving_key.serialize_pem()),
        ("client.crt", client_cert.pem()),
        ("client.key", client_key.serialize_pem()),
        ("alice.crt", alice_cert.pem()),
        ("alice.key", alice_key.serialize_pem()),
    ] {
        std::fs::write(dir.join(name), text).unwrap();
    }
}

const PODS: &str = "apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec:
  nodeName: node1
  containers: [{name: web, image: nginx}]
---
apiVersion: v1
kind: Pod
metadata: {name: multi, labels: {app: multi}}
spec:
  nodeName: node1
  containers: [{name: a, image: nginx}, {name: b, image: nginx}]
---
apiVersion: v1
kind: Pod
metadata: {name: picked, labels: {app: multi}, annotations: {kubectl.kubernetes.io/default-container: b}}
spec:
  nodeName: node1
  containers: [{name: a, image: nginx}, {name: b, image: nginx}]
---
apiVersion: v1
kind: Pod
metadata: {name: pending}
spec:
  containers: [{name: web, image: nginx}]
---
apiVersion: v1
kind: Pod
metadata: {name: orphan}
spec:
  nodeName: dead
  containers: [{name: web, image: nginx}]
---
apiVersion: v1
kind: Pod
metadata: {name: ghost}
spec:
  nodeName: no-such-node
  containers: [{name: web, image: nginx}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader}
rules:
- {apiGroups: [''], resources: [pods, pods/log], verbs: [get, list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: alice-reads}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
subjects: [{kind: User, name: alice, apiGroup: rbac.authorization.k8s.io}]
";

struct Cluster {
    server: ApiServer,
    kubelet: e2e::Component,
    logs: PathBuf,
    pki: tempfile::TempDir,
}

fn start() -> Cluster {
    let pki = tempfile::tempdir().unwrap();
    kubelet_pki(pki.path());
    let file = |name: &str| pki.path().join(name).to_string_lossy().into_owned();
    let server = ApiServer::start_rbac_with(&[
        "--kubelet-client-certificate",
        &file("client.crt"),
        "--kubelet-client-key",
        &file("client.key"),
        "--kubelet-certificate-authority",
        &file("ca.crt"),
        "--client-ca-file",
        &file("ca.crt"),
    ]);
    let logs = pki.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    for (name, text) in [
        ("default_web_web.log", "one\ntwo\nthree\n"),
        ("default_multi_a.log", "a1\na2\n"),
        ("default_multi_b.log", "b1\n"),
        ("default_picked_a.log", "from a\n"),
        ("default_picked_b.log", "from b\n"),
        ("default_web_web.previous.log", "before the restart\n"),
    ] {
        std::fs::write(logs.join(name), text).unwrap();
    }
    let port = free_port();
    let kubelet = server.component(
        "kubelet-simulator",
        port,
        &[
            "--hostname-override",
            "node1",
            "--port",
            &port.to_string(),
            "--tls-cert-file",
            &file("kubelet.crt"),
            "--tls-private-key-file",
            &file("kubelet.key"),
            "--client-ca-file",
            &file("ca.crt"),
            "--log-dir",
            &logs.to_string_lossy(),
        ],
    );
    e2e::wait_for_port(port, Duration::from_secs(20));
    server.eventually("the kubelet's Node registered", 20, || {
        server.jsonpath(&["node", "node1"], "{.status.daemonEndpoints.kubeletEndpoint.Port}") == port.to_string()
    });
    let pods = server.file("pods.yaml", PODS);
    server.ok(&["apply", "-f", &pods]);
    // What the kubelet would report; port-forward wants a running pod.
    server.ok(&[
        "patch",
        "pod",
        "web",
        "--subresource",
        "status",
        "--type",
        "merge",
        "-p",
        r#"{"status":{"phase":"Running"}}"#,
    ]);
    // A node whose kubelet does not answer: nothing listens on its port.
    server.ok_stdin(
        &["apply", "-f", "-"],
        "apiVersion: v1\nkind: Node\nmetadata: {name: dead}\n",
    );
    let dead = format!(
        "{{\"status\":{{\"addresses\":[{{\"type\":\"InternalIP\",\"address\":\"127.0.0.1\"}}],\"daemonEndpoints\":{{\"kubeletEndpoint\":{{\"Port\":{}}}}}}}}}",
        free_port()
    );
    server.ok(&[
        "patch",
        "node",
        "dead",
        "--subresource",
        "status",
        "--type",
        "merge",
        "-p",
        &dead,
    ]);
    Cluster {
        server,
        kubelet,
        logs,
        pki,
    }
}

/// The two kubectl binaries: upstream 1.33, then ours.
fn both() -> [(&'static str, PathBuf); 2] {
    [("upstream", kubectl_path(33)), ("ours", binary("kubectl"))]
}

fn kubectl(c: &Cluster, exe: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(exe);
    cmd.args(args)
        .env("KUBECONFIG", &c.server.kubeconfig)
        .env("KUBECACHEDIR", c.server.dir.path().join("cache"))
        .env("HOME", c.server.dir.path());
    cmd
}

#[test]
fn pod_logs_exec_and_port_forward_through_the_kubelet() {
    let c = start();
    let s = &c.server;
    let rows: Vec<_> = [
        "logs web",
        "logs web --tail 1",
        "logs web --tail=0",
        "logs pod/web -c web",
        "logs multi -c b",
        "logs multi b",
        "logs web --limit-bytes 5",
        "logs web --previous",
        "logs multi -p",
        "logs multi",
        "logs multi -c nope",
        "logs picked",
        "logs deploy/web",
        "logs pending",
        "logs nope",
        "logs -l app=none",
        "logs -l app=multi -f --max-log-requests 1",
        "logs",
        "logs web --limit-bytes=-1",
        "logs web --tail=-2",
        "logs orphan",
        "logs ghost",
        "get --raw /api/v1/namespaces/default/pods/multi/log",
        "get --raw /api/v1/namespaces/default/pods/web/log?container=nope",
        "get --raw /api/v1/nodes/node1/proxy/healthz",
        "get --raw /api/v1/nodes/node1/proxy/nope",
        "get --raw /api/v1/nodes/node1/proxy/containerLogs/default/web/web?tailLines=1",
        "get --raw /api/v1/nodes/nope/proxy/healthz",
        "get --raw /api/v1/nodes/dead/proxy/healthz",
        "exec web -- echo hi",
        "exec deploy/web -- echo hi",
        "exec multi -- echo first",
        "exec picked -c a -- echo a",
        "exec web -- sh -c 'echo out; echo err >&2; exit 3'",
        "exec web -- /nonexistent/command",
        "exec multi -c nope -- true",
        "exec pending -- true",
        "exec orphan -- true",
        "exec ghost -- true",
        "exec web",
        "exec",
        "port-forward pending 8080:80",
        "port-forward web",
        "port-forward",
    ]
    .iter()
    .map(|l| row(l))
    .collect();
    let execs_before = c.kubelet.log().matches("GET /exec/").count();
    check_rows(s, "pod streams", &rows);
    // Refused requests never reach the kubelet: 2 binaries × the exec rows that pass
    // authorization and name a container on a reachable kubelet.
    let execs = c.kubelet.log().matches("GET /exec/").count() - execs_before;
    assert_eq!(execs, 2 * 6, "{}", c.kubelet.log());
    // A node's proxy reaches its kubelet, whatever path follows.
    let (code, body) = s.request("GET", "/api/v1/nodes/node1/proxy/healthz", "*/*", None);
    assert_eq!((code, body.as_str()), (200, "ok"));
    let (code, _) = s.request("GET", "/api/v1/nodes/node1/proxy/nope", "*/*", None);
    assert_eq!(code, 404);
    assert!(c.kubelet.log().contains("GET /healthz"), "{}", c.kubelet.log());
    // Log options are validated before anything is proxied.
    let (code, body) = s.request(
        "GET",
        "/api/v1/namespaces/default/pods/web/log?tailLines=-1",
        "application/json",
        None,
    );
    assert_eq!(code, 422, "{body}");
    assert!(
        body.contains(
            r#"PodLogOptions \"web\" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0"#
        ),
        "{body}"
    );
    // Upstream reads the logs of several containers in Go map order (random): the same lines,
    // compared sorted.
    for args in [
        &["logs", "multi", "--all-containers"][..],
        &["logs", "multi", "--all-containers", "--prefix"],
        &["logs", "-l", "app=multi", "--all-containers", "--prefix"],
    ] {
        let [upstream, ours] = both().map(|(_, exe)| {
            let out = kubectl(&c, &exe, args).stdin(Stdio::null()).output().unwrap();
            assert!(out.status.success(), "{args:?}");
            let mut lines: Vec<String> = String::from_utf8_lossy(&out.stdout).lines().map(String::from).collect();
            lines.sort();
            lines
        });
        assert_eq!(upstream, ours, "{args:?}");
    }
    rbac_refuses_exec_before_proxying(&c);
    cp_copies_both_ways(&c);

    for (who, exe) in both() {
        // stdin goes to the remote command, and its end closes the command's input.
        let mut child = kubectl(&c, &exe, &["exec", "-i", "web", "--", "cat"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(b"piped\ninput\n").unwrap();
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "piped\ninput\n",
            "{who}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{who}");

        // attach: the simulated container echoes its input (appends it to its log, which its
        // output follows).
        let mut child = kubectl(&c, &exe, &["attach", "-i", "web"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        std::thread::sleep(Duration::from_millis(500));
        writeln!(input, "attached by {who}").unwrap();
        drop(input);
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("attached by {who}\n"),
            "{who}"
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            "If you don't see a command prompt, try pressing enter.\n",
            "{who}"
        );

        // `logs -f` prints what is appended while it follows.
        let mut child = kubectl(&c, &exe, &["logs", "-f", "web", "--tail", "1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let log = std::fs::read_to_string(c.logs.join("default_web_web.log")).unwrap();
        assert_eq!(lines.next().unwrap().unwrap(), log.lines().last().unwrap(), "{who}");
        let line = format!("appended for {who}");
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(c.logs.join("default_web_web.log"))
            .unwrap();
        writeln!(f, "{line}").unwrap();
        let got = lines.next().unwrap().unwrap();
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(got, line, "{who}");
    }

    port_forward_relays_bytes(&c);
}

/// alice may read pods and their logs, but not exec into them: the API server refuses the
/// exec itself. Both kubectls retry the refused websocket as a SPDY POST, so the refusal
/// they report is of `create`.
fn rbac_refuses_exec_before_proxying(c: &Cluster) {
    let pki = |f: &str| c.pki.path().join(f).to_string_lossy().into_owned();
    let empty = c.server.dir.path().join("empty-kubeconfig");
    std::fs::write(&empty, "apiVersion: v1\nkind: Config\n").unwrap();
    let execs_before = c.kubelet.log().matches("GET /exec/").count();
    for (who, exe) in both() {
        let as_alice = |args: &[&str]| {
            kubectl(c, &exe, &[])
                .env("KUBECONFIG", &empty)
                .args(["--server", &c.server.server_url()])
                .args(["--certificate-authority", &c.server.ca_file().to_string_lossy()])
                .args([
                    "--client-certificate",
                    &pki("alice.crt"),
                    "--client-key",
                    &pki("alice.key"),
                ])
                .args(["-n", "default"])
                .args(args)
                .stdin(Stdio::null())
                .output()
                .unwrap()
        };
        let logs = as_alice(&["logs", "web"]);
        assert_eq!(String::from_utf8_lossy(&logs.stdout), "one\ntwo\nthree\n", "{who}");
        let exec = as_alice(&["exec", "web", "--", "echo", "hi"]);
        assert_eq!(exec.status.code(), Some(1), "{who}");
        assert_eq!(
            String::from_utf8_lossy(&exec.stderr).trim(),
            format!(
                "Error from server (Forbidden): pods \"web\" is forbidden: User \"alice\" cannot create resource \"pods/exec\" in API group \"\" in the namespace \"default\""
            ),
            "{who}"
        );
    }
    assert_eq!(c.kubelet.log().matches("GET /exec/").count(), execs_before);
}

/// `kubectl cp` into and out of the "container" (the simulator's exec runs on this host, so
/// the pod's paths are temporary paths here): both binaries print the same and copy the same.
fn cp_copies_both_ways(c: &Cluster) {
    let dir = tempfile::tempdir().unwrap();
    let d = |p: &str| dir.path().join(p).to_string_lossy().into_owned();
    std::fs::create_dir_all(dir.path().join("src/sub")).unwrap();
    std::fs::write(dir.path().join("src/f.txt"), "hello\n").unwrap();
    std::fs::write(dir.path().join("src/sub/g.txt"), "deep\n").unwrap();
    let mut outputs = Vec::new();
    for (who, exe) in both() {
        std::fs::create_dir_all(dir.path().join(format!("pod-{who}/existing"))).unwrap();
        let cases = [
            // into the pod: a file, a directory, a file into an existing directory
            vec![d("src/f.txt"), format!("web:{}", d(&format!("pod-{who}/f.txt")))],
            vec![d("src"), format!("web:{}", d(&format!("pod-{who}/tree")))],
            vec![d("src/f.txt"), format!("web:{}", d(&format!("pod-{who}/existing")))],
            // out of it
            vec![format!("web:{}", d("src/f.txt")), d(&format!("out-{who}.txt"))],
            vec![format!("default/web:{}", d("src")), d(&format!("outdir-{who}"))],
            // errors
            vec![d("missing"), "web:/tmp/x".into()],
            vec!["a".into(), "b".into()],
            vec!["web:/a".into(), "web:/b".into()],
            vec![":x".into(), "y".into()],
        ];
        let mut printed = Vec::new();
        for args in cases {
            let mut argv = vec!["cp".to_string()];
            argv.extend(args);
            let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
            let out = kubectl(c, &exe, &argv).stdin(Stdio::null()).output().unwrap();
            // Upstream may exit before the remote tar's notice reaches its stdout.
            let stdout: String = String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter(|l| !l.starts_with("tar: Removing leading"))
                .map(|l| format!("{l}\n"))
                .collect();
            printed.push(
                format!(
                    "{argv:?} exit {:?}\n{stdout}{}",
                    out.status.code(),
                    String::from_utf8_lossy(&out.stderr)
                )
                .replace(who, "WHO"),
            );
        }
        let read = |p: &str| std::fs::read_to_string(dir.path().join(p)).unwrap_or_else(|e| format!("{p}: {e}"));
        assert_eq!(read(&format!("pod-{who}/f.txt")), "hello\n", "{who}");
        assert_eq!(read(&format!("pod-{who}/tree/sub/g.txt")), "deep\n", "{who}");
        assert_eq!(read(&format!("pod-{who}/existing/f.txt")), "hello\n", "{who}");
        assert_eq!(read(&format!("out-{who}.txt")), "hello\n", "{who}");
        assert_eq!(read(&format!("outdir-{who}/f.txt")), "hello\n", "{who}");
        assert_eq!(read(&format!("outdir-{who}/sub/g.txt")), "deep\n", "{who}");
        outputs.push(printed);
    }
    assert_eq!(outputs[0], outputs[1], "upstream, then ours");
}

/// A TCP echo server on a free port.
fn echo_server() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut conn = conn;
                let mut buf = [0u8; 4096];
                while let Ok(n) = conn.read(&mut buf) {
                    if n == 0 || conn.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            });
        }
    });
    port
}

fn port_forward_relays_bytes(c: &Cluster) {
    let remote = echo_server();
    forward_and_echo(c, "pod/web", remote, remote);
    // Through a Service: its port is forwarded to the target port of the pod it selects.
    c.server.ok_stdin(
        &["apply", "-f", "-"],
        &format!(
            "apiVersion: v1\nkind: Service\nmetadata: {{name: web}}\nspec:\n  selector: {{app: web}}\n  ports: [{{name: echo, port: 7000, targetPort: {remote}}}]\n"
        ),
    );
    forward_and_echo(c, "svc/web", 7000, remote);
}

/// Runs our `port-forward TARGET LOCAL:PORT` and relays two connections in turn to the echo
/// server on `remote`.
fn forward_and_echo(c: &Cluster, target: &str, port: u16, remote: u16) {
    let local = free_port();
    let spec = format!("{local}:{port}");
    let mut child = kubectl(
        c,
        &binary("kubectl"),
        &["port-forward", target, &spec, "--address", "127.0.0.1"],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert_eq!(
        lines.next().unwrap().unwrap(),
        format!("Forwarding from 127.0.0.1:{local} -> {remote}")
    );
    // Each connection is its own stream through the API server.
    for text in ["first connection\n", "second connection\n"] {
        let mut conn = std::net::TcpStream::connect(("127.0.0.1", local)).unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        conn.write_all(text.as_bytes()).unwrap();
        let mut got = vec![0u8; text.len()];
        let started = Instant::now();
        conn.read_exact(&mut got).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&got),
            text,
            "{target} after {:?}",
            started.elapsed()
        );
        assert_eq!(
            lines.next().unwrap().unwrap(),
            format!("Handling connection for {local}")
        );
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// `pods/NAME[:PORT]/proxy/PATH` and `services/NAME:PORT/proxy/PATH` reach a server the
/// objects point at (a file server on this machine's address standing in for the pod), for
/// both kubectl binaries; loopback pod IPs are refused as upstream refuses them.
#[test]
fn pod_and_service_proxy() {
    let server = ApiServer::start(e2e::Store::Embedded);
    server.file("hello.txt", "hello through the proxy\n");
    let port = e2e::serve_files(server.dir.path().to_path_buf());
    let ip = e2e::host_ip();
    let objects = format!(
        "apiVersion: v1
kind: Pod
metadata: {{name: px}}
spec: {{containers: [{{name: c, image: nginx, ports: [{{containerPort: {port}}}]}}]}}
---
apiVersion: v1
kind: Pod
metadata: {{name: local}}
spec: {{containers: [{{name: c, image: nginx}}]}}
---
apiVersion: v1
kind: Service
metadata: {{name: pxs}}
spec: {{ports: [{{name: http, port: 80, targetPort: {port}}}]}}
---
apiVersion: v1
kind: Endpoints
metadata: {{name: pxs}}
subsets:
- addresses: [{{ip: {ip}, targetRef: {{kind: Pod, namespace: default, name: px}}}}]
  ports: [{{name: http, port: {port}}}]
"
    );
    server.ok_stdin(&["apply", "-f", "-"], &objects);
    for (pod, pod_ip) in [("px", ip.as_str()), ("local", "127.0.0.1")] {
        let status = format!("{{\"status\":{{\"podIP\":\"{pod_ip}\",\"podIPs\":[{{\"ip\":\"{pod_ip}\"}}]}}}}");
        server.ok(&[
            "patch",
            "pod",
            pod,
            "--subresource",
            "status",
            "--type",
            "merge",
            "-p",
            &status,
        ]);
    }
    let rows: Vec<_> = [
        "get --raw /api/v1/namespaces/default/pods/px/proxy/hello.txt",
        &format!("get --raw /api/v1/namespaces/default/pods/px:{port}/proxy/nope.txt"),
        &format!("get --raw /api/v1/namespaces/default/pods/http:px:{port}/proxy/hello.txt"),
        "get --raw /api/v1/namespaces/default/pods/local/proxy/hello.txt",
        "get --raw /api/v1/namespaces/default/pods/ghost/proxy/hello.txt",
        "get --raw /api/v1/namespaces/default/services/pxs:80/proxy/hello.txt",
        "get --raw /api/v1/namespaces/default/services/pxs:http/proxy/hello.txt",
        "get --raw /api/v1/namespaces/default/services/pxs:81/proxy/hello.txt",
        "get --raw /api/v1/namespaces/default/services/ghost:80/proxy/hello.txt",
    ]
    .iter()
    .map(|l| row(l))
    .collect();
    check_rows(&server, "pod and service proxy", &rows);
    for path in [
        "/api/v1/namespaces/default/pods/px/proxy/hello.txt",
        "/api/v1/namespaces/default/services/pxs:80/proxy/hello.txt",
    ] {
        let (code, body) = server.request("GET", path, "*/*", None);
        assert_eq!((code, body.as_str()), (200, "hello through the proxy\n"), "{path}");
    }
    let (code, body) = server.request(
        "GET",
        "/api/v1/namespaces/default/pods/local/proxy/hello.txt",
        "application/json",
        None,
    );
    assert_eq!(code, 400, "{body}");
    assert!(body.contains("address not allowed"), "{body}");
    let (code, body) = server.request(
        "GET",
        "/api/v1/namespaces/default/services/pxs:81/proxy/",
        "application/json",
        None,
    );
    assert_eq!(code, 503, "{body}");
    assert!(
        body.contains(r#"no service port 81 found for service \"pxs\""#),
        "{body}"
    );
}
