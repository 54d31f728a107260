//! The Pod describer and what workloads share with it: containers, pod templates, volumes,
//! tolerations and the QoS class, in upstream's layout.

use super::{
    Ctx, PrefixWriter, annotations_multiline, arr_at, at, controlled_by, events_for, int_at, labels_multiline, plain,
    print_bool, rfc1123z, since, str_at, string_map, write_events,
};
use serde_json::Value;

pub async fn pod(ctx: &Ctx<'_>, p: &Value) -> String {
    // Upstream clears the kind of the pod's reference; a mirror pod's events carry the
    // mirror annotation as UID.
    let mirror = str_at(p, &["metadata", "annotations", "kubernetes.io/config.mirror"]);
    let events = events_for(ctx, p, None, (!mirror.is_empty()).then_some(mirror)).await;
    let mut w = PrefixWriter::new();
    let spec = &p["spec"];
    let status = &p["status"];
    w.write(0, &format!("Name:\t{}\n", str_at(p, &["metadata", "name"])));
    w.write(0, &format!("Namespace:\t{}\n", str_at(p, &["metadata", "namespace"])));
    if let Some(prio) = spec["priority"].as_i64() {
        w.write(0, &format!("Priority:\t{prio}\n"));
    }
    let pcn = str_at(spec, &["priorityClassName"]);
    if !pcn.is_empty() {
        w.write(0, &format!("Priority Class Name:\t{pcn}\n"));
    }
    let rcn = str_at(spec, &["runtimeClassName"]);
    if !rcn.is_empty() {
        w.write(0, &format!("Runtime Class Name:\t{rcn}\n"));
    }
    let sa = str_at(spec, &["serviceAccountName"]);
    if !sa.is_empty() {
        w.write(0, &format!("Service Account:\t{sa}\n"));
    }
    let node = str_at(spec, &["nodeName"]);
    if node.is_empty() {
        w.write(0, "Node:\t<none>\n");
    } else {
        w.write(0, &format!("Node:\t{node}/{}\n", str_at(status, &["hostIP"])));
    }
    let start = str_at(status, &["startTime"]);
    if !start.is_empty() {
        w.write(0, &format!("Start Time:\t{}\n", rfc1123z(start)));
    }
    labels_multiline(&mut w, "", "Labels", &p["metadata"]["labels"]);
    annotations_multiline(&mut w, "Annotations", &p["metadata"]["annotations"]);
    let phase = str_at(status, &["phase"]);
    let deleting = str_at(p, &["metadata", "deletionTimestamp"]);
    if !deleting.is_empty() && phase != "Failed" && phase != "Succeeded" {
        w.write(0, &format!("Status:\tTerminating (lasts {})\n", since(deleting)));
        w.write(
            0,
            &format!(
                "Termination Grace Period:\t{}s\n",
                int_at(p, &["metadata", "deletionGracePeriodSeconds"])
            ),
        );
    } else {
        w.write(0, &format!("Status:\t{phase}\n"));
    }
    for (key, title) in [("reason", "Reason"), ("message", "Message")] {
        let v = str_at(status, &[key]);
        if !v.is_empty() {
            w.write(0, &format!("{title}:\t{v}\n"));
        }
    }
    let seccomp = &spec["securityContext"]["seccompProfile"];
    if seccomp.is_object() {
        w.write(0, &format!("SeccompProfile:\t{}\n", str_at(seccomp, &["type"])));
        if str_at(seccomp, &["type"]) == "Localhost" {
            w.write(
                0,
                &format!("LocalhostProfile:\t{}\n", str_at(seccomp, &["localhostProfile"])),
            );
        }
    }
    w.write(0, &format!("IP:\t{}\n", str_at(status, &["podIP"])));
    let ips = arr_at(status, &["podIPs"]);
    if ips.is_empty() {
        w.write(0, "IPs:\t<none>\n");
    } else {
        w.write(0, "IPs:\n");
        for ip in ips {
            w.write(1, &format!("IP:\t{}\n", str_at(ip, &["ip"])));
        }
    }
    if let Some(c) = controlled_by(p) {
        w.write(0, &format!("Controlled By:\t{c}\n"));
    }
    let nominated = str_at(status, &["nominatedNodeName"]);
    if !nominated.is_empty() {
        w.write(0, &format!("NominatedNodeName:\t{nominated}\n"));
    }
    if spec["resources"].is_object() {
        w.write(0, "Resources:\n");
        resources(&mut w, &spec["resources"], 1);
    }
    if !arr_at(spec, &["initContainers"]).is_empty() {
        containers_of(
            &mut w,
            "Init Containers",
            arr_at(spec, &["initContainers"]),
            Some(arr_at(status, &["initContainerStatuses"])),
            "",
            Some(p),
        );
    }
    containers_of(
        &mut w,
        "Containers",
        arr_at(spec, &["containers"]),
        Some(arr_at(status, &["containerStatuses"])),
        "",
        Some(p),
    );
    if !arr_at(spec, &["ephemeralContainers"]).is_empty() {
        containers_of(
            &mut w,
            "Ephemeral Containers",
            arr_at(spec, &["ephemeralContainers"]),
            Some(arr_at(status, &["ephemeralContainerStatuses"])),
            "",
            Some(p),
        );
    }
    let gates = arr_at(spec, &["readinessGates"]);
    if !gates.is_empty() {
        w.write(0, "Readiness Gates:\n  Type\tStatus\n");
        for g in gates {
            let t = str_at(g, &["conditionType"]);
            let st = arr_at(status, &["conditions"])
                .iter()
                .find(|c| str_at(c, &["type"]) == t)
                .map(|c| str_at(c, &["status"]).to_string())
                .unwrap_or_else(|| "<none>".into());
            w.write(1, &format!("{t} \t{st} \n"));
        }
    }
    let conditions = arr_at(status, &["conditions"]);
    if !conditions.is_empty() {
        w.write(0, "Conditions:\n  Type\tStatus\n");
        for c in conditions {
            w.write(1, &format!("{} \t{} \n", str_at(c, &["type"]), str_at(c, &["status"])));
        }
    }
    volumes(&mut w, arr_at(spec, &["volumes"]), "");
    w.write(0, &format!("QoS Class:\t{}\n", qos_class(p)));
    labels_multiline(&mut w, "", "Node-Selectors", &spec["nodeSelector"]);
    tolerations(&mut w, "", "Tolerations", arr_at(spec, &["tolerations"]));
    write_events(&mut w, events);
    w.finish()
}

