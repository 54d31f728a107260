//! DaemonSets and StatefulSets against a real API server with RBAC on, each controller acting
//! as its own service account. The tests create the Nodes and play the scheduler and kubelet
//! (`make_pods_ready`).

use e2e::{ApiServer, make_pods_ready};
use std::sync::{Arc, Mutex};

/// A Ready node with room for pods, optionally tainted. New nodes start tainted not-ready;
/// the test lifts that as the node lifecycle controller would for a Ready node.
fn add_node(s: &ApiServer, name: &str, taints: &str) {
    let node = format!(
        "apiVersion: v1\nkind: Node\nmetadata: {{name: {name}, labels: {{kubernetes.io/hostname: {name}}}}}\nspec: {{taints: [{taints}]}}\n"
    );
    s.ok_stdin(&["create", "-f", "-"], &node);
    let status = r#"{"status":{"capacity":{"cpu":"4","memory":"8Gi","pods":"110"},
        "allocatable":{"cpu":"4","memory":"8Gi","pods":"110"},
        "conditions":[{"type":"Ready","status":"True","reason":"KubeletReady","message":"ready"}]}}"#;
    s.ok(&[
        "patch",
        "node",
        name,
        "--subresource=status",
        "--type=merge",
        "-p",
        status,
    ]);
    s.ok(&["taint", "node", name, "node.kubernetes.io/not-ready:NoSchedule-"]);
}

/// `name=node` of each pod matching `selector`, bound ones only, sorted.
fn placements(s: &ApiServer, selector: &str) -> Vec<String> {
    let out = s.jsonpath(
        &["pods", "-l", selector],
        "{range .items[*]}{.spec.nodeName}{\"\\n\"}{end}",
    );
    let mut nodes: Vec<String> = out.lines().filter(|l| !l.is_empty()).map(String::from).collect();
    nodes.sort();
    nodes
}

const DAEMONSET: &str = "apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  updateStrategy: {type: RollingUpdate, rollingUpdate: {maxUnavailable: 1}}
  template:
    metadata: {labels: {app: agent}}
    spec: {containers: [{name: c, image: agent:1}]}
";

#[test]
fn daemonset_runs_one_pod_per_eligible_node() {
    let s = ApiServer::start_rbac();
    let _kcm = s.controllers("daemonset", &[]);
    for n in ["n1", "n2", "n3"] {
        add_node(&s, n, "");
    }
    add_node(&s, "tainted", "{key: dedicated, value: db, effect: NoSchedule}");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.spawn(make_pods_ready(rt.block_on(s.client())));

    s.ok_stdin(&["apply", "-f", "-"], DAEMONSET);
    s.eventually("a pod on each untainted node", 20, || {
        placements(&s, "app=agent") == ["n1", "n2", "n3"]
    });
    s.eventually("status counts", 10, || {
        s.jsonpath(&["ds", "agent"],
            "{.status.desiredNumberScheduled}/{.status.currentNumberScheduled}/{.status.numberReady}/{.status.updatedNumberScheduled}/{.status.numberAvailable}",
        ) == "3/3/3/3/3"
    });
    // Pinned by node affinity, with the daemon tolerations, labelled with the revision's hash.
    let pod = s.ok(&["get", "pods", "-l", "app=agent", "-o", "json"]);
    let pods: serde_json::Value = serde_json::from_str(&pod).expect("json");
    let first = &pods["items"][0];
    let term = &first["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
        [0]["matchFields"][0];
    assert_eq!(term["key"], "metadata.name", "{first}");
    assert_eq!(term["values"][0], first["spec"]["nodeName"], "{first}");
    let tolerations = first["spec"]["tolerations"].to_string();
    assert!(tolerations.contains("node.kubernetes.io/not-ready"), "{tolerations}");
    assert!(
        tolerations.contains("node.kubernetes.io/unschedulable"),
        "{tolerations}"
    );
    let hash = first["metadata"]["labels"]["controller-revision-hash"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let revisions = s.ok(&[
        "get",
        "controllerrevisions",
        "-l",
        &format!("controller-revision-hash={hash}"),
        "-o",
        "name",
    ]);
    assert_eq!(revisions.trim(), format!("controllerrevision.apps/agent-{hash}"));

    // A node added later gets its pod; the tainted one still has none.
    add_node(&s, "n4", "");
    s.eventually("a pod on the new node", 20, || {
        placements(&s, "app=agent") == ["n1", "n2", "n3", "n4"]
    });
    let events = s.ok(&[
        "get",
        "events",
        "--field-selector",
        "involvedObject.kind=DaemonSet",
        "-o",
        "wide",
    ]);
    assert!(
        events.contains("SuccessfulCreate") && events.contains("Created pod: agent-"),
        "{events}"
    );
    assert!(events.contains("daemonset-controller"), "{events}");

    // A NoExecute taint it does not tolerate evicts its pod there.
    s.ok(&["taint", "node", "n4", "gone=yes:NoExecute"]);
    s.eventually("the pod off the NoExecute node", 20, || {
        placements(&s, "app=agent") == ["n1", "n2", "n3"]
    });

    // A new template rolls out node by node and gets a second revision.
    s.ok(&["set", "image", "ds/agent", "c=agent:2"]);
    s.eventually("every pod at the new image", 30, || {
        let images = s.jsonpath(&["pods", "-l", "app=agent"], "{.items[*].spec.containers[0].image}");
        images.split_whitespace().collect::<Vec<_>>() == ["agent:2"; 3]
    });
    s.eventually("updatedNumberScheduled 3", 10, || {
        s.jsonpath(
            &["ds", "agent"],
            "{.status.updatedNumberScheduled}/{.status.numberReady}",
        ) == "3/3"
    });
    let revisions = s.ok(&["get", "controllerrevisions", "-l", "app=agent", "-o", "name"]);
    assert_eq!(revisions.lines().count(), 2, "{revisions}");
}

const STATEFULSET: &str = "apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  replicas: 3
  serviceName: nginx
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: nginx:1.27}]}
  volumeClaimTemplates:
  - metadata: {name: www}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
