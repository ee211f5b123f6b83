//! Attachments: starting an upload (who, which contact, limits first), finishing it (the
//! checks, the store, the transcript, one event), who may open a file (DESIGN.md's access
//! table), and retention of files.

use super::contact::may_read;
use super::text_field;
use crate::auth::Staff;
use crate::check;
use crate::db::{is_id, now_us, Db};
use crate::error::{AppError, AppResult};
use crate::keys::{Keys, Token};
use crate::repo;
use crate::repo::attachment::{AttachmentRow, NewAttachment};
use crate::repo::upload::UploadRow;
use crate::storage::StoreKey;
use crate::AppState;
use attache_protocol::{
    ApiError, Attachment, Contact, ContactId, ContactState, Event, Message, Sender, UploadId, UploadState,
    UploadStatus, VisitorId, MAX_PLAN_UPLOAD_BYTES,
};
use axum::http::StatusCode;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Read;

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
            Uploader::Visitor(v) => format!("visitor:{v}"),
        }
    }
}

/// A creation request, as the tus route parsed it.
#[derive(Debug)]
pub struct NewUpload {
    /// `Upload-Length`.
    pub length: u64,
    /// `Upload-Metadata` as received.
    pub metadata_raw: String,
    /// Its decoded pairs.
    pub metadata: HashMap<String, String>,
}

fn meta<'a>(m: &'a HashMap<String, String>, keys: &[&str]) -> Option<&'a str> {
    keys.iter().find_map(|k| m.get(*k)).map(String::as_str).filter(|v| !v.trim().is_empty())
}

/// Human size of a limit: `5 MiB (5242880 bytes)`.
pub fn limit_words(bytes: u64) -> String {
    if bytes.is_multiple_of(1024 * 1024) {
        format!("{} MiB ({bytes} bytes)", bytes / (1024 * 1024))
    } else {
        format!("{bytes} bytes")
    }
}

/// Starts an upload: the uploader must be the contact's agent or visitor, the contact active,
/// file sharing on, and the length within the plan. Nothing is written before all that holds.
pub async fn create_upload(state: &AppState, uploader: &Uploader, new: NewUpload) -> AppResult<UploadRow> {
    let db = &state.db;
    let contact_id = meta(&new.metadata, &["contact", "contact_id", "contactId"])
        .ok_or_else(|| AppError::BadRequest("missing-contact", "Upload-Metadata must name the contact ('contact')".into()))?;
    if !is_id(contact_id) {
        return Err(AppError::NotFound("contact"));
    }
    let contact = repo::contact::get(db, &ContactId(contact_id.to_owned())).await?.ok_or(AppError::NotFound("contact"))?;
    let (sender, sender_name) = match uploader {
        Uploader::Staff(staff) => {
            if contact.account_id != staff.account.id {
                return Err(AppError::NotFound("contact"));
            }
            if contact.agent_id.as_ref() != Some(&staff.user.id) {
                return Err(AppError::Forbidden("not-your-contact", "only the contact's agent can send files to it".into()));
            }
            (Sender::Agent, staff.user.display_name.clone())
        }
        Uploader::Visitor(v) => {
            if !super::contact::owned_by(db, &contact, v).await? {
                return Err(AppError::NotFound("contact"));
            }
            (Sender::Customer, contact.customer_name.clone())
        }
    };
    if contact.state != ContactState::Active {
        return Err(AppError::Conflict(
            "contact-not-active",
            format!("files can be sent during an active contact; this one is {}", contact.state.as_str()),
        ));
    }
    let account = repo::account::get(db, &contact.account_id).await?.ok_or(AppError::NotFound("account"))?;
    if !account.plan.file_sharing_enabled {
        return Err(AppError::Forbidden("file-sharing-disabled", "file sharing is switched off for this account".into()));
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
    let name = check::file_name(
        meta(&new.metadata, &["filename", "name", "fileName"])
            .ok_or_else(|| AppError::BadRequest("missing-file-name", "Upload-Metadata must carry 'filename'".into()))?,
    )?;
    let declared = match meta(&new.metadata, &["filetype", "type", "fileType", "content_type"]) {
        Some(t) => check::media_type(t)?,
        None => check::type_of_extension(&name).unwrap_or("application/octet-stream").to_owned(),
    };
    for claimed in [Some(declared.as_str()), check::type_of_extension(&name)].into_iter().flatten() {
        if !check::allowed(&account.plan.allowed_types, claimed) {
            return Err(AppError::Status(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "type-not-allowed",
                format!("{claimed} files are not allowed on this account; allowed: {}", account.plan.allowed_types.join(", ")),
            ));
        }
    }
    let description = match meta(&new.metadata, &["description"]) {
        Some(d) => Some(text_field("the description", d, check::MAX_DESCRIPTION_CHARS, false)?).filter(|d| !d.is_empty()),
        None => None,
    };
    if repo::upload::receiving_count(db, &contact.id).await? >= MAX_OPEN_UPLOADS_PER_CONTACT {
        return Err(AppError::Conflict(
            "too-many-uploads",
            format!("this contact already has {MAX_OPEN_UPLOADS_PER_CONTACT} unfinished uploads; finish or cancel one"),
        ));
    }
    let expiry = chrono::Duration::from_std(state.files.config.upload_expiry).unwrap_or(chrono::Duration::days(1));
    let row = UploadRow {
        id: UploadId(crate::db::new_id()),
        account_id: contact.account_id.clone(),
        contact_id: contact.id.clone(),
        sender,
        sender_name,
        uploader: uploader.key(),
        file_name: name,
        declared_type: declared,
        description,
        metadata: new.metadata_raw,
        length: new.length,
        offset: 0,
        state: UploadState::Receiving,
        message_id: None,
        error_code: None,
        error_message: None,
        expires_at: chrono::Utc::now() + expiry,
    };
    state.files.staging.create(row.id.as_str()).await?;
    if let Err(e) = repo::upload::create(db, &row).await {
        let _ = state.files.staging.remove(row.id.as_str()).await;
        return Err(e.into());
    }
    Ok(row)
}

/// The caller's own upload; another's is "not found", an expired one "gone".
pub async fn own_upload(state: &AppState, uploader: &Uploader, id: &str) -> AppResult<UploadRow> {
    if !is_id(id) {
        return Err(AppError::NotFound("upload"));
    }
    let row = repo::upload::get(&state.db, &UploadId(id.to_owned())).await?.ok_or(AppError::NotFound("upload"))?;
    if row.uploader != uploader.key() {
        return Err(AppError::NotFound("upload"));
    }
    if row.expires_at.timestamp_micros() <= now_us() {
        return Err(AppError::Status(StatusCode::GONE, "upload-expired", "the upload expired; start it again".into()));
    }
    Ok(row)
}

/// What the uploader sees of an upload.
pub async fn upload_status(state: &AppState, row: &UploadRow) -> AppResult<UploadStatus> {
    let message = match &row.message_id {
        Some(m) => message_by_id(state, &row.contact_id, m.as_str()).await?,
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
        state: row.state,
        message,
        error,
        expires_at: row.expires_at,
    })
}

