//! Access records: who opened which file, preview or contact ZIP, and when. Written once the
//! last byte went out; deleted with the contact's report.

use crate::db::{new_id, ts, Db};
use attache_protocol::{
    AccessFilter, AccessGrant, AccessRecord, AccessWhat, AccessWho, AccountId, AttachmentId, ContactId,
};
use sqlx::any::AnyRow;
use sqlx::Row;

/// A record to write.
#[derive(Debug, Clone)]
pub struct NewAccess {
    /// The contact's account.
    pub account_id: AccountId,
    /// The contact.
    pub contact_id: ContactId,
    /// The attachment (none for a ZIP of the contact).
    pub attachment_id: Option<AttachmentId>,
    /// The file's name.
    pub file_name: String,
    /// File, preview or ZIP.
    pub what: AccessWhat,
    /// Who, by kind.
    pub who: AccessWho,
    /// The user's id or the visitor's public id.
    pub who_id: Option<String>,
    /// A name to show.
    pub who_name: String,
    /// The row of the access table.
    pub grant: AccessGrant,
    /// The client's address.
    pub address: Option<String>,
    /// The range sent, `[start, end)`; none for the whole file.
    pub range: Option<(u64, u64)>,
    /// Bytes sent.
    pub bytes: u64,
}

fn int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Writes a record at `at` (microseconds). A range of a download already recorded in the last
/// `merge_us` (same file, same caller, same address) is part of that download and adds nothing.
pub async fn record(db: &Db, r: &NewAccess, at: i64, merge_us: i64) -> Result<bool, sqlx::Error> {
    if r.range.is_some() {
        let recent = sqlx::query(
            "SELECT 1 FROM access_records WHERE contact_id = $1 AND COALESCE(attachment_id, '') = $2 AND what = $3
             AND who = $4 AND COALESCE(who_id, '') = $5 AND COALESCE(address, '') = $6 AND created_at >= $7 LIMIT 1",
        )
        .bind(r.contact_id.as_str())
        .bind(r.attachment_id.as_ref().map(|a| a.as_str().to_owned()).unwrap_or_default())
        .bind(r.what.as_str())
        .bind(r.who.as_str())
        .bind(r.who_id.clone().unwrap_or_default())
        .bind(r.address.clone().unwrap_or_default())
        .bind(at.saturating_sub(merge_us))
        .fetch_optional(db)
        .await?;
        if recent.is_some() {
            return Ok(false);
        }
    }
    // Ranges of one download racing each other (the check above cannot see a record not yet
    // committed) share one id per window, so only one of them is written.
    let id = match r.range {
        None => new_id(),
        Some(_) => {
            use sha2::Digest;
            let key = format!(
                "{}|{}|{}|{}|{}|{}|{}",
                r.contact_id,
                r.attachment_id.as_ref().map(|a| a.as_str()).unwrap_or(""),
                r.what.as_str(),
                r.who.as_str(),
                r.who_id.as_deref().unwrap_or(""),
                r.address.as_deref().unwrap_or(""),
                at / merge_us.max(1)
            );
            hex::encode(&sha2::Sha256::digest(key.as_bytes())[..16])
        }
    };
    let done = sqlx::query(
        "INSERT INTO access_records (id, account_id, contact_id, attachment_id, file_name, what, who, who_id,
         who_name, grant_kind, address, range_start, range_end, bytes, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) ON CONFLICT (id) DO NOTHING",
    )
    .bind(id)
    .bind(r.account_id.as_str())
    .bind(r.contact_id.as_str())
    .bind(r.attachment_id.as_ref().map(|a| a.as_str().to_owned()))
    .bind(&r.file_name)
    .bind(r.what.as_str())
    .bind(r.who.as_str())
    .bind(r.who_id.clone())
    .bind(&r.who_name)
    .bind(r.grant.as_str())
    .bind(r.address.clone())
    .bind(r.range.map(|x| int(x.0)))
    .bind(r.range.map(|x| int(x.1)))
    .bind(int(r.bytes))
    .bind(at)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

fn from_row(row: &AnyRow) -> Result<AccessRecord, sqlx::Error> {
    let what: String = row.try_get("what")?;
    let who: String = row.try_get("who")?;
    let grant: String = row.try_get("grant_kind")?;
    let start: Option<i64> = row.try_get("range_start")?;
    let end: Option<i64> = row.try_get("range_end")?;
    let range = match (start, end) {
        (Some(s), Some(e)) => {
            Some((super::size("access_records.range_start", s)?, super::size("access_records.range_end", e)?))
        }
        _ => None,
    };
    Ok(AccessRecord {
        id: row.try_get("id")?,
        attachment_id: row.try_get::<Option<String>, _>("attachment_id")?.map(AttachmentId),
        file_name: row.try_get("file_name")?,
        what: super::known("access_records.what", &what, AccessWhat::parse(&what))?,
        who: super::known("access_records.who", &who, AccessWho::parse(&who))?,
        who_id: row.try_get("who_id")?,
        who_name: row.try_get("who_name")?,
        grant: super::known("access_records.grant_kind", &grant, AccessGrant::parse(&grant))?,
        address: row.try_get("address")?,
        range,
        bytes: super::size("access_records.bytes", row.try_get("bytes")?)?,
        at: ts(row.try_get("created_at")?),
    })
}

/// A contact's records, oldest first, filtered (at most `limit`).
pub async fn of_contact(
    db: &Db,
    contact: &ContactId,
    f: &AccessFilter,
    limit: i64,
) -> Result<Vec<AccessRecord>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, attachment_id, file_name, what, who, who_id, who_name, grant_kind, address, range_start,
                range_end, bytes, created_at
         FROM access_records WHERE contact_id = $1
           AND ($2 = '' OR attachment_id = $2) AND ($3 = '' OR who = $3) AND ($4 = '' OR grant_kind = $4)
         ORDER BY created_at, id LIMIT $5",
    )
    .bind(contact.as_str())
    .bind(f.attachment.as_ref().map(|a| a.as_str().to_owned()).unwrap_or_default())
    .bind(f.who.map(|w| w.as_str()).unwrap_or(""))
    .bind(f.grant.map(|g| g.as_str()).unwrap_or(""))
    .bind(limit)
    .fetch_all(db)
    .await?;
    rows.iter().map(from_row).collect()
}
