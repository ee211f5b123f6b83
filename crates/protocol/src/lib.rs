//! Wire types of Attaché: the JSON bodies of the HTTP API and the events of its WebSockets.
//!
//! One definition serves the service (which derives its OpenAPI document from them with the
//! `openapi` feature), the Rust SDK and the console.
#![deny(missing_docs)]

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

mod liveperson;
pub use liveperson::*;

/// A point in time, serialised as RFC 3339 in UTC.
pub type Timestamp = DateTime<Utc>;

macro_rules! id_type {
    ($(#[$doc:meta] $name:ident),* $(,)?) => {$(
        #[$doc]
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// The id as text.
            pub fn as_str(&self) -> &str { &self.0 }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(&self.0) }
        }
        impl From<String> for $name {
            fn from(s: String) -> Self { Self(s) }
        }
        impl From<&str> for $name {
            fn from(s: &str) -> Self { Self(s.to_owned()) }
        }
    )*};
}

id_type! {
    /// Identifies an account (a tenant: one company and its staff).
    AccountId,
    /// Identifies a staff user.
    UserId,
    /// A visitor's public id within one account, for staff, events, logs and reports; it opens nothing.
    VisitorRef,
    /// Identifies a contact (one customer chat).
    ContactId,
    /// Identifies a message of a contact.
    MessageId,
    /// Identifies an attachment (a file sent in a contact).
    AttachmentId,
    /// Identifies a tus upload in progress.
    UploadId,
}

/// A visitor's credential: its `vvcu` cookie value or consumer token. A secret for its owner
/// only: staff, events, logs and reports see a [`VisitorRef`]. `Debug` does not show it.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
#[serde(transparent)]
pub struct VisitorId(pub String);

impl VisitorId {
    /// The credential as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl std::fmt::Debug for VisitorId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VisitorId(…)")
    }
}
impl std::fmt::Display for VisitorId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl From<String> for VisitorId {
    fn from(s: String) -> Self {
        Self(s)
    }
}

/// The body of every error response: a stable kebab-case code and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiError {
    /// Stable machine-readable code, e.g. `not-found`, `bad-credentials`.
    pub error: String,
    /// Human-readable explanation.
    pub message: String,
}

/// What a staff user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Handles contacts.
    Agent,
    /// Handles contacts and oversees the agents assigned to them.
    Supervisor,
    /// Manages the account: plan, users; sees every report.
    Admin,
}

impl Role {
    /// The role's name on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
        }
    }
    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "agent" => Some(Role::Agent),
            "supervisor" => Some(Role::Supervisor),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// The plan limits and settings of an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Plan {
    /// Largest single upload, in bytes (5 MiB by default, at most 30 MiB).
    pub max_upload_bytes: u64,
    /// Whether customers and agents may exchange files at all.
    pub file_sharing_enabled: bool,
    /// Days a closed contact's report (and its files) is kept.
    pub report_retention_days: u32,
    /// Media types allowed for uploads (`image/*` style wildcards); empty means any type.
    pub allowed_types: Vec<String>,
    /// Keep the metadata of photos (EXIF, XMP, IPTC: location, camera, time) instead of
    /// removing it before they are stored.
    #[serde(default)]
    pub keep_metadata: bool,
}

/// Default upload limit of a plan: 5 MiB.
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 5 * 1024 * 1024;
/// Highest upload limit a plan can be raised to: 30 MiB.
pub const MAX_PLAN_UPLOAD_BYTES: u64 = 30 * 1024 * 1024;
/// Default report retention.
pub const DEFAULT_REPORT_RETENTION_DAYS: u32 = 90;
/// Longest report retention a plan may ask for (ten years).
pub const MAX_REPORT_RETENTION_DAYS: u32 = 3650;

/// An account and its plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Account {
    /// The account's id.
    pub id: AccountId,
    /// The account's name, used to sign in (e.g. `acme`).
    pub name: String,
    /// Its plan.
    pub plan: Plan,
}

/// Changes to an account's plan; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AccountPatch {
    /// New upload limit in bytes (1 to 30 MiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_upload_bytes: Option<u64>,
    /// Switch file sharing on or off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_sharing_enabled: Option<bool>,
    /// New report retention in days (0 to 3650).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_retention_days: Option<u32>,
    /// New list of allowed media types; empty allows any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_types: Option<Vec<String>>,
    /// Keep photos' metadata (true) or remove it (false, the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_metadata: Option<bool>,
}

