//! Parity of `kubectl describe` with upstream kubectl 1.33: a namespace with a deployment run
//! by the real controllers on simulated nodes, and one object of every kind describe knows,
//! described by both binaries through the shared parity runner.

use crate::kubectl_parity::{Mask, Row, check_rows, row};
use e2e::{ApiServer, Store};

const STATE: &str = r#"apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels: {team: web}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: shop
  labels: {tier: backend}
  annotations: {note: "hello"}
# One key only: kubectl 1.33 prints a ConfigMap's data in Go map order (random).
data:
  script: |
    echo one
    echo two
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: extra
  namespace: shop
binaryData:
  blob: AAECAw==
---
apiVersion: v1
kind: Secret
metadata:
  name: creds
  namespace: shop
type: Opaque
# One key only: kubectl 1.33 prints a Secret's data in Go map order (random).
data:
  password: c2VjcmV0
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: robot
  namespace: shop
imagePullSecrets:
- name: regcred
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
  labels: {tier: frontend}
spec:
  selector: {app: web}
  ports:
  - name: http
    port: 80
    targetPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: db
  namespace: shop
spec:
  type: NodePort
  selector: {app: db}
  ports:
  - port: 5432
---
apiVersion: v1
kind: Service
metadata:
  name: external
  namespace: shop
spec:
  type: ExternalName
  externalName: db.example.com
---
apiVersion: v1
kind: Service
metadata:
  name: headless
  namespace: shop
spec:
  clusterIP: None
  selector: {app: web}
  ports:
  - port: 80
    name: web
---
apiVersion: v1
kind: Endpoints
metadata:
  name: web
  namespace: shop
subsets:
- addresses:
  - ip: 10.0.0.1
  - ip: 10.0.0.2
  ports:
  - name: http
    port: 8080
    protocol: TCP
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-abc
  namespace: shop
  labels: {kubernetes.io/service-name: web}
addressType: IPv4
ports:
- name: http
  port: 8080
  protocol: TCP
endpoints:
- addresses: [10.0.0.1]
  conditions: {ready: true}
- addresses: [10.0.0.2]
  conditions: {ready: false}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: shop
