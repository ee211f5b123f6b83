//! Uploads, whichever door they come through (tus, the consumer API's temporary PUT URL):
//! starting one (who, which contact, limits first), appending bytes at an offset under the
//! upload's lease, and finishing it exactly once — checks, store, transcript, one event — by
//! whichever instance meets it complete, also after a crash.
//!
//! The lease is a row lock with an expiry in the database, so two requests of one upload never
//! write at once whatever instances they reach, and a dead instance's lease runs out by itself.

use super::attachment::{self, Checked};
use super::text_field;
use crate::auth::Staff;
use crate::check;
use crate::db::{is_id, new_id, now_us};
use crate::error::{AppError, AppResult};
use crate::repo;
use crate::repo::attachment::{NewAttachment, Published};
pub use crate::repo::upload::UploadRow;
use crate::storage::{ByteStream, StoreKey};
use crate::upload::{Checksum, Spot, StagingError, WriteOutcome};
use crate::AppState;
use attache_protocol::{
    ApiError, AttachmentId, Contact, ContactId, ContactState, Event, Message, MessageId, Sender, UploadId, UploadState,
    UploadStatus, VisitorId, MAX_PLAN_UPLOAD_BYTES,
};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Most unfinished uploads one contact may have at once.
pub const MAX_OPEN_UPLOADS_PER_CONTACT: i64 = 16;

/// Who sends a file: the contact's agent (bearer) or its visitor (`vvcu`).
#[derive(Debug, Clone)]
pub enum Uploader {
    /// A signed-in staff member.
    Staff(Box<Staff>),
    /// A customer's browser.
    Visitor(VisitorId),
}

impl Uploader {
    fn key(&self) -> String {
        match self {
            Uploader::Staff(s) => format!("user:{}", s.user.id),
            // The cookie is a credential: only its hash is kept with the upload.
            Uploader::Visitor(v) => {
                use sha2::Digest;
                format!("visitor:{}", hex::encode(sha2::Sha256::digest(v.0.as_bytes())))
            }
        }
    }
}

/// A new upload, as a door parsed it.
#[derive(Debug, Default)]
pub struct NewUpload {
    /// The contact it is for.
    pub contact: String,
    /// The file's name (display only).
    pub file_name: String,
    /// The declared media type, if any (else guessed from the name).
    pub declared_type: Option<String>,
    /// Optional description.
    pub description: Option<String>,
    /// Announced length.
    pub length: u64,
    /// The tus `Upload-Metadata` as received, echoed on HEAD (empty for other doors).
    pub metadata: String,
    /// Wait for [`publish_held`] instead of finishing when the last byte is in.
    pub hold: bool,
}

/// Human size of a limit: `5 MiB (5242880 bytes)`.
pub fn limit_words(bytes: u64) -> String {
    if bytes.is_multiple_of(1024 * 1024) {
        format!("{} MiB ({bytes} bytes)", bytes / (1024 * 1024))
    } else {
        format!("{bytes} bytes")
    }
}