/// upstream's DescribePodTemplate.
pub fn pod_template(w: &mut PrefixWriter, t: &Value) {
    w.write(0, "Pod Template:\n");
    labels_multiline(w, "", "  Labels", &t["metadata"]["labels"]);
    if t["metadata"]["annotations"].as_object().is_some_and(|m| !m.is_empty()) {
        annotations_multiline(w, "  Annotations", &t["metadata"]["annotations"]);
    }
    let spec = &t["spec"];
    let sa = str_at(spec, &["serviceAccountName"]);
    if !sa.is_empty() {
        w.write(1, &format!("Service Account:\t{sa}\n"));
    }
    if !arr_at(spec, &["initContainers"]).is_empty() {
        containers(w, "Init Containers", arr_at(spec, &["initContainers"]), None, "  ");
    }
    containers(w, "Containers", arr_at(spec, &["containers"]), None, "  ");
    volumes(w, arr_at(spec, &["volumes"]), "  ");
    let pcn = str_at(spec, &["priorityClassName"]);
    if !pcn.is_empty() {
        w.write(1, &format!("Priority Class Name:\t{pcn}\n"));
    }
    labels_multiline(w, "", "  Node-Selectors", &spec["nodeSelector"]);
    tolerations(w, "", "  Tolerations", arr_at(spec, &["tolerations"]));
}

