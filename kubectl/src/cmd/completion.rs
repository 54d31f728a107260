//! Shell completion. `kubectl completion bash|zsh|fish|powershell` prints a script that asks
//! the binary for candidates through the hidden `__complete` command, which speaks cobra's
//! protocol: one candidate per line (`name<TAB>description`), then `:<directive>` (a bit set:
//! 1 error, 2 no space, 4 no file completion, 8 filter files by the extensions given, 16 only
//! directories, 32 keep the order). Upstream's cobra-generated scripts call the same command,
//! so they work with this binary too. Candidates: subcommands, flags (inherited ones first, as
//! cobra lists them), flag values (namespaces, contexts, clusters, users, output formats, file
//! extensions), resource types from the discovery cache and resource names from the server,
//! in the `TYPE NAME` and `TYPE/NAME` forms.

use super::Session;
use crate::Output;
use crate::cli::{Cli, GlobalArgs};
use crate::error::CmdError;
use clap::{Arg, CommandFactory};
use std::collections::BTreeSet;

const SHELLS: &[&str] = &["bash", "zsh", "fish", "powershell"];

const ERROR: u32 = 1;
const NO_SPACE: u32 = 2;
const NO_FILE: u32 = 4;
const FILTER_EXT: u32 = 8;

/// `kubectl completion SHELL`.
pub fn run(args: &[String], out: &mut Output) -> Result<i32, CmdError> {
    let usage = |m: &str| CmdError::Raw(format!("error: {m}\nSee 'kubectl completion -h' for help and examples"));
    let shell = match args {
        [] => return Err(usage("Shell not specified.")),
        [s] => s.as_str(),
        _ => return Err(usage("Too many arguments. Expected only the shell type.")),
    };
    let script = match shell {
        "bash" => include_str!("completion/kubectl.bash"),
        "zsh" => include_str!("completion/kubectl.zsh"),
        "fish" => include_str!("completion/kubectl.fish"),
        "powershell" => include_str!("completion/kubectl.ps1"),
        other => return Err(usage(&format!("Unsupported shell type \"{other}\"."))),
    };
    out.stdout.push_str(script);
    Ok(0)
}

/// `kubectl __complete ARGS… TO_COMPLETE` (`__completeNoDesc` drops the descriptions).
pub fn complete(args: &[String], descriptions: bool) -> i32 {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(_) => return 1,
    };
    let (candidates, directive) = runtime.block_on(candidates(args));
    let mut text = String::new();
    for c in candidates {
        let c = if descriptions {
            c
        } else {
            c.split('\t').next().unwrap_or_default().to_string()
        };
        let c = c.lines().next().unwrap_or_default().trim();
        text.push_str(c);
        text.push('\n');
    }
    text.push_str(&format!(":{directive}\n"));
    print!("{text}");
    eprintln!("Completion ended with directive: {}", directive_names(directive));
    0
}

fn directive_names(d: u32) -> String {
    let names = [
        (ERROR, "ShellCompDirectiveError"),
        (NO_SPACE, "ShellCompDirectiveNoSpace"),
        (NO_FILE, "ShellCompDirectiveNoFileComp"),
        (FILTER_EXT, "ShellCompDirectiveFilterFileExt"),
        (16, "ShellCompDirectiveFilterDirs"),
        (32, "ShellCompDirectiveKeepOrder"),
    ];
    let set: Vec<&str> = names.iter().filter(|(b, _)| d & b != 0).map(|(_, n)| *n).collect();
    if set.is_empty() {
        "ShellCompDirectiveDefault".into()
    } else {
        set.join(", ")
    }
}

/// A flag as completion sees it.
struct Flag {
    long: Option<String>,
    short: Option<char>,
    help: String,
    /// Takes its value as the next argument (`-n NS`), unlike booleans.
    takes_value: bool,
    /// May be given several times.
    repeated: bool,
}