";

/// Records, in watch order, `created:<pod>`, `ready:<pod>` and `deleted:<pod>`.
async fn record_pods(client: kube::Client, log: Arc<Mutex<Vec<String>>>) {
    use futures::StreamExt;
    use k8s_openapi::api::core::v1::Pod;
    use kube::api::Api;
    use kube::runtime::watcher::{Config, Event, watcher};
    use std::collections::HashMap;
    let api: Api<Pod> = Api::default_namespaced(client);
    let mut seen: HashMap<String, bool> = HashMap::new();
    let mut events = watcher(api, Config::default().labels("app=web")).boxed();
    while let Some(Ok(event)) = events.next().await {
        let mut log = log.lock().unwrap();
        match event {
            Event::Apply(pod) | Event::InitApply(pod) => {
                let name = pod.metadata.name.clone().unwrap_or_default();
                let ready = pod
                    .status
                    .as_ref()
                    .and_then(|s| s.conditions.as_ref())
                    .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
                match seen.get(&name) {
                    None => {
                        log.push(format!("created:{name}"));
                        if ready {
                            log.push(format!("ready:{name}"));
                        }
                    }
                    Some(false) if ready => log.push(format!("ready:{name}")),
                    _ => {}
                }
                seen.insert(name, ready);
            }
            Event::Delete(pod) => {
                let name = pod.metadata.name.clone().unwrap_or_default();
                seen.remove(&name);
                log.push(format!("deleted:{name}"));
            }
            _ => {}
        }
    }
}

fn position(log: &[String], entry: &str) -> usize {
    log.iter()
        .position(|e| e == entry)
        .unwrap_or_else(|| panic!("{entry} not in {log:?}"))
}

fn web_pods(s: &ApiServer) -> Vec<String> {
    let out = s.jsonpath(&["pods", "-l", "app=web"], "{.items[*].metadata.name}");
    let mut names: Vec<String> = out.split_whitespace().map(String::from).collect();
    names.sort();
    names
}

/// `pod=image` for each web pod, sorted.
fn web_images(s: &ApiServer) -> Vec<String> {
    let out = s.jsonpath(
        &["pods", "-l", "app=web"],
        "{range .items[*]}{.metadata.name}={.spec.containers[0].image} {end}",
    );
    let mut v: Vec<String> = out.split_whitespace().map(String::from).collect();
    v.sort();
    v
}

