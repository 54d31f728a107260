//! Admission: the plugins a write passes before it is stored, mutating first, then
//! validating, in upstream's order; `--enable-admission-plugins` and
//! `--disable-admission-plugins` adjust upstream's default set. Plugins read what they need
//! from the watch caches, so the chain also runs inside compare-and-swap retries.

mod certificates;
mod limits;
mod plugins;
pub mod pod_security;
pub mod quota;
pub mod rbac;

use crate::auth::User;
use crate::errors::ApiResult;
use crate::registry::resources::ResourceInfo;
use crate::state::Api;
use serde_json::Value;
use std::collections::BTreeSet;

/// Every plugin this server implements, in upstream's order, and whether upstream v1.33
/// enables it by default.
const PLUGINS: &[(&str, bool)] = &[
    ("NamespaceLifecycle", true),
    ("LimitRanger", true),
    ("ServiceAccount", true),
    ("NodeRestriction", false),
    ("TaintNodesByCondition", true),
    ("PodSecurity", true),
    ("Priority", true),
    ("DefaultTolerationSeconds", true),
    ("CertificateApproval", true),
    ("CertificateSigning", true),
    ("CertificateSubjectRestriction", true),
    ("ResourceQuota", true),
];

/// Upstream's plugins that exist but are not implemented here: accepted in flags, no effect.
const KNOWN_ELSEWHERE: &[&str] = &[
    "AlwaysAdmit",
    "AlwaysPullImages",
    "ClusterTrustBundleAttest",
    "DefaultIngressClass",
    "DefaultStorageClass",
    "EventRateLimit",
    "ExtendedResourceToleration",
    "LimitPodHardAntiAffinityTopology",
    "MutatingAdmissionPolicy",
    "MutatingAdmissionWebhook",
    "NamespaceAutoProvision",
    "NamespaceExists",
    "OwnerReferencesPermissionEnforcement",
    "PersistentVolumeClaimResize",
    "PodNodeSelector",
    "PodTolerationRestriction",
    "RuntimeClass",
    "StorageObjectInUseProtection",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionWebhook",
];

#[derive(Debug, Clone)]
pub struct Plugins {
    enabled: BTreeSet<&'static str>,
}

impl Default for Plugins {
    fn default() -> Self {
        Plugins {
            enabled: PLUGINS.iter().filter(|(_, on)| *on).map(|(name, _)| *name).collect(),
        }
    }
}

impl Plugins {
    pub fn from_flags(enable: &[String], disable: &[String]) -> anyhow::Result<Plugins> {
        let mut p = Plugins::default();
        let known = |n: &str| PLUGINS.iter().map(|(name, _)| *name).find(|k| *k == n);
        for n in enable {
            match known(n) {
                Some(k) => {
                    p.enabled.insert(k);
                }
                None if KNOWN_ELSEWHERE.contains(&n.as_str()) => {}
                None => anyhow::bail!("--enable-admission-plugins: unknown admission plugin {n:?}"),
            }
        }
        for n in disable {
            match known(n) {
                Some(k) => {
                    p.enabled.remove(k);
                }
                None if KNOWN_ELSEWHERE.contains(&n.as_str()) => {}
                None => anyhow::bail!("--disable-admission-plugins: unknown admission plugin {n:?}"),
            }
        }
        Ok(p)
    }

    pub fn on(&self, name: &str) -> bool {
        self.enabled.contains(name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Create,
    Update,
}

/// One write under admission.
pub struct Attributes<'a> {
    pub api: &'a Api,
    pub user: &'a User,
    pub info: &'static ResourceInfo,
    pub operation: Operation,
    pub subresource: Option<&'a str>,
    pub namespace: &'a str,
    pub dry_run: bool,
}

/// Runs the enabled plugins over `obj` (mutating it); returns warnings for the response.
pub fn admit(a: &Attributes, obj: &mut Value, old: Option<&Value>) -> ApiResult<Vec<String>> {
    let on = |n: &str| a.api.admission.on(n);
    let mut warnings = Vec::new();
    // mutating
    certificates::record_requester(a, obj);
    if on("LimitRanger") {
        limits::limit_ranger(a, obj)?;
    }
    if on("ServiceAccount") {
        plugins::service_account(a, obj)?;
    }
    if on("TaintNodesByCondition") {
        plugins::taint_new_nodes(a, obj);
    }
    if on("Priority") {
        plugins::priority(a, obj)?;
    }
    if on("DefaultTolerationSeconds") {
        plugins::default_toleration_seconds(a, obj);
    }
    // validating
    if on("NodeRestriction") {
        plugins::node_restriction(a, obj, old)?;
    }
    if on("CertificateApproval") {
        certificates::approval(a, obj, old)?;
    }
    if on("CertificateSigning") {
        certificates::signing(a, obj, old)?;
    }
    if on("CertificateSubjectRestriction") {
        certificates::subject_restriction(a, obj)?;
    }
    if on("PodSecurity") {
        warnings.extend(plugins::pod_security(a, obj)?);
    }
    Ok(warnings)
}
