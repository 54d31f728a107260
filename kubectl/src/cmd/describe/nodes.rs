//! Describers for Node (lease, conditions, capacity, the non-terminated pods and what they
//! request) and Namespace (quotas and limit ranges).

use super::{
    Ctx, PrefixWriter, annotations_multiline, arr_at, events_for, get_json, labels_multiline, list_path, rfc1123z,
    since, str_at, string_map, write_events,
};
use serde_json::Value;

pub async fn namespace(ctx: &Ctx<'_>, ns: &Value) -> String {
    let name = str_at(ns, &["metadata", "name"]);
    let quotas = list_path(ctx, &format!("/api/v1/namespaces/{name}/resourcequotas"), None, None).await;
    let limits = list_path(ctx, &format!("/api/v1/namespaces/{name}/limitranges"), None, None).await;
    let mut w = PrefixWriter::new();
    w.write(0, &format!("Name:\t{name}\n"));
    labels_multiline(&mut w, "", "Labels", &ns["metadata"]["labels"]);
    annotations_multiline(&mut w, "Annotations", &ns["metadata"]["annotations"]);
    w.write(0, &format!("Status:\t{}\n", str_at(ns, &["status", "phase"])));
    let conds = arr_at(ns, &["status", "conditions"]);
    if !conds.is_empty() {
        w.write(0, "Conditions:\n");
        w.write(1, "Type\tStatus\tLastTransitionTime\tReason\tMessage\n");
        w.write(1, "----\t------\t------------------\t------\t-------\n");
        for c in conds {
            w.write(
                1,
                &format!(
                    "{}\t{}\t{}\t{}\t{}\n",
                    str_at(c, &["type"]),
                    str_at(c, &["status"]),
                    rfc1123z(str_at(c, &["lastTransitionTime"])),
                    str_at(c, &["reason"]),
                    str_at(c, &["message"])
                ),
            );
        }
    }
    if let Ok(mut quotas) = quotas {
        w.write(0, "\n");
        if quotas.is_empty() {
            w.write(0, "No resource quota.\n");
        } else {
            quotas.sort_by(|a, b| str_at(a, &["metadata", "name"]).cmp(str_at(b, &["metadata", "name"])));
            w.write(0, "Resource Quotas\n");
            for q in &quotas {
                w.write(1, &format!("Name:\t{}\n", str_at(q, &["metadata", "name"])));
                let mut scopes: Vec<String> = arr_at(q, &["spec", "scopes"]).iter().map(super::plain).collect();
                if !scopes.is_empty() {
                    scopes.sort();
                    w.write(1, &format!("Scopes:\t{}\n", scopes.join(", ")));
                    for s in &scopes {
                        let help = super::policy::scope_help(s);
                        if !help.is_empty() {
                            w.write(1, &format!("* {help}\n"));
                        }
                    }
                }
                w.write(1, "Resource\tUsed\tHard\n");
                w.write(1, "--------\t---\t---\n");
                for (k, hard) in string_map(&q["status"]["hard"]) {
                    let used = q["status"]["used"][&k].as_str().unwrap_or("0").to_string();
                    w.write(1, &format!("{k}\t{used}\t{hard}\n"));
                }
            }
        }
    }
    if let Ok(limits) = limits {
        w.write(0, "\n");
        if limits.is_empty() {
            w.write(0, "No LimitRange resource.\n");
        } else {
            w.write(0, "Resource Limits\n");
            super::policy::limit_header(&mut w, " ");
            for lr in &limits {
                super::policy::limit_rows(&mut w, lr, " ");
            }
        }
    }
    w.finish()
}

/// A quantity in its base unit (cores for cpu, bytes for memory), as a float.
pub fn quantity(s: &str) -> f64 {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
        .unwrap_or(s.len());
    let (num, suffix) = s.split_at(split);
    let n: f64 = num.parse().unwrap_or(0.0);
    let mult = match suffix {
        "" => 1.0,
        "m" => 1e-3,
        "u" => 1e-6,
        "n" => 1e-9,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        other => {
            if let Some(exp) = other.strip_prefix(['e', 'E']) {
                10f64.powi(exp.parse().unwrap_or(0))
            } else {
                1.0
            }
        }
    };
    n * mult
}