#[test]
fn statefulset_orders_pods_and_rolls_out_above_the_partition() {
    let s = ApiServer::start_rbac();
    let _kcm = s.controllers("statefulset", &[]);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let client = rt.block_on(s.client());
    let log = Arc::new(Mutex::new(Vec::new()));
    rt.spawn(record_pods(client.clone(), log.clone()));
    rt.spawn(make_pods_ready(client));
    std::thread::sleep(std::time::Duration::from_millis(300));

    s.ok_stdin(&["apply", "-f", "-"], STATEFULSET);
    s.ok(&["rollout", "status", "statefulset/web", "--timeout=60s"]);
    assert_eq!(web_pods(&s), ["web-0", "web-1", "web-2"]);
    {
        // Each pod was created only once the one before it was Ready.
        let log = log.lock().unwrap();
        assert!(
            position(&log, "ready:web-0") < position(&log, "created:web-1"),
            "{log:?}"
        );
        assert!(
            position(&log, "ready:web-1") < position(&log, "created:web-2"),
            "{log:?}"
        );
    }
    let identity = s.jsonpath(&["pod", "web-1"],
        "{.metadata.labels.statefulset\\.kubernetes\\.io/pod-name}/{.metadata.labels.apps\\.kubernetes\\.io/pod-index}/{.spec.hostname}/{.spec.subdomain}/{.spec.volumes[0].persistentVolumeClaim.claimName}",
    );
    assert_eq!(identity, "web-1/1/web-1/nginx/www-web-1");
    let claims = s.jsonpath(&["pvc", "-l", "app=web"], "{.items[*].metadata.name}");
    assert_eq!(claims, "www-web-0 www-web-1 www-web-2");
    let first_revision = s.jsonpath(&["sts", "web"], "{.status.currentRevision}");
    let label = s.jsonpath(&["pod", "web-0"], "{.metadata.labels.controller-revision-hash}");
    assert_eq!(label, first_revision);
    let sts_events = || s.ok(&["get", "events", "--field-selector", "involvedObject.kind=StatefulSet"]);
    s.eventually("the creation events", 20, || {
        let events = sts_events();
        events.contains("create Pod web-0 in StatefulSet web successful")
            && events.contains("create Claim www-web-0 Pod web-0 in StatefulSet web success")
    });

    // Scaling down removes the highest ordinals first.
    s.ok(&["scale", "statefulset/web", "--replicas=1"]);
    s.eventually("only web-0 left", 20, || web_pods(&s) == ["web-0"]);
    {
        let log = log.lock().unwrap();
        assert!(
            position(&log, "deleted:web-2") < position(&log, "deleted:web-1"),
            "{log:?}"
        );
    }
    s.ok(&["scale", "statefulset/web", "--replicas=3"]);
    s.ok(&["rollout", "status", "statefulset/web", "--timeout=60s"]);
    s.eventually("the deletion event", 20, || {
        sts_events().contains("delete Pod web-2 in StatefulSet web successful")
    });

    // With partition 1, only web-2 and web-1 move to the new template, the higher first.
    log.lock().unwrap().clear();
    let patch = r#"{"spec":{"updateStrategy":{"rollingUpdate":{"partition":1}},
        "template":{"spec":{"containers":[{"name":"c","image":"nginx:1.28"}]}}}}"#;
    s.ok(&["patch", "sts", "web", "--type=merge", "-p", patch]);
    s.eventually("web-1 and web-2 updated", 30, || {
        web_images(&s) == ["web-0=nginx:1.27", "web-1=nginx:1.28", "web-2=nginx:1.28"]
    });
    s.eventually("status of the partial rollout", 20, || {
        s.jsonpath(&["sts", "web"], "{.status.updatedReplicas}/{.status.readyReplicas}") == "2/3"
    });
    let (current, update) = (
        s.jsonpath(&["sts", "web"], "{.status.currentRevision}"),
        s.jsonpath(&["sts", "web"], "{.status.updateRevision}"),
    );
    assert_eq!(current, first_revision);
    assert_ne!(current, update);
    assert_eq!(
        s.jsonpath(&["pod", "web-1"], "{.metadata.labels.controller-revision-hash}"),
        update
    );
    {
        let log = log.lock().unwrap();
        assert!(
            position(&log, "deleted:web-2") < position(&log, "deleted:web-1"),
            "{log:?}"
        );
        assert!(!log.contains(&"deleted:web-0".to_string()), "{log:?}");
    }

    // Partition 0 finishes the rollout: the update revision becomes current.
    s.ok(&[
        "patch",
        "sts",
        "web",
        "--type=merge",
        "-p",
        r#"{"spec":{"updateStrategy":{"rollingUpdate":{"partition":0}}}}"#,
    ]);
    s.eventually("the rollout complete", 30, || {
        s.jsonpath(&["sts", "web"], "{.status.currentRevision}/{.status.updatedReplicas}") == format!("{update}/3")
    });
    assert_eq!(
        web_images(&s),
        ["web-0=nginx:1.28", "web-1=nginx:1.28", "web-2=nginx:1.28"]
    );
    let revisions = s.ok(&["get", "controllerrevisions", "-l", "app=web", "-o", "name"]);
    assert_eq!(revisions.lines().count(), 2, "{revisions}");
}
