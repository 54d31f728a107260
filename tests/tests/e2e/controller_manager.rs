//! kube-controller-manager against a real API server: every namespace gets its `default`
//! ServiceAccount and `kube-root-ca.crt`, so pods pass ServiceAccount admission; deleting a
//! namespace deletes what is in it and then the namespace.

use e2e::{ApiServer, Store};

#[test]
fn namespaces_get_accounts_and_ca_and_delete_cleanly() {
    let s = ApiServer::start_with(Store::Embedded, &[]);
    let _kcm = s.controller_manager(&[]);
    s.ok(&["create", "ns", "team"]);
    s.eventually("the default ServiceAccount", 15, || {
        s.kubectl(&["-n", "team", "get", "sa", "default"]).status.success()
    });
    s.eventually("kube-root-ca.crt", 15, || {
        s.kubectl(&["-n", "team", "get", "cm", "kube-root-ca.crt"])
            .status
            .success()
    });
    let ca = s.ok(&[
        "-n",
        "team",
        "get",
        "cm",
        "kube-root-ca.crt",
        "-o",
        "jsonpath={.data.ca\\.crt}",
    ]);
    assert_eq!(ca, std::fs::read_to_string(s.ca_file()).expect("ca"));
    // The system namespaces are covered too.
    s.eventually("default in kube-system", 15, || {
        s.kubectl(&["-n", "kube-system", "get", "sa", "default"])
            .status
            .success()
    });

    // With the account there, a pod passes ServiceAccount admission.
    s.ok(&["-n", "team", "run", "app", "--image=busybox:1.36"]);
    // A deleted default account comes back.
    s.ok(&["-n", "team", "delete", "sa", "default"]);
    s.eventually("the default ServiceAccount again", 15, || {
        s.kubectl(&["-n", "team", "get", "sa", "default"]).status.success()
    });

    // Deleting the namespace deletes its contents, then the namespace itself.
    let mut many = String::new();
    for i in 0..100 {
        let kind = ["ConfigMap", "Secret", "ServiceAccount", "Service"][i % 4];
        let extra = if kind == "Service" {
            "spec: {ports: [{port: 80}]}\n"
        } else {
            ""
        };
        many += &format!("---\napiVersion: v1\nkind: {kind}\nmetadata: {{name: obj-{i}, namespace: team}}\n{extra}");
    }
    s.ok_stdin(&["apply", "-f", "-"], &many);
    let stored = s.ok(&["-n", "team", "get", "cm,secret,sa,svc", "-o", "name"]);
    assert!(stored.lines().count() >= 100, "{stored}");
    s.ok(&["delete", "ns", "team", "--wait=false"]);
    s.eventually("the namespace to go", 30, || {
        let out = s.kubectl(&["get", "ns", "team"]);
        String::from_utf8_lossy(&out.stderr).contains("NotFound")
    });

    // Content held by a finalizer keeps the namespace Terminating, and its conditions say why.
    s.ok(&["create", "ns", "held"]);
    let held =
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kept, namespace: held, finalizers: [example.com/hold]}\n";
    s.ok_stdin(&["apply", "-f", "-"], held);
    s.ok(&["delete", "ns", "held", "--wait=false"]);
    let condition = |t: &str| {
        s.jsonpath(
            &["ns", "held"],
            &format!("{{.status.conditions[?(@.type==\"{t}\")].message}}"),
        )
    };
    // Both conditions settle once the other content is gone (a first pass may still count it).
    s.eventually("the finalizer and the remaining content reported", 30, || {
        condition("NamespaceFinalizersRemaining")
            == "Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances"
            && condition("NamespaceContentRemaining")
                == "Some resources are remaining: configmaps has 1 resource instances"
    });
    assert_eq!(
        condition("NamespaceDeletionDiscoveryFailure"),
        "All resources successfully discovered"
    );
    s.ok(&[
        "-n",
        "held",
        "patch",
        "cm",
        "kept",
        "--type=merge",
        "-p",
        r#"{"metadata":{"finalizers":null}}"#,
    ]);
    s.eventually("the held namespace to go", 30, || {
        !s.kubectl(&["get", "ns", "held"]).status.success()
    });
}