/// A staff user as others see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    /// The user's id.
    pub id: UserId,
    /// The account the user belongs to.
    pub account_id: AccountId,
    /// Sign-in name, unique within the account.
    pub username: String,
    /// Name shown to customers and colleagues.
    pub display_name: String,
    /// The user's role.
    pub role: Role,
    /// Whether the user may read every contact report of the account.
    pub reports: bool,
    /// The supervisor of this user, for agents.
    pub supervisor_id: Option<UserId>,
    /// A disabled user cannot sign in.
    pub disabled: bool,
}

/// A new staff user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// Sign-in name (1 to 64 letters, digits, `.`, `_` or `-`).
    pub username: String,
    /// Initial password (8 characters at least).
    pub password: String,
    /// Name shown to others; the username when absent.
    #[serde(default)]
    pub display_name: Option<String>,
    /// The user's role.
    pub role: Role,
    /// The reports permission.
    #[serde(default)]
    pub reports: bool,
    /// The user's supervisor.
    #[serde(default)]
    pub supervisor_id: Option<UserId>,
}

/// Changes to a user; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    /// New display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// New password (8 characters at least); signs the user out everywhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// New role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// Grant or take the reports permission.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reports: Option<bool>,
    /// New supervisor; an empty string removes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supervisor_id: Option<String>,
    /// Disable (signs the user out everywhere) or enable the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
}

/// Staff sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    /// Account name, e.g. `acme`.
    pub account: String,
    /// Username within the account.
    pub username: String,
    /// Password.
    pub password: String,
}

/// A new staff session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginResponse {
    /// Bearer token for `Authorization: Bearer …`.
    pub token: String,
    /// The signed-in user.
    pub user: User,
    /// The user's account.
    pub account: Account,
}

/// Where a contact is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ContactState {
    /// Waiting in the queue for an agent.
    Queued,
    /// An agent accepted it; the chat is live.
    Active,
    /// Ended; its report lives until `report_expires_at`.
    Closed,
}

impl ContactState {
    /// The state's name on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            ContactState::Queued => "queued",
            ContactState::Active => "active",
            ContactState::Closed => "closed",
        }
    }
    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<ContactState> {
        match s {
            "queued" => Some(ContactState::Queued),
            "active" => Some(ContactState::Active),
            "closed" => Some(ContactState::Closed),
            _ => None,
        }
    }
}

/// A customer's chat with an agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Contact {
    /// The contact's id.
    pub id: ContactId,
    /// The account it belongs to.
    pub account_id: AccountId,
    /// Its state.
    pub state: ContactState,
    /// The visitor who opened it, by its public id (never its cookie).
    pub visitor: VisitorRef,
    /// The name the customer gave, if any.
    pub customer_name: String,
    /// The agent who accepted it.
    pub agent_id: Option<UserId>,
    /// That agent's display name.
    pub agent_name: Option<String>,
    /// When the customer opened it.
    pub created_at: DateTime<Utc>,
    /// When an agent accepted it.
    pub accepted_at: Option<DateTime<Utc>>,
    /// When it was closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// Who closed it: `agent` or `customer`.
    pub closed_by: Option<Sender>,
    /// When its report (transcript and files) will be deleted.
    pub report_expires_at: Option<DateTime<Utc>>,
    /// How many files it holds (staff see this count of a queued contact, no names or bytes).
    #[serde(default)]
    pub files: u32,
}

/// A customer opens a contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OpenContact {
    /// Name of the account to contact, e.g. `acme`.
    pub account: String,
    /// How the customer wants to be called (optional, at most 100 characters).
    #[serde(default)]
    pub name: Option<String>,
    /// A first message for the transcript (optional).
    #[serde(default)]
    pub message: Option<String>,
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Sender {
    /// The agent of the contact.
    Agent,
    /// The customer.
    Customer,
}

impl Sender {
    /// The sender's name on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Sender::Agent => "agent",
            Sender::Customer => "customer",
        }
    }
    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<Sender> {
        match s {
            "agent" => Some(Sender::Agent),
            "customer" => Some(Sender::Customer),
            _ => None,
        }
    }
}

/// One entry of a contact's transcript.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Message {
    /// The message's id.
    pub id: MessageId,
    /// The contact it belongs to.
    pub contact_id: ContactId,
    /// Who wrote it.
    pub sender: Sender,
    /// The writer's shown name.
    pub sender_name: String,
    /// The text; for an attachment, its description or else its file name.
    pub body: String,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    /// The file this message carries, if it is an attachment message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<Attachment>,
}

