//! File transfer commands: pick and upload a file, show previews and images, open and save
//! downloads. Uploads and downloads are the SDK's (tus with progress and cancel; downloads with the
//! session, SHA-256-checked, into its content-addressed [`FileCache`]); these commands only pick
//! paths, forward progress and hand bytes to the page as `data:` URLs.
//!
//! Test seam: the native open and save dialogs cannot be driven over WebDriver, so when
//! `ATTACHE_CONSOLE_TEST_PICK_FILE` (resp. `ATTACHE_CONSOLE_TEST_SAVE_TO`) holds an absolute path,
//! "Choose file" (resp. "Save as…") returns that path instead of showing the dialog. It stands in
//! for the OS dialog only; everything after the dialog runs as usual.

use crate::view::{PickedFile, UploadProgress, UploadResult};
use crate::{ConsoleError, ConsoleState};
use attache_client::{
    CancelToken, ContactId, ErrorCode, FileCache, Progress, UploadOptions, UploadOutcome, DEFAULT_CACHE_BYTES,
};
use base64::Engine;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, State};
use tauri_plugin_dialog::DialogExt;

type Result<T> = std::result::Result<T, ConsoleError>;

/// Stand-in for the native "open file" dialog in end-to-end tests.
pub const TEST_PICK_FILE: &str = "ATTACHE_CONSOLE_TEST_PICK_FILE";
/// Stand-in for the native "save file" dialog in end-to-end tests.
pub const TEST_SAVE_TO: &str = "ATTACHE_CONSOLE_TEST_SAVE_TO";

/// Where downloads and previews are kept on this machine.
pub struct Files {
    /// Downloaded files by SHA-256, size-capped, least recently used out first.
    pub cache: FileCache,
    /// Preview images by their URL token.
    pub previews: PathBuf,
    /// Resume state of interrupted uploads: sending the same file again continues it.
    pub uploads: PathBuf,
    /// Pasted files, kept until the cache folder is cleaned.
    pub pasted: PathBuf,
    /// Copies under their real names for "Open" (the cache names files by hash).
    pub opened: PathBuf,
}

impl Files {
    /// The cache under the app's cache folder.
    pub fn new(app: &AppHandle) -> Self {
        let base = app.path().app_cache_dir().unwrap_or_else(|_| std::env::temp_dir().join("attache-console"));
        Files {
            cache: FileCache::new(base.join("files"), DEFAULT_CACHE_BYTES),
            previews: base.join("previews"),
            uploads: base.join("uploads"),
            pasted: base.join("pasted"),
            opened: base.join("opened"),
        }
    }
}

fn test_seam(var: &str) -> Option<PathBuf> {
    std::env::var_os(var).map(PathBuf::from).filter(|p| p.is_absolute())
}

fn local(what: &str, path: &Path, e: std::io::Error) -> ConsoleError {
    ConsoleError::new(ErrorCode::LocalFile, format!("{what} {}: {e}", path.display()))
}

/// A file dialog in front of the console window (modal to it).
fn dialog_for(app: &AppHandle) -> tauri_plugin_dialog::FileDialogBuilder<tauri::Wry> {
    let dialog = app.dialog().file();
    match app.get_webview_window("main") {
        Some(window) => dialog.set_parent(&window),
        None => dialog,
    }
}

/// Shows the native "open file" dialog; `None` when the agent cancels it.
#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn choose_file(app: AppHandle) -> Result<Option<PickedFile>> {
    let path = match test_seam(TEST_PICK_FILE) {
        Some(p) => Some(p),
        None => {
            // The dialog runs on the main thread; wait for it without holding an async worker.
            let dialog = dialog_for(&app).set_title("Choose a file to send");
            tauri::async_runtime::spawn_blocking(move || dialog.blocking_pick_file())
                .await
                .ok()
                .flatten()
                .and_then(|f| f.into_path().ok())
        }
    };
    let Some(path) = path else { return Ok(None) };
    let meta = std::fs::metadata(&path).map_err(|e| local("Cannot read", &path, e))?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    Ok(Some(PickedFile { path: path.to_string_lossy().into_owned(), name, size: meta.len() }))
}

