//! Whole pictures for the gallery: `cache_image` brings a file into the SDK's content-addressed
//! cache (with the session, SHA-256-checked), and the `attache-cache:` URI scheme hands the page
//! its bytes from there, by SHA-256 only, as binary (no base64 over IPC, no copy in the page's
//! heap). A picture that is in the cache opens while the service is away.
//!
//! The scheme serves files of the cache and nothing else: the path is exactly one SHA-256, the
//! bytes must sniff as a picture, and `Range` requests read only the part asked for.
//!
//! Not streamed: Tauri's responder (wry's on Linux) takes one finished body and WebKitGTK gets it
//! as a memory stream copied from that buffer, so a full request holds the file in the console
//! process while it is handed over. It is bounded instead: one buffer of the file's exact size,
//! read off the UI thread, and pictures over [`MAX_SHOWN_BYTES`] are refused in words
//! (`too-large-to-show`: Open or Save as still work). The picture shown is pinned in the cache,
//! so no eviction takes it while the gallery shows it.

use crate::files::{local, Files};
use crate::{ConsoleError, ConsoleState};
use attache_client::{CachePin, ErrorCode, FileCache};
use std::borrow::Cow;
use tauri::http::{header, Request, Response, StatusCode};
use tauri::{AppHandle, Manager, State, UriSchemeResponder};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

type Result<T> = std::result::Result<T, ConsoleError>;

/// The scheme's name: `attache-cache://localhost/<sha256>` (`http://attache-cache.localhost/…` on
/// Windows; the page builds it with `convertFileSrc`).
pub const SCHEME: &str = "attache-cache";

/// Most bytes one `Range` request reads.
const MAX_RANGE_BYTES: u64 = 8 * 1024 * 1024;

/// The largest picture the gallery shows (a full request holds it in memory once).
pub const MAX_SHOWN_BYTES: u64 = 64 * 1024 * 1024;

/// The picture the gallery shows, kept from eviction until the next one or `release_image`.
#[derive(Default)]
pub struct Shown(std::sync::Mutex<Option<CachePin>>);

impl Shown {
    fn set(&self, pin: Option<CachePin>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = pin;
    }
}

/// Makes sure the attachment's file is in the cache (downloading it with the session when not)
/// and answers its SHA-256, the name the page asks the scheme for.
///
/// The file stays pinned in the cache (no eviction) until the gallery shows another one or
/// `release_image` says it closed.
///
/// Errors: `not-an-image` for files the gallery does not show (use Open or Save as);
/// `too-large-to-show` over [`MAX_SHOWN_BYTES`]; the SDK's download errors (`unreachable` when
/// the service is away and the file is not cached yet, …).
#[tauri::command]
#[tracing::instrument(skip(state, files, shown))]
pub async fn cache_image(
    state: State<'_, ConsoleState>,
    files: State<'_, Files>,
    shown: State<'_, Shown>,
    url: String,
    sha256: String,
    media_type: String,
) -> Result<String> {
    if !media_type.starts_with("image/") || media_type.contains("svg") {
        return Err(ConsoleError::new(ErrorCode::NotAnImage, "Only pictures open here; use Open or Save as."));
    }
    let sha256 = sha256.to_ascii_lowercase();
    shown.set(Some(files.cache.pin(&sha256)));
    let path = crate::files::cached_or_fetch(&state, &files, &url, &sha256).await?;
    let len = tokio::fs::metadata(&path).await.map_err(|e| local("Cannot read", &path, e))?.len();
    if len > MAX_SHOWN_BYTES {
        return Err(ConsoleError::new(
            ErrorCode::TooLargeToShow,
            format!(
                "This picture is too large to show here ({} MB, at most {} MB); use Open or Save as.",
                len >> 20,
                MAX_SHOWN_BYTES >> 20
            ),
        ));
    }
    Ok(sha256)
}

/// The gallery closed: its picture may leave the cache again like any other.
#[tauri::command]
#[tracing::instrument(skip(shown))]
pub async fn release_image(shown: State<'_, Shown>) -> Result<()> {
    shown.set(None);
    Ok(())
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
        None if len > MAX_SHOWN_BYTES => {
            return Err((StatusCode::PAYLOAD_TOO_LARGE, format!("over {} MB: use Open", MAX_SHOWN_BYTES >> 20)))
        }
        None => (builder.status(StatusCode::OK), read_all(file, len).await.map_err(io)?),
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

/// The whole file into one buffer of its exact size (no growth copies), from the start.
async fn read_all(mut file: tokio::fs::File, len: u64) -> std::io::Result<Vec<u8>> {
    let len = usize::try_from(len).map_err(|_| std::io::Error::other("file too large"))?;
    file.seek(std::io::SeekFrom::Start(0)).await?;
    let mut body = vec![0; len];
    file.read_exact(&mut body).await?;
    Ok(body)
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

        // Over the gallery's bound: refused in words, not read (a sparse file, no disk used).
        let huge = std::fs::File::options().write(true).open(&p).unwrap();
        huge.set_len(MAX_SHOWN_BYTES + 1).unwrap();
        let over = serve(&cache, &get(&sha, None)).await.unwrap_err();
        assert_eq!(over.0, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(over.1.contains("use Open"), "{}", over.1);
        let part = serve(&cache, &get(&sha, Some("bytes=0-9"))).await.unwrap();
        assert_eq!(part.body().len(), 10, "a range of it still reads");

        std::fs::write(&p, b"#!/bin/sh\necho not a picture\n").unwrap();
        let text = serve(&cache, &get(&sha, None)).await.unwrap_err();
        assert_eq!(text.0, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }
}
