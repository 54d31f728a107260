//! Authorization: `--authorization-mode` as an ordered chain (AlwaysAllow, AlwaysDeny, Node,
//! RBAC); the first mode with an opinion decides, no opinion at the end is a deny. RBAC reads
//! roles and bindings from the watch caches.

use super::rbac::{self, Attributes, Decision, PolicySource};
use crate::registry::store::Store;
use crate::state::Api;
use serde_json::Value;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    AlwaysAllow,
    AlwaysDeny,
    Node,
    Rbac,
}

pub fn parse_modes(names: &[String]) -> anyhow::Result<Vec<Mode>> {
    names
        .iter()
        .map(|n| match n.as_str() {
            "AlwaysAllow" => Ok(Mode::AlwaysAllow),
            "AlwaysDeny" => Ok(Mode::AlwaysDeny),
            "Node" => Ok(Mode::Node),
            "RBAC" => Ok(Mode::Rbac),
            other => anyhow::bail!("--authorization-mode: unknown authorization mode {other:?}"),
        })
        .collect()
}

/// The RBAC objects, as the watch caches hold them.
pub struct CachedPolicy<'a> {
    api: &'a Api,
}

impl<'a> CachedPolicy<'a> {
    pub fn new(api: &'a Api) -> Self {
        CachedPolicy { api }
    }

    fn store(&self, resource: &str) -> Option<&Arc<Store>> {
        self.api.store_named(rbac::RBAC_GROUP, resource)
    }

    fn all(&self, resource: &str, within: &str) -> Vec<Arc<Value>> {
        self.store(resource)
            .map(|s| {
                s.cacher
                    .list(within)
                    .0
                    .into_iter()
                    .map(|o| Arc::new(o.value.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn one(&self, resource: &str, key: &str) -> Option<Arc<Value>> {
        self.store(resource)?.cacher.get(key).map(|o| Arc::new(o.value.clone()))
    }
}

/// An aggregated ClusterRole with its rules filled from the roles its selectors match (the
/// clusterrole-aggregation controller's result, computed here so RBAC is right without it).
fn with_aggregated_rules(role: Arc<Value>, all: &[Arc<Value>]) -> Arc<Value> {
    if role.get("aggregationRule").is_none_or(Value::is_null) {
        return role;
    }
    match rbac::aggregate(&role, all) {
        Some(rules) => {
            let mut r = (*role).clone();
            r["rules"] = rules;
            Arc::new(r)
        }
        None => role,
    }
}

impl PolicySource for CachedPolicy<'_> {
    fn cluster_roles(&self) -> Vec<Arc<Value>> {
        let all = self.all("clusterroles", "");
        all.iter().map(|r| with_aggregated_rules(r.clone(), &all)).collect()
    }
    fn cluster_role_bindings(&self) -> Vec<Arc<Value>> {
        self.all("clusterrolebindings", "")
    }
    fn roles(&self, namespace: &str) -> Vec<Arc<Value>> {
        self.all("roles", &format!("{namespace}/"))
    }
    fn role_bindings(&self, namespace: &str) -> Vec<Arc<Value>> {
        self.all("rolebindings", &format!("{namespace}/"))
    }
    fn cluster_role(&self, name: &str) -> Option<Arc<Value>> {
        let role = self.one("clusterroles", name)?;
        if role.get("aggregationRule").is_none_or(Value::is_null) {
            return Some(role);
        }
        Some(with_aggregated_rules(role, &self.all("clusterroles", "")))
    }
    fn role(&self, namespace: &str, name: &str) -> Option<Arc<Value>> {
        self.one("roles", &format!("{namespace}/{name}"))
    }
}

/// Runs the chain; returns whether the request is allowed and the reason for the message.
pub fn authorize(api: &Api, a: &Attributes) -> (bool, String) {
    let mut reasons = Vec::new();
    for mode in &api.authorization_modes {
        let (decision, reason) = match mode {
            Mode::AlwaysAllow => (Decision::Allow, String::new()),
            Mode::AlwaysDeny => (Decision::Deny(String::new()), String::new()),
            Mode::Rbac => rbac::authorize_with_reason(&CachedPolicy::new(api), a),
            Mode::Node => super::node::authorize(api, a),
        };
        match decision {
            Decision::Allow => return (true, reason),
            Decision::Deny(r) => return (false, if r.is_empty() { reason } else { r }),
            Decision::NoOpinion => {
                if !reason.is_empty() {
                    reasons.push(reason);
                }
            }
        }
    }
    (false, reasons.join(", "))
}

/// system:masters is a superuser group for RBAC and everything that asks RBAC.
pub fn is_superuser(user: &super::User) -> bool {
    user.in_group(rbac::SYSTEM_MASTERS)
}
