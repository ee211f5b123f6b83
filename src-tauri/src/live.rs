//! Forwards the SDK's event stream to the page as [`ConsoleEvent`]s, reconnecting with backoff,
//! and raises a desktop notification when a customer queues while the window is in the background.

use crate::view::{ConnectionState, ConsoleEvent, CONSOLE_EVENT};
use attache_client::{Event, Sender, StaffClient};
use std::time::Duration;
use tauri::{AppHandle, Emitter, Manager};

/// Starts forwarding events of `client`'s session until the task is aborted or the session ends.
pub fn spawn(app: AppHandle, client: StaffClient) -> tauri::async_runtime::JoinHandle<()> {
    tauri::async_runtime::spawn(forward(app, client))
}

fn emit(app: &AppHandle, event: ConsoleEvent) {
    if let Err(e) = app.emit(CONSOLE_EVENT, &event) {
        tracing::warn!("could not emit {event:?}: {e}");
    }
}

fn connection(app: &AppHandle, state: ConnectionState, detail: Option<String>) {
    emit(app, ConsoleEvent::Connection { state, detail });
}

async fn forward(app: AppHandle, client: StaffClient) {
    let mut delay = Duration::from_millis(500);
    // "Connecting" only for the first attempt; retries stay "offline" until one succeeds.
    connection(&app, ConnectionState::Connecting, None);
    loop {
        match client.events().await {
            Ok(mut stream) => {
                delay = Duration::from_millis(500);
                connection(&app, ConnectionState::Online, None);
                let detail = loop {
                    match stream.next_event().await {
                        Some(Ok(event)) => deliver(&app, event),
                        Some(Err(e)) => break e.to_string(),
                        None => break "the server closed the connection".to_owned(),
                    }
                };
                connection(&app, ConnectionState::Offline, Some(detail));
            }
            Err(e) if e.session_ended() => {
                emit(&app, ConsoleEvent::SessionExpired);
                return;
            }
            Err(e) => connection(&app, ConnectionState::Offline, Some(format!("retrying: {e}"))),
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(10));
    }
}

fn deliver(app: &AppHandle, event: Event) {
    let event = match event {
        Event::Ready => return,
        Event::ContactQueued { contact } => {
            // Sent again when a file arrives while it waits: a new count, not a new customer.
            if contact.files == 0 {
                notify_if_background(app, &contact.customer_name);
            }
            ConsoleEvent::ContactQueued { contact }
        }
        Event::ContactAccepted { contact } => ConsoleEvent::ContactAccepted { contact },
        Event::ContactClosed { contact } => ConsoleEvent::ContactClosed { contact },
        // An attachment is a message with its file (Message::attachment).
        Event::MessageCreated { message } | Event::AttachmentReady { message } => {
            ConsoleEvent::MessageCreated { message: Box::new(message) }
        }
        // The customer's uploads; this agent's own progress comes from the SDK (files.rs).
        Event::UploadProgress { upload_id, contact_id, sender: Sender::Customer, name, offset, length } => {
            ConsoleEvent::IncomingUpload { upload_id: upload_id.0, contact_id: contact_id.0, name, offset, length }
        }
        // Every byte is in: the card shows the file being checked.
        Event::UploadChecking { upload_id, contact_id, sender: Sender::Customer, name, length } => {
            ConsoleEvent::IncomingUpload {
                upload_id: upload_id.0,
                contact_id: contact_id.0,
                name,
                offset: length,
                length,
            }
        }
        Event::UploadRefused { upload_id, contact_id, name, error, .. } => ConsoleEvent::IncomingUploadRefused {
            upload_id: upload_id.0,
            contact_id: contact_id.0,
            name,
            message: error.message,
        },
        Event::AttachmentRemoved { contact_id, message_id, attachment_id, sha256, tombstone } => {
            // The copy on this machine goes first, whatever the page shows.
            if let (Some(index), Some(files)) =
                (app.try_state::<crate::review::CacheIndex>(), app.try_state::<crate::files::Files>())
            {
                index.forget(&files, attachment_id.as_str(), &sha256);
            }
            ConsoleEvent::AttachmentRemoved {
                contact_id: contact_id.0,
                message_id: message_id.0,
                attachment_id: attachment_id.0,
                tombstone,
            }
        }
        _ => return,
    };
    emit(app, event);
}

/// A desktop notification when the window is not focused. Failures (no notification daemon) are
/// ignored: the queue in the window is the source of truth.
fn notify_if_background(app: &AppHandle, customer_name: &str) {
    let focused = app.get_webview_window("main").and_then(|w| w.is_focused().ok()).unwrap_or(false);
    if focused {
        return;
    }
    let who = if customer_name.trim().is_empty() { "A customer" } else { customer_name };
    let body = format!("{who} is waiting in the queue.");
    tauri::async_runtime::spawn_blocking(move || {
        let shown = notify_rust::Notification::new()
            .appname("Attaché Console")
            .summary("New contact")
            .body(&body)
            .timeout(notify_rust::Timeout::Milliseconds(8000))
            .show();
        if let Err(e) = shown {
            tracing::debug!("no desktop notification: {e}");
        }
    });
}