/// The uploader gives up: the staging bytes and the record go.
pub async fn terminate(state: &AppState, row: &UploadRow) -> AppResult<()> {
    state.files.staging.remove(row.id.as_str()).await?;
    repo::upload::delete(&state.db, &row.id).await?;
    Ok(())
}

/// Tells both sides how far an upload got.
pub async fn progressed(state: &AppState, row: &UploadRow, offset: u64) -> AppResult<()> {
    if let Some(contact) = repo::contact::get(&state.db, &row.contact_id).await? {
        state.hub.to_both_sides(
            &contact,
            Event::UploadProgress {
                upload_id: row.id.clone(),
                contact_id: row.contact_id.clone(),
                sender: row.sender,
                name: row.file_name.clone(),
                offset,
                length: row.length,
            },
        );
    }
    Ok(())
}

/// Checks, stores and publishes a complete upload. A refused file leaves nothing but the
/// reason (kept on the upload record for its uploader, and sent as an event); an internal
/// failure keeps the staged bytes so a retry can finish it.
pub async fn finalize(state: &AppState, row: &UploadRow) -> AppResult<Message> {
    match check_and_store(state, row).await {
        Ok(msg) => Ok(msg),
        Err(e @ AppError::Internal(_)) => Err(e),
        Err(refusal) => {
            let _ = state.files.staging.remove(row.id.as_str()).await;
            let body = refusal.body();
            repo::upload::mark_refused(&state.db, &row.id, &body.error, &body.message).await?;
            if let Some(contact) = repo::contact::get(&state.db, &row.contact_id).await? {
                state.hub.to_both_sides(
                    &contact,
                    Event::UploadRefused {
                        upload_id: row.id.clone(),
                        contact_id: row.contact_id.clone(),
                        name: row.file_name.clone(),
                        error: body,
                    },
                );
            }
            tracing::info!(upload = %row.id, code = refusal.code(), "upload refused");
            Err(refusal)
        }
    }
}

/// What one pass over the staged bytes found.
struct Scan {
    head: Vec<u8>,
    size: u64,
    sha256: String,
}

