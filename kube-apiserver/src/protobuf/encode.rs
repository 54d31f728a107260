//! Kubernetes JSON -> protobuf bytes, driven by the schema table.

use base64::Engine as _;
use serde_json::{Map, Value};

use super::schema::{self, Card, Field, FieldType, Scalar};
use super::special;
use super::wire;
use super::{MAX_DEPTH, ProtoError};

const WATCH_EVENT: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent";

/// Encodes a JSON value as the message `type_name`. `None` means "omit the field".
pub fn encode_value(type_name: &str, value: &Value, depth: usize) -> Result<Option<Vec<u8>>, ProtoError> {
    encode_value_in(type_name, value, depth, false)
}

fn encode_value_in(
    type_name: &str,
    value: &Value,
    depth: usize,
    embed_proto: bool,
) -> Result<Option<Vec<u8>>, ProtoError> {
    if depth > MAX_DEPTH {
        return Err(ProtoError::TooDeep(MAX_DEPTH));
    }
    if let Some(kind) = special::lookup(type_name) {
        return special::from_json(kind, type_name, value, depth, embed_proto);
    }
    match value {
        Value::Null => Ok(None),
        Value::Object(map) => encode_object(type_name, map, depth).map(Some),
        _ => Err(ProtoError::InvalidValue {
            field: type_name.to_string(),
            reason: "expected a JSON object".to_string(),
        }),
    }
}

/// Encodes a JSON object as the message `type_name`. Keys the schema does not know are ignored.
pub fn encode_object(type_name: &str, obj: &Map<String, Value>, depth: usize) -> Result<Vec<u8>, ProtoError> {
    let msg = schema::message(type_name).ok_or_else(|| ProtoError::UnknownType(type_name.to_string()))?;
    let mut out = Vec::new();
    for field in &msg.fields {
        let ctx = Ctx { type_name, field };
        if field.inline {
            encode_inline(&ctx, obj, depth, &mut out)?;
            continue;
        }
        match obj.get(field.json) {
            None | Some(Value::Null) => {}
            Some(value) => encode_field(&ctx, value, depth, &mut out)?,
        }
    }
    Ok(out)
}

/// Where a value sits, for error messages.
struct Ctx<'a> {
    type_name: &'a str,
    field: &'a Field,
}

impl Ctx<'_> {
    fn invalid(&self, reason: &str) -> ProtoError {
        ProtoError::InvalidValue {
            field: format!("{}.{}", self.type_name, self.field.json),
            reason: reason.to_string(),
        }
    }

    /// WatchEvent.object carries an enveloped protobuf object, like upstream watch streams.
    fn embed_proto(&self) -> bool {
        self.type_name == WATCH_EVENT && self.field.json == "object"
    }
}

fn encode_inline(ctx: &Ctx<'_>, obj: &Map<String, Value>, depth: usize, out: &mut Vec<u8>) -> Result<(), ProtoError> {
    let FieldType::Message(inner) = ctx.field.ty else {
        return Ok(());
    };
    let bytes = encode_object(inner, obj, depth + 1)?;
    if !bytes.is_empty() {
        wire::put_bytes_field(out, ctx.field.tag, &bytes);
    }
    Ok(())
}

fn encode_field(ctx: &Ctx<'_>, value: &Value, depth: usize, out: &mut Vec<u8>) -> Result<(), ProtoError> {
    match ctx.field.card {
        Card::Optional => encode_single(ctx, ctx.field.tag, ctx.field.ty, value, depth, out),
        Card::Repeated => {
            let items = value.as_array().ok_or_else(|| ctx.invalid("expected an array"))?;
            for item in items.iter().filter(|v| !v.is_null()) {
                encode_single(ctx, ctx.field.tag, ctx.field.ty, item, depth, out)?;
            }
            Ok(())
        }
        Card::Map => encode_map(ctx, value, depth, out),
    }
}

fn encode_map(ctx: &Ctx<'_>, value: &Value, depth: usize, out: &mut Vec<u8>) -> Result<(), ProtoError> {
    let map = value.as_object().ok_or_else(|| ctx.invalid("expected an object"))?;
    // Go sorts map keys when marshalling; do the same for stable output.
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort();
    for key in keys {
        let mut entry = Vec::new();
        wire::put_bytes_field(&mut entry, 1, key.as_bytes());
        if let Some(v) = map.get(key).filter(|v| !v.is_null()) {
            encode_single(ctx, 2, ctx.field.ty, v, depth, &mut entry)?;
        }
        wire::put_bytes_field(out, ctx.field.tag, &entry);
    }
    Ok(())
}

fn encode_single(
    ctx: &Ctx<'_>,
    tag: u32,
    ty: FieldType,
    value: &Value,
    depth: usize,
    out: &mut Vec<u8>,
) -> Result<(), ProtoError> {
    match ty {
        FieldType::Scalar(scalar) => encode_scalar(ctx, tag, scalar, value, out),
        FieldType::Message(name) => {
            if let Some(bytes) = encode_value_in(name, value, depth + 1, ctx.embed_proto())? {
                wire::put_bytes_field(out, tag, &bytes);
            }
            Ok(())
        }
    }
}

fn encode_scalar(ctx: &Ctx<'_>, tag: u32, scalar: Scalar, value: &Value, out: &mut Vec<u8>) -> Result<(), ProtoError> {
    match scalar {
        Scalar::String => {
            let s = value.as_str().ok_or_else(|| ctx.invalid("expected a string"))?;
            wire::put_bytes_field(out, tag, s.as_bytes());
        }
        Scalar::Bytes => {
            let s = value.as_str().ok_or_else(|| ctx.invalid("expected a base64 string"))?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(s)
                .map_err(|e| ctx.invalid(&format!("invalid base64: {e}")))?;
            wire::put_bytes_field(out, tag, &bytes);
        }
        Scalar::Bool => {
            let b = value.as_bool().ok_or_else(|| ctx.invalid("expected a boolean"))?;
            wire::put_varint_field(out, tag, u64::from(b));
        }
        Scalar::Int32 => {
            let v = integer(value).and_then(|v| i32::try_from(v).ok());
            let v = v.ok_or_else(|| ctx.invalid("expected a 32-bit integer"))?;
            wire::put_varint_field(out, tag, i64::from(v) as u64);
        }
        Scalar::Int64 => {
            let v = integer(value).ok_or_else(|| ctx.invalid("expected a 64-bit integer"))?;
            wire::put_varint_field(out, tag, v as u64);
        }
        Scalar::Double => {
            let v = value.as_f64().ok_or_else(|| ctx.invalid("expected a number"))?;
            wire::put_fixed64_field(out, tag, v.to_bits());
        }
    }
    Ok(())
}

/// An integer from a JSON number (accepting integral floats such as `3.0`).
fn integer(value: &Value) -> Option<i64> {
    let n = value.as_number()?;
    if let Some(v) = n.as_i64() {
        return Some(v);
    }
    let f = n.as_f64()?;
    (f.fract() == 0.0 && f >= i64::MIN as f64 && f <= i64::MAX as f64).then_some(f as i64)
}
