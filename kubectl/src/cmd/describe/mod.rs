//! `kubectl describe`: finds the objects as upstream's builder does (TYPE, TYPE NAME, TYPE/NAME,
//! a name prefix, `-l`, `-A`), picks a describer per kind and prints upstream's layout through
//! the prefix writer below (two spaces per level, Go tabwriter alignment with padding 2).

mod config;
mod generic;
mod nodes;
pub mod pods;
mod policy;
mod rbac;
mod services;
mod storage;
mod workloads;

use super::Session;
use crate::Output;
use crate::cli::{DescribeArgs, GlobalArgs};
use crate::discovery::Resource;
use crate::error::CmdError;
use crate::http::{self, ACCEPT_JSON};
use crate::printers::tabwriter::align_with;
use crate::resources;
use serde_json::Value;

/// What every describer may need: the session (for related objects and events) and flags.
pub struct Ctx<'a> {
    pub session: &'a Session,
    pub show_events: bool,
    pub chunk_size: i64,
}

pub async fn run(g: &GlobalArgs, a: DescribeArgs, out: &mut Output) -> Result<i32, CmdError> {
    if a.args.is_empty() {
        return Err(CmdError::msg(
            "You must specify the type of resource to describe. Use \"kubectl api-resources\" for a complete list of supported resources.",
        ));
    }
    let pairs = resources::split_args(&a.args)?;
    let mut s = Session::open(g, "kubectl describe").await?;
    let targets = match resources::resolve_all(s.discovery(false).await?, &pairs) {
        Ok(t) => t,
        Err(_) => {
            let d = s.discovery(true).await?;
            resources::resolve_all(d, &pairs)
                .map_err(|t| CmdError::msg(format!("the server doesn't have a resource type \"{t}\"")))?
        }
    };
    let all_ns = a.all_namespaces == Some(true);
    let ns = s.conn.namespace.clone();
    let list_ns = if all_ns { None } else { Some(ns.as_str()) };
    let ctx = Ctx {
        session: &s,
        show_events: a.show_events,
        chunk_size: a.chunk_size,
    };
    let mut infos: Vec<(Resource, Value)> = Vec::new();
    let mut errors: Vec<CmdError> = Vec::new();
    for t in &targets {
        let r = &t.resource;
        if t.names.is_empty() {
            match list(&ctx, r, list_ns, a.selector.as_deref()).await {
                Ok(items) => infos.extend(items.into_iter().map(|o| (r.clone(), o))),
                Err(e) => errors.push(e),
            }
            continue;
        }
        for name in &t.names {
            let path = format!("{}/{}", r.path(Some(&ns)), encode(name));
            match get_json(&ctx, &path).await {
                Ok(v) => infos.push((r.clone(), v)),
                Err(e) => errors.push(e),
            }
        }
    }
    // `describe TYPE PREFIX`: a name that is not found is taken as a prefix.
    if a.args.len() == 2
        && !a.args[0].contains('/')
        && targets.len() == 1
        && errors.len() == 1
        && errors[0].is_not_found()
    {
        let r = &targets[0].resource;
        let prefix = &a.args[1];
        let items = list(&ctx, r, list_ns, a.selector.as_deref()).await?;
        let mut found = false;
        for o in items {
            if str_at(&o, &["metadata", "name"]).starts_with(prefix.as_str()) {
                found = true;
                let text = describe(&ctx, r, &o).await?;
                out.stdout.push_str(&text);
                out.stdout.push('\n');
            }
        }
        if found {
            return Ok(0);
        }
        out.stderr.push_str(&format!("{}\n", errors[0]));
        return Ok(1);
    }
    let mut first = true;
    for (r, o) in &infos {
        let text = describe(&ctx, r, o).await?;
        if first {
            first = false;
        } else {
            out.stdout.push_str("\n\n");
        }
        out.stdout.push_str(&text);
    }
    if infos.is_empty() && errors.is_empty() {
        if all_ns {
            out.stderr.push_str("No resources found\n");
        } else {
            out.stderr.push_str(&format!("No resources found in {ns} namespace.\n"));
        }
    }
    if errors.is_empty() {
        return Ok(0);
    }
    for e in &errors {
        out.stderr.push_str(&format!("{e}\n"));
    }
    Ok(1)
}

