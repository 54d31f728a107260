//! Messages whose JSON form is not an object of their fields (Time, Quantity, IntOrString, ...).

use serde_json::Value;

use super::timefmt;
use super::wire::{self, WireValue};
use super::{MAGIC, ProtoError, decode, encode, envelope};

const META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.";
const CRD: &str = "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.";
const SCHEMA_PROPS: &str = "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps";

/// The messages with a special JSON encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Special {
    /// {1 seconds, 2 nanos} <-> RFC 3339, second precision.
    Time,
    /// {1 seconds, 2 nanos} <-> RFC 3339 with microseconds.
    MicroTime,
    /// {1 duration nanos} <-> Go duration string.
    Duration,
    /// {1 string} <-> string.
    Quantity,
    /// {1 type, 2 intVal, 3 strVal} <-> number or string.
    IntOrString,
    /// {1 raw} <-> embedded JSON (or an enveloped protobuf object).
    RawExtension,
    /// {1 raw} <-> embedded JSON (FieldsV1 and apiextensions JSON).
    RawJson,
    /// {1 schema, 2 repeated schemas} <-> object or array.
    SchemaOrArray,
    /// {1 allows, 2 schema} <-> bool or object.
    SchemaOrBool,
    /// {1 schema, 2 repeated string} <-> object or string array.
    SchemaOrStringArray,
}

/// Finds the special encoding of a message type, if it has one.
pub fn lookup(type_name: &str) -> Option<Special> {
    if let Some(name) = type_name.strip_prefix(META) {
        return match name {
            "Time" => Some(Special::Time),
            "MicroTime" => Some(Special::MicroTime),
            "Duration" => Some(Special::Duration),
            "FieldsV1" => Some(Special::RawJson),
            _ => None,
        };
    }
    if let Some(name) = type_name.strip_prefix(CRD) {
        return match name {
            "JSON" => Some(Special::RawJson),
            "JSONSchemaPropsOrArray" => Some(Special::SchemaOrArray),
            "JSONSchemaPropsOrBool" => Some(Special::SchemaOrBool),
            "JSONSchemaPropsOrStringArray" => Some(Special::SchemaOrStringArray),
            _ => None,
        };
    }
    match type_name {
        "io.k8s.apimachinery.pkg.api.resource.Quantity" => Some(Special::Quantity),
        "io.k8s.apimachinery.pkg.util.intstr.IntOrString" => Some(Special::IntOrString),
        "io.k8s.apimachinery.pkg.runtime.RawExtension" => Some(Special::RawExtension),
        _ => None,
    }
}

/// The raw fields of a small special message.
pub struct Fields<'a> {
    type_name: &'a str,
    entries: Vec<(u32, WireValue<'a>)>,
}

impl<'a> Fields<'a> {
    pub fn parse(type_name: &'a str, bytes: &'a [u8]) -> Result<Self, ProtoError> {
        Ok(Fields {
            type_name,
            entries: wire::read_all(bytes)?,
        })
    }

    fn last(&self, tag: u32) -> Option<&WireValue<'a>> {
        self.entries.iter().rev().find(|(t, _)| *t == tag).map(|(_, v)| v)
    }

    fn error(&self, tag: u32, expected: u8, found: &WireValue<'_>) -> ProtoError {
        ProtoError::WireType {
            field: format!("{}#{tag}", self.type_name),
            expected,
            found: found.wire_type(),
        }
    }

    fn int(&self, tag: u32) -> Result<i64, ProtoError> {
        match self.last(tag) {
            None => Ok(0),
            Some(WireValue::Varint(v)) => Ok(*v as i64),
            Some(other) => Err(self.error(tag, 0, other)),
        }
    }

    fn bytes(&self, tag: u32) -> Result<Option<&'a [u8]>, ProtoError> {
        match self.last(tag) {
            None => Ok(None),
            Some(WireValue::Bytes(b)) => Ok(Some(b)),
            Some(other) => Err(self.error(tag, 2, other)),
        }
    }

    fn all_bytes(&self, tag: u32) -> Result<Vec<&'a [u8]>, ProtoError> {
        let mut out = Vec::new();
        for (t, value) in &self.entries {
            match value {
                WireValue::Bytes(b) if *t == tag => out.push(*b),
                other if *t == tag => return Err(self.error(tag, 2, other)),
                _ => {}
            }
        }
        Ok(out)
    }

    fn string(&self, tag: u32) -> Result<String, ProtoError> {
        let bytes = self.bytes(tag)?.unwrap_or_default();
        text(self.type_name, bytes)
    }
}

fn text(type_name: &str, bytes: &[u8]) -> Result<String, ProtoError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| invalid(type_name, "string is not valid UTF-8"))
}

fn invalid(type_name: &str, reason: &str) -> ProtoError {
    ProtoError::InvalidValue {
        field: type_name.to_string(),
        reason: reason.to_string(),
    }
}

// ------------------------------------------------------------------ decode