/// Keeps a pasted file (raw bytes in the call's body, its name in the `x-file-name` header) in
/// the app's cache so that it can be sent like a chosen one.
#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn stage_pasted_file(files: State<'_, Files>, request: tauri::ipc::Request<'_>) -> Result<PickedFile> {
    let tauri::ipc::InvokeBody::Raw(bytes) = request.body() else {
        return Err(ConsoleError::new(ErrorCode::BadPaste, "The pasted data was not a file."));
    };
    let name = request
        .headers()
        .get("x-file-name")
        .and_then(|v| v.to_str().ok())
        .map(|v| safe_name(&percent_decode(v)))
        .unwrap_or_else(|| "pasted-file".to_owned());
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let dir = files.pasted.join(stamp.to_string());
    let path = dir.join(&name);
    tokio::fs::create_dir_all(&dir).await.map_err(|e| local("Cannot create", &dir, e))?;
    tokio::fs::write(&path, bytes).await.map_err(|e| local("Cannot write", &path, e))?;
    Ok(PickedFile { path: path.to_string_lossy().into_owned(), name, size: bytes.len() as u64 })
}

/// Decodes `%XX` escapes (the page encodes the name with `encodeURIComponent` for the header).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (b[i], b.get(i + 1).copied().and_then(hex), b.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, ..) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
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

/// A whole image (for the lightbox) as a `data:` URL, from the download cache.
#[tauri::command]
#[tracing::instrument(skip(state, files))]
pub async fn attachment_image(
    state: State<'_, ConsoleState>,
    files: State<'_, Files>,
    url: String,
    sha256: String,
    media_type: String,
) -> Result<String> {
    if !media_type.starts_with("image/") || media_type.contains("svg") {
        return Err(ConsoleError::new(ErrorCode::NotAnImage, "Only pictures open here; use Open or Save as."));
    }
    let path = state.client().await?.fetch_url_cached(&files.cache, &url, &sha256).await?;
    let bytes = tokio::fs::read(&path).await.map_err(|e| local("Cannot read", &path, e))?;
    Ok(data_url(&media_type, &bytes))
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
    let cached = state.client().await?.fetch_url_cached(&files.cache, &url, &sha256).await?;
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

fn safe_name(name: &str) -> String {
    let n: String = name.chars().map(|c| if matches!(c, '/' | '\\' | '\0') { '_' } else { c }).collect();
    match n.trim_matches('.') {
        "" => "file".to_owned(),
        _ => n,
    }
}

/// The save dialog (or its test seam) for a file named `name`; `None` when cancelled.
pub(crate) async fn save_path(app: &AppHandle, name: &str) -> Option<PathBuf> {
    if let Some(p) = test_seam(TEST_SAVE_TO) {
        return Some(p);
    }
    let dialog = dialog_for(app).set_title("Save the file").set_file_name(safe_name(name));
    tauri::async_runtime::spawn_blocking(move || dialog.blocking_save_file())
        .await
        .ok()
        .flatten()
        .and_then(|f| f.into_path().ok())
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
    let dest = match test_seam(TEST_SAVE_TO) {
        Some(p) => Some(p),
        None => {
            let dialog = dialog_for(&app).set_title("Save the file").set_file_name(safe_name(&name));
            tauri::async_runtime::spawn_blocking(move || dialog.blocking_save_file())
                .await
                .ok()
                .flatten()
                .and_then(|f| f.into_path().ok())
        }
    };
    let Some(dest) = dest else { return Ok(None) };
    let cached = state.client().await?.fetch_url_cached(&files.cache, &url, &sha256).await?;
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
    fn header_names_decode() {
        assert_eq!(percent_decode("Bildschirmfoto%20%C3%BC.png"), "Bildschirmfoto ü.png");
        assert_eq!(percent_decode("a%2"), "a%2");
    }

    #[test]
    fn data_urls_are_base64() {
        assert_eq!(data_url("image/png", b"hi"), "data:image/png;base64,aGk=");
    }
}
