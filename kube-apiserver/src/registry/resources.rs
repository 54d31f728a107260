//! The table of every built-in resource this server serves: group, versions, kind, scope,
//! short names, categories, verbs and subresources, as upstream v1.33 registers them.

/// Verbs of a resource backed by storage.
pub const CRUD: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];
const CREATE_ONLY: &[&str] = &["create"];
const READ_ONLY: &[&str] = &["get", "list"];
const STATUS_VERBS: &[&str] = &["get", "patch", "update"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subresource {
    /// Reads and writes only `.status` of the parent.
    Status,
    /// An autoscaling/v1 Scale view of `.spec.replicas`.
    Scale,
    /// `namespaces/finalize` and `certificatesigningrequests/approval`: write one part of the parent.
    Finalize,
    Approval,
    /// `pods/binding` (core/v1 Binding).
    Binding,
    /// `pods/eviction` (policy/v1 Eviction).
    Eviction,
    /// `pods/ephemeralcontainers` and `pods/resize`: write one part of the spec.
    EphemeralContainers,
    Resize,
    /// `serviceaccounts/token` (TokenRequest; served by the security layer).
    Token,
    /// Connect-style subresources served by the kubelet (log, exec, attach, portforward, proxy).
    Connect,
}

#[derive(Debug, Clone, Copy)]
pub struct SubresourceInfo {
    pub name: &'static str,
    pub kind: Subresource,
    /// (group, version, kind) of the body, when it is not the parent's.
    pub response: Option<(&'static str, &'static str, &'static str)>,
    pub verbs: &'static [&'static str],
}

#[derive(Debug)]
pub struct ResourceInfo {
    pub group: &'static str,
    /// Served versions, preferred first. Objects are stored in the first.
    pub versions: &'static [&'static str],
    pub resource: &'static str,
    pub kind: &'static str,
    pub singular: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    pub categories: &'static [&'static str],
    pub verbs: &'static [&'static str],
    pub subresources: &'static [SubresourceInfo],
    /// Not backed by storage (reviews, bindings): served by a handler of its own.
    pub virtual_resource: bool,
    /// The storage key segment, when another resource's (events.k8s.io events share core's).
    pub storage: Option<&'static str>,
}

impl ResourceInfo {
    pub fn api_version(&self, version: &str) -> String {
        if self.group.is_empty() {
            version.to_string()
        } else {
            format!("{}/{}", self.group, version)
        }
    }

    pub fn storage_version(&self) -> &'static str {
        self.versions[0]
    }

    /// The group/version stored objects are in. A resource that shares another's storage
    /// (events.k8s.io Events share core Events') stores in the owner's version, as upstream
    /// does, so field selectors and lists of the owner see one form.
    pub fn storage_api_version(&self) -> String {
        let owner = self.storage.and_then(|res| {
            RESOURCES
                .iter()
                .find(|r| r.group.is_empty() && r.resource == res && r.storage.is_none())
        });
        let r = owner.unwrap_or(self);
        r.api_version(r.storage_version())
    }

    pub fn storage_resource(&self) -> &'static str {
        self.storage.unwrap_or(self.resource)
    }

    pub fn subresource(&self, name: &str) -> Option<&'static SubresourceInfo> {
        self.subresources.iter().find(|s| s.name == name)
    }

    pub fn has_status(&self) -> bool {
        self.subresource("status").is_some()
    }

    /// "deployments.apps" or "pods": how messages name the resource.
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.resource.to_string()
        } else {
            format!("{}.{}", self.resource, self.group)
        }
    }
}

const fn sub(name: &'static str, kind: Subresource) -> SubresourceInfo {
    SubresourceInfo {
        name,
        kind,
        response: None,
        verbs: STATUS_VERBS,
    }
}

