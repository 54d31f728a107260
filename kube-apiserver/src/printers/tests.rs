//! Table-driven tests of the printers against upstream v1.33 behaviour.

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use super::{default_printer, human_age, printer_for, row_conditions};

fn now() -> Timestamp {
    "2025-06-01T12:00:00Z".parse().expect("valid test time")
}

/// The RFC 3339 time `secs` seconds before [`now`].
fn ago(secs: i64) -> String {
    (now() - SignedDuration::from_secs(secs)).to_string()
}

/// Object metadata with a name created `secs` seconds ago.
fn meta(name: &str, secs: i64) -> Value {
    json!({"name": name, "creationTimestamp": ago(secs)})
}

/// Cells of `obj` with the printer for `group`/`resource`, checked to have one cell per column.
fn cells(group: &str, resource: &str, obj: &Value) -> Vec<Value> {
    let printer = printer_for(group, resource).expect("printer exists");
    let row = (printer.row)(obj, now());
    assert_eq!(row.len(), printer.columns.len(), "{group}/{resource} row width");
    row
}

fn column_names(group: &str, resource: &str) -> Vec<(&'static str, i32)> {
    let printer = printer_for(group, resource).expect("printer exists");
    printer.columns.iter().map(|c| (c.name, c.priority)).collect()
}

#[test]
fn human_age_boundaries() {
    let cases: &[(i64, &str)] = &[
        (0, "0s"),
        (-1, "0s"),
        (-2, "<invalid>"),
        (59, "59s"),
        (119, "119s"),
        (120, "2m"),
        (150, "2m30s"),
        (599, "9m59s"),
        (600, "10m"),
        (3 * 3600 - 1, "179m"),
        (3 * 3600, "3h"),
        (3 * 3600 + 12 * 60, "3h12m"),
        (8 * 3600 - 1, "7h59m"),
        (8 * 3600, "8h"),
        (47 * 3600 + 59 * 60, "47h"),
        (48 * 3600, "2d"),
        (50 * 3600, "2d2h"),
        (8 * 86400 - 1, "7d23h"),
        (8 * 86400, "8d"),
        (2 * 365 * 86400 - 1, "729d"),
        (2 * 365 * 86400, "2y"),
        (2 * 365 * 86400 + 10 * 86400, "2y10d"),
        (8 * 365 * 86400, "8y"),
        (10 * 365 * 86400 + 86400, "10y"),
    ];
    for (secs, want) in cases {
        assert_eq!(human_age(Some(&ago(*secs)), now()), *want, "{secs}s");
    }
    assert_eq!(human_age(None, now()), "<unknown>");
    assert_eq!(human_age(Some("yesterday"), now()), "<unknown>");
}

#[test]
fn default_printer_shows_name_and_created_at() {
    let printer = default_printer();
    let names: Vec<_> = printer.columns.iter().map(|c| (c.name, c.kind, c.format)).collect();
    assert_eq!(names, [("Name", "string", "name"), ("Created At", "date", "")]);
    let obj = json!({"metadata": {"name": "r", "creationTimestamp": "2025-06-01T11:00:00.5Z"}});
    assert_eq!((printer.row)(&obj, now()), [json!("r"), json!("2025-06-01T11:00:00Z")]);
    assert_eq!(
        (printer.row)(&json!({}), now()),
        [json!(""), json!("0001-01-01T00:00:00Z")]
    );
}

#[test]
fn resources_without_printers_use_the_default() {
    for (group, resource) in [
        ("rbac.authorization.k8s.io", "roles"),
        ("rbac.authorization.k8s.io", "clusterroles"),
        ("", "limitranges"),
        ("example.com", "widgets"),
    ] {
        assert!(printer_for(group, resource).is_none(), "{group}/{resource}");
    }
}

