//! Files sent in a contact: the checked attachment and the state of a tus upload.

use crate::{ApiError, AttachmentId, ContactId, Message, Sender, UploadId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// (relative to the service), readable by the rules of the access table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
    #[cfg_attr(feature = "ts", ts(type = "number"))]
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
    /// Set when the file was redacted or removed by file-only retention: its bytes, preview and
    /// URLs are gone (they answer 410); name, size and SHA-256 stay for the record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed: Option<crate::Tombstone>,
}

/// Where a tus upload stands, as `GET /api/uploads/{id}` tells its uploader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UploadStatus {
    /// The upload's id.
    pub id: UploadId,
    /// The contact it is for.
    pub contact_id: ContactId,
    /// The file name.
    pub name: String,
    /// Bytes received so far.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub offset: u64,
    /// Bytes announced.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
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
