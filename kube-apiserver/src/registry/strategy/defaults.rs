//! Defaulting as upstream's SetDefaults_* functions do it, for the workhorse kinds and the
//! pod template they share, plus the status a new object starts with.

use super::super::resources::ResourceInfo;
use serde_json::{Map, Value, json};

/// Sets `obj[key]` to `value` when absent or null.
fn or_insert(obj: &mut Value, key: &str, value: Value) {
    if let Some(m) = obj.as_object_mut() {
        let slot = m.entry(key).or_insert(Value::Null);
        if slot.is_null() {
            *slot = value;
        }
    }
}

/// The object at `obj[key]`, created as `{}` when absent.
fn child<'a>(obj: &'a mut Value, key: &str) -> &'a mut Value {
    or_insert(obj, key, Value::Object(Map::new()));
    &mut obj[key]
}

fn each<'a>(obj: &'a mut Value, key: &str) -> impl Iterator<Item = &'a mut Value> {
    obj.get_mut(key).and_then(Value::as_array_mut).into_iter().flatten()
}

pub fn initial_status(info: &ResourceInfo, obj: &mut Value) {
    match info.resource {
        "pods" => {
            let qos = qos_class(obj.get("spec").unwrap_or(&Value::Null));
            obj["status"] = json!({"phase": "Pending", "qosClass": qos});
        }
        "namespaces" => obj["status"] = json!({"phase": "Active"}),
        "services" => obj["status"] = json!({"loadBalancer": {}}),
        "persistentvolumeclaims" | "persistentvolumes" => obj["status"] = json!({"phase": "Pending"}),
        _ => {}
    }
}

pub fn apply(info: &ResourceInfo, obj: &mut Value) {
    match (info.group, info.resource) {
        ("", "pods") => {
            let spec = child(obj, "spec");
            pod_spec(spec);
            requests_from_limits(spec);
        }
        ("", "podtemplates") => pod_template(child(obj, "template")),
        ("", "replicationcontrollers") => {
            let spec = child(obj, "spec");
            or_insert(spec, "replicas", json!(1));
            pod_template(child(spec, "template"));
        }
        ("", "namespaces") => namespace(obj),
        ("", "services") => service(child(obj, "spec")),
        ("", "endpoints") => {
            for subset in each(obj, "subsets") {
                for p in each(subset, "ports") {
                    or_insert(p, "protocol", json!("TCP"));
                }
            }
        }
        ("", "secrets") => secret(obj),
        ("apiregistration.k8s.io", "apiservices") => {
            if let Some(service) = obj.pointer_mut("/spec/service").filter(|s| s.is_object()) {
                or_insert(service, "port", json!(443));
            }
        }
        ("autoscaling", "horizontalpodautoscalers") => horizontal_pod_autoscaler(child(obj, "spec")),
        ("apps", "deployments") => deployment(child(obj, "spec")),
        ("apps", "replicasets") => {
            let spec = child(obj, "spec");
            or_insert(spec, "replicas", json!(1));
            pod_template(child(spec, "template"));
        }
        ("apps", "daemonsets") => daemonset(child(obj, "spec")),
        ("apps", "statefulsets") => statefulset(child(obj, "spec")),
        ("batch", "jobs") => job(child(obj, "spec")),
        ("batch", "cronjobs") => {
            let spec = child(obj, "spec");
            or_insert(spec, "concurrencyPolicy", json!("Allow"));
            or_insert(spec, "suspend", json!(false));
            or_insert(spec, "successfulJobsHistoryLimit", json!(3));
            or_insert(spec, "failedJobsHistoryLimit", json!(1));
            job(child(child(spec, "jobTemplate"), "spec"));
        }
        ("scheduling.k8s.io", "priorityclasses") => or_insert(obj, "preemptionPolicy", json!("PreemptLowerPriority")),
        ("", "persistentvolumeclaims") => or_insert(child(obj, "spec"), "volumeMode", json!("Filesystem")),
        ("", "persistentvolumes") => {
            let spec = child(obj, "spec");
            or_insert(spec, "persistentVolumeReclaimPolicy", json!("Retain"));
            or_insert(spec, "volumeMode", json!("Filesystem"));
        }
        _ => {}
    }
}

