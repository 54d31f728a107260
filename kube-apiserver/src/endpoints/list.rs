//! LIST and WATCH: selectors, resourceVersion semantics (from the watch cache or, for
//! paging and exact reads, from storage), continue tokens, and the watch event stream.

use super::negotiate::{Encoding, View};
use super::{Body, Ctx, respond, respond_value, table};
use crate::cacher::{CacheEvent, Cached, EventType, WatchStart, cached};
use crate::errors::{ApiError, ApiResult, FieldError};
use crate::registry::convert::to_version;
use crate::registry::fields;
use crate::registry::meta;
use crate::registry::resources::ResourceInfo;
use crate::registry::store::Store;
use crate::state::Api;
use api_types::fields::FieldSelector;
use api_types::labels::Selector;
use base64::Engine;
use bytes::Bytes;
use futures::StreamExt;
use http::Response;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// How long a consistent list waits for the cache before reading storage instead.
const CONSISTENT_WAIT: Duration = Duration::from_millis(250);
const BOOKMARK_EVERY: Duration = Duration::from_secs(60);

/// Label and field selectors of a request.
pub struct Filter {
    labels: Selector,
    fields: FieldSelector,
}

impl Filter {
    pub fn from_query(info: &ResourceInfo, q: &super::request::Query) -> ApiResult<Filter> {
        let labels = Selector::parse(q.str("labelSelector"))
            .map_err(|e| ApiError::bad_request(format!("unable to parse requirement: {e}")))?;
        let fields = FieldSelector::parse(q.str("fieldSelector")).map_err(|e| ApiError::bad_request(e.to_string()))?;
        for t in &fields.terms {
            if !fields::supports(info, &t.field) {
                return Err(ApiError::bad_request(format!("field label not supported: {}", t.field)));
            }
        }
        Ok(Filter { labels, fields })
    }

    pub fn matches(&self, info: &ResourceInfo, obj: &Value) -> bool {
        self.labels.matches_json(obj.pointer("/metadata/labels"))
            && self.fields.matches(|f| fields::value(info, obj, f))
    }
}

/// The list response for `items` (in storage form). The common case, a JSON list in the
/// storage version, is assembled from each object's cached JSON without re-serializing.
pub fn list_response(ctx: &Ctx, items: &[Arc<Cached>], metadata: Value) -> Response<Body> {
    let api_version = ctx.api_version();
    // Resources that share storage (core and events.k8s.io Events) hold objects written in
    // either version, so each object's own version decides.
    let same_version = ctx.info.storage_api_version() == api_version
        && items
            .iter()
            .all(|o| o.value.get("apiVersion").and_then(Value::as_str) == Some(api_version.as_str()));
    if ctx.output.view == View::Object && ctx.output.encoding == (Encoding::Json { pretty: false }) && same_version {
        let head = format!(
            "{{\"kind\":\"{}List\",\"apiVersion\":\"{api_version}\",\"metadata\":{},\"items\":[",
            ctx.info.kind, metadata
        );
        let size = head.len() + items.iter().map(|o| o.json.len() + 1).sum::<usize>() + 3;
        let mut out = Vec::with_capacity(size);
        out.extend_from_slice(head.as_bytes());
        for (i, o) in items.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(&o.json);
        }
        out.extend_from_slice(b"]}\n");
        return respond(200, super::negotiate::JSON, Bytes::from(out));
    }
    respond_value(200, &list_object(ctx, items, metadata), ctx.output.encoding)
}

