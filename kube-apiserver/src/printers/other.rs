//! Printers of the smaller groups: apiregistration, autoscaling, coordination, policy, scheduling, certificates,
//! node, admissionregistration and flowcontrol.

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

use super::Printer;
use super::util::{
    AGE, NAME, NONE, UNSET, age, at, col, count_at, human_duration, int_at, list_at, name_cell, opt_bool, opt_int,
    selector_string, str_at, str_or,
};

pub(super) fn printer(group: &str, resource: &str) -> Option<&'static Printer> {
    Some(match (group, resource) {
        ("autoscaling", "horizontalpodautoscalers") => &super::autoscaling::HORIZONTAL_POD_AUTOSCALER,
        ("coordination.k8s.io", "leases") => &LEASE,
        ("apiregistration.k8s.io", "apiservices") => &API_SERVICE,
        ("coordination.k8s.io", "leasecandidates") => &LEASE_CANDIDATE,
        ("policy", "poddisruptionbudgets") => &POD_DISRUPTION_BUDGET,
        ("scheduling.k8s.io", "priorityclasses") => &PRIORITY_CLASS,
        ("certificates.k8s.io", "certificatesigningrequests") => &CERTIFICATE_SIGNING_REQUEST,
        ("certificates.k8s.io", "clustertrustbundles") => &CLUSTER_TRUST_BUNDLE,
        ("node.k8s.io", "runtimeclasses") => &RUNTIME_CLASS,
        ("admissionregistration.k8s.io", "mutatingwebhookconfigurations" | "validatingwebhookconfigurations") => {
            &WEBHOOK_CONFIGURATION
        }
        ("admissionregistration.k8s.io", "validatingadmissionpolicies") => &VALIDATING_ADMISSION_POLICY,
        ("admissionregistration.k8s.io", "validatingadmissionpolicybindings") => &VALIDATING_ADMISSION_POLICY_BINDING,
        ("flowcontrol.apiserver.k8s.io", "flowschemas") => &FLOW_SCHEMA,
        ("flowcontrol.apiserver.k8s.io", "prioritylevelconfigurations") => &PRIORITY_LEVEL_CONFIGURATION,
        _ => return None,
    })
}

static API_SERVICE: Printer = Printer {
    columns: &[
        NAME,
        col(
            "Service",
            "string",
            "The reference to the service that hosts this API endpoint.",
        ),
        col("Available", "string", "Whether this service is available."),
        AGE,
    ],
    row: |obj, now| {
        let service = match obj.pointer("/spec/service").filter(|s| s.is_object()) {
            Some(s) => format!("{}/{}", str_at(s, &["namespace"]), str_at(s, &["name"])),
            None => "Local".to_string(),
        };
        let available = list_at(obj, &["status", "conditions"])
            .iter()
            .find(|c| str_at(c, &["type"]) == "Available")
            .map_or_else(
                || "Unknown".to_string(),
                |c| match (str_at(c, &["status"]), str_at(c, &["reason"])) {
                    ("True", _) | (_, "") => str_at(c, &["status"]).to_string(),
                    (status, reason) => format!("{status} ({reason})"),
                },
            );
        vec![name_cell(obj), service.into(), available.into(), age(obj, now)]
    },
};

static LEASE: Printer = Printer {
    columns: &[
        NAME,
        col(
            "Holder",
            "string",
            "holderIdentity contains the identity of the holder of a current lease.",
        ),
        AGE,
    ],
    row: |obj, now| {
        vec![
            name_cell(obj),
            str_at(obj, &["spec", "holderIdentity"]).into(),
            age(obj, now),
        ]
    },
};

static LEASE_CANDIDATE: Printer = Printer {
    columns: &[
        NAME,
        col(
            "LeaseName",
            "string",
            "LeaseName is the name of the lease for which this candidate is contending.",
        ),
        col("BinaryVersion", "string", ""),
        col("EmulationVersion", "string", ""),
        AGE,
    ],
    row: |obj, now| {
        let spec = |key: &str| Value::from(str_at(obj, &["spec", key]));
        vec![
            name_cell(obj),
            spec("leaseName"),
            spec("binaryVersion"),
            spec("emulationVersion"),
            age(obj, now),
        ]
    },
};