#[test]
fn every_printer_survives_an_empty_object() {
    let resources: &[(&str, &[&str])] = &[
        (
            "",
            &[
                "pods",
                "podtemplates",
                "replicationcontrollers",
                "services",
                "endpoints",
                "nodes",
                "events",
                "namespaces",
                "secrets",
                "serviceaccounts",
                "persistentvolumes",
                "persistentvolumeclaims",
                "resourcequotas",
                "componentstatuses",
                "configmaps",
            ],
        ),
        (
            "apps",
            &[
                "deployments",
                "replicasets",
                "daemonsets",
                "statefulsets",
                "controllerrevisions",
            ],
        ),
        ("batch", &["jobs", "cronjobs"]),
        ("autoscaling", &["horizontalpodautoscalers"]),
        ("coordination.k8s.io", &["leases", "leasecandidates"]),
        ("apiregistration.k8s.io", &["apiservices"]),
        ("discovery.k8s.io", &["endpointslices"]),
        ("events.k8s.io", &["events"]),
        (
            "networking.k8s.io",
            &["ingresses", "ingressclasses", "networkpolicies", "servicecidrs"],
        ),
        ("policy", &["poddisruptionbudgets"]),
        ("rbac.authorization.k8s.io", &["rolebindings", "clusterrolebindings"]),
        ("scheduling.k8s.io", &["priorityclasses"]),
        (
            "certificates.k8s.io",
            &["certificatesigningrequests", "clustertrustbundles"],
        ),
        ("node.k8s.io", &["runtimeclasses"]),
        (
            "storage.k8s.io",
            &[
                "storageclasses",
                "csidrivers",
                "csinodes",
                "volumeattachments",
                "csistoragecapacities",
            ],
        ),
        (
            "admissionregistration.k8s.io",
            &[
                "mutatingwebhookconfigurations",
                "validatingwebhookconfigurations",
                "validatingadmissionpolicies",
                "validatingadmissionpolicybindings",
            ],
        ),
        (
            "flowcontrol.apiserver.k8s.io",
            &["flowschemas", "prioritylevelconfigurations"],
        ),
    ];
    for (group, list) in resources {
        for resource in *list {
            let row = cells(group, resource, &json!({}));
            let printer = printer_for(group, resource).expect("printer exists");
            let name_col = printer
                .columns
                .iter()
                .position(|c| c.name == "Name")
                .expect("Name column");
            assert_eq!(printer.columns[name_col].format, "name");
            assert!(row[name_col].is_string());
        }
    }
    // Upstream quirk kept: ipaddresses declare two columns but emit an Age cell as well.
    let ip = printer_for("networking.k8s.io", "ipaddresses").expect("printer exists");
    assert_eq!(ip.columns.len(), 2);
    assert_eq!(
        (ip.row)(&json!({}), now()),
        [json!(""), json!("<none>"), json!("<unknown>")]
    );
}

#[test]
fn pod_columns() {
    assert_eq!(
        column_names("", "pods"),
        [
            ("Name", 0),
            ("Ready", 0),
            ("Status", 0),
            ("Restarts", 0),
            ("Age", 0),
            ("IP", 1),
            ("Node", 1),
            ("Nominated Node", 1),
            ("Readiness Gates", 1),
        ]
    );
}

fn pod(status: Value) -> Value {
    json!({"metadata": meta("p", 30), "spec": {"containers": [{"name": "app"}]}, "status": status})
}

fn with(mut base: Value, path: &[&str], value: Value) -> Value {
    let mut cur = &mut base;
    for key in &path[..path.len() - 1] {
        cur = &mut cur[*key];
    }
    cur[path[path.len() - 1]] = value;
    base
}

