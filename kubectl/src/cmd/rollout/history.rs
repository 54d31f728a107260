//! Revision history for `rollout history` and `undo`: a Deployment's revisions are its
//! ReplicaSets (`deployment.kubernetes.io/revision`), a DaemonSet's or StatefulSet's are its
//! ControllerRevisions (`.revision`, the template stored as a replacing patch).

use crate::cmd::Session;
use crate::cmd::describe::PrefixWriter;
use crate::cmd::describe::pods::pod_template;
use crate::discovery::Resource;
use crate::error::CmdError;
use crate::http::{self, ACCEPT_JSON};
use crate::printers::tabwriter::align_with;
use serde_json::Value;

pub const REVISION: &str = "deployment.kubernetes.io/revision";
const CHANGE_CAUSE: &str = "kubernetes.io/change-cause";

/// One revision: its number, pod template and the object that holds it.
pub struct Revision {
    pub number: i64,
    pub template: Value,
    pub holder: Value,
}

/// The revisions of `obj`, oldest first.
pub async fn revisions(s: &Session, r: &Resource, obj: &Value) -> Result<Vec<Revision>, CmdError> {
    let collection = match r.name.as_str() {
        "deployments" => "replicasets",
        "daemonsets" | "statefulsets" => "controllerrevisions",
        _ => return Err(super::no_visitor("history", r, obj)),
    };
    let ns = obj["metadata"]["namespace"].as_str().unwrap_or_default();
    let uid = &obj["metadata"]["uid"];
    let path = format!("/apis/apps/v1/namespaces/{ns}/{collection}");
    let reply = http::get(s.client(), &path, ACCEPT_JSON).await?;
    let list: Value = serde_json::from_slice(&reply.body).map_err(|e| CmdError::msg(e.to_string()))?;
    let mut out: Vec<Revision> = list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|h| {
            h["metadata"]["ownerReferences"]
                .as_array()
                .is_some_and(|o| o.iter().any(|o| &o["uid"] == uid && o["controller"] == true))
        })
        .filter_map(|h| {
            let (number, mut template) = if collection == "replicasets" {
                let n = h["metadata"]["annotations"][REVISION].as_str()?.parse().ok()?;
                (n, h["spec"]["template"].clone())
            } else {
                (h["revision"].as_i64()?, h["data"]["spec"]["template"].clone())
            };
            if let Some(t) = template.as_object_mut() {
                t.remove("$patch");
            }
            Some(Revision {
                number,
                template,
                holder: h.clone(),
            })
        })
        .collect();
    out.sort_by_key(|h| h.number);
    Ok(out)
}

/// `rollout history` for one object: the revision table, or one revision's pod template.
pub fn view(name: &str, revisions: &[Revision], revision: i64) -> Result<String, CmdError> {
    if revision > 0 {
        let rev = revisions
            .iter()
            .find(|h| h.number == revision)
            .ok_or_else(|| CmdError::msg("unable to find the specified revision"))?;
        let mut w = PrefixWriter::new();
        pod_template(&mut w, &rev.template);
        return Ok(format!("{name} with revision #{revision}\n{}\n", w.unaligned()));
    }
    if revisions.is_empty() {
        return Ok(format!("{name} \nNo rollout history found.\n"));
    }
    let mut text = String::from("REVISION\tCHANGE-CAUSE\n");
    for h in revisions {
        let cause = h.holder["metadata"]["annotations"][CHANGE_CAUSE]
            .as_str()
            .filter(|c| !c.is_empty())
            .unwrap_or("<none>");
        text.push_str(&format!("{}\t{cause}\n", h.number));
    }
    Ok(format!("{name} \n{}\n", align_with(&text, 0, 2)))
}
