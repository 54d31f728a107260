//! The horizontal-pod-autoscaler controller: replicas kept within [minReplicas, maxReplicas]
//! through the target's scale subresource, and, with no metrics API installed, the condition
//! and events upstream reports for missing metrics.

use e2e::ApiServer;

pub(crate) const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: nginx:1.27, resources: {requests: {cpu: 100m}}}]}
";

#[test]
fn autoscaler_keeps_replicas_in_range_and_reports_missing_metrics() {
    let s = ApiServer::start_rbac();
    let _kcm = s.controllers("deployment,replicaset,horizontalpodautoscaling", &[]);
    s.ok_stdin(&["apply", "-f", "-"], DEPLOYMENT);
    s.ok(&[
        "autoscale",
        "deployment",
        "web",
        "--min=3",
        "--max=5",
        "--cpu-percent=50",
    ]);
    let replicas = || s.jsonpath(&["deploy", "web"], "{.spec.replicas}");
    s.eventually("scaled up to minReplicas", 30, || replicas() == "3");
    s.eventually("the SuccessfulRescale event", 20, || {
        let events = s.ok(&["get", "events", "--field-selector", "reason=SuccessfulRescale"]);
        events.contains("New size: 3; reason: Current number of replicas below Spec.MinReplicas")
    });
    // Within range, the controller needs pod metrics; without a metrics API it says so.
    let condition = |t: &str, field: &str| {
        s.jsonpath(
            &["hpa", "web"],
            &format!("{{.status.conditions[?(@.type==\"{t}\")].{field}}}"),
        )
    };
    s.eventually("ScalingActive false", 40, || {
        condition("ScalingActive", "reason") == "FailedGetResourceMetric"
    });
    assert_eq!(condition("ScalingActive", "status"), "False");
    assert_eq!(condition("AbleToScale", "status"), "True");
    assert_eq!(replicas(), "3");
    // Above maxReplicas comes back down to it.
    s.ok(&["scale", "deployment", "web", "--replicas=8"]);
    s.eventually("scaled down to maxReplicas", 40, || replicas() == "5");
}