fn scan_file(path: &std::path::Path) -> std::io::Result<Scan> {
    let mut f = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 1024 * 1024];
    let mut hasher = Sha256::new();
    let mut head = Vec::with_capacity(check::SNIFF_BYTES);
    let mut size: u64 = 0;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        if head.len() < check::SNIFF_BYTES {
            let take = (check::SNIFF_BYTES - head.len()).min(n);
            head.extend_from_slice(&buf[..take]);
        }
        hasher.update(&buf[..n]);
        size = size.checked_add(n as u64).ok_or_else(|| std::io::Error::other("size overflow"))?;
    }
    Ok(Scan { head, size, sha256: hex::encode(hasher.finalize()) })
}

async fn run_scanner(cmd: &[String], path: &std::path::Path) -> AppResult<()> {
    let Some((prog, args)) = cmd.split_first() else { return Ok(()) };
    let run = tokio::process::Command::new(prog).args(args).arg(path).kill_on_drop(true).output();
    let out = tokio::time::timeout(std::time::Duration::from_secs(120), run)
        .await
        .map_err(|_| AppError::Internal(anyhow::anyhow!("scanner timed out")))?
        .map_err(|e| AppError::Internal(anyhow::anyhow!("scanner did not start: {e}")))?;
    match out.status.code() {
        Some(0) => Ok(()),
        Some(1) => Err(AppError::Invalid("malware-found", "the malware scanner refused the file".into())),
        other => Err(AppError::Internal(anyhow::anyhow!("scanner failed with {other:?}"))),
    }
}

async fn check_and_store(state: &AppState, row: &UploadRow) -> AppResult<Message> {
    let files = &state.files;
    let contact = repo::contact::get(&state.db, &row.contact_id).await?.ok_or(AppError::NotFound("contact"))?;
    if contact.state != ContactState::Active {
        return Err(AppError::Conflict("contact-not-active", "the contact ended before the file arrived".into()));
    }
    let account = repo::account::get(&state.db, &contact.account_id).await?.ok_or(AppError::NotFound("account"))?;
    let path = files.staging.path(row.id.as_str())?;
    let p = path.clone();
    let scan = tokio::task::spawn_blocking(move || scan_file(&p)).await.map_err(|e| AppError::Internal(e.into()))??;
    if scan.size != row.length {
        return Err(AppError::Internal(anyhow::anyhow!("staged {} bytes, announced {}", scan.size, row.length)));
    }
    let sniffed = check::sniff(&scan.head);
    check::compare(&row.declared_type, &row.file_name, &sniffed)?;
    let effective = if sniffed.known { sniffed.media_type.clone() } else { row.declared_type.clone() };
    if !check::allowed(&account.plan.allowed_types, &effective) {
        return Err(AppError::Status(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "type-not-allowed",
            format!("the file is {effective}, which is not allowed on this account"),
        ));
    }
    let image = match sniffed.image.filter(|f| crate::preview::decodable(*f)) {
        Some(format) => {
            let _permit = files.decode.acquire().await.map_err(|e| AppError::Internal(e.into()))?;
            let p = path.clone();
            Some(
                tokio::task::spawn_blocking(move || crate::preview::inspect(&p, format))
                    .await
                    .map_err(|e| AppError::Internal(e.into()))??,
            )
        }
        None => None,
    };
    if let Some(cmd) = &files.config.scanner {
        run_scanner(cmd, &path).await?;
    }
    // Into the store: the bytes, then the preview; the records last, so a crash leaves at worst
    // an unreferenced blob, never a record without bytes.
    let file_key = StoreKey::new("file");
    files.store.put_file(&file_key, &path).await.map_err(|e| AppError::Internal(e.into()))?;
    let preview_key = match &image {
        Some(info) => {
            let key = StoreKey::new("preview");
            let bytes = bytes::Bytes::from(info.preview.clone());
            let stream = futures_util::stream::iter([Ok::<_, std::io::Error>(bytes)]);
            if let Err(e) = files.store.put(&key, Box::pin(stream)).await {
                let _ = files.store.delete(&file_key).await;
                return Err(AppError::Internal(e.into()));
            }
            Some(key)
        }
        None => None,
    };
    let body = row.description.clone().unwrap_or_else(|| row.file_name.clone());
    let new = NewAttachment {
        contact_id: &row.contact_id,
        sender: row.sender,
        sender_name: &row.sender_name,
        body: &body,
        file_name: &row.file_name,
        description: row.description.as_deref(),
        size: scan.size,
        media_type: &effective,
        declared_type: &row.declared_type,
        sha256: &scan.sha256,
        file_key: file_key.as_str(),
        preview_key: preview_key.as_ref().map(StoreKey::as_str),
        dimensions: image.as_ref().map(|i| (i.width, i.height)),
    };
    let keys = files.keys.clone();
    let cid = row.contact_id.clone();
    let created =
        repo::attachment::create(&state.db, new, |id| Keys::lookup_key(&keys.attachment_part(&cid, id))).await;
    let att = match created {
        Ok(a) => a,
        Err(e) => {
            let _ = files.store.delete(&file_key).await;
            if let Some(k) = &preview_key {
                let _ = files.store.delete(k).await;
            }
            return Err(e.into());
        }
    };
    repo::upload::mark_ready(&state.db, &row.id, &att.message_id).await?;
    let message = Message {
        id: att.message_id.clone(),
        contact_id: row.contact_id.clone(),
        sender: row.sender,
        sender_name: row.sender_name.clone(),
        body,
        created_at: att.created_at,
        attachment: Some(to_wire(&files.keys, &att)),
    };
    state.hub.to_both_sides(&contact, Event::AttachmentReady { message: message.clone() });
    tracing::info!(upload = %row.id, attachment = %att.id, size = att.size, media = %att.media_type, "attachment ready");
    Ok(message)
}

