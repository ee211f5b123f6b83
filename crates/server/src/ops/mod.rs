//! Operating a deployment from the outside, with the service stopped or running: carry it to
//! another database and store ([`migrate`]), compare two ([`migrate::check`]), back it up and
//! restore it ([`backup`]). Each side is an [`Endpoint`]: a data folder, or a database URL and a
//! store URL, and where its secret is.
//!
//! The tables carried are listed once, in [`tables::TABLES`].

pub mod backup;
pub mod blobs;
pub mod doctor;
pub mod migrate;
pub mod rows;
pub mod secret;
pub mod tables;

use crate::db::{self, Backend};
use crate::storage::{LocalStore, S3Store, Store};
use anyhow::Context;
use std::path::PathBuf;
use std::sync::Arc;

/// One deployment, as the service's flags name it.
#[derive(Debug, Clone, Default)]
pub struct Endpoint {
    /// The data folder (`--data-dir`): the SQLite file, the files and `secret.key` of the
    /// embedded default.
    pub data_dir: Option<PathBuf>,
    /// `sqlite:…` or `postgres://…` (default: SQLite in the data folder).
    pub database_url: Option<String>,
    /// `s3://bucket/prefix` (default: the data folder's `files/`).
    pub store_url: Option<String>,
    /// The file holding the secret (default: the data folder's `secret.key`).
    pub secret_file: Option<PathBuf>,
}

/// An endpoint opened: database, store, and where its secret lives.
pub struct Opened {
    /// The database.
    pub side: rows::Side,
    /// The store.
    pub store: Arc<dyn Store>,
    /// Where the secret is read or written.
    pub secret_path: Option<PathBuf>,
    /// A description for messages (`SQLite ./data + folder`).
    pub label: String,
}

impl Endpoint {
    /// The database URL this endpoint names.
    pub fn database_url(&self) -> anyhow::Result<String> {
        match (&self.database_url, &self.data_dir) {
            (Some(u), _) => Ok(u.clone()),
            (None, Some(d)) => Ok(format!("sqlite://{}?mode=rwc", d.join("attache.db").display())),
            (None, None) => anyhow::bail!("give a data folder or a database URL"),
        }
    }

    /// Whether this is the embedded default (SQLite and a local folder), which keeps its secret
    /// in the data folder.
    pub fn embedded(&self) -> bool {
        self.store_url.is_none()
            && self.database_url.as_deref().map(|u| Backend::of(u).ok() == Some(Backend::Sqlite)).unwrap_or(true)
    }

    /// Connects (the schema is brought up to date, as the service does on start) and opens the
    /// store.
    pub async fn open(&self) -> anyhow::Result<Opened> {
        let url = self.database_url()?;
        let backend = Backend::of(&url)?;
        if let (Backend::Sqlite, Some(d)) = (backend, &self.data_dir) {
            tokio::fs::create_dir_all(d).await.with_context(|| format!("creating {}", d.display()))?;
        }
        let db = db::connect(&url).await?;
        let store: Arc<dyn Store> = match (&self.store_url, &self.data_dir) {
            (Some(u), _) => Arc::new(S3Store::from_url(u)?),
            (None, Some(d)) => Arc::new(LocalStore::new(d.join("files")).await?),
            (None, None) => anyhow::bail!("give a data folder or a store URL (s3://bucket/prefix)"),
        };
        let secret_path = match (&self.secret_file, &self.data_dir) {
            (Some(f), _) => Some(f.clone()),
            (None, Some(d)) if self.embedded() => Some(d.join("secret.key")),
            _ => None,
        };
        let db_label = match backend {
            Backend::Sqlite => format!("SQLite {}", url.trim_start_matches("sqlite://").trim_end_matches("?mode=rwc")),
            Backend::Postgres => "PostgreSQL".to_owned(),
        };
        let store_label = match &self.store_url {
            Some(u) => u.clone(),
            None => format!(
                "folder {}",
                self.data_dir.as_ref().map(|d| d.join("files").display().to_string()).unwrap_or_default()
            ),
        };
        Ok(Opened {
            side: rows::Side { db, backend },
            store,
            secret_path,
            label: format!("{db_label} + {store_label}"),
        })
    }
}

/// What a long operation reports as it goes.
#[derive(Debug, Clone)]
pub struct Progress {
    /// What is being carried (`files`, a table's name).
    pub stage: String,
    /// Items done.
    pub done: u64,
    /// Items in all.
    pub total: u64,
    /// Bytes carried so far (files).
    pub bytes: u64,
}

/// A callback for [`Progress`].
pub type OnProgress = Arc<dyn Fn(&Progress) + Send + Sync>;