#[test]
fn one_leader_at_a_time() {
    let s = ApiServer::start(Store::Embedded);
    let fast = [
        "--leader-elect-lease-duration=3s",
        "--leader-elect-renew-deadline=2s",
        "--leader-elect-retry-period=500ms",
    ];
    let mut first = s.controller_manager(&fast);
    s.eventually("a leader", 15, || first.log().contains("successfully acquired lease"));
    let second = s.controller_manager(&fast);
    let holder = || {
        s.ok(&[
            "-n",
            "kube-system",
            "get",
            "lease",
            "kube-controller-manager",
            "-o",
            "jsonpath={.spec.holderIdentity}",
        ])
    };
    let leader = holder();
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert!(
        !second.log().contains("successfully acquired lease"),
        "two leaders:\n{}",
        second.log()
    );
    assert_eq!(holder(), leader);
    // When the leader dies, the other takes over within the lease duration.
    first.kill9();
    s.eventually("the standby to lead", 15, || {
        second.log().contains("successfully acquired lease")
    });
    assert_ne!(holder(), leader);
    let transitions = s.ok(&[
        "-n",
        "kube-system",
        "get",
        "lease",
        "kube-controller-manager",
        "-o",
        "jsonpath={.spec.leaseTransitions}",
    ]);
    assert_eq!(transitions, "1");
    // And it runs the controllers: a new namespace gets its default ServiceAccount.
    s.ok(&["create", "ns", "after-failover"]);
    s.eventually("the default ServiceAccount", 15, || {
        s.kubectl(&["-n", "after-failover", "get", "sa", "default"])
            .status
            .success()
    });
}

#[test]
fn token_secrets_get_legacy_tokens_the_api_server_accepts() {
    let s = ApiServer::start_rbac();
    let key = s.dir.path().join("certs/sa.key");
    let _kcm = s.controllers(
        "serviceaccount-token",
        &["--service-account-private-key-file", &key.to_string_lossy()],
    );
    s.ok(&["create", "serviceaccount", "robot"]);
    let secret = "apiVersion: v1
kind: Secret
metadata: {name: robot-token, annotations: {kubernetes.io/service-account.name: robot}}
type: kubernetes.io/service-account-token
";
    s.ok_stdin(&["apply", "-f", "-"], secret);
    let field = |f: &str| s.jsonpath(&["secret", "robot-token"], &format!("{{.data.{f}}}"));
    s.eventually("the token filled in", 20, || !field("token").is_empty());
    let decode = |v: String| {
        use base64::Engine;
        String::from_utf8(base64::engine::general_purpose::STANDARD.decode(v).expect("base64")).expect("utf-8")
    };
    assert_eq!(decode(field("namespace")), "default");
    assert_eq!(
        decode(field("ca\\.crt")),
        std::fs::read_to_string(s.ca_file()).expect("ca")
    );
    let uid = s.jsonpath(&["sa", "robot"], "{.metadata.uid}");
    let annotated = s.jsonpath(
        &["secret", "robot-token"],
        "{.metadata.annotations.kubernetes\\.io/service-account\\.uid}",
    );
    assert_eq!(annotated, uid);

    // The API server accepts the token as the service account.
    let token = decode(field("token"));
    let whoami = |t: &str| {
        s.kubectl_as(
            &["--token", t],
            &["auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"],
        )
    };
    let out = whoami(&token);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "system:serviceaccount:default:robot",
        "{out:?}"
    );

    // Deleting the account deletes its token Secret, and the token stops working.
    s.ok(&["delete", "serviceaccount", "robot"]);
    s.eventually("the token secret deleted", 20, || {
        !s.kubectl(&["get", "secret", "robot-token"]).status.success()
    });
    assert!(!whoami(&token).status.success());
}
