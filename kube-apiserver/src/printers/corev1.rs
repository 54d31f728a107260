//! Core (v1) printers other than pods and events.

use jiff::Timestamp;
use serde_json::Value;

use super::Printer;
use super::util::{
    AGE, CONTAINERS, IMAGES, NAME, NONE, UNKNOWN, UNSET, access_modes, age, at, col, containers, count_at,
    format_labels, int_at, list_at, name_cell, opt_int, opt_str, quantity, str_at, str_or, strings_at,
    template_containers, wide,
};

pub(super) fn printer(resource: &str) -> Option<&'static Printer> {
    Some(match resource {
        "pods" => &super::pod::POD,
        "events" => &super::events::CORE_EVENT,
        "podtemplates" => &POD_TEMPLATE,
        "replicationcontrollers" => &REPLICATION_CONTROLLER,
        "services" => &SERVICE,
        "endpoints" => &ENDPOINTS,
        "nodes" => &NODE,
        "namespaces" => &NAMESPACE,
        "secrets" => &SECRET,
        "serviceaccounts" => &SERVICE_ACCOUNT,
        "persistentvolumes" => &PERSISTENT_VOLUME,
        "persistentvolumeclaims" => &PERSISTENT_VOLUME_CLAIM,
        "resourcequotas" => &RESOURCE_QUOTA,
        "componentstatuses" => &COMPONENT_STATUS,
        "configmaps" => &CONFIG_MAP,
        _ => return None,
    })
}

static POD_TEMPLATE: Printer = Printer {
    columns: &[
        NAME,
        col("Containers", "string", "Names of each container in the template."),
        col(
            "Images",
            "string",
            "Images referenced by each container in the template.",
        ),
        col("Pod Labels", "string", "The labels for the pod template."),
    ],
    row: |obj, _| {
        let (names, images) = containers(at(obj, &["template", "spec"]));
        vec![
            name_cell(obj),
            names,
            images,
            format_labels(at(obj, &["template", "metadata", "labels"])).into(),
        ]
    },
};

static REPLICATION_CONTROLLER: Printer = Printer {
    columns: &[
        NAME,
        col("Desired", "integer", "Replicas is the number of desired replicas."),
        col(
            "Current",
            "integer",
            "Replicas is the most recently observed number of replicas.",
        ),
        col(
            "Ready",
            "integer",
            "The number of ready replicas for this replication controller.",
        ),
        AGE,
        CONTAINERS,
        IMAGES,
        wide(
            "Selector",
            "string",
            "Selector is a label query over pods that should match the Replicas count.",
        ),
    ],
    row: |obj, now| {
        let (names, images) = template_containers(obj);
        vec![
            name_cell(obj),
            opt_int(obj, &["spec", "replicas"]).unwrap_or(1).into(),
            int_at(obj, &["status", "replicas"]).into(),
            int_at(obj, &["status", "readyReplicas"]).into(),
            age(obj, now),
            names,
            images,
            format_labels(at(obj, &["spec", "selector"])).into(),
        ]
    },
};

static SERVICE: Printer = Printer {
    columns: &[
        NAME,
        col("Type", "string", "type determines how the Service is exposed."),
        col(
            "Cluster-IP",
            "string",
            "clusterIP is the IP address of the service and is usually assigned randomly.",
        ),
        col(
            "External-IP",
            "string",
            "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.",
        ),
        col(
            "Port(s)",
            "string",
            "The list of ports that are exposed by this service.",
        ),
        AGE,
        wide(
            "Selector",
            "string",
            "Route service traffic to pods with label keys and values matching this selector.",
        ),
    ],
    row: service_row,
};

fn service_row(svc: &Value, now: Timestamp) -> Vec<Value> {
    let kind = str_or(svc, &["spec", "type"], "ClusterIP");
    let cluster_ip = strings_at(svc, &["spec", "clusterIPs"])
        .first()
        .copied()
        .unwrap_or_else(|| str_or(svc, &["spec", "clusterIP"], NONE));
    let ports = service_ports(list_at(svc, &["spec", "ports"]));
    vec![
        name_cell(svc),
        kind.into(),
        cluster_ip.into(),
        service_external_ip(svc, kind).into(),
        (if ports.is_empty() { NONE.to_string() } else { ports }).into(),
        age(svc, now),
        format_labels(at(svc, &["spec", "selector"])).into(),
    ]
}

