//! `kubectl create <kind>`: the objects upstream's generators build (namespace, configmap,
//! secret generic|tls, serviceaccount, deployment, job, cronjob, role, clusterrole,
//! rolebinding, clusterrolebinding, service clusterip|nodeport, priorityclass, quota), created
//! on the server or printed with `--dry-run=client`.

use super::Session;
use super::write::{self, DryRun};
use crate::Output;
use crate::cli::GlobalArgs;
use crate::error::CmdError;
use clap::{Args, Subcommand};
use serde_json::{Map, Value, json};

#[derive(Args, Debug, Default, Clone)]
pub struct WriteFlags {
    /// Output format: json, yaml or name.
    #[arg(short = 'o', long)]
    pub output: Option<String>,
    /// Must be "none", "server", or "client".
    #[arg(long = "dry-run", num_args = 0..=1, require_equals = true, default_missing_value = "unchanged")]
    pub dry_run: Option<String>,
}

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct CreateArgs {
    #[command(subcommand)]
    pub command: Option<CreateCommand>,
    /// `create -f`: objects from files.
    #[command(flatten)]
    pub files: super::create_files::FileArgs,
}

#[derive(Args, Debug)]
pub struct Named {
    pub names: Vec<String>,
    #[command(flatten)]
    pub w: WriteFlags,
}

#[derive(Subcommand, Debug)]
pub enum CreateCommand {
    /// Create a namespace with the specified name
    #[command(alias = "ns")]
    Namespace(Named),
    /// Create a config map from a local file, directory or literal value
    #[command(name = "configmap", alias = "cm")]
    ConfigMap(ConfigMapArgs),
    /// Create a secret using a specified subcommand
    Secret(SecretArgs),
    /// Create a service account with the specified name
    #[command(name = "serviceaccount", alias = "sa")]
    ServiceAccount(Named),
    /// Create a deployment with the specified name
    #[command(alias = "deploy")]
    Deployment(DeploymentArgs),
    /// Create a job with the specified name
    Job(JobArgs),
    /// Create a cron job with the specified name
    #[command(name = "cronjob", alias = "cj")]
    CronJob(JobArgs),
    /// Create a role with single rule
    Role(RoleArgs),
    /// Create a cluster role
    #[command(name = "clusterrole")]
    ClusterRole(RoleArgs),
    /// Create a role binding for a particular role or cluster role
    #[command(name = "rolebinding")]
    RoleBinding(BindingArgs),
    /// Create a cluster role binding for a particular cluster role
    #[command(name = "clusterrolebinding")]
    ClusterRoleBinding(BindingArgs),
    /// Create a service using a specified subcommand
    #[command(alias = "svc")]
    Service(ServiceArgs),
    /// Create a priority class with the specified name
    #[command(name = "priorityclass", alias = "pc")]
    PriorityClass(PriorityClassArgs),
    /// Create a quota with the specified name
    #[command(alias = "resourcequota")]
    Quota(QuotaArgs),
}

#[derive(Args, Debug)]
pub struct ConfigMapArgs {
    #[command(flatten)]
    pub n: Named,
    #[arg(long = "from-literal")]
    pub from_literal: Vec<String>,
    #[arg(long = "from-file")]
    pub from_file: Vec<String>,
}

#[derive(Args, Debug)]
pub struct SecretArgs {
    #[command(subcommand)]
    pub command: SecretCommand,
}

#[derive(Subcommand, Debug)]
pub enum SecretCommand {
    /// Create a secret from a local file, directory, or literal value
    Generic(GenericSecretArgs),
    /// Create a TLS secret
    Tls(TlsSecretArgs),
}

#[derive(Args, Debug)]
pub struct GenericSecretArgs {
    #[command(flatten)]
    pub c: ConfigMapArgs,
    #[arg(long = "type")]
    pub type_: Option<String>,
}

