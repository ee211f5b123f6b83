// The console page: sign-in, the live queue, one's contacts and the contact card.
// Every call goes through ./api (Tauri commands); the page itself never speaks HTTP.
import { api, asConsoleError } from "./api";
import type {
  ConnectionState,
  ConsoleError,
  ConsoleEvent,
  ContactView,
  MessageView,
  SessionView,
  Startup,
} from "./bindings/ipc";

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el as T;
};

type Screen = "loading" | "signin" | "console";

const state = {
  startup: null as Startup | null,
  session: null as SessionView | null,
  contacts: new Map<string, ContactView>(),
  messages: new Map<string, MessageView[]>(),
  unread: new Set<string>(),
  selected: null as string | null,
  connection: "connecting" as ConnectionState,
  sending: false,
};

const KEYRING_NOTICE = "No system keyring: you will need to sign in again next time.";

// ---------- screens ----------

function show(screen: Screen) {
  for (const s of ["loading", "signin", "console"] as Screen[]) {
    $(`screen-${s}`).hidden = s !== screen;
  }
  document.body.dataset.screen = screen;
}

function loading(text: string) {
  $("loading-text").textContent = text;
  show("loading");
}

function showSignIn(error?: ConsoleError) {
  const s = state.startup;
  const notice = $("signin-notice");
  notice.hidden = !s || s.keyring_available;
  notice.textContent = KEYRING_NOTICE;
  setSignInError(error ?? null);
  setBusy(false);
  show("signin");
  const username = $<HTMLInputElement>("signin-username");
  (username.value ? $<HTMLInputElement>("signin-password") : username).focus();
}

function setSignInError(error: ConsoleError | null) {
  const box = $("signin-error");
  box.hidden = !error;
  box.textContent = error ? error.message : "";
  box.dataset.code = error ? error.code : "";
}

function setBusy(busy: boolean) {
  const button = $<HTMLButtonElement>("signin-submit");
  button.disabled = busy;
  button.textContent = busy ? "Signing in…" : "Sign in";
}

// ---------- sign-in and session ----------

async function boot() {
  loading("Starting…");
  await api.onEvent(onEvent);
  const startup = await api.startup();
  state.startup = startup;
  $<HTMLInputElement>("signin-server").value = startup.server;
  $<HTMLInputElement>("signin-account").value = startup.account;
  $<HTMLInputElement>("signin-username").value = startup.username;
  if (!startup.has_stored_session) {
    showSignIn();
    return;
  }
  loading("Restoring your session…");
  try {
    const session = await api.restoreSession();
    if (session) await enterConsole(session);
    else showSignIn();
  } catch (e) {
    showSignIn(asConsoleError(e));
  }
}

async function submitSignIn(ev: Event) {
  ev.preventDefault();
  const value = (id: string) => $<HTMLInputElement>(id).value;
  const request = {
    server: value("signin-server").trim(),
    account: value("signin-account").trim(),
    username: value("signin-username").trim(),
    password: value("signin-password"),
  };
  if (!request.server || !request.account || !request.username || !request.password) {
    setSignInError({ code: "missing-fields", message: "Fill in the server address, account, user name and password." });
    return;
  }
  setBusy(true);
  setSignInError(null);
  try {
    const session = await api.signIn(request);
    $<HTMLInputElement>("signin-password").value = "";
    await enterConsole(session);
  } catch (e) {
    setBusy(false);
    setSignInError(asConsoleError(e));
    // Clear rather than select the rejected password: retyping is what comes next anyway.
    const password = $<HTMLInputElement>("signin-password");
    password.value = "";
    password.focus();
  }
}

async function enterConsole(session: SessionView) {
  state.session = session;
  state.contacts.clear();
  state.messages.clear();
  state.unread.clear();
  state.selected = null;
  $("me-name").textContent = session.display_name || session.username;
  $("me-role").textContent = session.role;
  const notice = $("console-notice");
  notice.hidden = session.remembered;
  notice.textContent = KEYRING_NOTICE;
  renderConnection();
  renderLists();
  renderCard();
  show("console");
  await refreshContacts();
}

async function signOut() {
  $<HTMLButtonElement>("signout").disabled = true;
  try {
    await api.signOut();
  } catch (e) {
    // The session is gone locally either way; say what failed with the keyring, if anything.
    leaveConsole(asConsoleError(e));
    return;
  } finally {
    $<HTMLButtonElement>("signout").disabled = false;
  }
  leaveConsole();
}

