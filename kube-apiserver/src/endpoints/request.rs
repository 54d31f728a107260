//! What a request asks for: the path parsed into group, version, namespace, resource, name
//! and subresource, the verb, and the query parameters.

use std::collections::HashMap;

/// A path under `/api` or `/apis`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiPath {
    /// `/api`
    CoreGroups,
    /// `/apis`
    Groups,
    /// `/apis/<group>`
    Group(String),
    /// `/api/v1`, `/apis/<group>/<version>`
    GroupVersion {
        group: String,
        version: String,
    },
    Resource(ResourcePath),
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResourcePath {
    pub group: String,
    pub version: String,
    pub namespace: Option<String>,
    pub resource: String,
    pub name: Option<String>,
    pub subresource: Option<String>,
}

/// Parses an API path; `None` when it is not one.
pub fn parse_path(path: &str) -> Option<ApiPath> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').filter(|s| !s.is_empty()).collect();
    let (group, version, rest) = match segs.as_slice() {
        ["api"] => return Some(ApiPath::CoreGroups),
        ["apis"] => return Some(ApiPath::Groups),
        ["apis", g] => return Some(ApiPath::Group(g.to_string())),
        ["api", v, rest @ ..] => ("", *v, rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return None,
    };
    if rest.is_empty() {
        return Some(ApiPath::GroupVersion {
            group: group.into(),
            version: version.into(),
        });
    }
    let namespaced =
        rest[0] == "namespaces" && rest.len() >= 3 && !(rest.len() == 3 && matches!(rest[2], "status" | "finalize"));
    let (namespace, rest) = if namespaced {
        (Some(rest[1].to_string()), &rest[2..])
    } else {
        (None, rest)
    };
    let mut p = ResourcePath {
        group: group.into(),
        version: version.into(),
        namespace,
        resource: rest[0].to_string(),
        ..Default::default()
    };
    p.name = rest.get(1).map(|s| decode(s));
    // Anything after the subresource (proxy paths) stays with the connect handler.
    p.subresource = rest.get(2).map(|s| s.to_string());
    Some(ApiPath::Resource(p))
}

fn decode(s: &str) -> String {
    form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Query parameters; later duplicates win, as Go's url.Values.Get takes the first...
/// upstream takes the first, so the first wins here too.
#[derive(Debug, Clone, Default)]
pub struct Query {
    map: HashMap<String, String>,
}

impl Query {
    pub fn parse(q: Option<&str>) -> Query {
        let mut map = HashMap::new();
        for (k, v) in form_urlencoded::parse(q.unwrap_or_default().as_bytes()) {
            map.entry(k.into_owned()).or_insert_with(|| v.into_owned());
        }
        Query { map }
    }

    pub fn get(&self, k: &str) -> Option<&str> {
        self.map.get(k).map(String::as_str)
    }

    pub fn has(&self, k: &str) -> bool {
        self.map.contains_key(k)
    }

    /// Go's strconv.ParseBool forms; absent is false.
    pub fn flag(&self, k: &str) -> bool {
        matches!(self.get(k), Some("1" | "t" | "T" | "true" | "TRUE" | "True"))
    }

    pub fn str(&self, k: &str) -> &str {
        self.get(k).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(path: &str) -> ResourcePath {
        match parse_path(path) {
            Some(ApiPath::Resource(r)) => r,
            other => panic!("{path}: {other:?}"),
        }
    }

    #[test]
    fn parses_paths() {
        assert_eq!(parse_path("/api"), Some(ApiPath::CoreGroups));
        assert_eq!(parse_path("/apis/apps"), Some(ApiPath::Group("apps".into())));
        let r = res("/api/v1/namespaces/default/pods/p1/status");
        assert_eq!(
            (
                r.namespace.as_deref(),
                r.resource.as_str(),
                r.name.as_deref(),
                r.subresource.as_deref()
            ),
            (Some("default"), "pods", Some("p1"), Some("status"))
        );
        let ns = res("/api/v1/namespaces/kube-system");
        assert_eq!(
            (ns.namespace, ns.resource.as_str(), ns.name.as_deref()),
            (None, "namespaces", Some("kube-system"))
        );
        let fin = res("/api/v1/namespaces/x/finalize");
        assert_eq!(
            (fin.resource.as_str(), fin.subresource.as_deref()),
            ("namespaces", Some("finalize"))
        );
        let d = res("/apis/apps/v1/deployments");
        assert_eq!((d.group.as_str(), d.namespace, d.name), ("apps", None, None));
        assert_eq!(parse_path("/healthz"), None);
    }

    #[test]
    fn query_flags() {
        let q = Query::parse(Some("watch=1&labelSelector=app%3Dx&pretty=false"));
        assert!(q.flag("watch"));
        assert!(!q.flag("pretty"));
        assert_eq!(q.get("labelSelector"), Some("app=x"));
    }
}