/// getServiceExternalIP (wide, so load-balancer addresses are not clipped).
fn service_external_ip(svc: &Value, kind: &str) -> String {
    let external = strings_at(svc, &["spec", "externalIPs"]);
    match kind {
        "ClusterIP" | "NodePort" if external.is_empty() => NONE.to_string(),
        "ClusterIP" | "NodePort" => external.join(","),
        "LoadBalancer" => {
            let mut all = load_balancer_addresses(at(svc, &["status", "loadBalancer"]));
            all.extend(external.iter().map(|s| s.to_string()));
            if all.is_empty() {
                "<pending>".to_string()
            } else {
                all.join(",")
            }
        }
        "ExternalName" => str_at(svc, &["spec", "externalName"]).to_string(),
        _ => UNKNOWN.to_string(),
    }
}

/// Sorted, de-duplicated IPs (or hostnames) of a load balancer status.
pub(super) fn load_balancer_addresses(status: Option<&Value>) -> Vec<String> {
    let ingress = status.map_or(&[][..], |s| list_at(s, &["ingress"]));
    let mut out: Vec<String> = ingress
        .iter()
        .map(|i| str_or(i, &["ip"], str_at(i, &["hostname"])))
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    out.sort();
    out.dedup();
    out
}

/// makePortString: "port/proto" or "port:nodePort/proto", comma-joined.
fn service_ports(ports: &[Value]) -> String {
    let piece = |p: &Value| {
        let proto = str_or(p, &["protocol"], "TCP");
        let port = int_at(p, &["port"]);
        match int_at(p, &["nodePort"]) {
            n if n > 0 => format!("{port}:{n}/{proto}"),
            _ => format!("{port}/{proto}"),
        }
    };
    ports.iter().map(piece).collect::<Vec<_>>().join(",")
}

static ENDPOINTS: Printer = Printer {
    columns: &[
        NAME,
        col(
            "Endpoints",
            "string",
            "The set of all endpoints is the union of all subsets.",
        ),
        AGE,
    ],
    row: |obj, now| {
        vec![
            name_cell(obj),
            format_endpoints(list_at(obj, &["subsets"])).into(),
            age(obj, now),
        ]
    },
};

/// formatEndpoints: up to three "ip:port" entries, then " + N more...".
fn format_endpoints(subsets: &[Value]) -> String {
    if subsets.is_empty() {
        return NONE.to_string();
    }
    let mut list = Vec::new();
    let mut count = 0;
    for subset in subsets {
        let addresses: Vec<&str> = list_at(subset, &["addresses"])
            .iter()
            .map(|a| str_at(a, &["ip"]))
            .collect();
        let ports = list_at(subset, &["ports"]);
        if ports.is_empty() {
            count += addresses.len();
            list.extend(addresses.iter().map(|ip| ip.to_string()));
            continue;
        }
        for port in ports {
            count += addresses.len();
            list.extend(addresses.iter().map(|ip| join_host_port(ip, int_at(port, &["port"]))));
        }
    }
    let shown = list.iter().take(3).cloned().collect::<Vec<_>>().join(",");
    if count > 3 {
        format!("{shown} + {} more...", count - 3)
    } else {
        shown
    }
}

/// net.JoinHostPort: brackets IPv6 hosts.
fn join_host_port(host: &str, port: i64) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

static NODE: Printer = Printer {
    columns: &[
        NAME,
        col("Status", "string", "The status of the node"),
        col("Roles", "string", "The roles of the node"),
        AGE,
        col("Version", "string", "Kubelet Version reported by the node."),
        wide("Internal-IP", "string", "List of addresses reachable to the node."),
        wide("External-IP", "string", "List of addresses reachable to the node."),
        wide(
            "OS-Image",
            "string",
            "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).",
        ),
        wide(
            "Kernel-Version",
            "string",
            "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
        ),
        wide(
            "Container-Runtime",
            "string",
            "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).",
        ),
    ],
    row: node_row,
};

fn node_row(node: &Value, now: Timestamp) -> Vec<Value> {
    let info = |key: &str| str_or(node, &["status", "nodeInfo", key], UNKNOWN).to_string();
    vec![
        name_cell(node),
        node_status(node).into(),
        node_roles(node).into(),
        age(node, now),
        str_at(node, &["status", "nodeInfo", "kubeletVersion"]).into(),
        node_address(node, "InternalIP").into(),
        node_address(node, "ExternalIP").into(),
        info("osImage").into(),
        info("kernelVersion").into(),
        info("containerRuntimeVersion").into(),
    ]
}

/// Ready / NotReady / Unknown, plus SchedulingDisabled when cordoned.
fn node_status(node: &Value) -> String {
    let ready = list_at(node, &["status", "conditions"])
        .iter()
        .rev()
        .find(|c| str_at(c, &["type"]) == "Ready");
    let mut status = vec![match ready {
        Some(c) if str_at(c, &["status"]) == "True" => "Ready",
        Some(_) => "NotReady",
        None => "Unknown",
    }];
    if at(node, &["spec", "unschedulable"]).and_then(Value::as_bool) == Some(true) {
        status.push("SchedulingDisabled");
    }
    status.join(",")
}

