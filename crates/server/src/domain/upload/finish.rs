//! Finishing a complete upload exactly once — checks, store, transcript, one event — by whichever
//! instance meets it complete, also after a crash; refusing one for good; the events a change owes
//! and the recovery pass that sends them.

use super::{internal, spot, status, Lease, UploadRow};
use crate::db::{new_ordered_id, now_us};
use crate::domain::attachment::{self, Checked};
use crate::error::{AppError, AppResult};
use crate::repo;
use crate::repo::attachment::{NewAttachment, Published};
use crate::storage::StoreKey;
use crate::upload::StagingError;
use crate::AppState;
use attache_protocol::{
    Account, AttachmentId, Contact, ContactId, ContactState, ErrorCode, Event, Message, MessageId, UploadState,
};
use serde::{Deserialize, Serialize};

/// An event owed by a committed change, as `pending_events` keeps it.
#[derive(Debug, Serialize, Deserialize)]
struct Owed {
    contact: ContactId,
    event: Event,
}

/// Most sent events waiting for their rows to go; beyond it a row goes by a task of its own.
const SENT_QUEUE: usize = 4096;
/// Most rows one transaction removes.
const SENT_BATCH: usize = 256;

/// Owed events the request that owed them sent at once: their `pending_events` rows are removed
/// in the background, those sent together in one transaction, so that finishing a file costs no
/// second trip to the database before its answer. An event is sent before its row goes: a crash
/// in between leaves the row, and the recovery pass sends it again (at least once, never lost;
/// both clients keep messages by id, so the second copy changes nothing on screen).
#[derive(Clone)]
pub struct SentEvents {
    queue: crate::batch::Batches<String>,
}

impl SentEvents {
    /// Removal of sent events' rows from `db`, its task started.
    pub fn start(db: crate::db::Writer) -> SentEvents {
        let queue = crate::batch::Batches::start(SENT_QUEUE, SENT_BATCH, std::time::Duration::ZERO, move |ids| {
            let db = db.clone();
            async move { forget(&db, ids).await }
        });
        SentEvents { queue }
    }

    /// The owed event `id` was sent.
    fn sent(&self, id: String) {
        self.queue.push(id);
    }

    /// Returns once the rows of every event sent before the call are removed (or failed).
    pub async fn flush(&self) {
        self.queue.flush().await
    }
}

async fn forget(db: &crate::db::Writer, ids: Vec<String>) {
    if let Err(e) = repo::upload::forget_pending_events(db, ids).await {
        // The rows stay; the recovery pass sends those events again.
        tracing::warn!(error = ?e, "sent events not forgotten");
    }
}

/// Sends an owed event, if nobody sent it yet.
pub async fn send_owed(state: &AppState, id: &str) -> AppResult<()> {
    send_owed_in(state, id, None).await
}

/// [`send_owed`], when the caller holds the contact already (as read in this request).
async fn send_owed_in(state: &AppState, id: &str, known: Option<&Contact>) -> AppResult<()> {
    let Some(payload) = repo::upload::take_pending_event(&state.writer, id).await? else {
        return Ok(());
    };
    let owed: Owed = serde_json::from_str(&payload).map_err(|e| AppError::Internal(e.into()))?;
    deliver(state, owed, known).await
}

/// Sends an owed event taken from `pending_events` by this caller.
async fn deliver(state: &AppState, owed: Owed, known: Option<&Contact>) -> AppResult<()> {
    // An active contact's audience (its visitor and agent) stays as read; a queued one may have
    // been accepted meanwhile, and the staff's file count must be current: read it again.
    match known.filter(|c| c.id == owed.contact && c.state == ContactState::Active) {
        Some(contact) => state.hub.to_both_sides(contact, owed.event),
        None => {
            if let Some(contact) = repo::contact::get(&state.db, &owed.contact).await? {
                state.hub.to_both_sides(&contact, owed.event);
            }
        }
    }
    Ok(())
}

