//! Describers for Role/ClusterRole (rules broken down per resource and compacted as upstream's
//! rbac helpers do) and RoleBinding/ClusterRoleBinding.

use super::{PrefixWriter, annotations_multiline, arr_at, labels_multiline, plain, str_at};
use serde_json::Value;

/// One policy rule, its lists as strings.
#[derive(Clone, Debug, PartialEq)]
struct Rule {
    groups: Vec<String>,
    resources: Vec<String>,
    names: Vec<String>,
    urls: Vec<String>,
    verbs: Vec<String>,
}

fn strings(v: &Value, key: &str) -> Vec<String> {
    arr_at(v, &[key]).iter().map(plain).collect()
}

/// upstream's BreakdownRule: one rule per group × resource × name, and one per URL.
fn breakdown(r: &Value) -> Vec<Rule> {
    let groups = strings(r, "apiGroups");
    let resources = strings(r, "resources");
    let names = strings(r, "resourceNames");
    let urls = strings(r, "nonResourceURLs");
    let verbs = strings(r, "verbs");
    let mut out = Vec::new();
    for g in &groups {
        for res in &resources {
            if names.is_empty() {
                out.push(Rule {
                    groups: vec![g.clone()],
                    resources: vec![res.clone()],
                    names: vec![],
                    urls: vec![],
                    verbs: verbs.clone(),
                });
            }
            for n in &names {
                out.push(Rule {
                    groups: vec![g.clone()],
                    resources: vec![res.clone()],
                    names: vec![n.clone()],
                    urls: vec![],
                    verbs: verbs.clone(),
                });
            }
        }
    }
    for u in &urls {
        out.push(Rule {
            groups: vec![],
            resources: vec![],
            names: vec![],
            urls: vec![u.clone()],
            verbs: verbs.clone(),
        });
    }
    out
}

/// upstream's CompactRules: simple resource rules (one group, one resource, no names) for the
/// same group and resource are merged, their verbs appended in order without duplicates.
fn compact(rules: Vec<Rule>) -> Vec<Rule> {
    let mut out: Vec<Rule> = Vec::new();
    let mut simple: Vec<(String, String, usize)> = Vec::new();
    for r in rules {
        let is_simple = r.groups.len() == 1 && r.resources.len() == 1 && r.names.is_empty() && r.urls.is_empty();
        if is_simple {
            let key = (r.groups[0].clone(), r.resources[0].clone());
            if let Some((_, _, i)) = simple.iter().find(|(g, res, _)| *g == key.0 && *res == key.1) {
                let existing = &mut out[*i];
                for v in r.verbs {
                    if !existing.verbs.contains(&v) {
                        existing.verbs.push(v);
                    }
                }
                continue;
            }
            simple.push((key.0, key.1, out.len()));
        }
        out.push(r);
    }
    out
}

/// upstream's SortableRuleSlice order: by the generated `PolicyRule.String()`, which lists
/// the verbs first.
fn rule_text(r: &Rule) -> String {
    format!(
        "&PolicyRule{{Verbs:{},APIGroups:{},Resources:{},ResourceNames:{},NonResourceURLs:{},}}",
        list(&r.verbs),
        list(&r.groups),
        list(&r.resources),
        list(&r.names),
        list(&r.urls)
    )
}

fn combine(resources: &[String], groups: &[String]) -> String {
    let Some(first) = resources.first() else {
        return String::new();
    };
    let (res, sub) = match first.split_once('/') {
        Some((a, b)) => (a, Some(b)),
        None => (first.as_str(), None),
    };
    let mut out = res.to_string();
    if let Some(g) = groups.first().filter(|g| !g.is_empty()) {
        out = format!("{out}.{g}");
    }
    if let Some(s) = sub {
        out = format!("{out}/{s}");
    }
    out
}

fn list(v: &[String]) -> String {
    format!("[{}]", v.join(" "))
}

pub fn role(r: &Value) -> String {
    let mut rules: Vec<Rule> = compact(arr_at(r, &["rules"]).iter().flat_map(breakdown).collect());
    rules.sort_by_key(rule_text);
    let mut w = PrefixWriter::new();
    w.write(0, &format!("Name:\t{}\n", str_at(r, &["metadata", "name"])));
    labels_multiline(&mut w, "", "Labels", &r["metadata"]["labels"]);
    annotations_multiline(&mut w, "Annotations", &r["metadata"]["annotations"]);
    w.write(0, "PolicyRule:\n");
    w.write(1, "Resources\tNon-Resource URLs\tResource Names\tVerbs\n");
    w.write(1, "---------\t-----------------\t--------------\t-----\n");
    for rule in &rules {
        w.write(
            1,
            &format!(
                "{}\t{}\t{}\t{}\n",
                combine(&rule.resources, &rule.groups),
                list(&rule.urls),
                list(&rule.names),
                list(&rule.verbs)
            ),
        );
    }
    w.finish()
}

pub fn binding(b: &Value) -> String {
    let mut w = PrefixWriter::new();
    w.write(0, &format!("Name:\t{}\n", str_at(b, &["metadata", "name"])));
    labels_multiline(&mut w, "", "Labels", &b["metadata"]["labels"]);
    annotations_multiline(&mut w, "Annotations", &b["metadata"]["annotations"]);
    w.write(0, "Role:\n");
    w.write(1, &format!("Kind:\t{}\n", str_at(b, &["roleRef", "kind"])));
    w.write(1, &format!("Name:\t{}\n", str_at(b, &["roleRef", "name"])));
    w.write(0, "Subjects:\n");
    w.write(1, "Kind\tName\tNamespace\n");
    w.write(1, "----\t----\t---------\n");
    for s in arr_at(b, &["subjects"]) {
        w.write(
            1,
            &format!(
                "{}\t{}\t{}\n",
                str_at(s, &["kind"]),
                str_at(s, &["name"]),
                str_at(s, &["namespace"])
            ),
        );
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn breakdown_and_compact() {
        let r =
            json!({"apiGroups": ["", "apps"], "resources": ["pods", "deployments/scale"], "verbs": ["get", "list"]});
        let rules = compact(breakdown(&r));
        assert_eq!(rules.len(), 4);
        assert_eq!(combine(&rules[3].resources, &rules[3].groups), "deployments.apps/scale");
        let twice = [
            r.clone(),
            json!({"apiGroups": [""], "resources": ["pods"], "verbs": ["watch", "get"]}),
        ];
        let rules = compact(twice.iter().flat_map(breakdown).collect());
        assert_eq!(rules[0].verbs, vec!["get", "list", "watch"]);
    }
}