/// Roles from `node-role.kubernetes.io/<role>` label keys and the `kubernetes.io/role` label value.
fn node_roles(node: &Value) -> String {
    let labels = at(node, &["metadata", "labels"]).and_then(Value::as_object);
    let mut roles: Vec<&str> = labels
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| match k.strip_prefix("node-role.kubernetes.io/") {
            Some(role) => Some(role),
            None if k == "kubernetes.io/role" => v.as_str(),
            None => None,
        })
        .filter(|role| !role.is_empty())
        .collect();
    roles.sort_unstable();
    roles.dedup();
    if roles.is_empty() {
        NONE.to_string()
    } else {
        roles.join(",")
    }
}

fn node_address<'a>(node: &'a Value, kind: &str) -> &'a str {
    list_at(node, &["status", "addresses"])
        .iter()
        .find(|a| str_at(a, &["type"]) == kind)
        .map_or(NONE, |a| str_at(a, &["address"]))
}

static NAMESPACE: Printer = Printer {
    columns: &[NAME, col("Status", "string", "The status of the namespace"), AGE],
    row: |obj, now| vec![name_cell(obj), str_at(obj, &["status", "phase"]).into(), age(obj, now)],
};

static SECRET: Printer = Printer {
    columns: &[
        NAME,
        col(
            "Type",
            "string",
            "Used to facilitate programmatic handling of secret data.",
        ),
        col("Data", "string", "Data contains the secret data."),
        AGE,
    ],
    row: |obj, now| {
        vec![
            name_cell(obj),
            str_at(obj, &["type"]).into(),
            count_at(obj, &["data"]).into(),
            age(obj, now),
        ]
    },
};

static SERVICE_ACCOUNT: Printer = Printer {
    columns: &[
        NAME,
        col(
            "Secrets",
            "string",
            "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.",
        ),
        AGE,
    ],
    row: |obj, now| vec![name_cell(obj), count_at(obj, &["secrets"]).into(), age(obj, now)],
};

static CONFIG_MAP: Printer = Printer {
    columns: &[
        NAME,
        col("Data", "string", "Data contains the configuration data."),
        AGE,
    ],
    row: |obj, now| {
        let keys = count_at(obj, &["data"]) + count_at(obj, &["binaryData"]);
        vec![name_cell(obj), keys.into(), age(obj, now)]
    },
};

static PERSISTENT_VOLUME: Printer = Printer {
    columns: &[
        NAME,
        col(
            "Capacity",
            "string",
            "capacity is the description of the persistent volume's resources and capacity.",
        ),
        col(
            "Access Modes",
            "string",
            "accessModes contains all ways the volume can be mounted.",
        ),
        col(
            "Reclaim Policy",
            "string",
            "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim.",
        ),
        col(
            "Status",
            "string",
            "phase indicates if a volume is available, bound to a claim, or released by a claim.",
        ),
        col(
            "Claim",
            "string",
            "claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim.",
        ),
        col("StorageClass", "string", "StorageClass of the pv"),
        col("VolumeAttributesClass", "string", "VolumeAttributesClass of the pv"),
        col(
            "Reason",
            "string",
            "reason is a brief CamelCase string that describes any failure.",
        ),
        AGE,
        wide(
            "VolumeMode",
            "string",
            "volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.",
        ),
    ],
    row: persistent_volume_row,
};

fn persistent_volume_row(pv: &Value, now: Timestamp) -> Vec<Value> {
    let claim = at(pv, &["spec", "claimRef"])
        .map(|c| format!("{}/{}", str_at(c, &["namespace"]), str_at(c, &["name"])))
        .unwrap_or_default();
    vec![
        name_cell(pv),
        quantity(at(pv, &["spec", "capacity", "storage"]), "0").into(),
        access_modes(list_at(pv, &["spec", "accessModes"])).into(),
        str_at(pv, &["spec", "persistentVolumeReclaimPolicy"]).into(),
        volume_phase(pv).into(),
        claim.into(),
        storage_class(pv, opt_str(pv, &["spec", "storageClassName"])).into(),
        opt_str(pv, &["spec", "volumeAttributesClassName"])
            .unwrap_or(UNSET)
            .into(),
        str_at(pv, &["status", "reason"]).into(),
        age(pv, now),
        opt_str(pv, &["spec", "volumeMode"]).unwrap_or(UNSET).into(),
    ]
}

