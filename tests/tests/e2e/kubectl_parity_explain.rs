//! Parity of `kubectl explain` with upstream kubectl 1.33 against our API server's OpenAPI v3
//! documents: kinds and field paths of every group, short names, group-qualified names,
//! `--recursive`, `--api-version`, `--output`, and the errors; then every resource the server
//! lists, explained recursively.

use crate::kubectl_parity::{check_rows, row};
use e2e::{ApiServer, Store};

const LINES: &[&str] = &[
    "explain pods",
    "explain pods.spec",
    "explain pods.spec.containers",
    "explain pod.spec.containers.resources",
    "explain pods.spec.containers.name",
    "explain po.spec.volumes.hostPath --recursive",
    "explain pods.metadata.labels",
    "explain deploy.spec.strategy",
    "explain deploy.spec.template",
    "explain deployments.apps.spec.replicas",
    "explain Deployment.spec.selector",
    "explain svc.spec.ports",
    "explain svc.spec.ports.targetPort",
    "explain cm",
    "explain nodes.status",
    "explain nodes.status.capacity",
    "explain deploy.spec.strategy --recursive",
    "explain pod.spec.containers.ports --recursive",
    "explain pods.spec.affinity.nodeAffinity --recursive=true",
    "explain pods --recursive=false",
    "explain namespaces",
    "explain clusterroles.rules",
    "explain pv.spec.capacity",
    "explain storageclasses",
    "explain cronjobs.spec.jobTemplate.spec",
    "explain jobs.batch.spec.backoffLimit",
    "explain rolebindings.subjects",
    "explain ingresses.spec.rules",
    "explain networkpolicies.spec.podSelector",
    "explain leases.spec.renewTime",
    "explain hpa",
    "explain --api-version=autoscaling/v2 hpa.spec.metrics",
    "explain hpa.spec --api-version=autoscaling/v1",
    "explain deployments.spec --api-version=apps/v1",
    "explain pods --api-version=v1",
    "explain pods.",
    "explain pods..spec",
    "explain pods.spec['containers']",
    "explain 'pods.spec[a:b]'",
    // errors
    "explain foo",
    "explain FOO.spec",
    "explain pods.nope",
    "explain pods.spec.nope",
    "explain pods.spec.containers.name.x",
    "explain deployments.v1.apps.spec",
    "explain",
    "explain pods svc",
    "explain ''",
    "explain pods.spec..containers",
    "explain pods.spec[0]",
    "explain --api-version=apps/v1 pods",
    "explain --api-version=v2 pods",
    "explain --api-version=autoscaling/v9 hpa",
    "explain --api-version=a/b/c pods",
    "explain --output=yaml pods",
    "explain --output=plaintext-openapiv2 pods",
    "explain -o yaml pods",
    "explain pods --recursive=maybe",
];

#[test]
fn kubectl_parity_explain() {
    let server = ApiServer::start(Store::Embedded);
    let mut rows: Vec<_> = LINES.iter().map(|l| row(l)).collect();
    let names = server.ok(&["api-resources", "-o", "name"]);
    for name in names.lines().filter(|n| !n.is_empty()) {
        rows.push(row(&format!("explain {name} --recursive")));
    }
    check_rows(&server, "explain", &rows);
}
