//! kube-scheduler against a real API server and simulated nodes (`e2e::sim`): placement by
//! node selectors, affinity, taints, host ports and resources; the FailedScheduling messages
//! users see; anti-affinity and topology spreading; a pending pod scheduled once a node is
//! added; preemption; and one leader among two schedulers.

use e2e::sim::{NodeSpec, SimNodes};
use e2e::{ApiServer, Component, Store};
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::api::{Api, ListParams};
use serde_json::{Value, json};

struct Cluster {
    s: ApiServer,
    rt: tokio::runtime::Runtime,
    client: kube::Client,
    sim: SimNodes,
}

fn cluster(specs: &[NodeSpec]) -> Cluster {
    let s = ApiServer::start(Store::Embedded);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let client = rt.block_on(s.client());
    let sim = rt
        .block_on(SimNodes::start(client.clone(), specs[0].clone()))
        .expect("simulated nodes");
    for spec in &specs[1..] {
        rt.block_on(sim.add_nodes(spec)).expect("more simulated nodes");
    }
    Cluster { s, rt, client, sim }
}

fn pod(name: &str, spec: Value) -> Value {
    let mut spec = spec;
    if spec.get("containers").is_none() {
        spec["containers"] = json!([{"name": "app", "image": "registry.k8s.io/pause:3.10"}]);
    }
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"pod": name}}, "spec": spec})
}

fn requesting(name: &str, cpu: &str, extra: Value) -> Value {
    let mut p = pod(name, extra);
    p["spec"]["containers"][0]["resources"] = json!({"requests": {"cpu": cpu}});
    p
}

impl Cluster {
    fn create(&self, pods: &[Value]) {
        let api: Api<Pod> = Api::default_namespaced(self.client.clone());
        for p in pods {
            let pod: Pod = serde_json::from_value(p.clone()).expect("pod");
            self.rt
                .block_on(api.create(&Default::default(), &pod))
                .expect("create pod");
        }
    }

    fn get(&self, name: &str) -> Option<Pod> {
        let api: Api<Pod> = Api::default_namespaced(self.client.clone());
        self.rt.block_on(api.get_opt(name)).ok().flatten()
    }

    fn node_of(&self, name: &str) -> Option<String> {
        self.get(name)
            .and_then(|p| p.spec.and_then(|s| s.node_name))
            .filter(|n| !n.is_empty())
    }

    fn wait_scheduled(&self, name: &str) -> String {
        let mut node = None;
        self.s.eventually(&format!("{name} to be scheduled"), 20, || {
            node = self.node_of(name);
            node.is_some()
        });
        node.unwrap_or_default()
    }

    fn phase(&self, name: &str) -> String {
        self.get(name)
            .and_then(|p| p.status.and_then(|s| s.phase))
            .unwrap_or_default()
    }

    /// Messages of the pod's events with `reason`.
    fn events(&self, pod: &str, reason: &str) -> Vec<String> {
        let api: Api<Event> = Api::default_namespaced(self.client.clone());
        let list = self.rt.block_on(api.list(&ListParams::default())).expect("events");
        list.items
            .into_iter()
            .filter(|e| e.involved_object.name.as_deref() == Some(pod) && e.reason.as_deref() == Some(reason))
            .filter_map(|e| e.message)
            .collect()
    }

    fn wait_event(&self, pod: &str, reason: &str) -> String {
        let mut found = Vec::new();
        self.s.eventually(&format!("a {reason} event for {pod}"), 20, || {
            found = self.events(pod, reason);
            !found.is_empty()
        });
        found.pop().unwrap_or_default()
    }
}

fn fast_scheduler(c: &Cluster) -> Component {
    c.s.scheduler(&["--leader-elect=false"])
}

