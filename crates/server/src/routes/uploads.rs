//! tus 1.0 at `/api/uploads`: core (HEAD, PATCH, OPTIONS), creation, creation-with-upload,
//! termination, checksum (sha1, sha256) and expiration. This handler owns the protocol (headers,
//! offsets, locks); the staging area only writes bytes at an offset; the domain decides who may
//! upload what and finishes the file.

use super::extract::AppJson;
use crate::auth::{cookie, Staff, VISITOR_COOKIE};
use crate::db::is_id;
use crate::domain::attachment::{self as att, NewUpload, Uploader};
use crate::error::{AppError, AppResult};
use crate::repo;
use crate::repo::upload::UploadRow;
use crate::upload::{tus, WriteOutcome};
use crate::AppState;
use attache_protocol::{ApiError, Message, UploadState, UploadStatus, VisitorId, MAX_PLAN_UPLOAD_BYTES};
use axum::body::Body;
use axum::extract::{FromRequestParts, Path, Request, State};
use axum::http::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, LOCATION};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

const TUS_RESUMABLE: HeaderName = HeaderName::from_static("tus-resumable");
const TUS_VERSION: HeaderName = HeaderName::from_static("tus-version");
const TUS_EXTENSION: HeaderName = HeaderName::from_static("tus-extension");
const TUS_MAX_SIZE: HeaderName = HeaderName::from_static("tus-max-size");
const TUS_CHECKSUM_ALGORITHM: HeaderName = HeaderName::from_static("tus-checksum-algorithm");
const UPLOAD_OFFSET: HeaderName = HeaderName::from_static("upload-offset");
const UPLOAD_LENGTH: HeaderName = HeaderName::from_static("upload-length");
const UPLOAD_METADATA: HeaderName = HeaderName::from_static("upload-metadata");
const UPLOAD_EXPIRES: HeaderName = HeaderName::from_static("upload-expires");
const UPLOAD_CHECKSUM: HeaderName = HeaderName::from_static("upload-checksum");
const UPLOAD_DEFER_LENGTH: HeaderName = HeaderName::from_static("upload-defer-length");
/// Set on the response that completes an upload: the id of its attachment message.
pub const ATTACHE_MESSAGE_ID: HeaderName = HeaderName::from_static("attache-message-id");

/// The tus status for a chunk whose checksum does not match.
const CHECKSUM_MISMATCH: u16 = 460;

/// Every tus response says `Tus-Resumable`; every tus request but OPTIONS (and the JSON status
/// GET) must speak version 1.0.0, or gets 412 with the versions we speak.
pub async fn tus_headers(req: Request, next: Next) -> Response {
    let needs_version = !matches!(*req.method(), Method::OPTIONS | Method::GET);
    let version = req.headers().get(&TUS_RESUMABLE).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let mut resp = if needs_version && version.as_deref() != Some(tus::VERSION) {
        let mut r = AppError::Status(
            StatusCode::PRECONDITION_FAILED,
            "tus-version",
            format!("send Tus-Resumable: {}", tus::VERSION),
        )
        .into_response();
        r.headers_mut().insert(TUS_VERSION, HeaderValue::from_static(tus::VERSION));
        r
    } else {
        next.run(req).await
    };
    resp.headers_mut().insert(TUS_RESUMABLE, HeaderValue::from_static(tus::VERSION));
    resp
}

/// The uploader: a staff bearer when `Authorization` is sent, else the `vvcu` visitor. No
/// cookie is issued here: a browser without `vvcu` has no contact to send to.
pub struct UploaderAuth(pub Uploader);

impl FromRequestParts<AppState> for UploaderAuth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if parts.headers.contains_key(AUTHORIZATION) {
            return Ok(UploaderAuth(Uploader::Staff(Box::new(Staff::from_request_parts(parts, state).await?))));
        }
        match cookie(&parts.headers, VISITOR_COOKIE).filter(|v| is_id(v)) {
            Some(v) => Ok(UploaderAuth(Uploader::Visitor(VisitorId(v.to_owned())))),
            None => Err(AppError::Unauthorized(
                "unauthorized",
                "sign in (bearer token) or open a contact (vvcu cookie) before uploading".into(),
            )),
        }
    }
}

fn header<'a>(h: &'a HeaderMap, name: &HeaderName) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

