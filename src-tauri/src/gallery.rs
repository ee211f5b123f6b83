//! Whole pictures for the gallery: `cache_image` brings a file into the SDK's content-addressed
//! cache (with the session, SHA-256-checked), and the `attache-cache:` URI scheme hands the page
//! its bytes from there, by SHA-256 only, as binary (no base64 over IPC, no copy in the page's
//! heap). A picture that is in the cache opens while the service is away.
//!
//! The scheme serves files of the cache and nothing else: the path is exactly one SHA-256, the
//! bytes must sniff as a picture, and `Range` requests read only the part asked for. Tauri's
//! responder takes a whole body, so a full request reads the file once, off the UI thread.

use crate::files::{local, Files};
use crate::{ConsoleError, ConsoleState};
use attache_client::{ErrorCode, FileCache};
use std::borrow::Cow;
use std::path::Path;
use tauri::http::{header, Request, Response, StatusCode};
use tauri::{AppHandle, Manager, State, UriSchemeResponder};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

type Result<T> = std::result::Result<T, ConsoleError>;

/// The scheme's name: `attache-cache://localhost/<sha256>` (`http://attache-cache.localhost/…` on
/// Windows; the page builds it with `convertFileSrc`).
pub const SCHEME: &str = "attache-cache";

/// Most bytes one `Range` request reads.
const MAX_RANGE_BYTES: u64 = 8 * 1024 * 1024;

/// Makes sure the attachment's file is in the cache (downloading it with the session when not)
/// and answers its SHA-256, the name the page asks the scheme for.
///
/// Errors: `not-an-image` for files the gallery does not show (use Open or Save as); the SDK's
/// download errors (`unreachable` when the service is away and the file is not cached yet, …).
#[tauri::command]
#[tracing::instrument(skip(state, files))]
pub async fn cache_image(
    state: State<'_, ConsoleState>,
    files: State<'_, Files>,
    url: String,
    sha256: String,
    media_type: String,
) -> Result<String> {
    if !media_type.starts_with("image/") || media_type.contains("svg") {
        return Err(ConsoleError::new(ErrorCode::NotAnImage, "Only pictures open here; use Open or Save as."));
    }
    crate::files::cached_or_fetch(&state, &files, &url, &sha256).await?;
    Ok(sha256.to_ascii_lowercase())
}

/// Answers one request of the scheme, off the UI thread.
pub fn handle(app: &AppHandle, request: Request<Vec<u8>>, responder: UriSchemeResponder) {
    let cache = app.state::<Files>().cache.clone();
    tauri::async_runtime::spawn(async move {
        let response = serve(&cache, &request).await.unwrap_or_else(|(status, why)| {
            tracing::debug!("{SCHEME}: {} {status}: {why}", request.uri());
            plain(status, why)
        });
        responder.respond(response);
    });
}

fn plain(status: StatusCode, text: String) -> Response<Cow<'static, [u8]>> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Cow::Owned(text.into_bytes()))
        .unwrap_or_default()
}

type Served = std::result::Result<Response<Cow<'static, [u8]>>, (StatusCode, String)>;

async fn serve(cache: &FileCache, request: &Request<Vec<u8>>) -> Served {
    let sha256 = request.uri().path().trim_start_matches('/');
    let path = cache.get(sha256).ok_or((StatusCode::NOT_FOUND, "not in this computer's cache".to_owned()))?;
    let io = |e: std::io::Error| (StatusCode::INTERNAL_SERVER_ERROR, local("Cannot read", &path, e).message);
    let mut file = tokio::fs::File::open(&path).await.map_err(io)?;
    let len = file.metadata().await.map_err(io)?.len();
    let mut head = [0u8; 64];
    let n = file.read(&mut head).await.map_err(io)?;
    let format = image::guess_format(&head[..n])
        .map_err(|_| (StatusCode::UNSUPPORTED_MEDIA_TYPE, "not a picture".to_owned()))?;
    let range = request.headers().get(header::RANGE).and_then(|v| v.to_str().ok()).map(|v| parse_range(v, len));
    let builder = Response::builder()
        .header(header::CONTENT_TYPE, format.to_mime_type())
        .header(header::ACCEPT_RANGES, "bytes")
        .header("X-Content-Type-Options", "nosniff")
        // Named by its content: the same URL is always the same bytes.
        .header(header::CACHE_CONTROL, "private, max-age=31536000, immutable");
    let (builder, body) = match range {
        None => (builder.status(StatusCode::OK), read_all(&path).await.map_err(io)?),
        Some(None) => {
            return Ok(Response::builder()
                .status(StatusCode::RANGE_NOT_SATISFIABLE)
                .header(header::CONTENT_RANGE, format!("bytes */{len}"))
                .body(Cow::Borrowed(&[][..]))
                .unwrap_or_default())
        }
        Some(Some((start, end))) => {
            let end = end.min(start + MAX_RANGE_BYTES - 1);
            file.seek(std::io::SeekFrom::Start(start)).await.map_err(io)?;
            let mut body = vec![0; (end - start + 1) as usize];
            file.read_exact(&mut body).await.map_err(io)?;
            let builder = builder
                .status(StatusCode::PARTIAL_CONTENT)
                .header(header::CONTENT_RANGE, format!("bytes {start}-{end}/{len}"));
            (builder, body)
        }
    };
    builder
        .header(header::CONTENT_LENGTH, body.len())
        .body(Cow::Owned(body))
        .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}

