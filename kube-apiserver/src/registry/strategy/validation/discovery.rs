//! discovery.k8s.io/v1 EndpointSlice: address type, endpoints and their addresses, ports;
//! addressType is immutable.

use super::core::non_special_ip;
use super::{Errs, child, dns_label, dns_subdomain, immutable, list, msgs, one_of, str_of};
use crate::errors::FieldError;
use api_types::validation as v;
use serde_json::Value;
use std::collections::HashSet;

const MAX_ENDPOINTS: usize = 1000;
const MAX_ADDRESSES: usize = 100;
const MAX_PORTS: usize = 20000;

pub fn endpoint_slice(obj: &Value, old: Option<&Value>, errs: &mut Errs) {
    let ty = str_of(obj, "addressType");
    one_of("addressType", ty, &["FQDN", "IPv4", "IPv6"], errs);
    let endpoints = list(obj, "endpoints");
    if endpoints.len() > MAX_ENDPOINTS {
        errs.push(FieldError::too_many("endpoints", endpoints.len(), MAX_ENDPOINTS));
    }
    for (i, ep) in endpoints.iter().enumerate() {
        endpoint(&format!("endpoints[{i}]"), ep, ty, errs);
    }
    let ports = list(obj, "ports");
    if ports.len() > MAX_PORTS {
        errs.push(FieldError::too_many("ports", ports.len(), MAX_PORTS));
    }
    let mut names = HashSet::new();
    for (i, p) in ports.iter().enumerate() {
        let pp = format!("ports[{i}]");
        let name = str_of(p, "name");
        if !name.is_empty() {
            dns_label(&child(&pp, "name"), name, errs);
        }
        if !names.insert(name) {
            errs.push(FieldError::duplicate(&child(&pp, "name"), name));
        }
        if let Some(proto) = p.get("protocol").and_then(Value::as_str) {
            one_of(&child(&pp, "protocol"), proto, &["SCTP", "TCP", "UDP"], errs);
        }
        let ap = str_of(p, "appProtocol");
        if !ap.is_empty() {
            msgs(&child(&pp, "appProtocol"), ap, v::is_qualified_name(ap), errs);
        }
    }
    if let Some(old) = old {
        immutable("addressType", obj.get("addressType"), old.get("addressType"), errs);
    }
}

fn endpoint(path: &str, ep: &Value, ty: &str, errs: &mut Errs) {
    let addrs = list(ep, "addresses");
    let ap = child(path, "addresses");
    if addrs.is_empty() {
        errs.push(FieldError::required(&ap, "must contain at least 1 address"));
    } else if addrs.len() > MAX_ADDRESSES {
        errs.push(FieldError::too_many(&ap, addrs.len(), MAX_ADDRESSES));
    }
    for (i, a) in addrs.iter().enumerate() {
        let a = a.as_str().unwrap_or_default();
        let p = format!("{ap}[{i}]");
        let m = match ty {
            "IPv4" => v::is_valid_ipv4(a),
            "IPv6" => v::is_valid_ipv6(a),
            "FQDN" => v::is_dns1123_subdomain(a),
            _ => Vec::new(),
        };
        if m.is_empty() && ty != "FQDN" {
            non_special_ip(&p, a, errs);
        }
        msgs(&p, a, m, errs);
    }
    let node = str_of(ep, "nodeName");
    if !node.is_empty() {
        dns_subdomain(&child(path, "nodeName"), node, errs);
    }
    let host = str_of(ep, "hostname");
    if !host.is_empty() {
        dns_label(&child(path, "hostname"), host, errs);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use serde_json::{Value, json};

    fn slice(ty: &str, endpoints: Value, ports: Value) -> Value {
        json!({"metadata": {"name": "web-abc", "namespace": "d"}, "addressType": ty, "endpoints": endpoints, "ports": ports})
    }

    #[test]
    fn endpoint_slices() {
        check(
            "discovery.k8s.io",
            "v1",
            "endpointslices",
            &[
                (
                    "valid",
                    slice(
                        "IPv4",
                        json!([{"addresses": ["10.1.2.3"], "nodeName": "n1"}]),
                        json!([{"name": "http", "port": 80, "protocol": "TCP"}]),
                    ),
                    &[],
                ),
                (
                    "bad type",
                    slice("IPX", json!([]), json!([])),
                    &["addressType: Unsupported value: \"IPX\": supported values: \"FQDN\", \"IPv4\", \"IPv6\""],
                ),
                (
                    "addresses",
                    slice(
                        "IPv4",
                        json!([{"addresses": []}, {"addresses": ["::1", "0.0.0.0"]}]),
                        json!([]),
                    ),
                    &[
                        "endpoints[0].addresses: Required value: must contain at least 1 address",
                        "endpoints[1].addresses[0]: Invalid value: \"::1\": must be a valid IPv4 address",
                        "endpoints[1].addresses[1]: Invalid value: \"0.0.0.0\": may not be unspecified (0.0.0.0)",
                    ],
                ),
                (
                    "ports",
                    slice(
                        "IPv4",
                        json!([]),
                        json!([{"name": "http", "protocol": "ICMP"}, {"name": "http"}]),
                    ),
                    &[
                        "ports[0].protocol: Unsupported value: \"ICMP\": supported values: \"SCTP\", \"TCP\", \"UDP\"",
                        "ports[1].name: Duplicate value: \"http\"",
                    ],
                ),
            ],
        );
        let old = slice("IPv4", json!([]), json!([]));
        check_update(
            "discovery.k8s.io",
            "v1",
            "endpointslices",
            &[(
                "type change",
                old,
                slice("IPv6", json!([]), json!([])),
                &["addressType: Invalid value: \"IPv6\": field is immutable"][..],
            )],
        );
    }
}