/// Sums quantities; one term prints as written, several in a canonical form.
fn sum_quantities(terms: &[String], milli: bool) -> String {
    let terms: Vec<&String> = terms.iter().filter(|t| quantity(t) != 0.0).collect();
    match terms.as_slice() {
        [] => "0".into(),
        [one] => (*one).clone(),
        many => {
            let total: f64 = many.iter().map(|t| quantity(t)).sum();
            if milli {
                let m = (total * 1000.0).round() as i64;
                if m % 1000 == 0 {
                    format!("{}", m / 1000)
                } else {
                    format!("{m}m")
                }
            } else {
                let b = total.round() as i64;
                for (suffix, unit) in [("Gi", 1i64 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)] {
                    if b % unit == 0 && b != 0 {
                        return format!("{}{suffix}", b / unit);
                    }
                }
                b.to_string()
            }
        }
    }
}

/// A pod's total requests or limits of one resource (containers summed, init containers' max).
fn pod_resource(p: &Value, kind: &str, res: &str) -> Vec<String> {
    let sum: Vec<String> = arr_at(p, &["spec", "containers"])
        .iter()
        .filter_map(|c| c["resources"][kind][res].as_str().map(str::to_string))
        .collect();
    let init_max = arr_at(p, &["spec", "initContainers"])
        .iter()
        .filter_map(|c| c["resources"][kind][res].as_str().map(str::to_string))
        .max_by(|a, b| quantity(a).total_cmp(&quantity(b)));
    match init_max {
        Some(i) if quantity(&i) > sum.iter().map(|s| quantity(s)).sum::<f64>() => vec![i],
        _ => sum,
    }
}

fn percent(part: f64, whole: f64) -> i64 {
    if whole == 0.0 { 0 } else { (part / whole * 100.0) as i64 }
}

