//! The file side of the service, as one value in [`crate::AppState`]: the URL keys, the store,
//! the staging area and the settings of uploads.

use crate::keys::{Keys, SecretConfig};
use crate::storage::{LocalStore, S3Store, Store};
use crate::upload::{LocalStaging, S3Staging, Staging};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// How uploads behave.
#[derive(Debug, Clone)]
pub struct FilesConfig {
    /// An unfinished upload (and its staging file) is deleted this long after its creation.
    pub upload_expiry: Duration,
    /// Optional malware scanner run on every complete file: clamd over its socket, or a
    /// command line (exit 0 clean, 1 infected: clamscan's convention). Off by default.
    pub scanner: Option<crate::scan::Scanner>,
    /// How long one scan may take; past it the file is blocked as "scanner unavailable".
    pub scan_timeout: Duration,
    /// The store's folder; by default `<data_dir>/files`.
    pub store_dir: Option<PathBuf>,
    /// An S3-compatible store instead of the folder: `s3://bucket[/prefix]` (`STORE_URL`).
    pub store_url: Option<String>,
    /// Images decoded at once (each may take up to 256 MiB while decoding).
    pub decode_concurrency: usize,
    /// Where the server secrets come from; without one, the embedded default keeps its own in
    /// the data folder, and PostgreSQL or S3 refuse to start.
    pub secrets: SecretConfig,
    /// How long an upload's lease lasts without renewal (a dead instance's lease expires after
    /// this); a live request renews it every third of it.
    pub lease: Duration,
    /// S3 PATCHes gathering a part at once (each holds up to 5 MiB plus a network chunk).
    pub s3_buffers: usize,
}

impl Default for FilesConfig {
    fn default() -> Self {
        FilesConfig {
            upload_expiry: Duration::from_secs(24 * 3600),
            scanner: None,
            scan_timeout: Duration::from_secs(60),
            store_dir: None,
            store_url: None,
            decode_concurrency: 2,
            secrets: SecretConfig::default(),
            lease: Duration::from_secs(15),
            s3_buffers: crate::upload::s3::DEFAULT_BUFFERS,
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
    pub staging: Arc<dyn Staging>,
    /// The local staging folder, when uploads are staged locally (for its sweep).
    pub local_staging: Option<LocalStaging>,
    /// The S3 store, when files live in a bucket (for its census).
    s3: Option<Arc<S3Store>>,
    /// Settings.
    pub config: FilesConfig,
    /// Bounds concurrent image decoding.
    pub decode: Semaphore,
    /// SHA-256 of the uploads this process is receiving, kept as their bytes stream in.
    pub digests: crate::upload::Digests,
}

impl Files {
    /// Opens the keys, the store (a folder under `data_dir` unless `store_url` names an S3
    /// bucket) and the staging area (local folder, or the bucket's multipart uploads). `shared`
    /// says that several instances may run (PostgreSQL): then the secret must be configured.
    pub async fn open(data_dir: &std::path::Path, config: FilesConfig, shared: bool) -> anyhow::Result<Files> {
        let embedded = !shared && config.store_url.is_none();
        let keys = Keys::load(&config.secrets, embedded.then_some(data_dir)).await?;
        let mut s3_store = None;
        let (store, staging, local_staging): (Arc<dyn Store>, Arc<dyn Staging>, _) = match &config.store_url {
            Some(url) => {
                let s3 = Arc::new(S3Store::from_url(url)?);
                s3_store = Some(s3.clone());
                let staging = S3Staging::new(s3.clone(), config.s3_buffers);
                (s3, Arc::new(staging), None)
            }
            None => {
                let store_dir = config.store_dir.clone().unwrap_or_else(|| data_dir.join("files"));
                let store: Arc<dyn Store> = Arc::new(LocalStore::new(store_dir).await?);
                let staging = LocalStaging::new(data_dir.join("staging"), store.clone()).await?;
                (store, Arc::new(staging.clone()), Some(staging))
            }
        };
        let decode = Semaphore::new(config.decode_concurrency.max(1));
        let digests = Default::default();
        Ok(Files { keys, store, staging, local_staging, s3: s3_store, config, decode, digests })
    }

    /// How many objects the store holds and how many staging objects or files wait (tests and
    /// diagnostics: after every upload finished or expired, staging is empty).
    pub async fn census(&self) -> anyhow::Result<(usize, usize)> {
        fn count(p: &std::path::Path) -> usize {
            let Ok(rd) = std::fs::read_dir(p) else { return 0 };
            rd.flatten().map(|e| if e.path().is_dir() { count(&e.path()) } else { 1 }).sum()
        }
        match (&self.local_staging, &self.s3) {
            (_, Some(s3)) => Ok(s3.census().await?),
            (Some(local), None) => {
                let files = self.config.store_dir.clone().unwrap_or_else(|| local.root().with_file_name("files"));
                Ok((count(&files), count(local.root())))
            }
            (None, None) => Ok((0, 0)),
        }
    }
}
