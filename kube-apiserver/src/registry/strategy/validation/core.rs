//! Core kinds other than pods: Service, Endpoints, ConfigMap, Secret, Namespace, Node,
//! PersistentVolumeClaim and Event (ServiceAccount has only metadata rules).

use super::{
    Errs, child, dns_label, dns_subdomain, field, immutable, int_of, label_selector, labels, list, msgs, one_of,
    opt_one_of, port_num_or_name, str_of,
};
use crate::errors::FieldError;
use api_types::validation as v;
use base64::Engine;
use serde_json::Value;
use std::collections::HashSet;

const MAX_SECRET_SIZE: usize = 1024 * 1024;
const IMMUTABLE_SET: &str = "field is immutable when `immutable` is set";
const PROTOCOLS: &[&str] = &["SCTP", "TCP", "UDP"];

// ---- Service ----

pub fn service(obj: &Value, old: Option<&Value>, errs: &mut Errs) {
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    let ty = str_of(spec, "type");
    let cluster_ip = str_of(spec, "clusterIP");
    let headless = cluster_ip == "None";
    one_of(
        "spec.type",
        ty,
        &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"],
        errs,
    );
    let ports = list(spec, "ports");
    if ports.is_empty() && !headless && ty != "ExternalName" {
        errs.push(FieldError::required("spec.ports", ""));
    }
    if ty == "ExternalName" {
        for key in ["clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"] {
            let set = match field(spec, key) {
                Some(Value::String(s)) => !s.is_empty(),
                Some(Value::Array(a)) => !a.is_empty(),
                Some(_) => true,
                None => false,
            };
            if set {
                let p = child("spec", key);
                errs.push(FieldError::forbidden(&p, "may not be set for ExternalName services"));
            }
        }
        let name = str_of(spec, "externalName");
        let cname = name.strip_suffix('.').unwrap_or(name);
        if cname.is_empty() {
            errs.push(FieldError::required("spec.externalName", ""));
        } else {
            dns_subdomain("spec.externalName", cname, errs);
        }
    }
    let mut names = HashSet::new();
    let mut seen = HashSet::new();
    for (i, p) in ports.iter().enumerate() {
        let pp = format!("spec.ports[{i}]");
        service_port(&pp, p, ports.len() > 1, &mut names, errs);
        let key = (int_of(p, "port"), str_of(p, "protocol"));
        if !seen.insert(key) {
            errs.push(FieldError::duplicate(&pp, p.clone()));
        }
        if ty == "ClusterIP" && int_of(p, "nodePort").is_some_and(|n| n != 0) {
            errs.push(FieldError::forbidden(
                &child(&pp, "nodePort"),
                "may not be used when `type` is 'ClusterIP'",
            ));
        }
        if let Some(np) = int_of(p, "nodePort").filter(|n| *n != 0) {
            msgs(&child(&pp, "nodePort"), np, v::is_valid_port_num(np), errs);
        }
    }
    labels("spec.selector", spec.get("selector"), errs);
    session_affinity(spec, errs);
    if ty != "LoadBalancer" && !list(spec, "loadBalancerSourceRanges").is_empty() {
        errs.push(FieldError::forbidden(
            "spec.loadBalancerSourceRanges",
            "may only be used when `type` is 'LoadBalancer'",
        ));
    }
    for (i, r) in list(spec, "loadBalancerSourceRanges").iter().enumerate() {
        let r = r.as_str().unwrap_or_default();
        msgs(
            &format!("spec.loadBalancerSourceRanges[{i}]"),
            r,
            v::is_valid_cidr(r.trim()),
            errs,
        );
    }
    for (i, ip) in list(spec, "externalIPs").iter().enumerate() {
        let ip = ip.as_str().unwrap_or_default();
        msgs(&format!("spec.externalIPs[{i}]"), ip, v::is_valid_ip(ip), errs);
    }
    opt_one_of("spec", spec, "externalTrafficPolicy", &["Cluster", "Local"], errs);
    opt_one_of("spec", spec, "internalTrafficPolicy", &["Cluster", "Local"], errs);
    if old.is_none() && matches!(ty, "ClusterIP" | "ExternalName") && field(spec, "externalTrafficPolicy").is_some() {
        errs.push(FieldError::invalid(
            "spec.externalTrafficPolicy",
            str_of(spec, "externalTrafficPolicy"),
            "may only be set for externally-accessible services",
        ));
    }
    cluster_ips(spec, errs);
    if let Some(old) = old {
        let old_spec = old.get("spec").unwrap_or(&Value::Null);
        let old_ips = list(old_spec, "clusterIPs");
        let new_ips = list(spec, "clusterIPs");
        let to_or_from_external = ty == "ExternalName" || str_of(old_spec, "type") == "ExternalName";
        if !to_or_from_external
            && let (Some(o), Some(n)) = (old_ips.first(), new_ips.first())
            && o != n
        {
            errs.push(FieldError::invalid(
                "spec.clusterIPs[0]",
                n.clone(),
                "may not change once set",
            ));
        }
    }
}

