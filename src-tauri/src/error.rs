//! The one error type that crosses IPC: `{code, message}`, with a stable code of the protocol's
//! one list ([`ErrorCode`], a TypeScript union on the page) and a sentence it can show as it is.

use attache_client::{ClientError, ErrorCode};
use serde::Serialize;
use ts_rs::TS;

/// A failed command, as the web side receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, thiserror::Error)]
#[error("{message} ({code})")]
pub struct ConsoleError {
    /// Stable code: `bad-credentials`, `unreachable`, `session-expired`, `not-signed-in`,
    /// `invalid-server-url`, `keyring-error`, or a service code such as `contact-not-queued`.
    pub code: ErrorCode,
    /// What happened, in words for the agent.
    pub message: String,
}

impl ConsoleError {
    /// An error with the given code and sentence.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }

    /// A command that needs a session was called without one.
    pub fn not_signed_in() -> Self {
        Self::new(ErrorCode::NotSignedIn, "You are not signed in.")
    }

    /// The session token no longer works.
    pub fn session_expired() -> Self {
        Self::new(ErrorCode::SessionExpired, "Your session has ended. Please sign in again.")
    }

    /// Maps an SDK error met while signing in, with the console's words for wrong credentials.
    pub fn from_sign_in(e: ClientError) -> Self {
        match e.code() {
            ErrorCode::BadCredentials => {
                Self::new(ErrorCode::BadCredentials, "Wrong account, user name or password. Check them and try again.")
            }
            _ => e.into(),
        }
    }
}

impl From<ClientError> for ConsoleError {
    fn from(e: ClientError) -> Self {
        match &e {
            e if e.session_ended() => Self::session_expired(),
            ClientError::Api { code, message, .. } | ClientError::Refused { code, message } => {
                Self::new(*code, message.clone())
            }
            ClientError::Unreachable(_) => Self::new(
                ErrorCode::Unreachable,
                "The server cannot be reached. Check the server address and your network connection.",
            ),
            ClientError::InvalidUrl(detail) => Self::new(
                ErrorCode::InvalidServerUrl,
                format!("That is not a usable server address ({detail}). Use e.g. http://127.0.0.1:8080."),
            ),
            ClientError::Transport(detail) => {
                Self::new(ErrorCode::Network, format!("The connection to the server failed: {detail}"))
            }
            ClientError::Protocol(detail) => Self::new(
                ErrorCode::Protocol,
                format!("The server sent an answer the console does not understand: {detail}"),
            ),
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
        use ErrorCode as C;
        let api = |status, code| ClientError::Api { status, code, message: "m".into() };
        assert_eq!(ConsoleError::from_sign_in(api(401, C::BadCredentials)).code, C::BadCredentials);
        assert_eq!(ConsoleError::from(api(401, C::Unauthorized)).code, C::SessionExpired);
        assert_eq!(ConsoleError::from(api(409, C::ContactNotQueued)).code, C::ContactNotQueued);
        assert_eq!(ConsoleError::from(ClientError::Unreachable("x".into())).code, C::Unreachable);
        assert_eq!(ConsoleError::from(ClientError::InvalidUrl("x".into())).code, C::InvalidServerUrl);
    }
}