const STATUS: SubresourceInfo = sub("status", Subresource::Status);
const SCALE: SubresourceInfo = SubresourceInfo {
    name: "scale",
    kind: Subresource::Scale,
    response: Some(("autoscaling", "v1", "Scale")),
    verbs: STATUS_VERBS,
};
const fn connect(name: &'static str, verbs: &'static [&'static str]) -> SubresourceInfo {
    SubresourceInfo {
        name,
        kind: Subresource::Connect,
        response: None,
        verbs,
    }
}
const PROXY_VERBS: &[&str] = &["create", "delete", "get", "patch", "update"];

const fn review(
    group: &'static str,
    resource: &'static str,
    kind: &'static str,
    singular: &'static str,
    namespaced: bool,
) -> ResourceInfo {
    ResourceInfo {
        group,
        versions: &["v1"],
        resource,
        kind,
        singular,
        namespaced,
        short_names: &[],
        categories: &[],
        verbs: CREATE_ONLY,
        subresources: &[],
        virtual_resource: true,
        storage: None,
    }
}

macro_rules! res {
    ($group:expr, [$($v:expr),+], $resource:expr, $kind:expr, $singular:expr, $ns:expr,
     short: [$($s:expr),*], cat: [$($c:expr),*], subs: [$($sub:expr),*]) => {
        ResourceInfo {
            group: $group, versions: &[$($v),+], resource: $resource, kind: $kind, singular: $singular,
            namespaced: $ns, short_names: &[$($s),*], categories: &[$($c),*], verbs: CRUD,
            subresources: &[$($sub),*], virtual_resource: false, storage: None,
        }
    };
}

pub static RESOURCES: &[ResourceInfo] = &[
    // core/v1
    ResourceInfo {
        group: "",
        versions: &["v1"],
        resource: "bindings",
        kind: "Binding",
        singular: "binding",
        namespaced: true,
        short_names: &[],
        categories: &[],
        verbs: CREATE_ONLY,
        subresources: &[],
        virtual_resource: true,
        storage: None,
    },
    ResourceInfo {
        group: "",
        versions: &["v1"],
        resource: "componentstatuses",
        kind: "ComponentStatus",
        singular: "componentstatus",
        namespaced: false,
        short_names: &["cs"],
        categories: &[],
        verbs: READ_ONLY,
        subresources: &[],
        virtual_resource: true,
        storage: None,
    },
    res!("", ["v1"], "configmaps", "ConfigMap", "configmap", true, short: ["cm"], cat: [], subs: []),
    res!("", ["v1"], "endpoints", "Endpoints", "endpoints", true, short: ["ep"], cat: [], subs: []),
    res!("", ["v1"], "events", "Event", "event", true, short: ["ev"], cat: [], subs: []),
    res!("", ["v1"], "limitranges", "LimitRange", "limitrange", true, short: ["limits"], cat: [], subs: []),
    res!("", ["v1"], "namespaces", "Namespace", "namespace", false, short: ["ns"], cat: [],
         subs: [sub("finalize", Subresource::Finalize), STATUS]),
    res!("", ["v1"], "nodes", "Node", "node", false, short: ["no"], cat: [],
         subs: [connect("proxy", PROXY_VERBS), STATUS]),
    res!("", ["v1"], "persistentvolumeclaims", "PersistentVolumeClaim", "persistentvolumeclaim", true,
         short: ["pvc"], cat: [], subs: [STATUS]),
    res!("", ["v1"], "persistentvolumes", "PersistentVolume", "persistentvolume", false, short: ["pv"], cat: [],
         subs: [STATUS]),
    res!("", ["v1"], "pods", "Pod", "pod", true, short: ["po"], cat: ["all"], subs: [
        connect("attach", &["create", "get"]),
        SubresourceInfo { name: "binding", kind: Subresource::Binding, response: Some(("", "v1", "Binding")), verbs: CREATE_ONLY },
        sub("ephemeralcontainers", Subresource::EphemeralContainers),
        SubresourceInfo { name: "eviction", kind: Subresource::Eviction, response: Some(("policy", "v1", "Eviction")), verbs: CREATE_ONLY },
        connect("exec", &["create", "get"]),
        connect("log", &["get"]),
        connect("portforward", &["create", "get"]),
        connect("proxy", PROXY_VERBS),
        sub("resize", Subresource::Resize),
        STATUS
    ]),
    res!("", ["v1"], "podtemplates", "PodTemplate", "podtemplate", true, short: [], cat: [], subs: []),
    res!("", ["v1"], "replicationcontrollers", "ReplicationController", "replicationcontroller", true,
         short: ["rc"], cat: ["all"], subs: [SCALE, STATUS]),
    res!("", ["v1"], "resourcequotas", "ResourceQuota", "resourcequota", true, short: ["quota"], cat: [],
         subs: [STATUS]),
    res!("", ["v1"], "secrets", "Secret", "secret", true, short: [], cat: [], subs: []),
    res!("", ["v1"], "serviceaccounts", "ServiceAccount", "serviceaccount", true, short: ["sa"], cat: [],
         subs: [SubresourceInfo { name: "token", kind: Subresource::Token, response: Some(("authentication.k8s.io", "v1", "TokenRequest")), verbs: CREATE_ONLY }]),
    res!("", ["v1"], "services", "Service", "service", true, short: ["svc"], cat: ["all"],
         subs: [connect("proxy", PROXY_VERBS), STATUS]),
    // apiregistration.k8s.io/v1
    res!("apiregistration.k8s.io", ["v1"], "apiservices", "APIService", "apiservice", false,
         short: [], cat: ["api-extensions"], subs: [STATUS]),
    // apps/v1
    res!("apps", ["v1"], "controllerrevisions", "ControllerRevision", "controllerrevision", true, short: [], cat: [], subs: []),
    res!("apps", ["v1"], "daemonsets", "DaemonSet", "daemonset", true, short: ["ds"], cat: ["all"], subs: [STATUS]),
    res!("apps", ["v1"], "deployments", "Deployment", "deployment", true, short: ["deploy"], cat: ["all"], subs: [SCALE, STATUS]),
    res!("apps", ["v1"], "replicasets", "ReplicaSet", "replicaset", true, short: ["rs"], cat: ["all"], subs: [SCALE, STATUS]),
    res!("apps", ["v1"], "statefulsets", "StatefulSet", "statefulset", true, short: ["sts"], cat: ["all"], subs: [SCALE, STATUS]),
    // authentication.k8s.io/v1 and authorization.k8s.io/v1: reviews, answered and not stored
    review(
        "authentication.k8s.io",
        "selfsubjectreviews",
        "SelfSubjectReview",
        "selfsubjectreview",
        false,
    ),
    review(
        "authentication.k8s.io",
        "tokenreviews",
        "TokenReview",
        "tokenreview",
        false,
    ),
    review(
        "authorization.k8s.io",
        "localsubjectaccessreviews",
        "LocalSubjectAccessReview",
        "localsubjectaccessreview",
        true,
    ),
    review(
        "authorization.k8s.io",
        "selfsubjectaccessreviews",
        "SelfSubjectAccessReview",
        "selfsubjectaccessreview",
        false,
    ),
    review(
        "authorization.k8s.io",
        "selfsubjectrulesreviews",
        "SelfSubjectRulesReview",
        "selfsubjectrulesreview",
        false,
    ),
    review(
        "authorization.k8s.io",
        "subjectaccessreviews",
        "SubjectAccessReview",
        "subjectaccessreview",
        false,
    ),
    // autoscaling
    res!("autoscaling", ["v2", "v1"], "horizontalpodautoscalers", "HorizontalPodAutoscaler", "horizontalpodautoscaler", true,
         short: ["hpa"], cat: ["all"], subs: [STATUS]),
    // batch/v1
    res!("batch", ["v1"], "cronjobs", "CronJob", "cronjob", true, short: ["cj"], cat: ["all"], subs: [STATUS]),
    res!("batch", ["v1"], "jobs", "Job", "job", true, short: [], cat: ["all"], subs: [STATUS]),
    // certificates.k8s.io/v1
    res!("certificates.k8s.io", ["v1"], "certificatesigningrequests", "CertificateSigningRequest", "certificatesigningrequest", false,
         short: ["csr"], cat: [], subs: [sub("approval", Subresource::Approval), STATUS]),
    // coordination.k8s.io/v1
    res!("coordination.k8s.io", ["v1"], "leases", "Lease", "lease", true, short: [], cat: [], subs: []),
    // discovery.k8s.io/v1
    res!("discovery.k8s.io", ["v1"], "endpointslices", "EndpointSlice", "endpointslice", true, short: [], cat: [], subs: []),
    // events.k8s.io/v1 shares core events' storage
    ResourceInfo {
        group: "events.k8s.io",
        versions: &["v1"],
        resource: "events",
        kind: "Event",
        singular: "event",
        namespaced: true,
        short_names: &["ev"],
        categories: &[],
        verbs: CRUD,
        subresources: &[],
        virtual_resource: false,
        storage: Some("events"),
    },
    // networking.k8s.io/v1
    res!("networking.k8s.io", ["v1"], "ingressclasses", "IngressClass", "ingressclass", false, short: [], cat: [], subs: []),
    res!("networking.k8s.io", ["v1"], "ingresses", "Ingress", "ingress", true, short: ["ing"], cat: [], subs: [STATUS]),
    res!("networking.k8s.io", ["v1"], "ipaddresses", "IPAddress", "ipaddress", false, short: ["ip"], cat: [], subs: []),
    res!("networking.k8s.io", ["v1"], "networkpolicies", "NetworkPolicy", "networkpolicy", true, short: ["netpol"], cat: [], subs: []),
    res!("networking.k8s.io", ["v1"], "servicecidrs", "ServiceCIDR", "servicecidr", false, short: [], cat: [], subs: [STATUS]),
    // node.k8s.io/v1
    res!("node.k8s.io", ["v1"], "runtimeclasses", "RuntimeClass", "runtimeclass", false, short: [], cat: [], subs: []),
    // policy/v1
    res!("policy", ["v1"], "poddisruptionbudgets", "PodDisruptionBudget", "poddisruptionbudget", true, short: ["pdb"], cat: [],
         subs: [STATUS]),
    // rbac.authorization.k8s.io/v1
    res!("rbac.authorization.k8s.io", ["v1"], "clusterrolebindings", "ClusterRoleBinding", "clusterrolebinding", false, short: [], cat: [], subs: []),
    res!("rbac.authorization.k8s.io", ["v1"], "clusterroles", "ClusterRole", "clusterrole", false, short: [], cat: [], subs: []),
    res!("rbac.authorization.k8s.io", ["v1"], "rolebindings", "RoleBinding", "rolebinding", true, short: [], cat: [], subs: []),
    res!("rbac.authorization.k8s.io", ["v1"], "roles", "Role", "role", true, short: [], cat: [], subs: []),
    // scheduling.k8s.io/v1
    res!("scheduling.k8s.io", ["v1"], "priorityclasses", "PriorityClass", "priorityclass", false, short: ["pc"], cat: [], subs: []),
    // storage.k8s.io/v1
    res!("storage.k8s.io", ["v1"], "csidrivers", "CSIDriver", "csidriver", false, short: [], cat: [], subs: []),
    res!("storage.k8s.io", ["v1"], "csinodes", "CSINode", "csinode", false, short: [], cat: [], subs: []),
    res!("storage.k8s.io", ["v1"], "csistoragecapacities", "CSIStorageCapacity", "csistoragecapacity", true, short: [], cat: [], subs: []),
    res!("storage.k8s.io", ["v1"], "storageclasses", "StorageClass", "storageclass", false, short: ["sc"], cat: [], subs: []),
    res!("storage.k8s.io", ["v1"], "volumeattachments", "VolumeAttachment", "volumeattachment", false, short: [], cat: [], subs: [STATUS]),
];

/// Groups in upstream's discovery priority order.
pub const GROUP_ORDER: &[&str] = &[
    "",
    "apiregistration.k8s.io",
    "apps",
    "events.k8s.io",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "autoscaling",
    "batch",
    "certificates.k8s.io",
    "networking.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "storage.k8s.io",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "scheduling.k8s.io",
    "coordination.k8s.io",
    "node.k8s.io",
    "discovery.k8s.io",
    "flowcontrol.apiserver.k8s.io",
    "resource.k8s.io",
];

/// Looks a resource up by group, version and plural name.
pub fn find(group: &str, version: &str, resource: &str) -> Option<&'static ResourceInfo> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.resource == resource && r.versions.contains(&version))
}

