//! Describers for the policy and cluster-setup kinds: PodDisruptionBudget, PriorityClass,
//! IngressClass, EndpointSlice, LimitRange, ResourceQuota and HorizontalPodAutoscaler.

use super::{
    Ctx, PrefixWriter, annotations_multiline, arr_at, events_for, format_labels, format_selector, int_at, kind_of,
    labels_multiline, plain, rfc1123z, str_at, string_map, write_events,
};
use serde_json::Value;

fn int_or_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => plain(other),
    }
}

pub async fn pdb(ctx: &Ctx<'_>, p: &Value) -> String {
    let events = events_for(ctx, p, Some(kind_of(p)), None).await;
    let mut w = PrefixWriter::new();
    w.write(0, &format!("Name:\t{}\n", str_at(p, &["metadata", "name"])));
    w.write(0, &format!("Namespace:\t{}\n", str_at(p, &["metadata", "namespace"])));
    let spec = &p["spec"];
    if !spec["minAvailable"].is_null() {
        w.write(
            0,
            &format!("Min available:\t{}\n", int_or_string(&spec["minAvailable"])),
        );
    } else if !spec["maxUnavailable"].is_null() {
        w.write(
            0,
            &format!("Max unavailable:\t{}\n", int_or_string(&spec["maxUnavailable"])),
        );
    }
    if spec["selector"].is_object() {
        w.write(0, &format!("Selector:\t{}\n", format_selector(&spec["selector"], true)));
    } else {
        w.write(0, "Selector:\t<unset>\n");
    }
    let st = &p["status"];
    w.write(0, "Status:\n");
    w.write(
        2,
        &format!("Allowed disruptions:\t{}\n", int_at(st, &["disruptionsAllowed"])),
    );
    w.write(2, &format!("Current:\t{}\n", int_at(st, &["currentHealthy"])));
    w.write(2, &format!("Desired:\t{}\n", int_at(st, &["desiredHealthy"])));
    w.write(2, &format!("Total:\t{}\n", int_at(st, &["expectedPods"])));
    write_events(&mut w, events);
    w.finish()
}

pub async fn priority_class(ctx: &Ctx<'_>, pc: &Value) -> String {
    let events = events_for(ctx, pc, Some(kind_of(pc)), None).await;
    let mut w = PrefixWriter::new();
    w.write(0, &format!("Name:\t{}\n", str_at(pc, &["metadata", "name"])));
    w.write(0, &format!("Value:\t{}\n", int_at(pc, &["value"])));
    w.write(
        0,
        &format!("GlobalDefault:\t{}\n", pc["globalDefault"].as_bool().unwrap_or(false)),
    );
    w.write(
        0,
        &format!("PreemptionPolicy:\t{}\n", str_at(pc, &["preemptionPolicy"])),
    );
    w.write(0, &format!("Description:\t{}\n", str_at(pc, &["description"])));
    w.write(
        0,
        &format!("Annotations:\t{}\n", format_labels(&pc["metadata"]["annotations"])),
    );
    write_events(&mut w, events);
    w.finish()
}

pub async fn ingress_class(ctx: &Ctx<'_>, ic: &Value) -> String {
    let events = events_for(ctx, ic, Some(kind_of(ic)), None).await;
    let mut w = PrefixWriter::new();
    w.write(0, &format!("Name:\t{}\n", str_at(ic, &["metadata", "name"])));
    labels_multiline(&mut w, "", "Labels", &ic["metadata"]["labels"]);
    annotations_multiline(&mut w, "Annotations", &ic["metadata"]["annotations"]);
    w.write(0, &format!("Controller:\t{}\n", str_at(ic, &["spec", "controller"])));
    let p = &ic["spec"]["parameters"];
    if p.is_object() {
        w.write(0, "Parameters:\n");
        if let Some(g) = p["apiGroup"].as_str() {
            w.write(1, &format!("APIGroup:\t{g}\n"));
        }
        w.write(1, &format!("Kind:\t{}\n", str_at(p, &["kind"])));
        w.write(1, &format!("Name:\t{}\n", str_at(p, &["name"])));
    }
    write_events(&mut w, events);
    w.finish()
}