fn flag_of(a: &Arg) -> Option<Flag> {
    if a.is_positional() || a.is_hide_set() || a.get_id() == "help" {
        return None;
    }
    let takes = a.get_action().takes_values() && a.get_num_args().is_none_or(|n| n.min_values() > 0);
    Some(Flag {
        long: a.get_long().map(str::to_string),
        short: a.get_short(),
        help: a.get_help().map(|h| h.to_string()).unwrap_or_default(),
        takes_value: takes,
        repeated: matches!(a.get_action(), clap::ArgAction::Append),
    })
}

/// The command the words select, its path, and its flags split into inherited (global) and
/// local ones, each sorted by name as pflag visits them, `--help` among the local ones.
struct Found<'a> {
    cmd: &'a clap::Command,
    path: Vec<String>,
    inherited: Vec<Flag>,
    local: Vec<Flag>,
}

impl Found<'_> {
    fn flags(&self) -> impl Iterator<Item = &Flag> {
        self.inherited.iter().chain(self.local.iter())
    }

    fn by_long(&self, name: &str) -> Option<&Flag> {
        self.flags().find(|f| f.long.as_deref() == Some(name))
    }

    fn by_short(&self, c: char) -> Option<&Flag> {
        self.flags().find(|f| f.short == Some(c))
    }

    /// The flag an argument names (`--x`, `--x=v`, `-x`, the last of `-abx`).
    fn named(&self, arg: &str) -> Option<&Flag> {
        let name = arg.split('=').next().unwrap_or_default();
        if let Some(long) = name.strip_prefix("--") {
            self.by_long(long)
        } else {
            name.strip_prefix('-')
                .and_then(|s| s.chars().last())
                .and_then(|c| self.by_short(c))
        }
    }
}

fn sorted_flags(cmd: &clap::Command, global: bool) -> Vec<Flag> {
    let mut flags: Vec<Flag> = cmd
        .get_arguments()
        .filter(|a| a.is_global_set() == global)
        .filter_map(flag_of)
        .collect();
    flags.sort_by(|a, b| a.long.cmp(&b.long));
    flags
}

fn find<'a>(root: &'a clap::Command, args: &[String]) -> (Found<'a>, usize) {
    let inherited = sorted_flags(root, true);
    let mut cmd = root;
    let mut path = vec!["kubectl".to_string()];
    let mut used = 0;
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a == "--" {
            break;
        }
        if a.starts_with('-') && a.len() > 1 {
            // A flag; skip its value when it takes one as the next argument.
            let probe = Found {
                cmd,
                path: Vec::new(),
                inherited: sorted_flags(root, true),
                local: sorted_flags(cmd, false),
            };
            if !a.contains('=')
                && probe.named(a).is_some_and(|f| f.takes_value)
                && (a.starts_with("--") || a.chars().count() == 2)
            {
                i += 1;
            }
            i += 1;
            continue;
        }
        match cmd
            .get_subcommands()
            .find(|c| c.get_name() == a || c.get_all_aliases().any(|al| al == a))
        {
            Some(sub) => {
                cmd = sub;
                path.push(sub.get_name().to_string());
                used = i + 1;
                i += 1;
            }
            None => break,
        }
    }
    let mut local = sorted_flags(cmd, false);
    local.push(Flag {
        long: Some("help".into()),
        short: Some('h'),
        help: format!("help for {}", path.last().map(String::as_str).unwrap_or("kubectl")),
        takes_value: false,
        repeated: false,
    });
    local.sort_by(|a, b| a.long.cmp(&b.long));
    (
        Found {
            cmd,
            path,
            inherited,
            local,
        },
        used,
    )
}

/// The arguments after the command words: positional arguments and the flags given, as
/// cobra's flag parsing sees them; the global flags (for the connection) are filled in after.
struct Parsed {
    positional: Vec<String>,
    set: BTreeSet<String>,
    local_set: bool,
    dashdash: bool,
    global: GlobalArgs,
}

