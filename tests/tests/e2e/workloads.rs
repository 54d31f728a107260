//! Workload controllers of kube-controller-manager against a real API server with RBAC on,
//! each controller acting as its own `system:controller:*` service account.

use e2e::{ADMIN_TOKEN, ApiServer};

fn pods(s: &ApiServer, selector: &str) -> Vec<String> {
    let out = s.jsonpath(&["pods", "-l", selector], "{.items[*].metadata.name}");
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
    let s = ApiServer::start_rbac();
    let kcm = s.controllers("replicaset,replicationcontroller,serviceaccount", &[]);
    s.ok_stdin(&["apply", "-f", "-"], REPLICASET);
    s.eventually("3 pods", 20, || pods(&s, "app=web").len() == 3);
    s.eventually("status.replicas 3", 10, || {
        s.jsonpath(&["rs", "web"], "{.status.replicas}") == "3"
    });
    // Events are written off the sync path: they may trail the pods a little.
    let events = || {
        s.ok(&[
            "get",
            "events",
            "--field-selector",
            "involvedObject.name=web",
            "-o",
            "wide",
        ])
    };
    s.eventually("SuccessfulCreate events", 20, || {
        let e = events();
        e.contains("SuccessfulCreate") && e.contains("Created pod: web-") && e.contains("replicaset-controller")
    });
    // The pods were created by the controller's own service account.
    s.ok(&["-n", "kube-system", "get", "sa", "replicaset-controller"]);
    let owner = s.jsonpath(
        &["pods", "-l", "app=web"],
        "{.items[0].metadata.ownerReferences[0].kind}",
    );
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
        s.jsonpath(&["rs", "web"], "{.status.readyReplicas}") == "1"
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

    // A ReplicationController runs the same loop over its older kind.
    let rc = "apiVersion: v1
kind: ReplicationController
metadata: {name: legacy}
spec:
  replicas: 2
  selector: {app: legacy}
  template:
    metadata: {labels: {app: legacy}}
    spec: {containers: [{name: c, image: nginx:1.27}]}
";
    s.ok_stdin(&["apply", "-f", "-"], rc);
    s.eventually("2 legacy pods", 20, || pods(&s, "app=legacy").len() == 2);
    s.eventually("rc status", 10, || {
        s.jsonpath(&["rc", "legacy"], "{.status.replicas}") == "2"
    });
    let owner = s.jsonpath(
        &["pods", "-l", "app=legacy"],
        "{.items[0].metadata.ownerReferences[0].kind}",
    );
    assert_eq!(owner, "ReplicationController");

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
        metrics.contains("workqueue_adds_total{name=\"replicaset\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("leader_election_master_status{name=\"kube-controller-manager\"} 1"),
        "{metrics}"
    );
}

/// Watches the rollout and records every breach of maxSurge/maxUnavailable it sees: the
/// ReplicaSets' replicas summed over the deployment must stay within replicas + maxSurge, and
/// ready pods at or above replicas - maxUnavailable.
async fn watch_rollout(
    client: kube::Client,
    max_total: i32,
    min_ready: usize,
    breaches: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
) {
    use futures::StreamExt;
    use k8s_openapi::api::apps::v1::ReplicaSet;
    use k8s_openapi::api::core::v1::Pod;
    use kube::api::Api;
    use kube::runtime::{WatchStreamExt, reflector, watcher};
    let (sets, sets_writer) = reflector::store::<ReplicaSet>();
    let (pods, pods_writer) = reflector::store::<Pod>();
    let rs_stream = reflector(
        sets_writer,
        watcher(
            Api::<ReplicaSet>::default_namespaced(client.clone()),
            watcher::Config::default(),
        ),
    )
    .applied_objects()
    .map(|_| ());
    let pod_stream = reflector(
        pods_writer,
        watcher(Api::<Pod>::default_namespaced(client), watcher::Config::default()),
    )
    .applied_objects()
    .map(|_| ());
    let mut merged = futures::stream::select(rs_stream.boxed(), pod_stream.boxed());
    while merged.next().await.is_some() {
        // The stores fill all at once when their first list is complete.
        if sets.state().is_empty() || pods.state().is_empty() {
            continue;
        }
        let total: i32 = sets
            .state()
            .iter()
            .map(|r| r.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0))
            .sum();
        let ready = pods
            .state()
            .iter()
            .filter(|p| p.metadata.deletion_timestamp.is_none())
            .filter(|p| {
                p.status
                    .as_ref()
                    .and_then(|s| s.conditions.as_ref())
                    .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
            })
            .count();
        let mut b = breaches.lock().unwrap();
        if total > max_total {
            b.push(format!("replica sets sum to {total} > {max_total}"));
        }
        if ready < min_ready {
            b.push(format!("{ready} ready pods < {min_ready}"));
        }
    }
}

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 5
  selector: {matchLabels: {app: web}}
  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 1}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: nginx:1.27}]}
