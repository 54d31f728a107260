//! Describers for Service, Endpoints and Ingress; endpoints of a service are read from its
//! EndpointSlices (label `kubernetes.io/service-name`), as upstream does.

use super::{
    Ctx, PrefixWriter, annotations_multiline, arr_at, events_for, format_labels, get_json, int_at, kind_of,
    labels_multiline, list_path, plain, str_at, write_events,
};
use crate::error::CmdError;
use serde_json::Value;

async fn slices_of(ctx: &Ctx<'_>, ns: &str, service: &str) -> Result<Vec<Value>, CmdError> {
    list_path(
        ctx,
        &format!("/apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices"),
        Some(&format!("kubernetes.io/service-name={service}")),
        None,
    )
    .await
}

/// upstream's formatEndpointSlices for the ports named `port_name` (all ports when None).
fn format_slices(slices: &[Value], port_name: Option<&str>) -> String {
    if slices.is_empty() {
        return "<none>".into();
    }
    let max = 3;
    let mut list: Vec<String> = Vec::new();
    let mut more = false;
    let mut count = 0;
    for s in slices {
        let ports = arr_at(s, &["ports"]);
        let ready = |e: &Value| e["conditions"]["ready"].as_bool().unwrap_or(true);
        let first_addr = |e: &Value| arr_at(e, &["addresses"]).first().map(plain).unwrap_or_default();
        if ports.is_empty() {
            for e in arr_at(s, &["endpoints"]) {
                if list.len() == max {
                    more = true;
                }
                if !ready(e) {
                    continue;
                }
                if !more {
                    list.push(first_addr(e));
                }
                count += 1;
            }
        } else {
            for p in ports {
                if port_name.is_some_and(|n| str_at(p, &["name"]) != n) {
                    continue;
                }
                for e in arr_at(s, &["endpoints"]) {
                    if list.len() == max {
                        more = true;
                    }
                    if !ready(e) {
                        continue;
                    }
                    if !more {
                        let addr = first_addr(e);
                        let port = int_at(p, &["port"]);
                        list.push(if addr.contains(':') {
                            format!("[{addr}]:{port}")
                        } else {
                            format!("{addr}:{port}")
                        });
                    }
                    count += 1;
                }
            }
        }
    }
    let ret = list.join(",");
    if more {
        return format!("{ret} + {} more...", count - max);
    }
    ret
}

fn join(v: &[Value], sep: &str) -> String {
    v.iter().map(plain).collect::<Vec<_>>().join(sep)
}