fn hv(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn capabilities(h: &mut HeaderMap) {
    h.insert(TUS_VERSION, HeaderValue::from_static(tus::VERSION));
    h.insert(TUS_EXTENSION, HeaderValue::from_static(tus::EXTENSIONS));
    h.insert(TUS_MAX_SIZE, hv(&MAX_PLAN_UPLOAD_BYTES.to_string()));
    h.insert(TUS_CHECKSUM_ALGORITHM, HeaderValue::from_static(tus::CHECKSUM_ALGORITHMS));
}

fn offset_headers(h: &mut HeaderMap, row: &UploadRow, offset: u64) {
    h.insert(UPLOAD_OFFSET, hv(&offset.to_string()));
    if row.state == UploadState::Receiving {
        h.insert(UPLOAD_EXPIRES, hv(&tus::http_date(row.expires_at)));
    }
}

/// What the server supports (tus discovery).
#[utoipa::path(options, path = "/api/uploads", tag = "uploads",
    responses((status = 204, description = "Tus-Version, Tus-Extension, Tus-Max-Size, Tus-Checksum-Algorithm")))]
pub async fn options_uploads() -> Response {
    let mut r = StatusCode::NO_CONTENT.into_response();
    capabilities(r.headers_mut());
    r
}

/// tus discovery on an upload's URL.
#[utoipa::path(options, path = "/api/uploads/{id}", tag = "uploads", params(("id" = String, Path)),
    responses((status = 204, description = "tus capabilities")))]
pub async fn options_upload() -> Response {
    options_uploads().await
}

/// Creates an upload (tus creation; with a body, creation-with-upload). Metadata: `contact`,
/// `filename`, `filetype`, `description`. A length over the account's limit is refused here
/// with 413, before a byte moves.
#[utoipa::path(post, path = "/api/uploads", tag = "uploads", security(("bearer" = [])),
    params(
        ("Tus-Resumable" = String, Header, description = "1.0.0"),
        ("Upload-Length" = u64, Header, description = "Size of the file in bytes"),
        ("Upload-Metadata" = String, Header, description = "contact, filename, filetype, description (base64 values)"),
    ),
    responses((status = 201, description = "Created; Location names the upload"),
        (status = 400, description = "bad-metadata, metadata-too-large (over 8 KiB), length-required…", body = ApiError),
        (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError),
        (status = 409, body = ApiError), (status = 413, description = "over the plan's limit", body = ApiError),
        (status = 415, body = ApiError), (status = 422, body = ApiError)))]
#[tracing::instrument(skip_all)]
pub async fn create_upload(
    State(state): State<AppState>,
    UploaderAuth(uploader): UploaderAuth,
    headers: HeaderMap,
    body: Body,
) -> AppResult<Response> {
    if headers.contains_key(UPLOAD_DEFER_LENGTH) {
        return Err(AppError::BadRequest("length-required", "Upload-Defer-Length is not supported; send Upload-Length".into()));
    }
    let length = header(&headers, &UPLOAD_LENGTH)
        .ok_or_else(|| AppError::BadRequest("length-required", "send Upload-Length".into()))
        .and_then(|v| {
            tus::parse_u64(v.trim()).ok_or_else(|| {
                AppError::BadRequest("bad-length", "Upload-Length must be a non-negative whole number of bytes".into())
            })
        })?;
    let metadata_raw = header(&headers, &UPLOAD_METADATA).unwrap_or("").to_owned();
    // Room for a 255-character name and a 1,000-character description of 4-byte characters,
    // in base64, with the contact and type.
    const MAX_METADATA_BYTES: usize = 8 * 1024;
    if metadata_raw.len() > MAX_METADATA_BYTES {
        let why = format!("Upload-Metadata has {} bytes; at most {MAX_METADATA_BYTES} are accepted", metadata_raw.len());
        return Err(AppError::BadRequest("metadata-too-large", why));
    }
    let metadata = tus::parse_metadata(&metadata_raw).map_err(|m| AppError::BadRequest("bad-metadata", m))?;
    let row = att::create_upload(&state, &uploader, NewUpload { length, metadata_raw, metadata }).await?;
    let location = format!("/api/uploads/{}", row.id);
    let mut offset = 0;
    let mut message = None;
    let has_body = header(&headers, &CONTENT_TYPE) == Some(tus::OFFSET_OCTET_STREAM)
        && header(&headers, &CONTENT_LENGTH).is_none_or(|l| l != "0");
    if has_body {
        let lock = state.files.locks.try_lock(row.id.as_str());
        match receive_detached(&state, &row, 0, &headers, body, lock).await {
            Ok((o, m)) => {
                offset = o;
                message = m;
            }
            // The upload exists; the client resumes with HEAD. Refusals are final.
            Err(e) if e.status() == StatusCode::INTERNAL_SERVER_ERROR => return Err(e),
            Err(e) if e.status().as_u16() == CHECKSUM_MISMATCH || e.code() == "upload-interrupted" => {}
            Err(e) => return Err(e),
        }
    }
    let mut r = StatusCode::CREATED.into_response();
    r.headers_mut().insert(LOCATION, hv(&location));
    offset_headers(r.headers_mut(), &row, offset);
    if let Some(m) = message {
        r.headers_mut().insert(ATTACHE_MESSAGE_ID, hv(m.id.as_str()));
    }
    Ok(r)
}

