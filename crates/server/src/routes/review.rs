//! Supervisors' review: access records, redaction, where files stand; the ZIP of a contact,
//! Reports > Attachments and the account's storage.

use super::extract::{AppJson, AppQuery};
use crate::auth::Staff;
use crate::domain::review;
use crate::error::AppResult;
use crate::AppState;
use attache_protocol::{AccessFilter, AccessRecord, ApiError, FileStatus, FileStatusRequest, Message, RedactRequest};
use axum::extract::{Path, State};

/// A contact's access records: every opening of its files, previews and ZIP after delivery (who,
/// by which grant, when, from where, whole or range). Admins, report viewers and the agent's
/// supervisor; not the agent alone.
#[utoipa::path(get, path = "/api/reports/contacts/{id}/access", tag = "reports", security(("bearer" = [])),
    params(("id" = String, Path), AccessFilter),
    responses((status = 200, body = [AccessRecord]), (status = 403, description = "no-report-access", body = ApiError),
        (status = 404, body = ApiError), (status = 410, description = "report-expired", body = ApiError)))]
#[tracing::instrument(skip_all, fields(user = %staff.user.username, contact = %id))]
pub async fn list_access(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    AppQuery(filter): AppQuery<AccessFilter>,
) -> AppResult<AppJson<Vec<AccessRecord>>> {
    Ok(AppJson(review::access_records(&state, &staff, &id, &filter).await?))
}

/// Redacts one attachment with a reason: its bytes and preview leave the store at once, every
/// URL answers 410, both sides get `attachment_removed`, the transcript keeps the tombstone.
/// Admins and the supervisor of the contact's agent (report viewers if the plan allows it).
#[utoipa::path(post, path = "/api/reports/attachments/{id}/redact", tag = "reports", security(("bearer" = [])),
    params(("id" = String, Path, description = "the attachment's or its message's id")), request_body = RedactRequest,
    responses((status = 200, body = Message), (status = 403, description = "no-redact-access", body = ApiError),
        (status = 404, body = ApiError), (status = 409, description = "already-removed", body = ApiError),
        (status = 410, description = "report-expired", body = ApiError), (status = 422, body = ApiError)))]
#[tracing::instrument(skip_all, fields(user = %staff.user.username, attachment = %id))]
pub async fn redact_attachment(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    AppJson(req): AppJson<RedactRequest>,
) -> AppResult<AppJson<Message>> {
    Ok(AppJson(review::redact(&state, &staff, &id, &req.reason).await?))
}

/// Where attachments stand (present, redacted, expired, gone): what a client keeping copies
/// must drop. Up to 500 ids; other accounts' and unknown ids are `gone`.
#[utoipa::path(post, path = "/api/attachments/status", tag = "reports", security(("bearer" = [])),
    request_body = FileStatusRequest,
    responses((status = 200, body = [FileStatus]), (status = 401, body = ApiError), (status = 422, body = ApiError)))]
#[tracing::instrument(skip_all, fields(user = %staff.user.username, n = req.ids.len()))]
pub async fn file_status(
    State(state): State<AppState>,
    staff: Staff,
    AppJson(req): AppJson<FileStatusRequest>,
) -> AppResult<AppJson<Vec<FileStatus>>> {
    Ok(AppJson(review::file_status(&state, &staff, &req.ids).await?))
}
