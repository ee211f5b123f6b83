use crate::db::{new_id, now_us, ts, Db};
use attache_protocol::{
    AccountId, Contact, ContactId, ContactState, Message, MessageId, Sender, Timestamp, UserId, VisitorRef,
};
use sqlx::any::AnyRow;
use sqlx::Row;

/// A contact's columns (with its agent's name and its file count), each named `{prefix}{column}`,
/// from `contacts c LEFT JOIN users u ON u.id = c.agent_id`.
pub(super) fn columns(prefix: &str) -> String {
    format!(
        "c.id AS {p}id, c.account_id AS {p}account_id, c.visitor_id AS {p}visitor_id,
        c.customer_name AS {p}customer_name, c.state AS {p}state, c.agent_id AS {p}agent_id,
        u.display_name AS {p}agent_name, c.created_at AS {p}created_at, c.accepted_at AS {p}accepted_at,
        c.closed_at AS {p}closed_at, c.closed_by AS {p}closed_by, c.report_expires_at AS {p}report_expires_at,
        (SELECT COUNT(*) FROM attachments f WHERE f.contact_id = c.id) AS {p}files",
        p = prefix
    )
}

/// `SELECT` of a contact, up to its `WHERE`.
fn select_sql() -> &'static str {
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!("SELECT {} FROM contacts c LEFT JOIN users u ON u.id = c.agent_id", columns(""))
    });
    &SQL
}

fn from_row(row: &impl super::Columns) -> Result<Contact, sqlx::Error> {
    from_row_prefixed(row, "")
}

/// A contact read with [`columns`]`(prefix)`.
pub(super) fn from_row_prefixed(row: &impl super::Columns, prefix: &str) -> Result<Contact, sqlx::Error> {
    // Unprefixed (every other contact read) without building the names.
    let col = |name: &'static str| -> std::borrow::Cow<'static, str> {
        if prefix.is_empty() {
            name.into()
        } else {
            format!("{prefix}{name}").into()
        }
    };
    let state = row.text(&col("state"))?;
    let closed_by = row.opt_text(&col("closed_by"))?;
    Ok(Contact {
        id: ContactId(row.text(&col("id"))?),
        account_id: AccountId(row.text(&col("account_id"))?),
        state: super::known("contacts.state", &state, ContactState::parse(&state))?,
        visitor: VisitorRef(row.text(&col("visitor_id"))?),
        customer_name: row.text(&col("customer_name"))?,
        agent_id: row.opt_text(&col("agent_id"))?.map(UserId),
        agent_name: row.opt_text(&col("agent_name"))?,
        created_at: ts(row.int(&col("created_at"))?),
        accepted_at: row.opt_int(&col("accepted_at"))?.map(ts),
        closed_at: row.opt_int(&col("closed_at"))?.map(ts),
        closed_by: match closed_by.as_deref() {
            Some(s) => Some(super::known("contacts.closed_by", s, Sender::parse(s))?),
            None => None,
        },
        report_expires_at: row.opt_int(&col("report_expires_at"))?.map(ts),
        files: u32::try_from(row.int(&col("files"))?).unwrap_or(u32::MAX),
    })
}

/// Opens a queued contact.
pub async fn create(db: &Db, account: &AccountId, visitor: &VisitorRef, name: &str) -> Result<Contact, sqlx::Error> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO contacts (id, account_id, visitor_id, customer_name, state, created_at)
         VALUES ($1, $2, $3, $4, 'queued', $5)",
    )
    .bind(&id)
    .bind(account.as_str())
    .bind(visitor.as_str())
    .bind(name)
    .bind(now_us())
    .execute(db)
    .await?;
    get(db, &ContactId(id)).await?.ok_or(sqlx::Error::RowNotFound)
}

/// The contact with this id, of any account.
pub async fn get(db: &Db, id: &ContactId) -> Result<Option<Contact>, sqlx::Error> {
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| format!("{} WHERE c.id = $1", select_sql()));
    // Every upload and many other requests read their contact by key.
    if let Some(found) = super::by_key_here(db, &SQL, id.as_str(), |r| from_row(r)) {
        return Ok(found);
    }
    let row = sqlx::query(&SQL).bind(id.as_str()).fetch_optional(db).await?;
    row.as_ref().map(from_row).transpose()
}

/// Queued -> active for `agent`; false when the contact was not queued any more.
pub async fn accept(db: &Db, id: &ContactId, agent: &UserId) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE contacts SET state = 'active', agent_id = $1, accepted_at = $2 WHERE id = $3 AND state = 'queued'",
    )
    .bind(agent.as_str())
    .bind(now_us())
    .bind(id.as_str())
    .execute(db)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Closes a contact that is not closed yet; false when it already was.
