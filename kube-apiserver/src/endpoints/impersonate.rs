//! Impersonation (`Impersonate-User`, `-Group`, `-Uid`, `-Extra-<key>` headers, as
//! `kubectl --as`): allowed only when the real user may `impersonate` each part, after which
//! the request runs as the impersonated user.

use super::authorize;
use crate::auth::User;
use crate::auth::rbac::Attributes;
use crate::errors::{ApiError, ApiResult};
use crate::state::Api;
use http::HeaderMap;

fn values<'a>(headers: &'a HeaderMap, name: &str) -> Vec<&'a str> {
    headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).collect()
}

fn impersonate_attrs(real: &User, resource: &str, group: &str, namespace: &str, name: &str) -> Attributes {
    Attributes {
        user: real.clone(),
        verb: "impersonate".into(),
        namespace: namespace.into(),
        api_group: group.into(),
        resource: resource.into(),
        name: name.into(),
        resource_request: true,
        ..Default::default()
    }
}

/// The user the request runs as: `real`, or who it impersonates.
pub fn apply(api: &Api, real: User, headers: &HeaderMap) -> ApiResult<User> {
    let name = values(headers, "impersonate-user").first().map(|s| s.to_string());
    let groups: Vec<String> = values(headers, "impersonate-group")
        .into_iter()
        .map(String::from)
        .collect();
    let uid = values(headers, "impersonate-uid").first().map(|s| s.to_string());
    let extras: Vec<(String, String)> = headers
        .iter()
        .filter_map(|(k, v)| {
            let key = k.as_str().strip_prefix("impersonate-extra-")?;
            let key = form_urlencoded::parse(format!("k={key}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())?;
            Some((key, v.to_str().ok()?.to_string()))
        })
        .collect();
    let Some(name) = name else {
        if groups.is_empty() && uid.is_none() && extras.is_empty() {
            return Ok(real);
        }
        return Err(ApiError::internal(
            "requested impersonation of groups, uid or extra without a user",
        ));
    };
    let sa = name
        .strip_prefix("system:serviceaccount:")
        .and_then(|r| r.split_once(':'));
    let check = |a: Attributes| authorize::check(api, &a);
    match sa {
        Some((ns, sa_name)) => check(impersonate_attrs(&real, "serviceaccounts", "", ns, sa_name))?,
        None => check(impersonate_attrs(&real, "users", "", "", &name))?,
    }
    for g in &groups {
        check(impersonate_attrs(&real, "groups", "", "", g))?;
    }
    if let Some(u) = &uid {
        check(impersonate_attrs(&real, "uids", "authentication.k8s.io", "", u))?;
    }
    for (k, v) in &extras {
        check(impersonate_attrs(
            &real,
            &format!("userextras/{k}"),
            "authentication.k8s.io",
            "",
            v,
        ))?;
    }
    let mut all_groups = groups;
    if let Some((ns, _)) = sa
        && all_groups.is_empty()
    {
        all_groups = vec!["system:serviceaccounts".into(), format!("system:serviceaccounts:{ns}")];
    }
    let marker = if name == "system:anonymous" {
        "system:unauthenticated"
    } else {
        "system:authenticated"
    };
    if !all_groups.iter().any(|g| g == marker) {
        all_groups.push(marker.into());
    }
    let mut user = User {
        name,
        uid: uid.unwrap_or_default(),
        groups: all_groups,
        extra: Default::default(),
    };
    for (k, v) in extras {
        user.extra.entry(k).or_default().push(v);
    }
    Ok(user)
}
