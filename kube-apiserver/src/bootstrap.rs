//! Built-in state the server keeps in place at start: the system namespaces, the default
//! ServiceCIDR, and the `kubernetes` Service with its Endpoints and EndpointSlice pointing
//! at the advertise address.

use crate::errors::ApiResult;
use crate::registry::services::{claim, first_service_ip};
use crate::registry::store::WriteOptions;
use crate::state::Api;
use serde_json::{Value, json};

pub const SYSTEM_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public", "kube-node-lease"];

async fn ensure(api: &Api, group: &str, resource: &str, ns: Option<&str>, obj: Value) -> ApiResult<()> {
    let Some(store) = api.store_named(group, resource) else {
        return Ok(());
    };
    match store.create(ns, obj, &WriteOptions::default()).await {
        Ok(_) => Ok(()),
        Err(e) if e.reason == "AlreadyExists" => Ok(()),
        Err(e) => Err(e),
    }
}

/// Replaces the spec-like fields of an object the server owns, when they drifted.
async fn reconcile(
    api: &Api,
    group: &str,
    resource: &str,
    ns: Option<&str>,
    obj: Value,
    fields: &[&str],
) -> ApiResult<()> {
    let Some(store) = api.store_named(group, resource) else {
        return Ok(());
    };
    let name = obj["metadata"]["name"].as_str().unwrap_or_default().to_string();
    match store.get(ns, &name).await {
        Ok(current) if fields.iter().all(|f| current.get(*f) == obj.get(*f)) => Ok(()),
        Ok(_) => {
            store
                .update(ns, &name, &WriteOptions::default(), |mut cur| {
                    for f in fields {
                        cur[*f] = obj[*f].clone();
                    }
                    crate::registry::meta::meta_mut(&mut cur).remove("resourceVersion");
                    Ok(cur)
                })
                .await?;
            Ok(())
        }
        Err(e) if e.code == 404 => ensure(api, group, resource, ns, obj).await,
        Err(e) => Err(e),
    }
}

pub async fn run(api: &Api) -> ApiResult<()> {
    for ns in SYSTEM_NAMESPACES {
        ensure(
            api,
            "",
            "namespaces",
            None,
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
        )
        .await?;
    }
    for (name, value, description) in [
        (
            "system-node-critical",
            2000001000,
            "Used for system critical pods that must not be moved from their current node.",
        ),
        (
            "system-cluster-critical",
            2000000000,
            "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.",
        ),
    ] {
        let pc = json!({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": name},
                        "value": value, "description": description, "preemptionPolicy": "PreemptLowerPriority"});
        ensure(api, "scheduling.k8s.io", "priorityclasses", None, pc).await?;
    }
    let cidr = api.config.service_cidr;
    ensure(
        api,
        "networking.k8s.io",
        "servicecidrs",
        None,
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "ServiceCIDR", "metadata": {"name": "kubernetes"}, "spec": {"cidrs": [cidr.to_string()]}}),
    )
    .await?;
    let port = api.config.secure_port;
    let addr = api.config.advertise_address.to_string();
    if let Some(ip) = first_service_ip(&cidr) {
        let svc = json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "kubernetes", "namespace": "default", "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"type": "ClusterIP", "clusterIP": ip.to_string(), "clusterIPs": [ip.to_string()],
                     "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": port}],
                     "sessionAffinity": "None", "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack", "internalTrafficPolicy": "Cluster"},
        });
        claim(api, ip, &svc).await?;
        ensure(api, "", "services", Some("default"), svc).await?;
    }
    let endpoints = json!({
        "apiVersion": "v1", "kind": "Endpoints",
        "metadata": {"name": "kubernetes", "namespace": "default", "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
        "subsets": [{"addresses": [{"ip": addr}], "ports": [{"name": "https", "port": port, "protocol": "TCP"}]}],
    });
    // As upstream, an address the API refuses (a loopback --advertise-address) leaves the
    // Endpoints unwritten with an error in the log; the server still serves.
    if let Err(e) = reconcile(api, "", "endpoints", Some("default"), endpoints, &["subsets"]).await {
        tracing::error!(error = %e, "unable to reconcile the kubernetes Endpoints");
    }
    let slice = json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": "kubernetes", "namespace": "default", "labels": {"kubernetes.io/service-name": "kubernetes"}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": [addr], "conditions": {"ready": true}}],
        "ports": [{"name": "https", "port": port, "protocol": "TCP"}],
    });
    reconcile(
        api,
        "discovery.k8s.io",
        "endpointslices",
        Some("default"),
        slice,
        &["endpoints", "ports"],
    )
    .await
    .or_else(|e| {
        tracing::error!(error = %e, "unable to reconcile the kubernetes EndpointSlice");
        Ok(())
    })
}

/// Creates the default RBAC policy, and reconciles the stored copies (adding what they lack,
/// never removing), as upstream's rbac/bootstrap-roles post-start hook does.
pub async fn rbac_policy(api: &Api) -> ApiResult<()> {
    use crate::auth::policy;
    let sets = [
        ("clusterroles", policy::cluster_roles()),
        ("clusterrolebindings", policy::cluster_role_bindings()),
        ("roles", policy::roles()),
        ("rolebindings", policy::role_bindings()),
    ];
    for (resource, objects) in sets {
        let Some(store) = api.store_named("rbac.authorization.k8s.io", resource) else {
            continue;
        };
        for obj in objects {
            let ns = obj
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .map(String::from);
            let name = obj
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            match store.get(ns.as_deref(), &name).await {
                Ok(existing) => {
                    if let Some(mut updated) = policy::reconcile(&obj, &existing) {
                        crate::registry::meta::meta_mut(&mut updated).remove("resourceVersion");
                        store
                            .update(ns.as_deref(), &name, &WriteOptions::default(), |_| Ok(updated.clone()))
                            .await?;
                    }
                }
                Err(e) if e.code == 404 => {
                    ensure(api, "rbac.authorization.k8s.io", resource, ns.as_deref(), obj).await?
                }
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

/// Publishes how this server authenticates clients, for aggregated API servers to trust its
/// proxied requests: the `extension-apiserver-authentication` ConfigMap in kube-system.
pub async fn authentication_info(api: &Api, opts: &crate::options::Options) -> ApiResult<()> {
    let read = |path: &std::path::Path| {
        std::fs::read_to_string(path)
            .map_err(|e| crate::errors::ApiError::internal(format!("reading {}: {e}", path.display())))
    };
    let mut data = serde_json::Map::new();
    if let Some(ca) = &opts.client_ca_file {
        data.insert("client-ca-file".into(), read(ca)?.into());
    }
    if let Some(ca) = &opts.requestheader_client_ca_file {
        data.insert("requestheader-client-ca-file".into(), read(ca)?.into());
        let lists = [
            ("requestheader-allowed-names", &opts.requestheader_allowed_names),
            ("requestheader-username-headers", &opts.requestheader_username_headers),
            ("requestheader-group-headers", &opts.requestheader_group_headers),
            (
                "requestheader-extra-headers-prefix",
                &opts.requestheader_extra_headers_prefix,
            ),
            ("requestheader-uid-headers", &opts.requestheader_uid_headers),
        ];
        for (key, values) in lists {
            if key == "requestheader-uid-headers" && values.is_empty() {
                continue;
            }
            data.insert(key.into(), serde_json::to_string(values).unwrap_or_default().into());
        }
    }
    if data.is_empty() {
        return Ok(());
    }
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": "extension-apiserver-authentication", "namespace": "kube-system"},
                    "data": data});
    reconcile(api, "", "configmaps", Some("kube-system"), cm, &["data"]).await
}
