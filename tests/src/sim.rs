//! A node simulator, like kwok: registers Node objects that no kubelet backs, keeps them Ready
//! (NodeReady heartbeats and Leases in kube-node-lease), and plays the kubelet's part for pods
//! bound to them: they become Running with an IP at once, and a graceful delete finishes at once.
//! Tests and benchmarks use it to give the scheduler and controllers thousands of nodes on one
//! machine. Nothing runs in these "nodes": it is a simulator, not a kubelet.

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, Pod, Taint};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::runtime::watcher;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How many API requests the simulator has in flight at once.
const CONCURRENCY: usize = 64;

/// What the simulated nodes look like.
#[derive(Debug, Clone)]
pub struct NodeSpec {
    /// Nodes are named `<prefix>-<index>`.
    pub prefix: String,
    pub count: usize,
    pub cpu: String,
    pub memory: String,
    pub pods: u32,
    /// Extra labels; `kubernetes.io/hostname` (and os/arch) are always set.
    pub labels: BTreeMap<String, String>,
    pub taints: Vec<Taint>,
    /// Lease renewal period, as the kubelet's 10s; None renews nothing after registration.
    pub lease_interval: Option<Duration>,
    /// NodeReady heartbeat period (the kubelet reports status at least every 5 minutes).
    pub status_interval: Option<Duration>,
    /// Whether bound pods are reported Running (and deletions finished); benchmarks of the
    /// scheduler alone turn this off, as upstream's scheduler_perf has no kubelets.
    pub run_pods: bool,
}

impl Default for NodeSpec {
    fn default() -> Self {
        NodeSpec {
            prefix: "sim".into(),
            count: 1,
            cpu: "4".into(),
            memory: "16Gi".into(),
            pods: 110,
            labels: BTreeMap::new(),
            taints: Vec::new(),
            lease_interval: Some(Duration::from_secs(10)),
            status_interval: Some(Duration::from_secs(60)),
            run_pods: true,
        }
    }
}

impl NodeSpec {
    pub fn new(prefix: &str, count: usize) -> Self {
        NodeSpec {
            prefix: prefix.into(),
            count,
            ..Default::default()
        }
    }

    pub fn label(mut self, key: &str, value: &str) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }

    pub fn taint(mut self, key: &str, value: &str, effect: &str) -> Self {
        self.taints.push(Taint {
            key: key.into(),
            value: Some(value.into()),
            effect: effect.into(),
            time_added: None,
        });
        self
    }

    pub fn capacity(mut self, cpu: &str, memory: &str, pods: u32) -> Self {
        self.cpu = cpu.into();
        self.memory = memory.into();
        self.pods = pods;
        self
    }
}

/// One simulated node: its address block and whether it still heartbeats.
struct SimNode {
    index: u32,
    heartbeats: bool,
    next_pod_ip: u32,
}

#[derive(Default)]
struct State {
    nodes: HashMap<String, SimNode>,
    next_index: u32,
    /// Pods already reported Running, by uid.
    running: HashSet<String>,
}