/// The describer for one object, chosen by group and kind as upstream's describer map does.
async fn describe(ctx: &Ctx<'_>, r: &Resource, o: &Value) -> Result<String, CmdError> {
    Ok(match (r.group.as_str(), r.kind.as_str()) {
        ("", "Pod") => pods::pod(ctx, o).await,
        ("apps", "Deployment") => workloads::deployment(ctx, o).await,
        ("apps", "ReplicaSet") => workloads::replica_set(ctx, o).await,
        ("", "ReplicationController") => workloads::replication_controller(ctx, o).await,
        ("apps", "DaemonSet") => workloads::daemon_set(ctx, o).await,
        ("apps", "StatefulSet") => workloads::stateful_set(ctx, o).await,
        ("batch", "Job") => workloads::job(ctx, o).await,
        ("batch", "CronJob") => workloads::cron_job(ctx, o).await,
        ("", "Service") => services::service(ctx, o).await,
        ("", "Endpoints") => services::endpoints(ctx, o).await,
        ("networking.k8s.io", "Ingress") => services::ingress(ctx, o).await,
        ("", "Node") => nodes::node(ctx, o).await,
        ("", "Namespace") => nodes::namespace(ctx, o).await,
        ("", "ConfigMap") => config::config_map(ctx, o).await,
        ("", "Secret") => config::secret(o),
        ("", "ServiceAccount") => config::service_account(ctx, o).await,
        ("rbac.authorization.k8s.io", "Role" | "ClusterRole") => rbac::role(o),
        ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => rbac::binding(o),
        ("", "PersistentVolumeClaim") => storage::pvc(ctx, o).await,
        ("", "PersistentVolume") => storage::pv(ctx, o).await,
        ("storage.k8s.io", "StorageClass") => storage::storage_class(ctx, o).await,
        ("policy", "PodDisruptionBudget") => policy::pdb(ctx, o).await,
        ("scheduling.k8s.io", "PriorityClass") => policy::priority_class(ctx, o).await,
        ("networking.k8s.io", "IngressClass") => policy::ingress_class(ctx, o).await,
        ("discovery.k8s.io", "EndpointSlice") => policy::endpoint_slice(ctx, o).await,
        ("", "LimitRange") => policy::limit_range(o),
        ("networking.k8s.io", "NetworkPolicy") => policy::network_policy(o),
        ("", "ResourceQuota") => policy::resource_quota(o),
        ("autoscaling", "HorizontalPodAutoscaler") if r.version == "v2" => policy::hpa(ctx, o).await,
        _ => generic::describe(ctx, r, o).await,
    })
}

fn encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

async fn get_json(ctx: &Ctx<'_>, path: &str) -> Result<Value, CmdError> {
    let reply = http::get(ctx.session.client(), path, ACCEPT_JSON).await?;
    serde_json::from_slice(&reply.body).map_err(|e| CmdError::msg(e.to_string()))
}

/// Lists every page of `r` (limit/continue by `--chunk-size`), items with kind filled in.
pub async fn list(
    ctx: &Ctx<'_>,
    r: &Resource,
    ns: Option<&str>,
    selector: Option<&str>,
) -> Result<Vec<Value>, CmdError> {
    list_path(ctx, &r.path(ns), selector, None).await
}