/// The value of a downward-API field of `pod` as upstream's EnvValueRetriever resolves it.
fn field_value(pod: &Value, path: &str) -> String {
    let meta = &pod["metadata"];
    // Label and annotation paths resolve to nothing in kubectl 1.33.
    match path {
        "metadata.name" => str_at(meta, &["name"]).into(),
        "metadata.namespace" => str_at(meta, &["namespace"]).into(),
        "metadata.uid" => str_at(meta, &["uid"]).into(),
        "spec.nodeName" => str_at(pod, &["spec", "nodeName"]).into(),
        "spec.serviceAccountName" => str_at(pod, &["spec", "serviceAccountName"]).into(),
        "status.hostIP" => str_at(pod, &["status", "hostIP"]).into(),
        "status.podIP" => str_at(pod, &["status", "podIP"]).into(),
        _ => String::new(),
    }
}

/// upstream's ExtractContainerResourceValue with the default divisor of 1: cpu rounded up
/// to whole cores, memory and storage in bytes.
fn resource_value(c: &Value, resource: &str) -> String {
    let Some((kind, res)) = resource.split_once('.') else {
        return String::new();
    };
    let q = str_at(c, &["resources", kind, res]);
    let v = super::nodes::quantity(if q.is_empty() { "0" } else { q });
    let n = if res == "cpu" { v.ceil() } else { v.round() };
    format!("{}", n as i64)
}

fn containers(w: &mut PrefixWriter, label: &str, list: &[Value], statuses: Option<&[Value]>, space: &str) {
    containers_of(w, label, list, statuses, space, None)
}