/// The list object for `items`, in the request's version and view.
fn list_object(ctx: &Ctx, items: &[Arc<Cached>], metadata: Value) -> Value {
    let api_version = ctx.api_version();
    let items: Vec<Value> = items
        .iter()
        .map(|o| to_version(o.value.clone(), ctx.info.kind, &api_version))
        .collect();
    match ctx.output.view {
        View::Table => table::for_objects(ctx, &items, metadata),
        View::PartialMetadata => json!({
            "kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1", "metadata": metadata,
            "items": items.iter().map(table::partial_metadata).collect::<Vec<_>>(),
        }),
        View::Object => {
            json!({"kind": format!("{}List", ctx.info.kind), "apiVersion": api_version, "metadata": metadata, "items": items})
        }
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct ContinueToken {
    v: String,
    rv: i64,
    start: String,
}

fn encode_continue(rv: i64, start: &str) -> String {
    let tok = ContinueToken {
        v: "meta.k8s.io/v1".into(),
        rv,
        start: start.into(),
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(&tok).unwrap_or_default())
}

fn decode_continue(s: &str) -> ApiResult<ContinueToken> {
    let bad = || ApiError::bad_request(format!("continue key is not valid: {s}"));
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .map_err(|_| bad())?;
    let tok: ContinueToken = serde_json::from_slice(&raw).map_err(|_| bad())?;
    if tok.v != "meta.k8s.io/v1" || tok.start.contains("..") {
        return Err(bad());
    }
    Ok(tok)
}

fn parse_rv(s: &str) -> ApiResult<i64> {
    s.parse::<i64>()
        .map_err(|_| ApiError::bad_request(format!("invalid resource version: {s}")))
}

fn options_error(field: &str, detail: &str, value: Option<&str>) -> ApiError {
    let e = match value {
        Some(v) => FieldError::invalid(field, v, detail),
        None => FieldError::forbidden(field, detail),
    };
    ApiError::invalid_options("ListOptions", &[e])
}

/// `within` for a namespace: the key prefix of its objects.
fn within(ns: Option<&str>) -> String {
    ns.map(|n| format!("{n}/")).unwrap_or_default()
}

/// A consistent snapshot from the watch cache, or from storage when the cache lags.
pub async fn consistent_snapshot(api: &Api, store: &Store, ns: Option<&str>) -> ApiResult<(Vec<Arc<Cached>>, i64)> {
    let current = api
        .backend
        .current_revision()
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    if store.cacher.wait_for_within(current, CONSISTENT_WAIT).await.is_ok() {
        return Ok(store.cacher.list(&within(ns)));
    }
    let (page, objs) = store.list_storage(&within(ns), "", 0, 0).await?;
    Ok((objs.into_iter().map(cached).collect(), page.revision))
}

pub async fn list(api: &Api, store: &Store, ctx: Ctx) -> ApiResult<Response<Body>> {
    let q = &ctx.query;
    let info = ctx.info;
    let filter = Filter::from_query(info, q)?;
    let rv = q.str("resourceVersion").to_string();
    let rvm = q.str("resourceVersionMatch").to_string();
    let limit: usize = match q.get("limit") {
        Some(l) => l
            .parse::<i64>()
            .map_err(|_| ApiError::bad_request(format!("invalid limit: {l}")))?
            .max(0) as usize,
        None => 0,
    };
    let cont = q.str("continue").to_string();
    if !rvm.is_empty() && rv.is_empty() {
        return Err(options_error(
            "resourceVersionMatch",
            "resourceVersionMatch is forbidden unless resourceVersion is provided",
            None,
        ));
    }
    if !matches!(rvm.as_str(), "" | "NotOlderThan" | "Exact") {
        return Err(ApiError::invalid_options(
            "ListOptions",
            &[FieldError::not_supported(
                "resourceVersionMatch",
                rvm.as_str(),
                &["Exact", "NotOlderThan", ""],
            )],
        ));
    }
    if q.flag("sendInitialEvents") {
        return Err(options_error(
            "sendInitialEvents",
            "sendInitialEvents is forbidden for list",
            None,
        ));
    }
    if !cont.is_empty() && !rv.is_empty() && rv != "0" {
        return Err(options_error(
            "resourceVersion",
            "specifying resource version is not allowed when using continue",
            None,
        ));
    }
    if rvm == "Exact" && rv == "0" {
        return Err(options_error(
            "resourceVersionMatch",
            "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"",
            None,
        ));
    }
    let ns = ctx.namespace();
    // Upstream serves from storage: continuations, limits (except at "0") and exact reads.
    let from_storage = !cont.is_empty() || (limit > 0 && rv != "0") || rvm == "Exact";
    let (items, metadata) = if from_storage {
        let revision = if !cont.is_empty() {
            0
        } else if rvm == "Exact" || (!rv.is_empty() && rv != "0") {
            parse_rv(&rv)?
        } else {
            0
        };
        list_from_storage(store, &ctx, &filter, revision, limit, &cont).await?
    } else {
        let (items, rev) = match rv.as_str() {
            "" => consistent_snapshot(api, store, ns).await?,
            "0" => store.cacher.list(&within(ns)),
            n => {
                store.cacher.wait_for(parse_rv(n)?).await?;
                store.cacher.list(&within(ns))
            }
        };
        let items = items.into_iter().filter(|o| filter.matches(info, o)).collect();
        (items, json!({"resourceVersion": rev.to_string()}))
    };
    Ok(list_response(&ctx, &items, metadata))
}

/// Pages through storage until `limit` objects match, then returns a continue token.
async fn list_from_storage(
    store: &Store,
    ctx: &Ctx,
    filter: &Filter,
    revision: i64,
    limit: usize,
    cont: &str,
) -> ApiResult<(Vec<Arc<Cached>>, Value)> {
    let ns_within = within(ctx.namespace());
    let (mut rev, mut start) = (revision, String::new());
    if !cont.is_empty() {
        let tok = decode_continue(cont)?;
        rev = tok.rv;
        start = format!("{ns_within}{}", tok.start);
    }
    let mut out = Vec::new();
    let mut remaining;
    loop {
        let want = if limit == 0 { 0 } else { limit - out.len() };
        let (page, objs) = store
            .list_storage(&ns_within, &start, rev, want.max(if limit == 0 { 0 } else { 1 }))
            .await?;
        rev = page.revision;
        remaining = page.remaining;
        let last_key = objs.last().map(|o| store.relative_key(o));
        out.extend(objs.into_iter().filter(|o| filter.matches(ctx.info, o)).map(cached));
        match last_key {
            Some(k) if remaining > 0 && (limit == 0 || out.len() < limit) => start = format!("{k}\u{0}"),
            Some(k) => {
                start = format!("{k}\u{0}");
                break;
            }
            None => break,
        }
    }
    let mut metadata = json!({"resourceVersion": rev.to_string()});
    if limit > 0 && remaining > 0 {
        let rel = start.strip_prefix(&ns_within).unwrap_or(&start).to_string();
        metadata["continue"] = json!(encode_continue(rev, &rel));
        if filter.labels.is_empty() && filter.fields.is_empty() {
            metadata["remainingItemCount"] = json!(remaining);
        }
    }
    Ok((out, metadata))
}

/// What one watcher sees of a cache event, given its selectors: transitions into and out
/// of the selection become ADDED and DELETED.
fn visible(ev: &CacheEvent, ns_prefix: &str, filter: &Filter, info: &ResourceInfo) -> Option<(EventType, Arc<Cached>)> {
    if !ev.key.starts_with(ns_prefix) {
        return None;
    }
    let now = filter.matches(info, &ev.object);
    let before = ev.prev.as_ref().is_some_and(|p| filter.matches(info, p));
    match ev.kind {
        EventType::Added if now => Some((EventType::Added, ev.object.clone())),
        EventType::Modified if now && before => Some((EventType::Modified, ev.object.clone())),
        EventType::Modified if now => Some((EventType::Added, ev.object.clone())),
        EventType::Modified if before => Some((EventType::Deleted, ev.object.clone())),
        EventType::Deleted if before || now => Some((EventType::Deleted, ev.object.clone())),
        _ => None,
    }
}

/// Renders one watch event line.
struct EventEncoder {
    ctx_view: View,
    kind: &'static str,
    api_version: String,
    columns_sent: bool,
    /// The request's version is the storage version: cached JSON can be sent as is.
    same_version: bool,
    info: &'static ResourceInfo,
}

impl EventEncoder {
    fn line(&mut self, ty: &str, cached: &Cached) -> Bytes {
        if self.ctx_view == View::Object && self.same_version {
            // The object's JSON is serialized once in the cache and shared by all watchers.
            let mut b = Vec::with_capacity(cached.json.len() + ty.len() + 24);
            b.extend_from_slice(b"{\"type\":\"");
            b.extend_from_slice(ty.as_bytes());
            b.extend_from_slice(b"\",\"object\":");
            b.extend_from_slice(&cached.json);
            b.extend_from_slice(b"}\n");
            return Bytes::from(b);
        }
        let obj = to_version(cached.value.clone(), self.kind, &self.api_version);
        let object = match self.ctx_view {
            View::Object => obj,
            View::PartialMetadata => table::partial_metadata(&obj),
            View::Table => {
                let t = table::build(
                    self.info,
                    std::slice::from_ref(&obj),
                    json!({"resourceVersion": meta::resource_version(&obj)}),
                    !self.columns_sent,
                );
                self.columns_sent = true;
                t
            }
        };
        let mut b = serde_json::to_vec(&json!({"type": ty, "object": object})).unwrap_or_default();
        b.push(b'\n');
        Bytes::from(b)
    }

    fn bookmark(&self, rv: i64, initial_end: bool) -> Bytes {
        let mut metadata = json!({"resourceVersion": rv.to_string(), "creationTimestamp": null});
        if initial_end {
            metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        let obj = json!({"kind": self.kind, "apiVersion": self.api_version, "metadata": metadata});
        let mut b = serde_json::to_vec(&json!({"type": "BOOKMARK", "object": obj})).unwrap_or_default();
        b.push(b'\n');
        Bytes::from(b)
    }
}

fn error_line(e: &ApiError) -> Bytes {
    let mut b = serde_json::to_vec(&json!({"type": "ERROR", "object": e.status()})).unwrap_or_default();
    b.push(b'\n');
    Bytes::from(b)
}

pub async fn watch(store: &Store, ctx: Ctx) -> ApiResult<Response<Body>> {
    let q = &ctx.query;
    let info = ctx.info;
    let filter = Filter::from_query(info, q)?;
    let rv = q.str("resourceVersion").to_string();
    let initial_events = q.flag("sendInitialEvents");
    let bookmarks = q.flag("allowWatchBookmarks");
    let rvm = q.str("resourceVersionMatch");
    if initial_events && (rvm != "NotOlderThan" || !bookmarks) {
        return Err(options_error(
            "sendInitialEvents",
            "sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled",
            None,
        ));
    }
    if !rvm.is_empty() && !initial_events {
        return Err(options_error(
            "resourceVersionMatch",
            "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
            None,
        ));
    }
    let timeout = q
        .get("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or_else(|| Duration::from_secs(1800 + uuid::Uuid::new_v4().as_u128() as u64 % 1800));
    let start = match rv.as_str() {
        "" | "0" => WatchStart::Snapshot,
        _ if initial_events => WatchStart::Snapshot,
        n => WatchStart::After(parse_rv(n)?),
    };
    let mut enc = EventEncoder {
        ctx_view: ctx.output.view,
        kind: info.kind,
        api_version: ctx.api_version(),
        columns_sent: false,
        same_version: info.storage_api_version() == ctx.api_version(),
        info,
    };
    let ns_prefix = within(ctx.namespace());
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(64);
    match store.cacher.subscribe(start).await {
        Err(e) if e.code == 410 => {
            // Upstream answers 200 and then one ERROR event.
            let _ = tx.try_send(error_line(&e));
            drop(tx);
        }
        Err(e) => return Err(e),
        Ok(mut sub) => {
            tokio::spawn(async move {
                let mut last_rv = sub.rv;
                for ev in &sub.initial {
                    if let Some((ty, obj)) = visible(ev, &ns_prefix, &filter, info)
                        && tx.send(enc.line(ty.as_str(), &obj)).await.is_err()
                    {
                        return;
                    }
                }
                if initial_events && tx.send(enc.bookmark(sub.rv, true)).await.is_err() {
                    return;
                }
                let deadline = tokio::time::Instant::now() + timeout;
                let mut next_bookmark = next_bookmark_time(deadline);
                loop {
                    tokio::select! {
                        _ = tokio::time::sleep_until(deadline) => return,
                        _ = tx.closed() => return,
                        _ = tokio::time::sleep_until(next_bookmark), if bookmarks => {
                            if tx.send(enc.bookmark(last_rv, false)).await.is_err() { return; }
                            next_bookmark = next_bookmark_time(deadline);
                        }
                        ev = sub.live.recv() => match ev {
                            Ok(ev) => {
                                if ev.rv <= sub.rv { continue; }
                                last_rv = ev.rv;
                                if let Some((ty, obj)) = visible(&ev, &ns_prefix, &filter, info)
                                    && tx.send(enc.line(ty.as_str(), &obj)).await.is_err()
                                {
                                    return;
                                }
                            }
                            // A watcher too slow for the event rate is closed; it resumes from its last RV.
                            Err(_) => return,
                        }
                    }
                }
            });
        }
    }
    let stream = tokio_stream_from(rx).map(|b| Ok::<_, std::io::Error>(Frame::data(b)));
    let body = BodyExt::boxed(StreamBody::new(stream));
    let mut resp = Response::new(body);
    let ct = match ctx.output.encoding {
        Encoding::Yaml | Encoding::Json { .. } | Encoding::Protobuf => "application/json",
    };
    resp.headers_mut()
        .insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static(ct));
    resp.headers_mut().insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-cache, private"),
    );
    Ok(resp)
}

/// Upstream's schedule: a bookmark a minute, and one 2s before the watch times out.
fn next_bookmark_time(deadline: tokio::time::Instant) -> tokio::time::Instant {
    let now = tokio::time::Instant::now();
    let heartbeat = now + BOOKMARK_EVERY;
    match deadline.checked_sub(Duration::from_secs(2)) {
        Some(pre) if pre > now && pre < heartbeat => pre,
        _ => heartbeat,
    }
}

fn tokio_stream_from(mut rx: tokio::sync::mpsc::Receiver<Bytes>) -> impl futures::Stream<Item = Bytes> {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_tokens_round_trip() {
        let t = encode_continue(213, "ns/c2\u{0}");
        let d = decode_continue(&t).unwrap();
        assert_eq!((d.rv, d.start.as_str()), (213, "ns/c2\u{0}"));
        assert!(decode_continue("!!").is_err());
    }
}
