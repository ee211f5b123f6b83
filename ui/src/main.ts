// The console page: sign-in, the live queue, one's contacts and the contact card.
// Every call goes through ./api (Tauri commands); the page itself never speaks HTTP.
import { Channel } from "@tauri-apps/api/core";
import { api, asConsoleError } from "./api";
import type {
  AttachmentView,
  ConnectionState,
  ConsoleError,
  ConsoleEvent,
  ContactView,
  MessageView,
  PickedFile,
  SessionView,
  Startup,
  UploadProgress,
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
  view: "contacts" as "contacts" | "reports",
  /** The upload popup: its contact, the chosen file and, while sending, the upload's key. */
  upload: { contactId: null as string | null, file: null as PickedFile | null, key: null as string | null },
  /** Preview images as data: URLs, by preview URL. */
  previews: new Map<string, string>(),
  /** Agents seen in reports, for the filter. */
  agents: new Map<string, string>(),
  details: null as string | null,
  /** The customer's uploads in progress (or just refused), by upload id. */
  incoming: new Map<string, { contactId: string; name: string; offset: number; length: number; refused: string | null }>(),
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
  // Reports is the second view; without report rights there is nothing to switch to.
  $("views").hidden = !session.can_read_reports;
  $("nav-reports").hidden = !session.can_read_reports;
  showView("contacts");
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
  closeUploadDialog(true);
  closeLightbox();
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
  if (message.attachment && message.sender === "customer") {
    for (const [id, u] of state.incoming) {
      if (u.contactId === message.contact_id && u.name === message.attachment.name && !u.refused) state.incoming.delete(id);
    }
    renderIncoming();
  }
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
    case "incoming_upload":
      state.incoming.set(event.upload_id, {
        contactId: event.contact_id, name: event.name, offset: event.offset, length: event.length, refused: null,
      });
      renderIncoming();
      break;
    case "incoming_upload_refused": {
      const upload = { contactId: event.contact_id, name: event.name, offset: 0, length: 0, refused: event.message };
      state.incoming.set(event.upload_id, upload);
      renderIncoming();
      // The refusal stays in view for a while, then goes.
      setTimeout(() => {
        if (state.incoming.get(event.upload_id) === upload) state.incoming.delete(event.upload_id);
        renderIncoming();
      }, 15000);
      break;
    }
    case "files_dragging": {
      const contact = state.selected ? state.contacts.get(state.selected) : undefined;
      const open = !!contact && isMine(contact) && contact.state === "active" && state.view === "contacts";
      $("drop-hint-text").textContent = open
        ? `Drop the file to send it to ${customerName(contact!)}`
        : "Open one of your active contacts to send a file";
      $("drop-hint").dataset.ok = String(open);
      $("drop-hint").hidden = !event.active;
      break;
    }
    case "files_dropped":
      onFilesDropped(event.paths);
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
  $<HTMLButtonElement>("upload-button").disabled = !mine;
  $<HTMLTextAreaElement>("composer").disabled = !mine;
  renderTranscript();
}

