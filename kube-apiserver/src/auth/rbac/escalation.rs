//! Privilege-escalation prevention for writes to Roles, ClusterRoles and their bindings (upstream
//! `ConfirmNoEscalation`, `validation.Covers`, `CompactRules` and the `policybased` storages): a user may only
//! grant permissions they already hold, unless they may `escalate` roles / `bind` the referenced role, or are in
//! `system:masters`.

use super::message::{aggregate_errors, go_quote, go_quote_list};
use super::resolver::{self, Lookup};
use super::rule::{ALL, PolicyRule, has, has_all, url_matches};
use super::{Attributes, PolicySource, RBAC_GROUP, SYSTEM_MASTERS, UserInfo, text};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The reason given when a user without full authority sets or changes an aggregationRule.
const AGGREGATION_RULE_DENIED: &str = "must have cluster-admin privileges to use the aggregationRule";

/// Metadata fields the garbage collector may change without an escalation check (`IsOnlyMutatingGCFields`).
const GC_FIELDS: [&str; 4] = ["ownerReferences", "finalizers", "selfLink", "managedFields"];

/// Whether the user is in `system:masters`, which skips every escalation check (`EscalationAllowed`).
pub fn escalation_allowed(user: &UserInfo) -> bool {
    user.groups.iter().any(|g| g == SYSTEM_MASTERS)
}

/// Escalation check for creating/updating a Role/ClusterRole: `Ok` when the user's rules in `namespace` (empty for
/// cluster-wide) cover `rules`, else upstream's `user "bob" (groups=[...]) is attempting to grant RBAC permissions
/// not currently held:\n{...}` message (to be wrapped with [`super::forbidden_object_message`]).
pub fn confirm_no_escalation(
    src: &dyn PolicySource,
    user: &UserInfo,
    namespace: &str,
    rules: &[Value],
) -> Result<(), String> {
    let requested: Vec<PolicyRule> = rules.iter().map(PolicyRule::from_json).collect();
    confirm_rules(src, user, namespace, &requested)
}

/// [`confirm_no_escalation`] for parsed rules.
fn confirm_rules(
    src: &dyn PolicySource,
    user: &UserInfo,
    namespace: &str,
    requested: &[PolicyRule],
) -> Result<(), String> {
    let (owned, errors) = resolver::rules_for(src, Lookup::Registry, user, namespace);
    let missing = uncovered(&owned, requested);
    if missing.is_empty() {
        return Ok(());
    }
    let described: BTreeSet<String> = compact(missing).iter().map(PolicyRule::compact_string).collect();
    let mut msg = format!(
        "user {} (groups={}) is attempting to grant RBAC permissions not currently held:\n{}",
        go_quote(&user.name),
        go_quote_list(&user.groups),
        described.into_iter().collect::<Vec<_>>().join("\n")
    );
    if !errors.is_empty() {
        msg.push_str(&format!("; resolution errors: [{}]", aggregate_errors(&errors)));
    }
    Err(msg)
}

/// Binding check for creating/updating a RoleBinding (`namespace` = its namespace) or ClusterRoleBinding (empty
/// namespace): allowed for `system:masters`, when `authorize_bind` allows `bind` on the referenced role, or when the
/// user holds all of the role's permissions. Errors are the escalation message, or the role's not-found message
/// (`roles.rbac.authorization.k8s.io "x" not found`, upstream a 404) when the role does not exist.
pub fn may_bind(
    src: &dyn PolicySource,
    user: &UserInfo,
    namespace: &str,
    role_ref: &Value,
    authorize_bind: &dyn Fn(&Attributes) -> bool,
) -> Result<(), String> {
    if escalation_allowed(user) || bind_attributes(user, namespace, role_ref).is_some_and(|a| authorize_bind(&a)) {
        return Ok(());
    }
    let rules = resolver::role_ref_rules(src, Lookup::Registry, role_ref, namespace)?;
    confirm_rules(src, user, namespace, &rules)
}

