//! The built-in group/versions as Local APIServices (upstream's autoregister controller), with
//! the discovery priorities upstream gives them, and the kube-aware version order.

use super::{GROUP, RESOURCE};
use crate::errors::ApiResult;
use crate::registry::resources::group_versions;
use crate::registry::store::{DeleteOptions, WriteOptions};
use crate::state::Api;
use serde_json::{Value, json};
use std::cmp::Ordering;

const AUTOMANAGED: &str = "kube-aggregator.kubernetes.io/automanaged";

/// (group, version) → (groupPriorityMinimum, versionPriority), as upstream's table.
const PRIORITIES: &[(&str, &str, i64, i64)] = &[
    ("", "v1", 18000, 1),
    (GROUP, "v1", 18000, 15),
    ("apps", "v1", 17800, 15),
    ("events.k8s.io", "v1", 17750, 15),
    ("authentication.k8s.io", "v1", 17700, 15),
    ("authorization.k8s.io", "v1", 17600, 15),
    ("autoscaling", "v2", 17500, 30),
    ("autoscaling", "v1", 17500, 15),
    ("batch", "v1", 17400, 15),
    ("certificates.k8s.io", "v1", 17300, 15),
    ("networking.k8s.io", "v1", 17200, 15),
    ("policy", "v1", 17100, 15),
    ("rbac.authorization.k8s.io", "v1", 17000, 15),
    ("storage.k8s.io", "v1", 16800, 15),
    ("admissionregistration.k8s.io", "v1", 16700, 15),
    ("apiextensions.k8s.io", "v1", 16700, 15),
    ("scheduling.k8s.io", "v1", 16600, 15),
    ("coordination.k8s.io", "v1", 16500, 15),
    ("node.k8s.io", "v1", 16300, 15),
    ("discovery.k8s.io", "v1", 16200, 15),
    ("flowcontrol.apiserver.k8s.io", "v1", 16100, 21),
];

/// The priorities of a built-in group/version; unknown ones sort after the known.
pub fn priority(group: &str, version: &str) -> (i64, i64) {
    PRIORITIES
        .iter()
        .find(|p| p.0 == group && p.1 == version)
        .map_or((1000, 15), |p| (p.2, p.3))
}

/// The group priority of a built-in group: the highest of its versions'.
pub fn group_priority(group: &str) -> i64 {
    PRIORITIES
        .iter()
        .filter(|p| p.0 == group)
        .map(|p| p.2)
        .max()
        .unwrap_or(1000)
}

pub fn api_service_name(group: &str, version: &str) -> String {
    format!("{version}.{group}")
}

fn local_api_service(group: &str, version: &str) -> Value {
    let (group_priority, version_priority) = priority(group, version);
    json!({
        "apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
        "metadata": {"name": api_service_name(group, version), "labels": {AUTOMANAGED: "onstart"}},
        "spec": {"group": group, "version": version, "groupPriorityMinimum": group_priority,
                 "versionPriority": version_priority},
    })
}

/// Creates (or corrects) a Local APIService for every served group/version and deletes the
/// automanaged ones of group/versions no longer served.
pub async fn register(api: &Api) -> ApiResult<()> {
    let Some(store) = api.store_named(GROUP, RESOURCE) else {
        return Ok(());
    };
    let served: Vec<(&str, &str)> = group_versions()
        .into_iter()
        .flat_map(|(g, vs)| vs.into_iter().map(move |v| (g, v)))
        .collect();
    for (group, version) in &served {
        let want = local_api_service(group, version);
        let name = api_service_name(group, version);
        match store.get(None, &name).await {
            Ok(current) if current["spec"] == want["spec"] => {}
            Ok(_) => {
                store
                    .update(None, &name, &WriteOptions::default(), |mut cur| {
                        cur["spec"] = want["spec"].clone();
                        crate::registry::meta::meta_mut(&mut cur).remove("resourceVersion");
                        Ok(cur)
                    })
                    .await?;
            }
            Err(e) if e.code == 404 => match store.create(None, want, &WriteOptions::default()).await {
                Err(e) if e.reason != "AlreadyExists" => return Err(e),
                _ => {}
            },
            Err(e) => return Err(e),
        }
    }
    for svc in super::api_services(api) {
        let automanaged = svc.pointer(&format!("/metadata/labels/{}", AUTOMANAGED.replace('/', "~1")));
        let (group, version) = (
            svc["spec"]["group"].as_str().unwrap_or_default(),
            svc["spec"]["version"].as_str().unwrap_or_default(),
        );
        if automanaged.is_some() && !served.contains(&(group, version)) {
            let name = crate::registry::meta::name(&svc).to_string();
            match store.delete(None, &name, &DeleteOptions::default()).await {
                Err(e) if e.code != 404 => return Err(e),
                _ => {}
            }
        }
    }
    Ok(())
}

/// Upstream's kube-aware version order: GA > beta > alpha > anything else, then by major
/// and minor number; other strings lexicographically.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    fn parse(v: &str) -> Option<(u8, u64, u64)> {
        let rest = v.strip_prefix('v')?;
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        let major: u64 = rest[..digits].parse().ok()?;
        if major == 0 {
            return None;
        }
        let tail = &rest[digits..];
        if tail.is_empty() {
            return Some((2, major, 0));
        }
        let (stage, minor) = if let Some(m) = tail.strip_prefix("beta") {
            (1, m)
        } else if let Some(m) = tail.strip_prefix("alpha") {
            (0, m)
        } else {
            return None;
        };
        let minor: u64 = minor.parse().ok()?;
        (minor > 0).then_some((stage, major, minor))
    }
    match (parse(a), parse(b)) {
        (Some(x), Some(y)) => x.0.cmp(&y.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)),
        (Some(_), None) => Ordering::Greater,
        (None, Some(_)) => Ordering::Less,
        (None, None) => b.cmp(a),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kube_aware_version_order() {
        let mut vs = vec![
            "foo1",
            "v1alpha1",
            "v2",
            "v1beta2",
            "v1",
            "v11alpha2",
            "foo10",
            "v10",
            "v12alpha1",
            "v3beta1",
        ];
        vs.sort_by(|a, b| compare_versions(b, a));
        assert_eq!(
            vs,
            [
                "v10",
                "v2",
                "v1",
                "v3beta1",
                "v1beta2",
                "v12alpha1",
                "v11alpha2",
                "v1alpha1",
                "foo1",
                "foo10"
            ]
        );
    }

    #[test]
    fn every_served_group_version_has_a_priority() {
        for (g, vs) in group_versions() {
            for v in vs {
                assert!(
                    PRIORITIES.iter().any(|p| p.0 == g && p.1 == v),
                    "{g}/{v} has no priority"
                );
            }
        }
    }
}
