//! Attaché agent console, desktop side.
//!
//! Thin on purpose: each `#[tauri::command]` in [`commands`] makes one SDK call and converts the
//! answer into a [`view`] type; [`live`] forwards the SDK's event stream to the page. The page
//! never speaks HTTP; every call to the service goes through `attache-client`.
#![deny(missing_docs)]

pub mod commands;
pub mod dialog;
pub mod error;
pub mod files;
pub mod gallery;
pub mod live;
pub mod pick;
pub mod review;
pub mod session_store;
pub mod settings;
pub mod thumbs;
pub mod view;

pub use error::ConsoleError;

use attache_client::{CancelToken, StaffClient};
use std::collections::HashMap;
use tauri::{Emitter, Manager};
use tokio::sync::Mutex;

/// Server address used when neither a stored session nor `ATTACHE_SERVER` gives one.
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";
/// Account prefilled on the sign-in form.
pub const DEFAULT_ACCOUNT: &str = "acme";

/// The signed-in session of this window.
pub struct Active {
    /// SDK client holding the token.
    pub client: StaffClient,
    /// What the page shows of it.
    pub view: view::SessionView,
    /// The task forwarding live events; aborted at sign-out.
    pub events: tauri::async_runtime::JoinHandle<()>,
}

/// Everything the commands share.
#[derive(Default)]
pub struct ConsoleState {
    /// Whether the OS keyring works (`None` until `startup` probed it).
    pub keyring_available: Mutex<Option<bool>>,
    /// The session found in the keyring at startup, until `restore_session` uses it.
    pub stored: Mutex<Option<session_store::StoredSession>>,
    /// The live session.
    pub active: Mutex<Option<Active>>,
    /// Running uploads by the page's key, to cancel them.
    pub uploads: Mutex<HashMap<String, CancelToken>>,
}

impl ConsoleState {
    /// The signed-in client, or `not-signed-in`.
    pub async fn client(&self) -> Result<StaffClient, ConsoleError> {
        self.active.lock().await.as_ref().map(|a| a.client.clone()).ok_or_else(ConsoleError::not_signed_in)
    }
}

/// Builds and runs the console window.
pub fn run() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("ATTACHE_LOG").unwrap_or_else(|_| "warn".into()))
        .try_init();
    tauri::Builder::default()
        .manage(ConsoleState::default())
        // Whole pictures for the gallery, from the local cache (see gallery.rs).
        .register_asynchronous_uri_scheme_protocol(gallery::SCHEME, |ctx, request, responder| {
            gallery::handle(ctx.app_handle(), request, responder)
        })
        .setup(|app| {
            let settings = settings::Settings::open(app.handle());
            app.manage(files::Files::new(app.handle(), settings.cache_limit()));
            app.manage(settings);
            app.manage(gallery::Shown::default());
            app.manage(review::CacheIndex::open(app.handle()));
            Ok(())
        })
        .on_window_event(|window, event| {
            // Files dragged over the window (the page shows where they go) and dropped (the page
            // offers to send them to the open contact).
            let tauri::WindowEvent::DragDrop(drag) = event else {
                return;
            };
            let event = match drag {
                tauri::DragDropEvent::Enter { .. } => view::ConsoleEvent::FilesDragging { active: true },
                tauri::DragDropEvent::Leave => view::ConsoleEvent::FilesDragging { active: false },
                tauri::DragDropEvent::Drop { paths, .. } => view::ConsoleEvent::FilesDropped {
                    paths: paths.iter().map(|p| p.to_string_lossy().into_owned()).collect(),
                },
                _ => return,
            };
            let _ = window.emit(view::CONSOLE_EVENT, event);
        })
        .invoke_handler(tauri::generate_handler![
            commands::startup,
            commands::sign_in,
            commands::restore_session,
            commands::sign_out,
            commands::list_contacts,
            commands::accept_contact,
            commands::close_contact,
            commands::send_message,
            commands::list_messages,
            commands::report_contacts,
            commands::report_contact,
            pick::choose_files,
            pick::inspect_files,
            pick::stage_pasted_file,
            thumbs::thumbnail,
            thumbs::smaller_copy,
            files::upload_file,
            files::cancel_upload,
            files::attachment_preview,
            gallery::cache_image,
            gallery::release_image,
            settings::cache_info,
            settings::set_cache_limit,
            settings::clear_cache,
            files::open_attachment,
            files::save_attachment,
            review::access_records,
            review::verify_attachment,
            review::redact_attachment,
            review::export_contact,
            review::search_attachments,
            review::storage_usage,
            review::account_plan,
            review::set_file_retention,
            review::cached_file,
        ])
        .run(tauri::generate_context!())
        .expect("the console window could not start");
}
