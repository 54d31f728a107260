//! `rollout undo`: a Deployment gets the pod template of the chosen ReplicaSet (upstream's
//! DeploymentRollbacker); a DaemonSet or StatefulSet gets the chosen ControllerRevision's
//! data, a patch that replaces the pod template, as a strategic merge patch (its
//! DaemonSetRollbacker and StatefulSetRollbacker).

use super::history::{self, REVISION, Revision};
use crate::Output;
use crate::cmd::Session;
use crate::cmd::describe::PrefixWriter;
use crate::cmd::describe::pods::pod_template;
use crate::cmd::write::{self, DryRun};
use crate::discovery::Resource;
use crate::error::CmdError;
use serde_json::{Value, json};

/// The revision to go back to: `to_revision`, or the one before the latest.
fn pick(revisions: &[Revision], to_revision: i64) -> Option<&Revision> {
    if to_revision == 0 {
        return revisions.len().checked_sub(2).map(|i| &revisions[i]);
    }
    revisions.iter().find(|h| h.number == to_revision)
}

/// The patch that would restore `obj`'s current template, as the controller stores it.
fn current_patch(obj: &Value) -> Value {
    let mut template = obj["spec"]["template"].clone();
    if let Some(t) = template.as_object_mut() {
        let meta = t.entry("metadata").or_insert_with(|| json!({}));
        if let Some(m) = meta.as_object_mut() {
            m.entry("creationTimestamp").or_insert(Value::Null);
        }
        t.insert("$patch".into(), json!("replace"));
    }
    json!({"spec": {"template": template}})
}

/// A Deployment back to `to_revision`, or to the newest revision that is not current.
pub async fn deployment(
    s: &Session,
    r: &Resource,
    obj: &Value,
    to_revision: i64,
    dry_run: DryRun,
    output: Option<&str>,
    out: &mut Output,
) -> Result<(), CmdError> {
    if obj["spec"]["paused"] == true {
        return Err(CmdError::msg(
            "you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume' and try again",
        ));
    }
    let revisions = history::revisions(s, r, obj).await?;
    let current = obj["metadata"]["annotations"][REVISION]
        .as_str()
        .and_then(|v| v.parse::<i64>().ok());
    let target = if to_revision > 0 {
        revisions.iter().find(|h| h.number == to_revision)
    } else {
        revisions.iter().rev().find(|h| Some(h.number) != current)
    };
    let Some(target) = target else {
        return Err(CmdError::msg(if to_revision > 0 {
            format!("unable to find specified revision {to_revision} in history")
        } else {
            format!(
                "no rollout history found for deployment {:?}",
                obj["metadata"]["name"].as_str().unwrap_or_default()
            )
        }));
    };
    // ReplicaSets carry the pod-template-hash label their Deployment's template lacks.
    let without_hash = |t: &Value| {
        let mut t = t.clone();
        if let Some(labels) = t["metadata"]["labels"].as_object_mut() {
            labels.remove("pod-template-hash");
        }
        t
    };
    let template = without_hash(&target.template);
    if template == without_hash(&obj["spec"]["template"]) {
        let msg = "skipped rollback (current template already matches revision)";
        write::report(out, obj, msg, dry_run, output);
        return Ok(());
    }
    // The whole template replaces the current one (a merge patch would merge maps).
    let ops = json!([{"op": "replace", "path": "/spec/template", "value": template}]);
    let written = write::patch(s, r, obj, None, write::JSON_PATCH, &ops, dry_run).await?;
    write::report(out, &written, "rolled back", dry_run, output);
    Ok(())
}

/// A DaemonSet or StatefulSet back to `to_revision`, or to the revision before the latest.
pub async fn controller_revision(
    s: &Session,
    r: &Resource,
    obj: &Value,
    to_revision: i64,
    dry_run: DryRun,
    output: Option<&str>,
    out: &mut Output,
) -> Result<(), CmdError> {
    if to_revision < 0 {
        return Err(CmdError::msg(format!(
            "unable to find specified revision {to_revision} in history"
        )));
    }
    let revisions = history::revisions(s, r, obj).await?;
    if to_revision == 0 && revisions.len() <= 1 {
        return Err(CmdError::msg("no last revision to roll back to"));
    }
    let Some(target) = pick(&revisions, to_revision) else {
        return Err(CmdError::msg(format!(
            "unable to find specified revision {to_revision} in history"
        )));
    };
    let data = &target.holder["data"];
    if dry_run == DryRun::Client {
        let mut w = PrefixWriter::new();
        pod_template(&mut w, &target.template);
        write::report(
            out,
            obj,
            &format!("will roll back to {}", w.unaligned()),
            dry_run,
            output,
        );
        return Ok(());
    }
    if &current_patch(obj) == data {
        let msg = format!("skipped rollback (current template already matches revision {to_revision})");
        write::report(out, obj, &msg, dry_run, output);
        return Ok(());
    }
    let written = write::patch(s, r, obj, None, write::STRATEGIC, data, dry_run)
        .await
        .map_err(|e| {
            let detail = match e {
                CmdError::Server { message, .. } => message,
                CmdError::ServerPlain(m) | CmdError::Message(m) | CmdError::Raw(m) => m,
            };
            CmdError::msg(format!("failed restoring revision {}: {detail}", target.number))
        })?;
    write::report(out, &written, "rolled back", dry_run, output);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previous_revision_by_default() {
        let rev = |n| Revision {
            number: n,
            template: Value::Null,
            holder: Value::Null,
        };
        let revs = vec![rev(1), rev(3), rev(4)];
        assert_eq!(pick(&revs, 0).map(|h| h.number), Some(3));
        assert_eq!(pick(&revs, 1).map(|h| h.number), Some(1));
        assert!(pick(&revs, 2).is_none());
        assert!(pick(&revs[..1], 0).is_none());
    }

    #[test]
    fn current_patch_matches_stored_form() {
        let ds = json!({"spec": {"template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": []}}}});
        assert_eq!(
            current_patch(&ds),
            json!({"spec": {"template": {"$patch": "replace", "metadata": {"creationTimestamp": null, "labels": {"a": "b"}}, "spec": {"containers": []}}}})
        );
    }
}
