//! Command-line parsing with clap, shaped like upstream's cobra commands: global flags valid
//! anywhere, bool flags that take `=false`, and cobra's wording for usage errors
//! (`error: unknown flag: --foo` + `See 'kubectl get --help' for usage.`).

use crate::kubeconfig::client::ConnectionFlags;
use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(name = "kubectl", disable_help_subcommand = true, disable_version_flag = true)]
#[command(about = "kubectl controls the Kubernetes cluster manager.")]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Args, Debug, Default, Clone)]
pub struct GlobalArgs {
    /// Path to the kubeconfig file to use for CLI requests.
    #[arg(long, global = true)]
    pub kubeconfig: Option<String>,
    /// The name of the kubeconfig context to use
    #[arg(long, global = true)]
    pub context: Option<String>,
    /// The name of the kubeconfig cluster to use
    #[arg(long, global = true)]
    pub cluster: Option<String>,
    /// The name of the kubeconfig user to use
    #[arg(long, global = true)]
    pub user: Option<String>,
    /// If present, the namespace scope for this CLI request
    #[arg(short = 'n', long, global = true)]
    pub namespace: Option<String>,
    /// The address and port of the Kubernetes API server
    #[arg(short = 's', long, global = true)]
    pub server: Option<String>,
    /// Bearer token for authentication to the API server
    #[arg(long, global = true)]
    pub token: Option<String>,
    /// Path to a cert file for the certificate authority
    #[arg(long = "certificate-authority", global = true)]
    pub certificate_authority: Option<String>,
    /// Path to a client certificate file for TLS
    #[arg(long = "client-certificate", global = true)]
    pub client_certificate: Option<String>,
    /// Path to a client key file for TLS
    #[arg(long = "client-key", global = true)]
    pub client_key: Option<String>,
    /// If true, the server's certificate will not be checked for validity.
    #[arg(long = "insecure-skip-tls-verify", global = true, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub insecure_skip_tls_verify: Option<bool>,
    /// Server name to use for server certificate validation.
    #[arg(long = "tls-server-name", global = true)]
    pub tls_server_name: Option<String>,
    /// The length of time to wait before giving up on a single server request.
    #[arg(long = "request-timeout", global = true)]
    pub request_timeout: Option<String>,
    /// Username for basic authentication to the API server
    #[arg(long, global = true)]
    pub username: Option<String>,
    /// Password for basic authentication to the API server
    #[arg(long, global = true)]
    pub password: Option<String>,
    /// Default cache directory
    #[arg(long = "cache-dir", global = true)]
    pub cache_dir: Option<String>,
    /// number for the log level verbosity
    #[arg(short = 'v', long = "v", global = true)]
    pub verbosity: Option<String>,
}

