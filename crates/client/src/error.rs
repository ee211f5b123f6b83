use thiserror::Error;

/// What can go wrong talking to the service.
#[derive(Debug, Error)]
pub enum ClientError {
    /// The service answered with an error (`{"error", "message"}`).
    #[error("{message} ({code}, HTTP {status})")]
    Api {
        /// HTTP status.
        status: u16,
        /// The service's stable error code, e.g. `bad-credentials`.
        code: String,
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
    pub fn code(&self) -> &str {
        match self {
            ClientError::Api { code, .. } => code,
            ClientError::Unreachable(_) => "unreachable",
            ClientError::Transport(_) => "transport",
            ClientError::InvalidUrl(_) => "invalid-url",
            ClientError::Protocol(_) => "protocol",
        }
    }

    /// The HTTP status of an API error.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}