/// Starts an upload: the uploader must be the contact's agent (the contact active) or its
/// visitor (the contact queued or active), file sharing on, and the length within the plan.
/// Nothing is written before all that holds.
pub async fn create(state: &AppState, uploader: &Uploader, new: NewUpload) -> AppResult<UploadRow> {
    let db = &state.db;
    if !is_id(&new.contact) {
        return Err(AppError::NotFound("contact"));
    }
    let contact =
        repo::contact::get(db, &ContactId(new.contact.clone())).await?.ok_or(AppError::NotFound("contact"))?;
    let (sender, sender_name) = match uploader {
        Uploader::Staff(staff) => {
            if contact.account_id != staff.account.id {
                return Err(AppError::NotFound("contact"));
            }
            if contact.agent_id.as_ref() != Some(&staff.user.id) {
                return Err(AppError::Forbidden(
                    "not-your-contact",
                    "only the contact's agent can send files to it".into(),
                ));
            }
            (Sender::Agent, staff.user.display_name.clone())
        }
        Uploader::Visitor(v) => {
            if !super::contact::owned_by(&state.db, &contact, v).await? {
                return Err(AppError::NotFound("contact"));
            }
            (Sender::Customer, contact.customer_name.clone())
        }
    };
    // The customer may attach as soon as the contact exists (while it waits in the queue too);
    // the agent holds an active one (checked above).
    let open = match sender {
        Sender::Customer => contact.state != ContactState::Closed,
        Sender::Agent => contact.state == ContactState::Active,
    };
    if !open {
        return Err(AppError::Conflict(
            "contact-not-active",
            format!("files can be sent while the contact is open; this one is {}", contact.state.as_str()),
        ));
    }
    let account = match uploader {
        Uploader::Staff(staff) => staff.account.clone(),
        Uploader::Visitor(_) => {
            repo::account::get(db, &contact.account_id).await?.ok_or(AppError::NotFound("account"))?
        }
    };
    if !account.plan.file_sharing_enabled {
        return Err(AppError::Forbidden(
            "file-sharing-disabled",
            "file sharing is switched off for this account".into(),
        ));
    }
    let limit = account.plan.max_upload_bytes.min(MAX_PLAN_UPLOAD_BYTES);
    if new.length > limit {
        return Err(AppError::TooLarge(
            "file-too-large",
            format!("the file has {} bytes; the limit of this account is {}", new.length, limit_words(limit)),
        ));
    }
    if new.length == 0 {
        return Err(AppError::Invalid("empty-file", "the file is empty".into()));
    }
    let name = check::file_name(&new.file_name)?;
    let declared = match new.declared_type.as_deref().filter(|t| !t.trim().is_empty()) {
        Some(t) => check::media_type(t)?,
        None => check::type_of_extension(&name).unwrap_or("application/octet-stream").to_owned(),
    };
    for claimed in [Some(declared.as_str()), check::type_of_extension(&name)].into_iter().flatten() {
        if !check::allowed(&account.plan.allowed_types, claimed) {
            return Err(AppError::UnsupportedType(
                "type-not-allowed",
                format!(
                    "{claimed} files are not allowed on this account; allowed: {}",
                    account.plan.allowed_types.join(", ")
                ),
            ));
        }
    }
    let description = match new.description.as_deref() {
        Some(d) => {
            Some(text_field("the description", d, check::MAX_DESCRIPTION_CHARS, false)?).filter(|d| !d.is_empty())
        }
        None => None,
    };
    if repo::upload::receiving_count(db, &contact.id).await? >= MAX_OPEN_UPLOADS_PER_CONTACT {
        return Err(AppError::Conflict(
            "too-many-uploads",
            format!("this contact already has {MAX_OPEN_UPLOADS_PER_CONTACT} unfinished uploads; finish or cancel one"),
        ));
    }
    let expiry = chrono::Duration::from_std(state.files.config.upload_expiry).unwrap_or(chrono::Duration::days(1));
    let id = UploadId(new_id());
    let staged = state.files.staging.create(&id, &StoreKey::for_upload(&id)).await.map_err(internal)?;
    let row = UploadRow {
        id,
        account_id: contact.account_id.clone(),
        contact_id: contact.id.clone(),
        sender,
        sender_name,
        uploader: uploader.key(),
        file_name: name,
        declared_type: declared,
        description,
        metadata: new.metadata,
        length: new.length,
        offset: 0,
        state: UploadState::Receiving,
        message_id: None,
        error_code: None,
        error_message: None,
        expires_at: chrono::Utc::now() + expiry,
        staged,
        hold: new.hold,
        released_by: None,
        released_at: None,
    };
    if let Err(e) = repo::upload::create(db, &row).await {
        let _ = state.files.staging.discard(&row.id, &row.staged).await;
        return Err(e.into());
    }
    Ok(row)
}

fn internal(e: StagingError) -> AppError {
    AppError::Internal(anyhow::Error::new(e).context("staging"))
}

/// The caller's own upload; another's is "not found", an expired one "gone".
pub async fn own(state: &AppState, uploader: &Uploader, id: &str) -> AppResult<UploadRow> {
    let row = get(state, id).await?;
    if row.uploader != uploader.key() {
        return Err(AppError::NotFound("upload"));
    }
    Ok(row)
}

/// An upload by id (the temporary URL's signature stands for its owner); expired is "gone".
pub async fn get(state: &AppState, id: &str) -> AppResult<UploadRow> {
    if !is_id(id) {
        return Err(AppError::NotFound("upload"));
    }
    let row = repo::upload::get(&state.db, &UploadId(id.to_owned())).await?.ok_or(AppError::NotFound("upload"))?;
    if row.expires_at.timestamp_micros() <= now_us() {
        return Err(AppError::Gone("upload-expired", "the upload expired; start it again".into()));
    }
    Ok(row)
}

