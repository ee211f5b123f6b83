//! Supervisors' review: who opened which file (access records), files taken away (redaction,
//! file-only retention) and the tombstones they leave, the account's storage, and finding files
//! across contacts.

use crate::{AttachmentId, ContactId, Sender, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Why an attachment's bytes are gone while its place in the transcript stays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum RemovalKind {
    /// Removed by a person, with a reason.
    Redacted,
    /// Removed by the plan's file-only retention; the transcript stays.
    Expired,
}

impl RemovalKind {
    /// The name on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            RemovalKind::Redacted => "redacted",
            RemovalKind::Expired => "expired",
        }
    }
    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<RemovalKind> {
        match s {
            "redacted" => Some(RemovalKind::Redacted),
            "expired" => Some(RemovalKind::Expired),
            _ => None,
        }
    }
}

/// What stays of a removed attachment: who, when, why. Its bytes, preview and URLs are gone
/// (every URL answers 410).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Tombstone {
    /// Redacted or expired.
    pub kind: RemovalKind,
    /// The display name of who redacted it (none for an expiry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
    /// The redactor's reason (none for an expiry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The answer to a redaction. The tombstone is durable once this answers (every URL of the file
/// answers 410); the bytes leave the store at once, or, when the store did not confirm it, as soon
/// as it does: the deletion is recorded with the tombstone and retried until it is done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Redacted {
    /// The attachment's message, with its tombstone.
    pub message: crate::Message,
    /// The store confirmed the file and its preview deleted; `false`: they are still being
    /// removed.
    pub bytes_removed: bool,
    /// What happened, in words.
    pub detail: String,
}

/// Longest redaction reason, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// A redaction: the reason is required (1 to 500 characters, no control characters).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct RedactRequest {
    /// Why the file goes, shown to both sides ("wrong customer").
    pub reason: String,
}

/// What was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum AccessWhat {
    /// The file's bytes.
    File,
    /// Its preview picture.
    Preview,
    /// The contact's "Download all" ZIP.
    Export,
}

/// Who opened it, as the access table names callers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum AccessWho {
    /// A staff user (by session).
    Staff,
    /// The contact's visitor (its `vvcu` cookie).
    Visitor,
    /// A browser holding this contact's `vvca` grant.
    Browser,
    /// Someone holding the bare link while the contact was active.
    Link,
    /// The consumer of the LivePerson-style messaging API, through a temporary signed URL it
    /// was given (`ms.GenerateURLForDownloadFile`).
    Consumer,
}

/// The row of the access table that let the caller in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum AccessGrant {
    /// Anyone holding the URL, while the contact is active.
    Url,
    /// The contact's visitor.
    ContactVisitor,
    /// A browser with this contact's `vvca`.
    Vvca,
    /// Staff with the reports permission.
    Reports,
    /// An admin of the account.
    Admin,
    /// The supervisor of the contact's agent.
    Supervisor,
    /// The contact's agent, while it is active.
    Agent,
    /// A temporary signed URL of the consumer API, given to the contact's consumer.
    SignedUrl,
}

impl AccessGrant {
    /// The name on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessGrant::Url => "url",
            AccessGrant::ContactVisitor => "contact-visitor",
            AccessGrant::Vvca => "vvca",
            AccessGrant::Reports => "reports",
            AccessGrant::Admin => "admin",
            AccessGrant::Supervisor => "supervisor",
            AccessGrant::Agent => "agent",
            AccessGrant::SignedUrl => "signed-url",
        }
    }
    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<AccessGrant> {
        [
            AccessGrant::Url,
            AccessGrant::ContactVisitor,
            AccessGrant::Vvca,
            AccessGrant::Reports,
            AccessGrant::Admin,
            AccessGrant::Supervisor,
            AccessGrant::Agent,
            AccessGrant::SignedUrl,
        ]
        .into_iter()
        .find(|g| g.as_str() == s)
    }
}

impl AccessWho {
    /// The name on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessWho::Staff => "staff",
            AccessWho::Visitor => "visitor",
            AccessWho::Browser => "browser",
            AccessWho::Link => "link",
            AccessWho::Consumer => "consumer",
        }
    }
    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<AccessWho> {
        [AccessWho::Staff, AccessWho::Visitor, AccessWho::Browser, AccessWho::Link, AccessWho::Consumer]
            .into_iter()
            .find(|w| w.as_str() == s)
    }
}

