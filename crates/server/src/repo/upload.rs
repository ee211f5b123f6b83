//! tus uploads: their announced length, how far they got, what became of them.

use crate::db::{now_us, sqlite_sql, ts, Db, Writer};
use attache_protocol::{AccountId, ContactId, ErrorCode, MessageId, Sender, Timestamp, UploadId, UploadState};
use rusqlite::OptionalExtension;
use sqlx::Row;

/// An upload as stored.
#[derive(Debug, Clone)]
pub struct UploadRow {
    /// Id (also its staging file's name).
    pub id: UploadId,
    /// Account.
    pub account_id: AccountId,
    /// Contact.
    pub contact_id: ContactId,
    /// Side of the sender.
    pub sender: Sender,
    /// Sender's shown name.
    pub sender_name: String,
    /// Who may continue it: `user:<id>` or `visitor:<id>`.
    pub uploader: String,
    /// File name.
    pub file_name: String,
    /// Declared media type.
    pub declared_type: String,
    /// Description.
    pub description: Option<String>,
    /// The `Upload-Metadata` header as received, echoed on HEAD.
    pub metadata: String,
    /// Announced length.
    pub length: u64,
    /// Bytes received.
    pub offset: u64,
    /// Where it stands.
    pub state: UploadState,
    /// The attachment message, once ready.
    pub message_id: Option<MessageId>,
    /// Refusal code.
    pub error_code: Option<ErrorCode>,
    /// Refusal words.
    pub error_message: Option<String>,
    /// Expiry.
    pub expires_at: Timestamp,
    /// Where the bytes so far are, in the staging area's own words (S3: multipart id, parts, tail).
    pub staged: String,
    /// Waits for its sender to publish it (not finished when complete).
    pub hold: bool,
    /// The admin who released it after the scanner gave no verdict: (user id, shown name).
    pub released_by: Option<(String, String)>,
    /// When (microseconds).
    pub released_at: Option<i64>,
}

const COLUMNS: &str =
    "id, account_id, contact_id, sender, sender_name, uploader, file_name, declared_type, description,
    metadata, length, upload_offset, state, message_id, error_code, error_message, expires_at, staged, hold,
    released_by, released_by_name, released_at";

fn from_row(row: &impl super::Columns) -> Result<UploadRow, sqlx::Error> {
    let state = row.text("state")?;
    let sender = row.text("sender")?;
    Ok(UploadRow {
        id: UploadId(row.text("id")?),
        account_id: AccountId(row.text("account_id")?),
        contact_id: ContactId(row.text("contact_id")?),
        sender: super::known("uploads.sender", &sender, Sender::parse(&sender))?,
        sender_name: row.text("sender_name")?,
        uploader: row.text("uploader")?,
        file_name: row.text("file_name")?,
        declared_type: row.text("declared_type")?,
        description: row.opt_text("description")?,
        metadata: row.text("metadata")?,
        length: super::size("uploads.length", row.int("length")?)?,
        offset: super::size("uploads.upload_offset", row.int("upload_offset")?)?,
        state: match state.as_str() {
            "ready" => UploadState::Ready,
            "refused" => UploadState::Refused,
            "receiving" => UploadState::Receiving,
            "blocked" => UploadState::Blocked,
            other => return Err(sqlx::Error::Decode(format!("upload state '{other}' is unknown").into())),
        },
        message_id: row.opt_text("message_id")?.map(MessageId),
        error_code: row.opt_text("error_code")?.map(|c| ErrorCode::parse(&c)),
        error_message: row.opt_text("error_message")?,
        expires_at: ts(row.int("expires_at")?),
        staged: row.text("staged")?,
        hold: row.int("hold")? != 0,
        released_by: match (row.opt_text("released_by")?, row.opt_text("released_by_name")?) {
            (Some(id), name) => Some((id, name.unwrap_or_default())),
            (None, _) => None,
        },
        released_at: row.opt_int("released_at")?,
    })
}