/// What the uploader sees of an upload.
/// The state both sides see: a receiving upload with every byte in (and not held for
/// publishing) is being checked.
pub fn shown_state(row: &UploadRow) -> UploadState {
    match row.state {
        UploadState::Receiving if row.offset == row.length && !row.hold => UploadState::Checking,
        other => other,
    }
}

pub async fn status(state: &AppState, row: &UploadRow) -> AppResult<UploadStatus> {
    let message = match &row.message_id {
        Some(m) => attachment::message_by_id(state, &row.contact_id, m.as_str()).await?,
        None => None,
    };
    let error = match (&row.error_code, &row.error_message) {
        (Some(c), Some(m)) => Some(ApiError { error: c.clone(), message: m.clone() }),
        _ => None,
    };
    Ok(UploadStatus {
        id: row.id.clone(),
        contact_id: row.contact_id.clone(),
        name: row.file_name.clone(),
        offset: row.offset,
        length: row.length,
        state: shown_state(row),
        message,
        error,
        expires_at: row.expires_at,
    })
}

// ---- the lease ---------------------------------------------------------------------------------

/// An upload's lease, renewed in the background while held; given back by [`Lease::release`]
/// (or, failing that, when dropped), or with the last write under it (the offset's update, the
/// publishing transaction), which saves the database a round trip per request.
pub struct Lease {
    state: AppState,
    id: UploadId,
    owner: String,
    /// The upload as read when the lease was taken: the offset is only trusted from here on.
    row: UploadRow,
    lost: Arc<AtomicBool>,
    renew: tokio::task::JoinHandle<()>,
    released: AtomicBool,
}

impl Lease {
    /// Takes the upload's lease, or says who is busy: `423 upload-locked`.
    pub async fn take(state: &AppState, id: &UploadId) -> AppResult<Lease> {
        let owner = new_id();
        let span = state.files.config.lease;
        let until = move |now: i64| now + i64::try_from(span.as_micros()).unwrap_or(i64::MAX / 2);
        let Some(row) = repo::upload::take_lease(&state.db, id, &owner, until(now_us())).await? else {
            return match repo::upload::get(&state.db, id).await? {
                Some(_) => Err(AppError::Locked(
                    "upload-locked",
                    "another request is writing this upload; retry shortly".into(),
                )),
                None => Err(AppError::NotFound("upload")),
            };
        };
        let lost = Arc::new(AtomicBool::new(false));
        let (db, rid, rowner, rlost) = (state.db.clone(), id.clone(), owner.clone(), lost.clone());
        let renew = tokio::spawn(async move {
            loop {
                tokio::time::sleep(span / 3).await;
                match repo::upload::lease(&db, &rid, &rowner, until(now_us())).await {
                    Ok(true) => {}
                    Ok(false) => {
                        rlost.store(true, Ordering::SeqCst);
                        return;
                    }
                    Err(e) => {
                        tracing::warn!(upload = %rid, error = ?e, "could not renew an upload's lease")
                    }
                }
            }
        });
        Ok(Lease { state: state.clone(), id: id.clone(), owner, row, lost, renew, released: AtomicBool::new(false) })
    }

    /// The upload as it stood when the lease was taken.
    pub fn row(&self) -> &UploadRow {
        &self.row
    }

    /// Records that a write under the lease gave it back.
    fn given_back(&self) {
        self.renew.abort();
        self.released.store(true, Ordering::SeqCst);
    }

    /// Whether the lease ran out under us (then nothing may be recorded).
    pub fn lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }

    /// Gives the lease back (nothing to do when a write under it already did).
    pub async fn release(self) {
        self.renew.abort();
        if self.released.swap(true, Ordering::SeqCst) {
            return;
        }
        if let Err(e) = repo::upload::release(&self.state.db, &self.id, &self.owner).await {
            tracing::warn!(upload = %self.id, error = ?e, "could not release an upload's lease; it expires by itself");
        }
    }
}

impl std::fmt::Debug for Lease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lease").field("upload", &self.id).finish()
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.renew.abort();
        if !self.released.load(Ordering::SeqCst) {
            let (db, id, owner) = (self.state.db.clone(), self.id.clone(), self.owner.clone());
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(async move {
                    let _ = repo::upload::release(&db, &id, &owner).await;
                });
            }
        }
    }
}

// ---- appending ---------------------------------------------------------------------------------