pub async fn endpoint_slice(ctx: &Ctx<'_>, s: &Value) -> String {
    let events = events_for(ctx, s, Some(kind_of(s)), None).await;
    let mut w = PrefixWriter::new();
    w.write(0, &format!("Name:\t{}\n", str_at(s, &["metadata", "name"])));
    w.write(0, &format!("Namespace:\t{}\n", str_at(s, &["metadata", "namespace"])));
    labels_multiline(&mut w, "", "Labels", &s["metadata"]["labels"]);
    annotations_multiline(&mut w, "Annotations", &s["metadata"]["annotations"]);
    w.write(0, &format!("AddressType:\t{}\n", str_at(s, &["addressType"])));
    let ports = arr_at(s, &["ports"]);
    if ports.is_empty() {
        w.write(0, "Ports: <unset>\n");
    } else {
        w.write(0, "Ports:\n");
        w.write(1, "Name\tPort\tProtocol\n");
        w.write(1, "----\t----\t--------\n");
        for p in ports {
            let name = p["name"].as_str().filter(|n| !n.is_empty()).unwrap_or("<unset>");
            let port = p["port"]
                .as_i64()
                .map(|n| n.to_string())
                .unwrap_or_else(|| "<unset>".into());
            w.write(1, &format!("{name}\t{port}\t{}\n", str_at(p, &["protocol"])));
        }
    }
    let eps = arr_at(s, &["endpoints"]);
    if eps.is_empty() {
        w.write(0, "Endpoints: <none>\n");
    } else {
        w.write(0, "Endpoints:\n");
        for e in eps {
            let addrs: Vec<String> = arr_at(e, &["addresses"]).iter().map(plain).collect();
            let addrs = if addrs.is_empty() {
                "<none>".to_string()
            } else {
                addrs.join(", ")
            };
            w.write(1, &format!("- Addresses:\t{addrs}\n"));
            w.write(2, "Conditions:\n");
            let ready = e["conditions"]["ready"]
                .as_bool()
                .map(|b| b.to_string())
                .unwrap_or_else(|| "<unset>".into());
            w.write(3, &format!("Ready:\t{ready}\n"));
            w.write(
                2,
                &format!("Hostname:\t{}\n", e["hostname"].as_str().unwrap_or("<unset>")),
            );
            if e["targetRef"].is_object() {
                w.write(
                    2,
                    &format!(
                        "TargetRef:\t{}/{}\n",
                        str_at(e, &["targetRef", "kind"]),
                        str_at(e, &["targetRef", "name"])
                    ),
                );
            }
            w.write(
                2,
                &format!("NodeName:\t{}\n", e["nodeName"].as_str().unwrap_or("<unset>")),
            );
            w.write(2, &format!("Zone:\t{}\n", e["zone"].as_str().unwrap_or("<unset>")));
        }
    }
    write_events(&mut w, events);
    w.finish()
}

/// The header of a limits table, after `indent` (the namespace describer indents by one space).
pub fn limit_header(w: &mut PrefixWriter, indent: &str) {
    w.write(
        0,
        &format!("{indent}Type\tResource\tMin\tMax\tDefault Request\tDefault Limit\tMax Limit/Request Ratio\n"),
    );
    w.write(
        0,
        &format!("{indent}----\t--------\t---\t---\t---------------\t-------------\t-----------------------\n"),
    );
}

/// The rows of a LimitRange's limits table (upstream's describeLimitRangeSpec).
pub fn limit_rows(w: &mut PrefixWriter, lr: &Value, indent: &str) {
    for item in arr_at(lr, &["spec", "limits"]) {
        let mut keys: Vec<String> = Vec::new();
        for f in ["max", "min", "default", "defaultRequest", "maxLimitRequestRatio"] {
            for (k, _) in string_map(&item[f]) {
                if !keys.contains(&k) {
                    keys.push(k);
                }
            }
        }
        for k in keys {
            let get = |f: &str| item[f][&k].as_str().unwrap_or("-").to_string();
            w.write(
                0,
                &format!(
                    "{indent}{}\t{k}\t{}\t{}\t{}\t{}\t{}\n",
                    str_at(item, &["type"]),
                    get("min"),
                    get("max"),
                    get("defaultRequest"),
                    get("default"),
                    get("maxLimitRequestRatio")
                ),
            );
        }
    }
}

pub fn limit_range(lr: &Value) -> String {
    let mut w = PrefixWriter::new();
    w.write(0, &format!("Name:\t{}\n", str_at(lr, &["metadata", "name"])));
    w.write(0, &format!("Namespace:\t{}\n", str_at(lr, &["metadata", "namespace"])));
    limit_header(&mut w, "");
    limit_rows(&mut w, lr, "");
    w.finish()
}

