//! Contacts (a customer's chat with an agent), their transcripts and the report filters.

use crate::{AccountId, ApiError, Attachment, ContactId, MessageId, UploadId, UserId, VisitorRef};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where a contact is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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

/// Longest text message, in characters.
pub const MAX_MESSAGE_CHARS: usize = 10_000;

/// A new text message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct SendMessage {
    /// The text: 1 to 10,000 characters, not only white space.
    pub body: String,
}

/// A contact with its whole transcript, as the report's "Contact details" shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BlockedFile {
    /// Its upload.
    pub upload_id: UploadId,
    /// The file name.
    pub name: String,
    /// Who sent it.
    pub sender: Sender,
    /// Size in bytes.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
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
