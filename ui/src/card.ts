// The contact card: header, transcript, the customer's uploads in progress, the composer, and
// closing the contact. Attachments inside the transcript are drawn by ./attachments.
import { api } from "./api";
import type { ConsoleEvent, Message } from "./bindings/ipc";
import { messageItem } from "./attachments";
import { $, el, handleError, time } from "./dom";
import { canSendTo, customerName, isMine, redraw, selectedContact, state, upsertContact } from "./state";
import { t } from "./i18n";

export async function loadMessages(contactId: string) {
  const messages = await api.listMessages(contactId);
  state.messages.set(contactId, messages);
}

/** Opens a contact's card. */
export async function select(contactId: string) {
  state.selected = contactId;
  state.unread.delete(contactId);
  $("card-error").hidden = true;
  redraw("lists", "card");
  try {
    await loadMessages(contactId);
    if (state.selected === contactId) redraw("transcript");
  } catch (e) {
    handleError(e);
  }
  $<HTMLTextAreaElement>("composer").focus();
}

/** A new message (event or command answer) joins its transcript, or marks the contact unread. */
export function addMessage(message: Message) {
  if (message.attachment && message.sender === "customer") {
    for (const [id, u] of state.incoming) {
      if (u.contactId === message.contact_id && u.name === message.attachment.name && !u.refused) state.incoming.delete(id);
    }
    redraw("incoming");
  }
  const list = state.messages.get(message.contact_id);
  // The same message may come twice (its event and a command's answer, or a resync): only a new
  // one redraws the transcript, so a preview under the agent's pointer or focus stays put.
  const fresh = !!list && !list.some((m) => m.id === message.id);
  if (fresh) list.push(message);
  if (state.selected === message.contact_id) {
    if (fresh) redraw("transcript");
  } else if (message.sender === "customer" && isMine(state.contacts.get(message.contact_id))) {
    state.unread.add(message.contact_id);
    redraw("lists");
  }
}

type IncomingEvent = Extract<ConsoleEvent, { type: "incoming_upload" | "incoming_upload_refused" }>;

/** How far a customer's upload got, or that the service refused it. */
export function onIncoming(event: IncomingEvent) {
  if (event.type === "incoming_upload") {
    state.incoming.set(event.upload_id, {
      contactId: event.contact_id, name: event.name, offset: event.offset, length: event.length, refused: null,
    });
    redraw("incoming");
    return;
  }
  const upload = { contactId: event.contact_id, name: event.name, offset: 0, length: 0, refused: event.message };
  state.incoming.set(event.upload_id, upload);
  redraw("incoming");
  // The refusal stays in view for a while, then goes.
  setTimeout(() => {
    if (state.incoming.get(event.upload_id) === upload) state.incoming.delete(event.upload_id);
    redraw("incoming");
  }, 15000);
}

async function send() {
  const contactId = state.selected;
  const composer = $<HTMLTextAreaElement>("composer");
  const body = composer.value;
  if (!contactId || !body.trim() || state.sending) return;
  state.sending = true;
  $<HTMLButtonElement>("send").disabled = true;
  $("card-error").hidden = true;
  try {
    const message = await api.sendMessage(contactId, body);
    if (composer.value === body) composer.value = "";
    addMessage(message);
  } catch (e) {
    handleError(e);
  } finally {
    state.sending = false;
    $<HTMLButtonElement>("send").disabled = false;
    composer.focus();
  }
}

async function closeSelected() {
  const contactId = state.selected;
  if (!contactId) return;
  const button = $<HTMLButtonElement>("close-contact");
  button.disabled = true;
  try {
    upsertContact(await api.closeContact(contactId));
  } catch (e) {
    handleError(e);
    button.disabled = false;
  }
}

export function renderCard() {
  const contact = selectedContact();
  $("card-placeholder").hidden = !!contact;
  $("card").hidden = !contact;
  if (!contact) return;
  $("card").dataset.contactId = contact.id;
  $("card-name").textContent = customerName(contact);
  const opened = t("card.opened", { time: time(contact.created_at) });
  $("card-meta").textContent = contact.agent_name ? `${opened} · with ${contact.agent_name}` : opened;
  const pill = $("card-state");
  pill.dataset.state = contact.state;
  pill.textContent = t(`state.${contact.state}`);
  const closed = contact.state === "closed";
  const mine = canSendTo(contact);
  $("card-closed").hidden = !closed;
  $<HTMLButtonElement>("close-contact").hidden = closed;
  $<HTMLButtonElement>("close-contact").disabled = !mine;
  $("composer-form").hidden = closed;
  $<HTMLButtonElement>("upload-button").disabled = !mine;
  $<HTMLTextAreaElement>("composer").disabled = !mine;
  renderTranscript();
}

export function renderIncoming() {
  const contact = selectedContact();
  const who = contact ? customerName(contact) : t("card.the-customer");
  const uploads = [...state.incoming.entries()].filter(([, u]) => u.contactId === state.selected);
  $("incoming-uploads").replaceChildren(
    ...uploads.map(([id, u]) => {
      const li = el("li", u.refused ? "incoming-item refused" : "incoming-item");
      li.dataset.uploadId = id;
      if (u.refused) {
        li.textContent = `${who}'s file ${u.name} was blocked: ${u.refused}`;
        return li;
      }
      const pct = u.length > 0 ? Math.floor((u.offset / u.length) * 100) : 0;
      const done = u.length > 0 && u.offset >= u.length;
      li.append(el("span", "incoming-text", done ? `${who} sent ${u.name}; checking it…` : `${who} is sending ${u.name}`));
      const bar = el("progress");
      bar.max = Math.max(u.length, 1);
      bar.value = u.offset;
      li.append(bar, el("span", "incoming-pct", `${pct}%`));
      return li;
    }),
  );
}

export function renderTranscript() {
  const list = $("transcript");
  const messages = state.selected ? state.messages.get(state.selected) : undefined;
  if (!messages) {
    list.replaceChildren(el("li", "transcript-empty", t("card.loading")));
    return;
  }
  if (messages.length === 0) {
    list.replaceChildren(el("li", "transcript-empty", t("card.no-messages")));
    return;
  }
  const stick = list.scrollHeight - list.scrollTop - list.clientHeight < 60;
  list.replaceChildren(...messages.map(messageItem));
  if (stick || messages[messages.length - 1].sender === "agent") list.scrollTop = list.scrollHeight;
}

export function wireCard() {
  $("close-contact").addEventListener("click", () => void closeSelected());
  $("composer-form").addEventListener("submit", (e) => {
    e.preventDefault();
    void send();
  });
  $<HTMLTextAreaElement>("composer").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      void send();
    }
  });
}
