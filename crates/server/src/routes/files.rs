//! `GET/HEAD /files/{token}/{name}` and `/files/{token}/preview`: attachment bytes under the
//! access table, with ranges, `ETag` = SHA-256 and defensive headers.

use crate::auth::{cookie, Staff, VISITOR_COOKIE};
use crate::db::is_id;
use crate::domain::access::{self as access, FileCaller};
use crate::domain::review::{self, NewAccess};
use crate::error::{AppError, AppResult};
use crate::storage::StoreKey;
use crate::AppState;
use attache_protocol::{AccessWhat, ApiError, ErrorCode, VisitorId};
use axum::body::Body;
use axum::extract::{FromRequestParts, Path, Request, State};
use axum::http::header::{
    ACCEPT_RANGES, AUTHORIZATION, CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_RANGE,
    CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, IF_NONE_MATCH, IF_RANGE, RANGE, REFERRER_POLICY, SET_COOKIE,
    X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use std::ops::Range;

/// The cookie a browser gets when it opens a file during the contact.
pub const ATTACHMENT_COOKIE: &str = "vvca";

/// A `Range: bytes=…` header against a size: `Ok(None)` means the whole file (no header, or
/// several ranges, which we answer whole); `Err(())` is unsatisfiable.
pub fn parse_range(header: Option<&str>, size: u64) -> Result<Option<Range<u64>>, ()> {
    let Some(h) = header else { return Ok(None) };
    let Some(spec) = h.trim().strip_prefix("bytes=") else { return Ok(None) };
    if spec.contains(',') {
        return Ok(None);
    }
    let (a, b) = spec.split_once('-').ok_or(())?;
    let num = |s: &str| -> Result<u64, ()> {
        if s.is_empty() || s.len() > 20 || !s.bytes().all(|c| c.is_ascii_digit()) {
            Err(())
        } else {
            s.parse().map_err(|_| ())
        }
    };
    let range = if a.trim().is_empty() {
        let n = num(b.trim())?;
        if n == 0 {
            return Err(());
        }
        size.saturating_sub(n)..size
    } else {
        let start = num(a.trim())?;
        let end = if b.trim().is_empty() { size } else { num(b.trim())?.saturating_add(1).min(size) };
        if start >= size || start >= end {
            return Err(());
        }
        start..end
    };
    if range.start >= size {
        return Err(());
    }
    Ok(Some(range))
}

/// `attachment; filename="…"; filename*=UTF-8''…` (or `inline`).
pub fn disposition(kind: &str, name: &str) -> String {
    let ascii: String =
        name.chars().map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' }).collect();
    let utf8 = percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC);
    format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{utf8}")
}

/// Inert types served as themselves; every other type (HTML, SVG, XML, scripts, feeds, and
/// whatever a sender declared for bytes nobody recognised) is served as opaque bytes.
const SERVED_AS_THEMSELVES: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/bmp",
    "application/pdf",
    "text/plain",
    "application/zip",
    "audio/mpeg",
    "audio/ogg",
    "video/mp4",
    "video/webm",
];

/// The type a file is served with: itself when on the short allow list of inert types,
/// `application/octet-stream` otherwise.
pub(crate) fn served_type(media: &str) -> &str {
    let bare = media.split(';').next().unwrap_or("").trim();
    if SERVED_AS_THEMSELVES.iter().any(|t| t.eq_ignore_ascii_case(bare)) {
        media
    } else {
        "application/octet-stream"
    }
}

async fn caller(state: &AppState, parts: &mut axum::http::request::Parts) -> AppResult<FileCaller> {
    let staff = if parts.headers.contains_key(AUTHORIZATION) {
        Some(Staff::from_request_parts(parts, state).await?)
    } else {
        None
    };
    let vvcu = cookie(&parts.headers, VISITOR_COOKIE).filter(|v| is_id(v)).map(|v| VisitorId(v.to_owned()));
    let vvca = cookie(&parts.headers, ATTACHMENT_COOKIE).filter(|v| v.len() <= 4096).map(str::to_owned);
    Ok(FileCaller { staff, vvcu, vvca })
}