fn service_port(pp: &str, p: &Value, require_name: bool, names: &mut HashSet<String>, errs: &mut Errs) {
    let name = str_of(p, "name");
    if require_name && name.is_empty() {
        errs.push(FieldError::required(&child(pp, "name"), ""));
    }
    if !name.is_empty() {
        dns_label(&child(pp, "name"), name, errs);
        if !names.insert(name.to_string()) {
            errs.push(FieldError::duplicate(&child(pp, "name"), name));
        }
    }
    let port = int_of(p, "port").unwrap_or(0);
    msgs(&child(pp, "port"), port, v::is_valid_port_num(port), errs);
    one_of(&child(pp, "protocol"), str_of(p, "protocol"), PROTOCOLS, errs);
    if let Some(tp) = field(p, "targetPort") {
        port_num_or_name(&child(pp, "targetPort"), tp, errs);
    }
    let ap = str_of(p, "appProtocol");
    if !ap.is_empty() {
        msgs(&child(pp, "appProtocol"), ap, v::is_qualified_name(ap), errs);
    }
}

fn session_affinity(spec: &Value, errs: &mut Errs) {
    let affinity = str_of(spec, "sessionAffinity");
    one_of("spec.sessionAffinity", affinity, &["ClientIP", "None"], errs);
    let config = field(spec, "sessionAffinityConfig");
    if affinity == "None" && config.is_some() {
        errs.push(FieldError::forbidden(
            "spec.sessionAffinityConfig",
            "must not be set when `sessionAffinity` is None",
        ));
    }
    if affinity == "ClientIP"
        && let Some(t) = config
            .and_then(|c| c.pointer("/clientIP/timeoutSeconds"))
            .and_then(Value::as_i64)
        && !(1..=86400).contains(&t)
    {
        errs.push(FieldError::invalid(
            "spec.sessionAffinityConfig.clientIP.timeoutSeconds",
            t,
            "must be greater than 0 and less than 86400",
        ));
    }
}

/// clusterIP and clusterIPs agree, each is an IP (or "None" alone), families are known.
fn cluster_ips(spec: &Value, errs: &mut Errs) {
    let cluster_ip = str_of(spec, "clusterIP");
    let ips = list(spec, "clusterIPs");
    if let Some(first) = ips.first().and_then(Value::as_str)
        && first != cluster_ip
    {
        errs.push(FieldError::invalid(
            "spec.clusterIPs",
            Value::Array(ips.to_vec()),
            "first value must match `clusterIP`",
        ));
    }
    for (i, ip) in ips.iter().enumerate() {
        let ip = ip.as_str().unwrap_or_default();
        if ip == "None" {
            if ips.len() > 1 {
                errs.push(FieldError::invalid(
                    &format!("spec.clusterIPs[{i}]"),
                    ip,
                    "must be empty when the first value is 'None'",
                ));
            }
            continue;
        }
        msgs(&format!("spec.clusterIPs[{i}]"), ip, v::is_valid_ip(ip), errs);
    }
    let mut fams = HashSet::new();
    for (i, f) in list(spec, "ipFamilies").iter().enumerate() {
        let f = f.as_str().unwrap_or_default();
        let fp = format!("spec.ipFamilies[{i}]");
        one_of(&fp, f, &["IPv4", "IPv6"], errs);
        if !fams.insert(f) {
            errs.push(FieldError::duplicate(&fp, f));
        }
    }
    opt_one_of(
        "spec",
        spec,
        "ipFamilyPolicy",
        &["SingleStack", "PreferDualStack", "RequireDualStack"],
        errs,
    );
}

// ---- Endpoints ----

pub fn endpoints(obj: &Value, errs: &mut Errs) {
    for (i, ss) in list(obj, "subsets").iter().enumerate() {
        let sp = format!("subsets[{i}]");
        if list(ss, "addresses").is_empty() && list(ss, "notReadyAddresses").is_empty() {
            errs.push(FieldError::required(
                &sp,
                "must specify `addresses` or `notReadyAddresses`",
            ));
        }
        for key in ["addresses", "notReadyAddresses"] {
            for (j, a) in list(ss, key).iter().enumerate() {
                endpoint_address(&format!("{sp}.{key}[{j}]"), a, errs);
            }
        }
        let ports = list(ss, "ports");
        for (j, p) in ports.iter().enumerate() {
            let pp = format!("{sp}.ports[{j}]");
            let name = str_of(p, "name");
            if ports.len() > 1 && name.is_empty() {
                errs.push(FieldError::required(&child(&pp, "name"), ""));
            } else if !name.is_empty() {
                dns_label(&child(&pp, "name"), name, errs);
            }
            let port = int_of(p, "port").unwrap_or(0);
            msgs(&child(&pp, "port"), port, v::is_valid_port_num(port), errs);
            one_of(&child(&pp, "protocol"), str_of(p, "protocol"), PROTOCOLS, errs);
        }
    }
}