static POD_DISRUPTION_BUDGET: Printer = Printer {
    columns: &[
        NAME,
        col(
            "Min Available",
            "string",
            "The minimum number of pods that must be available.",
        ),
        col(
            "Max Unavailable",
            "string",
            "The maximum number of pods that may be unavailable.",
        ),
        col(
            "Allowed Disruptions",
            "integer",
            "Calculated number of pods that may be disrupted at this time.",
        ),
        AGE,
    ],
    row: |obj, now| {
        vec![
            name_cell(obj),
            int_or_string(at(obj, &["spec", "minAvailable"])).into(),
            int_or_string(at(obj, &["spec", "maxUnavailable"])).into(),
            int_at(obj, &["status", "disruptionsAllowed"]).into(),
            age(obj, now),
        ]
    },
};

/// IntOrString.String(), "N/A" when unset.
fn int_or_string(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => "N/A".to_string(),
    }
}

static PRIORITY_CLASS: Printer = Printer {
    columns: &[
        NAME,
        col(
            "Value",
            "integer",
            "value represents the integer value of this priority class.",
        ),
        col(
            "Global-Default",
            "boolean",
            "globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class.",
        ),
        AGE,
        col(
            "PreemptionPolicy",
            "string",
            "preemptionPolicy is the Policy for preempting pods with lower priority.",
        ),
    ],
    row: |obj, now| {
        vec![
            name_cell(obj),
            int_at(obj, &["value"]).into(),
            opt_bool(obj, &["globalDefault"]).unwrap_or(false).into(),
            age(obj, now),
            str_at(obj, &["preemptionPolicy"]).into(),
        ]
    },
};

static CERTIFICATE_SIGNING_REQUEST: Printer = Printer {
    columns: &[
        NAME,
        AGE,
        col(
            "SignerName",
            "string",
            "signerName indicates the requested signer, and is a qualified name.",
        ),
        col(
            "Requestor",
            "string",
            "username contains the name of the user that created the CertificateSigningRequest.",
        ),
        col(
            "RequestedDuration",
            "string",
            "expirationSeconds is the requested duration of validity of the issued certificate.",
        ),
        col(
            "Condition",
            "string",
            "conditions applied to the request. Known conditions are \"Approved\", \"Denied\", and \"Failed\".",
        ),
    ],
    row: csr_row,
};

fn csr_row(csr: &Value, now: Timestamp) -> Vec<Value> {
    let duration = opt_int(csr, &["spec", "expirationSeconds"]).map_or_else(
        || NONE.to_string(),
        |secs| human_duration(SignedDuration::from_secs(secs)),
    );
    vec![
        name_cell(csr),
        age(csr, now),
        str_or(csr, &["spec", "signerName"], NONE).into(),
        str_at(csr, &["spec", "username"]).into(),
        duration.into(),
        csr_condition(csr).into(),
    ]
}

/// Denied / Approved / Pending, then ",Failed" and ",Issued" when they apply.
fn csr_condition(csr: &Value) -> String {
    let conditions = list_at(csr, &["status", "conditions"]);
    let has = |kind: &str| conditions.iter().any(|c| str_at(c, &["type"]) == kind);
    let mut status = if has("Denied") {
        "Denied"
    } else if has("Approved") {
        "Approved"
    } else {
        "Pending"
    }
    .to_string();
    if has("Failed") {
        status.push_str(",Failed");
    }
    if !str_at(csr, &["status", "certificate"]).is_empty() {
        status.push_str(",Issued");
    }
    status
}

static CLUSTER_TRUST_BUNDLE: Printer = Printer {
    columns: &[
        NAME,
        col(
            "SignerName",
            "string",
            "signerName indicates the associated signer, if any.",
        ),
    ],
    row: |obj, _| vec![name_cell(obj), str_or(obj, &["spec", "signerName"], NONE).into()],
};

static RUNTIME_CLASS: Printer = Printer {
    columns: &[
        NAME,
        col(
            "Handler",
            "string",
            "handler specifies the underlying runtime and configuration that the CRI implementation will use.",
        ),
        AGE,
    ],
    row: |obj, now| vec![name_cell(obj), str_at(obj, &["handler"]).into(), age(obj, now)],
};

static WEBHOOK_CONFIGURATION: Printer = Printer {
    columns: &[
        NAME,
        col(
            "Webhooks",
            "integer",
            "Webhooks indicates the number of webhooks registered in this configuration",
        ),
        AGE,
    ],
    row: |obj, now| vec![name_cell(obj), count_at(obj, &["webhooks"]).into(), age(obj, now)],
};