/// upstream's helpTextForResourceQuotaScope.
pub fn scope_help(scope: &str) -> &'static str {
    match scope {
        "Terminating" => {
            "Matches all pods that have an active deadline. These pods have a limited lifespan on a node before being actively terminated by the system."
        }
        "NotTerminating" => {
            "Matches all pods that do not have an active deadline. These pods usually include long running pods whose container command is not expected to terminate."
        }
        "BestEffort" => {
            "Matches all pods that do not have resource requirements set. These pods have a best effort quality of service."
        }
        "NotBestEffort" => {
            "Matches all pods that have at least one resource requirement set. These pods have a burstable or guaranteed quality of service."
        }
        _ => "",
    }
}

pub fn resource_quota(q: &Value) -> String {
    let mut w = PrefixWriter::new();
    w.write(0, &format!("Name:\t{}\n", str_at(q, &["metadata", "name"])));
    w.write(0, &format!("Namespace:\t{}\n", str_at(q, &["metadata", "namespace"])));
    let mut scopes: Vec<String> = arr_at(q, &["spec", "scopes"]).iter().map(plain).collect();
    if !scopes.is_empty() {
        scopes.sort();
        w.write(0, &format!("Scopes:\t{}\n", scopes.join(", ")));
        for s in &scopes {
            let help = match s.as_str() {
                "Terminating" => {
                    "Matches all pods that have an active deadline. These pods have a limited lifespan on a node before being actively terminated by the system."
                }
                "NotTerminating" => {
                    "Matches all pods that do not have an active deadline. These pods usually include long running pods whose container command is not expected to terminate."
                }
                "BestEffort" => {
                    "Matches all pods that do not have resource requirements set. These pods have a best effort quality of service."
                }
                "NotBestEffort" => {
                    "Matches all pods that have at least one resource requirement set. These pods have a burstable or guaranteed quality of service."
                }
                _ => "",
            };
            if !help.is_empty() {
                w.write(0, &format!(" * {help}\n"));
            }
        }
    }
    w.write(0, "Resource\tUsed\tHard\n");
    w.write(0, "--------\t----\t----\n");
    for (k, hard) in string_map(&q["status"]["hard"]) {
        let used = q["status"]["used"][&k].as_str().unwrap_or("0").to_string();
        w.write(0, &format!("{k}\t{used}\t{hard}\n"));
    }
    w.finish()
}