fn endpoint_address(path: &str, a: &Value, errs: &mut Errs) {
    let ip = str_of(a, "ip");
    let m = v::is_valid_ip(ip);
    if m.is_empty() {
        non_special_ip(&child(path, "ip"), ip, errs);
    }
    msgs(&child(path, "ip"), ip, m, errs);
    let host = str_of(a, "hostname");
    if !host.is_empty() {
        dns_label(&child(path, "hostname"), host, errs);
    }
    let node = a.get("nodeName").and_then(Value::as_str).unwrap_or_default();
    if !node.is_empty() {
        dns_subdomain(&child(path, "nodeName"), node, errs);
    }
}

/// Endpoint addresses may not be unspecified, loopback, link-local or link-local multicast.
pub fn non_special_ip(path: &str, ip: &str, errs: &mut Errs) {
    let Ok(addr) = ip.parse::<std::net::IpAddr>() else {
        return;
    };
    let detail = match addr {
        a if a.is_unspecified() => Some("may not be unspecified (0.0.0.0)"),
        a if a.is_loopback() => Some("may not be in the loopback range (127.0.0.0/8, ::1/128)"),
        std::net::IpAddr::V4(a) if a.is_link_local() => {
            Some("may not be in the link-local range (169.254.0.0/16, fe80::/10)")
        }
        std::net::IpAddr::V6(a) if a.segments()[0] & 0xffc0 == 0xfe80 => {
            Some("may not be in the link-local range (169.254.0.0/16, fe80::/10)")
        }
        std::net::IpAddr::V4(a) if a.octets()[..3] == [224, 0, 0] => {
            Some("may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)")
        }
        std::net::IpAddr::V6(a) if a.segments()[0] & 0xffc0 == 0xff00 && a.segments()[0] & 0xf == 2 => {
            Some("may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)")
        }
        _ => None,
    };
    if let Some(d) = detail {
        errs.push(FieldError::invalid(path, ip, d));
    }
}

// ---- ConfigMap and Secret ----

/// The decoded length of a base64 value.
fn decoded_len(val: &Value) -> usize {
    let s = val.as_str().unwrap_or_default();
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .map_or(s.len() * 3 / 4, |b| b.len())
}

/// Keys of a data map; returns the total size of its values.
fn data_keys(path: &str, map: Option<&Value>, size: impl Fn(&Value) -> usize, errs: &mut Errs) -> usize {
    let mut total = 0;
    for (k, val) in map.and_then(Value::as_object).into_iter().flatten() {
        msgs(&format!("{path}[{k}]"), k.as_str(), v::is_config_map_key(k), errs);
        total += size(val);
    }
    total
}

/// Once `immutable` is true, it and the data stay as they are.
fn immutable_data(obj: &Value, old: Option<&Value>, fields: &[&str], errs: &mut Errs) {
    let Some(old) = old.filter(|o| o.get("immutable").and_then(Value::as_bool) == Some(true)) else {
        return;
    };
    if obj.get("immutable").and_then(Value::as_bool) != Some(true) {
        errs.push(FieldError::forbidden("immutable", IMMUTABLE_SET));
    }
    for f in fields {
        if field(obj, f) != field(old, f) {
            errs.push(FieldError::forbidden(f, IMMUTABLE_SET));
        }
    }
}

pub fn config_map(obj: &Value, old: Option<&Value>, errs: &mut Errs) {
    immutable_data(obj, old, &["data", "binaryData"], errs);
    let text_len = |v: &Value| v.as_str().map_or(0, str::len);
    let mut total = data_keys("data", obj.get("data"), text_len, errs);
    let data = obj.get("data").and_then(Value::as_object);
    let binary = obj.get("binaryData").and_then(Value::as_object);
    for k in data.into_iter().flatten().map(|(k, _)| k) {
        if binary.is_some_and(|b| b.contains_key(k)) {
            errs.push(FieldError::invalid(
                &format!("data[{k}]"),
                k.as_str(),
                "duplicate of key present in binaryData",
            ));
        }
    }
    total += data_keys("binaryData", obj.get("binaryData"), decoded_len, errs);
    for k in binary.into_iter().flatten().map(|(k, _)| k) {
        if data.is_some_and(|d| d.contains_key(k)) {
            errs.push(FieldError::invalid(
                &format!("binaryData[{k}]"),
                k.as_str(),
                "duplicate of key present in data",
            ));
        }
    }
    if total > MAX_SECRET_SIZE {
        errs.push(FieldError::too_long("", MAX_SECRET_SIZE));
    }
}

