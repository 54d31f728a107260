//! KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1): profiles with their
//! schedulerName, plugins enabled and disabled per extension point with score weights,
//! pluginConfig arguments, percentageOfNodesToScore and the backoff bounds.

use crate::framework::Plugin;
use crate::plugins;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

pub const DEFAULT_SCHEDULER_NAME: &str = "default-scheduler";

/// One profile: a scheduler name and the plugins it runs.
pub struct Profile {
    pub scheduler_name: String,
    pub filters: Vec<Arc<dyn Plugin>>,
    pub scorers: Vec<(Arc<dyn Plugin>, i64)>,
    /// The profile's own percentageOfNodesToScore, else the global one.
    pub percentage_of_nodes_to_score: Option<u32>,
}

/// Settings from the file that flags also carry (the file wins, as upstream).
#[derive(Debug, Default, Clone)]
pub struct LeaderElection {
    pub leader_elect: Option<bool>,
    pub lease_duration: Option<Duration>,
    pub renew_deadline: Option<Duration>,
    pub retry_period: Option<Duration>,
    pub resource_name: Option<String>,
    pub resource_namespace: Option<String>,
}

pub struct Config {
    pub profiles: Vec<Profile>,
    /// 0 means upstream's adaptive default.
    pub percentage_of_nodes_to_score: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    pub kubeconfig: Option<std::path::PathBuf>,
    pub leader_election: LeaderElection,
}

impl Config {
    pub fn default_config() -> Config {
        Config::from_value(&serde_json::json!({}))
            .unwrap_or_else(|_| unreachable!("the default configuration is valid"))
    }

    /// Reads and validates a configuration file (YAML or JSON).
    pub fn load(path: &std::path::Path) -> Result<Config, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
        let v: Value = serde_saphyr::from_str(&text).map_err(|e| {
            // The YAML error carries a source excerpt on further lines; the first says it all.
            let e = e.to_string();
            format!("decoding {}: {}", path.display(), e.lines().next().unwrap_or_default())
        })?;
        let api = v.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
        let kind = v.get("kind").and_then(Value::as_str).unwrap_or_default();
        if api != "kubescheduler.config.k8s.io/v1" || kind != "KubeSchedulerConfiguration" {
            return Err(format!(
                "{}: no kind \"{kind}\" is registered for version \"{api}\"; want KubeSchedulerConfiguration in kubescheduler.config.k8s.io/v1",
                path.display()
            ));
        }
        Config::from_value(&v)
    }

    pub fn from_value(v: &Value) -> Result<Config, String> {
        let percentage = percentage(v.get("percentageOfNodesToScore"), "percentageOfNodesToScore")?.unwrap_or(0);
        let secs = |k: &str, default: u64| -> Result<Duration, String> {
            match v.get(k) {
                None | Some(Value::Null) => Ok(Duration::from_secs(default)),
                Some(x) => x
                    .as_u64()
                    .filter(|n| *n > 0)
                    .map(Duration::from_secs)
                    .ok_or_else(|| format!("{k}: Invalid value: {x}: must be greater than 0")),
            }
        };
        let initial_backoff = secs("podInitialBackoffSeconds", 1)?;
        let max_backoff = secs("podMaxBackoffSeconds", 10)?;
        if max_backoff < initial_backoff {
            return Err(
                "podMaxBackoffSeconds: Invalid value: must be greater than or equal to podInitialBackoffSeconds".into(),
            );
        }
        let default_profile = [serde_json::json!({})];
        let profiles = match v.get("profiles").and_then(Value::as_array) {
            Some(list) if !list.is_empty() => list.as_slice(),
            _ => &default_profile,
        };
        let profiles = profiles.iter().map(profile).collect::<Result<Vec<_>, _>>()?;
        let mut names = std::collections::HashSet::new();
        for p in &profiles {
            if !names.insert(p.scheduler_name.clone()) {
                return Err(format!(
                    "profiles[].schedulerName: Duplicate value: {:?}",
                    p.scheduler_name
                ));
            }
        }
        let le = v.get("leaderElection");
        let le_str = |k: &str| le.and_then(|l| l.get(k)).and_then(Value::as_str).map(String::from);
        let le_dur = |k: &str| -> Result<Option<Duration>, String> {
            le_str(k)
                .map(|s| api_types::duration::parse(&s).map_err(|e| format!("leaderElection.{k}: {e}")))
                .transpose()
        };
        Ok(Config {
            profiles,
            percentage_of_nodes_to_score: percentage,
            initial_backoff,
            max_backoff,
            kubeconfig: v
                .pointer("/clientConnection/kubeconfig")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(Into::into),
            leader_election: LeaderElection {
                leader_elect: le.and_then(|l| l.get("leaderElect")).and_then(Value::as_bool),
                lease_duration: le_dur("leaseDuration")?,
                renew_deadline: le_dur("renewDeadline")?,
                retry_period: le_dur("retryPeriod")?,
                resource_name: le_str("resourceName"),
                resource_namespace: le_str("resourceNamespace"),
            },
        })
    }
}

