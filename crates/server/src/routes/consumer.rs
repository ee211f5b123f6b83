//! The LivePerson-style consumer API: `POST /api/account/{account}/signup`, the WebSocket
//! `/ws_api/account/{account}/messaging/consumer?v=3` (`{"kind":"req","id":…,"type":…}`), and the
//! temporary file URLs `/v1/AUTH_attache/{account}/{id}.{EXT}?temp_url_sig=…&temp_url_expires=…`.

use super::files::{disposition, send_blob, served_type, Blob};
use crate::auth::{cookie, new_token, set_visitor_cookie, token_hash, Visitor, VISITOR_COOKIE};
use crate::db::{is_id, new_id};
use crate::domain::consumer::{self as lp, TempUrl};
use crate::domain::contact;
use crate::error::{AppError, AppResult};
use crate::events::Signal;
use crate::{repo, AppState};
use attache_protocol::{
    Account, ApiError, ErrorCode, Event, LpContentEvent, LpConversationChange, LpConversationChanges,
    LpConversationCreated, LpConversationDetails, LpConversationResult, LpDownloadUrlRequest, LpError, LpHostedFile,
    LpMessagingEvent, LpMessagingEvents, LpNotification, LpOriginator, LpPublishEvent, LpPublished, LpQueryParams,
    LpRequest, LpResponse, LpTempUrl, LpUpdateConversation, LpUploadUrlRequest, OpenContact, Sender, VisitorId,
    VisitorRef,
};
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, Path, Query, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::broadcast::error::RecvError;

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
            Consumer::Token(t) => match repo::visitor::by_token(&state.db, &token_hash(t.as_str())).await? {
                Some((a, me)) if a == account.id => Ok((t, me)),
                _ => Err(AppError::Refused(
                    ErrorCode::Unauthorized,
                    "the consumer token is not valid for this account".into(),
                )),
            },
            Consumer::Cookie(c) => {
                let hash = repo::visitor::credential_hash(c.as_str());
                let me = repo::visitor::ensure(&state.db, &account.id, &hash).await?;
                Ok((c, me))
            }
        }
    }
}

async fn account_named(state: &AppState, name: &str) -> AppResult<Account> {
    repo::account::by_name(&state.db, name).await?.ok_or(AppError::NotFound("account"))
}

/// A consumer token.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Signup {
    /// Send as `Authorization: jwt <token>`. A credential of its own (256 bits, stored hashed),
    /// not the cookie's value.
    jwt: String,
}

/// A new consumer identity for an app without cookies (a browser also gets a fresh `vvcu`
/// cookie for the same identity).
#[utoipa::path(post, path = "/api/account/{account}/signup", tag = "consumer", params(("account" = String, Path)),
    responses((status = 200, body = Signup), (status = 403, description = "origin-not-allowed: a foreign Origin", body = ApiError), (status = 404, body = ApiError)))]
pub async fn signup(State(state): State<AppState>, Path(account): Path<String>) -> AppResult<Response> {
    let account = account_named(&state, &account).await?;
    let cookie = VisitorId(new_id());
    let (token, token_hash) = new_token();
    let cookie_hash = repo::visitor::credential_hash(cookie.as_str());
    repo::visitor::create_consumer(&state.db, &account.id, &cookie_hash, &token_hash).await?;
    let mut resp = Json(Signup { jwt: token }).into_response();
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
    let account = account_named(&state, &account).await?;
    let ws = ws.map_err(|r| AppError::Refused(ErrorCode::WebsocketRequired, r.body_text()))?;
    let ws = super::events::bounded(ws, MAX_CONSUMER_MESSAGE);
    let (visitor, me) = consumer.resolve(&state, &account).await?;
    Ok(ws.on_upgrade(move |socket| session(state, socket, visitor, me, account)))
}

/// Largest request frame of the consumer socket: a text message of 10,000 characters, JSON-escaped,
/// with room for its envelope. Anything larger closes the socket with 1009.
pub const MAX_CONSUMER_MESSAGE: usize = 64 * 1024;

/// At most this much of something the client sent goes back in an error message.
fn quoted(s: &str) -> String {
    let mut q: String = s.chars().take(64).collect();
    if q.len() < s.len() {
        q.push('…');
    }
    q
}

