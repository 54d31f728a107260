//! Resource arguments as kubectl reads them: `TYPE[,TYPE…] [NAME…]` or `TYPE/NAME…`, where a
//! type is a plural, singular, kind or short name, optionally qualified by group
//! (`deployments.apps`) or version and group (`deployments.v1.apps`), or a category (`all`).

use crate::discovery::{Discovery, Resource};
use crate::error::CmdError;

/// One resource type to act on, with the names asked for (empty: all of them).
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub resource: Resource,
    pub names: Vec<String>,
}

/// The raw form of the arguments: (type, names) pairs in the order given.
pub fn split_args(args: &[String]) -> Result<Vec<(String, Vec<String>)>, CmdError> {
    let Some(first) = args.first() else {
        return Ok(Vec::new());
    };
    if first.contains('/') {
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for a in args {
            let Some((t, n)) = a.split_once('/') else {
                return Err(CmdError::msg(
                    "there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'kubectl get resource/<resource_name>' instead of 'kubectl get resource resource/<resource_name>'",
                ));
            };
            if t.is_empty() || n.is_empty() {
                return Err(CmdError::msg(
                    "arguments in resource/name form must have a single resource and name",
                ));
            }
            match out.iter_mut().find(|(ot, _)| ot == t) {
                Some((_, names)) => names.push(n.to_string()),
                None => out.push((t.to_string(), vec![n.to_string()])),
            }
        }
        return Ok(out);
    }
    if args[1..].iter().any(|a| a.contains('/')) {
        return Err(CmdError::msg(
            "there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'kubectl get resource/<resource_name>' instead of 'kubectl get resource resource/<resource_name>'",
        ));
    }
    let names: Vec<String> = args[1..].to_vec();
    Ok(first
        .split(',')
        .filter(|t| !t.is_empty())
        .map(|t| (t.to_string(), names.clone()))
        .collect())
}

/// Resolves one type token to the resources it means (several for a category).
pub fn resolve(d: &Discovery, token: &str) -> Option<Vec<Resource>> {
    let token = token.to_lowercase();
    let all = d.resources();
    let (name, version, group) = match token.split_once('.') {
        None => (token.as_str(), None, None),
        Some((n, rest)) => match rest.split_once('.') {
            // `deployments.v1.apps`: only when the middle part is a version of that group.
            Some((v, g)) if all.iter().any(|r| r.group == g && r.version == v) => (n, Some(v), Some(g)),
            _ => (n, None, Some(rest)),
        },
    };
    let matches = |r: &Resource, n: &str| {
        r.name == n || r.singular == n || r.kind.to_lowercase() == n || r.short_names.iter().any(|s| s == n)
    };
    let in_scope = |r: &Resource| group.is_none_or(|g| r.group == g) && version.is_none_or(|v| r.version == v);
    // Exact plural, singular or kind matches come before short names, and the preferred
    // version of the highest-priority group wins.
    let direct = all
        .iter()
        .filter(|r| in_scope(r))
        .find(|r| r.name == name || r.singular == name || r.kind.to_lowercase() == name);
    if let Some(r) = direct.or_else(|| all.iter().filter(|r| in_scope(r)).find(|r| matches(r, name))) {
        return Some(vec![r.clone()]);
    }
    if group.is_none() {
        let mut out: Vec<Resource> = Vec::new();
        for r in d.preferred_resources() {
            if r.categories.iter().any(|c| c == name) && !out.iter().any(|o| o.name == r.name && o.group == r.group) {
                out.push(r);
            }
        }
        if !out.is_empty() {
            return Some(out);
        }
    }
    None
}

/// upstream's warnings for a short name that lower-priority groups also use (none when the
/// token is some resource's plural or singular name).
pub fn short_name_warnings(d: &Discovery, token: &str) -> Vec<String> {
    let all = d.resources();
    if all.iter().any(|r| r.name == token || r.singular == token) {
        return Vec::new();
    }
    let Some(i) = all.iter().position(|r| r.short_names.iter().any(|s| s == token)) else {
        return Vec::new();
    };
    let mut seen = vec![all[i].group_resource()];
    let mut warnings = Vec::new();
    for other in &all[i + 1..] {
        let gr = other.group_resource();
        if other.short_names.iter().any(|s| s == token) && !seen.contains(&gr) {
            warnings.push(format!(
                "Warning: short name \"{token}\" could also match lower priority resource {gr}"
            ));
            seen.push(gr);
        }
    }
    warnings
}

