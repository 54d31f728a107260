//! `rollout status`: upstream's status viewers for Deployments, DaemonSets and StatefulSets,
//! each giving the line to print and whether the rollout is done.

use crate::cmd::Session;
use crate::cmd::describe::format_selector;
use crate::discovery::Resource;
use crate::error::CmdError;
use crate::http::{self, ACCEPT_JSON};
use serde_json::Value;

/// The status line of `obj` and whether its rollout is complete.
pub async fn status(s: &Session, r: &Resource, obj: &Value) -> Result<(String, bool), CmdError> {
    match r.name.as_str() {
        "deployments" => {
            let (msg, done) = deployment(obj)?;
            if done {
                return Ok((msg, true));
            }
            Ok((with_pod_warning(s, obj, msg).await, false))
        }
        "daemonsets" => daemon_set(obj),
        _ => stateful_set(obj),
    }
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or(0)
}

/// upstream's DeploymentStatusViewer.
pub fn deployment(d: &Value) -> Result<(String, bool), CmdError> {
    let name = d["metadata"]["name"].as_str().unwrap_or_default();
    let st = &d["status"];
    if int(&d["metadata"]["generation"]) > int(&st["observedGeneration"]) {
        return Ok(("Waiting for deployment spec update to be observed...\n".into(), false));
    }
    let progressing = st["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["type"] == "Progressing");
    if progressing.is_some_and(|c| c["reason"] == "ProgressDeadlineExceeded") {
        return Err(CmdError::msg(format!(
            "deployment {name:?} exceeded its progress deadline"
        )));
    }
    let want = d["spec"]["replicas"].as_i64().unwrap_or(1);
    let (updated, replicas, available) = (
        int(&st["updatedReplicas"]),
        int(&st["replicas"]),
        int(&st["availableReplicas"]),
    );
    let waiting = |what: String| {
        Ok((
            format!("Waiting for deployment {name:?} rollout to finish: {what}...\n"),
            false,
        ))
    };
    if updated < want {
        return waiting(format!("{updated} out of {want} new replicas have been updated"));
    }
    if replicas > updated {
        return waiting(format!("{} old replicas are pending termination", replicas - updated));
    }
    if available < updated {
        return waiting(format!("{available} of {updated} updated replicas are available"));
    }
    Ok((format!("deployment {name:?} successfully rolled out\n"), true))
}

/// Appends the first pod problem upstream reports while waiting (unschedulable, image pull
/// or crash loop), as `<message> (Warning: ...)`.
async fn with_pod_warning(s: &Session, d: &Value, msg: String) -> String {
    let ns = d["metadata"]["namespace"].as_str().unwrap_or_default();
    let selector = format_selector(&d["spec"]["selector"], false);
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("labelSelector", &selector)
        .finish();
    let Ok(reply) = http::get(
        s.client(),
        &format!("/api/v1/namespaces/{ns}/pods?{query}"),
        ACCEPT_JSON,
    )
    .await
    else {
        return msg;
    };
    let pods: Value = serde_json::from_slice(&reply.body).unwrap_or_default();
    for pod in pods["items"].as_array().into_iter().flatten() {
        let st = &pod["status"];
        let unschedulable = st["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["type"] == "PodScheduled" && c["status"] == "False" && c["reason"] == "Unschedulable");
        if let Some(c) = unschedulable {
            return format!(
                "{} (Warning: {})\n",
                msg.trim(),
                c["message"].as_str().unwrap_or_default()
            );
        }
        for cs in st["containerStatuses"].as_array().into_iter().flatten() {
            let waiting = &cs["state"]["waiting"];
            let reason = waiting["reason"].as_str().unwrap_or_default();
            if matches!(
                reason,
                "ImagePullBackOff"
                    | "ErrImagePull"
                    | "CrashLoopBackOff"
                    | "CreateContainerConfigError"
                    | "CreateContainerError"
            ) {
                let message = waiting["message"].as_str().unwrap_or_default();
                return format!("{} (Warning: {reason} - {message})\n", msg.trim());
            }
        }
    }
    msg
}

fn rolling_update_only(strategy: &Value) -> Result<(), CmdError> {
    if strategy["type"] != "RollingUpdate" {
        return Err(CmdError::msg(
            "rollout status is only available for RollingUpdate strategy type",
        ));
    }
    Ok(())
}

/// upstream's DaemonSetStatusViewer.
pub fn daemon_set(ds: &Value) -> Result<(String, bool), CmdError> {
    rolling_update_only(&ds["spec"]["updateStrategy"])?;
    let name = ds["metadata"]["name"].as_str().unwrap_or_default();
    let st = &ds["status"];
    if int(&ds["metadata"]["generation"]) > int(&st["observedGeneration"]) {
        return Ok(("Waiting for daemon set spec update to be observed...\n".into(), false));
    }
    let desired = int(&st["desiredNumberScheduled"]);
    let updated = int(&st["updatedNumberScheduled"]);
    let available = int(&st["numberAvailable"]);
    if updated < desired {
        return Ok((
            format!(
                "Waiting for daemon set {name:?} rollout to finish: {updated} out of {desired} new pods have been updated...\n"
            ),
            false,
        ));
    }
    if available < desired {
        return Ok((
            format!(
                "Waiting for daemon set {name:?} rollout to finish: {available} of {desired} updated pods are available...\n"
            ),
            false,
        ));
    }
    Ok((format!("daemon set {name:?} successfully rolled out\n"), true))
}

/// upstream's StatefulSetStatusViewer.
pub fn stateful_set(sts: &Value) -> Result<(String, bool), CmdError> {
    let strategy = &sts["spec"]["updateStrategy"];
    rolling_update_only(strategy)?;
    let st = &sts["status"];
    let observed = int(&st["observedGeneration"]);
    if observed == 0 || int(&sts["metadata"]["generation"]) > observed {
        return Ok(("Waiting for statefulset spec update to be observed...\n".into(), false));
    }
    let replicas = sts["spec"]["replicas"].as_i64();
    if let Some(want) = replicas
        && int(&st["readyReplicas"]) < want
    {
        return Ok((
            format!("Waiting for {} pods to be ready...\n", want - int(&st["readyReplicas"])),
            false,
        ));
    }
    let updated = int(&st["updatedReplicas"]);
    if strategy["rollingUpdate"].is_object() {
        if let (Some(want), Some(partition)) = (replicas, strategy["rollingUpdate"]["partition"].as_i64())
            && updated < want - partition
        {
            return Ok((
                format!(
                    "Waiting for partitioned roll out to finish: {updated} out of {} new pods have been updated...\n",
                    want - partition
                ),
                false,
            ));
        }
        return Ok((
            format!("partitioned roll out complete: {updated} new pods have been updated...\n"),
            true,
        ));
    }
    let (current, update) = (
        st["currentRevision"].as_str().unwrap_or_default(),
        st["updateRevision"].as_str().unwrap_or_default(),
    );
    if update != current {
        return Ok((
            format!("waiting for statefulset rolling update to complete {updated} pods at revision {update}...\n"),
            false,
        ));
    }
    Ok((
        format!(
            "statefulset rolling update complete {} pods at revision {current}...\n",
            int(&st["currentReplicas"])
        ),
        true,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn deployment_lines() {
        let d = |status: Value| json!({"metadata": {"name": "web", "generation": 2}, "spec": {"replicas": 3}, "status": status});
        let msg = |v: Value| deployment(&v).unwrap();
        assert_eq!(
            msg(d(json!({"observedGeneration": 1}))).0,
            "Waiting for deployment spec update to be observed...\n"
        );
        assert_eq!(
            msg(d(json!({"observedGeneration": 2, "updatedReplicas": 1, "replicas": 3}))).0,
            "Waiting for deployment \"web\" rollout to finish: 1 out of 3 new replicas have been updated...\n"
        );
        assert_eq!(
            msg(d(json!({"observedGeneration": 2, "updatedReplicas": 3, "replicas": 4}))).0,
            "Waiting for deployment \"web\" rollout to finish: 1 old replicas are pending termination...\n"
        );
        let done = msg(d(
            json!({"observedGeneration": 2, "updatedReplicas": 3, "replicas": 3, "availableReplicas": 3}),
        ));
        assert_eq!(done, ("deployment \"web\" successfully rolled out\n".to_string(), true));
    }

    #[test]
    fn daemon_set_and_stateful_set_lines() {
        let ds = json!({"metadata": {"name": "ds", "generation": 1}, "spec": {"updateStrategy": {"type": "RollingUpdate"}},
            "status": {"observedGeneration": 1, "desiredNumberScheduled": 2, "updatedNumberScheduled": 1}});
        assert_eq!(
            daemon_set(&ds).unwrap().0,
            "Waiting for daemon set \"ds\" rollout to finish: 1 out of 2 new pods have been updated...\n"
        );
        let ondelete = json!({"spec": {"updateStrategy": {"type": "OnDelete"}}});
        assert!(daemon_set(&ondelete).is_err());
        let sts = json!({"metadata": {"generation": 1}, "spec": {"replicas": 2, "updateStrategy": {"type": "RollingUpdate"}},
            "status": {"observedGeneration": 1, "readyReplicas": 2, "updatedReplicas": 2, "currentReplicas": 2,
                       "currentRevision": "st-1", "updateRevision": "st-1"}});
        assert_eq!(
            stateful_set(&sts).unwrap(),
            (
                "statefulset rolling update complete 2 pods at revision st-1...\n".to_string(),
                true
            )
        );
    }
}
