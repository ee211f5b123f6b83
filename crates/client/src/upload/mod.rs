//! Resumable uploads over tus 1.0: chunks with a SHA-256 checksum each, progress, cancel, and
//! resume from a persisted state file (also from another process, after a restart of either
//! side).

mod resume;
mod tus;

use crate::{ClientError, ErrorCode, Message, Result, Session, UploadStatus};
use attache_protocol::{ContactId, UploadState};
use resume::{fingerprint, load_state, modified_ns, save_state, ResumeState};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tus::{create, head_offset, send_chunk, status, Chunk};

/// Default chunk size: 1 MiB.
pub const DEFAULT_CHUNK: usize = 1024 * 1024;

/// Progress of an upload: bytes the service has confirmed, of the total.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Confirmed bytes.
    pub sent: u64,
    /// File size.
    pub total: u64,
}

/// Stops an upload between (or in the middle of) chunks; the upload can resume later.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<(AtomicBool, tokio::sync::Notify)>);

impl CancelToken {
    /// A fresh token.
    pub fn new() -> CancelToken {
        CancelToken::default()
    }
    /// Asks the upload to stop.
    pub fn cancel(&self) {
        self.0 .0.store(true, Ordering::SeqCst);
        self.0 .1.notify_waiters();
    }
    /// Whether cancel was asked.
    pub fn is_cancelled(&self) -> bool {
        self.0 .0.load(Ordering::SeqCst)
    }
    async fn cancelled(&self) {
        loop {
            let notified = self.0 .1.notified();
            if self.is_cancelled() {
                return;
            }
            notified.await;
        }
    }
}

/// Called with each confirmed offset.
pub type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

/// How to upload.
#[derive(Clone, Default)]
pub struct UploadOptions {
    /// Bytes per PATCH (default 1 MiB).
    pub chunk_size: Option<usize>,
    /// The description shown in the transcript instead of the file name.
    pub description: Option<String>,
    /// The media type to declare (default: from the extension, else the service decides).
    pub media_type: Option<String>,
    /// The name to send (default: the file's name).
    pub name: Option<String>,
    /// Folder for resume state; without it an interrupted upload starts over.
    pub state_dir: Option<PathBuf>,
    /// Progress callback.
    pub progress: Option<ProgressFn>,
    /// Cancellation.
    pub cancel: Option<CancelToken>,
    /// On cancel, also delete the upload on the service (tus termination) instead of keeping it
    /// resumable.
    pub terminate_on_cancel: bool,
}

impl std::fmt::Debug for UploadOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploadOptions")
            .field("chunk_size", &self.chunk_size)
            .field("description", &self.description)
            .field("state_dir", &self.state_dir)
            .finish_non_exhaustive()
    }
}

/// How an upload ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadOutcome {
    /// The file passed the checks and is in the transcript.
    Sent(Box<Message>),
    /// Stopped by the [`CancelToken`]; `resumable` when the state was kept.
    Cancelled {
        /// Bytes the service had.
        sent: u64,
        /// Whether calling upload again resumes it.
        resumable: bool,
    },
}

fn local(what: &str, path: &Path, e: std::io::Error) -> ClientError {
    ClientError::Transport(format!("local file {} ({what}): {e}", path.display()))
}

