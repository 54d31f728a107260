//! RBAC authorization (upstream `plugin/pkg/auth/authorizer/rbac` and `pkg/registry/rbac`): rule evaluation,
//! the rule resolver over Roles/ClusterRoles and their bindings, escalation and bind checks, SelfSubjectRulesReview
//! rules, ClusterRole aggregation and the 403 message. Objects are plain JSON read from a [`PolicySource`].

mod aggregate;
mod escalation;
mod message;
mod resolver;
mod rule;
#[cfg(test)]
mod tests;

use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

pub use aggregate::{aggregate, selector_matches};
pub use escalation::{RoleWrite, confirm_no_escalation, escalation_allowed, may_bind, may_write_role};
pub use message::{forbidden_message, forbidden_object_message};
pub use rule::PolicyRule;

/// The group whose members bypass every escalation check (`user.SystemPrivilegedGroup`).
pub const SYSTEM_MASTERS: &str = "system:masters";
/// The API group of the RBAC objects.
pub const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// The authenticated user a request is made as.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserInfo {
    pub name: String,
    pub uid: String,
    pub groups: Vec<String>,
    pub extra: BTreeMap<String, Vec<String>>,
}

/// What a request asks to do (upstream `authorizer.Attributes`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attributes {
    pub user: UserInfo,
    /// get list watch create update patch delete deletecollection (or bind, escalate, ...); the lower-case HTTP
    /// verb for non-resource requests.
    pub verb: String,
    pub namespace: String,
    pub api_group: String,
    pub api_version: String,
    pub resource: String,
    pub subresource: String,
    pub name: String,
    pub resource_request: bool,
    pub path: String,
}

impl Attributes {
    /// `resource/subresource`, or just the resource when there is no subresource.
    pub fn combined_resource(&self) -> String {
        match self.subresource.as_str() {
            "" => self.resource.clone(),
            sub => format!("{}/{sub}", self.resource),
        }
    }
}

/// The RBAC objects the authorizer reads (from the server's watch caches), as JSON.
pub trait PolicySource {
    fn cluster_roles(&self) -> Vec<Arc<Value>>;
    fn cluster_role_bindings(&self) -> Vec<Arc<Value>>;
    fn roles(&self, namespace: &str) -> Vec<Arc<Value>>;
    fn role_bindings(&self, namespace: &str) -> Vec<Arc<Value>>;
    fn cluster_role(&self, name: &str) -> Option<Arc<Value>>;
    fn role(&self, namespace: &str, name: &str) -> Option<Arc<Value>>;
}

/// An authorizer's answer. RBAC only ever allows or has no opinion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// Denied, with a reason that may be empty.
    Deny(String),
    NoOpinion,
}

/// RBAC authorization: `Allow` when some rule bound to the user permits the request, else `NoOpinion`.
pub fn authorize(src: &dyn PolicySource, a: &Attributes) -> Decision {
    authorize_with_reason(src, a).0
}

/// [`authorize`] with upstream's reason: `RBAC: allowed by ClusterRoleBinding "x" of ClusterRole "y" to User "z"`
/// when allowed; `RBAC: <resolution errors>` (or empty) otherwise.
pub fn authorize_with_reason(src: &dyn PolicySource, a: &Attributes) -> (Decision, String) {
    let mut errors = Vec::new();
    let mut allowed_by = None;
    resolver::visit_rules(
        src,
        resolver::Lookup::Lister,
        &a.user,
        &a.namespace,
        &mut |visit| match visit {
            resolver::Visit::Rule(source, rule) if rule.allows(a) => {
                allowed_by = Some(source.to_string());
                false
            }
            resolver::Visit::Rule(..) => true,
            resolver::Visit::Error(e) => {
                errors.push(e);
                true
            }
        },
    );
    match allowed_by {
        Some(source) => (Decision::Allow, format!("RBAC: allowed by {source}")),
        None if errors.is_empty() => (Decision::NoOpinion, String::new()),
        None => (
            Decision::NoOpinion,
            format!("RBAC: {}", message::aggregate_errors(&errors)),
        ),
    }
}

/// Rules that apply to a user in a namespace (for SelfSubjectRulesReview): (resourceRules, nonResourceRules,
/// incomplete). RBAC's rule list is complete even when some binding could not be resolved (upstream returns
/// `false` and reports the errors separately; see [`rules_review_status`]).
pub fn rules_for(src: &dyn PolicySource, user: &UserInfo, namespace: &str) -> (Vec<Value>, Vec<Value>, bool) {
    let (resource, non_resource, _) = review_rules(src, user, namespace);
    (resource, non_resource, false)
}

/// The `status` of a SelfSubjectRulesReview: `resourceRules`, `nonResourceRules`, `incomplete` and, when some
/// binding could not be resolved, `evaluationError`.
pub fn rules_review_status(src: &dyn PolicySource, user: &UserInfo, namespace: &str) -> Value {
    let (resource, non_resource, errors) = review_rules(src, user, namespace);
    let mut status = serde_json::json!({
        "resourceRules": resource,
        "nonResourceRules": non_resource,
        "incomplete": false,
    });
    if !errors.is_empty() {
        status["evaluationError"] = Value::String(message::aggregate_errors(&errors));
    }
    status
}

/// The review's resource rules, non-resource rules and resolution errors.
fn review_rules(src: &dyn PolicySource, user: &UserInfo, namespace: &str) -> (Vec<Value>, Vec<Value>, Vec<String>) {
    let (rules, errors) = resolver::rules_for(src, resolver::Lookup::Lister, user, namespace);
    let resource = rules
        .iter()
        .filter(|r| !r.resources.is_empty())
        .map(PolicyRule::resource_rule_json);
    let non_resource = rules
        .iter()
        .filter(|r| !r.non_resource_urls.is_empty())
        .map(PolicyRule::non_resource_rule_json);
    (resource.collect(), non_resource.collect(), errors)
}

/// The string at `path` in a JSON object, or "" when absent or not a string.
fn text<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    path.iter()
        .try_fold(v, |v, key| v.get(key))
        .and_then(Value::as_str)
        .unwrap_or_default()
}