function leaveConsole(error?: ConsoleError) {
  state.session = null;
  state.connection = "connecting";
  state.selected = null;
  if (state.startup) state.startup.has_stored_session = false;
  showSignIn(error);
}

async function sessionExpired() {
  if (!state.session) return;
  try {
    await api.signOut();
  } catch {
    // Nothing more to clean up.
  }
  leaveConsole({ code: "session-expired", message: "Your session has ended. Please sign in again." });
}

/** Shows a command's failure where it belongs; a dead session goes back to sign-in. */
function handleError(e: unknown, where: "card" | "console" = "card") {
  const error = asConsoleError(e);
  if (error.code === "session-expired" || error.code === "not-signed-in") {
    void sessionExpired();
    return;
  }
  if (where === "card" && !$("card").hidden) {
    const box = $("card-error");
    box.textContent = error.message;
    box.hidden = false;
  } else {
    const notice = $("console-notice");
    notice.textContent = error.message;
    notice.hidden = false;
  }
}

// ---------- data ----------

async function refreshContacts() {
  try {
    const contacts = await api.listContacts();
    state.contacts.clear();
    for (const c of contacts) state.contacts.set(c.id, c);
    renderLists();
    if (state.selected) await loadMessages(state.selected);
    renderCard();
  } catch (e) {
    handleError(e, "console");
  }
}

async function loadMessages(contactId: string) {
  const messages = await api.listMessages(contactId);
  state.messages.set(contactId, messages);
}

function upsertContact(contact: ContactView) {
  state.contacts.set(contact.id, contact);
  renderLists();
  if (state.selected === contact.id) renderCard();
}

function addMessage(message: MessageView) {
  const list = state.messages.get(message.contact_id);
  if (list && !list.some((m) => m.id === message.id)) list.push(message);
  if (state.selected === message.contact_id) {
    renderTranscript();
  } else if (message.sender === "customer" && isMine(state.contacts.get(message.contact_id))) {
    state.unread.add(message.contact_id);
    renderLists();
  }
}

function isMine(c: ContactView | undefined): boolean {
  return !!c && !!state.session && c.agent_id === state.session.user_id;
}

function onEvent(event: ConsoleEvent) {
  if (event.type === "connection") {
    // Recorded even before enterConsole runs: the stream may be up before sign_in has returned.
    const wasOnline = state.connection === "online";
    state.connection = event.state;
    if (!state.session) return;
    renderConnection(event.detail);
    // Back online after a gap: reload what may have been missed.
    if (event.state === "online" && !wasOnline) void refreshContacts();
    return;
  }
  if (!state.session) return;
  switch (event.type) {
    case "contact_queued":
    case "contact_accepted":
    case "contact_closed":
      upsertContact(event.contact);
      break;
    case "message_created":
      addMessage(event.message);
      break;
    case "session_expired":
      void sessionExpired();
      break;
  }
}

// ---------- actions ----------

async function accept(contactId: string, button: HTMLButtonElement) {
  button.disabled = true;
  button.textContent = "Accepting…";
  try {
    const contact = await api.acceptContact(contactId);
    state.contacts.set(contact.id, contact);
    await select(contact.id);
  } catch (e) {
    const error = asConsoleError(e);
    if (error.code === "contact-not-queued") {
      handleError({ code: error.code, message: "A colleague already took this contact." }, "console");
      await refreshContacts();
    } else {
      handleError(error, "console");
      button.disabled = false;
      button.textContent = "Accept";
    }
  }
}

async function select(contactId: string) {
  state.selected = contactId;
  state.unread.delete(contactId);
  $("card-error").hidden = true;
  renderLists();
  renderCard();
  try {
    await loadMessages(contactId);
    if (state.selected === contactId) renderTranscript();
  } catch (e) {
    handleError(e);
  }
  $<HTMLTextAreaElement>("composer").focus();
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

// ---------- rendering ----------

function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  if (parts.length === 0) return "?";
  return (parts[0][0] + (parts.length > 1 ? parts[parts.length - 1][0] : "")).toUpperCase();
}

function customerName(c: ContactView): string {
  return c.customer_name.trim() || "Customer";
}