/// The path segment of a file name in its URL (percent-encoded; never `preview`, which names
/// the preview).
fn url_name(name: &str) -> String {
    let enc = percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC).to_string();
    if enc == "preview" {
        "preview%2Efile".into()
    } else {
        enc
    }
}

/// An attachment as the wire shows it, with its URLs.
pub fn to_wire(keys: &Keys, a: &AttachmentRow) -> Attachment {
    let token = keys.token(&a.contact_id, &a.id).as_string();
    Attachment {
        id: a.id.clone(),
        contact_id: a.contact_id.clone(),
        name: a.file_name.clone(),
        description: a.description.clone(),
        size: a.size,
        media_type: a.media_type.clone(),
        declared_type: a.declared_type.clone(),
        sha256: a.sha256.clone(),
        url: format!("/files/{token}/{}", url_name(&a.file_name)),
        preview_url: a.preview_key.as_ref().map(|_| format!("/files/{token}/preview")),
        width: a.width,
        height: a.height,
        sender: a.sender,
        created_at: a.created_at,
    }
}

/// Fills in the attachments of a contact's messages.
pub async fn with_attachments(state: &AppState, contact: &ContactId, mut messages: Vec<Message>) -> AppResult<Vec<Message>> {
    let rows = repo::attachment::of_contact(&state.db, contact).await?;
    if rows.is_empty() {
        return Ok(messages);
    }
    let by_message: HashMap<_, _> = rows.iter().map(|a| (a.message_id.clone(), a)).collect();
    for m in &mut messages {
        if let Some(a) = by_message.get(&m.id) {
            m.attachment = Some(to_wire(&state.files.keys, a));
        }
    }
    Ok(messages)
}

async fn message_by_id(state: &AppState, contact: &ContactId, id: &str) -> AppResult<Option<Message>> {
    let msgs = repo::contact::messages(&state.db, contact).await?;
    let msgs = with_attachments(state, contact, msgs).await?;
    Ok(msgs.into_iter().find(|m| m.id.as_str() == id))
}

// ---- who may open a file ---------------------------------------------------------------------

/// Who asks for a file: everything a request may present.
#[derive(Debug, Default)]
pub struct FileCaller {
    /// A staff session (bearer).
    pub staff: Option<Staff>,
    /// The `vvcu` visitor cookie.
    pub vvcu: Option<VisitorId>,
    /// The `vvca` cookie.
    pub vvca: Option<String>,
}

/// Access granted to a file.
#[derive(Debug)]
pub struct FileGrant {
    /// The attachment.
    pub attachment: AttachmentRow,
    /// Its contact.
    pub contact: Contact,
    /// A `vvca` grant to set (value, max-age in seconds), when the file was opened while the
    /// contact is active.
    pub set_vvca: Option<(String, i64)>,
}

fn no_access() -> AppError {
    AppError::Forbidden(
        "no-file-access",
        "this file is available after the contact only to its customer and to staff with access to its report".into(),
    )
}