/// Runs [`receive`] in a task of its own, holding the upload's lock: when the client drops the
/// connection the handler is cancelled, but the bytes that arrived are still recorded (and a
/// finalisation under way completes), so the upload resumes from the true offset.
async fn receive_detached(
    state: &AppState,
    row: &UploadRow,
    offset: u64,
    headers: &HeaderMap,
    body: Body,
    lock: Option<crate::upload::LockGuard>,
) -> AppResult<(u64, Option<Message>)> {
    let (state, row, headers) = (state.clone(), row.clone(), headers.clone());
    tokio::spawn(async move {
        let _lock = lock;
        receive(&state, &row, offset, &headers, body).await
    })
    .await
    .map_err(|e| AppError::Internal(anyhow::anyhow!("upload task: {e}")))?
}

/// Writes one request body at `offset`, then finishes the upload when it is complete.
async fn receive(
    state: &AppState,
    row: &UploadRow,
    offset: u64,
    headers: &HeaderMap,
    body: Body,
) -> AppResult<(u64, Option<Message>)> {
    let checksum = match header(headers, &UPLOAD_CHECKSUM) {
        None => None,
        Some(v) => Some(tus::parse_checksum(v).map_err(|unsupported| {
            if unsupported {
                AppError::BadRequest("unsupported-checksum", format!("checksum algorithms: {}", tus::CHECKSUM_ALGORITHMS))
            } else {
                AppError::BadRequest("bad-checksum", "Upload-Checksum is '<algorithm> <base64 digest>'".into())
            }
        })?),
    };
    let remaining = row.length.checked_sub(offset).ok_or_else(|| AppError::Conflict("offset-mismatch", "offset past the end".into()))?;
    if let Some(cl) = header(headers, &CONTENT_LENGTH).and_then(tus::parse_u64) {
        if cl > remaining {
            return Err(AppError::TooLarge(
                "upload-too-long",
                format!("the chunk has {cl} bytes but only {remaining} remain of the announced length"),
            ));
        }
    }
    let outcome = state
        .files
        .staging
        .write_at(row.id.as_str(), offset, remaining, body.into_data_stream(), checksum.as_ref())
        .await?;
    let (written, interrupted) = match outcome {
        WriteOutcome::Complete(n) => (n, false),
        WriteOutcome::Interrupted(n) => (n, true),
        WriteOutcome::TooLong => {
            return Err(AppError::TooLarge("upload-too-long", "the chunk goes past the announced Upload-Length".into()))
        }
        WriteOutcome::ChecksumMismatch => {
            return Err(AppError::Status(
                StatusCode::from_u16(CHECKSUM_MISMATCH).unwrap_or(StatusCode::BAD_REQUEST),
                "checksum-mismatch",
                "the chunk does not match its Upload-Checksum; it was not appended".into(),
            ))
        }
    };
    let new_offset = offset.checked_add(written).ok_or_else(|| AppError::Internal(anyhow::anyhow!("offset overflow")))?;
    if written > 0 && !repo::upload::advance(&state.db, &row.id, offset, new_offset).await? {
        return Err(AppError::Conflict("offset-mismatch", "the upload moved meanwhile; ask its offset with HEAD".into()));
    }
    if written > 0 {
        att::progressed(state, row, new_offset).await?;
    }
    if interrupted {
        return Err(AppError::BadRequest("upload-interrupted", format!("the body broke off at offset {new_offset}; resume from there")));
    }
    if new_offset == row.length {
        let message = att::finalize(state, row).await?;
        return Ok((new_offset, Some(message)));
    }
    Ok((new_offset, None))
}

/// The upload's offset (tus core), so an interrupted upload resumes where it stopped.
#[utoipa::path(head, path = "/api/uploads/{id}", tag = "uploads", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, description = "Upload-Offset, Upload-Length, Upload-Metadata, Upload-Expires"),
        (status = 404), (status = 410, description = "expired or refused")))]