fn big(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Records a new upload at offset 0, unless its contact already has `most_open` uploads receiving
/// (then `false`). Racing creations cannot pass the bound together: SQLite counts and inserts in
/// one write statement (writers take turns); PostgreSQL first locks the contact's row, so the
/// count, a statement of its own after the lock, sees every creation committed before it. With
/// `lease` (owner, until), the upload starts leased to the request that goes on to write its
/// first bytes.
pub async fn create(
    w: &Writer,
    u: &UploadRow,
    most_open: i64,
    lease: Option<(&str, i64)>,
) -> Result<bool, sqlx::Error> {
    const INSERT: &str = "INSERT INTO uploads (id, account_id, contact_id, sender, sender_name, uploader, file_name,
         declared_type, description, metadata, length, upload_offset, state, created_at, expires_at, staged, hold,
         lease_owner, lease_until)
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0, 'receiving', $12, $13, $14, $15, $16, $17
         WHERE (SELECT COUNT(*) FROM uploads WHERE contact_id = $3 AND state = 'receiving') < $18";
    let (owner, until) = lease.map_or((None, 0), |(o, t)| (Some(o), t));
    if w.backend() == crate::db::Backend::Sqlite {
        let (u, owner, now) = (u.clone(), owner.map(str::to_owned), now_us());
        let created = w.sqlite(move |c| {
            let n = c.prepare_cached(&sqlite_sql(INSERT))?.execute(rusqlite::params![
                u.id.as_str(),
                u.account_id.as_str(),
                u.contact_id.as_str(),
                u.sender.as_str(),
                u.sender_name,
                u.uploader,
                u.file_name,
                u.declared_type,
                u.description,
                u.metadata,
                big(u.length),
                now,
                u.expires_at.timestamp_micros(),
                u.staged,
                i64::from(u.hold),
                owner,
                until,
                most_open,
            ])?;
            Ok(n == 1)
        });
        return Ok(created.await?);
    }
    let insert = sqlx::query(INSERT)
        .bind(u.id.as_str())
        .bind(u.account_id.as_str())
        .bind(u.contact_id.as_str())
        .bind(u.sender.as_str())
        .bind(&u.sender_name)
        .bind(&u.uploader)
        .bind(&u.file_name)
        .bind(&u.declared_type)
        .bind(u.description.clone())
        .bind(&u.metadata)
        .bind(big(u.length))
        .bind(now_us())
        .bind(u.expires_at.timestamp_micros())
        .bind(&u.staged)
        .bind(i64::from(u.hold))
        .bind(owner)
        .bind(until)
        .bind(most_open);
    let mut tx = w.pool_of()?.begin().await?;
    sqlx::query("SELECT id FROM contacts WHERE id = $1 FOR UPDATE")
        .bind(u.contact_id.as_str())
        .fetch_optional(&mut *tx)
        .await?;
    let done = insert.execute(&mut *tx).await?.rows_affected() == 1;
    tx.commit().await?;
    Ok(done)
}

/// The upload with this id.
pub async fn get(db: &Db, id: &UploadId) -> Result<Option<UploadRow>, sqlx::Error> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM uploads WHERE id = $1"))
        .bind(id.as_str())
        .fetch_optional(db)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Takes (or renews) the upload's lease for `owner` until `until`: free, expired, or already
/// `owner`'s. False when another holder's lease is still running.
pub async fn lease(w: &Writer, id: &UploadId, owner: &str, until: i64) -> Result<bool, sqlx::Error> {
    const SQL: &str = "UPDATE uploads SET lease_owner = $1, lease_until = $2
         WHERE id = $3 AND (lease_owner IS NULL OR lease_owner = $1 OR lease_until < $4)";
    if w.backend() == crate::db::Backend::Sqlite {
        let (id, owner, now) = (id.clone(), owner.to_owned(), now_us());
        let leased = w.sqlite(move |c| {
            Ok(c.prepare_cached(&sqlite_sql(SQL))?.execute(rusqlite::params![owner, until, id.as_str(), now])? == 1)
        });
        return Ok(leased.await?);
    }
    let r = sqlx::query(SQL).bind(owner).bind(until).bind(id.as_str()).bind(now_us()).execute(w.pool_of()?).await?;
    Ok(r.rows_affected() == 1)
}