pub async fn hpa(ctx: &Ctx<'_>, h: &Value) -> String {
    let events = events_for(ctx, h, Some(kind_of(h)), None).await;
    let spec = &h["spec"];
    let st = &h["status"];
    let mut w = PrefixWriter::new();
    w.write(0, &format!("Name:\t{}\n", str_at(h, &["metadata", "name"])));
    w.write(0, &format!("Namespace:\t{}\n", str_at(h, &["metadata", "namespace"])));
    labels_multiline(&mut w, "", "Labels", &h["metadata"]["labels"]);
    annotations_multiline(&mut w, "Annotations", &h["metadata"]["annotations"]);
    w.write(
        0,
        &format!(
            "CreationTimestamp:\t{}\n",
            rfc1123z(str_at(h, &["metadata", "creationTimestamp"]))
        ),
    );
    let target_kind = str_at(spec, &["scaleTargetRef", "kind"]);
    w.write(
        0,
        &format!(
            "Reference:\t{target_kind}/{}\n",
            str_at(spec, &["scaleTargetRef", "name"])
        ),
    );
    w.write(0, "Metrics:\t( current / target )\n");
    let current = arr_at(st, &["currentMetrics"]);
    for (i, m) in arr_at(spec, &["metrics"]).iter().enumerate() {
        let cur = current.get(i);
        match str_at(m, &["type"]) {
            "Resource" | "ContainerResource" => {
                let (key, title) = if str_at(m, &["type"]) == "Resource" {
                    (
                        "resource",
                        format!("resource {} on pods", str_at(m, &["resource", "name"])),
                    )
                } else {
                    (
                        "containerResource",
                        format!(
                            "resource {} of container \"{}\" on pods",
                            str_at(m, &["containerResource", "name"]),
                            str_at(m, &["containerResource", "container"])
                        ),
                    )
                };
                w.write(1, &title);
                let target = &m[key]["target"];
                let c = cur.map(|c| &c[key]["current"]);
                if let Some(av) = target["averageValue"].as_str() {
                    let now = c.and_then(|c| c["averageValue"].as_str()).unwrap_or("<unknown>");
                    w.write(0, &format!(":\t{now} / {av}\n"));
                } else {
                    let now = match c {
                        Some(c) if c["averageUtilization"].is_i64() => format!(
                            "{}% ({})",
                            int_at(c, &["averageUtilization"]),
                            str_at(c, &["averageValue"])
                        ),
                        _ => "<unknown>".into(),
                    };
                    let t = target["averageUtilization"]
                        .as_i64()
                        .map(|u| format!("{u}%"))
                        .unwrap_or_else(|| "<auto>".into());
                    w.write(1, &format!("(as a percentage of request):\t{now} / {t}\n"));
                }
            }
            "Pods" => {
                let now = cur
                    .and_then(|c| c["pods"]["current"]["averageValue"].as_str())
                    .unwrap_or("<unknown>");
                w.write(
                    1,
                    &format!(
                        "\"{}\" on pods:\t{now} / {}\n",
                        str_at(m, &["pods", "metric", "name"]),
                        str_at(m, &["pods", "target", "averageValue"])
                    ),
                );
            }
            other => w.write(1, &format!("<unknown metric type \"{other}\">\n")),
        }
    }
    let min = spec["minReplicas"]
        .as_i64()
        .map(|n| n.to_string())
        .unwrap_or_else(|| "<unset>".into());
    w.write(0, &format!("Min replicas:\t{min}\n"));
    w.write(0, &format!("Max replicas:\t{}\n", int_at(spec, &["maxReplicas"])));
    let behavior = &spec["behavior"];
    if behavior.is_object() {
        w.write(0, "Behavior:\n");
        for (key, title) in [("scaleUp", "Scale Up"), ("scaleDown", "Scale Down")] {
            let r = &behavior[key];
            if !r.is_object() {
                continue;
            }
            w.write(1, &format!("{title}:\n"));
            if let Some(s) = r["stabilizationWindowSeconds"].as_i64() {
                w.write(2, &format!("Stabilization Window: {s} seconds\n"));
            }
            let policies = arr_at(r, &["policies"]);
            if !policies.is_empty() {
                w.write(
                    2,
                    &format!("Select Policy: {}\n", r["selectPolicy"].as_str().unwrap_or("Max")),
                );
                w.write(2, "Policies:\n");
                for p in policies {
                    w.write(
                        3,
                        &format!(
                            "- Type: {}\tValue: {}\tPeriod: {} seconds\n",
                            str_at(p, &["type"]),
                            int_at(p, &["value"]),
                            int_at(p, &["periodSeconds"])
                        ),
                    );
                }
            }
        }
    }
    w.write(0, &format!("{target_kind} pods:\t"));
    w.write(
        0,
        &format!(
            "{} current / {} desired\n",
            int_at(st, &["currentReplicas"]),
            int_at(st, &["desiredReplicas"])
        ),
    );
    let conds = arr_at(st, &["conditions"]);
    if !conds.is_empty() {
        w.write(0, "Conditions:\n");
        w.write(1, "Type\tStatus\tReason\tMessage\n");
        w.write(1, "----\t------\t------\t-------\n");
        for c in conds {
            w.write(
                1,
                &format!(
                    "{}\t{}\t{}\t{}\n",
                    str_at(c, &["type"]),
                    str_at(c, &["status"]),
                    str_at(c, &["reason"]),
                    str_at(c, &["message"])
                ),
            );
        }
    }
    write_events(&mut w, events);
    w.finish()
}

/// Go's `time.Time.String()` of an RFC 3339 time, in the local zone.
fn go_time_string(s: &str) -> String {
    match super::parse_time(s) {
        Some(t) => t
            .to_zoned(jiff::tz::TimeZone::system())
            .strftime("%Y-%m-%d %H:%M:%S %z %Z")
            .to_string(),
        None => "0001-01-01 00:00:00 +0000 UTC".into(),
    }
}

