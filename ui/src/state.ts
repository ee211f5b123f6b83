// The page's one state and the questions asked of it. Features change `state`, then ask for the
// parts of the page that show it to be drawn again with `redraw`; main.ts registers who draws
// which part, so features do not import each other to refresh the page.
import type { ConnectionState, Contact, ErrorCode, Message, PickedFile, SessionView, Startup } from "./bindings/ipc";
import { t } from "./i18n";

/** A customer's upload in progress (or just refused), as the card shows it. */
export type IncomingUpload = {
  contactId: string;
  name: string;
  offset: number;
  length: number;
  refused: string | null;
};

export type View = "contacts" | "reports";

/** One file in the upload popup: as chosen, what is sent (a smaller copy, maybe), and how it went. */
export type OutgoingFile = {
  id: string;
  chosen: PickedFile;
  description: string;
  thumb: string | null;
  thumbError: string | null;
  status: "ready" | "sending" | "sent" | "refused" | "cancelled";
  sent: number;
  total: number;
  /** The service's (or the console's) words when it was not sent. */
  message: string | null;
  code: ErrorCode | null;
  /** The smaller copy that went instead of the original. */
  smaller: PickedFile | null;
  /** While sending: the key `cancel_upload` stops it by. */
  key: string | null;
};

export const state = {
  startup: null as Startup | null,
  session: null as SessionView | null,
  contacts: new Map<string, Contact>(),
  messages: new Map<string, Message[]>(),
  unread: new Set<string>(),
  selected: null as string | null,
  connection: "connecting" as ConnectionState,
  sending: false,
  view: "contacts" as View,
  /** The upload popup: its contact, its files in order, whether they are being sent, and the
   * files that could not be listed (a folder, one too many), in words. */
  upload: {
    contactId: null as string | null,
    items: [] as OutgoingFile[],
    sending: false,
    refused: [] as string[],
  },
  /** Preview images as data: URLs, by preview URL. */
  previews: new Map<string, string>(),
  /** Agents seen in reports, for the filter. */
  agents: new Map<string, string>(),
  details: null as string | null,
  /** The customer's uploads in progress (or just refused), by upload id. */
  incoming: new Map<string, IncomingUpload>(),
};

export const keyringNotice = () => t("signin.no-keyring");

// ---------- selectors ----------

/** The contact whose card is open. */
export function selectedContact(): Contact | undefined {
  return state.selected ? state.contacts.get(state.selected) : undefined;
}

/** Whether the signed-in agent handles this contact. */
export function isMine(c: Contact | undefined): c is Contact {
  return !!c && !!state.session && c.agent_id === state.session.user_id;
}

/** Whether the agent may write and send files to this contact now. */
export function canSendTo(c: Contact | undefined): c is Contact {
  return isMine(c) && c.state === "active";
}

export function customerName(c: Contact): string {
  return c.customer_name.trim() || t("customer");
}

// ---------- redrawing ----------

/** The parts of the page drawn from `state`. */
export type Part = "lists" | "card" | "transcript" | "incoming" | "connection";

const drawers = new Map<Part, () => void>();

/** Says which function draws a part (main.ts, once, at boot). */
export function drawWith(part: Part, draw: () => void) {
  drawers.set(part, draw);
}

/** Draws parts of the page again after `state` changed, in the order given. */
export function redraw(...parts: Part[]) {
  for (const part of parts) drawers.get(part)?.();
}

/** A contact changed (an event or a command's answer): keep it and redraw where it shows. */
export function upsertContact(contact: Contact) {
  state.contacts.set(contact.id, contact);
  redraw("lists");
  if (state.selected === contact.id) redraw("card");
}