/// Takes the upload's lease for `owner` until `until` (free, expired, or already `owner`'s) and
/// returns the upload as it stands under it, in one statement; `None` when another holder's
/// lease is still running or there is no such upload (or, given `uploader`, not theirs).
pub async fn take_lease(
    w: &Writer,
    id: &UploadId,
    owner: &str,
    until: i64,
    uploader: Option<&str>,
) -> Result<Option<UploadRow>, sqlx::Error> {
    let theirs = if uploader.is_some() { "AND uploader = $5" } else { "" };
    let sql = format!(
        "UPDATE uploads SET lease_owner = $1, lease_until = $2
         WHERE id = $3 AND (lease_owner IS NULL OR lease_owner = $1 OR lease_until < $4) {theirs}
         RETURNING {COLUMNS}"
    );
    if w.backend() == crate::db::Backend::Sqlite {
        let (id, owner, uploader, now) = (id.clone(), owner.to_owned(), uploader.map(str::to_owned), now_us());
        let taken = w.sqlite(move |c| {
            let mut stmt = c.prepare_cached(&sqlite_sql(&sql))?;
            let row = match &uploader {
                Some(u) => stmt.query_row(rusqlite::params![owner, until, id.as_str(), now, u], |r| Ok(from_row(r))),
                None => stmt.query_row(rusqlite::params![owner, until, id.as_str(), now], |r| Ok(from_row(r))),
            };
            Ok(row.optional()?.transpose()?)
        });
        return Ok(taken.await?);
    }
    let mut q = sqlx::query(&sql).bind(owner).bind(until).bind(id.as_str()).bind(now_us());
    if let Some(u) = uploader {
        q = q.bind(u);
    }
    let row = q.fetch_optional(w.pool_of()?).await?;
    row.as_ref().map(from_row).transpose()
}

/// Gives the lease back, if `owner` still holds it.
pub async fn release(w: &Writer, id: &UploadId, owner: &str) -> Result<(), sqlx::Error> {
    const SQL: &str = "UPDATE uploads SET lease_owner = NULL, lease_until = 0 WHERE id = $1 AND lease_owner = $2";
    if w.backend() == crate::db::Backend::Sqlite {
        let (id, owner) = (id.clone(), owner.to_owned());
        let released = w
            .sqlite(move |c| Ok(c.prepare_cached(&sqlite_sql(SQL))?.execute(rusqlite::params![id.as_str(), owner])?));
        released.await?;
        return Ok(());
    }
    sqlx::query(SQL).bind(id.as_str()).bind(owner).execute(w.pool_of()?).await?;
    Ok(())
}

