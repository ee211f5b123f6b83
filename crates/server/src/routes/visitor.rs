//! The customer's side, known by the `vvcu` cookie.

use super::extract::AppJson;
use crate::auth::Visitor;
use crate::domain::contact;
use crate::error::AppResult;
use crate::AppState;
use attache_protocol::{ApiError, Contact, Message, OpenContact, SendMessage};
use axum::extract::{Path, State};
use axum::http::StatusCode;

/// Opens a contact; sets (or renews) the `vvcu` cookie.
#[utoipa::path(post, path = "/api/visitor/contacts", tag = "visitor", request_body = OpenContact,
    responses((status = 201, body = Contact), (status = 403, description = "origin-not-allowed: a foreign Origin", body = ApiError), (status = 404, description = "no such account", body = ApiError),
        (status = 415, description = "expected-json: changes are sent as application/json", body = ApiError), (status = 422, description = "invalid-request (e.g. control or direction-changing characters)", body = ApiError)))]
#[tracing::instrument(skip_all, fields(account = %req.account))]
pub async fn open_contact(
    State(state): State<AppState>,
    visitor: Visitor,
    AppJson(req): AppJson<OpenContact>,
) -> AppResult<(StatusCode, AppJson<Contact>)> {
    Ok((StatusCode::CREATED, AppJson(contact::open(&state, &visitor, req).await?)))
}

/// The visitor's contacts, newest first.
#[utoipa::path(get, path = "/api/visitor/contacts", tag = "visitor", responses((status = 200, body = [Contact])))]
pub async fn list_contacts(State(state): State<AppState>, visitor: Visitor) -> AppResult<AppJson<Vec<Contact>>> {
    Ok(AppJson(contact::list_of_visitor(&state.db, &visitor).await?))
}

/// One of the visitor's contacts.
#[utoipa::path(get, path = "/api/visitor/contacts/{id}", tag = "visitor", params(("id" = String, Path)),
    responses((status = 200, body = Contact), (status = 404, body = ApiError), (status = 410, description = "report-expired", body = ApiError)))]
pub async fn get_contact(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
) -> AppResult<AppJson<Contact>> {
    Ok(AppJson(contact::of_visitor(&state.db, &visitor, &id).await?))
}

/// The customer writes to the agent.
#[utoipa::path(post, path = "/api/visitor/contacts/{id}/messages", tag = "visitor", params(("id" = String, Path)),
    request_body = SendMessage,
    responses((status = 201, body = Message), (status = 403, description = "origin-not-allowed: a foreign Origin", body = ApiError), (status = 404, body = ApiError), (status = 409, body = ApiError), (status = 410, description = "report-expired", body = ApiError),
        (status = 415, description = "expected-json: changes are sent as application/json", body = ApiError), (status = 422, body = ApiError)))]
#[tracing::instrument(skip_all, fields(contact = %id))]
pub async fn send_message(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
    AppJson(msg): AppJson<SendMessage>,
) -> AppResult<(StatusCode, AppJson<Message>)> {
    Ok((StatusCode::CREATED, AppJson(contact::visitor_send(&state, &visitor, &id, &msg.body).await?)))
}

/// The transcript.
#[utoipa::path(get, path = "/api/visitor/contacts/{id}/messages", tag = "visitor", params(("id" = String, Path)),
    responses((status = 200, body = [Message]), (status = 404, body = ApiError), (status = 410, description = "report-expired", body = ApiError)))]
pub async fn list_messages(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
) -> AppResult<AppJson<Vec<Message>>> {
    Ok(AppJson(contact::visitor_messages(&state, &visitor, &id).await?))
}

/// The customer ends the contact.
#[utoipa::path(post, path = "/api/visitor/contacts/{id}/close", tag = "visitor", params(("id" = String, Path)),
    responses((status = 200, body = Contact), (status = 403, description = "origin-not-allowed: a foreign Origin", body = ApiError), (status = 404, body = ApiError), (status = 409, body = ApiError), (status = 410, description = "report-expired", body = ApiError), (status = 415, description = "expected-json: changes are sent as application/json", body = ApiError)))]
#[tracing::instrument(skip_all, fields(contact = %id))]
pub async fn close_contact(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
) -> AppResult<AppJson<Contact>> {
    Ok(AppJson(contact::visitor_close(&state, &visitor, &id).await?))
}