fn parse_flags(f: &Found<'_>, args: &[String]) -> Parsed {
    let mut p = Parsed {
        positional: Vec::new(),
        set: BTreeSet::new(),
        local_set: false,
        dashdash: false,
        global: GlobalArgs::default(),
    };
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if p.dashdash || !a.starts_with('-') || a == "-" {
            p.positional.push(a.clone());
            i += 1;
            continue;
        }
        if a == "--" {
            p.dashdash = true;
            i += 1;
            continue;
        }
        let Some(flag) = f.named(a) else {
            i += 1;
            continue;
        };
        if !a.contains('=') && flag.takes_value && (a.starts_with("--") || a.chars().count() == 2) {
            i += 1;
        }
        i += 1;
        let name = flag.long.clone().unwrap_or_default();
        p.set.insert(name.clone());
        let global = f.inherited.iter().any(|g| g.long.as_deref() == Some(name.as_str()));
        if !global && name != "help" {
            p.local_set = true;
        }
    }
    p
}

/// The global flags among `args`, with their values, for parsing into `GlobalArgs`.
fn global_tokens(f: &Found<'_>, args: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a == "--" {
            break;
        }
        let flag = if a.starts_with('-') && a.len() > 1 {
            f.named(a)
        } else {
            None
        };
        let Some(flag) = flag else {
            i += 1;
            continue;
        };
        let two_words = !a.contains('=') && flag.takes_value && (a.starts_with("--") || a.chars().count() == 2);
        let global = f.inherited.iter().any(|g| g.long == flag.long);
        if global {
            out.push(a.clone());
            if two_words && let Some(v) = args.get(i + 1) {
                out.push(v.clone());
            }
        }
        i += if two_words { 2 } else { 1 };
    }
    out
}

/// The flags upstream marks required, offered before anything else (as cobra does).
fn required_flags(path: &[&str]) -> &'static [(&'static str, &'static str)] {
    match path {
        ["scale"] => &[("replicas", "The new desired number of replicas. Required.")],
        ["autoscale"] => &[(
            "max",
            "The upper limit for the number of pods that can be set by the autoscaler. Required.",
        )],
        ["run"] => &[("image", "The image for the container to run.")],
        ["create", "deployment"] => &[(
            "image",
            "Image names to run. A deployment can have multiple images set for multi-container pod.",
        )],
        ["create", "cronjob"] => &[
            ("image", "Image name to run."),
            ("schedule", "A schedule in the Cron format the job should be run with."),
        ],
        _ => &[],
    }
}

fn with_prefix(items: impl IntoIterator<Item = String>, prefix: &str) -> Vec<String> {
    items.into_iter().filter(|i| i.starts_with(prefix)).collect()
}

const GET_OUTPUTS: &[&str] = &[
    "json",
    "yaml",
    "name",
    "go-template",
    "go-template-file",
    "template",
    "templatefile",
    "jsonpath",
    "jsonpath-as-json",
    "jsonpath-file",
    "custom-columns",
    "custom-columns-file",
    "wide",
];

