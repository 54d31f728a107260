//! Table-driven tests of the PodSecurity checks, messages and namespace labels against upstream's texts.

use serde_json::{Value, json};

use super::{CheckFailure, Level, Policy, evaluate, forbidden_message, policy_from_namespace_labels, warning_message};

/// One evaluation: a pod spec (and annotations) at a level/version, with the expected (reason, detail) list.
struct Case {
    name: &'static str,
    level: Level,
    version: &'static str,
    annotations: Value,
    spec: Value,
    expect: &'static [(&'static str, &'static str)],
}

fn case(name: &'static str, level: Level, spec: Value, expect: &'static [(&'static str, &'static str)]) -> Case {
    Case {
        name,
        level,
        version: "latest",
        annotations: json!({}),
        spec,
        expect,
    }
}

fn at(version: &'static str, mut case: Case) -> Case {
    case.version = version;
    case
}

fn annotated(annotations: Value, mut case: Case) -> Case {
    case.annotations = annotations;
    case
}

/// A container with the restricted securityContext plus `extra` merged in.
fn restricted_container(name: &str, extra: Value) -> Value {
    let mut sc = json!({
        "allowPrivilegeEscalation": false,
        "capabilities": {"drop": ["ALL"]},
        "runAsNonRoot": true,
        "seccompProfile": {"type": "RuntimeDefault"}
    });
    merge(&mut sc, extra);
    json!({"name": name, "image": "busybox", "securityContext": sc})
}

/// A spec whose only container is restricted-compliant, with `extra` merged into the spec.
fn restricted_spec(extra: Value) -> Value {
    let mut spec = json!({"containers": [restricted_container("c", json!({}))]});
    merge(&mut spec, extra);
    spec
}

fn merge(target: &mut Value, extra: Value) {
    if let (Some(target), Value::Object(extra)) = (target.as_object_mut(), extra) {
        target.extend(extra);
    }
}

fn windows_spec() -> Value {
    json!({"os": {"name": "windows"}, "securityContext": {"runAsNonRoot": true}, "containers": [{"name": "c"}]})
}

fn busybox_spec() -> Value {
    json!({"containers": [{"name": "busybox", "image": "busybox"}]})
}

fn run(case: &Case) {
    let meta = json!({"name": "p", "annotations": case.annotations});
    let got = evaluate(case.level, case.version, &meta, &case.spec);
    let want: Vec<CheckFailure> = case.expect.iter().map(|(r, d)| CheckFailure::new(*r, *d)).collect();
    assert_eq!(got, want, "case {:?}", case.name);
}

