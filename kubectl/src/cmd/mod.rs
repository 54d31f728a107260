//! One module per verb; `run` dispatches the parsed command line. `Session` holds what the
//! server-facing verbs share: the connection and discovery (from the disk cache when fresh).

pub mod api_resources;
pub mod api_versions;
pub mod apply;
pub mod cluster_info;
pub mod config;
pub mod create_files;
pub mod delete;
pub mod diff;
pub mod get;
pub mod version;
pub mod write;

use crate::Output;
use crate::cli::{Cli, Command, GlobalArgs};
use crate::discovery::{self, Discovery};
use crate::error::CmdError;
use crate::kubeconfig::client::{Connection, connect};
use std::path::PathBuf;

/// Runs one command; the exit code on success (some commands succeed with a non-zero code).
pub async fn run(cli: Cli, out: &mut Output) -> Result<i32, CmdError> {
    let g = cli.global;
    match cli.command {
        None => {
            out.stdout
                .push_str("kubectl controls the Kubernetes cluster manager.\n\nUsage:\n  kubectl [flags] [options]\n");
            Ok(0)
        }
        Some(Command::Config(c)) => config::run(&g, c.command, out).map(|_| 0),
        Some(Command::Get(a)) => get::run(&g, a, out).await,
        Some(Command::Version(a)) => version::run(&g, a, out).await.map(|_| 0),
        Some(Command::ApiResources(a)) => api_resources::run(&g, a, out).await.map(|_| 0),
        Some(Command::ApiVersions) => api_versions::run(&g, out).await.map(|_| 0),
        Some(Command::ClusterInfo) => cluster_info::run(&g, out).await.map(|_| 0),
        Some(Command::Apply(a)) => apply::run(&g, a, out).await,
        Some(Command::Create(a)) => create_files::create(&g, a, out).await,
        Some(Command::Replace(a)) => create_files::replace(&g, a, out).await,
        Some(Command::Delete(a)) => delete::run(&g, a, out).await,
        Some(Command::Diff(a)) => diff::run(&g, a, out).await,
    }
}

/// A connection plus discovery.
pub struct Session {
    pub conn: Connection,
    cache_dir: PathBuf,
    discovery: Option<Discovery>,
}

impl Session {
    pub async fn open(g: &GlobalArgs, command: &str) -> Result<Session, CmdError> {
        let conn = connect(&g.connection(), command).await?;
        let cache_dir = discovery::cache_dir(&discovery::cache_base(g.cache_dir.as_deref()), &conn.server);
        Ok(Session {
            conn,
            cache_dir,
            discovery: None,
        })
    }

    pub fn client(&self) -> &kube::Client {
        &self.conn.client
    }

    /// Discovery from the cache when fresh; `refresh` asks the server again.
    pub async fn discovery(&mut self, refresh: bool) -> Result<&Discovery, CmdError> {
        if refresh || self.discovery.is_none() {
            let d = discovery::load(&self.conn.client, &self.cache_dir, refresh).await?;
            self.discovery = Some(d);
        }
        self.discovery.as_ref().ok_or_else(|| CmdError::msg("discovery failed"))
    }
}