pub async fn node(ctx: &Ctx<'_>, n: &Value) -> String {
    let name = str_at(n, &["metadata", "name"]);
    let selector = format!("spec.nodeName={name},status.phase!=Succeeded,status.phase!=Failed");
    let pods = list_path(ctx, "/api/v1/pods", None, Some(&selector)).await;
    let events = match events_for(ctx, n, Some("Node"), None).await {
        Some(mut e) => {
            e.extend(events_for(ctx, n, Some("Node"), Some(name)).await.unwrap_or_default());
            Some(e)
        }
        None => None,
    };
    let lease = get_json(
        ctx,
        &format!("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{name}"),
    )
    .await;
    let mut w = PrefixWriter::new();
    w.write(0, &format!("Name:\t{name}\n"));
    let mut roles: Vec<String> = Vec::new();
    for (k, v) in string_map(&n["metadata"]["labels"]) {
        if let Some(r) = k.strip_prefix("node-role.kubernetes.io/") {
            if !r.is_empty() {
                roles.push(r.to_string());
            }
        } else if k == "kubernetes.io/role" && !v.is_empty() {
            roles.push(v);
        }
    }
    roles.sort();
    roles.dedup();
    w.write(
        0,
        &format!(
            "Roles:\t{}\n",
            if roles.is_empty() {
                "<none>".into()
            } else {
                roles.join(",")
            }
        ),
    );
    labels_multiline(&mut w, "", "Labels", &n["metadata"]["labels"]);
    annotations_multiline(&mut w, "Annotations", &n["metadata"]["annotations"]);
    w.write(
        0,
        &format!(
            "CreationTimestamp:\t{}\n",
            rfc1123z(str_at(n, &["metadata", "creationTimestamp"]))
        ),
    );
    w.write(0, "Taints:\t");
    let mut taints: Vec<&Value> = arr_at(n, &["spec", "taints"]).iter().collect();
    if taints.is_empty() {
        w.line("<none>");
    } else {
        let key = |t: &Value| format!("{},{}", str_at(t, &["effect"]), str_at(t, &["key"]));
        taints.sort_by_key(|a| key(a));
        for (i, t) in taints.iter().enumerate() {
            if i != 0 {
                w.write(0, "\t");
            }
            let mut s = str_at(t, &["key"]).to_string();
            let v = str_at(t, &["value"]);
            if !v.is_empty() {
                s.push_str(&format!("={v}"));
            }
            let e = str_at(t, &["effect"]);
            if !e.is_empty() {
                s.push_str(&format!(":{e}"));
            }
            w.write(0, &format!("{s}\n"));
        }
    }
    w.write(
        0,
        &format!(
            "Unschedulable:\t{}\n",
            n["spec"]["unschedulable"].as_bool().unwrap_or(false)
        ),
    );
    match &lease {
        Ok(l) => {
            w.write(0, "Lease:\n");
            let holder = l["spec"]["holderIdentity"].as_str().unwrap_or("<unset>");
            w.write(1, &format!("HolderIdentity:\t{holder}\n"));
            for (key, title) in [("acquireTime", "AcquireTime"), ("renewTime", "RenewTime")] {
                let t = str_at(l, &["spec", key]);
                let shown = if t.is_empty() {
                    "<unset>".to_string()
                } else {
                    rfc1123z(t)
                };
                w.write(1, &format!("{title}:\t{shown}\n"));
            }
        }
        Err(e) => {
            let msg = match e {
                crate::error::CmdError::Server { message, .. } => message.clone(),
                other => other.to_string(),
            };
            w.write(0, &format!("Lease:\tFailed to get lease: {msg}\n"));
        }
    }
    let conds = arr_at(n, &["status", "conditions"]);
    if !conds.is_empty() {
        w.write(
            0,
            "Conditions:\n  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage\n",
        );
        w.write(
            1,
            "----\t------\t-----------------\t------------------\t------\t-------\n",
        );
        for c in conds {
            w.write(
                1,
                &format!(
                    "{} \t{} \t{} \t{} \t{} \t{}\n",
                    str_at(c, &["type"]),
                    str_at(c, &["status"]),
                    rfc1123z(str_at(c, &["lastHeartbeatTime"])),
                    rfc1123z(str_at(c, &["lastTransitionTime"])),
                    str_at(c, &["reason"]),
                    str_at(c, &["message"])
                ),
            );
        }
    }
    w.write(0, "Addresses:\n");
    for a in arr_at(n, &["status", "addresses"]) {
        w.write(1, &format!("{}:\t{}\n", str_at(a, &["type"]), str_at(a, &["address"])));
    }
    for (key, title) in [("capacity", "Capacity"), ("allocatable", "Allocatable")] {
        let list = string_map(&n["status"][key]);
        if !list.is_empty() {
            w.write(0, &format!("{title}:\n"));
            for (k, v) in list {
                w.write(0, &format!("  {k}:\t{v}\n"));
            }
        }
    }
    let info = &n["status"]["nodeInfo"];
    w.write(0, "System Info:\n");
    for (key, title) in [
        ("machineID", "Machine ID"),
        ("systemUUID", "System UUID"),
        ("bootID", "Boot ID"),
        ("kernelVersion", "Kernel Version"),
        ("osImage", "OS Image"),
        ("operatingSystem", "Operating System"),
        ("architecture", "Architecture"),
        ("containerRuntimeVersion", "Container Runtime Version"),
        ("kubeletVersion", "Kubelet Version"),
        ("kubeProxyVersion", "Kube-Proxy Version"),
    ] {
        w.write(0, &format!("  {title}:\t{}\n", str_at(info, &[key])));
    }
    let cidr = str_at(n, &["spec", "podCIDR"]);
    if !cidr.is_empty() {
        w.write(0, &format!("PodCIDR:\t{cidr}\n"));
    }
    let cidrs: Vec<String> = arr_at(n, &["spec", "podCIDRs"]).iter().map(super::plain).collect();
    if !cidrs.is_empty() {
        w.write(0, &format!("PodCIDRs:\t{}\n", cidrs.join(",")));
    }
    let provider = str_at(n, &["spec", "providerID"]);
    if !provider.is_empty() {
        w.write(0, &format!("ProviderID:\t{provider}\n"));
    }
    match pods {
        Ok(pods) => node_resources(&mut w, n, &pods),
        Err(crate::error::CmdError::Server { reason, .. }) if reason == "Forbidden" => {
            w.write(0, "Pods:\tnot authorized\n")
        }
        Err(_) => {}
    }
    write_events(&mut w, events);
    w.finish()
}