#[test]
fn places_pods_by_selector_affinity_taints_ports_and_resources() {
    let c = cluster(&[
        NodeSpec::new("plain", 2).capacity("2", "4Gi", 110).label("disk", "hdd"),
        NodeSpec::new("gpu", 1)
            .capacity("2", "4Gi", 110)
            .label("accel", "gpu")
            .taint("dedicated", "gpu", "NoSchedule"),
    ]);
    let sched = fast_scheduler(&c);
    let toleration = json!([{"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}]);
    let not_hdd = json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "disk", "operator": "NotIn", "values": ["hdd"]}]}]}}});
    let port = json!([{"name": "app", "image": "registry.k8s.io/pause:3.10", "ports": [{"containerPort": 80, "hostPort": 8080}]}]);
    c.create(&[
        pod("plain", json!({})),
        pod(
            "on-gpu",
            json!({"nodeSelector": {"accel": "gpu"}, "tolerations": toleration}),
        ),
        pod("gpu-untolerated", json!({"nodeSelector": {"accel": "gpu"}})),
        pod("not-hdd", json!({"affinity": not_hdd, "tolerations": toleration})),
        requesting("huge", "3", json!({})),
        pod("other-scheduler", json!({"schedulerName": "someone-else"})),
        pod("port-1", json!({"containers": port})),
        pod("port-2", json!({"containers": port})),
        pod("port-3", json!({"containers": port})),
    ]);
    assert!(c.wait_scheduled("plain").starts_with("plain-"));
    assert_eq!(c.wait_scheduled("on-gpu"), "gpu-0");
    assert_eq!(c.wait_scheduled("not-hdd"), "gpu-0");
    let (p1, p2) = (c.wait_scheduled("port-1"), c.wait_scheduled("port-2"));
    assert!(
        p1.starts_with("plain-") && p2.starts_with("plain-") && p1 != p2,
        "{p1} {p2}"
    );

    // What users see: events, the condition, and the simulated kubelet's Running status.
    let scheduled = c.wait_event("plain", "Scheduled");
    assert_eq!(
        scheduled,
        format!(
            "Successfully assigned default/plain to {}",
            c.node_of("plain").unwrap_or_default()
        )
    );
    c.s.eventually("plain to run", 20, || c.phase("plain") == "Running");
    let describe = c.s.ok(&["describe", "pod", "plain"]);
    assert!(
        describe.contains("default-scheduler") && describe.contains("Successfully assigned"),
        "{describe}"
    );
    let cond = c.s.ok(&[
        "get",
        "pod",
        "plain",
        "-o",
        "jsonpath={.status.conditions[?(@.type==\"PodScheduled\")].status}",
    ]);
    assert_eq!(cond, "True");

    let preemption_useless = "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.";
    assert_eq!(
        c.wait_event("gpu-untolerated", "FailedScheduling"),
        format!(
            "0/3 nodes are available: 1 node(s) had untolerated taint {{dedicated: gpu}}, 2 node(s) didn't match Pod's node affinity/selector. {preemption_useless}"
        )
    );
    assert_eq!(
        c.wait_event("huge", "FailedScheduling"),
        "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient cpu. \
         preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod."
    );
    assert!(
        c.wait_event("port-3", "FailedScheduling")
            .contains("2 node(s) didn't have free ports for the requested pod ports")
    );
    let reason = c.s.ok(&[
        "get",
        "pod",
        "huge",
        "-o",
        "jsonpath={.status.conditions[?(@.type==\"PodScheduled\")].reason}",
    ]);
    assert_eq!(reason, "Unschedulable");
    // Pods for another scheduler are left alone.
    assert_eq!(c.node_of("other-scheduler"), None);
    assert!(c.events("other-scheduler", "FailedScheduling").is_empty());

    // Health and metrics on the secure port.
    let url = format!("https://127.0.0.1:{}", sched.port);
    let curl = |path: &str, token: Option<&str>| {
        let mut cmd = std::process::Command::new("curl");
        cmd.args(["-sk", &format!("{url}{path}")]);
        if let Some(t) = token {
            cmd.args(["-H", &format!("Authorization: Bearer {t}")]);
        }
        String::from_utf8_lossy(&cmd.output().expect("curl").stdout).into_owned()
    };
    assert_eq!(curl("/healthz", None), "ok");
    assert_eq!(curl("/readyz", None), "ok");
    // Metrics only for callers the API server authenticates and authorizes.
    assert_eq!(curl("/metrics", None), "Unauthorized\n");
    assert!(
        curl("/metrics", Some(e2e::ADMIN_TOKEN))
            .contains("scheduler_schedule_attempts_total{profile=\"default-scheduler\",result=\"scheduled\"} 5")
    );
}

