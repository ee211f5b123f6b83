//! Contacts and their transcripts: the customer's and the staff's side, and who may read what.

use super::access::may_read;
// Re-exported for the doors that check a visitor before anything else (the consumer API).
pub use super::access::owned_by;
use super::text_field;
use crate::auth::{Staff, Visitor};
use crate::db::{is_id, now_us, Db};
use crate::error::{AppError, AppResult};
use crate::repo;
use crate::repo::contact::{ContactQuery, Visibility};
use crate::AppState;
use attache_protocol::{
    Contact, ContactDetails, ContactId, ContactState, ErrorCode, Event, Message, OpenContact, ReportFilter, Role,
    Sender, VisitorRef, MAX_MESSAGE_CHARS,
};

const DEFAULT_CUSTOMER_NAME: &str = "Customer";
const LIST_LIMIT: i64 = 500;

fn message_body(body: &str) -> AppResult<String> {
    text_field("a message", body, MAX_MESSAGE_CHARS, true)
}

/// Every public id (one per account it talked to) of the visitor holding this credential: what
/// its event socket may hear about, without keeping the cookie itself.
pub async fn identities_of(db: &Db, visitor: &Visitor) -> AppResult<Vec<VisitorRef>> {
    Ok(repo::visitor::all_of(db, &visitor.credential_hash()).await?)
}

async fn find(db: &Db, id: &str) -> AppResult<Contact> {
    if !is_id(id) {
        return Err(AppError::NotFound("contact"));
    }
    let contact = repo::contact::get(db, &ContactId(id.to_owned())).await?.ok_or(AppError::NotFound("contact"))?;
    // An expired report is gone at once, not at the next sweep.
    if contact.report_expires_at.is_some_and(|e| e.timestamp_micros() <= now_us()) {
        return Err(AppError::Refused(ErrorCode::ReportExpired, "the contact's report has expired".into()));
    }
    Ok(contact)
}

fn not_active(c: &Contact) -> AppError {
    AppError::Refused(ErrorCode::ContactNotActive, format!("the contact is {}, not active", c.state.as_str()))
}

// ---- the customer's side -------------------------------------------------------------------

/// A customer opens a contact with an account; it joins the account's queue.
pub async fn open(state: &AppState, visitor: &Visitor, req: OpenContact) -> AppResult<Contact> {
    let db = &state.db;
    let account = repo::account::by_name(db, req.account.trim()).await?.ok_or(AppError::NotFound("account"))?;
    let name = text_field("a name", req.name.as_deref().unwrap_or(""), 100, false)?;
    let name = if name.is_empty() { DEFAULT_CUSTOMER_NAME.to_owned() } else { name };
    let first = match req.message.as_deref().map(str::trim) {
        Some(m) if !m.is_empty() => Some(message_body(m)?),
        _ => None,
    };
    let me = repo::visitor::ensure(db, &account.id, &visitor.credential_hash()).await?;
    let contact = repo::contact::create(db, &account.id, &me, &name).await?;
    if let Some(body) = first {
        repo::contact::add_message(db, &contact.id, Sender::Customer, &name, &body).await?;
    }
    state.hub.contact_changed(&contact, Event::ContactQueued { contact: contact.clone() });
    Ok(contact)
}

/// One of the visitor's contacts; another visitor's is "not found".
pub async fn of_visitor(db: &Db, visitor: &Visitor, id: &str) -> AppResult<Contact> {
    let contact = find(db, id).await?;
    if !owned_by(db, &contact, &visitor.id).await? {
        return Err(AppError::NotFound("contact"));
    }
    Ok(contact)
}

/// The visitor's contacts (its own, in whichever account it opened them).
pub async fn list_of_visitor(db: &Db, visitor: &Visitor) -> AppResult<Vec<Contact>> {
    Ok(repo::contact::of_credential(db, &visitor.credential_hash()).await?)
}

/// The customer writes; allowed while the contact waits or is active.
pub async fn visitor_send(state: &AppState, visitor: &Visitor, id: &str, body: &str) -> AppResult<Message> {
    let contact = of_visitor(&state.db, visitor, id).await?;
    if contact.state == ContactState::Closed {
        return Err(not_active(&contact));
    }
    let body = message_body(body)?;
    let msg =
        repo::contact::add_message(&state.db, &contact.id, Sender::Customer, &contact.customer_name, &body).await?;
    state.hub.to_both_sides(&contact, Event::MessageCreated { message: msg.clone() });
    Ok(msg)
}