/// (case, pod, ready, status, restarts)
fn pod_cases() -> Vec<(&'static str, Value, &'static str, &'static str, String)> {
    let sidecar_spec = json!({
        "initContainers": [{"name": "proxy", "restartPolicy": "Always"}],
        "containers": [{"name": "app"}],
    });
    vec![
        (
            "pending",
            pod(json!({"phase": "Pending"})),
            "0/1",
            "Pending",
            "0".into(),
        ),
        (
            "creating",
            pod(json!({"phase": "Pending", "containerStatuses": [
                {"name": "app", "state": {"waiting": {"reason": "ContainerCreating"}}}]})),
            "0/1",
            "ContainerCreating",
            "0".into(),
        ),
        (
            "running",
            pod(json!({"phase": "Running", "containerStatuses": [
                {"name": "app", "ready": true, "restartCount": 0, "state": {"running": {}}}]})),
            "1/1",
            "Running",
            "0".into(),
        ),
        (
            "crash loop with last restart",
            pod(json!({"phase": "Running", "containerStatuses": [{
                "name": "app", "ready": false, "restartCount": 5,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(300)}}}]})),
            "0/1",
            "CrashLoopBackOff",
            "5 (5m ago)".into(),
        ),
        (
            "restarts without a termination time",
            pod(json!({"phase": "Running", "containerStatuses": [
                {"name": "app", "ready": true, "restartCount": 3, "state": {"running": {}}}]})),
            "1/1",
            "Running",
            "3".into(),
        ),
        (
            "exit code without reason",
            pod(json!({"phase": "Failed", "containerStatuses": [
                {"name": "app", "state": {"terminated": {"exitCode": 2}}}]})),
            "0/1",
            "ExitCode:2",
            "0".into(),
        ),
        (
            "completed",
            pod(json!({"phase": "Succeeded", "containerStatuses": [
                {"name": "app", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]})),
            "0/1",
            "Completed",
            "0".into(),
        ),
        (
            "completed but a container still runs",
            with(
                pod(json!({"phase": "Running", "containerStatuses": [
                    {"name": "app", "ready": true, "state": {"running": {}}},
                    {"name": "job", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]})),
                &["spec", "containers"],
                json!([{"name": "app"}, {"name": "job"}]),
            ),
            "1/2",
            "NotReady",
            "0".into(),
        ),
        (
            "waiting on first init container",
            with(
                pod(json!({"phase": "Pending", "initContainerStatuses": [
                    {"name": "init", "state": {"running": {}}}]})),
                &["spec", "initContainers"],
                json!([{"name": "init"}]),
            ),
            "0/1",
            "Init:0/1",
            "0".into(),
        ),
        (
            "second init container waiting",
            with(
                pod(json!({"phase": "Pending", "initContainerStatuses": [
                    {"name": "a", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
                    {"name": "b", "state": {"waiting": {"reason": "PodInitializing"}}}]})),
                &["spec", "initContainers"],
                json!([{"name": "a"}, {"name": "b"}]),
            ),
            "0/1",
            "Init:1/2",
            "0".into(),
        ),
        (
            "init crash loop counts init restarts",
            with(
                pod(json!({"phase": "Pending", "initContainerStatuses": [{
                    "name": "init", "restartCount": 4,
                    "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                    "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(90)}}}]})),
                &["spec", "initContainers"],
                json!([{"name": "init"}]),
            ),
            "0/1",
            "Init:CrashLoopBackOff",
            "4 (90s ago)".into(),
        ),
        (
            "init container killed by a signal",
            with(
                pod(json!({"phase": "Pending", "initContainerStatuses": [
                    {"name": "init", "state": {"terminated": {"exitCode": 137, "signal": 9}}}]})),
                &["spec", "initContainers"],
                json!([{"name": "init"}]),
            ),
            "0/1",
            "Init:Signal:9",
            "0".into(),
        ),
        (
            "init container error",
            with(
                pod(json!({"phase": "Pending", "initContainerStatuses": [
                    {"name": "init", "state": {"terminated": {"exitCode": 1, "reason": "Error"}}}]})),
                &["spec", "initContainers"],
                json!([{"name": "init"}]),
            ),
            "0/1",
            "Init:Error",
            "0".into(),
        ),
        (
            "sidecar counted as a container",
            json!({"metadata": meta("p", 30), "spec": sidecar_spec, "status": {
                "phase": "Running",
                "conditions": [{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "True"}],
                "initContainerStatuses": [{
                    "name": "proxy", "started": true, "ready": true, "restartCount": 2,
                    "state": {"running": {}},
                    "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(180)}}}],
                "containerStatuses": [{"name": "app", "ready": true, "state": {"running": {}}}]}}),
            "2/2",
            "Running",
            "2 (3m ago)".into(),
        ),
        (
            "terminating",
            with(
                pod(json!({"phase": "Running", "containerStatuses": [
                    {"name": "app", "ready": true, "state": {"running": {}}}]})),
                &["metadata", "deletionTimestamp"],
                json!(ago(5)),
            ),
            "1/1",
            "Terminating",
            "0".into(),
        ),
        (
            "terminating but already succeeded",
            with(
                pod(json!({"phase": "Succeeded", "containerStatuses": [
                    {"name": "app", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]})),
                &["metadata", "deletionTimestamp"],
                json!(ago(5)),
            ),
            "0/1",
            "Completed",
            "0".into(),
        ),
        (
            "node lost",
            with(
                pod(json!({"phase": "Running", "reason": "NodeLost"})),
                &["metadata", "deletionTimestamp"],
                json!(ago(5)),
            ),
            "0/1",
            "Unknown",
            "0".into(),
        ),
        (
            "evicted",
            pod(json!({"phase": "Failed", "reason": "Evicted"})),
            "0/1",
            "Evicted",
            "0".into(),
        ),
        (
            "scheduling gated",
            pod(json!({"phase": "Pending", "conditions": [
                {"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]})),
            "0/1",
            "SchedulingGated",
            "0".into(),
        ),
    ]
}

#[test]
fn pod_status_ready_and_restarts() {
    for (case, obj, ready, status, restarts) in pod_cases() {
        let row = cells("", "pods", &obj);
        assert_eq!(row[0], json!("p"), "{case}");
        assert_eq!(row[1], json!(ready), "{case}");
        assert_eq!(row[2], json!(status), "{case}");
        assert_eq!(row[3], json!(restarts), "{case}");
        assert_eq!(row[4], json!("30s"), "{case}");
    }
}

#[test]
fn pod_wide_columns() {
    let bare = cells("", "pods", &pod(json!({"phase": "Pending"})));
    assert_eq!(
        bare[5..],
        [json!("<none>"), json!("<none>"), json!("<none>"), json!("<none>")]
    );
    let placed = json!({
        "metadata": meta("web", 0),
        "spec": {"containers": [{"name": "app"}], "nodeName": "node-1",
                 "readinessGates": [{"conditionType": "a"}, {"conditionType": "b"}]},
        "status": {"phase": "Running", "podIP": "10.1.0.9", "podIPs": [{"ip": "10.1.0.5"}, {"ip": "fd00::5"}],
                   "nominatedNodeName": "node-2",
                   "conditions": [{"type": "a", "status": "True"}, {"type": "b", "status": "False"}]},
    });
    assert_eq!(
        cells("", "pods", &placed)[5..],
        [json!("10.1.0.5"), json!("node-1"), json!("node-2"), json!("1/2")]
    );
    let only_pod_ip = pod(json!({"phase": "Running", "podIP": "10.1.0.9"}));
    assert_eq!(cells("", "pods", &only_pod_ip)[5], json!("10.1.0.9"));
}

#[test]
fn pod_row_conditions() {
    let done = pod(json!({"phase": "Succeeded"}));
    let expected = json!([{"type": "Completed", "status": "True", "reason": "Succeeded",
                           "message": "The pod has completed successfully."}]);
    assert_eq!(row_conditions("", "pods", &done), Some(expected));
    assert_eq!(row_conditions("", "pods", &pod(json!({"phase": "Running"}))), None);
    assert_eq!(row_conditions("apps", "deployments", &done), None);
}

#[test]
fn deployments() {
    let deployment = |selector: Value| {
        json!({
            "metadata": meta("web", 5 * 3600 + 12 * 60),
            "spec": {"replicas": 3, "selector": selector,
                     "template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"},
                                                          {"name": "log", "image": "busybox"}]}}},
            "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2},
        })
    };
    assert_eq!(
        cells(
            "apps",
            "deployments",
            &deployment(json!({"matchLabels": {"app": "web"}}))
        ),
        [
            json!("web"),
            json!("2/3"),
            json!(3),
            json!(2),
            json!("5h12m"),
            json!("nginx,log"),
            json!("nginx:1.27,busybox"),
            json!("app=web")
        ]
    );
    let cases = [
        (json!({"matchLabels": {"b": "1", "a": "2"}}), "a=2,b=1"),
        (
            json!({"matchLabels": {"tier": "web"}, "matchExpressions": [
                {"key": "env", "operator": "In", "values": ["prod", "dev"]},
                {"key": "zone", "operator": "DoesNotExist"},
                {"key": "gpu", "operator": "Exists"}]}),
            "env in (dev,prod),gpu,tier=web,!zone",
        ),
        (
            json!({"matchExpressions": [{"key": "x", "operator": "NotIn", "values": ["1"]}]}),
            "x notin (1)",
        ),
        (json!({}), ""),
        (
            json!({"matchExpressions": [{"key": "x", "operator": "Bogus"}]}),
            "<invalid>",
        ),
    ];
    for (selector, want) in cases {
        assert_eq!(cells("apps", "deployments", &deployment(selector))[7], json!(want));
    }
    let defaulted = json!({"metadata": meta("d", 0)});
    assert_eq!(
        cells("apps", "deployments", &defaulted)[1..4],
        [json!("0/1"), json!(0), json!(0)]
    );
}

fn service(spec: Value, status: Value) -> Value {
    json!({"metadata": meta("svc", 60), "spec": spec, "status": status})
}

#[test]
fn services() {
    let cases = [
        (
            "cluster ip",
            service(
                json!({"type": "ClusterIP", "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"],
                       "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
                       "selector": {"k8s-app": "kube-dns"}}),
                json!({}),
            ),
            ["ClusterIP", "10.96.0.10", "<none>", "53/UDP,53/TCP", "k8s-app=kube-dns"],
        ),
        (
            "node port",
            service(
                json!({"type": "NodePort", "clusterIP": "10.96.1.1",
                       "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}],
                       "externalIPs": ["1.2.3.4", "5.6.7.8"]}),
                json!({}),
            ),
            ["NodePort", "10.96.1.1", "1.2.3.4,5.6.7.8", "80:30080/TCP", "<none>"],
        ),
        (
            "load balancer pending",
            service(
                json!({"type": "LoadBalancer", "clusterIPs": ["10.96.2.2"],
                       "ports": [{"port": 443, "nodePort": 31443, "protocol": "TCP"}], "selector": {"app": "x"}}),
                json!({"loadBalancer": {}}),
            ),
            ["LoadBalancer", "10.96.2.2", "<pending>", "443:31443/TCP", "app=x"],
        ),
        (
            "load balancer with addresses",
            service(
                json!({"type": "LoadBalancer", "clusterIPs": ["10.96.2.3"], "externalIPs": ["9.9.9.9"],
                       "ports": [{"port": 80, "nodePort": 30001, "protocol": "TCP"}]}),
                json!({"loadBalancer": {"ingress": [{"ip": "3.3.3.3"}, {"hostname": "lb.example.com"},
                                                    {"ip": "1.1.1.1"}, {"ip": "3.3.3.3"}]}}),
            ),
            [
                "LoadBalancer",
                "10.96.2.3",
                "1.1.1.1,3.3.3.3,lb.example.com,9.9.9.9",
                "80:30001/TCP",
                "<none>",
            ],
        ),
        (
            "external name",
            service(
                json!({"type": "ExternalName", "externalName": "db.example.com"}),
                json!({}),
            ),
            ["ExternalName", "<none>", "db.example.com", "<none>", "<none>"],
        ),
        (
            "headless",
            service(
                json!({"type": "ClusterIP", "clusterIP": "None", "clusterIPs": ["None"]}),
                json!({}),
            ),
            ["ClusterIP", "None", "<none>", "<none>", "<none>"],
        ),
    ];
    for (case, obj, [kind, ip, external, ports, selector]) in cases {
        assert_eq!(
            cells("", "services", &obj),
            [
                json!("svc"),
                json!(kind),
                json!(ip),
                json!(external),
                json!(ports),
                json!("60s"),
                json!(selector)
            ],
            "{case}"
        );
    }
}

#[test]
fn nodes() {
    let ready = json!({
        "metadata": {"name": "cp-1", "creationTimestamp": ago(3 * 86400),
                     "labels": {"node-role.kubernetes.io/control-plane": "", "kubernetes.io/role": "worker",
                                "node-role.kubernetes.io/": "x"}},
        "status": {
            "conditions": [{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": "True"}],
            "addresses": [{"type": "Hostname", "address": "cp-1"}, {"type": "InternalIP", "address": "192.168.1.10"}],
            "nodeInfo": {"kubeletVersion": "v1.33.1", "osImage": "Debian GNU/Linux 12 (bookworm)",
                         "kernelVersion": "6.1.0-18-amd64", "containerRuntimeVersion": "containerd://1.7.13"},
        },
    });
    assert_eq!(
        cells("", "nodes", &ready),
        [
            json!("cp-1"),
            json!("Ready"),
            json!("control-plane,worker"),
            json!("3d"),
            json!("v1.33.1"),
            json!("192.168.1.10"),
            json!("<none>"),
            json!("Debian GNU/Linux 12 (bookworm)"),
            json!("6.1.0-18-amd64"),
            json!("containerd://1.7.13")
        ]
    );
    let cordoned = json!({"metadata": meta("n2", 60), "spec": {"unschedulable": true},
                          "status": {"conditions": [{"type": "Ready", "status": "Unknown"}],
                                     "addresses": [{"type": "ExternalIP", "address": "34.1.2.3"}]}});
    assert_eq!(
        cells("", "nodes", &cordoned)[1..],
        [
            json!("NotReady,SchedulingDisabled"),
            json!("<none>"),
            json!("60s"),
            json!(""),
            json!("<none>"),
            json!("34.1.2.3"),
            json!("<unknown>"),
            json!("<unknown>"),
            json!("<unknown>")
        ]
    );
    assert_eq!(
        cells("", "nodes", &json!({"metadata": meta("n3", 0)}))[1],
        json!("Unknown")
    );
}

#[test]
fn configmaps_and_secrets() {
    let cases = [
        (json!({"metadata": meta("one", 0), "data": {"a": "1"}}), 1),
        (
            json!({"metadata": meta("three", 0), "data": {"a": "1", "b": "2"}, "binaryData": {"c": "AA=="}}),
            3,
        ),
        (json!({"metadata": meta("none", 0)}), 0),
    ];
    for (obj, keys) in cases {
        assert_eq!(cells("", "configmaps", &obj)[1], json!(keys));
    }
    let secret =
        json!({"metadata": meta("tls", 120), "type": "kubernetes.io/tls", "data": {"tls.crt": "", "tls.key": ""}});
    assert_eq!(
        cells("", "secrets", &secret),
        [json!("tls"), json!("kubernetes.io/tls"), json!(2), json!("2m")]
    );
    let sa = json!({"metadata": meta("default", 0), "secrets": [{"name": "t"}]});
    assert_eq!(
        cells("", "serviceaccounts", &sa),
        [json!("default"), json!(1), json!("0s")]
    );
}

fn job(spec: Value, status: Value) -> Value {
    json!({"metadata": meta("job", 600), "spec": spec, "status": status})
}

#[test]
fn jobs() {
    let cond = |kind: &str| json!({"conditions": [{"type": kind, "status": "True"}]});
    let cases = [
        (
            "running",
            job(json!({"completions": 2}), json!({"succeeded": 1})),
            "Running",
            "1/2",
            "",
        ),
        (
            "running for 20m",
            job(
                json!({"completions": 2}),
                json!({"succeeded": 1, "startTime": ago(1200)}),
            ),
            "Running",
            "1/2",
            "20m",
        ),
        (
            "took 30m",
            job(json!({}), json!({"startTime": ago(3600), "completionTime": ago(1800)})),
            "Running",
            "0/1",
            "30m",
        ),
        (
            "work queue",
            job(json!({"parallelism": 3}), json!({"succeeded": 2})),
            "Running",
            "2/1 of 3",
            "",
        ),
        (
            "complete",
            job(json!({"completions": 1}), cond("Complete")),
            "Complete",
            "0/1",
            "",
        ),
        ("failed", job(json!({}), cond("Failed")), "Failed", "0/1", ""),
        ("suspended", job(json!({}), cond("Suspended")), "Suspended", "0/1", ""),
        (
            "failure target",
            job(json!({}), cond("FailureTarget")),
            "FailureTarget",
            "0/1",
            "",
        ),
        (
            "success criteria is not shown in 1.33",
            job(json!({}), cond("SuccessCriteriaMet")),
            "Running",
            "0/1",
            "",
        ),
        (
            "false condition ignored",
            job(
                json!({}),
                json!({"conditions": [{"type": "Complete", "status": "False"}]}),
            ),
            "Running",
            "0/1",
            "",
        ),
        (
            "terminating",
            with(
                job(json!({}), json!({})),
                &["metadata", "deletionTimestamp"],
                json!(ago(1)),
            ),
            "Terminating",
            "0/1",
            "",
        ),
    ];
    for (case, obj, status, completions, duration) in cases {
        let row = cells("batch", "jobs", &obj);
        assert_eq!(
            row[..5],
            [
                json!("job"),
                json!(status),
                json!(completions),
                json!(duration),
                json!("10m")
            ],
            "{case}"
        );
    }
    let wide = job(
        json!({"selector": {"matchLabels": {"batch.kubernetes.io/job-name": "job"}},
               "template": {"spec": {"containers": [{"name": "pi", "image": "perl:5.34"}]}}}),
        json!({}),
    );
    assert_eq!(
        cells("batch", "jobs", &wide)[5..],
        [
            json!("pi"),
            json!("perl:5.34"),
            json!("batch.kubernetes.io/job-name=job")
        ]
    );
}

#[test]
fn cronjobs() {
    let cron = json!({
        "metadata": meta("backup", 86400),
        "spec": {"schedule": "*/5 * * * *", "suspend": false, "jobTemplate": {"spec": {
            "template": {"spec": {"containers": [{"name": "b", "image": "busybox"}]}}}}},
        "status": {"active": [{"name": "backup-1"}, {"name": "backup-2"}], "lastScheduleTime": ago(300)},
    });
    assert_eq!(
        cells("batch", "cronjobs", &cron),
        [
            json!("backup"),
            json!("*/5 * * * *"),
            json!("<none>"),
            json!("False"),
            json!(2),
            json!("5m"),
            json!("24h"),
            json!("b"),
            json!("busybox"),
            json!("<none>")
        ]
    );
    let fresh = json!({"metadata": meta("c", 0), "spec": {"schedule": "@daily", "timeZone": "Etc/UTC"}});
    assert_eq!(
        cells("batch", "cronjobs", &fresh)[1..6],
        [
            json!("@daily"),
            json!("Etc/UTC"),
            json!("<unset>"),
            json!(0),
            json!("<none>")
        ]
    );
}

#[test]
fn core_events() {
    let event = json!({
        "metadata": meta("nginx.17f", 600),
        "involvedObject": {"kind": "Pod", "name": "nginx", "fieldPath": "spec.containers{nginx}"},
        "reason": "Started", "message": " Started container nginx\n", "type": "Normal",
        "source": {"component": "kubelet", "host": "node-1"},
        "firstTimestamp": ago(600), "lastTimestamp": ago(120), "count": 3,
    });
    assert_eq!(
        cells("", "events", &event),
        [
            json!("2m"),
            json!("Normal"),
            json!("Started"),
            json!("pod/nginx"),
            json!("spec.containers{nginx}"),
            json!("kubelet, node-1"),
            json!("Started container nginx"),
            json!("10m"),
            json!(3),
            json!("nginx.17f")
        ]
    );
    let new_style = json!({
        "metadata": meta("ev", 60),
        "involvedObject": {"kind": "Node"},
        "eventTime": "2025-06-01T11:59:00.000000Z", "series": {"count": 7, "lastObservedTime": ago(5)},
        "reportingComponent": "scheduler", "reason": "Scheduled", "type": "Warning", "message": "m",
    });
    assert_eq!(
        cells("", "events", &new_style),
        [
            json!("5s"),
            json!("Warning"),
            json!("Scheduled"),
            json!("node"),
            json!(""),
            json!("scheduler"),
            json!("m"),
            json!("60s"),
            json!(7),
            json!("ev")
        ]
    );
    let bare = cells("", "events", &json!({}));
    assert_eq!(
        (bare[0].clone(), bare[7].clone(), bare[8].clone()),
        (json!("<unknown>"), json!("<unknown>"), json!(1))
    );
}

#[test]
fn events_group_events() {
    let event = json!({
        "metadata": meta("web.1", 60),
        "regarding": {"kind": "Deployment", "name": "web"},
        "reason": "ScalingReplicaSet", "note": "Scaled up", "type": "Normal",
        "eventTime": ago(60), "reportingController": "deployment-controller", "reportingInstance": "cm-1",
    });
    assert_eq!(
        cells("events.k8s.io", "events", &event),
        [
            json!("60s"),
            json!("Normal"),
            json!("ScalingReplicaSet"),
            json!("deployment/web"),
            json!(""),
            json!("deployment-controller, cm-1"),
            json!("Scaled up"),
            json!("60s"),
            json!(1),
            json!("web.1")
        ]
    );
    assert_eq!(column_names("events.k8s.io", "events"), column_names("", "events"));
}

#[test]
fn rolebindings() {
    assert_eq!(
        column_names("rbac.authorization.k8s.io", "rolebindings"),
        [
            ("Name", 0),
            ("Role", 0),
            ("Age", 0),
            ("Users", 1),
            ("Groups", 1),
            ("ServiceAccounts", 1)
        ]
    );
    let binding = json!({
        "metadata": meta("readers", 7200),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [
            {"kind": "User", "name": "alice"},
            {"kind": "Group", "name": "devs"},
            {"kind": "ServiceAccount", "namespace": "ci", "name": "runner"},
            {"kind": "User", "name": "bob"},
            {"kind": "ServiceAccount", "namespace": "ci", "name": "deployer"},
        ],
    });
    let want = [
        json!("readers"),
        json!("ClusterRole/view"),
        json!("120m"),
        json!("alice, bob"),
        json!("devs"),
        json!("ci/runner, ci/deployer"),
    ];
    assert_eq!(cells("rbac.authorization.k8s.io", "rolebindings", &binding), want);
    assert_eq!(
        cells("rbac.authorization.k8s.io", "clusterrolebindings", &binding),
        want
    );
    let empty = json!({"metadata": meta("x", 0), "roleRef": {"kind": "Role", "name": "r"}});
    assert_eq!(
        cells("rbac.authorization.k8s.io", "rolebindings", &empty)[3..],
        [json!(""), json!(""), json!("")]
    );
}

#[test]
fn storage_and_volumes() {
    let class = json!({"metadata": {"name": "standard", "creationTimestamp": ago(60),
                                    "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
                       "provisioner": "rancher.io/local-path", "volumeBindingMode": "WaitForFirstConsumer"});
    assert_eq!(
        cells("storage.k8s.io", "storageclasses", &class),
        [
            json!("standard (default)"),
            json!("rancher.io/local-path"),
            json!("Delete"),
            json!("WaitForFirstConsumer"),
            json!(false),
            json!("60s")
        ]
    );
    let pvc = json!({"metadata": meta("data", 60),
                     "spec": {"volumeName": "pv-1", "storageClassName": "standard", "accessModes": ["ReadWriteOnce"]},
                     "status": {"phase": "Bound", "capacity": {"storage": "1Gi"},
                                "accessModes": ["ReadWriteMany", "ReadWriteOnce"]}});
    assert_eq!(
        cells("", "persistentvolumeclaims", &pvc),
        [
            json!("data"),
            json!("Bound"),
            json!("pv-1"),
            json!("1Gi"),
            json!("RWO,RWX"),
            json!("standard"),
            json!("<unset>"),
            json!("60s"),
            json!("<unset>")
        ]
    );
    let pv = json!({"metadata": meta("pv-1", 60),
                    "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                             "persistentVolumeReclaimPolicy": "Retain", "volumeMode": "Filesystem",
                             "claimRef": {"namespace": "default", "name": "data"}, "storageClassName": "standard"},
                    "status": {"phase": "Bound"}});
    assert_eq!(
        cells("", "persistentvolumes", &pv),
        [
            json!("pv-1"),
            json!("1Gi"),
            json!("RWO"),
            json!("Retain"),
            json!("Bound"),
            json!("default/data"),
            json!("standard"),
            json!("<unset>"),
            json!(""),
            json!("60s"),
            json!("Filesystem")
        ]
    );
}

#[test]
fn other_groups() {
    let hpa = json!({"metadata": meta("web", 60),
                     "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "minReplicas": 2, "maxReplicas": 10,
                              "metrics": [
                                  {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}},
                                  {"type": "Pods", "pods": {"target": {"averageValue": "1k"}}},
                                  {"type": "Resource", "resource": {"name": "memory", "target": {"averageValue": "1Gi"}}}]},
                     "status": {"currentReplicas": 3, "currentMetrics": [
                         {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 50}}}]}});
    assert_eq!(
        cells("autoscaling", "horizontalpodautoscalers", &hpa),
        [
            json!("web"),
            json!("Deployment/web"),
            json!("cpu: 50%/80%, <unknown>/1k + 1 more..."),
            json!("2"),
            json!(10),
            json!(3),
            json!("60s")
        ]
    );
    let v1 = json!({"spec": {"targetCPUUtilizationPercentage": 70}});
    assert_eq!(
        cells("autoscaling", "horizontalpodautoscalers", &v1)[2..4],
        [json!("cpu: <unknown>/70%"), json!("<unset>")]
    );
    let pdb = json!({"metadata": meta("pdb", 0), "spec": {"minAvailable": 1}, "status": {"disruptionsAllowed": 2}});
    assert_eq!(
        cells("policy", "poddisruptionbudgets", &pdb),
        [json!("pdb"), json!("1"), json!("N/A"), json!(2), json!("0s")]
    );
    let csr = json!({"metadata": meta("csr", 0), "spec": {"signerName": "kubernetes.io/kubelet-serving",
                     "username": "system:node:n1", "expirationSeconds": 86400},
                     "status": {"conditions": [{"type": "Approved", "status": "True"}], "certificate": "LS0t"}});
    assert_eq!(
        cells("certificates.k8s.io", "certificatesigningrequests", &csr)[1..],
        [
            json!("0s"),
            json!("kubernetes.io/kubelet-serving"),
            json!("system:node:n1"),
            json!("24h"),
            json!("Approved,Issued")
        ]
    );
    let revision = json!({"metadata": {"name": "web-7d", "ownerReferences": [
        {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "controller": true}]}, "revision": 2});
    assert_eq!(
        cells("apps", "controllerrevisions", &revision)[1..3],
        [json!("statefulset.apps/web"), json!(2)]
    );
    let slice = json!({"addressType": "IPv4", "ports": [{"port": 80}, {"name": "http"}, {}, {"port": 8080}],
                       "endpoints": [{"addresses": ["10.0.0.1"]}, {"addresses": ["10.0.0.2"]}]});
    assert_eq!(
        cells("discovery.k8s.io", "endpointslices", &slice)[1..4],
        [
            json!("IPv4"),
            json!("80,http,* + 1 more..."),
            json!("10.0.0.1,10.0.0.2")
        ]
    );
    let ingress = json!({"spec": {"ingressClassName": "nginx", "tls": [{}],
                                  "rules": [{"host": "a.example.com"}, {}, {"host": "b.example.com"}]},
                         "status": {"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}]}}});
    assert_eq!(
        cells("networking.k8s.io", "ingresses", &ingress)[1..5],
        [
            json!("nginx"),
            json!("a.example.com,b.example.com"),
            json!("1.2.3.4"),
            json!("80, 443")
        ]
    );
    let quota = json!({"status": {"hard": {"requests.cpu": "1", "limits.memory": "2Gi", "pods": "10"},
                                  "used": {"requests.cpu": "500m", "pods": "3"}}});
    assert_eq!(
        cells("", "resourcequotas", &quota)[1..3],
        [json!("pods: 3/10, requests.cpu: 500m/1"), json!("limits.memory: 0/2Gi")]
    );
    let endpoints = json!({"subsets": [{"addresses": [{"ip": "10.0.0.1"}, {"ip": "fd00::1"}],
                                        "ports": [{"port": 80}, {"port": 443}]}]});
    assert_eq!(
        cells("", "endpoints", &endpoints)[1],
        json!("10.0.0.1:80,[fd00::1]:80,10.0.0.1:443 + 1 more...")
    );
}
