//! Events about what controllers do (`SuccessfulCreate`, `ScalingReplicaSet`, ...), written as
//! core/v1 Events the way upstream's event broadcaster writes them: named
//! `<object>.<hex nanoseconds>`, and a repeat of the same event bumps `count` and
//! `lastTimestamp` instead of creating another. Writing happens off the sync path.

use k8s_openapi::api::core::v1::{Event, ObjectReference};
use kube::Resource;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;
use std::collections::HashMap;
use tokio::sync::mpsc;

pub const NORMAL: &str = "Normal";
pub const WARNING: &str = "Warning";

struct Record {
    object: ObjectReference,
    type_: &'static str,
    reason: String,
    message: String,
}

/// Sends a controller's events; cheap to clone.
#[derive(Clone)]
pub struct Recorder {
    tx: mpsc::UnboundedSender<Record>,
}

/// A reference to `obj` for `involvedObject`.
pub fn reference<K: Resource<DynamicType = ()>>(obj: &K) -> ObjectReference {
    let meta = obj.meta();
    ObjectReference {
        api_version: Some(K::api_version(&()).into_owned()),
        kind: Some(K::kind(&()).into_owned()),
        namespace: meta.namespace.clone(),
        name: meta.name.clone(),
        uid: meta.uid.clone(),
        resource_version: meta.resource_version.clone(),
        field_path: None,
    }
}

impl Recorder {
    pub fn new(client: kube::Client, component: &str) -> Recorder {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(write_events(client, component.to_string(), rx));
        Recorder { tx }
    }

    pub fn event<K: Resource<DynamicType = ()>>(&self, obj: &K, type_: &'static str, reason: &str, message: &str) {
        let _ = self.tx.send(Record {
            object: reference(obj),
            type_,
            reason: reason.into(),
            message: message.into(),
        });
    }
}

/// What makes two events the same one: object uid, type, reason, message.
type Same = (String, &'static str, String, String);
/// Where an event was written: namespace, name, count.
type Written = (String, String, i32);

async fn write_events(client: kube::Client, component: String, mut rx: mpsc::UnboundedReceiver<Record>) {
    let mut seen: HashMap<Same, Written> = HashMap::new();
    while let Some(r) = rx.recv().await {
        let now = jiff::Timestamp::now();
        let stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
        let ns = r.object.namespace.clone().unwrap_or_else(|| "default".into());
        let api: Api<Event> = Api::namespaced(client.clone(), &ns);
        let key = (
            r.object.uid.clone().unwrap_or_default(),
            r.type_,
            r.reason.clone(),
            r.message.clone(),
        );
        if let Some((ns_seen, name, count)) = seen.get_mut(&key) {
            let patch = json!({"count": *count + 1, "lastTimestamp": stamp});
            let api: Api<Event> = Api::namespaced(client.clone(), ns_seen);
            if api
                .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
                .is_ok()
            {
                *count += 1;
                continue;
            }
        }
        let name = format!(
            "{}.{:x}",
            r.object.name.as_deref().unwrap_or_default(),
            now.as_nanosecond()
        );
        let event = json!({
            "metadata": {"name": name, "namespace": ns},
            "involvedObject": r.object,
            "reason": r.reason,
            "message": r.message,
            "type": r.type_,
            "source": {"component": component},
            "reportingComponent": component,
            "reportingInstance": "",
            "firstTimestamp": stamp,
            "lastTimestamp": stamp,
            "count": 1,
        });
        let Ok(event) = serde_json::from_value::<Event>(event) else {
            continue;
        };
        match api.create(&PostParams::default(), &event).await {
            Ok(_) => {
                if seen.len() > 4096 {
                    seen.clear();
                }
                seen.insert(key, (ns, name, 1));
            }
            Err(e) => tracing::debug!(error = %e, "could not write event"),
        }
    }
}