fn containers_of(
    w: &mut PrefixWriter,
    label: &str,
    list: &[Value],
    statuses: Option<&[Value]>,
    space: &str,
    pod: Option<&Value>,
) {
    let none = if list.is_empty() { " <none>" } else { "" };
    w.write(0, &format!("{space}{label}:{none}\n"));
    let name_indent = if space.is_empty() { "" } else { " " };
    for c in list {
        let name = str_at(c, &["name"]);
        let status = statuses.and_then(|s| s.iter().find(|s| str_at(s, &["name"]) == name));
        w.write(1, &format!("{name_indent}{name}:\n"));
        if let Some(s) = status {
            w.write(2, &format!("Container ID:\t{}\n", str_at(s, &["containerID"])));
        }
        w.write(2, &format!("Image:\t{}\n", str_at(c, &["image"])));
        if let Some(s) = status {
            w.write(2, &format!("Image ID:\t{}\n", str_at(s, &["imageID"])));
        }
        let ports = ports_string(arr_at(c, &["ports"]), "containerPort");
        if ports.contains(',') {
            w.write(2, &format!("Ports:\t{ports}\n"));
        } else {
            w.write(2, &format!("Port:\t{}\n", or_none(&ports)));
        }
        let host = ports_string(arr_at(c, &["ports"]), "hostPort");
        if host.contains(',') {
            w.write(2, &format!("Host Ports:\t{host}\n"));
        } else {
            w.write(2, &format!("Host Port:\t{}\n", or_none(&host)));
        }
        let seccomp = &c["securityContext"]["seccompProfile"];
        if seccomp.is_object() {
            w.write(2, &format!("SeccompProfile:\t{}\n", str_at(seccomp, &["type"])));
            if str_at(seccomp, &["type"]) == "Localhost" {
                w.write(
                    3,
                    &format!("LocalhostProfile:\t{}\n", str_at(seccomp, &["localhostProfile"])),
                );
            }
        }
        for (key, title) in [("command", "Command"), ("args", "Args")] {
            let items = arr_at(c, &[key]);
            if !items.is_empty() {
                w.write(2, &format!("{title}:\n"));
                for item in items {
                    for s in item.as_str().unwrap_or_default().split('\n') {
                        w.write(3, &format!("{s}\n"));
                    }
                }
            }
        }
        if let Some(s) = status {
            container_state(w, "State", &s["state"]);
            if s["lastState"]["terminated"].is_object() {
                container_state(w, "Last State", &s["lastState"]);
            }
            w.write(
                2,
                &format!("Ready:\t{}\n", print_bool(s["ready"].as_bool().unwrap_or(false))),
            );
            w.write(2, &format!("Restart Count:\t{}\n", int_at(s, &["restartCount"])));
        }
        resources(w, &c["resources"], 2);
        for (key, title) in [
            ("livenessProbe", "Liveness"),
            ("readinessProbe", "Readiness"),
            ("startupProbe", "Startup"),
        ] {
            if c[key].is_object() {
                w.write(2, &format!("{title}:\t{}\n", probe(&c[key])));
            }
        }
        let env_from = arr_at(c, &["envFrom"]);
        if !env_from.is_empty() {
            w.write(2, "Environment Variables from:\n");
            for e in env_from {
                let (from, r) = if e["configMapRef"].is_object() {
                    ("ConfigMap", &e["configMapRef"])
                } else {
                    ("Secret", &e["secretRef"])
                };
                let optional = r["optional"].as_bool().unwrap_or(false);
                let prefix = str_at(e, &["prefix"]);
                if prefix.is_empty() {
                    w.write(3, &format!("{}\t{from}\tOptional: {optional}\n", str_at(r, &["name"])));
                } else {
                    w.write(
                        3,
                        &format!(
                            "{}\t{from} with prefix '{prefix}'\tOptional: {optional}\n",
                            str_at(r, &["name"])
                        ),
                    );
                }
            }
        }
        let env = arr_at(c, &["env"]);
        w.write(
            2,
            &format!("Environment:{}\n", if env.is_empty() { "\t<none>" } else { "" }),
        );
        for e in env {
            let name = str_at(e, &["name"]);
            let from = &e["valueFrom"];
            if !from.is_object() {
                for (i, s) in str_at(e, &["value"]).split('\n').enumerate() {
                    if i == 0 {
                        w.write(3, &format!("{name}:\t{s}\n"));
                    } else {
                        w.write(3, &format!("\t{s}\n"));
                    }
                }
            } else if from["fieldRef"].is_object() {
                let path = str_at(from, &["fieldRef", "fieldPath"]);
                let value = pod.map(|p| field_value(p, path)).unwrap_or_default();
                w.write(
                    3,
                    &format!(
                        "{name}:\t{value} ({}:{path})\n",
                        str_at(from, &["fieldRef", "apiVersion"])
                    ),
                );
            } else if from["resourceFieldRef"].is_object() {
                let resource = str_at(from, &["resourceFieldRef", "resource"]);
                let mut value = resource_value(c, resource);
                if value == "0" && (resource == "limits.cpu" || resource == "limits.memory") {
                    value = "node allocatable".into();
                }
                w.write(3, &format!("{name}:\t{value} ({resource})\n"));
            } else if from["secretKeyRef"].is_object() {
                let r = &from["secretKeyRef"];
                w.write(
                    3,
                    &format!(
                        "{name}:\t<set to the key '{}' in secret '{}'>\tOptional: {}\n",
                        str_at(r, &["key"]),
                        str_at(r, &["name"]),
                        r["optional"].as_bool().unwrap_or(false)
                    ),
                );
            } else if from["configMapKeyRef"].is_object() {
                let r = &from["configMapKeyRef"];
                w.write(
                    3,
                    &format!(
                        "{name}:\t<set to the key '{}' of config map '{}'>\tOptional: {}\n",
                        str_at(r, &["key"]),
                        str_at(r, &["name"]),
                        r["optional"].as_bool().unwrap_or(false)
                    ),
                );
            }
        }
        let mut mounts: Vec<&Value> = arr_at(c, &["volumeMounts"]).iter().collect();
        w.write(
            2,
            &format!("Mounts:{}\n", if mounts.is_empty() { "\t<none>" } else { "" }),
        );
        mounts.sort_by(|a, b| str_at(a, &["mountPath"]).cmp(str_at(b, &["mountPath"])));
        for m in mounts {
            let mut flags = vec![if m["readOnly"].as_bool() == Some(true) {
                "ro".to_string()
            } else {
                "rw".to_string()
            }];
            let sub = str_at(m, &["subPath"]);
            if !sub.is_empty() {
                flags.push(format!("path={sub:?}"));
            }
            w.write(
                3,
                &format!(
                    "{} from {} ({})\n",
                    str_at(m, &["mountPath"]),
                    str_at(m, &["name"]),
                    flags.join(",")
                ),
            );
        }
        let mut devices: Vec<&Value> = arr_at(c, &["volumeDevices"]).iter().collect();
        if !devices.is_empty() {
            w.write(2, "Devices:\n");
            devices.sort_by(|a, b| str_at(a, &["devicePath"]).cmp(str_at(b, &["devicePath"])));
            for d in devices {
                w.write(
                    3,
                    &format!("{} from {}\n", str_at(d, &["devicePath"]), str_at(d, &["name"])),
                );
            }
        }
    }
}