pub async fn close(db: &Db, id: &ContactId, by: Sender, closed_at: i64, expires_at: i64) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE contacts SET state = 'closed', closed_at = $1, closed_by = $2, report_expires_at = $3
         WHERE id = $4 AND state <> 'closed'",
    )
    .bind(closed_at)
    .bind(by.as_str())
    .bind(expires_at)
    .bind(id.as_str())
    .execute(db)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Which contacts a listing may show besides filters.
#[derive(Debug, Clone)]
pub enum Visibility {
    /// Every contact of the account.
    All,
    /// Contacts handled by this user, in any state.
    HandledBy(UserId),
    /// Contacts handled by this user while they are active.
    ActiveHandledBy(UserId),
    /// Contacts handled by this user, or by agents this user supervises.
    HandledOrSupervisedBy(UserId),
    /// Contacts of agents this user supervises, and this user's own active contacts.
    SupervisedOrActiveHandledBy(UserId),
}

/// A contact listing.
#[derive(Debug, Clone)]
pub struct ContactQuery {
    /// The account.
    pub account: AccountId,
    /// What the caller may see.
    pub visibility: Visibility,
    /// Also every queued contact of the account (the queue).
    pub with_queue: bool,
    /// Only this state.
    pub state: Option<ContactState>,
    /// Only contacts of this agent.
    pub agent: Option<UserId>,
    /// Opened at or after.
    pub from: Option<Timestamp>,
    /// Opened before.
    pub to: Option<Timestamp>,
    /// Leave out closed contacts unless `state` asks for them.
    pub open_only: bool,
    /// At most this many, newest first (the queue: oldest first).
    pub limit: i64,
}

/// A value bound to a query built at run time.
pub(super) enum Arg {
    Text(String),
    Int(i64),
}

/// A query built at run time: its text and its arguments, numbered as they are added.
#[derive(Default)]
pub(super) struct Sql {
    pub(super) text: String,
    pub(super) args: Vec<Arg>,
}

impl Sql {
    pub(super) fn arg(&mut self, a: Arg) -> String {
        self.args.push(a);
        format!("${}", self.args.len())
    }
    pub(super) fn text(&mut self, s: &str) -> String {
        self.arg(Arg::Text(s.to_owned()))
    }
    /// The query with its arguments bound.
    pub(super) fn query(&self) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments<'_>> {
        let mut query = sqlx::query(&self.text);
        for a in &self.args {
            query = match a {
                Arg::Text(s) => query.bind(s.clone()),
                Arg::Int(i) => query.bind(*i),
            };
        }
        query
    }
}

/// The condition on `c` (contacts, joined with `u`, their agents) of a visibility.
pub(super) fn visible(sql: &mut Sql, v: &Visibility) -> String {
    match v {
        Visibility::All => "1 = 1".to_owned(),
        Visibility::HandledBy(u) => format!("c.agent_id = {}", sql.text(u.as_str())),
        Visibility::ActiveHandledBy(u) => format!("(c.agent_id = {} AND c.state = 'active')", sql.text(u.as_str())),
        Visibility::HandledOrSupervisedBy(u) => {
            let p = sql.text(u.as_str());
            format!("(c.agent_id = {p} OR u.supervisor_id = {p})")
        }
        Visibility::SupervisedOrActiveHandledBy(u) => {
            let p = sql.text(u.as_str());
            format!("(u.supervisor_id = {p} OR (c.agent_id = {p} AND c.state = 'active'))")
        }
    }
}

/// Contacts matching the query. The queue comes first, oldest first; then the rest, newest first.
pub async fn list(db: &Db, q: &ContactQuery) -> Result<Vec<Contact>, sqlx::Error> {
    let mut sql = Sql::default();
    let account = sql.text(q.account.as_str());
    let visible = visible(&mut sql, &q.visibility);
    let visible = if q.with_queue { format!("(c.state = 'queued' OR {visible})") } else { visible };
    let now = sql.arg(Arg::Int(now_us()));
    let mut conds = vec![
        format!("c.account_id = {account}"),
        visible,
        format!("(c.report_expires_at IS NULL OR c.report_expires_at > {now})"),
    ];
    if let Some(s) = q.state {
        conds.push(format!("c.state = {}", sql.text(s.as_str())));
    } else if q.open_only {
        conds.push("c.state <> 'closed'".to_owned());
    }
    if let Some(a) = &q.agent {
        conds.push(format!("c.agent_id = {}", sql.text(a.as_str())));
    }
    if let Some(f) = q.from {
        conds.push(format!("c.created_at >= {}", sql.arg(Arg::Int(f.timestamp_micros()))));
    }
    if let Some(t) = q.to {
        conds.push(format!("c.created_at < {}", sql.arg(Arg::Int(t.timestamp_micros()))));
    }
    let limit = sql.arg(Arg::Int(q.limit));
    let select = select_sql();
    sql.text = format!(
        "{select} WHERE {} ORDER BY CASE WHEN c.state = 'queued' THEN 0 ELSE 1 END,
         CASE WHEN c.state = 'queued' THEN c.created_at ELSE -c.created_at END, c.id LIMIT {limit}",
        conds.join(" AND ")
    );
    let rows = sql.query().fetch_all(db).await?;
    rows.iter().map(from_row).collect()
}