spec:
  ingressClassName: nginx
  tls:
  - hosts: [shop.example.com]
    secretName: creds
  rules:
  - host: shop.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service: {name: web, port: {number: 80}}
      - path: /missing
        pathType: Prefix
        backend:
          service: {name: nope, port: {name: http}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: reader
  namespace: shop
rules:
- apiGroups: [""]
  resources: [pods, configmaps]
  verbs: [get, list]
- apiGroups: [""]
  resources: [pods]
  verbs: [watch]
- apiGroups: [apps]
  resources: [deployments/scale]
  resourceNames: [web]
  verbs: [update]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: read-pods
  namespace: shop
subjects:
- kind: ServiceAccount
  name: robot
  namespace: shop
- kind: User
  name: jane
  apiGroup: rbac.authorization.k8s.io
roleRef:
  kind: Role
  name: reader
  apiGroup: rbac.authorization.k8s.io
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: shop-viewer
  labels: {team: web}
rules:
- apiGroups: ["", apps]
  resources: [services, deployments]
  verbs: [get, list, watch]
- nonResourceURLs: [/healthz, /version]
  verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: shop-viewers
subjects:
- kind: Group
  name: viewers
  apiGroup: rbac.authorization.k8s.io
roleRef:
  kind: ClusterRole
  name: shop-viewer
  apiGroup: rbac.authorization.k8s.io
---
apiVersion: batch/v1
kind: Job
metadata:
  name: once
  namespace: shop
spec:
  backoffLimit: 2
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: work
        image: busybox:1.36
        command: [sh, -c, "echo hi"]
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: tick
  namespace: shop
spec:
  schedule: "*/5 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - name: tick
            image: busybox:1.36
            args: [date]
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
  namespace: shop
spec:
  selector:
    matchLabels: {app: agent}
  template:
    metadata:
      labels: {app: agent}
    spec:
      nodeSelector: {kubernetes.io/os: linux}
      tolerations:
      - operator: Exists
      containers:
      - name: agent
        image: busybox:1.36
        env:
        - name: MODE
          value: fast
        - name: PASSWORD
          valueFrom:
            secretKeyRef: {name: creds, key: password}
        volumeMounts:
        - name: host
          mountPath: /host
          readOnly: true
      volumes:
      - name: host
        hostPath: {path: /var/log}
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
  namespace: shop
spec:
  serviceName: db
  replicas: 0
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
    spec:
      containers:
      - name: db
        image: postgres:16
        ports:
        - containerPort: 5432
          name: pg
        resources:
          requests: {cpu: 100m, memory: 128Mi}
          limits: {memory: 256Mi}
        readinessProbe:
          tcpSocket: {port: 5432}
          periodSeconds: 5
  volumeClaimTemplates:
  - metadata:
      name: data
    spec:
      accessModes: [ReadWriteOnce]
      resources:
        requests: {storage: 1Gi}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data-claim
  namespace: shop
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: slow
  resources:
    requests: {storage: 1Gi}
---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: disk
  labels: {type: local}
spec:
  capacity: {storage: 5Gi}
  accessModes: [ReadWriteOnce, ReadOnlyMany]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: slow
  hostPath: {path: /mnt/disk}
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: slow
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: example.com/slow
parameters: {speed: slow}
reclaimPolicy: Delete
volumeBindingMode: WaitForFirstConsumer
allowVolumeExpansion: true
mountOptions: [debug]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: web
  namespace: shop
spec:
  minAvailable: 1
  selector:
    matchLabels: {app: web}
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata:
  name: important
value: 1000
description: "for things that matter"
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: nginx
spec:
  controller: example.com/ingress
  parameters:
    apiGroup: example.com
    kind: Params
    name: nginx-params
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
  namespace: shop
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 2
  maxReplicas: 5
  metrics:
  - type: Resource
    resource:
      name: cpu
      target: {type: Utilization, averageUtilization: 80}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web
  namespace: shop
spec:
  podSelector:
    matchLabels: {app: web}
  policyTypes: [Ingress, Egress]
  ingress:
  - from:
    - podSelector: {matchLabels: {role: frontend}}
      namespaceSelector: {matchLabels: {team: web}}
    - ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}
    ports:
    - {protocol: TCP, port: 8080}
    - {port: 9000, endPort: 9100}
  - {}
  egress:
  - to:
    - namespaceSelector: {}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: deny-all
  namespace: shop
spec:
  podSelector: {}
  policyTypes: [Ingress]
---
apiVersion: v1
kind: Namespace
metadata:
  name: quota
---
apiVersion: v1
kind: ResourceQuota
metadata:
  name: small
  namespace: quota
spec:
  hard: {pods: "10"}
  scopes: [NotBestEffort]
---
apiVersion: v1
kind: LimitRange
metadata:
  name: limits
  namespace: quota
spec:
  # One resource per item: kubectl 1.33 prints an item's resources in map order.
  limits:
  - type: Container
    max: {cpu: "2"}
  - type: Pod
    max: {memory: 1Gi}
---
apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata:
  name: fast
  labels: {speed: high}
handler: runc
overhead:
  podFixed: {cpu: 10m}
scheduling:
  nodeSelector: {kubernetes.io/os: linux}
---
apiVersion: v1
kind: ReplicationController
metadata:
  name: legacy
  namespace: shop
spec:
  replicas: 0
  selector: {app: legacy}
  template:
    metadata:
      labels: {app: legacy}
    spec:
      containers:
      - name: legacy
        image: nginx:1.25
---
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata:
  name: shop-lock
  namespace: shop
spec:
  holderIdentity: web-1
  leaseDurationSeconds: 15
  leaseTransitions: 2
  acquireTime: "2024-05-01T10:00:00.000000Z"
  renewTime: "2024-05-01T10:00:05.123456Z"
