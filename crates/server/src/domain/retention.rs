//! Retention: what goes when a contact's report expires (its files, then its records), and the
//! leftovers of uploads (expired ones, staging files nobody records).

use crate::db::{is_id, now_us};
use crate::repo;
use crate::storage::StoreKey;
use crate::AppState;
use attache_protocol::{ContactId, UploadId};

/// Deletes every contact whose report expired, with its transcript and files (blobs first, then
/// records, so a failure leaves nothing unreferenced). Returns how many went.
pub async fn sweep_expired(state: &AppState) -> anyhow::Result<usize> {
    let db = &state.db;
    let mut total = 0;
    loop {
        let batch = repo::contact::expired(db, now_us(), 200).await?;
        if batch.is_empty() {
            return Ok(total);
        }
        for id in &batch {
            delete_files_of(state, id).await?;
            repo::contact::delete(db, id).await?;
            tracing::info!(contact = %id, "report expired: contact deleted");
        }
        total += batch.len();
    }
}

/// Deletes the blobs and staged bytes of a contact whose report expired (its records go with
/// the contact, after this).
pub async fn delete_files_of(state: &AppState, contact: &ContactId) -> anyhow::Result<usize> {
    let mut n = 0;
    for a in repo::attachment::of_contact(&state.db, contact).await? {
        for key in std::iter::once(&a.file_key).chain(a.preview_key.as_ref()) {
            if let Some(k) = StoreKey::parse(key) {
                state.files.store.delete(&k).await?;
                n += 1;
            }
        }
    }
    for u in repo::upload::of_contact(&state.db, contact).await? {
        state.files.staging.discard(&u.id, &u.staged).await?;
        // An original a crash left behind after its cleaned copy was published.
        state.files.store.delete(&StoreKey::for_upload(&u.id)).await?;
    }
    Ok(n)
}

/// Forgets expired uploads: their staged bytes (and a completed but unpublished object), then
/// their records.
pub async fn sweep_expired_uploads(state: &AppState) -> anyhow::Result<usize> {
    let mut total = 0;
    loop {
        let batch = repo::upload::expired(&state.db, now_us(), 200).await?;
        if batch.is_empty() {
            return Ok(total);
        }
        for u in &batch {
            state.files.staging.discard(&u.id, &u.staged).await?;
            if u.state != attache_protocol::UploadState::Ready {
                state.files.store.delete(&StoreKey::for_upload(&u.id)).await?;
                state.files.store.delete(&StoreKey::clean_for_upload(&u.id)).await?;
            }
            repo::upload::delete(&state.db, &u.id).await?;
            tracing::info!(upload = %u.id, "upload expired");
        }
        total += batch.len();
    }
}

/// Local staging files with no upload record (a crash between creating one and recording it).
pub async fn sweep_orphan_staging(state: &AppState) -> anyhow::Result<usize> {
    let Some(local) = &state.files.local_staging else {
        return Ok(0);
    };
    let mut n = 0;
    let mut dir = tokio::fs::read_dir(local.root()).await?;
    while let Some(entry) = dir.next_entry().await? {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !is_id(&name) {
            continue;
        }
        let metadata = match entry.metadata().await {
            Ok(m) => m,
            // Finished (moved into the store) or discarded since the folder was listed.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e.into()),
        };
        let old = metadata.modified().ok().and_then(|m| m.elapsed().ok()).is_some_and(|e| e.as_secs() > 3600);
        let id = UploadId(name);
        if old && repo::upload::get(&state.db, &id).await?.is_none() {
            state.files.staging.discard(&id, "").await?;
            n += 1;
        }
    }
    Ok(n)
}