/// Refuses an upload for good: its bytes go, the reason stays on the record, both sides are
/// told once. Returns the refusal (or an internal error that kept it from being recorded).
pub(super) async fn refuse(state: &AppState, row: &UploadRow, contact: &Contact, refusal: AppError) -> AppError {
    let body = refusal.body();
    // The scanner gave no verdict: the file is kept, blocked, for an admin to release.
    let blocked = body.error == attachment::SCANNER_UNAVAILABLE;
    let event = Owed {
        contact: contact.id.clone(),
        event: Event::UploadRefused {
            upload_id: row.id.clone(),
            contact_id: row.contact_id.clone(),
            name: row.file_name.clone(),
            error: body.clone(),
            releasable: blocked,
        },
    };
    let payload = serde_json::to_string(&event).unwrap_or_default();
    state.files.digests.forget(&row.id);
    match repo::upload::mark_refused(&state.writer, &row.id, (body.error.as_str(), &body.message), &payload, blocked)
        .await
    {
        Ok(true) => {
            let _ = state.files.staging.discard(&row.id, &row.staged).await;
            if !blocked {
                let _ = state.files.store.delete(&StoreKey::for_upload(&row.id)).await;
            }
            let _ = state.files.store.delete(&StoreKey::preview_for_upload(&row.id)).await;
            let _ = state.files.store.delete(&StoreKey::clean_for_upload(&row.id)).await;
            if let Err(e) = send_owed_in(state, &format!("refused-{}", row.id.as_str()), Some(contact)).await {
                tracing::error!(error = ?e, "could not send an upload refusal");
            }
            tracing::info!(upload = %row.id, code = %refusal.code(), "upload refused");
            refusal
        }
        Ok(false) => refusal,
        Err(e) => e.into(),
    }
}

/// Checks, stores and publishes a complete upload, exactly once: the store object's key and
/// the attachment's unique upload id make a second attempt (after a crash, or by another
/// instance) find what the first did. A refused file leaves nothing but the reason; an internal
/// failure keeps the bytes so that a later attempt finishes it. `in_store`: the staging area put
/// the file in the store already (see `Spot::whole`).
pub(super) async fn finish(
    state: &AppState,
    lease: &Lease,
    row: &UploadRow,
    contact: &Contact,
    account: Option<&Account>,
    in_store: bool,
) -> AppResult<Message> {
    let started = std::time::Instant::now();
    let r = finish_counted(state, lease, row, contact, account, in_store).await;
    state.metrics.finished(started.elapsed(), &r);
    r
}

async fn finish_counted(
    state: &AppState,
    lease: &Lease,
    row: &UploadRow,
    contact: &Contact,
    account: Option<&Account>,
    in_store: bool,
) -> AppResult<Message> {
    let files = &state.files;
    let target = StoreKey::for_upload(&row.id);
    let spot = spot(row, &target, false);
    let completed = if in_store { Ok(()) } else { files.staging.complete(spot).await };
    match completed {
        Ok(()) => {}
        Err(StagingError::Lost(why)) => {
            tracing::warn!(upload = %row.id, why, "a complete upload lost its bytes");
            let refusal = AppError::Refused(
                ErrorCode::UploadLost,
                "the file's bytes were lost on our side; send it again".into(),
            );
            return Err(refuse(state, row, contact, refusal).await);
        }
        Err(e) => return Err(internal(e)),
    }
    // A file an admin released arrived while the contact was open; it goes into the transcript
    // whenever the release comes.
    if contact.state == ContactState::Closed && row.released_by.is_none() {
        let refusal = AppError::gone(ErrorCode::ContactClosed, "the contact ended before the file arrived");
        return Err(refuse(state, row, contact, refusal).await);
    }
    // Both sides see the file `checking` until it is ready or refused (a live hint: after a
    // crash the status says so all the same).
    state.hub.to_both_sides(
        contact,
        Event::UploadChecking {
            upload_id: row.id.clone(),
            contact_id: row.contact_id.clone(),
            sender: row.sender,
            name: row.file_name.clone(),
            length: row.length,
        },
    );
    let read;
    let account = match account {
        Some(a) => a,
        None => {
            read = repo::account::get(&state.db, &contact.account_id).await?.ok_or(AppError::NotFound("account"))?;
            &read
        }
    };
    let received = files.digests.finished(&row.id, row.length);
    let scan = row.released_by.is_none();
    let checked = match attachment::check_file(state, row, account, &target, received, scan).await {
        Ok(c) => c,
        Err(e @ AppError::Internal(_)) => return Err(e),
        Err(refusal) => return Err(refuse(state, row, contact, refusal).await),
    };
    let preview = checked.image.as_ref().map(|i| &i.preview).or(checked.document_preview.as_ref());
    let preview_key = match preview {
        Some(preview) => {
            let key = StoreKey::preview_for_upload(&row.id);
            let bytes = bytes::Bytes::from(preview.clone());
            let stream = futures_util::stream::iter([Ok::<_, std::io::Error>(bytes)]);
            files.store.put(&key, Box::pin(stream)).await.map_err(|e| AppError::Internal(e.into()))?;
            Some(key)
        }
        None => None,
    };
    if lease.lost() {
        return Err(AppError::Refused(
            ErrorCode::UploadLocked,
            "the upload is being finished elsewhere; ask again shortly".into(),
        ));
    }
    let file_key = checked.file_key.clone().unwrap_or_else(|| target.clone());
    let message = publish(state, lease, row, contact, &checked, &file_key, preview_key.as_ref()).await?;
    if file_key != target {
        // The original, with its metadata, is not kept once the cleaned copy is published.
        let _ = files.store.delete(&target).await;
    }
    Ok(message)
}

