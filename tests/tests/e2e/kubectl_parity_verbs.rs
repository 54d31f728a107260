//! Parity of our kubectl's imperative verbs with upstream kubectl 1.33: `create <kind>`
//! (every generator, as client dry runs printed as YAML, and real creates), `label`,
//! `annotate`, `scale`, `patch`, `cordon`, `uncordon`, `taint`, `auth`, `rollout`, `wait`,
//! `set image`, `run`, `expose` and `autoscale` (rollout also for DaemonSets and StatefulSets), each
//! row starting from the same server state for both binaries.

use super::kubectl_parity::{check_rows, row, row_after};
use e2e::ApiServer;

const STATE: &str = "apiVersion: v1
kind: Namespace
metadata: {name: demo}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, namespace: demo, labels: {tier: x}}
data: {a: '1'}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: plain, namespace: demo}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: demo}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: main, image: nginx:1.27}]}
---
apiVersion: v1
kind: Node
metadata: {name: n1}
---
apiVersion: v1
kind: Namespace
metadata: {name: roll}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: ds, namespace: roll}
spec:
  selector: {matchLabels: {app: ds}}
  template:
    metadata: {labels: {app: ds}}
    spec: {nodeSelector: {none: none}, containers: [{name: c, image: nginx:1.27}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: st, namespace: roll}
spec:
  replicas: 0
  serviceName: st
  selector: {matchLabels: {app: st}}
  template:
    metadata: {labels: {app: st}}
    spec: {containers: [{name: c, image: nginx:1.27}]}
";

#[test]
fn kubectl_parity_verbs() {
    let server = ApiServer::start_rbac();
    let _kcm = server.controllers("deployment,replicaset,daemonset,statefulset", &[]);
    let state = server.file("state.yaml", STATE);
    server.ok(&["apply", "-f", &state]);
    // A second revision, and a settled status, for the rollout rows.
    server.ok(&["set", "image", "deploy/web", "main=nginx:1.28", "-n", "demo"]);
    server.eventually("two revisions", 30, || {
        server
            .jsonpath(
                &["rs", "-n", "demo"],
                "{.items[*].metadata.annotations.deployment\\.kubernetes\\.io/revision}",
            )
            .split(' ')
            .count()
            == 2
            && server.jsonpath(&["deploy", "web", "-n", "demo"], "{.status.updatedReplicas}") == "1"
    });
    // Two ControllerRevisions each for the DaemonSet and the StatefulSet, statuses observed.
    server.ok(&["set", "image", "ds/ds", "sts/st", "c=nginx:1.28", "-n", "roll"]);
    server.eventually("daemon set and stateful set revisions", 30, || {
        let settled = |what: &str| {
            server.jsonpath(&[what, "-n", "roll"], "{.items[0].status.observedGeneration}")
                == server.jsonpath(&[what, "-n", "roll"], "{.items[0].metadata.generation}")
        };
        server
            .jsonpath(&["controllerrevisions", "-n", "roll"], "{.items[*].revision}")
            .split(' ')
            .count()
            == 4
            && settled("ds")
            && settled("sts")
    });
    let mut rows: Vec<_> = [
        "rollout history deploy/web -n demo",
        "rollout history deploy -n demo",
        "rollout history deploy",
        "rollout status deploy/web -n demo --watch=false",
        "rollout history deploy/web -n demo --revision=1",
        "rollout history deploy/web -n demo --revision=5",
        "rollout history ds/ds -n roll",
        "rollout history ds -n roll --revision=2",
        "rollout history sts/st -n roll --revision=1",
        "rollout status ds/ds -n roll",
        "rollout status sts/st -n roll",
        "rollout history cm/cfg -n demo",
        "rollout status cm/cfg -n demo",
        "rollout undo ds/ds -n roll --to-revision=2 --dry-run=server",
        "rollout undo sts/st -n roll --dry-run=client",
        "rollout undo sts/st -n roll --to-revision=1 --dry-run=server -o name",
        "rollout undo ds/ds -n roll --to-revision=9",
        "rollout undo cm/cfg -n demo",
        "rollout undo deploy/web -n demo --to-revision=9",
        "rollout undo deploy/web -n demo --dry-run=server",
        "rollout undo deploy/web -n demo --to-revision=1 --dry-run=server -o name",
        "rollout restart deploy/web -n demo",
        "rollout pause cm/cfg -n demo",
        "rollout status",
        "auth whoami",
        "auth can-i get pods",
        "auth can-i list deployments.apps -n demo",
        "auth can-i '*' '*'",
        "auth can-i get /healthz",
        "auth can-i",
        "auth can-i get foo",
        "wait --for=condition=Available=False deploy/web -n demo --timeout=5s",
        "wait --for=jsonpath='{.spec.replicas}'=1 deploy/web -n demo --timeout=5s",
        "wait --for=jsonpath='{.spec.replicas}'=3 deploy/web -n demo --timeout=0",
        "wait --for=condition=Available deploy/web -n demo --timeout=0",
        "wait --for=delete cm/nope -n demo --timeout=1s",
        "wait deploy/web -n demo",
        "wait --for=foo deploy/web -n demo",
        "wait --for=condition=Available cm/nope -n demo --timeout=1s",
        "set image deploy/web nope=x -n demo",
        "set image deploy/web '*=nginx:1.30' -n demo --dry-run=client -o name",
        "set image deploy/web -n demo",
        "run p1 --image=nginx:1.27 -n demo --dry-run=client -o yaml",
        "run p2 --image=busybox -l a=b,c=d --port=80 --env=X=1 --restart=Never -n demo --dry-run=client -o yaml -- sleep 10",
        "run p3 --image=busybox --command -n demo --dry-run=client -o yaml -- sh -c 'echo hi'",
        "run p4 -n demo",
        "run --image=x",
        "expose deploy web -n demo --port=80 --target-port=8080 --dry-run=client -o yaml",
        "expose cm cfg -n demo --port=80 --dry-run=client -o yaml",
        "expose deploy nope -n demo --port=80",
        "autoscale deploy web -n demo --min=2 --max=5 --cpu-percent=50 --dry-run=client -o yaml",
        "autoscale deploy web -n demo --max=5 --dry-run=client -o yaml",
        "autoscale deploy web -n demo",
        "drain",
        "drain nonode",
        "taint node n1 k=v:Sometimes",
        "taint node n1",
        "create ns x --dry-run=client -o yaml",
        "create configmap c --from-literal=k=v --from-literal=a=b -n demo --dry-run=client -o yaml",
        "create secret generic s --from-literal=p=q -n demo --dry-run=client -o yaml",
        "create sa bot -n demo --dry-run=client -o yaml",
        "create role r --verb=get,list --resource=pods,deployments.apps -n demo --dry-run=client -o yaml",
        "create rolebinding rb --role=r --user=alice --serviceaccount=demo:bot -n demo --dry-run=client -o yaml",
        "create clusterrole cr --verb=get --resource=nodes --dry-run=client -o yaml",
        "create clusterrolebinding crb --clusterrole=cr --group=devs --dry-run=client -o yaml",
        "create job j --image=busybox --dry-run=client -o yaml -- echo hi",
        "create cronjob cj --image=busybox --schedule='*/5 * * * *' --dry-run=client -o yaml",
        "create service clusterip svc --tcp=80:8080 -n demo --dry-run=client -o yaml",
        "create service nodeport np --tcp=80:8080 --node-port=30080 -n demo --dry-run=client -o yaml",
        "create priorityclass pc --value=10 --dry-run=client -o yaml",
        "create quota q --hard=pods=5 -n demo --dry-run=client -o yaml",
        "create deployment d --image=busybox --dry-run=client -o yaml",
        "create deployment web2 --image=docker.io/library/nginx:1.27 --replicas=2 --port=80 -n demo --dry-run=client -o yaml",
        "create ns y --dry-run=server",
        "create ns y --dry-run=client -o name",
        // usage errors
        "create configmap c2 --from-literal=x",
        "create ns",
        "create deployment d",
        "create cm c --dry-run=maybe",
        "label cm cfg -n demo",
        "patch deploy web -n demo",
        "patch deploy web -n demo -p '{}' --type=foo",
        "scale deploy web -n demo",
        "scale cm cfg -n demo --replicas=2",
        "cordon nonode",
        // reads of the current state
        "label cm cfg -n demo tier=x",
        "label cm cfg -n demo tier=y",
        "label cm cfg -n demo z=1 --dry-run=client -o yaml",
        "label cm cfg -n demo z=1 --dry-run=server",
        "scale deploy web -n demo --replicas=2 --dry-run=server",
        "scale deploy/web -n demo --replicas=3 --current-replicas=2",
        "patch cm nope -n demo -p '{}'",
    ]
    .iter()
    .map(|l| row(l))
    .collect();
    // Rows that change the server, each from the same state.
    for (setup, line) in [
        (
            &["delete sa bot -n demo --ignore-not-found"][..],
            "create sa bot -n demo",
        ),
        (
            &["delete cm made -n demo --ignore-not-found"][..],
            "create cm made --from-literal=a=b -n demo -o name",
        ),
        (&["label cm cfg -n demo a-"][..], "label cm cfg nope -n demo a=b"),
        (
            &["delete deploy d2 -n demo --ignore-not-found"][..],
            "create deployment d2 --image=nginx:1.27 -n demo",
        ),
        (
            &["label cm cfg -n demo tier=x --overwrite"][..],
            "label cm cfg -n demo tier=y --overwrite",
        ),
        (
            &["label cm cfg -n demo tier=x --overwrite"][..],
            "label cm cfg -n demo tier-",
        ),
        (
            &["label cm cfg -n demo tier=x --overwrite"][..],
            "label cm cfg -n demo nothere-",
        ),
        (&["label cm plain -n demo tier-"][..], "label cm plain -n demo nothere-"),
        (&["label cm --all -n demo env-"][..], "label cm --all -n demo env=dev"),
        (
            &["label cm --all -n demo env-"][..],
            "label cm -l tier=x -n demo env=dev -o name",
        ),
        (
            &["annotate cm cfg -n demo note-"][..],
            "annotate cm cfg -n demo note=hi",
        ),
        (
            &["annotate cm cfg -n demo note=hi --overwrite"][..],
            "annotate cm cfg -n demo note=ho",
        ),
        (
            &["annotate cm cfg -n demo note=hi --overwrite"][..],
            "annotate cm cfg -n demo note-",
        ),
        (
            &["scale deploy web -n demo --replicas=1"][..],
            "scale deploy web -n demo --replicas=3",
        ),
        (
            &["scale deploy web -n demo --replicas=1"][..],
            "scale deploy web -n demo --replicas=2 -o name",
        ),
        (
            &["label cm plain -n demo p-"][..],
            "patch cm plain -n demo -p '{\"metadata\":{\"labels\":{\"p\":\"1\"}}}'",
        ),
        (
            &["label cm plain -n demo p=1 --overwrite"][..],
            "patch cm plain -n demo -p '{\"metadata\":{\"labels\":{\"p\":\"1\"}}}'",
        ),
        (
            &["patch cm cfg -n demo --type=json -p '[{\"op\":\"remove\",\"path\":\"/data/c\"}]'"][..],
            "patch cm cfg -n demo --type=merge -p '{\"data\":{\"c\":\"3\"}}'",
        ),
        (
            &["patch cm cfg -n demo --type=merge -p '{\"data\":{\"c\":\"3\"}}'"][..],
            "patch cm cfg -n demo --type=json -p '[{\"op\":\"remove\",\"path\":\"/data/c\"}]'",
        ),
        (&["uncordon n1"][..], "drain n1 --dry-run=client"),
        (&["uncordon n1"][..], "drain n1"),
        (&["uncordon n1"][..], "cordon n1"),
        (&["cordon n1"][..], "cordon n1"),
        (&["cordon n1"][..], "uncordon n1"),
        (&["uncordon n1"][..], "uncordon n1"),
        (
            &["rollout resume deploy/web -n demo"][..],
            "rollout pause deploy/web -n demo",
        ),
        (
            &["rollout pause deploy/web -n demo"][..],
            "rollout pause deploy/web -n demo",
        ),
        (
            &["rollout pause deploy/web -n demo"][..],
            "rollout resume deploy/web -n demo",
        ),
        (
            &["rollout resume deploy/web -n demo"][..],
            "rollout resume deploy/web -n demo",
        ),
        (&["taint node n1 k-"][..], "taint node n1 k=v:NoSchedule"),
        (
            &["taint node n1 k=v:NoSchedule --overwrite"][..],
            "taint node n1 k=v:NoSchedule",
        ),
        (
            &["taint node n1 k=v:NoSchedule --overwrite"][..],
            "taint node n1 k:NoSchedule-",
        ),
        (&["taint node n1 k-"][..], "taint node n1 k-"),
        (
            &["set image deploy/web main=nginx:1.28 -n demo"][..],
            "set image deploy/web main=nginx:1.29 -n demo",
        ),
        (
            &["set image deploy/web main=nginx:1.29 -n demo"][..],
            "set image deploy/web main=nginx:1.29 -n demo",
        ),
        (
            &["delete pod p5 -n demo --ignore-not-found --grace-period=0 --force"][..],
            "run p5 --image=busybox -n demo",
        ),
        (
            &["delete svc web -n demo --ignore-not-found"][..],
            "expose deploy web -n demo --port=80 --type=NodePort",
        ),
        (
            &["delete hpa web -n demo --ignore-not-found"][..],
            "autoscale deploy web -n demo --max=3",
        ),
    ] {
        rows.push(row_after(setup, line));
    }
    check_rows(&server, "imperative verbs", &rows);
    // A real rollback with ours: the DaemonSet gets its previous template back, which the
    // controller then renumbers as the newest revision; undoing to it again is skipped.
    let ours = |args: &[&str]| {
        let out = std::process::Command::new(e2e::binary("kubectl"))
            .args(args)
            .env("KUBECONFIG", &server.kubeconfig)
            .env("HOME", server.dir.path())
            .output()
            .expect("kubectl runs");
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
    };
    assert_eq!(
        ours(&["rollout", "undo", "ds/ds", "-n", "roll"]),
        "daemonset.apps/ds rolled back\n"
    );
    let image = "{.spec.template.spec.containers[0].image}";
    assert_eq!(server.jsonpath(&["ds", "ds", "-n", "roll"], image), "nginx:1.27");
    server.eventually("the old template renumbered as revision 3", 30, || {
        server
            .jsonpath(&["controllerrevisions", "-n", "roll"], "{.items[*].revision}")
            .contains('3')
    });
    assert_eq!(
        ours(&["rollout", "undo", "ds/ds", "-n", "roll", "--to-revision=3"]),
        "daemonset.apps/ds skipped rollback (current template already matches revision 3)\n"
    );
}

/// `drain` on a simulated node: the unmanaged pod needs `--force`; then it is evicted and the
/// node left cordoned.
#[test]
fn kubectl_drain_evicts_pods() {
    let server = ApiServer::start_rbac();
    let _cluster = server.simulated_cluster(1);
    server.ok_stdin(
        &["apply", "-f", "-"],
        "apiVersion: v1\nkind: Pod\nmetadata: {name: lone}\nspec: {nodeName: node-0, containers: [{name: c, image: busybox}]}\n",
    );
    let ours = |args: &[&str]| {
        std::process::Command::new(e2e::binary("kubectl"))
            .args(args)
            .env("KUBECONFIG", &server.kubeconfig)
            .output()
            .expect("kubectl runs")
    };
    let refused = ours(&["drain", "node-0"]);
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("cannot delete Pods that declare no controller (use --force to override): default/lone"),
        "{err}"
    );
    let drained = ours(&["drain", "node-0", "--force", "--timeout=60s"]);
    let stdout = String::from_utf8_lossy(&drained.stdout);
    assert!(
        drained.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&drained.stderr)
    );
    assert_eq!(
        stdout,
        "node/node-0 already cordoned\nevicting pod default/lone\npod/lone evicted\nnode/node-0 drained\n"
    );
    assert!(
        !server.kubectl(&["get", "pod", "lone"]).status.success(),
        "the pod is gone"
    );
    assert_eq!(server.jsonpath(&["node", "node-0"], "{.spec.unschedulable}"), "true");
}
