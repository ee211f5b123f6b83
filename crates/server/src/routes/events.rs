//! The WebSockets: `/api/events` for staff, `/api/visitor/events` for the customer.

use crate::auth::{Staff, Visitor};
use crate::error::AppError;
use crate::events::{Envelope, Revocation, Signal};
use crate::AppState;
use attache_protocol::{ApiError, ErrorCode, Event};
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

const PING_EVERY: Duration = Duration::from_secs(25);
/// Close code (private range) telling a client its session ended: sign in again.
const SESSION_ENDED: u16 = 4401;

/// Largest message (and frame) a staff or visitor socket reads: they send nothing but pongs and
/// a close, so a few KiB is plenty.
pub const MAX_CLIENT_MESSAGE: usize = 4 * 1024;
/// Close code for a message over the bound (RFC 6455 "message too big").
pub const MESSAGE_TOO_BIG: u16 = 1009;

fn upgrade(ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>) -> Result<WebSocketUpgrade, AppError> {
    Ok(bounded(ws.map_err(|r| AppError::Refused(ErrorCode::WebsocketRequired, r.body_text()))?, MAX_CLIENT_MESSAGE))
}

/// Read buffer of a socket, allocated up front for each: clients send little (pongs, a close),
/// and a busy console holds one socket for hours. The library's default (128 KiB each) made
/// 10,000 sockets cost 1.6 GB; 4 KiB, 85 MiB; 512 bytes, 41 MiB. A larger message (up to the
/// bound) is gathered across reads.
const SOCKET_READ_BUFFER: usize = 512;

/// A socket that refuses messages and frames over `max` bytes: the frame header's length is
/// checked before its payload is read, so nothing larger is ever buffered. Events are written as
/// they come (each is one small message), not gathered in a write buffer.
pub(crate) fn bounded(ws: WebSocketUpgrade, max: usize) -> WebSocketUpgrade {
    ws.max_message_size(max)
        .max_frame_size(max)
        .read_buffer_size(SOCKET_READ_BUFFER.min(max))
        .write_buffer_size(0)
        .max_write_buffer_size(4 * 1024 * 1024)
}

/// Ends a socket whose read failed: with 1009 when the peer sent more than the bound (the
/// WebSocket library reports it as a capacity error), quietly otherwise.
pub(crate) async fn close_after_error(socket: &mut WebSocket, e: &axum::Error) {
    if e.to_string().contains("Space limit exceeded") {
        let frame = CloseFrame { code: MESSAGE_TOO_BIG, reason: "message too big".into() };
        let _ = socket.send(WsMessage::Close(Some(frame))).await;
    }
}

/// Staff events: queue changes of the account and the messages of the caller's contacts.
#[utoipa::path(get, path = "/api/events", tag = "events", security(("bearer" = [])),
    responses((status = 101, description = "WebSocket of JSON events; a client message over 4 KiB closes it with 1009", body = Event),
        (status = 401, body = ApiError)))]
pub async fn staff_events(
    State(state): State<AppState>,
    staff: Staff,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, AppError> {
    let account = staff.account.id.clone();
    let user = staff.user.id.clone();
    let session = staff.token_hash.clone();
    let ended = {
        let user = user.clone();
        move |r: &Revocation| match r {
            Revocation::Session(hash) => *hash == session,
            Revocation::User(u) => *u == user,
        }
    };
    Ok(upgrade(ws)?
        .on_upgrade(move |socket| pump(state, socket, "staff", move |e| e.for_staff(&account, &user), ended)))
}

/// Visitor events: state changes and messages of the visitor's contacts.
#[utoipa::path(get, path = "/api/visitor/events", tag = "events",
    responses((status = 101, description = "WebSocket of JSON events; a client message over 4 KiB closes it with 1009", body = Event),
        (status = 401, body = ApiError), (status = 403, description = "origin-not-allowed: a foreign Origin", body = ApiError)))]
pub async fn visitor_events(
    State(state): State<AppState>,
    visitor: Visitor,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, AppError> {
    if !visitor.returning {
        return Err(AppError::Refused(ErrorCode::NoVisitor, "open a contact first: no vvcu cookie was sent".into()));
    }
    // The visitor's public ids in every account it has talked to: the socket never holds the
    // cookie itself.
    let mine = crate::domain::contact::identities_of(&state.db, &visitor).await?;
    Ok(upgrade(ws)?.on_upgrade(move |socket| pump(state, socket, "visitor", move |e| e.for_visitor(&mine), |_| false)))
}

async fn send(socket: &mut WebSocket, event: &Event) -> bool {
    match serde_json::to_string(event) {
        Ok(text) => socket.send(WsMessage::Text(text.into())).await.is_ok(),
        Err(_) => true,
    }
}

/// Forwards the events `keep` selects until the peer leaves, lags behind, its session `ended`
/// or the service stops.
async fn pump(
    state: AppState,
    mut socket: WebSocket,
    kind: &'static str,
    keep: impl Fn(&Envelope) -> bool,
    ended: impl Fn(&Revocation) -> bool,
) {
    let _open = state.metrics.socket(kind);
    let mut rx = state.hub.subscribe();
    let mut shutdown = state.shutdown.clone();
    if !send(&mut socket, &Event::Ready).await {
        return;
    }
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.reset();
    loop {
        tokio::select! {
            got = rx.recv() => match got {
                Ok(signal) => match signal.as_ref() {
                    Signal::Event(env) => {
                        let sent = match keep(env).then(|| env.text()).flatten() {
                            Some(text) => {
                                state.metrics.event_sent(kind, env.published.map(|t| t.elapsed()));
                                socket.send(WsMessage::Text(text)).await.is_ok()
                            }
                            None => true,
                        };
                        if !sent {
                            return;
                        }
                    }
                    Signal::Revoked(r) if ended(r) => {
                        let frame = CloseFrame { code: SESSION_ENDED, reason: "the session has ended".into() };
                        let _ = socket.send(WsMessage::Close(Some(frame))).await;
                        return;
                    }
                    Signal::Revoked(_) => {}
                },
                // A client this slow has missed events: close so it reconnects and re-reads state.
                Err(RecvError::Lagged(_)) | Err(RecvError::Closed) => break,
            },
            incoming = socket.recv() => match incoming {
                Some(Err(e)) => {
                    close_after_error(&mut socket, &e).await;
                    return;
                }
                Some(Ok(WsMessage::Close(_))) | None => return,
                Some(Ok(_)) => {}
            },
            _ = ping.tick() => {
                if socket.send(WsMessage::Ping(Vec::new().into())).await.is_err() {
                    return;
                }
            }
            _ = shutdown.changed() => break,
        }
    }
    let _ = socket.send(WsMessage::Close(None)).await;
}
