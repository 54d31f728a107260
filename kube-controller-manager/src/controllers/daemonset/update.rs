//! The RollingUpdate plan (upstream's daemon/update.go): which old pods to delete and which
//! nodes get a new pod this round. Without surge, old pods are deleted while fewer than
//! maxUnavailable nodes lack an available pod, and the manage loop recreates them; with
//! surge, a new pod starts beside an old one (at most maxSurge at a time) and the old one goes
//! once the new one is available.

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The label carrying the template generation on pods of DaemonSets created before
/// ControllerRevisions, and the annotation holding it on the DaemonSet.
pub const GENERATION_LABEL: &str = "pod-template-generation";
pub const GENERATION_ANNOTATION: &str = "deprecated.daemonset.template.generation";
/// The hash of the template a pod was made from (the current revision's hash).
pub const HASH_LABEL: &str = "controller-revision-hash";

pub fn template_generation(ds: &DaemonSet) -> Option<i64> {
    ds.metadata
        .annotations
        .as_ref()?
        .get(GENERATION_ANNOTATION)?
        .parse()
        .ok()
}

/// Made from the current template: its hash label, or its generation label for pods from
/// before hashes, says so (upstream's IsPodUpdated).
pub fn is_updated(pod: &Pod, hash: &str, generation: Option<i64>) -> bool {
    let label = |k: &str| pod.metadata.labels.as_ref().and_then(|l| l.get(k));
    let generation_matches = generation.is_some_and(|g| label(GENERATION_LABEL) == Some(&g.to_string()));
    let hash_matches = !hash.is_empty() && label(HASH_LABEL).map(String::as_str) == Some(hash);
    hash_matches || generation_matches
}

/// An int or percentage of `total`, percentages rounded up (GetScaledValueFromIntOrPercent).
fn scaled(v: Option<&IntOrString>, total: i32) -> i32 {
    match v {
        None => 0,
        Some(IntOrString::Int(n)) => *n,
        Some(IntOrString::String(s)) => {
            let pct: i64 = s.strip_suffix('%').and_then(|p| p.parse().ok()).unwrap_or(0);
            ((pct * i64::from(total) + 99) / 100) as i32
        }
    }
}

fn rolling(ds: &DaemonSet) -> Option<&k8s_openapi::api::apps::v1::RollingUpdateDaemonSet> {
    let strategy = ds.spec.as_ref()?.update_strategy.as_ref()?;
    if strategy.type_.as_deref().unwrap_or("RollingUpdate") != "RollingUpdate" {
        return None;
    }
    strategy.rolling_update.as_ref()
}

/// maxSurge and maxUnavailable as pod counts for `desired` nodes; both zero means one may
/// be unavailable.
pub fn fenceposts(ds: &DaemonSet, desired: i32) -> (i32, i32) {
    let r = rolling(ds);
    let surge = scaled(r.and_then(|r| r.max_surge.as_ref()), desired);
    let unavailable = scaled(r.and_then(|r| r.max_unavailable.as_ref()), desired);
    if desired > 0 && surge == 0 && unavailable == 0 {
        return (0, 1);
    }
    (surge, unavailable)
}

/// Whether a rolling update may run a new pod beside an old one (upstream's AllowsSurge).
pub fn allows_surge(ds: &DaemonSet) -> bool {
    scaled(rolling(ds).and_then(|r| r.max_surge.as_ref()), 1) != 0
}

/// What one round of the update does.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub delete: Vec<String>,
    pub create_on: Vec<String>,
}

/// The node's one new and one old pod, ignoring terminating ones; `None` when it has more of
/// either (the manage loop prunes those first).
fn new_and_old<'a>(
    pods: &'a [Arc<Pod>],
    updated: &impl Fn(&Pod) -> bool,
) -> Option<(Option<&'a Pod>, Option<&'a Pod>)> {
    let (mut new, mut old) = (None, None);
    for p in pods.iter().filter(|p| p.metadata.deletion_timestamp.is_none()) {
        let slot = if updated(p) { &mut new } else { &mut old };
        if slot.replace(p.as_ref()).is_some() {
            return None;
        }
    }
    Some((new, old))
}

fn name(p: &Pod) -> String {
    p.metadata.name.clone().unwrap_or_default()
}

/// The inputs of a round: pods by node (nodes that should run one are present even when
/// empty), the fenceposts, and what counts as updated, available and placeable.
pub struct Round<'a, U, A, S> {
    pub by_node: &'a BTreeMap<String, Vec<Arc<Pod>>>,
    pub max_surge: i32,
    pub max_unavailable: i32,
    pub desired: i32,
    pub updated: U,
    pub available: A,
    pub should_run: S,
}

