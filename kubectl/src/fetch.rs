//! `-f http(s)://…`: a plain GET as upstream's file visitor does it — redirects followed,
//! server errors (5xx) retried up to three times a second apart, and upstream's error for
//! any other non-200 answer. HTTPS trusts the platform's roots.

use crate::error::CmdError;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;

const ATTEMPTS: usize = 3;
const MAX_REDIRECTS: usize = 10;

/// The body of `url` as text.
pub async fn get(url: &str) -> Result<String, CmdError> {
    let mut target = url.to_string();
    let mut redirects = 0;
    let mut attempt = 1;
    loop {
        let res = request(&target).await?;
        let status = res.status();
        if status.is_redirection()
            && let Some(location) = res.headers().get(http::header::LOCATION).and_then(|l| l.to_str().ok())
            && redirects < MAX_REDIRECTS
        {
            target = resolve(&target, location);
            redirects += 1;
            continue;
        }
        if status.is_server_error() && attempt < ATTEMPTS {
            attempt += 1;
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        let reason = res
            .extensions()
            .get::<hyper::ext::ReasonPhrase>()
            .map(|r| String::from_utf8_lossy(r.as_bytes()).into_owned())
            .or_else(|| status.canonical_reason().map(str::to_string))
            .unwrap_or_default();
        let body = res
            .into_body()
            .collect()
            .await
            .map_err(|e| CmdError::msg(format!("unable to read URL \"{url}\": {e}")))?
            .to_bytes();
        if status != http::StatusCode::OK {
            return Err(CmdError::msg(format!(
                "unable to read URL \"{url}\", server reported {} {reason}, status code={}",
                status.as_u16(),
                status.as_u16()
            )));
        }
        return Ok(String::from_utf8_lossy(&body).into_owned());
    }
}

/// A Location header made absolute against the URL it came from.
fn resolve(base: &str, location: &str) -> String {
    if location.contains("://") {
        return location.to_string();
    }
    let origin_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[origin_end..].find('/').map_or(base.len(), |i| origin_end + i);
    if location.starts_with('/') {
        format!("{}{location}", &base[..host_end])
    } else {
        let dir_end = base.rfind('/').filter(|&i| i >= host_end).unwrap_or(host_end);
        format!("{}/{location}", &base[..dir_end])
    }
}

/// One GET over a fresh HTTP/1.1 connection.
async fn request(url: &str) -> Result<http::Response<hyper::body::Incoming>, CmdError> {
    let uri: http::Uri = url
        .parse()
        .map_err(|e| CmdError::msg(format!("unable to read URL \"{url}\": {e}")))?;
    let https = uri.scheme_str() == Some("https");
    let host = uri.host().unwrap_or_default().to_string();
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    let refused = || {
        CmdError::Raw(format!(
            "The connection to the server {host}:{port} was refused - did you specify the right host or port?"
        ))
    };
    let tcp = TcpStream::connect((host.as_str(), port)).await.map_err(|_| refused())?;
    let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_string();
    let req = http::Request::get(path)
        .header(
            http::header::HOST,
            uri.authority().map_or(host.as_str(), |a| a.as_str()),
        )
        .header(http::header::USER_AGENT, format!("kubectl/{}", crate::VERSION))
        .body(Empty::<Bytes>::new())
        .map_err(|e| CmdError::msg(e.to_string()))?;
    let fail = |e: &dyn std::fmt::Display| CmdError::msg(format!("unable to read URL \"{url}\": {e}"));
    if https {
        use rustls_platform_verifier::ConfigVerifierExt;
        let config = rustls::ClientConfig::with_platform_verifier().map_err(|e| fail(&e))?;
        let name = rustls_pki_types::ServerName::try_from(host.clone()).map_err(|e| fail(&e))?;
        let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
            .map_err(|e| fail(&e))?;
        send(TokioIo::new(tls), req).await.map_err(|e| fail(&e))
    } else {
        send(TokioIo::new(tcp), req).await.map_err(|e| fail(&e))
    }
}

async fn send<T>(io: T, req: http::Request<Empty<Bytes>>) -> hyper::Result<http::Response<hyper::body::Incoming>>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await?;
    tokio::spawn(conn);
    sender.send_request(req).await
}

#[cfg(test)]
mod tests {
    use super::resolve;

    #[test]
    fn redirect_targets() {
        assert_eq!(resolve("http://h:1/a/b.yaml", "/c.yaml"), "http://h:1/c.yaml");
        assert_eq!(resolve("http://h:1/a/b.yaml", "c.yaml"), "http://h:1/a/c.yaml");
        assert_eq!(resolve("http://h/a", "https://x/y"), "https://x/y");
    }
}
