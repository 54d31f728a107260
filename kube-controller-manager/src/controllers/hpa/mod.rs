//! horizontalpodautoscaler: every 15s (upstream's sync period) each HorizontalPodAutoscaler
//! (autoscaling/v2) reads its target's `scale` subresource, keeps replicas within
//! [minReplicas, maxReplicas], and, for Resource metrics, scales to
//! ceil(current × utilization / target) outside a 10% tolerance, using pod metrics from the
//! `metrics.k8s.io` API (served by a metrics server when one is installed), limited by
//! `spec.behavior` (`behavior`: stabilization windows and scaling policies).
//! Status (currentMetrics included), conditions (AbleToScale, ScalingActive, ScalingLimited) and events
//! (SuccessfulRescale, FailedGetScale, FailedGetResourceMetric) follow upstream.

mod behavior;

use super::Ctx;
use crate::events::{NORMAL, WARNING};
use crate::informer::{Change, key_of, split_key};
use crate::pods;
use crate::queue::{Queue, run_workers};
use api_types::quantity::Quantity;
use k8s_openapi::api::autoscaling::v2::{
    HorizontalPodAutoscaler, HorizontalPodAutoscalerCondition, HorizontalPodAutoscalerStatus, MetricSpec, MetricStatus,
    MetricValueStatus, ResourceMetricStatus,
};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SYNC_PERIOD: Duration = Duration::from_secs(15);
const TOLERANCE: f64 = 0.1;

/// The `scale` subresource path of a target, by its kind.
fn scale_path(ns: &str, api_version: &str, kind: &str, name: &str) -> Option<String> {
    let resource = match kind {
        "Deployment" => "deployments",
        "ReplicaSet" => "replicasets",
        "StatefulSet" => "statefulsets",
        "ReplicationController" => "replicationcontrollers",
        _ => return None,
    };
    let base = if api_version.contains('/') {
        format!("/apis/{api_version}")
    } else {
        format!("/api/{api_version}")
    };
    Some(format!("{base}/namespaces/{ns}/{resource}/{name}/scale"))
}

/// The replica count a utilization calls for (upstream's replica calculator): unchanged
/// within the tolerance, else the ratio applied to the pods measured.
pub fn desired_for_utilization(current: i32, measured: i32, utilization: f64, target: f64) -> i32 {
    if target <= 0.0 || measured == 0 {
        return current;
    }
    let ratio = utilization / target;
    if (ratio - 1.0).abs() <= TOLERANCE {
        return current;
    }
    (ratio * f64::from(measured)).ceil() as i32
}

/// What the pods of a target use of one resource.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Utilization {
    /// Percent of requests, truncated as upstream does.
    percent: i32,
    /// Average usage per measured pod, in milli-units.
    average_milli: i128,
    measured: i32,
}

/// CPU or memory utilization in percent of requests over the pods that report metrics.
fn utilization(pods: &[Arc<Pod>], usage: &HashMap<String, Quantity>, resource: &str) -> Option<Utilization> {
    let (mut used, mut requested, mut measured) = (0i128, 0i128, 0);
    for pod in pods {
        let name = pod.metadata.name.clone().unwrap_or_default();
        let Some(u) = usage.get(&name) else { continue };
        let request: i128 = pod
            .spec
            .iter()
            .flat_map(|s| &s.containers)
            .filter_map(|c| c.resources.as_ref()?.requests.as_ref()?.get(resource))
            .filter_map(|q| Quantity::parse(&q.0))
            .map(|q| q.0)
            .sum();
        if request == 0 {
            return None;
        }
        used += u.0;
        requested += request;
        measured += 1;
    }
    (requested > 0).then(|| Utilization {
        percent: (used * 100 / requested) as i32,
        average_milli: used / i128::from(measured.max(1)),
        measured,
    })
}

struct Controller {
    ctx: Ctx,
    /// Recent recommendations and scale events per HPA, for `spec.behavior`.
    histories: Mutex<HashMap<String, behavior::History>>,
}

