//! The request parameters upstream documents on its operations, rendered for v2 or v3.

use serde_json::{Value, json};

use super::Flavor;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Param {
    Name,
    Namespace,
    Path,
    Pretty,
    DryRun,
    FieldManager,
    FieldManagerPatch,
    FieldValidation,
    Force,
    GracePeriodSeconds,
    IgnoreStoreReadError,
    OrphanDependents,
    PropagationPolicy,
    AllowWatchBookmarks,
    Continue,
    FieldSelector,
    LabelSelector,
    Limit,
    ResourceVersion,
    ResourceVersionMatch,
    SendInitialEvents,
    TimeoutSeconds,
    Watch,
}

/// The query parameters of list and watch operations.
pub(super) const LIST: &[Param] = &[
    Param::AllowWatchBookmarks,
    Param::Continue,
    Param::FieldSelector,
    Param::LabelSelector,
    Param::Limit,
    Param::ResourceVersion,
    Param::ResourceVersionMatch,
    Param::SendInitialEvents,
    Param::TimeoutSeconds,
    Param::Watch,
];
pub(super) const CREATE: &[Param] = &[Param::DryRun, Param::FieldManager, Param::FieldValidation];
pub(super) const PATCH: &[Param] = &[
    Param::DryRun,
    Param::FieldManagerPatch,
    Param::FieldValidation,
    Param::Force,
];
pub(super) const DELETE: &[Param] = &[
    Param::DryRun,
    Param::GracePeriodSeconds,
    Param::IgnoreStoreReadError,
    Param::OrphanDependents,
    Param::PropagationPolicy,
];

const FIELD_MANAGER: &str = "fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint.";

