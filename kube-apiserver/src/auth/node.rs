//! The Node authorizer: a kubelet (`system:node:<name>` in `system:nodes`) may read only the
//! secrets, configmaps and PVCs that pods bound to its node use, request tokens only for
//! those pods' service accounts, and manage its own Lease and CSINode; anything else it is
//! allowed is what upstream's node rules (the system:node ClusterRole) grant.

use super::authz::CachedPolicy;
use super::rbac::{self, Attributes, Decision, PolicySource};
use crate::state::Api;
use serde_json::Value;

/// The node a user speaks for, if it is a node.
pub fn node_name(user: &super::User) -> Option<&str> {
    if !user.in_group("system:nodes") {
        return None;
    }
    user.name.strip_prefix("system:node:").filter(|n| !n.is_empty())
}

fn no_relationship(node: &str) -> String {
    format!("no relationship found between node '{node}' and this object")
}

pub fn authorize(api: &Api, a: &Attributes) -> (Decision, String) {
    let Some(node) = node_name(&a.user) else {
        return (Decision::NoOpinion, String::new());
    };
    if !a.resource_request {
        return node_rules(api, a);
    }
    match (a.api_group.as_str(), a.resource.as_str(), a.subresource.as_str()) {
        ("", "secrets" | "configmaps" | "persistentvolumeclaims", "") => {
            if a.verb != "get" || a.name.is_empty() {
                return (
                    Decision::NoOpinion,
                    "can only get individual resources of this type".into(),
                );
            }
            if pods_on(api, node, &a.namespace)
                .iter()
                .any(|p| references(p, &a.resource, &a.name))
            {
                (Decision::Allow, String::new())
            } else {
                (Decision::NoOpinion, no_relationship(node))
            }
        }
        ("", "serviceaccounts", "token") => {
            let uses = pods_on(api, node, &a.namespace)
                .iter()
                .any(|p| service_account(p) == a.name);
            if a.verb == "create" && uses {
                (Decision::Allow, String::new())
            } else {
                (Decision::NoOpinion, no_relationship(node))
            }
        }
        ("coordination.k8s.io", "leases", "") if a.namespace == "kube-node-lease" => {
            if a.name == node || (a.name.is_empty() && a.verb == "create") {
                (Decision::Allow, String::new())
            } else {
                (
                    Decision::NoOpinion,
                    "can only access node lease with the same name as the requesting node".into(),
                )
            }
        }
        ("storage.k8s.io", "csinodes", "") => {
            if a.name == node || (a.name.is_empty() && a.verb == "create") {
                (Decision::Allow, String::new())
            } else {
                (
                    Decision::NoOpinion,
                    "can only access CSINode with the same name as the requesting node".into(),
                )
            }
        }
        _ => node_rules(api, a),
    }
}

/// What the system:node ClusterRole allows (upstream evaluates the same rules itself).
fn node_rules(api: &Api, a: &Attributes) -> (Decision, String) {
    let policy = CachedPolicy::new(api);
    let Some(role) = policy.cluster_role("system:node") else {
        return (Decision::NoOpinion, String::new());
    };
    let allowed = rbac::PolicyRule::list_from_role(&role).iter().any(|r| r.allows(a));
    if allowed {
        (Decision::Allow, String::new())
    } else {
        (Decision::NoOpinion, String::new())
    }
}

fn pods_on(api: &Api, node: &str, namespace: &str) -> Vec<Value> {
    let Some(store) = api.store_named("", "pods") else {
        return Vec::new();
    };
    let (pods, _) = store.cacher.list(&format!("{namespace}/"));
    pods.iter()
        .filter(|p| p.pointer("/spec/nodeName").and_then(Value::as_str) == Some(node))
        .map(|p| p.value.clone())
        .collect()
}

fn service_account(pod: &Value) -> &str {
    pod.pointer("/spec/serviceAccountName")
        .and_then(Value::as_str)
        .unwrap_or("default")
}