pub async fn run(ctx: Ctx) -> anyhow::Result<()> {
    let hpas = ctx.informers.get::<HorizontalPodAutoscaler>();
    let pods_informer = ctx.informers.get::<Pod>();
    let queue = Queue::<String>::new();
    let q = queue.clone();
    hpas.on_change(move |c| {
        if let Change::Added(h) | Change::Updated { new: h, .. } = c {
            q.add(key_of(h.as_ref()));
        }
    });
    hpas.synced().await;
    pods_informer.synced().await;
    let c = Arc::new(Controller {
        ctx: ctx.clone(),
        histories: Mutex::default(),
    });
    let again = queue.clone();
    let workers = ctx.opts.concurrent_horizontal_pod_autoscaler_syncs;
    run_workers("horizontalpodautoscaler", queue, workers, move |key: String| {
        let (c, hpas, pods_informer, again) = (c.clone(), hpas.clone(), pods_informer.clone(), again.clone());
        async move {
            let Some(hpa) = hpas.get(&key) else {
                c.histories.lock().unwrap_or_else(|e| e.into_inner()).remove(&key);
                return Ok(());
            };
            again.add_after(key.clone(), SYNC_PERIOD);
            c.reconcile(&key, &hpa, &pods_informer).await
        }
    })
    .await;
    Ok(())
}

fn condition(type_: &str, status: &str, reason: &str, message: &str) -> HorizontalPodAutoscalerCondition {
    HorizontalPodAutoscalerCondition {
        type_: type_.into(),
        status: status.into(),
        reason: Some(reason.into()),
        message: Some(message.into()),
        last_transition_time: Some(Time(jiff::Timestamp::now())),
    }
}

fn set_condition(status: &mut HorizontalPodAutoscalerStatus, mut c: HorizontalPodAutoscalerCondition) {
    let list = status.conditions.get_or_insert_default();
    if let Some(old) = list.iter().find(|o| o.type_ == c.type_)
        && old.status == c.status
    {
        c.last_transition_time = old.last_transition_time.clone();
    }
    list.retain(|o| o.type_ != c.type_);
    list.push(c);
}