/// A body to append.
pub struct Chunk {
    /// Where the client says it starts.
    pub offset: u64,
    /// Its announced size (`Content-Length`), when known.
    pub declared_len: Option<u64>,
    /// The checksum it must match.
    pub checksum: Option<Checksum>,
    /// The bytes.
    pub body: ByteStream,
}

/// How an append went.
#[derive(Debug)]
pub struct Appended {
    /// The upload's offset now.
    pub offset: u64,
    /// The transcript message, when this append finished the upload.
    pub message: Option<Message>,
    /// The body broke off (the client resumes from `offset`).
    pub interrupted: bool,
    /// The upload's expiry (for `Upload-Expires`).
    pub expires_at: attache_protocol::Timestamp,
}

/// Appends a body to an upload under its lease, and finishes the upload when it is complete.
/// One worker for every door: the tus PATCH, creation-with-upload and the temporary PUT URL.
pub async fn append(state: &AppState, lease: &Lease, chunk: Chunk) -> AppResult<Appended> {
    // As read under the lease: the offset is only trusted now.
    let row = lease.row().clone();
    let done = |row: &UploadRow, message| Appended {
        offset: row.offset,
        message,
        interrupted: false,
        expires_at: row.expires_at,
    };
    match row.state {
        UploadState::Refused | UploadState::Blocked => {
            return Err(AppError::Gone(
                "upload-refused",
                row.error_message.clone().unwrap_or_else(|| "the file was refused".into()),
            ))
        }
        UploadState::Ready if chunk.offset == row.length && chunk.declared_len.unwrap_or(0) == 0 => {
            let message = status(state, &row).await?.message;
            return Ok(done(&row, message));
        }
        UploadState::Ready => {
            return Err(AppError::TooLarge(
                "upload-too-long",
                "the upload is complete; no more bytes go into it".into(),
            ))
        }
        UploadState::Receiving | UploadState::Checking => {}
    }
    if chunk.offset != row.offset {
        return Err(AppError::Conflict(
            "offset-mismatch",
            format!(
                "the upload is at offset {}, not {}; ask with HEAD and resume from there",
                row.offset, chunk.offset
            ),
        ));
    }
    let contact = repo::contact::get(&state.db, &row.contact_id).await?.ok_or(AppError::NotFound("contact"))?;
    if contact.state == ContactState::Closed {
        let refusal = AppError::Gone("contact-closed", "the contact has ended; it takes no more files".into());
        return Err(refuse(state, &row, &contact, refusal).await);
    }
    let remaining = row.length - row.offset;
    if chunk.declared_len.is_some_and(|n| n > remaining) {
        return Err(AppError::TooLarge(
            "upload-too-long",
            format!(
                "the chunk has {} bytes but only {remaining} remain of the announced length",
                chunk.declared_len.unwrap_or(0)
            ),
        ));
    }
    if remaining == 0 && !row.hold {
        // Complete but not finished (a crash, an instance that died): finish it now.
        let message = finish(state, lease, &row, &contact).await?;
        return Ok(Appended {
            offset: row.length,
            message: Some(message),
            interrupted: false,
            expires_at: row.expires_at,
        });
    }
    let target = StoreKey::for_upload(&row.id);
    let spot = Spot { id: &row.id, target: &target, staged: &row.staged, offset: row.offset, length: row.length };
    let (body, tap) = state.files.digests.tap(&row.id, row.offset, chunk.body);
    let written = match state.files.staging.write(spot, body, chunk.checksum.as_ref()).await {
        Ok(w) => w,
        Err(StagingError::Lost(why)) => {
            tracing::warn!(upload = %row.id, why, "upload lost its staged bytes");
            let refusal = AppError::Gone(
                "upload-lost",
                "the bytes received so far were lost on our side; send the file again".into(),
            );
            return Err(refuse(state, &row, &contact, refusal).await);
        }
        Err(e) => return Err(internal(e)),
    };
    let (n, interrupted) = match written.outcome {
        WriteOutcome::Complete(n) => (n, false),
        WriteOutcome::Interrupted(n) => (n, true),
        WriteOutcome::TooLong => {
            return Err(AppError::TooLarge("upload-too-long", "the chunk goes past the announced Upload-Length".into()))
        }
        WriteOutcome::ChecksumMismatch => {
            return Err(AppError::ChecksumMismatch(
                "the chunk does not match its Upload-Checksum; it was not appended".into(),
            ))
        }
    };
    let mut row = row;
    if n > 0 {
        let to = row.offset + n;
        // Unless this write completes the upload (finishing needs the lease), the lease goes back
        // with the offset.
        let release = interrupted || to < row.length || row.hold;
        if lease.lost()
            || !repo::upload::advance(&state.db, &row.id, &lease.owner, (row.offset, to), &written.staged, release)
                .await?
        {
            return Err(AppError::Conflict(
                "offset-mismatch",
                "the upload moved meanwhile; ask its offset with HEAD".into(),
            ));
        }
        if release {
            lease.given_back();
        }
        if let Some(tap) = tap {
            state.files.digests.recorded(&row.id, tap, n);
        }
        state.files.staging.recorded(&row.id, &row.staged, &written.staged).await;
        row.offset = to;
        row.staged = written.staged;
        progressed(state, &contact, &row);
    }
    if interrupted {
        return Ok(Appended { offset: row.offset, message: None, interrupted: true, expires_at: row.expires_at });
    }
    if row.offset == row.length && !row.hold {
        let message = finish(state, lease, &row, &contact).await?;
        return Ok(done(&row, Some(message)));
    }
    Ok(done(&row, None))
}