/// Looks a resource up by group and kind (for bodies that name their kind).
pub fn find_kind(group: &str, kind: &str) -> Option<&'static ResourceInfo> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.kind == kind && !r.virtual_resource)
}

/// Every (group, version) served, in discovery order, preferred version first within a group.
pub fn group_versions() -> Vec<(&'static str, Vec<&'static str>)> {
    let mut out: Vec<(&'static str, Vec<&'static str>)> = Vec::new();
    for g in GROUP_ORDER {
        let mut versions: Vec<&'static str> = Vec::new();
        for r in RESOURCES.iter().filter(|r| r.group == *g) {
            for v in r.versions {
                if !versions.contains(v) {
                    versions.push(v);
                }
            }
        }
        if !versions.is_empty() {
            out.push((g, versions));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_group_is_ordered_and_lookups_work() {
        for r in RESOURCES {
            assert!(GROUP_ORDER.contains(&r.group), "{} missing from GROUP_ORDER", r.group);
        }
        assert_eq!(find("apps", "v1", "deployments").unwrap().kind, "Deployment");
        assert_eq!(
            find("autoscaling", "v1", "horizontalpodautoscalers")
                .unwrap()
                .storage_version(),
            "v2"
        );
        assert!(find("apps", "v2", "deployments").is_none());
        let gvs = group_versions();
        assert_eq!(gvs[0], ("", vec!["v1"]));
        assert!(gvs.iter().any(|(g, v)| *g == "autoscaling" && v == &vec!["v2", "v1"]));
    }
}