/// The visitor's transcript.
pub async fn visitor_messages(state: &AppState, visitor: &Visitor, id: &str) -> AppResult<Vec<Message>> {
    let contact = of_visitor(&state.db, visitor, id).await?;
    let messages = repo::contact::messages(&state.db, &contact.id).await?;
    super::attachment::with_attachments(state, &contact.id, messages).await
}

/// The customer ends the contact (also while it still waits in the queue).
pub async fn visitor_close(state: &AppState, visitor: &Visitor, id: &str) -> AppResult<Contact> {
    let contact = of_visitor(&state.db, visitor, id).await?;
    close_contact(state, contact, Sender::Customer).await
}

// ---- the staff's side ----------------------------------------------------------------------

/// A contact of the caller's account; another account's is "not found", never "forbidden".
async fn of_account(db: &Db, staff: &Staff, id: &str) -> AppResult<Contact> {
    let contact = find(db, id).await?;
    if contact.account_id != staff.account.id {
        return Err(AppError::NotFound("contact"));
    }
    Ok(contact)
}

/// The work view: the account's queue plus the contacts the caller handles (agents), oversees
/// (supervisors) or all of them (admins). Closed ones only when asked with `state=closed`.
pub async fn work_list(db: &Db, staff: &Staff, state: Option<ContactState>) -> AppResult<Vec<Contact>> {
    let me = staff.user.id.clone();
    let visibility = match staff.user.role {
        Role::Admin => Visibility::All,
        Role::Supervisor => Visibility::HandledOrSupervisedBy(me),
        Role::Agent => Visibility::HandledBy(me),
    };
    let q = ContactQuery {
        account: staff.account.id.clone(),
        visibility,
        with_queue: true,
        state,
        agent: None,
        from: None,
        to: None,
        open_only: true,
        limit: LIST_LIMIT,
    };
    Ok(repo::contact::list(db, &q).await?)
}

/// Takes a queued contact.
///
/// Those who handle contacts take them: agents, and supervisors (who handle contacts besides
/// overseeing agents). Admins manage the account and read reports; they do not take chats.
pub async fn accept(state: &AppState, staff: &Staff, id: &str) -> AppResult<Contact> {
    let contact = of_account(&state.db, staff, id).await?;
    if staff.user.role == Role::Admin {
        return Err(AppError::Refused(
            ErrorCode::AgentsOnly,
            "contacts are taken by agents and supervisors; an admin account does not handle chats".into(),
        ));
    }
    if !repo::contact::accept(&state.db, &contact.id, &staff.user.id).await? {
        return Err(AppError::Refused(
            ErrorCode::ContactNotQueued,
            "the contact is no longer waiting: another agent took it or the customer left".into(),
        ));
    }
    let contact = find(&state.db, id).await?;
    state.hub.contact_changed(&contact, Event::ContactAccepted { contact: contact.clone() });
    Ok(contact)
}

/// Ends a contact: its agent, that agent's supervisor or an admin may.
pub async fn staff_close(state: &AppState, staff: &Staff, id: &str) -> AppResult<Contact> {
    let contact = of_account(&state.db, staff, id).await?;
    let own = contact.agent_id.as_ref() == Some(&staff.user.id);
    let oversees = staff.user.role == Role::Admin
        || (staff.user.role == Role::Supervisor && may_read(&state.db, staff, &contact).await?);
    if !own && !oversees {
        return Err(AppError::Refused(ErrorCode::NotYourContact, "this contact is handled by another agent".into()));
    }
    close_contact(state, contact, Sender::Agent).await
}

async fn close_contact(state: &AppState, contact: Contact, by: Sender) -> AppResult<Contact> {
    if contact.state == ContactState::Closed {
        return Err(AppError::Refused(ErrorCode::ContactClosed, "the contact is already closed".into()));
    }
    let account = repo::account::get(&state.db, &contact.account_id).await?.ok_or(AppError::NotFound("account"))?;
    let now = now_us();
    let retention_us = i64::from(account.plan.report_retention_days) * 24 * 3600 * 1_000_000;
    if !repo::contact::close(&state.db, &contact.id, by, now, now.saturating_add(retention_us)).await? {
        return Err(AppError::Refused(ErrorCode::ContactClosed, "the contact is already closed".into()));
    }
    // Read back as it is (with retention 0 its report is already expired).
    let contact = repo::contact::get(&state.db, &contact.id).await?.ok_or(AppError::NotFound("contact"))?;
    state.hub.contact_changed(&contact, Event::ContactClosed { contact: contact.clone() });
    Ok(contact)
}

