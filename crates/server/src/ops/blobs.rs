//! The bytes of a deployment: every attachment's file and preview, and the files an admin may
//! still release, carried from one store to another as streams and verified by SHA-256.

use super::rows::Side;
use crate::storage::{Store, StoreError, StoreKey};
use anyhow::Context;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use sqlx::Row as _;
use std::sync::{Arc, Mutex};

/// One object to carry.
#[derive(Debug, Clone)]
pub struct Blob {
    /// Its key in both stores.
    pub key: StoreKey,
    /// The SHA-256 the database records for it (files; previews have none).
    pub sha256: Option<String>,
    /// What it is, for the report (`attachment <id> file`).
    pub what: String,
}

/// What became of one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Copied; this many bytes.
    Copied(u64),
    /// The target had it already, with the same SHA-256.
    Verified(u64),
    /// Not carried; why.
    Skipped(String),
}

/// Objects listed per page.
const PAGE: i64 = 500;

/// The objects the source's database names, a page at a time after `after`, and where the next
/// page starts (`None` after the last): attachments by id, then the blocked uploads' files
/// (their positions start with `~`).
pub async fn page(side: &Side, after: &str) -> anyhow::Result<(Vec<Blob>, Option<String>)> {
    let mut out = Vec::new();
    if !after.starts_with('~') {
        let rows = sqlx::query(&format!(
            "SELECT id, file_key, preview_key, sha256, removed FROM attachments WHERE id > $1 ORDER BY id LIMIT {PAGE}"
        ))
        .bind(after)
        .fetch_all(&side.db)
        .await
        .context("listing attachments")?;
        let last = rows.last().map(|r| r.try_get::<String, _>(0)).transpose()?;
        for r in &rows {
            let id: String = r.try_get(0)?;
            let file: String = r.try_get(1)?;
            let preview: Option<String> = r.try_get(2)?;
            let sha: String = r.try_get(3)?;
            // A redacted or expired file is a tombstone: its bytes left the store on purpose.
            if r.try_get::<Option<String>, _>(4)?.is_some() {
                continue;
            }
            out.push(blob(&file, Some(sha), format!("attachment {id} file"))?);
            if let Some(p) = preview {
                out.push(blob(&p, None, format!("attachment {id} preview"))?);
            }
        }
        return Ok(match last {
            Some(l) => (out, Some(l)),
            None => (out, Some("~".to_owned())),
        });
    }
    let rows =
        sqlx::query(&format!("SELECT id FROM uploads WHERE state = 'blocked' AND id > $1 ORDER BY id LIMIT {PAGE}"))
            .bind(&after[1..])
            .fetch_all(&side.db)
            .await
            .context("listing blocked uploads")?;
    let last = rows.last().map(|r| r.try_get::<String, _>(0)).transpose()?;
    for r in &rows {
        let id = attache_protocol::UploadId(r.try_get(0)?);
        out.push(Blob { key: StoreKey::for_upload(&id), sha256: None, what: format!("blocked upload {id} file") });
    }
    Ok((out, last.map(|l| format!("~{l}"))))
}

/// How many objects the source names (for progress).
pub async fn count(side: &Side) -> anyhow::Result<i64> {
    let q = "SELECT (SELECT COUNT(*) FROM attachments WHERE removed IS NULL) \
             + (SELECT COUNT(*) FROM attachments WHERE preview_key IS NOT NULL AND removed IS NULL) \
             + (SELECT COUNT(*) FROM uploads WHERE state = 'blocked')";
    Ok(sqlx::query(q).fetch_one(&side.db).await?.try_get::<i64, _>(0)?)
}

fn blob(key: &str, sha256: Option<String>, what: String) -> anyhow::Result<Blob> {
    let key =
        StoreKey::parse(key).with_context(|| format!("{what}: the stored key {key:?} is not one the service makes"))?;
    Ok(Blob { key, sha256, what })
}

/// The SHA-256 of an object and its size, read as a stream.
pub async fn digest(store: &dyn Store, key: &StoreKey) -> Result<(String, u64), StoreError> {
    let mut s = store.get(key, None).await?;
    let mut h = Sha256::new();
    let mut n = 0u64;
    while let Some(chunk) = s.next().await {
        let chunk = chunk?;
        n += chunk.len() as u64;
        h.update(&chunk);
    }
    Ok((hex::encode(h.finalize()), n))
}

/// Carries one object: skipped when the target holds the same bytes (by SHA-256), copied as a
/// stream otherwise (a wrong or partial object in the target is replaced).
pub async fn carry(from: &dyn Store, to: &dyn Store, blob: &Blob) -> anyhow::Result<Outcome> {
    let size = match from.head(&blob.key).await {
        Ok(n) => n,
        Err(e) if e.is_not_found() => {
            return Ok(Outcome::Skipped(format!("{}: missing in the source store", blob.what)))
        }
        Err(e) => return Err(e).with_context(|| format!("{}: reading the source", blob.what)),
    };
    let want = match &blob.sha256 {
        Some(s) => s.clone(),
        None => digest(from, &blob.key).await.with_context(|| format!("{}: reading the source", blob.what))?.0,
    };
    match to.head(&blob.key).await {
        Ok(n) if n == size => {
            let (got, _) = digest(to, &blob.key).await.with_context(|| format!("{}: reading the target", blob.what))?;
            if got == want {
                return Ok(Outcome::Verified(n));
            }
            to.delete(&blob.key).await?;
        }
        Ok(_) => to.delete(&blob.key).await?,
        Err(e) if e.is_not_found() => {}
        Err(e) => return Err(e).with_context(|| format!("{}: reading the target", blob.what)),
    }
    let hasher = Arc::new(Mutex::new(Sha256::new()));
    let h = hasher.clone();
    let stream = from.get(&blob.key, None).await.with_context(|| format!("{}: reading the source", blob.what))?;
    let stream = stream.inspect(move |c| {
        if let (Ok(bytes), Ok(mut h)) = (c, h.lock()) {
            h.update(bytes);
        }
    });
    let n = to.put(&blob.key, Box::pin(stream)).await.with_context(|| format!("{}: writing the target", blob.what))?;
    let got = hex::encode(hasher.lock().map_err(|_| anyhow::anyhow!("hasher poisoned"))?.clone().finalize());
    if got != want {
        return Ok(Outcome::Skipped(format!(
            "{}: copied, but its bytes do not match the recorded SHA-256 (the source is damaged)",
            blob.what
        )));
    }
    Ok(Outcome::Copied(n))
}

/// Compares one object in both stores without writing: `None` when they hold the same bytes.
pub async fn compare(from: &dyn Store, to: &dyn Store, blob: &Blob) -> anyhow::Result<Option<String>> {
    let src = match digest(from, &blob.key).await {
        Ok(d) => d,
        Err(e) if e.is_not_found() => return Ok(Some(format!("{}: missing in the source store", blob.what))),
        Err(e) => return Err(e.into()),
    };
    Ok(match digest(to, &blob.key).await {
        Ok(d) if d == src => None,
        Ok(_) => Some(format!("{}: different bytes in the target", blob.what)),
        Err(e) if e.is_not_found() => Some(format!("{}: missing in the target store", blob.what)),
        Err(e) => return Err(e.into()),
    })
}
