// Typed calls into the Rust side. The shapes come from src/bindings/ipc.ts, generated from the
// Rust types; this file only names the commands and their arguments.
import { invoke, type Channel, type InvokeArgs, type InvokeOptions } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import {
  CONSOLE_EVENT,
  ErrorCode,
  type ConsoleError,
  type ConsoleEvent,
  type ContactDetails,
  type Contact,
  type PickedFile,
  type Picked,
  type ReportQuery,
  type UploadProgress,
  type UploadResult,
  type Message,
  type Redacted,
  type SessionView,
  type SignInRequest,
  type Startup,
  type AccessRecord,
  type Account,
  type AttachmentPage,
  type FileSearchQuery,
  type StorageUsage,
  type VerifyResult,
  type CacheInfo,
} from "./bindings/ipc";

/** Whatever a command rejected with, as the one IPC error shape. */
export function asConsoleError(e: unknown): ConsoleError {
  if (e && typeof e === "object" && "code" in e && "message" in e) {
    return e as ConsoleError;
  }
  return { code: ErrorCode.Internal, message: String(e) };
}

async function call<T>(command: string, args?: InvokeArgs, options?: InvokeOptions): Promise<T> {
  try {
    return await invoke<T>(command, args, options);
  } catch (e) {
    throw asConsoleError(e);
  }
}

export const api = {
  startup: () => call<Startup>("startup"),
  restoreSession: () => call<SessionView | null>("restore_session"),
  signIn: (request: SignInRequest) => call<SessionView>("sign_in", { request }),
  signOut: () => call<null>("sign_out"),
  listContacts: () => call<Array<Contact>>("list_contacts"),
  acceptContact: (contactId: string) => call<Contact>("accept_contact", { contactId }),
  closeContact: (contactId: string) => call<Contact>("close_contact", { contactId }),
  sendMessage: (contactId: string, body: string) => call<Message>("send_message", { contactId, body }),
  listMessages: (contactId: string) => call<Array<Message>>("list_messages", { contactId }),
  reportContacts: (query: ReportQuery) => call<Array<Contact>>("report_contacts", { query }),
  reportContact: (contactId: string) => call<ContactDetails>("report_contact", { contactId }),
  /** The native dialog (several files); empty when cancelled. */
  chooseFiles: () => call<Picked>("choose_files"),
  /** Files dropped on the window, looked at (folders and vanished files refused in words). */
  inspectFiles: (paths: string[]) => call<Picked>("inspect_files", { paths }),
  /** A chosen picture's thumbnail, made on the Rust side, as a data: URL. */
  thumbnail: (path: string) => call<string>("thumbnail", { path }),
  /** A smaller JPEG copy of a photo (longest side `maxSide`), to send instead. */
  smallerCopy: (path: string, maxSide: number) => call<PickedFile>("smaller_copy", { path, maxSide }),
  /** A pasted file: its bytes go as the raw body, not as JSON. */
  stagePastedFile: (name: string, bytes: Uint8Array) => {
    const headers = { "x-file-name": encodeURIComponent(name) };
    return call<PickedFile>("stage_pasted_file", bytes, { headers });
  },
  /** Progress of this upload comes over `onProgress`, a channel of its own. */
  uploadFile: (
    uploadKey: string,
    contactId: string,
    path: string,
    description: string | null,
    onProgress: Channel<UploadProgress>,
  ) => call<UploadResult>("upload_file", { uploadKey, contactId, path, description, onProgress }),
  cancelUpload: (uploadKey: string) => call<null>("cancel_upload", { uploadKey }),
  attachmentPreview: (previewUrl: string, sha256: string) =>
    call<string>("attachment_preview", { previewUrl, sha256 }),
  /** Brings a picture into the local cache; answers the SHA-256 the attache-cache: scheme serves it by. */
  cacheImage: (url: string, sha256: string, mediaType: string) =>
    call<string>("cache_image", { url, sha256, mediaType }),
  /** The gallery closed: its picture is no longer kept from eviction. */
  releaseImage: () => call<null>("release_image"),
  /** The local cache's space used and limit; setting the limit applies it at once. */
  cacheInfo: () => call<CacheInfo>("cache_info"),
  setCacheLimit: (limitBytes: number) => call<CacheInfo>("set_cache_limit", { limitBytes }),
  clearCache: () => call<CacheInfo>("clear_cache"),
  openAttachment: (url: string, sha256: string, name: string) => call<string>("open_attachment", { url, sha256, name }),
  saveAttachment: (url: string, sha256: string, name: string) =>
    call<string | null>("save_attachment", { url, sha256, name }),
  accessRecords: (contactId: string) => call<Array<AccessRecord>>("access_records", { contactId }),
  verifyAttachment: (url: string, sha256: string, size: number) =>
    call<VerifyResult>("verify_attachment", { url, sha256, size }),
  redactAttachment: (attachmentId: string, reason: string) =>
    call<Redacted>("redact_attachment", { attachmentId, reason }),
  /** Progress of the ZIP comes over `onProgress`, a channel of its own. */
  exportContact: (contactId: string, suggestedName: string, onProgress: Channel<UploadProgress>) =>
    call<string | null>("export_contact", { contactId, suggestedName, onProgress }),
  searchAttachments: (query: FileSearchQuery) => call<AttachmentPage>("search_attachments", { query }),
  storageUsage: () => call<StorageUsage>("storage_usage"),
  accountPlan: () => call<Account>("account_plan"),
  setFileRetention: (days: number) => call<Account>("set_file_retention", { days }),
  cachedFile: (attachmentId: string, sha256: string) =>
    call<string | null>("cached_file", { attachmentId, sha256 }),
  onEvent: (handler: (event: ConsoleEvent) => void): Promise<UnlistenFn> =>
    listen<ConsoleEvent>(CONSOLE_EVENT, (e) => handler(e.payload)),
};