/// Contacts of the visitors this credential hash opens (its owner's, in every account), newest first.
pub async fn of_credential(db: &Db, hash: &str) -> Result<Vec<Contact>, sqlx::Error> {
    let select = select_sql();
    let rows = sqlx::query(&format!(
        "{select} JOIN visitors v ON v.id = c.visitor_id WHERE (v.cookie_hash = $1 OR v.token_hash = $1)
         AND (c.report_expires_at IS NULL OR c.report_expires_at > $2) ORDER BY c.created_at DESC LIMIT 100"
    ))
    .bind(hash)
    .bind(now_us())
    .fetch_all(db)
    .await?;
    rows.iter().map(from_row).collect()
}

fn message_from_row(row: &AnyRow) -> Result<Message, sqlx::Error> {
    let sender: String = row.try_get("sender")?;
    Ok(Message {
        id: MessageId(row.try_get("id")?),
        contact_id: ContactId(row.try_get("contact_id")?),
        sender: super::known("messages.sender", &sender, Sender::parse(&sender))?,
        sender_name: row.try_get("sender_name")?,
        body: row.try_get("body")?,
        created_at: ts(row.try_get("created_at")?),
        attachment: None,
    })
}

/// Appends a message to a transcript.
pub async fn add_message(
    db: &Db,
    contact: &ContactId,
    sender: Sender,
    sender_name: &str,
    body: &str,
) -> Result<Message, sqlx::Error> {
    let id = crate::db::new_ordered_id();
    let now = now_us();
    sqlx::query(
        "INSERT INTO messages (id, contact_id, sender, sender_name, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(contact.as_str())
    .bind(sender.as_str())
    .bind(sender_name)
    .bind(body)
    .bind(now)
    .execute(db)
    .await?;
    Ok(Message {
        id: MessageId(id),
        contact_id: contact.clone(),
        sender,
        sender_name: sender_name.to_owned(),
        body: body.to_owned(),
        created_at: ts(now),
        attachment: None,
    })
}

/// A contact's transcript, oldest first.
pub async fn messages(db: &Db, contact: &ContactId) -> Result<Vec<Message>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, contact_id, sender, sender_name, body, created_at FROM messages
         WHERE contact_id = $1 ORDER BY created_at, id",
    )
    .bind(contact.as_str())
    .fetch_all(db)
    .await?;
    rows.iter().map(message_from_row).collect()
}

/// Contacts whose report has expired by `now`.
pub async fn expired(db: &Db, now: i64, limit: i64) -> Result<Vec<ContactId>, sqlx::Error> {
    let rows =
        sqlx::query("SELECT id FROM contacts WHERE report_expires_at IS NOT NULL AND report_expires_at <= $1 LIMIT $2")
            .bind(now)
            .bind(limit)
            .fetch_all(db)
            .await?;
    rows.iter().map(|r| r.try_get::<String, _>("id").map(ContactId)).collect()
}

/// Deletes a contact, its messages, attachment records and upload records, in one transaction
/// (their blobs are the caller's to delete first).
pub async fn delete(db: &Db, id: &ContactId) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    sqlx::query("DELETE FROM access_records WHERE contact_id = $1").bind(id.as_str()).execute(&mut *tx).await?;
    sqlx::query(
        "DELETE FROM attachment_lookups WHERE attachment_id IN (SELECT id FROM attachments WHERE contact_id = $1)",
    )
    .bind(id.as_str())
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM attachments WHERE contact_id = $1").bind(id.as_str()).execute(&mut *tx).await?;
    sqlx::query("DELETE FROM uploads WHERE contact_id = $1").bind(id.as_str()).execute(&mut *tx).await?;
    sqlx::query("DELETE FROM messages WHERE contact_id = $1").bind(id.as_str()).execute(&mut *tx).await?;
    sqlx::query("DELETE FROM contacts WHERE id = $1").bind(id.as_str()).execute(&mut *tx).await?;
    tx.commit().await
}