/// Tells both sides how far an upload got.
fn progressed(state: &AppState, contact: &Contact, row: &UploadRow) {
    state.hub.to_both_sides(
        contact,
        Event::UploadProgress {
            upload_id: row.id.clone(),
            contact_id: row.contact_id.clone(),
            sender: row.sender,
            name: row.file_name.clone(),
            offset: row.offset,
            length: row.length,
        },
    );
}

/// The uploader gives up: the staged bytes and the record go.
pub async fn terminate(state: &AppState, row: &UploadRow) -> AppResult<()> {
    let lease = Lease::take(state, &row.id).await?;
    state.files.digests.forget(&row.id);
    state.files.staging.discard(&row.id, &row.staged).await.map_err(internal)?;
    if row.state != UploadState::Ready {
        let _ = state.files.store.delete(&StoreKey::for_upload(&row.id)).await;
    }
    repo::upload::delete(&state.db, &row.id).await?;
    lease.release().await;
    Ok(())
}

// ---- finishing ---------------------------------------------------------------------------------

/// An event owed by a committed change, as `pending_events` keeps it.
#[derive(Debug, Serialize, Deserialize)]
struct Owed {
    contact: ContactId,
    event: Event,
}

/// Sends an owed event, if nobody sent it yet.
pub async fn send_owed(state: &AppState, id: &str) -> AppResult<()> {
    send_owed_in(state, id, None).await
}

/// [`send_owed`], when the caller holds the contact already (as read in this request).
async fn send_owed_in(state: &AppState, id: &str, known: Option<&Contact>) -> AppResult<()> {
    let Some(payload) = repo::upload::take_pending_event(&state.db, id).await? else {
        return Ok(());
    };
    let owed: Owed = serde_json::from_str(&payload).map_err(|e| AppError::Internal(e.into()))?;
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
async fn refuse(state: &AppState, row: &UploadRow, contact: &Contact, refusal: AppError) -> AppError {
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
    match repo::upload::mark_refused(&state.db, &row.id, (&body.error, &body.message), &payload, blocked).await {
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
            tracing::info!(upload = %row.id, code = refusal.code(), "upload refused");
            refusal
        }
        Ok(false) => refusal,
        Err(e) => e.into(),
    }
}

