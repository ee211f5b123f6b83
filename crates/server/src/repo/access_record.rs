//! Access records: who opened which file, preview or contact ZIP, and when. Written once the
//! last byte went out; deleted with the contact's report.

use crate::db::{new_ordered_id, sqlite_sql, ts, Db, Writer};
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

/// Writes a record at `at` (microseconds) through the pool (PostgreSQL; SQLite's go through
/// [`record_batch`]). A range of a download already recorded in the last `merge_us` (same file,
/// same caller, same address) is part of that download and adds nothing.
async fn record(db: &Db, r: &NewAccess, at: i64, merge_us: i64) -> Result<bool, sqlx::Error> {
    if r.range.is_some() {
        let recent = sqlx::query(RECENT)
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
    let done = sqlx::query(INSERT)
        .bind(record_id(r, at, merge_us))
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

/// Writes records (each with its time) as one write of the SQLite writer, in its transaction (on
/// PostgreSQL, one by one). A record that cannot be written (a contact deleted under it, say) is
/// logged and costs no other. Returns how many were written (merged ranges add none).
pub async fn record_batch(w: &Writer, batch: Vec<(NewAccess, i64)>, merge_us: i64) -> usize {
    if let Ok(db) = w.pool_of() {
        let mut n = 0;
        for (r, at) in &batch {
            match record(db, r, *at, merge_us).await {
                Ok(written) => n += usize::from(written),
                Err(e) => tracing::error!(error = ?e, contact = %r.contact_id, "access record not written"),
            }
        }
        return n;
    }
    let written = w.sqlite(move |c| {
        let mut n = 0;
        for (r, at) in &batch {
            // One statement each: a failed one undoes only itself.
            match record_sqlite(c, r, *at, merge_us) {
                Ok(written) => n += usize::from(written),
                Err(e) => tracing::error!(error = ?e, contact = %r.contact_id, "access record not written"),
            }
        }
        Ok(n)
    });
    written.await.unwrap_or_else(|e| {
        tracing::error!(error = ?e, "access records not written");
        0
    })
}

/// A record already written for this download (same file, caller and address) in the merge window.
const RECENT: &str = "SELECT 1 FROM access_records WHERE contact_id = $1 AND COALESCE(attachment_id, '') = $2
     AND what = $3 AND who = $4 AND COALESCE(who_id, '') = $5 AND COALESCE(address, '') = $6 AND created_at >= $7
     LIMIT 1";
const INSERT: &str = "INSERT INTO access_records (id, account_id, contact_id, attachment_id, file_name, what, who,
     who_id, who_name, grant_kind, address, range_start, range_end, bytes, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) ON CONFLICT (id) DO NOTHING";

/// [`record`] on the SQLite writer's connection.
fn record_sqlite(c: &rusqlite::Connection, r: &NewAccess, at: i64, merge_us: i64) -> rusqlite::Result<bool> {
    use rusqlite::OptionalExtension;
    if r.range.is_some() {
        let recent = c
            .prepare_cached(&sqlite_sql(RECENT))?
            .query_row(
                rusqlite::params![
                    r.contact_id.as_str(),
                    r.attachment_id.as_ref().map(|a| a.as_str()).unwrap_or_default(),
                    r.what.as_str(),
                    r.who.as_str(),
                    r.who_id.as_deref().unwrap_or_default(),
                    r.address.as_deref().unwrap_or_default(),
                    at.saturating_sub(merge_us),
                ],
                |_| Ok(()),
            )
            .optional()?;
        if recent.is_some() {
            return Ok(false);
        }
    }
    let n = c.prepare_cached(&sqlite_sql(INSERT))?.execute(rusqlite::params![
        record_id(r, at, merge_us),
        r.account_id.as_str(),
        r.contact_id.as_str(),
        r.attachment_id.as_ref().map(|a| a.as_str()),
        r.file_name,
        r.what.as_str(),
        r.who.as_str(),
        r.who_id,
        r.who_name,
        r.grant.as_str(),
        r.address,
        r.range.map(|x| int(x.0)),
        r.range.map(|x| int(x.1)),
        int(r.bytes),
        at,
    ])?;
    Ok(n == 1)
}

/// A record's id: new, or, for a range, one per download and merge window, so that ranges of one
/// download racing each other (the check for a recent record cannot see one not yet committed)
/// are written once.
fn record_id(r: &NewAccess, at: i64, merge_us: i64) -> String {
    match r.range {
        None => new_ordered_id(),
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
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::now_us;
    use attache_protocol::{AccessFilter, AccessGrant, AccessWhat, AccessWho};

    async fn db_with_contact(dir: &std::path::Path) -> (Db, AccountId, ContactId) {
        let db = crate::db::connect(&format!("sqlite://{}?mode=rwc", dir.join("t.db").display())).await.unwrap();
        crate::demo::ensure(&db).await.unwrap();
        let account = crate::repo::account::by_name(&db, "acme").await.unwrap().unwrap();
        let visitor = crate::repo::visitor::ensure(&db, &account.id, "credential").await.unwrap();
        let contact = crate::repo::contact::create(&db, &account.id, &visitor, "Ann").await.unwrap();
        (db, account.id, contact.id)
    }

    fn opening(account: &AccountId, contact: &ContactId, range: Option<(u64, u64)>) -> NewAccess {
        NewAccess {
            account_id: account.clone(),
            contact_id: contact.clone(),
            attachment_id: Some(AttachmentId("a1".into())),
            file_name: "a.pdf".into(),
            what: AccessWhat::File,
            who: AccessWho::Link,
            who_id: None,
            who_name: "someone holding the link".into(),
            grant: AccessGrant::Url,
            address: Some("127.0.0.1".into()),
            range,
            bytes: range.map_or(10, |r| r.1 - r.0),
        }
    }

    /// A batch is one write: a whole download from one address and two ranges from another are
    /// two records (the second range is the first one's download, seen within the batch). A
    /// record that cannot be written (its contact is gone) is lost alone.
    #[tokio::test]
    async fn a_batch_merges_ranges_and_one_bad_record_costs_no_other() {
        let dir = tempfile::tempdir().unwrap();
        let (db, account, contact) = db_with_contact(dir.path()).await;
        let at = now_us();
        let elsewhere = NewAccess { address: Some("10.0.0.1".into()), ..opening(&account, &contact, None) };
        let batch = vec![
            (elsewhere, at),
            (opening(&account, &contact, Some((0, 5))), at),
            (opening(&account, &contact, Some((5, 10))), at + 1),
        ];
        // The writer the service uses: SQLite's own connection and thread.
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let w = Writer::connect(&db, &url).await.unwrap();
        assert_eq!(record_batch(&w, batch, 60_000_000).await, 2);
        let listed = of_contact(&db, &contact, &AccessFilter::default(), 100).await.unwrap();
        assert_eq!(listed.len(), 2, "{listed:?}");

        let gone = ContactId("no-such-contact".into());
        let batch = vec![
            (opening(&account, &contact, None), at + 2),
            (opening(&account, &gone, None), at + 2),
            (opening(&account, &contact, None), at + 3),
        ];
        assert_eq!(record_batch(&w, batch, 60_000_000).await, 2, "the two good records of the batch");
        assert_eq!(of_contact(&db, &contact, &AccessFilter::default(), 100).await.unwrap().len(), 4);
        let stray: i64 = sqlx::query("SELECT COUNT(*) FROM access_records WHERE contact_id = $1")
            .bind(gone.as_str())
            .fetch_one(&db)
            .await
            .unwrap()
            .try_get(0)
            .unwrap();
        assert_eq!(stray, 0);
    }
}
