//! Turning a request into authorizer attributes (upstream's RequestInfo: the verb from the
//! method, name and `watch`; resource, subresource, namespace and group from the path) and
//! refusing it with upstream's 403 when the chain does not allow it.

use super::request::{Query, ResourcePath};
use crate::auth::User;
use crate::auth::rbac::{Attributes, forbidden_message};
use crate::errors::{ApiError, ApiResult};
use crate::state::Api;
use http::Method;
use serde_json::json;

/// The Kubernetes verb of a resource request.
pub fn resource_verb(method: &Method, rp: &ResourcePath, query: &Query) -> String {
    let named = rp.name.is_some();
    match *method {
        Method::GET | Method::HEAD if !named && query.flag("watch") => "watch",
        Method::GET | Method::HEAD if named => "get",
        Method::GET | Method::HEAD => "list",
        Method::POST => "create",
        Method::PUT => "update",
        Method::PATCH => "patch",
        Method::DELETE if named => "delete",
        Method::DELETE => "deletecollection",
        _ => "",
    }
    .to_string()
}

pub fn resource_attributes(user: &User, method: &Method, rp: &ResourcePath, query: &Query) -> Attributes {
    Attributes {
        user: user.clone(),
        verb: resource_verb(method, rp, query),
        namespace: rp.namespace.clone().unwrap_or_default(),
        api_group: rp.group.clone(),
        api_version: rp.version.clone(),
        resource: rp.resource.clone(),
        subresource: rp.subresource.clone().unwrap_or_default(),
        name: rp.name.clone().unwrap_or_default(),
        resource_request: true,
        path: String::new(),
    }
}

pub fn path_attributes(user: &User, method: &Method, path: &str) -> Attributes {
    Attributes {
        user: user.clone(),
        verb: method.as_str().to_ascii_lowercase(),
        path: path.to_string(),
        resource_request: false,
        ..Default::default()
    }
}

/// 403 unless the authorization chain allows `a`.
pub fn check(api: &Api, a: &Attributes) -> ApiResult<()> {
    let (allowed, reason) = crate::auth::authz::authorize(api, a);
    if allowed {
        return Ok(());
    }
    let mut details = json!({});
    if a.resource_request {
        if !a.name.is_empty() {
            details["name"] = json!(a.name);
        }
        if !a.api_group.is_empty() {
            details["group"] = json!(a.api_group);
        }
        details["kind"] = json!(a.resource);
    }
    Err(ApiError::forbidden(forbidden_message(a, &reason)).with_details(details))
}