";

#[test]
fn deployment_rolls_out_within_surge_and_unavailability_and_undoes() {
    let s = ApiServer::start_rbac();
    let _kcm = s.controllers("deployment,replicaset", &[]);
    let cluster = s.simulated_cluster(3);
    let rt = &cluster.runtime;
    let client = rt.block_on(s.client());

    s.ok_stdin(&["apply", "-f", "-"], DEPLOYMENT);
    s.ok(&["rollout", "status", "deployment/web", "--timeout=60s"]);
    assert_eq!(pods(&s, "app=web").len(), 5);
    // Running on the simulated nodes, placed there by the scheduler.
    let placed = s.jsonpath(&["pods", "-l", "app=web"], "{.items[*].spec.nodeName}");
    assert!(placed.split_whitespace().all(|n| n.starts_with("node-")), "{placed}");
    let phases = s.jsonpath(&["pods", "-l", "app=web"], "{.items[*].status.phase}");
    assert_eq!(phases, "Running Running Running Running Running");
    let available = s.jsonpath(
        &["deploy", "web"],
        "{.status.conditions[?(@.type==\"Available\")].status}",
    );
    assert_eq!(available, "True");

    // A new image rolls out with at most 6 replicas and at least 4 ready pods at every step.
    let breaches = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    rt.spawn(watch_rollout(client.clone(), 6, 4, breaches.clone()));
    std::thread::sleep(std::time::Duration::from_millis(500));
    s.ok(&["set", "image", "deployment/web", "c=nginx:1.28"]);
    s.ok(&["rollout", "status", "deployment/web", "--timeout=60s"]);
    assert!(breaches.lock().unwrap().is_empty(), "{:?}", breaches.lock().unwrap());
    let sets = s.jsonpath(
        &["rs", "-l", "app=web"],
        "{range .items[*]}{.spec.template.spec.containers[0].image}={.spec.replicas} {end}",
    );
    let mut sets: Vec<&str> = sets.split_whitespace().collect();
    sets.sort();
    assert_eq!(sets, ["nginx:1.27=0", "nginx:1.28=5"]);
    s.eventually("ScalingReplicaSet events", 20, || {
        let events = s.ok(&["get", "events", "--field-selector", "involvedObject.kind=Deployment"]);
        events.contains("ScalingReplicaSet") && events.contains("Scaled down replica set web-")
    });
    let history = s.ok(&["rollout", "history", "deployment/web"]);
    assert!(history.contains('1') && history.contains('2'), "{history}");

    // Undo brings the first template back on its own ReplicaSet, now revision 3.
    s.ok(&["rollout", "undo", "deployment/web"]);
    s.ok(&["rollout", "status", "deployment/web", "--timeout=60s"]);
    let image = s.jsonpath(&["deploy", "web"], "{.spec.template.spec.containers[0].image}");
    assert_eq!(image, "nginx:1.27");
    let revision = s.jsonpath(
        &["deploy", "web"],
        "{.metadata.annotations.deployment\\.kubernetes\\.io/revision}",
    );
    assert_eq!(revision, "3");
    assert_eq!(s.ok(&["get", "rs", "-l", "app=web", "-o", "name"]).lines().count(), 2);
    assert!(breaches.lock().unwrap().is_empty(), "{:?}", breaches.lock().unwrap());
}

#[test]
fn recreate_and_paused_deployments() {
    let s = ApiServer::start_rbac();
    let _kcm = s.controllers("deployment,replicaset", &[]);
    let _cluster = s.simulated_cluster(2);
    let recreate = DEPLOYMENT.replace(
        "{type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 1}}",
        "{type: Recreate}",
    );
    s.ok_stdin(&["apply", "-f", "-"], &recreate);
    s.ok(&["rollout", "status", "deployment/web", "--timeout=60s"]);
    s.ok(&["set", "image", "deployment/web", "c=nginx:1.28"]);
    s.ok(&["rollout", "status", "deployment/web", "--timeout=60s"]);
    let images = s.jsonpath(&["pods", "-l", "app=web"], "{.items[*].spec.containers[0].image}");
    assert_eq!(
        images.split_whitespace().filter(|i| *i == "nginx:1.28").count(),
        5,
        "{images}"
    );

    // Paused: a new template does not roll out, but scaling does.
    s.ok(&["rollout", "pause", "deployment/web"]);
    s.ok(&["set", "image", "deployment/web", "c=nginx:1.29"]);
    s.ok(&["scale", "deployment/web", "--replicas=2"]);
    s.eventually("scaled to 2 while paused", 20, || pods(&s, "app=web").len() == 2);
    let progressing = s.jsonpath(
        &["deploy", "web"],
        "{.status.conditions[?(@.type==\"Progressing\")].reason}",
    );
    assert_eq!(progressing, "DeploymentPaused");
    let images = s.jsonpath(&["pods", "-l", "app=web"], "{.items[*].spec.containers[0].image}");
    assert!(!images.contains("1.29"), "{images}");
    s.ok(&["rollout", "resume", "deployment/web"]);
    s.ok(&["rollout", "status", "deployment/web", "--timeout=60s"]);
    let images = s.jsonpath(&["pods", "-l", "app=web"], "{.items[*].spec.containers[0].image}");
    assert_eq!(
        images.split_whitespace().collect::<Vec<_>>(),
        ["nginx:1.29", "nginx:1.29"]
    );
}

