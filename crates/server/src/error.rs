//! The service's one error type and its mapping to HTTP: `{"error": code, "message": text}`.

use attache_protocol::{ApiError, ErrorCode};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

/// Everything a request can fail with. A refusal carries its stable code, and the code decides the
/// status ([`status_of`]); [`AppError::Internal`] hides its cause from the client and logs it.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request is refused for the reason the code names.
    #[error("{1}")]
    Refused(ErrorCode, String),
    /// `not-found` (404): no such thing (or not of the caller's account).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// `too-many-attempts` (429): retry after this many seconds (`Retry-After`).
    #[error("{0}")]
    Throttled(String, u64),
    /// A code answered with another status than its own, where a protocol wants that: a tus
    /// upload whose contact ended is gone (410, not the 409 of closing a closed contact, which
    /// tus clients would retry); the consumer API's `size-mismatch` of a body that runs long is
    /// 413; a JSON body without its type is 400 on staff routes (415 on visitor routes).
    #[error("{2}")]
    Status(StatusCode, ErrorCode, String),
    /// `internal` (500): our fault; details go to the log only.
    #[error("internal error: {0}")]
    Internal(#[from] anyhow::Error),
}

/// The HTTP status of each code: the one table.
pub fn status_of(code: ErrorCode) -> StatusCode {
    use ErrorCode as C;
    match code {
        C::MalformedJson
        | C::BadBody
        | C::BadQuery
        | C::WebsocketRequired
        | C::LengthRequired
        | C::BadLength
        | C::BadOffset
        | C::BadMetadata
        | C::MetadataTooLarge
        | C::MissingContact
        | C::MissingFileName
        | C::BadChecksum
        | C::UnsupportedChecksum
        | C::UploadInterrupted
        | C::UnknownRequest
        | C::SizeMismatch => StatusCode::BAD_REQUEST,
        C::Unauthorized | C::BadCredentials | C::SessionExpired | C::NoVisitor | C::TempUrlInvalid => {
            StatusCode::UNAUTHORIZED
        }
        C::UserDisabled
        | C::AdminOnly
        | C::AgentsOnly
        | C::OriginNotAllowed
        | C::NoReportAccess
        | C::NoFileAccess
        | C::NoRedactAccess
        | C::NotYourContact
        | C::FileSharingDisabled => StatusCode::FORBIDDEN,
        C::NotFound => StatusCode::NOT_FOUND,
        C::UsernameTaken
        | C::LastAdmin
        | C::ContactNotQueued
        | C::ContactNotActive
        | C::ContactClosed
        | C::TooManyUploads
        | C::OffsetMismatch
        | C::NoOpenConversation
        | C::AlreadyUploaded
        | C::FileNotUploaded
        | C::NotReleasable
        | C::AlreadyRemoved => StatusCode::CONFLICT,
        C::ReportExpired | C::FileRemoved | C::UploadExpired | C::UploadRefused | C::UploadLost => StatusCode::GONE,
        C::TusVersion => StatusCode::PRECONDITION_FAILED,
        C::BodyTooLarge | C::FileTooLarge | C::UploadTooLong | C::PreviewTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        C::ExpectedJson | C::TypeNotAllowed | C::BadContentType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        C::RangeNotSatisfiable => StatusCode::RANGE_NOT_SATISFIABLE,
        C::InvalidBody
        | C::InvalidRequest
        | C::InvalidPlan
        | C::WeakPassword
        | C::EmptyFile
        | C::BadFileName
        | C::BadMediaType
        | C::TypeMismatch
        | C::UnsafeSvg
        | C::BadImage
        | C::ImageTooLarge
        | C::MalwareFound
        | C::ScannerUnavailable
        | C::BadPreview
        | C::UnknownProperty
        | C::InvalidOrigin
        | C::InvalidColor
        | C::TooManyOrigins => StatusCode::UNPROCESSABLE_ENTITY,
        C::UploadLocked => StatusCode::LOCKED,
        C::TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
        // tus's checksum extension.
        C::ChecksumMismatch => StatusCode::from_u16(460).unwrap_or(StatusCode::BAD_REQUEST),
        C::Busy => StatusCode::SERVICE_UNAVAILABLE,
        // Ours, and the clients' own codes, which the service never sends.
        C::Internal
        | C::Unknown
        | C::Unreachable
        | C::Transport
        | C::Network
        | C::InvalidUrl
        | C::InvalidServerUrl
        | C::Protocol
        | C::NotSignedIn
        | C::MissingFields
        | C::KeyringError
        | C::InvalidFilter
        | C::LocalFile
        | C::BadPaste
        | C::BadPreviewUrl
        | C::NotAnImage
        | C::NoOpener
        | C::Cancelled
        | C::InvalidSetting
        | C::TooLargeToShow => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl AppError {
    /// 422 with code `invalid-request`.
    pub fn invalid(message: impl Into<String>) -> Self {
        AppError::Refused(ErrorCode::InvalidRequest, message.into())
    }

    /// 410 with this code: what the request writes to is gone for good (see [`AppError::Status`]).
    pub fn gone(code: ErrorCode, message: impl Into<String>) -> Self {
        AppError::Status(StatusCode::GONE, code, message.into())
    }

    /// 413 with this code: the body runs past what was announced (see [`AppError::Status`]).
    pub fn too_large(code: ErrorCode, message: impl Into<String>) -> Self {
        AppError::Status(StatusCode::PAYLOAD_TOO_LARGE, code, message.into())
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Status(s, ..) => *s,
            other => status_of(other.code()),
        }
    }

    /// The stable code.
    pub fn code(&self) -> ErrorCode {
        match self {
            AppError::Refused(c, _) | AppError::Status(_, c, _) => *c,
            AppError::NotFound(_) => ErrorCode::NotFound,
            AppError::Throttled(..) => ErrorCode::TooManyAttempts,
            AppError::Internal(_) => ErrorCode::Internal,
        }
    }

    /// The body a client sees.
    pub fn body(&self) -> ApiError {
        let message = match self {
            AppError::Internal(_) => "something went wrong on our side; it has been logged".into(),
            other => other.to_string(),
        };
        ApiError { error: self.code(), message }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        AppError::Internal(anyhow::Error::new(e).context("database"))
    }
}

impl From<std::io::Error> for AppError {
    fn from(e: std::io::Error) -> Self {
        AppError::Internal(anyhow::Error::new(e).context("io"))
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = ?self, "request failed");
        } else {
            tracing::debug!(code = %self.code(), "client error: {self}");
        }
        let retry_after = match &self {
            AppError::Throttled(_, secs) => Some(*secs),
            _ => None,
        };
        let mut resp = (status, Json(self.body())).into_response();
        if let Some(secs) = retry_after {
            resp.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(secs));
        }
        resp
    }
}

