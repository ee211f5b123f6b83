//! `attache backup` and `attache restore` for the embedded default (SQLite, a local folder or a
//! bucket), while the service runs: the database is copied with SQLite's `VACUUM INTO` (one
//! consistent snapshot, taken inside a read transaction, writers keep writing), then the files
//! that snapshot names, verified by SHA-256, then the secret. The backup is a data folder of its
//! own (`attache.db`, `files/`, `secret.key`): `attache serve --data-dir <backup>` would run on it;
//! restoring is a migration from it ([`super::migrate::run`]), so it restores into a new folder or
//! into PostgreSQL + S3 alike.
//!
//! PostgreSQL + S3 deployments are backed up with their own tools (`pg_dump`, bucket
//! versioning): see the README.

use super::migrate::{self, Report};
use super::rows::Side;
use super::tables::TABLES;
use super::{secret, Endpoint, OnProgress, Opened};
use crate::db::{self, Backend};
use crate::storage::LocalStore;
use anyhow::Context;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

/// Backs `from` up into the folder `out` (new, or empty).
pub async fn backup(from: &Endpoint, out: &Path, progress: Option<OnProgress>) -> anyhow::Result<Report> {
    let started = Instant::now();
    let url = from.database_url()?;
    anyhow::ensure!(
        Backend::of(&url)? == Backend::Sqlite,
        "attache backup is for SQLite; back PostgreSQL up with pg_dump and the bucket with its versioning (README, \"Growing up\")"
    );
    if let Ok(mut entries) = tokio::fs::read_dir(out).await {
        anyhow::ensure!(
            entries.next_entry().await?.is_none(),
            "{} is not empty: back up into a new folder",
            out.display()
        );
    }
    tokio::fs::create_dir_all(out).await.with_context(|| format!("creating {}", out.display()))?;
    let src = from.open().await.context("opening the deployment")?;
    let text =
        secret::read(src.secret_path.as_ref().context("give --from-secret-file: the secret is not in a data folder")?)
            .await?
            .0;
    // One consistent snapshot of every table, taken while the service may be writing.
    let snapshot = out.join("attache.db");
    let path = snapshot.to_str().context("the backup folder's path is not UTF-8")?.replace('\'', "''");
    sqlx::query(&format!("VACUUM INTO '{path}'"))
        .execute(&src.side.db)
        .await
        .context("copying the database (VACUUM INTO)")?;
    src.side.db.close().await;
    let snap = Side { db: db::connect(&format!("sqlite://{}", snapshot.display())).await?, backend: Backend::Sqlite };
    // The files the snapshot names. One the service deleted since (retention) is reported.
    let from_snapshot =
        Opened { side: snap.clone(), store: src.store.clone(), secret_path: None, label: String::new() };
    let to = Opened {
        side: snap.clone(),
        store: Arc::new(LocalStore::new(out.join("files")).await?),
        secret_path: None,
        label: String::new(),
    };
    let options = migrate::Options { without_sessions: false, progress };
    let mut report = Report::default();
    migrate::carry_files(&from_snapshot, &to, &options, &mut report).await?;
    for t in TABLES {
        let rows = snap.count(t).await? as u64;
        report.tables.push(migrate::TableReport { name: t.name, rows, copied: rows, already: 0 });
    }
    let key = out.join("secret.key");
    report.secret_written = secret::write(&key, &text).await?;
    report.secret_at = key.display().to_string();
    snap.db.close().await;
    report.elapsed = started.elapsed();
    Ok(report)
}

/// Restores a backup folder into `to` (a new data folder, or PostgreSQL + S3): a migration from
/// the backup, verified the same way, resumable the same way.
pub async fn restore(backup: &Path, to: &Endpoint, progress: Option<OnProgress>) -> anyhow::Result<Report> {
    anyhow::ensure!(
        tokio::fs::try_exists(backup.join("attache.db")).await.unwrap_or(false),
        "{} holds no attache.db: is it a folder made by attache backup?",
        backup.display()
    );
    let from = Endpoint { data_dir: Some(backup.to_path_buf()), ..Default::default() };
    migrate::run(&from, to, &migrate::Options { without_sessions: false, progress }).await
}
