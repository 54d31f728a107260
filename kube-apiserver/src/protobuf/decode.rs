//! Protobuf bytes -> Kubernetes JSON, driven by the schema table.

use std::collections::HashMap;

use base64::Engine as _;
use serde_json::{Map, Value};

use super::schema::{self, Card, Field, FieldType, Scalar};
use super::special::{self, Special};
use super::wire::{self, WireValue};
use super::{MAX_DEPTH, ProtoError};

/// `(message, field)` pairs where Go uses a `*string` whose empty value is meaningful.
const KEEP_EMPTY_STRING: &[(&str, &str)] = &[
    ("io.k8s.api.core.v1.PersistentVolumeClaimSpec", "storageClassName"),
    ("io.k8s.api.core.v1.PersistentVolumeSpec", "storageClassName"),
];

/// Non-pointer Go fields (`omitempty`) that Go always writes but its JSON omits when zero/false.
/// Only well-known ones are listed; other present zeros are kept, which is lossless because
/// Go cannot tell a non-pointer zero from an absent field.
const DROP_ZERO: &[(&str, &[&str])] = &[
    ("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", &["generation"]),
    ("io.k8s.api.core.v1.Container", &["stdin", "stdinOnce", "tty"]),
    ("io.k8s.api.core.v1.ContainerPort", &["hostPort"]),
    ("io.k8s.api.core.v1.VolumeMount", &["readOnly"]),
    ("io.k8s.api.core.v1.PodSpec", &["hostNetwork", "hostPID", "hostIPC"]),
    ("io.k8s.api.core.v1.ServicePort", &["nodePort"]),
    (
        "io.k8s.api.core.v1.Probe",
        &[
            "initialDelaySeconds",
            "timeoutSeconds",
            "periodSeconds",
            "successThreshold",
            "failureThreshold",
        ],
    ),
    ("io.k8s.api.core.v1.Event", &["count"]),
    ("io.k8s.api.apps.v1.DeploymentSpec", &["minReadySeconds", "paused"]),
    (
        "io.k8s.api.apps.v1.DeploymentStatus",
        &[
            "observedGeneration",
            "replicas",
            "updatedReplicas",
            "readyReplicas",
            "availableReplicas",
            "unavailableReplicas",
        ],
    ),
    ("io.k8s.api.apps.v1.ReplicaSetSpec", &["minReadySeconds"]),
    (
        "io.k8s.api.apps.v1.ReplicaSetStatus",
        &[
            "fullyLabeledReplicas",
            "readyReplicas",
            "availableReplicas",
            "observedGeneration",
        ],
    ),
];

/// Decodes a message into a JSON value. Returns `None` when the value is "absent"
/// (for example a zero `Time`), so the caller omits the field.
pub fn decode_value(type_name: &str, bytes: &[u8], depth: usize) -> Result<Option<Value>, ProtoError> {
    if depth > MAX_DEPTH {
        return Err(ProtoError::TooDeep(MAX_DEPTH));
    }
    if let Some(kind) = special::lookup(type_name) {
        return decode_special(kind, type_name, bytes, depth);
    }
    decode_object(type_name, bytes, depth).map(|map| Some(Value::Object(map)))
}

/// Decodes an ordinary message into a JSON object (fields in schema order).
pub fn decode_object(type_name: &str, bytes: &[u8], depth: usize) -> Result<Map<String, Value>, ProtoError> {
    let msg = schema::message(type_name).ok_or_else(|| ProtoError::UnknownType(type_name.to_string()))?;
    let mut by_tag: HashMap<u32, Vec<WireValue<'_>>> = HashMap::new();
    for (tag, value) in wire::read_all(bytes)? {
        by_tag.entry(tag).or_default().push(value);
    }
    let mut out = Map::new();
    for field in &msg.fields {
        let Some(values) = by_tag.get(&field.tag) else {
            continue;
        };
        let ctx = Ctx { type_name, field };
        if field.inline {
            decode_inline(&ctx, values, depth, &mut out)?;
        } else if let Some(value) = decode_field(&ctx, values, depth)? {
            out.insert(field.json.to_string(), value);
        }
    }
    Ok(out)
}

