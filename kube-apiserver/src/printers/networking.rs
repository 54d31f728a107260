//! networking.k8s.io and discovery.k8s.io printers: ingresses, ingressclasses, networkpolicies,
//! ipaddresses, servicecidrs and endpointslices.

use jiff::Timestamp;
use serde_json::Value;

use super::Printer;
use super::corev1::load_balancer_addresses;
use super::util::{
    AGE, NAME, NONE, age, at, col, format_selector, list_at, list_with_more, name_cell, opt_str, str_at, strings_at,
};

pub(super) fn printer(group: &str, resource: &str) -> Option<&'static Printer> {
    Some(match (group, resource) {
        ("networking.k8s.io", "ingresses") => &INGRESS,
        ("networking.k8s.io", "ingressclasses") => &INGRESS_CLASS,
        ("networking.k8s.io", "networkpolicies") => &NETWORK_POLICY,
        ("networking.k8s.io", "ipaddresses") => &IP_ADDRESS,
        ("networking.k8s.io", "servicecidrs") => &SERVICE_CIDR,
        ("discovery.k8s.io", "endpointslices") => &ENDPOINT_SLICE,
        _ => return None,
    })
}

static INGRESS: Printer = Printer {
    columns: &[
        NAME,
        col(
            "Class",
            "string",
            "The name of the IngressClass resource that should be used for additional configuration",
        ),
        col(
            "Hosts",
            "string",
            "Hosts that incoming requests are matched against before the ingress rule",
        ),
        col(
            "Address",
            "string",
            "Address is a list containing ingress points for the load-balancer",
        ),
        col("Ports", "string", "Ports of TLS configurations that open"),
        AGE,
    ],
    row: ingress_row,
};

fn ingress_row(ing: &Value, now: Timestamp) -> Vec<Value> {
    let ports = if list_at(ing, &["spec", "tls"]).is_empty() {
        "80"
    } else {
        "80, 443"
    };
    vec![
        name_cell(ing),
        opt_str(ing, &["spec", "ingressClassName"]).unwrap_or(NONE).into(),
        ingress_hosts(list_at(ing, &["spec", "rules"])).into(),
        load_balancer_addresses(at(ing, &["status", "loadBalancer"]))
            .join(",")
            .into(),
        ports.into(),
        age(ing, now),
    ]
}

/// formatHosts: the first three non-empty rule hosts, "*" when none, then " + N more..."
/// (N counting every rule past the third) once a rule follows the third host.
fn ingress_hosts(rules: &[Value]) -> String {
    let mut hosts = Vec::new();
    let mut more = false;
    for rule in rules {
        more |= hosts.len() == 3;
        let host = str_at(rule, &["host"]);
        if !more && !host.is_empty() {
            hosts.push(host);
        }
    }
    if hosts.is_empty() {
        return "*".to_string();
    }
    let shown = hosts.join(",");
    if more {
        format!("{shown} + {} more...", rules.len() - 3)
    } else {
        shown
    }
}

static INGRESS_CLASS: Printer = Printer {
    columns: &[
        NAME,
        col(
            "Controller",
            "string",
            "Controller that is responsible for handling this class",
        ),
        col(
            "Parameters",
            "string",
            "A reference to a resource with additional parameters",
        ),
        AGE,
    ],
    row: |obj, now| {
        let parameters = at(obj, &["spec", "parameters"]).map_or_else(
            || NONE.to_string(),
            |p| {
                let kind = match opt_str(p, &["apiGroup"]) {
                    Some(group) => format!("{}.{group}", str_at(p, &["kind"])),
                    None => str_at(p, &["kind"]).to_string(),
                };
                format!("{kind}/{}", str_at(p, &["name"]))
            },
        );
        vec![
            name_cell(obj),
            str_at(obj, &["spec", "controller"]).into(),
            parameters.into(),
            age(obj, now),
        ]
    },
};

static NETWORK_POLICY: Printer = Printer {
    columns: &[
        NAME,
        col(
            "Pod-Selector",
            "string",
            "Selects the pods to which this NetworkPolicy object applies.",
        ),
        AGE,
    ],
    row: |obj, now| {
        // podSelector is a required struct upstream: an absent one prints like an empty one.
        let empty = Value::Object(serde_json::Map::new());
        let selector = at(obj, &["spec", "podSelector"]).unwrap_or(&empty);
        vec![name_cell(obj), format_selector(Some(selector)).into(), age(obj, now)]
    },
};

/// Upstream v1.33 declares only Name and ParentRef but emits an Age cell too; kept as is.
static IP_ADDRESS: Printer = Printer {
    columns: &[
        NAME,
        col(
            "ParentRef",
            "string",
            "ParentRef references the resource that an IPAddress is attached to.",
        ),
    ],
    row: |obj, now| vec![name_cell(obj), ip_address_parent(obj).into(), age(obj, now)],
};

/// "resource.group/namespace/name" (lower-cased resource.group), "<none>" without a parentRef.
fn ip_address_parent(obj: &Value) -> String {
    let Some(parent) = at(obj, &["spec", "parentRef"]) else {
        return NONE.to_string();
    };
    let (resource, group) = (str_at(parent, &["resource"]), str_at(parent, &["group"]));
    let mut out = if group.is_empty() {
        resource.to_string()
    } else {
        format!("{resource}.{group}")
    }
    .to_lowercase();
    let namespace = str_at(parent, &["namespace"]);
    if !namespace.is_empty() {
        out = format!("{out}/{namespace}");
    }
    format!("{out}/{}", str_at(parent, &["name"]))
}

static SERVICE_CIDR: Printer = Printer {
    columns: &[
        NAME,
        col("CIDRs", "string", "CIDRs defines the IP blocks in CIDR notation."),
        AGE,
    ],
    row: |obj, now| {
        vec![
            name_cell(obj),
            strings_at(obj, &["spec", "cidrs"]).join(",").into(),
            age(obj, now),
        ]
    },
};

static ENDPOINT_SLICE: Printer = Printer {
    columns: &[
        NAME,
        col(
            "AddressType",
            "string",
            "addressType specifies the type of address carried by this EndpointSlice.",
        ),
        col(
            "Ports",
            "string",
            "ports specifies the list of network ports exposed by each endpoint in this slice.",
        ),
        col(
            "Endpoints",
            "string",
            "endpoints is a list of unique endpoints in this slice.",
        ),
        AGE,
    ],
    row: endpoint_slice_row,
};

fn endpoint_slice_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    let ports = list_at(obj, &["ports"]);
    let port_names: Vec<String> = ports.iter().map(slice_port).collect();
    let addresses: Vec<String> = list_at(obj, &["endpoints"])
        .iter()
        .flat_map(|e| strings_at(e, &["addresses"]))
        .map(str::to_string)
        .collect();
    vec![
        name_cell(obj),
        str_at(obj, &["addressType"]).into(),
        list_with_more(&port_names, port_names.len(), 3).into(),
        list_with_more(&addresses, addresses.len(), 3).into(),
        age(obj, now),
    ]
}

/// A slice port's number, else its name, else "*".
fn slice_port(port: &Value) -> String {
    match (at(port, &["port"]).and_then(Value::as_i64), opt_str(port, &["name"])) {
        (Some(number), _) => number.to_string(),
        (None, Some(name)) => name.to_string(),
        (None, None) => "*".to_string(),
    }
}
