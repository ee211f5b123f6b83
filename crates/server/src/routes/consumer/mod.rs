//! The LivePerson-style consumer API: `POST /api/account/{account}/signup`, the WebSocket
//! `/ws_api/account/{account}/messaging/consumer?v=3` (`{"kind":"req","id":…,"type":…}`), and the
//! temporary file URLs `/v1/AUTH_attache/{account}/{id}.{EXT}?temp_url_sig=…&temp_url_expires=…`.
//! The socket's conversation is in [`socket`].

mod socket;

use super::files::{disposition, send_blob, served_type, Blob};
use crate::auth::{cookie, set_visitor_cookie, VISITOR_COOKIE};
use crate::db::is_id;
use crate::domain::consumer as lp;
use crate::domain::review::NewAccess;
use crate::error::{AppError, AppResult};
use crate::AppState;
use attache_protocol::{
    AccessGrant, AccessWhat, AccessWho, Account, ApiError, ErrorCode, LpSignup, VisitorId, VisitorRef,
};
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{FromRequestParts, Path, Query, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

/// The consumer: `Authorization: jwt <token>` (from signup) or the `vvcu` cookie of a browser.
/// Either is a credential; the token must be one the service issued.
pub enum Consumer {
    /// A consumer API token from signup.
    Token(VisitorId),
    /// A browser's `vvcu` cookie.
    Cookie(VisitorId),
}

fn is_token(t: &str) -> bool {
    t.len() == 64 && t.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl FromRequestParts<AppState> for Consumer {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        let header = parts.headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
        let token = header.and_then(|h| h.strip_prefix("jwt ").or_else(|| h.strip_prefix("JWT "))).map(str::trim);
        let unauthorized = || {
            AppError::Refused(
                ErrorCode::Unauthorized,
                "send 'Authorization: jwt <token>' from /api/account/{account}/signup, or the vvcu cookie".into(),
            )
        };
        match (token, cookie(&parts.headers, VISITOR_COOKIE)) {
            (Some(t), _) if is_token(t) => Ok(Consumer::Token(VisitorId(t.to_owned()))),
            (Some(_), _) => Err(unauthorized()),
            (None, Some(c)) if is_id(c) => Ok(Consumer::Cookie(VisitorId(c.to_owned()))),
            _ => Err(unauthorized()),
        }
    }
}

impl Consumer {
    /// The credential and the consumer's public id in `account`: a token must belong to it; a
    /// cookie is known (or becomes known) there.
    async fn resolve(self, state: &AppState, account: &Account) -> AppResult<(VisitorId, VisitorRef)> {
        match self {
            Consumer::Token(t) => match lp::token_identity(state, &t, account).await? {
                Some(me) => Ok((t, me)),
                None => Err(AppError::Refused(
                    ErrorCode::Unauthorized,
                    "the consumer token is not valid for this account".into(),
                )),
            },
            Consumer::Cookie(c) => {
                let me = lp::cookie_identity(state, &c, account).await?;
                Ok((c, me))
            }
        }
    }
}

/// A new consumer identity for an app without cookies (a browser also gets a fresh `vvcu`
/// cookie for the same identity).
#[utoipa::path(post, path = "/api/account/{account}/signup", tag = "consumer", params(("account" = String, Path)),
    responses((status = 200, body = LpSignup), (status = 403, description = "origin-not-allowed: a foreign Origin", body = ApiError), (status = 404, body = ApiError)))]
pub async fn signup(State(state): State<AppState>, Path(account): Path<String>) -> AppResult<Response> {
    let account = lp::account_named(&state, &account).await?;
    let (cookie, token) = lp::signup(&state, &account).await?;
    let mut resp = Json(LpSignup { jwt: token }).into_response();
    set_visitor_cookie(&state, &mut resp, &cookie);
    Ok(resp)
}

/// The consumer messaging WebSocket.
#[utoipa::path(get, path = "/ws_api/account/{account}/messaging/consumer", tag = "consumer",
    params(("account" = String, Path), ("v" = Option<String>, Query, description = "API version, 3")),
    responses((status = 101, description = "WebSocket: {\"kind\":\"req\",\"id\",\"type\",\"body\"} requests, resp and notification frames (a refusal: type GenericResponse, code the status, body {msg, error}); a frame over 64 KiB closes it with 1009"),
        (status = 403, description = "origin-not-allowed: a foreign Origin", body = ApiError),
        (status = 401, body = ApiError), (status = 404, body = ApiError)))]
