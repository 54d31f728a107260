//! Content negotiation: which representation a client accepts (JSON, YAML, protobuf, or a
//! Table / PartialObjectMetadata view), encoding responses, and decoding request bodies.

use crate::errors::{ApiError, ApiResult};
use bytes::Bytes;
use serde_json::Value;

pub const JSON: &str = "application/json";
pub const YAML: &str = "application/yaml";
pub const PROTOBUF: &str = "application/vnd.kubernetes.protobuf";

/// The view of the object(s) a client asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Object,
    Table,
    PartialMetadata,
}

/// The serialization of the response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Json { pretty: bool },
    Yaml,
    Protobuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Output {
    pub view: View,
    pub encoding: Encoding,
}

struct MediaRange<'a> {
    mime: &'a str,
    params: Vec<(&'a str, &'a str)>,
}

impl<'a> MediaRange<'a> {
    fn parse(s: &'a str) -> MediaRange<'a> {
        let mut parts = s.split(';').map(str::trim);
        let mime = parts.next().unwrap_or_default();
        let params = parts
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| (k.trim(), v.trim()))
            .collect();
        MediaRange { mime, params }
    }
    fn param(&self, k: &str) -> Option<&'a str> {
        self.params.iter().find(|(pk, _)| *pk == k).map(|(_, v)| *v)
    }
}

/// Chooses the response form. JSON wins over protobuf whenever both are acceptable: every
/// client that asks for protobuf also reads JSON by the response Content-Type.
pub fn negotiate(accept: Option<&str>, pretty: bool) -> ApiResult<Output> {
    let accept = accept.unwrap_or_default().trim();
    if accept.is_empty() {
        return Ok(Output {
            view: View::Object,
            encoding: Encoding::Json { pretty },
        });
    }
    let mut protobuf_ok = false;
    for raw in accept.split(',') {
        let m = MediaRange::parse(raw);
        let view = match (m.param("as"), m.param("g")) {
            (None, _) => View::Object,
            (Some("Table"), Some("meta.k8s.io")) if matches!(m.param("v"), Some("v1" | "v1beta1")) => View::Table,
            (Some("PartialObjectMetadata" | "PartialObjectMetadataList"), Some("meta.k8s.io")) => View::PartialMetadata,
            _ => continue,
        };
        match m.mime {
            JSON | "application/*" | "*/*" => {
                return Ok(Output {
                    view,
                    encoding: Encoding::Json { pretty },
                });
            }
            YAML => {
                return Ok(Output {
                    view,
                    encoding: Encoding::Yaml,
                });
            }
            PROTOBUF if view == View::Object => protobuf_ok = true,
            _ => {}
        }
    }
    if protobuf_ok {
        return Ok(Output {
            view: View::Object,
            encoding: Encoding::Protobuf,
        });
    }
    Err(ApiError::not_acceptable(
        "application/json, application/yaml, application/vnd.kubernetes.protobuf",
    ))
}

/// Serializes a response body; returns its content type and bytes.
pub fn encode(value: &Value, encoding: Encoding) -> (&'static str, Bytes) {
    match encoding {
        Encoding::Json { pretty } => (JSON, json_bytes(value, pretty)),
        Encoding::Yaml => match serde_saphyr::to_string(value) {
            Ok(s) => (YAML, Bytes::from(s)),
            Err(_) => (JSON, json_bytes(value, false)),
        },
        Encoding::Protobuf => match crate::protobuf::encode_envelope(value) {
            Ok(b) => (PROTOBUF, Bytes::from(b)),
            // Kinds without a protobuf form (Table, discovery) fall back to JSON.
            Err(_) => (JSON, json_bytes(value, false)),
        },
    }
}

pub fn json_bytes(value: &Value, pretty: bool) -> Bytes {
    let mut out = if pretty {
        serde_json::to_vec_pretty(value)
    } else {
        serde_json::to_vec(value)
    }
    .unwrap_or_default();
    out.push(b'\n');
    Bytes::from(out)
}

/// Decodes a request body by its Content-Type.
pub fn decode_body(content_type: Option<&str>, body: &[u8]) -> ApiResult<Value> {
    let mime = MediaRange::parse(content_type.unwrap_or(JSON))
        .mime
        .to_ascii_lowercase();
    match mime.as_str() {
        JSON | "" => serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("couldn't get version/kind; json parse error: {e}"))),
        YAML | "application/x-yaml" | "text/yaml" => {
            let text = std::str::from_utf8(body).map_err(|e| ApiError::bad_request(e.to_string()))?;
            serde_saphyr::from_str::<Value>(text)
                .map_err(|e| ApiError::bad_request(format!("error converting YAML to JSON: {e}")))
        }
        PROTOBUF => crate::protobuf::decode_envelope(body).map_err(|e| ApiError::bad_request(e.to_string())),
        _ => Err(ApiError::unsupported_media_type(
            "application/json, application/yaml, application/vnd.kubernetes.protobuf",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_table_json_yaml_and_protobuf() {
        let table = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
        assert_eq!(negotiate(Some(table), false).unwrap().view, View::Table);
        assert_eq!(
            negotiate(Some("application/yaml"), false).unwrap().encoding,
            Encoding::Yaml
        );
        let pb = negotiate(Some("application/vnd.kubernetes.protobuf,application/json"), false).unwrap();
        assert_eq!(pb.encoding, Encoding::Json { pretty: false });
        let only_pb = negotiate(Some("application/vnd.kubernetes.protobuf"), false).unwrap();
        assert_eq!(only_pb.encoding, Encoding::Protobuf);
        assert_eq!(negotiate(Some("text/html"), false).unwrap_err().code, 406);
        assert_eq!(
            negotiate(Some("*/*"), true).unwrap().encoding,
            Encoding::Json { pretty: true }
        );
    }

    #[test]
    fn decodes_bodies() {
        assert_eq!(decode_body(Some("application/yaml"), b"a: 1\n").unwrap()["a"], 1);
        assert_eq!(decode_body(None, b"{bad").unwrap_err().code, 400);
        assert_eq!(decode_body(Some("text/plain"), b"x").unwrap_err().code, 415);
    }
}