async fn send(socket: &mut WebSocket, frame: String) -> bool {
    socket.send(WsMessage::Text(frame.into())).await.is_ok()
}

async fn session(state: AppState, mut socket: WebSocket, visitor: VisitorId, me: VisitorRef, account: Account) {
    let me = [me];
    let mut rx = state.hub.subscribe();
    let mut shutdown = state.shutdown.clone();
    loop {
        tokio::select! {
            incoming = socket.recv() => match incoming {
                Some(Ok(WsMessage::Text(text))) => {
                    let reply = handle(&state, &visitor, &account, text.as_str()).await;
                    if !send(&mut socket, reply).await {
                        return;
                    }
                }
                Some(Err(e)) => {
                    super::events::close_after_error(&mut socket, &e).await;
                    return;
                }
                Some(Ok(WsMessage::Close(_))) | None => return,
                Some(Ok(_)) => {}
            },
            got = rx.recv() => match got {
                Ok(signal) => {
                    if let Signal::Event(env) = signal.as_ref() {
                        if env.account == account.id && env.for_visitor(&me) {
                            if let Some(n) = notification(&account, &env.event) {
                                if !send(&mut socket, n).await {
                                    return;
                                }
                            }
                        }
                    }
                }
                Err(RecvError::Lagged(_)) | Err(RecvError::Closed) => break,
            },
            _ = shutdown.changed() => break,
        }
    }
    let _ = socket.send(WsMessage::Close(None)).await;
}

/// A frame as JSON text (these types always serialise).
fn frame(v: &impl Serialize) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn temp_url(u: TempUrl) -> LpTempUrl {
    LpTempUrl {
        relative_path: u.relative_path,
        query_params: LpQueryParams { temp_url_sig: u.sig, temp_url_expires: u.expires.to_string() },
    }
}

/// The body of a request of a known type; a body of the wrong shape is 422.
fn body_of<T: DeserializeOwned>(body: Value) -> AppResult<T> {
    serde_json::from_value(body).map_err(|e| AppError::invalid(format!("the request's body: {e}")))
}

/// The response type of the temporary URL requests, as the document's frames show it.
const URL_RESPONSE: &str = "ms.BaseGenerateURLResponse";

/// Answers one request frame: the response (or a `GenericResponse` refusal) as JSON text.
async fn handle(state: &AppState, visitor: &VisitorId, account: &Account, text: &str) -> String {
    let req = match serde_json::from_str::<LpRequest>(text) {
        Ok(r) => r,
        Err(_) => {
            let e =
                LpError { msg: "a request is a JSON object".into(), error: ErrorCode::MalformedJson.as_str().into() };
            return frame(&LpResponse::new("", 400, "GenericResponse", e));
        }
    };
    let me = Visitor { id: visitor.clone(), returning: true };
    let id = req.id.as_str();
    let result: AppResult<String> = async {
        match req.kind_of.as_str() {
            "cm.ConsumerRequestConversation" => {
                let open = OpenContact { account: account.name.clone(), name: None, message: None };
                let c = contact::open(state, &me, open).await?;
                ok(id, "cm.RequestConversationResponse", LpConversationCreated { conversation_id: c.id.0 })
            }
            "cm.UpdateConversationField" => {
                let b: LpUpdateConversation = body_of(req.body)?;
                if b.conversation_field.conversation_state.as_deref() != Some("CLOSE") {
                    return Err(AppError::invalid("only conversationState CLOSE is supported"));
                }
                contact::visitor_close(state, &me, &b.conversation_id).await?;
                ok(id, "cm.UpdateConversationFieldResponse", serde_json::Map::new())
            }
            "ms.PublishEvent" => {
                let b: LpPublishEvent = body_of(req.body)?;
                if b.event.kind_of != "ContentEvent" {
                    return Err(AppError::invalid("event.type must be ContentEvent"));
                }
                let dialog = b.dialog_id.as_deref();
                let msg = match b.event.content_type.as_str() {
                    "hosted/file" => {
                        let file: LpHostedFile = body_of(b.event.message)?;
                        lp::publish_file(state, visitor, dialog, &file).await?
                    }
                    "text/plain" => {
                        let text = b.event.message.as_str().unwrap_or_default();
                        contact::visitor_send(state, &me, dialog.unwrap_or_default(), text).await?
                    }
                    other => {
                        return Err(AppError::invalid(format!("contentType '{}' is not supported", quoted(other))))
                    }
                };
                ok(id, "ms.PublishEventResponse", LpPublished { sequence: 0, message_id: msg.id.0 })
            }
            "ms.GenerateURLForUploadFile" => {
                let b: LpUploadUrlRequest = body_of(req.body)?;
                let url = lp::upload_url(state, visitor, account, b.file_size, &b.file_type).await?;
                ok(id, URL_RESPONSE, temp_url(url))
            }
            "ms.GenerateURLForDownloadFile" => {
                let b: LpDownloadUrlRequest = body_of(req.body)?;
                let url = lp::download_url(state, visitor, &b.relative_path).await?;
                ok(id, URL_RESPONSE, temp_url(url))
            }
            other => {
                Err(AppError::Refused(ErrorCode::UnknownRequest, format!("unknown request type '{}'", quoted(other))))
            }
        }
    }
    .await;
    result.unwrap_or_else(|e| {
        let body = e.body();
        frame(&LpResponse::new(
            id,
            e.status().as_u16(),
            "GenericResponse",
            LpError { msg: body.message, error: body.error.as_str().into() },
        ))
    })
}

