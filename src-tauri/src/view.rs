//! The shapes that cross IPC. The TypeScript side gets them generated into
//! `ui/src/bindings/ipc.ts` (see `tests/bindings.rs`); nothing here is retyped by hand.
//!
//! They are views of the wire types in `attache-protocol`, flattened for the page: times as RFC 3339
//! strings, ids as strings.

use attache_client::{Attachment, Contact, ContactDetails, ContactState, LoginResponse, Message, Role, Sender};
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

/// The staff role, as the header shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum RoleView {
    /// Handles contacts.
    Agent,
    /// Handles contacts and oversees agents.
    Supervisor,
    /// Manages the account.
    Admin,
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
    pub role: RoleView,
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
            role: match login.user.role {
                Role::Agent => RoleView::Agent,
                Role::Supervisor => RoleView::Supervisor,
                Role::Admin => RoleView::Admin,
            },
            remembered,
            can_read_reports: login.user.reports || login.user.role != Role::Agent,
        }
    }
}

/// Where a contact is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum ContactStateView {
    /// Waiting for an agent.
    Queued,
    /// Accepted; the chat is live.
    Active,
    /// Ended.
    Closed,
}

/// A contact as the sidebar and the card show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ContactView {
    /// Contact id.
    pub id: String,
    /// State.
    pub state: ContactStateView,
    /// Name the customer gave (may be empty).
    pub customer_name: String,
    /// Id of the agent who accepted it.
    pub agent_id: Option<String>,
    /// That agent's name.
    pub agent_name: Option<String>,
    /// When the customer opened it (RFC 3339).
    pub created_at: String,
    /// When it was accepted.
    pub accepted_at: Option<String>,
    /// When it was closed.
    pub closed_at: Option<String>,
    /// Who closed it.
    pub closed_by: Option<SenderView>,
    /// How many files it holds (of a queued contact, the count is all the staff see).
    pub files: u32,
}

impl From<Contact> for ContactView {
    fn from(c: Contact) -> Self {
        Self {
            id: c.id.0,
            state: match c.state {
                ContactState::Queued => ContactStateView::Queued,
                ContactState::Active => ContactStateView::Active,
                ContactState::Closed => ContactStateView::Closed,
            },
            customer_name: c.customer_name,
            agent_id: c.agent_id.map(|a| a.0),
            agent_name: c.agent_name,
            created_at: c.created_at.to_rfc3339(),
            accepted_at: c.accepted_at.map(|t| t.to_rfc3339()),
            closed_at: c.closed_at.map(|t| t.to_rfc3339()),
            closed_by: c.closed_by.map(SenderView::from),
            files: c.files,
        }
    }
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum SenderView {
    /// The agent.
    Agent,
    /// The customer.
    Customer,
}

impl From<Sender> for SenderView {
    fn from(s: Sender) -> Self {
        match s {
            Sender::Agent => SenderView::Agent,
            Sender::Customer => SenderView::Customer,
        }
    }
}

/// One transcript entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct MessageView {
    /// Message id.
    pub id: String,
    /// Its contact.
    pub contact_id: String,
    /// Who wrote it.
    pub sender: SenderView,
    /// The writer's shown name.
    pub sender_name: String,
    /// The text.
    pub body: String,
    /// When (RFC 3339).
    pub created_at: String,
    /// The file, for an attachment message.
    pub attachment: Option<AttachmentView>,
}

/// A file in a transcript. Its URLs are service paths the page passes back to the file commands;
/// the page never fetches them itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct AttachmentView {
    /// Attachment id.
    pub id: String,
    /// File name as the sender gave it.
    pub name: String,
    /// The sender's description, if any.
    pub description: Option<String>,
    /// Size in bytes.
    #[ts(type = "number")]
    pub size: u64,
    /// Media type sniffed from the bytes.
    pub media_type: String,
    /// SHA-256 of the bytes (the cache key).
    pub sha256: String,
    /// Path of the file at the service.
    pub url: String,
    /// Path of the preview (images only).
    pub preview_url: Option<String>,
    /// Image width (images only).
    pub width: Option<u32>,
    /// Image height (images only).
    pub height: Option<u32>,
    /// Who sent it.
    pub sender: SenderView,
    /// When it became available (RFC 3339).
    pub created_at: String,
    /// The admin who released it after the scanner gave no verdict; absent when every check
    /// passed.
    pub released_by: Option<String>,
    /// When it was released (RFC 3339).
    pub released_at: Option<String>,
    /// Location and camera data were removed from the photo.
    pub metadata_removed: bool,
}

impl From<Attachment> for AttachmentView {
    fn from(a: Attachment) -> Self {
        Self {
            id: a.id.0,
            name: a.name,
            description: a.description,
            size: a.size,
            media_type: a.media_type,
            sha256: a.sha256,
            url: a.url,
            preview_url: a.preview_url,
            width: a.width,
            height: a.height,
            sender: a.sender.into(),
            created_at: a.created_at.to_rfc3339(),
            released_by: a.released_by,
            released_at: a.released_at.map(|t| t.to_rfc3339()),
            metadata_removed: a.metadata_removed,
        }
    }
}

