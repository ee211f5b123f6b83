//! Attachments: the stored files of contacts.

use crate::db::{now_us, sqlite_sql, ts, Db, Writer};
use attache_protocol::{AttachmentId, ContactId, MessageId, RemovalKind, Sender, Timestamp, Tombstone, UploadId};
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

pub(super) fn from_row(row: &impl super::Columns) -> Result<AttachmentRow, sqlx::Error> {
    let sender = row.text("sender")?;
    let dim = |v: Option<i64>| v.and_then(|v| u32::try_from(v).ok());
    Ok(AttachmentRow {
        id: AttachmentId(row.text("id")?),
        contact_id: ContactId(row.text("contact_id")?),
        message_id: MessageId(row.text("message_id")?),
        file_name: row.text("file_name")?,
        description: row.opt_text("description")?,
        size: super::size("attachments.size", row.int("size")?)?,
        media_type: row.text("media_type")?,
        declared_type: row.text("declared_type")?,
        sha256: row.text("sha256")?,
        file_key: row.text("file_key")?,
        preview_key: row.opt_text("preview_key")?,
        width: dim(row.opt_int("width")?),
        height: dim(row.opt_int("height")?),
        sender: super::known("attachments.sender", &sender, Sender::parse(&sender))?,
        created_at: ts(row.int("created_at")?),
        released_by: row.opt_text("released_by")?,
        released_at: row.opt_int("released_at")?.map(ts),
        metadata_removed: row.int("metadata_removed")? != 0,
        removed: tombstone(row)?,
    })
}

fn tombstone(row: &impl super::Columns) -> Result<Option<Tombstone>, sqlx::Error> {
    let Some(kind) = row.opt_text("removed")? else { return Ok(None) };
    Ok(Some(Tombstone {
        kind: super::known("attachments.removed", &kind, RemovalKind::parse(&kind))?,
        by: row.opt_text("removed_by_name")?,
        at: ts(row.opt_int("removed_at")?.unwrap_or_default()),
        reason: row.opt_text("removed_reason")?,
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
    /// This call published it; `event_taken`: the owed event was taken for this caller to send
    /// (else it is in `pending_events`, to be taken with `repo::upload::take_pending_event`).
    Created {
        /// The attachment.
        row: Box<AttachmentRow>,
        /// Whether the caller holds the owed event.
        event_taken: bool,
    },
    /// The upload was finished already (by another instance, or before a crash).
    AlreadyDone,
}

// Publishing's statements, shared by both backends. The claim returns the upload's id: a row back
// says this call claimed it; its lease goes with it (nothing is left to write).
const CLAIM: &str = "UPDATE uploads SET state = 'ready', upload_offset = length, message_id = $1, lease_owner = NULL,
     lease_until = 0 WHERE id = $2 AND state = 'receiving' RETURNING id";
const MESSAGE: &str =
    "INSERT INTO messages (id, contact_id, sender, sender_name, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)";
const ATTACHMENT: &str = "INSERT INTO attachments (id, contact_id, message_id, lookup, file_name, description, size,
     media_type, declared_type, sha256, file_key, preview_key, width, height, sender, created_at, upload_id,
     released_by, released_at, metadata_removed)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)";
const LOOKUP: &str = "INSERT INTO attachment_lookups (lookup, attachment_id, key_id) VALUES ($1, $2, $3)";
const OWE: &str = "INSERT INTO pending_events (id, payload, created_at) VALUES ($1, $2, $3)";

/// Publishes a finished upload in one transaction: the transcript message, the attachment, its
/// token lookups, the upload marked ready, and the event owed (`pending_events`). Whoever comes
/// second (a race between instances, a retry after a crash) changes nothing.
pub async fn publish(w: &Writer, new: NewAttachment<'_>, event: &str) -> Result<Published, sqlx::Error> {
    if w.backend() == crate::db::Backend::Sqlite {
        return publish_sqlite(w, &new, event).await;
    }
    let mut tx = w.pool_of()?.begin().await?;
    let claimed =
        sqlx::query(CLAIM).bind(new.message_id.as_str()).bind(new.upload_id.as_str()).fetch_optional(&mut *tx).await?;
    if claimed.is_none() {
        return Ok(Published::AlreadyDone);
    }
    sqlx::query(MESSAGE)
        .bind(new.message_id.as_str())
        .bind(new.contact_id.as_str())
        .bind(new.sender.as_str())
        .bind(new.sender_name)
        .bind(new.body)
        .bind(new.created_at)
        .execute(&mut *tx)
        .await?;
    let attachment =
        sqlx::query(ATTACHMENT).bind(new.id.as_str()).bind(new.contact_id.as_str()).bind(new.message_id.as_str());
    let inserted = bind_file(attachment, &new)
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
        sqlx::query(LOOKUP).bind(lookup).bind(new.id.as_str()).bind(key_id).execute(&mut *tx).await?;
    }
    sqlx::query(OWE).bind(new.message_id.as_str()).bind(event).bind(now_us()).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(Published::Created { row: Box::new(row_of(&new)), event_taken: false })
}

