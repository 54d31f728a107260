//! Kubeconfig files as client-go loads them: `--kubeconfig`, else the `$KUBECONFIG` list
//! (first file to set a name or `current-context` wins), else `~/.kube/config`; entries are
//! kept in upstream's v1 field order so `config view` prints what upstream prints.

pub mod client;
mod exec;

use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum KubeconfigError {
    #[error("{0}")]
    Read(String),
    #[error("error loading config file \"{path}\": {message}")]
    Parse { path: String, message: String },
    #[error("{0}")]
    Write(String),
}

/// One entry of a named list, with the file it came from (relative paths resolve against it).
#[derive(Debug, Clone)]
pub struct Entry {
    pub body: Value,
    pub origin: Option<PathBuf>,
}

/// A kubeconfig in memory: named clusters, users and contexts sorted by name, as client-go's
/// internal Config keeps them in maps.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub clusters: BTreeMap<String, Entry>,
    pub users: BTreeMap<String, Entry>,
    pub contexts: BTreeMap<String, Entry>,
    pub current_context: String,
    pub preferences: Value,
    pub extensions: Option<Value>,
}

/// Where the configuration came from, for writing changes back as upstream does.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// `--kubeconfig`, if given.
    pub explicit: Option<PathBuf>,
    /// The `$KUBECONFIG` list, if set and not empty.
    pub env_files: Vec<PathBuf>,
    /// `~/.kube/config`.
    pub global: PathBuf,
}

impl Sources {
    pub fn from_env(explicit: Option<&str>) -> Sources {
        let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
        let mut env_files: Vec<PathBuf> = Vec::new();
        if let Some(v) = std::env::var_os("KUBECONFIG") {
            for p in std::env::split_paths(&v) {
                if !p.as_os_str().is_empty() && !env_files.contains(&p) {
                    env_files.push(p);
                }
            }
        }
        Sources {
            explicit: explicit.filter(|s| !s.is_empty()).map(PathBuf::from),
            env_files,
            global: home.join(".kube").join("config"),
        }
    }

    /// The files in precedence order.
    pub fn precedence(&self) -> Vec<PathBuf> {
        if let Some(e) = &self.explicit {
            return vec![e.clone()];
        }
        if !self.env_files.is_empty() {
            return self.env_files.clone();
        }
        vec![self.global.clone()]
    }

    /// client-go's GetDefaultFilename: where new entries are written.
    pub fn default_file(&self) -> PathBuf {
        if let Some(e) = &self.explicit {
            return e.clone();
        }
        match self.env_files.as_slice() {
            [] => self.global.clone(),
            [one] => one.clone(),
            many => many
                .iter()
                .find(|p| p.exists())
                .cloned()
                .unwrap_or_else(|| many[many.len() - 1].clone()),
        }
    }

    /// Loads and merges every file.
    pub fn load(&self) -> Result<Config, KubeconfigError> {
        let mut merged = Config::default();
        let mut first = true;
        for path in self.precedence() {
            let cfg = match std::fs::read_to_string(&path) {
                Ok(text) => parse(&text, Some(&path))?,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    if self.explicit.is_some() {
                        return Err(KubeconfigError::Read(format!(
                            "stat {}: no such file or directory",
                            path.display()
                        )));
                    }
                    continue;
                }
                Err(e) => return Err(KubeconfigError::Read(format!("{}: {e}", path.display()))),
            };
            merged.merge_from(cfg, first);
            first = false;
        }
        if merged.preferences.is_null() {
            merged.preferences = json!({});
        }
        Ok(merged)
    }
}

/// Reads one file as its own config (missing → empty), for writing it back.
pub fn load_file(path: &Path) -> Result<Config, KubeconfigError> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let mut c = parse(&text, Some(path))?;
            if c.preferences.is_null() {
                c.preferences = json!({});
            }
            Ok(c)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config {
            preferences: json!({}),
            ..Default::default()
        }),
        Err(e) => Err(KubeconfigError::Read(format!("{}: {e}", path.display()))),
    }
}

