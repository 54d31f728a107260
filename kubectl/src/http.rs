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
    let res = open(client, method, path, accept, content_type, body).await?;
    let code = res.status().as_u16();
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

/// Sends one request and returns the response once its headers arrived.
async fn open(
    client: &kube::Client,
    method: http::Method,
    path: &str,
    accept: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> Result<http::Response<kube::client::Body>, CmdError> {
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
    print_warnings(res.headers());
    Ok(res)
}

/// GET `path` and return the body of a 2xx answer unread, for streams (watches, logs).
pub async fn get_stream(client: &kube::Client, path: &str, accept: &str) -> Result<kube::client::Body, CmdError> {
    let res = open(client, http::Method::GET, path, accept, None, Vec::new()).await?;
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

/// A response body read as it arrives, line by line (watch streams).
pub struct Lines {
    body: kube::client::Body,
    buf: Vec<u8>,
    done: bool,
}

impl Lines {
    /// The next complete line without its newline; `None` once the server closed the stream
    /// (a last line without a newline is returned first).
    pub async fn next(&mut self) -> Result<Option<Vec<u8>>, CmdError> {
        loop {
            if let Some(i) = self.buf.iter().position(|&b| b == b'\n') {
                let rest = self.buf.split_off(i + 1);
                let mut line = std::mem::replace(&mut self.buf, rest);
                line.pop();
                return Ok(Some(line));
            }
            if self.done {
                return Ok((!self.buf.is_empty()).then(|| std::mem::take(&mut self.buf)));
            }
            match self.body.frame().await {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.buf.extend_from_slice(&data);
                    }
                }
                Some(Err(e)) => return Err(CmdError::msg(e.to_string())),
                None => self.done = true,
            }
        }
    }
}

/// GET `path` and return its body as a stream of lines once the server answered 2xx.
pub async fn stream(client: &kube::Client, path: &str, accept: &str) -> Result<Lines, CmdError> {
    Ok(Lines {
        body: get_stream(client, path, accept).await?,
        buf: Vec::new(),
        done: false,
    })
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
