//! nodeipam: with `--allocate-node-cidrs`, gives every node a pod CIDR of
//! `--node-cidr-mask-size` bits from each range of `--cluster-cidr` (one per IP family), as
//! upstream's range allocator: the CIDRs nodes already hold are marked used at start, a
//! node's CIDRs are released when it goes, and a full range is a `CIDRNotAvailable` event.

use super::Ctx;
use crate::events::WARNING;
use crate::informer::Change;
use crate::queue::{Queue, run_workers};
use ipnet::IpNet;
use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

/// One cluster range and the node CIDRs taken from it, by index.
pub struct Range {
    cluster: IpNet,
    mask: u8,
    used: BTreeSet<u128>,
}

impl Range {
    pub fn new(cluster: IpNet, mask: u8) -> anyhow::Result<Range> {
        if mask < cluster.prefix_len() || mask > cluster.max_prefix_len() {
            anyhow::bail!("--node-cidr-mask-size {mask} does not fit in --cluster-cidr {cluster}");
        }
        Ok(Range {
            cluster: cluster.trunc(),
            mask,
            used: BTreeSet::new(),
        })
    }

    fn count(&self) -> u128 {
        1u128 << (self.mask - self.cluster.prefix_len()).min(127)
    }

    fn shift(&self) -> u8 {
        self.cluster.max_prefix_len() - self.mask
    }

    fn nth(&self, i: u128) -> IpNet {
        let addr = number(self.cluster.network()) + (i << self.shift());
        let ip: std::net::IpAddr = match self.cluster {
            IpNet::V4(_) => std::net::Ipv4Addr::from(addr as u32).into(),
            IpNet::V6(_) => std::net::Ipv6Addr::from(addr).into(),
        };
        IpNet::new(ip, self.mask).expect("mask checked in new")
    }

    fn index(&self, cidr: &IpNet) -> Option<u128> {
        if cidr.prefix_len() != self.mask || !self.cluster.contains(cidr) {
            return None;
        }
        Some((number(cidr.network()) - number(self.cluster.network())) >> self.shift())
    }

    /// Marks a CIDR a node already holds.
    pub fn occupy(&mut self, cidr: &IpNet) {
        if let Some(i) = self.index(cidr) {
            self.used.insert(i);
        }
    }

    pub fn release(&mut self, cidr: &IpNet) {
        if let Some(i) = self.index(cidr) {
            self.used.remove(&i);
        }
    }

    /// The lowest free CIDR.
    pub fn allocate(&mut self) -> Option<IpNet> {
        let i = (0..self.count()).find(|i| !self.used.contains(i))?;
        self.used.insert(i);
        Some(self.nth(i))
    }

    fn family_matches(&self, cidr: &IpNet) -> bool {
        matches!(
            (self.cluster, cidr),
            (IpNet::V4(_), IpNet::V4(_)) | (IpNet::V6(_), IpNet::V6(_))
        )
    }
}

fn number(ip: std::net::IpAddr) -> u128 {
    match ip {
        std::net::IpAddr::V4(a) => u128::from(u32::from(a)),
        std::net::IpAddr::V6(a) => u128::from(a),
    }
}

fn node_cidrs(node: &Node) -> Vec<IpNet> {
    let spec = node.spec.as_ref();
    let list = spec.and_then(|s| s.pod_cidrs.clone()).unwrap_or_default();
    let single = spec.and_then(|s| s.pod_cidr.clone());
    let all = if list.is_empty() {
        single.into_iter().collect()
    } else {
        list
    };
    all.iter().filter_map(|c| c.parse().ok()).collect()
}

