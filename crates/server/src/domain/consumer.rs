//! The LivePerson-style consumer API (their "Messaging Window API" file sharing): a customer's
//! app asks for a temporary upload URL, PUTs the file there, publishes it as a `hosted/file`
//! message, and asks for temporary download URLs. Temporary URLs are signed like OpenStack
//! Swift's TempURL and live 60 seconds. Files go through the same checks, store, transcript and
//! events as tus uploads: this is another door to the same room. The document's own rules
//! hold here on top of the plan's: JPG, JPEG, PNG or GIF, at most 3 MB, a preview under 30 KB.

use super::text_field;
use super::upload::{self, Chunk, Lease, NewUpload, Uploader};
use crate::check;
use crate::db::{is_id, now_us};
use crate::error::{AppError, AppResult};
use crate::repo;
use crate::repo::attachment::AttachmentRow;
use crate::storage::ByteStream;
use crate::AppState;
use attache_protocol::{
    Account, AccountId, Contact, ContactState, ErrorCode, LpHostedFile, Message, UploadId, UploadState, VisitorId,
    VisitorRef, LP_FILE_TYPES, LP_MAX_FILE_BYTES, LP_MAX_PREVIEW_BYTES,
};

// ---- who the consumer is -------------------------------------------------------------------

/// The account a consumer API path names.
pub async fn account_named(state: &AppState, name: &str) -> AppResult<Account> {
    repo::account::by_name(&state.db, name).await?.ok_or(AppError::NotFound("account"))
}

/// A new consumer identity in `account` for an app without cookies: a `vvcu` cookie value (a
/// browser gets it too) and a token of its own (256 bits). Both are stored hashed.
pub async fn signup(state: &AppState, account: &Account) -> AppResult<(VisitorId, String)> {
    let cookie = VisitorId(crate::db::new_id());
    let (token, token_hash) = crate::auth::new_token();
    let cookie_hash = repo::visitor::credential_hash(cookie.as_str());
    repo::visitor::create_consumer(&state.db, &account.id, &cookie_hash, &token_hash).await?;
    Ok((cookie, token))
}

/// The public id behind a consumer token, if the token was issued for `account`.
pub async fn token_identity(state: &AppState, token: &VisitorId, account: &Account) -> AppResult<Option<VisitorRef>> {
    Ok(match repo::visitor::by_token(&state.db, &crate::auth::token_hash(token.as_str())).await? {
        Some((a, me)) if a == account.id => Some(me),
        _ => None,
    })
}

/// The public id of a browser's `vvcu` cookie in `account` (made on its first use there).
pub async fn cookie_identity(state: &AppState, cookie: &VisitorId, account: &Account) -> AppResult<VisitorRef> {
    let hash = repo::visitor::credential_hash(cookie.as_str());
    Ok(repo::visitor::ensure(&state.db, &account.id, &hash).await?)
}

// ---- temporary URLs ----------------------------------------------------------------------------

/// The container segment of every temporary URL path.
pub const CONTAINER: &str = "AUTH_attache";
/// How long a temporary URL works (LivePerson: one minute).
pub const TEMP_URL_SECS: i64 = 60;

/// A signed temporary URL: `relativePath?temp_url_sig=…&temp_url_expires=…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TempUrl {
    /// `/v1/AUTH_attache/{account}/{id}.{EXT}`.
    pub relative_path: String,
    /// Hex signature.
    pub sig: String,
    /// Unix seconds.
    pub expires: i64,
}

/// The parts of a temporary URL path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilePath {
    /// Account name.
    pub account: String,
    /// Upload id (before publishing) or attachment id.
    pub id: String,
    /// Extension as given (`PNG`, `jpg`…).
    pub ext: String,
}

impl FilePath {
    /// Parses `/v1/AUTH_attache/{account}/{id}.{EXT}`; anything else is not ours.
    pub fn parse(path: &str) -> Option<FilePath> {
        let rest = path.strip_prefix("/v1/")?.strip_prefix(CONTAINER)?.strip_prefix('/')?;
        let (account, file) = rest.split_once('/')?;
        let (id, ext) = file.split_once('.')?;
        (!account.is_empty() && is_id(id) && valid_ext(ext)).then(|| FilePath {
            account: account.to_owned(),
            id: id.to_owned(),
            ext: ext.to_owned(),
        })
    }

    fn render(account: &str, id: &str, ext: &str) -> String {
        format!("/v1/{CONTAINER}/{account}/{id}.{ext}")
    }
}