/// Parses kubeconfig YAML (or JSON) text.
pub fn parse(text: &str, origin: Option<&Path>) -> Result<Config, KubeconfigError> {
    let err = |message: String| KubeconfigError::Parse {
        path: origin.map(|p| p.display().to_string()).unwrap_or_default(),
        message,
    };
    let raw: Value = if text.trim().is_empty() {
        Value::Null
    } else {
        serde_saphyr::from_str(text).map_err(|e| err(e.to_string()))?
    };
    let mut cfg = Config::default();
    let origin = origin.map(Path::to_path_buf);
    let named = |key: &str, inner: &str, norm: fn(&Value) -> Value| -> BTreeMap<String, Entry> {
        let mut out = BTreeMap::new();
        for item in raw[key].as_array().into_iter().flatten() {
            let name = item["name"].as_str().unwrap_or_default().to_string();
            out.entry(name).or_insert_with(|| Entry {
                body: norm(&item[inner]),
                origin: origin.clone(),
            });
        }
        out
    };
    cfg.clusters = named("clusters", "cluster", normalize_cluster);
    cfg.users = named("users", "user", normalize_user);
    cfg.contexts = named("contexts", "context", normalize_context);
    cfg.current_context = raw["current-context"].as_str().unwrap_or_default().to_string();
    if let Some(p) = raw.get("preferences").filter(|p| p.is_object()) {
        let mut m = Map::new();
        if let Some(c) = p.get("colors").filter(|c| c.as_bool() == Some(true)) {
            m.insert("colors".into(), c.clone());
        }
        if let Some(e) = p.get("extensions").filter(|e| !e.is_null()) {
            m.insert("extensions".into(), e.clone());
        }
        cfg.preferences = Value::Object(m);
    }
    cfg.extensions = raw.get("extensions").filter(|e| !e.is_null()).cloned();
    Ok(cfg)
}

fn copy_fields(src: &Value, fields: &[&str]) -> Map<String, Value> {
    let mut m = Map::new();
    for f in fields {
        match src.get(*f) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if s.is_empty() => {}
            Some(Value::Bool(false)) => {}
            Some(Value::Array(a)) if a.is_empty() => {}
            Some(v) => {
                m.insert(f.to_string(), v.clone());
            }
        }
    }
    m
}

fn normalize_cluster(c: &Value) -> Value {
    let mut m = copy_fields(
        c,
        &[
            "server",
            "tls-server-name",
            "insecure-skip-tls-verify",
            "certificate-authority",
            "certificate-authority-data",
            "proxy-url",
            "disable-compression",
            "extensions",
        ],
    );
    if !m.contains_key("server") {
        // `server` has no omitempty upstream.
        let mut with = Map::new();
        with.insert("server".into(), Value::String(String::new()));
        with.extend(m);
        m = with;
    }
    Value::Object(m)
}

fn normalize_user(u: &Value) -> Value {
    let mut m = copy_fields(
        u,
        &[
            "client-certificate",
            "client-certificate-data",
            "client-key",
            "client-key-data",
            "token",
            "tokenFile",
            "as",
            "as-uid",
            "as-groups",
            "as-user-extra",
            "username",
            "password",
            "auth-provider",
            "exec",
            "extensions",
        ],
    );
    if let Some(exec) = m.get("exec").cloned() {
        let mut e = Map::new();
        e.insert(
            "command".into(),
            exec.get("command").cloned().unwrap_or(Value::String(String::new())),
        );
        e.insert("args".into(), non_empty_list(exec.get("args")));
        e.insert("env".into(), non_empty_list(exec.get("env")));
        e.insert(
            "apiVersion".into(),
            exec.get("apiVersion").cloned().unwrap_or(Value::String(String::new())),
        );
        if let Some(h) = exec
            .get("installHint")
            .filter(|h| h.as_str().is_some_and(|s| !s.is_empty()))
        {
            e.insert("installHint".into(), h.clone());
        }
        e.insert(
            "provideClusterInfo".into(),
            Value::Bool(exec.get("provideClusterInfo").and_then(Value::as_bool).unwrap_or(false)),
        );
        let mode = exec.get("interactiveMode").and_then(Value::as_str).unwrap_or_default();
        let api = exec.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
        let mode = if mode.is_empty() && api == "client.authentication.k8s.io/v1beta1" {
            "IfAvailable"
        } else {
            mode
        };
        if !mode.is_empty() {
            e.insert("interactiveMode".into(), Value::String(mode.to_string()));
        }
        m.insert("exec".into(), Value::Object(e));
    }
    Value::Object(m)
}

fn non_empty_list(v: Option<&Value>) -> Value {
    match v {
        Some(Value::Array(a)) if !a.is_empty() => Value::Array(a.clone()),
        _ => Value::Null,
    }
}

