//! Attachments: the stored files of contacts.

use crate::db::{now_us, ts, Db};
use attache_protocol::{AttachmentId, ContactId, MessageId, RemovalKind, Sender, Timestamp, Tombstone, UploadId};
use sqlx::any::AnyRow;
use sqlx::Row;

/// An attachment as stored (without its URL, which is derived under the server secret).
#[derive(Debug, Clone)]
pub struct AttachmentRow {
    /// Id.
    pub id: AttachmentId,
    /// Contact.
    pub contact_id: ContactId,
    /// Its message in the transcript.
    pub message_id: MessageId,
    /// File name (display only).
    pub file_name: String,
    /// Description.
    pub description: Option<String>,
    /// Size in bytes.
    pub size: u64,
    /// Sniffed media type.
    pub media_type: String,
    /// Declared media type.
    pub declared_type: String,
    /// SHA-256, hex.
    pub sha256: String,
    /// Store key of the bytes.
    pub file_key: String,
    /// Store key of the preview.
    pub preview_key: Option<String>,
    /// Image width.
    pub width: Option<u32>,
    /// Image height.
    pub height: Option<u32>,
    /// Who sent it.
    pub sender: Sender,
    /// When it was published.
    pub created_at: Timestamp,
    /// The admin who released it after the scanner gave no verdict (shown name).
    pub released_by: Option<String>,
    /// When.
    pub released_at: Option<Timestamp>,
    /// Location and camera data were removed before it was stored.
    pub metadata_removed: bool,
    /// Redacted or expired: the bytes are gone, this stays.
    pub removed: Option<Tombstone>,
}

const COLUMNS: &str = "id, contact_id, message_id, file_name, description, size, media_type, declared_type, sha256,
    file_key, preview_key, width, height, sender, created_at, released_by, released_at,
    metadata_removed, removed, removed_by_name, removed_at, removed_reason";

pub(super) fn from_row(row: &AnyRow) -> Result<AttachmentRow, sqlx::Error> {
    let sender: String = row.try_get("sender")?;
    let dim = |v: Option<i64>| v.and_then(|v| u32::try_from(v).ok());
    Ok(AttachmentRow {
        id: AttachmentId(row.try_get("id")?),
        contact_id: ContactId(row.try_get("contact_id")?),
        message_id: MessageId(row.try_get("message_id")?),
        file_name: row.try_get("file_name")?,
        description: row.try_get("description")?,
        size: super::size("attachments.size", row.try_get("size")?)?,
        media_type: row.try_get("media_type")?,
        declared_type: row.try_get("declared_type")?,
        sha256: row.try_get("sha256")?,
        file_key: row.try_get("file_key")?,
        preview_key: row.try_get("preview_key")?,
        width: dim(row.try_get("width")?),
        height: dim(row.try_get("height")?),
        sender: super::known("attachments.sender", &sender, Sender::parse(&sender))?,
        created_at: ts(row.try_get("created_at")?),
        released_by: row.try_get("released_by")?,
        released_at: row.try_get::<Option<i64>, _>("released_at")?.map(ts),
        metadata_removed: row.try_get::<i64, _>("metadata_removed")? != 0,
        removed: tombstone(row)?,
    })
}

fn tombstone(row: &AnyRow) -> Result<Option<Tombstone>, sqlx::Error> {
    let Some(kind) = row.try_get::<Option<String>, _>("removed")? else { return Ok(None) };
    Ok(Some(Tombstone {
        kind: super::known("attachments.removed", &kind, RemovalKind::parse(&kind))?,
        by: row.try_get("removed_by_name")?,
        at: ts(row.try_get::<Option<i64>, _>("removed_at")?.unwrap_or_default()),
        reason: row.try_get("removed_reason")?,
    }))
}

/// What a new attachment is made of. Its ids and time are chosen by the caller, so the event
/// that announces it can be written in the same transaction.
pub struct NewAttachment<'a> {
    /// Its id.
    pub id: &'a AttachmentId,
    /// Its transcript message's id.
    pub message_id: &'a MessageId,
    /// When it is published (microseconds).
    pub created_at: i64,
    /// The upload it comes from: one attachment per upload.
    pub upload_id: &'a UploadId,
    /// Contact.
    pub contact_id: &'a ContactId,
    /// Sender.
    pub sender: Sender,
    /// Sender's shown name.
    pub sender_name: &'a str,
    /// Transcript text: description or file name.
    pub body: &'a str,
    /// File name.
    pub file_name: &'a str,
    /// Description.
    pub description: Option<&'a str>,
    /// Size.
    pub size: u64,
    /// Sniffed type.
    pub media_type: &'a str,
    /// Declared type.
    pub declared_type: &'a str,
    /// SHA-256 hex.
    pub sha256: &'a str,
    /// Store key of the bytes.
    pub file_key: &'a str,
    /// Store key of the preview.
    pub preview_key: Option<&'a str>,
    /// Image size.
    pub dimensions: Option<(u32, u32)>,
    /// Released by an admin after the scanner gave no verdict: (shown name, microseconds).
    pub released: Option<(&'a str, i64)>,
    /// Location and camera data were removed.
    pub metadata_removed: bool,
    /// Token lookup keys: (lookup, secret id), the first one the signing secret's.
    pub lookups: Vec<(String, String)>,
}

