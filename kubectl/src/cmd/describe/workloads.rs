//! Describers for the workload controllers: Deployment, ReplicaSet, DaemonSet, StatefulSet,
//! Job and CronJob, with the pod counts and replica sets upstream looks up for them.

use super::pods::pod_template;
use super::{
    Ctx, PrefixWriter, annotations_multiline, arr_at, at, controlled_by, events_for, format_labels, format_selector,
    human_duration, int_at, kind_of, labels_multiline, list_path, parse_time, plain, rfc1123z, str_at, write_events,
};
use serde_json::Value;

/// (running, waiting, succeeded, failed) pods selected by `selector` and controlled by `o`.
async fn pod_counts(ctx: &Ctx<'_>, o: &Value, selector: &str) -> Result<(i64, i64, i64, i64), String> {
    let ns = str_at(o, &["metadata", "namespace"]);
    let uid = str_at(o, &["metadata", "uid"]);
    let pods = list_path(ctx, &format!("/api/v1/namespaces/{ns}/pods"), Some(selector), None)
        .await
        .map_err(|e| e.to_string())?;
    let mut c = (0, 0, 0, 0);
    for p in &pods {
        let owned = arr_at(p, &["metadata", "ownerReferences"])
            .iter()
            .any(|r| r["controller"].as_bool() == Some(true) && str_at(r, &["uid"]) == uid);
        if !owned {
            continue;
        }
        match str_at(p, &["status", "phase"]) {
            "Running" => c.0 += 1,
            "Pending" => c.1 += 1,
            "Succeeded" => c.2 += 1,
            "Failed" => c.3 += 1,
            _ => {}
        }
    }
    Ok(c)
}

fn header(w: &mut PrefixWriter, o: &Value) {
    w.write(0, &format!("Name:\t{}\n", str_at(o, &["metadata", "name"])));
    w.write(0, &format!("Namespace:\t{}\n", str_at(o, &["metadata", "namespace"])));
}

fn int_or_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "0".into(),
        other => plain(other),
    }
}

pub async fn deployment(ctx: &Ctx<'_>, d: &Value) -> String {
    let events = events_for(ctx, d, Some(kind_of(d)), None).await;
    let (old, new) = replica_sets_of(ctx, d).await;
    let mut w = PrefixWriter::new();
    header(&mut w, d);
    w.write(
        0,
        &format!(
            "CreationTimestamp:\t{}\n",
            rfc1123z(str_at(d, &["metadata", "creationTimestamp"]))
        ),
    );
    labels_multiline(&mut w, "", "Labels", &d["metadata"]["labels"]);
    annotations_multiline(&mut w, "Annotations", &d["metadata"]["annotations"]);
    w.write(
        0,
        &format!("Selector:\t{}\n", format_selector(&d["spec"]["selector"], false)),
    );
    let st = &d["status"];
    w.write(
        0,
        &format!(
            "Replicas:\t{} desired | {} updated | {} total | {} available | {} unavailable\n",
            int_at(d, &["spec", "replicas"]),
            int_at(st, &["updatedReplicas"]),
            int_at(st, &["replicas"]),
            int_at(st, &["availableReplicas"]),
            int_at(st, &["unavailableReplicas"])
        ),
    );
    w.write(
        0,
        &format!("StrategyType:\t{}\n", str_at(d, &["spec", "strategy", "type"])),
    );
    w.write(
        0,
        &format!("MinReadySeconds:\t{}\n", int_at(d, &["spec", "minReadySeconds"])),
    );
    let ru = at(d, &["spec", "strategy", "rollingUpdate"]);
    if ru.is_object() {
        w.write(
            0,
            &format!(
                "RollingUpdateStrategy:\t{} max unavailable, {} max surge\n",
                int_or_string(&ru["maxUnavailable"]),
                int_or_string(&ru["maxSurge"])
            ),
        );
    }
    pod_template(&mut w, &d["spec"]["template"]);
    conditions_type_status_reason(&mut w, arr_at(st, &["conditions"]));
    if !old.is_empty() || !new.is_empty() {
        w.write(0, &format!("OldReplicaSets:\t{}\n", rs_list(&old)));
        w.write(0, &format!("NewReplicaSet:\t{}\n", rs_list(&new)));
    }
    write_events(&mut w, events);
    w.finish()
}