/// The `bind` request on the referenced role (`BindingAuthorized`); none for an unknown role kind.
fn bind_attributes(user: &UserInfo, namespace: &str, role_ref: &Value) -> Option<Attributes> {
    let resource = match text(role_ref, &["kind"]) {
        "ClusterRole" => "clusterroles",
        "Role" => "roles",
        _ => return None,
    };
    Some(Attributes {
        user: user.clone(),
        verb: "bind".into(),
        namespace: namespace.into(),
        api_group: text(role_ref, &["apiGroup"]).into(),
        api_version: ALL.into(),
        resource: resource.into(),
        name: text(role_ref, &["name"]).into(),
        resource_request: true,
        ..Attributes::default()
    })
}

/// A create or update of a Role (non-empty namespace) or ClusterRole (empty namespace).
#[derive(Debug, Clone, Copy)]
pub struct RoleWrite<'a> {
    pub user: &'a UserInfo,
    /// The request's namespace: the Role's, empty for a ClusterRole.
    pub namespace: &'a str,
    /// The name in the request URL (empty on create).
    pub url_name: &'a str,
    /// The Role or ClusterRole being written.
    pub role: &'a Value,
    /// The stored object, on update.
    pub old_role: Option<&'a Value>,
}

impl RoleWrite<'_> {
    /// `roles` or `clusterroles`.
    pub fn resource(&self) -> &'static str {
        if self.namespace.is_empty() {
            "clusterroles"
        } else {
            "roles"
        }
    }

    /// The `escalate` request on the role being written (`RoleEscalationAuthorized`).
    fn escalate_attributes(&self) -> Attributes {
        Attributes {
            user: self.user.clone(),
            verb: "escalate".into(),
            namespace: self.namespace.into(),
            api_group: RBAC_GROUP.into(),
            api_version: ALL.into(),
            resource: self.resource().into(),
            name: self.url_name.into(),
            resource_request: true,
            ..Attributes::default()
        }
    }
}

/// The role-write check of the `policybased` storages: allowed for `system:masters`, when `authorize_escalate`
/// allows `escalate` on the role, when an update only touches garbage-collector metadata, or when the user holds
/// every rule written. Setting (or changing away from) a ClusterRole's aggregationRule additionally needs full
/// authority. The error is the reason, to be wrapped with [`super::forbidden_object_message`] for
/// [`RoleWrite::resource`].
pub fn may_write_role(
    src: &dyn PolicySource,
    w: &RoleWrite<'_>,
    authorize_escalate: &dyn Fn(&Attributes) -> bool,
) -> Result<(), String> {
    if escalation_allowed(w.user) || authorize_escalate(&w.escalate_attributes()) {
        return Ok(());
    }
    if w.old_role.is_some_and(|old| only_gc_fields_changed(w.role, old)) {
        return Ok(());
    }
    confirm_rules(src, w.user, w.namespace, &PolicyRule::list_from_role(w.role))?;
    let aggregating = has_aggregation_rule(w.role) || w.old_role.is_some_and(has_aggregation_rule);
    if w.namespace.is_empty() && aggregating {
        confirm_rules(src, w.user, "", &full_authority()).map_err(|_| AGGREGATION_RULE_DENIED.to_owned())?;
    }
    Ok(())
}

/// Whether a ClusterRole has a non-empty `aggregationRule.clusterRoleSelectors`.
fn has_aggregation_rule(role: &Value) -> bool {
    let selectors = role
        .pointer("/aggregationRule/clusterRoleSelectors")
        .and_then(Value::as_array);
    selectors.is_some_and(|s| !s.is_empty())
}

/// `*` on every resource of every group, and on every non-resource URL.
fn full_authority() -> [PolicyRule; 2] {
    let all = vec![ALL.to_owned()];
    let resources = PolicyRule {
        verbs: all.clone(),
        api_groups: all.clone(),
        resources: all.clone(),
        ..Default::default()
    };
    let urls = PolicyRule {
        verbs: all.clone(),
        non_resource_urls: all,
        ..Default::default()
    };
    [resources, urls]
}

