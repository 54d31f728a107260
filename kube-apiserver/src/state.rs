//! The server's shared state: configuration, storage, and one store per resource.

use crate::auth::Authenticator;
use crate::cacher::Cacher;
use crate::registry::resources::{RESOURCES, ResourceInfo};
use crate::registry::store::Store;
use crate::storage::Backend;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub advertise_address: IpAddr,
    pub secure_port: u16,
    pub service_cidr: ipnet::IpNet,
    /// Inclusive range for NodePorts.
    pub node_port_range: (u16, u16),
    pub etcd_prefix: String,
}

/// A list of objects shared between requests (RBAC reads them on every request).
pub type SharedObjects = Arc<Vec<Arc<serde_json::Value>>>;

pub struct Api {
    pub config: ServerConfig,
    pub backend: Arc<dyn Backend>,
    pub auth: Authenticator,
    pub authorization_modes: Vec<crate::auth::authz::Mode>,
    pub admission: crate::admission::Plugins,
    pub aggregator: crate::aggregator::Aggregator,
    /// Aggregated ClusterRoles and the cache revision they were computed at.
    pub aggregated_roles: std::sync::Mutex<(i64, SharedObjects)>,
    /// RBAC objects as shared values per (resource, namespace), with the cache revision.
    pub policy_cache: std::sync::Mutex<HashMap<String, (i64, SharedObjects)>>,
    stores: HashMap<(&'static str, &'static str), Arc<Store>>,
}

impl Api {
    /// Builds one store (with its watch cache) per storage resource.
    pub async fn new(
        config: ServerConfig,
        backend: Arc<dyn Backend>,
        auth: Authenticator,
        authorization_modes: Vec<crate::auth::authz::Mode>,
        admission: crate::admission::Plugins,
        aggregator: crate::aggregator::Aggregator,
    ) -> Arc<Api> {
        let mut stores = HashMap::new();
        let mut caches: HashMap<&'static str, Arc<Cacher>> = HashMap::new();
        let prefix = config.etcd_prefix.trim_end_matches('/').to_string();
        for info in RESOURCES.iter().filter(|r| !r.virtual_resource) {
            let storage = info.storage_resource();
            let store_prefix = format!("{prefix}/{storage}/");
            let cacher = match caches.get(storage) {
                Some(c) => c.clone(),
                None => {
                    let c = Cacher::start(store_prefix.clone(), backend.clone()).await;
                    caches.insert(storage, c.clone());
                    c
                }
            };
            stores.insert(
                (info.group, info.resource),
                Arc::new(Store {
                    info,
                    backend: backend.clone(),
                    cacher,
                    prefix: store_prefix,
                }),
            );
        }
        Arc::new(Api {
            config,
            backend,
            auth,
            authorization_modes,
            admission,
            aggregator,
            aggregated_roles: Default::default(),
            policy_cache: Default::default(),
            stores,
        })
    }

    /// The store serving `info`.
    pub fn store(&self, info: &ResourceInfo) -> Option<&Arc<Store>> {
        self.stores.get(&(info.group, info.resource))
    }

    /// The store of a resource by group and plural name.
    pub fn store_named(&self, group: &str, resource: &str) -> Option<&Arc<Store>> {
        let info = RESOURCES.iter().find(|r| r.group == group && r.resource == resource)?;
        self.store(info)
    }

    /// Whether every watch cache has loaded.
    pub fn caches_synced(&self) -> bool {
        self.stores.values().all(|s| s.cacher.revision() > 0)
    }
}