/// `stringData` is write-only: its entries are folded into `data`, base64-encoded.
fn secret(obj: &mut Value) {
    use base64::Engine;
    or_insert(obj, "type", json!("Opaque"));
    let Some(string_data) = obj.as_object_mut().and_then(|m| m.remove("stringData")) else {
        return;
    };
    let Some(entries) = string_data.as_object() else { return };
    let data = child(obj, "data");
    for (k, v) in entries {
        let text = v.as_str().unwrap_or_default();
        data[k] = json!(base64::engine::general_purpose::STANDARD.encode(text));
    }
}

fn namespace(obj: &mut Value) {
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if !name.is_empty() {
        let labels = child(child(obj, "metadata"), "labels");
        labels["kubernetes.io/metadata.name"] = json!(name);
    }
    let spec = child(obj, "spec");
    or_insert(spec, "finalizers", json!(["kubernetes"]));
}

fn pod_template(template: &mut Value) {
    pod_spec(child(template, "spec"));
}

pub fn pod_spec(spec: &mut Value) {
    or_insert(spec, "restartPolicy", json!("Always"));
    or_insert(spec, "terminationGracePeriodSeconds", json!(30));
    or_insert(spec, "dnsPolicy", json!("ClusterFirst"));
    or_insert(spec, "securityContext", json!({}));
    or_insert(spec, "schedulerName", json!("default-scheduler"));
    or_insert(spec, "enableServiceLinks", json!(true));
    for key in ["initContainers", "containers", "ephemeralContainers"] {
        for c in each(spec, key) {
            container(c);
        }
    }
    for v in each(spec, "volumes") {
        volume(v);
    }
}

/// In a Pod (not a template), a limit without a request requests the limit.
fn requests_from_limits(spec: &mut Value) {
    for key in ["initContainers", "containers"] {
        for c in each(spec, key) {
            let limits = c
                .pointer("/resources/limits")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            if limits.is_empty() {
                continue;
            }
            let requests = child(child(c, "resources"), "requests");
            for (k, v) in limits {
                or_insert(requests, &k, v);
            }
        }
    }
}

fn container(c: &mut Value) {
    let image = c.get("image").and_then(Value::as_str).unwrap_or_default().to_string();
    let policy = if image_tag(&image).is_none_or(|t| t == "latest") {
        "Always"
    } else {
        "IfNotPresent"
    };
    or_insert(c, "imagePullPolicy", json!(policy));
    or_insert(c, "terminationMessagePath", json!("/dev/termination-log"));
    or_insert(c, "terminationMessagePolicy", json!("File"));
    or_insert(c, "resources", json!({}));
    for p in each(c, "ports") {
        or_insert(p, "protocol", json!("TCP"));
    }
    // ObjectFieldSelector.apiVersion defaults to "v1".
    for e in each(c, "env") {
        if let Some(f) = e.pointer_mut("/valueFrom/fieldRef").filter(|f| f.is_object()) {
            or_insert(f, "apiVersion", json!("v1"));
        }
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(p) = c.get_mut(probe).filter(|p| p.is_object()) {
            or_insert(p, "timeoutSeconds", json!(1));
            or_insert(p, "periodSeconds", json!(10));
            or_insert(p, "successThreshold", json!(1));
            or_insert(p, "failureThreshold", json!(3));
            if let Some(h) = p.get_mut("httpGet").filter(|h| h.is_object()) {
                or_insert(h, "path", json!("/"));
                or_insert(h, "scheme", json!("HTTP"));
            }
        }
    }
}

