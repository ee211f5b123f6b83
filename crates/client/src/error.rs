use attache_protocol::{ApiError, ErrorCode};
use reqwest::Response;
use thiserror::Error;

/// What can go wrong talking to the service.
#[derive(Debug, Error)]
pub enum ClientError {
    /// The service answered with an error (`{"error", "message"}`).
    #[error("{message} ({code}, HTTP {status})")]
    Api {
        /// HTTP status.
        status: u16,
        /// The service's stable error code, e.g. `bad-credentials` ([`ErrorCode::Unknown`] when
        /// the answer carried none this SDK knows).
        code: ErrorCode,
        /// The service's explanation.
        message: String,
    },
    /// The service refused an upload; the SDK read why from the upload's record, after the
    /// answer that said so was lost (so there is no HTTP status to tell).
    #[error("{message} ({code})")]
    Refused {
        /// The refusal's code, e.g. `type-mismatch`, `upload-expired`.
        code: ErrorCode,
        /// The service's explanation.
        message: String,
    },
    /// Nothing answered at the address (refused, unknown host, timed out).
    #[error("the service is unreachable: {0}")]
    Unreachable(String),
    /// The connection broke in another way.
    #[error("transport error: {0}")]
    Transport(String),
    /// The address is not a usable service URL.
    #[error("invalid service address: {0}")]
    InvalidUrl(String),
    /// The service sent something the SDK does not understand.
    #[error("unexpected response: {0}")]
    Protocol(String),
}

impl ClientError {
    pub(crate) fn from_reqwest(e: reqwest::Error) -> Self {
        if e.is_connect() || e.is_timeout() {
            ClientError::Unreachable(e.to_string())
        } else {
            ClientError::Transport(e.to_string())
        }
    }

    /// The stable code of an API error, or a code naming the kind of failure.
    pub fn code(&self) -> ErrorCode {
        match self {
            ClientError::Api { code, .. } | ClientError::Refused { code, .. } => *code,
            ClientError::Unreachable(_) => ErrorCode::Unreachable,
            ClientError::Transport(_) => ErrorCode::Transport,
            ClientError::InvalidUrl(_) => ErrorCode::InvalidUrl,
            ClientError::Protocol(_) => ErrorCode::Protocol,
        }
    }

    /// Whether the session is over (signed out, expired, disabled): sign in again.
    pub fn session_ended(&self) -> bool {
        matches!(self.code(), ErrorCode::SessionExpired | ErrorCode::Unauthorized)
    }

    /// The HTTP status of an API error.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// Turns an error status into [`ClientError::Api`] with the service's code and message.
pub(crate) async fn check(resp: Response) -> Result<Response, ClientError> {
    let status = resp.status();
    if status.is_success() {
        return Ok(resp);
    }
    let text = resp.text().await.unwrap_or_default();
    let (code, message) = match serde_json::from_str::<ApiError>(&text) {
        Ok(e) => (e.error, e.message),
        Err(_) => (ErrorCode::Unknown, text),
    };
    Err(ClientError::Api { status: status.as_u16(), code, message })
}
