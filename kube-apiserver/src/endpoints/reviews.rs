//! Authorization reviews: SubjectAccessReview, LocalSubjectAccessReview,
//! SelfSubjectAccessReview (`kubectl auth can-i`) and SelfSubjectRulesReview
//! (`kubectl auth can-i --list`), answered by the server's authorization chain.

use super::{Body, Ctx, negotiate, respond_value};
use crate::auth::User;
use crate::auth::authz::{self, CachedPolicy, Mode};
use crate::auth::rbac::{self, Attributes};
use crate::errors::{ApiError, ApiResult, FieldError};
use crate::state::Api;
use http::Response;
use serde_json::{Value, json};

fn s(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or_default().to_string()
}

fn attributes(user: User, spec: &Value) -> ApiResult<Attributes> {
    if let Some(r) = spec.get("resourceAttributes").filter(|r| r.is_object()) {
        return Ok(Attributes {
            user,
            verb: s(r, "verb"),
            namespace: s(r, "namespace"),
            api_group: s(r, "group"),
            api_version: s(r, "version"),
            resource: s(r, "resource"),
            subresource: s(r, "subresource"),
            name: s(r, "name"),
            resource_request: true,
            path: String::new(),
        });
    }
    if let Some(n) = spec.get("nonResourceAttributes").filter(|n| n.is_object()) {
        return Ok(Attributes {
            user,
            verb: s(n, "verb"),
            path: s(n, "path"),
            resource_request: false,
            ..Default::default()
        });
    }
    Err(ApiError::invalid(
        "authorization.k8s.io",
        "SubjectAccessReview",
        "",
        &[FieldError::invalid(
            "spec.resourceAttributes",
            "null",
            "exactly one of nonResourceAttributes or resourceAttributes must be specified",
        )],
    ))
}

fn user_from_spec(spec: &Value) -> User {
    let groups = spec
        .get("groups")
        .and_then(Value::as_array)
        .map(|g| g.iter().filter_map(|x| x.as_str().map(String::from)).collect());
    let extra = spec
        .get("extra")
        .and_then(|e| serde_json::from_value(e.clone()).ok())
        .unwrap_or_default();
    User {
        name: s(spec, "user"),
        uid: s(spec, "uid"),
        groups: groups.unwrap_or_default(),
        extra,
    }
}

/// POST subjectaccessreviews, localsubjectaccessreviews, selfsubjectaccessreviews.
pub fn access_review(api: &Api, ctx: &Ctx) -> ApiResult<Response<Body>> {
    let mut review = negotiate::decode_body(ctx.content_type(), &ctx.body)?;
    let spec = review.get("spec").cloned().unwrap_or(json!({}));
    let user = match ctx.info.resource {
        "selfsubjectaccessreviews" => ctx.user.clone(),
        _ => user_from_spec(&spec),
    };
    if ctx.info.resource == "localsubjectaccessreviews" {
        let want = spec
            .pointer("/resourceAttributes/namespace")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if want != ctx.namespace().unwrap_or_default() {
            return Err(ApiError::invalid(
                "authorization.k8s.io",
                "LocalSubjectAccessReview",
                "",
                &[FieldError::invalid(
                    "spec.resourceAttributes.namespace",
                    want,
                    "must match metadata.namespace",
                )],
            ));
        }
    }
    let a = attributes(user, &spec)?;
    let (allowed, reason) = authz::authorize(api, &a);
    let mut status = json!({"allowed": allowed});
    if !reason.is_empty() {
        status["reason"] = json!(reason);
    }
    review["status"] = status;
    review["kind"] = json!(ctx.info.kind);
    review["apiVersion"] = json!("authorization.k8s.io/v1");
    review["metadata"] = review
        .get("metadata")
        .cloned()
        .unwrap_or(json!({"creationTimestamp": null}));
    Ok(respond_value(201, &review, ctx.output.encoding))
}

/// POST selfsubjectrulesreviews.
pub fn rules_review(api: &Api, ctx: &Ctx) -> ApiResult<Response<Body>> {
    let mut review = negotiate::decode_body(ctx.content_type(), &ctx.body)?;
    let namespace = review
        .pointer("/spec/namespace")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let status = if api.authorization_modes.contains(&Mode::AlwaysAllow) {
        json!({
            "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
            "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
            "incomplete": false,
        })
    } else {
        rbac::rules_review_status(&CachedPolicy::new(api), &ctx.user, &namespace)
    };
    review["status"] = status;
    review["kind"] = json!("SelfSubjectRulesReview");
    review["apiVersion"] = json!("authorization.k8s.io/v1");
    review["metadata"] = json!({"creationTimestamp": null});
    Ok(respond_value(201, &review, ctx.output.encoding))
}