/// Moves the offset from `from` to `to` with the staging area's new state, under `owner`'s
/// lease, and with `release` gives the lease back in the same statement; false when the upload
/// moved meanwhile or the lease was lost.
pub async fn advance(
    w: &Writer,
    id: &UploadId,
    owner: &str,
    (from, to): (u64, u64),
    staged: &str,
    release: bool,
) -> Result<bool, sqlx::Error> {
    let sql = if release {
        "UPDATE uploads SET upload_offset = $1, staged = $2, lease_owner = NULL, lease_until = 0
         WHERE id = $3 AND upload_offset = $4 AND state = 'receiving' AND lease_owner = $5"
    } else {
        "UPDATE uploads SET upload_offset = $1, staged = $2
         WHERE id = $3 AND upload_offset = $4 AND state = 'receiving' AND lease_owner = $5"
    };
    if w.backend() == crate::db::Backend::Sqlite {
        let (id, owner, staged) = (id.clone(), owner.to_owned(), staged.to_owned());
        let moved = w.sqlite(move |c| {
            let params = rusqlite::params![big(to), staged, id.as_str(), big(from), owner];
            Ok(c.prepare_cached(&sqlite_sql(sql))?.execute(params)? == 1)
        });
        return Ok(moved.await?);
    }
    let r = sqlx::query(sql)
        .bind(big(to))
        .bind(staged)
        .bind(id.as_str())
        .bind(big(from))
        .bind(owner)
        .execute(w.pool_of()?)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Marks a receiving upload refused with the reason and the event owed to both sides, in one
/// transaction; false when it was not receiving any more (someone else decided first).
/// `blocked` keeps the upload (and its bytes) for an admin's release instead of refusing it.
pub async fn mark_refused(
    w: &Writer,
    id: &UploadId,
    (code, message): (&str, &str),
    event: &str,
    blocked: bool,
) -> Result<bool, sqlx::Error> {
    // A blocked file is complete (its offset may not be recorded yet: see `append`); it is kept
    // whole for a release.
    const UPDATE: &str = "UPDATE uploads SET state = $4, error_code = $1, error_message = $2, lease_owner = NULL,
            lease_until = 0, upload_offset = CASE WHEN $4 = 'blocked' THEN length ELSE upload_offset END
         WHERE id = $3 AND state = 'receiving'";
    const OWE: &str = "INSERT INTO pending_events (id, payload, created_at) VALUES ($1, $2, $3)";
    if w.backend() == crate::db::Backend::Sqlite {
        let (id, code, message, event, now) =
            (id.clone(), code.to_owned(), message.to_owned(), event.to_owned(), now_us());
        let refused = w.sqlite(move |c| {
            let state = if blocked { "blocked" } else { "refused" };
            if c.prepare_cached(&sqlite_sql(UPDATE))?.execute(rusqlite::params![code, message, id.as_str(), state])?
                != 1
            {
                return Ok(false);
            }
            c.prepare_cached(&sqlite_sql(OWE))?.execute(rusqlite::params![
                format!("refused-{}", id.as_str()),
                event,
                now
            ])?;
            Ok(true)
        });
        return Ok(refused.await?);
    }
    let mut tx = w.pool_of()?.begin().await?;
    let r = sqlx::query(UPDATE)
        .bind(code)
        .bind(message)
        .bind(id.as_str())
        .bind(if blocked { "blocked" } else { "refused" })
        .execute(&mut *tx)
        .await?;
    if r.rows_affected() != 1 {
        return Ok(false);
    }
    sqlx::query(OWE).bind(format!("refused-{}", id.as_str())).bind(event).bind(now_us()).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(true)
}

/// An admin releases a blocked upload: it goes back to `receiving` (complete), recorded with
/// who and when, so that finishing it (now, or the recovery pass after a crash) publishes it
/// without scanning. False when it was not blocked.
pub async fn mark_released(db: &Db, id: &UploadId, by: (&str, &str), at: i64) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE uploads SET state = 'receiving', released_by = $1, released_by_name = $2, released_at = $3,
         error_code = NULL, error_message = NULL WHERE id = $4 AND state = 'blocked'",
    )
    .bind(by.0)
    .bind(by.1)
    .bind(at)
    .bind(id.as_str())
    .execute(db)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// The uploads of a contact that the checks refused or blocked, oldest first.
pub async fn blocked_of_contact(db: &Db, contact: &ContactId) -> Result<Vec<(UploadRow, i64)>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS}, created_at FROM uploads WHERE contact_id = $1 AND state IN ('refused', 'blocked')
         AND error_code IS NOT NULL ORDER BY created_at, id"
    ))
    .bind(contact.as_str())
    .fetch_all(db)
    .await?;
    rows.iter().map(|r| Ok((from_row(r)?, r.try_get("created_at")?))).collect()
}

