//! The `k8s\0` + `runtime.Unknown` envelope that wraps every protobuf object on the wire.

use serde_json::{Map, Value};

use super::wire::{self, WireValue};
use super::{MAGIC, ProtoError, decode, encode, type_for_kind};

/// The parts of a `runtime.Unknown` we need.
#[derive(Default)]
struct Unknown<'a> {
    api_version: String,
    kind: String,
    raw: &'a [u8],
    content_encoding: String,
    content_type: String,
}

/// Decodes an enveloped object into JSON with `kind` and `apiVersion` first.
pub fn decode(body: &[u8], depth: usize) -> Result<Value, ProtoError> {
    let inner = body.strip_prefix(&MAGIC).ok_or(ProtoError::BadMagic)?;
    let unknown = parse_unknown(inner)?;
    if !unknown.content_encoding.is_empty() {
        return Err(ProtoError::Unsupported(format!(
            "content encoding {:?}",
            unknown.content_encoding
        )));
    }
    let fields = match unknown.content_type.as_str() {
        "" | "application/vnd.kubernetes.protobuf" => decode_raw(&unknown, depth)?,
        "application/json" => json_object(unknown.raw)?,
        other => return Err(ProtoError::Unsupported(format!("content type {other:?}"))),
    };
    let mut out = Map::new();
    out.insert("kind".to_string(), Value::String(unknown.kind));
    out.insert("apiVersion".to_string(), Value::String(unknown.api_version));
    out.extend(fields.into_iter().filter(|(k, _)| k != "kind" && k != "apiVersion"));
    Ok(Value::Object(out))
}

fn decode_raw(unknown: &Unknown<'_>, depth: usize) -> Result<Map<String, Value>, ProtoError> {
    let type_name = type_for_kind(&unknown.api_version, &unknown.kind).ok_or_else(|| ProtoError::UnknownKind {
        api_version: unknown.api_version.clone(),
        kind: unknown.kind.clone(),
    })?;
    decode::decode_object(type_name, unknown.raw, depth + 1)
}

fn json_object(raw: &[u8]) -> Result<Map<String, Value>, ProtoError> {
    match serde_json::from_slice(raw) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(invalid("embedded JSON is not an object".to_string())),
        Err(e) => Err(invalid(format!("embedded JSON: {e}"))),
    }
}

fn invalid(reason: String) -> ProtoError {
    ProtoError::InvalidValue {
        field: "runtime.Unknown.raw".to_string(),
        reason,
    }
}

fn parse_unknown(bytes: &[u8]) -> Result<Unknown<'_>, ProtoError> {
    let mut unknown = Unknown::default();
    for (tag, value) in wire::read_all(bytes)? {
        match tag {
            1 => parse_type_meta(envelope_bytes(tag, &value)?, &mut unknown)?,
            2 => unknown.raw = envelope_bytes(tag, &value)?,
            3 => unknown.content_encoding = envelope_string(tag, &value)?,
            4 => unknown.content_type = envelope_string(tag, &value)?,
            _ => {}
        }
    }
    Ok(unknown)
}

fn parse_type_meta(bytes: &[u8], unknown: &mut Unknown<'_>) -> Result<(), ProtoError> {
    for (tag, value) in wire::read_all(bytes)? {
        match tag {
            1 => unknown.api_version = envelope_string(tag, &value)?,
            2 => unknown.kind = envelope_string(tag, &value)?,
            _ => {}
        }
    }
    Ok(())
}

fn envelope_bytes<'a>(tag: u32, value: &WireValue<'a>) -> Result<&'a [u8], ProtoError> {
    match value {
        WireValue::Bytes(b) => Ok(b),
        other => Err(ProtoError::WireType {
            field: format!("runtime.Unknown#{tag}"),
            expected: 2,
            found: other.wire_type(),
        }),
    }
}

fn envelope_string(tag: u32, value: &WireValue<'_>) -> Result<String, ProtoError> {
    let bytes = envelope_bytes(tag, value)?;
    String::from_utf8(bytes.to_vec()).map_err(|_| invalid(format!("field {tag} is not valid UTF-8")))
}

/// Encodes an object (which must carry `apiVersion` and `kind`) with the envelope and magic.
pub fn encode(obj: &Value, depth: usize) -> Result<Vec<u8>, ProtoError> {
    let map = obj.as_object().ok_or(ProtoError::MissingTypeMeta)?;
    let field = |name: &str| map.get(name).and_then(Value::as_str).filter(|s| !s.is_empty());
    let (Some(api_version), Some(kind)) = (field("apiVersion"), field("kind")) else {
        return Err(ProtoError::MissingTypeMeta);
    };
    let type_name = type_for_kind(api_version, kind).ok_or_else(|| ProtoError::UnknownKind {
        api_version: api_version.to_string(),
        kind: kind.to_string(),
    })?;
    let raw = encode::encode_object(type_name, map, depth + 1)?;
    let mut type_meta = Vec::new();
    wire::put_bytes_field(&mut type_meta, 1, api_version.as_bytes());
    wire::put_bytes_field(&mut type_meta, 2, kind.as_bytes());
    let mut out = MAGIC.to_vec();
    wire::put_bytes_field(&mut out, 1, &type_meta);
    wire::put_bytes_field(&mut out, 2, &raw);
    // Go always writes the (empty) contentEncoding and contentType strings.
    wire::put_bytes_field(&mut out, 3, b"");
    wire::put_bytes_field(&mut out, 4, b"");
    Ok(out)
}