/// Lists every page of a collection path with optional label and field selectors.
pub async fn list_path(
    ctx: &Ctx<'_>,
    base: &str,
    labels: Option<&str>,
    fields: Option<&str>,
) -> Result<Vec<Value>, CmdError> {
    let mut out = Vec::new();
    let mut cont: Option<String> = None;
    loop {
        let mut q = form_urlencoded::Serializer::new(String::new());
        if let Some(l) = labels.filter(|l| !l.is_empty()) {
            q.append_pair("labelSelector", l);
        }
        if let Some(f) = fields {
            q.append_pair("fieldSelector", f);
        }
        if ctx.chunk_size > 0 {
            q.append_pair("limit", &ctx.chunk_size.to_string());
        }
        if let Some(c) = &cont {
            q.append_pair("continue", c);
        }
        let query = q.finish();
        let path = if query.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{query}")
        };
        let page = get_json(ctx, &path).await?;
        out.extend(super::get::list_items(&page));
        cont = page["metadata"]["continue"]
            .as_str()
            .filter(|c| !c.is_empty())
            .map(str::to_string);
        if cont.is_none() {
            break;
        }
    }
    Ok(out)
}

/// Events about an object, found by upstream's `involvedObject.*` field selector.
/// `kind` is None for pods (upstream clears it); `uid` may be overridden (node name).
pub async fn events_for(ctx: &Ctx<'_>, o: &Value, kind: Option<&str>, uid: Option<&str>) -> Option<Vec<Value>> {
    if !ctx.show_events {
        return None;
    }
    let name = str_at(o, &["metadata", "name"]);
    let ns = str_at(o, &["metadata", "namespace"]);
    let uid = uid.unwrap_or_else(|| str_at(o, &["metadata", "uid"]));
    // fields.Set sorts its keys.
    let mut sel = Vec::new();
    if let Some(k) = kind.filter(|k| !k.is_empty()) {
        sel.push(format!("involvedObject.kind={k}"));
    }
    sel.push(format!("involvedObject.name={name}"));
    sel.push(format!("involvedObject.namespace={ns}"));
    if !uid.is_empty() {
        sel.push(format!("involvedObject.uid={uid}"));
    }
    let base = if ns.is_empty() {
        "/api/v1/events".to_string()
    } else {
        format!("/api/v1/namespaces/{ns}/events")
    };
    Some(
        list_path(ctx, &base, None, Some(&sel.join(",")))
            .await
            .unwrap_or_default(),
    )
}

/// The kind of an object as its reference names it.
pub fn kind_of(o: &Value) -> &str {
    o["kind"].as_str().unwrap_or_default()
}

/// The Events section (upstream's DescribeEvents).
pub fn write_events(w: &mut PrefixWriter, events: Option<Vec<Value>>) {
    let Some(mut events) = events else { return };
    if events.is_empty() {
        w.write(0, "Events:\t<none>\n");
        return;
    }
    w.flush();
    events.sort_by(|a, b| {
        let t = |e: &Value| parse_time(e["lastTimestamp"].as_str().unwrap_or_default());
        t(a).cmp(&t(b))
    });
    w.write(0, "Events:\n  Type\tReason\tAge\tFrom\tMessage\n");
    w.write(1, "----\t------\t----\t----\t-------\n");
    for e in &events {
        let event_time = str_at(e, &["eventTime"]);
        let first = if event_time.is_empty() {
            since(str_at(e, &["firstTimestamp"]))
        } else {
            since(event_time)
        };
        let count = e["count"].as_i64().unwrap_or(0);
        let interval = if e.get("series").is_some_and(|s| s.is_object()) {
            format!(
                "{} (x{} over {first})",
                since(str_at(e, &["series", "lastObservedTime"])),
                e["series"]["count"].as_i64().unwrap_or(0)
            )
        } else if count > 1 {
            format!("{} (x{count} over {first})", since(str_at(e, &["lastTimestamp"])))
        } else {
            first
        };
        let mut source = str_at(e, &["source", "component"]);
        if source.is_empty() {
            source = str_at(e, &["reportingComponent"]);
        }
        w.write(
            1,
            &format!(
                "{}\t{}\t{}\t{}\t{}\n",
                str_at(e, &["type"]),
                str_at(e, &["reason"]),
                interval,
                source,
                str_at(e, &["message"]).trim()
            ),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The prefix writer and Go's text/tabwriter as describe configures it (minwidth 0, padding 2).

/// Text written at indentation levels (two spaces each), aligned on tabs when finished.
#[derive(Default)]
pub struct PrefixWriter {
    done: String,
    pending: String,
}

impl PrefixWriter {
    pub fn new() -> PrefixWriter {
        PrefixWriter::default()
    }

    /// Writes `text` after `level` indentation steps.
    pub fn write(&mut self, level: usize, text: &str) {
        for _ in 0..level {
            self.pending.push_str("  ");
        }
        self.pending.push_str(text);
    }

    /// Writes `text` and a newline with no indentation (upstream's WriteLine).
    pub fn line(&mut self, text: &str) {
        self.pending.push_str(text);
        self.pending.push('\n');
    }

    /// Aligns what was written so far; later text starts new column blocks.
    pub fn flush(&mut self) {
        let text = std::mem::take(&mut self.pending);
        self.done.push_str(&align_with(&text, 0, 2));
    }

    pub fn finish(mut self) -> String {
        self.flush();
        self.done
    }

    /// Everything written, with the unflushed part left unaligned (upstream prints some
    /// templates through a plain prefix writer, tabs and all).
    pub fn unaligned(self) -> String {
        self.done + &self.pending
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers shared by the describers.

/// The string at `path` ("" when absent or not a string).
pub fn str_at<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    at(v, path).as_str().unwrap_or_default()
}

/// The value at `path` (Null when absent).
pub fn at<'a>(v: &'a Value, path: &[&str]) -> &'a Value {
    let mut cur = v;
    for p in path {
        match cur.get(p) {
            Some(n) => cur = n,
            None => return &Value::Null,
        }
    }
    cur
}

/// An integer at `path`, 0 when absent.
pub fn int_at(v: &Value, path: &[&str]) -> i64 {
    at(v, path).as_i64().unwrap_or(0)
}

/// An array at `path` (empty when absent).
pub fn arr_at<'a>(v: &'a Value, path: &[&str]) -> &'a [Value] {
    at(v, path).as_array().map(Vec::as_slice).unwrap_or_default()
}