/// Candidates and directive for `__complete ARGS…` (the last argument is being typed).
async fn candidates(args: &[String]) -> (Vec<String>, u32) {
    let root = {
        let mut c = Cli::command();
        c.build();
        c
    };
    let Some((to_complete, before)) = args.split_last() else {
        return (Vec::new(), 0);
    };
    let (found, used) = find(&root, before);
    // An unknown first word: a plugin or a typo; nothing to offer (upstream's debug lines).
    if found.path.len() == 1 && before[used..].iter().any(|a| !a.starts_with('-') && !a.is_empty()) {
        eprintln!("[Debug] Cleared global flags for plugin completion");
        eprintln!(
            "[Debug] [Error] unable to find a command for arguments: [{}]",
            before.join(" ")
        );
        return (Vec::new(), 0);
    }
    let mut rest: Vec<String> = before[used..].to_vec();
    let mut to_complete = to_complete.clone();
    let dashdash = rest.iter().any(|a| a == "--");

    // A flag's value: `--flag=<TAB>`, `-f=<TAB>`, or `--flag <TAB>`.
    let mut value_of: Option<String> = None;
    if !dashdash && to_complete.starts_with('-') {
        if let Some((name, value)) = to_complete.clone().split_once('=') {
            match found.named(name) {
                Some(flag) => value_of = flag.long.clone(),
                None => return (Vec::new(), 0),
            }
            to_complete = value.to_string();
        }
    } else if !dashdash
        && let Some(prev) = rest
            .last()
            .filter(|p| p.starts_with('-') && p.len() > 1 && !p.contains('='))
        && let Some(flag) = found.named(prev).filter(|f| f.takes_value)
        && (prev.starts_with("--") || prev.chars().count() == 2)
    {
        value_of = flag.long.clone();
        rest.pop();
    }
    let mut parsed = parse_flags(&found, &rest);
    // Global flags may also come before the command words (`-n ns get pods`).
    let leading = parse_flags(&found, &before[..used]);
    let mut argv = vec!["kubectl".to_string()];
    argv.extend(global_tokens(&found, &before[..used]));
    argv.extend(global_tokens(&found, &rest));
    if let Ok(cli) = <Cli as clap::Parser>::try_parse_from(&argv) {
        parsed.global = cli.global;
    }
    parsed.set.extend(leading.set);
    let path: Vec<&str> = found.path.iter().skip(1).map(String::as_str).collect();
    let required: Vec<String> = required_flags(&path)
        .iter()
        .filter(|(name, _)| !parsed.set.contains(*name) && format!("--{name}").starts_with(to_complete.as_str()))
        .map(|(name, help)| format!("--{name}\t{help}"))
        .collect();
    if parsed.set.contains("help") {
        return (Vec::new(), NO_FILE);
    }
    if let Some(flag) = value_of {
        return flag_values(&found, &parsed, &flag, &to_complete).await;
    }
    // Flag names: the required ones when any is missing, else all.
    if !parsed.dashdash && to_complete.starts_with('-') {
        if !required.is_empty() {
            return (required, NO_FILE);
        }
        let mut out = Vec::new();
        for f in found.flags() {
            if let Some(long) = &f.long
                && parsed.set.contains(long)
                && !f.repeated
            {
                continue;
            }
            if let Some(long) = &f.long {
                let name = format!("--{long}");
                if name.starts_with(&to_complete) {
                    out.push(format!("{name}\t{}", f.help));
                }
            }
            if let Some(s) = f.short {
                let name = format!("-{s}");
                if name.starts_with(&to_complete) {
                    out.push(format!("{name}\t{}", f.help));
                }
            }
        }
        return (out, NO_FILE);
    }
    let mut out = Vec::new();
    let mut directive = 0;
    // Subcommands.
    if parsed.positional.is_empty() && !parsed.local_set && found.cmd.has_subcommands() {
        let mut subs: Vec<&clap::Command> = found.cmd.get_subcommands().filter(|c| !c.is_hide_set()).collect();
        subs.sort_by_key(|c| c.get_name());
        for c in subs {
            if c.get_name().starts_with(to_complete.as_str()) {
                let about = c.get_about().map(|a| a.to_string()).unwrap_or_default();
                out.push(format!("{}\t{about}", c.get_name()));
            }
        }
        directive = NO_FILE;
    }
    out.extend(required);
    let args = &parsed.positional;
    let (more, d) = match path.as_slice() {
        ["completion"] => {
            let shells = if args.is_empty() {
                with_prefix(SHELLS.iter().map(|s| s.to_string()), &to_complete)
            } else {
                Vec::new()
            };
            (shells, NO_FILE)
        }
        ["get"] | ["describe"] | ["delete"] | ["label"] | ["annotate"] | ["patch"] => {
            type_and_name(&parsed, None, true, &to_complete).await
        }
        ["scale"] => {
            let types = ["deployment", "replicaset", "replicationcontroller", "statefulset"];
            type_and_name(&parsed, Some(&types), true, &to_complete).await
        }
        ["rollout", "pause" | "resume"] => type_and_name(&parsed, Some(&["deployment"]), true, &to_complete).await,
        ["rollout", _] => {
            let types = ["deployment", "daemonset", "statefulset"];
            type_and_name(&parsed, Some(&types), true, &to_complete).await
        }
        ["set", "image"] => {
            let types = [
                "daemonsets",
                "deployments",
                "pods",
                "cronjobs",
                "replicasets",
                "replicationcontrollers",
                "statefulsets",
            ];
            type_and_name(&parsed, Some(&types), true, &to_complete).await
        }
        ["expose"] => {
            let types = ["deployment", "pod", "replicaset", "replicationcontroller", "service"];
            type_and_name(&parsed, Some(&types), false, &to_complete).await
        }
        ["autoscale"] => {
            let types = ["deployment", "replicaset", "replicationcontroller", "statefulset"];
            type_and_name(&parsed, Some(&types), false, &to_complete).await
        }
        ["taint"] => type_and_name(&parsed, Some(&["node"]), true, &to_complete).await,
        ["cordon"] | ["uncordon"] | ["drain"] | ["top", "node"] => {
            let names = if args.is_empty() {
                names_of(&parsed.global, "node", &to_complete).await
            } else {
                Vec::new()
            };
            (names, NO_FILE)
        }
        ["top", "pod"] => {
            let names = if args.is_empty() {
                names_of(&parsed.global, "pod", &to_complete).await
            } else {
                Vec::new()
            };
            (names, NO_FILE)
        }
        [
            "config",
            "use-context" | "delete-context" | "get-contexts" | "set-context",
        ] => {
            let names = if args.is_empty() {
                kubeconfig_names(&parsed.global, |c| c.contexts.keys().cloned().collect(), &to_complete)
            } else {
                Vec::new()
            };
            (names, NO_FILE)
        }
        ["config", "set-cluster"] => {
            let names = if args.is_empty() {
                kubeconfig_names(&parsed.global, |c| c.clusters.keys().cloned().collect(), &to_complete)
            } else {
                Vec::new()
            };
            (names, NO_FILE)
        }
        ["config", "set-credentials"] => {
            let names = if args.is_empty() {
                kubeconfig_names(&parsed.global, |c| c.users.keys().cloned().collect(), &to_complete)
            } else {
                Vec::new()
            };
            (names, NO_FILE)
        }
        _ => (Vec::new(), directive),
    };
    out.extend(more);
    (out, d | (directive & NO_FILE))
}