fn or_none(s: &str) -> &str {
    if s.is_empty() { "<none>" } else { s }
}

fn ports_string(ports: &[Value], field: &str) -> String {
    ports
        .iter()
        .map(|p| {
            // kubectl 1.33 does not show port names.
            format!("{}/{}", int_at(p, &[field]), str_at(p, &["protocol"]))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn container_state(w: &mut PrefixWriter, title: &str, state: &Value) {
    if state["running"].is_object() {
        w.write(2, &format!("{title}:\tRunning\n"));
        w.write(
            3,
            &format!("Started:\t{}\n", rfc1123z(str_at(state, &["running", "startedAt"]))),
        );
    } else if state["waiting"].is_object() {
        w.write(2, &format!("{title}:\tWaiting\n"));
        let r = str_at(state, &["waiting", "reason"]);
        if !r.is_empty() {
            w.write(3, &format!("Reason:\t{r}\n"));
        }
    } else if state["terminated"].is_object() {
        let t = &state["terminated"];
        w.write(2, &format!("{title}:\tTerminated\n"));
        for (k, label) in [("reason", "Reason"), ("message", "Message")] {
            let v = str_at(t, &[k]);
            if !v.is_empty() {
                w.write(3, &format!("{label}:\t{v}\n"));
            }
        }
        w.write(3, &format!("Exit Code:\t{}\n", int_at(t, &["exitCode"])));
        let signal = int_at(t, &["signal"]);
        if signal > 0 {
            w.write(3, &format!("Signal:\t{signal}\n"));
        }
        w.write(3, &format!("Started:\t{}\n", rfc1123z(str_at(t, &["startedAt"]))));
        w.write(3, &format!("Finished:\t{}\n", rfc1123z(str_at(t, &["finishedAt"]))));
    } else {
        w.write(2, &format!("{title}:\tWaiting\n"));
    }
}

fn resources(w: &mut PrefixWriter, r: &Value, level: usize) {
    for (key, title) in [("limits", "Limits"), ("requests", "Requests")] {
        let items = string_map(&r[key]);
        if !items.is_empty() {
            w.write(level, &format!("{title}:\n"));
        }
        for (k, v) in items {
            w.write(level + 1, &format!("{k}:\t{v}\n"));
        }
    }
}

fn int_or_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => plain(other),
    }
}

/// upstream's DescribeProbe.
fn probe(p: &Value) -> String {
    let attrs = format!(
        "delay={}s timeout={}s period={}s #success={} #failure={}",
        int_at(p, &["initialDelaySeconds"]),
        int_at(p, &["timeoutSeconds"]),
        int_at(p, &["periodSeconds"]),
        int_at(p, &["successThreshold"]),
        int_at(p, &["failureThreshold"])
    );
    if p["exec"].is_object() {
        let cmd: Vec<String> = arr_at(p, &["exec", "command"]).iter().map(plain).collect();
        return format!("exec [{}] {attrs}", cmd.join(" "));
    }
    if p["httpGet"].is_object() {
        let h = &p["httpGet"];
        let scheme = str_at(h, &["scheme"]).to_lowercase();
        let port = int_or_string(&h["port"]);
        let host = str_at(h, &["host"]);
        let hostport = if port.is_empty() {
            host.to_string()
        } else if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        return format!("http-get {scheme}://{hostport}{} {attrs}", str_at(h, &["path"]));
    }
    if p["tcpSocket"].is_object() {
        let t = &p["tcpSocket"];
        return format!(
            "tcp-socket {}:{} {attrs}",
            str_at(t, &["host"]),
            int_or_string(&t["port"])
        );
    }
    if p["grpc"].is_object() {
        let g = &p["grpc"];
        return format!(
            "grpc <pod>:{} {} {attrs}",
            int_at(g, &["port"]),
            str_at(g, &["service"])
        );
    }
    format!("unknown {attrs}")
}

pub fn volumes(w: &mut PrefixWriter, vols: &[Value], space: &str) {
    if vols.is_empty() {
        w.write(0, &format!("{space}Volumes:\t<none>\n"));
        return;
    }
    w.write(0, &format!("{space}Volumes:\n"));
    let name_indent = if space.is_empty() { "" } else { " " };
    for v in vols {
        w.write(1, &format!("{name_indent}{}:\n", str_at(v, &["name"])));
        if v["hostPath"].is_object() {
            let t = str_at(v, &["hostPath", "type"]);
            w.write(
                2,
                &format!(
                    "Type:\tHostPath (bare host directory volume)\n    Path:\t{}\n    HostPathType:\t{}\n",
                    str_at(v, &["hostPath", "path"]),
                    if v["hostPath"]["type"].is_string() { t } else { "<none>" }
                ),
            );
        } else if v["emptyDir"].is_object() {
            let size = match &v["emptyDir"]["sizeLimit"] {
                Value::String(s) if s != "0" => s.clone(),
                _ => "<unset>".into(),
            };
            w.write(
                2,
                &format!(
                    "Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n    Medium:\t{}\n    SizeLimit:\t{size}\n",
                    str_at(v, &["emptyDir", "medium"])
                ),
            );
        } else if v["secret"].is_object() {
            w.write(
                2,
                &format!(
                    "Type:\tSecret (a volume populated by a Secret)\n    SecretName:\t{}\n    Optional:\t{}\n",
                    str_at(v, &["secret", "secretName"]),
                    v["secret"]["optional"].as_bool().unwrap_or(false)
                ),
            );
        } else if v["configMap"].is_object() {
            w.write(
                2,
                &format!(
                    "Type:\tConfigMap (a volume populated by a ConfigMap)\n    Name:\t{}\n    Optional:\t{}\n",
                    str_at(v, &["configMap", "name"]),
                    v["configMap"]["optional"].as_bool().unwrap_or(false)
                ),
            );
        } else if v["persistentVolumeClaim"].is_object() {
            w.write(
                2,
                &format!(
                    "Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)\n    ClaimName:\t{}\n    ReadOnly:\t{}\n",
                    str_at(v, &["persistentVolumeClaim", "claimName"]),
                    v["persistentVolumeClaim"]["readOnly"].as_bool().unwrap_or(false)
                ),
            );
        } else if v["projected"].is_object() {
            w.write(
                2,
                "Type:\tProjected (a volume that contains injected data from multiple sources)\n",
            );
            for s in arr_at(v, &["projected", "sources"]) {
                if s["secret"].is_object() {
                    w.write(
                        2,
                        &format!(
                            "SecretName:\t{}\n    Optional:\t{}\n",
                            str_at(s, &["secret", "name"]),
                            s["secret"]["optional"].as_bool().unwrap_or(false)
                        ),
                    );
                } else if s["downwardAPI"].is_object() {
                    w.write(2, "DownwardAPI:\ttrue\n");
                } else if s["configMap"].is_object() {
                    w.write(
                        2,
                        &format!(
                            "ConfigMapName:\t{}\n    Optional:\t{}\n",
                            str_at(s, &["configMap", "name"]),
                            s["configMap"]["optional"].as_bool().unwrap_or(false)
                        ),
                    );
                } else if s["serviceAccountToken"].is_object() {
                    w.write(
                        2,
                        &format!(
                            "TokenExpirationSeconds:\t{}\n",
                            int_at(s, &["serviceAccountToken", "expirationSeconds"])
                        ),
                    );
                }
            }
        } else if v["csi"].is_object() {
            let c = &v["csi"];
            w.write(
                2,
                &format!(
                    "Type:\tCSI (a Container Storage Interface (CSI) volume source)\n    Driver:\t{}\n    FSType:\t{}\n    ReadOnly:\t{}\n",
                    str_at(c, &["driver"]),
                    str_at(c, &["fsType"]),
                    c["readOnly"].as_bool().unwrap_or(false)
                ),
            );
            w.write(2, "VolumeAttributes:\t");
            let attrs = string_map(&c["volumeAttributes"]);
            if attrs.is_empty() {
                w.line("<none>");
            }
            for (i, (k, val)) in attrs.iter().enumerate() {
                if i != 0 {
                    w.write(2, "");
                    w.write(2, "\t");
                }
                let line = format!("{k}={val}");
                if line.len() > 140 {
                    w.write(2, &format!("{}...\n", &line[..line.floor_char_boundary(140)]));
                } else {
                    w.write(2, &format!("{line}\n"));
                }
            }
        } else if v["downwardAPI"].is_object() {
            w.write(
                2,
                "Type:\tDownwardAPI (a volume populated by information about the pod)\n    Items:\n",
            );
            for item in arr_at(v, &["downwardAPI", "items"]) {
                let path = str_at(item, &["path"]);
                if item["fieldRef"].is_object() {
                    w.write(3, &format!("{} -> {path}\n", str_at(item, &["fieldRef", "fieldPath"])));
                }
                if item["resourceFieldRef"].is_object() {
                    w.write(
                        3,
                        &format!("{} -> {path}\n", str_at(item, &["resourceFieldRef", "resource"])),
                    );
                }
            }
        } else {
            w.write(1, "<unknown>\n");
        }
    }
}

/// upstream's printTolerationsMultilineWithIndent.
pub fn tolerations(w: &mut PrefixWriter, indent: &str, title: &str, list: &[Value]) {
    w.write(0, &format!("{indent}{title}:\t"));
    if list.is_empty() {
        w.line("<none>");
        return;
    }
    let mut list: Vec<&Value> = list.iter().collect();
    list.sort_by(|a, b| str_at(a, &["key"]).cmp(str_at(b, &["key"])));
    for (i, t) in list.iter().enumerate() {
        if i != 0 {
            w.write(0, indent);
            w.write(0, "\t");
        }
        let key = str_at(t, &["key"]);
        let value = str_at(t, &["value"]);
        let effect = str_at(t, &["effect"]);
        let mut s = key.to_string();
        if !value.is_empty() {
            s.push_str(&format!("={value}"));
        }
        if !effect.is_empty() {
            s.push_str(&format!(":{effect}"));
        }
        if str_at(t, &["operator"]) == "Exists" && value.is_empty() {
            if !key.is_empty() || !effect.is_empty() {
                s.push_str(" op=Exists");
            } else {
                s.push_str("op=Exists");
            }
        }
        if let Some(secs) = at(t, &["tolerationSeconds"]).as_i64() {
            s.push_str(&format!(" for {secs}s"));
        }
        w.write(0, &format!("{s}\n"));
    }
}

/// The pod's QoS class: from status when set, else computed from requests and limits.
pub fn qos_class(p: &Value) -> String {
    let q = str_at(p, &["status", "qosClass"]);
    if !q.is_empty() {
        return q.to_string();
    }
    let spec = &p["spec"];
    let all: Vec<&Value> = arr_at(spec, &["containers"])
        .iter()
        .chain(arr_at(spec, &["initContainers"]))
        .collect();
    let mut any = false;
    let mut guaranteed = true;
    for c in &all {
        let req = string_map(&c["resources"]["requests"]);
        let lim = string_map(&c["resources"]["limits"]);
        let relevant = |m: &Vec<(String, String)>| {
            m.iter()
                .filter(|(k, v)| (k == "cpu" || k == "memory") && v != "0")
                .cloned()
                .collect::<Vec<_>>()
        };
        let (req, lim) = (relevant(&req), relevant(&lim));
        if !req.is_empty() || !lim.is_empty() {
            any = true;
        }
        if lim.len() != 2 || req.iter().any(|r| !lim.contains(r)) {
            guaranteed = false;
        }
    }
    if !any {
        "BestEffort".into()
    } else if guaranteed {
        "Guaranteed".into()
    } else {
        "Burstable".into()
    }
}