/// Go's `%v` of a scalar JSON value.
pub fn plain(v: &Value) -> String {
    crate::printers::go_sprint(v)
}

/// A `map[string]string` as sorted pairs.
pub fn string_map(v: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = v
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_str().map(str::to_string).unwrap_or_else(|| plain(v))))
        .collect();
    out.sort();
    out
}

/// upstream's printLabelsMultilineWithIndent.
pub fn labels_multiline(w: &mut PrefixWriter, indent: &str, title: &str, labels: &Value) {
    w.write(0, &format!("{indent}{title}:\t"));
    let pairs = string_map(labels);
    if pairs.is_empty() {
        w.line("<none>");
        return;
    }
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i != 0 {
            w.write(0, indent);
            w.write(0, "\t");
        }
        w.write(0, &format!("{k}={v}\n"));
    }
}

const MAX_ANNOTATION_LEN: usize = 140;

/// upstream's printAnnotationsMultiline (skips the last-applied-configuration annotation).
pub fn annotations_multiline(w: &mut PrefixWriter, title: &str, annotations: &Value) {
    w.write(0, &format!("{title}:\t"));
    let pairs: Vec<(String, String)> = string_map(annotations)
        .into_iter()
        .filter(|(k, _)| k != "kubectl.kubernetes.io/last-applied-configuration")
        .collect();
    if pairs.is_empty() {
        w.line("<none>");
        return;
    }
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i != 0 {
            w.write(0, "\t");
        }
        let value = v.strip_suffix('\n').unwrap_or(v);
        if value.len() + k.len() + 2 > MAX_ANNOTATION_LEN || value.contains('\n') {
            w.write(0, &format!("{k}:\n"));
            for s in value.split('\n') {
                w.write(0, &format!("\t  {}\n", shorten(s, MAX_ANNOTATION_LEN - 2)));
            }
        } else {
            w.write(0, &format!("{k}: {value}\n"));
        }
    }
}

fn shorten(s: &str, max: usize) -> String {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}...", &s[..cut])
    } else {
        s.to_string()
    }
}