pub async fn run(ctx: Ctx) -> anyhow::Result<()> {
    if !ctx.opts.allocate_node_cidrs {
        return Ok(());
    }
    let Some(cidrs) = ctx.opts.cluster_cidr.clone() else {
        anyhow::bail!("--allocate-node-cidrs requires --cluster-cidr");
    };
    let mut ranges = Vec::new();
    for c in cidrs.split(',') {
        let net: IpNet = c
            .trim()
            .parse()
            .map_err(|e| anyhow::anyhow!("--cluster-cidr {c}: {e}"))?;
        let mask = match (net, ctx.opts.node_cidr_mask_size) {
            (_, Some(m)) if cidrs.split(',').count() == 1 => m,
            (IpNet::V4(_), _) => 24,
            (IpNet::V6(_), _) => 64,
        };
        ranges.push(Range::new(net, mask)?);
    }
    let ranges = Arc::new(Mutex::new(ranges));
    let nodes = ctx.informers.get::<Node>();
    let queue = Queue::<String>::new();
    let (q, r) = (queue.clone(), ranges.clone());
    nodes.on_change(move |c| match c {
        Change::Added(n) | Change::Updated { new: n, .. } => {
            let held = node_cidrs(n);
            let mut ranges = r.lock().unwrap_or_else(|e| e.into_inner());
            for cidr in &held {
                ranges.iter_mut().for_each(|r| r.occupy(cidr));
            }
            if held.len() < ranges.len() {
                q.add(n.metadata.name.clone().unwrap_or_default());
            }
        }
        Change::Deleted(n) => {
            let mut ranges = r.lock().unwrap_or_else(|e| e.into_inner());
            for cidr in node_cidrs(n) {
                ranges.iter_mut().for_each(|r| r.release(&cidr));
            }
        }
    });
    nodes.synced().await;
    run_workers("node-ipam-controller", queue, 1, move |name: String| {
        let (ctx, nodes, ranges) = (ctx.clone(), nodes.clone(), ranges.clone());
        async move {
            let Some(node) = nodes.get(&name) else { return Ok(()) };
            let held = node_cidrs(&node);
            if !held.is_empty() {
                return Ok(());
            }
            let allocated: Option<Vec<IpNet>> = {
                let mut ranges = ranges.lock().unwrap_or_else(|e| e.into_inner());
                let picked: Vec<Option<IpNet>> = ranges.iter_mut().map(Range::allocate).collect();
                if picked.iter().any(Option::is_none) {
                    for (r, c) in ranges.iter_mut().zip(&picked) {
                        if let Some(c) = c {
                            r.release(c);
                        }
                    }
                    None
                } else {
                    Some(picked.into_iter().flatten().collect())
                }
            };
            let Some(cidrs) = allocated else {
                ctx.recorder
                    .event(node.as_ref(), WARNING, "CIDRNotAvailable", "Node has no CIDR available");
                return Ok(());
            };
            let list: Vec<String> = cidrs.iter().map(ToString::to_string).collect();
            let patch = json!({"spec": {"podCIDR": list[0], "podCIDRs": list}});
            let api: Api<Node> = Api::all(ctx.client.clone());
            if let Err(e) = api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch)).await {
                let mut ranges = ranges.lock().unwrap_or_else(|e| e.into_inner());
                for c in &cidrs {
                    ranges
                        .iter_mut()
                        .filter(|r| r.family_matches(c))
                        .for_each(|r| r.release(c));
                }
                return Err(e.into());
            }
            tracing::info!(node = %name, cidrs = ?list, "allocated pod CIDRs");
            Ok(())
        }
    })
    .await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocates_in_order_skipping_occupied_and_reuses_released() {
        let mut r = Range::new("10.244.0.0/16".parse().unwrap(), 24).unwrap();
        r.occupy(&"10.244.1.0/24".parse().unwrap());
        assert_eq!(r.allocate().unwrap().to_string(), "10.244.0.0/24");
        assert_eq!(r.allocate().unwrap().to_string(), "10.244.2.0/24");
        r.release(&"10.244.0.0/24".parse().unwrap());
        assert_eq!(r.allocate().unwrap().to_string(), "10.244.0.0/24");
        let mut tiny = Range::new("10.0.0.0/23".parse().unwrap(), 24).unwrap();
        assert!(tiny.allocate().is_some() && tiny.allocate().is_some());
        assert!(tiny.allocate().is_none());
        assert!(Range::new("10.0.0.0/24".parse().unwrap(), 16).is_err());
        let mut v6 = Range::new("fd00::/48".parse().unwrap(), 64).unwrap();
        assert_eq!(v6.allocate().unwrap().to_string(), "fd00::/64");
        assert_eq!(v6.allocate().unwrap().to_string(), "fd00:0:0:1::/64");
    }
}
