//! Service address allocation: a ClusterIP from `--service-cluster-ip-range`, claimed by
//! creating an IPAddress object named after it (upstream v1.33's allocator, so a taken IP
//! is refused by storage itself), and NodePorts from `--service-node-port-range`.

use super::meta;
use super::resources::ResourceInfo;
use crate::errors::{ApiError, ApiResult, FieldError};
use crate::state::Api;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::net::IpAddr;

fn invalid(name: &str, err: FieldError) -> ApiError {
    ApiError::invalid("", "Service", name, &[err])
}

/// Allocates what a new Service needs before it is stored.
pub async fn admit_create(api: &Api, info: &ResourceInfo, svc: &mut Value, dry_run: bool) -> ApiResult<()> {
    if !info.group.is_empty() || info.resource != "services" {
        return Ok(());
    }
    let ty = svc
        .pointer("/spec/type")
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP")
        .to_string();
    if ty != "ExternalName" {
        allocate_cluster_ip(api, svc, dry_run).await?;
    }
    if matches!(ty.as_str(), "NodePort" | "LoadBalancer") {
        allocate_node_ports(api, svc)?;
    }
    Ok(())
}

async fn allocate_cluster_ip(api: &Api, svc: &mut Value, dry_run: bool) -> ApiResult<()> {
    let name = meta::name(svc).to_string();
    let requested = svc
        .pointer("/spec/clusterIP")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if requested == "None" {
        svc["spec"]["clusterIPs"] = json!(["None"]);
        fill_families(svc);
        return Ok(());
    }
    let cidr = api.config.service_cidr;
    let ip = if requested.is_empty() {
        claim_free_ip(api, svc, dry_run).await?
    } else {
        let ip: IpAddr = requested.parse().map_err(|_| {
            invalid(
                &name,
                FieldError::invalid(
                    "spec.clusterIPs[0]",
                    requested.as_str(),
                    "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
                ),
            )
        })?;
        if !cidr.contains(&ip) || ip == cidr.network() || ip == cidr.broadcast() {
            return Err(invalid(
                &name,
                FieldError::invalid(
                    "spec.clusterIPs",
                    json!([requested]),
                    &format!(
                        "failed to allocate IP {requested}: the provided IP ({requested}) is not in the valid range. The range of valid IPs is {cidr}"
                    ),
                ),
            ));
        }
        if !dry_run && !claim(api, ip, svc).await? {
            return Err(invalid(
                &name,
                FieldError::invalid(
                    "spec.clusterIPs",
                    json!([requested]),
                    &format!("failed to allocate IP {requested}: provided IP is already allocated"),
                ),
            ));
        }
        ip
    };
    svc["spec"]["clusterIP"] = json!(ip.to_string());
    svc["spec"]["clusterIPs"] = json!([ip.to_string()]);
    fill_families(svc);
    Ok(())
}

fn fill_families(svc: &mut Value) {
    let spec = &mut svc["spec"];
    if spec.get("ipFamilies").is_none_or(Value::is_null) {
        spec["ipFamilies"] = json!(["IPv4"]);
    }
    if spec.get("ipFamilyPolicy").is_none_or(Value::is_null) {
        spec["ipFamilyPolicy"] = json!("SingleStack");
    }
}

/// Tries addresses from a random point of the range until one can be claimed.
async fn claim_free_ip(api: &Api, svc: &Value, dry_run: bool) -> ApiResult<IpAddr> {
    let cidr = api.config.service_cidr;
    let hosts: Vec<IpAddr> = cidr.hosts().skip(1).take(1 << 16).collect(); // .1 is the kubernetes Service's
    if hosts.is_empty() {
        return Err(ApiError::internal("the service cluster IP range is empty"));
    }
    let start = uuid::Uuid::new_v4().as_u128() as usize % hosts.len();
    for i in 0..hosts.len() {
        let ip = hosts[(start + i) % hosts.len()];
        if dry_run || claim(api, ip, svc).await? {
            return Ok(ip);
        }
    }
    Err(ApiError::internal("failed to allocate a serviceIP: range is full"))
}