#[test]
fn anti_affinity_and_topology_spread_spread_replicas() {
    let c = cluster(&[
        NodeSpec::new("za", 2).label("topology.kubernetes.io/zone", "a"),
        NodeSpec::new("zb", 1).label("topology.kubernetes.io/zone", "b"),
    ]);
    let _sched = fast_scheduler(&c);
    let web = |name: &str| {
        let mut p = pod(
            name,
            json!({"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "kubernetes.io/hostname"}]}}}),
        );
        p["metadata"]["labels"]["app"] = "web".into();
        p
    };
    let spread = |name: &str| {
        let mut p = pod(
            name,
            json!({"topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
            "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": {"app": "db"}}}]}),
        );
        p["metadata"]["labels"]["app"] = "db".into();
        p
    };
    c.create(&[web("web-0"), web("web-1"), web("web-2"), web("web-3")]);
    let mut nodes: Vec<String> = ["web-0", "web-1", "web-2"]
        .iter()
        .map(|p| c.wait_scheduled(p))
        .collect();
    nodes.sort();
    nodes.dedup();
    assert_eq!(nodes.len(), 3, "one replica per node: {nodes:?}");
    assert_eq!(
        c.wait_event("web-3", "FailedScheduling"),
        "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. \
         preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."
    );

    c.create(&[spread("db-0"), spread("db-1"), spread("db-2"), spread("db-3")]);
    let zones: Vec<bool> = ["db-0", "db-1", "db-2", "db-3"]
        .iter()
        .map(|p| c.wait_scheduled(p).starts_with("za-"))
        .collect();
    assert_eq!(zones.iter().filter(|a| **a).count(), 2, "two per zone: {zones:?}");
}

#[test]
fn pending_pod_is_scheduled_when_a_node_is_added() {
    let c = cluster(&[NodeSpec::new("small", 1).capacity("1", "2Gi", 110)]);
    let _sched = fast_scheduler(&c);
    c.create(&[requesting("big", "2", json!({}))]);
    assert!(
        c.wait_event("big", "FailedScheduling")
            .starts_with("0/1 nodes are available: 1 Insufficient cpu.")
    );
    let spec = NodeSpec::new("large", 1).capacity("4", "8Gi", 110);
    let added = c.rt.block_on(c.sim.add_node(&spec)).expect("node added");
    assert_eq!(c.wait_scheduled("big"), added);
    c.s.eventually("big to run", 20, || c.phase("big") == "Running");
}

#[test]
fn higher_priority_pod_preempts_a_lower_one() {
    let c = cluster(&[NodeSpec::new("n", 1).capacity("2", "4Gi", 110)]);
    let _sched = fast_scheduler(&c);
    c.s.ok(&["create", "priorityclass", "high", "--value=1000"]);
    c.create(&[requesting("low", "1500m", json!({}))]);
    c.wait_scheduled("low");
    c.create(&[requesting("important", "1500m", json!({"priorityClassName": "high"}))]);
    let preempted = c.wait_event("low", "Preempted");
    assert!(
        preempted.starts_with("Preempted by pod ") && preempted.ends_with(" on node n-0"),
        "{preempted}"
    );
    assert_eq!(c.wait_scheduled("important"), "n-0");
    c.s.eventually("the victim to be gone", 20, || c.get("low").is_none());
}

#[test]
fn one_scheduler_leads_at_a_time() {
    let c = cluster(&[NodeSpec::new("n", 2)]);
    let fast = [
        "--leader-elect-lease-duration=3s",
        "--leader-elect-renew-deadline=2s",
        "--leader-elect-retry-period=500ms",
    ];
    let mut first = c.s.scheduler(&fast);
    c.s.eventually("a leader", 15, || first.log().contains("successfully acquired lease"));
    let second = c.s.scheduler(&fast);
    c.create(&[pod("before", json!({}))]);
    c.wait_scheduled("before");
    assert!(
        !second.log().contains("successfully acquired lease"),
        "two leaders:\n{}",
        second.log()
    );
    first.kill9();
    c.s.eventually("the standby to lead", 15, || {
        second.log().contains("successfully acquired lease")
    });
    c.create(&[pod("after", json!({}))]);
    c.wait_scheduled("after");
    let holder = c.s.ok(&[
        "-n",
        "kube-system",
        "get",
        "lease",
        "kube-scheduler",
        "-o",
        "jsonpath={.spec.holderIdentity}",
    ]);
    assert!(!holder.is_empty());
}

#[test]
fn bad_configuration_is_a_one_line_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cases = [
        (
            "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\npercentageOfNodesToScore: 150\n",
            "not in valid range",
        ),
        (
            "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofiles:\n- plugins:\n    filter:\n      enabled:\n      - name: Nope\n",
            "plugin \"Nope\" does not exist",
        ),
        (
            "apiVersion: v1\nkind: ConfigMap\n",
            "no kind \"ConfigMap\" is registered",
        ),
        ("{not yaml", "decoding"),
    ];
    for (i, (text, want)) in cases.into_iter().enumerate() {
        let path = dir.path().join(format!("config-{i}.yaml"));
        std::fs::write(&path, text).expect("config file");
        let out = std::process::Command::new(e2e::binary("kube-scheduler"))
            .args(["--config", &path.to_string_lossy()])
            .output()
            .expect("kube-scheduler");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "case {i}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "case {i}: {stderr}");
        assert!(stderr.contains(want), "case {i}: {stderr}");
    }
}
