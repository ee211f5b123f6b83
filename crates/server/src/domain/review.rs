//! Supervisors' review: access records (written once a download's last byte went out), redaction
//! of one attachment, file-only retention, and where files stand for clients that keep copies.
//! The ZIP of a contact is [`super::export`]; the search and storage figures [`super::search`].

use super::access::{may_review, removed_error, staff_grant};
use crate::auth::Staff;
use crate::db::{is_id, now_us};
use crate::error::{AppError, AppResult};
use crate::events::Audience;
use crate::repo;
use crate::repo::attachment::{AttachmentRow, Removal};
use crate::storage::ByteStream;
use crate::AppState;
use attache_protocol::{
    AccessFilter, AccessGrant, AccessRecord, AttachmentId, Contact, ErrorCode, Event, FileState, FileStatus, Redacted,
    RemovalKind, Tombstone, MAX_REASON_CHARS, MAX_STATUS_IDS,
};
use futures_util::StreamExt;

pub use crate::repo::access_record::NewAccess;

/// Ranges of one download (the same file, caller and address) within this long of its first
/// record are that download's, not new ones.
const MERGE_US: i64 = 10 * 60 * 1_000_000;
/// Most records one listing returns.
const RECORDS_LIMIT: i64 = 5000;

/// `stream`, writing the access record as its last byte is handed out (`record.bytes` of them).
/// A download cut short (the client left, the store failed, the file was redacted under it)
/// records nothing. (The HTTP server stops polling a body once its length is sent, so the end is
/// known by counting, not by the stream's close.)
pub fn recorded(state: &AppState, record: NewAccess, stream: ByteStream) -> ByteStream {
    let log = state.access_log.clone();
    let expected = record.bytes;
    let mut sent: u64 = 0;
    let mut pending = Some(record);
    if expected == 0 {
        if let Some(r) = pending.take() {
            log.write(r);
        }
    }
    Box::pin(stream.map(move |item| {
        if let Ok(chunk) = &item {
            sent = sent.saturating_add(chunk.len() as u64);
            if sent >= expected {
                if let Some(r) = pending.take() {
                    log.write(r);
                }
            }
        }
        item
    }))
}

/// Most records waiting for the access log's writer; beyond it a record is written by a task of
/// its own, as if there were no log.
const ACCESS_LOG_QUEUE: usize = 4096;
/// Most records one transaction writes.
const ACCESS_LOG_BATCH: usize = 256;
/// How long a record waits for others to share its transaction. Each commit changes SQLite's
/// WAL, and a reader that finds the WAL changed starts with an empty page cache: a download's
/// own lookup then read its pages from the file again after every commit of the log. 20 ms keep
/// a batch within [`ACCESS_LOG_BATCH`] up to ~12,000 downloads a second (a backlog is written
/// without waiting), and nobody reviews access records within 20 ms of the download.
const ACCESS_LOG_LINGER: std::time::Duration = std::time::Duration::from_millis(20);

/// Writes access records in the background, those that arrive together in one transaction: a
/// burst of downloads costs one commit and one trip to the database, not one each. A record is
/// timed when its last byte went out, not when it is written. Nothing here is acknowledged to a
/// client: a record lost to a crash is lost as it was when each was written by a task of its own.
#[derive(Clone)]
pub struct AccessLog {
    queue: crate::batch::Batches<(NewAccess, i64)>,
}

impl AccessLog {
    /// A log writing to `db`, its writer task started.
    pub fn start(db: crate::db::Writer) -> AccessLog {
        let queue = crate::batch::Batches::start(ACCESS_LOG_QUEUE, ACCESS_LOG_BATCH, ACCESS_LOG_LINGER, move |batch| {
            let db = db.clone();
            async move {
                repo::access_record::record_batch(&db, batch, MERGE_US).await;
            }
        });
        AccessLog { queue }
    }

    /// Queues a record, timed now.
    pub fn write(&self, record: NewAccess) {
        self.queue.push((record, now_us()));
    }

