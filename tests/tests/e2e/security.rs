//! Authentication and authorization with real kubectl: a test CA issues certificates for
//! several identities; with tokens (static, service account, bootstrap) and anonymous, each
//! gets exactly the expected 200/401/403 over an identity × verb × resource matrix.

use e2e::{ADMIN_TOKEN, ApiServer, Store};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use std::path::{Path, PathBuf};

struct Ca {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
}

fn ca(name: &str) -> Ca {
    let key = KeyPair::generate().expect("key");
    let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
    p.distinguished_name.push(DnType::CommonName, name);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let cert = p.self_signed(&key).expect("ca cert");
    Ca {
        pem: cert.pem(),
        issuer: Issuer::new(p, key),
    }
}

/// Writes a client certificate (CN, O…) signed by `ca`; returns kubectl's identity flags.
fn client_cert(dir: &Path, ca: &Ca, file: &str, cn: &str, orgs: &[&str], expired: bool) -> Vec<String> {
    let key = KeyPair::generate().expect("key");
    let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
    p.distinguished_name.push(DnType::CommonName, cn);
    for o in orgs {
        p.distinguished_name.push(DnType::OrganizationName, *o);
    }
    if expired {
        p.not_before = rcgen::date_time_ymd(2020, 1, 1);
        p.not_after = rcgen::date_time_ymd(2021, 1, 1);
    }
    let cert = p.signed_by(&key, &ca.issuer).expect("client cert");
    let (crt, k): (PathBuf, PathBuf) = (dir.join(format!("{file}.crt")), dir.join(format!("{file}.key")));
    std::fs::write(&crt, cert.pem()).expect("write cert");
    std::fs::write(&k, key.serialize_pem()).expect("write key");
    vec![
        "--client-certificate".into(),
        crt.display().to_string(),
        "--client-key".into(),
        k.display().to_string(),
    ]
}

fn token(t: &str) -> Vec<String> {
    vec!["--token".into(), t.into()]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Ok,
    Forbidden,
    Unauthorized,
}

fn outcome(out: &std::process::Output) -> Option<Expect> {
    let err = String::from_utf8_lossy(&out.stderr);
    if out.status.success() {
        Some(Expect::Ok)
    } else if err.contains("(Forbidden)") || err.contains("is forbidden") {
        Some(Expect::Forbidden)
    } else if err.contains("Unauthorized") {
        Some(Expect::Unauthorized)
    } else {
        None
    }
}

