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
