//! Supervisors' review: access records, redaction, where files stand; the ZIP of a contact,
//! Reports > Attachments and the account's storage.

use super::extract::{AppJson, AppQuery};
use crate::auth::Staff;
use crate::domain::review;
use crate::error::{AppError, AppResult};
use crate::AppState;
use attache_protocol::{
    AccessFilter, AccessRecord, AccessWhat, AccessWho, ApiError, AttachmentPage, AttachmentSearch, ErrorCode,
    FileStatus, FileStatusRequest, RedactRequest, Redacted, StorageUsage,
};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header::{
    ACCEPT_RANGES, CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, ETAG, IF_RANGE,
    RANGE, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};

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
/// The redaction is durable when this answers; `bytes_removed: false` says the store did not
/// confirm the deletion yet (it is retried until it does).
#[utoipa::path(post, path = "/api/reports/attachments/{id}/redact", tag = "reports", security(("bearer" = [])),
    params(("id" = String, Path, description = "the attachment's or its message's id")), request_body = RedactRequest,
    responses((status = 200, body = Redacted), (status = 403, description = "no-redact-access", body = ApiError),
        (status = 404, body = ApiError), (status = 409, description = "already-removed", body = ApiError),
        (status = 410, description = "report-expired", body = ApiError), (status = 422, body = ApiError)))]
#[tracing::instrument(skip_all, fields(user = %staff.user.username, attachment = %id))]
pub async fn redact_attachment(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    AppJson(req): AppJson<RedactRequest>,
) -> AppResult<AppJson<Redacted>> {
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

/// "Download all": the contact's attachments as one ZIP with `manifest.json`, `manifest.csv`
/// and `transcript.txt`, streamed as it is built. `Content-Length` is known up front; `Range`
/// and `If-Range` (the `ETag`) resume it; ZIP64 when sizes need it. Removed files are listed
/// with their tombstones and carry no bytes. The same rights as the contact's files for staff;
/// one access record per completed download.
#[utoipa::path(get, path = "/api/reports/contacts/{id}/export", tag = "reports", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "the ZIP", content_type = "application/zip"), (status = 206, description = "a range"),
        (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 410, description = "report-expired", body = ApiError),
        (status = 416, body = ApiError)))]
#[tracing::instrument(skip_all, fields(user = %staff.user.username, contact = %id))]
pub async fn export_contact(
    State(state): State<AppState>,
    staff: Staff,
    super::staff::ClientAddr(address): super::staff::ClientAddr,
    Path(id): Path<String>,
    method: Method,
    headers: HeaderMap,
) -> AppResult<Response> {
    let export = crate::domain::export::prepare(&state, &staff, &id).await?;
    let total = export.layout.total;
    let mut out = HeaderMap::new();
    let hv = |s: &str| HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static(""));
    out.insert(CONTENT_TYPE, HeaderValue::from_static("application/zip"));
    out.insert(CONTENT_DISPOSITION, hv(&super::files::disposition("attachment", &export.file_name)));
    out.insert(ETAG, hv(&export.etag));
    out.insert(ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    out.insert(CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    out.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    let if_range_ok = headers.get(IF_RANGE).and_then(|v| v.to_str().ok()).is_none_or(|v| v.trim() == export.etag);
    let range_header = if if_range_ok { headers.get(RANGE).and_then(|v| v.to_str().ok()) } else { None };
    let range = match super::files::parse_range(range_header, total) {
        Ok(r) => r,
        Err(()) => {
            out.insert(CONTENT_RANGE, hv(&format!("bytes */{total}")));
            let e = AppError::Refused(ErrorCode::RangeNotSatisfiable, format!("the archive has {total} bytes"));
            return Ok((e.status(), out, axum::Json(e.body())).into_response());
        }
    };
    let status = match &range {
        Some(r) => {
            out.insert(CONTENT_RANGE, hv(&format!("bytes {}-{}/{total}", r.start, r.end - 1)));
            StatusCode::PARTIAL_CONTENT
        }
        None => StatusCode::OK,
    };
    let r = range.unwrap_or(0..total);
    out.insert(CONTENT_LENGTH, hv(&(r.end - r.start).to_string()));
    if method == Method::HEAD {
        return Ok((status, out).into_response());
    }
    let record = review::NewAccess {
        account_id: export.contact.account_id.clone(),
        contact_id: export.contact.id.clone(),
        attachment_id: None,
        file_name: export.file_name.clone(),
        what: AccessWhat::Export,
        who: AccessWho::Staff,
        who_id: Some(staff.user.id.to_string()),
        who_name: staff.user.display_name.clone(),
        grant: export.grant,
        address: address.map(|a| a.to_string()),
        range: Some((r.start, r.end)).filter(|x| *x != (0, total)),
        bytes: r.end - r.start,
    };
    let stream = crate::domain::export::stream(&state, export, r);
    Ok((status, out, Body::from_stream(review::recorded(&state, record, stream))).into_response())
}

/// Reports > Attachments: files across the contacts the caller may review, by file name, type,
/// sender, agent and date, newest first, a page at a time.
#[utoipa::path(get, path = "/api/reports/attachments", tag = "reports", security(("bearer" = [])),
    params(AttachmentSearch),
    responses((status = 200, body = AttachmentPage), (status = 400, body = ApiError), (status = 422, body = ApiError)))]
#[tracing::instrument(skip_all, fields(user = %staff.user.username))]
pub async fn search_attachments(
    State(state): State<AppState>,
    staff: Staff,
    AppQuery(search): AppQuery<AttachmentSearch>,
) -> AppResult<AppJson<AttachmentPage>> {
    Ok(AppJson(crate::domain::search::search(&state, &staff, search).await?))
}

/// The account's storage: bytes and files kept, and what expired or was redacted this month
/// (admins).
#[utoipa::path(get, path = "/api/account/storage", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = StorageUsage), (status = 403, description = "admin-only", body = ApiError)))]
#[tracing::instrument(skip_all, fields(user = %staff.user.username))]
pub async fn storage_usage(State(state): State<AppState>, staff: Staff) -> AppResult<AppJson<StorageUsage>> {
    Ok(AppJson(crate::domain::search::storage(&state, &staff).await?))
}