pub async fn consumer_socket(
    State(state): State<AppState>,
    Path(account): Path<String>,
    consumer: Consumer,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> AppResult<Response> {
    let account = lp::account_named(&state, &account).await?;
    let ws = ws.map_err(|r| AppError::Refused(ErrorCode::WebsocketRequired, r.body_text()))?;
    let ws = super::events::bounded(ws, MAX_CONSUMER_MESSAGE);
    let (visitor, me) = consumer.resolve(&state, &account).await?;
    Ok(ws.on_upgrade(move |socket| socket::session(state, socket, visitor, me, account)))
}

/// Largest request frame of the consumer socket: a text message of 10,000 characters, JSON-escaped,
/// with room for its envelope. Anything larger closes the socket with 1009.
pub const MAX_CONSUMER_MESSAGE: usize = 64 * 1024;

/// The signature of a temporary URL.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct TempQuery {
    /// Hex HMAC over `METHOD\nexpires\npath`.
    temp_url_sig: Option<String>,
    /// Unix seconds.
    temp_url_expires: Option<String>,
}

fn verified(state: &AppState, method: &str, parts: &Parts, q: &TempQuery) -> AppResult<lp::FilePath> {
    let invalid = || AppError::Refused(ErrorCode::TempUrlInvalid, "the temporary URL is invalid or has expired".into());
    let sig = q.temp_url_sig.as_deref().ok_or_else(invalid)?;
    let expires = q.temp_url_expires.as_deref().and_then(|e| e.parse::<i64>().ok()).ok_or_else(invalid)?;
    lp::verify(state, method, parts.uri.path(), sig, expires)
}

/// Uploads the file to a temporary URL from `ms.GenerateURLForUploadFile` (201; 401 when the URL
/// is bad or expired).
#[utoipa::path(put, path = "/v1/{container}/{account}/{file}", tag = "consumer",
    params(("container" = String, Path), ("account" = String, Path), ("file" = String, Path), TempQuery),
    responses((status = 201), (status = 401, body = ApiError),
        (status = 403, description = "file-sharing-disabled", body = ApiError),
        (status = 409, description = "already-uploaded: the URL took its file", body = ApiError),
        (status = 410, description = "contact-closed", body = ApiError), (status = 413, body = ApiError)))]
#[tracing::instrument(skip_all)]
pub async fn put_temp_file(
    State(state): State<AppState>,
    Query(q): Query<TempQuery>,
    req: Request,
) -> AppResult<StatusCode> {
    let (parts, body) = req.into_parts();
    let file = verified(&state, "PUT", &parts, &q)?;
    let declared_len = super::uploads::content_length(&parts.headers);
    lp::put_file(&state, &file, declared_len, super::uploads::body_stream(body)).await?;
    Ok(StatusCode::CREATED)
}

/// Downloads a file from a temporary URL from `ms.GenerateURLForDownloadFile`.
#[utoipa::path(get, path = "/v1/{container}/{account}/{file}", tag = "consumer",
    params(("container" = String, Path), ("account" = String, Path), ("file" = String, Path), TempQuery),
    responses((status = 200, description = "the bytes"), (status = 401, body = ApiError),
        (status = 403, description = "file-sharing-disabled", body = ApiError), (status = 410, body = ApiError)))]
pub async fn get_temp_file(
    State(state): State<AppState>,
    Query(q): Query<TempQuery>,
    super::staff::ClientAddr(address): super::staff::ClientAddr,
    req: Request,
) -> AppResult<Response> {
    let (parts, _) = req.into_parts();
    // HEAD is allowed with a GET signature, as in Swift.
    let file = verified(&state, "GET", &parts, &q)?;
    let (a, contact) = lp::download(&state, &file).await?;
    // Recorded like any opening: the consumer the URL was given to, by the signed URL.
    let record = NewAccess {
        account_id: contact.account_id.clone(),
        contact_id: contact.id.clone(),
        attachment_id: Some(a.id.clone()),
        file_name: a.file_name.clone(),
        what: AccessWhat::File,
        who: AccessWho::Consumer,
        who_id: Some(contact.visitor.to_string()),
        who_name: contact.customer_name.clone(),
        grant: AccessGrant::SignedUrl,
        address: address.map(|a| a.to_string()),
        range: None,
        bytes: 0,
    };
    let blob = Blob {
        key: &a.file_key,
        size: Some(a.size),
        media: served_type(&a.media_type),
        etag: format!("\"{}\"", a.sha256),
        disposition: disposition("attachment", &a.file_name),
        set_cookie: None,
        record: Some(record),
    };
    let method = if parts.method == Method::HEAD { Method::HEAD } else { Method::GET };
    Ok(state.metrics.served("temp-url", send_blob(&state, &parts.headers, &method, blob).await?))
}