fn percentage(v: Option<&Value>, field: &str) -> Result<Option<u32>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(x) => x
            .as_u64()
            .filter(|n| *n <= 100)
            .map(|n| Some(n as u32))
            .ok_or_else(|| format!("{field}: Invalid value: {x}: not in valid range [0-100]")),
    }
}

/// `{enabled: [{name, weight}], disabled: [{name}]}` of one extension point.
fn plugin_set(p: &Value, point: &str) -> (Vec<(String, Option<i64>)>, Vec<String>) {
    let list = |k: &str| {
        p.pointer(&format!("/plugins/{point}/{k}"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let name = |e: &Value| e.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
    let enabled = list("enabled")
        .iter()
        .map(|e| (name(e), e.get("weight").and_then(Value::as_i64).filter(|w| *w != 0)))
        .collect();
    let disabled = list("disabled").iter().map(name).collect();
    (enabled, disabled)
}

fn apply_disabled(list: &mut Vec<(String, i64)>, disabled: &[String]) {
    if disabled.iter().any(|d| d == "*") {
        list.clear();
    }
    list.retain(|(n, _)| !disabled.contains(n));
}

fn check_known(name: &str) -> Result<(), String> {
    if plugins::DEFAULTS.iter().any(|(n, _)| *n == name) || plugins::ACCEPTED_NOOPS.contains(&name) {
        Ok(())
    } else {
        Err(format!("plugin {name:?} does not exist"))
    }
}

fn profile(p: &Value) -> Result<Profile, String> {
    let scheduler_name = p
        .get("schedulerName")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .unwrap_or(DEFAULT_SCHEDULER_NAME)
        .to_string();
    // Start from the default plugins, then multiPoint, then the per-point sets.
    let mut filters: Vec<(String, i64)> = Vec::new();
    let mut scorers: Vec<(String, i64)> = Vec::new();
    for (name, weight) in plugins::DEFAULTS {
        if plugins::has_filter(name) {
            filters.push((name.to_string(), 0));
        }
        if plugins::has_score(name) {
            scorers.push((name.to_string(), *weight));
        }
    }
    let (mp_enabled, mp_disabled) = plugin_set(p, "multiPoint");
    apply_disabled(&mut filters, &mp_disabled);
    apply_disabled(&mut scorers, &mp_disabled);
    for (name, weight) in &mp_enabled {
        check_known(name)?;
        if plugins::has_filter(name) && !filters.iter().any(|(n, _)| n == name) {
            filters.push((name.clone(), 0));
        }
        if plugins::has_score(name) {
            let w = weight.unwrap_or(1);
            match scorers.iter_mut().find(|(n, _)| n == name) {
                Some(s) => s.1 = weight.unwrap_or(s.1),
                None => scorers.push((name.clone(), w)),
            }
        }
    }
    for (point, list) in [("filter", &mut filters), ("score", &mut scorers)] {
        let (enabled, disabled) = plugin_set(p, point);
        apply_disabled(list, &disabled);
        for (name, weight) in enabled {
            check_known(&name)?;
            let supported = if point == "filter" {
                plugins::has_filter(&name)
            } else {
                plugins::has_score(&name)
            };
            if !supported {
                return Err(format!("plugin {name:?} does not extend {point} plugin"));
            }
            match list.iter_mut().find(|(n, _)| *n == name) {
                Some(s) => s.1 = weight.unwrap_or(s.1.max(1)),
                None => list.push((name, weight.unwrap_or(1))),
            }
        }
    }
    for (_, w) in &scorers {
        if !(0..=100).contains(w) {
            return Err(format!(
                "profiles[{scheduler_name}].plugins.score: weight {w} is not in range [1-100]"
            ));
        }
    }
    let args = |name: &str| -> Option<Value> {
        p.get("pluginConfig")
            .and_then(Value::as_array)?
            .iter()
            .find(|c| c.get("name").and_then(Value::as_str) == Some(name))
            .and_then(|c| c.get("args").cloned())
    };
    // One instance per plugin, shared by its extension points.
    let mut instances: std::collections::HashMap<String, Arc<dyn Plugin>> = std::collections::HashMap::new();
    let mut instance = |name: &str| -> Result<Arc<dyn Plugin>, String> {
        if let Some(p) = instances.get(name) {
            return Ok(p.clone());
        }
        let p = plugins::new(name, args(name).as_ref())?;
        instances.insert(name.to_string(), p.clone());
        Ok(p)
    };
    let filters = filters
        .iter()
        .map(|(n, _)| instance(n))
        .collect::<Result<Vec<_>, _>>()?;
    let scorers = scorers
        .iter()
        .map(|(n, w)| instance(n).map(|p| (p, *w)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Profile {
        scheduler_name,
        filters,
        scorers,
        percentage_of_nodes_to_score: percentage(p.get("percentageOfNodesToScore"), "percentageOfNodesToScore")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn names(p: &Profile) -> (Vec<&str>, Vec<(&str, i64)>) {
        (
            p.filters.iter().map(|f| f.name()).collect(),
            p.scorers.iter().map(|(s, w)| (s.name(), *w)).collect(),
        )
    }

    #[test]
    fn default_profile_has_upstream_weights() {
        let c = Config::default_config();
        let (filters, scorers) = names(&c.profiles[0]);
        assert_eq!(c.profiles[0].scheduler_name, "default-scheduler");
        assert_eq!(filters.len(), 8);
        assert!(scorers.contains(&("TaintToleration", 3)));
        assert!(scorers.contains(&("NodeResourcesFit", 1)));
        assert_eq!(c.initial_backoff, Duration::from_secs(1));
    }

    #[test]
    fn profiles_enable_disable_and_weigh() {
        let c = Config::from_value(&json!({"percentageOfNodesToScore": 30, "profiles": [
            {"schedulerName": "a", "plugins": {"score": {"disabled": [{"name": "*"}], "enabled": [{"name": "NodeResourcesFit", "weight": 5}]}}},
            {"schedulerName": "b", "plugins": {"multiPoint": {"disabled": [{"name": "TaintToleration"}]}}},
        ]}))
        .expect("config");
        assert_eq!(c.percentage_of_nodes_to_score, 30);
        assert_eq!(names(&c.profiles[0]).1, [("NodeResourcesFit", 5)]);
        let (filters, scorers) = names(&c.profiles[1]);
        assert!(!filters.contains(&"TaintToleration") && !scorers.iter().any(|(n, _)| *n == "TaintToleration"));
    }

    #[test]
    fn bad_configurations_are_refused() {
        let cases = [
            (json!({"percentageOfNodesToScore": 101}), "not in valid range"),
            (
                json!({"profiles": [{"plugins": {"filter": {"enabled": [{"name": "Nope"}]}}}]}),
                "does not exist",
            ),
            (
                json!({"profiles": [{"schedulerName": "x"}, {"schedulerName": "x"}]}),
                "Duplicate value",
            ),
            (
                json!({"profiles": [{"plugins": {"filter": {"enabled": [{"name": "ImageLocality"}]}}}]}),
                "does not extend filter",
            ),
            (json!({"podInitialBackoffSeconds": 0}), "must be greater than 0"),
        ];
        for (v, want) in cases {
            let err = Config::from_value(&v).err().unwrap_or_default();
            assert!(err.contains(want), "{v}: {err}");
        }
    }
}
