//! An upload's lease: a row lock with an expiry in the database, so two requests of one upload
//! never write at once whatever instances they reach, and a dead instance's lease runs out by
//! itself.

use super::UploadRow;
use crate::db::new_id;
use crate::db::now_us;
use crate::error::{AppError, AppResult};
use crate::repo;
use crate::AppState;
use attache_protocol::{ErrorCode, UploadId};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// An upload's lease, renewed in the background while held; given back by [`Lease::release`]
/// (or, failing that, when dropped), or with the last write under it (the offset's update, the
/// publishing transaction), which saves the database a round trip per request.
pub struct Lease {
    state: AppState,
    pub(super) id: UploadId,
    pub(super) owner: String,
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
        let Some(row) = repo::upload::take_lease(&state.writer, id, &owner, Self::until(state, now_us()), None).await?
        else {
            return match repo::upload::get(&state.db, id).await? {
                Some(_) => Err(AppError::Refused(
                    ErrorCode::UploadLocked,
                    "another request is writing this upload; retry shortly".into(),
                )),
                None => Err(AppError::NotFound("upload")),
            };
        };
        Ok(Self::held(state, row, owner))
    }

    /// Takes the lease of `uploader`'s own upload `id` and reads it, in one statement; when that
    /// finds nothing, says why as [`super::own`] would (not found, expired), else that another
    /// request holds it.
    pub(super) async fn take_own(state: &AppState, uploader: &super::Uploader, id: &str) -> AppResult<Lease> {
        if !crate::db::is_id(id) {
            return Err(AppError::NotFound("upload"));
        }
        let (owner, until) = Self::new_owner(state);
        let key = uploader.key();
        let id = UploadId(id.to_owned());
        match repo::upload::take_lease(&state.writer, &id, &owner, until, Some(&key)).await? {
            Some(row) if row.expires_at.timestamp_micros() <= now_us() => {
                repo::upload::release(&state.writer, &row.id, &owner).await?;
                Err(super::expired())
            }
            Some(row) => Ok(Self::held(state, row, owner)),
            None => {
                super::own(state, uploader, id.as_str()).await?;
                Err(AppError::Refused(
                    ErrorCode::UploadLocked,
                    "another request is writing this upload; retry shortly".into(),
                ))
            }
        }
    }

    /// A new owner and expiry for an upload created already leased ([`repo::upload::create`]).
    pub(super) fn new_owner(state: &AppState) -> (String, i64) {
        (new_id(), Self::until(state, now_us()))
    }

    fn until(state: &AppState, now: i64) -> i64 {
        now + i64::try_from(state.files.config.lease.as_micros()).unwrap_or(i64::MAX / 2)
    }

    /// The lease `owner` holds on `row`, renewed in the background from now on.
    pub(super) fn held(state: &AppState, row: UploadRow, owner: String) -> Lease {
        let span = state.files.config.lease;
        let lost = Arc::new(AtomicBool::new(false));
        let id = row.id.clone();
        let (st, rid, rowner, rlost) = (state.clone(), id.clone(), owner.clone(), lost.clone());
        let renew = tokio::spawn(async move {
            loop {
                tokio::time::sleep(span / 3).await;
                match repo::upload::lease(&st.writer, &rid, &rowner, Self::until(&st, now_us())).await {
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
        Lease { state: state.clone(), id, owner, row, lost, renew, released: AtomicBool::new(false) }
    }

    /// The upload as it stood when the lease was taken.
    pub fn row(&self) -> &UploadRow {
        &self.row
    }

    /// Records that a write under the lease gave it back.
    pub(super) fn given_back(&self) {
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
        if let Err(e) = repo::upload::release(&self.state.writer, &self.id, &self.owner).await {
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
            let (db, id, owner) = (self.state.writer.clone(), self.id.clone(), self.owner.clone());
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(async move {
                    let _ = repo::upload::release(&db, &id, &owner).await;
                });
            }
        }
    }
}
