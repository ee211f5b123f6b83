//! The service's one error type and its mapping to HTTP: `{"error": code, "message": text}`.

use attache_protocol::ApiError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

/// Everything a request can fail with. Client mistakes carry their own status and a stable code;
/// [`AppError::Internal`] hides its cause from the client and logs it.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400: the request is malformed.
    #[error("{1}")]
    BadRequest(&'static str, String),
    /// 401: no session, or one that ended.
    #[error("{1}")]
    Unauthorized(&'static str, String),
    /// 403: known, but not allowed.
    #[error("{1}")]
    Forbidden(&'static str, String),
    /// 404: no such thing (or not of the caller's account).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// 409: the thing is not in a state that allows this.
    #[error("{1}")]
    Conflict(&'static str, String),
    /// 413: too large for the plan.
    #[error("{1}")]
    TooLarge(&'static str, String),
    /// 422: well-formed but invalid.
    #[error("{1}")]
    Invalid(&'static str, String),
    /// 429: too many attempts; retry after this many seconds (`Retry-After`).
    #[error("{1}")]
    Throttled(&'static str, String, u64),
    /// 410: it was there and is gone (expired, refused, lost).
    #[error("{1}")]
    Gone(&'static str, String),
    /// 415: a media type that is not accepted.
    #[error("{1}")]
    UnsupportedType(&'static str, String),
    /// 423: someone else is working on it right now; retry shortly.
    #[error("{1}")]
    Locked(&'static str, String),
    /// 460 (tus checksum extension): the chunk does not match its `Upload-Checksum`.
    #[error("{0}")]
    ChecksumMismatch(String),
    /// Another client error with its own status (410 gone, 415, 416, 423, tus's 460…).
    #[error("{2}")]
    Status(StatusCode, &'static str, String),
    /// 500: our fault; details go to the log only.
    #[error("internal error: {0}")]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    /// 422 with code `invalid-request`.
    pub fn invalid(message: impl Into<String>) -> Self {
        AppError::Invalid("invalid-request", message.into())
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest(..) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized(..) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(..) => StatusCode::FORBIDDEN,
            AppError::NotFound(..) => StatusCode::NOT_FOUND,
            AppError::Conflict(..) => StatusCode::CONFLICT,
            AppError::TooLarge(..) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Invalid(..) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Gone(..) => StatusCode::GONE,
            AppError::UnsupportedType(..) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Locked(..) => StatusCode::LOCKED,
            AppError::ChecksumMismatch(_) => StatusCode::from_u16(460).unwrap_or(StatusCode::BAD_REQUEST),
            AppError::Status(s, ..) => *s,
            AppError::Throttled(..) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal(..) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable kebab-case code.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest(c, _)
            | AppError::Unauthorized(c, _)
            | AppError::Forbidden(c, _)
            | AppError::Conflict(c, _)
            | AppError::TooLarge(c, _)
            | AppError::Invalid(c, _)
            | AppError::Gone(c, _)
            | AppError::UnsupportedType(c, _)
            | AppError::Locked(c, _) => c,
            AppError::Status(_, c, _) | AppError::Throttled(c, _, _) => c,
            AppError::NotFound(_) => "not-found",
            AppError::ChecksumMismatch(_) => "checksum-mismatch",
            AppError::Internal(_) => "internal",
        }
    }

    /// The body a client sees.
    pub fn body(&self) -> ApiError {
        let message = match self {
            AppError::Internal(_) => "something went wrong on our side; it has been logged".into(),
            other => other.to_string(),
        };
        ApiError { error: self.code().to_owned(), message }
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
            tracing::debug!(code = self.code(), "client error: {self}");
        }
        let retry_after = match &self {
            AppError::Throttled(_, _, secs) => Some(*secs),
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
        assert_eq!(body.error, "internal");
        assert!(!body.message.contains("/secret/path"));
    }

    #[test]
    fn client_errors_keep_code_and_words() {
        let e = AppError::Conflict("contact-not-queued", "the contact was already taken".into());
        assert_eq!(e.status(), StatusCode::CONFLICT);
        assert_eq!(
            serde_json::to_value(e.body()).unwrap(),
            serde_json::json!({"error": "contact-not-queued", "message": "the contact was already taken"})
        );
        assert_eq!(AppError::NotFound("contact").body().message, "contact not found");
    }
}
