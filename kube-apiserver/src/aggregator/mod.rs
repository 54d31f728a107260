//! API aggregation (upstream's kube-aggregator inside kube-apiserver): an APIService
//! `version.group` with a `spec.service` hands that group/version to another server. Requests
//! for it are authenticated and authorized here, then forwarded (`proxy`) with the user in
//! X-Remote-* headers over TLS authenticated by `--proxy-client-cert-file`. `availability`
//! checks each such server and keeps its discovery document; `local` registers the built-in
//! group/versions as Local APIServices and holds their discovery priorities.

pub mod availability;
pub mod local;
pub mod proxy;

use crate::state::Api;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

pub const GROUP: &str = "apiregistration.k8s.io";
pub const RESOURCE: &str = "apiservices";

/// The aggregator's flags.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Client certificate and key presented to aggregated servers.
    pub proxy_client_cert: Option<PathBuf>,
    pub proxy_client_key: Option<PathBuf>,
    /// Route to an endpoint of the service rather than its cluster IP.
    pub endpoint_routing: bool,
}

/// What the aggregator learned about one remote APIService.
#[derive(Debug, Clone)]
pub struct Remote {
    /// The APIResourceList the server answered at /apis/<group>/<version>.
    pub resources: Value,
}

pub struct Aggregator {
    pub config: Config,
    proxy: proxy::Transport,
    /// Discovery documents of remote APIServices that passed their last check, by name.
    remotes: RwLock<BTreeMap<String, Remote>>,
}

impl Aggregator {
    pub fn new(config: Config) -> anyhow::Result<Aggregator> {
        let proxy = proxy::Transport::new(&config)?;
        Ok(Aggregator {
            config,
            proxy,
            remotes: Default::default(),
        })
    }

    pub fn remote(&self, name: &str) -> Option<Remote> {
        self.remotes
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .cloned()
    }

    fn set_remote(&self, name: &str, remote: Option<Remote>) {
        let mut remotes = self.remotes.write().unwrap_or_else(|p| p.into_inner());
        match remote {
            Some(r) => remotes.insert(name.to_string(), r),
            None => remotes.remove(name),
        };
    }
}

/// Every APIService in the watch cache.
pub fn api_services(api: &Api) -> Vec<Arc<crate::cacher::Cached>> {
    api.store_named(GROUP, RESOURCE)
        .map(|s| s.cacher.list("").0)
        .unwrap_or_default()
}

/// The APIService that hands `group`/`version` to another server, if any.
pub fn remote_service(api: &Api, group: &str, version: &str) -> Option<Arc<crate::cacher::Cached>> {
    let store = api.store_named(GROUP, RESOURCE)?;
    let svc = store.cached(None, &format!("{version}.{group}"))?;
    svc.pointer("/spec/service")
        .is_some_and(Value::is_object)
        .then_some(svc)
}

/// A remote group as discovery lists it: name, versions by priority, and its priority.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteGroup {
    pub name: String,
    pub versions: Vec<String>,
    pub priority: i64,
}

/// The groups served by remote APIServices, each with its versions ordered as upstream
/// orders them (versionPriority, then kube-aware version order).
pub fn remote_groups(api: &Api) -> Vec<RemoteGroup> {
    let mut by_group: BTreeMap<String, Vec<(i64, String, i64)>> = BTreeMap::new();
    for svc in api_services(api) {
        if !svc.pointer("/spec/service").is_some_and(Value::is_object) {
            continue;
        }
        let spec = &svc["spec"];
        let (Some(group), Some(version)) = (spec["group"].as_str(), spec["version"].as_str()) else {
            continue;
        };
        by_group.entry(group.to_string()).or_default().push((
            spec["versionPriority"].as_i64().unwrap_or(0),
            version.to_string(),
            spec["groupPriorityMinimum"].as_i64().unwrap_or(0),
        ));
    }
    by_group
        .into_iter()
        .map(|(name, mut versions)| {
            versions.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| local::compare_versions(&b.1, &a.1)));
            RemoteGroup {
                priority: versions.iter().map(|v| v.2).max().unwrap_or(0),
                versions: versions.into_iter().map(|v| v.1).collect(),
                name,
            }
        })
        .collect()
}
