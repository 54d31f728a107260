//! csrapproving: approves a kubelet's client certificate request (`kubernetes.io/kube-apiserver-client-kubelet`,
//! `system:node:<name>` in `system:nodes`, client usages only) when a SubjectAccessReview says its requester may
//! create `certificatesigningrequests/selfnodeclient` (a node renewing its own certificate) or
//! `certificatesigningrequests/nodeclient` (a bootstrap token asking for a new node's). Also home to what the
//! certificate controllers share: reading a PKCS#10 request and upstream's checks of kubelet requests.

use super::Ctx;
use crate::informer::Informer;
use crate::queue::{Queue, run_workers};
use k8s_openapi::api::authorization::v1::{ResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec};
use k8s_openapi::api::certificates::v1::{CertificateSigningRequest, CertificateSigningRequestCondition};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, PostParams};
use std::collections::BTreeSet;
use std::net::IpAddr;
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::FromDer;

pub const KUBELET_CLIENT_SIGNER: &str = "kubernetes.io/kube-apiserver-client-kubelet";
pub const KUBELET_SERVING_SIGNER: &str = "kubernetes.io/kubelet-serving";
pub const API_SERVER_CLIENT_SIGNER: &str = "kubernetes.io/kube-apiserver-client";
pub const LEGACY_UNKNOWN_SIGNER: &str = "kubernetes.io/legacy-unknown";

/// What the controllers read from a PKCS#10 request (Go's `x509.CertificateRequest` fields they use).
#[derive(Debug, Default)]
pub struct Request {
    /// The request itself, DER.
    pub der: Vec<u8>,
    /// The subject's string attributes in order: (OID, value).
    pub subject: Vec<(String, String)>,
    /// The requester's SubjectPublicKeyInfo, DER.
    pub public_key_info: Vec<u8>,
    pub common_name: String,
    pub organizations: Vec<String>,
    pub dns_names: Vec<String>,
    pub emails: Vec<String>,
    pub ips: Vec<IpAddr>,
    pub uris: Vec<String>,
}

/// Parses `spec.request`: the first PEM block, which must be a CERTIFICATE REQUEST.
pub fn parse_request(pem: &[u8]) -> Result<Request, String> {
    let block = x509_parser::pem::parse_x509_pem(pem).ok().map(|(_, p)| p);
    let Some(block) = block.filter(|b| b.label == "CERTIFICATE REQUEST") else {
        return Err("PEM block type must be CERTIFICATE REQUEST".into());
    };
    let (_, csr) = X509CertificationRequest::from_der(&block.contents).map_err(|e| e.to_string())?;
    let info = &csr.certification_request_info;
    let mut req = Request::default();
    for attr in info.subject.iter_attributes() {
        let Ok(value) = attr.as_str() else { continue };
        let oid = attr.attr_type().to_id_string();
        match oid.as_str() {
            "2.5.4.3" => req.common_name = value.to_string(),
            "2.5.4.10" => req.organizations.push(value.to_string()),
            _ => {}
        }
        req.subject.push((oid, value.to_string()));
    }
    req.public_key_info = info.subject_pki.raw.to_vec();
    for ext in csr.requested_extensions().into_iter().flatten() {
        let ParsedExtension::SubjectAlternativeName(san) = ext else {
            continue;
        };
        for name in &san.general_names {
            match name {
                GeneralName::DNSName(n) => req.dns_names.push(n.to_string()),
                GeneralName::RFC822Name(n) => req.emails.push(n.to_string()),
                GeneralName::URI(n) => req.uris.push(n.to_string()),
                GeneralName::IPAddress(b) => req.ips.extend(ip_of(b)),
                _ => {}
            }
        }
    }
    req.der = block.contents;
    Ok(req)
}

fn ip_of(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(IpAddr::from),
        16 => <[u8; 16]>::try_from(bytes).ok().map(IpAddr::from),
        _ => None,
    }
}

fn usage_set(usages: &[String]) -> BTreeSet<&str> {
    usages.iter().map(String::as_str).collect()
}

fn only_system_nodes(req: &Request) -> Result<(), String> {
    match req.organizations == ["system:nodes"] {
        true => Ok(()),
        false => Err("subject organization is not system:nodes".into()),
    }
}

