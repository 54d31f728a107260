//! Security-profile checks: AppArmor and SELinux (baseline) and seccomp (baseline and restricted).

use std::collections::BTreeSet;

use serde_json::Value;

use super::CheckFailure;
use super::baseline::containers_where;
use super::pod::{PodView, container_security_field, name, str_field};
use super::text::{go_quote, join_quote, pluralize, push_containers};

/// Where a pod's and its containers' `securityContext.<profile>.type` fall short of RuntimeDefault/Localhost.
struct ProfileScan<'a> {
    /// The pod-level profile is set to a forbidden type.
    pod_bad: bool,
    /// The pod-level profile is set to an allowed type.
    pod_allowed: bool,
    /// Containers that set a forbidden type.
    bad_containers: Vec<&'a str>,
    /// Containers that set no profile.
    unset_containers: Vec<&'a str>,
    /// The forbidden types seen, sorted.
    bad_values: BTreeSet<String>,
}

impl ProfileScan<'_> {
    /// `pod`, then `containers "a", "b"`, for those that set forbidden types.
    fn setters(&self) -> Vec<String> {
        let mut setters = Vec::new();
        if self.pod_bad {
            setters.push("pod".to_string());
        }
        push_containers(&mut setters, &self.bad_containers);
        setters
    }

    fn bad_value_list(&self) -> Vec<String> {
        self.bad_values.iter().cloned().collect()
    }
}

/// Whether a seccomp or AppArmor profile type is RuntimeDefault or Localhost.
fn allowed_profile_type(profile_type: &str) -> bool {
    matches!(profile_type, "RuntimeDefault" | "Localhost")
}

/// Scans `securityContext.<key>.type` of the pod and every container.
fn scan_profile<'a>(pod: &PodView<'a>, key: &str) -> ProfileScan<'a> {
    let mut bad_values = BTreeSet::new();
    let mut unset_containers = Vec::new();
    let mut judge = |profile: &Value| {
        let profile_type = str_field(profile, "type").unwrap_or_default();
        let allowed = allowed_profile_type(profile_type);
        if !allowed {
            bad_values.insert(profile_type.to_string());
        }
        allowed
    };
    let pod_allowed = pod.security_field(key).map(&mut judge);
    let bad_containers = containers_where(pod, |c| match container_security_field(c, key) {
        Some(profile) => !judge(profile),
        None => {
            unset_containers.push(name(c));
            false
        }
    });
    ProfileScan {
        pod_bad: pod_allowed == Some(false),
        pod_allowed: pod_allowed == Some(true),
        bad_containers,
        unset_containers,
        bad_values,
    }
}

const APPARMOR_ANNOTATION_PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";

/// Whether a deprecated AppArmor annotation value is allowed: empty, `runtime/default` or `localhost/*`.
fn allowed_apparmor_annotation(value: &str) -> bool {
    value.is_empty() || value == "runtime/default" || value.starts_with("localhost/")
}

/// `appArmorProfile`: appArmorProfile.type must be RuntimeDefault or Localhost, and AppArmor annotations
/// must be runtime/default, localhost/* or empty.
pub(crate) fn app_armor_profile(pod: &PodView) -> Option<CheckFailure> {
    let scan = scan_profile(pod, "appArmorProfile");
    let mut setters = scan.setters();
    let mut values = scan.bad_value_list();
    let mut annotations: Vec<String> = pod
        .annotations()
        .filter(|(k, v)| k.starts_with(APPARMOR_ANNOTATION_PREFIX) && !allowed_apparmor_annotation(v))
        .map(|(k, v)| format!("{k}={}", go_quote(v)))
        .collect();
    if !annotations.is_empty() {
        annotations.sort();
        setters.push(pluralize("annotation", "annotations", annotations.len()).to_string());
        values.extend(annotations);
    }
    (!setters.is_empty()).then(|| {
        CheckFailure::new(
            pluralize(
                "forbidden AppArmor profile",
                "forbidden AppArmor profiles",
                values.len(),
            ),
            format!(
                "{} must not set AppArmor profile type to {}",
                setters.join(" and "),
                join_quote(&values)
            ),
        )
    })
}

/// SELinux types allowed up to policy version 1.30.
const SELINUX_TYPES_1_0: &[&str] = &["", "container_t", "container_init_t", "container_kvm_t"];
/// SELinux types allowed from policy version 1.31.
const SELINUX_TYPES_1_31: &[&str] = &[
    "",
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
];

/// Accumulates what makes seLinuxOptions forbidden across the pod and its containers.
struct SeLinuxScan {
    allowed_types: &'static [&'static str],
    bad_types: BTreeSet<String>,
    set_user: bool,
    set_role: bool,
}

impl SeLinuxScan {
    /// Records the problems of one seLinuxOptions; true when it is allowed.
    fn allowed(&mut self, options: &Value) -> bool {
        let option = |key| str_field(options, key).unwrap_or_default();
        let type_ok = self.allowed_types.contains(&option("type"));
        if !type_ok {
            self.bad_types.insert(option("type").to_string());
        }
        let user_set = !option("user").is_empty();
        let role_set = !option("role").is_empty();
        self.set_user |= user_set;
        self.set_role |= role_set;
        type_ok && !user_set && !role_set
    }