#[test]
fn garbage_collection_follows_the_propagation_policy() {
    let s = ApiServer::start_rbac();
    let _kcm = s.controllers("deployment,replicaset,garbagecollector", &[]);
    let count = |what: &str| s.ok(&["get", what, "-l", "app=web", "-o", "name"]).lines().count();
    let small = DEPLOYMENT.replace("replicas: 5", "replicas: 2");

    // Foreground: the deployment stays (with its finalizer) until its ReplicaSet and pods are gone.
    s.ok_stdin(&["apply", "-f", "-"], &small);
    s.eventually("2 pods", 20, || count("pods") == 2);
    s.ok(&["delete", "deployment", "web", "--cascade=foreground", "--wait=false"]);
    let finalizers = s.jsonpath(&["deploy", "web"], "{.metadata.finalizers}");
    assert!(finalizers.contains("foregroundDeletion"), "{finalizers}");
    s.eventually("everything gone", 30, || {
        count("pods") == 0 && count("rs") == 0 && !s.kubectl(&["get", "deploy", "web"]).status.success()
    });

    // Orphan: the ReplicaSet and pods stay, without the owner reference.
    s.ok_stdin(&["apply", "-f", "-"], &small);
    s.eventually("2 pods", 20, || count("pods") == 2);
    s.ok(&["delete", "deployment", "web", "--cascade=orphan"]);
    s.eventually("the deployment gone", 20, || {
        !s.kubectl(&["get", "deploy", "web"]).status.success()
    });
    std::thread::sleep(std::time::Duration::from_secs(1));
    assert_eq!(count("rs"), 1);
    assert_eq!(count("pods"), 2);
    let owners = s.jsonpath(&["rs", "-l", "app=web"], "{.items[0].metadata.ownerReferences}");
    assert_eq!(owners, "");

    // Background: the owner goes at once, its dependents after it.
    s.ok(&["delete", "rs", "-l", "app=web", "--cascade=background"]);
    s.eventually("the orphaned pods collected", 30, || count("pods") == 0);

    // A dependent whose owner never existed is collected too.
    let dangling = "apiVersion: v1
kind: ConfigMap
metadata:
  name: dangling
  ownerReferences: [{apiVersion: v1, kind: ConfigMap, name: ghost, uid: 9d7c1c9e-0000-4000-8000-000000000000}]
";
    s.ok_stdin(&["apply", "-f", "-"], dangling);
    s.eventually("the dangling dependent collected", 30, || {
        !s.kubectl(&["get", "cm", "dangling"]).status.success()
    });
}

#[test]
fn a_stuck_rollout_exceeds_its_progress_deadline() {
    let s = ApiServer::start_rbac();
    let _kcm = s.controllers("deployment,replicaset", &[]);
    // No nodes: the pods never become available.
    let stuck = DEPLOYMENT.replace("  replicas: 5\n", "  replicas: 2\n  progressDeadlineSeconds: 2\n");
    s.ok_stdin(&["apply", "-f", "-"], &stuck);
    let reason = || {
        s.jsonpath(
            &["deploy", "web"],
            "{.status.conditions[?(@.type==\"Progressing\")].reason}",
        )
    };
    s.eventually("ProgressDeadlineExceeded", 30, || {
        reason() == "ProgressDeadlineExceeded"
    });
    let status = s.jsonpath(
        &["deploy", "web"],
        "{.status.conditions[?(@.type==\"Progressing\")].status}",
    );
    assert_eq!(status, "False");
    let available = s.jsonpath(
        &["deploy", "web"],
        "{.status.conditions[?(@.type==\"Available\")].status}",
    );
    assert_eq!(available, "False");
    let out = s.kubectl(&["rollout", "status", "deployment/web", "--timeout=20s"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("exceeded its progress deadline"),
        "{err}"
    );
}