fn node_common_name(req: &Request) -> Result<(), String> {
    match req.common_name.starts_with("system:node:") {
        true => Ok(()),
        false => Err("subject common name does not begin with system:node:".into()),
    }
}

/// Upstream's ValidateKubeletClientCSR.
pub fn validate_kubelet_client(req: &Request, usages: &[String]) -> Result<(), String> {
    only_system_nodes(req)?;
    if !req.dns_names.is_empty() {
        return Err("DNS subjectAltNames are not allowed".into());
    }
    if !req.emails.is_empty() {
        return Err("Email subjectAltNames are not allowed".into());
    }
    if !req.ips.is_empty() {
        return Err("IP subjectAltNames are not allowed".into());
    }
    if !req.uris.is_empty() {
        return Err("URI subjectAltNames are not allowed".into());
    }
    node_common_name(req)?;
    let set = usage_set(usages);
    let with_rsa = BTreeSet::from(["digital signature", "key encipherment", "client auth"]);
    let without_rsa = BTreeSet::from(["digital signature", "client auth"]);
    if set != with_rsa && set != without_rsa {
        return Err("usages did not match [client auth digital signature key encipherment]".into());
    }
    Ok(())
}

/// Upstream's ValidateKubeletServingCSR.
pub fn validate_kubelet_serving(req: &Request, usages: &[String]) -> Result<(), String> {
    only_system_nodes(req)?;
    if req.dns_names.is_empty() && req.ips.is_empty() {
        return Err("DNS or IP subjectAltName is required".into());
    }
    if !req.emails.is_empty() {
        return Err("Email subjectAltNames are not allowed".into());
    }
    if !req.uris.is_empty() {
        return Err("URI subjectAltNames are not allowed".into());
    }
    let set = usage_set(usages);
    let with_rsa = BTreeSet::from(["digital signature", "key encipherment", "server auth"]);
    let without_rsa = BTreeSet::from(["digital signature", "server auth"]);
    if set != with_rsa && set != without_rsa {
        return Err("usages did not match [digital signature key encipherment server auth]".into());
    }
    node_common_name(req)
}

fn conditions(csr: &CertificateSigningRequest) -> &[CertificateSigningRequestCondition] {
    csr.status
        .as_ref()
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default()
}

/// Whether an Approved and a Denied condition are present (whatever their status, as upstream).
pub fn approval(csr: &CertificateSigningRequest) -> (bool, bool) {
    let has = |t: &str| conditions(csr).iter().any(|c| c.type_ == t);
    (has("Approved"), has("Denied"))
}

pub fn is_approved(csr: &CertificateSigningRequest) -> bool {
    approval(csr) == (true, false)
}

/// A condition of this type whose status is True (or empty, as upstream counts it).
pub fn has_true_condition(csr: &CertificateSigningRequest, type_: &str) -> bool {
    conditions(csr)
        .iter()
        .any(|c| c.type_ == type_ && (c.status.is_empty() || c.status == "True"))
}

pub fn has_certificate(csr: &CertificateSigningRequest) -> bool {
    csr.status
        .as_ref()
        .and_then(|s| s.certificate.as_ref())
        .is_some_and(|c| !c.0.is_empty())
}

pub fn usages(csr: &CertificateSigningRequest) -> Vec<String> {
    csr.spec.usages.clone().unwrap_or_default()
}

/// A kind of request the approver knows, and the permission its requester needs.
struct Recognizer {
    recognize: fn(&CertificateSigningRequest, &Request) -> bool,
    subresource: &'static str,
    message: &'static str,
}

fn is_node_client(csr: &CertificateSigningRequest, req: &Request) -> bool {
    csr.spec.signer_name == KUBELET_CLIENT_SIGNER && validate_kubelet_client(req, &usages(csr)).is_ok()
}

fn is_self_node_client(csr: &CertificateSigningRequest, req: &Request) -> bool {
    csr.spec.username.as_deref() == Some(req.common_name.as_str()) && is_node_client(csr, req)
}

const RECOGNIZERS: &[Recognizer] = &[
    Recognizer {
        recognize: is_self_node_client,
        subresource: "selfnodeclient",
        message: "Auto approving self kubelet client certificate after SubjectAccessReview.",
    },
    Recognizer {
        recognize: is_node_client,
        subresource: "nodeclient",
        message: "Auto approving kubelet client certificate after SubjectAccessReview.",
    },
];

