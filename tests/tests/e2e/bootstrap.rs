//! Joining a node with a bootstrap token, and RBAC role aggregation, against a real API server with RBAC on and
//! each controller acting as its own service account: the token signs `cluster-info`, a node client certificate
//! request made with the token is approved and signed, the certificate then authenticates as the node, and
//! expired tokens are removed.

use base64::Engine;
use e2e::{ApiServer, Store};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
use std::io::Write;
use std::process::{Command, Stdio};

const TOKEN_ID: &str = "abcdef";
const TOKEN_SECRET: &str = "0123456789abcdef";
const KUBECONFIG: &str =
    "apiVersion: v1\nkind: Config\nclusters:\n- name: ''\n  cluster: {server: 'https://10.0.0.1:6443'}\n";

/// A CA written as `ca.crt`/`ca.key` in `dir`; returns the certificate's path.
fn write_ca(dir: &std::path::Path) -> (String, String) {
    let key = KeyPair::generate().expect("key");
    let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
    p.distinguished_name.push(DnType::CommonName, "bootstrap-e2e-ca");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
    let cert = p.self_signed(&key).expect("ca");
    let (crt, k) = (dir.join("ca.crt"), dir.join("ca.key"));
    std::fs::write(&crt, cert.pem()).expect("ca.crt");
    std::fs::write(&k, key.serialize_pem()).expect("ca.key");
    (crt.display().to_string(), k.display().to_string())
}

fn token_secret(id: &str, secret: &str, expiration: Option<&str>) -> String {
    let expiration = expiration.map(|e| format!("  expiration: '{e}'\n")).unwrap_or_default();
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: bootstrap-token-{id}, namespace: kube-system}}\ntype: bootstrap.kubernetes.io/token\nstringData:\n  token-id: '{id}'\n  token-secret: '{secret}'\n  usage-bootstrap-authentication: \"true\"\n  usage-bootstrap-signing: \"true\"\n  auth-extra-groups: system:bootstrappers:kubeadm:default-node-token\n{expiration}"
    )
}

