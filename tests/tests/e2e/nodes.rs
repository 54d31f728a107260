//! Node controllers of kube-controller-manager: pod CIDRs from --cluster-cidr, and simulated
//! nodes whose heartbeats stop going Unknown, getting tainted and losing the pods that do not
//! tolerate that for long.

use e2e::sim::{NodeSpec, SimNodes};
use e2e::{ApiServer, Store};
use std::time::Duration;

fn pod(name: &str, node: &str, tolerations: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}}}\nspec:\n  nodeName: {node}\n  tolerations: {tolerations}\n  containers: [{{name: c, image: nginx:1.27}}]\n"
    )
}

#[test]
fn nodes_get_pod_cidrs() {
    let s = ApiServer::start(Store::Embedded);
    let _kcm = s.controller_manager(&[
        "--controllers=nodeipam",
        "--allocate-node-cidrs",
        "--cluster-cidr=10.244.0.0/16",
    ]);
    for n in ["a", "b"] {
        s.ok_stdin(
            &["apply", "-f", "-"],
            &format!("apiVersion: v1\nkind: Node\nmetadata: {{name: {n}}}\n"),
        );
    }
    let cidr = |n: &str| s.jsonpath(&["node", n], "{.spec.podCIDR}");
    s.eventually("pod CIDRs", 15, || !cidr("a").is_empty() && !cidr("b").is_empty());
    let (a, b) = (cidr("a"), cidr("b"));
    assert_ne!(a, b);
    for c in [&a, &b] {
        assert!(c.starts_with("10.244.") && c.ends_with(".0/24"), "{c}");
    }
    assert_eq!(s.jsonpath(&["node", "a"], "{.spec.podCIDRs[0]}"), a);
}

#[test]
fn silent_nodes_go_unknown_get_tainted_and_lose_their_pods() {
    let s = ApiServer::start(Store::Embedded);
    let _kcm = s.controller_manager(&[
        "--controllers=nodelifecycle,taint-eviction-controller",
        "--node-monitor-grace-period=4s",
        "--node-monitor-period=500ms",
    ]);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut spec = NodeSpec::new("sim", 2);
    spec.lease_interval = Some(Duration::from_millis(500));
    let nodes = rt
        .block_on(async { SimNodes::start(s.client().await, spec).await })
        .expect("simulated nodes");
    let (quiet, alive) = ("sim-0", "sim-1");
    let soon = "[{key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 2}]";
    let forever = "[{key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute}]";
    s.ok_stdin(&["apply", "-f", "-"], &pod("leaves-soon", quiet, soon));
    s.ok_stdin(&["apply", "-f", "-"], &pod("stays", quiet, forever));
    s.ok_stdin(&["apply", "-f", "-"], &pod("elsewhere", alive, "[]"));
    let ready = |n: &str| s.jsonpath(&["node", n], "{.status.conditions[?(@.type==\"Ready\")].status}");
    let taints = |n: &str| s.jsonpath(&["node", n], "{.spec.taints}");
    s.eventually("both nodes Ready and untainted", 15, || {
        ready(quiet) == "True" && ready(alive) == "True" && taints(quiet).is_empty() && taints(alive).is_empty()
    });

    nodes.stop_node(quiet);
    s.eventually("the silent node goes Unknown", 30, || ready(quiet) == "Unknown");
    let message = s.jsonpath(&["node", quiet], "{.status.conditions[?(@.type==\"Ready\")].message}");
    assert_eq!(message, "Kubelet stopped posting node status.");
    s.eventually("unreachable NoExecute taint", 15, || {
        taints(quiet).contains("node.kubernetes.io/unreachable") && taints(quiet).contains("NoExecute")
    });
    let evicted = || {
        let events = s.ok(&["get", "events", "--field-selector", "reason=TaintManagerEviction"]);
        events.contains("Marking for deletion Pod default/leaves-soon")
    };
    s.eventually("the pod tolerating 2s evicted", 20, evicted);
    let gone_or_going = s.jsonpath(&["pod", "leaves-soon"], "{.metadata.deletionTimestamp}");
    let exists = s.kubectl(&["get", "pod", "leaves-soon"]).status.success();
    assert!(!exists || !gone_or_going.is_empty());
    std::thread::sleep(Duration::from_secs(2));
    let deleting = |p: &str| s.jsonpath(&["pod", p], "{.metadata.deletionTimestamp}");
    assert!(s.kubectl(&["get", "pod", "stays"]).status.success());
    assert!(deleting("stays").is_empty(), "a pod tolerating the taint forever stays");
    assert!(deleting("elsewhere").is_empty());
    assert_eq!(ready(alive), "True");
    assert!(taints(alive).is_empty(), "{}", taints(alive));

    // Every node silent: the controller suspects its own side (master disruption mode) and
    // lifts the NoExecute taints instead of evicting everything.
    nodes.stop_node(alive);
    s.eventually("the other node goes Unknown", 30, || ready(alive) == "Unknown");
    s.eventually("NoExecute taints lifted", 15, || {
        !taints(quiet).contains("NoExecute") && !taints(alive).contains("NoExecute")
    });
    assert!(taints(alive).contains("NoSchedule"), "{}", taints(alive));
    assert!(deleting("elsewhere").is_empty(), "no eviction while every zone is down");
    drop(nodes);
}
