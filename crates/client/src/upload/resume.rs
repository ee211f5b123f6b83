//! What is kept on disk to resume an upload: where it is at the service, and which file (by path,
//! size and modification time) it is of. No HTTP here.

use super::local;
use crate::{ClientError, ContactId, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// What is persisted to resume an upload: where it is, and which file it is of.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct ResumeState {
    pub upload_path: String,
    pub contact: String,
    pub file: PathBuf,
    pub size: u64,
    pub modified_ns: u128,
}

/// The file's modification time, to tell an edited file from the one being sent.
pub(super) fn modified_ns(meta: &std::fs::Metadata) -> u128 {
    meta.modified().ok().and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok()).map_or(0, |d| d.as_nanos())
}

/// The state file's name: the same contact, file, size and modification time give the same.
pub(super) fn fingerprint(contact: &ContactId, file: &Path, size: u64, modified: u128) -> String {
    let mut h = Sha256::new();
    h.update(contact.as_str());
    h.update([0]);
    h.update(file.to_string_lossy().as_bytes());
    h.update([0]);
    h.update(size.to_le_bytes());
    h.update(modified.to_le_bytes());
    hex::encode(&h.finalize()[..16])
}

/// Writes the state atomically (a temporary file, then a rename).
pub(super) async fn save_state(path: &Path, st: &ResumeState) -> Result<()> {
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir).await.map_err(|e| local("state folder", dir, e))?;
    }
    let tmp = path.with_extension("tmp");
    let text = serde_json::to_vec_pretty(st).map_err(|e| ClientError::Protocol(e.to_string()))?;
    tokio::fs::write(&tmp, text).await.map_err(|e| local("state", &tmp, e))?;
    tokio::fs::rename(&tmp, path).await.map_err(|e| local("state", path, e))
}

/// The state at `path`, if there is a readable one.
pub(super) async fn load_state(path: &Path) -> Option<ResumeState> {
    let bytes = tokio::fs::read(path).await.ok()?;
    serde_json::from_slice(&bytes).ok()
}
