//! Extractors whose rejections speak our error shape.

use crate::error::AppError;
use attache_protocol::ErrorCode;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts};
use axum::response::{IntoResponse, Response};

/// JSON body in, JSON body out; a malformed body is a 400/422 in our shape.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct AppJson<T>(pub T);

impl<T: serde::Serialize> IntoResponse for AppJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// Query string; a malformed one is a 400 in our shape.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct AppQuery<T>(pub T);

impl From<JsonRejection> for AppError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::JsonDataError(e) => AppError::Refused(ErrorCode::InvalidBody, e.body_text()),
            JsonRejection::JsonSyntaxError(e) => AppError::Refused(ErrorCode::MalformedJson, e.body_text()),
            JsonRejection::MissingJsonContentType(_) => AppError::Status(
                axum::http::StatusCode::BAD_REQUEST,
                ErrorCode::ExpectedJson,
                "send the body as JSON with Content-Type: application/json".into(),
            ),
            other if other.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                AppError::Refused(ErrorCode::BodyTooLarge, "the request body is too large".into())
            }
            other => AppError::Refused(ErrorCode::BadBody, other.body_text()),
        }
    }
}

impl From<QueryRejection> for AppError {
    fn from(r: QueryRejection) -> Self {
        AppError::Refused(ErrorCode::BadQuery, r.body_text())
    }
}
