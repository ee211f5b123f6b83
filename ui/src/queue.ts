// The sidebar: the live queue with its Accept buttons, one's own contacts, the connection badge,
// and reloading contacts from the service.
import { api, asConsoleError } from "./api";
import { ErrorCode, type Contact } from "./bindings/ipc";
import { select, loadMessages } from "./card";
import { $, el, handleError, initials, time } from "./dom";
import { customerName, isMine, redraw, selectedContact, state } from "./state";
import { t } from "./i18n";

/** Reloads the queue and one's contacts (and the open transcript). */
export async function refreshContacts() {
  try {
    const contacts = await api.listContacts();
    state.contacts.clear();
    for (const c of contacts) state.contacts.set(c.id, c);
    redraw("lists");
    if (state.selected) await loadMessages(state.selected);
    redraw("card");
  } catch (e) {
    handleError(e, "console");
  }
}

async function accept(contactId: string, button: HTMLButtonElement) {
  button.disabled = true;
  button.textContent = t("queue.accepting");
  try {
    const contact = await api.acceptContact(contactId);
    state.contacts.set(contact.id, contact);
    await select(contact.id);
  } catch (e) {
    const error = asConsoleError(e);
    if (error.code === ErrorCode.ContactNotQueued) {
      handleError({ code: error.code, message: t("queue.taken") }, "console");
      await refreshContacts();
    } else {
      handleError(error, "console");
      button.disabled = false;
      button.textContent = t("queue.accept");
    }
  }
}

function waitingFor(iso: string): string {
  const minutes = Math.floor((Date.now() - new Date(iso).getTime()) / 60000);
  if (minutes < 1) return t("queue.just-arrived");
  if (minutes < 60) return t("queue.waiting-min", { minutes });
  return t("queue.waiting-since", { time: time(iso) });
}

function contactRow(c: Contact): HTMLLIElement {
  const li = el("li", "contact-item");
  li.dataset.contactId = c.id;
  li.append(el("span", "avatar", initials(customerName(c))));
  const text = el("div", "contact-text");
  text.append(el("div", "contact-name", customerName(c)));
  li.append(text);
  return li;
}

const SVG = "http://www.w3.org/2000/svg";
const PAPERCLIP =
  "M16.5 6v11.5a4 4 0 0 1-8 0V5a2.5 2.5 0 0 1 5 0v10.5a1 1 0 0 1-2 0V6H10v9.5a2.5 2.5 0 0 0 5 0V5a4 4 0 0 0-8 0v12.5a5.5 5.5 0 0 0 11 0V6h-1.5z";

/** A paperclip with how many files a waiting customer attached (no names until accepted). */
function filesWaiting(count: number): HTMLSpanElement {
  const badge = el("span", "files-waiting");
  const words = count === 1 ? "1 file waiting" : `${count} files waiting`;
  badge.title = words;
  badge.setAttribute("aria-label", words);
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", PAPERCLIP);
  svg.append(path);
  badge.append(svg, el("span", "files-count", String(count)));
  return badge;
}

export function renderLists() {
  const all = [...state.contacts.values()].sort((a, b) => a.created_at.localeCompare(b.created_at));
  const queue = all.filter((c) => c.state === "queued");
  const mine = all.filter((c) => c.state === "active" && isMine(c));
  // Keep the open card in the list while it is shown, even once closed.
  const selected = selectedContact();
  if (selected && selected.state === "closed" && isMine(selected)) mine.push(selected);

  const queueList = $("queue-list");
  queueList.replaceChildren(
    ...queue.map((c) => {
      const li = contactRow(c);
      // The sub-line: how long they wait, and a paperclip with how many files they attached.
      const sub = el("div", "contact-sub queue-sub");
      sub.append(el("span", "waiting", waitingFor(c.created_at)));
      if (c.files > 0) sub.append(filesWaiting(c.files));
      li.querySelector(".contact-text")!.append(sub);
      const button = el("button", "accept primary", t("queue.accept"));
      button.type = "button";
      button.dataset.accept = c.id;
      button.addEventListener("click", () => void accept(c.id, button));
      li.append(button);
      return li;
    }),
  );
  $("queue-empty").hidden = queue.length > 0;
  const queueCount = $("queue-count");
  queueCount.textContent = String(queue.length);
  queueCount.classList.toggle("hot", queue.length > 0);

  const mineList = $("mine-list");
  mineList.replaceChildren(
    ...mine.map((c) => {
      const li = contactRow(c);
      li.classList.add("selectable");
      li.classList.toggle("selected", c.id === state.selected);
      const sub = c.state === "closed" ? t("mine.closed") : t("mine.since", { time: time(c.accepted_at) });
      li.querySelector(".contact-text")!.append(el("div", "contact-sub", sub));
      if (state.unread.has(c.id)) li.append(el("span", "unread"));
      li.addEventListener("click", () => void select(c.id));
      return li;
    }),
  );
  $("mine-empty").hidden = mine.length > 0;
  $("mine-count").textContent = String(mine.filter((c) => c.state === "active").length);
}

export function renderConnection(detail?: string | null) {
  const badge = $("conn-status");
  badge.dataset.state = state.connection;
  badge.textContent =
    state.connection === "online" ? t("conn.online") : state.connection === "connecting" ? t("conn.connecting") : t("conn.offline");
  badge.title = detail ?? "";
}

/** Keeps the "waiting n min" labels current. */
export function wireQueue() {
  setInterval(() => {
    if (state.session) redraw("lists");
  }, 30000);
}