fn peers(w: &mut PrefixWriter, rules: &[Value], key: &str, indent: &str) {
    let (isolated, any_peer, title) = if key == "from" {
        (
            "<none> (Selected pods are isolated for ingress connectivity)",
            "From: <any> (traffic not restricted by source)",
            "From:",
        )
    } else {
        (
            "<none> (Selected pods are isolated for egress connectivity)",
            "To: <any> (traffic not restricted by destination)",
            "To:",
        )
    };
    if rules.is_empty() {
        w.write(0, &format!("{indent}{isolated}\n"));
        return;
    }
    for (i, rule) in rules.iter().enumerate() {
        let ports = arr_at(rule, &["ports"]);
        if ports.is_empty() {
            w.write(0, &format!("{indent}To Port: <any> (traffic allowed to all ports)\n"));
        }
        for p in ports {
            let proto = p["protocol"].as_str().unwrap_or("TCP");
            let port = int_or_string(&p["port"]);
            match p["endPort"].as_i64() {
                None => w.write(0, &format!("{indent}To Port: {port}/{proto}\n")),
                Some(end) => w.write(0, &format!("{indent}To Port Range: {port}-{end}/{proto}\n")),
            }
        }
        let list = arr_at(rule, &[key]);
        if list.is_empty() {
            w.write(0, &format!("{indent}{any_peer}\n"));
        }
        for peer in list {
            w.write(0, &format!("{indent}{title}\n"));
            let pod = &peer["podSelector"];
            let ns = &peer["namespaceSelector"];
            if pod.is_object() && ns.is_object() {
                w.write(
                    1,
                    &format!("{indent}NamespaceSelector: {}\n", format_selector(ns, true)),
                );
                w.write(1, &format!("{indent}PodSelector: {}\n", format_selector(pod, true)));
            } else if pod.is_object() {
                w.write(1, &format!("{indent}PodSelector: {}\n", format_selector(pod, true)));
            } else if ns.is_object() {
                w.write(
                    1,
                    &format!("{indent}NamespaceSelector: {}\n", format_selector(ns, true)),
                );
            } else if peer["ipBlock"].is_object() {
                w.write(1, &format!("{indent}IPBlock:\n"));
                w.write(2, &format!("{indent}CIDR: {}\n", str_at(peer, &["ipBlock", "cidr"])));
                let except: Vec<String> = arr_at(peer, &["ipBlock", "except"]).iter().map(plain).collect();
                w.write(2, &format!("{indent}Except: {}\n", except.join(", ")));
            }
        }
        if i + 1 != rules.len() {
            w.write(0, &format!("{indent}----------\n"));
        }
    }
}

pub fn network_policy(np: &Value) -> String {
    let mut w = PrefixWriter::new();
    w.write(0, &format!("Name:\t{}\n", str_at(np, &["metadata", "name"])));
    w.write(0, &format!("Namespace:\t{}\n", str_at(np, &["metadata", "namespace"])));
    w.write(
        0,
        &format!(
            "Created on:\t{}\n",
            go_time_string(str_at(np, &["metadata", "creationTimestamp"]))
        ),
    );
    labels_multiline(&mut w, "", "Labels", &np["metadata"]["labels"]);
    annotations_multiline(&mut w, "Annotations", &np["metadata"]["annotations"]);
    let spec = &np["spec"];
    w.write(0, "Spec:\n");
    w.write(1, "PodSelector: ");
    let sel = &spec["podSelector"];
    let empty = string_map(&sel["matchLabels"]).is_empty() && arr_at(sel, &["matchExpressions"]).is_empty();
    if empty {
        w.write(
            2,
            "<none> (Allowing the specific traffic to all pods in this namespace)\n",
        );
    } else {
        w.write(2, &format!("{}\n", format_selector(sel, true)));
    }
    let types: Vec<String> = arr_at(spec, &["policyTypes"]).iter().map(plain).collect();
    if types.iter().any(|t| t == "Ingress") {
        w.write(1, "Allowing ingress traffic:\n");
        peers(&mut w, arr_at(spec, &["ingress"]), "from", "    ");
    } else {
        w.write(1, "Not affecting ingress traffic\n");
    }
    if types.iter().any(|t| t == "Egress") {
        w.write(1, "Allowing egress traffic:\n");
        peers(&mut w, arr_at(spec, &["egress"]), "to", "    ");
    } else {
        w.write(1, "Not affecting egress traffic\n");
    }
    let shown = if types.is_empty() {
        "<none>".to_string()
    } else {
        types.join(", ")
    };
    w.write(1, &format!("Policy Types: {shown}\n"));
    w.finish()
}