/// Resolves every (type, names) pair; `Err(token)` names the first unknown type. Short-name
/// warnings go to stderr as the types resolve, as upstream's RESTMapper prints them.
pub fn resolve_all(d: &Discovery, pairs: &[(String, Vec<String>)]) -> Result<Vec<Target>, String> {
    let mut out = Vec::new();
    for (t, names) in pairs {
        let resources = resolve(d, t).ok_or_else(|| t.clone())?;
        for w in short_name_warnings(d, &t.to_lowercase()) {
            eprintln!("{w}");
        }
        for resource in resources {
            out.push(Target {
                resource,
                names: names.clone(),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::Group;
    use serde_json::json;

    fn disc() -> Discovery {
        let core = json!({"resources": [
            {"name": "pods", "singularName": "pod", "namespaced": true, "kind": "Pod", "verbs": [], "shortNames": ["po"], "categories": ["all"]},
            {"name": "pods/status", "singularName": "pod", "namespaced": true, "kind": "Pod", "verbs": []},
            {"name": "services", "singularName": "service", "namespaced": true, "kind": "Service", "verbs": [], "shortNames": ["svc"], "categories": ["all"]},
            {"name": "events", "singularName": "event", "namespaced": true, "kind": "Event", "verbs": [], "shortNames": ["ev"]}]});
        let apps = json!({"resources": [
            {"name": "deployments", "singularName": "deployment", "namespaced": true, "kind": "Deployment", "verbs": [], "shortNames": ["deploy"], "categories": ["all"]}]});
        let events = json!({"resources": [
            {"name": "events", "singularName": "event", "namespaced": true, "kind": "Event", "verbs": [], "shortNames": ["ev"]}]});
        let hpa2 = json!({"resources": [{"name": "horizontalpodautoscalers", "singularName": "horizontalpodautoscaler", "namespaced": true, "kind": "HorizontalPodAutoscaler", "verbs": [], "shortNames": ["hpa"], "categories": ["all"]}]});
        Discovery {
            groups: vec![
                Group {
                    name: "".into(),
                    versions: vec!["v1".into()],
                },
                Group {
                    name: "apps".into(),
                    versions: vec!["v1".into()],
                },
                Group {
                    name: "events.k8s.io".into(),
                    versions: vec!["v1".into()],
                },
                Group {
                    name: "autoscaling".into(),
                    versions: vec!["v2".into(), "v1".into()],
                },
            ],
            lists: vec![
                ("".into(), "v1".into(), core),
                ("apps".into(), "v1".into(), apps),
                ("events.k8s.io".into(), "v1".into(), events),
                ("autoscaling".into(), "v2".into(), hpa2.clone()),
                ("autoscaling".into(), "v1".into(), hpa2),
            ],
        }
    }

    fn names(token: &str) -> Vec<String> {
        resolve(&disc(), token)
            .unwrap_or_default()
            .iter()
            .map(|r| format!("{}/{}", r.group_resource(), r.version))
            .collect()
    }

    #[test]
    fn plural_singular_kind_short() {
        for t in ["pods", "pod", "Pod", "po", "PODS"] {
            assert_eq!(names(t), vec!["pods/v1"], "{t}");
        }
        assert_eq!(names("deploy"), vec!["deployments.apps/v1"]);
        assert_eq!(names("deployments.apps"), vec!["deployments.apps/v1"]);
        assert_eq!(names("deployments.v1.apps"), vec!["deployments.apps/v1"]);
        assert_eq!(names("hpa"), vec!["horizontalpodautoscalers.autoscaling/v2"]);
        assert_eq!(
            names("horizontalpodautoscalers.v1.autoscaling"),
            vec!["horizontalpodautoscalers.autoscaling/v1"]
        );
        assert!(names("foo").is_empty());
        assert!(names("pods.apps").is_empty());
    }

    #[test]
    fn core_group_wins_and_group_qualifies() {
        assert_eq!(names("events"), vec!["events/v1"]);
        assert_eq!(names("events.events.k8s.io"), vec!["events.events.k8s.io/v1"]);
    }

    #[test]
    fn categories() {
        assert_eq!(
            names("all"),
            vec![
                "pods/v1",
                "services/v1",
                "deployments.apps/v1",
                "horizontalpodautoscalers.autoscaling/v2"
            ]
        );
    }

    #[test]
    fn argument_forms() {
        let s = |a: &[&str]| split_args(&a.iter().map(|x| x.to_string()).collect::<Vec<_>>());
        assert_eq!(
            s(&["pods,svc", "a"]).ok(),
            Some(vec![
                ("pods".into(), vec!["a".into()]),
                ("svc".into(), vec!["a".into()])
            ])
        );
        assert_eq!(
            s(&["po/a", "svc/b", "po/c"]).ok(),
            Some(vec![
                ("po".into(), vec!["a".into(), "c".into()]),
                ("svc".into(), vec!["b".into()])
            ])
        );
        assert!(s(&["pods", "svc/b"]).is_err());
    }
}
