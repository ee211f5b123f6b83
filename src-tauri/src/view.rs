//! The shapes that cross IPC. The TypeScript side gets them generated into
//! `ui/src/bindings/ipc.ts` (see `tests/bindings.rs`); nothing here is retyped by hand.
//!
//! Only the console's own shapes live here (sign-in, session, picked files, upload results, its
//! events). Contacts, messages, attachments and error codes reach the page as the protocol's wire
//! types, whose TypeScript `attache-protocol` derives with its `ts` feature.

use attache_client::{Contact, ErrorCode, LoginResponse, Message, Role};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// What the sign-in form sends.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct SignInRequest {
    /// Service address, e.g. `http://127.0.0.1:8080`.
    pub server: String,
    /// Account name, e.g. `acme`.
    pub account: String,
    /// User name.
    pub username: String,
    /// Password; used once, never stored.
    pub password: String,
}

/// What the window needs to know before it shows anything.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Startup {
    /// Server address to prefill: the stored session's, else `ATTACHE_SERVER`, else the default.
    pub server: String,
    /// Account to prefill.
    pub account: String,
    /// User name to prefill (the stored session's).
    pub username: String,
    /// Whether a session is kept in the OS keyring and can be restored.
    pub has_stored_session: bool,
    /// Whether the OS keyring works; when not, sessions last for this run only.
    pub keyring_available: bool,
}

/// The signed-in user.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SessionView {
    /// Service address.
    pub server: String,
    /// Account name.
    pub account: String,
    /// User id (to tell one's own contacts from colleagues').
    pub user_id: String,
    /// User name.
    pub username: String,
    /// Name shown to others.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Whether the session was kept in the OS keyring (false: this run only).
    pub remembered: bool,
    /// Whether the user may read contact reports (the `reports` permission, admins, supervisors);
    /// the service decides in the end.
    pub can_read_reports: bool,
}

impl SessionView {
    /// The view of a login or `me` answer.
    pub fn new(server: &str, login: &LoginResponse, remembered: bool) -> Self {
        Self {
            server: server.to_owned(),
            account: login.account.name.clone(),
            user_id: login.user.id.0.clone(),
            username: login.user.username.clone(),
            display_name: login.user.display_name.clone(),
            role: login.user.role,
            remembered,
            can_read_reports: login.user.reports || login.user.role != Role::Agent,
        }
    }
}

/// A file the agent picked to send.
#[derive(Debug, Clone, Serialize, TS)]
pub struct PickedFile {
    /// Full path on this machine.
    pub path: String,
    /// Its file name, shown in the popup's list.
    pub name: String,
    /// Its size in bytes.
    #[ts(type = "number")]
    pub size: u64,
    /// Whether its name says it is a picture the console can make a thumbnail of.
    pub image: bool,
}

/// A file that cannot go into the popup's list (a folder, one that vanished, one too many).
#[derive(Debug, Clone, Serialize, TS)]
pub struct RefusedFile {
    /// Its name, as far as it is known.
    pub name: String,
    /// Why, in words for the agent.
    pub message: String,
}

/// What the native dialog or a drop brought: the files to list and the ones refused.
#[derive(Debug, Clone, Default, Serialize, TS)]
pub struct Picked {
    /// Files to list, in the order they came.
    pub files: Vec<PickedFile>,
    /// The others, each with its reason.
    pub refused: Vec<RefusedFile>,
}

/// Most files the popup lists (and sends in one go); more are refused in words.
pub const MAX_FILES_AT_ONCE: usize = 20;

/// How an upload ended (a refusal is a [`crate::ConsoleError`] instead).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum UploadResult {
    /// The file passed the service's checks and is in the transcript.
    Sent {
        /// The attachment message.
        message: Box<Message>,
    },
    /// Stopped by `cancel_upload`.
    Cancelled {
        /// Bytes the service had.
        #[ts(type = "number")]
        sent: u64,
    },
}

/// Bytes of one of this agent's uploads confirmed by the service, sent over the channel the page
/// gave `upload_file` for that upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
pub struct UploadProgress {
    /// Confirmed bytes.
    #[ts(type = "number")]
    pub sent: u64,
    /// File size.
    #[ts(type = "number")]
    pub total: u64,
}