const SETUP: &str = r#"apiVersion: v1
kind: Namespace
metadata: {name: team-a}
---
apiVersion: v1
kind: Namespace
metadata: {name: team-b}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-reader, namespace: team-a}
rules:
- {apiGroups: [""], resources: ["pods", "configmaps"], verbs: ["get", "list", "watch"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: alice-reads, namespace: team-a}
subjects: [{kind: User, name: alice, apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: Role, name: pod-reader, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: carol-admin, namespace: team-a}
subjects: [{kind: User, name: carol, apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: ClusterRole, name: admin, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: robot, namespace: team-a}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: robot-view, namespace: team-a}
subjects: [{kind: ServiceAccount, name: robot, namespace: team-a}]
roleRef: {kind: ClusterRole, name: view, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: v1
kind: Secret
metadata: {name: s1, namespace: team-a}
stringData: {k: one}
---
apiVersion: v1
kind: Secret
metadata: {name: s2, namespace: team-a}
stringData: {k: two}
---
apiVersion: v1
kind: Pod
metadata: {name: on-n1, namespace: team-a}
spec:
  nodeName: n1
  serviceAccountName: robot
  containers: [{name: c, image: busybox:1.36}]
  volumes: [{name: s, secret: {secretName: s1}}]
---
apiVersion: v1
kind: Pod
metadata: {name: on-n2, namespace: team-a}
spec:
  nodeName: n2
  serviceAccountName: robot
  containers: [{name: c, image: busybox:1.36}]
  volumes: [{name: s, secret: {secretName: s2}}]
---
apiVersion: v1
kind: Secret
metadata: {name: bootstrap-token-abcdef, namespace: kube-system}
type: bootstrap.kubernetes.io/token
stringData:
  token-id: abcdef
  token-secret: 0123456789abcdef
  usage-bootstrap-authentication: "true"
  auth-extra-groups: system:bootstrappers:kubeadm:default-node-token
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: bootstrappers-csr}
subjects: [{kind: Group, name: system:bootstrappers, apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: ClusterRole, name: system:node-bootstrapper, apiGroup: rbac.authorization.k8s.io}
"#;

/// A CertificateSigningRequest manifest for `cn` in `orgs`, with a real request in it.
fn csr_manifest(name: &str, signer: &str, cn: &str, orgs: &[&str]) -> String {
    use base64::Engine;
    let key = KeyPair::generate().expect("key");
    let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
    p.distinguished_name.push(DnType::CommonName, cn);
    for o in orgs {
        p.distinguished_name.push(DnType::OrganizationName, *o);
    }
    let pem = p.serialize_request(&key).expect("csr").pem().expect("pem");
    let request = base64::engine::general_purpose::STANDARD.encode(pem);
    format!(
        "apiVersion: certificates.k8s.io/v1\nkind: CertificateSigningRequest\nmetadata:\n  name: {name}\nspec:\n  signerName: {signer}\n  usages: [client auth, digital signature]\n  request: {request}\n"
    )
}

#[test]
fn identities_get_exactly_their_permissions() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let test_ca = ca("e2e-ca");
    let other_ca = ca("other-ca");
    let ca_file = d.join("client-ca.crt");
    std::fs::write(&ca_file, &test_ca.pem).expect("ca file");
    let ca_arg = ca_file.display().to_string();
    let s = ApiServer::start_with(
        Store::Embedded,
        &[
            "--client-ca-file",
            &ca_arg,
            "--authorization-mode",
            "Node,RBAC",
            "--enable-bootstrap-token-auth",
            "--enable-admission-plugins",
            "NodeRestriction",
        ],
    );
    let f = s.file("setup.yaml", SETUP);
    s.ok(&["apply", "-f", &f]);
    let robot_token = s.ok(&["-n", "team-a", "create", "token", "robot"]).trim().to_string();

    let admin = client_cert(d, &test_ca, "admin", "kube-admin", &["system:masters"], false);
    let alice = client_cert(d, &test_ca, "alice", "alice", &["developers"], false);
    let carol = client_cert(d, &test_ca, "carol", "carol", &[], false);
    let node = client_cert(d, &test_ca, "n1", "system:node:n1", &["system:nodes"], false);
    let expired = client_cert(d, &test_ca, "expired", "alice", &[], true);
    let foreign = client_cert(d, &other_ca, "foreign", "kube-admin", &["system:masters"], false);
    let robot = token(&robot_token);
    let boot = token("abcdef.0123456789abcdef");
    let forged = {
        let mut parts: Vec<String> = robot_token.split('.').map(String::from).collect();
        parts[1] = parts[1].chars().rev().collect();
        token(&parts.join("."))
    };
    let csr_file = s.file(
        "csr.yaml",
        &csr_manifest(
            "boot-csr",
            "kubernetes.io/kube-apiserver-client-kubelet",
            "system:node:n3",
            &["system:nodes"],
        ),
    );
    let static_admin = token(ADMIN_TOKEN);
    let node_n1 = s.file("node-n1.yaml", "apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\n");
    let node_n2 = s.file("node-n2.yaml", "apiVersion: v1\nkind: Node\nmetadata:\n  name: n2\n");
    let garbage = token("not-a-token");
    let bad_bootstrap = token("abcdef.0123456789abcdeX");

    use Expect::*;
    let cases: Vec<(&str, &Vec<String>, Vec<&str>, Expect)> = vec![
        ("admin", &admin, vec!["get", "ns"], Ok),
        ("admin", &admin, vec!["get", "pods", "-A"], Ok),
        ("admin", &admin, vec!["get", "secrets", "-n", "team-b"], Ok),
        ("admin", &admin, vec!["create", "ns", "by-admin"], Ok),
        ("admin", &admin, vec!["get", "nodes"], Ok),
        ("admin", &admin, vec!["delete", "ns", "by-admin", "--wait=false"], Ok),
        ("static-admin", &static_admin, vec!["get", "clusterroles"], Ok),
        ("alice", &alice, vec!["get", "pods", "-n", "team-a"], Ok),
        ("alice", &alice, vec!["get", "configmaps", "-n", "team-a"], Ok),
        ("alice", &alice, vec!["get", "pod", "on-n1", "-n", "team-a"], Ok),
        ("alice", &alice, vec!["get", "pods", "-n", "team-b"], Forbidden),
        ("alice", &alice, vec!["get", "secrets", "-n", "team-a"], Forbidden),
        (
            "alice",
            &alice,
            vec!["delete", "pod", "on-n1", "-n", "team-a"],
            Forbidden,
        ),
        ("alice", &alice, vec!["create", "cm", "x", "-n", "team-a"], Forbidden),
        ("alice", &alice, vec!["get", "nodes"], Forbidden),
        ("alice", &alice, vec!["get", "ns"], Forbidden),
        ("alice", &alice, vec!["get", "--raw", "/version"], Ok),
        ("alice", &alice, vec!["get", "--raw", "/apis"], Ok),
        (
            "carol",
            &carol,
            vec![
                "create",
                "rolebinding",
                "escalate",
                "-n",
                "team-a",
                "--clusterrole=cluster-admin",
                "--user=carol",
            ],
            Forbidden,
        ),
        (
            "carol",
            &carol,
            vec![
                "create",
                "rolebinding",
                "viewer",
                "-n",
                "team-a",
                "--clusterrole=view",
                "--user=dave",
            ],
            Ok,
        ),
        (
            "carol",
            &carol,
            vec![
                "create",
                "role",
                "nodes",
                "-n",
                "team-a",
                "--verb=get",
                "--resource=nodes",
            ],
            Forbidden,
        ),
        ("carol", &carol, vec!["get", "secrets", "-n", "team-a"], Ok),
        ("carol", &carol, vec!["get", "secrets", "-n", "team-b"], Forbidden),
        ("node", &node, vec!["get", "secret", "s1", "-n", "team-a"], Ok),
        ("node", &node, vec!["get", "secret", "s2", "-n", "team-a"], Forbidden),
        ("node", &node, vec!["get", "secrets", "-n", "team-a"], Forbidden),
        ("node", &node, vec!["get", "nodes"], Ok),
        ("node", &node, vec!["get", "pods", "-A"], Ok),
        ("node", &node, vec!["create", "cm", "x", "-n", "team-a"], Forbidden),
        ("node", &node, vec!["get", "clusterroles"], Forbidden),
        ("node", &node, vec!["create", "-f", &node_n1], Ok),
        ("node", &node, vec!["create", "-f", &node_n2], Forbidden),
        ("robot", &robot, vec!["get", "pods", "-n", "team-a"], Ok),
        ("robot", &robot, vec!["get", "cm", "-n", "team-a"], Ok),
        ("robot", &robot, vec!["get", "secrets", "-n", "team-a"], Forbidden),
        ("robot", &robot, vec!["get", "pods", "-n", "team-b"], Forbidden),
        (
            "robot",
            &robot,
            vec!["create", "deployment", "d", "--image=x", "-n", "team-a"],
            Forbidden,
        ),
        ("bootstrap", &boot, vec!["create", "-f", &csr_file], Ok),
        ("bootstrap", &boot, vec!["get", "csr"], Ok),
        ("bootstrap", &boot, vec!["get", "pods", "-A"], Forbidden),
        (
            "bootstrap",
            &boot,
            vec!["get", "secrets", "-n", "kube-system"],
            Forbidden,
        ),
        ("bootstrap", &boot, vec!["get", "nodes"], Forbidden),
        ("forged-jwt", &forged, vec!["get", "pods", "-n", "team-a"], Unauthorized),
        ("garbage-token", &garbage, vec!["get", "pods"], Unauthorized),
        ("bad-bootstrap", &bad_bootstrap, vec!["get", "csr"], Unauthorized),
        (
            "expired-cert",
            &expired,
            vec!["get", "pods", "-n", "team-a"],
            Unauthorized,
        ),
        ("other-ca-cert", &foreign, vec!["get", "ns"], Unauthorized),
    ];
    // Anonymous: kubectl would prompt for credentials, so these go without any, by curl.
    let anonymous = [
        ("/version", 200),
        ("/healthz", 200),
        ("/readyz", 200),
        ("/api/v1/namespaces/default/pods", 403),
        ("/apis", 403),
        ("/api/v1/namespaces", 403),
    ];
    for (path, code) in anonymous {
        assert_eq!(s.anonymous_get(path), code, "anonymous GET {path}");
    }
    assert!(cases.len() + anonymous.len() >= 40);
    let mut failures = Vec::new();
    for (who, identity, args, want) in &cases {
        let id: Vec<&str> = identity.iter().map(String::as_str).collect();
        let out = s.kubectl_as(&id, args);
        let got = outcome(&out);
        if got != Some(*want) {
            failures.push(format!(
                "{who} {args:?}: want {want:?}, got {got:?}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases wrong:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );

    // NodeRestriction: a kubelet writes the status of its own pods only.
    let cert_args = ["--cert", &node[1], "--key", &node[3]];
    let patch_status = |pod: &str| {
        let path = format!("/api/v1/namespaces/team-a/pods/{pod}/status");
        s.curl(
            &cert_args,
            "PATCH",
            &path,
            "application/merge-patch+json",
            Some(r#"{"status":{"phase":"Running"}}"#),
        )
        .0
    };
    assert_eq!(patch_status("on-n1"), 200);
    assert_eq!(patch_status("on-n2"), 403);

    // upstream's exact 403 text
    let out = s.kubectl_as(
        &alice.iter().map(String::as_str).collect::<Vec<_>>(),
        &["get", "pods", "-n", "team-b"],
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "Error from server (Forbidden): pods is forbidden: User \"alice\" cannot list resource \"pods\" in API group \"\" in the namespace \"team-b\""
    );
    // whoami and can-i
    let who = s.kubectl_as(
        &alice.iter().map(String::as_str).collect::<Vec<_>>(),
        &["auth", "whoami"],
    );
    let text = String::from_utf8_lossy(&who.stdout);
    assert!(
        text.starts_with("ATTRIBUTE   VALUE\nUsername    alice\nGroups      [developers system:authenticated]"),
        "{text}"
    );
    let yes = s.kubectl_as(
        &alice.iter().map(String::as_str).collect::<Vec<_>>(),
        &["auth", "can-i", "list", "pods", "-n", "team-a"],
    );
    assert_eq!(
        (String::from_utf8_lossy(&yes.stdout).trim(), yes.status.code()),
        ("yes", Some(0))
    );
    let no = s.kubectl_as(
        &alice.iter().map(String::as_str).collect::<Vec<_>>(),
        &["auth", "can-i", "delete", "pods", "-n", "team-a"],
    );
    assert_eq!(
        (String::from_utf8_lossy(&no.stdout).trim(), no.status.code()),
        ("no", Some(1))
    );
    let list = s.kubectl_as(
        &alice.iter().map(String::as_str).collect::<Vec<_>>(),
        &["auth", "can-i", "--list", "-n", "team-a"],
    );
    let list = String::from_utf8_lossy(&list.stdout);
    assert!(list.starts_with("Resources"), "{list}");
    assert!(
        list.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["pods", "[]", "[]", "[get", "list", "watch]"]),
        "{list}"
    );
    assert!(
        list.lines()
            .any(|l| l.starts_with("selfsubjectreviews.authentication.k8s.io")),
        "{list}"
    );

    // ServiceAccount admission: a pod needs its service account, and gets the API token volume.
    let pod = |name: &str, extra: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: team-b\nspec:\n  containers:\n  - name: c\n    image: busybox:1.36\n{extra}"
        )
    };
    let f = s.file("sa-pod.yaml", &pod("with-sa", ""));
    let err = s.fails(&["create", "-f", &f]);
    assert!(
        err.contains("error looking up service account team-b/default: serviceaccount \"default\" not found"),
        "{err}"
    );
    s.ok(&["-n", "team-b", "create", "sa", "default"]);
    s.ok(&["create", "-f", &f]);
    let jp =
        "jsonpath={.spec.volumes[0].name} {.spec.containers[0].volumeMounts[0].mountPath} {.spec.serviceAccountName}";
    let vol = s.ok(&["-n", "team-b", "get", "pod", "with-sa", "-o", jp]);
    assert!(vol.starts_with("kube-api-access-"), "{vol}");
    assert!(
        vol.ends_with(" /var/run/secrets/kubernetes.io/serviceaccount default"),
        "{vol}"
    );
    let tolerations = s.ok(&[
        "-n",
        "team-b",
        "get",
        "pod",
        "with-sa",
        "-o",
        "jsonpath={.spec.tolerations[*].key}",
    ]);
    assert_eq!(
        tolerations,
        "node.kubernetes.io/not-ready node.kubernetes.io/unreachable"
    );
    // A token bound to the pod works until the pod is gone.
    let bound_args = [
        "-n",
        "team-b",
        "create",
        "token",
        "default",
        "--bound-object-kind",
        "Pod",
        "--bound-object-name",
        "with-sa",
    ];
    let bound = s.ok(&bound_args).trim().to_string();
    let who = s.kubectl_as(
        &["--token", &bound],
        &["auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"],
    );
    assert_eq!(
        String::from_utf8_lossy(&who.stdout),
        "system:serviceaccount:team-b:default"
    );
    s.ok(&["-n", "team-b", "delete", "pod", "with-sa"]);
    assert_eq!(
        outcome(&s.kubectl_as(&["--token", &bound], &["auth", "whoami"])),
        Some(Unauthorized)
    );

    // PodSecurity: a restricted namespace refuses a privileged pod with upstream's message.
    s.ok(&["label", "ns", "team-b", "pod-security.kubernetes.io/enforce=restricted"]);
    let f = s.file(
        "priv-pod.yaml",
        &pod("priv", "    securityContext:\n      privileged: true\n"),
    );
    let err = s.fails(&["create", "-f", &f]);
    let want = "pods \"priv\" is forbidden: violates PodSecurity \"restricted:latest\": privileged (container \"c\" must not set securityContext.privileged=true), allowPrivilegeEscalation != false (container \"c\" must set securityContext.allowPrivilegeEscalation=false)";
    assert!(err.contains(want), "{err}");

    // Certificates: the requester is recorded; approval needs the approve verb on the signer;
    // system:masters may not be requested from the kube-apiserver-client signer.
    let requester = s.ok(&["get", "csr", "boot-csr", "-o", "jsonpath={.spec.username}"]);
    assert_eq!(requester, "system:bootstrap:abcdef");
    let boot_ids: Vec<&str> = boot.iter().map(String::as_str).collect();
    let denied = s.kubectl_as(&boot_ids, &["certificate", "approve", "boot-csr"]);
    assert_eq!(
        outcome(&denied),
        Some(Forbidden),
        "{}",
        String::from_utf8_lossy(&denied.stderr)
    );
    assert_eq!(
        s.ok(&["certificate", "approve", "boot-csr"]).trim(),
        "certificatesigningrequest.certificates.k8s.io/boot-csr approved"
    );
    let cond = s.ok(&["get", "csr", "boot-csr", "-o", "jsonpath={.status.conditions[0].type}"]);
    assert_eq!(cond, "Approved");
    let masters = s.file(
        "masters-csr.yaml",
        &csr_manifest(
            "masters",
            "kubernetes.io/kube-apiserver-client",
            "eve",
            &["system:masters"],
        ),
    );
    let err = s.fails(&["create", "-f", &masters]);
    assert!(
        err.contains("use of kubernetes.io/kube-apiserver-client signer with system:masters group is not allowed"),
        "{err}"
    );

    // The robot's token stops working once its service account is gone.
    s.ok(&["-n", "team-a", "delete", "sa", "robot"]);
    let after = s.kubectl_as(
        &robot.iter().map(String::as_str).collect::<Vec<_>>(),
        &["get", "pods", "-n", "team-a"],
    );
    assert_eq!(outcome(&after), Some(Unauthorized));
    // The server logged the refusals and still answers.
    assert!(s.log().contains("Unable to authenticate the request"));
    s.ok(&["get", "--raw", "/readyz"]);
}