/// [`publish`] on SQLite: the same statements as one write of the SQLite writer (its thread, its
/// transaction, a savepoint of its own: a failure midway, an id taken, undoes all of it). The
/// owed event stays owed until the caller takes it, once the publishing is committed.
async fn publish_sqlite(w: &Writer, new: &NewAttachment<'_>, event: &str) -> Result<Published, sqlx::Error> {
    use rusqlite::OptionalExtension;
    let (owned, event, row) = (Owned::of(new), event.to_owned(), row_of(new));
    let published = w.sqlite(move |c| {
        let n = owned.view();
        let claimed = c
            .prepare_cached(&sqlite_sql(CLAIM))?
            .query_row(rusqlite::params![n.message_id.as_str(), n.upload_id.as_str()], |_| Ok(()))
            .optional()?;
        if claimed.is_none() {
            return Ok(false);
        }
        c.prepare_cached(&sqlite_sql(MESSAGE))?.execute(rusqlite::params![
            n.message_id.as_str(),
            n.contact_id.as_str(),
            n.sender.as_str(),
            n.sender_name,
            n.body,
            n.created_at
        ])?;
        c.prepare_cached(&sqlite_sql(ATTACHMENT))?.execute(rusqlite::params![
            n.id.as_str(),
            n.contact_id.as_str(),
            n.message_id.as_str(),
            n.lookups.first().map(|l| l.0.as_str()).unwrap_or_default(),
            n.file_name,
            n.description,
            i64::try_from(n.size).unwrap_or(i64::MAX),
            n.media_type,
            n.declared_type,
            n.sha256,
            n.file_key,
            n.preview_key,
            n.dimensions.map(|d| i64::from(d.0)),
            n.dimensions.map(|d| i64::from(d.1)),
            n.sender.as_str(),
            n.created_at,
            n.upload_id.as_str(),
            n.released.map(|r| r.0),
            n.released.map(|r| r.1),
            super::flag(n.metadata_removed),
        ])?;
        let mut lookup = c.prepare_cached(&sqlite_sql(LOOKUP))?;
        for (l, key_id) in &n.lookups {
            lookup.execute(rusqlite::params![l, n.id.as_str(), key_id])?;
        }
        c.prepare_cached(&sqlite_sql(OWE))?.execute(rusqlite::params![n.message_id.as_str(), event, now_us()])?;
        Ok(true)
    });
    match published.await {
        Ok(true) => Ok(Published::Created { row: Box::new(row), event_taken: false }),
        Ok(false) => Ok(Published::AlreadyDone),
        // Another attempt published it (its attachment or message id is taken).
        Err(e) if e.is_unique_violation() => Ok(Published::AlreadyDone),
        Err(e) => Err(e.into()),
    }
}