async fn publish(
    state: &AppState,
    lease: &Lease,
    row: &UploadRow,
    contact: &Contact,
    checked: &Checked,
    target: &StoreKey,
    preview_key: Option<&StoreKey>,
) -> AppResult<Message> {
    let files = &state.files;
    let (id, message_id, now) = (AttachmentId(new_ordered_id()), MessageId(new_ordered_id()), now_us());
    let body = row.description.clone().unwrap_or_else(|| row.file_name.clone());
    let new = NewAttachment {
        id: &id,
        message_id: &message_id,
        created_at: now,
        upload_id: &row.id,
        contact_id: &row.contact_id,
        sender: row.sender,
        sender_name: &row.sender_name,
        body: &body,
        file_name: &row.file_name,
        description: row.description.as_deref(),
        size: checked.size,
        media_type: &checked.media_type,
        declared_type: &row.declared_type,
        sha256: &checked.sha256,
        file_key: target.as_str(),
        preview_key: preview_key.map(StoreKey::as_str),
        dimensions: checked.image.as_ref().map(|i| (i.width, i.height)),
        released: row.released_by.as_ref().zip(row.released_at).map(|((_, name), at)| (name.as_str(), at)),
        metadata_removed: checked.metadata_removed,
        lookups: attachment::lookups(&files.keys, &row.contact_id, &id),
    };
    // The message as both sides will see it, built before the transaction that owes its event.
    let att = repo::attachment::AttachmentRow {
        id: id.clone(),
        contact_id: row.contact_id.clone(),
        message_id: message_id.clone(),
        file_name: row.file_name.clone(),
        description: row.description.clone(),
        size: checked.size,
        media_type: checked.media_type.clone(),
        declared_type: row.declared_type.clone(),
        sha256: checked.sha256.clone(),
        file_key: target.as_str().to_owned(),
        preview_key: preview_key.map(|k| k.as_str().to_owned()),
        width: checked.image.as_ref().map(|i| i.width),
        height: checked.image.as_ref().map(|i| i.height),
        sender: row.sender,
        created_at: crate::db::ts(now),
        released_by: row.released_by.as_ref().map(|(_, name)| name.clone()),
        released_at: row.released_at.map(crate::db::ts),
        metadata_removed: checked.metadata_removed,
        removed: None,
    };
    let message = Message {
        id: message_id.clone(),
        contact_id: row.contact_id.clone(),
        sender: row.sender,
        sender_name: row.sender_name.clone(),
        body: body.clone(),
        created_at: att.created_at,
        attachment: Some(attachment::to_wire(&files.keys, &att)),
    };
    let owed = Owed { contact: contact.id.clone(), event: Event::AttachmentReady { message: message.clone() } };
    let payload = serde_json::to_string(&owed).map_err(|e| AppError::Internal(e.into()))?;
    match repo::attachment::publish(&state.writer, new, &payload).await? {
        Published::Created { event_taken, .. } => {
            lease.given_back();
            if !files.staging.complete_frees() {
                let _ = files.staging.discard(&row.id, &row.staged).await;
            }
            // Owed by the transaction above, and nobody else sends it before the recovery pass
            // finds it stale: sent now, its row removed in the background.
            deliver(state, owed, Some(contact)).await?;
            if !event_taken {
                state.sent_events.sent(message_id.0.clone());
            }
            tracing::info!(upload = %row.id, attachment = %id, size = checked.size, media = %checked.media_type, "attachment ready");
            Ok(message)
        }
        Published::AlreadyDone => {
            let again = repo::upload::get(&state.db, &row.id).await?.ok_or(AppError::NotFound("upload"))?;
            status(state, &again)
                .await?
                .message
                .ok_or_else(|| AppError::Refused(ErrorCode::UploadRefused, "the file was refused".into()))
        }
    }
}