impl GlobalArgs {
    pub fn connection(&self) -> ConnectionFlags {
        ConnectionFlags {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
            cluster: self.cluster.clone(),
            user: self.user.clone(),
            namespace: self.namespace.clone(),
            server: self.server.clone(),
            token: self.token.clone(),
            certificate_authority: self.certificate_authority.clone(),
            client_certificate: self.client_certificate.clone(),
            client_key: self.client_key.clone(),
            insecure_skip_tls_verify: self.insecure_skip_tls_verify,
            tls_server_name: self.tls_server_name.clone(),
            request_timeout: self.request_timeout.clone(),
            username: self.username.clone(),
            password: self.password.clone(),
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Display one or many resources
    Get(GetArgs),
    /// Show details of a specific resource or group of resources
    Describe(DescribeArgs),
    /// Modify kubeconfig files
    Config(ConfigArgs),
    /// Print the client and server version information
    Version(VersionArgs),
    /// Print the supported API resources on the server
    #[command(name = "api-resources")]
    ApiResources(ApiResourcesArgs),
    /// Print the supported API versions on the server, in the form of "group/version"
    #[command(name = "api-versions")]
    ApiVersions,
    /// Display cluster information
    #[command(name = "cluster-info")]
    ClusterInfo,
    /// Apply a configuration to a resource by file name or stdin
    Apply(crate::cmd::apply::ApplyArgs),
    /// Replace a resource by file name or stdin
    Replace(crate::cmd::create_files::ReplaceArgs),
    /// Delete resources by file names, stdin, resources and names, or by resources and label selector
    Delete(crate::cmd::delete::DeleteArgs),
    /// Diff the live version against a would-be applied version
    Diff(crate::cmd::diff::DiffArgs),
    /// Edit a resource on the server
    Edit(crate::cmd::edit::EditArgs),
    /// Create a resource from a file or from stdin
    Create(crate::cmd::create::CreateArgs),
    /// Update the labels on a resource
    Label(crate::cmd::label::MetaArgs),
    /// Update the annotations on a resource
    Annotate(crate::cmd::label::MetaArgs),
    /// Set a new size for a deployment, replica set, or replication controller
    Scale(crate::cmd::scale::ScaleArgs),
    /// Update fields of a resource
    Patch(crate::cmd::patch::PatchArgs),
    /// Mark node as unschedulable
    Cordon(crate::cmd::cordon::CordonArgs),
    /// Mark node as schedulable
    Uncordon(crate::cmd::cordon::CordonArgs),
    /// Inspect authorization
    Auth(crate::cmd::auth::AuthArgs),
    /// Manage the rollout of a resource
    Rollout(crate::cmd::rollout::RolloutArgs),
    /// Update the taints on one or more nodes
    Taint(crate::cmd::taint::TaintArgs),
    /// Experimental: Wait for a specific condition on one or many resources
    Wait(crate::cmd::wait::WaitArgs),
    /// Set specific features on objects
    Set(crate::cmd::set::SetArgs),
    /// Run a particular image on the cluster
    Run(crate::cmd::run::RunArgs),
    /// Take a replication controller, service, deployment or pod and expose it as a new Kubernetes service
    Expose(crate::cmd::expose::ExposeArgs),
    /// Auto-scale a deployment, replica set, stateful set, or replication controller
    Autoscale(crate::cmd::expose::AutoscaleArgs),
    /// Provides utilities for interacting with plugins
    Plugin(PluginArgs),
    /// Drain node in preparation for maintenance
    Drain(crate::cmd::drain::DrainArgs),
    /// Display resource (CPU/memory) usage
    Top(crate::cmd::top::TopArgs),
    /// Print the logs for a container in a pod
    Logs(crate::cmd::logs::LogsArgs),
    /// Execute a command in a container
    Exec(crate::cmd::exec::ExecArgs),
    /// Attach to a running container
    Attach(crate::cmd::exec::AttachArgs),
    /// Forward one or more local ports to a pod
    #[command(name = "port-forward")]
    PortForward(crate::cmd::port_forward::PortForwardArgs),
    /// Copy files and directories to and from containers
    Cp(crate::cmd::cp::CpArgs),
    /// Get documentation for a resource
    Explain(crate::cmd::explain::ExplainArgs),
    /// Output shell completion code for the specified shell (bash, zsh, fish, or powershell)
    Completion(CompletionArgs),
}

#[derive(Args, Debug)]
pub struct CompletionArgs {
    pub shells: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PluginArgs {
    #[command(subcommand)]
    pub command: PluginCommand,
}

#[derive(Subcommand, Debug)]
pub enum PluginCommand {
    /// List all visible plugin executables on a user's PATH
    List {
        #[arg(long = "name-only", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
        name_only: Option<bool>,
    },
}

#[derive(Args, Debug, Default, Clone)]
pub struct GetArgs {
    pub args: Vec<String>,
    /// Filename, directory, or URL to files identifying the resource to get from a server.
    #[arg(short = 'f', long = "filename")]
    pub filename: Vec<String>,
    /// Process the directory used in -f, --filename recursively.
    #[arg(short = 'R', long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub recursive: Option<bool>,
    /// Output format.
    #[arg(short = 'o', long)]
    pub output: Option<String>,
    /// Selector (label query) to filter on
    #[arg(short = 'l', long)]
    pub selector: Option<String>,
    /// Selector (field query) to filter on
    #[arg(long = "field-selector")]
    pub field_selector: Option<String>,
    /// List the requested object(s) across all namespaces.
    #[arg(short = 'A', long = "all-namespaces", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub all_namespaces: Option<bool>,
    /// When printing, show all labels as the last column
    #[arg(long = "show-labels", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub show_labels: Option<bool>,
    /// When printing, show the kind of the resource
    #[arg(long = "show-kind", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub show_kind: Option<bool>,
    /// Accepts a comma separated list of labels that are going to be presented as columns.
    #[arg(short = 'L', long = "label-columns", value_delimiter = ',')]
    pub label_columns: Vec<String>,
    /// When using the default or custom-column output format, don't print headers.
    #[arg(long = "no-headers", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub no_headers: Option<bool>,
    /// If non-empty, sort list types using this field specification.
    #[arg(long = "sort-by")]
    pub sort_by: Option<String>,
    /// Return large lists in chunks rather than all at once.
    #[arg(long = "chunk-size", default_value_t = 500)]
    pub chunk_size: i64,
    /// Raw URI to request from the server.
    #[arg(long)]
    pub raw: Option<String>,
    /// If the requested object does not exist the command will return exit code 0.
    #[arg(long = "ignore-not-found", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub ignore_not_found: Option<bool>,
    /// After listing/getting the requested object, watch for changes.
    #[arg(short = 'w', long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub watch: Option<bool>,
    /// Watch for changes to the requested object(s), without listing/getting first.
    #[arg(long = "watch-only", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub watch_only: Option<bool>,
    /// Output watch event objects when --watch or --watch-only is used.
    #[arg(long = "output-watch-events", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub output_watch_events: Option<bool>,
    /// If true, keep the managedFields when printing objects in JSON or YAML format.
    #[arg(long = "show-managed-fields", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub show_managed_fields: Option<bool>,
}

#[derive(Args, Debug, Clone)]
pub struct DescribeArgs {
    pub args: Vec<String>,
    /// Selector (label query) to filter on
    #[arg(short = 'l', long)]
    pub selector: Option<String>,
    /// List the requested object(s) across all namespaces.
    #[arg(short = 'A', long = "all-namespaces", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub all_namespaces: Option<bool>,
    /// If true, display events related to the described object.
    #[arg(long = "show-events", default_value_t = true, num_args = 0..=1, require_equals = true, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub show_events: bool,
    /// Return large lists in chunks rather than all at once.
    #[arg(long = "chunk-size", default_value_t = 500)]
    pub chunk_size: i64,
}

#[derive(Args, Debug)]
pub struct ConfigArgs {
    #[command(subcommand)]
    pub command: ConfigCommand,
}

#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// Display merged kubeconfig settings or a specified kubeconfig file
    View(ConfigViewArgs),
    /// Describe one or many contexts
    #[command(name = "get-contexts")]
    GetContexts(GetContextsArgs),
    /// Display the current-context
    #[command(name = "current-context")]
    CurrentContext,
    /// Set the current-context in a kubeconfig file
    #[command(name = "use-context", alias = "use")]
    UseContext { name: String },
    /// Set a context entry in kubeconfig
    #[command(name = "set-context")]
    SetContext(SetContextArgs),
    /// Set a cluster entry in kubeconfig
    #[command(name = "set-cluster")]
    SetCluster(SetClusterArgs),
    /// Set a user entry in kubeconfig
    #[command(name = "set-credentials")]
    SetCredentials(SetCredentialsArgs),
    /// Delete the specified context from the kubeconfig
    #[command(name = "delete-context")]
    DeleteContext { name: String },
    /// Display clusters defined in the kubeconfig
    #[command(name = "get-clusters")]
    GetClusters,
}

#[derive(Args, Debug, Default)]
pub struct ConfigViewArgs {
    #[arg(short = 'o', long)]
    pub output: Option<String>,
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub minify: Option<bool>,
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub raw: Option<bool>,
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub flatten: Option<bool>,
}

#[derive(Args, Debug, Default)]
pub struct GetContextsArgs {
    pub names: Vec<String>,
    #[arg(short = 'o', long)]
    pub output: Option<String>,
    #[arg(long = "no-headers", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub no_headers: Option<bool>,
}

#[derive(Args, Debug, Default)]
pub struct SetContextArgs {
    pub name: Option<String>,
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub current: Option<bool>,
}

#[derive(Args, Debug, Default)]
pub struct SetClusterArgs {
    pub name: String,
    #[arg(long = "embed-certs", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub embed_certs: Option<bool>,
    #[arg(long = "proxy-url")]
    pub proxy_url: Option<String>,
}

#[derive(Args, Debug, Default)]
pub struct SetCredentialsArgs {
    pub name: String,
    #[arg(long = "embed-certs", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub embed_certs: Option<bool>,
    #[arg(long = "exec-command")]
    pub exec_command: Option<String>,
    #[arg(long = "exec-api-version")]
    pub exec_api_version: Option<String>,
    #[arg(long = "exec-arg")]
    pub exec_arg: Vec<String>,
    #[arg(long = "exec-env")]
    pub exec_env: Vec<String>,
}

#[derive(Args, Debug, Default)]
pub struct VersionArgs {
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub client: Option<bool>,
    #[arg(short = 'o', long)]
    pub output: Option<String>,
}

#[derive(Args, Debug, Default)]
pub struct ApiResourcesArgs {
    #[arg(short = 'o', long)]
    pub output: Option<String>,
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub namespaced: Option<bool>,
    #[arg(long = "api-group")]
    pub api_group: Option<String>,
    #[arg(long, value_delimiter = ',')]
    pub verbs: Vec<String>,
    #[arg(long = "no-headers", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub no_headers: Option<bool>,
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub cached: Option<bool>,
    #[arg(long = "sort-by")]
    pub sort_by: Option<String>,
    #[arg(long)]
    pub categories: Vec<String>,
}

/// The command path for `See 'kubectl <path> --help'` (the leading words that name commands).
pub fn command_path(argv: &[String]) -> String {
    let mut path = vec!["kubectl".to_string()];
    let words: Vec<&String> = argv.iter().skip(1).filter(|a| !a.starts_with('-')).collect();
    const TOP: &[&str] = &[
        "get",
        "describe",
        "config",
        "version",
        "api-resources",
        "api-versions",
        "cluster-info",
        "create",
        "label",
        "annotate",
        "scale",
        "patch",
        "cordon",
        "uncordon",
        "auth",
        "rollout",
        "taint",
        "wait",
        "set",
        "run",
        "expose",
        "autoscale",
        "plugin",
        "drain",
        "top",
        "apply",
        "replace",
        "delete",
        "diff",
        "explain",
        "completion",
    ];
    const CONFIG: &[&str] = &[
        "view",
        "get-contexts",
        "current-context",
        "use-context",
        "use",
        "set-context",
        "set-cluster",
        "set-credentials",
        "delete-context",
        "get-clusters",
    ];
    if let Some(first) = words.first()
        && TOP.contains(&first.as_str())
    {
        path.push(first.to_string());
        if first.as_str() == "config"
            && let Some(second) = words.get(1)
            && CONFIG.contains(&second.as_str())
        {
            path.push(second.to_string());
        }
    }
    path.join(" ")
}

/// The top-level commands in the order upstream registers them (its help groups, then the
/// rest); "Did you mean this?" lists suggestions in this order.
const COMMAND_ORDER: &[&str] = &[
    "create",
    "expose",
    "run",
    "set",
    "explain",
    "get",
    "edit",
    "delete",
    "rollout",
    "scale",
    "autoscale",
    "certificate",
    "cluster-info",
    "top",
    "cordon",
    "uncordon",
    "drain",
    "taint",
    "describe",
    "logs",
    "attach",
    "exec",
    "port-forward",
    "proxy",
    "cp",
    "auth",
    "debug",
    "events",
    "diff",
    "apply",
    "patch",
    "replace",
    "wait",
    "kustomize",
    "label",
    "annotate",
    "completion",
    "alpha",
    "config",
    "plugin",
    "version",
    "api-versions",
    "api-resources",
    "options",
];

/// cobra's error for an unknown top-level command, with its "Did you mean this?" list: the
/// commands within two edits of the word, or starting with it.
fn unknown_command(word: &str) -> String {
    use clap::CommandFactory;
    let typed = word.to_lowercase();
    let mut names: Vec<String> = Cli::command()
        .get_subcommands()
        .filter(|c| !c.is_hide_set())
        .map(|c| c.get_name().to_string())
        .filter(|name| levenshtein(&typed, name) <= 2 || name.starts_with(&typed))
        .collect();
    names.sort_by_key(|n| COMMAND_ORDER.iter().position(|o| o == n).unwrap_or(usize::MAX));
    let mut msg = format!("error: unknown command \"{word}\" for \"kubectl\"");
    if !names.is_empty() {
        msg.push_str("\n\nDid you mean this?");
        for n in names {
            msg.push_str(&format!("\n\t{n}"));
        }
    }
    msg
}

/// Edit distance between two words (insertions, deletions and substitutions).
fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb { prev } else { 1 + prev.min(row[j]).min(cur) };
            prev = cur;
        }
    }
    row[b.len()]
}