    /// `type "x"`, `user may not be set`, `role may not be set`, as applicable.
    fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !self.bad_types.is_empty() {
            let types: Vec<&String> = self.bad_types.iter().collect();
            problems.push(format!(
                "{} {}",
                pluralize("type", "types", types.len()),
                join_quote(&types)
            ));
        }
        if self.set_user {
            problems.push("user may not be set".to_string());
        }
        if self.set_role {
            problems.push("role may not be set".to_string());
        }
        problems
    }
}

/// `seLinuxOptions` at 1.0: type limited to the container types; user and role unset.
pub(crate) fn se_linux_options_1_0(pod: &PodView) -> Option<CheckFailure> {
    se_linux_options(pod, SELINUX_TYPES_1_0)
}

/// `seLinuxOptions` at 1.31: also allows container_engine_t.
pub(crate) fn se_linux_options_1_31(pod: &PodView) -> Option<CheckFailure> {
    se_linux_options(pod, SELINUX_TYPES_1_31)
}

fn se_linux_options(pod: &PodView, allowed_types: &'static [&'static str]) -> Option<CheckFailure> {
    let mut scan = SeLinuxScan {
        allowed_types,
        bad_types: BTreeSet::new(),
        set_user: false,
        set_role: false,
    };
    let mut setters = Vec::new();
    if pod
        .security_field("seLinuxOptions")
        .is_some_and(|options| !scan.allowed(options))
    {
        setters.push("pod".to_string());
    }
    let bad = containers_where(pod, |c| {
        container_security_field(c, "seLinuxOptions").is_some_and(|options| !scan.allowed(options))
    });
    push_containers(&mut setters, &bad);
    (!setters.is_empty()).then(|| {
        CheckFailure::new(
            "seLinuxOptions",
            format!(
                "{} set forbidden securityContext.seLinuxOptions: {}",
                setters.join(" and "),
                scan.problems().join("; ")
            ),
        )
    })
}

const SECCOMP_POD_ANNOTATION: &str = "seccomp.security.alpha.kubernetes.io/pod";
const SECCOMP_CONTAINER_ANNOTATION_PREFIX: &str = "container.seccomp.security.alpha.kubernetes.io/";

/// Whether a seccomp alpha annotation value is runtime/default, docker/default or localhost/*.
fn allowed_seccomp_annotation(value: &str) -> bool {
    value == "runtime/default" || value == "docker/default" || value.starts_with("localhost/")
}

/// `seccompProfile_baseline` before 1.19: the seccomp alpha annotations must not be unconfined.
pub(crate) fn seccomp_annotations_1_0(pod: &PodView) -> Option<CheckFailure> {
    let container_keys = pod
        .containers()
        .map(|c| format!("{SECCOMP_CONTAINER_ANNOTATION_PREFIX}{}", name(c)));
    let forbidden: BTreeSet<String> = std::iter::once(SECCOMP_POD_ANNOTATION.to_string())
        .chain(container_keys)
        .filter_map(|key| {
            let value = pod.annotation(&key)?;
            (!allowed_seccomp_annotation(value)).then(|| format!("{key}={}", go_quote(value)))
        })
        .collect();
    (!forbidden.is_empty()).then(|| {
        let forbidden: Vec<String> = forbidden.into_iter().collect();
        CheckFailure::new(
            "seccompProfile",
            format!(
                "forbidden {} {}",
                pluralize("annotation", "annotations", forbidden.len()),
                forbidden.join(", ")
            ),
        )
    })
}

/// The explicit-setter failure shared by the baseline and restricted seccomp checks.
fn seccomp_explicit_failure(scan: &ProfileScan) -> Option<CheckFailure> {
    let setters = scan.setters();
    (!setters.is_empty()).then(|| {
        CheckFailure::new(
            "seccompProfile",
            format!(
                "{} must not set securityContext.seccompProfile.type to {}",
                setters.join(" and "),
                join_quote(&scan.bad_value_list())
            ),
        )
    })
}

/// `seccompProfile_baseline` from 1.19: seccompProfile.type, where set, must be RuntimeDefault or Localhost.
pub(crate) fn seccomp_profile_baseline_1_19(pod: &PodView) -> Option<CheckFailure> {
    seccomp_explicit_failure(&scan_profile(pod, "seccompProfile"))
}

/// `seccompProfile_restricted` from 1.19: the pod or every container must set RuntimeDefault or Localhost.
pub(crate) fn seccomp_profile_restricted_1_19(pod: &PodView) -> Option<CheckFailure> {
    let scan = scan_profile(pod, "seccompProfile");
    if let Some(failure) = seccomp_explicit_failure(&scan) {
        return Some(failure);
    }
    (!scan.pod_allowed && !scan.unset_containers.is_empty()).then(|| {
        CheckFailure::new(
            "seccompProfile",
            format!(
                r#"pod or {} {} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost""#,
                pluralize("container", "containers", scan.unset_containers.len()),
                join_quote(&scan.unset_containers)
            ),
        )
    })
}

/// `seccompProfile_restricted` from 1.25: Windows pods are exempt.
pub(crate) fn seccomp_profile_restricted_1_25(pod: &PodView) -> Option<CheckFailure> {
    if pod.is_windows() {
        return None;
    }
    seccomp_profile_restricted_1_19(pod)
}
