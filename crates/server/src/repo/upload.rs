//! tus uploads: their announced length, how far they got, what became of them.

use crate::db::{now_us, ts, Db};
use attache_protocol::{AccountId, ContactId, MessageId, Sender, Timestamp, UploadId, UploadState};
use sqlx::any::AnyRow;
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
    pub error_code: Option<String>,
    /// Refusal words.
    pub error_message: Option<String>,
    /// Expiry.
    pub expires_at: Timestamp,
}

const COLUMNS: &str = "id, account_id, contact_id, sender, sender_name, uploader, file_name, declared_type, description,
    metadata, length, upload_offset, state, message_id, error_code, error_message, expires_at";

fn from_row(row: &AnyRow) -> Result<UploadRow, sqlx::Error> {
    let state: String = row.try_get("state")?;
    let n = |v: i64| u64::try_from(v).unwrap_or(0);
    Ok(UploadRow {
        id: UploadId(row.try_get("id")?),
        account_id: AccountId(row.try_get("account_id")?),
        contact_id: ContactId(row.try_get("contact_id")?),
        sender: Sender::parse(&row.try_get::<String, _>("sender")?).unwrap_or(Sender::Customer),
        sender_name: row.try_get("sender_name")?,
        uploader: row.try_get("uploader")?,
        file_name: row.try_get("file_name")?,
        declared_type: row.try_get("declared_type")?,
        description: row.try_get("description")?,
        metadata: row.try_get("metadata")?,
        length: n(row.try_get("length")?),
        offset: n(row.try_get("upload_offset")?),
        state: match state.as_str() {
            "ready" => UploadState::Ready,
            "refused" => UploadState::Refused,
            _ => UploadState::Receiving,
        },
        message_id: row.try_get::<Option<String>, _>("message_id")?.map(MessageId),
        error_code: row.try_get("error_code")?,
        error_message: row.try_get("error_message")?,
        expires_at: ts(row.try_get("expires_at")?),
    })
}

fn big(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Records a new upload at offset 0.
pub async fn create(db: &Db, u: &UploadRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO uploads (id, account_id, contact_id, sender, sender_name, uploader, file_name, declared_type,
         description, metadata, length, upload_offset, state, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0, 'receiving', $12, $13)",
    )
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
    .execute(db)
    .await?;
    Ok(())
}

/// The upload with this id.
pub async fn get(db: &Db, id: &UploadId) -> Result<Option<UploadRow>, sqlx::Error> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM uploads WHERE id = $1"))
        .bind(id.as_str())
        .fetch_optional(db)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Moves the offset from `from` to `to`; false when someone else moved it first.
pub async fn advance(db: &Db, id: &UploadId, from: u64, to: u64) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE uploads SET upload_offset = $1 WHERE id = $2 AND upload_offset = $3 AND state = 'receiving'",
    )
    .bind(big(to))
    .bind(id.as_str())
    .bind(big(from))
    .execute(db)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Marks the upload ready with its message.
pub async fn mark_ready(db: &Db, id: &UploadId, message: &MessageId) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE uploads SET state = 'ready', message_id = $1 WHERE id = $2")
        .bind(message.as_str())
        .bind(id.as_str())
        .execute(db)
        .await?;
    Ok(())
}

/// Marks the upload refused with the reason.
pub async fn mark_refused(db: &Db, id: &UploadId, code: &str, message: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE uploads SET state = 'refused', error_code = $1, error_message = $2 WHERE id = $3")
        .bind(code)
        .bind(message)
        .bind(id.as_str())
        .execute(db)
        .await?;
    Ok(())
}

/// Forgets an upload.
pub async fn delete(db: &Db, id: &UploadId) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM uploads WHERE id = $1").bind(id.as_str()).execute(db).await?;
    Ok(())
}

/// Uploads past their expiry.
pub async fn expired(db: &Db, now: i64, limit: i64) -> Result<Vec<UploadId>, sqlx::Error> {
    let rows = sqlx::query("SELECT id FROM uploads WHERE expires_at <= $1 LIMIT $2")
        .bind(now)
        .bind(limit)
        .fetch_all(db)
        .await?;
    rows.iter().map(|r| r.try_get::<String, _>("id").map(UploadId)).collect()
}

/// Uploads of a contact (for retention).
pub async fn of_contact(db: &Db, contact: &ContactId) -> Result<Vec<UploadId>, sqlx::Error> {
    let rows = sqlx::query("SELECT id FROM uploads WHERE contact_id = $1")
        .bind(contact.as_str())
        .fetch_all(db)
        .await?;
    rows.iter().map(|r| r.try_get::<String, _>("id").map(UploadId)).collect()
}

/// How many uploads of a contact are still receiving.
pub async fn receiving_count(db: &Db, contact: &ContactId) -> Result<i64, sqlx::Error> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM uploads WHERE contact_id = $1 AND state = 'receiving'")
        .bind(contact.as_str())
        .fetch_one(db)
        .await?;
    row.try_get("n")
}
