//! coordination.k8s.io/v1 Lease: durations, transitions, strategy and preferred holder.

use super::{Errs, field, int_of, str_of};
use crate::errors::FieldError;
use serde_json::Value;

pub fn lease(obj: &Value, errs: &mut Errs) {
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    if let Some(d) = int_of(spec, "leaseDurationSeconds")
        && d <= 0
    {
        errs.push(FieldError::invalid(
            "spec.leaseDurationSeconds",
            d,
            "must be greater than 0",
        ));
    }
    if let Some(t) = int_of(spec, "leaseTransitions")
        && t < 0
    {
        errs.push(FieldError::invalid(
            "spec.leaseTransitions",
            t,
            "must be greater than or equal to 0",
        ));
    }
    let strategy = field(spec, "strategy").map(|s| s.as_str().unwrap_or_default());
    if let Some(s) = strategy
        && s != "OldestEmulationVersion"
    {
        errs.push(FieldError::not_supported(
            "spec.strategy",
            s,
            &["OldestEmulationVersion"],
        ));
    }
    if !str_of(spec, "preferredHolder").is_empty() && strategy.is_none_or(str::is_empty) {
        errs.push(FieldError::forbidden(
            "spec.preferredHolder",
            "may only be specified if `strategy` is defined",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use serde_json::{Value, json};

    fn lease(spec: Value) -> Value {
        json!({"metadata": {"name": "kube-scheduler", "namespace": "kube-system"}, "spec": spec})
    }

    #[test]
    fn leases() {
        check(
            "coordination.k8s.io",
            "v1",
            "leases",
            &[
                (
                    "valid",
                    lease(json!({"holderIdentity": "a", "leaseDurationSeconds": 15, "leaseTransitions": 0})),
                    &[],
                ),
                (
                    "zero duration",
                    lease(json!({"leaseDurationSeconds": 0})),
                    &["spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0"],
                ),
                (
                    "negative transitions",
                    lease(json!({"leaseTransitions": -1})),
                    &["spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0"],
                ),
                (
                    "strategy",
                    lease(json!({"strategy": "Newest"})),
                    &["spec.strategy: Unsupported value: \"Newest\": supported values: \"OldestEmulationVersion\""],
                ),
                (
                    "preferred holder",
                    lease(json!({"preferredHolder": "b"})),
                    &["spec.preferredHolder: Forbidden: may only be specified if `strategy` is defined"],
                ),
            ],
        );
    }
}