impl Controller {
    async fn reconcile(
        &self,
        key: &str,
        hpa: &HorizontalPodAutoscaler,
        pods_informer: &crate::informer::Informer<Pod>,
    ) -> anyhow::Result<()> {
        let ns = split_key(key).0.unwrap_or_default();
        let spec = hpa.spec.clone().unwrap_or_default();
        let target = &spec.scale_target_ref;
        let mut status = hpa.status.clone().unwrap_or_default();
        status.observed_generation = hpa.metadata.generation;
        let api_version = target.api_version.clone().unwrap_or_else(|| "apps/v1".into());
        let Some(path) = scale_path(ns, &api_version, &target.kind, &target.name) else {
            let msg = format!(
                "the HPA controller was unable to get the target's current scale: no scale for kind {}",
                target.kind
            );
            set_condition(&mut status, condition("AbleToScale", "False", "FailedGetScale", &msg));
            self.ctx.recorder.event(hpa, WARNING, "FailedGetScale", &msg);
            return self.write(hpa, status).await;
        };
        let scale: serde_json::Value = match self.get(&path).await {
            Ok(s) => s,
            Err(e) => {
                let msg = format!("the HPA controller was unable to get the target's current scale: {e}");
                set_condition(&mut status, condition("AbleToScale", "False", "FailedGetScale", &msg));
                self.ctx.recorder.event(hpa, WARNING, "FailedGetScale", &msg);
                return self.write(hpa, status).await;
            }
        };
        set_condition(
            &mut status,
            condition(
                "AbleToScale",
                "True",
                "SucceededGetScale",
                "the HPA controller was able to get the target's current scale",
            ),
        );
        let current = scale.pointer("/spec/replicas").and_then(|v| v.as_i64()).unwrap_or(0) as i32;
        status.current_replicas = Some(scale.pointer("/status/replicas").and_then(|v| v.as_i64()).unwrap_or(0) as i32);
        let min = spec.min_replicas.unwrap_or(1);
        let max = spec.max_replicas;
        let (desired, reason) = if current == 0 && min != 0 {
            let msg = "scaling is disabled since the replica count of the target is zero";
            set_condition(&mut status, condition("ScalingActive", "False", "ScalingDisabled", msg));
            (0, String::new())
        } else if current > max {
            (max, "Current number of replicas above Spec.MaxReplicas".to_string())
        } else if current < min {
            (min, "Current number of replicas below Spec.MinReplicas".to_string())
        } else {
            let selector = scale
                .pointer("/status/selector")
                .and_then(|v| v.as_str())
                .unwrap_or_default();
            match self
                .recommend(
                    ns,
                    &spec.metrics.clone().unwrap_or_default(),
                    current,
                    selector,
                    pods_informer,
                )
                .await
            {
                Ok((proposal, metric_name, current_metrics)) => {
                    status.current_metrics = Some(current_metrics);
                    set_condition(
                        &mut status,
                        condition(
                            "ScalingActive",
                            "True",
                            "ValidMetricFound",
                            &format!("the HPA was able to successfully calculate a replica count from {metric_name}"),
                        ),
                    );
                    let (up, down) = behavior::of(spec.behavior.as_ref());
                    let stabilized = self
                        .histories
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .entry(key.to_string())
                        .or_default()
                        .normalize(Instant::now(), current, proposal, &up, &down);
                    let bounded = stabilized.clamp(min, max);
                    let limited = if stabilized > max {
                        Some((
                            "TooManyReplicas",
                            "the desired replica count is more than the maximum replica count",
                        ))
                    } else if stabilized < min {
                        Some((
                            "TooFewReplicas",
                            "the desired replica count is less than the minimum replica count",
                        ))
                    } else {
                        None
                    };
                    match limited {
                        Some((r, m)) => set_condition(&mut status, condition("ScalingLimited", "True", r, m)),
                        None => set_condition(
                            &mut status,
                            condition(
                                "ScalingLimited",
                                "False",
                                "DesiredWithinRange",
                                "the desired count is within the acceptable range",
                            ),
                        ),
                    }
                    let direction = if bounded > current { "above" } else { "below" };
                    (bounded, format!("{metric_name} {direction} target"))
                }
                Err((reason, msg)) => {
                    set_condition(&mut status, condition("ScalingActive", "False", reason, &msg));
                    self.ctx.recorder.event(hpa, WARNING, reason, &msg);
                    self.write(hpa, status).await?;
                    anyhow::bail!(msg);
                }
            }
        };
        status.desired_replicas = desired;
        if desired != current && !reason.is_empty() {
            // PUT, not PATCH: the controller's role grants update on `*/scale`.
            let mut body = scale.clone();
            body["spec"]["replicas"] = serde_json::json!(desired);
            let request = http::Request::put(&path)
                .header("content-type", "application/json")
                .body(serde_json::to_vec(&body)?)?;
            self.ctx.client.request::<serde_json::Value>(request).await?;
            self.histories
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry(key.to_string())
                .or_default()
                .scaled(Instant::now(), current, desired);
            let msg = format!("New size: {desired}; reason: {reason}");
            self.ctx.recorder.event(hpa, NORMAL, "SuccessfulRescale", &msg);
            status.last_scale_time = Some(Time(jiff::Timestamp::now()));
        }
        self.write(hpa, status).await
    }

    async fn get(&self, path: &str) -> Result<serde_json::Value, kube::Error> {
        let request = http::Request::get(path)
            .body(Vec::new())
            .map_err(kube::Error::HttpError)?;
        self.ctx.client.request::<serde_json::Value>(request).await
    }

