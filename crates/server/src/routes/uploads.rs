//! tus 1.0 at `/api/uploads`: core (HEAD, PATCH, OPTIONS), creation, creation-with-upload,
//! termination, checksum (sha1, sha256) and expiration. This handler owns the protocol (headers,
//! offsets, locks); the staging area only writes bytes at an offset; the domain decides who may
//! upload what and finishes the file.

use super::extract::AppJson;
use crate::auth::{cookie, Staff, VISITOR_COOKIE};
use crate::db::is_id;
use crate::domain::upload::{self as up, Appended, Chunk, Lease, NewUpload, Prior, Uploader};
use crate::error::{AppError, AppResult};
use crate::storage::ByteStream;
use crate::upload::tus;
use crate::AppState;
use attache_protocol::tus as hdr;
use attache_protocol::{ApiError, ErrorCode, UploadState, UploadStatus, VisitorId, MAX_PLAN_UPLOAD_BYTES};
use axum::body::Body;
use axum::extract::{FromRequestParts, Path, Request, State};
use axum::http::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, LOCATION};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::TryStreamExt;

// The header names are the protocol crate's, shared with the SDK.
const TUS_RESUMABLE: HeaderName = HeaderName::from_static(hdr::TUS_RESUMABLE);
const TUS_VERSION: HeaderName = HeaderName::from_static(hdr::TUS_VERSION);
const TUS_EXTENSION: HeaderName = HeaderName::from_static(hdr::TUS_EXTENSION);
const TUS_MAX_SIZE: HeaderName = HeaderName::from_static(hdr::TUS_MAX_SIZE);
const TUS_CHECKSUM_ALGORITHM: HeaderName = HeaderName::from_static(hdr::TUS_CHECKSUM_ALGORITHM);
const UPLOAD_OFFSET: HeaderName = HeaderName::from_static(hdr::UPLOAD_OFFSET);
const UPLOAD_LENGTH: HeaderName = HeaderName::from_static(hdr::UPLOAD_LENGTH);
const UPLOAD_METADATA: HeaderName = HeaderName::from_static(hdr::UPLOAD_METADATA);
const UPLOAD_EXPIRES: HeaderName = HeaderName::from_static(hdr::UPLOAD_EXPIRES);
const UPLOAD_CHECKSUM: HeaderName = HeaderName::from_static(hdr::UPLOAD_CHECKSUM);
const UPLOAD_DEFER_LENGTH: HeaderName = HeaderName::from_static(hdr::UPLOAD_DEFER_LENGTH);
/// Set on the response that completes an upload: the id of its attachment message.
pub const ATTACHE_MESSAGE_ID: HeaderName = HeaderName::from_static(hdr::ATTACHE_MESSAGE_ID);

/// Most bytes of `Upload-Metadata` (file name, type, description and the contact fit easily).
pub const MAX_METADATA_BYTES: usize = 4096;

/// A request body as the domain reads it.
pub(crate) fn body_stream(body: Body) -> ByteStream {
    Box::pin(body.into_data_stream().map_err(std::io::Error::other))
}

/// `Content-Length`, when the client sent a plain one.
pub(crate) fn content_length(h: &HeaderMap) -> Option<u64> {
    header(h, &CONTENT_LENGTH).and_then(tus::parse_u64)
}

fn checksum(h: &HeaderMap) -> AppResult<Option<crate::upload::Checksum>> {
    let Some(v) = header(h, &UPLOAD_CHECKSUM) else {
        return Ok(None);
    };
    tus::parse_checksum(v).map(Some).map_err(|code| {
        let why = match code {
            ErrorCode::UnsupportedChecksum => format!("checksum algorithms: {}", tus::CHECKSUM_ALGORITHMS),
            _ => "Upload-Checksum is '<algorithm> <base64 digest>'".into(),
        };
        AppError::Refused(code, why)
    })
}

