//! Workload controllers of kube-controller-manager against a real API server with RBAC on,
//! each controller acting as its own `system:controller:*` service account.

use e2e::{ADMIN_TOKEN, ApiServer, Component, Store};

fn rbac_server() -> ApiServer {
    ApiServer::start_with(
        Store::Embedded,
        &[
            "--disable-admission-plugins",
            "ServiceAccount",
            "--authorization-mode",
            "Node,RBAC",
        ],
    )
}

fn with_own_credentials(s: &ApiServer, controllers: &str) -> Component {
    s.controller_manager(&["--use-service-account-credentials", "--controllers", controllers])
}

fn pods(s: &ApiServer, selector: &str) -> Vec<String> {
    let out = s.ok(&[
        "get",
        "pods",
        "-l",
        selector,
        "-o",
        "jsonpath={.items[*].metadata.name}",
    ]);
    out.split_whitespace().map(String::from).collect()
}

const REPLICASET: &str = "apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: nginx:1.27}]}
";

#[test]
fn replicaset_keeps_its_replicas() {
    let s = rbac_server();
    let kcm = with_own_credentials(&s, "replicaset,serviceaccount");
    s.ok_stdin(&["apply", "-f", "-"], REPLICASET);
    s.eventually("3 pods", 20, || pods(&s, "app=web").len() == 3);
    s.eventually("status.replicas 3", 10, || {
        s.ok(&["get", "rs", "web", "-o", "jsonpath={.status.replicas}"]) == "3"
    });
    let events = s.ok(&[
        "get",
        "events",
        "--field-selector",
        "involvedObject.name=web",
        "-o",
        "wide",
    ]);
    assert!(
        events.contains("SuccessfulCreate") && events.contains("Created pod: web-"),
        "{events}"
    );
    assert!(events.contains("replicaset-controller"), "{events}");
    // The pods were created by the controller's own service account.
    s.ok(&["-n", "kube-system", "get", "sa", "replicaset-controller"]);
    let owner = s.ok(&[
        "get",
        "pods",
        "-l",
        "app=web",
        "-o",
        "jsonpath={.items[0].metadata.ownerReferences[0].kind}",
    ]);
    assert_eq!(owner, "ReplicaSet");

    // A deleted pod is replaced.
    let before = pods(&s, "app=web");
    s.ok(&["delete", "pod", &before[0], "--wait=false"]);
    s.eventually("a replacement", 20, || {
        let now = pods(&s, "app=web");
        now.len() == 3 && !now.contains(&before[0])
    });

    // Scaling down keeps the ready pod and deletes the not-ready ones.
    let keep = pods(&s, "app=web")[1].clone();
    s.ok(&[
        "patch",
        "pod",
        &keep,
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}}"#,
    ]);
    s.eventually("readyReplicas 1", 10, || {
        s.ok(&["get", "rs", "web", "-o", "jsonpath={.status.readyReplicas}"]) == "1"
    });
    s.ok(&["scale", "rs", "web", "--replicas=1"]);
    s.eventually("one pod left, the ready one", 20, || {
        pods(&s, "app=web") == [keep.clone()]
    });

    // An orphan matching the selector is adopted rather than left beside the replicas.
    s.ok(&["run", "stray", "--image=nginx:1.27", "--labels=app=web"]);
    s.eventually("the surplus orphan adopted and removed", 20, || {
        pods(&s, "app=web").len() == 1
    });

    // The secure port: health for anyone, metrics for authorized callers.
    let url = |path: &str| format!("https://127.0.0.1:{}{path}", kcm.port);
    let get = |path: &str, token: Option<&str>| {
        let mut cmd = std::process::Command::new("curl");
        cmd.args(["-sk", "-o", "/dev/stdout", "-w", "\n%{http_code}", &url(path)]);
        if let Some(t) = token {
            cmd.args(["-H", &format!("Authorization: Bearer {t}")]);
        }
        String::from_utf8_lossy(&cmd.output().expect("curl").stdout).into_owned()
    };
    assert!(get("/healthz", None).ends_with("ok\n200"));
    assert!(get("/metrics", None).ends_with("401"));
    let metrics = get("/metrics", Some(ADMIN_TOKEN));
    assert!(metrics.ends_with("200"), "{metrics}");
    assert!(
        metrics.contains("workqueue_adds_total{name=\"replicaset-controller\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("leader_election_master_status{name=\"kube-controller-manager\"} 1"),
        "{metrics}"
    );
}