pub async fn run(ctx: Ctx) -> anyhow::Result<()> {
    let csrs = ctx.informers.get::<CertificateSigningRequest>();
    let queue = Queue::<String>::new();
    csrs.queue_keys(queue.clone());
    csrs.synced().await;
    run_workers("certificate", queue, 5, move |name: String| {
        let (ctx, csrs) = (ctx.clone(), csrs.clone());
        async move { sync(&ctx, &csrs, &name).await }
    })
    .await;
    Ok(())
}

async fn sync(ctx: &Ctx, csrs: &Informer<CertificateSigningRequest>, name: &str) -> anyhow::Result<()> {
    let Some(csr) = csrs.get(name) else { return Ok(()) };
    let (approved, denied) = approval(&csr);
    if has_certificate(&csr) || approved || denied {
        return Ok(());
    }
    let req = parse_request(&csr.spec.request.0).map_err(|e| anyhow::anyhow!("unable to parse csr {name:?}: {e}"))?;
    let mut tried = Vec::new();
    for r in RECOGNIZERS.iter().filter(|r| (r.recognize)(&csr, &req)) {
        tried.push(r.subresource);
        if !authorized(ctx, &csr, r.subresource).await? {
            continue;
        }
        let mut next = (*csr).clone();
        next.status
            .get_or_insert_default()
            .conditions
            .get_or_insert_default()
            .push(CertificateSigningRequestCondition {
                type_: "Approved".into(),
                status: "True".into(),
                reason: Some("AutoApproved".into()),
                message: Some(r.message.into()),
                // Upstream's API server stamps this when the client leaves it empty; ours does not,
                // and the cleaner ages approved requests by it.
                last_update_time: Some(Time(jiff::Timestamp::now())),
                last_transition_time: None,
            });
        let api: Api<CertificateSigningRequest> = Api::all(ctx.client.clone());
        api.replace_subresource("approval", name, &PostParams::default(), &next)
            .await
            .map_err(|e| anyhow::anyhow!("error updating approval for csr: {e}"))?;
        return Ok(());
    }
    if !tried.is_empty() {
        // Retried with backoff: the requester may be granted the permission later.
        anyhow::bail!(
            "recognized csr {name:?} as [{}] but subject access review was not approved",
            tried.join(" ")
        );
    }
    Ok(())
}