/// Every tus response says `Tus-Resumable`; every tus request but OPTIONS (and the JSON status
/// GET) must speak version 1.0.0, or gets 412 with the versions we speak.
pub async fn tus_headers(req: Request, next: Next) -> Response {
    let needs_version = !matches!(*req.method(), Method::OPTIONS | Method::GET);
    let version = req.headers().get(&TUS_RESUMABLE).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let mut resp = if needs_version && version.as_deref() != Some(tus::VERSION) {
        let mut r =
            AppError::Refused(ErrorCode::TusVersion, format!("send Tus-Resumable: {}", tus::VERSION)).into_response();
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
            None => Err(AppError::Refused(
                ErrorCode::Unauthorized,
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

fn offset_headers(h: &mut HeaderMap, appended: &Appended) {
    h.insert(UPLOAD_OFFSET, hv(&appended.offset.to_string()));
    match &appended.message {
        Some(m) => {
            h.insert(ATTACHE_MESSAGE_ID, hv(m.id.as_str()));
        }
        None => {
            h.insert(UPLOAD_EXPIRES, hv(&tus::http_date(appended.expires_at)));
        }
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
    responses((status = 201, description = "Created; Location names the upload. When the body carried the whole \
        file (creation-with-upload), the file is checked and published before the answer, whose body is its \
        transcript message", body = Option<attache_protocol::Message>),
        (status = 400, description = "bad-metadata, metadata-too-large (over 4 KiB), length-required…", body = ApiError),
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
        return Err(AppError::Refused(
            ErrorCode::LengthRequired,
            "Upload-Defer-Length is not supported; send Upload-Length".into(),
        ));
    }
    let length = header(&headers, &UPLOAD_LENGTH)
        .ok_or_else(|| AppError::Refused(ErrorCode::LengthRequired, "send Upload-Length".into()))
        .and_then(|v| {
            tus::parse_u64(v.trim()).ok_or_else(|| {
                AppError::Refused(
                    ErrorCode::BadLength,
                    "Upload-Length must be a non-negative whole number of bytes".into(),
                )
            })
        })?;
    let metadata = header(&headers, &UPLOAD_METADATA).unwrap_or("").to_owned();
    if metadata.len() > MAX_METADATA_BYTES {
        return Err(AppError::Refused(
            ErrorCode::MetadataTooLarge,
            format!("Upload-Metadata has {} bytes; at most {MAX_METADATA_BYTES} are accepted", metadata.len()),
        ));
    }
    let pairs = tus::parse_metadata(&metadata).map_err(|m| AppError::Refused(ErrorCode::BadMetadata, m))?;
    let pick = |keys: &[&str]| keys.iter().find_map(|k| pairs.get(*k)).filter(|v| !v.trim().is_empty()).cloned();
    let has_body = header(&headers, &CONTENT_TYPE) == Some(tus::OFFSET_OCTET_STREAM)
        && header(&headers, &CONTENT_LENGTH).is_none_or(|l| l != "0");
    let checksum = if has_body { checksum(&headers)? } else { None };
    let new = NewUpload {
        contact: pick(&["contact", "contact_id", "contactId"]).ok_or_else(|| {
            AppError::Refused(ErrorCode::MissingContact, "Upload-Metadata must name the contact ('contact')".into())
        })?,
        file_name: pick(&["filename", "name", "fileName"]).ok_or_else(|| {
            AppError::Refused(ErrorCode::MissingFileName, "Upload-Metadata must carry 'filename'".into())
        })?,
        declared_type: pick(&["filetype", "type", "fileType", "content_type"]),
        description: pick(&["description"]),
        length,
        metadata,
        hold: false,
        leased: has_body,
    };
    let created = up::create(&state, &uploader, new).await?;
    let row = created.row.clone();
    let location = format!("/api/uploads/{}", row.id);
    let mut appended = Appended { offset: 0, message: None, interrupted: false, expires_at: row.expires_at };
    if let Some(lease) = created.lease {
        let chunk = Chunk { offset: 0, declared_len: content_length(&headers), checksum, body: body_stream(body) };
        match detached(&state, lease, chunk, Prior::Both(created.known)).await {
            Ok(a) => appended = a,
            // The upload exists; the client resumes with HEAD.
            Err(AppError::Refused(ErrorCode::ChecksumMismatch, _)) => {}
            Err(e @ AppError::Internal(_)) => return Err(e),
            // A refusal is final. A check's verdict stays on the record (the report lists refused
            // and blocked files, as after a PATCH); a refusal before the checks (too long, a
            // closed contact…) leaves nothing of the upload, which would count against the contact.
            Err(e) => {
                if let Ok(row) = up::get(&state, row.id.as_str()).await {
                    if row.state == UploadState::Receiving {
                        let _ = up::terminate(&state, &row).await;
                    }
                }
                return Err(e);
            }
        }
    }
    // A file sent whole with its creation comes back as its transcript message: one round trip
    // for a small file (tus clients ignore the body).
    let mut r = match &appended.message {
        Some(m) => (StatusCode::CREATED, axum::Json(m)).into_response(),
        None => StatusCode::CREATED.into_response(),
    };
    r.headers_mut().insert(LOCATION, hv(&location));
    offset_headers(r.headers_mut(), &appended);
    Ok(r)
}

/// Runs [`up::append`] in a task of its own, holding the upload's lease: when the client drops
/// the connection the handler is cancelled, but the bytes that arrived are still recorded (and a
/// finish under way completes), so the upload resumes from the true offset.
async fn append_detached(
    state: &AppState,
    uploader: &Uploader,
    id: &str,
    offset: u64,
    headers: &HeaderMap,
    body: Body,
) -> AppResult<Appended> {
    let chunk =
        Chunk { offset, declared_len: content_length(headers), checksum: checksum(headers)?, body: body_stream(body) };
    let lease = up::take_own(state, uploader, id).await?;
    // A staff session carries its account: finishing need not read it again.
    let prior = match uploader {
        Uploader::Staff(staff) => Prior::Account(staff.account.clone()),
        Uploader::Visitor(_) => Prior::Nothing,
    };
    detached(state, lease, chunk, prior).await
}

/// [`up::append`] under `lease` in a task of its own (see [`append_detached`]).
async fn detached(state: &AppState, lease: Lease, chunk: Chunk, prior: Prior) -> AppResult<Appended> {
    let state = state.clone();
    tokio::spawn(async move {
        let r = up::append(&state, &lease, chunk, &prior).await;
        lease.release().await;
        r
    })
    .await
    .map_err(|e| AppError::Internal(anyhow::anyhow!("upload task: {e}")))?
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
    let row = match up::own(&state, &uploader, &id).await {
        Ok(r) => r,
        Err(e) => return e.status().into_response(),
    };
    // A complete upload that nobody finished (a crash, a dead instance) is finished now.
    let row = match up::ensure_finished(&state, row).await {
        Ok(r) => r,
        Err(e) => return e.status().into_response(),
    };
    if matches!(row.state, UploadState::Refused | UploadState::Blocked) {
        return StatusCode::GONE.into_response();
    }
    let mut r = StatusCode::OK.into_response();
    let h = r.headers_mut();
    h.insert(UPLOAD_OFFSET, hv(&row.offset.to_string()));
    if row.state == UploadState::Receiving {
        h.insert(UPLOAD_EXPIRES, hv(&tus::http_date(row.expires_at)));
    }
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
        return Err(AppError::Refused(
            ErrorCode::BadContentType,
            format!("PATCH bodies are Content-Type: {}", tus::OFFSET_OCTET_STREAM),
        ));
    }
    let offset = header(&headers, &UPLOAD_OFFSET).and_then(|v| tus::parse_u64(v.trim())).ok_or_else(|| {
        AppError::Refused(ErrorCode::BadOffset, "Upload-Offset must be a non-negative whole number".into())
    })?;
    let appended = append_detached(&state, &uploader, &id, offset, &headers, body).await?;
    if appended.interrupted {
        return Err(AppError::Refused(
            ErrorCode::UploadInterrupted,
            format!("the body broke off at offset {}; resume from there", appended.offset),
        ));
    }
    let mut r = StatusCode::NO_CONTENT.into_response();
    offset_headers(r.headers_mut(), &appended);
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
    let row = up::own(&state, &uploader, &id).await?;
    up::terminate(&state, &row).await?;
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
    let row = up::own(&state, &uploader, &id).await?;
    let row = up::ensure_finished(&state, row).await?;
    Ok(AppJson(up::status(&state, &row).await?))
}