/// Creates the IPAddress object for `ip`; false when someone holds it already.
pub async fn claim(api: &Api, ip: IpAddr, svc: &Value) -> ApiResult<bool> {
    let store = api
        .store_named("networking.k8s.io", "ipaddresses")
        .ok_or_else(|| ApiError::internal("no ipaddresses store"))?;
    let obj = json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "IPAddress",
        "metadata": {"name": ip.to_string(), "labels": {"ipaddress.kubernetes.io/ip-family": "IPv4", "ipaddress.kubernetes.io/managed-by": "ipallocator.k8s.io"}},
        "spec": {"parentRef": {"group": "", "resource": "services", "namespace": meta::namespace(svc), "name": meta::name(svc)}},
    });
    match store.create(None, obj, &Default::default()).await {
        Ok(_) => Ok(true),
        Err(e) if e.reason == "AlreadyExists" => Ok(false),
        Err(e) => Err(e),
    }
}

fn allocate_node_ports(api: &Api, svc: &mut Value) -> ApiResult<()> {
    let name = meta::name(svc).to_string();
    let (lo, hi) = api.config.node_port_range;
    let services = api
        .store_named("", "services")
        .map(|s| s.cacher.list("").0)
        .unwrap_or_default();
    let mut used: HashSet<u16> = services
        .iter()
        .flat_map(|s| {
            s.pointer("/spec/ports")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|p| p.get("nodePort").and_then(Value::as_u64).map(|n| n as u16))
        .collect();
    let Some(ports) = svc.pointer_mut("/spec/ports").and_then(Value::as_array_mut) else {
        return Ok(());
    };
    for (i, p) in ports.iter_mut().enumerate() {
        match p.get("nodePort").and_then(Value::as_u64) {
            Some(n) if n > 0 => {
                let n = n as u16;
                if !(lo..=hi).contains(&n) {
                    return Err(invalid(
                        &name,
                        FieldError::invalid(
                            &format!("spec.ports[{i}].nodePort"),
                            n,
                            &format!("provided port is not in the valid range. The range of valid ports is {lo}-{hi}"),
                        ),
                    ));
                }
                if !used.insert(n) {
                    return Err(invalid(
                        &name,
                        FieldError::invalid(
                            &format!("spec.ports[{i}].nodePort"),
                            n,
                            "provided port is already allocated",
                        ),
                    ));
                }
            }
            _ => {
                let span = (hi - lo) as usize + 1;
                let start = uuid::Uuid::new_v4().as_u128() as usize % span;
                let free = (0..span)
                    .map(|k| lo + ((start + k) % span) as u16)
                    .find(|n| !used.contains(n));
                let n = free.ok_or_else(|| ApiError::internal("failed to allocate a nodePort: range is full"))?;
                used.insert(n);
                p["nodePort"] = json!(n);
            }
        }
    }
    Ok(())
}

/// Frees what a deleted (or never stored) Service held.
pub async fn release(api: &Api, info: &ResourceInfo, svc: &Value) {
    if !info.group.is_empty() || info.resource != "services" {
        return;
    }
    let Some(store) = api.store_named("networking.k8s.io", "ipaddresses") else {
        return;
    };
    for ip in svc
        .pointer("/spec/clusterIPs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if ip == "None" {
            continue;
        }
        // Only the address this Service holds: a failed create must not free another's IP.
        if let Ok(obj) = store.get(None, ip).await
            && obj.pointer("/spec/parentRef/name").and_then(Value::as_str) == Some(meta::name(svc))
            && obj.pointer("/spec/parentRef/namespace").and_then(Value::as_str) == Some(meta::namespace(svc))
        {
            let _ = store.delete(None, ip, &Default::default()).await;
        }
    }
}

/// The `kubernetes` Service's address: the first host of the range.
pub fn first_service_ip(cidr: &ipnet::IpNet) -> Option<IpAddr> {
    cidr.hosts().next()
}
