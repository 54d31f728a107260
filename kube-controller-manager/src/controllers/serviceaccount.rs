//! serviceaccount: every active namespace has a `default` ServiceAccount (recreated if deleted).

use super::{Ctx, ignore_conflict};
use crate::informer::Change;
use crate::queue::{Queue, run_workers};
use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, PostParams};

pub async fn run(ctx: Ctx) -> anyhow::Result<()> {
    let namespaces = ctx.informers.get::<Namespace>();
    let accounts = ctx.informers.get::<ServiceAccount>();
    let queue = Queue::<String>::new();
    let q = queue.clone();
    namespaces.on_change(move |c| {
        if let Change::Added(ns) | Change::Updated { new: ns, .. } = c {
            q.add(ns.metadata.name.clone().unwrap_or_default());
        }
    });
    let q = queue.clone();
    accounts.on_change(move |c| {
        if let Change::Deleted(sa) = c
            && sa.metadata.name.as_deref() == Some("default")
        {
            q.add(sa.metadata.namespace.clone().unwrap_or_default());
        }
    });
    namespaces.synced().await;
    accounts.synced().await;
    run_workers("serviceaccount", queue, 1, move |ns: String| {
        let (ctx, namespaces, accounts) = (ctx.clone(), namespaces.clone(), accounts.clone());
        async move {
            let active = namespaces
                .get(&ns)
                .is_some_and(|n| n.metadata.deletion_timestamp.is_none());
            if !active || accounts.get(&format!("{ns}/default")).is_some() {
                return Ok(());
            }
            let sa = ServiceAccount {
                metadata: ObjectMeta {
                    name: Some("default".into()),
                    ..Default::default()
                },
                ..Default::default()
            };
            let api: Api<ServiceAccount> = Api::namespaced(ctx.client.clone(), &ns);
            ignore_conflict(api.create(&PostParams::default(), &sa).await)?;
            Ok(())
        }
    })
    .await;
    Ok(())
}