/// Values of a flag.
async fn flag_values(found: &Found<'_>, parsed: &Parsed, flag: &str, prefix: &str) -> (Vec<String>, u32) {
    let command = found.path.get(1).map(String::as_str).unwrap_or_default();
    match flag {
        "namespace" => (names_of(&parsed.global, "namespaces", prefix).await, NO_FILE),
        "context" => (
            kubeconfig_names(&parsed.global, |c| c.contexts.keys().cloned().collect(), prefix),
            NO_FILE,
        ),
        "cluster" => (
            kubeconfig_names(&parsed.global, |c| c.clusters.keys().cloned().collect(), prefix),
            NO_FILE,
        ),
        "user" => (
            kubeconfig_names(&parsed.global, |c| c.users.keys().cloned().collect(), prefix),
            NO_FILE,
        ),
        "output" if command == "get" => (with_prefix(GET_OUTPUTS.iter().map(|s| s.to_string()), prefix), NO_FILE),
        "output" if command != "version" && command != "config" && command != "auth" => {
            let formats = GET_OUTPUTS[..GET_OUTPUTS.len() - 3].iter().map(|s| s.to_string());
            (with_prefix(formats, prefix), NO_FILE)
        }
        "filename" => (vec!["json".into(), "yaml".into(), "yml".into()], FILTER_EXT),
        _ => (Vec::new(), 0),
    }
}

