//! The rule resolver (upstream `DefaultRuleResolver`): walks the ClusterRoleBindings, then the RoleBindings of the
//! namespace, whose subjects match the user, and yields the rules of the roles they reference, or the errors met
//! resolving those roles.

use super::message::go_quote;
use super::rule::PolicyRule;
use super::{PolicySource, RBAC_GROUP, UserInfo, text};
use serde_json::Value;
use std::fmt;

/// Prefix of service-account user names: `system:serviceaccount:<namespace>:<name>`.
const SERVICE_ACCOUNT_PREFIX: &str = "system:serviceaccount:";

/// How a missing role is reported. The authorizer reads informer listers (`role.rbac.authorization.k8s.io "x" not
/// found`); the registry's escalation checks read storage (`roles.rbac.authorization.k8s.io "x" not found`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lookup {
    Lister,
    Registry,
}

impl Lookup {
    /// The not-found message for a role of `kind` (`Role` or `ClusterRole`).
    fn not_found(self, kind: &str, name: &str) -> String {
        let resource = kind.to_ascii_lowercase();
        let plural = if self == Lookup::Registry { "s" } else { "" };
        format!("{resource}{plural}.{RBAC_GROUP} {} not found", go_quote(name))
    }
}

/// The binding and subject a rule was granted through; displays as upstream's describers.
pub(super) struct Source<'a> {
    binding: &'a Value,
    subject: &'a Value,
    /// The binding's namespace; empty for a ClusterRoleBinding.
    namespace: &'a str,
}

impl fmt::Display for Source<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = text(self.binding, &["metadata", "name"]);
        let (kind, binding) = match self.namespace {
            "" => ("ClusterRoleBinding", name.to_owned()),
            ns => ("RoleBinding", format!("{name}/{ns}")),
        };
        let role_kind = text(self.binding, &["roleRef", "kind"]);
        let role_name = go_quote(text(self.binding, &["roleRef", "name"]));
        let subject = describe_subject(self.subject, self.namespace);
        write!(
            f,
            "{kind} {} of {role_kind} {role_name} to {subject}",
            go_quote(&binding)
        )
    }
}

/// `User "bob"`, `Group "g"`, or `ServiceAccount "name/namespace"` (namespace defaulted to the binding's).
fn describe_subject(subject: &Value, binding_namespace: &str) -> String {
    let (kind, name) = (text(subject, &["kind"]), text(subject, &["name"]));
    if kind != "ServiceAccount" {
        return format!("{kind} {}", go_quote(name));
    }
    let ns = match text(subject, &["namespace"]) {
        "" => binding_namespace,
        ns => ns,
    };
    format!("{kind} {}", go_quote(&format!("{name}/{ns}")))
}

/// What the resolver hands its visitor.
pub(super) enum Visit<'a> {
    Rule(&'a Source<'a>, &'a PolicyRule),
    Error(String),
}

/// Calls `visitor` with each rule that applies to `user` in `namespace` (cluster-wide rules only when empty) and
/// each resolution error, stopping as soon as the visitor returns false.
pub(super) fn visit_rules(
    src: &dyn PolicySource,
    lookup: Lookup,
    user: &UserInfo,
    namespace: &str,
    visitor: &mut dyn FnMut(Visit<'_>) -> bool,
) {
    let cluster = src.cluster_role_bindings();
    if !visit_bindings(src, lookup, user, "", &cluster, visitor) || namespace.is_empty() {
        return;
    }
    let local = src.role_bindings(namespace);
    visit_bindings(src, lookup, user, namespace, &local, visitor);
}

/// Visits the rules of the bindings (RoleBindings of `namespace`, or ClusterRoleBindings when it is empty) that
/// apply to the user. Returns false when the visitor stopped the walk.
fn visit_bindings(
    src: &dyn PolicySource,
    lookup: Lookup,
    user: &UserInfo,
    namespace: &str,
    bindings: &[std::sync::Arc<Value>],
    visitor: &mut dyn FnMut(Visit<'_>) -> bool,
) -> bool {
    for binding in bindings {
        let Some(subject) = applying_subject(user, binding, namespace) else {
            continue;
        };
        let role_ref = binding.get("roleRef").unwrap_or(&Value::Null);
        let rules = match role_ref_rules(src, lookup, role_ref, namespace) {
            Ok(rules) => rules,
            Err(e) => {
                if !visitor(Visit::Error(e)) {
                    return false;
                }
                continue;
            }
        };
        let source = Source {
            binding,
            subject,
            namespace,
        };
        if !rules.iter().all(|rule| visitor(Visit::Rule(&source, rule))) {
            return false;
        }
    }
    true
}

/// All rules that apply to the user in the namespace, and the errors met resolving them.
pub(super) fn rules_for(
    src: &dyn PolicySource,
    lookup: Lookup,
    user: &UserInfo,
    namespace: &str,
) -> (Vec<PolicyRule>, Vec<String>) {
    let (mut rules, mut errors) = (Vec::new(), Vec::new());
    visit_rules(src, lookup, user, namespace, &mut |visit| {
        match visit {
            Visit::Rule(_, rule) => rules.push(rule.clone()),
            Visit::Error(e) => errors.push(e),
        }
        true
    });
    (rules, errors)
}

/// The rules of the Role (in `binding_namespace`) or ClusterRole a `roleRef` names (`GetRoleReferenceRules`).
pub(super) fn role_ref_rules(
    src: &dyn PolicySource,
    lookup: Lookup,
    role_ref: &Value,
    binding_namespace: &str,
) -> Result<Vec<PolicyRule>, String> {
    let (kind, name) = (text(role_ref, &["kind"]), text(role_ref, &["name"]));
    let role = match kind {
        "Role" => src.role(binding_namespace, name),
        "ClusterRole" => src.cluster_role(name),
        other => return Err(format!("unsupported role reference kind: {}", go_quote(other))),
    };
    role.map(|r| PolicyRule::list_from_role(&r))
        .ok_or_else(|| lookup.not_found(kind, name))
}

/// The first subject of the binding that applies to the user (`appliesTo`).
fn applying_subject<'a>(user: &UserInfo, binding: &'a Value, namespace: &str) -> Option<&'a Value> {
    let subjects = binding.get("subjects").and_then(Value::as_array)?;
    subjects.iter().find(|s| subject_applies(user, s, namespace))
}

/// Whether a User, Group or ServiceAccount subject names the user. A ServiceAccount without a namespace means
/// one in the binding's namespace (never matching from a ClusterRoleBinding).
fn subject_applies(user: &UserInfo, subject: &Value, namespace: &str) -> bool {
    let name = text(subject, &["name"]);
    match text(subject, &["kind"]) {
        "User" => user.name == name,
        "Group" => user.groups.iter().any(|g| g == name),
        "ServiceAccount" => {
            let sa_namespace = match text(subject, &["namespace"]) {
                "" => namespace,
                ns => ns,
            };
            !sa_namespace.is_empty() && is_service_account(&user.name, sa_namespace, name)
        }
        _ => false,
    }
}

/// Whether `username` is `system:serviceaccount:<namespace>:<name>`.
fn is_service_account(username: &str, namespace: &str, name: &str) -> bool {
    let rest = username
        .strip_prefix(SERVICE_ACCOUNT_PREFIX)
        .and_then(|r| r.strip_prefix(namespace));
    rest.and_then(|r| r.strip_prefix(':')) == Some(name)
}
