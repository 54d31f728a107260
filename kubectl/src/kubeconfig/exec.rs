//! Exec credential plugins (client.authentication.k8s.io): the plugin runs once per kubectl
//! process, as client-go runs it, and the user entry handed to kube-rs carries the token or
//! client certificate it printed instead of the `exec` stanza (kube-rs would run the plugin
//! again for each part of its configuration).

use super::client::ClientError;
use base64::Engine;
use serde_json::{Value, json};
use std::io::IsTerminal;
use std::process::{Command, Stdio};

/// Replaces `user.exec` by the credentials the plugin returns; `cluster` is passed to it
/// when the stanza sets `provideClusterInfo`.
pub fn resolve(user: &mut Value, cluster: &Value) -> Result<(), ClientError> {
    let Some(exec) = user.as_object_mut().and_then(|u| u.remove("exec")) else {
        return Ok(());
    };
    let command = exec["command"].as_str().unwrap_or_default();
    let api_version = exec["apiVersion"]
        .as_str()
        .unwrap_or("client.authentication.k8s.io/v1beta1");
    let interactive = exec["interactiveMode"] != "Never" && std::io::stdin().is_terminal();
    let mut info = json!({"kind": "ExecCredential", "apiVersion": api_version, "spec": {"interactive": interactive}});
    if exec["provideClusterInfo"] == true {
        info["spec"]["cluster"] = json!({
            "server": cluster["server"],
            "certificate-authority-data": cluster["certificate-authority-data"],
            "insecure-skip-tls-verify": cluster["insecure-skip-tls-verify"],
            "tls-server-name": cluster["tls-server-name"],
        });
    }
    let mut cmd = Command::new(command);
    for a in exec["args"].as_array().into_iter().flatten() {
        cmd.arg(a.as_str().unwrap_or_default());
    }
    for e in exec["env"].as_array().into_iter().flatten() {
        cmd.env(
            e["name"].as_str().unwrap_or_default(),
            e["value"].as_str().unwrap_or_default(),
        );
    }
    cmd.env("KUBERNETES_EXEC_INFO", info.to_string())
        .stdin(if interactive { Stdio::inherit() } else { Stdio::null() })
        .stderr(Stdio::inherit());
    let failed = |m: String| ClientError::Kube(format!("Unable to connect to the server: getting credentials: {m}"));
    let out = cmd.output().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => failed(format!("exec: executable {command} not found")),
        _ => failed(format!("exec: {e}")),
    })?;
    if !out.status.success() {
        return Err(failed(format!("exec: executable {command} failed with {}", out.status)));
    }
    let creds: Value = serde_json::from_slice(&out.stdout).map_err(|e| failed(format!("decoding stdout: {e}")))?;
    let status = &creds["status"];
    let b64 = |v: &Value| base64::engine::general_purpose::STANDARD.encode(v.as_str().unwrap_or_default());
    if let Some(u) = user.as_object_mut() {
        if let Some(token) = status["token"].as_str() {
            u.insert("token".into(), json!(token));
        } else if status["clientCertificateData"].is_string() && status["clientKeyData"].is_string() {
            u.insert(
                "client-certificate-data".into(),
                json!(b64(&status["clientCertificateData"])),
            );
            u.insert("client-key-data".into(), json!(b64(&status["clientKeyData"])));
        } else {
            return Err(failed("exec plugin didn't return a token or cert/key pair".into()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_replaces_the_exec_stanza() {
        let mut user = json!({"exec": {
            "apiVersion": "client.authentication.k8s.io/v1",
            "command": "sh",
            "args": ["-c", "echo \"{\\\"status\\\":{\\\"token\\\":\\\"$T\\\"}}\""],
            "env": [{"name": "T", "value": "abc"}],
            "interactiveMode": "Never",
        }});
        resolve(&mut user, &json!({})).expect("plugin runs");
        assert_eq!(user, json!({"token": "abc"}));
    }

    #[test]
    fn missing_plugin_is_reported() {
        let mut user = json!({"exec": {"command": "/nonexistent/plugin"}});
        let e = resolve(&mut user, &json!({})).expect_err("no plugin");
        assert!(
            e.to_string().contains("exec: executable /nonexistent/plugin not found"),
            "{e}"
        );
    }
}