function time(iso: string | null): string {
  if (!iso) return "";
  const d = new Date(iso);
  return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function waitingFor(iso: string): string {
  const minutes = Math.floor((Date.now() - new Date(iso).getTime()) / 60000);
  if (minutes < 1) return "Waiting, just arrived";
  if (minutes < 60) return `Waiting ${minutes} min`;
  return `Waiting since ${time(iso)}`;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function contactRow(c: ContactView): HTMLLIElement {
  const li = el("li", "contact-item");
  li.dataset.contactId = c.id;
  li.append(el("span", "avatar", initials(customerName(c))));
  const text = el("div", "contact-text");
  text.append(el("div", "contact-name", customerName(c)));
  li.append(text);
  return li;
}

function renderLists() {
  const all = [...state.contacts.values()].sort((a, b) => a.created_at.localeCompare(b.created_at));
  const queue = all.filter((c) => c.state === "queued");
  const mine = all.filter((c) => c.state === "active" && isMine(c));
  // Keep the open card in the list while it is shown, even once closed.
  const selected = state.selected ? state.contacts.get(state.selected) : undefined;
  if (selected && selected.state === "closed" && isMine(selected)) mine.push(selected);

  const queueList = $("queue-list");
  queueList.replaceChildren(
    ...queue.map((c) => {
      const li = contactRow(c);
      li.querySelector(".contact-text")!.append(el("div", "contact-sub", waitingFor(c.created_at)));
      const button = el("button", "accept primary", "Accept");
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
      const sub = c.state === "closed" ? "Closed" : `Since ${time(c.accepted_at)}`;
      li.querySelector(".contact-text")!.append(el("div", "contact-sub", sub));
      if (state.unread.has(c.id)) li.append(el("span", "unread"));
      li.addEventListener("click", () => void select(c.id));
      return li;
    }),
  );
  $("mine-empty").hidden = mine.length > 0;
  $("mine-count").textContent = String(mine.filter((c) => c.state === "active").length);
}

function renderConnection(detail?: string | null) {
  const badge = $("conn-status");
  badge.dataset.state = state.connection;
  badge.textContent =
    state.connection === "online" ? "Online" : state.connection === "connecting" ? "Connecting…" : "Offline — reconnecting";
  badge.title = detail ?? "";
}

function renderCard() {
  const contact = state.selected ? state.contacts.get(state.selected) : undefined;
  $("card-placeholder").hidden = !!contact;
  $("card").hidden = !contact;
  if (!contact) return;
  $("card").dataset.contactId = contact.id;
  $("card-name").textContent = customerName(contact);
  const opened = `Opened ${time(contact.created_at)}`;
  $("card-meta").textContent = contact.agent_name ? `${opened} · with ${contact.agent_name}` : opened;
  const pill = $("card-state");
  pill.dataset.state = contact.state;
  pill.textContent = contact.state;
  const closed = contact.state === "closed";
  const mine = isMine(contact) && contact.state === "active";
  $("card-closed").hidden = !closed;
  $<HTMLButtonElement>("close-contact").hidden = closed;
  $<HTMLButtonElement>("close-contact").disabled = !mine;
  $("composer-form").hidden = closed;
  $<HTMLTextAreaElement>("composer").disabled = !mine;
  renderTranscript();
}

function renderTranscript() {
  const list = $("transcript");
  const messages = state.selected ? state.messages.get(state.selected) : undefined;
  if (!messages) {
    list.replaceChildren(el("li", "transcript-empty", "Loading the conversation…"));
    return;
  }
  if (messages.length === 0) {
    list.replaceChildren(el("li", "transcript-empty", "No messages yet."));
    return;
  }
  const stick = list.scrollHeight - list.scrollTop - list.clientHeight < 60;
  list.replaceChildren(
    ...messages.map((m) => {
      const li = el("li", `msg ${m.sender}`);
      li.dataset.messageId = m.id;
      li.append(el("div", "bubble", m.body));
      li.append(el("div", "meta", `${m.sender_name} · ${time(m.created_at)}`));
      return li;
    }),
  );
  if (stick || messages[messages.length - 1].sender === "agent") list.scrollTop = list.scrollHeight;
}

// ---------- wiring ----------

$("signin-form").addEventListener("submit", (e) => void submitSignIn(e));
$("signout").addEventListener("click", () => void signOut());
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
// Refresh the "waiting n min" labels.
setInterval(() => {
  if (state.session) renderLists();
}, 30000);

boot().catch((e) => {
  const error = asConsoleError(e);
  loading(`The console could not start: ${error.message}`);
});