/// Turns a clap error into cobra's message; `None` for help/version output (printed as is).
pub fn usage_error(err: &clap::Error, argv: &[String]) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let path = command_path(argv);
    let arg = || match err.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(s)) => s.clone(),
        _ => String::new(),
    };
    let see = format!("See '{path} --help' for usage.");
    match err.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            None
        }
        ErrorKind::UnknownArgument => {
            let a = arg();
            let flag = a.split('=').next().unwrap_or_default().to_string();
            if let Some(short) = flag.strip_prefix('-').filter(|s| !s.starts_with('-')) {
                let c = short.chars().next().unwrap_or(' ');
                // cobra reports the whole shorthand cluster as typed.
                let typed = argv
                    .iter()
                    .find(|x| x.starts_with('-') && !x.starts_with("--") && x.contains(c))
                    .cloned()
                    .unwrap_or(flag.clone());
                return Some(format!("error: unknown shorthand flag: '{c}' in {typed}\n{see}"));
            }
            if a.is_empty() || !a.starts_with('-') {
                let word = argv
                    .iter()
                    .skip(1)
                    .find(|x| !x.starts_with('-'))
                    .cloned()
                    .unwrap_or_default();
                return Some(unknown_command(&word));
            }
            Some(format!("error: unknown flag: {flag}\n{see}"))
        }
        ErrorKind::InvalidSubcommand => {
            let word = match err.get(ContextKind::InvalidSubcommand) {
                Some(ContextValue::String(s)) => s.clone(),
                _ => String::new(),
            };
            if path == "kubectl" {
                Some(unknown_command(&word))
            } else if path == "kubectl create" {
                // `create` runs itself (with -f) when no generator matches.
                Some(format!(
                    "error: Unexpected args: [{word}]\nSee '{path} -h' for help and examples"
                ))
            } else {
                Some(format!(
                    "error: unknown command \"{word}\"\nSee '{path} -h' for help and examples"
                ))
            }
        }
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            let a = arg();
            let long = a
                .trim_start_matches('-')
                .split([' ', '=', '<', '['])
                .next()
                .unwrap_or_default()
                .to_string();
            let v = match err.get(ContextKind::InvalidValue) {
                Some(ContextValue::String(v)) => v.clone(),
                _ => String::new(),
            };
            let short = short_of(&path, &long);
            if v.is_empty() {
                // cobra names the flag as it was typed.
                let typed_short = short.filter(|c| argv.last().is_some_and(|l| l == &format!("-{c}")));
                return Some(match typed_short {
                    Some(c) => format!("error: flag needs an argument: '{c}' in -{c}\n{see}"),
                    None => format!("error: flag needs an argument: --{long}\n{see}"),
                });
            }
            let shown = match short {
                Some(c) => format!("-{c}, --{long}"),
                None => format!("--{long}"),
            };
            Some(format!(
                "error: invalid argument \"{v}\" for \"{shown}\" flag: strconv.ParseBool: parsing \"{v}\": invalid syntax\n{see}"
            ))
        }
        _ => {
            let text = err.to_string();
            let first = text
                .lines()
                .next()
                .unwrap_or_default()
                .trim_start_matches("error: ")
                .to_string();
            Some(format!("error: {first}\n{see}"))
        }
    }
}