fn conditions_type_status_reason(w: &mut PrefixWriter, conditions: &[Value]) {
    if conditions.is_empty() {
        return;
    }
    w.write(0, "Conditions:\n  Type\tStatus\tReason\n");
    w.write(1, "----\t------\t------\n");
    for c in conditions {
        w.write(
            1,
            &format!(
                "{} \t{}\t{}\n",
                str_at(c, &["type"]),
                str_at(c, &["status"]),
                str_at(c, &["reason"])
            ),
        );
    }
}

fn rs_list(list: &[Value]) -> String {
    if list.is_empty() {
        return "<none>".into();
    }
    list.iter()
        .map(|rs| {
            format!(
                "{} ({}/{} replicas created)",
                str_at(rs, &["metadata", "name"]),
                int_at(rs, &["status", "replicas"]),
                int_at(rs, &["spec", "replicas"])
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The deployment's old and new replica sets (those it controls; the new one has the
/// deployment's pod template).
async fn replica_sets_of(ctx: &Ctx<'_>, d: &Value) -> (Vec<Value>, Vec<Value>) {
    let ns = str_at(d, &["metadata", "namespace"]);
    let uid = str_at(d, &["metadata", "uid"]);
    let Ok(all) = list_path(ctx, &format!("/apis/apps/v1/namespaces/{ns}/replicasets"), None, None).await else {
        return (Vec::new(), Vec::new());
    };
    let mut owned: Vec<Value> = all
        .into_iter()
        .filter(|rs| {
            arr_at(rs, &["metadata", "ownerReferences"])
                .iter()
                .any(|r| r["controller"].as_bool() == Some(true) && str_at(r, &["uid"]) == uid)
        })
        .collect();
    // The new one is the oldest with the deployment's template; the others stay in list
    // order, with or without pods, as upstream's "all old replica sets".
    let template = strip_hash(&d["spec"]["template"]);
    let new_index = owned
        .iter()
        .enumerate()
        .filter(|(_, rs)| strip_hash(&rs["spec"]["template"]) == template)
        .min_by_key(|(_, rs)| parse_time(str_at(rs, &["metadata", "creationTimestamp"])))
        .map(|(i, _)| i);
    let mut new = Vec::new();
    if let Some(i) = new_index {
        new.push(owned.remove(i));
    }
    (owned, new)
}

fn strip_hash(t: &Value) -> Value {
    let mut t = t.clone();
    if let Some(l) = t
        .get_mut("metadata")
        .and_then(|m| m.get_mut("labels"))
        .and_then(Value::as_object_mut)
    {
        l.remove("pod-template-hash");
    }
    t
}

pub async fn replica_set(ctx: &Ctx<'_>, rs: &Value) -> String {
    let selector = format_selector(&rs["spec"]["selector"], false);
    let counts = pod_counts(ctx, rs, &selector).await;
    let events = events_for(ctx, rs, Some(kind_of(rs)), None).await;
    let mut w = PrefixWriter::new();
    header(&mut w, rs);
    w.write(
        0,
        &format!("Selector:\t{}\n", format_selector(&rs["spec"]["selector"], true)),
    );
    labels_multiline(&mut w, "", "Labels", &rs["metadata"]["labels"]);
    annotations_multiline(&mut w, "Annotations", &rs["metadata"]["annotations"]);
    if let Some(c) = controlled_by(rs) {
        w.write(0, &format!("Controlled By:\t{c}\n"));
    }
    w.write(
        0,
        &format!(
            "Replicas:\t{} current / {} desired\n",
            int_at(rs, &["status", "replicas"]),
            int_at(rs, &["spec", "replicas"])
        ),
    );
    w.write(0, "Pods Status:\t");
    match counts {
        Ok((r, wa, s, f)) => w.write(0, &format!("{r} Running / {wa} Waiting / {s} Succeeded / {f} Failed\n")),
        Err(e) => w.write(0, &format!("error in fetching pods: {e}\n")),
    }
    pod_template(&mut w, &rs["spec"]["template"]);
    conditions_type_status_reason(&mut w, arr_at(rs, &["status", "conditions"]));
    write_events(&mut w, events);
    w.finish()
}

pub async fn daemon_set(ctx: &Ctx<'_>, ds: &Value) -> String {
    let selector = format_selector(&ds["spec"]["selector"], false);
    let (r, wa, s, f) = pod_counts(ctx, ds, &selector).await.unwrap_or_default();
    let events = events_for(ctx, ds, Some(kind_of(ds)), None).await;
    let mut w = PrefixWriter::new();
    header(&mut w, ds);
    w.write(0, &format!("Selector:\t{selector}\n"));
    let node_sel = format_labels(&ds["spec"]["template"]["spec"]["nodeSelector"]);
    w.write(0, &format!("Node-Selector:\t{node_sel}\n"));
    labels_multiline(&mut w, "", "Labels", &ds["metadata"]["labels"]);
    annotations_multiline(&mut w, "Annotations", &ds["metadata"]["annotations"]);
    let st = &ds["status"];
    w.write(
        0,
        &format!(
            "Desired Number of Nodes Scheduled: {}\n",
            int_at(st, &["desiredNumberScheduled"])
        ),
    );
    w.write(
        0,
        &format!(
            "Current Number of Nodes Scheduled: {}\n",
            int_at(st, &["currentNumberScheduled"])
        ),
    );
    w.write(
        0,
        &format!(
            "Number of Nodes Scheduled with Up-to-date Pods: {}\n",
            int_at(st, &["updatedNumberScheduled"])
        ),
    );
    w.write(
        0,
        &format!(
            "Number of Nodes Scheduled with Available Pods: {}\n",
            int_at(st, &["numberAvailable"])
        ),
    );
    w.write(
        0,
        &format!(
            "Number of Nodes Misscheduled: {}\n",
            int_at(st, &["numberMisscheduled"])
        ),
    );
    w.write(
        0,
        &format!("Pods Status:\t{r} Running / {wa} Waiting / {s} Succeeded / {f} Failed\n"),
    );
    pod_template(&mut w, &ds["spec"]["template"]);
    write_events(&mut w, events);
    w.finish()
}

pub async fn stateful_set(ctx: &Ctx<'_>, ss: &Value) -> String {
    let selector = format_selector(&ss["spec"]["selector"], false);
    let (r, wa, s, f) = pod_counts(ctx, ss, &selector).await.unwrap_or_default();
    let events = events_for(ctx, ss, Some(kind_of(ss)), None).await;
    let mut w = PrefixWriter::new();
    header(&mut w, ss);
    w.write(
        0,
        &format!(
            "CreationTimestamp:\t{}\n",
            rfc1123z(str_at(ss, &["metadata", "creationTimestamp"]))
        ),
    );
    w.write(0, &format!("Selector:\t{selector}\n"));
    labels_multiline(&mut w, "", "Labels", &ss["metadata"]["labels"]);
    annotations_multiline(&mut w, "Annotations", &ss["metadata"]["annotations"]);
    w.write(
        0,
        &format!(
            "Replicas:\t{} desired | {} total\n",
            int_at(ss, &["spec", "replicas"]),
            int_at(ss, &["status", "replicas"])
        ),
    );
    w.write(
        0,
        &format!(
            "Update Strategy:\t{}\n",
            str_at(ss, &["spec", "updateStrategy", "type"])
        ),
    );
    let ru = at(ss, &["spec", "updateStrategy", "rollingUpdate"]);
    if let Some(p) = ru["partition"].as_i64() {
        w.write(1, &format!("Partition:\t{p}\n"));
        if !ru["maxUnavailable"].is_null() {
            w.write(
                1,
                &format!("MaxUnavailable:\t{}\n", int_or_string(&ru["maxUnavailable"])),
            );
        }
    }
    w.write(
        0,
        &format!("Pods Status:\t{r} Running / {wa} Waiting / {s} Succeeded / {f} Failed\n"),
    );
    pod_template(&mut w, &ss["spec"]["template"]);
    let claims = arr_at(ss, &["spec", "volumeClaimTemplates"]);
    if claims.is_empty() {
        w.write(0, "Volume Claims:\t<none>\n");
    } else {
        w.write(0, "Volume Claims:\n");
        for pvc in claims {
            w.write(1, &format!("Name:\t{}\n", str_at(pvc, &["metadata", "name"])));
            w.write(
                1,
                &format!("StorageClass:\t{}\n", str_at(pvc, &["spec", "storageClassName"])),
            );
            labels_multiline(&mut w, "  ", "Labels", &pvc["metadata"]["labels"]);
            labels_multiline(&mut w, "  ", "Annotations", &pvc["metadata"]["annotations"]);
            let cap = str_at(pvc, &["spec", "resources", "requests", "storage"]);
            w.write(
                1,
                &format!("Capacity:\t{}\n", if cap.is_empty() { "<default>" } else { cap }),
            );
            let modes: Vec<String> = arr_at(pvc, &["spec", "accessModes"]).iter().map(plain).collect();
            w.write(1, &format!("Access Modes:\t[{}]\n", modes.join(" ")));
        }
    }
    write_events(&mut w, events);
    w.finish()
}

pub async fn job(ctx: &Ctx<'_>, j: &Value) -> String {
    let events = events_for(ctx, j, Some(kind_of(j)), None).await;
    let mut w = PrefixWriter::new();
    header(&mut w, j);
    w.write(
        0,
        &format!("Selector:\t{}\n", format_selector(&j["spec"]["selector"], false)),
    );
    labels_multiline(&mut w, "", "Labels", &j["metadata"]["labels"]);
    annotations_multiline(&mut w, "Annotations", &j["metadata"]["annotations"]);
    if let Some(c) = controlled_by(j) {
        w.write(0, &format!("Controlled By:\t{c}\n"));
    }
    let spec = &j["spec"];
    if let Some(p) = spec["parallelism"].as_i64() {
        w.write(0, &format!("Parallelism:\t{p}\n"));
    }
    match spec["completions"].as_i64() {
        Some(c) => w.write(0, &format!("Completions:\t{c}\n")),
        None => w.write(0, "Completions:\t<unset>\n"),
    }
    let mode = str_at(spec, &["completionMode"]);
    if !mode.is_empty() {
        w.write(0, &format!("Completion Mode:\t{mode}\n"));
    }
    if let Some(s) = spec["suspend"].as_bool() {
        w.write(0, &format!("Suspend:\t{s}\n"));
    }
    if let Some(b) = spec["backoffLimit"].as_i64() {
        w.write(0, &format!("Backoff Limit:\t{b}\n"));
    }
    if let Some(t) = spec["ttlSecondsAfterFinished"].as_i64() {
        w.write(0, &format!("TTL Seconds After Finished:\t{t}\n"));
    }
    let st = &j["status"];
    let start = str_at(st, &["startTime"]);
    let done = str_at(st, &["completionTime"]);
    if !start.is_empty() {
        w.write(0, &format!("Start Time:\t{}\n", rfc1123z(start)));
    }
    if !done.is_empty() {
        w.write(0, &format!("Completed At:\t{}\n", rfc1123z(done)));
    }
    if let (Some(a), Some(b)) = (parse_time(start), parse_time(done)) {
        w.write(
            0,
            &format!("Duration:\t{}\n", human_duration(b.as_second() - a.as_second())),
        );
    }
    if let Some(a) = spec["activeDeadlineSeconds"].as_i64() {
        w.write(0, &format!("Active Deadline Seconds:\t{a}s\n"));
    }
    let (active, succeeded, failed) = (
        int_at(st, &["active"]),
        int_at(st, &["succeeded"]),
        int_at(st, &["failed"]),
    );
    match st["ready"].as_i64() {
        None => w.write(
            0,
            &format!("Pods Statuses:\t{active} Active / {succeeded} Succeeded / {failed} Failed\n"),
        ),
        Some(r) => w.write(
            0,
            &format!("Pods Statuses:\t{active} Active ({r} Ready) / {succeeded} Succeeded / {failed} Failed\n"),
        ),
    }
    if mode == "Indexed" {
        let idx = str_at(st, &["completedIndexes"]);
        w.write(0, &format!("Completed Indexes:\t{}\n", cap_indexes(idx, 50)));
    }
    pod_template(&mut w, &spec["template"]);
    write_events(&mut w, events);
    w.finish()
}

fn cap_indexes(indexes: &str, soft: usize) -> String {
    if indexes.is_empty() {
        return "<none>".into();
    }
    let bytes = indexes.as_bytes();
    let mut ix = soft;
    while ix < bytes.len() && bytes[ix] != b',' {
        ix += 1;
    }
    if ix >= bytes.len() {
        return indexes.to_string();
    }
    format!("{}...", &indexes[..=ix])
}

pub async fn cron_job(ctx: &Ctx<'_>, cj: &Value) -> String {
    let events = events_for(ctx, cj, Some(kind_of(cj)), None).await;
    let mut w = PrefixWriter::new();
    header(&mut w, cj);
    labels_multiline(&mut w, "", "Labels", &cj["metadata"]["labels"]);
    annotations_multiline(&mut w, "Annotations", &cj["metadata"]["annotations"]);
    let spec = &cj["spec"];
    w.write(0, &format!("Schedule:\t{}\n", str_at(spec, &["schedule"])));
    w.write(
        0,
        &format!("Concurrency Policy:\t{}\n", str_at(spec, &["concurrencyPolicy"])),
    );
    let suspend = match spec["suspend"].as_bool() {
        Some(b) => super::print_bool(b),
        None => "<unset>",
    };
    w.write(0, &format!("Suspend:\t{suspend}\n"));
    let opt = |v: &Value, suffix: &str| match v.as_i64() {
        Some(n) => format!("{n}{suffix}"),
        None => "<unset>".into(),
    };
    if let Some(tz) = spec["timeZone"].as_str() {
        w.write(0, &format!("Time Zone:\t{tz}\n"));
    }
    w.write(
        0,
        &format!(
            "Successful Job History Limit:\t{}\n",
            opt(&spec["successfulJobsHistoryLimit"], "")
        ),
    );
    w.write(
        0,
        &format!(
            "Failed Job History Limit:\t{}\n",
            opt(&spec["failedJobsHistoryLimit"], "")
        ),
    );
    w.write(
        0,
        &format!(
            "Starting Deadline Seconds:\t{}\n",
            opt(&spec["startingDeadlineSeconds"], "s")
        ),
    );
    let jt = &spec["jobTemplate"]["spec"];
    if jt["selector"].is_object() {
        w.write(0, &format!("Selector:\t{}\n", format_selector(&jt["selector"], false)));
    } else {
        w.write(0, "Selector:\t<unset>\n");
    }
    w.write(0, &format!("Parallelism:\t{}\n", opt(&jt["parallelism"], "")));
    w.write(0, &format!("Completions:\t{}\n", opt(&jt["completions"], "")));
    if let Some(a) = jt["activeDeadlineSeconds"].as_i64() {
        w.write(0, &format!("Active Deadline Seconds:\t{a}s\n"));
    }
    pod_template(&mut w, &jt["template"]);
    let last = str_at(cj, &["status", "lastScheduleTime"]);
    if last.is_empty() {
        w.write(0, "Last Schedule Time:\t<unset>\n");
    } else {
        w.write(0, &format!("Last Schedule Time:\t{}\n", rfc1123z(last)));
    }
    w.write(0, "Active Jobs:\t");
    let active = arr_at(cj, &["status", "active"]);
    if active.is_empty() {
        w.line("<none>");
    } else {
        let names: Vec<&str> = active.iter().map(|j| str_at(j, &["name"])).collect();
        w.line(&names.join(", "));
    }
    write_events(&mut w, events);
    w.finish()
}

pub async fn replication_controller(ctx: &Ctx<'_>, rc: &Value) -> String {
    let selector = format_labels(&rc["spec"]["selector"]);
    let counts = pod_counts(ctx, rc, if selector == "<none>" { "" } else { &selector }).await;
    let (r, wa, s, f) = counts.unwrap_or_default();
    let events = events_for(ctx, rc, Some(kind_of(rc)), None).await;
    let mut w = PrefixWriter::new();
    header(&mut w, rc);
    w.write(0, &format!("Selector:\t{selector}\n"));
    labels_multiline(&mut w, "", "Labels", &rc["metadata"]["labels"]);
    annotations_multiline(&mut w, "Annotations", &rc["metadata"]["annotations"]);
    w.write(
        0,
        &format!(
            "Replicas:\t{} current / {} desired\n",
            int_at(rc, &["status", "replicas"]),
            int_at(rc, &["spec", "replicas"])
        ),
    );
    w.write(
        0,
        &format!("Pods Status:\t{r} Running / {wa} Waiting / {s} Succeeded / {f} Failed\n"),
    );
    if rc["spec"]["template"].is_object() {
        pod_template(&mut w, &rc["spec"]["template"]);
    } else {
        w.write(0, "Pod Template:\n");
        w.write(1, "<unset>");
    }
    conditions_type_status_reason(&mut w, arr_at(rc, &["status", "conditions"]));
    write_events(&mut w, events);
    w.finish()
}