    /// Returns once every record queued before the call is written (or failed).
    pub async fn flush(&self) {
        self.queue.flush().await
    }
}

/// A contact of the caller's account that is not expired, or why not.
async fn contact_of(state: &AppState, staff: &Staff, id: &attache_protocol::ContactId) -> AppResult<Contact> {
    let contact = repo::contact::get(&state.db, id).await?.ok_or(AppError::NotFound("contact"))?;
    if contact.account_id != staff.account.id {
        return Err(AppError::NotFound("contact"));
    }
    if contact.report_expires_at.is_some_and(|e| e.timestamp_micros() <= now_us()) {
        return Err(AppError::Refused(ErrorCode::ReportExpired, "the contact's report has expired".into()));
    }
    Ok(contact)
}

/// A contact's access records, for those who may review it.
pub async fn access_records(
    state: &AppState,
    staff: &Staff,
    contact: &str,
    filter: &AccessFilter,
) -> AppResult<Vec<AccessRecord>> {
    if !is_id(contact) {
        return Err(AppError::NotFound("contact"));
    }
    let contact = contact_of(state, staff, &attache_protocol::ContactId(contact.to_owned())).await?;
    if !may_review(&state.db, staff, &contact).await? {
        return Err(AppError::Refused(
            ErrorCode::NoReportAccess,
            "access records are for admins, report viewers and the agent's supervisor".into(),
        ));
    }
    Ok(repo::access_record::of_contact(&state.db, &contact.id, filter, RECORDS_LIMIT).await?)
}

/// Checks a redaction's reason: 1 to 500 characters on one line, nothing invisible.
fn reason(raw: &str) -> AppResult<String> {
    if raw.chars().any(char::is_control) {
        return Err(AppError::invalid("the reason must be one line without control characters"));
    }
    super::text_field("the reason", raw, MAX_REASON_CHARS, true)
}

/// Takes one attachment away: its bytes and preview leave the store, every URL answers 410,
/// both sides hear `attachment_removed`, and the transcript keeps the tombstone. Admins and the
/// supervisor of the contact's agent may; report viewers when the account allows it. The answer
/// is durable: should the store fail, the deletion is owed and swept until it is done
/// ([`super::removal`]), and the answer says the bytes are still being removed.
pub async fn redact(state: &AppState, staff: &Staff, id: &str, raw_reason: &str) -> AppResult<Redacted> {
    if !is_id(id) {
        return Err(AppError::NotFound("attachment"));
    }
    let row = repo::attachment::by_id_or_message(&state.db, id).await?.ok_or(AppError::NotFound("attachment"))?;
    let contact = contact_of(state, staff, &row.contact_id).await?;
    let allowed = match staff_grant(&state.db, staff, &contact).await? {
        Some(AccessGrant::Admin | AccessGrant::Supervisor) => true,
        Some(AccessGrant::Reports) => staff.account.plan.reports_may_redact,
        _ => false,
    };
    if !allowed {
        return Err(AppError::Refused(
            ErrorCode::NoRedactAccess,
            "only admins and the supervisor of the contact's agent may redact files here".into(),
        ));
    }
    let reason = reason(raw_reason)?;
    if let Some(t) = &row.removed {
        return Err(already(t));
    }
    let removal = Removal {
        kind: RemovalKind::Redacted,
        by: Some((staff.user.id.as_str(), staff.user.display_name.as_str())),
        reason: Some(&reason),
        at: now_us(),
    };
    let Some(bytes_removed) = take_away(state, &contact, &row, &removal).await? else {
        let now = repo::attachment::by_id_or_message(&state.db, id).await?;
        return Err(now.and_then(|r| r.removed).map_or(AppError::NotFound("attachment"), |t| already(&t)));
    };
    tracing::info!(attachment = %row.id, contact = %contact.id, by = %staff.user.username, bytes_removed, "attachment redacted");
    let message = super::attachment::message_by_id(state, &contact.id, row.message_id.as_str())
        .await?
        .ok_or(AppError::NotFound("attachment"))?;
    let detail = if bytes_removed {
        format!("{} was redacted; its bytes and preview were deleted.", row.file_name)
    } else {
        format!(
            "{} was redacted and every link to it is closed; the store did not confirm the deletion of its bytes yet, \
             so they are still being removed (retried until the store confirms).",
            row.file_name
        )
    };
    Ok(Redacted { message, bytes_removed, detail })
}

