//! Reports > Attachments: files across the contacts one may review, found by name, type,
//! sender, agent and date, a page at a time; and the account's storage for admins.

use crate::auth::Staff;
use crate::error::{AppError, AppResult};
use crate::repo;
use crate::repo::contact::Visibility;
use crate::repo::search::FileQuery;
use crate::AppState;
use attache_protocol::{AttachmentHit, AttachmentPage, AttachmentSearch, Role, StorageUsage};
use chrono::{Datelike, TimeZone, Utc};

const DEFAULT_PER_PAGE: u32 = 25;
const MAX_PER_PAGE: u32 = 100;
/// Longest name or type searched for, in characters.
const MAX_TERM: usize = 200;

fn term(what: &str, v: Option<String>) -> AppResult<Option<String>> {
    let Some(v) = v.map(|v| v.trim().to_lowercase()).filter(|v| !v.is_empty()) else { return Ok(None) };
    if v.chars().count() > MAX_TERM || v.chars().any(char::is_control) {
        return Err(AppError::invalid(format!("{what} must be one line of at most {MAX_TERM} characters")));
    }
    Ok(Some(v))
}

/// One page of the files the caller may review, newest first.
pub async fn search(state: &AppState, staff: &Staff, s: AttachmentSearch) -> AppResult<AttachmentPage> {
    let me = staff.user.id.clone();
    let visibility = if staff.user.reports || staff.user.role == Role::Admin {
        Visibility::All
    } else if staff.user.role == Role::Supervisor {
        Visibility::SupervisedOrActiveHandledBy(me)
    } else {
        Visibility::ActiveHandledBy(me)
    };
    if let (Some(f), Some(t)) = (s.from, s.to) {
        if f > t {
            return Err(AppError::invalid("'from' is after 'to'"));
        }
    }
    let per_page = s.per_page.unwrap_or(DEFAULT_PER_PAGE);
    if per_page == 0 || per_page > MAX_PER_PAGE {
        return Err(AppError::invalid(format!("per_page is 1 to {MAX_PER_PAGE}")));
    }
    let page = s.page.unwrap_or(1).max(1);
    let q = FileQuery {
        account: staff.account.id.clone(),
        visibility,
        name: term("the name", s.name)?,
        media_type: term("the type", s.media_type)?,
        sender: s.sender,
        agent: s.agent,
        from: s.from,
        to: s.to,
        offset: i64::from(page - 1) * i64::from(per_page),
        limit: i64::from(per_page),
    };
    let (hits, total) = repo::search::files(&state.db, &q).await?;
    let items = hits
        .into_iter()
        .map(|h| AttachmentHit {
            attachment: super::attachment::to_wire(&state.files.keys, &h.row),
            contact_id: h.row.contact_id.clone(),
            customer_name: h.customer_name,
            agent_name: h.agent_name,
        })
        .collect();
    Ok(AttachmentPage { items, total, page, per_page })
}

/// The account's stored bytes and files, and what expired or was redacted this month (admins).
pub async fn storage(state: &AppState, staff: &Staff) -> AppResult<StorageUsage> {
    staff.require_admin()?;
    let now = Utc::now();
    let month = Utc.with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0).single().unwrap_or(now);
    let (stored, expired_this_month, redacted_this_month) =
        repo::search::storage(&state.db, &staff.account.id, month.timestamp_micros()).await?;
    Ok(StorageUsage { stored, expired_this_month, redacted_this_month })
}
