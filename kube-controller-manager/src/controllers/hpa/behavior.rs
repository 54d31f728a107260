//! `spec.behavior` of an HPA, as upstream's normalizeDesiredReplicasWithBehaviors applies it:
//! stabilization windows (the lowest recommendation of the scale-up window, the highest of the
//! scale-down window) and scaling policies limiting how many replicas a period may add or
//! remove, with upstream's defaults for whatever is not set.

use k8s_openapi::api::autoscaling::v2::{HPAScalingRules, HorizontalPodAutoscalerBehavior};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// One direction's rules with defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Rules {
    pub window: Duration,
    /// (type, value, period); empty with select "Disabled".
    pub policies: Vec<(String, i32, Duration)>,
    pub select: String,
}

fn rules(r: Option<&HPAScalingRules>, window: u64, policies: &[(&str, i32)]) -> Rules {
    let defaults = || {
        policies
            .iter()
            .map(|(t, v)| (t.to_string(), *v, Duration::from_secs(15)))
            .collect()
    };
    Rules {
        window: Duration::from_secs(
            r.and_then(|r| r.stabilization_window_seconds)
                .map_or(window, |s| s.max(0) as u64),
        ),
        policies: r.and_then(|r| r.policies.as_ref()).map_or_else(defaults, |ps| {
            ps.iter()
                .map(|p| {
                    (
                        p.type_.clone(),
                        p.value,
                        Duration::from_secs(p.period_seconds.max(0) as u64),
                    )
                })
                .collect()
        }),
        select: r.and_then(|r| r.select_policy.clone()).unwrap_or_else(|| "Max".into()),
    }
}

/// Scale-up and scale-down rules (upstream's defaults: up at once by 4 pods or 100% per
/// 15s, down after a 300s window by up to 100% per 15s).
pub fn of(b: Option<&HorizontalPodAutoscalerBehavior>) -> (Rules, Rules) {
    (
        rules(b.and_then(|b| b.scale_up.as_ref()), 0, &[("Pods", 4), ("Percent", 100)]),
        rules(b.and_then(|b| b.scale_down.as_ref()), 300, &[("Percent", 100)]),
    )
}

/// What one HPA remembers between syncs.
#[derive(Debug, Default)]
pub struct History {
    recommendations: VecDeque<(Instant, i32)>,
    /// Replica changes made: positive up, negative down.
    events: VecDeque<(Instant, i32)>,
}

impl History {
    /// Records a scale the controller made.
    pub fn scaled(&mut self, now: Instant, from: i32, to: i32) {
        self.events.push_back((now, to - from));
    }

    /// The replica count to scale to for `proposal`, from `current`.
    pub fn normalize(&mut self, now: Instant, current: i32, proposal: i32, up: &Rules, down: &Rules) -> i32 {
        let keep = up.window.max(down.window);
        self.recommendations.retain(|(at, _)| now.duration_since(*at) < keep);
        let (mut up_rec, mut down_rec) = (proposal, proposal);
        for (at, r) in &self.recommendations {
            let age = now.duration_since(*at);
            if age < up.window {
                up_rec = up_rec.min(*r);
            }
            if age < down.window {
                down_rec = down_rec.max(*r);
            }
        }
        self.recommendations.push_back((now, proposal));
        let stabilized = current.max(up_rec).min(down_rec);
        let longest = up
            .policies
            .iter()
            .chain(&down.policies)
            .map(|p| p.2)
            .max()
            .unwrap_or_default();
        self.events.retain(|(at, _)| now.duration_since(*at) < longest);
        if stabilized > current {
            stabilized.min(self.limit(now, current, up, true).max(current))
        } else if stabilized < current {
            stabilized.max(self.limit(now, current, down, false).min(current))
        } else {
            stabilized
        }
    }

    /// The furthest the policies let a scale go from `current` in this period.
    fn limit(&self, now: Instant, current: i32, rules: &Rules, up: bool) -> i32 {
        if rules.select == "Disabled" {
            return current;
        }
        let mut chosen: Option<i32> = None;
        for (kind, value, period) in &rules.policies {
            let (added, removed) = self
                .events
                .iter()
                .filter(|(at, _)| now.duration_since(*at) < *period)
                .fold((0, 0), |(a, r), (_, d)| if *d > 0 { (a + d, r) } else { (a, r - d) });
            let start = f64::from(current - added + removed);
            let proposed = match (kind.as_str(), up) {
                ("Pods", true) => start as i32 + value,
                ("Pods", false) => start as i32 - value,
                (_, true) => (start * (1.0 + f64::from(*value) / 100.0)).ceil() as i32,
                (_, false) => (start * (1.0 - f64::from(*value) / 100.0)).ceil() as i32,
            };
            // "Max" means the policy allowing the biggest change.
            let better = |a: i32, b: i32| {
                if (rules.select == "Max") == up {
                    a.max(b)
                } else {
                    a.min(b)
                }
            };
            chosen = Some(chosen.map_or(proposed, |c| better(c, proposed)));
        }
        chosen.unwrap_or(current)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::autoscaling::v2::HPAScalingPolicy;

    #[test]
    fn defaults_limit_scale_up_to_four_pods_or_double() {
        let (up, down) = of(None);
        let now = Instant::now();
        let mut h = History::default();
        assert_eq!(h.normalize(now, 1, 10, &up, &down), 5, "1 + 4 pods beats 100%");
        let mut h = History::default();
        assert_eq!(h.normalize(now, 10, 50, &up, &down), 20, "100% beats 4 pods");
        // Within the same 15s period, what was added counts against the limit.
        h.scaled(now, 10, 20);
        assert_eq!(h.normalize(now + Duration::from_secs(5), 20, 50, &up, &down), 20);
        assert_eq!(h.normalize(now + Duration::from_secs(16), 20, 50, &up, &down), 40);
    }

    #[test]
    fn scale_down_waits_for_the_window_unless_it_is_zero() {
        let (up, down) = of(None);
        let now = Instant::now();
        let mut h = History::default();
        assert_eq!(h.normalize(now, 4, 4, &up, &down), 4);
        assert_eq!(
            h.normalize(now + Duration::from_secs(30), 4, 2, &up, &down),
            4,
            "4 was recommended 30s ago"
        );
        assert_eq!(h.normalize(now + Duration::from_secs(301), 4, 2, &up, &down), 2);
        let behavior = HorizontalPodAutoscalerBehavior {
            scale_down: Some(HPAScalingRules {
                stabilization_window_seconds: Some(0),
                policies: Some(vec![HPAScalingPolicy {
                    type_: "Pods".into(),
                    value: 1,
                    period_seconds: 60,
                }]),
                ..Default::default()
            }),
            ..Default::default()
        };
        let (up, down) = of(Some(&behavior));
        let mut h = History::default();
        assert_eq!(h.normalize(now, 4, 4, &up, &down), 4);
        assert_eq!(
            h.normalize(now + Duration::from_secs(1), 4, 1, &up, &down),
            3,
            "one pod per minute"
        );
    }

    #[test]
    fn disabled_direction_keeps_the_count() {
        let behavior = HorizontalPodAutoscalerBehavior {
            scale_up: Some(HPAScalingRules {
                select_policy: Some("Disabled".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let (up, down) = of(Some(&behavior));
        assert_eq!(History::default().normalize(Instant::now(), 2, 8, &up, &down), 2);
    }
}
