//! Supervisors' review in the console: access records, Verify (the cached copy, or a fresh
//! download, against the service's SHA-256), Redact, "Download all" with progress, Reports >
//! Attachments, the account's storage and file retention (admins); and the cache's per-file
//! contact index with its purge: a redacted or expired file, and every file of a contact whose
//! report expired, leaves this machine the next time the console learns of it (the live
//! `attachment_removed` event, or the sync at sign-in).

use crate::files::Files;
use crate::view::{FileSearchQuery, UploadProgress, VerifyResult};
use crate::{ConsoleError, ConsoleState};
use attache_client::{
    AccessFilter, AccessRecord, Account, AccountPatch, AttachmentId, AttachmentPage, AttachmentSearch, ContactId,
    ErrorCode, FileState, Message, Progress, Redacted, StaffClient, StorageUsage, MAX_STATUS_IDS,
};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, State};

type Result<T> = std::result::Result<T, ConsoleError>;

/// Which contact each file the console has seen belongs to: attachment id → (contact, SHA-256).
/// A JSON file beside the cache, so a purge after a restart still knows what to drop.
pub struct CacheIndex {
    path: PathBuf,
    entries: std::sync::Mutex<BTreeMap<String, (String, String)>>,
}

impl CacheIndex {
    /// The index in the app's cache folder.
    pub fn open(app: &AppHandle) -> CacheIndex {
        let base = app.path().app_cache_dir().unwrap_or_else(|_| std::env::temp_dir().join("attache-console"));
        let path = base.join("contact-index.json");
        let entries = std::fs::read(&path).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default();
        CacheIndex { path, entries: std::sync::Mutex::new(entries) }
    }

    fn save(&self, entries: &BTreeMap<String, (String, String)>) {
        if let Some(dir) = self.path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        if let Ok(json) = serde_json::to_vec(entries) {
            let tmp = self.path.with_extension("tmp");
            if std::fs::write(&tmp, json).is_ok() {
                let _ = std::fs::rename(&tmp, &self.path);
            }
        }
    }

    /// Notes the files of these messages (their contact and SHA-256); removed ones are purged.
    pub fn learn(&self, files: &Files, messages: &[Message]) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let before = entries.len();
        let mut purge = Vec::new();
        for a in messages.iter().filter_map(|m| m.attachment.as_ref()) {
            if a.removed.is_some() {
                purge.push(a.sha256.clone());
                entries.remove(a.id.as_str());
            } else {
                entries.insert(a.id.to_string(), (a.contact_id.to_string(), a.sha256.clone()));
            }
        }
        if entries.len() != before || !purge.is_empty() {
            self.save(&entries);
        }
        drop(entries);
        for sha in purge {
            purge_copy(files, &sha);
        }
    }

    /// Drops the copies of one attachment and forgets it.
    pub fn forget(&self, files: &Files, attachment: &str, sha256: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.remove(attachment);
        self.save(&entries);
        drop(entries);
        purge_copy(files, sha256);
    }

    /// Asks the service where every indexed file stands and drops the copies of those redacted,
    /// expired, or gone with their contact's report. Returns how many were purged.
    pub async fn sync(&self, files: &Files, client: &StaffClient) -> usize {
        let known: Vec<(String, (String, String))> = {
            let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            entries.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
        };
        let mut purged = 0;
        for chunk in known.chunks(MAX_STATUS_IDS) {
            let ids: Vec<AttachmentId> = chunk.iter().map(|(id, _)| AttachmentId(id.clone())).collect();
            let Ok(states) = client.file_status(&ids).await else { return purged };
            for (s, (id, (_, sha))) in states.iter().zip(chunk) {
                if s.state != FileState::Present {
                    self.forget(files, id, sha);
                    purged += 1;
                }
            }
        }
        purged
    }

    /// Whether the console knows this attachment's contact (tests read it through the page).
    pub fn contact_of(&self, attachment: &str) -> Option<String> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).get(attachment).map(|v| v.0.clone())
    }
}

/// Removes the cached file, its preview and its "Open" copy.
fn purge_copy(files: &Files, sha256: &str) {
    let sha = sha256.to_ascii_lowercase();
    if let Some(p) = files.cache.path_for(&sha) {
        let _ = std::fs::remove_file(p);
    }
    let _ = std::fs::remove_file(files.previews.join(format!("{sha}.jpg")));
    let _ = std::fs::remove_dir_all(files.opened.join(&sha[..sha.len().min(16)]));
}

fn sha256_of(path: &Path) -> std::io::Result<(String, u64)> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut n = 0u64;
    loop {
        let r = f.read(&mut buf)?;
        if r == 0 {
            return Ok((hex::encode(h.finalize()), n));
        }
        h.update(&buf[..r]);
        n += r as u64;
    }
}

/// A contact's access records (admins, report viewers, the agent's supervisor).
#[tauri::command]
#[tracing::instrument(skip(state))]
pub async fn access_records(state: State<'_, ConsoleState>, contact_id: String) -> Result<Vec<AccessRecord>> {
    Ok(state.client().await?.access_records(&ContactId(contact_id), &AccessFilter::default()).await?)
}