/// The one-letter form of a flag, found by its long name in the command `path` names
/// (`kubectl config view`), then among the global flags, then anywhere in the command tree.
fn short_of(path: &str, long: &str) -> Option<char> {
    use clap::CommandFactory;
    fn own(cmd: &clap::Command, long: &str) -> Option<Option<char>> {
        cmd.get_arguments()
            .find(|a| a.get_long() == Some(long))
            .map(|a| a.get_short())
    }
    fn anywhere(cmd: &clap::Command, long: &str) -> Option<char> {
        if let Some(s) = own(cmd, long) {
            return s;
        }
        cmd.get_subcommands().find_map(|c| anywhere(c, long))
    }
    let root = Cli::command();
    let mut cmd = &root;
    for word in path.split(' ').skip(1) {
        match cmd.find_subcommand(word) {
            Some(c) => cmd = c,
            None => break,
        }
    }
    own(cmd, long)
        .or_else(|| own(&root, long))
        .unwrap_or_else(|| anywhere(&root, long))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    fn err_of(s: &str) -> String {
        let a = argv(s);
        match Cli::try_parse_from(&a) {
            Ok(_) => "ok".into(),
            Err(e) => usage_error(&e, &a).unwrap_or_else(|| "help".into()),
        }
    }

    #[test]
    fn cobra_messages() {
        assert_eq!(
            err_of("kubectl get pods --foo"),
            "error: unknown flag: --foo\nSee 'kubectl get --help' for usage."
        );
        assert_eq!(
            err_of("kubectl config view --foo=1"),
            "error: unknown flag: --foo\nSee 'kubectl config view --help' for usage."
        );
        assert_eq!(err_of("kubectl get pods -A"), "ok");
        assert_eq!(
            err_of("kubectl get pods -n"),
            "error: flag needs an argument: 'n' in -n\nSee 'kubectl get --help' for usage."
        );
        assert_eq!(
            err_of("kubectl get pods -A=foo"),
            "error: invalid argument \"foo\" for \"-A, --all-namespaces\" flag: strconv.ParseBool: parsing \"foo\": invalid syntax\nSee 'kubectl get --help' for usage."
        );
        assert_eq!(err_of("kubectl -n x get pods --all-namespaces=false"), "ok");
    }

    #[test]
    fn globals_anywhere() {
        let cli = Cli::try_parse_from(argv("kubectl get pods -n kube-system --context c -o wide")).expect("parse");
        assert_eq!(cli.global.namespace.as_deref(), Some("kube-system"));
        assert_eq!(cli.global.context.as_deref(), Some("c"));
    }
}