pub async fn head_upload(
    State(state): State<AppState>,
    UploaderAuth(uploader): UploaderAuth,
    Path(id): Path<String>,
) -> Response {
    let row = match att::own_upload(&state, &uploader, &id).await {
        Ok(r) => r,
        Err(e) => return e.status().into_response(),
    };
    if row.state == UploadState::Refused {
        return StatusCode::GONE.into_response();
    }
    let mut r = StatusCode::OK.into_response();
    let h = r.headers_mut();
    offset_headers(h, &row, row.offset);
    h.insert(UPLOAD_LENGTH, hv(&row.length.to_string()));
    if !row.metadata.is_empty() {
        h.insert(UPLOAD_METADATA, hv(&row.metadata));
    }
    if let Some(m) = &row.message_id {
        h.insert(ATTACHE_MESSAGE_ID, hv(m.as_str()));
    }
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// Appends a chunk at `Upload-Offset` (tus core; `Upload-Checksum` optional). The chunk that
/// completes the file runs the checks: 204 with `Attache-Message-Id` when the file is in the
/// transcript, a 4xx with the reason when it was refused.
#[utoipa::path(patch, path = "/api/uploads/{id}", tag = "uploads", security(("bearer" = [])), params(("id" = String, Path),
        ("Upload-Offset" = u64, Header), ("Upload-Checksum" = Option<String>, Header, description = "sha1|sha256 <base64>")),
    request_body(content = Vec<u8>, content_type = "application/offset+octet-stream"),
    responses((status = 204, description = "Upload-Offset is the new offset"), (status = 404, body = ApiError),
        (status = 409, description = "offset-mismatch", body = ApiError), (status = 410, body = ApiError),
        (status = 413, body = ApiError), (status = 415, body = ApiError), (status = 422, description = "refused by a check", body = ApiError),
        (status = 423, body = ApiError), (status = 460, description = "checksum-mismatch", body = ApiError)))]
#[tracing::instrument(skip_all, fields(upload = %id))]
pub async fn patch_upload(
    State(state): State<AppState>,
    UploaderAuth(uploader): UploaderAuth,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> AppResult<Response> {
    if header(&headers, &CONTENT_TYPE) != Some(tus::OFFSET_OCTET_STREAM) {
        return Err(AppError::Status(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "bad-content-type",
            format!("PATCH bodies are Content-Type: {}", tus::OFFSET_OCTET_STREAM),
        ));
    }
    let offset = header(&headers, &UPLOAD_OFFSET)
        .and_then(|v| tus::parse_u64(v.trim()))
        .ok_or_else(|| AppError::BadRequest("bad-offset", "Upload-Offset must be a non-negative whole number".into()))?;
    att::own_upload(&state, &uploader, &id).await?;
    let Some(lock) = state.files.locks.try_lock(&id) else {
        return Err(AppError::Status(StatusCode::LOCKED, "upload-locked", "another request is writing this upload; retry shortly".into()));
    };
    // Read again under the lock: the offset is only trusted now.
    let row = att::own_upload(&state, &uploader, &id).await?;
    match row.state {
        UploadState::Refused => {
            return Err(AppError::Status(
                StatusCode::GONE,
                "upload-refused",
                row.error_message.clone().unwrap_or_else(|| "the file was refused".into()),
            ))
        }
        UploadState::Ready if offset == row.length => {
            let mut r = StatusCode::NO_CONTENT.into_response();
            offset_headers(r.headers_mut(), &row, row.length);
            if let Some(m) = &row.message_id {
                r.headers_mut().insert(ATTACHE_MESSAGE_ID, hv(m.as_str()));
            }
            return Ok(r);
        }
        _ => {}
    }
    if offset != row.offset {
        return Err(AppError::Conflict(
            "offset-mismatch",
            format!("the upload is at offset {}, not {offset}; ask with HEAD and resume from there", row.offset),
        ));
    }
    let (new_offset, message) = receive_detached(&state, &row, offset, &headers, body, Some(lock)).await?;
    let mut r = StatusCode::NO_CONTENT.into_response();
    offset_headers(r.headers_mut(), &row, new_offset);
    if let Some(m) = message {
        r.headers_mut().insert(ATTACHE_MESSAGE_ID, hv(m.id.as_str()));
    }
    Ok(r)
}

/// Cancels an upload (tus termination): its bytes and record go.
#[utoipa::path(delete, path = "/api/uploads/{id}", tag = "uploads", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ApiError), (status = 423, body = ApiError)))]
#[tracing::instrument(skip_all, fields(upload = %id))]
pub async fn delete_upload(
    State(state): State<AppState>,
    UploaderAuth(uploader): UploaderAuth,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    att::own_upload(&state, &uploader, &id).await?;
    let Some(_lock) = state.files.locks.try_lock(&id) else {
        return Err(AppError::Status(StatusCode::LOCKED, "upload-locked", "another request is writing this upload; retry shortly".into()));
    };
    let row = att::own_upload(&state, &uploader, &id).await?;
    att::terminate(&state, &row).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What became of an upload: receiving (with its offset), ready (with its attachment message)
/// or refused (with the reason).
#[utoipa::path(get, path = "/api/uploads/{id}", tag = "uploads", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = UploadStatus), (status = 404, body = ApiError), (status = 410, body = ApiError)))]
pub async fn get_upload(
    State(state): State<AppState>,
    UploaderAuth(uploader): UploaderAuth,
    Path(id): Path<String>,
) -> AppResult<AppJson<UploadStatus>> {
    let row = att::own_upload(&state, &uploader, &id).await?;
    Ok(AppJson(att::upload_status(&state, &row).await?))
}