fn valid_ext(ext: &str) -> bool {
    (1..=10).contains(&ext.len()) && ext.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn sign(state: &AppState, method: &str, relative_path: String) -> TempUrl {
    let expires = now_us() / 1_000_000 + TEMP_URL_SECS;
    let sig = state.files.keys.temp_url_sig(method, expires, &relative_path);
    TempUrl { relative_path, sig, expires }
}

/// Checks a presented temporary URL; a bad or expired one is 401, as Swift answers.
pub fn verify(state: &AppState, method: &str, path: &str, sig: &str, expires: i64) -> AppResult<FilePath> {
    let invalid = || AppError::Refused(ErrorCode::TempUrlInvalid, "the temporary URL is invalid or has expired".into());
    if expires < now_us() / 1_000_000 || !state.files.keys.temp_url_ok(method, expires, path, sig) {
        return Err(invalid());
    }
    FilePath::parse(path).ok_or_else(invalid)
}

/// The visitor's newest open contact with the account (queued or active): where a file goes.
/// A customer may share files as soon as the conversation exists, before an agent joins.
async fn open_contact(state: &AppState, visitor: &VisitorId, account: &Account) -> AppResult<Contact> {
    repo::contact::of_credential(&state.db, &repo::visitor::credential_hash(visitor.as_str()))
        .await?
        .into_iter()
        .filter(|c| c.account_id == account.id && c.state != ContactState::Closed)
        .max_by_key(|c| c.created_at)
        .ok_or_else(|| {
            AppError::Refused(
                ErrorCode::NoOpenConversation,
                "there is no open conversation: ask for one with cm.ConsumerRequestConversation".into(),
            )
        })
}

/// File sharing must be on for the account, for every step of this API.
async fn sharing_on(state: &AppState, account: &AccountId) -> AppResult<()> {
    let account = repo::account::get(&state.db, account).await?.ok_or(AppError::NotFound("account"))?;
    if !account.plan.file_sharing_enabled {
        return Err(AppError::Refused(
            ErrorCode::FileSharingDisabled,
            "file sharing is switched off for this account".into(),
        ));
    }
    Ok(())
}

/// The same type under either of its names (`JPEG` is `JPG`).
fn same_type(a: &str, b: &str) -> bool {
    let canonical = |t: &str| if t == "JPEG" { "JPG".to_owned() } else { t.to_owned() };
    canonical(a) == canonical(b)
}

/// The document's file type (`JPG`, `JPEG`, `PNG`, `GIF`, any case), upper-cased.
fn lp_file_type(file_type: &str) -> AppResult<String> {
    let t = file_type.trim().trim_start_matches('.').to_ascii_uppercase();
    if LP_FILE_TYPES.contains(&t.as_str()) {
        return Ok(t);
    }
    Err(AppError::Refused(
        ErrorCode::TypeNotAllowed,
        format!(
            "'{}' files cannot be shared here; the supported types are {}",
            file_type.chars().take(16).collect::<String>(),
            LP_FILE_TYPES.join(", ")
        ),
    ))
}

/// `ms.GenerateURLForUploadFile`: reserves an upload (the document's types and 3 MB, then the
/// plan's limits, as tus creation does) and signs a PUT URL for it.
pub async fn upload_url(
    state: &AppState,
    visitor: &VisitorId,
    account: &Account,
    size: u64,
    file_type: &str,
) -> AppResult<TempUrl> {
    let ext = lp_file_type(file_type)?;
    if size > LP_MAX_FILE_BYTES {
        return Err(AppError::Refused(
            ErrorCode::FileTooLarge,
            format!(
                "the file has {size} bytes; files shared here are at most {}",
                upload::limit_words(LP_MAX_FILE_BYTES)
            ),
        ));
    }
    let contact = open_contact(state, visitor, account).await?;
    let name = format!("attachment.{}", ext.to_ascii_lowercase());
    let new = NewUpload {
        contact: contact.id.as_str().to_owned(),
        declared_type: check::type_of_extension(&name).map(str::to_owned),
        file_name: name,
        length: size,
        hold: true,
        ..Default::default()
    };
    let row = upload::create(state, &Uploader::Visitor(visitor.clone()), new).await?.row;
    Ok(sign(state, "PUT", FilePath::render(&account.name, row.id.as_str(), &ext)))
}

/// The PUT to a temporary upload URL: the whole file in one body, streamed to staging through
/// the same worker as tus. A body of the wrong size keeps nothing: the URL is spent.
pub async fn put_file(state: &AppState, file: &FilePath, declared_len: Option<u64>, body: ByteStream) -> AppResult<()> {
    let row = upload::get(state, &file.id).await?;
    let account = repo::account::get(&state.db, &row.account_id).await?.ok_or(AppError::NotFound("upload"))?;
    if account.name != file.account {
        return Err(AppError::NotFound("upload"));
    }
    sharing_on(state, &account.id).await?;
    if row.state != UploadState::Receiving || row.offset != 0 {
        return Err(AppError::Refused(
            ErrorCode::AlreadyUploaded,
            "this URL was used already; ask for a new one".into(),
        ));
    }
    let lease = Lease::take(state, &row.id).await?;
    let chunk = Chunk { offset: 0, declared_len, checksum: None, body };
    let appended = upload::append(state, &lease, chunk, &upload::Prior::Nothing).await;
    lease.release().await;
    let short = |n: u64| {
        AppError::Refused(
            ErrorCode::SizeMismatch,
            format!("the body has {n} bytes but fileSize announced {}; ask for a new URL", row.length),
        )
    };
    let refusal = match appended {
        Ok(a) if a.offset == row.length => return Ok(()),
        Ok(a) if a.interrupted => {
            AppError::Refused(ErrorCode::UploadInterrupted, "the body broke off; PUT the whole file again".into())
        }
        Ok(a) => short(a.offset),
        Err(AppError::Refused(ErrorCode::UploadTooLong, _)) => AppError::too_large(
            ErrorCode::SizeMismatch,
            format!("the body is longer than the {} bytes fileSize announced", row.length),
        ),
        Err(AppError::Refused(ErrorCode::OffsetMismatch, _)) => {
            return Err(AppError::Refused(
                ErrorCode::AlreadyUploaded,
                "this URL was used already; ask for a new one".into(),
            ))
        }
        Err(e) => return Err(e),
    };
    // One PUT per URL: what a failed one left goes with its upload.
    if let Ok(row) = upload::get(state, &file.id).await {
        let _ = upload::terminate(state, &row).await;
    }
    Err(refusal)
}

/// The `preview` of a published file: empty, or a `data:image/…;base64,` image under 30 KB
/// that decodes. Attaché makes its own preview from the file; this one is only checked.
async fn check_preview(preview: Option<&str>) -> AppResult<()> {
    let Some(preview) = preview.map(str::trim).filter(|p| !p.is_empty()) else { return Ok(()) };
    let bad = |why: &str| AppError::Refused(ErrorCode::BadPreview, why.to_owned());
    let data = preview
        .strip_prefix("data:")
        .and_then(|rest| rest.split_once(";base64,"))
        .filter(|(media, _)| media.to_ascii_lowercase().starts_with("image/"))
        .map(|(_, data)| data)
        .ok_or_else(|| bad("the preview is a data:image/…;base64,… URL"))?;
    // Base64 takes 4 characters for 3 bytes: a longer text cannot be under the limit.
    if data.len() / 4 * 3 > LP_MAX_PREVIEW_BYTES + 3 {
        return Err(preview_too_large());
    }
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data.trim_end())
        .map_err(|_| bad("the preview's base64 does not decode"))?;
    if bytes.len() >= LP_MAX_PREVIEW_BYTES {
        return Err(preview_too_large());
    }
    tokio::task::spawn_blocking(move || crate::preview::check_thumbnail(&bytes))
        .await
        .map_err(|e| AppError::Internal(e.into()))?
}

