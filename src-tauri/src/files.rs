//! File transfer commands: upload a file, show previews, open and save downloads. Uploads and
//! downloads are the SDK's (tus with progress and cancel; downloads with the session,
//! SHA-256-checked, into its content-addressed [`FileCache`]); these commands only forward
//! progress, hand small previews to the page as `data:` URLs and copy files where the agent says.
//! Files enter the popup through [`crate::pick`]; whole pictures reach the page through
//! [`crate::gallery`].

use crate::view::{UploadProgress, UploadResult};
use crate::{dialog, ConsoleError, ConsoleState};
use attache_client::{CancelToken, ContactId, ErrorCode, FileCache, Progress, UploadOptions, UploadOutcome};
use base64::Engine;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, State};

type Result<T> = std::result::Result<T, ConsoleError>;

/// Where downloads and previews are kept on this machine.
#[derive(Clone)]
pub struct Files {
    /// Downloaded files by SHA-256, size-capped, least recently used out first.
    pub cache: FileCache,
    /// Preview images by their URL token.
    pub previews: PathBuf,
    /// Resume state of interrupted uploads: sending the same file again continues it.
    pub uploads: PathBuf,
    /// Pasted files and smaller copies, kept until the cache folder is cleaned.
    pub pasted: PathBuf,
    /// Copies under their real names for "Open" (the cache names files by hash).
    pub opened: PathBuf,
}

impl Files {
    /// The cache under the app's cache folder, holding at most `cache_limit` bytes (the
    /// agent's setting, see [`crate::settings`]).
    pub fn new(app: &AppHandle, cache_limit: u64) -> Self {
        let base = app.path().app_cache_dir().unwrap_or_else(|_| std::env::temp_dir().join("attache-console"));
        Files {
            cache: FileCache::new(base.join("files"), cache_limit),
            previews: base.join("previews"),
            uploads: base.join("uploads"),
            pasted: base.join("pasted"),
            opened: base.join("opened"),
        }
    }
}

impl Files {
    /// A new folder name under [`Files::pasted`] for one pasted file or smaller copy (created by
    /// the caller), so that equal names never overwrite each other.
    pub fn scratch_dir(&self) -> PathBuf {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.pasted.join(format!("{stamp}-{n}"))
    }

    /// Drops the "Open" copies of files that left the cache (these SHA-256s), and of any other
    /// file no longer cached (one evicted by a download), so that they do not outlive the limit.
    pub fn forget_opened(&self, gone: &[String]) {
        for sha in gone {
            let _ = std::fs::remove_dir_all(self.opened.join(&sha[..sha.len().min(16)]));
        }
        let Ok(dirs) = std::fs::read_dir(&self.opened) else { return };
        for d in dirs.flatten() {
            let prefix = d.file_name().to_string_lossy().to_ascii_lowercase();
            let cached =
                prefix.get(..2).and_then(|two| std::fs::read_dir(self.cache.dir().join(two)).ok()).is_some_and(
                    |mut files| files.any(|f| f.is_ok_and(|f| f.file_name().to_string_lossy().starts_with(&prefix))),
                );
            if !cached {
                let _ = std::fs::remove_dir_all(d.path());
            }
        }
    }
}

/// A local file operation that failed, in words.
pub(crate) fn local(what: &str, path: &Path, e: std::io::Error) -> ConsoleError {
    ConsoleError::new(ErrorCode::LocalFile, format!("{what} {}: {e}", path.display()))
}

