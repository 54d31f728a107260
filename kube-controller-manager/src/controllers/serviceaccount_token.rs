//! serviceaccount-token: Secrets of type `kubernetes.io/service-account-token` get a
//! long-lived token for the ServiceAccount their `kubernetes.io/service-account.name`
//! annotation names (signed with `--service-account-private-key-file`, issuer
//! `kubernetes/serviceaccount`), with `ca.crt` (`--root-ca-file`) and `namespace`; a token
//! Secret whose account is gone (or replaced: another uid) is deleted, as upstream. It acts
//! with the manager's own credentials, since it is what makes service-account tokens.

use super::{Ctx, ignore_not_found};
use crate::informer::{Change, Informer, key_of, split_key};
use crate::queue::{Queue, run_workers};
use api_types::sa_key::SigningKey;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use kube::api::{Api, DeleteParams, PostParams};
use serde_json::json;
use std::sync::Arc;

const TOKEN_TYPE: &str = "kubernetes.io/service-account-token";
const NAME: &str = "kubernetes.io/service-account.name";
const UID: &str = "kubernetes.io/service-account.uid";

fn annotation<'a>(s: &'a Secret, key: &str) -> Option<&'a str> {
    s.metadata.annotations.as_ref()?.get(key).map(String::as_str)
}

fn is_token(s: &Secret) -> bool {
    s.type_.as_deref() == Some(TOKEN_TYPE)
}

pub async fn run(ctx: Ctx) -> anyhow::Result<()> {
    let Some(path) = ctx.opts.service_account_private_key_file.clone() else {
        tracing::info!("serviceaccount-token: no --service-account-private-key-file, not started");
        return Ok(());
    };
    let key = Arc::new(SigningKey::from_pem_file(&path)?);
    let ca = match &ctx.opts.root_ca_file {
        Some(p) => Some(std::fs::read(p).map_err(|e| anyhow::anyhow!("reading {}: {e}", p.display()))?),
        None => None,
    };
    let secrets = ctx.informers.get::<Secret>();
    let accounts = ctx.informers.get::<ServiceAccount>();
    let queue = Queue::<String>::new();
    let q = queue.clone();
    secrets.on_change(move |c| {
        if let Change::Added(s) | Change::Updated { new: s, .. } = c
            && is_token(s)
        {
            q.add(key_of(s.as_ref()));
        }
    });
    let (q, all) = (queue.clone(), secrets.clone());
    accounts.on_change(move |c| {
        let sa = match c {
            Change::Added(sa) | Change::Deleted(sa) => sa,
            Change::Updated { .. } => return,
        };
        let ns = sa.metadata.namespace.as_deref().unwrap_or_default();
        for s in all.list_namespace(ns) {
            if is_token(&s) && annotation(&s, NAME) == sa.metadata.name.as_deref() {
                q.add(key_of(s.as_ref()));
            }
        }
    });
    secrets.synced().await;
    accounts.synced().await;
    let ca: Arc<Option<Vec<u8>>> = Arc::new(ca);
    run_workers("serviceaccount_tokens_secret", queue, 1, move |k: String| {
        let (ctx, secrets, accounts, key, ca) =
            (ctx.clone(), secrets.clone(), accounts.clone(), key.clone(), ca.clone());
        async move { sync(&ctx, &secrets, &accounts, &key, ca.as_ref().as_deref(), &k).await }
    })
    .await;
    Ok(())
}

async fn sync(
    ctx: &Ctx,
    secrets: &Informer<Secret>,
    accounts: &Informer<ServiceAccount>,
    key: &SigningKey,
    ca: Option<&[u8]>,
    k: &str,
) -> anyhow::Result<()> {
    let Some(secret) = secrets.get(k).filter(|s| is_token(s)) else {
        return Ok(());
    };
    let (ns, name) = split_key(k);
    let ns = ns.unwrap_or_default();
    let api: Api<Secret> = Api::namespaced(ctx.client.clone(), ns);
    let account = annotation(&secret, NAME).unwrap_or_default().to_string();
    // The cache may trail a just-created account: ask the server before deleting anything.
    let sa = match accounts.get(&format!("{ns}/{account}")) {
        Some(sa) => Some((*sa).clone()),
        None => {
            Api::<ServiceAccount>::namespaced(ctx.client.clone(), ns)
                .get_opt(&account)
                .await?
        }
    };
    let uid = sa.as_ref().and_then(|s| s.metadata.uid.clone());
    let stale = annotation(&secret, UID).is_some_and(|want| Some(want) != uid.as_deref());
    let Some(uid) = uid.filter(|_| !stale) else {
        tracing::info!(secret = %k, %account, "deleting a token secret whose service account is gone");
        let dp = DeleteParams {
            preconditions: Some(kube::api::Preconditions {
                uid: secret.metadata.uid.clone(),
                resource_version: None,
            }),
            ..Default::default()
        };
        return Ok(ignore_not_found(api.delete(name, &dp).await)?);
    };
    let data = secret.data.clone().unwrap_or_default();
    let has = |f: &str| data.get(f).is_some_and(|v| !v.0.is_empty());
    if has("token") && has("namespace") && (ca.is_none() || has("ca.crt")) {
        return Ok(());
    }
    let claims = json!({
        "iss": "kubernetes/serviceaccount",
        "kubernetes.io/serviceaccount/namespace": ns,
        "kubernetes.io/serviceaccount/secret.name": name,
        "kubernetes.io/serviceaccount/service-account.name": account,
        "kubernetes.io/serviceaccount/service-account.uid": uid,
        "sub": format!("system:serviceaccount:{ns}:{account}"),
    });
    let mut filled = (*secret).clone();
    let data = filled.data.get_or_insert_default();
    if !has("token") {
        let token = key.sign(&claims).map_err(anyhow::Error::msg)?;
        data.insert("token".into(), ByteString(token.into_bytes()));
    }
    data.insert("namespace".into(), ByteString(ns.as_bytes().to_vec()));
    if let Some(ca) = ca {
        data.insert("ca.crt".into(), ByteString(ca.to_vec()));
    }
    filled
        .metadata
        .annotations
        .get_or_insert_default()
        .insert(UID.into(), uid);
    ignore_not_found(api.replace(name, &PostParams::default(), &filled).await)?;
    Ok(())
}
