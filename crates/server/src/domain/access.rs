//! Who may open what: DESIGN.md's access table for attachment URLs, and who may read a
//! contact's report. Nothing here changes state.

use crate::auth::Staff;
use crate::db::{now_us, Db};
use crate::error::{AppError, AppResult};
use crate::keys::{Keys, Token};
use crate::repo;
use crate::repo::attachment::AttachmentRow;
use crate::AppState;
use attache_protocol::{
    AccessGrant, AccessWho, Contact, ContactState, ErrorCode, RemovalKind, Role, Tombstone, VisitorId,
};

/// Whether a visitor credential (cookie value or consumer token) is that of the contact's
/// visitor. The credential is looked up by its hash, within the contact's visitor (and so its
/// account) only.
pub async fn owned_by(db: &Db, contact: &Contact, credential: &VisitorId) -> AppResult<bool> {
    let hash = repo::visitor::credential_hash(credential.as_str());
    Ok(repo::visitor::holds(db, &contact.visitor, &hash).await?)
}

/// Whether a staff member may read a contact's report (transcript and files).
///
/// Users with the reports permission and admins read every report of their account; a
/// supervisor reads those of the agents they supervise; an agent reads their own contact while
/// it is active.
pub async fn may_read(db: &Db, staff: &Staff, contact: &Contact) -> AppResult<bool> {
    Ok(staff_grant(db, staff, contact).await?.is_some())
}

/// Whether a staff member may review a contact: its access records, redaction's reach. Admins,
/// report viewers and the agent's supervisor; not its agent alone, never a customer.
pub async fn may_review(db: &Db, staff: &Staff, contact: &Contact) -> AppResult<bool> {
    Ok(matches!(
        staff_grant(db, staff, contact).await?,
        Some(AccessGrant::Admin | AccessGrant::Reports | AccessGrant::Supervisor)
    ))
}

/// The row of the access table that lets a staff member into a contact, if any.
pub async fn staff_grant(db: &Db, staff: &Staff, contact: &Contact) -> AppResult<Option<AccessGrant>> {
    if contact.account_id != staff.account.id {
        return Ok(None);
    }
    if staff.user.role == Role::Admin {
        return Ok(Some(AccessGrant::Admin));
    }
    if staff.user.reports {
        return Ok(Some(AccessGrant::Reports));
    }
    let Some(agent_id) = &contact.agent_id else {
        return Ok(None);
    };
    if staff.user.role == Role::Supervisor {
        if let Some(agent) = repo::user::get(db, agent_id).await? {
            if agent.user.supervisor_id.as_ref() == Some(&staff.user.id) {
                return Ok(Some(AccessGrant::Supervisor));
            }
        }
    }
    if agent_id == &staff.user.id && contact.state == ContactState::Active {
        return Ok(Some(AccessGrant::Agent));
    }
    Ok(None)
}

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
    /// Who opened it and by which row of the table, for the access record.
    pub opener: Opener,
}

/// Who opened a file, as its access record names them.
#[derive(Debug, Clone)]
pub struct Opener {
    /// By kind.
    pub who: AccessWho,
    /// The user's id or the visitor's public id.
    pub who_id: Option<String>,
    /// A name to show.
    pub who_name: String,
    /// The row of the access table.
    pub grant: AccessGrant,
}