/// Sends a file to one's active contact through the SDK's tus upload, sending its progress over
/// `on_progress` (this call's own channel) until it ends; `cancel_upload` with the same
/// `upload_key` stops it (and discards it at the service). An upload cut short by the network or a restart resumes from
/// the service's offset when the same file is sent again.
///
/// Errors: the service's refusal in its words (`file-too-large`, `type-not-allowed`,
/// `type-mismatch`, `contact-not-active`, …).
#[tauri::command]
#[tracing::instrument(skip(state, files, description, on_progress))]
pub async fn upload_file(
    state: State<'_, ConsoleState>,
    files: State<'_, Files>,
    upload_key: String,
    contact_id: String,
    path: String,
    description: Option<String>,
    on_progress: Channel<UploadProgress>,
) -> Result<UploadResult> {
    let client = state.client().await?;
    // A file moved or deleted since it was chosen: say so, rather than a transport error.
    if let Err(refused) = crate::pick::inspect(Path::new(&path)) {
        return Err(ConsoleError::new(ErrorCode::LocalFile, format!("{} Nothing was sent.", refused.message)));
    }
    let cancel = CancelToken::new();
    state.uploads.lock().await.insert(upload_key.clone(), cancel.clone());
    let progress = Arc::new(move |p: Progress| {
        // The page may be gone (window closed); the upload goes on regardless.
        let _ = on_progress.send(UploadProgress { sent: p.sent, total: p.total });
    });
    let options = UploadOptions {
        description: description.map(|d| d.trim().to_owned()).filter(|d| !d.is_empty()),
        progress: Some(progress),
        cancel: Some(cancel),
        terminate_on_cancel: true,
        state_dir: Some(files.uploads.clone()),
        ..UploadOptions::default()
    };
    // In its own task, so that a closed window or a dropped IPC call does not cut it mid-chunk.
    let outcome = tauri::async_runtime::spawn(async move {
        client.upload_file(&ContactId(contact_id), Path::new(&path), &options).await
    })
    .await
    .map_err(|e| ConsoleError::new(ErrorCode::Internal, format!("The upload stopped unexpectedly: {e}")));
    state.uploads.lock().await.remove(&upload_key);
    match outcome?? {
        UploadOutcome::Sent(message) => Ok(UploadResult::Sent { message }),
        UploadOutcome::Cancelled { sent, .. } => Ok(UploadResult::Cancelled { sent }),
    }
}

/// Stops a running upload; `upload_file` then answers `cancelled`.
#[tauri::command]
#[tracing::instrument(skip(state))]
pub async fn cancel_upload(state: State<'_, ConsoleState>, upload_key: String) -> Result<()> {
    if let Some(cancel) = state.uploads.lock().await.get(&upload_key) {
        cancel.cancel();
    }
    Ok(())
}

fn data_url(media_type: &str, bytes: &[u8]) -> String {
    format!("data:{media_type};base64,{}", base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// An image preview as a `data:` URL, fetched with the session once and then kept on disk.
#[tauri::command]
#[tracing::instrument(skip(state, files))]
pub async fn attachment_preview(
    state: State<'_, ConsoleState>,
    files: State<'_, Files>,
    preview_url: String,
    sha256: String,
) -> Result<String> {
    // The preview of the same bytes is the same picture: the attachment's SHA-256 names it.
    if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ConsoleError::new(ErrorCode::BadPreviewUrl, "That is not a preview of this service."));
    }
    let dest = files.previews.join(format!("{}.jpg", sha256.to_ascii_lowercase()));
    if !dest.exists() {
        state.client().await?.download(&preview_url, None, &dest).await?;
    }
    let bytes = tokio::fs::read(&dest).await.map_err(|e| local("Cannot read", &dest, e))?;
    Ok(data_url("image/jpeg", &bytes))
}

/// Downloads the file into the cache (if not there yet) and opens it with the system's default
/// application. Errors: `no-opener` when the system has none (e.g. a bare server).
#[tauri::command]
#[tracing::instrument(skip(state, files))]
pub async fn open_attachment(
    state: State<'_, ConsoleState>,
    files: State<'_, Files>,
    url: String,
    sha256: String,
    name: String,
) -> Result<String> {
    let cached = cached_or_fetch(&state, &files, &url, &sha256).await?;
    // The cache names files by hash; open a copy under the real name so the right app is chosen.
    let dir = files.opened.join(&sha256[..sha256.len().min(16)]);
    let named = dir.join(safe_name(&name));
    if !named.exists() {
        std::fs::create_dir_all(&dir).map_err(|e| local("Cannot create", &dir, e))?;
        std::fs::copy(&cached, &named).map_err(|e| local("Cannot write", &named, e))?;
    }
    open::that_detached(&named).map_err(|e| {
        ConsoleError::new(
            ErrorCode::NoOpener,
            format!("No application could open {name} on this computer ({e}). Use Save as… instead."),
        )
    })?;
    Ok(named.to_string_lossy().into_owned())
}

