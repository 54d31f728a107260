//! `rollout undo` of a DaemonSet or StatefulSet (upstream's DaemonSetRollbacker and
//! StatefulSetRollbacker): the chosen ControllerRevision's data, a patch that replaces the
//! pod template, is sent as a strategic merge patch.

use super::history::{self, Revision};
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