#[derive(Args, Debug)]
pub struct TlsSecretArgs {
    #[command(flatten)]
    pub n: Named,
    #[arg(long)]
    pub cert: Option<String>,
    #[arg(long)]
    pub key: Option<String>,
}

#[derive(Args, Debug)]
pub struct DeploymentArgs {
    #[command(flatten)]
    pub n: Named,
    #[arg(long)]
    pub image: Vec<String>,
    #[arg(short = 'r', long, default_value_t = 1)]
    pub replicas: i32,
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    pub port: i32,
}

#[derive(Args, Debug)]
pub struct JobArgs {
    #[command(flatten)]
    pub n: Named,
    #[arg(long)]
    pub image: Option<String>,
    #[arg(long)]
    pub schedule: Option<String>,
    #[arg(long)]
    pub restart: Option<String>,
    /// The command after `--`.
    #[arg(last = true)]
    pub command: Vec<String>,
}

#[derive(Args, Debug)]
pub struct RoleArgs {
    #[command(flatten)]
    pub n: Named,
    #[arg(long, value_delimiter = ',')]
    pub verb: Vec<String>,
    #[arg(long, value_delimiter = ',')]
    pub resource: Vec<String>,
    #[arg(long = "resource-name")]
    pub resource_name: Vec<String>,
}

#[derive(Args, Debug)]
pub struct BindingArgs {
    #[command(flatten)]
    pub n: Named,
    #[arg(long)]
    pub role: Option<String>,
    #[arg(long)]
    pub clusterrole: Option<String>,
    #[arg(long)]
    pub user: Vec<String>,
    #[arg(long)]
    pub group: Vec<String>,
    #[arg(long)]
    pub serviceaccount: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ServiceArgs {
    #[command(subcommand)]
    pub command: ServiceCommand,
}

#[derive(Subcommand, Debug)]
pub enum ServiceCommand {
    /// Create a ClusterIP service
    #[command(name = "clusterip")]
    ClusterIp(ServicePortsArgs),
    /// Create a NodePort service
    #[command(name = "nodeport")]
    NodePort(ServicePortsArgs),
}

#[derive(Args, Debug)]
pub struct ServicePortsArgs {
    #[command(flatten)]
    pub n: Named,
    #[arg(long, value_delimiter = ',')]
    pub tcp: Vec<String>,
    #[arg(long)]
    pub clusterip: Option<String>,
    #[arg(long = "node-port", default_value_t = 0)]
    pub node_port: i32,
}

#[derive(Args, Debug)]
pub struct PriorityClassArgs {
    #[command(flatten)]
    pub n: Named,
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    pub value: i64,
    #[arg(long = "global-default", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub global_default: Option<bool>,
    #[arg(long)]
    pub description: Option<String>,
    #[arg(long = "preemption-policy", default_value = "PreemptLowerPriority")]
    pub preemption_policy: String,
}

#[derive(Args, Debug)]
pub struct QuotaArgs {
    #[command(flatten)]
    pub n: Named,
    #[arg(long)]
    pub hard: Option<String>,
}

/// `metadata` as Go's typed objects print it: creationTimestamp null.
fn metadata(name: &str) -> Value {
    json!({"name": name, "creationTimestamp": null})
}

/// The single NAME a generator needs.
fn one_name<'a>(names: &'a [String], command: &str) -> Result<&'a str, CmdError> {
    match names {
        [one] => Ok(one.as_str()),
        _ => Err(CmdError::Raw(format!(
            "error: exactly one NAME is required, got {}\nSee 'kubectl create {command} -h' for help and examples",
            names.len()
        ))),
    }
}