fn kubeconfig_names(
    g: &GlobalArgs,
    pick: impl Fn(&crate::kubeconfig::Config) -> Vec<String>,
    prefix: &str,
) -> Vec<String> {
    let sources = crate::kubeconfig::Sources::from_env(g.kubeconfig.as_deref());
    match sources.load() {
        Ok(cfg) => with_prefix(pick(&cfg), prefix),
        Err(_) => Vec::new(),
    }
}

/// Resource types as `api-resources -o name --cached --verbs=get` lists them; after a comma,
/// the last type of a list is completed.
async fn resource_types(g: &GlobalArgs, to_complete: &str) -> Vec<String> {
    let Ok(mut s) = Session::open(g, "kubectl").await else {
        return Vec::new();
    };
    let Ok(d) = s.discovery(false).await else {
        return Vec::new();
    };
    let (prefix, suffix) = match to_complete.rfind(',') {
        Some(i) => to_complete.split_at(i + 1),
        None => ("", to_complete),
    };
    let a = crate::cli::ApiResourcesArgs {
        verbs: vec!["get".into()],
        ..Default::default()
    };
    super::api_resources::filter_and_sort(super::api_resources::preferred(d), &a)
        .into_iter()
        .map(|r| r.group_resource())
        .filter(|n| n.starts_with(suffix))
        .map(|n| format!("{prefix}{n}"))
        .collect()
}

/// Names of the objects of `types` (a type or `a,b` list) in the namespace the flags and
/// kubeconfig select, that start with `prefix`.
async fn names_of(g: &GlobalArgs, types: &str, prefix: &str) -> Vec<String> {
    let Ok(mut s) = Session::open(g, "kubectl").await else {
        return Vec::new();
    };
    let Ok(pairs) = crate::resources::split_args(&[types.to_string()]) else {
        return Vec::new();
    };
    let targets = match s.discovery(false).await {
        Ok(d) => crate::resources::resolve_all(d, &pairs).ok(),
        Err(_) => None,
    };
    let Some(targets) = targets else {
        return Vec::new();
    };
    let ns = s.conn.namespace.clone();
    let mut out = Vec::new();
    for t in targets {
        let path = t.resource.path(Some(&ns));
        let Ok(reply) = crate::http::get(s.client(), &path, crate::http::ACCEPT_JSON).await else {
            continue;
        };
        let Ok(list) = serde_json::from_slice::<serde_json::Value>(&reply.body) else {
            continue;
        };
        for item in list["items"].as_array().into_iter().flatten() {
            if let Some(n) = item["metadata"]["name"].as_str()
                && n.starts_with(prefix)
            {
                out.push(n.to_string());
            }
        }
    }
    out
}