pub fn secret(obj: &Value, old: Option<&Value>, errs: &mut Errs) {
    if let Some(old) = old {
        immutable("type", obj.get("type"), old.get("type"), errs);
    }
    immutable_data(obj, old, &["data"], errs);
    let data = obj.get("data").and_then(Value::as_object);
    let total = data_keys("data", obj.get("data"), decoded_len, errs);
    if total > MAX_SECRET_SIZE {
        errs.push(FieldError::too_long("data", MAX_SECRET_SIZE));
    }
    let has = |k: &str| data.is_some_and(|d| d.contains_key(k));
    let required = |k: &str, errs: &mut Errs| errs.push(FieldError::required(&format!("data[{k}]"), ""));
    match str_of(obj, "type") {
        "kubernetes.io/service-account-token" => {
            let sa = obj
                .pointer("/metadata/annotations/kubernetes.io~1service-account.name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if sa.is_empty() {
                errs.push(FieldError::required(
                    "metadata.annotations[kubernetes.io/service-account.name]",
                    "",
                ));
            }
        }
        ty @ ("kubernetes.io/dockercfg" | "kubernetes.io/dockerconfigjson") => {
            let key = if ty == "kubernetes.io/dockercfg" {
                ".dockercfg"
            } else {
                ".dockerconfigjson"
            };
            match data.and_then(|d| d.get(key)) {
                None => required(key, errs),
                Some(val) => {
                    let bytes = base64::engine::general_purpose::STANDARD
                        .decode(val.as_str().unwrap_or_default())
                        .unwrap_or_default();
                    if let Err(e) = serde_json::from_slice::<serde_json::Map<String, Value>>(&bytes) {
                        let detail = if bytes.is_empty() {
                            "unexpected end of JSON input".to_string()
                        } else {
                            e.to_string()
                        };
                        errs.push(FieldError::invalid(
                            &format!("data[{key}]"),
                            "<secret contents redacted>",
                            &detail,
                        ));
                    }
                }
            }
        }
        "kubernetes.io/basic-auth" if !has("username") && !has("password") => {
            required("username", errs);
            required("password", errs);
        }
        "kubernetes.io/ssh-auth"
            if data
                .and_then(|d| d.get("ssh-privatekey"))
                .is_none_or(|v| decoded_len(v) == 0) =>
        {
            required("ssh-privatekey", errs);
        }
        "kubernetes.io/tls" => {
            for k in ["tls.crt", "tls.key"] {
                if !has(k) {
                    required(k, errs);
                }
            }
        }
        _ => {}
    }
}

// ---- Namespace and Node ----

pub fn namespace(obj: &Value, errs: &mut Errs) {
    for f in list(obj.get("spec").unwrap_or(&Value::Null), "finalizers") {
        let f = f.as_str().unwrap_or_default();
        msgs("spec.finalizers", f, v::is_qualified_name(f), errs);
        if !f.contains('/') && f != "kubernetes" {
            errs.push(FieldError::invalid(
                "spec.finalizers",
                f,
                "name is neither a standard finalizer name nor is it fully qualified",
            ));
        }
    }
}

pub fn node(obj: &Value, old: Option<&Value>, errs: &mut Errs) {
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    let cidrs = list(spec, "podCIDRs");
    let mut seen = HashSet::new();
    for (i, c) in cidrs.iter().enumerate() {
        let c = c.as_str().unwrap_or_default();
        let cp = format!("spec.podCIDRs[{i}]");
        msgs(&cp, c, v::is_valid_cidr(c), errs);
        if !seen.insert(c) {
            errs.push(FieldError::duplicate(&cp, c));
        }
    }
    if cidrs.len() > 1 {
        let v6 = cidrs
            .iter()
            .filter(|c| c.as_str().is_some_and(|s| s.contains(':')))
            .count();
        if cidrs.len() > 2 || v6 != 1 {
            errs.push(FieldError::invalid(
                "spec.podCIDRs",
                Value::Array(cidrs.to_vec()),
                "may specify no more than one CIDR for each IP family",
            ));
        }
    }
    let mut unique = HashSet::new();
    for (i, t) in list(spec, "taints").iter().enumerate() {
        let tp = format!("spec.taints[{i}]");
        let key = str_of(t, "key");
        msgs(&child(&tp, "key"), key, v::is_qualified_name(key), errs);
        let value = str_of(t, "value");
        let m = v::is_valid_label_value(value);
        if !m.is_empty() {
            errs.push(FieldError::invalid(&child(&tp, "value"), value, &m.join(";")));
        }
        let effect = str_of(t, "effect");
        super::core_pod::taint_effect(&child(&tp, "effect"), effect, errs);
        if !unique.insert((key, effect)) {
            let mut e = FieldError::duplicate(&tp, t.clone());
            e.detail = "taints must be unique by key and effect pair".into();
            errs.push(e);
        }
    }
    if let Some(old) = old {
        let old_spec = old.get("spec").unwrap_or(&Value::Null);
        let old_cidrs = list(old_spec, "podCIDRs");
        if !old_cidrs.is_empty() && old_cidrs != cidrs {
            errs.push(FieldError::forbidden(
                "spec.podCIDRs",
                "node updates may not change podCIDR except from \"\" to valid",
            ));
        }
        let old_provider = str_of(old_spec, "providerID");
        if !old_provider.is_empty() && old_provider != str_of(spec, "providerID") {
            errs.push(FieldError::forbidden(
                "spec.providerID",
                "node updates may not change providerID except from \"\" to valid",
            ));
        }
    }
}

// ---- PersistentVolumeClaim ----

const ACCESS_MODES: &[&str] = &["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"];

