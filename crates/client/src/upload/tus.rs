//! The tus 1.0 requests of an upload (creation, HEAD, PATCH with a checksum, termination), each
//! made once through the [`Session`]; the loop that drives them is in the parent module.

use super::{CancelToken, UploadOptions};
use crate::error::check;
use crate::{ClientError, ContactId, ErrorCode, Message, Result, Session, UploadStatus};
use attache_protocol::tus::{
    ATTACHE_MESSAGE_ID, TUS_RESUMABLE, UPLOAD_CHECKSUM, UPLOAD_LENGTH, UPLOAD_METADATA, UPLOAD_OFFSET,
};
use base64::Engine;
use reqwest::{Method, Response, StatusCode};
use sha2::{Digest, Sha256};

const TUS: &str = "1.0.0";

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn header<'a>(resp: &'a Response, name: &str) -> Option<&'a str> {
    resp.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The `Upload-Offset` of an answer to `method`.
fn offset_of(resp: &Response, method: &str) -> Result<u64> {
    header(resp, UPLOAD_OFFSET)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| ClientError::Protocol(format!("{method} without Upload-Offset")))
}

/// Asks the offset of an upload: `Ok(None)` when it is gone (expired, refused, unknown).
pub(super) async fn head_offset(s: &Session, upload_path: &str) -> Result<Option<u64>> {
    let req = s.request(Method::HEAD, upload_path)?.header(TUS_RESUMABLE, TUS);
    let resp = req.send().await.map_err(ClientError::from_reqwest)?;
    match resp.status() {
        StatusCode::OK => Ok(Some(offset_of(&resp, "HEAD")?)),
        StatusCode::NOT_FOUND | StatusCode::GONE => Ok(None),
        other => Err(ClientError::Api {
            status: other.as_u16(),
            code: ErrorCode::Unknown,
            message: "HEAD of the upload failed".into(),
        }),
    }
}

/// The upload's state at the service (receiving, ready with its message, or refused and why).
pub(super) async fn status(s: &Session, upload_path: &str) -> Result<UploadStatus> {
    s.get(upload_path).await
}

/// A created upload: its path at the service, how far it got, and its message once finished.
pub(super) struct Created {
    pub path: String,
    pub offset: u64,
    pub message_id: Option<String>,
    /// The transcript message, when the creation carried the whole file and finished it.
    pub message: Option<Message>,
}

/// Creates the upload (tus creation) with its metadata; with `first`, its first bytes go in the
/// same request (creation-with-upload, with their SHA-256): a file that fits in one chunk is sent
/// in one round trip. A body that cannot be sent is not retried here: the upload is created
/// empty instead and the loop sends the bytes.
pub(super) async fn create(
    s: &Session,
    contact: &ContactId,
    name: &str,
    size: u64,
    opts: &UploadOptions,
    first: Option<Vec<u8>>,
) -> Result<Created> {
    let mut meta = vec![format!("contact {}", b64(contact.as_str())), format!("filename {}", b64(name))];
    if let Some(t) = &opts.media_type {
        meta.push(format!("filetype {}", b64(t)));
    }
    if let Some(d) = opts.description.as_deref().filter(|d| !d.trim().is_empty()) {
        meta.push(format!("description {}", b64(d)));
    }
    let creation = || {
        s.request(Method::POST, "api/uploads").map(|r| {
            r.header(TUS_RESUMABLE, TUS).header(UPLOAD_LENGTH, size.to_string()).header(UPLOAD_METADATA, meta.join(","))
        })
    };
    let sent = match first {
        Some(data) => {
            let digest = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&data));
            let req = creation()?
                .header(UPLOAD_CHECKSUM, format!("sha256 {digest}"))
                .header("Content-Type", "application/offset+octet-stream")
                .body(data);
            match req.send().await {
                Ok(resp) => resp,
                // Nothing known of the upload (no Location came back): create it empty instead.
                Err(e) if e.is_connect() || e.is_request() || e.is_body() || e.is_timeout() => {
                    creation()?.send().await.map_err(ClientError::from_reqwest)?
                }
                Err(e) => return Err(ClientError::from_reqwest(e)),
            }
        }
        None => creation()?.send().await.map_err(ClientError::from_reqwest)?,
    };
    let resp = check(sent).await?;
    let loc = header(&resp, "location").ok_or_else(|| ClientError::Protocol("creation without Location".into()))?;
    // Keep the path only: the service may come back on another address.
    let path = match url::Url::parse(loc) {
        Ok(u) => u.path().to_owned(),
        Err(_) => loc.to_owned(),
    };
    let offset = header(&resp, UPLOAD_OFFSET).and_then(|v| v.parse().ok()).unwrap_or(0);
    let message_id = header(&resp, ATTACHE_MESSAGE_ID).map(str::to_owned);
    // Finished with the creation: the body is the message (else the status is asked as usual).
    let message = match &message_id {
        Some(id) => resp.json::<Message>().await.ok().filter(|m| m.id.as_str() == id),
        None => None,
    };
    Ok(Created { path, offset, message_id, message })
}

