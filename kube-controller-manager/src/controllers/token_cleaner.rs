//! tokencleaner: deletes bootstrap token Secrets in kube-system once their `expiration` has passed (an
//! unparseable one counts as passed); a token that has yet to expire is looked at again when it does.

use super::Ctx;
use super::bootstrap_signer::{Expiry, expiry, is_bootstrap_token};
use crate::informer::{Change, key_of, split_key};
use crate::queue::{Queue, run_workers};
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DeleteParams, Preconditions};

pub async fn run(ctx: Ctx) -> anyhow::Result<()> {
    let secrets = ctx.informers.get::<Secret>();
    let queue = Queue::<String>::new();
    let q = queue.clone();
    secrets.on_change(move |c| {
        if let Change::Added(s) | Change::Updated { new: s, .. } = c
            && is_bootstrap_token(s)
        {
            q.add(key_of(s.as_ref()));
        }
    });
    secrets.synced().await;
    run_workers("token_cleaner", queue.clone(), 1, move |key: String| {
        let (ctx, secrets, queue) = (ctx.clone(), secrets.clone(), queue.clone());
        async move {
            let Some(secret) = secrets.get(&key).filter(|s| is_bootstrap_token(s)) else {
                return Ok(());
            };
            match expiry(&secret, jiff::Timestamp::now()) {
                Expiry::Never => {}
                Expiry::In(left) => queue.add_after(key, left),
                Expiry::Expired => {
                    let (ns, name) = split_key(&key);
                    tracing::info!(secret = %key, "Deleting expired secret");
                    let api: Api<Secret> = Api::namespaced(ctx.client.clone(), ns.unwrap_or_default());
                    // The uid precondition keeps a recreated Secret of the same name.
                    let params = DeleteParams {
                        preconditions: Some(Preconditions {
                            uid: secret.metadata.uid.clone(),
                            resource_version: None,
                        }),
                        ..Default::default()
                    };
                    match api.delete(name, &params).await {
                        Err(kube::Error::Api(s)) if s.code == 404 || s.code == 409 => {}
                        Err(e) => tracing::info!(secret = %key, error = %e, "Error deleting secret"),
                        Ok(_) => {}
                    }
                }
            }
            Ok(())
        }
    })
    .await;
    Ok(())
}