/// Where a value sits, for error messages and per-field rules.
struct Ctx<'a> {
    type_name: &'a str,
    field: &'a Field,
}

impl Ctx<'_> {
    fn path(&self) -> String {
        let name = if self.field.inline { "(inline)" } else { self.field.json };
        format!("{}.{}", self.type_name, name)
    }

    fn wire_error(&self, expected: u8, found: &WireValue<'_>) -> ProtoError {
        ProtoError::WireType {
            field: self.path(),
            expected,
            found: found.wire_type(),
        }
    }

    fn drop_zero(&self) -> bool {
        DROP_ZERO
            .iter()
            .any(|(m, fields)| *m == self.type_name && fields.contains(&self.field.json))
    }

    fn listed(&self, list: &[(&str, &str)]) -> bool {
        list.iter().any(|(m, f)| *m == self.type_name && *f == self.field.json)
    }
}

fn decode_inline(
    ctx: &Ctx<'_>,
    values: &[WireValue<'_>],
    depth: usize,
    out: &mut Map<String, Value>,
) -> Result<(), ProtoError> {
    let FieldType::Message(inner) = ctx.field.ty else {
        return Ok(());
    };
    let Some(last) = values.last() else {
        return Ok(());
    };
    let bytes = expect_bytes(ctx, last)?;
    if let Some(Value::Object(map)) = decode_value(inner, bytes, depth + 1)? {
        out.extend(map);
    }
    Ok(())
}

fn decode_field(ctx: &Ctx<'_>, values: &[WireValue<'_>], depth: usize) -> Result<Option<Value>, ProtoError> {
    match ctx.field.card {
        Card::Optional => match values.last() {
            Some(last) => decode_single(ctx, last, depth),
            None => Ok(None),
        },
        Card::Repeated => decode_repeated(ctx, values, depth),
        Card::Map => decode_map(ctx, values, depth),
    }
}

fn decode_single(ctx: &Ctx<'_>, value: &WireValue<'_>, depth: usize) -> Result<Option<Value>, ProtoError> {
    let decoded = match ctx.field.ty {
        FieldType::Scalar(scalar) => Some(decode_scalar(ctx, scalar, value)?),
        FieldType::Message(name) => decode_value(name, expect_bytes(ctx, value)?, depth + 1)?,
    };
    Ok(decoded.filter(|v| !omit_empty(ctx, v)))
}

/// Go writes every non-pointer field; drop the empty ones Go's JSON would omit.
fn omit_empty(ctx: &Ctx<'_>, value: &Value) -> bool {
    match value {
        Value::String(s) => s.is_empty() && !ctx.field.required && !ctx.listed(KEEP_EMPTY_STRING),
        Value::Number(n) => n.as_i64() == Some(0) && ctx.drop_zero(),
        Value::Bool(b) => !b && ctx.drop_zero(),
        _ => false,
    }
}

fn decode_repeated(ctx: &Ctx<'_>, values: &[WireValue<'_>], depth: usize) -> Result<Option<Value>, ProtoError> {
    let mut items = Vec::with_capacity(values.len());
    for value in values {
        match (ctx.field.ty, value) {
            (FieldType::Scalar(s @ (Scalar::Int32 | Scalar::Int64 | Scalar::Bool)), WireValue::Bytes(packed)) => {
                for raw in wire::read_packed_varints(packed)? {
                    items.push(scalar_from_varint(s, raw));
                }
            }
            (FieldType::Scalar(scalar), _) => items.push(decode_scalar(ctx, scalar, value)?),
            (FieldType::Message(name), _) => {
                let bytes = expect_bytes(ctx, value)?;
                items.push(decode_value(name, bytes, depth + 1)?.unwrap_or(Value::Null));
            }
        }
    }
    Ok((!items.is_empty()).then_some(Value::Array(items)))
}