fn preview_too_large() -> AppError {
    AppError::Refused(
        ErrorCode::PreviewTooLarge,
        format!("the preview must be under {} KB", LP_MAX_PREVIEW_BYTES / 1024),
    )
}

/// `ms.PublishEvent` with a `hosted/file` message: the uploaded file is checked, stored and put
/// in the transcript with its caption, and both sides get one `attachment_ready` event (while
/// the conversation waits for an agent, the staff see its file count).
pub async fn publish_file(
    state: &AppState,
    visitor: &VisitorId,
    dialog: Option<&str>,
    file: &LpHostedFile,
) -> AppResult<Message> {
    let path = FilePath::parse(&file.relative_path)
        .ok_or_else(|| AppError::invalid("relativePath is not a file URL of ours"))?;
    if let Some(t) = file.file_type.as_deref().filter(|t| !t.is_empty()) {
        if !same_type(&lp_file_type(t)?, &lp_file_type(&path.ext)?) {
            return Err(AppError::invalid(format!("fileType {t} is not the type of the uploaded file ({})", path.ext)));
        }
    }
    check_preview(file.preview.as_deref()).await?;
    let uploader = Uploader::Visitor(visitor.clone());
    let row = upload::own(state, &uploader, &path.id).await?;
    if dialog.is_some_and(|d| !d.is_empty() && d != row.contact_id.as_str()) {
        return Err(AppError::invalid("the file was uploaded for another conversation"));
    }
    sharing_on(state, &row.account_id).await?;
    let description = match file.caption.as_deref() {
        Some(c) => Some(text_field("the caption", c, check::MAX_DESCRIPTION_CHARS, false)?).filter(|c| !c.is_empty()),
        None => None,
    };
    upload::publish_held(state, &row, description).await
}

