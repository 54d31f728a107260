//! The errors commands return and how upstream kubectl prints them: `Error from server
//! (Reason): message` for API Status errors, `error: …` otherwise; all exit with code 1.

/// A command failure, printed on stderr.
#[derive(Debug, thiserror::Error)]
pub enum CmdError {
    /// An API Status error.
    #[error("Error from server ({reason}): {message}")]
    Server { reason: String, message: String },
    /// An API error without a reason.
    #[error("Error from server: {0}")]
    ServerPlain(String),
    /// `error: <message>`.
    #[error("error: {0}")]
    Message(String),
    /// Printed exactly as is (already formatted, e.g. usage help).
    #[error("{0}")]
    Raw(String),
}

impl CmdError {
    pub fn msg(m: impl Into<String>) -> CmdError {
        CmdError::Message(m.into())
    }

    /// From a non-2xx response body: a Status when it is one.
    pub fn from_response(code: u16, body: &[u8]) -> CmdError {
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body)
            && v["kind"] == "Status"
        {
            let message = v["message"].as_str().unwrap_or_default().to_string();
            let reason = v["reason"].as_str().unwrap_or_default().to_string();
            return if reason.is_empty() || reason == "Unknown" {
                CmdError::ServerPlain(message)
            } else {
                CmdError::Server { reason, message }
            };
        }
        let text = String::from_utf8_lossy(body).trim().to_string();
        match code {
            404 => CmdError::Server {
                reason: "NotFound".into(),
                message: "the server could not find the requested resource".into(),
            },
            401 => CmdError::msg("You must be logged in to the server (Unauthorized)"),
            406 => CmdError::Server {
                reason: "NotAcceptable".into(),
                message: "the server was unable to respond with a content type that the client supports".into(),
            },
            403 => CmdError::Server {
                reason: "Forbidden".into(),
                message: text,
            },
            _ => CmdError::ServerPlain(if text.is_empty() {
                "an error on the server (\"\") has prevented the request from succeeding".to_string()
            } else {
                text
            }),
        }
    }

    /// From a kube-rs error: the server's Status when it sent one, else a connection error.
    pub fn from_kube(e: kube::Error) -> CmdError {
        match e {
            kube::Error::Api(status) => {
                if status.reason.is_empty() || status.reason == "Unknown" {
                    CmdError::ServerPlain(status.message)
                } else {
                    CmdError::Server {
                        reason: status.reason,
                        message: status.message,
                    }
                }
            }
            other => crate::http::connection_error(other),
        }
    }

    /// Whether this is a NotFound Status.
    pub fn is_not_found(&self) -> bool {
        matches!(self, CmdError::Server { reason, .. } if reason == "NotFound")
    }
}

impl From<crate::kubeconfig::client::ClientError> for CmdError {
    fn from(e: crate::kubeconfig::client::ClientError) -> CmdError {
        match e {
            crate::kubeconfig::client::ClientError::Kube(m)
                if m.starts_with("The connection") || m.starts_with("Unable to connect") =>
            {
                CmdError::Raw(m)
            }
            e @ (crate::kubeconfig::client::ClientError::NoContext(_)
            | crate::kubeconfig::client::ClientError::NoCluster(_)) => {
                CmdError::Raw(format!("Error in configuration: {e}"))
            }
            other => CmdError::Message(other.to_string()),
        }
    }
}

impl From<crate::kubeconfig::KubeconfigError> for CmdError {
    fn from(e: crate::kubeconfig::KubeconfigError) -> CmdError {
        CmdError::Message(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_messages() {
        let body =
            br#"{"kind":"Status","status":"Failure","message":"pods \"x\" not found","reason":"NotFound","code":404}"#;
        let e = CmdError::from_response(404, body);
        assert_eq!(e.to_string(), "Error from server (NotFound): pods \"x\" not found");
        assert!(e.is_not_found());
    }
}
