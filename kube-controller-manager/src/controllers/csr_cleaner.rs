//! csrcleaner: deletes finished or forgotten certificate requests, so automated requests and approvals do not pile
//! them up. Every hour each request is checked: issued and approved over an hour ago, denied or failed over an hour
//! ago, pending (no conditions) for over a day, or holding a certificate that has expired, it goes.

use super::Ctx;
use super::csr_approving::has_certificate;
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::certificates::v1::{CertificateSigningRequest, CertificateSigningRequestCondition};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, DeleteParams};
use std::time::Duration;

const POLLING_INTERVAL: Duration = Duration::from_secs(3600);
const APPROVED_EXPIRATION: SignedDuration = SignedDuration::from_hours(1);
const DENIED_EXPIRATION: SignedDuration = SignedDuration::from_hours(1);
const PENDING_EXPIRATION: SignedDuration = SignedDuration::from_hours(24);

/// Set and more than `age` before `now`.
fn older_than(t: Option<&Time>, age: SignedDuration, now: Timestamp) -> bool {
    t.is_some_and(|t| now.duration_since(t.0) > age)
}

fn conditions(csr: &CertificateSigningRequest) -> &[CertificateSigningRequestCondition] {
    csr.status
        .as_ref()
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default()
}

fn certificate_expired(csr: &CertificateSigningRequest, now: Timestamp) -> bool {
    let Some(pem) = csr.status.as_ref().and_then(|s| s.certificate.as_ref()) else {
        return false;
    };
    let Ok((_, block)) = x509_parser::pem::parse_x509_pem(&pem.0) else {
        return false;
    };
    let Ok(cert) = block.parse_x509() else {
        return false;
    };
    now.as_second() > cert.validity().not_after.timestamp()
}

/// Why the request should go, or `None` to keep it.
pub fn reason_to_delete(csr: &CertificateSigningRequest, now: Timestamp) -> Option<&'static str> {
    let conds = conditions(csr);
    let issued = has_certificate(csr);
    if conds
        .iter()
        .any(|c| c.type_ == "Approved" && issued && older_than(c.last_update_time.as_ref(), APPROVED_EXPIRATION, now))
    {
        return Some("it is more than 1h0m0s old and approved");
    }
    if conds
        .iter()
        .any(|c| c.type_ == "Denied" && older_than(c.last_update_time.as_ref(), DENIED_EXPIRATION, now))
    {
        return Some("it is more than 1h0m0s old and denied");
    }
    if conds
        .iter()
        .any(|c| c.type_ == "Failed" && older_than(c.last_update_time.as_ref(), DENIED_EXPIRATION, now))
    {
        return Some("it is more than 1h0m0s old and failed");
    }
    let created = csr.metadata.creation_timestamp.as_ref();
    if conds.is_empty() && older_than(created, PENDING_EXPIRATION, now) {
        return Some("it is more than 24h0m0s old and unhandled");
    }
    if conds.iter().any(|c| c.type_ == "Approved") && issued && certificate_expired(csr, now) {
        return Some("the associated certificate is expired");
    }
    None
}

pub async fn run(ctx: Ctx) -> anyhow::Result<()> {
    let csrs = ctx.informers.get::<CertificateSigningRequest>();
    csrs.synced().await;
    let api: Api<CertificateSigningRequest> = Api::all(ctx.client.clone());
    loop {
        let now = Timestamp::now();
        for csr in csrs.list() {
            let Some(why) = reason_to_delete(&csr, now) else {
                continue;
            };
            let name = csr.metadata.name.clone().unwrap_or_default();
            tracing::info!(csr = %name, "Cleaning CSR as {why}");
            if let Err(e) = super::ignore_not_found(api.delete(&name, &DeleteParams::default()).await) {
                tracing::warn!(csr = %name, error = %e, "Error while attempting to clean CSR");
            }
        }
        tokio::time::sleep(POLLING_INTERVAL).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::ByteString;
    use rcgen::{CertificateParams, KeyPair};

    fn at(s: &str) -> Timestamp {
        s.parse().expect("time")
    }

    fn csr(created: &str, conditions: &[(&str, &str)], cert: Option<String>) -> CertificateSigningRequest {
        let mut c = CertificateSigningRequest::default();
        c.metadata.creation_timestamp = Some(Time(at(created)));
        let conds = conditions
            .iter()
            .map(|(t, when)| CertificateSigningRequestCondition {
                type_: t.to_string(),
                status: "True".into(),
                last_update_time: Some(Time(at(when))),
                ..Default::default()
            })
            .collect::<Vec<_>>();
        let status = c.status.get_or_insert_default();
        status.conditions = (!conds.is_empty()).then_some(conds);
        status.certificate = cert.map(|p| ByteString(p.into_bytes()));
        c
    }

    fn certificate(not_after: (i32, u8, u8)) -> String {
        let key = KeyPair::generate().expect("key");
        let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
        p.not_before = rcgen::date_time_ymd(2020, 1, 1);
        p.not_after = rcgen::date_time_ymd(not_after.0, not_after.1, not_after.2);
        p.self_signed(&key).expect("cert").pem()
    }

    #[test]
    fn ages_as_upstream() {
        let now = at("2025-06-01T12:00:00Z");
        let valid = || Some(certificate((2030, 1, 1)));
        let t0 = "2025-06-01T10:00:00Z";
        let recent = "2025-06-01T11:30:00Z";
        let keep = |c: &CertificateSigningRequest| reason_to_delete(c, now).is_none();
        assert!(!keep(&csr(t0, &[("Approved", t0)], valid())));
        assert!(keep(&csr(t0, &[("Approved", recent)], valid())));
        // Approved but not yet issued stays.
        assert!(keep(&csr(t0, &[("Approved", t0)], None)));
        assert!(!keep(&csr(t0, &[("Denied", t0)], None)));
        assert!(keep(&csr(t0, &[("Denied", recent)], None)));
        assert!(!keep(&csr(t0, &[("Approved", recent), ("Failed", t0)], None)));
        assert!(keep(&csr(t0, &[], None)));
        assert!(!keep(&csr("2025-05-31T11:00:00Z", &[], None)));
        let expired = csr(recent, &[("Approved", recent)], Some(certificate((2021, 1, 1))));
        assert_eq!(
            reason_to_delete(&expired, now),
            Some("the associated certificate is expired")
        );
    }
}