/// A file the checks blocked (never delivered), as the report lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct BlockedFileView {
    /// Its upload.
    pub upload_id: String,
    /// File name as the sender gave it.
    pub name: String,
    /// Who sent it.
    pub sender: SenderView,
    /// Size in bytes.
    #[ts(type = "number")]
    pub size: u64,
    /// Why, in the service's words.
    pub reason: String,
    /// An admin may release it (the scanner gave no verdict).
    pub releasable: bool,
    /// When it was sent (RFC 3339).
    pub created_at: String,
}

impl From<attache_client::BlockedFile> for BlockedFileView {
    fn from(b: attache_client::BlockedFile) -> Self {
        Self {
            upload_id: b.upload_id.0,
            name: b.name,
            sender: b.sender.into(),
            size: b.size,
            reason: b.error.message,
            releasable: b.releasable,
            created_at: b.created_at.to_rfc3339(),
        }
    }
}

/// A file the agent picked to send.
#[derive(Debug, Clone, Serialize, TS)]
pub struct PickedFile {
    /// Full path on this machine.
    pub path: String,
    /// Its file name, shown beside "Choose file".
    pub name: String,
    /// Its size in bytes.
    #[ts(type = "number")]
    pub size: u64,
}

/// How an upload ended (a refusal is a [`crate::ConsoleError`] instead).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum UploadResult {
    /// The file passed the service's checks and is in the transcript.
    Sent {
        /// The attachment message.
        message: Box<MessageView>,
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

/// Reports > Contacts > Contact details.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ContactDetailsView {
    /// The contact.
    pub contact: ContactView,
    /// Its transcript, oldest first, attachments included.
    pub messages: Vec<MessageView>,
    /// Files the checks blocked, never delivered.
    pub blocked: Vec<BlockedFileView>,
}

impl From<ContactDetails> for ContactDetailsView {
    fn from(d: ContactDetails) -> Self {
        Self {
            contact: d.contact.into(),
            messages: d.messages.into_iter().map(MessageView::from).collect(),
            blocked: d.blocked.into_iter().map(BlockedFileView::from).collect(),
        }
    }
}

impl From<Message> for MessageView {
    fn from(m: Message) -> Self {
        Self {
            id: m.id.0,
            contact_id: m.contact_id.0,
            sender: m.sender.into(),
            sender_name: m.sender_name,
            body: m.body,
            created_at: m.created_at.to_rfc3339(),
            attachment: m.attachment.map(AttachmentView::from),
        }
    }
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
        contact: ContactView,
    },
    /// A contact was accepted (by this agent or a colleague).
    ContactAccepted {
        /// The contact.
        contact: ContactView,
    },
    /// A contact was closed.
    ContactClosed {
        /// The contact.
        contact: ContactView,
    },
    /// A transcript grew.
    MessageCreated {
        /// The message (boxed: it is by far the largest event).
        message: Box<MessageView>,
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
}

/// Every IPC type, in the order `ui/src/bindings/ipc.ts` declares them.
pub fn typescript_bindings() -> String {
    use ts_rs::Config;
    let cfg = Config::new();
    let decls = [
        crate::error::ConsoleError::decl(&cfg),
        SignInRequest::decl(&cfg),
        Startup::decl(&cfg),
        RoleView::decl(&cfg),
        SessionView::decl(&cfg),
        ContactStateView::decl(&cfg),
        ContactView::decl(&cfg),
        SenderView::decl(&cfg),
        MessageView::decl(&cfg),
        AttachmentView::decl(&cfg),
        PickedFile::decl(&cfg),
        UploadResult::decl(&cfg),
        UploadProgress::decl(&cfg),
        ReportQuery::decl(&cfg),
        BlockedFileView::decl(&cfg),
        ContactDetailsView::decl(&cfg),
        ConnectionState::decl(&cfg),
        ConsoleEvent::decl(&cfg),
    ];
    let mut out = String::from(
        "// Generated from src-tauri/src/view.rs and error.rs by ts-rs; do not edit.\n\
         // Regenerate: UPDATE_BINDINGS=1 cargo test -p attache-console --test console_bindings\n\n",
    );
    for d in decls {
        out.push_str("export ");
        out.push_str(d.trim());
        out.push_str("\n\n");
    }
    out.push_str(&format!("export const CONSOLE_EVENT = \"{CONSOLE_EVENT}\";\n"));
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
    fn contacts_flatten_for_the_page() {
        let contact = Contact {
            id: "c1".into(),
            account_id: "a1".into(),
            state: ContactState::Active,
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
        let json = serde_json::to_value(ContactView::from(contact)).unwrap();
        assert_eq!(json["files"], 2);
        assert_eq!(json["state"], "active");
        assert_eq!(json["agent_id"], "u1");
        assert_eq!(json["created_at"], "2026-01-02T03:04:05+00:00");
        assert!(json["accepted_at"].is_null());
    }
}
