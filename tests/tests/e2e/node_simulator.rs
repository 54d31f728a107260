//! The node simulator (`e2e::sim`) against a real API server: simulated nodes are Ready and
//! renew their Leases until stopped; pods bound to them run with an IP, and a graceful delete
//! finishes at once, as a kubelet would make them.

use e2e::sim::{NodeSpec, SimNodes};
use e2e::{ApiServer, Store};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, PostParams};
use std::time::Duration;

#[test]
fn nodes_heartbeat_until_stopped_and_run_their_pods() {
    let s = ApiServer::start(Store::Embedded);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let client = rt.block_on(s.client());
    let mut spec = NodeSpec::new("hb", 2);
    spec.lease_interval = Some(Duration::from_millis(300));
    let sim = rt
        .block_on(SimNodes::start(client.clone(), spec))
        .expect("simulated nodes");
    assert_eq!(sim.node_names(), ["hb-0", "hb-1"]);
    let ready = s.ok(&[
        "get",
        "node",
        "hb-0",
        "-o",
        "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}",
    ]);
    assert_eq!(ready, "True");
    let taints = s.ok(&["get", "node", "hb-0", "-o", "jsonpath={.spec.taints}"]);
    assert_eq!(taints, "", "the registration not-ready taint is lifted");

    let leases: Api<Lease> = Api::namespaced(client.clone(), "kube-node-lease");
    let renewed = |name: &str| {
        rt.block_on(leases.get(name))
            .ok()
            .and_then(|l| l.spec)
            .and_then(|s| s.renew_time)
            .map(|t| t.0)
    };
    let (a0, b0) = (renewed("hb-0"), renewed("hb-1"));
    std::thread::sleep(Duration::from_millis(1000));
    assert!(renewed("hb-0") > a0 && renewed("hb-1") > b0, "leases renew");
    sim.stop_node("hb-1");
    std::thread::sleep(Duration::from_millis(400));
    let (a1, b1) = (renewed("hb-0"), renewed("hb-1"));
    std::thread::sleep(Duration::from_millis(1000));
    assert!(renewed("hb-0") > a1, "the other node still renews");
    assert_eq!(renewed("hb-1"), b1, "a stopped node does not");

    // A pod bound to a simulated node runs; deleting it finishes without a grace period wait.
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    let pod: Pod = serde_json::from_value(serde_json::json!({"metadata": {"name": "p"},
        "spec": {"nodeName": "hb-0", "containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10"}]}}))
    .expect("pod");
    rt.block_on(pods.create(&PostParams::default(), &pod))
        .expect("create pod");
    s.eventually("the pod to run", 15, || {
        s.ok(&[
            "get",
            "pod",
            "p",
            "-o",
            "jsonpath={.status.phase} {.status.hostIP} {.status.podIP}",
        ])
        .starts_with("Running 100.64.0.1 10.128.0.")
    });
    rt.block_on(pods.delete("p", &DeleteParams::default()))
        .expect("delete pod");
    s.eventually("the pod to be gone", 15, || {
        rt.block_on(pods.get_opt("p")).ok().flatten().is_none()
    });
}