impl Param {
    /// (name, in, type, description).
    fn spec(self, kind: &str) -> (&'static str, &'static str, &'static str, String) {
        let text = |s: &str| s.to_string();
        match self {
            Param::Name => ("name", "path", "string", format!("name of the {kind}")),
            Param::Namespace => (
                "namespace",
                "path",
                "string",
                text("object name and auth scope, such as for teams and projects"),
            ),
            Param::Path => ("path", "path", "string", text("path to the resource")),
            Param::Pretty => (
                "pretty",
                "query",
                "string",
                text(
                    "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent indicates a browser or command-line HTTP tool (curl and wget).",
                ),
            ),
            Param::DryRun => (
                "dryRun",
                "query",
                "string",
                text(
                    "When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed",
                ),
            ),
            Param::FieldManager => ("fieldManager", "query", "string", text(FIELD_MANAGER)),
            Param::FieldManagerPatch => (
                "fieldManager",
                "query",
                "string",
                format!(
                    "{FIELD_MANAGER} This field is required for apply requests (application/apply-patch) but optional for non-apply patch types (JsonPatch, MergePatch, StrategicMergePatch)."
                ),
            ),
            Param::FieldValidation => (
                "fieldValidation",
                "query",
                "string",
                text(
                    "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown fields that are silently dropped from the object, and will ignore all but the last duplicate field that the decoder encounters. This is the default behavior prior to v1.23. - Warn: This will send a warning via the standard warning response header for each unknown field that is dropped from the object, and for each duplicate field that is encountered. The request will still succeed if there are no other errors, and will only persist the last of any duplicate fields. This is the default in v1.23+ - Strict: This will fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any duplicate fields are present. The error returned from the server will contain all unknown and duplicate fields encountered.",
                ),
            ),
            Param::Force => (
                "force",
                "query",
                "boolean",
                text(
                    "Force is going to \"force\" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.",
                ),
            ),
            Param::GracePeriodSeconds => (
                "gracePeriodSeconds",
                "query",
                "integer",
                text(
                    "The duration in seconds before the object should be deleted. Value must be non-negative integer. The value zero indicates delete immediately. If this value is nil, the default grace period for the specified type will be used. Defaults to a per object value if not specified. zero means delete immediately.",
                ),
            ),
            Param::IgnoreStoreReadError => (
                "ignoreStoreReadErrorWithClusterBreakingPotential",
                "query",
                "boolean",
                text(
                    "if set to true, it will trigger an unsafe deletion of the resource in case the normal deletion flow fails with a corrupt object error. A resource is considered corrupt if it can not be retrieved from the underlying storage successfully because of a) its data can not be transformed e.g. decryption failure, or b) it fails to decode into an object. NOTE: unsafe deletion ignores finalizer constraints, skips precondition checks, and removes the object from the storage. WARNING: This may potentially break the cluster if the workload associated with the resource being unsafe-deleted relies on normal deletion flow. Use only if you REALLY know what you are doing. The default value is false, and the user must opt in to enable it",
                ),
            ),
            Param::OrphanDependents => (
                "orphanDependents",
                "query",
                "boolean",
                text(
                    "Deprecated: please use the PropagationPolicy, this field will be deprecated in 1.7. Should the dependent objects be orphaned. If true/false, the \"orphan\" finalizer will be added to/removed from the object's finalizers list. Either this field or PropagationPolicy may be set, but not both.",
                ),
            ),
            Param::PropagationPolicy => (
                "propagationPolicy",
                "query",
                "string",
                text(
                    "Whether and how garbage collection will be performed. Either this field or OrphanDependents may be set, but not both. The default policy is decided by the existing finalizer set in the metadata.finalizers and the resource-specific default policy. Acceptable values are: 'Orphan' - orphan the dependents; 'Background' - allow the garbage collector to delete the dependents in the background; 'Foreground' - a cascading policy that deletes all dependents in the foreground.",
                ),
            ),
            Param::AllowWatchBookmarks => (
                "allowWatchBookmarks",
                "query",
                "boolean",
                text(
                    "allowWatchBookmarks requests watch events with type \"BOOKMARK\". Servers that do not implement bookmarks may ignore this flag and bookmarks are sent at the server's discretion. Clients should not assume bookmarks are returned at any specific interval, nor may they assume the server will send any BOOKMARK event during a session. If this is not a watch, this field is ignored.",
                ),
            ),
            Param::Continue => (
                "continue",
                "query",
                "string",
                text(
                    "The continue option should be set when retrieving more results from the server. Since this value is server defined, clients may only use the continue value from a previous query result with identical query parameters (except for the value of continue) and the server may reject a continue value it does not recognize.",
                ),
            ),
            Param::FieldSelector => (
                "fieldSelector",
                "query",
                "string",
                text("A selector to restrict the list of returned objects by their fields. Defaults to everything."),
            ),
            Param::LabelSelector => (
                "labelSelector",
                "query",
                "string",
                text("A selector to restrict the list of returned objects by their labels. Defaults to everything."),
            ),
            Param::Limit => (
                "limit",
                "query",
                "integer",
                text(
                    "limit is a maximum number of responses to return for a list call. If more items exist, the server will set the `continue` field on the list metadata to a value that can be used with the same initial query to retrieve the next set of results.",
                ),
            ),
            Param::ResourceVersion => (
                "resourceVersion",
                "query",
                "string",
                text(
                    "resourceVersion sets a constraint on what resource versions a request may be served from. See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset",
                ),
            ),
            Param::ResourceVersionMatch => (
                "resourceVersionMatch",
                "query",
                "string",
                text(
                    "resourceVersionMatch determines how resourceVersion is applied to list calls. It is highly recommended that resourceVersionMatch be set for list calls where resourceVersion is set See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset",
                ),
            ),
            Param::SendInitialEvents => (
                "sendInitialEvents",
                "query",
                "boolean",
                text(
                    "`sendInitialEvents=true` may be set together with `watch=true`. In that case, the watch stream will begin with synthetic events to produce the current state of objects in the collection. Once all such events have been sent, a synthetic \"Bookmark\" event will be sent.",
                ),
            ),
            Param::TimeoutSeconds => (
                "timeoutSeconds",
                "query",
                "integer",
                text(
                    "Timeout for the list/watch call. This limits the duration of the call, regardless of any activity or inactivity.",
                ),
            ),
            Param::Watch => (
                "watch",
                "query",
                "boolean",
                text(
                    "Watch for changes to the described resources and return them as a stream of add, update, and remove notifications. Specify resourceVersion.",
                ),
            ),
        }
    }

    /// The parameter object: v2 puts `type` on the parameter, v3 wraps it in `schema`.
    pub(super) fn render(self, kind: &str, flavor: Flavor) -> Value {
        let (name, location, type_, description) = self.spec(kind);
        let mut out = json!({ "description": description, "in": location, "name": name });
        let schema = json!({ "type": type_, "uniqueItems": true });
        match flavor {
            Flavor::V2 => {
                if let (Some(o), Value::Object(s)) = (out.as_object_mut(), schema) {
                    o.extend(s);
                }
            }
            Flavor::V3 => out["schema"] = schema,
        }
        if location == "path" {
            out["required"] = true.into();
        }
        out
    }
}
