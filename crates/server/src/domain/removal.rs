//! Taking an attachment's bytes away (a redaction, file-only retention), exactly once: the
//! tombstone and the deletions it owes the store are one transaction; the bytes and preview go
//! at once when the store answers, and [`sweep_owed`] (at start and with the retention job)
//! retries whatever the store did not confirm, until it does. Who may remove what, and the
//! events, are [`super::review`]'s.

use crate::db::now_us;
use crate::error::AppResult;
use crate::repo;
use crate::repo::attachment::{AttachmentRow, Removal};
use crate::storage::StoreKey;
use crate::AppState;

/// How long a worker holds a deletion it claimed before another may take it over (a worker
/// that died mid-way; one that stops gives its claims back first).
const CLAIM_US: i64 = 2 * 60 * 1_000_000;
/// Deletions tried per batch of a sweep.
const BATCH: i64 = 200;

/// Marks `row` removed and deletes its bytes and preview. `None` when it was removed already;
/// else whether the store confirmed every deletion (when not, they are owed, and swept).
pub async fn remove(state: &AppState, row: &AttachmentRow, removal: &Removal<'_>) -> AppResult<Option<bool>> {
    if !repo::attachment::mark_removed(&state.db, row, removal, now_us().saturating_add(CLAIM_US)).await? {
        return Ok(None);
    }
    let mut all = true;
    for key in std::iter::once(&row.file_key).chain(row.preview_key.as_ref()) {
        if let Err(e) = delete_owed(state, key).await {
            tracing::warn!(error = %e, attachment = %row.id, "the store did not delete a removed file; the sweep retries");
            all = false;
        }
    }
    Ok(Some(all))
}

/// Deletes one owed key this worker holds: confirmed, it is owed no more; failed, it goes back
/// to the sweep with the error noted.
async fn delete_owed(state: &AppState, key: &str) -> anyhow::Result<()> {
    // Only keys the service made are ever touched; anything else has nothing of ours to delete.
    let result = match StoreKey::parse(key) {
        Some(k) => state.files.store.delete(&k).await,
        None => Ok(()),
    };
    match result {
        Ok(()) => Ok(repo::owed_delete::confirmed(&state.db, key).await?),
        Err(e) => {
            repo::owed_delete::failed(&state.db, key, &e.to_string()).await?;
            Err(e.into())
        }
    }
}

/// Retries the deletions owed that nobody holds: each claimed first (one instance deletes it),
/// then deleted. A batch with a failure ends the sweep (the store is still down: the next sweep
/// tries every key again). Returns how many the store confirmed.
pub async fn sweep_owed(state: &AppState) -> anyhow::Result<usize> {
    let mut total = 0;
    loop {
        let now = now_us();
        let batch = repo::owed_delete::due(&state.db, now, BATCH).await?;
        if batch.is_empty() {
            return Ok(total);
        }
        let mut failed = 0;
        for key in &batch {
            if !repo::owed_delete::claim(&state.db, key, now, now.saturating_add(CLAIM_US)).await? {
                continue;
            }
            match delete_owed(state, key).await {
                Ok(()) => {
                    tracing::info!(key = %key, "owed deletion done");
                    total += 1;
                }
                Err(e) => {
                    tracing::warn!(error = %e, key = %key, "an owed deletion failed again; retried at the next sweep");
                    failed += 1;
                }
            }
        }
        if failed > 0 {
            return Ok(total);
        }
    }
}