/// A [`NewAttachment`] that owns its values, for a write that runs on the writer's thread.
struct Owned {
    id: AttachmentId,
    message_id: MessageId,
    created_at: i64,
    upload_id: UploadId,
    contact_id: ContactId,
    sender: Sender,
    sender_name: String,
    body: String,
    file_name: String,
    description: Option<String>,
    size: u64,
    media_type: String,
    declared_type: String,
    sha256: String,
    file_key: String,
    preview_key: Option<String>,
    dimensions: Option<(u32, u32)>,
    released: Option<(String, i64)>,
    metadata_removed: bool,
    lookups: Vec<(String, String)>,
}

impl Owned {
    fn of(n: &NewAttachment<'_>) -> Owned {
        Owned {
            id: n.id.clone(),
            message_id: n.message_id.clone(),
            created_at: n.created_at,
            upload_id: n.upload_id.clone(),
            contact_id: n.contact_id.clone(),
            sender: n.sender,
            sender_name: n.sender_name.to_owned(),
            body: n.body.to_owned(),
            file_name: n.file_name.to_owned(),
            description: n.description.map(str::to_owned),
            size: n.size,
            media_type: n.media_type.to_owned(),
            declared_type: n.declared_type.to_owned(),
            sha256: n.sha256.to_owned(),
            file_key: n.file_key.to_owned(),
            preview_key: n.preview_key.map(str::to_owned),
            dimensions: n.dimensions,
            released: n.released.map(|(name, at)| (name.to_owned(), at)),
            metadata_removed: n.metadata_removed,
            lookups: n.lookups.clone(),
        }
    }

    fn view(&self) -> NewAttachment<'_> {
        NewAttachment {
            id: &self.id,
            message_id: &self.message_id,
            created_at: self.created_at,
            upload_id: &self.upload_id,
            contact_id: &self.contact_id,
            sender: self.sender,
            sender_name: &self.sender_name,
            body: &self.body,
            file_name: &self.file_name,
            description: self.description.as_deref(),
            size: self.size,
            media_type: &self.media_type,
            declared_type: &self.declared_type,
            sha256: &self.sha256,
            file_key: &self.file_key,
            preview_key: self.preview_key.as_deref(),
            dimensions: self.dimensions,
            released: self.released.as_ref().map(|(name, at)| (name.as_str(), *at)),
            metadata_removed: self.metadata_removed,
            lookups: self.lookups.clone(),
        }
    }
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// Binds the file's own columns, in the order both ways of publishing list them: the signing
/// secret's lookup, name, description, size, types, hash, keys and image size.
fn bind_file<'q>(q: AnyQuery<'q>, new: &NewAttachment<'q>) -> AnyQuery<'q> {
    q.bind(new.lookups.first().map(|l| l.0.clone()).unwrap_or_default())
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
}

