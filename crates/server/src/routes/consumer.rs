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
use attache_protocol::{Account, ApiError, ErrorCode, Event, Message, OpenContact, Sender, VisitorId, VisitorRef};
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, Path, Query, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
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
    responses((status = 101, description = "WebSocket: {\"kind\":\"req\",\"id\",\"type\",\"body\"} requests, resp and notification frames; a frame over 64 KiB closes it with 1009"),
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

async fn send(socket: &mut WebSocket, v: &Value) -> bool {
    socket.send(WsMessage::Text(v.to_string().into())).await.is_ok()
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
                    if !send(&mut socket, &reply).await {
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
                                if !send(&mut socket, &n).await {
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

fn resp(req_id: &str, code: u16, ty: &str, body: Value) -> Value {
    json!({"kind": "resp", "reqId": req_id, "code": code, "type": ty, "body": body})
}

fn temp_url_body(u: TempUrl) -> Value {
    json!({"relativePath": u.relative_path,
           "queryParams": {"temp_url_sig": u.sig, "temp_url_expires": u.expires.to_string()}})
}

/// A number that LivePerson clients send as a number or a string.
fn number(v: &Value) -> Option<u64> {
    v.as_u64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

fn message_ack(m: Message) -> Value {
    json!({"sequence": 0, "messageId": m.id})
}

/// Answers one request frame.
async fn handle(state: &AppState, visitor: &VisitorId, account: &Account, text: &str) -> Value {
    let Ok(req) = serde_json::from_str::<Value>(text) else {
        let e = ApiError::new(ErrorCode::MalformedJson, "a request is a JSON object");
        return resp("", 400, "GenericResponse", json!(e));
    };
    let req_id = match &req["id"] {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    };
    let ty = req["type"].as_str().unwrap_or_default();
    let body = &req["body"];
    let me = Visitor { id: visitor.clone(), returning: true };
    let result: AppResult<(&str, Value)> = async {
        match ty {
            "cm.ConsumerRequestConversation" => {
                let open = OpenContact { account: account.name.clone(), name: None, message: None };
                let c = contact::open(state, &me, open).await?;
                Ok(("cm.RequestConversationResponse", json!({"conversationId": c.id})))
            }
            "cm.UpdateConversationField" => {
                let id = body["conversationId"].as_str().unwrap_or_default();
                let field = &body["conversationField"];
                if field["conversationState"].as_str() != Some("CLOSE") {
                    return Err(AppError::invalid("only conversationState CLOSE is supported"));
                }
                contact::visitor_close(state, &me, id).await?;
                Ok(("cm.UpdateConversationFieldResponse", json!({})))
            }
            "ms.PublishEvent" => {
                let dialog = body["dialogId"].as_str();
                let event = &body["event"];
                if event["type"].as_str() != Some("ContentEvent") {
                    return Err(AppError::invalid("event.type must be ContentEvent"));
                }
                let msg = match event["contentType"].as_str().unwrap_or("text/plain") {
                    "hosted/file" => {
                        let m = &event["message"];
                        let path = m["relativePath"].as_str().unwrap_or_default();
                        lp::publish_file(state, visitor, dialog, m["caption"].as_str(), path).await?
                    }
                    "text/plain" => {
                        let text = event["message"].as_str().unwrap_or_default();
                        contact::visitor_send(state, &me, dialog.unwrap_or_default(), text).await?
                    }
                    other => {
                        return Err(AppError::invalid(format!("contentType '{}' is not supported", quoted(other))))
                    }
                };
                Ok(("ms.PublishEventResponse", message_ack(msg)))
            }
            "ms.GenerateURLForUploadFile" => {
                let size = number(&body["fileSize"])
                    .ok_or_else(|| AppError::invalid("fileSize is a whole number of bytes"))?;
                let file_type = body["fileType"].as_str().unwrap_or_default();
                let url = lp::upload_url(state, visitor, account, size, file_type).await?;
                Ok(("ms.GenerateURLResponse", temp_url_body(url)))
            }
            "ms.GenerateURLForDownloadFile" => {
                let path = body["relativePath"].as_str().unwrap_or_default();
                let url = lp::download_url(state, visitor, path).await?;
                Ok(("ms.GenerateURLResponse", temp_url_body(url)))
            }
            other => {
                Err(AppError::Refused(ErrorCode::UnknownRequest, format!("unknown request type '{}'", quoted(other))))
            }
        }
    }
    .await;
    match result {
        Ok((rty, body)) => resp(&req_id, 200, rty, body),
        Err(e) => resp(&req_id, e.status().as_u16(), "GenericResponse", json!(e.body())),
    }
}

/// The consumer-facing form of an event of one of its conversations.
fn notification(account: &Account, event: &Event) -> Option<Value> {
    let conversation = |c: &attache_protocol::Contact, state: &str| {
        json!({"kind": "notification", "type": "cm.ExConversationChangeNotification",
               "body": {"changes": [{"type": "UPSERT", "result": {"convId": c.id,
                   "conversationDetails": {"state": state, "agentName": c.agent_name}}}]}})
    };
    match event {
        Event::ContactAccepted { contact } => Some(conversation(contact, "OPEN")),
        Event::ContactClosed { contact } => Some(conversation(contact, "CLOSE")),
        Event::MessageCreated { message } | Event::AttachmentReady { message } => {
            let content = match &message.attachment {
                Some(a) => {
                    let (path, ext) = lp::path_of(&account.name, a.id.as_str(), &a.name);
                    json!({"type": "ContentEvent", "contentType": "hosted/file",
                           "message": {"caption": a.description.clone().unwrap_or_else(|| a.name.clone()),
                                       "relativePath": path, "fileType": ext}})
                }
                None => json!({"type": "ContentEvent", "contentType": "text/plain", "message": message.body}),
            };
            let role = if message.sender == Sender::Agent { "ASSIGNED_AGENT" } else { "CONSUMER" };
            Some(json!({"kind": "notification", "type": "ms.MessagingEventNotification",
                "body": {"dialogId": message.contact_id, "changes": [{
                    "sequence": 0, "messageId": message.id,
                    "originatorMetadata": {"role": role, "name": message.sender_name},
                    "serverTimestamp": message.created_at.timestamp_millis(), "event": content}]}}))
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
    responses((status = 201), (status = 401, body = ApiError), (status = 413, body = ApiError)))]
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
    responses((status = 200, description = "the bytes"), (status = 401, body = ApiError), (status = 410, body = ApiError)))]
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