/// Filters of the Reports > Contacts list; all optional.
#[derive(Debug, Clone, Default, Deserialize, TS)]
pub struct ReportQuery {
    /// Only contacts handled by this agent (user id).
    pub agent_id: Option<String>,
    /// Only contacts in this state (`queued`, `active`, `closed`).
    pub state: Option<String>,
    /// Opened at or after this time (RFC 3339).
    pub from: Option<String>,
    /// Opened before this time (RFC 3339).
    pub to: Option<String>,
}

/// What "Verify" found, in words.
#[derive(Debug, Clone, Serialize, TS)]
pub struct VerifyResult {
    /// The copy matches the service's SHA-256 and size.
    pub ok: bool,
    /// What was checked and what it found.
    pub message: String,
}

/// Reports > Attachments: what the search form sends; empty fields are no filter.
#[derive(Debug, Clone, Deserialize, TS)]
pub struct FileSearchQuery {
    /// Part of the file name.
    pub name: Option<String>,
    /// Media type or its start (`image/`).
    pub media_type: Option<String>,
    /// `agent` or `customer`.
    pub sender: Option<String>,
    /// The contacts' agent (user id).
    pub agent_id: Option<String>,
    /// Sent at or after (RFC 3339).
    pub from: Option<String>,
    /// Sent before (RFC 3339).
    pub to: Option<String>,
    /// Page, from 1.
    pub page: Option<u32>,
}

/// State of the live connection to the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum ConnectionState {
    /// Opening the event stream.
    Connecting,
    /// Live: events arrive as they happen.
    Online,
    /// The stream broke; the console retries on its own.
    Offline,
}

/// The name of the one Tauri event the console emits to the page.
pub const CONSOLE_EVENT: &str = "console-event";

/// What the Rust side pushes to the page on [`CONSOLE_EVENT`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ConsoleEvent {
    /// The connection changed; after `online` the page reloads its lists.
    Connection {
        /// New state.
        state: ConnectionState,
        /// Why, when offline.
        detail: Option<String>,
    },
    /// A customer is waiting.
    ContactQueued {
        /// The contact.
        contact: Contact,
    },
    /// A contact was accepted (by this agent or a colleague).
    ContactAccepted {
        /// The contact.
        contact: Contact,
    },
    /// A contact was closed.
    ContactClosed {
        /// The contact.
        contact: Contact,
    },
    /// A transcript grew.
    MessageCreated {
        /// The message.
        #[ts(as = "Message")]
        message: Box<Message>,
    },
    /// How far the customer's upload to one of this agent's contacts got.
    IncomingUpload {
        /// The upload.
        upload_id: String,
        /// Its contact.
        contact_id: String,
        /// The file name.
        name: String,
        /// Bytes received so far.
        #[ts(type = "number")]
        offset: u64,
        /// Bytes announced.
        #[ts(type = "number")]
        length: u64,
    },
    /// The service refused a customer's file; nothing of it was kept.
    IncomingUploadRefused {
        /// The upload.
        upload_id: String,
        /// Its contact.
        contact_id: String,
        /// The file name.
        name: String,
        /// Why, in the service's words.
        message: String,
    },
    /// Files are being dragged over the window (`true`) or left it (`false`).
    FilesDragging {
        /// Whether they are over the window.
        active: bool,
    },
    /// A file dropped on the window (paths on this machine).
    FilesDropped {
        /// The dropped files.
        paths: Vec<String>,
    },
    /// The service no longer accepts the session: back to sign-in.
    SessionExpired,
    /// An attachment was redacted or expired: show its tombstone (the console dropped its copy).
    AttachmentRemoved {
        /// Its contact.
        contact_id: String,
        /// Its transcript message.
        message_id: String,
        /// The attachment.
        attachment_id: String,
        /// Who, when, why.
        tombstone: attache_client::Tombstone,
    },
}

