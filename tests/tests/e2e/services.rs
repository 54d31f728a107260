//! Service and policy controllers of kube-controller-manager (endpoints, endpointslice,
//! endpointslice-mirroring, disruption, resourcequota) against a real API server with RBAC on,
//! each controller acting as its own service account. The tests play the kubelet by writing
//! pod status (IPs and readiness) themselves.

use e2e::{ApiServer, make_pods_ready};

/// Reports a pod running with `ip`, ready or not, as its kubelet would.
fn report(s: &ApiServer, pod: &str, ip: &str, ready: bool) {
    let status = if ready { "True" } else { "False" };
    let now = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ");
    let patch = format!(
        r#"{{"status":{{"phase":"Running","podIP":"{ip}","podIPs":[{{"ip":"{ip}"}}],
            "conditions":[{{"type":"Ready","status":"{status}","lastTransitionTime":"{now}"}}]}}}}"#
    );
    s.ok(&[
        "patch",
        "pod",
        pod,
        "--subresource=status",
        "--type=merge",
        "-p",
        &patch,
    ]);
}

const BACKENDS: &str = "apiVersion: v1
kind: Node
metadata: {name: n1, labels: {topology.kubernetes.io/zone: zone-a}}
---
apiVersion: v1
kind: Service
metadata: {name: web, labels: {tier: front}}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: v1
kind: Pod
metadata: {name: web-a, labels: {app: web}}
spec: {nodeName: n1, containers: [{name: c, image: nginx, ports: [{name: http, containerPort: 8080}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web-b, labels: {app: web}}
spec: {nodeName: n1, containers: [{name: c, image: nginx, ports: [{name: http, containerPort: 8080}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web-c, labels: {app: web}}
spec: {nodeName: n1, containers: [{name: c, image: nginx, ports: [{name: http, containerPort: 8080}]}]}
";

/// `ip=ready` for each endpoint of the service's controller-managed slices, sorted.
fn slice_endpoints(s: &ApiServer) -> Vec<String> {
    let out = s.jsonpath(
        &[
            "endpointslices",
            "-l",
            "kubernetes.io/service-name=web,endpointslice.kubernetes.io/managed-by=endpointslice-controller.k8s.io",
        ],
        r#"{range .items[*].endpoints[*]}{.addresses[0]}={.conditions.ready}/{.conditions.terminating}{"\n"}{end}"#,
    );
    let mut v: Vec<String> = out.lines().filter(|l| !l.is_empty()).map(String::from).collect();
    v.sort();
    v
}

#[test]
fn endpoints_and_slices_follow_ready_pods() {
    let s = ApiServer::start_rbac();
    let _kcm = s.controllers("endpoint,endpointslice", &[]);
    s.ok_stdin(&["apply", "-f", "-"], BACKENDS);
    report(&s, "web-a", "10.244.0.1", true);
    report(&s, "web-b", "10.244.0.2", true);
    report(&s, "web-c", "10.244.0.3", false);

    let ready = || s.jsonpath(&["endpoints", "web"], "{.subsets[*].addresses[*].ip}");
    let not_ready = || s.jsonpath(&["endpoints", "web"], "{.subsets[*].notReadyAddresses[*].ip}");
    s.eventually("ready pods in addresses, the other in notReadyAddresses", 20, || {
        ready() == "10.244.0.1 10.244.0.2" && not_ready() == "10.244.0.3"
    });
    assert_eq!(s.jsonpath(&["endpoints", "web"], "{.subsets[0].ports[0].port}"), "8080");
    assert_eq!(s.jsonpath(&["endpoints", "web"], "{.subsets[0].ports[0].name}"), "http");
    let labels = s.jsonpath(&["endpoints", "web"], "{.metadata.labels}");
    assert!(labels.contains(r#""tier":"front""#), "{labels}");
    assert!(
        labels.contains(r#""endpoints.kubernetes.io/managed-by":"endpoint-controller""#),
        "{labels}"
    );
    let target = s.jsonpath(&["endpoints", "web"], "{.subsets[0].addresses[0].targetRef.name}");
    assert_eq!(target, "web-a");
    assert_eq!(
        s.jsonpath(&["endpoints", "web"], "{.subsets[0].addresses[0].nodeName}"),
        "n1"
    );
    let trigger = s.jsonpath(
        &["endpoints", "web"],
        r"{.metadata.annotations.endpoints\.kubernetes\.io/last-change-trigger-time}",
    );
    assert!(trigger.ends_with('Z'), "{trigger:?}");

    s.eventually("one slice with every pod", 20, || {
        slice_endpoints(&s)
            == [
                "10.244.0.1=true/false",
                "10.244.0.2=true/false",
                "10.244.0.3=false/false",
            ]
    });
    let slice = ["endpointslices", "-l", "kubernetes.io/service-name=web"];
    assert_eq!(s.jsonpath(&slice, "{.items[0].addressType}"), "IPv4");
    assert_eq!(s.jsonpath(&slice, "{.items[0].metadata.generateName}"), "web-");
    assert_eq!(
        s.jsonpath(&slice, "{.items[0].metadata.ownerReferences[0].kind}"),
        "Service"
    );
    assert_eq!(s.jsonpath(&slice, "{.items[0].metadata.labels.tier}"), "front");
    assert_eq!(s.jsonpath(&slice, "{.items[0].endpoints[0].zone}"), "zone-a");
    assert_eq!(s.jsonpath(&slice, "{.items[0].endpoints[0].nodeName}"), "n1");
    assert_eq!(s.jsonpath(&slice, "{.items[0].endpoints[0].targetRef.kind}"), "Pod");
    assert_eq!(s.jsonpath(&slice, "{.items[0].ports[0].port}"), "8080");

    // Settled: neither object is rewritten while nothing changes.
    let versions = || {
        (
            s.jsonpath(&["endpoints", "web"], "{.metadata.resourceVersion}"),
            s.jsonpath(&slice, "{.items[*].metadata.resourceVersion}"),
        )
    };
    let before = versions();
    std::thread::sleep(std::time::Duration::from_secs(1));
    assert_eq!(versions(), before);

    // kubectl shows upstream's columns.
    let table = s.ok(&["get", "endpoints", "web"]);
    let header: Vec<&str> = table.lines().next().unwrap_or_default().split_whitespace().collect();
    assert_eq!(header, ["NAME", "ENDPOINTS", "AGE"], "{table}");
    assert!(table.contains("10.244.0.1:8080,10.244.0.2:8080"), "{table}");
    let table = s.ok(&["get", "endpointslices", "-l", "kubernetes.io/service-name=web"]);
    let header: Vec<&str> = table.lines().next().unwrap_or_default().split_whitespace().collect();
    assert_eq!(header, ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"], "{table}");
    assert!(
        table.contains("IPv4") && table.contains("8080") && table.contains("10.244.0.1"),
        "{table}"
    );

    // A pod turning not ready moves; a deleted one leaves (terminating first in the slice).
    report(&s, "web-a", "10.244.0.1", false);
    s.eventually("web-a not ready", 20, || {
        ready() == "10.244.0.2" && not_ready() == "10.244.0.1 10.244.0.3"
    });
    s.eventually("web-a not ready in the slice", 20, || {
        slice_endpoints(&s).contains(&"10.244.0.1=false/false".to_string())
    });
    s.ok(&["delete", "pod", "web-b", "--wait=false"]);
    s.eventually("web-b out of the Endpoints", 20, || ready().is_empty());
    s.eventually("web-b terminating in the slice", 20, || {
        slice_endpoints(&s).contains(&"10.244.0.2=false/true".to_string())
    });
    s.ok(&["delete", "pod", "web-b", "--grace-period=0", "--force"]);
    s.eventually("web-b gone from the slice", 20, || {
        slice_endpoints(&s) == ["10.244.0.1=false/false", "10.244.0.3=false/false"]
    });

    // A deleted service's Endpoints go.
    s.ok(&["delete", "service", "web"]);
    s.eventually("the Endpoints deleted with the service", 20, || {
        !s.kubectl(&["get", "endpoints", "web"]).status.success()
    });
}

const EXTERNAL: &str = "apiVersion: v1
kind: Service
metadata: {name: db}
spec:
  ports: [{name: pg, port: 5432}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: db, labels: {team: data}, annotations: {owner: dba}}
subsets:
- addresses: [{ip: 192.168.1.10}]
  notReadyAddresses: [{ip: 192.168.1.11}]
  ports: [{name: pg, port: 5432, protocol: TCP}]
";

#[test]
fn custom_endpoints_are_mirrored_into_slices() {
    let s = ApiServer::start_rbac();
    let _kcm = s.controllers("endpoint,endpointslicemirroring", &[]);
    s.ok_stdin(&["apply", "-f", "-"], EXTERNAL);
    let mirrored = [
        "endpointslices",
        "-l",
        "kubernetes.io/service-name=db,endpointslice.kubernetes.io/managed-by=endpointslicemirroring-controller.k8s.io",
    ];
    let endpoints = || {
        s.jsonpath(
            &mirrored,
            r#"{range .items[*].endpoints[*]}{.addresses[0]}={.conditions.ready} {end}"#,
        )
    };
    s.eventually("the Endpoints mirrored", 20, || {
        endpoints() == "192.168.1.10=true 192.168.1.11=false "
    });
    assert_eq!(s.jsonpath(&mirrored, "{.items[0].ports[0].port}"), "5432");
    assert_eq!(s.jsonpath(&mirrored, "{.items[0].metadata.labels.team}"), "data");
    assert_eq!(s.jsonpath(&mirrored, "{.items[0].metadata.annotations.owner}"), "dba");
    assert_eq!(
        s.jsonpath(&mirrored, "{.items[0].metadata.ownerReferences[0].kind}"),
        "Endpoints"
    );
    // The endpoints controller leaves Endpoints of a selector-less service alone.
    assert_eq!(
        s.jsonpath(&["endpoints", "db"], "{.subsets[0].addresses[0].ip}"),
        "192.168.1.10"
    );

    // Changes follow; the API server's `kubernetes` Endpoints is not mirrored (skip-mirror).
    s.ok(&[
        "patch",
        "endpoints",
        "db",
        "--type=json",
        "-p",
        r#"[{"op":"add","path":"/subsets/0/addresses/-","value":{"ip":"192.168.1.12"}}]"#,
    ]);
    s.eventually("the new address mirrored", 20, || {
        endpoints() == "192.168.1.10=true 192.168.1.11=false 192.168.1.12=true "
    });
    let kubernetes = s.jsonpath(&[
            "endpointslices",
            "-l",
            "kubernetes.io/service-name=kubernetes,endpointslice.kubernetes.io/managed-by=endpointslicemirroring-controller.k8s.io",
        ],
        "{.items[*].metadata.name}",
    );
    assert!(kubernetes.is_empty(), "{kubernetes}");

    // Without Endpoints, no mirror.
    s.ok(&["delete", "endpoints", "db"]);
    s.eventually("the mirrored slice deleted", 20, || {
        s.jsonpath(&mirrored, "{.items[*].metadata.name}").is_empty()
    });
}

const GUARDED: &str = "apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: guarded}
spec:
  replicas: 3
  selector: {matchLabels: {app: guarded}}
  template:
    metadata: {labels: {app: guarded}}
    spec: {containers: [{name: c, image: nginx}]}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: guarded}
spec:
  minAvailable: 50%
  selector: {matchLabels: {app: guarded}}
";

#[test]
fn disruption_budget_status_guards_evictions() {
    let s = ApiServer::start_rbac();
    let _kcm = s.controllers("replicaset,disruption", &[]);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let client = rt.block_on(s.client());
    let kubelet = rt.spawn(make_pods_ready(client.clone()));
    s.ok_stdin(&["apply", "-f", "-"], GUARDED);
    let status = || {
        s.jsonpath(
            &["pdb", "guarded"],
            "{.status.expectedPods}/{.status.desiredHealthy}/{.status.currentHealthy}/{.status.disruptionsAllowed}",
        )
    };
    // 50% of the ReplicaSet's 3 replicas, rounded up: 2 must stay.
    s.eventually("3 expected, 2 desired, 3 healthy, 1 allowed", 30, || {
        status() == "3/2/3/1"
    });
    assert_eq!(s.jsonpath(&["pdb", "guarded"], "{.status.observedGeneration}"), "1");
    let condition = s.jsonpath(
        &["pdb", "guarded"],
        r#"{.status.conditions[?(@.type=="DisruptionAllowed")].reason}"#,
    );
    assert_eq!(condition, "SufficientPods");
    let table = s.ok(&["get", "pdb", "guarded"]);
    assert!(
        table.contains("ALLOWED DISRUPTIONS") && table.contains("50%"),
        "{table}"
    );

    // As `kubectl drain` does: evict through the API; the second eviction finds no budget left.
    let pods: Vec<String> = s
        .jsonpath(&["pods", "-l", "app=guarded"], "{.items[*].metadata.name}")
        .split_whitespace()
        .map(String::from)
        .collect();
    let evict = |pod: &str| {
        let body = format!(r#"{{"apiVersion":"policy/v1","kind":"Eviction","metadata":{{"name":"{pod}"}}}}"#);
        let path = format!("/api/v1/namespaces/default/pods/{pod}/eviction");
        s.request("POST", &path, "application/json", Some(&body))
    };
    // The replacement stays unready for now, so the budget cannot recover in between.
    kubelet.abort();
    let (code, body) = evict(&pods[0]);
    assert_eq!(code, 201, "first eviction allowed: {body}");
    let (code, body) = evict(&pods[1]);
    assert_eq!(code, 429, "{body}");
    assert!(body.contains("disruption budget"), "{body}");
    s.eventually("the evicted pod replaced, not ready yet", 30, || status() == "3/2/2/0");
    let reason = s.jsonpath(
        &["pdb", "guarded"],
        r#"{.status.conditions[?(@.type=="DisruptionAllowed")].reason}"#,
    );
    assert_eq!(reason, "InsufficientPods");
    // The replacement becomes ready and the budget allows one disruption again; the evicted
    // pod no longer appears in disruptedPods.
    rt.spawn(make_pods_ready(client));
    s.eventually("budget restored", 30, || status() == "3/2/3/1");
    s.eventually("disruptedPods cleared", 10, || {
        s.jsonpath(&["pdb", "guarded"], "{.status.disruptedPods}").is_empty()
    });
    let (code, body) = evict(&pods[1]);
    assert_eq!(code, 201, "allowed again once the budget recovered: {body}");
}

const QUOTA: &str = "apiVersion: v1
kind: ResourceQuota
metadata: {name: q}
spec:
  hard: {pods: '5', requests.cpu: '2', configmaps: '3', services: '2', count/secrets: '4', count/deployments.apps: '2'}
";

const BEST_EFFORT: &str = "apiVersion: v1
kind: ResourceQuota
metadata: {name: best-effort}
spec:
  hard: {pods: '10'}
  scopes: [BestEffort]
";

#[test]
fn resource_quota_usage_follows_creations_and_deletions() {
    let s = ApiServer::start_rbac();
    let _kcm = s.controllers("resourcequota", &[]);
    s.ok(&["run", "idle", "--image=nginx"]);
    s.ok_stdin(&["apply", "-f", "-"], QUOTA);
    s.ok_stdin(&["apply", "-f", "-"], BEST_EFFORT);
    let used = |q: &str, r: &str| {
        let all = s.jsonpath(&["quota", q], "{.status.used}");
        let all: serde_json::Value = serde_json::from_str(&all).unwrap_or_default();
        all[r].as_str().unwrap_or_default().to_string()
    };
    s.eventually("status filled in", 20, || {
        used("q", "pods") == "1" && used("q", "count/deployments.apps") == "0" && used("q", "configmaps") == "0"
    });
    assert_eq!(s.jsonpath(&["quota", "q"], "{.status.hard.pods}"), "5");
    assert_eq!(
        used("best-effort", "pods"),
        "1",
        "the pod without requests is best effort"
    );

    // Creations are charged by admission (`services` also counts the `kubernetes` Service).
    s.ok(&["create", "configmap", "one"]);
    s.ok(&["create", "configmap", "two"]);
    s.ok(&["create", "secret", "generic", "s1"]);
    s.ok(&["create", "service", "clusterip", "svc", "--tcp=80:80"]);
    s.ok(&["create", "deployment", "d", "--image=nginx"]);
    let cpu = "apiVersion: v1\nkind: Pod\nmetadata: {name: busy}\nspec: {containers: [{name: c, image: nginx, resources: {requests: {cpu: 500m}}}]}\n";
    s.ok_stdin(&["apply", "-f", "-"], cpu);
    s.eventually("usage charged", 20, || {
        used("q", "configmaps") == "2"
            && used("q", "pods") == "2"
            && used("q", "requests.cpu") == "500m"
            && used("q", "services") == "2"
            && used("q", "count/secrets") == "1"
            && used("q", "count/deployments.apps") == "1"
    });

    // Deletions hand the capacity back promptly.
    s.ok(&["delete", "configmap", "one"]);
    s.ok(&["delete", "pod", "busy"]);
    s.ok(&["delete", "service", "svc"]);
    s.ok(&["delete", "secret", "s1"]);
    s.ok(&["delete", "deployment", "d"]);
    s.eventually("usage released", 20, || {
        used("q", "configmaps") == "1"
            && used("q", "pods") == "1"
            && used("q", "requests.cpu") == "0"
            && used("q", "services") == "1"
            && used("q", "count/secrets") == "0"
            && used("q", "count/deployments.apps") == "0"
    });
    let table = s.ok(&["get", "quota", "q"]);
    assert!(table.contains("pods: 1/5"), "{table}");
}