fn decode_map(ctx: &Ctx<'_>, values: &[WireValue<'_>], depth: usize) -> Result<Option<Value>, ProtoError> {
    let mut map = Map::new();
    for value in values {
        let (key, entry) = decode_map_entry(ctx, expect_bytes(ctx, value)?, depth)?;
        map.insert(key, entry);
    }
    Ok(Some(Value::Object(map)))
}

fn decode_map_entry(ctx: &Ctx<'_>, bytes: &[u8], depth: usize) -> Result<(String, Value), ProtoError> {
    let mut key = String::new();
    let mut value = None;
    for (tag, raw) in wire::read_all(bytes)? {
        match tag {
            1 => key = utf8(ctx, expect_bytes(ctx, &raw)?)?,
            2 => value = Some(raw),
            _ => {}
        }
    }
    let decoded = match (ctx.field.ty, value) {
        (FieldType::Scalar(scalar), Some(raw)) => decode_scalar(ctx, scalar, &raw)?,
        (FieldType::Scalar(scalar), None) => zero_scalar(scalar),
        (FieldType::Message(name), raw) => {
            let bytes = match raw {
                Some(raw) => expect_bytes(ctx, &raw)?,
                None => &[],
            };
            decode_value(name, bytes, depth + 1)?.unwrap_or(Value::Null)
        }
    };
    Ok((key, decoded))
}

fn zero_scalar(scalar: Scalar) -> Value {
    match scalar {
        Scalar::String | Scalar::Bytes => Value::String(String::new()),
        Scalar::Bool => Value::Bool(false),
        Scalar::Int32 | Scalar::Int64 => Value::from(0),
        Scalar::Double => Value::from(0.0),
    }
}

fn decode_scalar(ctx: &Ctx<'_>, scalar: Scalar, value: &WireValue<'_>) -> Result<Value, ProtoError> {
    match (scalar, value) {
        (Scalar::String, WireValue::Bytes(b)) => Ok(Value::String(utf8(ctx, b)?)),
        (Scalar::Bytes, WireValue::Bytes(b)) => Ok(Value::String(base64::engine::general_purpose::STANDARD.encode(b))),
        (Scalar::Int32 | Scalar::Int64 | Scalar::Bool, WireValue::Varint(v)) => Ok(scalar_from_varint(scalar, *v)),
        (Scalar::Double, WireValue::Fixed64(v)) => Ok(double_value(f64::from_bits(*v))),
        (Scalar::String | Scalar::Bytes, other) => Err(ctx.wire_error(2, other)),
        (Scalar::Double, other) => Err(ctx.wire_error(1, other)),
        (_, other) => Err(ctx.wire_error(0, other)),
    }
}

/// JSON numbers cannot hold NaN or infinities; those become null.
fn double_value(v: f64) -> Value {
    serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
}

fn scalar_from_varint(scalar: Scalar, raw: u64) -> Value {
    match scalar {
        Scalar::Bool => Value::Bool(raw != 0),
        // Truncation is the protobuf rule for int32.
        Scalar::Int32 => Value::from(raw as i64 as i32),
        _ => Value::from(raw as i64),
    }
}

fn expect_bytes<'a>(ctx: &Ctx<'_>, value: &WireValue<'a>) -> Result<&'a [u8], ProtoError> {
    match value {
        WireValue::Bytes(b) => Ok(b),
        other => Err(ctx.wire_error(2, other)),
    }
}

fn utf8(ctx: &Ctx<'_>, bytes: &[u8]) -> Result<String, ProtoError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| ProtoError::InvalidValue {
        field: ctx.path(),
        reason: "string is not valid UTF-8".to_string(),
    })
}

fn decode_special(kind: Special, type_name: &str, bytes: &[u8], depth: usize) -> Result<Option<Value>, ProtoError> {
    let fields = special::Fields::parse(type_name, bytes)?;
    special::to_json(kind, &fields, depth)
}
