//! The shape of type metadata: what a field holds and how patches and server-side apply
//! treat it. The schema module fills it from the Kubernetes v1.33 type definitions; the
//! patch engines and the OpenAPI documents read it through `SchemaLookup`.

/// What a field or element holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeRef {
    /// A named object type, e.g. "io.k8s.api.core.v1.PodSpec".
    Object(String),
    Array(Box<TypeRef>),
    /// A map with string keys (`additionalProperties`).
    Map(Box<TypeRef>),
    String,
    Integer,
    Number,
    Boolean,
    /// Types with a JSON form of their own: Quantity, IntOrString, Time, MicroTime,
    /// RawExtension, FieldsV1, JSON; the name is the definition's full name.
    Special(String),
}

/// One field of an object type, with its patch and apply metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldMeta {
    /// The JSON name ("volumeID").
    pub name: String,
    pub type_ref: TypeRef,
    pub description: String,
    pub required: bool,
    /// `x-kubernetes-patch-strategy`: "merge", "retainKeys", "merge,retainKeys" or "replace".
    pub patch_strategy: Option<String>,
    /// `x-kubernetes-patch-merge-key`.
    pub patch_merge_key: Option<String>,
    /// `x-kubernetes-list-type`: "atomic", "set" or "map".
    pub list_type: Option<String>,
    /// `x-kubernetes-list-map-keys`.
    pub list_map_keys: Vec<String>,
    /// `x-kubernetes-map-type`: "granular" or "atomic".
    pub map_type: Option<String>,
}

/// Lookups over the type definitions.
pub trait SchemaLookup: Send + Sync {
    /// A field of an object type.
    fn field(&self, type_name: &str, field: &str) -> Option<&FieldMeta>;
    /// The definition name for a kind, e.g. ("apps", "v1", "Deployment") →
    /// "io.k8s.api.apps.v1.Deployment". Group "" is core.
    fn kind_type(&self, group: &str, version: &str, kind: &str) -> Option<&str>;
}
