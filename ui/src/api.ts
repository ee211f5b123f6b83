// Typed calls into the Rust side. The shapes come from src/bindings/ipc.ts, generated from the
// Rust types; this file only names the commands and their arguments.
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import {
  CONSOLE_EVENT,
  type ConsoleError,
  type ConsoleEvent,
  type ContactView,
  type MessageView,
  type SessionView,
  type SignInRequest,
  type Startup,
} from "./bindings/ipc";

/** Whatever a command rejected with, as the one IPC error shape. */
export function asConsoleError(e: unknown): ConsoleError {
  if (e && typeof e === "object" && "code" in e && "message" in e) {
    return e as ConsoleError;
  }
  return { code: "internal", message: String(e) };
}

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (e) {
    throw asConsoleError(e);
  }
}

export const api = {
  startup: () => call<Startup>("startup"),
  restoreSession: () => call<SessionView | null>("restore_session"),
  signIn: (request: SignInRequest) => call<SessionView>("sign_in", { request }),
  signOut: () => call<null>("sign_out"),
  listContacts: () => call<Array<ContactView>>("list_contacts"),
  acceptContact: (contactId: string) => call<ContactView>("accept_contact", { contactId }),
  closeContact: (contactId: string) => call<ContactView>("close_contact", { contactId }),
  sendMessage: (contactId: string, body: string) => call<MessageView>("send_message", { contactId, body }),
  listMessages: (contactId: string) => call<Array<MessageView>>("list_messages", { contactId }),
  onEvent: (handler: (event: ConsoleEvent) => void): Promise<UnlistenFn> =>
    listen<ConsoleEvent>(CONSOLE_EVENT, (e) => handler(e.payload)),
};