impl AccessWhat {
    /// The name on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessWhat::File => "file",
            AccessWhat::Preview => "preview",
            AccessWhat::Export => "export",
        }
    }
    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<AccessWhat> {
        [AccessWhat::File, AccessWhat::Preview, AccessWhat::Export].into_iter().find(|w| w.as_str() == s)
    }
}

/// One opening of a file, a preview or a contact's ZIP, recorded once its bytes were all sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AccessRecord {
    /// The record's id.
    pub id: String,
    /// The attachment (none for a "Download all").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment_id: Option<AttachmentId>,
    /// Its file name (the ZIP's for a "Download all").
    pub file_name: String,
    /// File, preview or the contact's ZIP.
    pub what: AccessWhat,
    /// Who, by kind.
    pub who: AccessWho,
    /// The staff user, or the visitor's public id (never a cookie).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub who_id: Option<String>,
    /// A name to show: the user's display name, the customer's name, "a browser", "a link".
    pub who_name: String,
    /// The row of the access table that let them in.
    pub grant: AccessGrant,
    /// The client's address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// The byte range sent, `[start, end)`; absent for the whole file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(type = "[number, number] | null"))]
    pub range: Option<(u64, u64)>,
    /// Bytes sent.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub bytes: u64,
    /// When the last byte went out.
    pub at: DateTime<Utc>,
}

/// Filters of a contact's access records; all optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[serde(deny_unknown_fields)]
pub struct AccessFilter {
    /// Only this attachment's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<AttachmentId>,
    /// Only this kind of caller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub who: Option<AccessWho>,
    /// Only by this grant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant: Option<AccessGrant>,
}

/// Where an attachment stands, for a client that keeps copies (the console's cache).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum FileState {
    /// Its bytes are kept.
    Present,
    /// Redacted: copies must go.
    Redacted,
    /// Removed by file-only retention.
    Expired,
    /// No such file any more (its report expired), or not of the caller's account.
    Gone,
}

/// Most attachment ids one status request may name.
pub const MAX_STATUS_IDS: usize = 500;

/// Asks where attachments stand (`POST /api/attachments/status`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct FileStatusRequest {
    /// Up to 500 attachment ids.
    pub ids: Vec<AttachmentId>,
}

/// Where one attachment stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FileStatus {
    /// The attachment.
    pub id: AttachmentId,
    /// Its state.
    pub state: FileState,
}

/// Files and bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FileCount {
    /// How many files.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub files: u64,
    /// Their bytes.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub bytes: u64,
}

/// The account's storage, for admins.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StorageUsage {
    /// Attachments whose bytes are kept.
    pub stored: FileCount,
    /// Removed by file-only retention this calendar month (UTC).
    pub expired_this_month: FileCount,
    /// Redacted this calendar month (UTC).
    pub redacted_this_month: FileCount,
}

/// Reports > Attachments: a search across the contacts one may review; all filters optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[serde(deny_unknown_fields)]
pub struct AttachmentSearch {
    /// Part of the file name (case-insensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Media type, or its start (`image/`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// Sent by the agent or the customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender: Option<Sender>,
    /// Contacts of this agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<UserId>,
    /// Sent at or after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<DateTime<Utc>>,
    /// Sent before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<DateTime<Utc>>,
    /// Page, from 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    /// Rows per page (1 to 100, 25 by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_page: Option<u32>,
}

/// One file found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AttachmentHit {
    /// The attachment.
    pub attachment: crate::Attachment,
    /// Its contact.
    pub contact_id: ContactId,
    /// The contact's customer.
    pub customer_name: String,
    /// The contact's agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_name: Option<String>,
}

/// A page of files found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AttachmentPage {
    /// This page's files, newest first.
    pub items: Vec<AttachmentHit>,
    /// Files matching in all.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub total: u64,
    /// This page, from 1.
    pub page: u32,
    /// Rows per page.
    pub per_page: u32,
}