/// A file sent during a contact, checked and stored. Its bytes are at [`Attachment::url`]
/// (relative to the service), readable by the rules of the access table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attachment {
    /// The attachment's id.
    pub id: AttachmentId,
    /// The contact it was sent in.
    pub contact_id: ContactId,
    /// The file name as the sender gave it (display only).
    pub name: String,
    /// The sender's optional description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Size in bytes.
    pub size: u64,
    /// The media type sniffed from the bytes (what the file really is).
    pub media_type: String,
    /// The media type the sender declared.
    pub declared_type: String,
    /// SHA-256 of the bytes, lowercase hex; also the download's `ETag`.
    pub sha256: String,
    /// Path of the file: `/files/{96-hex token}/{file name}`.
    pub url: String,
    /// Path of the JPEG preview (images only): `/files/{token}/preview`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview_url: Option<String>,
    /// Image width in pixels (images only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// Image height in pixels (images only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Who sent it.
    pub sender: Sender,
    /// When it became available.
    pub created_at: DateTime<Utc>,
    /// The admin who released it after the scanner gave no verdict (their display name);
    /// absent for a file that passed every check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub released_by: Option<String>,
    /// When it was released.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub released_at: Option<DateTime<Utc>>,
    /// Location and camera data (EXIF, XMP, IPTC) were removed from the photo before it was
    /// stored; `sha256` and `size` are those of the bytes delivered.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub metadata_removed: bool,
}

/// Where a tus upload stands, as `GET /api/uploads/{id}` tells its uploader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum UploadState {
    /// Bytes are still arriving.
    Receiving,
    /// Every byte is in; the checks (type, image, malware scanner) are running.
    Checking,
    /// Checked (clean), stored and published as an attachment message.
    Ready,
    /// Refused by a check (a virus found, a disguised type…); nothing of it was kept.
    Refused,
    /// Blocked because the scanner gave no verdict: never delivered, kept until it expires so
    /// that an admin may release it.
    Blocked,
}

/// The state of one upload, for its uploader.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UploadStatus {
    /// The upload's id.
    pub id: UploadId,
    /// The contact it is for.
    pub contact_id: ContactId,
    /// The file name.
    pub name: String,
    /// Bytes received so far.
    pub offset: u64,
    /// Bytes announced.
    pub length: u64,
    /// Where it stands.
    pub state: UploadState,
    /// The attachment message, once ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
    /// Why it was refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ApiError>,
    /// When an unfinished upload (and its record) expires.
    pub expires_at: DateTime<Utc>,
}

/// Longest text message, in characters.
pub const MAX_MESSAGE_CHARS: usize = 10_000;

/// A new text message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SendMessage {
    /// The text: 1 to 10,000 characters, not only white space.
    pub body: String,
}

/// A contact with its whole transcript, as the report's "Contact details" shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContactDetails {
    /// The contact.
    pub contact: Contact,
    /// Its messages, oldest first.
    pub messages: Vec<Message>,
    /// Files that were blocked by the checks and never delivered, oldest first.
    #[serde(default)]
    pub blocked: Vec<BlockedFile>,
}

/// A file the checks blocked, as the report lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BlockedFile {
    /// Its upload.
    pub upload_id: UploadId,
    /// The file name.
    pub name: String,
    /// Who sent it.
    pub sender: Sender,
    /// Size in bytes.
    pub size: u64,
    /// Why it was blocked (`malware-found`, `scanner-unavailable`, …) in words.
    pub error: ApiError,
    /// An admin may release it (the scanner gave no verdict; its bytes are still kept).
    pub releasable: bool,
    /// When it was sent.
    pub created_at: DateTime<Utc>,
}

/// Filters of the contact report list; all optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
pub struct ReportFilter {
    /// Only contacts handled by this agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<UserId>,
    /// Only contacts in this state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<ContactState>,
    /// Only contacts opened at or after this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<DateTime<Utc>>,
    /// Only contacts opened before this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<DateTime<Utc>>,
}

