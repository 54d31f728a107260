//! Tests of the served OpenAPI documents: index hashes, operations kubectl depends on, and schemas.

use serde_json::Value;
use sha2::{Digest, Sha512};

use super::*;

fn v3(path: &str) -> Value {
    let doc = v3_document(path).unwrap_or_else(|| panic!("no v3 document {path}"));
    serde_json::from_slice(&doc.json).expect("v3 document is JSON")
}

#[test]
fn index_hashes_match_documents() {
    let paths = v3_index()["paths"].as_object().expect("paths");
    for path in [
        "api",
        "apis",
        "api/v1",
        "apis/apps",
        "apis/apps/v1",
        "apis/autoscaling/v2",
        "apis/batch/v1",
    ] {
        assert!(paths.contains_key(path), "index lacks {path}");
    }
    for (path, entry) in paths {
        let doc = v3_document(path).expect("indexed document exists");
        let hash: String = Sha512::digest(&doc.json).iter().map(|b| format!("{b:02X}")).collect();
        assert_eq!(doc.hash, hash);
        let url = entry["serverRelativeURL"].as_str().expect("url");
        assert_eq!(url, format!("/openapi/v3/{path}?hash={hash}"));
    }
    assert!(v3_document("apis/apps/v2").is_none());
}

#[test]
fn patch_operations_support_field_validation() {
    let doc = v3("apis/apps/v1");
    let item = &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"];
    let patch = &item["patch"];
    assert_eq!(patch["operationId"], "patchAppsV1NamespacedDeployment");
    assert_eq!(patch["x-kubernetes-action"], "patch");
    assert_eq!(patch["x-kubernetes-group-version-kind"]["kind"], "Deployment");
    let names: Vec<&str> = patch["parameters"]
        .as_array()
        .expect("params")
        .iter()
        .filter(|p| p["in"] == "query")
        .filter_map(|p| p["name"].as_str())
        .collect();
    for name in ["dryRun", "fieldManager", "fieldValidation", "force"] {
        assert!(names.contains(&name), "PATCH lacks {name}");
    }
    let media = patch["requestBody"]["content"].as_object().expect("patch content");
    assert_eq!(media.len(), 4);
    assert!(media.contains_key("application/strategic-merge-patch+json"));
    assert!(media.contains_key("application/apply-patch+yaml"));
    assert_eq!(item["get"]["operationId"], "readAppsV1NamespacedDeployment");
    let scale = &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]["patch"];
    assert_eq!(scale["operationId"], "patchAppsV1NamespacedDeploymentScale");
    assert_eq!(scale["x-kubernetes-group-version-kind"]["group"], "autoscaling");
}

#[test]
fn core_operations_are_named_like_upstream() {
    let doc = v3("api/v1");
    let paths = &doc["paths"];
    assert_eq!(
        paths["/api/v1/namespaces/{namespace}/pods/{name}"]["get"]["operationId"],
        "readCoreV1NamespacedPod"
    );
    assert_eq!(
        paths["/api/v1/pods"]["get"]["operationId"],
        "listCoreV1PodForAllNamespaces"
    );
    assert_eq!(
        paths["/api/v1/namespaces"]["delete"]["operationId"],
        "deleteCoreV1CollectionNamespace"
    );
    assert_eq!(
        paths["/api/v1/namespaces/{name}/status"]["put"]["operationId"],
        "replaceCoreV1NamespaceStatus"
    );
    let exec = &paths["/api/v1/namespaces/{namespace}/pods/{name}/exec"];
    assert_eq!(exec["post"]["operationId"], "connectCoreV1PostNamespacedPodExec");
    assert_eq!(exec["post"]["x-kubernetes-action"], "connect");
    let ns_patch = &paths["/api/v1/namespaces/{name}"]["patch"];
    assert!(
        ns_patch["parameters"]
            .as_array()
            .is_some_and(|p| p.iter().any(|p| p["name"] == "fieldValidation"))
    );
    let rbac = v3("apis/rbac.authorization.k8s.io/v1");
    let roles = &rbac["paths"]["/apis/rbac.authorization.k8s.io/v1/clusterroles/{name}"]["get"];
    assert_eq!(roles["operationId"], "readRbacAuthorizationV1ClusterRole");
    assert_eq!(roles["tags"][0], "rbacAuthorization_v1");
}

#[test]
fn schemas_carry_gvk_and_patch_extensions() {
    let doc = v3("apis/apps/v1");
    let schemas = &doc["components"]["schemas"];
    let deploy = &schemas["io.k8s.api.apps.v1.Deployment"];
    let gvk = &deploy["x-kubernetes-group-version-kind"][0];
    assert_eq!(
        (gvk["group"].as_str(), gvk["version"].as_str(), gvk["kind"].as_str()),
        (Some("apps"), Some("v1"), Some("Deployment"))
    );
    assert_eq!(
        deploy["properties"]["spec"]["allOf"][0]["$ref"],
        "#/components/schemas/io.k8s.api.apps.v1.DeploymentSpec"
    );
    let strategy = &schemas["io.k8s.api.apps.v1.DeploymentSpec"]["properties"]["strategy"];
    assert_eq!(strategy["x-kubernetes-patch-strategy"], "retainKeys");
    let containers = &schemas["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"];
    assert_eq!(containers["type"], "array");
    assert_eq!(
        containers["items"]["$ref"],
        "#/components/schemas/io.k8s.api.core.v1.Container"
    );
    assert_eq!(containers["x-kubernetes-patch-merge-key"], "name");
    assert_eq!(containers["x-kubernetes-list-map-keys"], serde_json::json!(["name"]));
    let ports = &schemas["io.k8s.api.core.v1.Container"]["properties"]["ports"];
    assert_eq!(
        ports["x-kubernetes-list-map-keys"],
        serde_json::json!(["containerPort", "protocol"])
    );
    let quantity = &schemas["io.k8s.apimachinery.pkg.api.resource.Quantity"];
    assert_eq!(quantity["oneOf"][0]["type"], "string");
    let int_or_string = &schemas["io.k8s.apimachinery.pkg.util.intstr.IntOrString"];
    assert_eq!(int_or_string["format"], "int-or-string");
    assert_eq!(
        schemas["io.k8s.apimachinery.pkg.apis.meta.v1.Time"]["format"],
        "date-time"
    );
    let delete_gvks = schemas["io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"]["x-kubernetes-group-version-kind"]
        .as_array()
        .map_or(0, Vec::len);
    assert!(delete_gvks > 10);
    assert!(
        schemas.get("io.k8s.api.core.v1.Service").is_none(),
        "apps/v1 holds only what it references"
    );
}

#[test]
fn v2_document_is_swagger_with_definitions() {
    let doc: Value = serde_json::from_slice(&v2_document().json).expect("v2 JSON");
    assert_eq!(doc["swagger"], "2.0");
    let defs = &doc["definitions"];
    let pod_spec = &defs["io.k8s.api.core.v1.PodSpec"]["properties"];
    assert_eq!(
        pod_spec["affinity"]["$ref"],
        "#/definitions/io.k8s.api.core.v1.Affinity"
    );
    assert_eq!(
        defs["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]["type"],
        "string"
    );
    let patch = &doc["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]["patch"];
    assert_eq!(patch["consumes"].as_array().map(Vec::len), Some(4));
    assert!(
        patch["parameters"]
            .as_array()
            .is_some_and(|p| p.iter().any(|p| p["name"] == "fieldValidation"))
    );
    assert_eq!(patch["parameters"][0]["in"], "body");
    assert_eq!(v2_document().hash.len(), 128);
}