/// A set of simulated nodes and the tasks that keep them alive; everything stops on drop.
pub struct SimNodes {
    client: kube::Client,
    state: Arc<Mutex<State>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

/// The node's InternalIP: 100.64.0.0/10 has room for 64k nodes.
fn host_ip(index: u32) -> String {
    let i = index + 1;
    format!("100.{}.{}.{}", 64 + i / 65536, (i / 256) % 256, i % 256)
}

/// The node's pod CIDR, a /24 out of 10.128.0.0/9.
fn pod_cidr_base(index: u32) -> (u32, u32) {
    (128 + index / 256, index % 256)
}

fn now() -> String {
    jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn ready_condition(time: &str) -> Value {
    json!({"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status",
           "lastHeartbeatTime": time, "lastTransitionTime": time})
}

impl SimNodes {
    /// Registers `spec.count` nodes and starts heartbeats and the pod watch.
    pub async fn start(client: kube::Client, spec: NodeSpec) -> anyhow::Result<SimNodes> {
        let mut sim = SimNodes {
            client,
            state: Arc::new(Mutex::new(State::default())),
            tasks: Vec::new(),
        };
        sim.add_nodes(&spec).await?;
        if spec.run_pods {
            sim.tasks
                .push(tokio::spawn(run_pods(sim.client.clone(), sim.state.clone())));
        }
        if let Some(every) = spec.lease_interval {
            let (client, state) = (sim.client.clone(), sim.state.clone());
            sim.tasks
                .push(tokio::spawn(heartbeat_loop(client, state, every, renew_lease)));
        }
        if let Some(every) = spec.status_interval {
            let (client, state) = (sim.client.clone(), sim.state.clone());
            sim.tasks
                .push(tokio::spawn(heartbeat_loop(client, state, every, report_ready)));
        }
        Ok(sim)
    }

    /// Registers `spec.count` more nodes (named from `spec.prefix`) that heartbeat like the others.
    pub async fn add_nodes(&self, spec: &NodeSpec) -> anyhow::Result<Vec<String>> {
        let names: Vec<(String, u32)> = {
            let mut st = lock(&self.state);
            let first = st
                .nodes
                .keys()
                .filter(|n| n.starts_with(&format!("{}-", spec.prefix)))
                .count();
            (first..first + spec.count)
                .map(|i| {
                    let index = st.next_index;
                    st.next_index += 1;
                    (format!("{}-{i}", spec.prefix), index)
                })
                .collect()
        };
        futures::stream::iter(names.iter().cloned())
            .map(|(name, index)| register(&self.client, spec, name, index))
            .buffer_unordered(CONCURRENCY)
            .try_collect::<Vec<_>>()
            .await?;
        let mut st = lock(&self.state);
        for (name, index) in &names {
            st.nodes.insert(
                name.clone(),
                SimNode {
                    index: *index,
                    heartbeats: true,
                    next_pod_ip: 0,
                },
            );
        }
        Ok(names.into_iter().map(|(n, _)| n).collect())
    }

    /// Registers one more node with `spec`'s shape (its count is ignored); returns its name.
    pub async fn add_node(&self, spec: &NodeSpec) -> anyhow::Result<String> {
        let one = NodeSpec {
            count: 1,
            ..spec.clone()
        };
        let mut names = self.add_nodes(&one).await?;
        names.pop().ok_or_else(|| anyhow::anyhow!("no node added"))
    }

    /// Stops heartbeats (Lease and NodeReady) for one node, as if its kubelet died.
    pub fn stop_node(&self, name: &str) {
        if let Some(n) = lock(&self.state).nodes.get_mut(name) {
            n.heartbeats = false;
        }
    }

    pub fn node_names(&self) -> Vec<String> {
        let st = lock(&self.state);
        let mut names: Vec<(u32, String)> = st.nodes.iter().map(|(k, v)| (v.index, k.clone())).collect();
        names.sort();
        names.into_iter().map(|(_, n)| n).collect()
    }
}

impl Drop for SimNodes {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Creates the Node (or takes over an existing one), reports it Ready and creates its Lease.
async fn register(client: &kube::Client, spec: &NodeSpec, name: String, index: u32) -> anyhow::Result<()> {
    let mut labels = spec.labels.clone();
    labels.insert("kubernetes.io/hostname".into(), name.clone());
    labels.insert("kubernetes.io/os".into(), "linux".into());
    labels.insert("kubernetes.io/arch".into(), "amd64".into());
    labels.insert("type".into(), "simulated".into());
    let (a, b) = pod_cidr_base(index);
    let node: Node = serde_json::from_value(json!({
        "metadata": {"name": name, "labels": labels, "annotations": {"node.alpha.kubernetes.io/ttl": "0"}},
        "spec": {"taints": spec.taints, "podCIDR": format!("10.{a}.{b}.0/24"), "podCIDRs": [format!("10.{a}.{b}.0/24")]},
    }))?;
    let nodes: Api<Node> = Api::all(client.clone());
    match nodes.create(&PostParams::default(), &node).await {
        Ok(_) => {}
        Err(kube::Error::Api(s)) if s.code == 409 => {}
        Err(e) => return Err(anyhow::anyhow!("creating node {name}: {e}")),
    }
    let t = now();
    let resources =
        json!({"cpu": spec.cpu, "memory": spec.memory, "pods": spec.pods.to_string(), "ephemeral-storage": "100Gi"});
    let status = json!({"status": {
        "capacity": resources, "allocatable": resources, "phase": "Running",
        "conditions": [
            ready_condition(&t),
            {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory", "lastHeartbeatTime": t, "lastTransitionTime": t},
            {"type": "DiskPressure", "status": "False", "reason": "KubeletHasNoDiskPressure", "lastHeartbeatTime": t, "lastTransitionTime": t},
            {"type": "PIDPressure", "status": "False", "reason": "KubeletHasSufficientPID", "lastHeartbeatTime": t, "lastTransitionTime": t},
        ],
        "addresses": [{"type": "InternalIP", "address": host_ip(index)}, {"type": "Hostname", "address": name}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        "nodeInfo": {"machineID": "", "systemUUID": "", "bootID": "", "kernelVersion": "simulated", "osImage": "simulated",
                     "containerRuntimeVersion": "simulated://1.0", "kubeletVersion": "v1.33.0-sim", "kubeProxyVersion": "",
                     "operatingSystem": "linux", "architecture": "amd64"},
    }});
    nodes
        .patch_status(&name, &PatchParams::default(), &Patch::Strategic(&status))
        .await
        .map_err(|e| anyhow::anyhow!("reporting node {name} Ready: {e}"))?;
    // TaintNodesByCondition admission registers the node tainted not-ready; the node
    // lifecycle controller lifts that once the node reports Ready. Until that controller
    // exists, the simulator does it.
    let taints = if spec.taints.is_empty() {
        Value::Null
    } else {
        json!(spec.taints)
    };
    let taints = json!({"spec": {"taints": taints}});
    nodes
        .patch(&name, &PatchParams::default(), &Patch::Merge(&taints))
        .await
        .map_err(|e| anyhow::anyhow!("untainting node {name}: {e}"))?;
    let leases: Api<Lease> = Api::namespaced(client.clone(), "kube-node-lease");
    let lease: Lease = serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": "kube-node-lease"},
        "spec": {"holderIdentity": name, "leaseDurationSeconds": 40, "renewTime": micro_now()},
    }))?;
    match leases.create(&PostParams::default(), &lease).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 409 => renew_lease(client.clone(), name).await,
        Err(e) => Err(anyhow::anyhow!("creating lease {name}: {e}")),
    }
}

fn micro_now() -> String {
    jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%S.%6fZ").to_string()
}

async fn renew_lease(client: kube::Client, name: String) -> anyhow::Result<()> {
    let leases: Api<Lease> = Api::namespaced(client, "kube-node-lease");
    let patch = json!({"spec": {"renewTime": micro_now()}});
    leases
        .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    Ok(())
}

async fn report_ready(client: kube::Client, name: String) -> anyhow::Result<()> {
    let nodes: Api<Node> = Api::all(client);
    let patch = json!({"status": {"conditions": [ready_condition(&now())]}});
    // Strategic merge keeps the other conditions (conditions merge on `type`).
    nodes
        .patch_status(&name, &PatchParams::default(), &Patch::Strategic(&patch))
        .await?;
    Ok(())
}

/// Every `every`, runs `beat` for each node that still heartbeats, CONCURRENCY at a time.
async fn heartbeat_loop<F, Fut>(client: kube::Client, state: Arc<Mutex<State>>, every: Duration, beat: F)
where
    F: Fn(kube::Client, String) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let mut tick = tokio::time::interval(every);
    tick.tick().await;
    loop {
        tick.tick().await;
        let names: Vec<String> = lock(&state)
            .nodes
            .iter()
            .filter(|(_, n)| n.heartbeats)
            .map(|(k, _)| k.clone())
            .collect();
        futures::stream::iter(names)
            .map(|name| beat(client.clone(), name))
            .buffer_unordered(CONCURRENCY)
            .for_each(|_| async {})
            .await;
    }
}