/// Whether `new` equals `old` once the garbage-collector metadata fields are taken from `old`.
fn only_gc_fields_changed(new: &Value, old: &Value) -> bool {
    let mut copy = new.clone();
    let Some(meta) = copy.get_mut("metadata").and_then(Value::as_object_mut) else {
        return copy == *old;
    };
    for field in GC_FIELDS {
        match old.get("metadata").and_then(|m| m.get(field)) {
            Some(v) => meta.insert(field.to_owned(), v.clone()),
            None => meta.remove(field),
        };
    }
    copy == *old
}

/// The atomic pieces of `servant` rules that no `owner` rule covers (`validation.Covers`).
fn uncovered(owner: &[PolicyRule], servant: &[PolicyRule]) -> Vec<PolicyRule> {
    let pieces = servant.iter().flat_map(breakdown);
    pieces
        .filter(|piece| !owner.iter().any(|o| rule_covers(o, piece)))
        .collect()
}

/// Splits a rule into rules of one group, resource, verb and (optional) resource name, plus one per
/// non-resource URL and verb (`BreakdownRule`).
fn breakdown(rule: &PolicyRule) -> Vec<PolicyRule> {
    let one = |s: &String| vec![s.clone()];
    let names: Vec<Vec<String>> = match rule.resource_names.as_slice() {
        [] => vec![Vec::new()],
        names => names.iter().map(one).collect(),
    };
    let mut out = Vec::new();
    for group in &rule.api_groups {
        for resource in &rule.resources {
            for verb in &rule.verbs {
                out.extend(names.iter().map(|n| PolicyRule {
                    api_groups: one(group),
                    resources: one(resource),
                    verbs: one(verb),
                    resource_names: n.clone(),
                    ..Default::default()
                }));
            }
        }
    }
    for url in &rule.non_resource_urls {
        out.extend(rule.verbs.iter().map(|v| PolicyRule {
            non_resource_urls: one(url),
            verbs: one(v),
            ..Default::default()
        }));
    }
    out
}

/// Whether an owner rule covers a broken-down rule (`ruleCovers`).
fn rule_covers(owner: &PolicyRule, sub: &PolicyRule) -> bool {
    let verbs = has(&owner.verbs, ALL) || has_all(&owner.verbs, &sub.verbs);
    let groups = has(&owner.api_groups, ALL) || has_all(&owner.api_groups, &sub.api_groups);
    let urls = sub
        .non_resource_urls
        .iter()
        .all(|p| owner.non_resource_urls.iter().any(|o| url_matches(o, p)));
    let names = owner.resource_names.is_empty()
        || (!sub.resource_names.is_empty() && has_all(&owner.resource_names, &sub.resource_names));
    verbs && groups && urls && names && resources_covered(&owner.resources, &sub.resources)
}

/// Whether `owned` resources cover every one of `wanted`, counting `*` and `*/subresource` (`resourceCoversAll`).
fn resources_covered(owned: &[String], wanted: &[String]) -> bool {
    if has(owned, ALL) {
        return true;
    }
    wanted.iter().all(|path| {
        has(owned, path)
            || path
                .split_once('/')
                .is_some_and(|(_, sub)| has(owned, &format!("*/{sub}")))
    })
}

/// Merges rules of a single group and resource that differ only in verbs (`CompactRules`).
fn compact(rules: Vec<PolicyRule>) -> Vec<PolicyRule> {
    let mut simple: BTreeMap<(String, String), PolicyRule> = BTreeMap::new();
    let mut out = Vec::new();
    for rule in rules {
        match simple_key(&rule) {
            Some(key) => simple
                .entry(key)
                .or_insert_with(|| PolicyRule {
                    verbs: Vec::new(),
                    ..rule.clone()
                })
                .verbs
                .extend(rule.verbs),
            None => out.push(rule),
        }
    }
    out.extend(simple.into_values());
    out
}

/// The (group, resource) of a rule with exactly one of each and no names or URLs.
fn simple_key(rule: &PolicyRule) -> Option<(String, String)> {
    if !rule.resource_names.is_empty() || !rule.non_resource_urls.is_empty() {
        return None;
    }
    match (rule.api_groups.as_slice(), rule.resources.as_slice()) {
        ([group], [resource]) => Some((group.clone(), resource.clone())),
        _ => None,
    }
}
