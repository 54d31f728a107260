//! Tests of the schema lookups and unknown-field detection against the generated v1.33 definitions.

use serde_json::json;

use super::*;

const POD_SPEC: &str = "io.k8s.api.core.v1.PodSpec";
const CONTAINER: &str = "io.k8s.api.core.v1.Container";

fn field(type_name: &str, name: &str) -> &'static FieldMeta {
    schema()
        .field(type_name, name)
        .unwrap_or_else(|| panic!("{type_name}.{name} missing"))
}

#[test]
fn pod_spec_containers_merge_on_name() {
    let f = field(POD_SPEC, "containers");
    assert_eq!(f.patch_strategy.as_deref(), Some("merge"));
    assert_eq!(f.patch_merge_key.as_deref(), Some("name"));
    assert_eq!(f.list_type.as_deref(), Some("map"));
    assert_eq!(f.list_map_keys, vec!["name"]);
    assert_eq!(f.type_ref, TypeRef::Array(Box::new(TypeRef::Object(CONTAINER.into()))));
    assert!(f.required);
    assert!(f.description.starts_with("List of containers belonging to the pod."));
}

#[test]
fn container_ports_keys() {
    let f = field(CONTAINER, "ports");
    assert_eq!(f.patch_strategy.as_deref(), Some("merge"));
    assert_eq!(f.patch_merge_key.as_deref(), Some("containerPort"));
    assert_eq!(f.list_map_keys, vec!["containerPort", "protocol"]);
    let eph = field("io.k8s.api.core.v1.EphemeralContainer", "ports");
    assert_eq!(eph.list_map_keys, vec!["containerPort", "protocol"]);
}

#[test]
fn other_patch_metadata() {
    let strategy = field("io.k8s.api.apps.v1.DeploymentSpec", "strategy");
    assert_eq!(strategy.patch_strategy.as_deref(), Some("retainKeys"));
    assert_eq!(strategy.patch_merge_key, None);
    let volumes = field(POD_SPEC, "volumes");
    assert_eq!(volumes.patch_strategy.as_deref(), Some("merge,retainKeys"));
    let finalizers = field("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "finalizers");
    assert_eq!(finalizers.list_type.as_deref(), Some("set"));
    assert_eq!(finalizers.patch_strategy.as_deref(), Some("merge"));
    assert_eq!(finalizers.type_ref, TypeRef::Array(Box::new(TypeRef::String)));
    let tolerations = field(POD_SPEC, "tolerations");
    assert_eq!(tolerations.patch_strategy, None);
    assert_eq!(tolerations.list_type.as_deref(), Some("atomic"));
    assert_eq!(field(POD_SPEC, "nodeSelector").map_type.as_deref(), Some("atomic"));
    let service_ports = field("io.k8s.api.core.v1.ServiceSpec", "ports");
    assert_eq!(service_ports.list_map_keys, vec!["port", "protocol"]);
    assert_eq!(service_ports.patch_merge_key.as_deref(), Some("port"));
}

#[test]
fn required_optional_and_special_types() {
    assert!(field(CONTAINER, "name").required);
    assert!(!field(CONTAINER, "image").required);
    assert!(!field("io.k8s.api.core.v1.Pod", "spec").required);
    // Upstream marks metadata optional (k8s-openapi, which the definitions come from, does not).
    assert!(!field("io.k8s.api.core.v1.Pod", "metadata").required);
    assert!(!field("io.k8s.api.apps.v1.Deployment", "metadata").required);
    let limits = field("io.k8s.api.core.v1.ResourceRequirements", "limits");
    let quantity = TypeRef::Special("io.k8s.apimachinery.pkg.api.resource.Quantity".into());
    assert_eq!(limits.type_ref, TypeRef::Map(Box::new(quantity)));
    let ts = field("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "creationTimestamp");
    assert_eq!(
        ts.type_ref,
        TypeRef::Special("io.k8s.apimachinery.pkg.apis.meta.v1.Time".into())
    );
    let port = schema()
        .definition("io.k8s.api.core.v1.ContainerPort")
        .and_then(|d| d.property("containerPort"));
    assert_eq!(port.and_then(|p| p.format.as_deref()), Some("int32"));
    let selector = schema().definition("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector");
    assert_eq!(selector.and_then(|d| d.map_type.as_deref()), Some("atomic"));
}

#[test]
fn kind_types() {
    let s = schema();
    assert_eq!(s.kind_type("", "v1", "Pod"), Some("io.k8s.api.core.v1.Pod"));
    assert_eq!(
        s.kind_type("apps", "v1", "Deployment"),
        Some("io.k8s.api.apps.v1.Deployment")
    );
    assert_eq!(
        s.kind_type("apps", "v1", "DeploymentList"),
        Some("io.k8s.api.apps.v1.DeploymentList")
    );
    assert_eq!(
        s.kind_type("autoscaling", "v2", "HorizontalPodAutoscaler"),
        Some("io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler")
    );
    assert_eq!(
        s.kind_type("apiextensions.k8s.io", "v1", "CustomResourceDefinition"),
        Some("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition")
    );
    assert_eq!(
        s.kind_type("rbac.authorization.k8s.io", "v1", "ClusterRole"),
        Some("io.k8s.api.rbac.v1.ClusterRole")
    );
    assert_eq!(s.kind_type("apps", "v1", "Pod"), None);
    let list = s.definition("io.k8s.api.core.v1.PodList").expect("PodList");
    assert_eq!(list.description, "PodList is a list of Pods.");
    assert_eq!(list.required().collect::<Vec<_>>(), vec!["items"]);
}

#[test]
fn unknown_fields_are_named_with_full_paths() {
    let pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "labelz": {"a": "b"}, "labels": {"x": "y"},
                     "managedFields": [{"manager": "m", "fieldsV1": {"f:spec": {}}}]},
        "spec": {
            "containers": [
                {"name": "a", "image": "nginx", "resources": {"limits": {"cpu": "1"}}},
                {"name": "b", "imagee": "nginx", "ports": [{"containerPort": 80, "hostPot": 1}]}
            ],
            "foo": 1,
            "nodeSelector": {"any": "thing"}
        }
    });
    let found = schema().unknown_fields("io.k8s.api.core.v1.Pod", &pod);
    assert_eq!(
        found,
        vec![
            "metadata.labelz",
            "spec.containers[1].imagee",
            "spec.containers[1].ports[0].hostPot",
            "spec.foo",
        ]
    );
}

#[test]
fn unknown_fields_deep_in_templates() {
    let deploy = json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
        "spec": {"selector": {"matchLabels": {"a": "b"}},
                 "template": {"metadata": {"labels": {"a": "b"}},
                              "spec": {"containers": [{"name": "c", "imagee": "x"}]}}}
    });
    let found = schema().unknown_fields("io.k8s.api.apps.v1.Deployment", &deploy);
    assert_eq!(found, vec!["spec.template.spec.containers[0].imagee"]);
    assert!(
        schema()
            .unknown_fields("io.k8s.api.apps.v1.Deployment", &json!({"spec": 3}))
            .is_empty()
    );
}