/// A 200 response of this type to request `req_id`.
fn ok<T: Serialize>(req_id: &str, ty: &str, body: T) -> AppResult<String> {
    Ok(frame(&LpResponse::new(req_id, 200, ty, body)))
}

/// The consumer-facing form of an event of one of its conversations.
fn notification(account: &Account, event: &Event) -> Option<String> {
    let conversation = |c: &attache_protocol::Contact, state: &str| {
        let change = LpConversationChange {
            kind_of: "UPSERT".into(),
            result: LpConversationResult {
                conv_id: c.id.0.clone(),
                conversation_details: LpConversationDetails { state: state.into(), agent_name: c.agent_name.clone() },
            },
        };
        frame(&LpNotification::new(
            "cm.ExConversationChangeNotification",
            LpConversationChanges { changes: vec![change] },
        ))
    };
    match event {
        Event::ContactAccepted { contact } => Some(conversation(contact, "OPEN")),
        Event::ContactClosed { contact } => Some(conversation(contact, "CLOSE")),
        Event::MessageCreated { message } | Event::AttachmentReady { message } => {
            let content = match &message.attachment {
                Some(a) => {
                    let (path, ext) = lp::path_of(&account.name, a.id.as_str(), &a.name);
                    let file = LpHostedFile {
                        caption: Some(a.description.clone().unwrap_or_else(|| a.name.clone())),
                        relative_path: path,
                        file_type: Some(ext),
                        preview: None,
                    };
                    LpContentEvent {
                        kind_of: "ContentEvent".into(),
                        content_type: "hosted/file".into(),
                        message: serde_json::to_value(file).unwrap_or_default(),
                    }
                }
                None => LpContentEvent {
                    kind_of: "ContentEvent".into(),
                    content_type: "text/plain".into(),
                    message: Value::String(message.body.clone()),
                },
            };
            let role = if message.sender == Sender::Agent { "ASSIGNED_AGENT" } else { "CONSUMER" };
            let change = LpMessagingEvent {
                sequence: 0,
                message_id: message.id.0.clone(),
                originator_metadata: LpOriginator { role: role.into(), name: message.sender_name.clone() },
                server_timestamp: message.created_at.timestamp_millis(),
                event: content,
            };
            let body = LpMessagingEvents { dialog_id: message.contact_id.0.clone(), changes: vec![change] };
            Some(frame(&LpNotification::new("ms.MessagingEventNotification", body)))
        }
        _ => None,
    }
}

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
    req: Request,
) -> AppResult<Response> {
    let (parts, _) = req.into_parts();
    // HEAD is allowed with a GET signature, as in Swift.
    let file = verified(&state, "GET", &parts, &q)?;
    let a = lp::download(&state, &file).await?;
    let blob = Blob {
        key: &a.file_key,
        media: served_type(&a.media_type),
        etag: format!("\"{}\"", a.sha256),
        disposition: disposition("attachment", &a.file_name),
        set_cookie: None,
    };
    let method = if parts.method == Method::HEAD { Method::HEAD } else { Method::GET };
    send_blob(&state, &parts.headers, &method, blob).await
}