    /// The replica proposal of the largest metric with the current value of every metric, or
    /// why none could be computed.
    async fn recommend(
        &self,
        ns: &str,
        metrics: &[MetricSpec],
        current: i32,
        selector: &str,
        pods_informer: &crate::informer::Informer<Pod>,
    ) -> Result<(i32, String, Vec<MetricStatus>), (&'static str, String)> {
        let mut best: Option<(i32, String)> = None;
        let mut statuses = Vec::new();
        for m in metrics {
            let Some(resource) = m.resource.as_ref().filter(|_| m.type_ == "Resource") else {
                return Err((
                    "FailedGetExternalMetric",
                    format!(
                        "the HPA was unable to compute the replica count: metric type {} is not supported",
                        m.type_
                    ),
                ));
            };
            let Some(target) = resource.target.average_utilization else {
                return Err((
                    "InvalidMetricSourceType",
                    "the HPA was unable to compute the replica count: only averageUtilization targets are supported"
                        .into(),
                ));
            };
            let sel = api_types::labels::Selector::parse(selector).unwrap_or_default();
            let pods: Vec<Arc<Pod>> = pods_informer
                .list_namespace(ns)
                .into_iter()
                .filter(|p| pods::is_active(p) && pods::matches(&sel, p.metadata.labels.as_ref()))
                .collect();
            let usage = self.pod_usage(ns, selector, &resource.name).await.map_err(|e| {
                ("FailedGetResourceMetric", format!("the HPA was unable to compute the replica count: failed to get {} utilization: unable to get metrics for resource {}: {e}", resource.name, resource.name))
            })?;
            let Some(util) = utilization(&pods, &usage, &resource.name) else {
                return Err((
                    "FailedGetResourceMetric",
                    format!(
                        "the HPA was unable to compute the replica count: failed to get {} utilization: missing request for {}",
                        resource.name, resource.name
                    ),
                ));
            };
            let proposal = desired_for_utilization(current, util.measured, f64::from(util.percent), f64::from(target));
            statuses.push(MetricStatus {
                type_: "Resource".into(),
                resource: Some(ResourceMetricStatus {
                    name: resource.name.clone(),
                    current: MetricValueStatus {
                        average_utilization: Some(util.percent),
                        average_value: Some(k8s_openapi::apimachinery::pkg::api::resource::Quantity(
                            Quantity(util.average_milli).to_string(),
                        )),
                        value: None,
                    },
                }),
                ..Default::default()
            });
            let name = format!("{} resource utilization (percentage of request)", resource.name);
            if best.as_ref().is_none_or(|(b, _)| proposal > *b) {
                best = Some((proposal, name));
            }
        }
        let (proposal, name) = best.ok_or((
            "FailedGetResourceMetric",
            "the HPA was unable to compute the replica count: no metrics".to_string(),
        ))?;
        Ok((proposal, name, statuses))
    }

    /// Pod usage of a resource from metrics.k8s.io, by pod name.
    async fn pod_usage(
        &self,
        ns: &str,
        selector: &str,
        resource: &str,
    ) -> Result<HashMap<String, Quantity>, kube::Error> {
        let query: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("labelSelector", selector)
            .finish();
        let list = self
            .get(&format!("/apis/metrics.k8s.io/v1beta1/namespaces/{ns}/pods?{query}"))
            .await?;
        let mut usage = HashMap::new();
        for item in list.get("items").and_then(|i| i.as_array()).into_iter().flatten() {
            let name = item
                .pointer("/metadata/name")
                .and_then(|n| n.as_str())
                .unwrap_or_default();
            let total = item
                .get("containers")
                .and_then(|c| c.as_array())
                .into_iter()
                .flatten()
                .filter_map(|c| {
                    c.pointer(&format!("/usage/{resource}"))?
                        .as_str()
                        .and_then(Quantity::parse)
                })
                .fold(Quantity::zero(), |a, b| a + b);
            usage.insert(name.to_string(), total);
        }
        Ok(usage)
    }

    async fn write(&self, hpa: &HorizontalPodAutoscaler, status: HorizontalPodAutoscalerStatus) -> anyhow::Result<()> {
        if hpa.status.as_ref() == Some(&status) {
            return Ok(());
        }
        let api: kube::Api<HorizontalPodAutoscaler> = kube::Api::namespaced(
            self.ctx.client.clone(),
            hpa.metadata.namespace.as_deref().unwrap_or_default(),
        );
        super::update_status(&api, hpa, |h| h.status = Some(status.clone())).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replica_proposals_follow_the_utilization_ratio_outside_the_tolerance() {
        assert_eq!(desired_for_utilization(3, 3, 105.0, 100.0), 3);
        assert_eq!(desired_for_utilization(3, 3, 200.0, 100.0), 6);
        assert_eq!(desired_for_utilization(4, 4, 25.0, 50.0), 2);
        assert_eq!(desired_for_utilization(3, 3, 150.0, 100.0), 5);
    }

    #[test]
    fn paths_of_scale_subresources() {
        assert_eq!(
            scale_path("ns", "apps/v1", "Deployment", "web").unwrap(),
            "/apis/apps/v1/namespaces/ns/deployments/web/scale"
        );
        assert_eq!(
            scale_path("ns", "v1", "ReplicationController", "rc").unwrap(),
            "/api/v1/namespaces/ns/replicationcontrollers/rc/scale"
        );
        assert!(scale_path("ns", "v1", "Pod", "p").is_none());
    }
}
