//! The check registry: every check with its level, versioned implementations and overrides, and the
//! selection of the checks that apply to a level at a policy version, in upstream's order.

use super::pod::PodView;
use super::{CheckFailure, Level, baseline, profiles, restricted};

/// One check implementation: `None` when the pod passes.
pub(crate) type CheckFn = fn(&PodView) -> Option<CheckFailure>;

/// An implementation of a check that applies from policy version `v1.<min>` on.
struct Versioned {
    min: u32,
    check: CheckFn,
    /// Baseline check IDs this restricted check replaces when active.
    overrides: &'static [&'static str],
}

/// A check: unique ID, level, and its implementations in increasing version order.
struct Check {
    id: &'static str,
    level: Level,
    versions: &'static [Versioned],
}

const fn v(min: u32, check: CheckFn) -> Versioned {
    Versioned {
        min,
        check,
        overrides: &[],
    }
}

const fn v_over(min: u32, check: CheckFn, overrides: &'static [&'static str]) -> Versioned {
    Versioned { min, check, overrides }
}

const fn baseline(id: &'static str, versions: &'static [Versioned]) -> Check {
    Check {
        id,
        level: Level::Baseline,
        versions,
    }
}

const fn restricted(id: &'static str, versions: &'static [Versioned]) -> Check {
    Check {
        id,
        level: Level::Restricted,
        versions,
    }
}

/// Every check of policy versions up to v1.33.
const CHECKS: &[Check] = &[
    baseline("appArmorProfile", &[v(0, profiles::app_armor_profile)]),
    baseline("capabilities_baseline", &[v(0, baseline::capabilities_baseline)]),
    baseline("hostNamespaces", &[v(0, baseline::host_namespaces)]),
    baseline("hostPathVolumes", &[v(0, baseline::host_path_volumes)]),
    baseline("hostPorts", &[v(0, baseline::host_ports)]),
    baseline("privileged", &[v(0, baseline::privileged)]),
    baseline("procMount", &[v(0, baseline::proc_mount)]),
    baseline(
        "seLinuxOptions",
        &[
            v(0, profiles::se_linux_options_1_0),
            v(31, profiles::se_linux_options_1_31),
        ],
    ),
    baseline(
        "seccompProfile_baseline",
        &[
            v(0, profiles::seccomp_annotations_1_0),
            v(19, profiles::seccomp_profile_baseline_1_19),
        ],
    ),
    baseline(
        "sysctls",
        &[
            v(0, baseline::sysctls_1_0),
            v(27, baseline::sysctls_1_27),
            v(29, baseline::sysctls_1_29),
            v(32, baseline::sysctls_1_32),
        ],
    ),
    baseline("windowsHostProcess", &[v(0, baseline::windows_host_process)]),
    restricted(
        "allowPrivilegeEscalation",
        &[
            v(8, restricted::allow_privilege_escalation_1_8),
            v(25, restricted::allow_privilege_escalation_1_25),
        ],
    ),
    restricted(
        "capabilities_restricted",
        &[
            v_over(22, restricted::capabilities_restricted_1_22, &["capabilities_baseline"]),
            v_over(25, restricted::capabilities_restricted_1_25, &["capabilities_baseline"]),
        ],
    ),
    restricted(
        "restrictedVolumes",
        &[v_over(0, restricted::restricted_volumes, &["hostPathVolumes"])],
    ),
    restricted("runAsNonRoot", &[v(0, restricted::run_as_non_root)]),
    restricted("runAsUser", &[v(23, restricted::run_as_user)]),
    restricted(
        "seccompProfile_restricted",
        &[
            v_over(
                19,
                profiles::seccomp_profile_restricted_1_19,
                &["seccompProfile_baseline"],
            ),
            v_over(
                25,
                profiles::seccomp_profile_restricted_1_25,
                &["seccompProfile_baseline"],
            ),
        ],
    ),
];

/// The implementation of `check` active at `minor`: the newest one whose minimum version is not newer.
fn active(check: &Check, minor: u32) -> Option<&Versioned> {
    check.versions.iter().rev().find(|versioned| versioned.min <= minor)
}

/// The checks to run for `level` at policy version `v1.<minor>`: baseline checks sorted by ID, then (for
/// restricted) restricted checks sorted by ID, without the baseline checks that active restricted checks
/// override.
pub(crate) fn checks_for(level: Level, minor: u32) -> Vec<CheckFn> {
    let wanted: &[Level] = match level {
        Level::Privileged => return Vec::new(),
        Level::Baseline => &[Level::Baseline],
        Level::Restricted => &[Level::Baseline, Level::Restricted],
    };
    let mut selected: Vec<(&Check, &Versioned)> = CHECKS
        .iter()
        .filter(|check| wanted.contains(&check.level))
        .filter_map(|check| active(check, minor).map(|versioned| (check, versioned)))
        .collect();
    let overridden: Vec<&str> = selected
        .iter()
        .flat_map(|(_, versioned)| versioned.overrides.iter().copied())
        .collect();
    selected.retain(|(check, _)| !overridden.contains(&check.id));
    selected.sort_by_key(|(check, _)| (check.level == Level::Restricted, check.id.as_bytes()));
    selected.into_iter().map(|(_, versioned)| versioned.check).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_ids_are_unique_and_versions_increasing() {
        for (i, check) in CHECKS.iter().enumerate() {
            assert!(
                CHECKS[i + 1..].iter().all(|other| other.id != check.id),
                "duplicate {}",
                check.id
            );
            assert!(
                check.versions.windows(2).all(|w| w[0].min < w[1].min),
                "unordered {}",
                check.id
            );
            assert!(
                check
                    .versions
                    .iter()
                    .all(|versioned| versioned.min <= super::super::version::MAX_MINOR)
            );
        }
    }

    #[test]
    fn check_counts_per_level_and_version() {
        assert_eq!(checks_for(Level::Privileged, 33).len(), 0);
        assert_eq!(checks_for(Level::Baseline, 33).len(), 11);
        // 11 baseline - 3 overridden + 6 restricted
        assert_eq!(checks_for(Level::Restricted, 33).len(), 14);
        // before 1.8 there is no allowPrivilegeEscalation, capabilities_restricted, runAsUser or
        // restricted seccomp check, so capabilities_baseline and seccompProfile_baseline are not overridden
        assert_eq!(checks_for(Level::Restricted, 7).len(), 12);
    }
}