/// Result of a handler.
pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_hide_their_cause() {
        let e = AppError::Internal(anyhow::anyhow!("disk /secret/path is full"));
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = e.body();
        assert_eq!(body.error, ErrorCode::Internal);
        assert!(!body.message.contains("/secret/path"));
    }

    #[test]
    fn client_errors_keep_code_and_words() {
        let e = AppError::Refused(ErrorCode::ContactNotQueued, "the contact was already taken".into());
        assert_eq!(e.status(), StatusCode::CONFLICT);
        assert_eq!(
            serde_json::to_value(e.body()).unwrap(),
            serde_json::json!({"error": "contact-not-queued", "message": "the contact was already taken"})
        );
        assert_eq!(AppError::NotFound("contact").body().message, "contact not found");
    }

    #[test]
    fn the_openapi_document_lists_only_codes_the_service_sends() {
        let schema = serde_json::to_value(<ErrorCode as utoipa::PartialSchema>::schema()).unwrap();
        let listed: Vec<&str> = schema["enum"].as_array().unwrap().iter().filter_map(|v| v.as_str()).collect();
        assert!(listed.contains(&"contact-not-queued") && listed.contains(&"checksum-mismatch"));
        assert!(!listed.contains(&"keyring-error") && !listed.contains(&"unknown"), "{listed:?}");
    }

    #[test]
    fn statuses_come_from_the_code() {
        assert_eq!(AppError::Refused(ErrorCode::ChecksumMismatch, "x".into()).status().as_u16(), 460);
        assert_eq!(AppError::Throttled("x".into(), 3).status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(AppError::gone(ErrorCode::ContactClosed, "x").status(), StatusCode::GONE);
        assert_eq!(status_of(ErrorCode::ContactClosed), StatusCode::CONFLICT);
        for &code in ErrorCode::ALL {
            let status = status_of(code);
            let ours = matches!(code, ErrorCode::Internal | ErrorCode::Busy);
            assert_eq!(code.sent_by_service(), status.is_client_error() || ours, "{code}");
        }
    }
}