/// The agent writes to their active contact.
pub async fn staff_send(state: &AppState, staff: &Staff, id: &str, body: &str) -> AppResult<Message> {
    let contact = of_account(&state.db, staff, id).await?;
    if contact.agent_id.as_ref() != Some(&staff.user.id) {
        return Err(AppError::Refused(ErrorCode::NotYourContact, "only the contact's agent can write to it".into()));
    }
    if contact.state != ContactState::Active {
        return Err(not_active(&contact));
    }
    let body = message_body(body)?;
    let msg =
        repo::contact::add_message(&state.db, &contact.id, Sender::Agent, &staff.user.display_name, &body).await?;
    state.hub.to_both_sides(&contact, Event::MessageCreated { message: msg.clone() });
    Ok(msg)
}

/// A contact the caller may read, or why not.
pub async fn readable(db: &Db, staff: &Staff, id: &str) -> AppResult<Contact> {
    let contact = of_account(db, staff, id).await?;
    if !may_read(db, staff, &contact).await? {
        return Err(AppError::Refused(
            ErrorCode::NoReportAccess,
            "you may not read this contact: it needs the reports permission, an admin, or its agent's supervisor"
                .into(),
        ));
    }
    Ok(contact)
}

/// A transcript for the staff.
pub async fn staff_messages(state: &AppState, staff: &Staff, id: &str) -> AppResult<Vec<Message>> {
    let contact = readable(&state.db, staff, id).await?;
    staff_transcript(state, &contact).await
}

/// A contact's messages as staff see them: with their attachments, except that the files of a
/// contact still waiting in the queue stay out (staff see only how many wait, from the contact).
async fn staff_transcript(state: &AppState, contact: &Contact) -> AppResult<Vec<Message>> {
    let messages = repo::contact::messages(&state.db, &contact.id).await?;
    let mut messages = super::attachment::with_attachments(state, &contact.id, messages).await?;
    if contact.state == ContactState::Queued {
        messages.retain(|m| m.attachment.is_none());
    }
    Ok(messages)
}

/// Reports > Contacts: what the caller may read, filtered, newest first.
pub async fn report_list(db: &Db, staff: &Staff, filter: ReportFilter) -> AppResult<Vec<Contact>> {
    let me = staff.user.id.clone();
    let visibility = if staff.user.reports || staff.user.role == Role::Admin {
        Visibility::All
    } else if staff.user.role == Role::Supervisor {
        Visibility::SupervisedOrActiveHandledBy(me)
    } else {
        Visibility::ActiveHandledBy(me)
    };
    if let (Some(f), Some(t)) = (filter.from, filter.to) {
        if f > t {
            return Err(AppError::invalid("'from' is after 'to'"));
        }
    }
    let q = ContactQuery {
        account: staff.account.id.clone(),
        visibility,
        with_queue: false,
        state: filter.state,
        agent: filter.agent,
        from: filter.from,
        to: filter.to,
        open_only: false,
        limit: LIST_LIMIT,
    };
    let mut list = repo::contact::list(db, &q).await?;
    // Newest first, whatever the state.
    list.sort_by_key(|c| std::cmp::Reverse(c.created_at));
    Ok(list)
}

/// Reports > Contacts > Contact details.
pub async fn report_details(state: &AppState, staff: &Staff, id: &str) -> AppResult<ContactDetails> {
    let contact = readable(&state.db, staff, id).await?;
    let messages = staff_transcript(state, &contact).await?;
    // Like the transcript: no names of a waiting contact's files.
    let blocked = if contact.state == ContactState::Queued {
        Vec::new()
    } else {
        repo::upload::blocked_of_contact(&state.db, &contact.id)
            .await?
            .into_iter()
            .filter(|(u, _)| u.error_code != Some(ErrorCode::ContactClosed))
            .map(|(u, created)| attache_protocol::BlockedFile {
                releasable: u.state == attache_protocol::UploadState::Blocked,
                error: attache_protocol::ApiError {
                    error: u.error_code.unwrap_or(ErrorCode::UploadRefused),
                    message: u.error_message.clone().unwrap_or_default(),
                },
                upload_id: u.id,
                name: u.file_name,
                sender: u.sender,
                size: u.length,
                created_at: crate::db::ts(created),
            })
            .collect()
    };
    Ok(ContactDetails { contact, messages, blocked })
}