/// `--from-literal=k=v` and `--from-file=[key=]path` entries, as (key, bytes).
fn sources(literals: &[String], files: &[String]) -> Result<Vec<(String, Vec<u8>)>, CmdError> {
    let mut out = Vec::new();
    for l in literals {
        let (k, v) = l
            .split_once('=')
            .filter(|(k, _)| !k.is_empty())
            .ok_or_else(|| CmdError::msg(format!("invalid literal source {l}, expected key=value")))?;
        out.push((k.to_string(), v.as_bytes().to_vec()));
    }
    for f in files {
        let (key, path) = match f.split_once('=') {
            Some((k, p)) => (k.to_string(), p.to_string()),
            None => {
                let base = std::path::Path::new(f)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                (base, f.clone())
            }
        };
        let data = std::fs::read(&path).map_err(|e| CmdError::msg(format!("error reading {path}: {e}")))?;
        out.push((key, data));
    }
    Ok(out)
}

fn data_map(entries: Vec<(String, Vec<u8>)>, base64: bool) -> Map<String, Value> {
    use base64::Engine;
    let mut m = Map::new();
    for (k, v) in entries {
        let text = if base64 {
            base64::engine::general_purpose::STANDARD.encode(v)
        } else {
            String::from_utf8_lossy(&v).into_owned()
        };
        m.insert(k, Value::String(text));
    }
    m
}

/// Container name from an image (upstream's create deployment): the last path part, without
/// tag or digest, `_` as `-`.
fn container_name(image: &str) -> String {
    let last = image.rsplit('/').next().unwrap_or(image);
    let name = last.split(':').next().unwrap_or(last);
    let name = name.split('@').next().unwrap_or(name);
    name.replace('_', "-")
}

fn deployment(a: &DeploymentArgs, name: &str) -> Result<Value, CmdError> {
    if a.image.is_empty() {
        return Err(CmdError::msg("required flag(s) \"image\" not set"));
    }
    let containers: Vec<Value> = a
        .image
        .iter()
        .map(|image| {
            let mut c = json!({"name": container_name(image), "image": image, "resources": {}});
            if a.port >= 0 {
                c["ports"] = json!([{"containerPort": a.port}]);
            }
            c
        })
        .collect();
    let labels = json!({"app": name});
    let mut meta = metadata(name);
    meta["labels"] = labels.clone();
    Ok(json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
        "spec": {"replicas": a.replicas, "selector": {"matchLabels": labels}, "strategy": {},
                 "template": {"metadata": {"labels": labels, "creationTimestamp": null},
                              "spec": {"containers": containers}}},
        "status": {},
    }))
}

fn job_template(name: &str, image: &str, command: &[String], restart: &str) -> Value {
    let mut container = json!({"name": name, "image": image, "resources": {}});
    if !command.is_empty() {
        container["command"] = json!(command);
    }
    json!({"metadata": {"creationTimestamp": null},
           "spec": {"containers": [container], "restartPolicy": restart}})
}

/// One rule per API group (sorted), each with its resources in the order given.
async fn rules(s: &mut Session, a: &RoleArgs) -> Result<Vec<Value>, CmdError> {
    if a.verb.is_empty() {
        return Err(CmdError::msg("at least one verb must be specified"));
    }
    if a.resource.is_empty() {
        return Err(CmdError::msg("at least one resource must be specified"));
    }
    let known = s.discovery(false).await?.resources();
    let mut by_group: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for token in &a.resource {
        let (res, sub) = token
            .split_once('/')
            .map_or((token.as_str(), None), |(r, s)| (r, Some(s)));
        let (plural, group) = res.split_once('.').map_or((res, None), |(r, g)| (r, Some(g)));
        let found = known.iter().find(|r| {
            (r.name == plural || r.singular == plural || r.short_names.iter().any(|s| s == plural))
                && group.is_none_or(|g| r.group == g)
        });
        let Some(r) = found else {
            return Err(CmdError::msg(format!(
                "the server doesn't have a resource type \"{res}\""
            )));
        };
        let name = match sub {
            Some(sub) => format!("{}/{sub}", r.name),
            None => r.name.clone(),
        };
        let list = by_group.entry(r.group.clone()).or_default();
        if !list.contains(&name) {
            list.push(name);
        }
    }
    Ok(by_group
        .into_iter()
        .map(|(group, resources)| {
            let mut rule = json!({"apiGroups": [group], "resources": resources, "verbs": a.verb});
            if !a.resource_name.is_empty() {
                rule["resourceNames"] = json!(a.resource_name);
            }
            rule
        })
        .collect())
}