/// An attachment's bytes (or, with the name `preview`, its JPEG preview). `Range`, `If-Range`
/// and `If-None-Match` are honoured; HEAD answers the headers alone.
#[utoipa::path(get, path = "/files/{token}/{name}", tag = "files",
    params(("token" = String, Path, description = "96 hex characters"), ("name" = String, Path, description = "the file name, or `preview`")),
    responses((status = 200, description = "the bytes", content_type = "application/octet-stream"),
        (status = 206, description = "a range"), (status = 304), (status = 403, body = ApiError),
        (status = 404, body = ApiError), (status = 410, body = ApiError), (status = 416)))]
#[tracing::instrument(skip_all)]
pub async fn get_file(
    State(state): State<AppState>,
    Path((token, name)): Path<(String, String)>,
    super::staff::ClientAddr(address): super::staff::ClientAddr,
    req: Request,
) -> AppResult<Response> {
    let (mut parts, _) = req.into_parts();
    let who = caller(&state, &mut parts).await?;
    let grant = access::open_file(&state, &token, &who).await?;
    let a = &grant.attachment;
    let preview = name == "preview";
    let (key, size, media, etag, disp) = if preview {
        let key = a.preview_key.as_deref().ok_or(AppError::NotFound("preview"))?;
        let stem = a.file_name.rsplit_once('.').map_or(a.file_name.as_str(), |(s, _)| s);
        let disp = disposition("inline", &format!("{stem}.preview.jpg"));
        (key, None, "image/jpeg", format!("\"{}.preview\"", a.sha256), disp)
    } else {
        (
            a.file_key.as_str(),
            Some(a.size),
            served_type(&a.media_type),
            format!("\"{}\"", a.sha256),
            disposition("attachment", &a.file_name),
        )
    };
    let set_cookie = grant.set_vvca.as_ref().map(|(value, max_age)| {
        let secure = if state.config.secure_cookies { "; Secure" } else { "" };
        format!("{ATTACHMENT_COOKIE}={value}; Path=/files/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}")
    });
    let opener = grant.opener.clone();
    let record = NewAccess {
        account_id: grant.contact.account_id.clone(),
        contact_id: grant.contact.id.clone(),
        attachment_id: Some(a.id.clone()),
        file_name: a.file_name.clone(),
        what: if preview { AccessWhat::Preview } else { AccessWhat::File },
        who: opener.who,
        who_id: opener.who_id,
        who_name: opener.who_name,
        grant: opener.grant,
        address: address.map(|a| a.to_string()),
        range: None,
        bytes: 0,
    };
    let blob = Blob { key, size, media, etag, disposition: disp, set_cookie, record: Some(record) };
    let label = crate::routes::ops::grant_label(&who);
    Ok(state.metrics.served(label, send_blob(&state, &parts.headers, &parts.method, blob).await?))
}

/// Stored bytes ready to be sent, with the headers that describe them.
pub(crate) struct Blob<'a> {
    /// Store key.
    pub key: &'a str,
    /// The object's size, when the database knows it (an attachment's file): the store is not
    /// asked, one round trip fewer per download.
    pub size: Option<u64>,
    /// `Content-Type` to send.
    pub media: &'a str,
    /// Quoted `ETag`.
    pub etag: String,
    /// `Content-Disposition`.
    pub disposition: String,
    /// A `Set-Cookie` to add.
    pub set_cookie: Option<String>,
    /// The access record to write once the bytes were all sent (its range and size filled in).
    pub record: Option<NewAccess>,
}

