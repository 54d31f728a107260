//! NodePorts: a host port (protocol, IP, port) can be taken by one pod per node; 0.0.0.0
//! conflicts with every IP.

use crate::cache::NodeInfo;
use crate::framework::{CycleState, FilterResult, Plugin, Status};
use crate::podinfo::{HostPort, PodInfo};

pub struct NodePorts;

pub const REASON: &str = "node(s) didn't have free ports for the requested pod ports";

fn conflicts(a: &HostPort, b: &HostPort) -> bool {
    a.port == b.port && a.protocol == b.protocol && (a.ip == b.ip || a.ip == "0.0.0.0" || b.ip == "0.0.0.0")
}

impl Plugin for NodePorts {
    fn name(&self) -> &'static str {
        "NodePorts"
    }

    fn filter(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo) -> FilterResult {
        let taken = pod
            .host_ports
            .iter()
            .any(|want| node.used_ports.iter().any(|used| conflicts(want, used)));
        if taken {
            Err(Status::unschedulable(self.name(), REASON))
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testutil::{labeled, pod};
    use serde_json::json;

    fn with_port(name: &str, port: i32, proto: &str, ip: &str) -> std::sync::Arc<PodInfo> {
        pod(
            json!({"metadata": {"name": name, "uid": name}, "spec": {"containers": [{"name": "c",
            "ports": [{"containerPort": 80, "hostPort": port, "protocol": proto, "hostIP": ip}]}]}}),
        )
    }

    #[test]
    fn filter() {
        let mut n = labeled("n", json!({}));
        n.add_pod(with_port("used", 8080, "TCP", "10.0.0.1"));
        let cases = [
            ("no host ports", pod(json!({})), true),
            (
                "same port, protocol and IP",
                with_port("p", 8080, "TCP", "10.0.0.1"),
                false,
            ),
            ("any IP conflicts", with_port("p", 8080, "TCP", ""), false),
            ("other IP", with_port("p", 8080, "TCP", "10.0.0.2"), true),
            ("other protocol", with_port("p", 8080, "UDP", "10.0.0.1"), true),
            ("other port", with_port("p", 8081, "TCP", "10.0.0.1"), true),
        ];
        for (what, p, ok) in cases {
            assert_eq!(NodePorts.filter(&CycleState::default(), &p, &n).is_ok(), ok, "{what}");
        }
    }
}