fn subjects(a: &BindingArgs) -> Result<Vec<Value>, CmdError> {
    let mut out = Vec::new();
    for u in &a.user {
        out.push(json!({"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": u}));
    }
    for g in &a.group {
        out.push(json!({"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": g}));
    }
    for sa in &a.serviceaccount {
        let (sa_ns, name) = sa
            .split_once(':')
            .filter(|(n, s)| !n.is_empty() && !s.is_empty())
            .ok_or_else(|| CmdError::msg(format!("serviceaccount must be <namespace>:<name>, got {sa:?}")))?;
        out.push(json!({"kind": "ServiceAccount", "namespace": sa_ns, "name": name}));
    }
    Ok(out)
}

fn service(a: &ServicePortsArgs, name: &str, kind: &str) -> Result<Value, CmdError> {
    let mut ports = Vec::new();
    for spec in &a.tcp {
        let (port, target) = spec.split_once(':').unwrap_or((spec.as_str(), spec.as_str()));
        let port: i64 = port
            .parse()
            .map_err(|_| CmdError::msg(format!("strconv.Atoi: parsing {port:?}: invalid syntax")))?;
        let target_value = match target.parse::<i64>() {
            Ok(n) => json!(n),
            Err(_) => json!(target),
        };
        let mut p =
            json!({"name": format!("{port}-{target}"), "port": port, "protocol": "TCP", "targetPort": target_value});
        if kind == "NodePort" && a.node_port > 0 {
            p["nodePort"] = json!(a.node_port);
        }
        ports.push(p);
    }
    let labels = json!({"app": name});
    let mut meta = metadata(name);
    meta["labels"] = labels.clone();
    let mut spec = json!({"ports": ports, "selector": labels, "type": kind});
    if let Some(ip) = &a.clusterip {
        spec["clusterIP"] = json!(ip);
    }
    Ok(
        json!({"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": spec,
              "status": {"loadBalancer": {}}}),
    )
}

pub async fn run(g: &GlobalArgs, a: CreateArgs, out: &mut Output) -> Result<i32, CmdError> {
    let Some(command) = a.command else {
        return super::create_files::create(g, a.files, out).await;
    };
    generate(g, command, out).await
}