/// What the simulator does for one pod event.
enum Action {
    Run { ip: String, host: String },
    Finish,
}

fn decide(state: &Mutex<State>, pod: &Pod) -> Option<Action> {
    let node = pod.spec.as_ref()?.node_name.as_deref()?;
    let uid = pod.metadata.uid.clone()?;
    let mut st = lock(state);
    if !st.nodes.contains_key(node) {
        return None;
    }
    if pod.metadata.deletion_timestamp.is_some() {
        return Some(Action::Finish);
    }
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    if matches!(phase, Some("Running" | "Succeeded" | "Failed")) || !st.running.insert(uid) {
        return None;
    }
    let sim = st.nodes.get_mut(node)?;
    let (a, b) = pod_cidr_base(sim.index);
    let host = host_ip(sim.index);
    let ip = format!("10.{a}.{b}.{}", 2 + sim.next_pod_ip % 252);
    sim.next_pod_ip += 1;
    Some(Action::Run { ip, host })
}

fn running_status(pod: &Pod, ip: &str, host: &str) -> Value {
    let t = now();
    let containers: Vec<Value> = pod
        .spec
        .iter()
        .flat_map(|s| s.containers.iter())
        .map(|c| {
            json!({"name": c.name, "image": c.image, "imageID": "", "containerID": format!("sim://{}", c.name),
                   "ready": true, "started": true, "restartCount": 0, "state": {"running": {"startedAt": t}}})
        })
        .collect();
    let cond = |ty: &str| json!({"type": ty, "status": "True", "lastProbeTime": null, "lastTransitionTime": t});
    json!({"status": {
        "phase": "Running",
        "conditions": [cond("PodReadyToStartContainers"), cond("Initialized"), cond("Ready"), cond("ContainersReady"), cond("PodScheduled")],
        "hostIP": host, "hostIPs": [{"ip": host}], "podIP": ip, "podIPs": [{"ip": ip}],
        "startTime": t, "containerStatuses": containers, "qosClass": qos_class(pod),
    }})
}