/// Lets a held upload be finished, with the description its sender gave when publishing it.
pub async fn release_hold(db: &Db, id: &UploadId, description: Option<&str>) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE uploads SET hold = 0, description = $1 WHERE id = $2 AND state = 'receiving'")
        .bind(description.map(str::to_owned))
        .bind(id.as_str())
        .execute(db)
        .await?;
    Ok(())
}

/// Uploads whose bytes have all arrived but which are not finished (a crash, or an instance
/// that died): the recovery pass finishes them.
pub async fn complete_unfinished(db: &Db, limit: i64) -> Result<Vec<UploadId>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id FROM uploads WHERE state = 'receiving' AND upload_offset = length AND hold = 0 AND lease_until < $1 LIMIT $2",
    )
    .bind(now_us())
    .bind(limit)
    .fetch_all(db)
    .await?;
    rows.iter().map(|r| r.try_get::<String, _>("id").map(UploadId)).collect()
}

/// Takes an owed event, if nobody took it yet: `Some(payload)` for exactly one caller.
pub async fn take_pending_event(w: &Writer, id: &str) -> Result<Option<String>, sqlx::Error> {
    const SQL: &str = "DELETE FROM pending_events WHERE id = $1 RETURNING payload";
    if w.backend() == crate::db::Backend::Sqlite {
        let id = id.to_owned();
        let taken = w.sqlite(move |c| {
            Ok(c.prepare_cached(&sqlite_sql(SQL))?.query_row([id], |r| r.get::<_, String>(0)).optional()?)
        });
        return Ok(taken.await?);
    }
    let row = sqlx::query(SQL).bind(id).fetch_optional(w.pool_of()?).await?;
    row.map(|r| r.try_get::<String, _>("payload")).transpose()
}

/// Forgets owed events their sender sent (see `domain::upload::SentEvents`), in one
/// transaction; ids nobody owes any more are skipped.
pub async fn forget_pending_events(w: &Writer, ids: Vec<String>) -> Result<(), sqlx::Error> {
    const SQL: &str = "DELETE FROM pending_events WHERE id = $1";
    if w.backend() == crate::db::Backend::Sqlite {
        let forgotten = w.sqlite(move |c| {
            let mut delete = c.prepare_cached(&sqlite_sql(SQL))?;
            for id in &ids {
                delete.execute([id])?;
            }
            Ok(())
        });
        return Ok(forgotten.await?);
    }
    let mut tx = w.pool_of()?.begin().await?;
    for id in &ids {
        sqlx::query(SQL).bind(id).execute(&mut *tx).await?;
    }
    tx.commit().await
}

/// Owed events older than `before` (their sender died before sending them).
pub async fn stale_pending_events(db: &Db, before: i64, limit: i64) -> Result<Vec<String>, sqlx::Error> {
    let rows = sqlx::query("SELECT id FROM pending_events WHERE created_at < $1 ORDER BY created_at LIMIT $2")
        .bind(before)
        .bind(limit)
        .fetch_all(db)
        .await?;
    rows.iter().map(|r| r.try_get::<String, _>("id")).collect()
}

/// Forgets an upload.
pub async fn delete(db: &Db, id: &UploadId) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM uploads WHERE id = $1").bind(id.as_str()).execute(db).await?;
    Ok(())
}

/// Uploads past their expiry (and not leased by a live request).
pub async fn expired(db: &Db, now: i64, limit: i64) -> Result<Vec<UploadRow>, sqlx::Error> {
    let rows =
        sqlx::query(&format!("SELECT {COLUMNS} FROM uploads WHERE expires_at <= $1 AND lease_until < $1 LIMIT $2"))
            .bind(now)
            .bind(limit)
            .fetch_all(db)
            .await?;
    rows.iter().map(from_row).collect()
}

/// Uploads of a contact (for retention).
pub async fn of_contact(db: &Db, contact: &ContactId) -> Result<Vec<UploadRow>, sqlx::Error> {
    let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM uploads WHERE contact_id = $1"))
        .bind(contact.as_str())
        .fetch_all(db)
        .await?;
    rows.iter().map(from_row).collect()
}