fn node_resources(w: &mut PrefixWriter, n: &Value, pods: &[Value]) {
    w.write(0, &format!("Non-terminated Pods:\t({} in total)\n", pods.len()));
    w.write(
        1,
        "Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge\n",
    );
    w.write(
        1,
        "---------\t----\t\t------------\t----------\t---------------\t-------------\t---\n",
    );
    let alloc = if n["status"]["allocatable"].as_object().is_some_and(|m| !m.is_empty()) {
        &n["status"]["allocatable"]
    } else {
        &n["status"]["capacity"]
    };
    let total = |res: &str| quantity(alloc[res].as_str().unwrap_or("0"));
    let (cpu, mem, eph) = (total("cpu"), total("memory"), total("ephemeral-storage"));
    let mut all: std::collections::BTreeMap<(&str, &str), Vec<String>> = Default::default();
    for p in pods {
        let mut cells = Vec::new();
        for (kind, res, whole, milli) in [
            ("requests", "cpu", cpu, true),
            ("limits", "cpu", cpu, true),
            ("requests", "memory", mem, false),
            ("limits", "memory", mem, false),
        ] {
            let terms = pod_resource(p, kind, res);
            let text = sum_quantities(&terms, milli);
            let value: f64 = terms.iter().map(|t| quantity(t)).sum();
            cells.push(format!("{text} ({}%)", percent(value, whole)));
        }
        w.write(
            1,
            &format!(
                "{}\t{}\t\t{}\t{}\n",
                str_at(p, &["metadata", "namespace"]),
                str_at(p, &["metadata", "name"]),
                cells.join("\t"),
                since(str_at(p, &["metadata", "creationTimestamp"]))
            ),
        );
        for kind in ["requests", "limits"] {
            for res in ["cpu", "memory", "ephemeral-storage"] {
                all.entry((kind, res)).or_default().extend(pod_resource(p, kind, res));
            }
        }
    }
    w.write(
        0,
        "Allocated resources:\n  (Total limits may be over 100 percent, i.e., overcommitted.)\n",
    );
    w.write(1, "Resource\tRequests\tLimits\n");
    w.write(1, "--------\t--------\t------\n");
    for (res, whole, milli) in [
        ("cpu", cpu, true),
        ("memory", mem, false),
        ("ephemeral-storage", eph, false),
    ] {
        let cell = |kind: &str| {
            let terms = all.get(&(kind, res)).cloned().unwrap_or_default();
            let value: f64 = terms.iter().map(|t| quantity(t)).sum();
            format!("{} ({}%)", sum_quantities(&terms, milli), percent(value, whole))
        };
        w.write(1, &format!("{res}\t{}\t{}\n", cell("requests"), cell("limits")));
    }
    let mut huge: Vec<String> = Vec::new();
    let mut ext: Vec<String> = Vec::new();
    for (k, _) in string_map(alloc) {
        if k.starts_with("hugepages-") {
            huge.push(k);
        } else if !["cpu", "memory", "ephemeral-storage", "storage", "pods"].contains(&k.as_str())
            && !k.starts_with("requests.")
            && !k.starts_with("limits.")
        {
            ext.push(k);
        }
    }
    for h in huge {
        let whole = total(&h);
        w.write(
            1,
            &format!("{h}\t0 ({}%)\t0 ({}%)\n", percent(0.0, whole), percent(0.0, whole)),
        );
    }
    for e in ext {
        w.write(1, &format!("{e}\t0\t0\n"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        assert_eq!(quantity("100m"), 0.1);
        assert_eq!(quantity("2"), 2.0);
        assert_eq!(quantity("1Ki"), 1024.0);
        assert_eq!(sum_quantities(&["100m".into(), "200m".into()], true), "300m");
        assert_eq!(sum_quantities(&[], true), "0");
        assert_eq!(sum_quantities(&["64Mi".into()], false), "64Mi");
        assert_eq!(sum_quantities(&["64Mi".into(), "64Mi".into()], false), "128Mi");
    }
}
