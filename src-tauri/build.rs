//! Generates the Tauri context (config, embedded assets, capabilities) for the console.

/// The commands the web side may call; each gets an `allow-…` permission that the capability files
/// grant explicitly, so nothing else is reachable from the page.
const COMMANDS: &[&str] = &[
    "startup",
    "sign_in",
    "restore_session",
    "sign_out",
    "list_contacts",
    "accept_contact",
    "close_contact",
    "send_message",
    "list_messages",
    "report_contacts",
    "report_contact",
    "choose_files",
    "inspect_files",
    "stage_pasted_file",
    "thumbnail",
    "smaller_copy",
    "upload_file",
    "cancel_upload",
    "attachment_preview",
    "cache_image",
    "release_image",
    "cache_info",
    "set_cache_limit",
    "clear_cache",
    "open_attachment",
    "save_attachment",
    "access_records",
    "verify_attachment",
    "redact_attachment",
    "export_contact",
    "search_attachments",
    "storage_usage",
    "account_plan",
    "set_file_retention",
    "cached_file",
];

fn main() {
    println!("cargo:rerun-if-changed=src-tauri/capabilities");
    let attributes = tauri_build::Attributes::new()
        .capabilities_path_pattern("src-tauri/capabilities/*.json")
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    tauri_build::try_build(attributes).expect("tauri-build failed");
}
