//! The WebSockets: `/api/events` for staff, `/api/visitor/events` for the customer.

use crate::auth::{Staff, Visitor};
use crate::error::AppError;
use crate::events::Envelope;
use crate::AppState;
use attache_protocol::{ApiError, Event};
use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::State;
use axum::response::Response;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

const PING_EVERY: Duration = Duration::from_secs(25);

fn upgrade(ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>) -> Result<WebSocketUpgrade, AppError> {
    ws.map_err(|r| AppError::BadRequest("websocket-required", r.body_text()))
}

/// Staff events: queue changes of the account and the messages of the caller's contacts.
#[utoipa::path(get, path = "/api/events", tag = "events", security(("bearer" = [])),
    responses((status = 101, description = "WebSocket of JSON events", body = Event), (status = 401, body = ApiError)))]
pub async fn staff_events(
    State(state): State<AppState>,
    staff: Staff,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, AppError> {
    let account = staff.account.id.clone();
    let user = staff.user.id.clone();
    Ok(upgrade(ws)?.on_upgrade(move |socket| pump(state, socket, move |e| e.for_staff(&account, &user))))
}

/// Visitor events: state changes and messages of the visitor's contacts.
#[utoipa::path(get, path = "/api/visitor/events", tag = "events",
    responses((status = 101, description = "WebSocket of JSON events", body = Event), (status = 401, body = ApiError)))]
pub async fn visitor_events(
    State(state): State<AppState>,
    visitor: Visitor,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, AppError> {
    if !visitor.returning {
        return Err(AppError::Unauthorized("no-visitor", "open a contact first: no vvcu cookie was sent".into()));
    }
    let id = visitor.id.clone();
    Ok(upgrade(ws)?.on_upgrade(move |socket| pump(state, socket, move |e| e.for_visitor(&id))))
}

async fn send(socket: &mut WebSocket, event: &Event) -> bool {
    match serde_json::to_string(event) {
        Ok(text) => socket.send(WsMessage::Text(text.into())).await.is_ok(),
        Err(_) => true,
    }
}

/// Forwards the events `keep` selects until the peer leaves, lags behind or the service stops.
async fn pump(state: AppState, mut socket: WebSocket, keep: impl Fn(&Envelope) -> bool) {
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
                Ok(env) => {
                    let env: Arc<Envelope> = env;
                    if keep(&env) && !send(&mut socket, &env.event).await {
                        return;
                    }
                }
                // A client this slow has missed events: close so it reconnects and re-reads state.
                Err(RecvError::Lagged(_)) | Err(RecvError::Closed) => break,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(WsMessage::Close(_))) | None | Some(Err(_)) => return,
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