/// Uploads `file` to `contact`; see [`Session::upload_file`].
pub(crate) async fn upload_file(
    s: &Session,
    contact: &ContactId,
    file: &Path,
    opts: &UploadOptions,
) -> Result<UploadOutcome> {
    let file = std::path::absolute(file).map_err(|e| local("path", file, e))?;
    let meta = tokio::fs::metadata(&file).await.map_err(|e| local("metadata", &file, e))?;
    let size = meta.len();
    let modified = modified_ns(&meta);
    let name = match &opts.name {
        Some(n) => n.clone(),
        None => file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "file".into()),
    };
    let state_path =
        opts.state_dir.as_ref().map(|d| d.join(format!("{}.json", fingerprint(contact, &file, size, modified))));
    // Resume when a state of this very file (same size and modification time) is known.
    let mut upload_path = None;
    let mut offset = 0;
    if let Some(sp) = &state_path {
        if let Some(st) = load_state(sp).await {
            if st.size == size && st.modified_ns == modified && st.contact == contact.as_str() {
                if let Some(o) = head_offset(s, &st.upload_path).await? {
                    upload_path = Some(st.upload_path);
                    offset = o;
                }
            }
            if upload_path.is_none() {
                let _ = tokio::fs::remove_file(sp).await;
            }
        }
    }
    let chunk = opts.chunk_size.unwrap_or(DEFAULT_CHUNK).max(1);
    let mut f = tokio::fs::File::open(&file).await.map_err(|e| local("open", &file, e))?;
    let mut message_id: Option<String> = None;
    let report = |sent| {
        if let Some(p) = &opts.progress {
            p(Progress { sent, total: size });
        }
    };
    let upload_path = match upload_path {
        Some(p) => p,
        None => {
            // A file that fits in one chunk goes with the creation request, unless the upload
            // can be cancelled: a creation request cannot be called back once its body is on the
            // wire (no Location yet to terminate), so those create first and cancel between chunks.
            let first = if size > 0 && size <= chunk as u64 && opts.cancel.is_none() {
                let mut data = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
                f.read_to_end(&mut data).await.map_err(|e| local("read", &file, e))?;
                if data.len() as u64 != size {
                    return Err(local("read (did the file change?)", &file, std::io::ErrorKind::UnexpectedEof.into()));
                }
                Some(data)
            } else {
                None
            };
            let created = create(s, contact, &name, size, opts, first).await?;
            if let Some(m) = created.message {
                // Sent, checked and published in one round trip.
                report(size);
                return Ok(UploadOutcome::Sent(Box::new(m)));
            }
            let p = created.path;
            offset = created.offset;
            message_id = created.message_id;
            if let Some(sp) = &state_path {
                let st = ResumeState {
                    upload_path: p.clone(),
                    contact: contact.as_str().to_owned(),
                    file: file.clone(),
                    size,
                    modified_ns: modified,
                };
                save_state(sp, &st).await?;
            }
            p
        }
    };
    report(offset);
    let mut retries = 0u32;
    while offset < size || (offset == size && message_id.is_none() && size > 0) {
        if opts.cancel.as_ref().is_some_and(CancelToken::is_cancelled) {
            return cancelled(s, &upload_path, state_path.as_deref(), offset, opts).await;
        }
        let len = usize::try_from((size - offset).min(chunk as u64)).unwrap_or(chunk);
        let mut data = vec![0u8; len];
        f.seek(std::io::SeekFrom::Start(offset)).await.map_err(|e| local("seek", &file, e))?;
        f.read_exact(&mut data).await.map_err(|e| local("read (did the file change?)", &file, e))?;
        match send_chunk(s, &upload_path, offset, data, opts.cancel.as_ref()).await? {
            None => return cancelled(s, &upload_path, state_path.as_deref(), offset, opts).await,
            Some(Chunk::Done(o, m)) => {
                if o <= offset && m.is_none() {
                    return Err(ClientError::Protocol(format!("the service did not advance past {offset}")));
                }
                offset = o;
                message_id = m;
                retries = 0;
                report(offset);
            }
            Some(Chunk::Retry) => {
                // A restarting instance or a lease left by one that died (it runs out within
                // seconds) is worth waiting for: back off up to 2 s a try, about a minute in all.
                retries += 1;
                if retries > 40 {
                    return Err(ClientError::Transport("the upload kept failing; it can be resumed later".into()));
                }
                tokio::time::sleep(Duration::from_millis((100 * u64::from(retries)).min(2000))).await;
                match head_offset(s, &upload_path).await? {
                    Some(o) => offset = o,
                    None => {
                        // Gone: refused (ask why) or expired.
                        let st = status(s, &upload_path).await;
                        if let Some(sp) = &state_path {
                            let _ = tokio::fs::remove_file(sp).await;
                        }
                        return match st {
                            Ok(UploadStatus { error: Some(e), .. }) => {
                                Err(ClientError::Refused { code: e.error, message: e.message })
                            }
                            Ok(_) | Err(_) => Err(ClientError::Refused {
                                code: ErrorCode::UploadExpired,
                                message: "the upload expired; start it again".into(),
                            }),
                        };
                    }
                }
                if offset == size {
                    // Complete: the PATCH that finished may have lost its answer.
                    let st = status(s, &upload_path).await?;
                    match st.state {
                        UploadState::Ready => {
                            message_id = st.message.map(|m| m.id.to_string());
                        }
                        UploadState::Refused | UploadState::Blocked => {
                            let e = st.error.unwrap_or(attache_protocol::ApiError::new(
                                ErrorCode::UploadRefused,
                                "the file was refused",
                            ));
                            return Err(ClientError::Refused { code: e.error, message: e.message });
                        }
                        // Still finishing, or finishing failed on the service's side: the
                        // loop sends an empty PATCH at the end, which waits for or retries it.
                        UploadState::Receiving | UploadState::Checking => {}
                    }
                }
            }
        }
    }
    let st = status(s, &upload_path).await?;
    if let Some(sp) = &state_path {
        let _ = tokio::fs::remove_file(sp).await;
    }
    match (st.state, st.message) {
        (UploadState::Ready, Some(m)) => Ok(UploadOutcome::Sent(Box::new(m))),
        _ => Err(ClientError::Protocol(format!("upload finished in state {:?}", st.state))),
    }
}

async fn cancelled(
    s: &Session,
    upload_path: &str,
    state: Option<&Path>,
    sent: u64,
    opts: &UploadOptions,
) -> Result<UploadOutcome> {
    if opts.terminate_on_cancel {
        tus::terminate(s, upload_path).await?;
        if let Some(sp) = state {
            let _ = tokio::fs::remove_file(sp).await;
        }
        return Ok(UploadOutcome::Cancelled { sent, resumable: false });
    }
    Ok(UploadOutcome::Cancelled { sent, resumable: state.is_some() })
}
