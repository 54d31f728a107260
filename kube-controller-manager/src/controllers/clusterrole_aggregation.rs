//! clusterrole-aggregation: a ClusterRole with an `aggregationRule` gets as `rules` the rules of every other
//! ClusterRole its `clusterRoleSelectors` select — selector by selector, the selected roles by name, each rule once
//! — written by server-side apply as the field manager `clusterrole-aggregation-controller`. Any ClusterRole change
//! re-examines every aggregated role, since which roles feed which is not known in advance.

use super::Ctx;
use crate::informer::{Change, Informer};
use crate::queue::{Queue, run_workers};
use api_types::labels::Selector;
use k8s_openapi::api::rbac::v1::{ClusterRole, PolicyRule};
use kube::api::{Api, Patch, PatchParams, PostParams};
use std::sync::Arc;

const FIELD_MANAGER: &str = "clusterrole-aggregation-controller";

/// Rules compared as upstream's semantic equality does: an absent list equals an empty one.
fn same_rule(a: &PolicyRule, b: &PolicyRule) -> bool {
    let opt = |v: &Option<Vec<String>>| v.clone().unwrap_or_default();
    a.verbs == b.verbs
        && opt(&a.api_groups) == opt(&b.api_groups)
        && opt(&a.resources) == opt(&b.resources)
        && opt(&a.resource_names) == opt(&b.resource_names)
        && opt(&a.non_resource_urls) == opt(&b.non_resource_urls)
}

fn same_rules(a: &[PolicyRule], b: &[PolicyRule]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_rule(x, y))
}

/// The rules `role` aggregates from `all`; `None` when it has no aggregation rule, an error for a bad selector.
pub fn aggregate(role: &ClusterRole, all: &[Arc<ClusterRole>]) -> Result<Option<Vec<PolicyRule>>, String> {
    let Some(rule) = role.aggregation_rule.as_ref() else {
        return Ok(None);
    };
    let mut sorted: Vec<&ClusterRole> = all.iter().map(Arc::as_ref).collect();
    sorted.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    let mut rules: Vec<PolicyRule> = Vec::new();
    for selector in rule.cluster_role_selectors.iter().flatten() {
        let json = serde_json::to_value(selector).map_err(|e| e.to_string())?;
        let selector = Selector::from_label_selector_json(&json).map_err(|e| e.to_string())?;
        for other in &sorted {
            let labels = other.metadata.labels.as_ref();
            if other.metadata.name == role.metadata.name
                || !selector.matches(|k| labels.and_then(|l| l.get(k)).map(String::as_str))
            {
                continue;
            }
            for r in other.rules.iter().flatten() {
                if !rules.iter().any(|have| same_rule(have, r)) {
                    rules.push(r.clone());
                }
            }
        }
    }
    Ok(Some(rules))
}

pub async fn run(ctx: Ctx) -> anyhow::Result<()> {
    let roles = ctx.informers.get::<ClusterRole>();
    let queue = Queue::<String>::new();
    let (q, all) = (queue.clone(), roles.clone());
    // Every change, whatever it is, may alter what an aggregated role selects.
    roles.on_change(move |_: &Change<'_, ClusterRole>| {
        for role in all.list().iter().filter(|r| r.aggregation_rule.is_some()) {
            q.add(role.metadata.name.clone().unwrap_or_default());
        }
    });
    roles.synced().await;
    run_workers("ClusterRoleAggregator", queue, 5, move |name: String| {
        let (ctx, roles) = (ctx.clone(), roles.clone());
        async move { sync(&ctx, &roles, &name).await }
    })
    .await;
    Ok(())
}

async fn sync(ctx: &Ctx, roles: &Informer<ClusterRole>, name: &str) -> anyhow::Result<()> {
    let Some(role) = roles.get(name) else { return Ok(()) };
    let Some(rules) = aggregate(&role, &roles.list()).map_err(anyhow::Error::msg)? else {
        return Ok(());
    };
    if same_rules(&rules, role.rules.as_deref().unwrap_or_default()) {
        return Ok(());
    }
    let api: Api<ClusterRole> = Api::all(ctx.client.clone());
    let apply = serde_json::json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": name},
        "rules": rules,
    });
    let params = PatchParams::apply(FIELD_MANAGER).force();
    match api.patch(name, &params, &Patch::Apply(&apply)).await {
        // A server without server-side apply: a plain update instead, as upstream falls back.
        Err(kube::Error::Api(s)) if s.code == 415 => {
            let mut next = (*role).clone();
            next.rules = Some(rules);
            api.replace(name, &PostParams::default(), &next).await?;
        }
        other => {
            other?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::rbac::v1::AggregationRule;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

    fn rule(verb: &str, resource: &str) -> PolicyRule {
        PolicyRule {
            verbs: vec![verb.into()],
            api_groups: Some(vec![String::new()]),
            resources: Some(vec![resource.into()]),
            ..Default::default()
        }
    }

    fn role(name: &str, labels: &[(&str, &str)], rules: Vec<PolicyRule>) -> Arc<ClusterRole> {
        let mut r = ClusterRole::default();
        r.metadata.name = Some(name.into());
        r.metadata.labels = Some(labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
        r.rules = Some(rules);
        Arc::new(r)
    }

    fn selecting(label: &str) -> LabelSelector {
        LabelSelector {
            match_labels: Some([(label.to_string(), "true".to_string())].into()),
            ..Default::default()
        }
    }

    #[test]
    fn union_in_selector_then_name_order_without_duplicates() {
        let mut agg = (*role("agg", &[("a", "true")], vec![rule("delete", "x")])).clone();
        agg.aggregation_rule = Some(AggregationRule {
            cluster_role_selectors: Some(vec![selecting("b"), selecting("a")]),
        });
        let all = vec![
            Arc::new(agg.clone()),
            role(
                "z-role",
                &[("a", "true")],
                vec![rule("get", "pods"), rule("list", "pods")],
            ),
            role("m-role", &[("a", "true"), ("b", "true")], vec![rule("get", "pods")]),
            role("a-role", &[("a", "true")], vec![rule("watch", "pods")]),
            role("unlabelled", &[], vec![rule("*", "*")]),
        ];
        let rules = aggregate(&agg, &all).expect("valid").expect("aggregated");
        let verbs: Vec<&str> = rules.iter().map(|r| r.verbs[0].as_str()).collect();
        assert_eq!(verbs, ["get", "watch", "list"]);
        assert!(aggregate(&all[1], &all).expect("valid").is_none());
    }

    #[test]
    fn absent_and_empty_lists_are_the_same_rule() {
        let mut a = rule("get", "pods");
        let mut b = a.clone();
        a.resource_names = None;
        b.resource_names = Some(vec![]);
        assert!(same_rule(&a, &b));
        b.verbs.push("list".into());
        assert!(!same_rule(&a, &b));
    }
}
