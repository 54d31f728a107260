//! PolicyRule: parsing from JSON, request matching (upstream `evaluation_helpers.go` and `RuleAllows`) and the
//! JSON/compact-string renderings used by reviews and escalation messages.

use super::Attributes;
use super::message::go_quote_list;
use serde_json::{Map, Value};

/// `*`: every verb, API group, resource or non-resource URL.
pub(super) const ALL: &str = "*";

/// One RBAC policy rule; absent fields are empty lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyRule {
    pub verbs: Vec<String>,
    pub api_groups: Vec<String>,
    pub resources: Vec<String>,
    pub resource_names: Vec<String>,
    pub non_resource_urls: Vec<String>,
}

/// The strings of a JSON array field (non-strings are skipped); empty when absent.
fn strings(v: &Value, field: &str) -> Vec<String> {
    let items = v
        .get(field)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    items.iter().filter_map(Value::as_str).map(str::to_owned).collect()
}

/// Whether `list` contains `item`.
pub(super) fn has(list: &[String], item: &str) -> bool {
    list.iter().any(|s| s == item)
}

/// Whether `list` contains every string of `items`.
pub(super) fn has_all(list: &[String], items: &[String]) -> bool {
    items.iter().all(|i| has(list, i))
}

/// Whether `list` contains `*` or `item`.
fn has_or_all(list: &[String], item: &str) -> bool {
    list.iter().any(|s| s == ALL || s == item)
}

/// Whether a rule resource like `*/scale` names the requested subresource.
fn matches_any_subresource(rule_resource: &str, subresource: &str) -> bool {
    !subresource.is_empty() && rule_resource.strip_prefix("*/") == Some(subresource)
}

/// Whether a rule URL matches a path: exactly, or as a prefix ending in `*` (so `*` matches every path).
pub(super) fn url_matches(rule_url: &str, path: &str) -> bool {
    rule_url == path || (rule_url.ends_with('*') && path.starts_with(rule_url.trim_end_matches('*')))
}

impl PolicyRule {
    /// Parses a rule object (`verbs`, `apiGroups`, `resources`, `resourceNames`, `nonResourceURLs`).
    pub fn from_json(v: &Value) -> PolicyRule {
        PolicyRule {
            verbs: strings(v, "verbs"),
            api_groups: strings(v, "apiGroups"),
            resources: strings(v, "resources"),
            resource_names: strings(v, "resourceNames"),
            non_resource_urls: strings(v, "nonResourceURLs"),
        }
    }

    /// The rules of a Role or ClusterRole object.
    pub fn list_from_role(role: &Value) -> Vec<PolicyRule> {
        Self::list_from_json(role.get("rules").unwrap_or(&Value::Null))
    }

    /// Parses a JSON array of rules; anything else is no rules.
    pub fn list_from_json(rules: &Value) -> Vec<PolicyRule> {
        rules
            .as_array()
            .map(|a| a.iter().map(Self::from_json).collect())
            .unwrap_or_default()
    }

    /// Whether the rule permits the request (upstream `RuleAllows`).
    pub fn allows(&self, a: &Attributes) -> bool {
        if !has_or_all(&self.verbs, &a.verb) {
            return false;
        }
        if !a.resource_request {
            return self.non_resource_urls.iter().any(|u| url_matches(u, &a.path));
        }
        has_or_all(&self.api_groups, &a.api_group) && self.resource_matches(a) && self.resource_name_matches(&a.name)
    }

    /// `ResourceMatches`: `*`, the exact `resource[/subresource]`, or `*/subresource`.
    fn resource_matches(&self, a: &Attributes) -> bool {
        let combined = a.combined_resource();
        let matches = |r: &String| r == ALL || *r == combined || matches_any_subresource(r, &a.subresource);
        self.resources.iter().any(matches)
    }

    /// `ResourceNameMatches`: no names means any name.
    fn resource_name_matches(&self, name: &str) -> bool {
        self.resource_names.is_empty() || has(&self.resource_names, name)
    }

    /// The rule as a JSON PolicyRule, omitting empty optional fields.
    pub fn to_json(&self) -> Value {
        self.json_with(&[
            ("apiGroups", &self.api_groups),
            ("resources", &self.resources),
            ("resourceNames", &self.resource_names),
            ("nonResourceURLs", &self.non_resource_urls),
        ])
    }

    /// The rule as a SelfSubjectRulesReview `ResourceRule`.
    pub fn resource_rule_json(&self) -> Value {
        self.json_with(&[
            ("apiGroups", &self.api_groups),
            ("resources", &self.resources),
            ("resourceNames", &self.resource_names),
        ])
    }

    /// The rule as a SelfSubjectRulesReview `NonResourceRule`.
    pub fn non_resource_rule_json(&self) -> Value {
        self.json_with(&[("nonResourceURLs", &self.non_resource_urls)])
    }

    /// `{"verbs": [...]}` plus the non-empty `fields`.
    fn json_with(&self, fields: &[(&str, &Vec<String>)]) -> Value {
        let mut m = Map::new();
        m.insert("verbs".into(), self.verbs.clone().into());
        for (key, list) in fields.iter().filter(|(_, l)| !l.is_empty()) {
            m.insert((*key).into(), (*list).clone().into());
        }
        Value::Object(m)
    }

    /// Upstream `CompactString`: `{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}`.
    pub fn compact_string(&self) -> String {
        let parts = [
            ("APIGroups", &self.api_groups),
            ("Resources", &self.resources),
            ("NonResourceURLs", &self.non_resource_urls),
            ("ResourceNames", &self.resource_names),
            ("Verbs", &self.verbs),
        ];
        let shown: Vec<String> = parts
            .iter()
            .filter(|(_, l)| !l.is_empty())
            .map(|(k, l)| format!("{k}:{}", go_quote_list(l)))
            .collect();
        format!("{{{}}}", shown.join(", "))
    }
}