/// Asks the API server whether the CSR's requester may create the given CSR subresource.
async fn authorized(ctx: &Ctx, csr: &CertificateSigningRequest, subresource: &str) -> anyhow::Result<bool> {
    let spec = &csr.spec;
    let review = SubjectAccessReview {
        spec: SubjectAccessReviewSpec {
            user: spec.username.clone(),
            uid: spec.uid.clone(),
            groups: spec.groups.clone(),
            extra: spec.extra.clone(),
            resource_attributes: Some(ResourceAttributes {
                group: Some("certificates.k8s.io".into()),
                resource: Some("certificatesigningrequests".into()),
                verb: Some("create".into()),
                subresource: Some(subresource.into()),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    let api: Api<SubjectAccessReview> = Api::all(ctx.client.clone());
    let done = api.create(&PostParams::default(), &review).await?;
    Ok(done.status.is_some_and(|s| s.allowed))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use k8s_openapi::ByteString;
    use rcgen::{CertificateParams, DnType, KeyPair};

    pub fn request_pem(cn: &str, orgs: &[&str], sans: &[&str]) -> Vec<u8> {
        let key = KeyPair::generate().expect("key");
        let mut p = CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>()).expect("params");
        p.distinguished_name = rcgen::DistinguishedName::new();
        p.distinguished_name.push(DnType::CommonName, cn);
        for o in orgs {
            p.distinguished_name.push(DnType::OrganizationName, *o);
        }
        p.serialize_request(&key).expect("csr").pem().expect("pem").into_bytes()
    }

    fn csr(username: &str, signer: &str, usages: &[&str], pem: Vec<u8>) -> CertificateSigningRequest {
        let mut c = CertificateSigningRequest::default();
        c.spec.username = Some(username.into());
        c.spec.signer_name = signer.into();
        c.spec.usages = Some(usages.iter().map(|u| u.to_string()).collect());
        c.spec.request = ByteString(pem);
        c
    }

    const CLIENT: &[&str] = &["digital signature", "key encipherment", "client auth"];

    #[test]
    fn parses_subject_and_alternative_names() {
        let req = parse_request(&request_pem(
            "system:node:n1",
            &["system:nodes"],
            &["n1.example", "10.0.0.1"],
        ))
        .expect("parse");
        assert_eq!(req.common_name, "system:node:n1");
        assert_eq!(req.organizations, ["system:nodes"]);
        assert_eq!(req.dns_names, ["n1.example"]);
        assert_eq!(req.ips, [IpAddr::from([10, 0, 0, 1])]);
        let err = parse_request(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").unwrap_err();
        assert_eq!(err, "PEM block type must be CERTIFICATE REQUEST");
    }

    #[test]
    fn recognizes_node_client_requests_as_upstream() {
        let node = request_pem("system:node:n1", &["system:nodes"], &[]);
        let boot = csr("system:bootstrap:abcdef", KUBELET_CLIENT_SIGNER, CLIENT, node.clone());
        let req = parse_request(&boot.spec.request.0).expect("parse");
        assert!(is_node_client(&boot, &req));
        assert!(!is_self_node_client(&boot, &req));
        let renewal = csr("system:node:n1", KUBELET_CLIENT_SIGNER, CLIENT, node.clone());
        assert!(is_self_node_client(&renewal, &req));
        let no_rsa = csr(
            "x",
            KUBELET_CLIENT_SIGNER,
            &["digital signature", "client auth"],
            node.clone(),
        );
        assert!(is_node_client(&no_rsa, &req));
        let other_signer = csr("x", API_SERVER_CLIENT_SIGNER, CLIENT, node.clone());
        assert!(!is_node_client(&other_signer, &req));
        let server_usage = csr("x", KUBELET_CLIENT_SIGNER, &["digital signature", "server auth"], node);
        assert!(!is_node_client(&server_usage, &req));

        let usages: Vec<String> = CLIENT.iter().map(|u| u.to_string()).collect();
        let check = |cn, orgs: &[&str], sans: &[&str]| {
            validate_kubelet_client(&parse_request(&request_pem(cn, orgs, sans)).expect("parse"), &usages)
        };
        let no_org = check("system:node:n1", &[], &[]);
        assert_eq!(no_org.unwrap_err(), "subject organization is not system:nodes");
        let two_orgs = check("system:node:n1", &["system:nodes", "other"], &[]);
        assert_eq!(two_orgs.unwrap_err(), "subject organization is not system:nodes");
        let dns = check("system:node:n1", &["system:nodes"], &["n1"]);
        assert_eq!(dns.unwrap_err(), "DNS subjectAltNames are not allowed");
        let cn = check("n1", &["system:nodes"], &[]);
        assert_eq!(cn.unwrap_err(), "subject common name does not begin with system:node:");
    }

    #[test]
    fn kubelet_serving_needs_an_address() {
        let usages: Vec<String> = ["digital signature", "server auth"]
            .iter()
            .map(|u| u.to_string())
            .collect();
        let bare = parse_request(&request_pem("system:node:n1", &["system:nodes"], &[])).expect("parse");
        assert_eq!(
            validate_kubelet_serving(&bare, &usages).unwrap_err(),
            "DNS or IP subjectAltName is required"
        );
        let named = parse_request(&request_pem("system:node:n1", &["system:nodes"], &["n1"])).expect("parse");
        assert_eq!(validate_kubelet_serving(&named, &usages), Ok(()));
    }

    #[test]
    fn approval_conditions() {
        let mut c = csr("u", KUBELET_CLIENT_SIGNER, CLIENT, Vec::new());
        assert!(!is_approved(&c));
        let cond = |t: &str| CertificateSigningRequestCondition {
            type_: t.into(),
            status: "True".into(),
            ..Default::default()
        };
        c.status.get_or_insert_default().conditions = Some(vec![cond("Approved")]);
        assert!(is_approved(&c));
        c.status.get_or_insert_default().conditions = Some(vec![cond("Approved"), cond("Denied")]);
        assert!(!is_approved(&c));
        assert!(has_true_condition(&c, "Denied"));
        assert!(!has_true_condition(&c, "Failed"));
    }
}
