//! Describers for ConfigMap, Secret (sizes only, never values, except a service account
//! token as upstream) and ServiceAccount.

use super::{
    Ctx, PrefixWriter, annotations_multiline, arr_at, events_for, kind_of, labels_multiline, str_at, write_events,
};
use base64::Engine;
use serde_json::Value;

fn header(w: &mut PrefixWriter, o: &Value) {
    w.write(0, &format!("Name:\t{}\n", str_at(o, &["metadata", "name"])));
    w.write(0, &format!("Namespace:\t{}\n", str_at(o, &["metadata", "namespace"])));
    labels_multiline(w, "", "Labels", &o["metadata"]["labels"]);
    annotations_multiline(w, "Annotations", &o["metadata"]["annotations"]);
}

fn sorted_keys(v: &Value) -> Vec<(&String, &Value)> {
    let mut keys: Vec<(&String, &Value)> = v.as_object().into_iter().flatten().collect();
    keys.sort_by(|a, b| a.0.cmp(b.0));
    keys
}

pub async fn config_map(ctx: &Ctx<'_>, cm: &Value) -> String {
    let mut w = PrefixWriter::new();
    header(&mut w, cm);
    w.write(0, "\nData\n====\n");
    for (k, v) in sorted_keys(&cm["data"]) {
        w.write(0, &format!("{k}:\n----\n"));
        w.write(0, &format!("{}\n", v.as_str().unwrap_or_default()));
        w.write(0, "\n");
    }
    w.write(0, "\nBinaryData\n====\n");
    for (k, v) in sorted_keys(&cm["binaryData"]) {
        let len = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap_or_default())
            .map(|b| b.len())
            .unwrap_or(0);
        w.write(0, &format!("{k}: {len} bytes\n"));
    }
    w.write(0, "\n");
    let events = events_for(ctx, cm, Some(kind_of(cm)), None).await;
    super::write_events(&mut w, events);
    w.finish()
}

pub fn secret(s: &Value) -> String {
    let mut w = PrefixWriter::new();
    header(&mut w, s);
    let ty = str_at(s, &["type"]);
    w.write(0, &format!("\nType:\t{ty}\n"));
    w.write(0, "\nData\n====\n");
    for (k, v) in sorted_keys(&s["data"]) {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap_or_default())
            .unwrap_or_default();
        if k == "token" && ty == "kubernetes.io/service-account-token" {
            w.write(0, &format!("{k}:\t{}\n", String::from_utf8_lossy(&bytes)));
        } else {
            w.write(0, &format!("{k}:\t{} bytes\n", bytes.len()));
        }
    }
    w.finish()
}

pub async fn service_account(ctx: &Ctx<'_>, sa: &Value) -> String {
    let ns = str_at(sa, &["metadata", "namespace"]);
    let name = str_at(sa, &["metadata", "name"]);
    let uid = str_at(sa, &["metadata", "uid"]);
    // Errors are tolerated: the account is described without the secrets' state.
    let secrets = super::list_path(ctx, &format!("/api/v1/namespaces/{ns}/secrets"), None, None).await;
    let events = events_for(ctx, sa, Some(kind_of(sa)), None).await;
    let pull: Vec<&str> = arr_at(sa, &["imagePullSecrets"])
        .iter()
        .map(|s| str_at(s, &["name"]))
        .collect();
    let mountable: Vec<&str> = arr_at(sa, &["secrets"]).iter().map(|s| str_at(s, &["name"])).collect();
    let mut tokens: Vec<&str> = Vec::new();
    let mut missing: Vec<&str> = Vec::new();
    if let Ok(secrets) = &secrets {
        for s in secrets {
            let ann = &s["metadata"]["annotations"];
            if str_at(s, &["type"]) == "kubernetes.io/service-account-token"
                && ann["kubernetes.io/service-account.name"].as_str() == Some(name)
                && ann["kubernetes.io/service-account.uid"].as_str() == Some(uid)
            {
                tokens.push(str_at(s, &["metadata", "name"]));
            }
        }
        let existing: Vec<&str> = secrets.iter().map(|s| str_at(s, &["metadata", "name"])).collect();
        missing = pull
            .iter()
            .chain(&mountable)
            .copied()
            .filter(|n| !existing.contains(n))
            .collect();
    }
    let mut w = PrefixWriter::new();
    header(&mut w, sa);
    for (header, names) in [
        ("Image pull secrets:", pull.clone()),
        ("Mountable secrets: ", mountable.clone()),
        ("Tokens:            ", tokens),
    ] {
        if names.is_empty() {
            w.write(0, &format!("{header}\t<none>\n"));
        } else {
            let mut prefix = header.to_string();
            for n in names {
                let note = if missing.contains(&n) { " (not found)" } else { "" };
                w.write(0, &format!("{prefix}\t{n}{note}\n"));
                prefix = " ".repeat(header.len());
            }
        }
    }
    write_events(&mut w, events);
    w.finish()
}
