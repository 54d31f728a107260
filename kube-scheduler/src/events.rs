//! What users see of a scheduling decision: events.k8s.io/v1 Events (`Scheduled`,
//! `FailedScheduling`, `Preempted`) and the pod's PodScheduled condition, as upstream writes them.

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::events::v1::Event;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;

/// Who reports the events.
#[derive(Clone)]
pub struct Recorder {
    pub client: kube::Client,
    pub instance: String,
}

impl Recorder {
    pub fn new(client: kube::Client) -> Recorder {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        Recorder {
            client,
            instance: format!("default-scheduler-{}", host.trim()),
        }
    }

    /// Writes one event about `pod` (type Normal or Warning).
    pub async fn event(&self, pod: &Pod, kind: &str, reason: &str, action: &str, note: &str) {
        let ns = pod.metadata.namespace.clone().unwrap_or_default();
        let name = pod.metadata.name.clone().unwrap_or_default();
        let now = jiff::Timestamp::now();
        let event = json!({
            "apiVersion": "events.k8s.io/v1", "kind": "Event",
            "metadata": {"name": format!("{name}.{:x}", now.as_nanosecond()), "namespace": ns},
            "eventTime": now.strftime("%Y-%m-%dT%H:%M:%S.%6fZ").to_string(),
            "reportingController": "default-scheduler", "reportingInstance": self.instance,
            "action": action, "reason": reason, "type": kind, "note": note,
            "regarding": {"kind": "Pod", "apiVersion": "v1", "namespace": ns, "name": name,
                          "uid": pod.metadata.uid, "resourceVersion": pod.metadata.resource_version},
        });
        let Ok(event) = serde_json::from_value::<Event>(event) else {
            return;
        };
        let api: Api<Event> = Api::namespaced(self.client.clone(), &ns);
        if let Err(e) = api.create(&PostParams::default(), &event).await {
            tracing::debug!(pod = %format!("{ns}/{name}"), error = %e, "writing event");
        }
    }

    /// Sets PodScheduled=False/Unschedulable with `message` (and nominatedNodeName), unless
    /// the pod already says so.
    pub async fn unschedulable(&self, pod: &Pod, message: &str, nominated: Option<&str>) {
        let status = pod.status.as_ref();
        let same = status
            .and_then(|s| s.conditions.as_ref())
            .into_iter()
            .flatten()
            .any(|c| {
                c.type_ == "PodScheduled"
                    && c.status == "False"
                    && c.reason.as_deref() == Some("Unschedulable")
                    && c.message.as_deref() == Some(message)
            });
        let nominated_same = nominated.is_none_or(|n| status.and_then(|s| s.nominated_node_name.as_deref()) == Some(n));
        if same && nominated_same {
            return;
        }
        let now = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
        let mut patch = json!({"status": {"conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
            "message": message, "lastProbeTime": null, "lastTransitionTime": now}]}});
        if let Some(n) = nominated {
            patch["status"]["nominatedNodeName"] = n.into();
        }
        let ns = pod.metadata.namespace.clone().unwrap_or_default();
        let name = pod.metadata.name.clone().unwrap_or_default();
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &ns);
        if let Err(e) = api
            .patch_status(&name, &PatchParams::default(), &Patch::Strategic(&patch))
            .await
        {
            tracing::debug!(pod = %format!("{ns}/{name}"), error = %e, "updating the PodScheduled condition");
        }
    }
}
