//! Contacts for the staff: the queue, accepting, the chat, closing, reports.

use super::extract::{AppJson, AppQuery};
use crate::auth::Staff;
use crate::domain::contact;
use crate::error::AppResult;
use crate::AppState;
use attache_protocol::{ApiError, Contact, ContactDetails, ContactState, Message, ReportFilter, SendMessage};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;

/// Filter of the work view.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct WorkFilter {
    /// Only this state.
    state: Option<ContactState>,
}

/// The queue and the caller's contacts (agents: their own; supervisors: also their agents'; admins: all).
#[utoipa::path(get, path = "/api/contacts", tag = "contacts", security(("bearer" = [])), params(WorkFilter),
    responses((status = 200, body = [Contact]), (status = 401, body = ApiError)))]
pub async fn list_contacts(
    State(state): State<AppState>,
    staff: Staff,
    AppQuery(f): AppQuery<WorkFilter>,
) -> AppResult<AppJson<Vec<Contact>>> {
    Ok(AppJson(contact::work_list(&state.db, &staff, f.state).await?))
}

/// Takes a queued contact (agents and supervisors; admins do not handle chats).
#[utoipa::path(post, path = "/api/contacts/{id}/accept", tag = "contacts", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Contact), (status = 403, description = "agents-only", body = ApiError),
        (status = 404, body = ApiError), (status = 409, body = ApiError),
        (status = 410, description = "report-expired", body = ApiError)))]
#[tracing::instrument(skip_all, fields(user = %staff.user.username, contact = %id))]
pub async fn accept_contact(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> AppResult<AppJson<Contact>> {
    Ok(AppJson(contact::accept(&state, &staff, &id).await?))
}

/// Ends a contact.
#[utoipa::path(post, path = "/api/contacts/{id}/close", tag = "contacts", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Contact), (status = 403, body = ApiError), (status = 409, body = ApiError)))]
#[tracing::instrument(skip_all, fields(user = %staff.user.username, contact = %id))]
pub async fn close_contact(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> AppResult<AppJson<Contact>> {
    Ok(AppJson(contact::staff_close(&state, &staff, &id).await?))
}

/// Sends a text message to the customer.
#[utoipa::path(post, path = "/api/contacts/{id}/messages", tag = "contacts", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = SendMessage,
    responses((status = 201, body = Message), (status = 403, body = ApiError), (status = 409, body = ApiError), (status = 410, description = "report-expired", body = ApiError), (status = 422, body = ApiError)))]
#[tracing::instrument(skip_all, fields(user = %staff.user.username, contact = %id))]
pub async fn send_message(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    AppJson(msg): AppJson<SendMessage>,
) -> AppResult<(StatusCode, AppJson<Message>)> {
    Ok((StatusCode::CREATED, AppJson(contact::staff_send(&state, &staff, &id, &msg.body).await?)))
}

/// The transcript.
#[utoipa::path(get, path = "/api/contacts/{id}/messages", tag = "contacts", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = [Message]), (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 410, description = "report-expired", body = ApiError)))]
pub async fn list_messages(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> AppResult<AppJson<Vec<Message>>> {
    Ok(AppJson(contact::staff_messages(&state, &staff, &id).await?))
}

/// Reports > Contacts: filterable by agent, state and opening time.
#[utoipa::path(get, path = "/api/reports/contacts", tag = "reports", security(("bearer" = [])), params(ReportFilter),
    responses((status = 200, body = [Contact]), (status = 400, body = ApiError)))]
pub async fn report_contacts(
    State(state): State<AppState>,
    staff: Staff,
    AppQuery(filter): AppQuery<ReportFilter>,
) -> AppResult<AppJson<Vec<Contact>>> {
    Ok(AppJson(contact::report_list(&state.db, &staff, filter).await?))
}

/// Reports > Contacts > Contact details: the contact and its transcript.
#[utoipa::path(get, path = "/api/reports/contacts/{id}", tag = "reports", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = ContactDetails), (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 410, description = "report-expired", body = ApiError)))]
pub async fn report_contact(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> AppResult<AppJson<ContactDetails>> {
    Ok(AppJson(contact::report_details(&state, &staff, &id).await?))
}

/// Releases a file that was blocked because the scanner gave no verdict (admins only): it is
/// delivered into the transcript, recorded with who and when. A file in which a virus was found
/// cannot be released (`409 not-releasable`).
#[utoipa::path(post, path = "/api/reports/uploads/{id}/release", tag = "reports", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Message), (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 409, description = "not-releasable", body = ApiError)))]
pub async fn release_upload(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> AppResult<AppJson<Message>> {
    Ok(AppJson(crate::domain::upload::release(&state, &staff, &id).await?))
}
