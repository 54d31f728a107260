//! Durability: every write acknowledged before a `kill -9` is there after the restart.

use e2e::{ApiServer, Store};

fn survives_kill9(store: Store) {
    let mut s = ApiServer::start(store);
    let mut manifest = String::new();
    for i in 0..200 {
        manifest.push_str(&format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: d{i}\n  namespace: default\n  labels: {{durable: \"yes\"}}\ndata:\n  i: \"{i}\"\n---\n"));
    }
    s.ok_stdin(&["create", "-f", "-"], &manifest);
    s.ok(&["label", "cm", "d7", "touched=yes"]);
    s.ok(&["delete", "cm", "d9"]);
    s.kill9();
    s.spawn();
    let names = s.ok(&["get", "cm", "-l", "durable=yes", "-o", "name"]);
    assert_eq!(names.lines().count(), 199, "{names}");
    assert_eq!(
        s.ok(&["get", "cm", "d7", "-o", "jsonpath={.metadata.labels.touched}"]),
        "yes"
    );
    assert_eq!(s.ok(&["get", "cm", "d199", "-o", "jsonpath={.data.i}"]), "199");
    assert!(s.fails(&["get", "cm", "d9"]).contains("NotFound"));
    // The store keeps working after the restart.
    s.ok(&["create", "cm", "after-restart"]);
}

#[test]
fn kill9_keeps_acknowledged_writes_embedded() {
    survives_kill9(Store::Embedded);
}

#[test]
fn kill9_keeps_acknowledged_writes_etcd() {
    survives_kill9(Store::Etcd);
}
