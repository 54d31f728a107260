//! Authentication APIs: TokenRequest (`serviceaccounts/<name>/token`), TokenReview,
//! SelfSubjectReview, and the service-account issuer's OIDC discovery documents.

use super::{Body, Ctx, negotiate, respond_value};
use crate::auth::User;
use crate::auth::serviceaccount::{Claims, KubernetesClaims, ObjectRef};
use crate::errors::{ApiError, ApiResult, FieldError};
use crate::registry::meta::{self, format_time};
use crate::state::Api;
use http::Response;
use serde_json::{Value, json};

/// Token lifetimes upstream accepts: at least 10 minutes; the default is an hour.
const MIN_EXPIRATION: i64 = 600;
const DEFAULT_EXPIRATION: i64 = 3600;
const MAX_EXPIRATION: i64 = 48 * 3600;

pub fn user_info(u: &User) -> Value {
    let mut v = json!({"username": u.name, "groups": u.groups});
    if !u.uid.is_empty() {
        v["uid"] = json!(u.uid);
    }
    if !u.extra.is_empty() {
        v["extra"] = json!(u.extra);
    }
    v
}

fn invalid(kind: &str, name: &str, e: FieldError) -> ApiError {
    ApiError::invalid("authentication.k8s.io", kind, name, &[e])
}

/// POST serviceaccounts/<name>/token.
pub async fn token_request(api: &Api, ctx: &Ctx) -> ApiResult<Response<Body>> {
    let body = negotiate::decode_body(ctx.content_type(), &ctx.body)?;
    let sa_name = ctx.path.name.clone().unwrap_or_default();
    let ns = ctx.namespace().unwrap_or_default().to_string();
    let tokens = api
        .auth
        .service_accounts
        .as_ref()
        .filter(|t| t.can_issue())
        .ok_or_else(|| ApiError::new(404, "NotFound", "the server could not find the requested resource"))?;
    let sa_store = api
        .store_named("", "serviceaccounts")
        .ok_or_else(|| ApiError::internal("no serviceaccounts store"))?;
    let sa = sa_store.get(Some(&ns), &sa_name).await?;
    let spec = body.get("spec").cloned().unwrap_or(json!({}));
    let expiration = spec
        .get("expirationSeconds")
        .and_then(Value::as_i64)
        .unwrap_or(DEFAULT_EXPIRATION);
    if expiration < MIN_EXPIRATION {
        return Err(invalid(
            "TokenRequest",
            &sa_name,
            FieldError::invalid(
                "spec.expirationSeconds",
                expiration,
                "may not specify a duration less than 10 minutes",
            ),
        ));
    }
    let expiration = expiration.min(MAX_EXPIRATION);
    let audiences: Vec<String> = match spec.get("audiences").and_then(Value::as_array) {
        Some(a) if !a.is_empty() => a.iter().filter_map(|x| x.as_str().map(String::from)).collect(),
        _ => tokens.audiences.clone(),
    };
    let mut k8s = KubernetesClaims {
        namespace: ns.clone(),
        serviceaccount: ObjectRef {
            name: sa_name.clone(),
            uid: meta::uid(&sa).to_string(),
        },
        pod: None,
        secret: None,
        node: None,
    };
    if let Some(bound) = spec.get("boundObjectRef").filter(|b| b.is_object()) {
        bind_to(api, &ns, &sa_name, bound, &mut k8s).await?;
    }
    let now = jiff::Timestamp::now();
    let claims = Claims {
        iss: tokens.issuers[0].clone(),
        aud: audiences.clone(),
        exp: now.as_second() + expiration,
        iat: now.as_second(),
        nbf: now.as_second(),
        sub: format!("system:serviceaccount:{ns}:{sa_name}"),
        jti: Some(uuid::Uuid::new_v4().to_string()),
        kubernetes: k8s,
    };
    let token = tokens.issue(&claims).map_err(ApiError::internal)?;
    let expires = now + jiff::SignedDuration::from_secs(expiration);
    let mut out_spec = spec.clone();
    out_spec["audiences"] = json!(audiences);
    out_spec["expirationSeconds"] = json!(expiration);
    let out = json!({
        "kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"name": sa_name, "namespace": ns, "creationTimestamp": meta::now_rfc3339()},
        "spec": out_spec,
        "status": {"token": token, "expirationTimestamp": format_time(expires)},
    });
    Ok(respond_value(201, &out, ctx.output.encoding))
}

/// Records the pod or secret a token is bound to; it must exist (with the given uid).
async fn bind_to(api: &Api, ns: &str, sa: &str, bound: &Value, k8s: &mut KubernetesClaims) -> ApiResult<()> {
    let kind = bound.get("kind").and_then(Value::as_str).unwrap_or_default();
    let name = bound.get("name").and_then(Value::as_str).unwrap_or_default();
    let resource = match kind {
        "Pod" => "pods",
        "Secret" => "secrets",
        other => {
            return Err(invalid(
                "TokenRequest",
                sa,
                FieldError::not_supported("spec.boundObjectRef.kind", other, &["Pod", "Secret"]),
            ));
        }
    };
    let store = api
        .store_named("", resource)
        .ok_or_else(|| ApiError::internal("no store"))?;
    let obj = store.get(Some(ns), name).await?;
    let uid = meta::uid(&obj).to_string();
    if let Some(want) = bound.get("uid").and_then(Value::as_str).filter(|u| !u.is_empty())
        && want != uid
    {
        return Err(ApiError::conflict(
            "",
            resource,
            name,
            &format!(
                "the UID in the bound object reference ({want}) does not match the UID in record ({uid}). The object might have been deleted and then recreated"
            ),
        ));
    }
    let r = ObjectRef {
        name: name.to_string(),
        uid,
    };
    match kind {
        "Pod" => k8s.pod = Some(r),
        _ => k8s.secret = Some(r),
    }
    Ok(())
}

/// POST tokenreviews: who a token belongs to.
pub async fn token_review(api: &Api, ctx: &Ctx) -> ApiResult<Response<Body>> {
    let mut review = negotiate::decode_body(ctx.content_type(), &ctx.body)?;
    let token = review
        .pointer("/spec/token")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if token.is_empty() {
        return Err(invalid("TokenReview", "", FieldError::required("spec.token", "")));
    }
    let header = format!("Bearer {token}");
    let status = match api.auth.authenticate(api, &None, Some(&header)).await {
        Ok(u) if u.name != "system:anonymous" => json!({"authenticated": true, "user": user_info(&u)}),
        _ => json!({"user": {}, "error": "[invalid bearer token, token lookup failed]"}),
    };
    review["status"] = status;
    review["kind"] = json!("TokenReview");
    review["apiVersion"] = json!("authentication.k8s.io/v1");
    review["metadata"] = json!({"creationTimestamp": null});
    Ok(respond_value(201, &review, ctx.output.encoding))
}

/// POST selfsubjectreviews: `kubectl auth whoami`.
pub fn self_subject_review(ctx: &Ctx) -> ApiResult<Response<Body>> {
    let out = json!({
        "kind": "SelfSubjectReview", "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"creationTimestamp": meta::now_rfc3339()},
        "status": {"userInfo": user_info(&ctx.user)},
    });
    Ok(respond_value(201, &out, ctx.output.encoding))
}
