//! Visitors: account-scoped identities of customer browsers (and consumer apps).
//!
//! A visitor row holds a public id (what contacts, staff, events and logs name; it opens
//! nothing) and the SHA-256 of its credentials: the `vvcu` cookie value and, for consumer apps,
//! a separate API token. Credentials themselves are never stored. Every lookup is scoped to one
//! account, except the owner's own listing across accounts by the credential's hash.

use crate::db::{new_id, now_us, Db};
use attache_protocol::{AccountId, VisitorRef};
use sha2::{Digest, Sha256};
use sqlx::Row;

/// The stored form of a visitor credential (cookie value or consumer token).
pub fn credential_hash(credential: &str) -> String {
    hex::encode(Sha256::digest(credential.as_bytes()))
}

/// The visitor of `account` presenting this credential hash (cookie or token), if known.
pub async fn find(db: &Db, account: &AccountId, hash: &str) -> Result<Option<VisitorRef>, sqlx::Error> {
    let row = sqlx::query("SELECT id FROM visitors WHERE account_id = $1 AND (cookie_hash = $2 OR token_hash = $2)")
        .bind(account.as_str())
        .bind(hash)
        .fetch_optional(db)
        .await?;
    row.map(|r| r.try_get::<String, _>("id").map(VisitorRef)).transpose()
}

/// The visitor of `account` with this cookie hash, created on first sight; refreshes its last visit.
pub async fn ensure(db: &Db, account: &AccountId, hash: &str) -> Result<VisitorRef, sqlx::Error> {
    let now = now_us();
    if let Some(v) = find(db, account, hash).await? {
        sqlx::query("UPDATE visitors SET last_seen_at = $1 WHERE id = $2")
            .bind(now)
            .bind(v.as_str())
            .execute(db)
            .await?;
        return Ok(v);
    }
    let id = new_id();
    sqlx::query(
        "INSERT INTO visitors (id, account_id, cookie_hash, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $4)
         ON CONFLICT (account_id, cookie_hash) DO NOTHING",
    )
    .bind(&id)
    .bind(account.as_str())
    .bind(hash)
    .bind(now)
    .execute(db)
    .await?;
    // A concurrent first visit may have won the insert: read what is there.
    find(db, account, hash).await?.ok_or(sqlx::Error::RowNotFound)
}

/// A new visitor of `account` for a consumer app: known by a cookie and by a separate token.
pub async fn create_consumer(
    db: &Db,
    account: &AccountId,
    cookie_hash: &str,
    token_hash: &str,
) -> Result<VisitorRef, sqlx::Error> {
    let id = new_id();
    let now = now_us();
    sqlx::query(
        "INSERT INTO visitors (id, account_id, cookie_hash, token_hash, created_at, last_seen_at)
         VALUES ($1, $2, $3, $4, $5, $5)",
    )
    .bind(&id)
    .bind(account.as_str())
    .bind(cookie_hash)
    .bind(token_hash)
    .bind(now)
    .execute(db)
    .await?;
    Ok(VisitorRef(id))
}

/// The visitor with this consumer token, of any account (the token names its account).
pub async fn by_token(db: &Db, token_hash: &str) -> Result<Option<(AccountId, VisitorRef)>, sqlx::Error> {
    let row = sqlx::query("SELECT id, account_id FROM visitors WHERE token_hash = $1 AND account_id IS NOT NULL")
        .bind(token_hash)
        .fetch_optional(db)
        .await?;
    row.map(|r| Ok((AccountId(r.try_get("account_id")?), VisitorRef(r.try_get("id")?)))).transpose()
}

/// Whether `visitor` presents this credential hash.
pub async fn holds(db: &Db, visitor: &VisitorRef, hash: &str) -> Result<bool, sqlx::Error> {
    let row = sqlx::query("SELECT 1 AS one FROM visitors WHERE id = $1 AND (cookie_hash = $2 OR token_hash = $2)")
        .bind(visitor.as_str())
        .bind(hash)
        .fetch_optional(db)
        .await?;
    Ok(row.is_some())
}

/// Every visitor (in every account) that this credential hash opens: its owner's identities.
pub async fn all_of(db: &Db, hash: &str) -> Result<Vec<VisitorRef>, sqlx::Error> {
    let rows = sqlx::query("SELECT id FROM visitors WHERE cookie_hash = $1 OR token_hash = $1 LIMIT 1000")
        .bind(hash)
        .fetch_all(db)
        .await?;
    rows.iter().map(|r| r.try_get::<String, _>("id").map(VisitorRef)).collect()
}

/// Re-keys visitors from before account scoping, whose id was the cookie value itself: each
/// (visitor, account) pair gets a fresh public id and the cookie's hash, its contacts move to it,
/// and the old row goes. The same cookie keeps working; staff no longer see it. Idempotent.
pub async fn rekey_legacy(db: &Db) -> Result<usize, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT DISTINCT v.id AS old, c.account_id AS account FROM visitors v JOIN contacts c ON c.visitor_id = v.id
         WHERE v.cookie_hash IS NULL AND v.token_hash IS NULL",
    )
    .fetch_all(db)
    .await?;
    let mut moved = 0;
    for r in &rows {
        let old: String = r.try_get("old")?;
        let account = AccountId(r.try_get("account")?);
        let mut tx = db.begin().await?;
        let new = VisitorRef(new_id());
        let now = now_us();
        sqlx::query(
            "INSERT INTO visitors (id, account_id, cookie_hash, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $4)
             ON CONFLICT (account_id, cookie_hash) DO NOTHING",
        )
        .bind(new.as_str())
        .bind(account.as_str())
        .bind(credential_hash(&old))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let target: String = sqlx::query("SELECT id FROM visitors WHERE account_id = $1 AND cookie_hash = $2")
            .bind(account.as_str())
            .bind(credential_hash(&old))
            .fetch_one(&mut *tx)
            .await?
            .try_get("id")?;
        sqlx::query("UPDATE contacts SET visitor_id = $1 WHERE visitor_id = $2 AND account_id = $3")
            .bind(&target)
            .bind(&old)
            .bind(account.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        moved += 1;
    }
    sqlx::query(
        "DELETE FROM visitors WHERE cookie_hash IS NULL AND token_hash IS NULL
         AND NOT EXISTS (SELECT 1 FROM contacts c WHERE c.visitor_id = visitors.id)",
    )
    .execute(db)
    .await?;
    Ok(moved)
}