/// How publishing went.
#[derive(Debug)]
pub enum Published {
    /// This call published it.
    Created(Box<AttachmentRow>),
    /// The upload was finished already (by another instance, or before a crash).
    AlreadyDone,
}

/// Publishes a finished upload in one transaction: the transcript message, the attachment, its
/// token lookups, the upload marked ready, and the event owed (`pending_events`). Whoever comes
/// second (a race between instances, a retry after a crash) changes nothing.
pub async fn publish(db: &Db, new: NewAttachment<'_>, event: &str) -> Result<Published, sqlx::Error> {
    let mut tx = db.begin().await?;
    let claimed =
        // The upload's lease goes with it: nothing is left to write.
        sqlx::query(
            "UPDATE uploads SET state = 'ready', upload_offset = length, message_id = $1, lease_owner = NULL,
             lease_until = 0 WHERE id = $2 AND state = 'receiving'",
        )
            .bind(new.message_id.as_str())
            .bind(new.upload_id.as_str())
            .execute(&mut *tx)
            .await?;
    if claimed.rows_affected() != 1 {
        return Ok(Published::AlreadyDone);
    }
    sqlx::query(
        "INSERT INTO messages (id, contact_id, sender, sender_name, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(new.message_id.as_str())
    .bind(new.contact_id.as_str())
    .bind(new.sender.as_str())
    .bind(new.sender_name)
    .bind(new.body)
    .bind(new.created_at)
    .execute(&mut *tx)
    .await?;
    let inserted = sqlx::query(
        "INSERT INTO attachments (id, contact_id, message_id, lookup, file_name, description, size, media_type,
         declared_type, sha256, file_key, preview_key, width, height, sender, created_at, upload_id, released_by,
         released_at, metadata_removed)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)",
    )
    .bind(new.id.as_str())
    .bind(new.contact_id.as_str())
    .bind(new.message_id.as_str())
    .bind(new.lookups.first().map(|l| l.0.clone()).unwrap_or_default())
    .bind(new.file_name)
    .bind(new.description.map(str::to_owned))
    .bind(i64::try_from(new.size).unwrap_or(i64::MAX))
    .bind(new.media_type)
    .bind(new.declared_type)
    .bind(new.sha256)
    .bind(new.file_key)
    .bind(new.preview_key.map(str::to_owned))
    .bind(new.dimensions.map(|d| i64::from(d.0)))
    .bind(new.dimensions.map(|d| i64::from(d.1)))
    .bind(new.sender.as_str())
    .bind(new.created_at)
    .bind(new.upload_id.as_str())
    .bind(new.released.map(|r| r.0.to_owned()))
    .bind(new.released.map(|r| r.1))
    .bind(super::flag(new.metadata_removed))
    .execute(&mut *tx)
    .await;
    match inserted {
        Ok(_) => {}
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => return Ok(Published::AlreadyDone),
        Err(e) => return Err(e),
    }
    for (lookup, key_id) in &new.lookups {
        sqlx::query("INSERT INTO attachment_lookups (lookup, attachment_id, key_id) VALUES ($1, $2, $3)")
            .bind(lookup)
            .bind(new.id.as_str())
            .bind(key_id)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("INSERT INTO pending_events (id, payload, created_at) VALUES ($1, $2, $3)")
        .bind(new.message_id.as_str())
        .bind(event)
        .bind(now_us())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Published::Created(Box::new(AttachmentRow {
        id: new.id.clone(),
        contact_id: new.contact_id.clone(),
        message_id: new.message_id.clone(),
        file_name: new.file_name.to_owned(),
        description: new.description.map(str::to_owned),
        size: new.size,
        media_type: new.media_type.to_owned(),
        declared_type: new.declared_type.to_owned(),
        sha256: new.sha256.to_owned(),
        file_key: new.file_key.to_owned(),
        preview_key: new.preview_key.map(str::to_owned),
        width: new.dimensions.map(|d| d.0),
        height: new.dimensions.map(|d| d.1),
        sender: new.sender,
        created_at: ts(new.created_at),
        released_by: new.released.map(|r| r.0.to_owned()),
        released_at: new.released.map(|r| ts(r.1)),
        metadata_removed: new.metadata_removed,
        removed: None,
    })))
}