/// The tag of an image reference, if it has one (a digest counts as pinned).
fn image_tag(image: &str) -> Option<&str> {
    if image.contains('@') {
        return Some("@digest");
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    last.split_once(':').map(|(_, t)| t)
}

fn volume(v: &mut Value) {
    if let Some(s) = v.get_mut("secret").filter(|s| s.is_object()) {
        or_insert(s, "defaultMode", json!(420));
    }
    if let Some(s) = v.get_mut("configMap").filter(|s| s.is_object()) {
        or_insert(s, "defaultMode", json!(420));
    }
    if let Some(s) = v.get_mut("projected").filter(|s| s.is_object()) {
        or_insert(s, "defaultMode", json!(420));
    }
    if let Some(s) = v.get_mut("hostPath").filter(|s| s.is_object()) {
        or_insert(s, "type", json!(""));
    }
}

fn deployment(spec: &mut Value) {
    or_insert(spec, "replicas", json!(1));
    or_insert(spec, "revisionHistoryLimit", json!(10));
    or_insert(spec, "progressDeadlineSeconds", json!(600));
    let strategy = child(spec, "strategy");
    or_insert(strategy, "type", json!("RollingUpdate"));
    if strategy.get("type").and_then(Value::as_str) == Some("RollingUpdate") {
        let ru = child(strategy, "rollingUpdate");
        or_insert(ru, "maxUnavailable", json!("25%"));
        or_insert(ru, "maxSurge", json!("25%"));
    }
    pod_template(child(spec, "template"));
}

fn daemonset(spec: &mut Value) {
    or_insert(spec, "revisionHistoryLimit", json!(10));
    let strategy = child(spec, "updateStrategy");
    or_insert(strategy, "type", json!("RollingUpdate"));
    if strategy.get("type").and_then(Value::as_str) == Some("RollingUpdate") {
        let ru = child(strategy, "rollingUpdate");
        or_insert(ru, "maxUnavailable", json!(1));
        or_insert(ru, "maxSurge", json!(0));
    }
    pod_template(child(spec, "template"));
}

fn statefulset(spec: &mut Value) {
    or_insert(spec, "replicas", json!(1));
    or_insert(spec, "podManagementPolicy", json!("OrderedReady"));
    or_insert(spec, "revisionHistoryLimit", json!(10));
    or_insert(
        spec,
        "persistentVolumeClaimRetentionPolicy",
        json!({"whenDeleted": "Retain", "whenScaled": "Retain"}),
    );
    let strategy = child(spec, "updateStrategy");
    or_insert(strategy, "type", json!("RollingUpdate"));
    if strategy.get("type").and_then(Value::as_str) == Some("RollingUpdate") {
        let ru = child(strategy, "rollingUpdate");
        or_insert(ru, "partition", json!(0));
    }
    pod_template(child(spec, "template"));
}

fn job(spec: &mut Value) {
    let completions_unset = spec.get("completions").is_none_or(Value::is_null);
    let parallelism_unset = spec.get("parallelism").is_none_or(Value::is_null);
    if completions_unset && parallelism_unset {
        spec["completions"] = json!(1);
        spec["parallelism"] = json!(1);
    }
    or_insert(spec, "parallelism", json!(1));
    // With a per-index budget, the Job-wide one is effectively off.
    let per_index = spec.get("backoffLimitPerIndex").is_some_and(|v| !v.is_null());
    or_insert(spec, "backoffLimit", json!(if per_index { i32::MAX } else { 6 }));
    or_insert(spec, "completionMode", json!("NonIndexed"));
    or_insert(spec, "suspend", json!(false));
    or_insert(spec, "manualSelector", Value::Null);
    if let Some(m) = spec.as_object_mut()
        && m.get("manualSelector").is_some_and(Value::is_null)
    {
        m.remove("manualSelector");
    }
    or_insert(spec, "podReplacementPolicy", json!("TerminatingOrFailed"));
    let template = child(spec, "template");
    pod_template(template);
}

fn service(spec: &mut Value) {
    or_insert(spec, "type", json!("ClusterIP"));
    or_insert(spec, "sessionAffinity", json!("None"));
    let ty = spec
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP")
        .to_string();
    if ty != "ExternalName" {
        or_insert(spec, "internalTrafficPolicy", json!("Cluster"));
    }
    if matches!(ty.as_str(), "NodePort" | "LoadBalancer") {
        or_insert(spec, "externalTrafficPolicy", json!("Cluster"));
    }
    if ty == "LoadBalancer" {
        or_insert(spec, "allocateLoadBalancerNodePorts", json!(true));
    }
    for p in each(spec, "ports") {
        or_insert(p, "protocol", json!("TCP"));
        if p.get("targetPort").is_none_or(Value::is_null)
            && let Some(port) = p.get("port").cloned()
        {
            p["targetPort"] = port;
        }
    }
}

/// Guaranteed when every container sets equal cpu and memory limits and requests,
/// BestEffort when none sets any, Burstable otherwise (upstream's GetPodQOS, simplified
/// to the fields that decide it).
pub fn qos_class(spec: &Value) -> &'static str {
    let containers: Vec<&Value> = ["initContainers", "containers"]
        .iter()
        .filter_map(|k| spec.get(*k).and_then(Value::as_array))
        .flatten()
        .collect();
    let mut any = false;
    let mut guaranteed = !containers.is_empty();
    for c in &containers {
        let req = c.pointer("/resources/requests").and_then(Value::as_object);
        let lim = c.pointer("/resources/limits").and_then(Value::as_object);
        if req.is_some_and(|r| !r.is_empty()) || lim.is_some_and(|l| !l.is_empty()) {
            any = true;
        }
        for res in ["cpu", "memory"] {
            let l = lim.and_then(|l| l.get(res));
            let r = req.and_then(|r| r.get(res)).or(l);
            if l.is_none() || r != l {
                guaranteed = false;
            }
        }
    }
    if !any {
        "BestEffort"
    } else if guaranteed {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

/// autoscaling/v2 (the storage form): one replica at least, 80% CPU when no metric is given,
/// and a `behavior`, once given, filled with the default rules of each direction (the
/// scale-down window stays unset: the controller's flag decides it).
fn horizontal_pod_autoscaler(spec: &mut Value) {
    or_insert(spec, "minReplicas", json!(1));
    if spec.get("metrics").and_then(Value::as_array).is_none_or(Vec::is_empty) {
        spec["metrics"] = json!([{"type": "Resource",
            "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]);
    }
    let Some(behavior) = spec.get_mut("behavior").filter(|b| b.is_object()) else {
        return;
    };
    let up = child(behavior, "scaleUp");
    or_insert(up, "stabilizationWindowSeconds", json!(0));
    or_insert(up, "selectPolicy", json!("Max"));
    or_insert(
        up,
        "policies",
        json!([{"type": "Pods", "value": 4, "periodSeconds": 15}, {"type": "Percent", "value": 100, "periodSeconds": 15}]),
    );
    let down = child(behavior, "scaleDown");
    or_insert(down, "selectPolicy", json!("Max"));
    or_insert(
        down,
        "policies",
        json!([{"type": "Percent", "value": 100, "periodSeconds": 15}]),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_policy_and_qos() {
        let mut spec = json!({"containers":[{"name":"a","image":"nginx"},{"name":"b","image":"nginx:1.25"},{"name":"c","image":"reg:5000/x"}]});
        pod_spec(&mut spec);
        assert_eq!(spec["containers"][0]["imagePullPolicy"], "Always");
        assert_eq!(spec["containers"][1]["imagePullPolicy"], "IfNotPresent");
        assert_eq!(spec["containers"][2]["imagePullPolicy"], "Always");
        assert_eq!(spec["restartPolicy"], "Always");
        assert_eq!(qos_class(&spec), "BestEffort");
        let g = json!({"containers":[{"resources":{"limits":{"cpu":"1","memory":"1Gi"}}}]});
        assert_eq!(qos_class(&g), "Guaranteed");
        let b = json!({"containers":[{"resources":{"requests":{"cpu":"1"}}}]});
        assert_eq!(qos_class(&b), "Burstable");
    }

    #[test]
    fn deployment_and_service_defaults() {
        let mut d = json!({"selector":{},"template":{"spec":{"containers":[]}}});
        deployment(&mut d);
        assert_eq!(d["strategy"]["rollingUpdate"]["maxSurge"], "25%");
        assert_eq!(d["replicas"], 1);
        let mut s = json!({"ports":[{"port":80}]});
        service(&mut s);
        assert_eq!(s["ports"][0]["targetPort"], 80);
        assert_eq!(s["type"], "ClusterIP");
    }

    #[test]
    fn horizontal_pod_autoscalers() {
        let info = crate::registry::resources::find("autoscaling", "v2", "horizontalpodautoscalers").unwrap();
        let mut hpa = json!({"spec": {"maxReplicas": 3, "behavior": {"scaleDown": {"stabilizationWindowSeconds": 0}}}});
        apply(info, &mut hpa);
        assert_eq!(hpa["spec"]["minReplicas"], 1);
        assert_eq!(
            hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"],
            80
        );
        assert_eq!(hpa["spec"]["behavior"]["scaleUp"]["policies"][0]["type"], "Pods");
        assert_eq!(hpa["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"], 0);
        assert_eq!(hpa["spec"]["behavior"]["scaleDown"]["selectPolicy"], "Max");
        let mut plain = json!({"spec": {"maxReplicas": 3}});
        apply(info, &mut plain);
        assert!(plain["spec"].get("behavior").is_none());
    }
}
