//! One module per verb; `run` dispatches the parsed command line. `Session` holds what the
//! server-facing verbs share: the connection and discovery (from the disk cache when fresh).

pub mod api_resources;
pub mod api_versions;
pub mod apply;
pub mod auth;
pub mod cluster_info;
pub mod completion;
pub mod config;
pub mod cordon;
pub mod cp;
pub mod create;
pub mod create_files;
pub mod delete;
pub mod describe;
pub mod diff;
pub mod drain;
pub mod edit;
pub mod exec;
pub mod explain;
pub mod expose;
pub mod get;
pub mod label;
pub mod logs;
pub mod objects;
pub mod patch;
pub mod pods;
pub mod port_forward;
pub mod rollout;
pub mod run;
pub mod scale;
pub mod set;
pub mod taint;
pub mod targets;
pub mod top;
pub mod version;
pub mod wait;
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
        Some(Command::Describe(a)) => describe::run(&g, a, out).await,
        Some(Command::Version(a)) => version::run(&g, a, out).await.map(|_| 0),
        Some(Command::ApiResources(a)) => api_resources::run(&g, a, out).await.map(|_| 0),
        Some(Command::ApiVersions) => api_versions::run(&g, out).await.map(|_| 0),
        Some(Command::ClusterInfo) => cluster_info::run(&g, out).await.map(|_| 0),
        Some(Command::Create(a)) => create::run(&g, a, out).await,
        Some(Command::Label(a)) => label::run(&g, label::Field::Labels, a, out).await,
        Some(Command::Annotate(a)) => label::run(&g, label::Field::Annotations, a, out).await,
        Some(Command::Scale(a)) => scale::run(&g, a, out).await,
        Some(Command::Patch(a)) => patch::run(&g, a, out).await,
        Some(Command::Cordon(a)) => cordon::run(&g, a, true, out).await,
        Some(Command::Uncordon(a)) => cordon::run(&g, a, false, out).await,
        Some(Command::Auth(a)) => auth::run(&g, a, out).await,
        Some(Command::Rollout(a)) => rollout::run(&g, a, out).await,
        Some(Command::Taint(a)) => taint::run(&g, a, out).await,
        Some(Command::Wait(a)) => wait::run(&g, a, out).await,
        Some(Command::Set(a)) => set::run(&g, a, out).await,
        Some(Command::Run(a)) => run::run(&g, a, out).await,
        Some(Command::Expose(a)) => expose::expose(&g, a, out).await,
        Some(Command::Autoscale(a)) => expose::autoscale(&g, a, out).await,
        Some(Command::Drain(a)) => drain::run(&g, a, out).await,
        Some(Command::Top(a)) => top::run(&g, a, out).await,
        Some(Command::Logs(a)) => logs::run(&g, a, out).await,
        Some(Command::Exec(a)) => exec::exec(&g, a, out).await,
        Some(Command::Attach(a)) => exec::attach(&g, a, out).await,
        Some(Command::PortForward(a)) => port_forward::run(&g, a, out).await,
        Some(Command::Cp(a)) => cp::run(&g, a, out).await,
        Some(Command::Plugin(p)) => match p.command {
            crate::cli::PluginCommand::List { name_only } => crate::plugins::list(out, name_only == Some(true)),
        },
        Some(Command::Apply(a)) => apply::run(&g, a, out).await,
        Some(Command::Replace(a)) => create_files::replace(&g, a, out).await,
        Some(Command::Delete(a)) => delete::run(&g, a, out).await,
        Some(Command::Diff(a)) => diff::run(&g, a, out).await,
        Some(Command::Explain(a)) => explain::run(&g, a, out).await,
        Some(Command::Completion(a)) => completion::run(&a.shells, out),
        Some(Command::Edit(a)) => edit::run(&g, a, out).await,
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