/// Checks, stores and publishes a complete upload, exactly once: the store object's key and
/// the attachment's unique upload id make a second attempt (after a crash, or by another
/// instance) find what the first did. A refused file leaves nothing but the reason; an internal
/// failure keeps the bytes so that a later attempt finishes it.
async fn finish(state: &AppState, lease: &Lease, row: &UploadRow, contact: &Contact) -> AppResult<Message> {
    let files = &state.files;
    let target = StoreKey::for_upload(&row.id);
    let spot = Spot { id: &row.id, target: &target, staged: &row.staged, offset: row.offset, length: row.length };
    match files.staging.complete(spot).await {
        Ok(()) => {}
        Err(StagingError::Lost(why)) => {
            tracing::warn!(upload = %row.id, why, "a complete upload lost its bytes");
            let refusal = AppError::Gone("upload-lost", "the file's bytes were lost on our side; send it again".into());
            return Err(refuse(state, row, contact, refusal).await);
        }
        Err(e) => return Err(internal(e)),
    }
    // A file an admin released arrived while the contact was open; it goes into the transcript
    // whenever the release comes.
    if contact.state == ContactState::Closed && row.released_by.is_none() {
        let refusal = AppError::Gone("contact-closed", "the contact ended before the file arrived".into());
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
    let account = repo::account::get(&state.db, &contact.account_id).await?.ok_or(AppError::NotFound("account"))?;
    let digest = files.digests.finished(&row.id, row.length);
    let scan = row.released_by.is_none();
    let checked = match attachment::check_file(state, row, &account, &target, digest, scan).await {
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
        return Err(AppError::Locked(
            "upload-locked",
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
    let (id, message_id, now) = (AttachmentId(new_id()), MessageId(new_id()), now_us());
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
    match repo::attachment::publish(&state.db, new, &payload).await? {
        Published::Created(_) => {
            lease.given_back();
            let _ = files.staging.discard(&row.id, &row.staged).await;
            send_owed_in(state, message_id.as_str(), Some(contact)).await?;
            tracing::info!(upload = %row.id, attachment = %id, size = checked.size, media = %checked.media_type, "attachment ready");
            Ok(message)
        }
        Published::AlreadyDone => {
            let again = repo::upload::get(&state.db, &row.id).await?.ok_or(AppError::NotFound("upload"))?;
            status(state, &again)
                .await?
                .message
                .ok_or_else(|| AppError::Gone("upload-refused", "the file was refused".into()))
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
            if let Err(e @ AppError::Internal(_)) = finish(state, &lease, &fresh, &contact).await {
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
            return Err(AppError::Gone(
                "upload-refused",
                row.error_message.clone().unwrap_or_else(|| "the file was refused".into()),
            ));
        }
        if row.offset != row.length {
            return Err(AppError::Conflict(
                "file-not-uploaded",
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
            let finished = finish(state, &lease, &fresh, &contact).await;
            lease.release().await;
            return finished;
        }
        lease.release().await;
    }
    // Published already: the same message again (a retried request).
    let again = repo::upload::get(&state.db, &row.id).await?.ok_or(AppError::NotFound("upload"))?;
    status(state, &again).await?.message.ok_or(AppError::NotFound("message"))
}

/// An admin releases a file that was blocked because the scanner gave no verdict: it is
/// checked again without the scanner and delivered, recorded with who and when. A file in
/// which a virus was found (or refused by any other check) cannot be released. Releasing a
/// released file again answers with the same message.
pub async fn release(state: &AppState, staff: &Staff, id: &str) -> AppResult<Message> {
    staff.require_admin()?;
    if !is_id(id) {
        return Err(AppError::NotFound("upload"));
    }
    let id = UploadId(id.to_owned());
    let row = repo::upload::get(&state.db, &id).await?.ok_or(AppError::NotFound("upload"))?;
    if row.account_id != staff.account.id {
        return Err(AppError::NotFound("upload"));
    }
    match row.state {
        UploadState::Blocked => {
            let by = (staff.user.id.as_str(), staff.user.display_name.as_str());
            repo::upload::mark_released(&state.db, &id, by, now_us()).await?;
            tracing::info!(upload = %id, admin = %staff.user.id, "blocked file released");
        }
        UploadState::Refused if row.error_code.as_deref() == Some(attachment::MALWARE_FOUND) => {
            return Err(AppError::Conflict(
                "not-releasable",
                "a virus was found in this file; it cannot be released".into(),
            ))
        }
        UploadState::Refused => {
            return Err(AppError::Conflict(
                "not-releasable",
                "only a file blocked because the scanner did not answer can be released".into(),
            ))
        }
        UploadState::Ready | UploadState::Receiving | UploadState::Checking => {}
    }
    let row = repo::upload::get(&state.db, &id).await?.ok_or(AppError::NotFound("upload"))?;
    if row.released_by.is_none() && row.state != UploadState::Ready {
        return Err(AppError::Conflict("not-releasable", "the file is not blocked".into()));
    }
    let after = ensure_finished(state, row).await?;
    match after.state {
        UploadState::Ready => status(state, &after).await?.message.ok_or(AppError::NotFound("message")),
        UploadState::Refused | UploadState::Blocked => Err(AppError::Conflict(
            "not-releasable",
            after.error_message.unwrap_or_else(|| "the file was refused when checked again".into()),
        )),
        // Someone else is finishing it right now.
        UploadState::Receiving | UploadState::Checking => {
            Err(AppError::Locked("upload-locked", "the file is being delivered; ask again shortly".into()))
        }
    }
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
