// Generated from src-tauri/src/view.rs and error.rs by ts-rs; do not edit.
// Regenerate: UPDATE_BINDINGS=1 cargo test -p attache-console --test console_bindings

export type ConsoleError = { 
/**
 * Stable code: `bad-credentials`, `unreachable`, `session-expired`, `not-signed-in`,
 * `invalid-server-url`, `keyring-unavailable`, `keyring-error`, or a service code such as
 * `contact-not-queued`.
 */
code: string, 
/**
 * What happened, in words for the agent.
 */
message: string, };

export type SignInRequest = { 
/**
 * Service address, e.g. `http://127.0.0.1:8080`.
 */
server: string, 
/**
 * Account name, e.g. `acme`.
 */
account: string, 
/**
 * User name.
 */
username: string, 
/**
 * Password; used once, never stored.
 */
password: string, };

export type Startup = { 
/**
 * Server address to prefill: the stored session's, else `ATTACHE_SERVER`, else the default.
 */
server: string, 
/**
 * Account to prefill.
 */
account: string, 
/**
 * User name to prefill (the stored session's).
 */
username: string, 
/**
 * Whether a session is kept in the OS keyring and can be restored.
 */
has_stored_session: boolean, 
/**
 * Whether the OS keyring works; when not, sessions last for this run only.
 */
keyring_available: boolean, };

export type RoleView = "agent" | "supervisor" | "admin";

export type SessionView = { 
/**
 * Service address.
 */
server: string, 
/**
 * Account name.
 */
account: string, 
/**
 * User id (to tell one's own contacts from colleagues').
 */
user_id: string, 
/**
 * User name.
 */
username: string, 
/**
 * Name shown to others.
 */
display_name: string, 
/**
 * Role.
 */
role: RoleView, 
/**
 * Whether the session was kept in the OS keyring (false: this run only).
 */
remembered: boolean, 
/**
 * Whether the user may read contact reports (the `reports` permission, admins, supervisors);
 * the service decides in the end.
 */
can_read_reports: boolean, };

export type ContactStateView = "queued" | "active" | "closed";

export type ContactView = { 
/**
 * Contact id.
 */
id: string, 
/**
 * State.
 */
state: ContactStateView, 
/**
 * Name the customer gave (may be empty).
 */
customer_name: string, 
/**
 * Id of the agent who accepted it.
 */
agent_id: string | null, 
/**
 * That agent's name.
 */
agent_name: string | null, 
/**
 * When the customer opened it (RFC 3339).
 */
created_at: string, 
/**
 * When it was accepted.
 */
accepted_at: string | null, 
/**
 * When it was closed.
 */
closed_at: string | null, 
/**
 * Who closed it.
 */
closed_by: SenderView | null, 
/**
 * How many files it holds (of a queued contact, the count is all the staff see).
 */
files: number, };

export type SenderView = "agent" | "customer";

export type MessageView = { 
/**
 * Message id.
 */
id: string, 
/**
 * Its contact.
 */
contact_id: string, 
/**
 * Who wrote it.
 */
sender: SenderView, 
/**
 * The writer's shown name.
 */
sender_name: string, 
/**
 * The text.
 */
body: string, 
/**
 * When (RFC 3339).
 */
created_at: string, 
/**
 * The file, for an attachment message.
 */
attachment: AttachmentView | null, };

export type AttachmentView = { 
/**
 * Attachment id.
 */
id: string, 
/**
 * File name as the sender gave it.
 */
name: string, 
/**
 * The sender's description, if any.
 */
description: string | null, 
/**
 * Size in bytes.
 */
size: number, 
/**
 * Media type sniffed from the bytes.
 */
media_type: string, 
/**
 * SHA-256 of the bytes (the cache key).
 */
sha256: string, 
/**
 * Path of the file at the service.
 */
url: string, 
/**
 * Path of the preview (images only).
 */
preview_url: string | null, 
/**
 * Image width (images only).
 */
width: number | null, 
/**
 * Image height (images only).
 */
height: number | null, 
/**
 * Who sent it.
 */
sender: SenderView, 
/**
 * When it became available (RFC 3339).
 */
created_at: string, 
/**
 * The admin who released it after the scanner gave no verdict; absent when every check
 * passed.
 */
released_by: string | null, 
/**
 * When it was released (RFC 3339).
 */
released_at: string | null, 
/**
 * Location and camera data were removed from the photo.
 */
metadata_removed: boolean, };

export type PickedFile = { 
/**
 * Full path on this machine.
 */
path: string, 
/**
 * Its file name, shown beside "Choose file".
 */
name: string, 
/**
 * Its size in bytes.
 */
size: number, };

export type UploadResult = { "type": "sent", 
/**
 * The attachment message.
 */
message: MessageView, } | { "type": "cancelled", 
/**
 * Bytes the service had.
 */
sent: number, };

export type UploadProgress = { 
/**
 * Confirmed bytes.
 */
sent: number, 
/**
 * File size.
 */
total: number, };

export type ReportQuery = { 
/**
 * Only contacts handled by this agent (user id).
 */
agent_id: string | null, 
/**
 * Only contacts in this state (`queued`, `active`, `closed`).
 */
state: string | null, 
/**
 * Opened at or after this time (RFC 3339).
 */
from: string | null, 
/**
 * Opened before this time (RFC 3339).
 */
to: string | null, };

export type BlockedFileView = { 
/**
 * Its upload.
 */
upload_id: string, 
/**
 * File name as the sender gave it.
 */
name: string, 
/**
 * Who sent it.
 */
sender: SenderView, 
/**
 * Size in bytes.
 */
size: number, 
/**
 * Why, in the service's words.
 */
reason: string, 
/**
 * An admin may release it (the scanner gave no verdict).
 */
releasable: boolean, 
/**
 * When it was sent (RFC 3339).
 */
created_at: string, };

export type ContactDetailsView = { 
/**
 * The contact.
 */
contact: ContactView, 
/**
 * Its transcript, oldest first, attachments included.
 */
messages: Array<MessageView>, 
/**
 * Files the checks blocked, never delivered.
 */
blocked: Array<BlockedFileView>, };

export type ConnectionState = "connecting" | "online" | "offline";

export type ConsoleEvent = { "type": "connection", 
/**
 * New state.
 */
state: ConnectionState, 
/**
 * Why, when offline.
 */
detail: string | null, } | { "type": "contact_queued", 
/**
 * The contact.
 */
contact: ContactView, } | { "type": "contact_accepted", 
/**
 * The contact.
 */
contact: ContactView, } | { "type": "contact_closed", 
/**
 * The contact.
 */
contact: ContactView, } | { "type": "message_created", 
/**
 * The message (boxed: it is by far the largest event).
 */
message: MessageView, } | { "type": "incoming_upload", 
/**
 * The upload.
 */
upload_id: string, 
/**
 * Its contact.
 */
contact_id: string, 
/**
 * The file name.
 */
name: string, 
/**
 * Bytes received so far.
 */
offset: number, 
/**
 * Bytes announced.
 */
length: number, } | { "type": "incoming_upload_refused", 
/**
 * The upload.
 */
upload_id: string, 
/**
 * Its contact.
 */
contact_id: string, 
/**
 * The file name.
 */
name: string, 
/**
 * Why, in the service's words.
 */
message: string, } | { "type": "files_dragging", 
/**
 * Whether they are over the window.
 */
active: boolean, } | { "type": "files_dropped", 
/**
 * The dropped files.
 */
paths: Array<string>, } | { "type": "session_expired" };

export const CONSOLE_EVENT = "console-event";