/// `create <kind>`: one object from a generator.
async fn generate(g: &GlobalArgs, command: CreateCommand, out: &mut Output) -> Result<i32, CmdError> {
    let flags = match &command {
        CreateCommand::Namespace(n) | CreateCommand::ServiceAccount(n) => &n.w,
        CreateCommand::ConfigMap(c) => &c.n.w,
        CreateCommand::Secret(s) => match &s.command {
            SecretCommand::Generic(g) => &g.c.n.w,
            SecretCommand::Tls(t) => &t.n.w,
        },
        CreateCommand::Deployment(d) => &d.n.w,
        CreateCommand::Job(j) | CreateCommand::CronJob(j) => &j.n.w,
        CreateCommand::Role(r) | CreateCommand::ClusterRole(r) => &r.n.w,
        CreateCommand::RoleBinding(b) | CreateCommand::ClusterRoleBinding(b) => &b.n.w,
        CreateCommand::Service(s) => match &s.command {
            ServiceCommand::ClusterIp(p) | ServiceCommand::NodePort(p) => &p.n.w,
        },
        CreateCommand::PriorityClass(p) => &p.n.w,
        CreateCommand::Quota(q) => &q.n.w,
    }
    .clone();
    let dry_run = DryRun::parse(flags.dry_run.as_deref())?;
    write::check_output(flags.output.as_deref())?;
    let command_name = match &command {
        CreateCommand::Namespace(_) => "kubectl create namespace",
        CreateCommand::ConfigMap(_) => "kubectl create configmap",
        CreateCommand::Secret(s) => match s.command {
            SecretCommand::Generic(_) => "kubectl create secret generic",
            SecretCommand::Tls(_) => "kubectl create secret tls",
        },
        CreateCommand::ServiceAccount(_) => "kubectl create serviceaccount",
        CreateCommand::Deployment(_) => "kubectl create deployment",
        CreateCommand::Job(_) => "kubectl create job",
        CreateCommand::CronJob(_) => "kubectl create cronjob",
        CreateCommand::Role(_) => "kubectl create role",
        CreateCommand::ClusterRole(_) => "kubectl create clusterrole",
        CreateCommand::RoleBinding(_) => "kubectl create rolebinding",
        CreateCommand::ClusterRoleBinding(_) => "kubectl create clusterrolebinding",
        CreateCommand::Service(s) => match s.command {
            ServiceCommand::ClusterIp(_) => "kubectl create service clusterip",
            ServiceCommand::NodePort(_) => "kubectl create service nodeport",
        },
        CreateCommand::PriorityClass(_) => "kubectl create priorityclass",
        CreateCommand::Quota(_) => "kubectl create quota",
    };
    let short = command_name.trim_start_matches("kubectl create ");
    let obj = match &command {
        CreateCommand::Namespace(n) => {
            let name = one_name(&n.names, short)?;
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": metadata(name), "spec": {}, "status": {}})
        }
        CreateCommand::ServiceAccount(n) => {
            let name = one_name(&n.names, short)?;
            json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata(name)})
        }
        CreateCommand::ConfigMap(c) => {
            let name = one_name(&c.n.names, short)?;
            let data = data_map(sources(&c.from_literal, &c.from_file)?, false);
            let mut obj = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata(name)});
            if !data.is_empty() {
                obj["data"] = Value::Object(data);
            }
            obj
        }
        CreateCommand::Secret(sec) => match &sec.command {
            SecretCommand::Generic(gs) => {
                let name = one_name(&gs.c.n.names, short)?;
                let data = data_map(sources(&gs.c.from_literal, &gs.c.from_file)?, true);
                let mut obj = json!({"apiVersion": "v1", "kind": "Secret", "metadata": metadata(name)});
                if !data.is_empty() {
                    obj["data"] = Value::Object(data);
                }
                if let Some(t) = &gs.type_ {
                    obj["type"] = json!(t);
                }
                obj
            }
            SecretCommand::Tls(t) => {
                let name = one_name(&t.n.names, short)?;
                let (Some(cert), Some(key)) = (&t.cert, &t.key) else {
                    return Err(CmdError::msg("key and cert must be specified"));
                };
                let data = sources(&[], &[format!("tls.crt={cert}"), format!("tls.key={key}")])?;
                json!({"apiVersion": "v1", "kind": "Secret", "metadata": metadata(name),
                       "data": Value::Object(data_map(data, true)), "type": "kubernetes.io/tls"})
            }
        },
        CreateCommand::Deployment(d) => deployment(d, one_name(&d.n.names, short)?)?,
        CreateCommand::Job(j) => {
            let name = one_name(&j.n.names, short)?;
            let Some(image) = &j.image else {
                return Err(CmdError::msg("--image must be specified"));
            };
            json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": metadata(name),
                   "spec": {"template": job_template(name, image, &j.command, "Never")}, "status": {}})
        }
        CreateCommand::CronJob(j) => {
            let name = one_name(&j.n.names, short)?;
            let (Some(image), Some(schedule)) = (&j.image, &j.schedule) else {
                return Err(CmdError::msg("--image and --schedule must be specified"));
            };
            let restart = j.restart.as_deref().unwrap_or("OnFailure");
            json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": metadata(name),
                   "spec": {"schedule": schedule,
                            "jobTemplate": {"metadata": metadata(name),
                                            "spec": {"template": job_template(name, image, &j.command, restart)}}},
                   "status": {}})
        }
        CreateCommand::Role(r) | CreateCommand::ClusterRole(r) => {
            let name = one_name(&r.n.names, short)?;
            let mut s = Session::open(g, command_name).await?;
            let rules = rules(&mut s, r).await?;
            let kind = if matches!(command, CreateCommand::Role(_)) {
                "Role"
            } else {
                "ClusterRole"
            };
            let obj = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind,
                             "metadata": metadata(name), "rules": rules});
            write::create(&mut s, out, obj, dry_run, flags.output.as_deref()).await?;
            return Ok(0);
        }
        CreateCommand::RoleBinding(b) | CreateCommand::ClusterRoleBinding(b) => {
            let name = one_name(&b.n.names, short)?;
            let cluster = matches!(command, CreateCommand::ClusterRoleBinding(_));
            let role_ref = match (&b.role, &b.clusterrole) {
                (Some(r), None) if !cluster => {
                    json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": r})
                }
                (None, Some(r)) => json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": r}),
                (Some(_), Some(_)) => {
                    return Err(CmdError::msg("exactly one of clusterrole or role must be specified"));
                }
                _ if cluster => return Err(CmdError::msg("required flag(s) \"clusterrole\" not set")),
                _ => return Err(CmdError::msg("exactly one of clusterrole or role must be specified")),
            };
            let kind = if cluster { "ClusterRoleBinding" } else { "RoleBinding" };
            let mut obj = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind,
                                 "metadata": metadata(name), "roleRef": role_ref});
            let subjects = subjects(b)?;
            if !subjects.is_empty() {
                obj["subjects"] = json!(subjects);
            }
            obj
        }
        CreateCommand::Service(svc) => match &svc.command {
            ServiceCommand::ClusterIp(p) => service(p, one_name(&p.n.names, short)?, "ClusterIP")?,
            ServiceCommand::NodePort(p) => service(p, one_name(&p.n.names, short)?, "NodePort")?,
        },
        CreateCommand::PriorityClass(p) => {
            let name = one_name(&p.n.names, short)?;
            let mut obj = json!({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                                 "metadata": metadata(name), "value": p.value,
                                 "preemptionPolicy": p.preemption_policy});
            if p.global_default == Some(true) {
                obj["globalDefault"] = json!(true);
            }
            if let Some(d) = &p.description {
                obj["description"] = json!(d);
            }
            obj
        }
        CreateCommand::Quota(q) => {
            let name = one_name(&q.n.names, short)?;
            let mut hard = Map::new();
            for pair in q.hard.as_deref().unwrap_or("").split(',').filter(|p| !p.is_empty()) {
                let (k, v) = pair
                    .split_once('=')
                    .ok_or_else(|| CmdError::msg(format!("invalid argument {pair:?}: expected key=value")))?;
                hard.insert(k.to_string(), json!(v));
            }
            let mut spec = json!({});
            if !hard.is_empty() {
                spec["hard"] = Value::Object(hard);
            }
            json!({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": metadata(name), "spec": spec, "status": {}})
        }
    };
    let mut s = Session::open(g, command_name).await?;
    write::create(&mut s, out, obj, dry_run, flags.output.as_deref()).await?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_names_from_images() {
        assert_eq!(container_name("docker.io/library/nginx:1.27"), "nginx");
        assert_eq!(container_name("my_app@sha256:abc"), "my-app");
        assert_eq!(container_name("busybox"), "busybox");
    }

    #[test]
    fn literal_sources() {
        let s = sources(&["a=1".into(), "b==x".into()], &[]).unwrap();
        assert_eq!(s, vec![("a".into(), b"1".to_vec()), ("b".into(), b"=x".to_vec())]);
        assert_eq!(
            sources(&["x".into()], &[]).unwrap_err().to_string(),
            "error: invalid literal source x, expected key=value"
        );
    }
}