fn normalize_context(c: &Value) -> Value {
    let mut m = Map::new();
    m.insert(
        "cluster".into(),
        c.get("cluster").cloned().unwrap_or(Value::String(String::new())),
    );
    m.insert(
        "user".into(),
        c.get("user").cloned().unwrap_or(Value::String(String::new())),
    );
    m.extend(copy_fields(c, &["namespace", "extensions"]));
    Value::Object(m)
}

impl Config {
    /// Adds what `next` sets and `self` does not (first file wins).
    pub fn merge_from(&mut self, next: Config, first: bool) {
        for (k, v) in next.clusters {
            self.clusters.entry(k).or_insert(v);
        }
        for (k, v) in next.users {
            self.users.entry(k).or_insert(v);
        }
        for (k, v) in next.contexts {
            self.contexts.entry(k).or_insert(v);
        }
        if self.current_context.is_empty() {
            self.current_context = next.current_context;
        }
        let empty_prefs = self.preferences.as_object().is_none_or(|m| m.is_empty());
        if (first || empty_prefs) && next.preferences.as_object().is_some_and(|m| !m.is_empty()) {
            self.preferences = next.preferences;
        }
        if self.extensions.is_none() {
            self.extensions = next.extensions;
        }
    }

    /// The v1 `Config` document in upstream's field order.
    pub fn to_value(&self) -> Value {
        let list = |m: &BTreeMap<String, Entry>, inner: &str| -> Value {
            if m.is_empty() {
                return Value::Null;
            }
            Value::Array(
                m.iter()
                    .map(|(name, e)| {
                        let mut o = Map::new();
                        o.insert("name".into(), Value::String(name.clone()));
                        o.insert(inner.into(), e.body.clone());
                        Value::Object(o)
                    })
                    .collect(),
            )
        };
        let mut o = Map::new();
        o.insert("kind".into(), json!("Config"));
        o.insert("apiVersion".into(), json!("v1"));
        o.insert(
            "preferences".into(),
            if self.preferences.is_object() {
                self.preferences.clone()
            } else {
                json!({})
            },
        );
        o.insert("clusters".into(), list(&self.clusters, "cluster"));
        o.insert("users".into(), list(&self.users, "user"));
        o.insert("contexts".into(), list(&self.contexts, "context"));
        o.insert("current-context".into(), Value::String(self.current_context.clone()));
        if let Some(e) = &self.extensions {
            o.insert("extensions".into(), e.clone());
        }
        Value::Object(o)
    }

    /// `config view` redaction: certificate and key data become DATA+OMITTED, tokens and
    /// passwords REDACTED.
    pub fn redact(&mut self) {
        for e in self.clusters.values_mut() {
            set_if_present(&mut e.body, "certificate-authority-data", "DATA+OMITTED");
        }
        for e in self.users.values_mut() {
            set_if_present(&mut e.body, "client-certificate-data", "DATA+OMITTED");
            set_if_present(&mut e.body, "client-key-data", "DATA+OMITTED");
            set_if_present(&mut e.body, "token", "REDACTED");
            set_if_present(&mut e.body, "password", "REDACTED");
        }
    }

    /// Keeps only the current context, its cluster and its user (`--minify`).
    pub fn minify(&mut self) -> Result<(), String> {
        if self.current_context.is_empty() {
            return Err("current-context must exist in order to minify".into());
        }
        let ctx = self
            .contexts
            .get(&self.current_context)
            .cloned()
            .ok_or_else(|| format!("cannot locate context {}", self.current_context))?;
        let cluster_name = ctx.body["cluster"].as_str().unwrap_or_default().to_string();
        let user_name = ctx.body["user"].as_str().unwrap_or_default().to_string();
        let cluster = self.clusters.get(&cluster_name).cloned();
        let user = self.users.get(&user_name).cloned();
        let cluster = cluster.ok_or_else(|| format!("cannot locate cluster {cluster_name}"))?;
        let user = user.ok_or_else(|| format!("cannot locate user {user_name}"))?;
        self.contexts = BTreeMap::from([(self.current_context.clone(), ctx)]);
        self.clusters = BTreeMap::from([(cluster_name, cluster)]);
        self.users = BTreeMap::from([(user_name, user)]);
        Ok(())
    }

