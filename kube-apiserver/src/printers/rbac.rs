//! rbac.authorization.k8s.io printers: rolebindings and clusterrolebindings.
//! Roles and clusterroles have no upstream printer (default table).

use jiff::Timestamp;
use serde_json::Value;

use super::Printer;
use super::util::{AGE, NAME, age, at, col, kind_slash_name, list_at, name_cell, str_at, wide};

pub(super) fn printer(resource: &str) -> Option<&'static Printer> {
    match resource {
        "rolebindings" => Some(&ROLE_BINDING),
        "clusterrolebindings" => Some(&CLUSTER_ROLE_BINDING),
        _ => None,
    }
}

static ROLE_BINDING: Printer = Printer {
    columns: &[
        NAME,
        col(
            "Role",
            "string",
            "RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace.",
        ),
        AGE,
        wide("Users", "string", "Users in the roleBinding"),
        wide("Groups", "string", "Groups in the roleBinding"),
        wide("ServiceAccounts", "string", "ServiceAccounts in the roleBinding"),
    ],
    row: binding_row,
};

static CLUSTER_ROLE_BINDING: Printer = Printer {
    columns: &[
        NAME,
        col(
            "Role",
            "string",
            "RoleRef can only reference a ClusterRole in the global namespace.",
        ),
        AGE,
        wide("Users", "string", "Users in the clusterRoleBinding"),
        wide("Groups", "string", "Groups in the clusterRoleBinding"),
        wide("ServiceAccounts", "string", "ServiceAccounts in the clusterRoleBinding"),
    ],
    row: binding_row,
};

fn binding_row(binding: &Value, now: Timestamp) -> Vec<Value> {
    let subjects = list_at(binding, &["subjects"]);
    let of_kind = |kind: &str| -> Value {
        let names: Vec<String> = subjects
            .iter()
            .filter(|s| str_at(s, &["kind"]) == kind)
            .map(|s| subject_name(kind, s))
            .collect();
        names.join(", ").into()
    };
    vec![
        name_cell(binding),
        kind_slash_name(at(binding, &["roleRef"])).into(),
        age(binding, now),
        of_kind("User"),
        of_kind("Group"),
        of_kind("ServiceAccount"),
    ]
}

/// Users and groups print their name; service accounts "namespace/name".
fn subject_name(kind: &str, subject: &Value) -> String {
    let name = str_at(subject, &["name"]);
    if kind == "ServiceAccount" {
        format!("{}/{name}", str_at(subject, &["namespace"]))
    } else {
        name.to_string()
    }
}