fn no_access() -> AppError {
    AppError::Refused(
        ErrorCode::NoFileAccess,
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
///
/// A queued contact counts as active for its visitor; staff may not open its files until an
/// agent accepts it.
pub async fn open_file(state: &AppState, token: &str, caller: &FileCaller) -> AppResult<FileGrant> {
    let keys = &state.files.keys;
    let token = Token::parse(token).ok_or(AppError::NotFound("file"))?;
    let (row, contact) = repo::attachment::by_lookup_with_contact(&state.db, &Keys::lookup_key(&token.attachment_part))
        .await?
        .ok_or(AppError::NotFound("file"))?;
    if !keys.verify(&token, &row.contact_id, &row.id) {
        return Err(AppError::NotFound("file"));
    }
    let now = now_us();
    if let Some(exp) = contact.report_expires_at {
        if exp.timestamp_micros() <= now {
            return Err(AppError::Refused(ErrorCode::ReportExpired, "the contact's report has expired".into()));
        }
    }
    if let Some(staff) = &caller.staff {
        if staff.account.id != contact.account_id {
            return Err(AppError::NotFound("file"));
        }
        if contact.state == ContactState::Queued {
            // Until an agent accepts the contact, staff know how many files wait, nothing more.
            return Err(AppError::Refused(
                ErrorCode::NoFileAccess,
                "the files of a waiting contact open once an agent accepts it".into(),
            ));
        }
    }
    if let Some(t) = &row.removed {
        return Err(removed_error(t));
    }
    let visitor_owns = match &caller.vvcu {
        Some(v) => owned_by(&state.db, &contact, v).await?,
        None => false,
    };
    let vvca_ok = caller.vvca.as_deref().is_some_and(|v| keys.vvca_allows(v, &contact.id));
    let staff_right = match &caller.staff {
        Some(s) => staff_grant(&state.db, s, &contact).await?,
        None => None,
    };
    let allowed = match contact.state {
        ContactState::Active | ContactState::Queued => true,
        ContactState::Closed => visitor_owns || vvca_ok || staff_right.is_some(),
    };
    if !allowed {
        return Err(no_access());
    }
    let opener = match &caller.staff {
        Some(s) => Opener {
            who: AccessWho::Staff,
            who_id: Some(s.user.id.to_string()),
            who_name: s.user.display_name.clone(),
            grant: staff_right.unwrap_or(AccessGrant::Url),
        },
        None if visitor_owns => Opener {
            who: AccessWho::Visitor,
            who_id: Some(contact.visitor.to_string()),
            who_name: contact.customer_name.clone(),
            grant: AccessGrant::ContactVisitor,
        },
        None if vvca_ok => Opener {
            who: AccessWho::Browser,
            who_id: None,
            who_name: "a browser holding this contact's grant".into(),
            grant: AccessGrant::Vvca,
        },
        None => Opener {
            who: AccessWho::Link,
            who_id: None,
            who_name: "someone holding the link".into(),
            grant: AccessGrant::Url,
        },
    };
    let set_vvca = if contact.state == ContactState::Active && caller.staff.is_none() {
        let account = repo::account::get(&state.db, &contact.account_id).await?.ok_or(AppError::NotFound("file"))?;
        let value = crate::keys::vvca_with(caller.vvca.as_deref(), &keys.vvca_grant(&contact.id));
        Some((value, i64::from(account.plan.report_retention_days.max(1)) * 24 * 3600))
    } else if contact.state == ContactState::Closed
        && caller.vvca.as_deref().is_some_and(|v| keys.vvca_allows(v, &contact.id))
    {
        // Renewed to the report's remaining life.
        let left = contact.report_expires_at.map(|e| (e.timestamp_micros() - now) / 1_000_000).unwrap_or(0);
        caller.vvca.clone().map(|v| (v, left.max(1)))
    } else {
        None
    };
    Ok(FileGrant { attachment: row, contact, set_vvca, opener })
}

/// The refusal of a removed file's URLs (410), in words.
pub fn removed_error(t: &Tombstone) -> AppError {
    let when = t.at.format("%Y-%m-%d %H:%M UTC");
    let words = match t.kind {
        RemovalKind::Redacted => format!(
            "this file was removed by {} on {when}: {}",
            t.by.as_deref().unwrap_or("staff"),
            t.reason.as_deref().unwrap_or("no reason given")
        ),
        RemovalKind::Expired => format!("this file expired on {when} under the account's file retention"),
    };
    AppError::Refused(ErrorCode::FileRemoved, words)
}
