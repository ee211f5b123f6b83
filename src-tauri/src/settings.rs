//! The console's own settings, kept across restarts in `settings.json` under the app's config
//! folder: for now the size limit of the local file cache (the SDK's content-addressed
//! [`attache_client::FileCache`]). Beyond the limit the least recently opened files leave first;
//! a file being downloaded (a `.part`) or shown in the gallery (pinned) never does. The commands
//! here show the space used, set the limit and clear the cache; they do not fetch anything.

use crate::files::Files;
use crate::ConsoleError;
use attache_client::ErrorCode;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Mutex;
use tauri::{AppHandle, Manager, State};
use ts_rs::TS;

type Result<T> = std::result::Result<T, ConsoleError>;

/// The cache's limit until the agent sets one: 1 GiB.
pub const DEFAULT_CACHE_LIMIT: u64 = 1 << 30;
/// The smallest limit the agent may set: 1 MiB.
pub const MIN_CACHE_LIMIT: u64 = 1 << 20;
/// The largest limit the agent may set: 1 TiB.
pub const MAX_CACHE_LIMIT: u64 = 1 << 40;

/// What is kept on disk.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
struct Stored {
    /// The cache's size limit in bytes (`None`: the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cache_limit_bytes: Option<u64>,
}

/// The settings file and what it holds.
pub struct Settings {
    path: PathBuf,
    stored: Mutex<Stored>,
}

impl Settings {
    /// The settings under the app's config folder (defaults when the file is missing or damaged).
    pub fn open(app: &AppHandle) -> Settings {
        let dir = app.path().app_config_dir().unwrap_or_else(|_| std::env::temp_dir().join("attache-console"));
        Settings::at(dir.join("settings.json"))
    }

    fn at(path: PathBuf) -> Settings {
        let stored = std::fs::read(&path).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default();
        Settings { path, stored: Mutex::new(stored) }
    }

    /// The cache's size limit in bytes.
    pub fn cache_limit(&self) -> u64 {
        let stored = self.stored.lock().unwrap_or_else(|e| e.into_inner());
        stored.cache_limit_bytes.unwrap_or(DEFAULT_CACHE_LIMIT).clamp(MIN_CACHE_LIMIT, MAX_CACHE_LIMIT)
    }

    /// Sets the cache's limit and writes the file (atomically: a new file renamed over the old).
    fn set_cache_limit(&self, bytes: u64) -> Result<()> {
        if !(MIN_CACHE_LIMIT..=MAX_CACHE_LIMIT).contains(&bytes) {
            return Err(ConsoleError::new(
                ErrorCode::InvalidSetting,
                format!(
                    "The cache's size must be between {} MB and {} MB.",
                    MIN_CACHE_LIMIT >> 20,
                    MAX_CACHE_LIMIT >> 20
                ),
            ));
        }
        let mut stored = self.stored.lock().unwrap_or_else(|e| e.into_inner());
        let next = Stored { cache_limit_bytes: Some(bytes) };
        let json =
            serde_json::to_vec_pretty(&next).map_err(|e| ConsoleError::new(ErrorCode::Internal, e.to_string()))?;
        let tmp = self.path.with_extension("json.tmp");
        let written = self
            .path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&tmp, json))
            .and_then(|()| std::fs::rename(&tmp, &self.path));
        written.map_err(|e| crate::files::local("Cannot save the settings in", &self.path, e))?;
        *stored = next;
        Ok(())
    }
}

/// The cache as the settings show it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct CacheInfo {
    /// Bytes held now (finished files).
    #[ts(type = "number")]
    pub used_bytes: u64,
    /// Files held now.
    #[ts(type = "number")]
    pub files: u64,
    /// The limit in bytes.
    #[ts(type = "number")]
    pub limit_bytes: u64,
    /// The smallest limit that may be set.
    #[ts(type = "number")]
    pub min_bytes: u64,
    /// The largest limit that may be set.
    #[ts(type = "number")]
    pub max_bytes: u64,
    /// Files that went with the last change (eviction or clear).
    #[ts(type = "number")]
    pub removed: u64,
}

fn info(files: &Files, removed: usize) -> CacheInfo {
    let usage = files.cache.usage();
    CacheInfo {
        used_bytes: usage.bytes,
        files: usage.files,
        limit_bytes: files.cache.cap(),
        min_bytes: MIN_CACHE_LIMIT,
        max_bytes: MAX_CACHE_LIMIT,
        removed: removed as u64,
    }
}

async fn off_ui<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    tauri::async_runtime::spawn_blocking(f).await.map_err(|e| ConsoleError::new(ErrorCode::Internal, e.to_string()))
}

/// The space the local cache uses and its limit.
#[tauri::command]
#[tracing::instrument(skip(files))]
pub async fn cache_info(files: State<'_, Files>) -> Result<CacheInfo> {
    let files = files.inner().clone();
    off_ui(move || info(&files, 0)).await
}

/// Sets the cache's size limit (kept across restarts) and applies it at once: the least recently
/// opened files leave until the cache fits. Errors: `invalid-setting` out of range.
#[tauri::command]
#[tracing::instrument(skip(files, settings))]
pub async fn set_cache_limit(
    files: State<'_, Files>,
    settings: State<'_, Settings>,
    limit_bytes: u64,
) -> Result<CacheInfo> {
    settings.set_cache_limit(limit_bytes)?;
    files.cache.set_cap(limit_bytes);
    let files = files.inner().clone();
    off_ui(move || {
        let gone = files.cache.evict(None);
        files.forget_opened(&gone);
        info(&files, gone.len())
    })
    .await
}

/// Removes every cached file (but the one the gallery shows) and the copies made for "Open".
#[tauri::command]
#[tracing::instrument(skip(files))]
pub async fn clear_cache(files: State<'_, Files>) -> Result<CacheInfo> {
    let files = files.inner().clone();
    off_ui(move || {
        let gone = files.cache.clear();
        files.forget_opened(&gone);
        info(&files, gone.len())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_is_kept_across_restarts_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config/settings.json");
        let s = Settings::at(path.clone());
        assert_eq!(s.cache_limit(), DEFAULT_CACHE_LIMIT, "1 GiB until the agent sets one");
        s.set_cache_limit(5 << 20).unwrap();
        assert_eq!(Settings::at(path.clone()).cache_limit(), 5 << 20, "read back after a restart");
        let refused = s.set_cache_limit(1000).unwrap_err();
        assert_eq!(refused.code, ErrorCode::InvalidSetting);
        assert!(refused.message.contains("between 1 MB and"), "{}", refused.message);
        assert_eq!(Settings::at(path.clone()).cache_limit(), 5 << 20, "a refused value changes nothing");
        std::fs::write(&path, b"{ not json").unwrap();
        assert_eq!(Settings::at(path).cache_limit(), DEFAULT_CACHE_LIMIT, "a damaged file reads as the defaults");
    }
}