/// What became of one PATCH.
pub(super) enum Chunk {
    /// Accepted: the new offset, and the message id once the file is complete and checked.
    Done(u64, Option<String>),
    /// Not taken (moved offset, lock, damage, network): ask the offset and send again.
    Retry,
}

/// Sends one chunk at `offset` with its SHA-256; `Ok(None)` when cancelled meanwhile.
pub(super) async fn send_chunk(
    s: &Session,
    upload_path: &str,
    offset: u64,
    data: Vec<u8>,
    cancel: Option<&CancelToken>,
) -> Result<Option<Chunk>> {
    let digest = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&data));
    let req = s
        .request(Method::PATCH, upload_path)?
        .header(TUS_RESUMABLE, TUS)
        .header(UPLOAD_OFFSET, offset.to_string())
        .header(UPLOAD_CHECKSUM, format!("sha256 {digest}"))
        .header("Content-Type", "application/offset+octet-stream")
        .body(data);
    let send = req.send();
    let resp = match cancel {
        Some(c) => tokio::select! {
            r = send => r,
            _ = c.cancelled() => return Ok(None),
        },
        None => send.await,
    };
    let resp = match resp {
        Ok(r) => r,
        Err(e) if e.is_connect() || e.is_request() || e.is_body() || e.is_timeout() => return Ok(Some(Chunk::Retry)),
        Err(e) => return Err(ClientError::from_reqwest(e)),
    };
    if resp.status() == StatusCode::NO_CONTENT {
        let off = offset_of(&resp, "PATCH")?;
        let msg = header(&resp, ATTACHE_MESSAGE_ID).map(str::to_owned);
        return Ok(Some(Chunk::Done(off, msg)));
    }
    // A proxy before a restarting instance answers without our error body.
    let gateway = matches!(
        resp.status(),
        StatusCode::BAD_GATEWAY | StatusCode::SERVICE_UNAVAILABLE | StatusCode::GATEWAY_TIMEOUT
    );
    let e = check(resp).await.err().unwrap_or_else(|| ClientError::Protocol("unexpected status".into()));
    match e.code() {
        // Offset moved, another request holds the lock, or the chunk was damaged: ask again.
        ErrorCode::OffsetMismatch | ErrorCode::UploadLocked | ErrorCode::ChecksumMismatch => Ok(Some(Chunk::Retry)),
        _ if gateway => Ok(Some(Chunk::Retry)),
        _ => Err(e),
    }
}

/// Deletes the upload at the service (tus termination); an unanswered request leaves it to
/// expire.
pub(super) async fn terminate(s: &Session, upload_path: &str) -> Result<()> {
    let req = s.request(Method::DELETE, upload_path)?.header(TUS_RESUMABLE, TUS);
    let _ = req.send().await;
    Ok(())
}
