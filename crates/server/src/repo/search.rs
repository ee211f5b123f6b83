//! Reports > Attachments (files across the contacts one may review, filtered, paginated) and the
//! account's storage figures.

use super::attachment::{columns_of, from_row, AttachmentRow};
use super::contact::{visible, Arg, Sql, Visibility};
use crate::db::{now_us, Db};
use attache_protocol::{AccountId, FileCount, Sender, Timestamp, UserId};
use sqlx::Row;

/// A search, validated.
pub struct FileQuery {
    /// The account.
    pub account: AccountId,
    /// Whose contacts.
    pub visibility: Visibility,
    /// Part of the file name, lower case.
    pub name: Option<String>,
    /// Media type or its start.
    pub media_type: Option<String>,
    /// Sender.
    pub sender: Option<Sender>,
    /// The contacts' agent.
    pub agent: Option<UserId>,
    /// Sent at or after.
    pub from: Option<Timestamp>,
    /// Sent before.
    pub to: Option<Timestamp>,
    /// Rows to skip.
    pub offset: i64,
    /// Rows to return.
    pub limit: i64,
}

/// A file found, with its contact's customer and agent.
pub struct Hit {
    /// The attachment.
    pub row: AttachmentRow,
    /// The customer.
    pub customer_name: String,
    /// The agent.
    pub agent_name: Option<String>,
}

/// `s` with LIKE's wildcards and escape character taken literally.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// One page of matching files, newest first, and how many match in all.
pub async fn files(db: &Db, q: &FileQuery) -> Result<(Vec<Hit>, u64), sqlx::Error> {
    let mut sql = Sql::default();
    let account = sql.text(q.account.as_str());
    let seen = visible(&mut sql, &q.visibility);
    let now = sql.arg(Arg::Int(now_us()));
    let mut conds = vec![
        format!("c.account_id = {account}"),
        seen,
        format!("(c.report_expires_at IS NULL OR c.report_expires_at > {now})"),
        "c.state <> 'queued'".to_owned(),
    ];
    if let Some(n) = &q.name {
        conds.push(format!("LOWER(a.file_name) LIKE {} ESCAPE '\\'", sql.text(&format!("%{}%", escape(n)))));
    }
    if let Some(t) = &q.media_type {
        conds.push(format!("a.media_type LIKE {} ESCAPE '\\'", sql.text(&format!("{}%", escape(t)))));
    }
    if let Some(s) = q.sender {
        conds.push(format!("a.sender = {}", sql.text(s.as_str())));
    }
    if let Some(a) = &q.agent {
        conds.push(format!("c.agent_id = {}", sql.text(a.as_str())));
    }
    if let Some(f) = q.from {
        conds.push(format!("a.created_at >= {}", sql.arg(Arg::Int(f.timestamp_micros()))));
    }
    if let Some(t) = q.to {
        conds.push(format!("a.created_at < {}", sql.arg(Arg::Int(t.timestamp_micros()))));
    }
    let from = "FROM attachments a JOIN contacts c ON c.id = a.contact_id LEFT JOIN users u ON u.id = c.agent_id";
    let wher = conds.join(" AND ");
    sql.text = format!("SELECT COUNT(*) AS n {from} WHERE {wher}");
    let total: i64 = sql.query().fetch_one(db).await?.try_get("n")?;
    let limit = sql.arg(Arg::Int(q.limit));
    let offset = sql.arg(Arg::Int(q.offset));
    sql.text = format!(
        "SELECT {}, c.customer_name AS hit_customer, u.display_name AS hit_agent {from} WHERE {wher}
         ORDER BY a.created_at DESC, a.id LIMIT {limit} OFFSET {offset}",
        columns_of("a")
    );
    let rows = sql.query().fetch_all(db).await?;
    let hits = rows
        .iter()
        .map(|r| {
            Ok(Hit {
                row: from_row(r)?,
                customer_name: r.try_get("hit_customer")?,
                agent_name: r.try_get("hit_agent")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok((hits, total.max(0) as u64))
}

fn count(row: &sqlx::any::AnyRow) -> Result<FileCount, sqlx::Error> {
    Ok(FileCount {
        files: row.try_get::<i64, _>("n")?.max(0) as u64,
        bytes: row.try_get::<i64, _>("bytes")?.max(0) as u64,
    })
}

/// The account's stored files, and those removed since `since` by kind: (stored, expired, redacted).
pub async fn storage(
    db: &Db,
    account: &AccountId,
    since: i64,
) -> Result<(FileCount, FileCount, FileCount), sqlx::Error> {
    let from = "FROM attachments a JOIN contacts c ON c.id = a.contact_id WHERE c.account_id = $1";
    let sums = "COUNT(*) AS n, CAST(COALESCE(SUM(a.size), 0) AS BIGINT) AS bytes";
    let stored = sqlx::query(&format!("SELECT {sums} {from} AND a.removed IS NULL"))
        .bind(account.as_str())
        .fetch_one(db)
        .await?;
    let removed_sql = format!("SELECT {sums} {from} AND a.removed = $2 AND a.removed_at >= $3");
    let removed =
        |kind: &'static str| sqlx::query(&removed_sql).bind(account.as_str()).bind(kind).bind(since).fetch_one(db);
    let expired = removed("expired").await?;
    let redacted = removed("redacted").await?;
    Ok((count(&stored)?, count(&expired)?, count(&redacted)?))
}