---
apiVersion: v1
kind: PodTemplate
metadata:
  name: tmpl
  namespace: shop
  labels: {kind: template}
template:
  metadata:
    labels: {app: tmpl}
  spec:
    containers:
    - name: main
      image: nginx:1.25
---
apiVersion: v1
kind: Pod
metadata:
  name: full
  namespace: shop
  labels: {app: full, tier: backend}
  annotations:
    short: value
    multi: "line one\nline two\n"
    long: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
spec:
  nodeSelector: {kubernetes.io/os: linux}
  tolerations:
  - key: dedicated
    operator: Equal
    value: web
    effect: NoSchedule
  - key: node.kubernetes.io/unreachable
    operator: Exists
    effect: NoExecute
    tolerationSeconds: 300
  initContainers:
  - name: setup
    image: busybox:1.36
    command: [sh, -c, "echo one\necho two"]
  containers:
  - name: app
    image: nginx:1.25
    ports:
    - containerPort: 80
    - containerPort: 443
      hostPort: 8443
    resources:
      requests: {cpu: 250m, memory: 64Mi}
      limits: {cpu: "1", memory: 128Mi}
    livenessProbe:
      exec: {command: [cat, /tmp/healthy]}
      initialDelaySeconds: 5
    readinessProbe:
      httpGet: {path: /ready, port: 80, scheme: HTTP}
    env:
    - name: POD_NAME
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
    - name: TIER
      valueFrom: {fieldRef: {fieldPath: "metadata.labels['tier']"}}
    - name: CPU_LIMIT
      valueFrom: {resourceFieldRef: {resource: limits.cpu}}
    - name: COLOR
      valueFrom: {configMapKeyRef: {name: settings, key: script, optional: true}}
    - name: MULTI
      value: "a\nb"
    envFrom:
    - configMapRef: {name: settings}
    - secretRef: {name: creds}
      prefix: CREDS_
    volumeMounts:
    - {name: cfg, mountPath: /etc/cfg, readOnly: true}
    - {name: scratch, mountPath: /scratch, subPath: tmp}
    - {name: secret, mountPath: /etc/secret}
    - {name: info, mountPath: /etc/info}
    - {name: all, mountPath: /etc/all}
    - {name: data, mountPath: /data}
    - {name: csi, mountPath: /csi}
  volumes:
  - name: csi
    csi:
      driver: example.csi.io
      readOnly: true
      volumeAttributes: {size: small, zone: a}
  - name: cfg
    configMap: {name: settings}
  - name: scratch
    emptyDir: {medium: Memory, sizeLimit: 1Gi}
  - name: secret
    secret: {secretName: creds, optional: true}
  - name: info
    downwardAPI:
      items:
      - path: labels
        fieldRef: {fieldPath: metadata.labels}
  - name: all
    projected:
      sources:
      - configMap: {name: settings}
      - secret: {name: creds}
      - downwardAPI:
          items:
          - path: name
            fieldRef: {fieldPath: metadata.name}
      - serviceAccountToken: {path: token, expirationSeconds: 3600}
  - name: data
    persistentVolumeClaim: {claimName: data-claim}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {tier: frontend}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: main
        image: nginx:1.25
        ports:
        - containerPort: 8080
          protocol: TCP
        livenessProbe:
          httpGet: {path: /healthz, port: 8080}
"#;