pub async fn service(ctx: &Ctx<'_>, svc: &Value) -> String {
    let ns = str_at(svc, &["metadata", "namespace"]);
    let name = str_at(svc, &["metadata", "name"]);
    let slices = slices_of(ctx, ns, name).await.unwrap_or_default();
    let events = events_for(ctx, svc, Some(kind_of(svc)), None).await;
    let spec = &svc["spec"];
    let mut w = PrefixWriter::new();
    w.write(0, &format!("Name:\t{name}\n"));
    w.write(0, &format!("Namespace:\t{ns}\n"));
    labels_multiline(&mut w, "", "Labels", &svc["metadata"]["labels"]);
    annotations_multiline(&mut w, "Annotations", &svc["metadata"]["annotations"]);
    w.write(0, &format!("Selector:\t{}\n", format_labels(&spec["selector"])));
    w.write(0, &format!("Type:\t{}\n", str_at(spec, &["type"])));
    if let Some(p) = spec["ipFamilyPolicy"].as_str() {
        w.write(0, &format!("IP Family Policy:\t{p}\n"));
    }
    let fams = arr_at(spec, &["ipFamilies"]);
    w.write(
        0,
        &format!(
            "IP Families:\t{}\n",
            if fams.is_empty() {
                "<none>".into()
            } else {
                join(fams, ",")
            }
        ),
    );
    w.write(0, &format!("IP:\t{}\n", str_at(spec, &["clusterIP"])));
    let ips = arr_at(spec, &["clusterIPs"]);
    w.write(
        0,
        &format!(
            "IPs:\t{}\n",
            if ips.is_empty() {
                "<none>".into()
            } else {
                join(ips, ",")
            }
        ),
    );
    let ext = arr_at(spec, &["externalIPs"]);
    if !ext.is_empty() {
        w.write(0, &format!("External IPs:\t{}\n", join(ext, ",")));
    }
    let lbip = str_at(spec, &["loadBalancerIP"]);
    if !lbip.is_empty() {
        w.write(0, &format!("Desired LoadBalancer IP:\t{lbip}\n"));
    }
    let en = str_at(spec, &["externalName"]);
    if !en.is_empty() {
        w.write(0, &format!("External Name:\t{en}\n"));
    }
    let ingress = arr_at(svc, &["status", "loadBalancer", "ingress"]);
    if !ingress.is_empty() {
        let list: Vec<String> = ingress
            .iter()
            .map(|i| {
                let ip = str_at(i, &["ip"]);
                if ip.is_empty() {
                    str_at(i, &["hostname"]).to_string()
                } else if let Some(mode) = i["ipMode"].as_str() {
                    format!("{ip} ({mode})")
                } else {
                    ip.to_string()
                }
            })
            .collect();
        w.write(0, &format!("LoadBalancer Ingress:\t{}\n", list.join(", ")));
    }
    for p in arr_at(spec, &["ports"]) {
        let pname = str_at(p, &["name"]);
        let shown = if pname.is_empty() { "<unset>" } else { pname };
        let proto = str_at(p, &["protocol"]);
        w.write(0, &format!("Port:\t{shown}\t{}/{proto}\n", int_at(p, &["port"])));
        let tp = match &p["targetPort"] {
            Value::String(s) => s.clone(),
            other => plain(other),
        };
        w.write(0, &format!("TargetPort:\t{tp}/{proto}\n"));
        if let Some(ap) = p["appProtocol"].as_str() {
            w.write(0, &format!("AppProtocol:\t{ap}\n"));
        }
        let np = int_at(p, &["nodePort"]);
        if np != 0 {
            w.write(0, &format!("NodePort:\t{shown}\t{np}/{proto}\n"));
        }
        w.write(0, &format!("Endpoints:\t{}\n", format_slices(&slices, Some(pname))));
    }
    w.write(
        0,
        &format!("Session Affinity:\t{}\n", str_at(spec, &["sessionAffinity"])),
    );
    let etp = str_at(spec, &["externalTrafficPolicy"]);
    if !etp.is_empty() {
        w.write(0, &format!("External Traffic Policy:\t{etp}\n"));
    }
    if let Some(itp) = spec["internalTrafficPolicy"].as_str() {
        w.write(0, &format!("Internal Traffic Policy:\t{itp}\n"));
    }
    let hc = int_at(spec, &["healthCheckNodePort"]);
    if hc != 0 {
        w.write(0, &format!("HealthCheck NodePort:\t{hc}\n"));
    }
    let ranges = arr_at(spec, &["loadBalancerSourceRanges"]);
    if !ranges.is_empty() {
        w.write(0, &format!("LoadBalancer Source Ranges:\t{}\n", join(ranges, ",")));
    }
    if let Some(td) = spec["trafficDistribution"].as_str() {
        w.write(0, &format!("Traffic Distribution:\t{td}\n"));
    }
    write_events(&mut w, events);
    w.finish()
}

pub async fn endpoints(ctx: &Ctx<'_>, ep: &Value) -> String {
    let events = events_for(ctx, ep, Some(kind_of(ep)), None).await;
    let mut w = PrefixWriter::new();
    w.write(0, &format!("Name:\t{}\n", str_at(ep, &["metadata", "name"])));
    w.write(0, &format!("Namespace:\t{}\n", str_at(ep, &["metadata", "namespace"])));
    labels_multiline(&mut w, "", "Labels", &ep["metadata"]["labels"]);
    annotations_multiline(&mut w, "Annotations", &ep["metadata"]["annotations"]);
    w.write(0, "Subsets:\n");
    for s in arr_at(ep, &["subsets"]) {
        let ips = |key: &str| {
            let v: Vec<&str> = arr_at(s, &[key]).iter().map(|a| str_at(a, &["ip"])).collect();
            if v.is_empty() {
                "<none>".to_string()
            } else {
                v.join(",")
            }
        };
        w.write(1, &format!("Addresses:\t{}\n", ips("addresses")));
        w.write(1, &format!("NotReadyAddresses:\t{}\n", ips("notReadyAddresses")));
        let ports = arr_at(s, &["ports"]);
        if !ports.is_empty() {
            w.write(1, "Ports:\n");
            w.write(2, "Name\tPort\tProtocol\n");
            w.write(2, "----\t----\t--------\n");
            for p in ports {
                let name = str_at(p, &["name"]);
                w.write(
                    2,
                    &format!(
                        "{}\t{}\t{}\n",
                        if name.is_empty() { "<unset>" } else { name },
                        int_at(p, &["port"]),
                        str_at(p, &["protocol"])
                    ),
                );
            }
        }
        w.write(0, "\n");
    }
    write_events(&mut w, events);
    w.finish()
}