/// Upstream's QoS classes, from requests and limits.
fn qos_class(pod: &Pod) -> &'static str {
    let containers: Vec<_> = pod.spec.iter().flat_map(|s| s.containers.iter()).collect();
    let res = |c: &&k8s_openapi::api::core::v1::Container| c.resources.clone().unwrap_or_default();
    let none = containers.iter().all(|c| {
        let r = res(c);
        r.requests.as_ref().is_none_or(|m| m.is_empty()) && r.limits.as_ref().is_none_or(|m| m.is_empty())
    });
    if none {
        return "BestEffort";
    }
    let guaranteed = containers.iter().all(|c| {
        let r = res(c);
        let limits = r.limits.unwrap_or_default();
        ["cpu", "memory"].iter().all(|k| {
            limits.contains_key(*k)
                && r.requests
                    .as_ref()
                    .and_then(|q| q.get(*k))
                    .is_none_or(|v| Some(v) == limits.get(*k))
        })
    });
    if guaranteed { "Guaranteed" } else { "Burstable" }
}

async fn act(client: kube::Client, pod: Pod, action: Action) {
    let ns = pod.metadata.namespace.clone().unwrap_or_default();
    let name = pod.metadata.name.clone().unwrap_or_default();
    let api: Api<Pod> = Api::namespaced(client, &ns);
    let result = match action {
        Action::Run { ip, host } => {
            let status = running_status(&pod, &ip, &host);
            api.patch_status(&name, &PatchParams::default(), &Patch::Merge(&status))
                .await
                .map(|_| ())
        }
        Action::Finish => {
            // A kubelet that has stopped the containers deletes the pod for good.
            let dp = DeleteParams {
                grace_period_seconds: Some(0),
                preconditions: pod.metadata.uid.clone().map(|uid| kube::api::Preconditions {
                    uid: Some(uid),
                    resource_version: None,
                }),
                ..Default::default()
            };
            api.delete(&name, &dp).await.map(|_| ())
        }
    };
    if let Err(e) = result
        && !matches!(&e, kube::Error::Api(s) if s.code == 404 || s.code == 409)
    {
        eprintln!("node simulator: pod {ns}/{name}: {e}");
    }
}

/// One watch on every bound pod; acts on those bound to simulated nodes.
async fn run_pods(client: kube::Client, state: Arc<Mutex<State>>) {
    let pods: Api<Pod> = Api::all(client.clone());
    let cfg = watcher::Config::default().fields("spec.nodeName!=");
    let limit = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
    let mut stream = watcher(pods, cfg).boxed();
    while let Some(event) = stream.next().await {
        let pod = match event {
            Ok(watcher::Event::Apply(p) | watcher::Event::InitApply(p)) => p,
            Ok(watcher::Event::Delete(p)) => {
                if let Some(uid) = &p.metadata.uid {
                    lock(&state).running.remove(uid);
                }
                continue;
            }
            Ok(_) => continue,
            Err(e) => {
                eprintln!("node simulator: pod watch: {e}");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let Some(action) = decide(&state, &pod) else { continue };
        let Ok(permit) = limit.clone().acquire_owned().await else {
            return;
        };
        let client = client.clone();
        tokio::spawn(async move {
            act(client, pod, action).await;
            drop(permit);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_unique_per_node() {
        assert_eq!(host_ip(0), "100.64.0.1");
        assert_eq!(host_ip(4999), "100.64.19.136");
        assert_ne!(pod_cidr_base(255), pod_cidr_base(256));
    }
}