/// The attachment as [`publish`] stored it.
fn row_of(new: &NewAttachment<'_>) -> AttachmentRow {
    AttachmentRow {
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
    }
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

/// The attachment behind a token's lookup key and its contact, in one query (every download
/// asks).
pub async fn by_lookup_with_contact(
    db: &Db,
    lookup: &str,
) -> Result<Option<(AttachmentRow, attache_protocol::Contact)>, sqlx::Error> {
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let attachment: Vec<String> = COLUMNS.split(',').map(|c| format!("a.{}", c.trim())).collect();
        format!(
            "SELECT {}, {} FROM attachments a JOIN contacts c ON c.id = a.contact_id
             LEFT JOIN users u ON u.id = c.agent_id
             WHERE a.id = (SELECT attachment_id FROM attachment_lookups WHERE lookup = $1)",
            attachment.join(", "),
            super::contact::columns("c_")
        )
    });
    fn both(r: &impl super::Columns) -> Result<(AttachmentRow, attache_protocol::Contact), sqlx::Error> {
        Ok((from_row(r)?, super::contact::from_row_prefixed(r, "c_")?))
    }
    // Every download reads its attachment by lookup.
    if let Some(found) = super::by_key_here(db, &SQL, lookup, |r| both(r)) {
        return Ok(found);
    }
    let row = sqlx::query(&SQL).bind(lookup).fetch_optional(db).await?;
    row.as_ref().map(both).transpose()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::new_id;
    use crate::repo::upload::UploadRow;
    use attache_protocol::UploadState;

    /// A contact with one complete upload, in a new SQLite database.
    /// A database with one complete upload, and the writer the service uses (SQLite's own
    /// connection and thread).
    async fn one_upload(dir: &std::path::Path) -> (Db, Writer, UploadRow) {
        let url = format!("sqlite://{}?mode=rwc", dir.join("t.db").display());
        let db = crate::db::connect(&url).await.unwrap();
        let w = Writer::connect(&db, &url).await.unwrap();
        crate::demo::ensure(&db).await.unwrap();
        let account = crate::repo::account::by_name(&db, "acme").await.unwrap().unwrap();
        let visitor = crate::repo::visitor::ensure(&db, &account.id, "credential").await.unwrap();
        let contact = crate::repo::contact::create(&db, &account.id, &visitor, "Ann").await.unwrap();
        let row = UploadRow {
            id: UploadId(new_id()),
            account_id: account.id.clone(),
            contact_id: contact.id.clone(),
            sender: Sender::Customer,
            sender_name: "Ann".into(),
            uploader: "visitor:x".into(),
            file_name: "a.pdf".into(),
            declared_type: "application/pdf".into(),
            description: None,
            metadata: String::new(),
            length: 3,
            offset: 3,
            state: UploadState::Receiving,
            message_id: None,
            error_code: None,
            error_message: None,
            expires_at: ts(now_us() + 3_600_000_000),
            staged: String::new(),
            hold: false,
            released_by: None,
            released_at: None,
        };
        assert!(crate::repo::upload::create(&w, &row, 16, None).await.unwrap());
        (db, w, row)
    }

    fn new_for<'a>(
        row: &'a UploadRow,
        id: &'a AttachmentId,
        message: &'a MessageId,
        lookups: usize,
    ) -> NewAttachment<'a> {
        NewAttachment {
            id,
            message_id: message,
            created_at: now_us(),
            upload_id: &row.id,
            contact_id: &row.contact_id,
            sender: row.sender,
            sender_name: &row.sender_name,
            body: "a.pdf",
            file_name: "a.pdf",
            description: None,
            size: 3,
            media_type: "application/pdf",
            declared_type: "application/pdf",
            sha256: "00",
            file_key: "uploads/x",
            preview_key: None,
            dimensions: None,
            released: None,
            metadata_removed: false,
            lookups: (0..lookups).map(|i| (format!("lookup-{}-{i}", id.as_str()), format!("k{i}"))).collect(),
        }
    }

    async fn count(db: &Db, sql: &str, id: &str) -> i64 {
        sqlx::query(sql).bind(id).fetch_one(db).await.unwrap().try_get::<i64, _>(0).unwrap()
    }

    /// Two finishers of one upload at once (two requests, or a request and the recovery pass),
    /// likely in one transaction of the writer: one publishes, with its message, attachment, two
    /// token lookups (a secret being rotated) and its owed event; the other changes nothing.
    #[tokio::test]
    async fn one_of_two_racing_publishes_wins_and_the_other_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (db, w, row) = one_upload(dir.path()).await;
        let (a1, m1) = (AttachmentId(new_id()), MessageId(new_id()));
        let (a2, m2) = (AttachmentId(new_id()), MessageId(new_id()));
        let (first, second) =
            tokio::join!(publish(&w, new_for(&row, &a1, &m1, 2), "{}"), publish(&w, new_for(&row, &a2, &m2, 2), "{}"));
        let outcomes = [first.unwrap(), second.unwrap()];
        let won: Vec<_> = outcomes.iter().filter(|p| matches!(p, Published::Created { .. })).collect();
        assert_eq!(won.len(), 1, "{outcomes:?}");
        assert!(outcomes.iter().any(|p| matches!(p, Published::AlreadyDone)));
        assert!(matches!(won[0], Published::Created { event_taken: false, .. }), "the event is taken once committed");
        let c = row.contact_id.as_str();
        assert_eq!(count(&db, "SELECT COUNT(*) FROM attachments WHERE contact_id = $1", c).await, 1);
        assert_eq!(count(&db, "SELECT COUNT(*) FROM messages WHERE contact_id = $1", c).await, 1);
        let winner = count(&db, "SELECT COUNT(*) FROM attachments WHERE id = $1", a1.as_str()).await == 1;
        let (a, m) = if winner { (&a1, &m1) } else { (&a2, &m2) };
        assert_eq!(count(&db, "SELECT COUNT(*) FROM attachment_lookups WHERE attachment_id = $1", a.as_str()).await, 2);
        assert_eq!(count(&db, "SELECT COUNT(*) FROM messages WHERE id = $1", m.as_str()).await, 1);
        assert_eq!(count(&db, "SELECT COUNT(*) FROM pending_events WHERE id <> $1", "").await, 1);
        assert_eq!(count(&db, "SELECT COUNT(*) FROM pending_events WHERE id = $1", m.as_str()).await, 1);
        let after = crate::repo::upload::get(&db, &row.id).await.unwrap().unwrap();
        assert_eq!(after.state, UploadState::Ready);
        assert_eq!(after.message_id.as_ref(), Some(m));
        // A third try, after the fact, finds it done and adds nothing.
        let (a3, m3) = (AttachmentId(new_id()), MessageId(new_id()));
        assert!(matches!(publish(&w, new_for(&row, &a3, &m3, 1), "{}").await.unwrap(), Published::AlreadyDone));
        assert_eq!(count(&db, "SELECT COUNT(*) FROM messages WHERE contact_id = $1", c).await, 1);
        // The writer and the pool are usable afterwards (no transaction left open).
        for _ in 0..16 {
            assert_eq!(count(&db, "SELECT COUNT(*) FROM attachments WHERE contact_id = $1", c).await, 1);
        }
    }

    /// A publish that fails inside its batch (the attachment's id taken already) leaves nothing:
    /// the upload still unfinished, no message, and the connection rolled back for the next user.
    #[tokio::test]
    async fn a_publish_that_fails_midway_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let (db, w, row) = one_upload(dir.path()).await;
        let (a1, m1) = (AttachmentId(new_id()), MessageId(new_id()));
        assert!(matches!(publish(&w, new_for(&row, &a1, &m1, 1), "{}").await.unwrap(), Published::Created { .. }));
        // A second upload whose attachment would reuse the first one's id: a unique violation
        // after its claim and its message.
        let mut other = row.clone();
        other.id = UploadId(new_id());
        assert!(crate::repo::upload::create(&w, &other, 16, None).await.unwrap());
        let m2 = MessageId(new_id());
        let r = publish(&w, new_for(&other, &a1, &m2, 1), "{}").await.unwrap();
        assert!(matches!(r, Published::AlreadyDone), "{r:?}");
        assert_eq!(count(&db, "SELECT COUNT(*) FROM messages WHERE id = $1", m2.as_str()).await, 0);
        let after = crate::repo::upload::get(&db, &other.id).await.unwrap().unwrap();
        assert_eq!(after.state, UploadState::Receiving, "the claim was rolled back");
        // The writer still works and has no transaction open.
        let (a3, m3) = (AttachmentId(new_id()), MessageId(new_id()));
        assert!(matches!(publish(&w, new_for(&other, &a3, &m3, 1), "{}").await.unwrap(), Published::Created { .. }));
        assert_eq!(count(&db, "SELECT COUNT(*) FROM messages WHERE contact_id = $1", row.contact_id.as_str()).await, 2);
    }
}