/// Sends stored bytes: HEAD, `Range`/`If-Range`, `If-None-Match`, and the defensive headers
/// (nosniff, sandbox CSP, no referrer). Shared by `/files/…` and the temporary URLs.
pub(crate) async fn send_blob(
    state: &AppState,
    req: &HeaderMap,
    method: &Method,
    blob: Blob<'_>,
) -> AppResult<Response> {
    let Blob { key, size, media, etag, disposition: disp, set_cookie, record } = blob;
    let key = StoreKey::parse(key).ok_or_else(|| AppError::Internal(anyhow::anyhow!("bad store key in database")))?;
    let store = &state.files.store;
    // HEAD still asks the store, so that it says whether the bytes are there.
    let size = match size.filter(|_| method == Method::GET) {
        Some(s) => s,
        None => match store.head(&key).await {
            Ok(s) => s,
            Err(e) if e.is_not_found() => return Err(AppError::NotFound("file")),
            Err(e) => return Err(AppError::Internal(e.into())),
        },
    };
    let mut headers = HeaderMap::new();
    let hv = |s: &str| HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static(""));
    headers.insert(ETAG, hv(&etag));
    headers.insert(CONTENT_TYPE, hv(media));
    headers.insert(CONTENT_DISPOSITION, hv(&disp));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static("sandbox; default-src 'none'"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    headers.insert(ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Some(c) = &set_cookie {
        headers.insert(SET_COOKIE, hv(c));
    }
    let inm = req.get(IF_NONE_MATCH).and_then(|v| v.to_str().ok());
    if inm.is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*")) {
        return Ok((StatusCode::NOT_MODIFIED, headers).into_response());
    }
    let if_range_ok = req.get(IF_RANGE).and_then(|v| v.to_str().ok()).is_none_or(|v| v.trim() == etag);
    let range_header = if if_range_ok { req.get(RANGE).and_then(|v| v.to_str().ok()) } else { None };
    let range = match parse_range(range_header, size) {
        Ok(r) => r,
        Err(()) => {
            headers.insert(CONTENT_RANGE, hv(&format!("bytes */{size}")));
            let e = AppError::Refused(ErrorCode::RangeNotSatisfiable, format!("the file has {size} bytes"));
            return Ok((e.status(), headers, axum::Json(e.body())).into_response());
        }
    };
    let status = match &range {
        Some(r) => {
            headers.insert(CONTENT_RANGE, hv(&format!("bytes {}-{}/{size}", r.start, r.end - 1)));
            StatusCode::PARTIAL_CONTENT
        }
        None => StatusCode::OK,
    };
    let len = range.as_ref().map_or(size, |r| r.end - r.start);
    headers.insert(CONTENT_LENGTH, hv(&len.to_string()));
    if method == Method::HEAD {
        return Ok((status, headers).into_response());
    }
    let sent = range.as_ref().map(|r| (r.start, r.end)).filter(|r| *r != (0, size));
    // The range asked, or the whole file by its known size.
    let stream = store.get(&key, Some(range.unwrap_or(0..size))).await.map_err(|e| match e {
        e if e.is_not_found() => AppError::NotFound("file"),
        e => AppError::Internal(e.into()),
    })?;
    let stream = match record {
        Some(r) => review::recorded(state, NewAccess { range: sent, bytes: len, ..r }, stream),
        None => stream,
    };
    Ok((status, headers, Body::from_stream(stream)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range(None, 10), Ok(None));
        assert_eq!(parse_range(Some("bytes=0-4"), 10), Ok(Some(0..5)));
        assert_eq!(parse_range(Some("bytes=5-"), 10), Ok(Some(5..10)));
        assert_eq!(parse_range(Some("bytes=-3"), 10), Ok(Some(7..10)));
        assert_eq!(parse_range(Some("bytes=-30"), 10), Ok(Some(0..10)));
        assert_eq!(parse_range(Some("bytes=8-100"), 10), Ok(Some(8..10)));
        assert_eq!(parse_range(Some("bytes=0-1,4-5"), 10), Ok(None));
        assert_eq!(parse_range(Some("bytes=10-"), 10), Err(()));
        assert_eq!(parse_range(Some("bytes=5-4"), 10), Err(()));
        assert_eq!(parse_range(Some("bytes=-0"), 10), Err(()));
        assert_eq!(parse_range(Some("bytes=a-b"), 10), Err(()));
        assert_eq!(parse_range(Some("items=0-1"), 10), Ok(None));
    }

    #[test]
    fn dispositions_quote_safely() {
        assert_eq!(
            disposition("attachment", "a b.png"),
            "attachment; filename=\"a b.png\"; filename*=UTF-8''a%20b%2Epng"
        );
        let d = disposition("attachment", "é\"x.pdf");
        assert!(d.starts_with("attachment; filename=\"__x.pdf\""), "{d}");
    }

    #[test]
    fn only_inert_types_are_served_as_themselves() {
        for t in ["image/png", "application/pdf", "text/plain"] {
            assert_eq!(served_type(t), t);
        }
        for t in [
            "application/rss+xml",
            "text/html",
            "image/svg+xml",
            "application/xml",
            "text/javascript",
            "text/css",
            "application/x-unknown",
        ] {
            assert_eq!(served_type(t), "application/octet-stream", "{t}");
        }
    }
}