/// `k=v,k2=v2` sorted (labels.FormatLabels), `<none>` when empty.
pub fn format_labels(v: &Value) -> String {
    let pairs = string_map(v);
    if pairs.is_empty() {
        return "<none>".into();
    }
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// A LabelSelector as a selector string (metav1.LabelSelectorAsSelector(...).String()):
/// requirements sorted by key; `<none>` for an empty selector when `none_if_empty`.
pub fn format_selector(sel: &Value, none_if_empty: bool) -> String {
    let mut reqs: Vec<(String, String)> = Vec::new();
    for (k, v) in string_map(&sel["matchLabels"]) {
        reqs.push((k.clone(), format!("{k}={v}")));
    }
    for e in arr_at(sel, &["matchExpressions"]) {
        let key = str_at(e, &["key"]).to_string();
        let mut values: Vec<String> = arr_at(e, &["values"]).iter().map(plain).collect();
        values.sort();
        let text = match str_at(e, &["operator"]) {
            "In" => format!("{key} in ({})", values.join(",")),
            "NotIn" => format!("{key} notin ({})", values.join(",")),
            "Exists" => key.clone(),
            "DoesNotExist" => format!("!{key}"),
            _ => key.clone(),
        };
        reqs.push((key, text));
    }
    reqs.sort_by(|a, b| a.0.cmp(&b.0));
    if reqs.is_empty() {
        return if none_if_empty { "<none>".into() } else { String::new() };
    }
    reqs.into_iter().map(|(_, t)| t).collect::<Vec<_>>().join(",")
}

/// Parses an RFC 3339 time.
pub fn parse_time(s: &str) -> Option<jiff::Timestamp> {
    s.parse::<jiff::Timestamp>().ok()
}

/// A time as Go's RFC1123Z in the local zone: `Mon, 02 Jan 2006 15:04:05 -0700`.
pub fn rfc1123z(s: &str) -> String {
    match parse_time(s) {
        Some(t) => format_rfc1123z(t, &jiff::tz::TimeZone::system()),
        // Go formats the zero time.
        None => "Mon, 01 Jan 0001 00:00:00 +0000".into(),
    }
}

pub fn format_rfc1123z(t: jiff::Timestamp, tz: &jiff::tz::TimeZone) -> String {
    t.to_zoned(tz.clone()).strftime("%a, %d %b %Y %H:%M:%S %z").to_string()
}

/// Time since `s` as upstream's translateTimestampSince (`<unknown>` when unset).
pub fn since(s: &str) -> String {
    match parse_time(s) {
        Some(t) => {
            let secs = jiff::Timestamp::now().as_second() - t.as_second();
            human_duration(secs)
        }
        None => "<unknown>".into(),
    }
}

/// apimachinery's duration.HumanDuration, from whole seconds.
pub fn human_duration(secs: i64) -> String {
    if secs < -1 {
        return "<invalid>".into();
    }
    if secs < 0 {
        return "0s".into();
    }
    if secs < 120 {
        return format!("{secs}s");
    }
    let minutes = secs / 60;
    if minutes < 10 {
        let s = secs % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = secs / 3600;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        return if dy == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{dy}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
}

/// `Kind/name` of the controller owner reference, if any.
pub fn controlled_by(o: &Value) -> Option<String> {
    arr_at(o, &["metadata", "ownerReferences"])
        .iter()
        .find(|r| r["controller"].as_bool() == Some(true))
        .map(|r| format!("{}/{}", str_at(r, &["kind"]), str_at(r, &["name"])))
}

/// Go's `%v` of a string slice: `[a b c]`.
pub fn go_slice(v: &Value) -> String {
    let items: Vec<String> = v.as_array().into_iter().flatten().map(plain).collect();
    format!("[{}]", items.join(" "))
}

/// "True"/"False" as upstream's printBool.
pub fn print_bool(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn prefix_writer_levels_and_alignment() {
        let mut w = PrefixWriter::new();
        w.write(0, "Name:\tweb\n");
        w.write(0, "Namespace:\tshop\n");
        w.write(1, "Image:\tnginx\n");
        w.write(0, "Pod Template:\n");
        w.write(0, "Labels:\tapp=web\n");
        assert_eq!(
            w.finish(),
            "Name:       web\nNamespace:  shop\n  Image:    nginx\nPod Template:\nLabels:  app=web\n"
        );
    }

    #[test]
    fn flush_starts_new_blocks() {
        let mut w = PrefixWriter::new();
        w.write(0, "A long title:\tx\n");
        w.flush();
        w.write(0, "B:\ty\n");
        assert_eq!(w.finish(), "A long title:  x\nB:  y\n");
    }

    #[test]
    fn labels_and_annotations() {
        let mut w = PrefixWriter::new();
        w.write(0, "Name:\tx\n");
        labels_multiline(&mut w, "", "Labels", &json!({"b": "2", "a": "1"}));
        annotations_multiline(&mut w, "Annotations", &json!({}));
        assert_eq!(
            w.finish(),
            "Name:         x\nLabels:       a=1\n              b=2\nAnnotations:  <none>\n"
        );
    }

    #[test]
    fn events_table() {
        let mut w = PrefixWriter::new();
        w.write(0, "Name:\tweb\n");
        write_events(&mut w, Some(Vec::new()));
        assert_eq!(w.finish(), "Name:    web\nEvents:  <none>\n");

        let now = jiff::Timestamp::now();
        let ago = |s: i64| (now - jiff::SignedDuration::from_secs(s)).to_string();
        let events = vec![
            json!({"type": "Normal", "reason": "Pulled", "message": " done \n", "count": 3,
                   "firstTimestamp": ago(600), "lastTimestamp": ago(30), "source": {"component": "kubelet"}}),
            json!({"type": "Warning", "reason": "Failed", "message": "oops", "count": 1,
                   "firstTimestamp": ago(900), "lastTimestamp": ago(900), "reportingComponent": "ctl"}),
        ];
        let mut w = PrefixWriter::new();
        w.write(0, "Name:\tweb\n");
        write_events(&mut w, Some(events));
        assert_eq!(
            w.finish(),
            "Name:  web\nEvents:\n  Type     Reason  Age                From     Message\n  ----     ------  ----               ----     -------\n  Warning  Failed  15m                ctl      oops\n  Normal   Pulled  30s (x3 over 10m)  kubelet  done\n"
        );
        let mut w = PrefixWriter::new();
        write_events(&mut w, None);
        assert_eq!(w.finish(), "");
    }

    #[test]
    fn trailing_cells_keep_their_spaces() {
        assert_eq!(
            align_with("  Ready \tTrue \n  PodScheduled \tTrue \n", 0, 2),
            "  Ready          True \n  PodScheduled   True \n"
        );
    }

    #[test]
    fn durations() {
        assert_eq!(human_duration(5), "5s");
        assert_eq!(human_duration(119), "119s");
        assert_eq!(human_duration(150), "2m30s");
        assert_eq!(human_duration(600), "10m");
        assert_eq!(human_duration(3 * 3600 + 60), "3h1m");
        assert_eq!(human_duration(50 * 3600), "2d2h");
        assert_eq!(human_duration(-5), "<invalid>");
    }

    #[test]
    fn times() {
        let t: jiff::Timestamp = "2006-01-02T22:04:05Z".parse().expect("time");
        let tz = jiff::tz::TimeZone::fixed(jiff::tz::offset(-7));
        assert_eq!(format_rfc1123z(t, &tz), "Mon, 02 Jan 2006 15:04:05 -0700");
        assert_eq!(
            format_rfc1123z(t, &jiff::tz::TimeZone::UTC),
            "Mon, 02 Jan 2006 22:04:05 +0000"
        );
    }

    #[test]
    fn selectors() {
        let sel = json!({"matchLabels": {"b": "2", "a": "1"}, "matchExpressions": [{"key": "c", "operator": "In", "values": ["y", "x"]}]});
        assert_eq!(format_selector(&sel, true), "a=1,b=2,c in (x,y)");
        assert_eq!(format_selector(&json!({}), true), "<none>");
        assert_eq!(format_labels(&json!({"z": "1", "a": "2"})), "a=2,z=1");
    }
}