#[test]
fn evaluation_table() {
    use Level::{Baseline, Privileged, Restricted};
    let cases = vec![
        case(
            "compliant pod passes restricted",
            Restricted,
            restricted_spec(json!({})),
            &[],
        ),
        at(
            "v1.33",
            case(
                "compliant pod passes restricted v1.33",
                Restricted,
                restricted_spec(json!({})),
                &[],
            ),
        ),
        case(
            "pod-level runAsNonRoot and seccomp satisfy restricted",
            Restricted,
            json!({
                "securityContext": {
                    "runAsNonRoot": true,
                    "seccompProfile": {"type": "Localhost", "localhostProfile": "p"}
                },
                "containers": [{"name": "c", "securityContext": {"allowPrivilegeEscalation": false,
                    "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}}}]
            }),
            &[],
        ),
        case("busybox passes baseline", Baseline, busybox_spec(), &[]),
        case(
            "anything passes privileged",
            Privileged,
            json!({"hostNetwork": true}),
            &[],
        ),
        case(
            "privileged container fails baseline",
            Baseline,
            json!({"containers": [{"name": "c", "securityContext": {"privileged": true}}]}),
            &[(
                "privileged",
                r#"container "c" must not set securityContext.privileged=true"#,
            )],
        ),
        case(
            "privileged init and ephemeral containers",
            Baseline,
            json!({
                "initContainers": [{"name": "i", "securityContext": {"privileged": true}}],
                "containers": [{"name": "c", "securityContext": {"privileged": false}}],
                "ephemeralContainers": [{"name": "e", "securityContext": {"privileged": true}}]
            }),
            &[(
                "privileged",
                r#"containers "i", "e" must not set securityContext.privileged=true"#,
            )],
        ),
        case(
            "hostNetwork and hostPort",
            Baseline,
            json!({"hostNetwork": true, "hostPID": true, "containers": [
                {"name": "a", "ports": [
                    {"containerPort": 80, "hostPort": 8080},
                    {"containerPort": 81, "hostPort": 80}
                ]},
                {"name": "b", "ports": [{"containerPort": 90}]}
            ]}),
            &[
                ("host namespaces", "hostNetwork=true, hostPID=true"),
                ("hostPort", r#"container "a" uses hostPorts 80, 8080"#),
            ],
        ),
        case(
            "hostPath volume fails baseline",
            Baseline,
            json!({"containers": [{"name": "c"}], "volumes": [{"name": "h", "hostPath": {"path": "/"}}]}),
            &[("hostPath volumes", r#"volume "h""#)],
        ),
        case(
            "hostPath volume in restricted reports restricted volume types only",
            Restricted,
            restricted_spec(json!({"volumes": [
                {"name": "h", "hostPath": {"path": "/"}},
                {"name": "n", "nfs": {"server": "s", "path": "/"}},
                {"name": "ok", "emptyDir": {}},
                {"name": "img", "image": {"reference": "busybox"}}
            ]})),
            &[(
                "restricted volume types",
                r#"volumes "h", "n" use restricted volume types "hostPath", "nfs""#,
            )],
        ),
        case(
            "unsafe sysctls",
            Baseline,
            json!({"securityContext": {"sysctls": [
                {"name": "net.core.somaxconn", "value": "1"},
                {"name": "net.ipv4.tcp_rmem", "value": "1 2 3"},
                {"name": "kernel.msgmax", "value": "1"}
            ]}, "containers": [{"name": "c"}]}),
            &[("forbidden sysctls", "net.core.somaxconn, kernel.msgmax")],
        ),
        at(
            "v1.31",
            case(
                "tcp_rmem is not yet safe at v1.31",
                Baseline,
                json!({"securityContext": {"sysctls": [{"name": "net.ipv4.tcp_rmem", "value": "1 2 3"}]}}),
                &[("forbidden sysctls", "net.ipv4.tcp_rmem")],
            ),
        ),
        case(
            "non-default capabilities",
            Baseline,
            json!({"containers": [
                {"name": "c", "securityContext": {"capabilities": {"add": ["SYS_ADMIN", "NET_RAW", "CHOWN"]}}}
            ]}),
            &[(
                "non-default capabilities",
                r#"container "c" must not include "NET_RAW", "SYS_ADMIN" in securityContext.capabilities.add"#,
            )],
        ),
        case(
            "restricted capabilities",
            Restricted,
            json!({"securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
                "containers": [
                {"name": "a", "securityContext": {"allowPrivilegeEscalation": false,
                    "capabilities": {"add": ["CHOWN"]}}},
                {"name": "b", "securityContext": {"allowPrivilegeEscalation": false,
                    "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}}}
            ]}),
            &[(
                "unrestricted capabilities",
                concat!(
                    r#"container "a" must set securityContext.capabilities.drop=["ALL"]; "#,
                    r#"container "a" must not include "CHOWN" in securityContext.capabilities.add"#
                ),
            )],
        ),
        case(
            "unconfined seccomp fails baseline",
            Baseline,
            json!({"securityContext": {"seccompProfile": {"type": "Unconfined"}},
                "containers": [{"name": "c", "securityContext": {"seccompProfile": {"type": "Unconfined"}}}]}),
            &[(
                "seccompProfile",
                r#"pod and container "c" must not set securityContext.seccompProfile.type to "Unconfined""#,
            )],
        ),
        annotated(
            json!({"container.apparmor.security.beta.kubernetes.io/c": "unconfined"}),
            case(
                "AppArmor field and annotation",
                Baseline,
                json!({"containers": [{"name": "c", "securityContext": {"appArmorProfile": {"type": "Unconfined"}}}]}),
                &[(
                    "forbidden AppArmor profiles",
                    concat!(
                        r#"container "c" and annotation must not set AppArmor profile type to "Unconfined", "#,
                        r#""container.apparmor.security.beta.kubernetes.io/c="unconfined"""#
                    ),
                )],
            ),
        ),
        case(
            "SELinux type, user and role",
            Baseline,
            json!({"securityContext": {"seLinuxOptions": {"user": "u"}}, "containers": [
                {"name": "c", "securityContext": {"seLinuxOptions": {"type": "spc_t", "role": "r"}}},
                {"name": "d", "securityContext": {"seLinuxOptions": {"type": "container_engine_t", "level": "s0"}}}
            ]}),
            &[(
                "seLinuxOptions",
                concat!(
                    r#"pod and container "c" set forbidden securityContext.seLinuxOptions: "#,
                    r#"type "spc_t"; user may not be set; role may not be set"#
                ),
            )],
        ),
        at(
            "v1.30",
            case(
                "container_engine_t is forbidden before v1.31",
                Baseline,
                json!({"containers": [
                    {"name": "d", "securityContext": {"seLinuxOptions": {"type": "container_engine_t"}}}
                ]}),
                &[(
                    "seLinuxOptions",
                    r#"container "d" set forbidden securityContext.seLinuxOptions: type "container_engine_t""#,
                )],
            ),
        ),
        case(
            "unmasked procMount",
            Baseline,
            json!({"containers": [{"name": "c", "securityContext": {"procMount": "Unmasked"}},
                {"name": "d", "securityContext": {"procMount": "Default"}}]}),
            &[(
                "procMount",
                r#"container "c" must not set securityContext.procMount to "Unmasked""#,
            )],
        ),
        case(
            "Windows hostProcess",
            Baseline,
            json!({"securityContext": {"windowsOptions": {"hostProcess": true}}, "hostNetwork": true,
                "containers": [{"name": "c", "securityContext": {"windowsOptions": {"hostProcess": true}}}]}),
            &[
                ("host namespaces", "hostNetwork=true"),
                (
                    "hostProcess",
                    r#"pod and container "c" must not set securityContext.windowsOptions.hostProcess=true"#,
                ),
            ],
        ),
        case(
            "runAsUser=0 and runAsNonRoot=false",
            Restricted,
            json!({"securityContext": {"runAsUser": 0, "runAsNonRoot": false,
                    "seccompProfile": {"type": "RuntimeDefault"}},
                "containers": [restricted_container("c", json!({"runAsUser": 0}))]}),
            &[
                (
                    "runAsNonRoot != true",
                    "pod must not set securityContext.runAsNonRoot=false",
                ),
                ("runAsUser=0", r#"pod and container "c" must not set runAsUser=0"#),
            ],
        ),
        case(
            "Windows pods are exempt from restricted capabilities, escalation and seccomp",
            Restricted,
            windows_spec(),
            &[],
        ),
        at(
            "v1.24",
            case(
                "Windows pods are not exempt at v1.24",
                Restricted,
                windows_spec(),
                &[
                    (
                        "allowPrivilegeEscalation != false",
                        r#"container "c" must set securityContext.allowPrivilegeEscalation=false"#,
                    ),
                    (
                        "unrestricted capabilities",
                        r#"container "c" must set securityContext.capabilities.drop=["ALL"]"#,
                    ),
                    (
                        "seccompProfile",
                        concat!(
                            r#"pod or container "c" must set securityContext.seccompProfile.type to "#,
                            r#""RuntimeDefault" or "Localhost""#
                        ),
                    ),
                ],
            ),
        ),
        at(
            "v1.7",
            case(
                "restricted v1.7 has only runAsNonRoot and volume checks beyond baseline",
                Restricted,
                busybox_spec(),
                &[(
                    "runAsNonRoot != true",
                    r#"pod or container "busybox" must set securityContext.runAsNonRoot=true"#,
                )],
            ),
        ),
        annotated(
            json!({"seccomp.security.alpha.kubernetes.io/pod": "unconfined"}),
            at(
                "v1.18",
                case(
                    "seccomp annotations are checked before v1.19",
                    Baseline,
                    busybox_spec(),
                    &[(
                        "seccompProfile",
                        r#"forbidden annotation seccomp.security.alpha.kubernetes.io/pod="unconfined""#,
                    )],
                ),
            ),
        ),
        at(
            "v1.99",
            case(
                "future versions clamp to v1.33",
                Restricted,
                restricted_spec(json!({})),
                &[],
            ),
        ),
        at(
            "garbage",
            case(
                "invalid versions evaluate as latest",
                Baseline,
                json!({"hostIPC": true}),
                &[("host namespaces", "hostIPC=true")],
            ),
        ),
    ];
    for case in &cases {
        run(case);
    }
}

#[test]
fn busybox_restricted_forbidden_message() {
    let failures = evaluate(
        Level::Restricted,
        "latest",
        &json!({"name": "busybox"}),
        &busybox_spec(),
    );
    assert_eq!(
        forbidden_message("busybox", Level::Restricted, "latest", &failures),
        concat!(
            r#"pods "busybox" is forbidden: violates PodSecurity "restricted:latest": "#,
            r#"allowPrivilegeEscalation != false "#,
            r#"(container "busybox" must set securityContext.allowPrivilegeEscalation=false), "#,
            r#"unrestricted capabilities (container "busybox" must set securityContext.capabilities.drop=["ALL"]), "#,
            r#"runAsNonRoot != true (pod or container "busybox" must set securityContext.runAsNonRoot=true), "#,
            r#"seccompProfile (pod or container "busybox" must set securityContext.seccompProfile.type to "#,
            r#""RuntimeDefault" or "Localhost")"#,
        )
    );
}

#[test]
fn baseline_checks_precede_restricted_checks() {
    let spec = json!({"securityContext": {"sysctls": [{"name": "kernel.msgmax", "value": "1"}]},
        "containers": [{"name": "c", "securityContext": {"privileged": true}}]});
    let failures = evaluate(Level::Restricted, "v1.33", &json!({}), &spec);
    let reasons: Vec<&str> = failures.iter().map(|f| f.reason.as_str()).collect();
    assert_eq!(
        reasons,
        [
            "privileged",
            "forbidden sysctls",
            "allowPrivilegeEscalation != false",
            "unrestricted capabilities",
            "runAsNonRoot != true",
            "seccompProfile"
        ]
    );
}

#[test]
fn warning_message_and_empty_detail() {
    let failures = [
        CheckFailure::new("hostPort", "container \"a\" uses hostPort 80"),
        CheckFailure::new("other", ""),
    ];
    assert_eq!(
        warning_message(Level::Baseline, "v1.33", &failures),
        r#"would violate PodSecurity "baseline:v1.33": hostPort (container "a" uses hostPort 80), other"#
    );
}

fn labels(pairs: &[(&str, &str)]) -> Value {
    Value::Object(
        pairs
            .iter()
            .map(|(k, v)| (format!("pod-security.kubernetes.io/{k}"), json!(v)))
            .collect(),
    )
}

#[test]
fn namespace_labels_table() {
    let level = |l: Level, v: &str| (l, v.to_string());
    let cases: Vec<(&str, Option<Value>, Result<Policy, String>)> = vec![
        ("no labels", None, Ok(Policy::default())),
        ("unrelated labels", Some(json!({"team": "a"})), Ok(Policy::default())),
        (
            "all modes",
            Some(labels(&[
                ("enforce", "baseline"),
                ("enforce-version", "v1.33"),
                ("audit", "restricted"),
                ("warn", "restricted"),
                ("warn-version", "v1.30"),
            ])),
            Ok(Policy {
                enforce: level(Level::Baseline, "v1.33"),
                audit: level(Level::Restricted, "latest"),
                warn: level(Level::Restricted, "v1.30"),
            }),
        ),
        (
            "invalid level",
            Some(labels(&[("enforce", "foo")])),
            Err(concat!(
                r#"metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "foo": "#,
                "must be one of privileged, baseline, restricted"
            )
            .to_string()),
        ),
        (
            "invalid version with leading zero",
            Some(labels(&[("warn-version", "v1.033")])),
            Err(concat!(
                r#"metadata.labels[pod-security.kubernetes.io/warn-version]: Invalid value: "v1.033": "#,
                r#"must be "latest" or "v1.x""#
            )
            .to_string()),
        ),
        (
            "several errors",
            Some(labels(&[("audit", "Restricted"), ("enforce-version", "1.33")])),
            Err(concat!(
                r#"[metadata.labels[pod-security.kubernetes.io/enforce-version]: Invalid value: "1.33": "#,
                r#"must be "latest" or "v1.x", "#,
                r#"metadata.labels[pod-security.kubernetes.io/audit]: Invalid value: "Restricted": "#,
                "must be one of privileged, baseline, restricted]"
            )
            .to_string()),
        ),
    ];
    for (name, input, want) in cases {
        assert_eq!(policy_from_namespace_labels(input.as_ref()), want, "case {name:?}");
    }
}
