//! Leader election on a coordination.k8s.io Lease, as client-go's leaderelection does it:
//! acquire when the lease is free or expired, renew every retry period, and give up
//! leadership (the caller exits) when a renewal has not succeeded within the renew deadline.

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::api::{Api, PostParams};
use std::time::Duration;

/// Upstream's `--leader-elect-*` settings and the lock's identity.
#[derive(Debug, Clone)]
pub struct Config {
    pub namespace: String,
    pub name: String,
    pub identity: String,
    pub lease_duration: Duration,
    pub renew_deadline: Duration,
    pub retry_period: Duration,
}

/// The leader election flags kube-controller-manager and kube-scheduler share, with upstream's
/// names and defaults; the lock's name defaults to the component's name.
#[derive(Debug, Clone, clap::Args)]
pub struct Flags {
    /// Start a leader election client and gain leadership before executing the main loop.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub leader_elect: bool,
    /// The duration that non-leader candidates will wait after observing a leadership renewal before attempting
    /// to acquire leadership of a led but unrenewed leader slot.
    #[arg(long, default_value = "15s", value_parser = crate::duration::parse)]
    pub leader_elect_lease_duration: Duration,
    /// The interval between attempts by the acting master to renew a leadership slot before it stops leading.
    #[arg(long, default_value = "10s", value_parser = crate::duration::parse)]
    pub leader_elect_renew_deadline: Duration,
    /// The duration the clients should wait between attempting acquisition and renewal of a leadership.
    #[arg(long, default_value = "2s", value_parser = crate::duration::parse)]
    pub leader_elect_retry_period: Duration,
    /// The name of resource object that is used for locking during leader election (default: the component's name).
    #[arg(long)]
    pub leader_elect_resource_name: Option<String>,
    /// The namespace of resource object that is used for locking during leader election.
    #[arg(long, default_value = "kube-system")]
    pub leader_elect_resource_namespace: String,
}

impl Flags {
    /// The election these flags ask for, for `component`'s lock.
    pub fn config(&self, component: &str) -> Config {
        let name = self.leader_elect_resource_name.as_deref().unwrap_or(component);
        Config {
            namespace: self.leader_elect_resource_namespace.clone(),
            lease_duration: self.leader_elect_lease_duration,
            renew_deadline: self.leader_elect_renew_deadline,
            retry_period: self.leader_elect_retry_period,
            ..Config::new(name)
        }
    }
}

impl Config {
    /// Defaults of kube-controller-manager and kube-scheduler (15s, 10s, 2s) for lock `name`
    /// in kube-system, with identity `<hostname>_<uuid>`.
    pub fn new(name: &str) -> Config {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_default();
        Config {
            namespace: "kube-system".into(),
            name: name.into(),
            identity: format!("{host}_{}", uuid::Uuid::new_v4()),
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("leaderelection lost")]
    Lost,
}

fn now() -> MicroTime {
    MicroTime(jiff::Timestamp::now())
}

/// Whether someone else holds a lease that has not expired.
fn held_by_other(lease: &Lease, cfg: &Config) -> bool {
    let Some(spec) = &lease.spec else { return false };
    let holder = spec.holder_identity.as_deref().unwrap_or_default();
    if holder.is_empty() || holder == cfg.identity {
        return false;
    }
    let duration = spec
        .lease_duration_seconds
        .map(|s| s as i64)
        .unwrap_or(cfg.lease_duration.as_secs() as i64);
    let renewed = spec.renew_time.as_ref().map(|t| t.0).unwrap_or_default();
    renewed + jiff::SignedDuration::from_secs(duration) > jiff::Timestamp::now()
}

/// One attempt to acquire or renew; true when we hold the lease afterwards.
async fn try_acquire_or_renew(api: &Api<Lease>, cfg: &Config) -> Result<bool, kube::Error> {
    let duration = cfg.lease_duration.as_secs() as i32;
    let Some(mut lease) = api.get_opt(&cfg.name).await? else {
        let lease: Lease = serde_json::from_value(serde_json::json!({
            "metadata": {"name": cfg.name, "namespace": cfg.namespace},
            "spec": {"holderIdentity": cfg.identity, "leaseDurationSeconds": duration, "leaseTransitions": 0},
        }))
        .unwrap_or_default();
        let mut lease = lease;
        if let Some(spec) = lease.spec.as_mut() {
            spec.acquire_time = Some(now());
            spec.renew_time = Some(now());
        }
        return match api.create(&PostParams::default(), &lease).await {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
            Err(e) => Err(e),
        };
    };
    if held_by_other(&lease, cfg) {
        return Ok(false);
    }
    let spec = lease.spec.get_or_insert_default();
    if spec.holder_identity.as_deref() != Some(cfg.identity.as_str()) {
        spec.holder_identity = Some(cfg.identity.clone());
        spec.acquire_time = Some(now());
        spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
    }
    spec.lease_duration_seconds = Some(duration);
    spec.renew_time = Some(now());
    // The stored resourceVersion makes this a compare-and-swap: a racing candidate gets 409.
    match api.replace(&cfg.name, &PostParams::default(), &lease).await {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
        Err(e) => Err(e),
    }
}

/// Waits until this process leads, then runs `work` while renewing; returns `Error::Lost`
/// when leadership is lost (the caller should exit, as upstream components do).
pub async fn run<F>(client: kube::Client, cfg: Config, work: F) -> Result<(), Error>
where
    F: std::future::Future<Output = ()>,
{
    let api: Api<Lease> = Api::namespaced(client, &cfg.namespace);
    loop {
        match try_acquire_or_renew(&api, &cfg).await {
            Ok(true) => break,
            Ok(false) => {}
            Err(e) => tracing::warn!(lock = %cfg.name, error = %e, "error retrieving resource lock"),
        }
        tokio::time::sleep(cfg.retry_period).await;
    }
    tracing::info!(lock = %format!("{}/{}", cfg.namespace, cfg.name), identity = %cfg.identity, "successfully acquired lease");
    let renew = async {
        let mut last = tokio::time::Instant::now();
        loop {
            tokio::time::sleep(cfg.retry_period).await;
            match try_acquire_or_renew(&api, &cfg).await {
                Ok(true) => last = tokio::time::Instant::now(),
                Ok(false) => return,
                Err(e) => tracing::warn!(error = %e, "failed to renew lease"),
            }
            if last.elapsed() > cfg.renew_deadline {
                return;
            }
        }
    };
    tokio::select! {
        _ = work => Ok(()),
        _ = renew => Err(Error::Lost),
    }
}