/// Converts a special message to JSON; `None` means "omit the field".
pub fn to_json(kind: Special, f: &Fields<'_>, depth: usize) -> Result<Option<Value>, ProtoError> {
    match kind {
        Special::Time => time_to_json(f, 0),
        Special::MicroTime => time_to_json(f, 6),
        Special::Duration => Ok(Some(Value::String(timefmt::format_duration(f.int(1)?)))),
        Special::Quantity => quantity_to_json(f),
        Special::IntOrString => int_or_string_to_json(f),
        Special::RawExtension => raw_extension_to_json(f, depth),
        Special::RawJson => raw_json(f),
        Special::SchemaOrArray => schema_or_array_to_json(f, depth),
        Special::SchemaOrBool => schema_or_bool_to_json(f, depth),
        Special::SchemaOrStringArray => schema_or_strings_to_json(f, depth),
    }
}

fn time_to_json(f: &Fields<'_>, frac_digits: u8) -> Result<Option<Value>, ProtoError> {
    if f.entries.is_empty() {
        return Ok(None);
    }
    let seconds = f.int(1)?;
    let nanos = f.int(2)? as i32;
    if seconds == timefmt::GO_ZERO_TIME_SECONDS && nanos == 0 {
        return Ok(None);
    }
    let text = timefmt::format_time(seconds, nanos, frac_digits)
        .ok_or_else(|| invalid(f.type_name, "timestamp out of range"))?;
    Ok(Some(Value::String(text)))
}

fn quantity_to_json(f: &Fields<'_>) -> Result<Option<Value>, ProtoError> {
    let text = f.string(1)?;
    Ok(Some(Value::String(if text.is_empty() {
        "0".to_string()
    } else {
        text
    })))
}

fn int_or_string_to_json(f: &Fields<'_>) -> Result<Option<Value>, ProtoError> {
    if f.int(1)? == 1 {
        return Ok(Some(Value::String(f.string(3)?)));
    }
    Ok(Some(Value::from(f.int(2)? as i32)))
}

fn raw_extension_to_json(f: &Fields<'_>, depth: usize) -> Result<Option<Value>, ProtoError> {
    match f.bytes(1)? {
        Some(raw) if raw.starts_with(&MAGIC) => envelope::decode(raw, depth + 1).map(Some),
        _ => raw_json(f),
    }
}

fn raw_json(f: &Fields<'_>) -> Result<Option<Value>, ProtoError> {
    match f.bytes(1)? {
        None | Some([]) => Ok(None),
        Some(raw) => serde_json::from_slice(raw)
            .map(Some)
            .map_err(|e| invalid(f.type_name, &format!("embedded JSON: {e}"))),
    }
}

fn schema_to_json(bytes: &[u8], depth: usize) -> Result<Value, ProtoError> {
    Ok(decode::decode_value(SCHEMA_PROPS, bytes, depth + 1)?.unwrap_or(Value::Null))
}

fn schema_or_array_to_json(f: &Fields<'_>, depth: usize) -> Result<Option<Value>, ProtoError> {
    if let Some(schema) = f.bytes(1)? {
        return schema_to_json(schema, depth).map(Some);
    }
    let items = f.all_bytes(2)?.into_iter().map(|b| schema_to_json(b, depth));
    Ok(Some(Value::Array(items.collect::<Result<_, _>>()?)))
}

fn schema_or_bool_to_json(f: &Fields<'_>, depth: usize) -> Result<Option<Value>, ProtoError> {
    match f.bytes(2)? {
        Some(schema) => schema_to_json(schema, depth).map(Some),
        None => Ok(Some(Value::Bool(f.int(1)? != 0))),
    }
}

fn schema_or_strings_to_json(f: &Fields<'_>, depth: usize) -> Result<Option<Value>, ProtoError> {
    let strings = f.all_bytes(2)?;
    if !strings.is_empty() {
        let items = strings.into_iter().map(|b| text(f.type_name, b).map(Value::String));
        return Ok(Some(Value::Array(items.collect::<Result<_, _>>()?)));
    }
    match f.bytes(1)? {
        Some(schema) => schema_to_json(schema, depth).map(Some),
        None => Ok(None),
    }
}

// ------------------------------------------------------------------ encode

/// Converts JSON to a special message's bytes; `None` means "omit the field".
/// `embed_proto` asks a RawExtension to hold an enveloped protobuf object (watch events).
pub fn from_json(
    kind: Special,
    type_name: &str,
    value: &Value,
    depth: usize,
    embed_proto: bool,
) -> Result<Option<Vec<u8>>, ProtoError> {
    if value.is_null() {
        return Ok(None);
    }
    let mut out = Vec::new();
    match kind {
        Special::Time => time_from_json(type_name, value, 0, &mut out)?,
        Special::MicroTime => time_from_json(type_name, value, 6, &mut out)?,
        Special::Duration => duration_from_json(type_name, value, &mut out)?,
        Special::Quantity => quantity_from_json(type_name, value, &mut out)?,
        Special::IntOrString => int_or_string_from_json(type_name, value, &mut out)?,
        Special::RawExtension if embed_proto => raw_extension_from_json(value, depth, &mut out)?,
        Special::RawExtension | Special::RawJson => raw_json_from(type_name, value, &mut out)?,
        Special::SchemaOrArray => schema_or_array_from_json(type_name, value, depth, &mut out)?,
        Special::SchemaOrBool => schema_or_bool_from_json(type_name, value, depth, &mut out)?,
        Special::SchemaOrStringArray => schema_or_strings_from_json(type_name, value, depth, &mut out)?,
    }
    Ok(Some(out))
}