async fn read_all(path: &Path) -> std::io::Result<Vec<u8>> {
    tokio::fs::read(path).await
}

/// One `bytes=start-end` range (`start-` and `-suffix` too) of a file of `len` bytes:
/// `Some((start, end))` inclusive, or `None` when it cannot be satisfied.
fn parse_range(value: &str, len: u64) -> Option<(u64, u64)> {
    let spec = value.strip_prefix("bytes=")?.trim();
    if spec.contains(',') || len == 0 {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (start, end) = match (a.trim(), b.trim()) {
        ("", suffix) => {
            let n: u64 = suffix.parse().ok()?;
            (len.saturating_sub(n), len - 1)
        }
        (s, "") => (s.parse().ok()?, len - 1),
        (s, e) => (s.parse().ok()?, e.parse::<u64>().ok()?.min(len - 1)),
    };
    (start <= end && start < len).then_some((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-99", 1000), Some((0, 99)));
        assert_eq!(parse_range("bytes=900-", 1000), Some((900, 999)));
        assert_eq!(parse_range("bytes=-100", 1000), Some((900, 999)));
        assert_eq!(parse_range("bytes=990-2000", 1000), Some((990, 999)));
        assert_eq!(parse_range("bytes=1000-", 1000), None);
        assert_eq!(parse_range("bytes=5-1", 1000), None);
        assert_eq!(parse_range("bytes=0-1,5-6", 1000), None);
        assert_eq!(parse_range("items=0-1", 1000), None);
    }

    fn get(path: &str, range: Option<&str>) -> Request<Vec<u8>> {
        let mut r = Request::builder().uri(format!("attache-cache://localhost/{path}"));
        if let Some(range) = range {
            r = r.header(header::RANGE, range);
        }
        r.body(Vec::new()).unwrap()
    }

    #[tokio::test]
    async fn serves_cached_pictures_only() {
        let dir = tempfile::tempdir().unwrap();
        let cache = FileCache::new(dir.path(), 1 << 30);
        let mut png = Vec::new();
        image::RgbImage::new(4, 3).write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
        let sha = "ab".repeat(32);
        let p = cache.path_for(&sha).unwrap();
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, &png).unwrap();

        let ok = serve(&cache, &get(&sha, None)).await.unwrap();
        assert_eq!(ok.status(), StatusCode::OK);
        assert_eq!(ok.headers()[header::CONTENT_TYPE], "image/png");
        assert_eq!(ok.body().as_ref(), &png[..]);

        let part = serve(&cache, &get(&sha, Some("bytes=1-3"))).await.unwrap();
        assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(part.body().as_ref(), &png[1..4]);

        let missing = serve(&cache, &get(&"cd".repeat(32), None)).await.unwrap_err();
        assert_eq!(missing.0, StatusCode::NOT_FOUND);
        let escape = serve(&cache, &get("../../etc/passwd", None)).await.unwrap_err();
        assert_eq!(escape.0, StatusCode::NOT_FOUND);

        std::fs::write(&p, b"#!/bin/sh\necho not a picture\n").unwrap();
        let text = serve(&cache, &get(&sha, None)).await.unwrap_err();
        assert_eq!(text.0, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }
}
