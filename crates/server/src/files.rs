//! The file side of the service, as one value in [`crate::AppState`]: the URL keys, the store,
//! the staging area, upload locks and the settings of uploads.

use crate::keys::Keys;
use crate::storage::{LocalStore, S3Store, Store};
use crate::upload::{Locks, Staging};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// How uploads behave.
#[derive(Debug, Clone)]
pub struct FilesConfig {
    /// An unfinished upload (and its staging file) is deleted this long after its creation.
    pub upload_expiry: Duration,
    /// Optional malware scanner: a program and its arguments; the file's path is appended.
    /// Exit 0 means clean, 1 means infected (clamscan's convention), anything else is a
    /// failure of the scanner. Off by default.
    pub scanner: Option<Vec<String>>,
    /// The store's folder; by default `<data_dir>/files`.
    pub store_dir: Option<PathBuf>,
    /// An S3-compatible store instead of the folder: `s3://bucket[/prefix]` (`STORE_URL`).
    pub store_url: Option<String>,
    /// Images decoded at once (each may take up to 256 MiB while decoding).
    pub decode_concurrency: usize,
}

impl Default for FilesConfig {
    fn default() -> Self {
        FilesConfig {
            upload_expiry: Duration::from_secs(24 * 3600),
            scanner: None,
            store_dir: None,
            store_url: None,
            decode_concurrency: 2,
        }
    }
}

/// What uploads and downloads need.
#[derive(Debug)]
pub struct Files {
    /// Token and `vvca` keys.
    pub keys: Keys,
    /// Where checked files and previews live.
    pub store: Arc<dyn Store>,
    /// Where chunks land until an upload is finished.
    pub staging: Staging,
    /// One writer per upload.
    pub locks: Locks,
    /// Settings.
    pub config: FilesConfig,
    /// Bounds concurrent image decoding.
    pub decode: Semaphore,
}

impl Files {
    /// Opens the key, the store (a folder under `data_dir` unless `store_url` names an S3
    /// bucket) and the staging folder under `data_dir`.
    pub async fn open(data_dir: &std::path::Path, config: FilesConfig) -> anyhow::Result<Files> {
        let keys = Keys::load_or_create(data_dir).await?;
        let store: Arc<dyn Store> = match &config.store_url {
            Some(url) => Arc::new(S3Store::from_url(url)?),
            None => {
                let store_dir = config.store_dir.clone().unwrap_or_else(|| data_dir.join("files"));
                Arc::new(LocalStore::new(store_dir).await?)
            }
        };
        let staging = Staging::new(data_dir.join("staging")).await?;
        let decode = Semaphore::new(config.decode_concurrency.max(1));
        Ok(Files { keys, store, staging, locks: Locks::default(), config, decode })
    }
}