/// Finishes an upload that a request (HEAD, status) meets complete but unfinished, if nobody
/// else is at it; returns the upload as it stands afterwards.
pub async fn ensure_finished(state: &AppState, row: UploadRow) -> AppResult<UploadRow> {
    if row.state != UploadState::Receiving || row.offset != row.length || row.hold {
        return Ok(row);
    }
    let Ok(lease) = Lease::take(state, &row.id).await else {
        return Ok(row);
    };
    let fresh = lease.row().clone();
    if fresh.state == UploadState::Receiving && fresh.offset == fresh.length && !fresh.hold {
        if let Some(contact) = repo::contact::get(&state.db, &fresh.contact_id).await? {
            // A refusal is recorded on the upload; the caller reads it from there.
            if let Err(e @ AppError::Internal(_)) = finish(state, &lease, &fresh, &contact, None, false).await {
                lease.release().await;
                return Err(e);
            }
        }
    }
    lease.release().await;
    repo::upload::get(&state.db, &row.id).await?.ok_or(AppError::NotFound("upload"))
}

/// Publishes a held upload (the consumer API's `PublishEvent`) with its description: finished
/// now, exactly once; publishing again answers with the same message.
pub async fn publish_held(state: &AppState, row: &UploadRow, description: Option<String>) -> AppResult<Message> {
    let published = |row: &UploadRow| row.state == UploadState::Ready;
    if !published(row) {
        if matches!(row.state, UploadState::Refused | UploadState::Blocked) {
            return Err(AppError::Refused(
                ErrorCode::UploadRefused,
                row.error_message.clone().unwrap_or_else(|| "the file was refused".into()),
            ));
        }
        if row.offset != row.length {
            return Err(AppError::Refused(
                ErrorCode::FileNotUploaded,
                "PUT the file to its upload URL before publishing it".into(),
            ));
        }
        let lease = Lease::take(state, &row.id).await?;
        let mut fresh = lease.row().clone();
        if fresh.state == UploadState::Receiving {
            repo::upload::release_hold(&state.db, &row.id, description.as_deref()).await?;
            fresh.description = description;
            fresh.hold = false;
            let contact =
                repo::contact::get(&state.db, &fresh.contact_id).await?.ok_or(AppError::NotFound("contact"))?;
            let finished = finish(state, &lease, &fresh, &contact, None, false).await;
            lease.release().await;
            return finished;
        }
        lease.release().await;
    }
    // Published already: the same message again (a retried request).
    let again = repo::upload::get(&state.db, &row.id).await?.ok_or(AppError::NotFound("upload"))?;
    status(state, &again).await?.message.ok_or(AppError::NotFound("message"))
}

/// The recovery pass (on start, then now and then): finishes every complete upload nobody is
/// finishing, and sends the events a dead process owed. Returns how many uploads it finished.
pub async fn recover(state: &AppState) -> anyhow::Result<usize> {
    let mut n = 0;
    for id in repo::upload::complete_unfinished(&state.db, 100).await? {
        if let Some(row) = repo::upload::get(&state.db, &id).await? {
            match ensure_finished(state, row).await {
                Ok(after) if after.state != UploadState::Receiving => {
                    tracing::info!(upload = %id, state = ?after.state, "recovered a complete upload");
                    n += 1;
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(upload = %id, error = ?e, "could not finish a complete upload yet")
                }
            }
        }
    }
    let stale = now_us() - 30 * 1_000_000;
    for id in repo::upload::stale_pending_events(&state.db, stale, 500).await? {
        send_owed(state, &id).await?;
    }
    Ok(n)
}