/// Attachments that have no lookup under the secret `key_id` yet (after a rotation), a batch.
pub async fn missing_lookups(db: &Db, key_id: &str, limit: i64) -> Result<Vec<(AttachmentId, ContactId)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT a.id, a.contact_id FROM attachments a WHERE NOT EXISTS
         (SELECT 1 FROM attachment_lookups l WHERE l.attachment_id = a.id AND l.key_id = $1) LIMIT $2",
    )
    .bind(key_id)
    .bind(limit)
    .fetch_all(db)
    .await?;
    rows.iter().map(|r| Ok((AttachmentId(r.try_get("id")?), ContactId(r.try_get("contact_id")?)))).collect()
}

/// Records a lookup (idempotent: instances may backfill at once).
pub async fn add_lookup(db: &Db, lookup: &str, attachment: &AttachmentId, key_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO attachment_lookups (lookup, attachment_id, key_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(lookup)
    .bind(attachment.as_str())
    .bind(key_id)
    .execute(db)
    .await?;
    Ok(())
}

/// The attachment whose token lookup key this is.
pub async fn by_lookup(db: &Db, lookup: &str) -> Result<Option<AttachmentRow>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM attachments WHERE id = (SELECT attachment_id FROM attachment_lookups WHERE lookup = $1)"
    ))
    .bind(lookup)
    .fetch_optional(db)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// The attachment with this id, or the one of this transcript message.
pub async fn by_id_or_message(db: &Db, id: &str) -> Result<Option<AttachmentRow>, sqlx::Error> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM attachments WHERE id = $1 OR message_id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// The attachments of a contact, oldest first.
pub async fn of_contact(db: &Db, contact: &ContactId) -> Result<Vec<AttachmentRow>, sqlx::Error> {
    let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM attachments WHERE contact_id = $1 ORDER BY created_at, id"))
        .bind(contact.as_str())
        .fetch_all(db)
        .await?;
    rows.iter().map(from_row).collect()
}

/// Who took a file away and why (none for an expiry).
pub struct Removal<'a> {
    /// Redacted or expired.
    pub kind: RemovalKind,
    /// The redactor (user id, shown name).
    pub by: Option<(&'a str, &'a str)>,
    /// The reason.
    pub reason: Option<&'a str>,
    /// When (microseconds).
    pub at: i64,
}

/// Marks an attachment removed, once, and records in the same transaction that its bytes and
/// preview are owed to the store (claimed by the caller until `claimed_until`, who deletes them
/// at once): `false` when it already was (a second redaction, or one racing an expiry, changes
/// nothing).
pub async fn mark_removed(
    db: &Db,
    row: &AttachmentRow,
    r: &Removal<'_>,
    claimed_until: i64,
) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin().await?;
    let done = sqlx::query(
        "UPDATE attachments SET removed = $1, removed_by = $2, removed_by_name = $3, removed_at = $4,
         removed_reason = $5 WHERE id = $6 AND removed IS NULL",
    )
    .bind(r.kind.as_str())
    .bind(r.by.map(|b| b.0.to_owned()))
    .bind(r.by.map(|b| b.1.to_owned()))
    .bind(r.at)
    .bind(r.reason.map(str::to_owned))
    .bind(row.id.as_str())
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    for key in std::iter::once(&row.file_key).chain(row.preview_key.as_ref()) {
        super::owed_delete::insert(&mut tx, key, &row.id, r.at, claimed_until).await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// Attachments of accounts with file-only retention whose time has come, a batch:
/// (attachment, account's retention in days) for those sent before `now - days`.
pub async fn files_due(db: &Db, now: i64, limit: i64) -> Result<Vec<AttachmentRow>, sqlx::Error> {
    let cols = columns_of("a");
    let rows = sqlx::query(&format!(
        "SELECT {cols} FROM attachments a JOIN contacts c ON c.id = a.contact_id JOIN accounts ac ON ac.id = c.account_id
         WHERE a.removed IS NULL AND ac.file_retention_days > 0
           AND a.created_at + ac.file_retention_days * 86400000000 <= $1
         ORDER BY a.created_at LIMIT $2"
    ))
    .bind(now)
    .bind(limit)
    .fetch_all(db)
    .await?;
    rows.iter().map(from_row).collect()
}

/// The columns of [`from_row`], of the table under alias `t`.
pub(super) fn columns_of(t: &str) -> String {
    COLUMNS.split(',').map(|c| format!("{t}.{}", c.trim())).collect::<Vec<_>>().join(", ")
}
