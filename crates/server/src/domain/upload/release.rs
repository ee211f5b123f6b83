//! An admin's release of a file the checks blocked because the scanner gave no verdict.

use super::{ensure_finished, status};
use crate::auth::Staff;
use crate::db::{is_id, now_us};
use crate::domain::attachment;
use crate::error::{AppError, AppResult};
use crate::repo;
use crate::AppState;
use attache_protocol::{ErrorCode, Message, UploadId, UploadState};

fn not_releasable(why: impl Into<String>) -> AppError {
    AppError::Refused(ErrorCode::NotReleasable, why.into())
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
        UploadState::Refused if row.error_code == Some(attachment::MALWARE_FOUND) => {
            return Err(not_releasable("a virus was found in this file; it cannot be released"))
        }
        UploadState::Refused => {
            return Err(not_releasable("only a file blocked because the scanner did not answer can be released"))
        }
        UploadState::Ready | UploadState::Receiving | UploadState::Checking => {}
    }
    let row = repo::upload::get(&state.db, &id).await?.ok_or(AppError::NotFound("upload"))?;
    if row.released_by.is_none() && row.state != UploadState::Ready {
        return Err(not_releasable("the file is not blocked"));
    }
    let after = ensure_finished(state, row).await?;
    match after.state {
        UploadState::Ready => status(state, &after).await?.message.ok_or(AppError::NotFound("message")),
        UploadState::Refused | UploadState::Blocked => {
            Err(not_releasable(after.error_message.unwrap_or_else(|| "the file was refused when checked again".into())))
        }
        // Someone else is finishing it right now.
        UploadState::Receiving | UploadState::Checking => {
            Err(AppError::Refused(ErrorCode::UploadLocked, "the file is being delivered; ask again shortly".into()))
        }
    }
}
