//! API aggregation: an APIService hands metrics.k8s.io/v1beta1 to a separate TLS server
//! (the metrics simulator), which only trusts kube-apiserver's proxy client certificate.
//! Discovery, `kubectl top`, authorization of proxied requests, availability conditions,
//! and the HPA controller scaling on the metrics it serves.

use super::autoscaling::DEPLOYMENT;
use super::kubectl_parity::{self, check_rows};
use base64::Engine;
use e2e::{ApiServer, Store, free_port};
use std::path::Path;

/// A front-proxy CA and the client certificate kube-apiserver presents to aggregated servers.
fn front_proxy_pki(dir: &Path) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "front-proxy-ca");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let mut client = CertificateParams::new(Vec::<String>::new()).unwrap();
    client.distinguished_name.push(DnType::CommonName, "front-proxy-client");
    client.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let cert = client.signed_by(&key, &issuer).unwrap();
    std::fs::write(dir.join("front-proxy-ca.crt"), ca_cert.pem()).unwrap();
    std::fs::write(dir.join("front-proxy-client.crt"), cert.pem()).unwrap();
    std::fs::write(dir.join("front-proxy-client.key"), key.serialize_pem()).unwrap();
}

const HPA: &str = "apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: 4
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
  behavior:
    scaleDown: {stabilizationWindowSeconds: 0}
";

#[test]
fn aggregated_metrics_api_serves_top_and_drives_the_autoscaler() {
    let pki = tempfile::tempdir().unwrap();
    front_proxy_pki(pki.path());
    let file = |name: &str| pki.path().join(name).to_string_lossy().into_owned();
    let s = ApiServer::start_rbac_with(&[
        "--proxy-client-cert-file",
        &file("front-proxy-client.crt"),
        "--proxy-client-key-file",
        &file("front-proxy-client.key"),
        "--requestheader-client-ca-file",
        &file("front-proxy-ca.crt"),
        "--requestheader-allowed-names",
        "front-proxy-client",
        "--requestheader-username-headers",
        "X-Remote-User",
        "--requestheader-group-headers",
        "X-Remote-Group",
        "--requestheader-extra-headers-prefix",
        "X-Remote-Extra-",
    ]);
    // The server publishes how it authenticates proxied requests.
    let published = s.jsonpath(
        &["configmap", "-n", "kube-system", "extension-apiserver-authentication"],
        "{.data.requestheader-allowed-names}",
    );
    assert_eq!(published, "[\"front-proxy-client\"]");
    // Built-in group/versions are Local APIServices.
    let local = s.ok(&["get", "apiservice", "v1.apps", "--no-headers"]);
    assert!(
        local.split_whitespace().take(3).eq(["v1.apps", "Local", "True"]),
        "{local}"
    );

    let usage = file("usage.json");
    std::fs::write(&usage, r#"{"cpu": "200m", "memory": "64Mi"}"#).unwrap();
    let port = free_port();
    let _metrics = s.component(
        "metrics-simulator",
        port,
        &[
            "--secure-port",
            &port.to_string(),
            "--cert-dir",
            &file("metrics"),
            "--service-name",
            "metrics.kube-system.svc",
            "--requestheader-client-ca-file",
            &file("front-proxy-ca.crt"),
            "--usage-file",
            &usage,
        ],
    );
    e2e::wait_for_port(port, std::time::Duration::from_secs(20));
    let ca = std::fs::read(pki.path().join("metrics/ca.crt")).unwrap();
    let ca = base64::engine::general_purpose::STANDARD.encode(ca);
    s.ok_stdin(
        &["apply", "-f", "-"],
        &format!(
            "apiVersion: v1
kind: Service
metadata: {{name: metrics, namespace: kube-system}}
spec: {{type: ExternalName, externalName: localhost}}
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {{name: v1beta1.metrics.k8s.io}}
spec:
  group: metrics.k8s.io
  version: v1beta1
  groupPriorityMinimum: 100
  versionPriority: 100
  caBundle: {ca}
  service: {{namespace: kube-system, name: metrics, port: {port}}}
"
        ),
    );
    let row = || s.ok(&["get", "apiservice", "v1beta1.metrics.k8s.io", "--no-headers"]);
    s.eventually("the metrics APIService available", 30, || {
        row()
            .split_whitespace()
            .take(3)
            .eq(["v1beta1.metrics.k8s.io", "kube-system/metrics", "True"])
    });
    let reason = s.jsonpath(
        &["apiservice", "v1beta1.metrics.k8s.io"],
        "{.status.conditions[?(@.type==\"Available\")].reason}",
    );
    assert_eq!(reason, "Passed");
    // Discovery lists the group and its resources.
    let resources = s.ok(&["api-resources", "--api-group=metrics.k8s.io", "--no-headers"]);
    assert!(
        resources.contains("PodMetrics") && resources.contains("NodeMetrics"),
        "{resources}"
    );
    assert!(s.ok(&["api-versions"]).lines().any(|l| l == "metrics.k8s.io/v1beta1"));

    // Pods on simulated nodes, reported by the metrics server through the aggregator.
    let _cluster = s.simulated_cluster(2);
    let _kcm = s.controllers("deployment,replicaset,horizontalpodautoscaling", &[]);
    s.ok_stdin(&["apply", "-f", "-"], DEPLOYMENT);
    s.eventually("the web pod running", 60, || {
        s.jsonpath(&["pods", "-l", "app=web"], "{.items[*].status.phase}") == "Running"
    });
    let top = s.ok(&["top", "pod", "-l", "app=web", "--no-headers"]);
    assert!(top.contains("200m") && top.contains("64Mi"), "{top}");
    // Our kubectl's `top` prints what upstream's does.
    let rows: Vec<_> = [
        "top pod",
        "top pod -l app=web --no-headers",
        "top pod -A",
        "top node",
        "top node node-0",
        "top pod nope",
        "top pod -n empty",
    ]
    .iter()
    .map(|l| kubectl_parity::row(l))
    .collect();
    check_rows(&s, "top", &rows);
    let raw = s.ok(&["get", "--raw", "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods"]);
    let list: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(list["kind"], "PodMetricsList");
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1));
    // Proxied requests are authorized here first: a user without RBAC rights is refused.
    let denied = s.kubectl_as(
        &["--token", "nobody"],
        &["get", "--raw", "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods"],
    );
    assert!(!denied.status.success());
    // The simulator logged the user the aggregator passed on.
    let log = std::fs::read_to_string(&_metrics.log).unwrap();
    assert!(
        log.contains("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods as admin"),
        "{log}"
    );

    // 200m of 100m requested is 200% against a 50% target: four replicas (the maximum).
    s.ok_stdin(&["apply", "-f", "-"], HPA);
    let replicas = || s.jsonpath(&["deploy", "web"], "{.spec.replicas}");
    s.eventually("scaled up on CPU utilization", 60, || replicas() == "4");
    let current = s.jsonpath(
        &["hpa", "web"],
        "{.status.currentMetrics[0].resource.current.averageUtilization}",
    );
    assert_eq!(current, "200");
    let row = s.ok(&["get", "hpa", "web", "--no-headers"]);
    assert!(row.contains("cpu: 200%/50%"), "{row}");
    // Usage falls to 20m (20%): 4 * 20 / 50 rounds up to 2.
    std::fs::write(&usage, r#"{"cpu": "20m", "memory": "64Mi"}"#).unwrap();
    s.eventually("scaled down on CPU utilization", 90, || replicas() == "2");
}