/// Upstream's resource type and name completion: `TYPE <names…>`, or types (with `/` when
/// the `TYPE/NAME` form is in use), or `TYPE/NAME`; `allowed` limits the types, and
/// `repeat` allows more than one name.
async fn type_and_name(
    parsed: &Parsed,
    allowed: Option<&[&str]>,
    repeat: bool,
    to_complete: &str,
) -> (Vec<String>, u32) {
    let args = &parsed.positional;
    let g = &parsed.global;
    let mut directive = NO_FILE;
    let types = |prefix: &str| -> Option<Vec<String>> {
        allowed.map(|a| {
            a.iter()
                .map(|t| t.to_string())
                .filter(|t| t.starts_with(prefix))
                .collect()
        })
    };
    let mut comps = Vec::new();
    if let Some(first) = args.first().filter(|a| !a.contains('/')) {
        if repeat || args.len() == 1 {
            comps = names_of(g, first, to_complete).await;
            comps.retain(|c| !args[1..].contains(c));
        }
    } else if let Some(slash) = to_complete.find('/') {
        if repeat || args.is_empty() {
            let (ty, name) = (&to_complete[..slash], &to_complete[slash + 1..]);
            comps = names_of(g, ty, name)
                .await
                .into_iter()
                .map(|n| format!("{ty}/{n}"))
                .collect();
            comps.retain(|c| !args.contains(c));
        }
    } else if args.is_empty() {
        comps = match types(to_complete) {
            Some(t) => t,
            None => resource_types(g, to_complete).await,
        };
    } else if repeat {
        directive |= NO_SPACE;
        comps = match types(to_complete) {
            Some(t) => t,
            None => resource_types(g, to_complete).await,
        }
        .into_iter()
        .map(|t| format!("{t}/"))
        .collect();
    }
    (comps, directive)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete(words: &[&str]) -> (Vec<String>, u32) {
        let args: Vec<String> = words.iter().map(|w| w.to_string()).collect();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(candidates(&args))
    }

    fn names(words: &[&str]) -> Vec<String> {
        complete(words)
            .0
            .iter()
            .map(|c| c.split('\t').next().unwrap_or_default().to_string())
            .collect()
    }

    #[test]
    fn commands_flags_and_values() {
        assert_eq!(
            complete(&["ge"]),
            (vec!["get\tDisplay one or many resources".to_string()], NO_FILE)
        );
        assert_eq!(names(&["rollout", "re"]), ["restart", "resume"]);
        assert_eq!(names(&["completion", ""]), SHELLS);
        assert_eq!(complete(&["completion", "bash", ""]), (vec![], NO_FILE));
        assert_eq!(
            names(&["get", "--output=jsonpath-"]),
            ["jsonpath-as-json", "jsonpath-file"]
        );
        assert_eq!(names(&["get", "-o", "ya"]), ["yaml"]);
        assert_eq!(
            complete(&["apply", "-f", ""]),
            (vec!["json".into(), "yaml".into(), "yml".into()], FILTER_EXT)
        );
        // Inherited flags first, then the command's own (with --help), each sorted by name.
        let get = names(&["get", "--"]);
        let ns = get.iter().position(|f| f == "--namespace").expect("--namespace");
        let all = get
            .iter()
            .position(|f| f == "--all-namespaces")
            .expect("--all-namespaces");
        assert!(ns < all, "{get:?}");
        assert!(get.contains(&"--help".to_string()));
        assert_eq!(names(&["get", "-A"]), ["-A"]);
        // A flag already given is not offered again.
        assert!(!names(&["get", "--show-labels", "--"]).contains(&"--show-labels".to_string()));
        // Required flags come first, and alone among flags while missing.
        assert_eq!(names(&["scale", "--"]), ["--replicas"]);
        assert_eq!(names(&["scale", "--replicas=2", "--rep"]), Vec::<String>::new());
        assert_eq!(complete(&["get", "pods", "--help", ""]), (vec![], NO_FILE));
        assert_eq!(complete(&["foo", ""]), (vec![], 0));
        assert_eq!(
            directive_names(NO_SPACE | NO_FILE),
            "ShellCompDirectiveNoSpace, ShellCompDirectiveNoFileComp"
        );
    }

    #[test]
    fn usage_errors() {
        let mut out = Output::default();
        let e = run(&["tcsh".to_string()], &mut out).expect_err("unsupported");
        assert_eq!(
            e.to_string(),
            "error: Unsupported shell type \"tcsh\".\nSee 'kubectl completion -h' for help and examples"
        );
        assert!(run(&[], &mut out).is_err());
        assert_eq!(run(&["zsh".to_string()], &mut out).ok(), Some(0));
        assert!(out.stdout.starts_with("#compdef kubectl\n"));
    }
}
