//! Baseline checks on host access, privilege, capabilities, /proc, sysctls and Windows host processes
//! (the AppArmor, SELinux and seccomp baseline checks live in `profiles`).

use std::collections::BTreeSet;

use serde_json::Value;

use super::CheckFailure;
use super::pod::{PodView, container_security_field, field, is_true, name, str_field, strings};
use super::text::{containers_phrase, join_quote, pluralize, push_containers};

/// Names of the containers for which `bad` holds, in visiting order.
pub(crate) fn containers_where<'a>(pod: &PodView<'a>, mut bad: impl FnMut(&'a Value) -> bool) -> Vec<&'a str> {
    pod.containers().filter(|c| bad(c)).map(name).collect()
}

/// `hostNamespaces`: spec.hostNetwork, spec.hostPID and spec.hostIPC must not be true.
pub(crate) fn host_namespaces(pod: &PodView) -> Option<CheckFailure> {
    let set: Vec<String> = ["hostNetwork", "hostPID", "hostIPC"]
        .into_iter()
        .filter(|key| pod.spec_flag(key))
        .map(|key| format!("{key}=true"))
        .collect();
    (!set.is_empty()).then(|| CheckFailure::new("host namespaces", set.join(", ")))
}

/// `privileged`: no container may set securityContext.privileged=true.
pub(crate) fn privileged(pod: &PodView) -> Option<CheckFailure> {
    let bad = containers_where(pod, |c| is_true(container_security_field(c, "privileged")));
    (!bad.is_empty()).then(|| {
        CheckFailure::new(
            "privileged",
            format!(
                "{} must not set securityContext.privileged=true",
                containers_phrase(&bad)
            ),
        )
    })
}

/// The capabilities a baseline container may add.
const BASELINE_CAPABILITIES: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// `capabilities_baseline`: capabilities.add may only hold the default capability set.
pub(crate) fn capabilities_baseline(pod: &PodView) -> Option<CheckFailure> {
    let mut forbidden = BTreeSet::new();
    let bad = containers_where(pod, |c| {
        let capabilities = container_security_field(c, "capabilities");
        let added: Vec<&str> = strings(capabilities.and_then(|caps| field(caps, "add")))
            .filter(|cap| !BASELINE_CAPABILITIES.contains(cap))
            .collect();
        forbidden.extend(added.iter().map(|cap| cap.to_string()));
        !added.is_empty()
    });
    (!bad.is_empty()).then(|| {
        let forbidden: Vec<String> = forbidden.into_iter().collect();
        CheckFailure::new(
            "non-default capabilities",
            format!(
                "{} must not include {} in securityContext.capabilities.add",
                containers_phrase(&bad),
                join_quote(&forbidden)
            ),
        )
    })
}

/// `hostPathVolumes`: no volume may be a hostPath volume.
pub(crate) fn host_path_volumes(pod: &PodView) -> Option<CheckFailure> {
    let bad: Vec<&str> = pod
        .volumes()
        .filter(|vol| field(vol, "hostPath").is_some())
        .map(name)
        .collect();
    (!bad.is_empty()).then(|| {
        CheckFailure::new(
            "hostPath volumes",
            format!("{} {}", pluralize("volume", "volumes", bad.len()), join_quote(&bad)),
        )
    })
}

/// `hostPorts`: no container port may set a non-zero hostPort.
pub(crate) fn host_ports(pod: &PodView) -> Option<CheckFailure> {
    let mut ports = BTreeSet::new();
    let bad = containers_where(pod, |c| {
        let used: Vec<i64> = field(c, "ports")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|port| field(port, "hostPort").and_then(Value::as_i64))
            .filter(|host_port| *host_port != 0)
            .collect();
        ports.extend(used.iter().map(i64::to_string));
        !used.is_empty()
    });
    (!bad.is_empty()).then(|| {
        let ports: Vec<String> = ports.into_iter().collect();
        CheckFailure::new(
            "hostPort",
            format!(
                "{} {} {} {}",
                containers_phrase(&bad),
                pluralize("uses", "use", bad.len()),
                pluralize("hostPort", "hostPorts", ports.len()),
                ports.join(", ")
            ),
        )
    })
}

