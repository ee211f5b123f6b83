//! Uploads, whichever door they come through (tus, the consumer API's temporary PUT URL):
//! starting one (who, which contact, limits first), appending bytes at an offset under the
//! upload's lease, and finishing it exactly once — checks, store, transcript, one event — by
//! whichever instance meets it complete, also after a crash.
//!
//! The lease is a row lock with an expiry in the database, so two requests of one upload never
//! write at once whatever instances they reach, and a dead instance's lease runs out by itself.
//!
//! Here: starting an upload and what its uploader may ask of it. The lease is in `lease.rs`,
//! appending in `append.rs`, finishing (and refusing, and recovering after a crash) in
//! `finish.rs`.

mod append;
mod finish;
mod lease;
mod release;

pub use append::{append, terminate, Appended, Chunk};
pub use finish::{ensure_finished, publish_held, recover, send_owed, SentEvents};
pub use lease::Lease;
pub use release::release;

use super::attachment;
use super::text_field;
use crate::auth::Staff;
use crate::check;
use crate::db::{is_id, new_id, now_us};
use crate::error::{AppError, AppResult};
use crate::repo;
pub use crate::repo::upload::UploadRow;
use crate::storage::StoreKey;
use crate::upload::{Spot, StagingError};
use crate::AppState;
use attache_protocol::{
    Account, ApiError, Contact, ContactId, ContactState, ErrorCode, Sender, UploadId, UploadState, UploadStatus,
    VisitorId, MAX_PLAN_UPLOAD_BYTES,
};

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
    /// The creating request goes on to write the first bytes: the upload starts leased to it.
    pub leased: bool,
}

/// A new upload, with what its creation read for a first write in the same request.
#[derive(Debug)]
pub struct Created {
    /// The upload as recorded.
    pub row: UploadRow,
    /// Its contact and account as read now.
    pub known: Known,
    /// Its lease, when [`NewUpload::leased`].
    pub lease: Option<Lease>,
}

/// An upload's contact and account as this request read them: a first write reuses them rather
/// than reading them again a few microseconds later.
#[derive(Debug, Clone)]
pub struct Known {
    /// The upload's contact.
    pub contact: Contact,
    /// Its account (the plan's limits and checks).
    pub account: Account,
}

/// Where an upload stands, for its staging area (`whole`: see [`Spot::whole`]).
fn spot<'a>(row: &'a UploadRow, target: &'a StoreKey, whole: bool) -> Spot<'a> {
    Spot { id: &row.id, target, staged: &row.staged, offset: row.offset, length: row.length, whole }
}

/// What the request read already, that appending need not read again.
#[derive(Debug, Default)]
pub enum Prior {
    /// Nothing: the contact and account are read.
    #[default]
    Nothing,
    /// The sender's account, as their staff session carries it: the contact is read.
    Account(Account),
    /// The contact and account, as the creating request read them.
    Both(Known),
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
pub async fn create(state: &AppState, uploader: &Uploader, new: NewUpload) -> AppResult<Created> {
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
                return Err(AppError::Refused(
                    ErrorCode::NotYourContact,
                    "only the contact's agent can send files to it".into(),
                ));
            }
            (Sender::Agent, staff.user.display_name.clone())
        }
        Uploader::Visitor(v) => {
            if !super::access::owned_by(&state.db, &contact, v).await? {
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
        return Err(AppError::Refused(
            ErrorCode::ContactNotActive,
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
        return Err(AppError::Refused(
            ErrorCode::FileSharingDisabled,
            "file sharing is switched off for this account".into(),
        ));
    }
    let limit = account.plan.max_upload_bytes.min(MAX_PLAN_UPLOAD_BYTES);
    if new.length > limit {
        return Err(AppError::Refused(
            ErrorCode::FileTooLarge,
            format!("the file has {} bytes; the limit of this account is {}", new.length, limit_words(limit)),
        ));
    }
    if new.length == 0 {
        return Err(AppError::Refused(ErrorCode::EmptyFile, "the file is empty".into()));
    }
    let name = check::file_name(&new.file_name)?;
    let declared = match new.declared_type.as_deref().filter(|t| !t.trim().is_empty()) {
        Some(t) => check::media_type(t)?,
        None => check::type_of_extension(&name).unwrap_or("application/octet-stream").to_owned(),
    };
    for claimed in [Some(declared.as_str()), check::type_of_extension(&name)].into_iter().flatten() {
        if !check::allowed(&account.plan.allowed_types, claimed) {
            return Err(AppError::Refused(
                ErrorCode::TypeNotAllowed,
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
    let lease = new.leased.then(|| Lease::new_owner(state));
    let recorded = repo::upload::create(
        &state.writer,
        &row,
        MAX_OPEN_UPLOADS_PER_CONTACT,
        lease.as_ref().map(|(o, t)| (o.as_str(), *t)),
    );
    let refusal = match recorded.await {
        Ok(true) => None,
        Ok(false) => Some(AppError::Refused(
            ErrorCode::TooManyUploads,
            format!("this contact already has {MAX_OPEN_UPLOADS_PER_CONTACT} unfinished uploads; finish or cancel one"),
        )),
        Err(e) => Some(e.into()),
    };
    if let Some(e) = refusal {
        let _ = state.files.staging.discard(&row.id, &row.staged).await;
        return Err(e);
    }
    let lease = lease.map(|(owner, _)| Lease::held(state, row.clone(), owner));
    Ok(Created { row, known: Known { contact, account }, lease })
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
        return Err(expired());
    }
    Ok(row)
}

fn expired() -> AppError {
    AppError::Refused(ErrorCode::UploadExpired, "the upload expired; start it again".into())
}

/// The lease of the caller's own upload, taken with one statement (see [`Lease::take_own`]).
pub async fn take_own(state: &AppState, uploader: &Uploader, id: &str) -> AppResult<Lease> {
    Lease::take_own(state, uploader, id).await
}

/// The state both sides see: a receiving upload with every byte in (and not held for
/// publishing) is being checked.
pub fn shown_state(row: &UploadRow) -> UploadState {
    match row.state {
        UploadState::Receiving if row.offset == row.length && !row.hold => UploadState::Checking,
        other => other,
    }
}

/// What the uploader sees of an upload.
pub async fn status(state: &AppState, row: &UploadRow) -> AppResult<UploadStatus> {
    let message = match &row.message_id {
        Some(m) => attachment::message_by_id(state, &row.contact_id, m.as_str()).await?,
        None => None,
    };
    let error = match (&row.error_code, &row.error_message) {
        (Some(c), Some(m)) => Some(ApiError::new(*c, m.clone())),
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
