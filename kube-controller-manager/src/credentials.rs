//! `--use-service-account-credentials`: each controller talks to the API server as its own
//! kube-system ServiceAccount (bound to its `system:controller:*` role by the default RBAC
//! policy). The manager creates the account if needed, asks for a token through TokenRequest,
//! keeps it in a file the client re-reads, and renews it well before it expires.

use k8s_openapi::api::authentication::v1::TokenRequest;
use k8s_openapi::api::core::v1::ServiceAccount;
use kube::api::{Api, PostParams};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::Duration;

const NAMESPACE: &str = "kube-system";
const LIFETIME_SECONDS: i64 = 3600;

async fn request_token(root: &kube::Client, account: &str) -> anyhow::Result<String> {
    let accounts: Api<ServiceAccount> = Api::namespaced(root.clone(), NAMESPACE);
    let sa: ServiceAccount = serde_json::from_value(json!({"metadata": {"name": account}}))?;
    super::controllers::ignore_conflict(accounts.create(&PostParams::default(), &sa).await)?;
    let request: TokenRequest = serde_json::from_value(json!({"spec": {"expirationSeconds": LIFETIME_SECONDS}}))?;
    let issued: TokenRequest = accounts
        .create_subresource("token", account, &PostParams::default(), &request)
        .await?;
    Ok(issued.status.map(|s| s.token).unwrap_or_default())
}

/// A client for `account`, whose token `dir/<account>.token` is renewed in the background.
pub async fn client_for(
    root: &kube::Client,
    base: &kube::Config,
    dir: &Path,
    account: &str,
) -> anyhow::Result<kube::Client> {
    let path: PathBuf = dir.join(format!("{account}.token"));
    std::fs::write(&path, request_token(root, account).await?)?;
    let (root, name, file) = (root.clone(), account.to_string(), path.clone());
    tokio::spawn(async move {
        loop {
            // Renew at 80% of the lifetime, as client-go's token manager does.
            tokio::time::sleep(Duration::from_secs((LIFETIME_SECONDS as u64) * 4 / 5)).await;
            match request_token(&root, &name).await {
                Ok(token) => {
                    let _ = std::fs::write(&file, token);
                }
                Err(e) => tracing::warn!(account = %name, error = %e, "could not renew the controller's token"),
            }
        }
    });
    let mut config = base.clone();
    config.auth_info = kube::config::AuthInfo {
        token_file: Some(path.to_string_lossy().into_owned()),
        ..Default::default()
    };
    Ok(kube::Client::try_from(config)?)
}
