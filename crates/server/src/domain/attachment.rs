//! Attachments: the checks a complete file passes before anyone sees it (size, sniffed type
//! against the declared one and the plan, image decoding under limits, the optional scanner),
//! and an attachment as the wire shows it (its URLs derived under the server secret).

use crate::check;
use crate::error::{AppError, AppResult};
use crate::keys::Keys;
use crate::preview::ImageInfo;
use crate::repo;
use crate::repo::attachment::AttachmentRow;
use crate::repo::upload::UploadRow;
use crate::storage::StoreKey;
use crate::upload::Received;
use crate::AppState;
use attache_protocol::{Account, Attachment, ContactId, ErrorCode, Message};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Read;
use std::path::PathBuf;

/// What the checks found in a complete file.
pub struct Checked {
    /// Size in bytes.
    pub size: u64,
    /// SHA-256, hex.
    pub sha256: String,
    /// The type it is served as.
    pub media_type: String,
    /// An image's size and preview.
    pub image: Option<ImageInfo>,
    /// Where the delivered bytes are when they differ from the upload's (metadata removed).
    pub file_key: Option<StoreKey>,
    /// Location and camera data were removed.
    pub metadata_removed: bool,
    /// A preview made by an outside renderer (a PDF's first page, a HEIC photo).
    pub document_preview: Option<Vec<u8>>,
}

/// A complete file in the store as a local path: the store's own, or a temporary copy of the
/// object (removed with the returned guard).
async fn local_copy(state: &AppState, key: &StoreKey) -> AppResult<(PathBuf, Option<tempfile::NamedTempFile>)> {
    let files = &state.files;
    if let Some(p) = files.store.local_path(key) {
        return Ok((p, None));
    }
    let temp =
        tempfile::NamedTempFile::new_in(state.config.data_dir.join("tmp")).map_err(|e| AppError::Internal(e.into()))?;
    let mut out = tokio::fs::File::create(temp.path()).await?;
    let mut stream = files.store.get(key, None).await.map_err(|e| AppError::Internal(e.into()))?;
    while let Some(chunk) = futures_util::StreamExt::next(&mut stream).await {
        tokio::io::AsyncWriteExt::write_all(&mut out, &chunk?).await?;
    }
    tokio::io::AsyncWriteExt::flush(&mut out).await?;
    Ok((temp.path().to_owned(), Some(temp)))
}

