//! Raw requests through the kube-rs client with the headers kubectl chooses (Table or JSON
//! Accept), returning the body or the server's Status as a `CmdError`; `Warning` headers are
//! printed on stderr as upstream does.

use crate::error::CmdError;
use http_body_util::BodyExt;

pub const ACCEPT_TABLE: &str =
    "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
pub const ACCEPT_JSON: &str = "application/json";

/// A successful response.
pub struct Reply {
    pub content_type: String,
    pub body: Vec<u8>,
}

/// GET `path` (with query) and return the body of a 2xx answer.
pub async fn get(client: &kube::Client, path: &str, accept: &str) -> Result<Reply, CmdError> {
    let (code, reply) = get_any(client, path, accept).await?;
    if !(200..300).contains(&code) {
        return Err(CmdError::from_response(code, &reply.body));
    }
    Ok(reply)
}

/// GET `path`, whatever the status.
pub async fn get_any(client: &kube::Client, path: &str, accept: &str) -> Result<(u16, Reply), CmdError> {
    request(client, http::Method::GET, path, accept, None, Vec::new()).await
}

/// Sends a write (`POST`, `PUT`, `PATCH`, `DELETE`) with a JSON body of `content_type` and
/// returns the body of a 2xx answer.
pub async fn send(
    client: &kube::Client,
    method: http::Method,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> Result<Reply, CmdError> {
    let (code, reply) = request(client, method, path, ACCEPT_JSON, Some(content_type), body).await?;
    if !(200..300).contains(&code) {
        return Err(CmdError::from_response(code, &reply.body));
    }
    Ok(reply)
}

/// Sends one request, whatever the status: the code and the reply. `Warning` headers are
/// printed on stderr.
pub async fn request(
    client: &kube::Client,
    method: http::Method,
    path: &str,
    accept: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> Result<(u16, Reply), CmdError> {
    let mut req = http::Request::builder()
        .method(method)
        .uri(path)
        .header(http::header::ACCEPT, accept);
    if let Some(ct) = content_type {
        req = req.header(http::header::CONTENT_TYPE, ct);
    }
    let req = req
        .body(kube::client::Body::from(body))
        .map_err(|e| CmdError::msg(e.to_string()))?;
    let res = client.send(req).await.map_err(connection_error)?;
    let code = res.status().as_u16();
    print_warnings(res.headers());
    let content_type = res
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body = res
        .into_body()
        .collect()
        .await
        .map_err(|e| CmdError::msg(e.to_string()))?
        .to_bytes()
        .to_vec();
    Ok((code, Reply { content_type, body }))
}

/// GET `path` and return the body of a 2xx answer unread, for streams (logs).
pub async fn get_stream(client: &kube::Client, path: &str) -> Result<kube::client::Body, CmdError> {
    let req = http::Request::get(path)
        .body(kube::client::Body::from(Vec::new()))
        .map_err(|e| CmdError::msg(e.to_string()))?;
    let res = client.send(req).await.map_err(connection_error)?;
    print_warnings(res.headers());
    let code = res.status().as_u16();
    if (200..300).contains(&code) {
        return Ok(res.into_body());
    }
    let body = res
        .into_body()
        .collect()
        .await
        .map_err(|e| CmdError::msg(e.to_string()))?
        .to_bytes();
    Err(CmdError::from_response(code, &body))
}

/// How a failed connection reads in upstream kubectl.
pub fn connection_error(e: kube::Error) -> CmdError {
    let text = format!("{e:?}");
    if text.contains("Connection refused") || text.contains("ConnectionRefused") {
        return CmdError::Raw(
            "The connection to the server was refused - did you specify the right host or port?".into(),
        );
    }
    CmdError::msg(e.to_string())
}

fn print_warnings(headers: &http::HeaderMap) {
    for v in headers.get_all("warning") {
        let Ok(text) = v.to_str() else { continue };
        // `299 - "text"`
        let mut parts = text.splitn(3, ' ');
        let (_code, _agent, rest) = (parts.next(), parts.next(), parts.next().unwrap_or_default());
        let msg = rest.trim().trim_matches('"').replace("\\\"", "\"");
        eprintln!("Warning: {msg}");
    }
}
