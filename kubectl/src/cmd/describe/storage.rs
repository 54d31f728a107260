//! Describers for PersistentVolumeClaim, PersistentVolume and StorageClass.

use super::{
    Ctx, PrefixWriter, annotations_multiline, arr_at, events_for, format_labels, go_slice, kind_of, labels_multiline,
    list_path, plain, rfc1123z, since, str_at, write_events,
};
use serde_json::Value;

/// upstream's GetAccessModesAsString: short names in a fixed order, comma-joined.
fn access_modes(modes: &[Value]) -> String {
    let has = |m: &str| modes.iter().any(|v| v.as_str() == Some(m));
    let mut out = Vec::new();
    for (mode, short) in [
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    ] {
        if has(mode) {
            out.push(short);
        }
    }
    out.join(",")
}

fn class_of(o: &Value) -> String {
    let beta = str_at(
        o,
        &["metadata", "annotations", "volume.beta.kubernetes.io/storage-class"],
    );
    if !beta.is_empty() {
        return beta.to_string();
    }
    str_at(o, &["spec", "storageClassName"]).to_string()
}

pub async fn pvc(ctx: &Ctx<'_>, pvc: &Value) -> String {
    let ns = str_at(pvc, &["metadata", "namespace"]);
    let name = str_at(pvc, &["metadata", "name"]);
    let pods = list_path(ctx, &format!("/api/v1/namespaces/{ns}/pods"), None, None)
        .await
        .unwrap_or_default();
    let events = events_for(ctx, pvc, Some(kind_of(pvc)), None).await;
    let mut used: Vec<&str> = Vec::new();
    for p in &pods {
        for v in arr_at(p, &["spec", "volumes"]) {
            if str_at(v, &["persistentVolumeClaim", "claimName"]) == name {
                used.push(str_at(p, &["metadata", "name"]));
            }
        }
    }
    used.sort();
    let mut w = PrefixWriter::new();
    w.write(0, &format!("Name:\t{name}\n"));
    w.write(0, &format!("Namespace:\t{ns}\n"));
    w.write(0, &format!("StorageClass:\t{}\n", class_of(pvc)));
    let deleting = str_at(pvc, &["metadata", "deletionTimestamp"]);
    if deleting.is_empty() {
        w.write(0, &format!("Status:\t{}\n", str_at(pvc, &["status", "phase"])));
    } else {
        w.write(0, &format!("Status:\tTerminating (lasts {})\n", since(deleting)));
    }
    let volume = str_at(pvc, &["spec", "volumeName"]);
    w.write(0, &format!("Volume:\t{volume}\n"));
    labels_multiline(&mut w, "", "Labels", &pvc["metadata"]["labels"]);
    annotations_multiline(&mut w, "Annotations", &pvc["metadata"]["annotations"]);
    w.write(
        0,
        &format!("Finalizers:\t{}\n", go_slice(&pvc["metadata"]["finalizers"])),
    );
    let (capacity, modes) = if volume.is_empty() {
        (String::new(), String::new())
    } else {
        (
            str_at(pvc, &["status", "capacity", "storage"]).to_string(),
            access_modes(arr_at(pvc, &["status", "accessModes"])),
        )
    };
    w.write(0, &format!("Capacity:\t{capacity}\n"));
    w.write(0, &format!("Access Modes:\t{modes}\n"));
    if let Some(m) = pvc["spec"]["volumeMode"].as_str() {
        w.write(0, &format!("VolumeMode:\t{m}\n"));
    }
    let ds = &pvc["spec"]["dataSource"];
    if ds.is_object() {
        w.write(0, "DataSource:\n");
        if let Some(g) = ds["apiGroup"].as_str() {
            w.write(1, &format!("APIGroup:\t{g}\n"));
        }
        w.write(1, &format!("Kind:\t{}\n", str_at(ds, &["kind"])));
        w.write(1, &format!("Name:\t{}\n", str_at(ds, &["name"])));
    }
    w.write(0, "Used By:\t");
    if used.is_empty() {
        w.line("<none>");
    } else {
        for (i, p) in used.iter().enumerate() {
            if i != 0 {
                w.write(0, "\t");
            }
            w.write(0, &format!("{p}\n"));
        }
    }
    let conds = arr_at(pvc, &["status", "conditions"]);
    if !conds.is_empty() {
        w.write(0, "Conditions:\n");
        w.write(1, "Type\tStatus\tLastProbeTime\tLastTransitionTime\tReason\tMessage\n");
        w.write(
            1,
            "----\t------\t-----------------\t------------------\t------\t-------\n",
        );
        for c in conds {
            w.write(
                1,
                &format!(
                    "{} \t{} \t{} \t{} \t{} \t{}\n",
                    str_at(c, &["type"]),
                    str_at(c, &["status"]),
                    rfc1123z(str_at(c, &["lastProbeTime"])),
                    rfc1123z(str_at(c, &["lastTransitionTime"])),
                    str_at(c, &["reason"]),
                    str_at(c, &["message"])
                ),
            );
        }
    }
    write_events(&mut w, events);
    w.finish()
}

