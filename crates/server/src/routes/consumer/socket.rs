//! The consumer socket's conversation: request frames answered one by one, and the events of the
//! consumer's conversations passed on as LivePerson notifications.

use crate::auth::Visitor;
use crate::domain::consumer::{self as lp, TempUrl};
use crate::domain::contact;
use crate::error::{AppError, AppResult};
use crate::events::Signal;
use crate::AppState;
use attache_protocol::{
    Account, ErrorCode, Event, LpContentEvent, LpConversationChange, LpConversationChanges, LpConversationCreated,
    LpConversationDetails, LpConversationResult, LpDownloadUrlRequest, LpError, LpHostedFile, LpMessagingEvent,
    LpMessagingEvents, LpNotification, LpOriginator, LpPublishEvent, LpPublished, LpQueryParams, LpRequest, LpResponse,
    LpTempUrl, LpUpdateConversation, LpUploadUrlRequest, OpenContact, Sender, VisitorId, VisitorRef,
};
use axum::extract::ws::{Message as WsMessage, WebSocket};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::broadcast::error::RecvError;

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

pub(super) async fn session(
    state: AppState,
    mut socket: WebSocket,
    visitor: VisitorId,
    me: VisitorRef,
    account: Account,
) {
    let me = [me];
    let _open = state.metrics.socket("consumer");
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
                    super::super::events::close_after_error(&mut socket, &e).await;
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
                                state.metrics.event_sent("consumer", env.published.map(|t| t.elapsed()));
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
            let e = LpError { msg: "a request is a JSON object".into(), error: ErrorCode::MalformedJson };
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
            LpError { msg: body.message, error: body.error },
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
