//! Deletions a removal owes the store: one row per store key, written in the transaction that
//! marks the attachment removed ([`super::attachment::mark_removed`]), gone once the store
//! confirmed the object deleted. A worker claims a row before it deletes (a conditional update,
//! so one instance at a time does it); a claim that outlives its worker (a crash) runs out.

use crate::db::Db;
use attache_protocol::AttachmentId;
use sqlx::Row;

/// Records that `key` must leave the store, claimed until `claimed_until` by whoever records it
/// (it deletes at once). A key owed already stays as it is.
pub(super) async fn insert(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    key: &str,
    attachment: &AttachmentId,
    now: i64,
    claimed_until: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO owed_deletes (store_key, attachment_id, created_at, claimed_until) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING",
    )
    .bind(key)
    .bind(attachment.as_str())
    .bind(now)
    .bind(claimed_until)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Keys owed and not claimed at `now`, oldest first, a batch.
pub async fn due(db: &Db, now: i64, limit: i64) -> Result<Vec<String>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT store_key FROM owed_deletes WHERE claimed_until <= $1 ORDER BY created_at, store_key LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(db)
    .await?;
    rows.iter().map(|r| r.try_get("store_key")).collect()
}

/// Claims `key` until `until` if nobody holds it at `now`: whether this caller got it.
pub async fn claim(db: &Db, key: &str, now: i64, until: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE owed_deletes SET claimed_until = $1 WHERE store_key = $2 AND claimed_until <= $3")
        .bind(until)
        .bind(key)
        .bind(now)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The store confirmed `key` deleted: nothing is owed any more.
pub async fn confirmed(db: &Db, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM owed_deletes WHERE store_key = $1").bind(key).execute(db).await?;
    Ok(())
}

/// The store failed to delete `key`: counted, and the claim given back for the next sweep.
pub async fn failed(db: &Db, key: &str, error: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE owed_deletes SET claimed_until = 0, attempts = attempts + 1, last_error = $1 WHERE store_key = $2",
    )
    .bind(error.chars().take(500).collect::<String>())
    .bind(key)
    .execute(db)
    .await?;
    Ok(())
}

/// How many deletions are owed.
pub async fn count(db: &Db) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT COUNT(*) FROM owed_deletes").fetch_one(db).await?.try_get(0)
}
