//! storage.k8s.io printers: storageclasses, csidrivers, csinodes, volumeattachments, csistoragecapacities.

use jiff::Timestamp;
use serde_json::Value;

use super::Printer;
use super::util::{
    AGE, NAME, NONE, UNSET, age, at, col, count_at, list_at, name, name_cell, opt_bool, quantity, str_at, str_or,
    strings_at,
};

pub(super) fn printer(resource: &str) -> Option<&'static Printer> {
    Some(match resource {
        "storageclasses" => &STORAGE_CLASS,
        "csidrivers" => &CSI_DRIVER,
        "csinodes" => &CSI_NODE,
        "volumeattachments" => &VOLUME_ATTACHMENT,
        "csistoragecapacities" => &CSI_STORAGE_CAPACITY,
        _ => return None,
    })
}

static STORAGE_CLASS: Printer = Printer {
    columns: &[
        NAME,
        col(
            "Provisioner",
            "string",
            "provisioner indicates the type of the provisioner.",
        ),
        col(
            "ReclaimPolicy",
            "string",
            "reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class.",
        ),
        col(
            "VolumeBindingMode",
            "string",
            "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.",
        ),
        col(
            "AllowVolumeExpansion",
            "string",
            "allowVolumeExpansion shows whether the storage class allow volume expand.",
        ),
        AGE,
    ],
    row: storage_class_row,
};

fn storage_class_row(class: &Value, now: Timestamp) -> Vec<Value> {
    let is_default = [
        "storageclass.kubernetes.io/is-default-class",
        "storageclass.beta.kubernetes.io/is-default-class",
    ]
    .iter()
    .any(|key| str_at(class, &["metadata", "annotations", key]) == "true");
    let shown = if is_default {
        format!("{} (default)", name(class))
    } else {
        name(class).to_string()
    };
    vec![
        shown.into(),
        str_at(class, &["provisioner"]).into(),
        str_or(class, &["reclaimPolicy"], "Delete").into(),
        str_or(class, &["volumeBindingMode"], "Immediate").into(),
        opt_bool(class, &["allowVolumeExpansion"]).unwrap_or(false).into(),
        age(class, now),
    ]
}

static CSI_DRIVER: Printer = Printer {
    columns: &[
        NAME,
        col(
            "AttachRequired",
            "boolean",
            "attachRequired indicates this CSI volume driver requires an attach operation.",
        ),
        col(
            "PodInfoOnMount",
            "boolean",
            "podInfoOnMount indicates this CSI volume driver requires additional pod information during mount operations.",
        ),
        col(
            "StorageCapacity",
            "boolean",
            "storageCapacity indicates that the CSI volume driver wants pod scheduling to consider the storage capacity.",
        ),
        col(
            "TokenRequests",
            "string",
            "tokenRequests indicates the CSI driver needs pods' service account tokens it is mounting volume for.",
        ),
        col(
            "RequiresRepublish",
            "boolean",
            "requiresRepublish indicates the CSI driver wants NodePublishVolume being periodically called.",
        ),
        col(
            "Modes",
            "string",
            "volumeLifecycleModes defines what kind of volumes this CSI volume driver supports.",
        ),
        AGE,
    ],
    row: csi_driver_row,
};

fn csi_driver_row(driver: &Value, now: Timestamp) -> Vec<Value> {
    let flag = |key: &str, default: bool| Value::from(opt_bool(driver, &["spec", key]).unwrap_or(default));
    let token_requests = at(driver, &["spec", "tokenRequests"]).map_or_else(
        || UNSET.to_string(),
        |_| {
            let audiences: Vec<&str> = list_at(driver, &["spec", "tokenRequests"])
                .iter()
                .map(|t| str_at(t, &["audience"]))
                .collect();
            audiences.join(",")
        },
    );
    let modes = strings_at(driver, &["spec", "volumeLifecycleModes"]).join(",");
    vec![
        name_cell(driver),
        flag("attachRequired", true),
        flag("podInfoOnMount", false),
        flag("storageCapacity", false),
        token_requests.into(),
        flag("requiresRepublish", false),
        (if modes.is_empty() { NONE.to_string() } else { modes }).into(),
        age(driver, now),
    ]
}

static CSI_NODE: Printer = Printer {
    columns: &[
        NAME,
        col(
            "Drivers",
            "integer",
            "Drivers indicates the number of CSI drivers registered on the node",
        ),
        AGE,
    ],
    row: |obj, now| {
        vec![
            name_cell(obj),
            count_at(obj, &["spec", "drivers"]).into(),
            age(obj, now),
        ]
    },
};

static VOLUME_ATTACHMENT: Printer = Printer {
    columns: &[
        NAME,
        super::Column {
            name: "Attacher",
            kind: "string",
            format: "name",
            description: "attacher indicates the name of the volume driver that MUST handle this request.",
            priority: 0,
        },
        col(
            "PV",
            "string",
            "persistentVolumeName represents the name of the persistent volume to attach.",
        ),
        col(
            "Node",
            "string",
            "nodeName represents the node that the volume should be attached to.",
        ),
        col(
            "Attached",
            "boolean",
            "attached indicates the volume is successfully attached.",
        ),
        AGE,
    ],
    row: |obj, now| {
        vec![
            name_cell(obj),
            str_at(obj, &["spec", "attacher"]).into(),
            str_at(obj, &["spec", "source", "persistentVolumeName"]).into(),
            str_at(obj, &["spec", "nodeName"]).into(),
            opt_bool(obj, &["status", "attached"]).unwrap_or(false).into(),
            age(obj, now),
        ]
    },
};

static CSI_STORAGE_CAPACITY: Printer = Printer {
    columns: &[
        NAME,
        col(
            "StorageClassName",
            "string",
            "storageClassName represents the name of the StorageClass that the reported capacity applies to.",
        ),
        col(
            "Capacity",
            "string",
            "capacity is the value reported by the CSI driver in its GetCapacityResponse.",
        ),
    ],
    row: |obj, _| {
        vec![
            name_cell(obj),
            str_at(obj, &["storageClassName"]).into(),
            quantity(at(obj, &["capacity"]), UNSET).into(),
        ]
    },
};
