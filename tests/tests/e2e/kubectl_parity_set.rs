//! Parity of our `kubectl set env` and `kubectl set resources` with upstream kubectl 1.33:
//! listings (`--list`, `--resolve`, `--from`), client and server dry runs printed as YAML,
//! changes that reach the server (each row starting from the same state), and the usage,
//! validation and server errors. The reads and dry runs come first, while the state is the
//! one both binaries see.

use super::kubectl_parity::{check_rows, row, row_after};
use e2e::ApiServer;

const STATE: &str = "apiVersion: v1
kind: Namespace
metadata: {name: demo}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, namespace: demo}
data: {a: '1'}
---
apiVersion: v1
kind: Secret
metadata: {name: sec, namespace: demo}
stringData: {pass: hunter2}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: demo, labels: {app: web}}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      initContainers: [{name: init, image: busybox}]
      containers:
      - name: main
        image: nginx:1.27
        env:
        - {name: A, value: '1'}
        - {name: CM, valueFrom: {configMapKeyRef: {name: cfg, key: a}}}
        - {name: POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
        resources: {limits: {cpu: 500m}}
      - name: side
        image: busybox
";

#[test]
fn kubectl_parity_set() {
    let server = ApiServer::start_rbac();
    let state = server.file("state.yaml", STATE);
    server.ok(&["apply", "-f", &state]);
    let mut rows: Vec<_> = [
        // set env: listings
        "set env deploy/web -n demo --list",
        "set env deploy/web -n demo --list --resolve",
        "set env deploy/web -n demo --list -c side",
        "set env deploy/web -n demo --list -c 'i*'",
        "set env deploy -l app=web -n demo --list",
        "set env deploy/web -n demo B=2 A- --list",
        "set env deploy/web -n demo --from=configmap/cfg --list",
        "set env deploy/web -n demo --from=secret/sec --prefix=S_ --list -c main",
        "set env deploy/web -n demo --from=secret/sec --keys=pass --list --resolve -c main",
        // set env: dry runs
        "set env deploy/web -n demo B=2 --dry-run=client -o yaml",
        "set env deploy/web -n demo -c side B=2 --dry-run=server -o yaml",
        "set env deploy/web -n demo -e B=2 -e C=3 --dry-run=client -o name",
        "set env deploy/web -n demo --from=configmap/cfg -c side --dry-run=client",
        "set env deploy/web -n demo A=1 -c main",
        "set env deploy/web -n demo --overwrite=false A=1 Z=9 --dry-run=client",
        // set env: errors
        "set env deploy/web -n demo -c nope X=1",
        "set env deploy/web -n demo 1BAD=1",
        "set env deploy/web -n demo X=1 X-",
        "set env deploy/web -n demo X=1 deploy/other",
        "set env -n demo X=1",
        "set env deploy/web -n demo X=1 --list -o yaml",
        "set env deploy/web -n demo --keys=a X=1",
        "set env deploy/web -n demo --from=cm/nope",
        "set env deploy/web -n demo --from=deploy/web",
        "set env cm/cfg -n demo X=1",
        "set env deploy/nope -n demo X=1",
        "set env deploy -n demo X=1",
        "set env deploy --all -l a=b -n demo X=1",
        "set env deploy/web -n demo --overwrite=false A=2",
        "set env deploy/web -n demo X=1 -o wide",
        "set env deploy/web -n demo X=1 --dry-run=maybe",
        "set env deploy/web -n demo --local X=1",
        // set resources: dry runs
        "set resources deploy/web -n demo --limits=cpu=0.5,memory=1024Mi --requests=cpu=100m --dry-run=client -o yaml",
        "set resources deploy/web -n demo -c side --limits=memory=1.5Gi,cpu=1000m --dry-run=server -o yaml",
        "set resources deploy/web -n demo -c 'i*' --requests=memory=64Mi --dry-run=client -o name",
        "set resources deploy/web -n demo -c main --limits=cpu=500m",
        // set resources: errors
        "set resources deploy/web -n demo --limits=cpu=abc",
        "set resources deploy/web -n demo --limits=cpu=1Gii",
        "set resources deploy/web -n demo --limits=cpu",
        "set resources deploy/web -n demo --limits=cpu=1,cpu=2=3",
        "set resources deploy/web -n demo",
        "set resources deploy/web -n demo -c nope --limits=cpu=1",
        "set resources deploy/web -n demo --local --limits=cpu=1",
        "set resources -n demo --limits=cpu=1",
        "set resources deploy/web -n demo --limits=cpu=1 -o wide",
        "set resources deploy/web -n demo --requests=memory=-1",
        "set resources deploy/nope -n demo --limits=cpu=1",
    ]
    .iter()
    .map(|l| row(l))
    .collect();
    // Rows that change the server, each from the same state.
    for (setup, line) in [
        (&["set env deploy/web -n demo B-"][..], "set env deploy/web -n demo B=2"),
        (&["set env deploy/web -n demo A=1"][..], "set env deploy/web -n demo A-"),
        (
            &["set env deploy/web -n demo A=1"][..],
            "set env deploy/web -n demo A=2 -c main -o name",
        ),
        (
            &["set env deploy/web -n demo CFG_A-"][..],
            "set env deploy/web -n demo --from=configmap/cfg --prefix=CFG_ -c side",
        ),
        (
            &["set env deploy/web -n demo X- Y-"][..],
            "set env deploy/web cm/cfg -n demo X=1 Y=2",
        ),
        (
            &["set resources deploy/web -n demo --limits=cpu=1"][..],
            "set resources deploy/web -n demo --limits=cpu=2,memory=256Mi",
        ),
        (
            &["set resources deploy/web -n demo -c 'i*' --requests=memory=64Mi"][..],
            "set resources deploy/web -n demo -c 'i*' --requests=memory=128Mi -o name",
        ),
        (
            &["set resources deploy/web -n demo --limits=cpu=1"][..],
            "set resources deploy/web cm/cfg -n demo --limits=cpu=2",
        ),
    ] {
        rows.push(row_after(setup, line));
    }
    check_rows(&server, "set env and set resources", &rows);
    let env = server.jsonpath(
        &["deploy", "web", "-n", "demo"],
        "{.spec.template.spec.containers[1].env[*].name}",
    );
    assert_eq!(env, "B A CFG_A X Y", "our env rows reached the server");
}