/// Applies the access table to a presented token.
///
/// | who | active | closed, report alive | report expired |
/// |---|---|---|---|
/// | anyone with the URL (sets `vvca`) | yes | no | gone |
/// | the contact's visitor (`vvcu`) | yes | yes | gone |
/// | a browser with this contact's `vvca` | yes | yes | gone |
/// | reports / admin / the agent's supervisor | yes | yes | gone |
/// | the contact's agent | yes | only with a right above | gone |
/// | staff of another account | no | no | gone |
pub async fn open_file(state: &AppState, token: &str, caller: &FileCaller) -> AppResult<FileGrant> {
    let keys = &state.files.keys;
    let token = Token::parse(token).ok_or(AppError::NotFound("file"))?;
    let row = repo::attachment::by_lookup(&state.db, &Keys::lookup_key(&token.attachment_part))
        .await?
        .ok_or(AppError::NotFound("file"))?;
    if !keys.verify(&token, &row.contact_id, &row.id) {
        return Err(AppError::NotFound("file"));
    }
    let contact = repo::contact::get(&state.db, &row.contact_id).await?.ok_or(AppError::NotFound("file"))?;
    let now = now_us();
    if let Some(exp) = contact.report_expires_at {
        if exp.timestamp_micros() <= now {
            return Err(AppError::Status(StatusCode::GONE, "report-expired", "the contact's report has expired".into()));
        }
    }
    if let Some(staff) = &caller.staff {
        if staff.account.id != contact.account_id {
            return Err(AppError::NotFound("file"));
        }
    }
    let allowed = match contact.state {
        ContactState::Active | ContactState::Queued => true,
        ContactState::Closed => {
            (match &caller.vvcu {
                Some(v) => super::contact::owned_by(&state.db, &contact, v).await?,
                None => false,
            }) || caller.vvca.as_deref().is_some_and(|v| keys.vvca_allows(v, &contact.id))
                || match &caller.staff {
                    Some(s) => may_read(&state.db, s, &contact).await?,
                    None => false,
                }
        }
    };
    if !allowed {
        return Err(no_access());
    }
    let set_vvca = if contact.state == ContactState::Active && caller.staff.is_none() {
        let account = repo::account::get(&state.db, &contact.account_id).await?.ok_or(AppError::NotFound("file"))?;
        let value = crate::keys::vvca_with(caller.vvca.as_deref(), &keys.vvca_grant(&contact.id));
        Some((value, i64::from(account.plan.report_retention_days.max(1)) * 24 * 3600))
    } else if contact.state == ContactState::Closed && caller.vvca.as_deref().is_some_and(|v| keys.vvca_allows(v, &contact.id)) {
        // Renewed to the report's remaining life.
        let left = contact.report_expires_at.map(|e| (e.timestamp_micros() - now) / 1_000_000).unwrap_or(0);
        caller.vvca.clone().map(|v| (v, left.max(1)))
    } else {
        None
    };
    Ok(FileGrant { attachment: row, contact, set_vvca })
}

// ---- retention -------------------------------------------------------------------------------

/// Deletes the blobs and staging files of a contact whose report expired (its records go with
/// the contact, after this).
pub async fn delete_files_of(state: &AppState, contact: &ContactId) -> anyhow::Result<usize> {
    let mut n = 0;
    for a in repo::attachment::of_contact(&state.db, contact).await? {
        for key in std::iter::once(&a.file_key).chain(a.preview_key.as_ref()) {
            if let Some(k) = StoreKey::parse(key) {
                state.files.store.delete(&k).await?;
                n += 1;
            }
        }
    }
    for u in repo::upload::of_contact(&state.db, contact).await? {
        state.files.staging.remove(u.as_str()).await?;
    }
    Ok(n)
}

/// Forgets expired uploads: their staging files, then their records.
pub async fn sweep_expired_uploads(state: &AppState) -> anyhow::Result<usize> {
    let mut total = 0;
    loop {
        let batch = repo::upload::expired(&state.db, now_us(), 200).await?;
        if batch.is_empty() {
            return Ok(total);
        }
        for id in &batch {
            state.files.staging.remove(id.as_str()).await?;
            repo::upload::delete(&state.db, id).await?;
            tracing::info!(upload = %id, "upload expired");
        }
        total += batch.len();
    }
}

/// Staging files with no upload record (a crash between creating one and recording it).
pub async fn sweep_orphan_staging(state: &AppState, db: &Db) -> anyhow::Result<usize> {
    let mut n = 0;
    let mut dir = tokio::fs::read_dir(state.files.staging.root()).await?;
    while let Some(entry) = dir.next_entry().await? {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !is_id(&name) {
            continue;
        }
        let old = entry.metadata().await?.modified().ok().and_then(|m| m.elapsed().ok()).is_some_and(|e| e.as_secs() > 3600);
        if old && repo::upload::get(db, &UploadId(name.clone())).await?.is_none() {
            state.files.staging.remove(&name).await?;
            n += 1;
        }
    }
    Ok(n)
}