/// Runs the checks on a complete file in the store. A refusal is a client error with its
/// reason; an internal error (store) leaves the file for a retry.
/// `received`: the file's digest and first bytes when they were taken as the bytes arrived; the
/// file is then not read at all unless a check needs it whole (an image to decode or clean, an
/// SVG to parse, the scanner, a document preview), else only as far as sniffing needs.
/// `run_scanner` is false for a file an admin released after the scanner failed on it.
pub async fn check_file(
    state: &AppState,
    row: &UploadRow,
    account: &Account,
    key: &StoreKey,
    received: Option<Received>,
    run_scanner: bool,
) -> AppResult<Checked> {
    let files = &state.files;
    let settled = received.as_ref().and_then(|r| Some((check::sniff_prefix(&r.head, row.length)?, r.sha256.clone())));
    let (sniffed, scan, mut local) = match settled {
        Some((sniffed, sha256)) => (sniffed, Scan { head: Vec::new(), size: row.length, sha256 }, None),
        None => {
            let (path, temp) = local_copy(state, key).await?;
            let p = path.clone();
            let sha256 = received.map(|r| r.sha256);
            let scan = tokio::task::spawn_blocking(move || scan_file(&p, sha256))
                .await
                .map_err(|e| AppError::Internal(e.into()))??;
            if scan.size != row.length {
                return Err(AppError::Internal(anyhow::anyhow!(
                    "stored {} bytes, announced {}",
                    scan.size,
                    row.length
                )));
            }
            (check::sniff(&scan.head), scan, Some((path, temp)))
        }
    };
    check::compare(&row.declared_type, &row.file_name, &sniffed)?;
    let effective = if sniffed.known { sniffed.media_type.clone() } else { row.declared_type.clone() };
    if !check::allowed(&account.plan.allowed_types, &effective) {
        return Err(AppError::Refused(
            ErrorCode::TypeNotAllowed,
            format!("the file is {effective}, which is not allowed on this account"),
        ));
    }
    let decodable = sniffed.image.filter(|f| crate::preview::decodable(*f));
    let scanner = files.config.scanner.as_ref().filter(|_| run_scanner);
    let read_whole = decodable.is_some()
        || effective == "image/heif"
        || scanner.is_some()
        || crate::preview::Rendered::of(&effective).is_some();
    if read_whole && local.is_none() {
        local = Some(local_copy(state, key).await?);
    }
    // Without a local copy nothing below reads the path.
    let (path, _temp) = local.unwrap_or_default();
    let image = match decodable {
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
    // Photos lose their location and camera data before anyone sees them (unless the account
    // keeps it); the delivered bytes are what is scanned, hashed and stored.
    let format = match sniffed.image {
        Some(f) if image.is_some() => crate::metadata::Format::of(f),
        // HEIC is not decoded here (its preview is rendered outside), but its items are known.
        _ if effective == "image/heif" => Some(crate::metadata::Format::Heif),
        _ => None,
    };
    let orientation = image.as_ref().map_or(1, |i| i.orientation);
    let cleaned = match format {
        Some(format) if !account.plan.keep_metadata => {
            let temp = tempfile::NamedTempFile::new_in(state.config.data_dir.join("tmp"))
                .map_err(|e| AppError::Internal(e.into()))?;
            let (src, dst) = (path.clone(), temp.path().to_owned());
            let stripped = tokio::task::spawn_blocking(move || crate::metadata::strip(format, &src, &dst, orientation))
                .await
                .map_err(|e| AppError::Internal(e.into()))?;
            match stripped {
                Ok(crate::metadata::Stripped::Removed) => Some(temp),
                Ok(crate::metadata::Stripped::Nothing) => None,
                // It decoded, so its container is sound enough; a quirk the rewriter does not
                // follow is refused rather than delivered with what it may hold.
                Err(e) => {
                    return Err(AppError::Refused(
                        ErrorCode::BadImage,
                        format!("the image's metadata could not be removed: {e}"),
                    ))
                }
            }
        }
        _ => None,
    };
    let (scan, delivered, file_key) = match &cleaned {
        Some(temp) => {
            let p = temp.path().to_owned();
            let again = tokio::task::spawn_blocking(move || scan_file(&p, None))
                .await
                .map_err(|e| AppError::Internal(e.into()))??;
            let key = StoreKey::clean_for_upload(&row.id);
            let file = tokio::fs::File::open(temp.path()).await?;
            let stream = tokio_util::io::ReaderStream::new(file);
            files.store.put(&key, Box::pin(stream)).await.map_err(|e| AppError::Internal(e.into()))?;
            (again, temp.path().to_owned(), Some(key))
        }
        None => (scan, path.clone(), None),
    };
    if let Some(scanner) = scanner {
        let started = std::time::Instant::now();
        let verdict = crate::scan::scan(scanner, &delivered, files.config.scan_timeout).await;
        state.metrics.scan_seconds.observe(started.elapsed().as_secs_f64());
        judge(verdict, row)?;
    }
    let metadata_removed = file_key.is_some();
    let document_preview = match crate::preview::Rendered::of(&effective) {
        Some(kind) => {
            let _permit = files.decode.acquire().await.map_err(|e| AppError::Internal(e.into()))?;
            crate::preview::render_preview(kind, &delivered, &state.config.data_dir.join("tmp")).await
        }
        None => None,
    };
    Ok(Checked {
        size: scan.size,
        sha256: scan.sha256,
        media_type: effective,
        image,
        file_key,
        metadata_removed,
        document_preview,
    })
}

/// What one pass over the staged bytes found.
struct Scan {
    head: Vec<u8>,
    size: u64,
    sha256: String,
}

/// Reads the head (for sniffing), the size and, unless `known`, the SHA-256 of a file.
fn scan_file(path: &std::path::Path, known: Option<String>) -> std::io::Result<Scan> {
    let mut f = std::fs::File::open(path)?;
    if let Some(sha256) = known {
        let size = f.metadata()?.len();
        let mut head = Vec::with_capacity(check::SNIFF_BYTES.min(usize::try_from(size).unwrap_or(usize::MAX)));
        (&mut f).take(check::SNIFF_BYTES as u64).read_to_end(&mut head)?;
        return Ok(Scan { head, size, sha256 });
    }
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

/// Code of a file blocked because the scanner gave no verdict (an admin may release it).
pub const SCANNER_UNAVAILABLE: ErrorCode = ErrorCode::ScannerUnavailable;
/// Code of a file in which the scanner found malware (never released).
pub const MALWARE_FOUND: ErrorCode = ErrorCode::MalwareFound;

/// What a scanner's verdict means for the file: a found virus and a scanner that gave no
/// verdict both block it, with the reason in words.
fn judge(verdict: crate::scan::Verdict, row: &UploadRow) -> AppResult<()> {
    use crate::scan::Verdict;
    match verdict {
        Verdict::Clean => Ok(()),
        Verdict::Infected(name) => {
            tracing::warn!(upload = %row.id, signature = %name, "malware found");
            let what = if name.is_empty() { String::new() } else { format!(" ({name})") };
            Err(AppError::Refused(MALWARE_FOUND, format!("a virus was found{what}")))
        }
        Verdict::Unavailable(why) => {
            tracing::warn!(upload = %row.id, why, "scanner unavailable");
            Err(AppError::Refused(
                SCANNER_UNAVAILABLE,
                "the scanner did not answer; an admin can release the file".into(),
            ))
        }
    }
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
        preview_url: a.preview_key.as_ref().filter(|_| a.removed.is_none()).map(|_| format!("/files/{token}/preview")),
        width: a.width,
        height: a.height,
        sender: a.sender,
        created_at: a.created_at,
        released_by: a.released_by.clone(),
        released_at: a.released_at,
        metadata_removed: a.metadata_removed,
        removed: a.removed.clone(),
    }
}

/// Fills in the attachments of a contact's messages.
pub async fn with_attachments(
    state: &AppState,
    contact: &ContactId,
    mut messages: Vec<Message>,
) -> AppResult<Vec<Message>> {
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

/// One message of a contact, with its attachment.
pub async fn message_by_id(state: &AppState, contact: &ContactId, id: &str) -> AppResult<Option<Message>> {
    let msgs = repo::contact::messages(&state.db, contact).await?;
    let msgs = with_attachments(state, contact, msgs).await?;
    Ok(msgs.into_iter().find(|m| m.id.as_str() == id))
}

/// The token lookups of a new attachment under every configured secret, signing one first.
pub fn lookups(keys: &Keys, contact: &ContactId, id: &attache_protocol::AttachmentId) -> Vec<(String, String)> {
    keys.key_ids()
        .into_iter()
        .filter_map(|kid| keys.only(&kid).map(|k| (Keys::lookup_key(&k.attachment_part(contact, id)), kid)))
        .collect()
}

/// After a rotation: gives every attachment a lookup under each configured secret, so URLs
/// signed by the new secret find their files. Idempotent; instances may run it at once.
pub async fn backfill_lookups(state: &AppState) -> anyhow::Result<usize> {
    let keys = &state.files.keys;
    let mut n = 0;
    for kid in keys.key_ids() {
        let Some(k) = keys.only(&kid) else { continue };
        loop {
            let batch = repo::attachment::missing_lookups(&state.db, &kid, 500).await?;
            if batch.is_empty() {
                break;
            }
            for (id, contact) in &batch {
                repo::attachment::add_lookup(&state.db, &Keys::lookup_key(&k.attachment_part(contact, id)), id, &kid)
                    .await?;
            }
            n += batch.len();
        }
    }
    Ok(n)
}