/// The file of `url` from the cache, or downloaded into it with the session. A cached file needs
/// neither the service nor a live session: it opens while the service is away.
pub(crate) async fn cached_or_fetch(state: &ConsoleState, files: &Files, url: &str, sha256: &str) -> Result<PathBuf> {
    if let Some(path) = files.cache.get(&sha256.to_ascii_lowercase()) {
        return Ok(path);
    }
    let path = state.client().await?.fetch_url_cached(&files.cache, url, sha256).await?;
    // The download may have evicted older files: their "Open" copies go too.
    let f = files.clone();
    let _ = tauri::async_runtime::spawn_blocking(move || f.forget_opened(&[])).await;
    Ok(path)
}

/// A file name that stays in its folder (separators and NULs replaced, never `.` or `..`).
pub(crate) fn safe_name(name: &str) -> String {
    let n: String = name.chars().map(|c| if matches!(c, '/' | '\\' | '\0') { '_' } else { c }).collect();
    match n.trim_matches('.') {
        "" => "file".to_owned(),
        _ => n,
    }
}

/// Shows the native save dialog, then copies the file there from the cache (downloading it first
/// when needed). `None` when the agent cancels the dialog; else the path written.
#[tauri::command]
#[tracing::instrument(skip(app, state, files))]
pub async fn save_attachment(
    app: AppHandle,
    state: State<'_, ConsoleState>,
    files: State<'_, Files>,
    url: String,
    sha256: String,
    name: String,
) -> Result<Option<String>> {
    let dest = dialog::save_file(&app, safe_name(&name)).await;
    let Some(dest) = dest else { return Ok(None) };
    let cached = cached_or_fetch(&state, &files, &url, &sha256).await?;
    tokio::fs::copy(&cached, &dest).await.map_err(|e| local("Cannot write", &dest, e))?;
    Ok(Some(dest.to_string_lossy().into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_in_their_folder() {
        assert_eq!(safe_name("../../etc/passwd"), ".._.._etc_passwd");
        assert_eq!(safe_name(".."), "file");
        assert_eq!(safe_name("receipt.png"), "receipt.png");
    }

    #[test]
    fn open_copies_leave_with_their_cached_file() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path();
        let files = Files {
            cache: FileCache::new(base.join("files"), 1 << 20),
            previews: base.join("previews"),
            uploads: base.join("uploads"),
            pasted: base.join("pasted"),
            opened: base.join("opened"),
        };
        let (kept, evicted, named) = ("ab".repeat(32), "cd".repeat(32), "ef".repeat(32));
        let cached = files.cache.path_for(&kept).unwrap();
        std::fs::create_dir_all(cached.parent().unwrap()).unwrap();
        std::fs::write(&cached, b"kept").unwrap();
        for sha in [&kept, &evicted, &named] {
            let copy = files.opened.join(&sha[..16]).join("photo.png");
            std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
            std::fs::write(copy, b"copy").unwrap();
        }
        // One named as gone, one whose file left the cache some other way (a download's eviction).
        files.forget_opened(std::slice::from_ref(&named));
        assert!(files.opened.join(&kept[..16]).join("photo.png").exists(), "its cached file is still there");
        assert!(!files.opened.join(&evicted[..16]).exists());
        assert!(!files.opened.join(&named[..16]).exists());
    }

    #[test]
    fn data_urls_are_base64() {
        assert_eq!(data_url("image/png", b"hi"), "data:image/png;base64,aGk=");
    }
}