fn already(t: &Tombstone) -> AppError {
    let AppError::Refused(_, words) = removed_error(t) else { unreachable!("removed_error refuses") };
    AppError::Refused(ErrorCode::AlreadyRemoved, words)
}

/// Marks the row removed (its deletions owed in the same transaction), deletes the bytes, and
/// tells both sides. `None` when it was removed already; else whether the store confirmed the
/// bytes gone.
async fn take_away(
    state: &AppState,
    contact: &Contact,
    row: &AttachmentRow,
    r: &Removal<'_>,
) -> AppResult<Option<bool>> {
    let Some(bytes_removed) = super::removal::remove(state, row, r).await? else { return Ok(None) };
    let tombstone = Tombstone {
        kind: r.kind,
        by: r.by.map(|b| b.1.to_owned()),
        at: crate::db::ts(r.at),
        reason: r.reason.map(str::to_owned),
    };
    let event = Event::AttachmentRemoved {
        contact_id: contact.id.clone(),
        message_id: row.message_id.clone(),
        attachment_id: row.id.clone(),
        sha256: row.sha256.clone(),
        tombstone,
    };
    // The contact's visitor, and every staff member of the account: consoles that keep a copy
    // (supervisors, report viewers) drop it.
    state.hub.publish(&contact.account_id, vec![Audience::Visitor(contact.visitor.clone()), Audience::Staff], event);
    Ok(Some(bytes_removed))
}

/// File-only retention: attachments older than their account's `file_retention_days` lose their
/// bytes and keep an "expired" tombstone (the bytes as with a redaction: owed until the store
/// confirms). Returns how many went.
pub async fn sweep_file_retention(state: &AppState) -> anyhow::Result<usize> {
    let mut total = 0;
    loop {
        let batch = repo::attachment::files_due(&state.db, now_us(), 200).await?;
        if batch.is_empty() {
            return Ok(total);
        }
        for row in &batch {
            let removal = Removal { kind: RemovalKind::Expired, by: None, reason: None, at: now_us() };
            let Some(contact) = repo::contact::get(&state.db, &row.contact_id).await? else { continue };
            match take_away(state, &contact, row, &removal).await.map_err(|e| anyhow::anyhow!("{e}"))? {
                None => continue,
                Some(bytes_removed) => {
                    tracing::info!(attachment = %row.id, bytes_removed, "file retention: attachment expired")
                }
            }
            total += 1;
        }
    }
}

/// Where each of these attachments stands (for the console's cache: what it must drop). Ids of
/// other accounts, unknown ids and expired reports are `gone`.
pub async fn file_status(state: &AppState, staff: &Staff, ids: &[AttachmentId]) -> AppResult<Vec<FileStatus>> {
    if ids.len() > MAX_STATUS_IDS {
        return Err(AppError::invalid(format!("ask about at most {MAX_STATUS_IDS} files at once")));
    }
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let state_of = if !is_id(id.as_str()) {
            FileState::Gone
        } else {
            match repo::attachment::by_id_or_message(&state.db, id.as_str()).await? {
                None => FileState::Gone,
                Some(row) => match repo::contact::get(&state.db, &row.contact_id).await? {
                    Some(c)
                        if c.account_id == staff.account.id
                            && c.report_expires_at.is_none_or(|e| e.timestamp_micros() > now_us()) =>
                    {
                        match row.removed.map(|t| t.kind) {
                            None => FileState::Present,
                            Some(RemovalKind::Redacted) => FileState::Redacted,
                            Some(RemovalKind::Expired) => FileState::Expired,
                        }
                    }
                    _ => FileState::Gone,
                },
            }
        };
        out.push(FileStatus { id: id.clone(), state: state_of });
    }
    Ok(out)
}
