//! CertificateSigningRequest admission: the requester is recorded in the spec;
//! CertificateApproval and CertificateSigning require the `approve` / `sign` verb on the
//! request's signer (`signers` in certificates.k8s.io, by name or `<domain>/*`);
//! CertificateSubjectRestriction refuses system:masters for kube-apiserver-client.

use super::{Attributes, Operation};
use crate::auth::rbac;
use crate::errors::{ApiError, ApiResult};
use crate::registry::meta;
use crate::registry::strategy::validation::certificates::request_der;
use serde_json::{Value, json};

const GROUP: &str = "certificates.k8s.io";

fn is_csr(a: &Attributes) -> bool {
    a.info.group == GROUP && a.info.resource == "certificatesigningrequests"
}

fn forbidden(csr: &Value, why: &str) -> ApiError {
    let name = meta::name(csr);
    ApiError::forbidden(format!(
        "certificatesigningrequests.certificates.k8s.io {name:?} is forbidden: {why}"
    ))
    .with_details(json!({"name": name, "group": GROUP, "kind": "certificatesigningrequests"}))
}

/// On create, spec.username/uid/groups/extra are the requesting user's, whatever was sent.
pub fn record_requester(a: &Attributes, csr: &mut Value) {
    if !is_csr(a) || a.operation != Operation::Create {
        return;
    }
    let u = a.user;
    let spec = &mut csr["spec"];
    spec["username"] = json!(u.name);
    spec["groups"] = json!(u.groups);
    if u.uid.is_empty() {
        if let Some(s) = spec.as_object_mut() {
            s.remove("uid");
        }
    } else {
        spec["uid"] = json!(u.uid);
    }
    if !u.extra.is_empty() {
        spec["extra"] = json!(u.extra);
    }
}

/// Whether the user may `verb` the signer of `csr` (by exact name, or its domain wildcard).
fn may(a: &Attributes, csr: &Value, verb: &str) -> bool {
    let signer = csr
        .pointer("/spec/signerName")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let wildcard = signer
        .split_once('/')
        .map(|(d, _)| format!("{d}/*"))
        .unwrap_or_default();
    [signer.to_string(), wildcard].iter().any(|name| {
        let attrs = rbac::Attributes {
            user: a.user.clone(),
            verb: verb.into(),
            api_group: GROUP.into(),
            resource: "signers".into(),
            name: name.clone(),
            resource_request: true,
            ..Default::default()
        };
        crate::auth::authz::authorize(a.api, &attrs).0
    })
}

fn conditions(csr: Option<&Value>) -> Value {
    csr.and_then(|c| c.pointer("/status/conditions"))
        .cloned()
        .unwrap_or(json!([]))
}

pub fn approval(a: &Attributes, csr: &Value, old: Option<&Value>) -> ApiResult<()> {
    if !is_csr(a) || a.subresource != Some("approval") || conditions(Some(csr)) == conditions(old) {
        return Ok(());
    }
    let signer = csr
        .pointer("/spec/signerName")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !may(a, csr, "approve") {
        return Err(forbidden(
            csr,
            &format!("user not permitted to approve requests with signerName {signer:?}"),
        ));
    }
    Ok(())
}

pub fn signing(a: &Attributes, csr: &Value, old: Option<&Value>) -> ApiResult<()> {
    let cert = |c: Option<&Value>| c.and_then(|c| c.pointer("/status/certificate")).cloned();
    if !is_csr(a) || a.subresource != Some("status") || cert(Some(csr)) == cert(old) {
        return Ok(());
    }
    let signer = csr
        .pointer("/spec/signerName")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !may(a, csr, "sign") {
        return Err(forbidden(
            csr,
            &format!("user not permitted to sign requests with signerName {signer:?}"),
        ));
    }
    Ok(())
}

pub fn subject_restriction(a: &Attributes, csr: &Value) -> ApiResult<()> {
    use x509_parser::prelude::FromDer;
    let client_signer =
        csr.pointer("/spec/signerName").and_then(Value::as_str) == Some("kubernetes.io/kube-apiserver-client");
    if !is_csr(a) || a.operation != Operation::Create || !client_signer {
        return Ok(());
    }
    let Ok(der) = request_der(csr) else { return Ok(()) };
    let Ok((_, req)) = x509_parser::certification_request::X509CertificationRequest::from_der(&der) else {
        return Ok(());
    };
    let masters = req
        .certification_request_info
        .subject
        .iter_organization()
        .any(|o| o.as_str() == Ok("system:masters"));
    if masters {
        return Err(forbidden(
            csr,
            "use of kubernetes.io/kube-apiserver-client signer with system:masters group is not allowed",
        ));
    }
    Ok(())
}