    /// Writes this config to `path` as upstream does (YAML, mode 0600, directories created).
    pub fn write(&self, path: &Path) -> Result<(), KubeconfigError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| KubeconfigError::Write(format!("{}: {e}", dir.display())))?;
        }
        let text = crate::printers::yaml::to_yaml(&self.to_value());
        write_private(path, text.as_bytes()).map_err(|e| KubeconfigError::Write(format!("{}: {e}", path.display())))
    }
}

fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(data)
}

fn set_if_present(v: &mut Value, key: &str, replacement: &str) {
    if let Some(x) = v.get_mut(key)
        && x.as_str().is_some_and(|s| !s.is_empty())
    {
        *x = Value::String(replacement.to_string());
    }
}

/// Resolves a path from a kubeconfig entry against the directory of the file that holds it.
pub fn resolve_path(path: &str, origin: Option<&Path>) -> String {
    let p = Path::new(path);
    if p.is_absolute() || path.is_empty() {
        return path.to_string();
    }
    match origin.and_then(Path::parent) {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join(p).display().to_string(),
        _ => std::env::current_dir()
            .map(|d| d.join(p).display().to_string())
            .unwrap_or_else(|_| path.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "apiVersion: v1\nkind: Config\nclusters:\n- name: zeta\n  cluster:\n    server: https://a:1\n    certificate-authority-data: YWJj\n- name: alpha\n  cluster: {server: https://a:2, insecure-skip-tls-verify: true}\nusers:\n- name: u1\n  user: {token: secret, username: bob}\ncontexts:\n- name: c1\n  context: {cluster: zeta, user: u1, namespace: ns1}\n- name: c2\n  context: {cluster: alpha}\ncurrent-context: c1\n";
    const B: &str = "clusters:\n- name: zeta\n  cluster: {server: https://b:9}\n- name: beta\n  cluster: {server: https://b:3}\ncontexts:\n- name: c3\n  context: {cluster: beta, user: u9}\ncurrent-context: c3\npreferences: {colors: true}\n";

    fn merged(order: &[&str]) -> Config {
        let mut m = Config::default();
        for (i, text) in order.iter().enumerate() {
            let c = parse(text, None).expect("parse");
            m.merge_from(c, i == 0);
        }
        m
    }

    #[test]
    fn first_file_wins_names_and_current_context() {
        let m = merged(&[A, B]);
        assert_eq!(m.current_context, "c1");
        assert_eq!(m.clusters["zeta"].body["server"], "https://a:1");
        assert_eq!(m.clusters.keys().collect::<Vec<_>>(), vec!["alpha", "beta", "zeta"]);
        let m = merged(&[B, A]);
        assert_eq!(m.current_context, "c3");
        assert_eq!(m.clusters["zeta"].body["server"], "https://b:9");
        // The second file's entry is not merged field by field into the first's.
        assert!(m.clusters["zeta"].body.get("certificate-authority-data").is_none());
    }

    #[test]
    fn view_shape_and_redaction() {
        let mut m = merged(&[A]);
        m.redact();
        let y = crate::printers::yaml::to_yaml(&m.to_value());
        assert!(y.contains("certificate-authority-data: DATA+OMITTED"), "{y}");
        assert!(y.contains("token: REDACTED"), "{y}");
        assert!(
            y.contains("- context:\n    cluster: alpha\n    user: \"\"\n  name: c2\n"),
            "{y}"
        );
        assert!(y.contains("preferences: {}\n"), "{y}");
    }

    #[test]
    fn minify_keeps_current_only() {
        let mut m = merged(&[A]);
        m.minify().expect("minify");
        assert_eq!(m.clusters.len(), 1);
        assert_eq!(m.users.len(), 1);
        let mut m = merged(&[B]);
        assert_eq!(m.minify(), Err("cannot locate user u9".to_string()));
    }

    #[test]
    fn exec_defaults() {
        let c = parse(
            "users:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: foo\n",
            None,
        )
        .expect("parse");
        let e = &c.users["u"].body["exec"];
        assert_eq!(e["interactiveMode"], "IfAvailable");
        assert_eq!(e["args"], Value::Null);
        assert_eq!(e["provideClusterInfo"], false);
    }

    #[test]
    fn relative_paths_resolve_against_the_file() {
        assert_eq!(
            resolve_path("ca.crt", Some(Path::new("/etc/kube/config"))),
            "/etc/kube/ca.crt"
        );
        assert_eq!(resolve_path("/abs", Some(Path::new("/etc/kube/config"))), "/abs");
    }
}