static VALIDATING_ADMISSION_POLICY: Printer = Printer {
    columns: &[
        NAME,
        col(
            "Validations",
            "integer",
            "Validations indicates the number of validation rules defined in this configuration",
        ),
        col(
            "ParamKind",
            "string",
            "ParamKind specifies the kind of resources used to parameterize this policy",
        ),
        AGE,
    ],
    row: |obj, now| {
        let param_kind = at(obj, &["spec", "paramKind"]).map_or_else(
            || UNSET.to_string(),
            |k| format!("{}/{}", str_at(k, &["apiVersion"]), str_at(k, &["kind"])),
        );
        vec![
            name_cell(obj),
            count_at(obj, &["spec", "validations"]).into(),
            param_kind.into(),
            age(obj, now),
        ]
    },
};

static VALIDATING_ADMISSION_POLICY_BINDING: Printer = Printer {
    columns: &[
        NAME,
        col(
            "PolicyName",
            "string",
            "PolicyName indicates the policy definition which the policy binding binded to",
        ),
        col(
            "ParamRef",
            "string",
            "ParamRef indicates the param resource which sets the configration param",
        ),
        AGE,
    ],
    row: |obj, now| {
        vec![
            name_cell(obj),
            str_at(obj, &["spec", "policyName"]).into(),
            param_ref(at(obj, &["spec", "paramRef"])).into(),
            age(obj, now),
        ]
    },
};

/// "namespace/name", "*/name" without a namespace, the selector, or "<unset>".
fn param_ref(param: Option<&Value>) -> String {
    let Some(param) = param else {
        return UNSET.to_string();
    };
    let name = str_at(param, &["name"]);
    if !name.is_empty() {
        return format!("{}/{name}", str_or(param, &["namespace"], "*"));
    }
    match at(param, &["selector"]) {
        Some(selector) => selector_string(Some(selector)).unwrap_or_default(),
        None => UNSET.to_string(),
    }
}

static FLOW_SCHEMA: Printer = Printer {
    columns: &[
        NAME,
        col(
            "PriorityLevel",
            "string",
            "`name` is the name of the priority level configuration being referenced",
        ),
        col(
            "MatchingPrecedence",
            "string",
            "`matchingPrecedence` is used to choose among the FlowSchemas that match a given request.",
        ),
        col(
            "DistinguisherMethod",
            "string",
            "`distinguisherMethod` defines how to compute the flow distinguisher for requests that match this schema.",
        ),
        AGE,
        col(
            "MissingPL",
            "string",
            "references a broken or non-existent PriorityLevelConfiguration",
        ),
    ],
    row: |obj, now| {
        let dangling = list_at(obj, &["status", "conditions"])
            .iter()
            .find(|c| str_at(c, &["type"]) == "Dangling");
        vec![
            name_cell(obj),
            str_at(obj, &["spec", "priorityLevelConfiguration", "name"]).into(),
            int_at(obj, &["spec", "matchingPrecedence"]).into(),
            str_or(obj, &["spec", "distinguisherMethod", "type"], NONE).into(),
            age(obj, now),
            dangling.map_or("?", |c| str_at(c, &["status"])).into(),
        ]
    },
};

static PRIORITY_LEVEL_CONFIGURATION: Printer = Printer {
    columns: &[
        NAME,
        col(
            "Type",
            "string",
            "`type` indicates whether this priority level is subject to limitation on request execution.",
        ),
        col(
            "NominalConcurrencyShares",
            "string",
            "`nominalConcurrencyShares` (NCS) contributes to the computation of the NominalConcurrencyLimit (NominalCL) of this level.",
        ),
        col(
            "Queues",
            "string",
            "`queues` is the number of queues for this priority level.",
        ),
        col(
            "HandSize",
            "string",
            "`handSize` is a small positive number that configures the shuffle sharding of requests into queues.",
        ),
        col(
            "QueueLengthLimit",
            "string",
            "`queueLengthLimit` is the maximum number of requests allowed to be waiting in a given queue of this priority level at a time.",
        ),
        AGE,
    ],
    row: priority_level_row,
};

fn priority_level_row(obj: &Value, now: Timestamp) -> Vec<Value> {
    let limited = at(obj, &["spec", "limited"]);
    let queuing = limited.and_then(|l| at(l, &["limitResponse", "queuing"]));
    let number = |v: Option<&Value>, key: &str| v.map_or(Value::from(NONE), |v| int_at(v, &[key]).into());
    vec![
        name_cell(obj),
        str_at(obj, &["spec", "type"]).into(),
        number(limited, "nominalConcurrencyShares"),
        number(queuing, "queues"),
        number(queuing, "handSize"),
        number(queuing, "queueLengthLimit"),
        age(obj, now),
    ]
}