pub fn pvc_spec(path: &str, spec: &Value, errs: &mut Errs) {
    let modes = list(spec, "accessModes");
    if modes.is_empty() {
        errs.push(FieldError::required(
            &child(path, "accessModes"),
            "at least 1 access mode is required",
        ));
    }
    if let Some(sel) = field(spec, "selector") {
        label_selector(&child(path, "selector"), sel, errs);
    }
    for m in modes {
        let m = m.as_str().unwrap_or_default();
        if !ACCESS_MODES.contains(&m) {
            errs.push(FieldError::not_supported(&child(path, "accessModes"), m, ACCESS_MODES));
        }
    }
    let rwop = modes.iter().any(|m| m == "ReadWriteOncePod");
    if rwop && modes.len() > 1 {
        errs.push(FieldError::forbidden(
            &child(path, "accessModes"),
            "may not use ReadWriteOncePod with other access modes",
        ));
    }
    let sp = format!("{path}.resources[storage]");
    match spec.pointer("/resources/requests/storage") {
        None => errs.push(FieldError::required(&sp, "")),
        Some(q) => {
            if let Some(val) = super::core_pod::quantity(&sp, "storage", q, errs)
                && val <= 0.0
            {
                let text = q.as_str().map_or_else(|| q.to_string(), str::to_string);
                errs.push(FieldError::invalid(&sp, text.as_str(), "must be greater than zero"));
            }
        }
    }
    if let Some(class) = spec.get("storageClassName").and_then(Value::as_str)
        && !class.is_empty()
    {
        dns_subdomain(&child(path, "storageClassName"), class, errs);
    }
    opt_one_of(path, spec, "volumeMode", &["Block", "Filesystem"], errs);
}