/// A real-time event, pushed over `/api/events` (staff) and `/api/visitor/events` (visitor).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// The stream is open; sent first.
    Ready,
    /// A customer opened a contact and it waits in the queue; sent again to the staff when a
    /// file arrives in it meanwhile (its `files` count).
    ContactQueued {
        /// The contact.
        contact: Contact,
    },
    /// An agent accepted a contact; it left the queue.
    ContactAccepted {
        /// The contact.
        contact: Contact,
    },
    /// A contact was closed.
    ContactClosed {
        /// The contact.
        contact: Contact,
    },
    /// A message was added to a contact's transcript.
    MessageCreated {
        /// The message.
        message: Message,
    },
    /// A file finished uploading, passed its checks and is in the transcript (sent once, to
    /// both sides of the contact).
    AttachmentReady {
        /// The attachment message; `message.attachment` holds the file's details.
        message: Message,
    },
    /// Bytes of an upload arrived (after each chunk), for both sides of the contact.
    UploadProgress {
        /// The upload.
        upload_id: UploadId,
        /// Its contact.
        contact_id: ContactId,
        /// Who is sending.
        sender: Sender,
        /// The file name.
        name: String,
        /// Bytes received so far.
        offset: u64,
        /// Bytes announced.
        length: u64,
    },
    /// Every byte of an upload is in and its checks started: the file is `checking` until
    /// [`Event::AttachmentReady`] (clean) or [`Event::UploadRefused`] (blocked).
    UploadChecking {
        /// The upload.
        upload_id: UploadId,
        /// Its contact.
        contact_id: ContactId,
        /// Who is sending.
        sender: Sender,
        /// The file name.
        name: String,
        /// Its size in bytes.
        length: u64,
    },
    /// An upload was blocked by a check (type, image, scanner…) and never delivered.
    UploadRefused {
        /// The upload.
        upload_id: UploadId,
        /// Its contact.
        contact_id: ContactId,
        /// The file name.
        name: String,
        /// Why.
        error: ApiError,
        /// The scanner gave no verdict: the file is kept and an admin may release it.
        #[serde(default)]
        releasable: bool,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_wire_shape_is_tagged_snake_case() {
        let json = serde_json::to_value(Event::Ready).unwrap();
        assert_eq!(json, serde_json::json!({"type": "ready"}));
        let contact = Contact {
            id: "c1".into(),
            account_id: "a1".into(),
            state: ContactState::Queued,
            visitor: "v1".into(),
            customer_name: "Carla".into(),
            agent_id: None,
            agent_name: None,
            created_at: "2026-01-02T03:04:05Z".parse().unwrap(),
            accepted_at: None,
            closed_at: None,
            closed_by: None,
            report_expires_at: None,
            files: 0,
        };
        let json = serde_json::to_value(Event::ContactQueued { contact: contact.clone() }).unwrap();
        assert_eq!(json["type"], "contact_queued");
        assert_eq!(json["contact"]["state"], "queued");
        assert_eq!(json["contact"]["created_at"], "2026-01-02T03:04:05Z");
        let back: Event = serde_json::from_value(json).unwrap();
        assert_eq!(back, Event::ContactQueued { contact });
    }

    #[test]
    fn messages_without_attachment_keep_their_shape() {
        let json = serde_json::json!({
            "id": "m1", "contact_id": "c1", "sender": "agent", "sender_name": "Alice",
            "body": "hi", "created_at": "2026-01-02T03:04:05Z"
        });
        let m: Message = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(m.attachment, None);
        assert_eq!(serde_json::to_value(&m).unwrap(), json);
        let e = Event::UploadRefused {
            upload_id: "u1".into(),
            contact_id: "c1".into(),
            name: "a.png".into(),
            error: ApiError { error: "type-mismatch".into(), message: "no".into() },
            releasable: false,
        };
        assert_eq!(serde_json::to_value(&e).unwrap()["type"], "upload_refused");
    }

    #[test]
    fn patches_refuse_unknown_fields() {
        let err = serde_json::from_str::<AccountPatch>(r#"{"max_upload":1}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field"));
    }

    #[test]
    fn visitor_credentials_stay_out_of_debug_output() {
        let v = VisitorId("0123456789abcdef0123456789abcdef".into());
        assert!(!format!("{v:?}").contains("0123"));
        assert_eq!(v.to_string(), v.as_str());
    }

    #[test]
    fn names_round_trip() {
        for r in [Role::Agent, Role::Supervisor, Role::Admin] {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        for s in [ContactState::Queued, ContactState::Active, ContactState::Closed] {
            assert_eq!(ContactState::parse(s.as_str()), Some(s));
        }
        assert_eq!(Sender::parse("bot"), None);
    }
}
