//! The one error type that crosses IPC: `{code, message}`, with stable kebab-case codes the UI
//! knows and a sentence it can show as it is.

use attache_client::ClientError;
use serde::Serialize;
use ts_rs::TS;

/// A failed command, as the web side receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, thiserror::Error)]
#[error("{message} ({code})")]
pub struct ConsoleError {
    /// Stable code: `bad-credentials`, `unreachable`, `session-expired`, `not-signed-in`,
    /// `invalid-server-url`, `keyring-unavailable`, `keyring-error`, or a service code such as
    /// `contact-not-queued`.
    pub code: String,
    /// What happened, in words for the agent.
    pub message: String,
}

impl ConsoleError {
    /// An error with the given code and sentence.
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self { code: code.to_owned(), message: message.into() }
    }

    /// A command that needs a session was called without one.
    pub fn not_signed_in() -> Self {
        Self::new("not-signed-in", "You are not signed in.")
    }

    /// The session token no longer works.
    pub fn session_expired() -> Self {
        Self::new("session-expired", "Your session has ended. Please sign in again.")
    }

    /// Maps an SDK error met while signing in: a 401 there means wrong credentials.
    pub fn from_sign_in(e: ClientError) -> Self {
        match e.status() {
            Some(401) => {
                Self::new("bad-credentials", "Wrong account, user name or password. Check them and try again.")
            }
            _ => e.into(),
        }
    }
}

impl From<ClientError> for ConsoleError {
    fn from(e: ClientError) -> Self {
        match &e {
            ClientError::Api { status: 401, .. } => Self::session_expired(),
            ClientError::Api { code, message, .. } => Self::new(code, message.clone()),
            ClientError::Unreachable(_) => Self::new(
                "unreachable",
                "The server cannot be reached. Check the server address and your network connection.",
            ),
            ClientError::InvalidUrl(detail) => Self::new(
                "invalid-server-url",
                format!("That is not a usable server address ({detail}). Use e.g. http://127.0.0.1:8080."),
            ),
            ClientError::Transport(detail) => {
                Self::new("network", format!("The connection to the server failed: {detail}"))
            }
            ClientError::Protocol(detail) => {
                Self::new("protocol", format!("The server sent an answer the console does not understand: {detail}"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_to_code_and_message_only() {
        let json = serde_json::to_value(ConsoleError::session_expired()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "code": "session-expired",
                "message": "Your session has ended. Please sign in again."
            })
        );
    }

    #[test]
    fn maps_sdk_errors_to_stable_codes() {
        let api = |status, code: &str| ClientError::Api { status, code: code.into(), message: "m".into() };
        assert_eq!(ConsoleError::from_sign_in(api(401, "bad-credentials")).code, "bad-credentials");
        assert_eq!(ConsoleError::from(api(401, "unauthorized")).code, "session-expired");
        assert_eq!(ConsoleError::from(api(409, "contact-not-queued")).code, "contact-not-queued");
        assert_eq!(ConsoleError::from(ClientError::Unreachable("x".into())).code, "unreachable");
        assert_eq!(ConsoleError::from(ClientError::InvalidUrl("x".into())).code, "invalid-server-url");
    }
}