/// Finds the attachment a path names: by upload id (the consumer's own file) or attachment id.
async fn attachment_of(state: &AppState, file: &FilePath) -> AppResult<(AttachmentRow, Contact)> {
    let message_id = match repo::upload::get(&state.db, &UploadId(file.id.clone())).await? {
        Some(up) => up.message_id.map(|m| m.0),
        None => None,
    };
    let row = repo::attachment::by_id_or_message(&state.db, message_id.as_deref().unwrap_or(&file.id))
        .await?
        .ok_or(AppError::NotFound("file"))?;
    let contact = repo::contact::get(&state.db, &row.contact_id).await?.ok_or(AppError::NotFound("file"))?;
    let account = repo::account::get(&state.db, &contact.account_id).await?.ok_or(AppError::NotFound("file"))?;
    if account.name != file.account {
        return Err(AppError::NotFound("file"));
    }
    if contact.report_expires_at.is_some_and(|e| e.timestamp_micros() <= now_us()) {
        return Err(AppError::Refused(ErrorCode::ReportExpired, "the contact's report has expired".into()));
    }
    Ok((row, contact))
}

/// `ms.GenerateURLForDownloadFile`: a signed GET URL for a file of one of the visitor's
/// conversations (while its report lives).
pub async fn download_url(state: &AppState, visitor: &VisitorId, relative_path: &str) -> AppResult<TempUrl> {
    let file =
        FilePath::parse(relative_path).ok_or_else(|| AppError::invalid("relativePath is not a file URL of ours"))?;
    let (_, contact) = attachment_of(state, &file).await?;
    if !super::contact::owned_by(&state.db, &contact, visitor).await? {
        return Err(AppError::NotFound("file"));
    }
    sharing_on(state, &contact.account_id).await?;
    Ok(sign(state, "GET", relative_path.to_owned()))
}

/// The attachment behind a verified GET URL, with its contact (whose consumer was given it).
pub async fn download(state: &AppState, file: &FilePath) -> AppResult<(AttachmentRow, Contact)> {
    let (row, contact) = attachment_of(state, file).await?;
    sharing_on(state, &contact.account_id).await?;
    if let Some(t) = &row.removed {
        return Err(super::access::removed_error(t));
    }
    Ok((row, contact))
}

/// The path under which the consumer sees an attachment (in notifications), and its file type.
pub fn path_of(account: &str, attachment_id: &str, file_name: &str) -> (String, String) {
    let ext = file_name.rsplit_once('.').map(|(_, e)| e).filter(|e| valid_ext(e)).unwrap_or("bin").to_ascii_uppercase();
    (FilePath::render(account, attachment_id, &ext), ext)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse_only_our_shape() {
        let id = "0123456789abcdef0123456789abcdef";
        let p = FilePath::parse(&format!("/v1/AUTH_attache/acme/{id}.PNG")).unwrap();
        assert_eq!((p.account.as_str(), p.id.as_str(), p.ext.as_str()), ("acme", id, "PNG"));
        for bad in [
            format!("/v1/AUTH_other/acme/{id}.PNG"),
            format!("/v1/AUTH_attache/acme/{id}"),
            format!("/v1/AUTH_attache/acme/../{id}.PNG"),
            format!("/v1/AUTH_attache/acme/{id}.P/NG"),
            "/v1/AUTH_attache/acme/notanid.PNG".to_owned(),
            format!("/v1/AUTH_attache//{id}.PNG"),
        ] {
            assert_eq!(FilePath::parse(&bad), None, "{bad}");
        }
    }

    #[test]
    fn only_the_documents_file_types_and_jpeg_is_jpg() {
        for ok in ["JPG", "jpeg", ".png", " GIF "] {
            assert!(lp_file_type(ok).is_ok(), "{ok}");
        }
        for bad in ["EXE", "PDF", "svg", "", "PNG.EXE"] {
            let e = lp_file_type(bad).unwrap_err();
            assert_eq!((e.status().as_u16(), e.code()), (415, ErrorCode::TypeNotAllowed), "{bad}");
        }
        assert!(same_type("JPEG", "JPG") && same_type("PNG", "PNG") && !same_type("GIF", "PNG"));
    }
}