#[test]
fn unreachable_api_service_is_unavailable_and_bad_ones_are_refused() {
    let s = ApiServer::start(Store::Embedded);
    s.ok_stdin(
        &["apply", "-f", "-"],
        "apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: v1alpha1.widgets.example.com}
spec:
  group: widgets.example.com
  version: v1alpha1
  groupPriorityMinimum: 1000
  versionPriority: 15
  insecureSkipTLSVerify: true
  service: {namespace: default, name: widgets}
",
    );
    let row = || s.ok(&["get", "apiservice", "v1alpha1.widgets.example.com", "--no-headers"]);
    s.eventually("the service reported missing", 30, || {
        row().split_whitespace().take(4).eq([
            "v1alpha1.widgets.example.com",
            "default/widgets",
            "False",
            "(ServiceNotFound)",
        ])
    });
    let message = s.jsonpath(
        &["apiservice", "v1alpha1.widgets.example.com"],
        "{.status.conditions[0].message}",
    );
    assert_eq!(message, "service/widgets in \"default\" is not present");
    let port = s.jsonpath(&["apiservice", "v1alpha1.widgets.example.com"], "{.spec.service.port}");
    assert_eq!(port, "443", "the port defaults to 443");
    let (code, body) = s.request("GET", "/apis/widgets.example.com/v1alpha1/widgets", "", None);
    assert_eq!((code, body.as_str()), (503, "service unavailable\n"));
    // A Service without endpoints: MissingEndpoints.
    s.ok(&["create", "service", "clusterip", "widgets", "--tcp=443:8443"]);
    s.eventually("the endpoints reported missing", 30, || {
        row().split_whitespace().nth(3) == Some("(MissingEndpoints)")
    });
    // Invalid APIServices are refused with upstream's messages.
    let bad = s.file(
        "bad-apiservice.yaml",
        "apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: widgets}
spec: {group: widgets.example.com, version: v1, groupPriorityMinimum: 0, versionPriority: 10}
",
    );
    let out = s.kubectl(&["apply", "-f", &bad]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("metadata.name: Invalid value: \"widgets\": must be `spec.version+\".\"+spec.group`: \"v1.widgets.example.com\"")
            && err.contains("spec.groupPriorityMinimum: Invalid value: 0: must be positive and less than 20000"),
        "{err}"
    );
}
