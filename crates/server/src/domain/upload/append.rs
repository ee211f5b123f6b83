//! Appending bytes to an upload at its offset under its lease: one worker for every door (the tus
//! PATCH, creation-with-upload, the temporary PUT URL), which finishes the upload when the last
//! byte is in.

use super::finish::{finish, refuse};
use super::{internal, spot, status, Lease, Prior, UploadRow};
use crate::error::{AppError, AppResult};
use crate::repo;
use crate::storage::{ByteStream, StoreKey};
use crate::upload::{Checksum, StagingError, WriteOutcome};
use crate::AppState;
use attache_protocol::{Contact, ContactState, ErrorCode, Event, Message, UploadState};

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
/// `prior`: what the request read already (the rest is read now).
pub async fn append(state: &AppState, lease: &Lease, mut chunk: Chunk, prior: &Prior) -> AppResult<Appended> {
    let _in_flight = crate::metrics::GaugeGuard::new(state.metrics.uploads_in_flight.clone());
    chunk.body = state.metrics.received(chunk.body);
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
            return Err(AppError::Refused(
                ErrorCode::UploadRefused,
                row.error_message.clone().unwrap_or_else(|| "the file was refused".into()),
            ))
        }
        UploadState::Ready if chunk.offset == row.length && chunk.declared_len.unwrap_or(0) == 0 => {
            let message = status(state, &row).await?.message;
            return Ok(done(&row, message));
        }
        UploadState::Ready => {
            return Err(AppError::Refused(
                ErrorCode::UploadTooLong,
                "the upload is complete; no more bytes go into it".into(),
            ))
        }
        UploadState::Receiving | UploadState::Checking => {}
    }
    if chunk.offset != row.offset {
        return Err(AppError::Refused(
            ErrorCode::OffsetMismatch,
            format!(
                "the upload is at offset {}, not {}; ask with HEAD and resume from there",
                row.offset, chunk.offset
            ),
        ));
    }
    let read;
    let (contact, account) = match prior {
        Prior::Both(k) => (&k.contact, Some(&k.account)),
        Prior::Account(_) | Prior::Nothing => {
            read = repo::contact::get(&state.db, &row.contact_id).await?.ok_or(AppError::NotFound("contact"))?;
            let account = match prior {
                Prior::Account(a) if a.id == read.account_id => Some(a),
                _ => None,
            };
            (&read, account)
        }
    };
    if contact.state == ContactState::Closed {
        let refusal = AppError::gone(ErrorCode::ContactClosed, "the contact has ended; it takes no more files");
        return Err(refuse(state, &row, contact, refusal).await);
    }
    let remaining = row.length - row.offset;
    if chunk.declared_len.is_some_and(|n| n > remaining) {
        return Err(AppError::Refused(
            ErrorCode::UploadTooLong,
            format!(
                "the chunk has {} bytes but only {remaining} remain of the announced length",
                chunk.declared_len.unwrap_or(0)
            ),
        ));
    }
    if remaining == 0 && !row.hold {
        // Complete but not finished (a crash, an instance that died): finish it now.
        let message = finish(state, lease, &row, contact, account, false).await?;
        return Ok(Appended {
            offset: row.length,
            message: Some(message),
            interrupted: false,
            expires_at: row.expires_at,
        });
    }
    let target = StoreKey::for_upload(&row.id);
    let spot = spot(&row, &target, row.offset == 0 && !row.hold);
    let (body, tap) = state.files.digests.tap(&row.id, row.offset, chunk.body);
    let written = match state.files.staging.write(spot, body, chunk.checksum.as_ref()).await {
        Ok(w) => w,
        Err(StagingError::Lost(why)) => {
            tracing::warn!(upload = %row.id, why, "upload lost its staged bytes");
            let refusal = AppError::Refused(
                ErrorCode::UploadLost,
                "the bytes received so far were lost on our side; send the file again".into(),
            );
            return Err(refuse(state, &row, contact, refusal).await);
        }
        Err(e) => return Err(internal(e)),
    };
    let (n, interrupted) = match written.outcome {
        WriteOutcome::Complete(n) => (n, false),
        WriteOutcome::Interrupted(n) => (n, true),
        WriteOutcome::TooLong => {
            return Err(AppError::Refused(
                ErrorCode::UploadTooLong,
                "the chunk goes past the announced Upload-Length".into(),
            ))
        }
        WriteOutcome::ChecksumMismatch => {
            return Err(AppError::Refused(
                ErrorCode::ChecksumMismatch,
                "the chunk does not match its Upload-Checksum; it was not appended".into(),
            ))
        }
    };
    let mut row = row;
    // A whole file in one write, whose staging state did not change (the local folder), needs no
    // offset of its own: finishing records it with the file, and should the process die before,
    // nothing was acknowledged and the client sends the file again from 0 (the write starts the
    // staging file afresh).
    let whole = row.offset == 0 && n == row.length && !interrupted && !row.hold && written.staged == row.staged;
    if n > 0 {
        let to = row.offset + n;
        if !whole {
            // Unless this write completes the upload (finishing needs the lease), the lease goes
            // back with the offset.
            let release = interrupted || to < row.length || row.hold;
            if lease.lost()
                || !repo::upload::advance(
                    &state.writer,
                    &row.id,
                    &lease.owner,
                    (row.offset, to),
                    &written.staged,
                    release,
                )
                .await?
            {
                return Err(AppError::Refused(
                    ErrorCode::OffsetMismatch,
                    "the upload moved meanwhile; ask its offset with HEAD".into(),
                ));
            }
            if release {
                lease.given_back();
            }
            state.files.staging.recorded(&row.id, &row.staged, &written.staged).await;
        }
        if let Some(tap) = tap {
            state.files.digests.recorded(&row.id, tap, n);
        }
        row.offset = to;
        row.staged = written.staged;
        progressed(state, contact, &row);
    }
    if interrupted {
        return Ok(Appended { offset: row.offset, message: None, interrupted: true, expires_at: row.expires_at });
    }
    if row.offset == row.length && !row.hold {
        let message = finish(state, lease, &row, contact, account, written.in_store).await?;
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