const SETUP: &str = "apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: bootstrappers-create-csrs}
subjects: [{kind: Group, name: system:bootstrappers, apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: ClusterRole, name: system:node-bootstrapper, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: bootstrappers-auto-approve}
subjects: [{kind: Group, name: system:bootstrappers, apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: ClusterRole, name: system:certificates.k8s.io:certificatesigningrequests:nodeclient, apiGroup: rbac.authorization.k8s.io}
";

/// A node client certificate request for `node` (key written to `dir/<node>.key`).
fn node_csr(dir: &std::path::Path, node: &str) -> String {
    let key = KeyPair::generate().expect("key");
    std::fs::write(dir.join(format!("{node}.key")), key.serialize_pem()).expect("key file");
    let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
    p.distinguished_name = rcgen::DistinguishedName::new();
    p.distinguished_name
        .push(DnType::CommonName, format!("system:node:{node}"));
    p.distinguished_name.push(DnType::OrganizationName, "system:nodes");
    let pem = p.serialize_request(&key).expect("csr").pem().expect("pem");
    let request = base64::engine::general_purpose::STANDARD.encode(pem);
    format!(
        "apiVersion: certificates.k8s.io/v1\nkind: CertificateSigningRequest\nmetadata: {{name: node-csr-{node}}}\nspec:\n  signerName: kubernetes.io/kube-apiserver-client-kubelet\n  usages: [digital signature, client auth]\n  request: {request}\n"
    )
}

/// HMAC-SHA256 of `input` keyed by `key`, base64url, computed by openssl.
fn openssl_hs256(key: &str, input: &str) -> String {
    let mut child = Command::new("openssl")
        .args(["dgst", "-sha256", "-binary", "-hmac", key])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("openssl");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("openssl output");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(out.stdout)
}

/// One value of the `cluster-info` ConfigMap, empty when absent.
fn cluster_info(s: &ApiServer, key: &str) -> String {
    let cm: serde_json::Value =
        serde_json::from_str(&s.ok(&["-n", "kube-public", "get", "cm", "cluster-info", "-o", "json"])).expect("json");
    cm["data"][key].as_str().unwrap_or_default().to_string()
}

/// RFC 3339 for a few seconds from now.
fn in_seconds(n: u32) -> String {
    let out = Command::new("date")
        .args(["-u", "-d", &format!("+{n} seconds"), "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .expect("date");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn bootstrap_token_joins_a_node() {
    let dir = tempfile::tempdir().expect("tmp");
    let (ca_crt, ca_key) = write_ca(dir.path());
    let s = ApiServer::start_rbac_with(&["--enable-bootstrap-token-auth", "--client-ca-file", &ca_crt]);
    let _kcm = s.controller_manager(&[
        "--use-service-account-credentials",
        "--controllers",
        // The defaults (the certificate controllers among them) and the two bootstrap ones that are off by
        // default; nodeipam, which needs --cluster-cidr, has no part here.
        "*,bootstrapsigner,tokencleaner,-nodeipam",
        "--cluster-signing-cert-file",
        &ca_crt,
        "--cluster-signing-key-file",
        &ca_key,
    ]);
    s.ok_stdin(&["apply", "-f", "-"], SETUP);
    s.ok(&[
        "-n",
        "kube-public",
        "create",
        "cm",
        "cluster-info",
        &format!("--from-literal=kubeconfig={KUBECONFIG}"),
    ]);
    s.ok_stdin(&["apply", "-f", "-"], &token_secret(TOKEN_ID, TOKEN_SECRET, None));

    // cluster-info carries a detached JWS of its kubeconfig, keyed by the token secret.
    let sig_key = format!("jws-kubeconfig-{TOKEN_ID}");
    s.eventually("the cluster-info signature", 20, || {
        !cluster_info(&s, &sig_key).is_empty()
    });
    let jws = cluster_info(&s, &sig_key);
    let (header, signature) = jws.split_once("..").expect("detached JWS");
    let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .expect("header");
    assert_eq!(
        String::from_utf8_lossy(&decoded),
        format!(r#"{{"alg":"HS256","kid":"{TOKEN_ID}"}}"#)
    );
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(cluster_info(&s, "kubeconfig"));
    assert_eq!(signature, openssl_hs256(TOKEN_SECRET, &format!("{header}.{payload}")));

    // A node asks for its client certificate with the token; it is approved and issued.
    let token = format!("{TOKEN_ID}.{TOKEN_SECRET}");
    let csr_file = s.file("csr.yaml", &node_csr(s.dir.path(), "n1"));
    let created = s.kubectl_as(&["--token", &token], &["create", "-f", &csr_file]);
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let get = |path: &str| s.ok(&["get", "csr", "node-csr-n1", "-o", &format!("jsonpath={path}")]);
    s.eventually("the certificate", 20, || !get("{.status.certificate}").is_empty());
    assert_eq!(get("{.status.conditions[0].type}"), "Approved");
    assert_eq!(get("{.status.conditions[0].reason}"), "AutoApproved");
    assert_eq!(
        get("{.status.conditions[0].message}"),
        "Auto approving kubelet client certificate after SubjectAccessReview."
    );
    let pem = base64::engine::general_purpose::STANDARD
        .decode(get("{.status.certificate}"))
        .expect("certificate");
    let crt = s.file("n1.crt", &String::from_utf8_lossy(&pem));
    let key = s.dir.path().join("n1.key").display().to_string();
    let whoami = s.kubectl_as(
        &["--client-certificate", &crt, "--client-key", &key],
        &[
            "auth",
            "whoami",
            "-o",
            "jsonpath={.status.userInfo.username} {.status.userInfo.groups}",
        ],
    );
    assert_eq!(
        String::from_utf8_lossy(&whoami.stdout),
        r#"system:node:n1 ["system:nodes","system:authenticated"]"#,
        "{}",
        String::from_utf8_lossy(&whoami.stderr)
    );

    // Tokens are deleted once expired, at once or when their time comes, and their signatures go with them.
    s.ok_stdin(
        &["apply", "-f", "-"],
        &token_secret("soon00", "1111111111111111", Some(&in_seconds(5))),
    );
    s.eventually("a signature for the short-lived token", 4, || {
        !cluster_info(&s, "jws-kubeconfig-soon00").is_empty()
    });
    s.ok_stdin(
        &["apply", "-f", "-"],
        &token_secret("old000", "0000000000000000", Some("2020-01-01T00:00:00Z")),
    );
    let exists = |name: &str| {
        s.kubectl(&["-n", "kube-system", "get", "secret", name])
            .status
            .success()
    };
    s.eventually("the expired token deleted", 20, || !exists("bootstrap-token-old000"));
    s.eventually("the short-lived token deleted", 20, || {
        !exists("bootstrap-token-soon00")
    });
    s.eventually("its signature removed", 20, || {
        cluster_info(&s, "jws-kubeconfig-soon00").is_empty()
    });
    assert!(cluster_info(&s, "jws-kubeconfig-old000").is_empty());
    assert_eq!(cluster_info(&s, &sig_key), jws);
}

const AGGREGATED: &str = "apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: monitoring}
aggregationRule:
  clusterRoleSelectors: [{matchLabels: {rbac.example.com/aggregate-to-monitoring: 'true'}}]
rules: []
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: metrics-reader}
rules:
- {apiGroups: [''], resources: [endpoints, services], verbs: [get, list, watch]}
";

#[test]
fn aggregated_clusterrole_gets_labelled_rules() {
    let s = ApiServer::start_with(
        Store::Embedded,
        &[
            "--disable-admission-plugins",
            "ServiceAccount",
            "--authorization-mode",
            "Node,RBAC",
        ],
    );
    let _kcm = s.controller_manager(&[
        "--use-service-account-credentials",
        "--controllers",
        "clusterrole-aggregation",
    ]);
    // The default aggregated roles are filled in from the roles labelled for them.
    s.eventually("view's rules", 20, || {
        s.ok(&["get", "clusterrole", "view", "-o", "jsonpath={.rules[*].resources}"])
            .contains("pods")
    });
    s.ok_stdin(&["apply", "-f", "-"], AGGREGATED);
    let rules = || s.ok(&["get", "clusterrole", "monitoring", "-o", "jsonpath={.rules}"]);
    assert!(!rules().contains("endpoints"));
    s.ok(&[
        "label",
        "clusterrole",
        "metrics-reader",
        "rbac.example.com/aggregate-to-monitoring=true",
    ]);
    s.eventually("the labelled role's rules", 20, || rules().contains("endpoints"));
    let managers = s.ok(&[
        "get",
        "clusterrole",
        "monitoring",
        "--show-managed-fields",
        "-o",
        "jsonpath={.metadata.managedFields[*].manager}",
    ]);
    assert!(managers.contains("clusterrole-aggregation-controller"), "{managers}");
    // Unlabelled, its rules leave again.
    s.ok(&[
        "label",
        "clusterrole",
        "metrics-reader",
        "rbac.example.com/aggregate-to-monitoring-",
    ]);
    s.eventually("the rules gone", 20, || !rules().contains("endpoints"));
}