/// `procMount`: securityContext.procMount may only be unset or `Default`.
pub(crate) fn proc_mount(pod: &PodView) -> Option<CheckFailure> {
    let mut types = BTreeSet::new();
    let bad = containers_where(pod, |c| {
        let Some(value) = container_security_field(c, "procMount") else {
            return false;
        };
        let proc_mount = value.as_str().unwrap_or_default();
        let forbidden = proc_mount != "Default";
        if forbidden {
            types.insert(proc_mount.to_string());
        }
        forbidden
    });
    (!bad.is_empty()).then(|| {
        let types: Vec<String> = types.into_iter().collect();
        CheckFailure::new(
            "procMount",
            format!(
                "{} must not set securityContext.procMount to {}",
                containers_phrase(&bad),
                join_quote(&types)
            ),
        )
    })
}

/// Safe sysctls of policy version 1.0.
const SYSCTLS_1_0: &[&str] = &[
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_unprivileged_port_start",
];
/// Added in policy version 1.27.
const SYSCTLS_1_27: &[&str] = &["net.ipv4.ip_local_reserved_ports"];
/// Added in policy version 1.29.
const SYSCTLS_1_29: &[&str] = &[
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
];
/// Added in policy version 1.32.
const SYSCTLS_1_32: &[&str] = &["net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"];

/// `sysctls` at 1.0: only the safe sysctls may be set in spec.securityContext.sysctls.
pub(crate) fn sysctls_1_0(pod: &PodView) -> Option<CheckFailure> {
    sysctls(pod, &[SYSCTLS_1_0])
}

/// `sysctls` at 1.27.
pub(crate) fn sysctls_1_27(pod: &PodView) -> Option<CheckFailure> {
    sysctls(pod, &[SYSCTLS_1_0, SYSCTLS_1_27])
}

/// `sysctls` at 1.29.
pub(crate) fn sysctls_1_29(pod: &PodView) -> Option<CheckFailure> {
    sysctls(pod, &[SYSCTLS_1_0, SYSCTLS_1_27, SYSCTLS_1_29])
}

/// `sysctls` at 1.32 (current through 1.33).
pub(crate) fn sysctls_1_32(pod: &PodView) -> Option<CheckFailure> {
    sysctls(pod, &[SYSCTLS_1_0, SYSCTLS_1_27, SYSCTLS_1_29, SYSCTLS_1_32])
}

/// Lists the sysctl names (in spec order) that are in none of the `allowed` sets.
fn sysctls(pod: &PodView, allowed: &[&[&str]]) -> Option<CheckFailure> {
    let forbidden: Vec<&str> = pod
        .security_field("sysctls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|sysctl| str_field(sysctl, "name").unwrap_or_default())
        .filter(|sysctl| !allowed.iter().any(|set| set.contains(sysctl)))
        .collect();
    (!forbidden.is_empty()).then(|| CheckFailure::new("forbidden sysctls", forbidden.join(", ")))
}

/// `windowsHostProcess`: neither the pod nor a container may set windowsOptions.hostProcess=true.
pub(crate) fn windows_host_process(pod: &PodView) -> Option<CheckFailure> {
    let host_process = |options: Option<&Value>| is_true(options.and_then(|o| field(o, "hostProcess")));
    let bad = containers_where(pod, |c| host_process(container_security_field(c, "windowsOptions")));
    let mut setters = Vec::new();
    if host_process(pod.security_field("windowsOptions")) {
        setters.push("pod".to_string());
    }
    push_containers(&mut setters, &bad);
    (!setters.is_empty()).then(|| {
        CheckFailure::new(
            "hostProcess",
            format!(
                "{} must not set securityContext.windowsOptions.hostProcess=true",
                setters.join(" and ")
            ),
        )
    })
}
