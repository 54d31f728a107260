//! Object semantics over the wire: generateName, generation, finalizers and deletionTimestamp,
//! graceful pod deletion, pods/binding, pods/eviction, status and scale subresources, and a
//! terminating namespace refusing new objects.

use e2e::{ApiServer, Store};
use serde_json::{Value, json};

fn call(s: &ApiServer, method: &str, path: &str, ct: &str, body: Option<Value>) -> (u16, Value) {
    let text = body.map(|b| b.to_string());
    let (code, out) = s.request(method, path, ct, text.as_deref());
    (code, serde_json::from_str(&out).unwrap_or(Value::Null))
}

const JSON: &str = "application/json";
const MERGE: &str = "application/merge-patch+json";
const PODS: &str = "/api/v1/namespaces/default/pods";

fn pod(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}})
}

#[test]
fn object_lifecycle_and_subresources() {
    let s = ApiServer::start(Store::Embedded);

    // generateName and uid.
    let (code, cm) = call(
        &s,
        "POST",
        "/api/v1/namespaces/default/configmaps",
        JSON,
        Some(json!({"metadata": {"generateName": "gen-"}})),
    );
    assert_eq!(code, 201);
    let name = cm["metadata"]["name"].as_str().unwrap_or_default();
    assert!(name.starts_with("gen-") && name.len() == 9, "{name}");
    assert_eq!(cm["metadata"]["uid"].as_str().map(str::len), Some(36));

    // Finalizers hold a delete until they are removed.
    let (_, _) = call(
        &s,
        "POST",
        "/api/v1/namespaces/default/configmaps",
        JSON,
        Some(json!({"metadata": {"name": "held", "finalizers": ["example.com/hold"]}})),
    );
    let (code, held) = call(&s, "DELETE", "/api/v1/namespaces/default/configmaps/held", JSON, None);
    assert_eq!(code, 200);
    assert!(held["metadata"]["deletionTimestamp"].is_string(), "{held}");
    let (code, _) = call(&s, "GET", "/api/v1/namespaces/default/configmaps/held", JSON, None);
    assert_eq!(code, 200);
    let (code, _) = call(
        &s,
        "PATCH",
        "/api/v1/namespaces/default/configmaps/held",
        MERGE,
        Some(json!({"metadata": {"finalizers": null}})),
    );
    assert_eq!(code, 200);
    let (code, _) = call(&s, "GET", "/api/v1/namespaces/default/configmaps/held", JSON, None);
    assert_eq!(code, 404);

    // Generation follows spec changes only; status goes through its subresource only.
    s.ok(&["create", "deployment", "web", "--image=nginx:1.25"]);
    let dpath = "/apis/apps/v1/namespaces/default/deployments/web";
    let (_, d) = call(
        &s,
        "PATCH",
        dpath,
        MERGE,
        Some(json!({"metadata": {"labels": {"x": "y"}}, "status": {"replicas": 7}})),
    );
    assert_eq!(d["metadata"]["generation"], 1);
    assert!(
        d["status"].get("replicas").is_none(),
        "main resource writes ignore status: {d}"
    );
    let (_, d) = call(
        &s,
        "PATCH",
        &format!("{dpath}/status"),
        MERGE,
        Some(json!({"status": {"replicas": 7}, "spec": {"replicas": 9}})),
    );
    assert_eq!(
        (d["status"]["replicas"].as_i64(), d["spec"]["replicas"].as_i64()),
        (Some(7), Some(1))
    );
    let (_, scale) = call(&s, "GET", &format!("{dpath}/scale"), JSON, None);
    assert_eq!(
        (scale["kind"].as_str(), scale["status"]["selector"].as_str()),
        (Some("Scale"), Some("app=web"))
    );
    let (_, scaled) = call(
        &s,
        "PATCH",
        &format!("{dpath}/scale"),
        MERGE,
        Some(json!({"spec": {"replicas": 4}})),
    );
    assert_eq!(scaled["spec"]["replicas"], 4);
    let (_, d) = call(&s, "GET", dpath, JSON, None);
    assert_eq!(
        (d["spec"]["replicas"].as_i64(), d["metadata"]["generation"].as_i64()),
        (Some(4), Some(2))
    );

    // Binding assigns a node once and marks the pod scheduled.
    call(&s, "POST", PODS, JSON, Some(pod("bound")));
    let binding = json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "bound"}, "target": {"kind": "Node", "name": "node-1"}});
    let (code, _) = call(
        &s,
        "POST",
        &format!("{PODS}/bound/binding"),
        JSON,
        Some(binding.clone()),
    );
    assert_eq!(code, 201);
    let (code, again) = call(&s, "POST", &format!("{PODS}/bound/binding"), JSON, Some(binding));
    assert_eq!(code, 409, "{again}");
    let (_, p) = call(&s, "GET", &format!("{PODS}/bound"), JSON, None);
    assert_eq!(p["spec"]["nodeName"], "node-1");
    let scheduled = p["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "PodScheduled" && c["status"] == "True");
    assert!(scheduled, "{p}");

    // A pod on a node is deleted gracefully; grace period 0 removes it.
    let (code, p) = call(&s, "DELETE", &format!("{PODS}/bound"), JSON, None);
    assert_eq!(code, 200);
    assert_eq!(p["metadata"]["deletionGracePeriodSeconds"], 30);
    let (code, _) = call(&s, "GET", &format!("{PODS}/bound"), JSON, None);
    assert_eq!(code, 200, "still there while the kubelet would stop it");
    let (code, gone) = call(
        &s,
        "DELETE",
        &format!("{PODS}/bound"),
        JSON,
        Some(json!({"gracePeriodSeconds": 0})),
    );
    assert_eq!((code, gone["status"].as_str()), (200, Some("Success")));
    let (code, _) = call(&s, "GET", &format!("{PODS}/bound"), JSON, None);
    assert_eq!(code, 404);

    // Eviction deletes the pod.
    call(&s, "POST", PODS, JSON, Some(pod("evicted")));
    let eviction =
        json!({"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "evicted", "namespace": "default"}});
    let (code, _) = call(&s, "POST", &format!("{PODS}/evicted/eviction"), JSON, Some(eviction));
    assert_eq!(code, 201);
    let (code, _) = call(&s, "GET", &format!("{PODS}/evicted"), JSON, None);
    assert_eq!(code, 404);

    // A bound pod stays for its grace period, marked with why it goes.
    let mut bound = pod("evicted-bound");
    bound["spec"]["nodeName"] = json!("n1");
    call(&s, "POST", PODS, JSON, Some(bound));
    let eviction = json!({"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "evicted-bound"}});
    let (code, _) = call(
        &s,
        "POST",
        &format!("{PODS}/evicted-bound/eviction"),
        JSON,
        Some(eviction),
    );
    assert_eq!(code, 201);
    let (_, going) = call(&s, "GET", &format!("{PODS}/evicted-bound"), JSON, None);
    assert!(going["metadata"]["deletionTimestamp"].is_string(), "{going}");
    let conditions = going["status"]["conditions"].as_array().cloned().unwrap_or_default();
    let target = conditions.iter().find(|c| c["type"] == "DisruptionTarget");
    assert_eq!(
        target.map(|c| (c["reason"].clone(), c["message"].clone())),
        Some((json!("EvictionByEvictionAPI"), json!("Eviction API: evicting"))),
        "{going}"
    );

    // Eviction of a running pod respects its PodDisruptionBudget.
    let mut guarded = pod("guarded");
    guarded["metadata"]["labels"] = json!({"app": "g"});
    call(&s, "POST", PODS, JSON, Some(guarded));
    call(
        &s,
        "PATCH",
        &format!("{PODS}/guarded/status"),
        MERGE,
        Some(json!({"status": {"phase": "Running"}})),
    );
    let pdbs = "/apis/policy/v1/namespaces/default/poddisruptionbudgets";
    let pdb =
        json!({"metadata": {"name": "g"}, "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "g"}}}});
    let (code, body) = call(&s, "POST", pdbs, JSON, Some(pdb));
    assert_eq!(code, 201, "{body}");
    let evict = || {
        let eviction = json!({"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "guarded"}});
        call(&s, "POST", &format!("{PODS}/guarded/eviction"), JSON, Some(eviction))
    };
    let (code, refused) = evict();
    assert_eq!(
        (code, refused["reason"].as_str()),
        (429, Some("TooManyRequests")),
        "{refused}"
    );
    assert_eq!(
        refused["details"]["causes"][0]["message"],
        "The disruption budget g is still being processed by the server."
    );
    let status = |allowed: i64| json!({"status": {"observedGeneration": 1, "disruptionsAllowed": allowed, "desiredHealthy": 1, "currentHealthy": 1, "expectedPods": 1}});
    call(&s, "PATCH", &format!("{pdbs}/g/status"), MERGE, Some(status(0)));
    let (code, refused) = evict();
    assert_eq!(code, 429);
    assert_eq!(
        refused["details"]["causes"][0]["message"],
        "The disruption budget g needs 1 healthy pods and has 1 currently"
    );
    call(&s, "PATCH", &format!("{pdbs}/g/status"), MERGE, Some(status(1)));
    let (code, _) = evict();
    assert_eq!(code, 201);
    let (_, charged) = call(&s, "GET", &format!("{pdbs}/g"), JSON, None);
    assert_eq!(charged["status"]["disruptionsAllowed"], 0);
    assert!(charged["status"]["disruptedPods"]["guarded"].is_string(), "{charged}");
    let (code, _) = call(&s, "GET", &format!("{PODS}/guarded"), JSON, None);
    assert_eq!(code, 404);

    // ClusterIP and NodePort allocation refuses addresses and ports already taken.
    let svc = |name: &str, ip: &str, node_port: u16| {
        json!({"metadata": {"name": name}, "spec": {"type": "NodePort", "clusterIP": ip, "selector": {"app": "x"},
               "ports": [{"port": 80, "nodePort": node_port}]}})
    };
    let svcs = "/api/v1/namespaces/default/services";
    let (code, first) = call(&s, "POST", svcs, JSON, Some(svc("s1", "10.96.0.50", 30080)));
    assert_eq!(code, 201, "{first}");
    let (code, dup_ip) = call(&s, "POST", svcs, JSON, Some(svc("s2", "10.96.0.50", 30081)));
    assert_eq!(code, 422);
    assert!(
        dup_ip["message"]
            .as_str()
            .unwrap_or_default()
            .contains("provided IP is already allocated"),
        "{dup_ip}"
    );
    let (code, dup_port) = call(&s, "POST", svcs, JSON, Some(svc("s3", "", 30080)));
    assert_eq!(code, 422);
    assert!(
        dup_port["message"]
            .as_str()
            .unwrap_or_default()
            .contains("provided port is already allocated"),
        "{dup_port}"
    );
    let (code, auto) = call(&s, "POST", svcs, JSON, Some(svc("s4", "", 0)));
    assert_eq!(code, 201, "{auto}");
    assert!(
        auto["spec"]["ports"][0]["nodePort"]
            .as_u64()
            .is_some_and(|p| (30000..=32767).contains(&p))
    );
    // Deleting a Service frees its address.
    call(&s, "DELETE", &format!("{svcs}/s1"), JSON, None);
    let (code, reused) = call(&s, "POST", svcs, JSON, Some(svc("s5", "10.96.0.50", 30080)));
    assert_eq!(code, 201, "{reused}");

    // A Job selects its pods by its own uid unless it asks for a manual selector.
    s.ok(&["create", "job", "once", "--image=busybox:1.36", "--", "true"]);
    let uid = s.ok(&["get", "job", "once", "-o", "jsonpath={.metadata.uid}"]);
    let selector = s.ok(&[
        "get",
        "job",
        "once",
        "-o",
        "jsonpath={.spec.selector.matchLabels.batch\\.kubernetes\\.io/controller-uid}",
    ]);
    assert_eq!(selector, uid);
    let job_name = s.ok(&[
        "get",
        "job",
        "once",
        "-o",
        "jsonpath={.spec.template.metadata.labels.job-name}",
    ]);
    assert_eq!(job_name, "once");

    // Server-side dry run answers the object and stores nothing.
    assert_eq!(
        s.ok(&["create", "cm", "dry", "--dry-run=server"]).trim(),
        "configmap/dry created (server dry run)"
    );
    assert!(s.fails(&["get", "cm", "dry"]).contains("NotFound"));

    // LimitRanger defaults and bounds containers; ResourceQuota checks and charges usage.
    s.ok(&["create", "ns", "limited"]);
    let limits = "apiVersion: v1\nkind: LimitRange\nmetadata: {name: lr, namespace: limited}\nspec:\n  limits:\n  - type: Container\n    default: {cpu: 500m, memory: 128Mi}\n    defaultRequest: {cpu: 100m}\n    max: {cpu: \"1\"}\n---\napiVersion: v1\nkind: ResourceQuota\nmetadata: {name: rq, namespace: limited}\nspec:\n  hard: {pods: \"2\", requests.cpu: 250m}\n";
    s.ok(&["apply", "-f", &s.file("limits.yaml", limits)]);
    let err = s.fails(&["-n", "limited", "run", "p0", "--image=busybox:1.36"]);
    assert!(
        err.contains("status unknown for quota: rq, resources: pods,requests.cpu"),
        "{err}"
    );
    let status = r#"{"status":{"hard":{"pods":"2","requests.cpu":"250m"},"used":{"pods":"0","requests.cpu":"0"}}}"#;
    s.ok(&[
        "-n",
        "limited",
        "patch",
        "resourcequota",
        "rq",
        "--subresource=status",
        "--type=merge",
        "-p",
        status,
    ]);
    s.ok(&["-n", "limited", "run", "p1", "--image=busybox:1.36"]);
    let res = s.ok(&[
        "-n",
        "limited",
        "get",
        "pod",
        "p1",
        "-o",
        "jsonpath={.spec.containers[0].resources.requests.cpu}/{.spec.containers[0].resources.limits.cpu}",
    ]);
    assert_eq!(res, "100m/500m");
    s.ok(&["-n", "limited", "run", "p2", "--image=busybox:1.36"]);
    let err = s.fails(&["-n", "limited", "run", "p3", "--image=busybox:1.36"]);
    assert!(err.contains("pods \"p3\" is forbidden: exceeded quota: rq, requested: pods=1,requests.cpu=100m, used: pods=2,requests.cpu=200m, limited: pods=2,requests.cpu=250m"), "{err}");
    assert_eq!(
        s.ok(&[
            "-n",
            "limited",
            "get",
            "resourcequota",
            "rq",
            "-o",
            "jsonpath={.status.used.pods}"
        ]),
        "2"
    );
    let big = r#"{"spec":{"containers":[{"name":"big","image":"busybox:1.36","resources":{"limits":{"cpu":"2"}}}]}}"#;
    let err = s.fails(&[
        "-n",
        "limited",
        "run",
        "big",
        "--image=busybox:1.36",
        &format!("--overrides={big}"),
    ]);
    assert!(
        err.contains("maximum cpu usage per Container is 1, but limit is 2"),
        "{err}"
    );

    // A terminating namespace takes no new objects.
    s.ok(&["create", "ns", "leaving"]);
    let (code, ns) = call(&s, "DELETE", "/api/v1/namespaces/leaving", JSON, None);
    assert_eq!((code, ns["status"]["phase"].as_str()), (200, Some("Terminating")));
    let (code, err) = call(
        &s,
        "POST",
        "/api/v1/namespaces/leaving/configmaps",
        JSON,
        Some(json!({"metadata": {"name": "late"}})),
    );
    assert_eq!(code, 403, "{err}");
    assert_eq!(
        err["message"],
        "configmaps \"late\" is forbidden: unable to create new content in namespace leaving because it is being terminated"
    );
}