pub fn pvc(obj: &Value, old: Option<&Value>, errs: &mut Errs) {
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    pvc_spec("spec", spec, errs);
    let Some(old) = old else { return };
    let old_spec = old.get("spec").unwrap_or(&Value::Null);
    let comparable = |s: &Value, first_volume: bool| {
        let mut s = s.clone();
        if let Some(m) = s.as_object_mut() {
            if first_volume {
                m.remove("volumeName");
            }
            m.remove("volumeAttributesClassName");
            if let Some(r) = m
                .get_mut("resources")
                .and_then(|r| r.get_mut("requests"))
                .and_then(Value::as_object_mut)
            {
                r.remove("storage");
            }
        }
        s
    };
    let first_volume = str_of(old_spec, "volumeName").is_empty();
    let changed: Vec<String> = comparable(spec, first_volume)
        .as_object()
        .into_iter()
        .flatten()
        .chain(comparable(old_spec, first_volume).as_object().into_iter().flatten())
        .filter(|(k, _)| comparable(spec, first_volume).get(*k) != comparable(old_spec, first_volume).get(*k))
        .map(|(k, _)| k.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if !changed.is_empty() {
        errs.push(FieldError::forbidden(
            "spec",
            &format!(
                "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n  changed: {}",
                changed.join(", ")
            ),
        ));
    }
    let size = |s: &Value| {
        s.pointer("/resources/requests/storage")
            .and_then(|q| q.as_str().and_then(v::parse_quantity))
    };
    if let (Some(new), Some(prev)) = (size(spec), size(old_spec))
        && new < prev
    {
        errs.push(FieldError::forbidden(
            "spec.resources.requests.storage",
            "field can not be less than previous value",
        ));
    }
}

// ---- Event ----

fn is_zero_time(v: Option<&Value>) -> bool {
    v.is_none_or(|t| t.is_null() || t.as_str() == Some(""))
}

/// core/v1 Events keep legacy rules; events.k8s.io/v1 ones add the strict ones.
pub fn event(group: &str, obj: &Value, old: Option<&Value>, errs: &mut Errs) {
    let get = |a: &str, b: &str| field(obj, a).or_else(|| field(obj, b));
    let ns = super::super::super::meta::namespace(obj);
    let involved = get("involvedObject", "regarding").unwrap_or(&Value::Null);
    let involved_ns = str_of(involved, "namespace");
    let mismatch = || {
        FieldError::invalid(
            "involvedObject.namespace",
            involved_ns,
            "does not match event.namespace",
        )
    };
    let controller_field = if group.is_empty() {
        "reportingComponent"
    } else {
        "reportingController"
    };
    let text = |a: &str, b: &str| get(a, b).and_then(Value::as_str).unwrap_or_default();
    if is_zero_time(obj.get("eventTime")) {
        if involved_ns.is_empty() {
            if !ns.is_empty() && ns != "default" {
                errs.push(mismatch());
            }
        } else if ns != involved_ns {
            errs.push(mismatch());
        }
    } else {
        if involved_ns.is_empty() && ns != "default" && ns != "kube-system" {
            errs.push(mismatch());
        }
        let controller = text("reportingComponent", "reportingController");
        if controller.is_empty() {
            errs.push(FieldError::required(controller_field, ""));
        }
        msgs(controller_field, controller, v::is_qualified_name(controller), errs);
        for (f, alt, limit, required) in [
            ("reportingInstance", "reportingInstance", 128, true),
            ("action", "action", 128, true),
            ("reason", "reason", 128, true),
            ("message", "note", 1024, false),
        ] {
            let s = text(f, alt);
            if required && s.is_empty() {
                errs.push(FieldError::required(f, ""));
            }
            if s.len() > limit {
                errs.push(FieldError::invalid(
                    f,
                    "",
                    &format!("can have at most {limit} characters"),
                ));
            }
        }
    }
    if group.is_empty() || old.is_some() {
        return;
    }
    if is_zero_time(obj.get("eventTime")) {
        errs.push(FieldError::required("eventTime", ""));
    }
    let ty = str_of(obj, "type");
    if ty != "Normal" && ty != "Warning" {
        errs.push(FieldError::invalid("type", "", &format!("has invalid value: {ty}")));
    }
    for (f, alt) in [
        ("firstTimestamp", "deprecatedFirstTimestamp"),
        ("lastTimestamp", "deprecatedLastTimestamp"),
    ] {
        if !is_zero_time(get(f, alt)) {
            errs.push(FieldError::invalid(f, "", "needs to be unset"));
        }
    }
    if get("count", "deprecatedCount")
        .and_then(Value::as_i64)
        .is_some_and(|c| c != 0)
    {
        errs.push(FieldError::invalid("count", "", "needs to be unset"));
    }
    let source = get("source", "deprecatedSource").unwrap_or(&Value::Null);
    if !str_of(source, "component").is_empty() || !str_of(source, "host").is_empty() {
        errs.push(FieldError::invalid("source", "", "needs to be unset"));
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use serde_json::{Value, json};

    fn svc(spec: Value) -> Value {
        let mut spec = spec;
        for (k, val) in [("type", json!("ClusterIP")), ("sessionAffinity", json!("None"))] {
            if spec.get(k).is_none() {
                spec[k] = val;
            }
        }
        for p in spec
            .get_mut("ports")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            if p.get("protocol").is_none() {
                p["protocol"] = json!("TCP");
            }
        }
        json!({"metadata": {"name": "web", "namespace": "default"}, "spec": spec})
    }

    #[test]
    fn services() {
        check(
            "",
            "v1",
            "services",
            &[
                (
                    "valid",
                    svc(json!({"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]})),
                    &[],
                ),
                (
                    "headless without ports",
                    svc(json!({"clusterIP": "None", "clusterIPs": ["None"]})),
                    &[],
                ),
                ("no ports", svc(json!({})), &["spec.ports: Required value"]),
                (
                    "bad type and ports",
                    svc(
                        json!({"type": "Foo", "ports": [{"port": 0, "targetPort": "Http_"}, {"name": "b", "port": 81, "protocol": "ICMP"}]}),
                    ),
                    &[
                        "spec.type: Unsupported value: \"Foo\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\"",
                        "spec.ports[0].name: Required value",
                        "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive",
                        "spec.ports[0].targetPort: Invalid value: \"Http_\": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
                        "spec.ports[1].protocol: Unsupported value: \"ICMP\": supported values: \"SCTP\", \"TCP\", \"UDP\"",
                    ],
                ),
                (
                    "external name",
                    svc(json!({"type": "ExternalName", "clusterIP": "10.0.0.1"})),
                    &[
                        "spec.clusterIP: Forbidden: may not be set for ExternalName services",
                        "spec.externalName: Required value",
                    ],
                ),
                (
                    "nodePort on ClusterIP, affinity",
                    svc(
                        json!({"ports": [{"port": 80, "nodePort": 30000}], "sessionAffinity": "Sticky", "selector": {"a": "-"}}),
                    ),
                    &[
                        "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
                        "spec.selector: Invalid value: \"-\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
                        "spec.sessionAffinity: Unsupported value: \"Sticky\": supported values: \"ClientIP\", \"None\"",
                    ],
                ),
                (
                    "clusterIPs",
                    svc(json!({"ports": [{"port": 80}], "clusterIP": "10.0.0.1", "clusterIPs": ["10.0.0.2"]})),
                    &["spec.clusterIPs: Invalid value: [\"10.0.0.2\"]: first value must match `clusterIP`"],
                ),
            ],
        );
        let old = svc(json!({"ports": [{"port": 80}], "clusterIP": "10.0.0.1", "clusterIPs": ["10.0.0.1"]}));
        let new = svc(json!({"ports": [{"port": 80}], "clusterIP": "10.0.0.2", "clusterIPs": ["10.0.0.2"]}));
        check_update(
            "",
            "v1",
            "services",
            &[
                ("same", old.clone(), old.clone(), &[]),
                (
                    "clusterIP change",
                    old,
                    new,
                    &["spec.clusterIPs[0]: Invalid value: \"10.0.0.2\": may not change once set"],
                ),
            ],
        );
    }

    #[test]
    fn endpoints() {
        let ep = |subsets: Value| json!({"metadata": {"name": "e", "namespace": "d"}, "subsets": subsets});
        check(
            "",
            "v1",
            "endpoints",
            &[
                (
                    "valid",
                    ep(json!([{"addresses": [{"ip": "10.1.2.3"}], "ports": [{"port": 80, "protocol": "TCP"}]}])),
                    &[],
                ),
                (
                    "empty subset",
                    ep(json!([{}])),
                    &["subsets[0]: Required value: must specify `addresses` or `notReadyAddresses`"],
                ),
                (
                    "bad address and port",
                    ep(
                        json!([{"addresses": [{"ip": "x"}, {"ip": "127.0.0.1"}], "ports": [{"port": 0, "protocol": "TCP"}, {"name": "b", "port": 1, "protocol": ""}]}]),
                    ),
                    &[
                        "subsets[0].addresses[0].ip: Invalid value: \"x\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
                        "subsets[0].addresses[1].ip: Invalid value: \"127.0.0.1\": may not be in the loopback range (127.0.0.0/8, ::1/128)",
                        "subsets[0].ports[0].name: Required value",
                        "subsets[0].ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive",
                        "subsets[0].ports[1].protocol: Required value",
                    ],
                ),
            ],
        );
    }

    #[test]
    fn config_maps_and_secrets() {
        let cm = |extra: Value| {
            let mut o = json!({"metadata": {"name": "c", "namespace": "d"}});
            if let (Some(m), Some(e)) = (o.as_object_mut(), extra.as_object()) {
                m.extend(e.clone());
            }
            o
        };
        check(
            "",
            "v1",
            "configmaps",
            &[
                (
                    "valid",
                    cm(json!({"data": {"a": "b"}, "binaryData": {"c": "aGk="}})),
                    &[],
                ),
                (
                    "dup key",
                    cm(json!({"data": {"a": "b"}, "binaryData": {"a": "aGk="}})),
                    &[
                        "data[a]: Invalid value: \"a\": duplicate of key present in binaryData",
                        "binaryData[a]: Invalid value: \"a\": duplicate of key present in data",
                    ],
                ),
                (
                    "dot key",
                    cm(json!({"data": {"..": "b"}})),
                    &["data[..]: Invalid value: \"..\": must not be '..'"],
                ),
            ],
        );
        let frozen = cm(json!({"immutable": true, "data": {"a": "b"}}));
        check_update(
            "",
            "v1",
            "configmaps",
            &[
                (
                    "frozen data",
                    frozen.clone(),
                    with(frozen.clone(), "/data/a", json!("c")),
                    &["data: Forbidden: field is immutable when `immutable` is set"],
                ),
                (
                    "unfreeze",
                    frozen.clone(),
                    with(frozen.clone(), "/immutable", json!(false)),
                    &["immutable: Forbidden: field is immutable when `immutable` is set"],
                ),
            ],
        );
        let secret =
            |ty: &str, data: Value| json!({"metadata": {"name": "s", "namespace": "d"}, "type": ty, "data": data});
        check(
            "",
            "v1",
            "secrets",
            &[
                ("opaque", secret("Opaque", json!({"a": "aGk="})), &[]),
                (
                    "tls",
                    secret("kubernetes.io/tls", json!({"tls.crt": ""})),
                    &["data[tls.key]: Required value"],
                ),
                (
                    "basic",
                    secret("kubernetes.io/basic-auth", json!({})),
                    &["data[username]: Required value", "data[password]: Required value"],
                ),
                (
                    "dockerconfigjson missing",
                    secret("kubernetes.io/dockerconfigjson", json!({})),
                    &["data[.dockerconfigjson]: Required value"],
                ),
                (
                    "dockerconfigjson ok",
                    secret("kubernetes.io/dockerconfigjson", json!({".dockerconfigjson": "e30="})),
                    &[],
                ),
                (
                    "sa token",
                    secret("kubernetes.io/service-account-token", json!({})),
                    &["metadata.annotations[kubernetes.io/service-account.name]: Required value"],
                ),
            ],
        );
        let s = secret("Opaque", json!({}));
        check_update(
            "",
            "v1",
            "secrets",
            &[(
                "type change",
                s.clone(),
                with(s, "/type", json!("kubernetes.io/tls")),
                &[
                    "type: Invalid value: \"kubernetes.io/tls\": field is immutable",
                    "data[tls.crt]: Required value",
                    "data[tls.key]: Required value",
                ][..],
            )],
        );
    }

    #[test]
    fn namespaces_and_nodes() {
        check(
            "",
            "v1",
            "namespaces",
            &[
                (
                    "valid",
                    json!({"metadata": {"name": "ns"}, "spec": {"finalizers": ["kubernetes"]}}),
                    &[],
                ),
                (
                    "bad finalizer",
                    json!({"metadata": {"name": "ns"}, "spec": {"finalizers": ["foo"]}}),
                    &[
                        "spec.finalizers: Invalid value: \"foo\": name is neither a standard finalizer name nor is it fully qualified",
                    ],
                ),
            ],
        );
        let node = |spec: Value| json!({"metadata": {"name": "n1"}, "spec": spec});
        check(
            "",
            "v1",
            "nodes",
            &[
                (
                    "valid",
                    node(
                        json!({"podCIDR": "10.0.0.0/24", "podCIDRs": ["10.0.0.0/24"], "taints": [{"key": "a", "effect": "NoSchedule"}]}),
                    ),
                    &[],
                ),
                (
                    "bad cidr and taints",
                    node(
                        json!({"podCIDRs": ["10.0.0.0/99"], "taints": [{"key": "a", "effect": "Never"}, {"key": "b", "effect": ""}]}),
                    ),
                    &[
                        "spec.podCIDRs[0]: Invalid value: \"10.0.0.0/99\": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
                        "spec.taints[0].effect: Unsupported value: \"Never\": supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\"",
                        "spec.taints[1].effect: Required value",
                    ],
                ),
            ],
        );
        let n = node(json!({"podCIDRs": ["10.0.0.0/24"]}));
        check_update(
            "",
            "v1",
            "nodes",
            &[(
                "podCIDR change",
                n.clone(),
                with(n, "/spec/podCIDRs", json!(["10.0.1.0/24"])),
                &["spec.podCIDRs: Forbidden: node updates may not change podCIDR except from \"\" to valid"][..],
            )],
        );
    }

    #[test]
    fn pvcs() {
        let pvc = |spec: Value| json!({"metadata": {"name": "p", "namespace": "d"}, "spec": spec});
        let good = pvc(json!({"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}));
        check(
            "",
            "v1",
            "persistentvolumeclaims",
            &[
                ("valid", good.clone(), &[]),
                (
                    "empty",
                    pvc(json!({})),
                    &[
                        "spec.accessModes: Required value: at least 1 access mode is required",
                        "spec.resources[storage]: Required value",
                    ],
                ),
                (
                    "bad mode, zero size, class",
                    pvc(
                        json!({"accessModes": ["ReadWriteAll"], "storageClassName": "Fast_", "resources": {"requests": {"storage": "0"}}}),
                    ),
                    &[
                        "spec.accessModes: Unsupported value: \"ReadWriteAll\": supported values: \"ReadOnlyMany\", \"ReadWriteMany\", \"ReadWriteOnce\", \"ReadWriteOncePod\"",
                        "spec.resources[storage]: Invalid value: \"0\": must be greater than zero",
                        "spec.storageClassName: Invalid value: \"Fast_\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
                    ],
                ),
                (
                    "rwop mixed",
                    pvc(
                        json!({"accessModes": ["ReadWriteOncePod", "ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}),
                    ),
                    &["spec.accessModes: Forbidden: may not use ReadWriteOncePod with other access modes"],
                ),
            ],
        );
        let errs = errors(
            "",
            "v1",
            "persistentvolumeclaims",
            &with(good.clone(), "/spec/accessModes", json!(["ReadOnlyMany"])),
            Some(&good),
        );
        assert_eq!(errs.len(), 1);
        assert!(errs[0].starts_with("spec: Forbidden: spec is immutable after creation except resources.requests"));
        let grown = with(good.clone(), "/spec/resources/requests/storage", json!("2Gi"));
        assert!(errors("", "v1", "persistentvolumeclaims", &grown, Some(&good)).is_empty());
        let bound = with(good.clone(), "/spec/volumeName", json!("pv-1"));
        assert!(errors("", "v1", "persistentvolumeclaims", &bound, Some(&good)).is_empty());
        assert_eq!(
            errors("", "v1", "persistentvolumeclaims", &good, Some(&grown)),
            ["spec.resources.requests.storage: Forbidden: field can not be less than previous value"]
        );
    }

    #[test]
    fn events() {
        let ev = |extra: Value| {
            let mut o = json!({"metadata": {"name": "e", "namespace": "default"}, "involvedObject": {"kind": "Pod", "name": "p", "namespace": "default"}});
            if let (Some(m), Some(e)) = (o.as_object_mut(), extra.as_object()) {
                m.extend(e.clone());
            }
            o
        };
        check(
            "",
            "v1",
            "events",
            &[
                ("legacy valid", ev(json!({"reason": "Started", "message": "m"})), &[]),
                (
                    "namespace mismatch",
                    ev(json!({"involvedObject": {"kind": "Pod", "name": "p", "namespace": "other"}})),
                    &["involvedObject.namespace: Invalid value: \"other\": does not match event.namespace"],
                ),
                (
                    "new style missing fields",
                    ev(json!({"eventTime": "2024-01-01T00:00:00.000000Z"})),
                    &[
                        "reportingComponent: Required value",
                        "reportingComponent: Invalid value: \"\": name part must be non-empty",
                        "reportingComponent: Invalid value: \"\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
                        "reportingInstance: Required value",
                        "action: Required value",
                        "reason: Required value",
                    ],
                ),
            ],
        );
        let strict = json!({"metadata": {"name": "e", "namespace": "default"}, "regarding": {"kind": "Pod", "name": "p", "namespace": "default"},
            "eventTime": "2024-01-01T00:00:00.000000Z", "reportingController": "k8s.io/x", "reportingInstance": "i", "action": "A", "reason": "R", "type": "Odd", "deprecatedCount": 2});
        assert_eq!(
            errors("events.k8s.io", "v1", "events", &strict, None),
            [
                "type: Invalid value: \"\": has invalid value: Odd",
                "count: Invalid value: \"\": needs to be unset"
            ]
        );
    }
}