/// The message of an API error as Go's error string prints it.
fn error_text(e: &CmdError) -> String {
    match e {
        CmdError::Server { message, .. } | CmdError::ServerPlain(message) | CmdError::Message(message) => {
            message.clone()
        }
        CmdError::Raw(m) => m.clone(),
    }
}

async fn backend(ctx: &Ctx<'_>, ns: &str, b: &Value) -> String {
    if b["service"].is_object() {
        let s = &b["service"];
        let name = str_at(s, &["name"]);
        let number = int_at(s, &["port", "number"]);
        let port_name = str_at(s, &["port", "name"]);
        let shown = if number != 0 {
            number.to_string()
        } else {
            port_name.to_string()
        };
        let sb = format!("{name}:{shown}");
        let slices = match slices_of(ctx, ns, name).await {
            Ok(s) => s,
            Err(e) => return format!("{sb} (<error: {}>)", error_text(&e)),
        };
        let svc = match get_json(ctx, &format!("/api/v1/namespaces/{ns}/services/{name}")).await {
            Ok(s) => s,
            Err(e) => return format!("{sb} (<error: {}>)", error_text(&e)),
        };
        let mut sp_name = String::new();
        for sp in arr_at(&svc, &["spec", "ports"]) {
            let spn = str_at(sp, &["name"]);
            if (number != 0 && number == int_at(sp, &["port"])) || (!port_name.is_empty() && port_name == spn) {
                sp_name = spn.to_string();
            }
        }
        return format!("{sb} ({})", format_slices(&slices, Some(&sp_name)));
    }
    if b["resource"].is_object() {
        let r = &b["resource"];
        let group = r["apiGroup"].as_str().unwrap_or("<none>");
        return format!(
            "APIGroup: {group}, Kind: {}, Name: {}",
            str_at(r, &["kind"]),
            str_at(r, &["name"])
        );
    }
    String::new()
}

pub async fn ingress(ctx: &Ctx<'_>, ing: &Value) -> String {
    let events = events_for(ctx, ing, Some(kind_of(ing)), None).await;
    let ns = str_at(ing, &["metadata", "namespace"]);
    let spec = &ing["spec"];
    let default = if spec["defaultBackend"].is_object() {
        backend(ctx, ns, &spec["defaultBackend"]).await
    } else {
        "<default>".to_string()
    };
    let mut w = PrefixWriter::new();
    w.write(0, &format!("Name:\t{}\n", str_at(ing, &["metadata", "name"])));
    labels_multiline(&mut w, "", "Labels", &ing["metadata"]["labels"]);
    w.write(0, &format!("Namespace:\t{ns}\n"));
    let mut addrs: Vec<String> = arr_at(ing, &["status", "loadBalancer", "ingress"])
        .iter()
        .filter_map(|i| {
            let ip = str_at(i, &["ip"]);
            let host = str_at(i, &["hostname"]);
            if !ip.is_empty() {
                Some(ip.to_string())
            } else if !host.is_empty() {
                Some(host.to_string())
            } else {
                None
            }
        })
        .collect();
    addrs.sort();
    addrs.dedup();
    w.write(0, &format!("Address:\t{}\n", addrs.join(",")));
    w.write(
        0,
        &format!(
            "Ingress Class:\t{}\n",
            spec["ingressClassName"].as_str().unwrap_or("<none>")
        ),
    );
    w.write(0, &format!("Default backend:\t{default}\n"));
    let tls = arr_at(spec, &["tls"]);
    if !tls.is_empty() {
        w.write(0, "TLS:\n");
        for t in tls {
            let hosts = join(arr_at(t, &["hosts"]), ",");
            let secret = str_at(t, &["secretName"]);
            if secret.is_empty() {
                w.write(1, &format!("SNI routes {hosts}\n"));
            } else {
                w.write(1, &format!("{secret} terminates {hosts}\n"));
            }
        }
    }
    w.write(0, "Rules:\n  Host\tPath\tBackends\n");
    w.write(1, "----\t----\t--------\n");
    let mut count = 0;
    for rule in arr_at(spec, &["rules"]) {
        if !rule["http"].is_object() {
            continue;
        }
        count += 1;
        let host = str_at(rule, &["host"]);
        w.write(1, &format!("{}\t\n", if host.is_empty() { "*" } else { host }));
        for p in arr_at(rule, &["http", "paths"]) {
            let b = backend(ctx, ns, &p["backend"]).await;
            w.write(2, &format!("\t{} \t{b}\n", str_at(p, &["path"])));
        }
    }
    if count == 0 {
        w.write(1, &format!("*\t*\t{default}\n"));
    }
    annotations_multiline(&mut w, "Annotations", &ing["metadata"]["annotations"]);
    write_events(&mut w, events);
    w.finish()
}
