//! A hand-built `SchemaLookup` with the few types the tests need; patch and apply metadata match
//! upstream v1.33.

use std::collections::HashMap;

use crate::schema::model::{FieldMeta, SchemaLookup, TypeRef};

pub struct TestSchema {
    fields: HashMap<(String, String), FieldMeta>,
}

fn obj(name: &str) -> TypeRef {
    TypeRef::Object(name.to_string())
}

fn arr(elem: TypeRef) -> TypeRef {
    TypeRef::Array(Box::new(elem))
}

fn str_map() -> TypeRef {
    TypeRef::Map(Box::new(TypeRef::String))
}

fn int_or_string() -> TypeRef {
    TypeRef::Special("io.k8s.apimachinery.pkg.util.intstr.IntOrString".into())
}

/// A field with optional patch metadata: (strategy, merge key, list type, list-map keys, map type).
struct F<'a>(
    &'a str,
    TypeRef,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    &'a [&'a str],
    Option<&'a str>,
);

fn plain(name: &str, t: TypeRef) -> F<'_> {
    F(name, t, None, None, None, &[], None)
}

fn merge_map_list<'a>(name: &'a str, elem: &str, strategy: &'a str, keys: &'a [&'a str]) -> F<'a> {
    F(
        name,
        arr(obj(elem)),
        Some(strategy),
        Some(keys[0]),
        Some("map"),
        keys,
        None,
    )
}

impl TestSchema {
    pub fn new() -> Self {
        let mut s = TestSchema { fields: HashMap::new() };
        let top = |spec: &str, status: &str| {
            vec![
                plain("apiVersion", TypeRef::String),
                plain("kind", TypeRef::String),
                plain("metadata", obj("ObjectMeta")),
                plain("spec", obj(spec)),
                plain("status", obj(status)),
            ]
        };
        s.add("Deployment", top("DeploymentSpec", "DeploymentStatus"));
        s.add("Pod", top("PodSpec", "PodStatus"));
        s.add("DeploymentStatus", vec![plain("replicas", TypeRef::Integer)]);
        s.add("PodStatus", vec![plain("phase", TypeRef::String)]);
        s.add(
            "ObjectMeta",
            vec![
                plain("name", TypeRef::String),
                plain("namespace", TypeRef::String),
                plain("uid", TypeRef::String),
                plain("resourceVersion", TypeRef::String),
                plain("generation", TypeRef::Integer),
                plain("creationTimestamp", TypeRef::Special("Time".into())),
                plain("labels", str_map()),
                plain("annotations", str_map()),
                F(
                    "finalizers",
                    arr(TypeRef::String),
                    Some("merge"),
                    None,
                    Some("set"),
                    &[],
                    None,
                ),
                merge_map_list("ownerReferences", "OwnerReference", "merge", &["uid"]),
                F(
                    "managedFields",
                    arr(obj("ManagedFieldsEntry")),
                    None,
                    None,
                    Some("atomic"),
                    &[],
                    None,
                ),
            ],
        );
        s.add(
            "OwnerReference",
            vec![plain("uid", TypeRef::String), plain("name", TypeRef::String)],
        );
        s.add(
            "DeploymentSpec",
            vec![
                plain("replicas", TypeRef::Integer),
                plain("paused", TypeRef::Boolean),
                F("selector", obj("LabelSelector"), None, None, None, &[], Some("atomic")),
                plain("template", obj("PodTemplateSpec")),
                F(
                    "strategy",
                    obj("DeploymentStrategy"),
                    Some("retainKeys"),
                    None,
                    None,
                    &[],
                    None,
                ),
            ],
        );
        s.add("LabelSelector", vec![plain("matchLabels", str_map())]);
        s.add(
            "DeploymentStrategy",
            vec![
                plain("type", TypeRef::String),
                plain("rollingUpdate", obj("RollingUpdateDeployment")),
            ],
        );
        s.add(
            "RollingUpdateDeployment",
            vec![
                plain("maxSurge", int_or_string()),
                plain("maxUnavailable", int_or_string()),
            ],
        );
        s.add(
            "PodTemplateSpec",
            vec![plain("metadata", obj("ObjectMeta")), plain("spec", obj("PodSpec"))],
        );
        s.add(
            "PodSpec",
            vec![
                merge_map_list("containers", "Container", "merge", &["name"]),
                merge_map_list("initContainers", "Container", "merge", &["name"]),
                merge_map_list("volumes", "Volume", "merge,retainKeys", &["name"]),
                F(
                    "tolerations",
                    arr(obj("Toleration")),
                    None,
                    None,
                    Some("atomic"),
                    &[],
                    None,
                ),
                F("nodeSelector", str_map(), None, None, None, &[], Some("atomic")),
                plain("serviceAccountName", TypeRef::String),
            ],
        );
        s.add(
            "Toleration",
            vec![plain("key", TypeRef::String), plain("operator", TypeRef::String)],
        );
        s.add(
            "Container",
            vec![
                plain("name", TypeRef::String),
                plain("image", TypeRef::String),
                F("args", arr(TypeRef::String), None, None, Some("atomic"), &[], None),
                F("command", arr(TypeRef::String), None, None, Some("atomic"), &[], None),
                merge_map_list("env", "EnvVar", "merge", &["name"]),
                merge_map_list("ports", "ContainerPort", "merge", &["containerPort", "protocol"]),
                merge_map_list("volumeMounts", "VolumeMount", "merge", &["mountPath"]),
            ],
        );
        s.add(
            "EnvVar",
            vec![plain("name", TypeRef::String), plain("value", TypeRef::String)],
        );
        s.add(
            "ContainerPort",
            vec![
                plain("containerPort", TypeRef::Integer),
                plain("protocol", TypeRef::String),
                plain("name", TypeRef::String),
            ],
        );
        s.add(
            "VolumeMount",
            vec![plain("mountPath", TypeRef::String), plain("name", TypeRef::String)],
        );
        s.add(
            "Volume",
            vec![
                plain("name", TypeRef::String),
                plain("hostPath", obj("HostPathVolumeSource")),
                plain("emptyDir", obj("EmptyDirVolumeSource")),
            ],
        );
        s.add("HostPathVolumeSource", vec![plain("path", TypeRef::String)]);
        s.add("EmptyDirVolumeSource", vec![plain("medium", TypeRef::String)]);
        s
    }

    fn add(&mut self, type_name: &str, fields: Vec<F<'_>>) {
        for F(name, type_ref, strategy, key, list_type, keys, map_type) in fields {
            let meta = FieldMeta {
                name: name.to_string(),
                type_ref,
                description: String::new(),
                // Fields Go serializes without omitempty; only `containers` matters here.
                required: name == "containers",
                patch_strategy: strategy.map(str::to_string),
                patch_merge_key: key.map(str::to_string),
                list_type: list_type.map(str::to_string),
                list_map_keys: keys.iter().map(|k| k.to_string()).collect(),
                map_type: map_type.map(str::to_string),
            };
            self.fields.insert((type_name.to_string(), name.to_string()), meta);
        }
    }
}

impl SchemaLookup for TestSchema {
    fn field(&self, type_name: &str, field: &str) -> Option<&FieldMeta> {
        self.fields.get(&(type_name.to_string(), field.to_string()))
    }

    fn kind_type(&self, _group: &str, _version: &str, kind: &str) -> Option<&str> {
        match kind {
            "Deployment" => Some("Deployment"),
            "Pod" => Some("Pod"),
            _ => None,
        }
    }
}
