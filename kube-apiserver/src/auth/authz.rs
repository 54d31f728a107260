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

    /// The objects of `resource` under `within`, as shared values; rebuilt only when the
    /// resource's watch cache has moved on since the last request asked.
    fn all(&self, resource: &str, within: &str) -> Vec<Arc<Value>> {
        let Some(store) = self.store(resource) else {
            return Vec::new();
        };
        let revision = store.cacher.revision();
        let key = format!("{resource}/{within}");
        let mut cache = self.api.policy_cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((rev, list)) = cache.get(&key)
            && *rev == revision
        {
            return list.as_ref().clone();
        }
        let list: Vec<Arc<Value>> = store
            .cacher
            .list(within)
            .0
            .into_iter()
            .map(|o| Arc::new(o.value.clone()))
            .collect();
        cache.insert(key, (revision, Arc::new(list.clone())));
        list
    }

    /// All ClusterRoles, aggregated; recomputed only when the ClusterRoles change.
    fn aggregated_cluster_roles(&self) -> Arc<Vec<Arc<Value>>> {
        let revision = self.store("clusterroles").map(|s| s.cacher.revision()).unwrap_or(0);
        let mut cache = self.api.aggregated_roles.lock().unwrap_or_else(|p| p.into_inner());
        if cache.0 != revision || cache.1.is_empty() {
            *cache = (revision, Arc::new(aggregated(self.all("clusterroles", ""))));
        }
        cache.1.clone()
    }

    fn one(&self, resource: &str, key: &str) -> Option<Arc<Value>> {
        self.store(resource)?.cacher.get(key).map(|o| Arc::new(o.value.clone()))
    }
}

/// ClusterRoles with aggregated rules filled in from the roles their selectors match, to a
/// fixpoint (edit aggregates view, itself aggregated): the clusterrole-aggregation
/// controller's result, computed here so RBAC is right without it. Cached per revision.
fn aggregated(all: Vec<Arc<Value>>) -> Vec<Arc<Value>> {
    let mut roles = all;
    for _ in 0..5 {
        let mut changed = false;
        let next: Vec<Arc<Value>> = roles
            .iter()
            .map(|role| {
                if role.get("aggregationRule").is_none_or(Value::is_null) {
                    return role.clone();
                }
                match rbac::aggregate(role, &roles) {
                    Some(rules) if role.get("rules") != Some(&rules) => {
                        changed = true;
                        let mut r = (**role).clone();
                        r["rules"] = rules;
                        Arc::new(r)
                    }
                    _ => role.clone(),
                }
            })
            .collect();
        roles = next;
        if !changed {
            break;
        }
    }
    roles
}

impl PolicySource for CachedPolicy<'_> {
    fn cluster_roles(&self) -> Vec<Arc<Value>> {
        self.aggregated_cluster_roles().to_vec()
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
        self.aggregated_cluster_roles()
            .iter()
            .find(|r| crate::registry::meta::name(r) == name)
            .cloned()
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