fn time_from_json(type_name: &str, value: &Value, frac_digits: u8, out: &mut Vec<u8>) -> Result<(), ProtoError> {
    let text = value
        .as_str()
        .ok_or_else(|| invalid(type_name, "expected an RFC 3339 string"))?;
    let (seconds, nanos) =
        timefmt::parse_time(text, frac_digits).ok_or_else(|| invalid(type_name, "invalid RFC 3339 timestamp"))?;
    wire::put_varint_field(out, 1, seconds as u64);
    wire::put_varint_field(out, 2, i64::from(nanos) as u64);
    Ok(())
}

fn duration_from_json(type_name: &str, value: &Value, out: &mut Vec<u8>) -> Result<(), ProtoError> {
    let nanos = value
        .as_str()
        .and_then(timefmt::parse_duration)
        .ok_or_else(|| invalid(type_name, "expected a duration string such as \"1m30s\""))?;
    wire::put_varint_field(out, 1, nanos as u64);
    Ok(())
}

fn quantity_from_json(type_name: &str, value: &Value, out: &mut Vec<u8>) -> Result<(), ProtoError> {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return Err(invalid(type_name, "expected a quantity string")),
    };
    wire::put_bytes_field(out, 1, text.as_bytes());
    Ok(())
}

fn int_or_string_from_json(type_name: &str, value: &Value, out: &mut Vec<u8>) -> Result<(), ProtoError> {
    let (kind, int_val, str_val) = match value {
        Value::String(s) => (1u64, 0i32, s.as_str()),
        Value::Number(n) => {
            let int = n
                .as_i64()
                .and_then(|v| i32::try_from(v).ok())
                .ok_or_else(|| invalid(type_name, "integer out of int32 range"))?;
            (0, int, "")
        }
        _ => return Err(invalid(type_name, "expected an integer or a string")),
    };
    wire::put_varint_field(out, 1, kind);
    wire::put_varint_field(out, 2, i64::from(int_val) as u64);
    wire::put_bytes_field(out, 3, str_val.as_bytes());
    Ok(())
}

fn raw_extension_from_json(value: &Value, depth: usize, out: &mut Vec<u8>) -> Result<(), ProtoError> {
    let raw = match envelope::encode(value, depth + 1) {
        Ok(bytes) => bytes,
        Err(ProtoError::UnknownKind { .. } | ProtoError::MissingTypeMeta) => json_bytes(value),
        Err(e) => return Err(e),
    };
    wire::put_bytes_field(out, 1, &raw);
    Ok(())
}

fn json_bytes(value: &Value) -> Vec<u8> {
    // Serializing a `Value` to a Vec cannot fail (all keys are strings).
    serde_json::to_vec(value).unwrap_or_default()
}

fn raw_json_from(_type_name: &str, value: &Value, out: &mut Vec<u8>) -> Result<(), ProtoError> {
    wire::put_bytes_field(out, 1, &json_bytes(value));
    Ok(())
}

fn schema_from_json(value: &Value, depth: usize) -> Result<Vec<u8>, ProtoError> {
    encode::encode_value(SCHEMA_PROPS, value, depth + 1).map(Option::unwrap_or_default)
}

fn schema_or_array_from_json(
    type_name: &str,
    value: &Value,
    depth: usize,
    out: &mut Vec<u8>,
) -> Result<(), ProtoError> {
    match value {
        Value::Object(_) => wire::put_bytes_field(out, 1, &schema_from_json(value, depth)?),
        Value::Array(items) => {
            for item in items {
                wire::put_bytes_field(out, 2, &schema_from_json(item, depth)?);
            }
        }
        _ => return Err(invalid(type_name, "expected an object or an array")),
    }
    Ok(())
}

fn schema_or_bool_from_json(type_name: &str, value: &Value, depth: usize, out: &mut Vec<u8>) -> Result<(), ProtoError> {
    match value {
        Value::Bool(b) => wire::put_varint_field(out, 1, u64::from(*b)),
        Value::Object(_) => {
            wire::put_varint_field(out, 1, 1);
            wire::put_bytes_field(out, 2, &schema_from_json(value, depth)?);
        }
        _ => return Err(invalid(type_name, "expected a bool or an object")),
    }
    Ok(())
}

fn schema_or_strings_from_json(
    type_name: &str,
    value: &Value,
    depth: usize,
    out: &mut Vec<u8>,
) -> Result<(), ProtoError> {
    match value {
        Value::Object(_) => wire::put_bytes_field(out, 1, &schema_from_json(value, depth)?),
        Value::Array(items) => {
            for item in items {
                let s = item.as_str().ok_or_else(|| invalid(type_name, "expected strings"))?;
                wire::put_bytes_field(out, 2, s.as_bytes());
            }
        }
        _ => return Err(invalid(type_name, "expected an object or a string array")),
    }
    Ok(())
}
