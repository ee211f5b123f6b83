//! The native open and save dialogs, shown with `rfd` from the Rust side in front of the console
//! window (the page has no dialog permission), and their test seam.
//!
//! Test seam: the OS dialogs cannot be driven over WebDriver, so when
//! `ATTACHE_CONSOLE_TEST_PICK_FILE` holds absolute paths (several joined with the system's path-list
//! separator, `:` on Unix and `;` on Windows), "Choose files" returns them instead of showing the
//! dialog; `ATTACHE_CONSOLE_TEST_SAVE_TO` (one absolute path) does the same for "Save as…". They
//! stand in for the dialog only; everything after it runs as usual.

use rfd::{AsyncFileDialog, FileHandle};
use std::future::Future;
use std::path::PathBuf;
use tauri::{AppHandle, Manager};

/// Stand-in for the native "open files" dialog in end-to-end tests.
pub const TEST_PICK_FILE: &str = "ATTACHE_CONSOLE_TEST_PICK_FILE";
/// Stand-in for the native "save file" dialog in end-to-end tests.
pub const TEST_SAVE_TO: &str = "ATTACHE_CONSOLE_TEST_SAVE_TO";

/// The absolute paths a test put in `var`, if any.
fn seam(var: &str) -> Option<Vec<PathBuf>> {
    let raw = std::env::var_os(var)?;
    let paths: Vec<PathBuf> = std::env::split_paths(&raw).filter(|p| p.is_absolute()).collect();
    (!paths.is_empty()).then_some(paths)
}

/// Builds a dialog on the main thread (where the windowing toolkit lives), then waits for the
/// agent's answer on a thread of its own, so that neither the window nor an async worker blocks.
async fn show<T, F, Fut>(app: &AppHandle, title: &str, build: F) -> Option<T>
where
    T: Send + 'static,
    F: FnOnce(AsyncFileDialog) -> Fut + Send + 'static,
    Fut: Future<Output = Option<T>> + Send + 'static,
{
    let (tx, rx) = tokio::sync::oneshot::channel();
    let window = app.get_webview_window("main");
    let title = title.to_owned();
    let shown = app.run_on_main_thread(move || {
        let mut dialog = AsyncFileDialog::new().set_title(title);
        if let Some(window) = &window {
            dialog = dialog.set_parent(window);
        }
        let answer = build(dialog);
        std::thread::spawn(move || {
            let _ = tx.send(tauri::async_runtime::block_on(answer));
        });
    });
    if let Err(e) = shown {
        tracing::warn!("the file dialog could not be shown: {e}");
        return None;
    }
    rx.await.ok().flatten()
}

/// "Choose files": the native dialog with multi-select. Empty when the agent cancels it.
pub async fn pick_files(app: &AppHandle) -> Vec<PathBuf> {
    if let Some(paths) = seam(TEST_PICK_FILE) {
        return paths;
    }
    show(app, "Choose files to send", |d| d.pick_files())
        .await
        .map(|files: Vec<FileHandle>| files.iter().map(|f| f.path().to_path_buf()).collect())
        .unwrap_or_default()
}

/// "Save as…": the native save dialog, proposing `file_name`. `None` when the agent cancels it.
pub async fn save_file(app: &AppHandle, file_name: String) -> Option<PathBuf> {
    if let Some(mut paths) = seam(TEST_SAVE_TO) {
        return paths.pop();
    }
    show(app, "Save the file", move |d| d.set_file_name(file_name).save_file()).await.map(|f| f.path().to_path_buf())
}