pub async fn pv(ctx: &Ctx<'_>, pv: &Value) -> String {
    let events = events_for(ctx, pv, Some(kind_of(pv)), None).await;
    let spec = &pv["spec"];
    let mut w = PrefixWriter::new();
    w.write(0, &format!("Name:\t{}\n", str_at(pv, &["metadata", "name"])));
    labels_multiline(&mut w, "", "Labels", &pv["metadata"]["labels"]);
    annotations_multiline(&mut w, "Annotations", &pv["metadata"]["annotations"]);
    w.write(
        0,
        &format!("Finalizers:\t{}\n", go_slice(&pv["metadata"]["finalizers"])),
    );
    w.write(0, &format!("StorageClass:\t{}\n", class_of(pv)));
    let deleting = str_at(pv, &["metadata", "deletionTimestamp"]);
    if deleting.is_empty() {
        w.write(0, &format!("Status:\t{}\n", str_at(pv, &["status", "phase"])));
    } else {
        w.write(0, &format!("Status:\tTerminating (lasts {})\n", since(deleting)));
    }
    if spec["claimRef"].is_object() {
        w.write(
            0,
            &format!(
                "Claim:\t{}/{}\n",
                str_at(spec, &["claimRef", "namespace"]),
                str_at(spec, &["claimRef", "name"])
            ),
        );
    } else {
        w.write(0, "Claim:\t\n");
    }
    w.write(
        0,
        &format!(
            "Reclaim Policy:\t{}\n",
            str_at(spec, &["persistentVolumeReclaimPolicy"])
        ),
    );
    w.write(
        0,
        &format!("Access Modes:\t{}\n", access_modes(arr_at(spec, &["accessModes"]))),
    );
    if let Some(m) = spec["volumeMode"].as_str() {
        w.write(0, &format!("VolumeMode:\t{m}\n"));
    }
    let cap = str_at(spec, &["capacity", "storage"]);
    w.write(0, &format!("Capacity:\t{}\n", if cap.is_empty() { "0" } else { cap }));
    w.write(0, "Node Affinity:\t");
    let required = &spec["nodeAffinity"]["required"];
    if !required.is_object() {
        w.line("<none>");
    } else {
        w.line("");
        w.write(1, "Required Terms:\t");
        let terms = arr_at(required, &["nodeSelectorTerms"]);
        if terms.is_empty() {
            w.line("<none>");
        } else {
            w.line("");
            for (i, t) in terms.iter().enumerate() {
                w.write(2, &format!("Term {i}:\t"));
                let reqs = arr_at(t, &["matchExpressions"]);
                if reqs.is_empty() {
                    w.line("<none>");
                }
                for (j, r) in reqs.iter().enumerate() {
                    if j != 0 {
                        w.write(2, "\t");
                    }
                    let mut e = format!("{} {}", str_at(r, &["key"]), str_at(r, &["operator"]).to_lowercase());
                    let values: Vec<String> = arr_at(r, &["values"]).iter().map(plain).collect();
                    if !values.is_empty() {
                        e = format!("{e} [{}]", values.join(", "));
                    }
                    w.write(0, &format!("{e}\n"));
                }
            }
        }
    }
    w.write(0, &format!("Message:\t{}\n", str_at(pv, &["status", "message"])));
    w.write(0, "Source:\n");
    if spec["hostPath"].is_object() {
        let t = spec["hostPath"]["type"].as_str().unwrap_or("<none>");
        w.write(
            2,
            &format!(
                "Type:\tHostPath (bare host directory volume)\n    Path:\t{}\n    HostPathType:\t{t}\n",
                str_at(spec, &["hostPath", "path"])
            ),
        );
    } else if spec["local"].is_object() {
        w.write(
            2,
            &format!(
                "Type:\tLocalVolume (a persistent volume backed by local storage on a node)\n    Path:\t{}\n",
                str_at(spec, &["local", "path"])
            ),
        );
    } else if spec["nfs"].is_object() {
        w.write(
            2,
            &format!(
                "Type:\tNFS (an NFS mount that lasts the lifetime of a pod)\n    Server:\t{}\n    Path:\t{}\n    ReadOnly:\t{}\n",
                str_at(spec, &["nfs", "server"]),
                str_at(spec, &["nfs", "path"]),
                spec["nfs"]["readOnly"].as_bool().unwrap_or(false)
            ),
        );
    } else {
        w.write(1, "<unknown>\n");
    }
    write_events(&mut w, events);
    w.finish()
}

pub async fn storage_class(ctx: &Ctx<'_>, sc: &Value) -> String {
    let events = events_for(ctx, sc, Some(kind_of(sc)), None).await;
    let ann = &sc["metadata"]["annotations"];
    let default = [
        "storageclass.kubernetes.io/is-default-class",
        "storageclass.beta.kubernetes.io/is-default-class",
    ]
    .iter()
    .any(|k| ann[*k].as_str() == Some("true"));
    let mut w = PrefixWriter::new();
    w.write(0, &format!("Name:\t{}\n", str_at(sc, &["metadata", "name"])));
    w.write(0, &format!("IsDefaultClass:\t{}\n", if default { "Yes" } else { "No" }));
    w.write(0, &format!("Annotations:\t{}\n", format_labels(ann)));
    w.write(0, &format!("Provisioner:\t{}\n", str_at(sc, &["provisioner"])));
    w.write(0, &format!("Parameters:\t{}\n", format_labels(&sc["parameters"])));
    let expand = match sc["allowVolumeExpansion"].as_bool() {
        Some(b) => super::print_bool(b),
        None => "<unset>",
    };
    w.write(0, &format!("AllowVolumeExpansion:\t{expand}\n"));
    let opts = arr_at(sc, &["mountOptions"]);
    if opts.is_empty() {
        w.write(0, "MountOptions:\t<none>\n");
    } else {
        w.write(0, "MountOptions:\n");
        for o in opts {
            w.write(1, &format!("{}\n", plain(o)));
        }
    }
    if let Some(p) = sc["reclaimPolicy"].as_str() {
        w.write(0, &format!("ReclaimPolicy:\t{p}\n"));
    }
    if let Some(m) = sc["volumeBindingMode"].as_str() {
        w.write(0, &format!("VolumeBindingMode:\t{m}\n"));
    }
    write_events(&mut w, events);
    w.finish()
}