/// Every IPC type, in the order `ui/src/bindings/ipc.ts` declares them.
pub fn typescript_bindings() -> String {
    use attache_client::protocol as p;
    use ts_rs::Config;
    let cfg = Config::new();
    let decls = [
        // The protocol's wire types.
        ErrorCode::decl(&cfg),
        p::AccountId::decl(&cfg),
        p::UserId::decl(&cfg),
        p::VisitorRef::decl(&cfg),
        p::ContactId::decl(&cfg),
        p::MessageId::decl(&cfg),
        p::AttachmentId::decl(&cfg),
        p::UploadId::decl(&cfg),
        p::Role::decl(&cfg),
        p::ContactState::decl(&cfg),
        p::Sender::decl(&cfg),
        p::Contact::decl(&cfg),
        p::Message::decl(&cfg),
        p::Attachment::decl(&cfg),
        p::ApiError::decl(&cfg),
        p::BlockedFile::decl(&cfg),
        p::ContactDetails::decl(&cfg),
        p::RemovalKind::decl(&cfg),
        p::Tombstone::decl(&cfg),
        p::AccessWhat::decl(&cfg),
        p::AccessWho::decl(&cfg),
        p::AccessGrant::decl(&cfg),
        p::AccessRecord::decl(&cfg),
        p::AttachmentHit::decl(&cfg),
        p::AttachmentPage::decl(&cfg),
        p::FileCount::decl(&cfg),
        p::StorageUsage::decl(&cfg),
        p::Redacted::decl(&cfg),
        p::Plan::decl(&cfg),
        p::Account::decl(&cfg),
        // The console's own.
        crate::error::ConsoleError::decl(&cfg),
        SignInRequest::decl(&cfg),
        Startup::decl(&cfg),
        SessionView::decl(&cfg),
        PickedFile::decl(&cfg),
        RefusedFile::decl(&cfg),
        Picked::decl(&cfg),
        UploadResult::decl(&cfg),
        UploadProgress::decl(&cfg),
        ReportQuery::decl(&cfg),
        VerifyResult::decl(&cfg),
        FileSearchQuery::decl(&cfg),
        crate::settings::CacheInfo::decl(&cfg),
        ConnectionState::decl(&cfg),
        ConsoleEvent::decl(&cfg),
    ];
    let mut out = String::from(
        "// Generated by ts-rs from crates/protocol (wire types) and src-tauri/src/view.rs, error.rs\n\
         // (the console's own); do not edit.\n\
         // Regenerate: UPDATE_BINDINGS=1 cargo test -p attache-console --test console_bindings\n\n",
    );
    for d in decls {
        out.push_str("export ");
        out.push_str(d.trim());
        out.push_str("\n\n");
    }
    out.push_str(&format!("export const CONSOLE_EVENT = \"{CONSOLE_EVENT}\";\n"));
    out.push_str(&format!("export const MAX_FILES_AT_ONCE = {MAX_FILES_AT_ONCE};\n"));
    out.push_str(&format!("export const CACHE_SCHEME = \"{}\";\n", crate::gallery::SCHEME));
    // The codes as values too, so that the page names them (`ErrorCode.SessionExpired`) instead of
    // spelling strings.
    out.push_str("\nexport const ErrorCode = {\n");
    for code in ErrorCode::ALL.iter().chain([&ErrorCode::Unknown]) {
        out.push_str(&format!("  {code:?}: \"{code}\",\n"));
    }
    out.push_str("} as const satisfies Record<string, ErrorCode>;\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_events_are_tagged_snake_case() {
        let json = serde_json::to_value(ConsoleEvent::Connection {
            state: ConnectionState::Offline,
            detail: Some("refused".into()),
        })
        .unwrap();
        assert_eq!(json, serde_json::json!({"type": "connection", "state": "offline", "detail": "refused"}));
        let json = serde_json::to_value(ConsoleEvent::SessionExpired).unwrap();
        assert_eq!(json, serde_json::json!({"type": "session_expired"}));
    }

    #[test]
    fn contacts_reach_the_page_in_their_wire_shape() {
        let contact = Contact {
            id: "c1".into(),
            account_id: "a1".into(),
            state: attache_client::ContactState::Active,
            visitor: "v1".into(),
            customer_name: "Carla".into(),
            agent_id: Some("u1".into()),
            agent_name: Some("Alice".into()),
            created_at: "2026-01-02T03:04:05Z".parse().unwrap(),
            accepted_at: None,
            closed_at: None,
            closed_by: None,
            report_expires_at: None,
            files: 2,
        };
        let json = serde_json::to_value(ConsoleEvent::ContactAccepted { contact }).unwrap();
        assert_eq!(json["contact"]["files"], 2);
        assert_eq!(json["contact"]["state"], "active");
        assert_eq!(json["contact"]["agent_id"], "u1");
        assert_eq!(json["contact"]["created_at"], "2026-01-02T03:04:05Z");
        assert!(json["contact"]["accepted_at"].is_null());
    }
}