/// The status phase, or "Terminating" once deletion started.
fn volume_phase(obj: &Value) -> &str {
    if super::util::is_deleting(obj) {
        "Terminating"
    } else {
        str_at(obj, &["status", "phase"])
    }
}

/// GetPersistentVolume(Claim)Class: the beta annotation wins over `spec.storageClassName`.
fn storage_class<'a>(obj: &'a Value, spec_class: Option<&'a str>) -> &'a str {
    opt_str(
        obj,
        &["metadata", "annotations", "volume.beta.kubernetes.io/storage-class"],
    )
    .or(spec_class)
    .unwrap_or("")
}

static PERSISTENT_VOLUME_CLAIM: Printer = Printer {
    columns: &[
        NAME,
        col(
            "Status",
            "string",
            "phase represents the current phase of PersistentVolumeClaim.",
        ),
        col(
            "Volume",
            "string",
            "volumeName is the binding reference to the PersistentVolume backing this claim.",
        ),
        col(
            "Capacity",
            "string",
            "capacity represents the actual resources of the underlying volume.",
        ),
        col(
            "Access Modes",
            "string",
            "accessModes contains the actual access modes the volume backing the PVC has.",
        ),
        col("StorageClass", "string", "StorageClass of the pvc"),
        col("VolumeAttributesClass", "string", "VolumeAttributesClass of the pvc"),
        AGE,
        wide(
            "VolumeMode",
            "string",
            "volumeMode defines what type of volume is required by the claim.",
        ),
    ],
    row: persistent_volume_claim_row,
};

fn persistent_volume_claim_row(pvc: &Value, now: Timestamp) -> Vec<Value> {
    let volume = str_at(pvc, &["spec", "volumeName"]);
    let (capacity, modes) = if volume.is_empty() {
        (String::new(), String::new())
    } else {
        (
            quantity(at(pvc, &["status", "capacity", "storage"]), "0"),
            access_modes(list_at(pvc, &["status", "accessModes"])),
        )
    };
    vec![
        name_cell(pvc),
        volume_phase(pvc).into(),
        volume.into(),
        capacity.into(),
        modes.into(),
        storage_class(pvc, opt_str(pvc, &["spec", "storageClassName"])).into(),
        opt_str(pvc, &["spec", "volumeAttributesClassName"])
            .unwrap_or(UNSET)
            .into(),
        age(pvc, now),
        opt_str(pvc, &["spec", "volumeMode"]).unwrap_or(UNSET).into(),
    ]
}

static RESOURCE_QUOTA: Printer = Printer {
    columns: &[
        NAME,
        col(
            "Request",
            "string",
            "Request represents a minimum amount of cpu/memory that a container may consume.",
        ),
        col(
            "Limit",
            "string",
            "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.",
        ),
        AGE,
    ],
    row: resource_quota_row,
};

/// "resource: used/hard" pairs, sorted by resource name; `limits.*` go to the Limit column.
fn resource_quota_row(quota: &Value, now: Timestamp) -> Vec<Value> {
    let hard = at(quota, &["status", "hard"]).and_then(Value::as_object);
    let mut resources: Vec<(&String, &Value)> = hard.into_iter().flatten().collect();
    resources.sort_by(|a, b| a.0.cmp(b.0));
    let (mut requests, mut limits) = (Vec::new(), Vec::new());
    for (resource, hard) in resources {
        let used = quantity(at(quota, &["status", "used", resource.as_str()]), "0");
        let entry = format!("{resource}: {used}/{}", quantity(Some(hard), "0"));
        if resource.starts_with("limits.") {
            limits.push(entry)
        } else {
            requests.push(entry)
        }
    }
    vec![
        name_cell(quota),
        requests.join(", ").into(),
        limits.join(", ").into(),
        age(quota, now),
    ]
}

static COMPONENT_STATUS: Printer = Printer {
    columns: &[
        NAME,
        col("Status", "string", "Status of the component conditions"),
        col("Message", "string", "Message of the component conditions"),
        col("Error", "string", "Error of the component conditions"),
    ],
    row: |obj, _| {
        let healthy = list_at(obj, &["conditions"])
            .iter()
            .find(|c| str_at(c, &["type"]) == "Healthy");
        let (status, message, error) = match healthy {
            Some(c) => (
                if str_at(c, &["status"]) == "True" {
                    "Healthy"
                } else {
                    "Unhealthy"
                },
                str_at(c, &["message"]),
                str_at(c, &["error"]),
            ),
            None => ("Unknown", "", ""),
        };
        vec![name_cell(obj), status.into(), message.into(), error.into()]
    },
};