fn rows() -> Vec<Row> {
    [
        // one kind each
        "describe ns shop",
        "describe deploy web -n shop",
        "describe rs -n shop",
        "describe pods -n shop",
        "describe pod full -n shop",
        "describe node node-1",
        "describe svc web -n shop",
        "describe svc db -n shop",
        "describe svc external headless -n shop",
        "describe endpoints web -n shop",
        "describe cm settings -n shop",
        "describe secret creds -n shop",
        "describe sa robot -n shop",
        "describe ingress web -n shop",
        "describe role reader -n shop",
        "describe rolebinding read-pods -n shop",
        "describe clusterrole shop-viewer",
        "describe clusterrolebinding shop-viewers",
        "describe job once -n shop",
        "describe cronjob tick -n shop",
        "describe ds agent -n shop",
        "describe sts db -n shop",
        "describe node node-0",
        "describe podtemplates -n shop",
        "describe runtimeclass fast",
        "describe pvc data-claim -n shop",
        "describe pv disk",
        "describe storageclass slow",
        "describe pdb web -n shop",
        "describe priorityclass important",
        "describe ingressclass nginx",
        "describe endpointslices web-abc -n shop",
        "describe hpa web -n shop",
        "describe ns quota",
        "describe quota small -n quota",
        "describe limits limits -n quota",
        "describe netpol -n shop",
        "describe rc legacy -n shop",
        "describe lease shop-lock -n shop",
        // argument forms and flags
        "describe deployment/web -n shop",
        "describe pods web -n shop",
        "describe pods -n shop -l app=web",
        "describe cm -n shop",
        "describe cm settings -n shop --show-events=false",
        "describe svc -A --chunk-size=1",
        "describe cm/settings secret/creds -n shop",
        "describe cm settings extra -n shop",
        "describe nodes",
        "describe all -n shop",
        "describe deploy web -n shop --show-events=false",
        "describe sa,secrets -n shop",
        "describe ns",
        // errors
        "describe cm nope -n shop",
        "describe deploy nope -n shop",
        "describe nodes node",
        "describe svc w -n shop",
        "describe foo",
        "describe pods -n empty",
        "describe",
        "describe pods --foo",
    ]
    .iter()
    .map(|s| {
        let mut r = row(s);
        if s.contains("node") {
            r.mask = Mask::Heartbeats;
        }
        r
    })
    .collect()
}

#[test]
fn kubectl_parity_describe() {
    let server = ApiServer::start(Store::Embedded);
    let _cluster = server.simulated_cluster(2);
    let _controllers = server.controllers("deployment,replicaset", &[]);
    let state = server.file("describe-state.yaml", STATE);
    server.ok(&["apply", "-f", &state]);
    server.ok(&["taint", "nodes", "node-1", "dedicated=web:NoSchedule"]);
    server.ok(&["label", "nodes", "node-1", "node-role.kubernetes.io/worker="]);
    server.eventually("web's pods running", 60, || {
        server.jsonpath(&["deploy", "web", "-n", "shop"], "{.status.availableReplicas}") == "2"
            && server.jsonpath(&["pods", "-n", "shop", "-l", "app=web"], "{.items[*].status.phase}")
                == "Running Running"
            && server.jsonpath(&["pod", "full", "-n", "shop"], "{.status.phase}") == "Running"
    });
    // A rollout, so the deployment has an old replica set.
    server.ok(&["set", "image", "deploy/web", "main=nginx:1.26", "-n", "shop"]);
    server.eventually("the rollout", 90, || {
        let images = server.jsonpath(
            &["pods", "-n", "shop", "-l", "app=web"],
            "{.items[*].spec.containers[0].image}",
        );
        server.jsonpath(
            &["deploy", "web", "-n", "shop"],
            "{.status.updatedReplicas}/{.status.availableReplicas}/{.status.replicas}",
        ) == "2/2/2"
            && images == "nginx:1.26 nginx:1.26"
    });
    // Let the controllers finish their status updates before comparing.
    std::thread::sleep(std::time::Duration::from_secs(2));
    check_rows(&server, "describe", &rows());
    // The rows above compared real Events tables, not just "<none>".
    let deploy = server.ok(&["describe", "deploy", "web", "-n", "shop"]);
    assert!(deploy.contains("ScalingReplicaSet"), "{deploy}");
    let pods = server.ok(&["describe", "pods", "-n", "shop", "-l", "app=web"]);
    assert!(pods.contains("Scheduled"), "{pods}");
}