/// Checks a file against the SHA-256 and size the service recorded: the cached copy when there
/// is one, else a fresh download. Says what it found in words.
#[tauri::command]
#[tracing::instrument(skip(state, files))]
pub async fn verify_attachment(
    state: State<'_, ConsoleState>,
    files: State<'_, Files>,
    url: String,
    sha256: String,
    size: u64,
) -> Result<VerifyResult> {
    let want = sha256.to_ascii_lowercase();
    let cached = files.cache.path_for(&want).filter(|p| p.exists());
    let (path, source) = match cached {
        Some(p) => (p, "the cached copy"),
        None => (state.client().await?.fetch_url_cached(&files.cache, &url, &want).await?, "a fresh download"),
    };
    let p = path.clone();
    let (got, len) = tauri::async_runtime::spawn_blocking(move || sha256_of(&p))
        .await
        .map_err(|e| ConsoleError::new(ErrorCode::Internal, e.to_string()))?
        .map_err(|e| ConsoleError::new(ErrorCode::LocalFile, format!("Cannot read {}: {e}", path.display())))?;
    let ok = got == want && len == size;
    let message = if ok {
        format!("Verified: {source} matches SHA-256 {}… and {len} bytes.", &want[..12])
    } else {
        format!(
            "Mismatch: {source} has SHA-256 {}… and {len} bytes; the service recorded {}… and {size} bytes.",
            &got[..12],
            &want[..12]
        )
    };
    Ok(VerifyResult { ok, message })
}

/// Redacts an attachment with a reason; the console drops its copy at once. The answer says
/// whether the service's store confirmed the bytes gone (else they are still being removed).
#[tauri::command]
#[tracing::instrument(skip(state, files, index, reason))]
pub async fn redact_attachment(
    state: State<'_, ConsoleState>,
    files: State<'_, Files>,
    index: State<'_, CacheIndex>,
    attachment_id: String,
    reason: String,
) -> Result<Redacted> {
    let redacted = state.client().await?.redact(&AttachmentId(attachment_id), &reason).await?;
    index.learn(&files, std::slice::from_ref(&redacted.message));
    Ok(redacted)
}

/// "Download all": asks where to save the contact's ZIP, then streams it there with progress
/// over `on_progress`. `None` when the dialog is cancelled.
#[tauri::command]
#[tracing::instrument(skip(app, state, on_progress))]
pub async fn export_contact(
    app: AppHandle,
    state: State<'_, ConsoleState>,
    contact_id: String,
    suggested_name: String,
    on_progress: Channel<UploadProgress>,
) -> Result<Option<String>> {
    let Some(dest) = crate::dialog::save_file(&app, crate::files::safe_name(&suggested_name)).await else {
        return Ok(None);
    };
    let progress = Arc::new(move |p: Progress| {
        let _ = on_progress.send(UploadProgress { sent: p.sent, total: p.total });
    });
    let done = state.client().await?.export_contact(&ContactId(contact_id), &dest, Some(progress)).await?;
    Ok(Some(done.path.to_string_lossy().into_owned()))
}

/// Reports > Attachments: one page of files.
#[tauri::command]
#[tracing::instrument(skip(state))]
pub async fn search_attachments(state: State<'_, ConsoleState>, query: FileSearchQuery) -> Result<AttachmentPage> {
    let search: AttachmentSearch = serde_json::from_value(serde_json::json!({
        "name": query.name.filter(|s| !s.trim().is_empty()),
        "media_type": query.media_type.filter(|s| !s.trim().is_empty()),
        "sender": query.sender.filter(|s| !s.is_empty()),
        "agent": query.agent_id.filter(|s| !s.is_empty()),
        "from": query.from.filter(|s| !s.is_empty()),
        "to": query.to.filter(|s| !s.is_empty()),
        "page": query.page,
    }))
    .map_err(|e| ConsoleError::new(ErrorCode::InvalidFilter, format!("That search is not valid: {e}")))?;
    Ok(state.client().await?.search_attachments(&search).await?)
}

/// The account's storage (admins).
#[tauri::command]
#[tracing::instrument(skip(state))]
pub async fn storage_usage(state: State<'_, ConsoleState>) -> Result<StorageUsage> {
    Ok(state.client().await?.storage_usage().await?)
}

/// The account and its plan (admins).
#[tauri::command]
#[tracing::instrument(skip(state))]
pub async fn account_plan(state: State<'_, ConsoleState>) -> Result<Account> {
    Ok(state.client().await?.account().await?)
}

/// Sets file-only retention (admins): files go after `days` (0: with the report).
#[tauri::command]
#[tracing::instrument(skip(state))]
pub async fn set_file_retention(state: State<'_, ConsoleState>, days: u32) -> Result<Account> {
    let patch = AccountPatch { file_retention_days: Some(days), ..Default::default() };
    Ok(state.client().await?.update_account(&patch).await?)
}

/// Whether the cached copy of a file is on this machine, and the contact the index files it
/// under (for the page's "cached" mark and the end-to-end tests of the purge).
#[tauri::command]
#[tracing::instrument(skip(files, index))]
pub async fn cached_file(
    files: State<'_, Files>,
    index: State<'_, CacheIndex>,
    attachment_id: String,
    sha256: String,
) -> Result<Option<String>> {
    let present = files.cache.path_for(&sha256.to_ascii_lowercase()).is_some_and(|p| p.exists());
    Ok(present.then(|| index.contact_of(&attachment_id).unwrap_or_default()))
}
