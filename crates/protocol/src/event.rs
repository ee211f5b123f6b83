//! The real-time events of the staff and visitor WebSockets.

use crate::{ApiError, AttachmentId, Contact, ContactId, Message, MessageId, Sender, Tombstone, UploadId};
use serde::{Deserialize, Serialize};

/// A real-time event, pushed over `/api/events` (staff) and `/api/visitor/events` (visitor).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
        #[cfg_attr(feature = "ts", ts(type = "number"))]
        offset: u64,
        /// Bytes announced.
        #[cfg_attr(feature = "ts", ts(type = "number"))]
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
        #[cfg_attr(feature = "ts", ts(type = "number"))]
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
    /// An attachment was redacted or removed by file-only retention: clients replace it with
    /// its tombstone and drop any copy they keep (sent to the contact's visitor and the staff).
    AttachmentRemoved {
        /// Its contact.
        contact_id: ContactId,
        /// Its transcript message.
        message_id: MessageId,
        /// The attachment.
        attachment_id: AttachmentId,
        /// Its SHA-256 (the key of content-addressed copies).
        sha256: String,
        /// Who, when, why.
        tombstone: Tombstone,
    },
}