impl<U, A, S> Round<'_, U, A, S>
where
    U: Fn(&Pod) -> bool,
    A: Fn(&Pod) -> bool,
    S: Fn(&str) -> bool,
{
    pub fn plan(&self) -> Plan {
        if self.max_surge == 0 {
            self.without_surge()
        } else {
            self.with_surge()
        }
    }

    fn without_surge(&self) -> Plan {
        let mut unavailable = 0;
        let (mut replace, mut candidates) = (Vec::new(), Vec::new());
        for pods in self.by_node.values() {
            match new_and_old(pods, &self.updated) {
                None | Some((None, None)) | Some((Some(_), Some(_))) => unavailable += 1,
                Some((Some(new), None)) => {
                    if !(self.available)(new) {
                        unavailable += 1;
                    }
                }
                Some((None, Some(old))) => {
                    if !(self.available)(old) {
                        replace.push(name(old));
                        unavailable += 1;
                    } else if unavailable < self.max_unavailable {
                        candidates.push(name(old));
                    }
                }
            }
        }
        let room = (self.max_unavailable - unavailable).clamp(0, candidates.len() as i32) as usize;
        replace.extend(candidates.into_iter().take(room));
        Plan {
            delete: replace,
            create_on: Vec::new(),
        }
    }

    fn with_surge(&self) -> Plan {
        let (mut delete, mut off_node, mut candidates, mut allowed) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let (mut surging, mut available) = (0, 0);
        for (node, pods) in self.by_node {
            let Some((new, old)) = new_and_old(pods, &self.updated) else {
                surging += 1;
                continue;
            };
            if old.or(new).is_some_and(|p| (self.available)(p)) {
                available += 1;
            }
            match (new, old) {
                (_, None) => {}
                (None, Some(old)) => {
                    if !(self.available)(old) {
                        if (self.should_run)(node) {
                            allowed.push(node.clone());
                        } else {
                            delete.push(name(old));
                        }
                    } else if !(self.should_run)(node) {
                        off_node.push(name(old));
                    } else if surging < self.max_surge {
                        candidates.push(node.clone());
                    }
                }
                (Some(new), Some(old)) => {
                    if (self.available)(new) {
                        delete.push(name(old));
                    } else {
                        surging += 1;
                    }
                }
            }
        }
        // Pods on nodes the set no longer fits go only once as many are available elsewhere.
        let deletable = (available - self.desired).clamp(0, off_node.len() as i32) as usize;
        delete.extend(off_node.into_iter().take(deletable));
        let room = (self.max_surge - surging).clamp(0, candidates.len() as i32) as usize;
        allowed.extend(candidates.into_iter().take(room));
        Plan {
            delete,
            create_on: allowed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(name: &str, hash: &str, ready: bool) -> Arc<Pod> {
        Arc::new(
            serde_json::from_value(json!({"metadata": {"name": name, "labels": {HASH_LABEL: hash}},
                "status": {"conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}}]}}))
            .unwrap(),
        )
    }

    fn round(by_node: &BTreeMap<String, Vec<Arc<Pod>>>, surge: i32, unavailable: i32) -> Plan {
        Round {
            by_node,
            max_surge: surge,
            max_unavailable: unavailable,
            desired: by_node.len() as i32,
            updated: |p: &Pod| is_updated(p, "new", None),
            available: |p: &Pod| crate::pods::is_ready(p),
            should_run: |_: &str| true,
        }
        .plan()
    }

    fn nodes(pods: Vec<Vec<Arc<Pod>>>) -> BTreeMap<String, Vec<Arc<Pod>>> {
        pods.into_iter()
            .enumerate()
            .map(|(i, p)| (format!("n{i}"), p))
            .collect()
    }

    #[test]
    fn without_surge_deletes_up_to_max_unavailable() {
        let by_node = nodes(vec![
            vec![pod("a", "old", true)],
            vec![pod("b", "old", true)],
            vec![pod("c", "old", true)],
        ]);
        assert_eq!(round(&by_node, 0, 1).delete, ["a"]);
        assert_eq!(round(&by_node, 0, 2).delete, ["a", "b"]);
        // An updated pod not yet available uses the budget up.
        let by_node = nodes(vec![vec![pod("a", "new", false)], vec![pod("b", "old", true)]]);
        assert!(round(&by_node, 0, 1).delete.is_empty());
        // Unavailable old pods are replaced regardless of the budget.
        let by_node = nodes(vec![vec![pod("a", "old", false)], vec![pod("b", "old", false)]]);
        assert_eq!(round(&by_node, 0, 1).delete, ["a", "b"]);
    }

    #[test]
    fn with_surge_starts_new_pods_then_deletes_old_ones() {
        let by_node = nodes(vec![vec![pod("a", "old", true)], vec![pod("b", "old", true)]]);
        let plan = round(&by_node, 1, 0);
        assert_eq!(plan.create_on, ["n0"]);
        assert!(plan.delete.is_empty());
        // The new pod is not available yet: wait.
        let by_node = nodes(vec![
            vec![pod("a", "old", true), pod("a2", "new", false)],
            vec![pod("b", "old", true)],
        ]);
        assert_eq!(round(&by_node, 1, 0), Plan::default());
        // Available: the old one goes, and the next node may surge.
        let by_node = nodes(vec![
            vec![pod("a", "old", true), pod("a2", "new", true)],
            vec![pod("b", "old", true)],
        ]);
        let plan = round(&by_node, 1, 0);
        assert_eq!(plan.delete, ["a"]);
        assert_eq!(plan.create_on, ["n1"]);
    }

    #[test]
    fn fenceposts_round_up_and_default_to_one_unavailable() {
        let ds = |ru: serde_json::Value| -> DaemonSet {
            serde_json::from_value(json!({"spec": {"selector": {}, "template": {},
                "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": ru}}}))
            .unwrap()
        };
        assert_eq!(
            fenceposts(&ds(json!({"maxUnavailable": "10%", "maxSurge": 0})), 15),
            (0, 2)
        );
        assert_eq!(
            fenceposts(&ds(json!({"maxUnavailable": 0, "maxSurge": "25%"})), 3),
            (1, 0)
        );
        assert_eq!(fenceposts(&ds(json!({"maxUnavailable": 0, "maxSurge": 0})), 3), (0, 1));
        assert!(allows_surge(&ds(json!({"maxSurge": "1%"}))));
        assert!(!allows_surge(&ds(json!({"maxSurge": 0}))));
    }
}
