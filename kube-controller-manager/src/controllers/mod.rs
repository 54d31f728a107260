//! The controllers, one module each, named as upstream's.

pub mod namespace;
pub mod root_ca;
pub mod serviceaccount;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Namespace;
use kube::runtime::controller::Action;
use std::time::Duration;

/// Why a reconcile failed; it is retried with backoff.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct Error(#[from] pub kube::Error);

pub fn retry(_ns: std::sync::Arc<Namespace>, e: &Error, _ctx: std::sync::Arc<kube::Client>) -> Action {
    tracing::warn!(error = %e, "reconcile failed, retrying");
    Action::requeue(Duration::from_secs(2))
}

/// Drives a controller stream to its end, logging each outcome.
pub async fn drive<S, T, E>(name: &str, stream: S) -> anyhow::Result<()>
where
    S: futures::Stream<Item = Result<T, E>>,
    E: std::fmt::Display,
{
    stream
        .for_each(|r| async move {
            if let Err(e) = r {
                tracing::debug!(controller = name, error = %e, "reconcile");
            }
        })
        .await;
    Ok(())
}

/// Whether a namespace is being deleted.
pub fn terminating(ns: &Namespace) -> bool {
    ns.metadata.deletion_timestamp.is_some()
}