function renderIncoming() {
  const contact = state.selected ? state.contacts.get(state.selected) : undefined;
  const who = contact ? customerName(contact) : "The customer";
  const uploads = [...state.incoming.entries()].filter(([, u]) => u.contactId === state.selected);
  $("incoming-uploads").replaceChildren(
    ...uploads.map(([id, u]) => {
      const li = el("li", u.refused ? "incoming-item refused" : "incoming-item");
      li.dataset.uploadId = id;
      if (u.refused) {
        li.textContent = `${who}'s file ${u.name} was not accepted: ${u.refused}`;
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
  list.replaceChildren(...messages.map(messageItem));
  if (stick || messages[messages.length - 1].sender === "agent") list.scrollTop = list.scrollHeight;
}

// ---------- attachments ----------

function messageItem(m: MessageView): HTMLLIElement {
  const li = el("li", `msg ${m.sender}`);
  li.dataset.messageId = m.id;
  if (m.attachment) li.append(attachmentBlock(m.attachment));
  else li.append(el("div", "bubble", m.body));
  li.append(el("div", "meta", `${m.sender_name} · ${time(m.created_at)}`));
  return li;
}

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

const FILE_ICON =
  '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M14 3H7a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2V8z M14 3v5h5" /></svg>';

/** An attachment: preview (images), description or name, size, and Save as… / Open. */
function attachmentBlock(a: AttachmentView): HTMLElement {
  const box = el("div", "attachment");
  box.dataset.attachmentId = a.id;
  if (a.preview_url) {
    const img = el("img", "preview");
    img.alt = a.description || a.name;
    img.title = "Click to enlarge";
    img.dataset.previewUrl = a.preview_url;
    if (a.width && a.height) img.style.aspectRatio = `${a.width} / ${a.height}`;
    img.tabIndex = 0;
    img.setAttribute("role", "button");
    img.addEventListener("click", () => void openLightbox(a));
    img.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        void openLightbox(a);
      }
    });
    box.append(img);
    void loadPreview(img, a.preview_url);
  }
  const row = el("div", "att-row");
  const icon = el("span", "att-icon");
  icon.innerHTML = FILE_ICON;
  const text = el("div", "att-text");
  text.append(el("div", "att-title", a.description || a.name));
  text.append(el("div", "att-sub", a.description ? `${a.name} · ${formatSize(a.size)}` : formatSize(a.size)));
  row.append(icon, text);
  box.append(row);
  const actions = el("div", "att-actions");
  const save = el("button", "download", "Save as…");
  save.type = "button";
  save.addEventListener("click", () => void saveAttachment(a, box));
  const open = el("button", "open", "Open");
  open.type = "button";
  open.addEventListener("click", () => void openAttachment(a, box));
  actions.append(save, open);
  box.append(actions);
  const status = el("div", "att-status");
  status.hidden = true;
  box.append(status);
  return box;
}

const previewsLoading = new Map<string, Promise<string>>();

async function loadPreview(img: HTMLImageElement, url: string) {
  const known = state.previews.get(url);
  if (known) {
    img.src = known;
    return;
  }
  try {
    // One fetch per preview, however many places show it at once.
    let pending = previewsLoading.get(url);
    if (!pending) {
      pending = api.attachmentPreview(url).finally(() => previewsLoading.delete(url));
      previewsLoading.set(url, pending);
    }
    const data = await pending;
    state.previews.set(url, data);
    img.src = data;
  } catch (e) {
    img.classList.add("broken");
    img.title = asConsoleError(e).message;
  }
}

function attachmentStatus(box: HTMLElement, text: string, error = false) {
  const status = box.querySelector<HTMLElement>(".att-status")!;
  status.textContent = text;
  status.classList.toggle("error-text", error);
  status.hidden = !text;
}

async function saveAttachment(a: AttachmentView, box: HTMLElement) {
  attachmentStatus(box, "Downloading…");
  try {
    const path = await api.saveAttachment(a.url, a.sha256, a.name);
    attachmentStatus(box, path ? `Saved to ${path}` : "");
  } catch (e) {
    attachmentStatus(box, asConsoleError(e).message, true);
  }
}

async function openAttachment(a: AttachmentView, box: HTMLElement) {
  attachmentStatus(box, "Opening…");
  try {
    await api.openAttachment(a.url, a.sha256, a.name);
    attachmentStatus(box, "Handed to the system's default application.");
  } catch (e) {
    attachmentStatus(box, asConsoleError(e).message, true);
  }
}

// ---------- lightbox ----------

let lightboxFor: string | null = null;

async function openLightbox(a: AttachmentView) {
  lightboxFor = a.id;
  const img = $<HTMLImageElement>("lightbox-image");
  const status = $("lightbox-status");
  img.alt = a.description || a.name;
  img.src = (a.preview_url && state.previews.get(a.preview_url)) || "";
  img.hidden = !img.src;
  status.textContent = "Loading the full picture…";
  $("lightbox").hidden = false;
  $("lightbox").dataset.attachmentId = a.id;
  $("lightbox").dataset.loaded = "false";
  try {
    const data = await api.attachmentImage(a.url, a.sha256, a.media_type);
    if (lightboxFor !== a.id) return;
    img.src = data;
    img.hidden = false;
    status.textContent = a.description || a.name;
    $("lightbox").dataset.loaded = "true";
  } catch (e) {
    if (lightboxFor === a.id) status.textContent = asConsoleError(e).message;
  }
}

function closeLightbox() {
  lightboxFor = null;
  $("lightbox").hidden = true;
  $<HTMLImageElement>("lightbox-image").src = "";
}

// ---------- upload popup ----------

function openUploadDialog(file: PickedFile | null = null) {
  const contact = state.selected ? state.contacts.get(state.selected) : undefined;
  if (!contact || !isMine(contact) || contact.state !== "active" || state.upload.key) return;
  state.upload.contactId = contact.id;
  state.upload.file = file;
  $<HTMLInputElement>("upload-description").value = "";
  $("upload-error").hidden = true;
  $("upload-progress-row").hidden = true;
  $("upload-title").textContent = `Send a file to ${customerName(contact)}`;
  renderUploadDialog();
  $("upload-dialog").hidden = false;
  (file ? $("upload-description") : $("upload-choose")).focus();
}

function renderUploadDialog() {
  const { file, key } = state.upload;
  const name = $("upload-file-name");
  name.textContent = file ? (file.size > 0 ? `${file.name} · ${formatSize(file.size)}` : file.name) : "No file chosen";
  name.dataset.name = file ? file.name : "";
  name.classList.toggle("muted", !file);
  name.title = file ? file.path : "";
  $<HTMLButtonElement>("upload-ok").disabled = !file || !!key;
  $<HTMLButtonElement>("upload-ok").textContent = key ? "Sending…" : "OK";
  $<HTMLButtonElement>("upload-choose").disabled = !!key;
  $<HTMLButtonElement>("upload-cancel").textContent = key ? "Cancel upload" : "Cancel";
  $<HTMLInputElement>("upload-description").disabled = !!key;
  $("upload-dialog").dataset.busy = key ? "true" : "false";
}

function closeUploadDialog(force = false) {
  if (state.upload.key && !force) return;
  state.upload = { contactId: null, file: null, key: null };
  $("upload-dialog").hidden = true;
}

async function chooseFile() {
  $("upload-error").hidden = true;
  try {
    const file = await api.chooseFile();
    if (file) state.upload.file = file;
    renderUploadDialog();
    if (file) $("upload-description").focus();
  } catch (e) {
    showUploadError(asConsoleError(e));
  }
}

function showUploadError(error: ConsoleError) {
  const box = $("upload-error");
  box.textContent = error.message;
  box.dataset.code = error.code;
  box.hidden = false;
}

function renderUploadProgress(sent: number, total: number) {
  $("upload-progress-row").hidden = false;
  const bar = $<HTMLProgressElement>("upload-progress");
  bar.max = Math.max(total, 1);
  bar.value = sent;
  const pct = total > 0 ? Math.floor((sent / total) * 100) : 0;
  $("upload-progress-text").textContent = `${pct}% · ${formatSize(sent)} of ${formatSize(total)}`;
}

async function startUpload(ev: Event) {
  ev.preventDefault();
  const { contactId, file } = state.upload;
  if (!contactId || !file || state.upload.key) return;
  const key = `up-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  state.upload.key = key;
  $("upload-error").hidden = true;
  renderUploadProgress(0, file.size);
  renderUploadDialog();
  const description = $<HTMLInputElement>("upload-description").value.trim();
  // This upload's progress comes over its own channel, and only while it runs.
  const progress = new Channel<UploadProgress>();
  progress.onmessage = (p) => {
    if (state.upload.key === key) renderUploadProgress(p.sent, p.total);
  };
  try {
    const result = await api.uploadFile(key, contactId, file.path, description || null, progress);
    state.upload.key = null;
    if (result.type === "sent") {
      addMessage(result.message);
      closeUploadDialog();
    } else {
      renderUploadDialog();
      $("upload-progress-row").hidden = true;
      showUploadError({ code: "cancelled", message: "Upload cancelled. Nothing was sent." });
    }
  } catch (e) {
    state.upload.key = null;
    $("upload-progress-row").hidden = true;
    renderUploadDialog();
    const error = asConsoleError(e);
    if (error.code === "session-expired" || error.code === "not-signed-in") {
      closeUploadDialog(true);
      handleError(error);
      return;
    }
    showUploadError({ code: error.code, message: `The file was not sent: ${error.message}` });
  }
}

async function cancelUploadDialog() {
  if (state.upload.key) {
    await api.cancelUpload(state.upload.key).catch(() => {});
    return; // upload_file answers "cancelled"; the dialog says so.
  }
  closeUploadDialog();
}

function onFilesDropped(paths: string[]) {
  $("drop-hint").hidden = true;
  if (state.view !== "contacts") return;
  const path = paths[0];
  if (!path || state.upload.key) return;
  const name = path.split(/[\\/]/).pop() || path;
  if ($("upload-dialog").hidden) openUploadDialog({ path, name, size: 0 });
  else {
    state.upload.file = { path, name, size: 0 };
    renderUploadDialog();
  }
}

/** A file pasted into the card (e.g. a screenshot) opens the popup with it, like a chosen one. */
async function onPaste(e: ClipboardEvent) {
  const file = e.clipboardData?.files?.[0];
  if (!file) return; // Text pastes as usual.
  e.preventDefault();
  const contact = state.selected ? state.contacts.get(state.selected) : undefined;
  if (!contact || !isMine(contact) || contact.state !== "active" || state.upload.key) return;
  try {
    const ext = file.type.startsWith("image/") ? `.${file.type.slice(6).replace("jpeg", "jpg")}` : "";
    const name = file.name || `pasted${ext}`;
    const picked = await api.stagePastedFile(name, new Uint8Array(await file.arrayBuffer()));
    if ($("upload-dialog").hidden) openUploadDialog(picked);
    else {
      state.upload.file = picked;
      renderUploadDialog();
    }
  } catch (err) {
    handleError(err);
  }
}

// ---------- reports ----------

function showView(view: "contacts" | "reports") {
  state.view = view;
  $("workspace").hidden = view !== "contacts";
  $("reports").hidden = view !== "reports";
  for (const b of document.querySelectorAll<HTMLButtonElement>(".nav-item")) {
    if (b.dataset.view === view) b.setAttribute("aria-current", "page");
    else b.removeAttribute("aria-current");
  }
  document.body.dataset.view = view;
  if (view === "reports") {
    $("details-view").hidden = true;
    $("reports-list-view").hidden = false;
    void loadReports();
  }
}

function dayStart(value: string, plusDays = 0): string | null {
  if (!value) return null;
  const d = new Date(`${value}T00:00:00`);
  d.setDate(d.getDate() + plusDays);
  return d.toISOString();
}

function date(iso: string | null): string {
  if (!iso) return "—";
  const d = new Date(iso);
  return `${d.toLocaleDateString([], { year: "numeric", month: "short", day: "numeric" })} ${time(iso)}`;
}

async function loadReports() {
  const errorBox = $("reports-error");
  errorBox.hidden = true;
  const query = {
    agent_id: $<HTMLSelectElement>("filter-agent").value || null,
    state: $<HTMLSelectElement>("filter-state").value || null,
    from: dayStart($<HTMLInputElement>("filter-from").value),
    to: dayStart($<HTMLInputElement>("filter-to").value, 1),
  };
  $("reports-rows").dataset.loading = "true";
  try {
    const contacts = await api.reportContacts(query);
    for (const c of contacts) if (c.agent_id) state.agents.set(c.agent_id, c.agent_name || c.agent_id);
    renderAgentFilter();
    $("reports-rows").replaceChildren(
      ...contacts.map((c) => {
        const tr = el("tr", "report-row");
        tr.dataset.contactId = c.id;
        const nameCell = el("td");
        const open = el("button", "link", customerName(c));
        open.type = "button";
        open.dataset.openContact = c.id;
        nameCell.append(open);
        tr.append(
          nameCell,
          el("td", "", c.agent_name ?? "—"),
          el("td", "", date(c.created_at)),
          el("td", "", date(c.closed_at)),
        );
        const stateCell = el("td");
        const pill = el("span", "state-pill", c.state);
        pill.dataset.state = c.state;
        stateCell.append(pill);
        tr.append(stateCell);
        tr.addEventListener("click", () => void openDetails(c.id));
        return tr;
      }),
    );
    $("reports-empty").hidden = contacts.length > 0;
  } catch (e) {
    const error = asConsoleError(e);
    if (error.code === "session-expired" || error.code === "not-signed-in") return handleError(error);
    $("reports-rows").replaceChildren();
    errorBox.textContent = error.message;
    errorBox.dataset.code = error.code;
    errorBox.hidden = false;
  } finally {
    $("reports-rows").dataset.loading = "false";
  }
}

function renderAgentFilter() {
  const select = $<HTMLSelectElement>("filter-agent");
  const current = select.value;
  const options = [...state.agents.entries()].sort((a, b) => a[1].localeCompare(b[1]));
  select.replaceChildren(
    new Option("All agents", ""),
    ...options.map(([id, name]) => new Option(name, id, false, id === current)),
  );
  select.value = current;
}

async function openDetails(contactId: string) {
  state.details = contactId;
  $("reports-error").hidden = true;
  try {
    const details = await api.reportContact(contactId);
    if (state.details !== contactId) return;
    const c = details.contact;
    $("details-view").dataset.contactId = c.id;
    $("details-name").textContent = customerName(c);
    $("details-meta").textContent = [
      `Opened ${date(c.created_at)}`,
      c.agent_name ? `agent ${c.agent_name}` : "not accepted",
      c.closed_at ? `closed ${date(c.closed_at)}` : c.state,
    ].join(" · ");
    const transcript = $("details-transcript");
    transcript.replaceChildren(...details.messages.map(messageItem));
    if (details.messages.length === 0) transcript.append(el("li", "transcript-empty", "No messages."));
    const files = details.messages.filter((m) => m.attachment);
    $("details-count").textContent = String(files.length);
    $("details-no-attachments").hidden = files.length > 0;
    $("details-attachments").replaceChildren(
      ...files.map((m) => {
        const a = m.attachment!;
        const li = el("li", "attachment-item");
        li.dataset.attachmentId = a.id;
        li.append(attachmentBlock(a));
        const who = a.sender === "agent" ? m.sender_name || "Agent" : m.sender_name || "Customer";
        li.append(el("div", "att-meta", `Sent by ${who} (${a.sender}) · ${date(a.created_at)}`));
        return li;
      }),
    );
    $("reports-list-view").hidden = true;
    $("details-view").hidden = false;
  } catch (e) {
    const error = asConsoleError(e);
    if (error.code === "session-expired" || error.code === "not-signed-in") return handleError(error);
    const box = $("reports-error");
    box.textContent = error.message;
    box.hidden = false;
  }
}

// ---------- wiring ----------
$("upload-button").addEventListener("click", () => openUploadDialog());
$("card").addEventListener("paste", (e) => void onPaste(e));
$("upload-choose").addEventListener("click", () => void chooseFile());
$("upload-form").addEventListener("submit", (e) => void startUpload(e));
$("upload-cancel").addEventListener("click", () => void cancelUploadDialog());
$("upload-dialog").addEventListener("click", (e) => {
  if (e.target === $("upload-dialog")) closeUploadDialog();
});
$("lightbox").addEventListener("click", (e) => {
  // Outside the picture (the dark area) closes; the picture itself does not.
  if (e.target !== $("lightbox-image")) closeLightbox();
});
$("lightbox-close").addEventListener("click", () => closeLightbox());
document.addEventListener("keydown", (e) => {
  if (e.key !== "Escape") return;
  if (!$("lightbox").hidden) closeLightbox();
  else if (!$("upload-dialog").hidden) closeUploadDialog();
});
$("nav-contacts").addEventListener("click", () => showView("contacts"));
$("nav-reports").addEventListener("click", () => showView("reports"));
$("reports-filter").addEventListener("submit", (e) => {
  e.preventDefault();
  void loadReports();
});
$("details-back").addEventListener("click", () => {
  state.details = null;
  $("details-view").hidden = true;
  $("reports-list-view").hidden = false;
});

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
