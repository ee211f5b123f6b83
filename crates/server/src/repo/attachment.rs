//! Attachments: the stored files of contacts.

use crate::db::{new_id, now_us, ts, Db};
use attache_protocol::{AttachmentId, ContactId, MessageId, Sender, Timestamp};
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
}

const COLUMNS: &str = "id, contact_id, message_id, file_name, description, size, media_type, declared_type, sha256,
    file_key, preview_key, width, height, sender, created_at";

fn from_row(row: &AnyRow) -> Result<AttachmentRow, sqlx::Error> {
    let dim = |v: Option<i64>| v.and_then(|v| u32::try_from(v).ok());
    Ok(AttachmentRow {
        id: AttachmentId(row.try_get("id")?),
        contact_id: ContactId(row.try_get("contact_id")?),
        message_id: MessageId(row.try_get("message_id")?),
        file_name: row.try_get("file_name")?,
        description: row.try_get("description")?,
        size: u64::try_from(row.try_get::<i64, _>("size")?).unwrap_or(0),
        media_type: row.try_get("media_type")?,
        declared_type: row.try_get("declared_type")?,
        sha256: row.try_get("sha256")?,
        file_key: row.try_get("file_key")?,
        preview_key: row.try_get("preview_key")?,
        width: dim(row.try_get("width")?),
        height: dim(row.try_get("height")?),
        sender: Sender::parse(&row.try_get::<String, _>("sender")?).unwrap_or(Sender::Customer),
        created_at: ts(row.try_get("created_at")?),
    })
}

/// What a new attachment is made of.
pub struct NewAttachment<'a> {
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
}

/// Inserts the attachment and its transcript message in one transaction. `lookup_of` gives the
/// token lookup key of the new attachment id.
pub async fn create(
    db: &Db,
    new: NewAttachment<'_>,
    lookup_of: impl Fn(&AttachmentId) -> String,
) -> Result<AttachmentRow, sqlx::Error> {
    let id = AttachmentId(new_id());
    let message_id = MessageId(new_id());
    let now = now_us();
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO messages (id, contact_id, sender, sender_name, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(message_id.as_str())
    .bind(new.contact_id.as_str())
    .bind(new.sender.as_str())
    .bind(new.sender_name)
    .bind(new.body)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO attachments (id, contact_id, message_id, lookup, file_name, description, size, media_type,
         declared_type, sha256, file_key, preview_key, width, height, sender, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
    )
    .bind(id.as_str())
    .bind(new.contact_id.as_str())
    .bind(message_id.as_str())
    .bind(lookup_of(&id))
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
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(AttachmentRow {
        id,
        contact_id: new.contact_id.clone(),
        message_id,
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
        created_at: ts(now),
    })
}

/// The attachment whose token lookup key this is.
pub async fn by_lookup(db: &Db, lookup: &str) -> Result<Option<AttachmentRow>, sqlx::Error> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM attachments WHERE lookup = $1"))
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
