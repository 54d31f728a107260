//! `spec.podFailurePolicy`: the first rule matching a failed pod decides whether the failure
//! fails the whole Job (FailJob), fails its index (FailIndex, with backoffLimitPerIndex), is
//! not counted against backoffLimit (Ignore), or is counted as usual (Count). No matching rule
//! means Count.

use k8s_openapi::api::batch::v1::{PodFailurePolicy, PodFailurePolicyOnExitCodesRequirement};
use k8s_openapi::api::core::v1::{ContainerStatus, Pod};

/// What the policy says about one failed pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The Job's failure message when a FailJob rule matched.
    pub fail_job: Option<String>,
    /// Whether the failure counts against backoffLimit.
    pub counts: bool,
    /// The matched rule's action, if any.
    pub action: Option<String>,
}

impl Verdict {
    fn counted(action: Option<String>) -> Verdict {
        Verdict {
            fail_job: None,
            counts: true,
            action,
        }
    }
}

fn exit_code_matches(code: i32, req: &PodFailurePolicyOnExitCodesRequirement) -> bool {
    match req.operator.as_str() {
        "In" => req.values.contains(&code),
        "NotIn" => !req.values.contains(&code),
        _ => false,
    }
}

/// The first terminated container with a non-zero exit code the requirement matches.
fn matching_container<'a>(
    statuses: Option<&'a Vec<ContainerStatus>>,
    req: &PodFailurePolicyOnExitCodesRequirement,
) -> Option<&'a ContainerStatus> {
    statuses?.iter().find(|c| {
        let Some(t) = c.state.as_ref().and_then(|s| s.terminated.as_ref()) else {
            return false;
        };
        req.container_name.as_ref().is_none_or(|n| *n == c.name)
            && t.exit_code != 0
            && exit_code_matches(t.exit_code, req)
    })
}

/// Applies `policy` to a failed pod.
pub fn evaluate(policy: Option<&PodFailurePolicy>, pod: &Pod) -> Verdict {
    let Some(policy) = policy else {
        return Verdict::counted(None);
    };
    let ns = pod.metadata.namespace.as_deref().unwrap_or_default();
    let name = pod.metadata.name.as_deref().unwrap_or_default();
    let status = pod.status.clone().unwrap_or_default();
    for (index, rule) in policy.rules.iter().enumerate() {
        let action = rule.action.as_str();
        let fail_message = if let Some(req) = &rule.on_exit_codes {
            let found = matching_container(status.container_statuses.as_ref(), req)
                .or_else(|| matching_container(status.init_container_statuses.as_ref(), req));
            let Some(c) = found else { continue };
            let code = c
                .state
                .as_ref()
                .and_then(|s| s.terminated.as_ref())
                .map_or(0, |t| t.exit_code);
            format!(
                "Container {} for pod {ns}/{name} failed with exit code {code} matching {action} rule at index {index}",
                c.name
            )
        } else if let Some(patterns) = &rule.on_pod_conditions {
            let conditions = status.conditions.as_deref().unwrap_or_default();
            let found = conditions.iter().find(|c| {
                patterns.iter().any(|p| {
                    // The API defaults a pattern's status to True.
                    let want = if p.status.is_empty() { "True" } else { p.status.as_str() };
                    p.type_ == c.type_ && want == c.status
                })
            });
            let Some(c) = found else { continue };
            format!(
                "Pod {ns}/{name} has condition {} matching {action} rule at index {index}",
                c.type_
            )
        } else {
            continue;
        };
        match action {
            "Ignore" => {
                return Verdict {
                    fail_job: None,
                    counts: false,
                    action: Some(action.into()),
                };
            }
            "Count" => return Verdict::counted(Some(action.into())),
            "FailJob" => {
                return Verdict {
                    fail_job: Some(fail_message),
                    counts: true,
                    action: Some(action.into()),
                };
            }
            // The index fails (see `per_index`); the failure counts.
            "FailIndex" => return Verdict::counted(Some(action.into())),
            _ => continue,
        }
    }
    Verdict::counted(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy(rules: serde_json::Value) -> PodFailurePolicy {
        serde_json::from_value(json!({ "rules": rules })).unwrap()
    }

    fn failed_pod(exit: i32, conditions: serde_json::Value) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": "p", "namespace": "ns"},
            "status": {"phase": "Failed", "conditions": conditions, "containerStatuses": [
                {"name": "main", "image": "i", "imageID": "", "ready": false, "restartCount": 0,
                 "state": {"terminated": {"exitCode": exit}}}]},
        }))
        .unwrap()
    }

    #[test]
    fn exit_code_rules_fail_ignore_or_count() {
        let p = policy(json!([
            {"action": "FailJob", "onExitCodes": {"containerName": "main", "operator": "In", "values": [42]}},
            {"action": "Ignore", "onExitCodes": {"operator": "NotIn", "values": [1, 42]}},
        ]));
        let v = evaluate(Some(&p), &failed_pod(42, json!([])));
        assert_eq!(
            v.fail_job.as_deref(),
            Some("Container main for pod ns/p failed with exit code 42 matching FailJob rule at index 0")
        );
        let v = evaluate(Some(&p), &failed_pod(3, json!([])));
        assert!(!v.counts && v.fail_job.is_none());
        assert_eq!(v.action.as_deref(), Some("Ignore"));
        let v = evaluate(Some(&p), &failed_pod(1, json!([])));
        assert!(v.counts && v.action.is_none());
        assert!(evaluate(None, &failed_pod(42, json!([]))).counts);
    }

    #[test]
    fn condition_rules_match_type_and_status() {
        let p = policy(json!([
            {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]},
            {"action": "FailJob", "onPodConditions": [{"type": "ConfigIssue", "status": "True"}]},
        ]));
        let disrupted = failed_pod(1, json!([{"type": "DisruptionTarget", "status": "True"}]));
        assert!(!evaluate(Some(&p), &disrupted).counts);
        let not_disrupted = failed_pod(1, json!([{"type": "DisruptionTarget", "status": "False"}]));
        assert!(evaluate(Some(&p), &not_disrupted).counts);
        let config = failed_pod(1, json!([{"type": "ConfigIssue", "status": "True"}]));
        assert_eq!(
            evaluate(Some(&p), &config).fail_job.as_deref(),
            Some("Pod ns/p has condition ConfigIssue matching FailJob rule at index 1")
        );
    }
}
