//! Node controllers of kube-controller-manager: pod CIDRs from --cluster-cidr, nodes that stop
//! posting status going Unknown and tainted, and taint-based eviction honouring
//! tolerationSeconds.

use e2e::{ApiServer, Store};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

fn node(name: &str) -> String {
    format!("apiVersion: v1\nkind: Node\nmetadata: {{name: {name}, labels: {{kubernetes.io/hostname: {name}}}}}\n")
}

fn heartbeat(s: &ApiServer, name: &str) {
    let now = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let patch = format!(
        r#"{{"status":{{"conditions":[{{"type":"Ready","status":"True","reason":"KubeletReady","lastHeartbeatTime":"{now}","lastTransitionTime":"{now}"}}]}}}}"#
    );
    s.ok(&[
        "patch",
        "node",
        name,
        "--subresource=status",
        "--type=strategic",
        "-p",
        &patch,
    ]);
}

fn pod(name: &str, node: &str, tolerations: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}}}\nspec:\n  nodeName: {node}\n  tolerations: {tolerations}\n  containers: [{{name: c, image: nginx:1.27}}]\n"
    )
}

#[test]
fn silent_nodes_go_unknown_get_tainted_and_lose_their_pods() {
    let s = ApiServer::start(Store::Embedded);
    let _kcm = s.controller_manager(&[
        "--controllers=nodeipam,nodelifecycle,taint-eviction-controller",
        "--allocate-node-cidrs",
        "--cluster-cidr=10.244.0.0/16",
        "--node-monitor-grace-period=3s",
        "--node-monitor-period=500ms",
    ]);
    for n in ["quiet", "alive"] {
        s.ok_stdin(&["apply", "-f", "-"], &node(n));
        heartbeat(&s, n);
    }
    // Pod CIDRs: one /24 each, distinct.
    let cidr = |n: &str| s.ok(&["get", "node", n, "-o", "jsonpath={.spec.podCIDR}"]);
    s.eventually("pod CIDRs", 15, || {
        !cidr("quiet").is_empty() && !cidr("alive").is_empty()
    });
    let (a, b) = (cidr("quiet"), cidr("alive"));
    assert_ne!(a, b);
    assert!(a.starts_with("10.244.") && a.ends_with(".0/24"), "{a}");

    // Ready nodes lose the not-ready taint they were registered with.
    let taints = |n: &str| s.ok(&["get", "node", n, "-o", "jsonpath={.spec.taints}"]);
    s.eventually("ready nodes untainted", 15, || {
        taints("quiet").is_empty() && taints("alive").is_empty()
    });

    // "alive" keeps posting status; "quiet" does not.
    let stop = Arc::new(AtomicBool::new(false));
    std::thread::scope(|scope| {
        scope.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                heartbeat(&s, "alive");
                std::thread::sleep(std::time::Duration::from_millis(700));
            }
        });
        let soon = "[{key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 2}]";
        let forever = "[{key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute}]";
        s.ok_stdin(&["apply", "-f", "-"], &pod("leaves-soon", "quiet", soon));
        s.ok_stdin(&["apply", "-f", "-"], &pod("stays", "quiet", forever));
        s.ok_stdin(&["apply", "-f", "-"], &pod("elsewhere", "alive", "[]"));
        let ready = |n: &str| {
            s.ok(&[
                "get",
                "node",
                n,
                "-o",
                "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}",
            ])
        };
        s.eventually("quiet goes Unknown", 20, || ready("quiet") == "Unknown");
        let reason = s.ok(&[
            "get",
            "node",
            "quiet",
            "-o",
            "jsonpath={.status.conditions[?(@.type==\"Ready\")].message}",
        ]);
        assert_eq!(reason, "Kubelet stopped posting node status.");
        s.eventually("unreachable NoExecute taint", 15, || {
            taints("quiet").contains("node.kubernetes.io/unreachable") && taints("quiet").contains("NoExecute")
        });
        let deleting = |p: &str| s.ok(&["get", "pod", p, "-o", "jsonpath={.metadata.deletionTimestamp}"]);
        s.eventually("the pod tolerating 2s evicted", 20, || {
            !deleting("leaves-soon").is_empty()
        });
        let cond = s.ok(&[
            "get",
            "pod",
            "leaves-soon",
            "-o",
            "jsonpath={.status.conditions[?(@.type==\"DisruptionTarget\")].reason}",
        ]);
        assert_eq!(cond, "DeletionByTaintManager");
        let events = s.ok(&["get", "events", "--field-selector", "reason=TaintManagerEviction"]);
        assert!(
            events.contains("Marking for deletion Pod default/leaves-soon"),
            "{events}"
        );
        std::thread::sleep(std::time::Duration::from_secs(2));
        assert!(deleting("stays").is_empty(), "a pod tolerating the taint forever stays");
        assert!(deleting("elsewhere").is_empty());
        assert_eq!(ready("alive"), "True");
        assert!(taints("alive").is_empty(), "{}", taints("alive"));
        stop.store(true, Ordering::Relaxed);
    });
}