/// Whether a pod uses the named secret, configmap or PVC (volumes, projections, env, image pull secrets).
fn references(pod: &Value, resource: &str, name: &str) -> bool {
    let spec = pod.get("spec").cloned().unwrap_or_default();
    let arr = |v: &Value, k: &str| v.get(k).and_then(Value::as_array).cloned().unwrap_or_default();
    let is = |v: Option<&Value>| v.and_then(Value::as_str) == Some(name);
    let volumes = arr(&spec, "volumes");
    let containers: Vec<Value> = ["initContainers", "containers", "ephemeralContainers"]
        .iter()
        .flat_map(|k| arr(&spec, k))
        .collect();
    match resource {
        "secrets" => {
            arr(&spec, "imagePullSecrets").iter().any(|s| is(s.get("name")))
                || volumes.iter().any(|v| {
                    is(v.pointer("/secret/secretName"))
                        || arr(v.get("projected").unwrap_or(&Value::Null), "sources")
                            .iter()
                            .any(|s| is(s.pointer("/secret/name")))
                        || [
                            "azureFile",
                            "cephfs",
                            "cinder",
                            "flexVolume",
                            "iscsi",
                            "rbd",
                            "scaleIO",
                            "storageos",
                            "csi",
                        ]
                        .iter()
                        .any(|k| {
                            is(v.pointer(&format!("/{k}/secretRef/name")))
                                || is(v.pointer(&format!("/{k}/nodePublishSecretRef/name")))
                        })
                })
                || containers
                    .iter()
                    .any(|c| env_refs(c, "secretKeyRef", "secretRef", name))
        }
        "configmaps" => {
            volumes.iter().any(|v| {
                is(v.pointer("/configMap/name"))
                    || arr(v.get("projected").unwrap_or(&Value::Null), "sources")
                        .iter()
                        .any(|s| is(s.pointer("/configMap/name")))
            }) || containers
                .iter()
                .any(|c| env_refs(c, "configMapKeyRef", "configMapRef", name))
        }
        "persistentvolumeclaims" => volumes
            .iter()
            .any(|v| is(v.pointer("/persistentVolumeClaim/claimName"))),
        _ => false,
    }
}

fn env_refs(container: &Value, key_ref: &str, from_ref: &str, name: &str) -> bool {
    let env = container.get("env").and_then(Value::as_array).into_iter().flatten();
    let env_from = container.get("envFrom").and_then(Value::as_array).into_iter().flatten();
    env.into_iter()
        .any(|e| e.pointer(&format!("/valueFrom/{key_ref}/name")).and_then(Value::as_str) == Some(name))
        || env_from
            .into_iter()
            .any(|e| e.pointer(&format!("/{from_ref}/name")).and_then(Value::as_str) == Some(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pod_references() {
        let pod = json!({"spec": {"nodeName": "n1", "imagePullSecrets": [{"name": "pull"}],
            "volumes": [{"name": "v", "secret": {"secretName": "vol"}}, {"name": "p", "projected": {"sources": [{"configMap": {"name": "proj"}}]}},
                        {"name": "c", "persistentVolumeClaim": {"claimName": "data"}}],
            "containers": [{"name": "c", "env": [{"name": "A", "valueFrom": {"secretKeyRef": {"name": "envsec", "key": "k"}}}],
                            "envFrom": [{"configMapRef": {"name": "envcm"}}]}]}});
        for (res, name) in [
            ("secrets", "pull"),
            ("secrets", "vol"),
            ("secrets", "envsec"),
            ("configmaps", "proj"),
            ("configmaps", "envcm"),
            ("persistentvolumeclaims", "data"),
        ] {
            assert!(references(&pod, res, name), "{res}/{name}");
        }
        assert!(!references(&pod, "secrets", "other"));
        assert!(!references(&pod, "configmaps", "vol"));
        let node = super::super::User {
            name: "system:node:n1".into(),
            groups: vec!["system:nodes".into()],
            ..Default::default()
        };
        assert_eq!(node_name(&node), Some("n1"));
        assert_eq!(
            node_name(&super::super::User {
                name: "system:node:n1".into(),
                ..Default::default()
            }),
            None
        );
    }
}
