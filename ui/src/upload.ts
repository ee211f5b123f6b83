// The upload popup: its list of files (each with a thumbnail, name, size and its own description),
// sending them in order with per-file progress and cancel, and each refusal in the service's words
// beside its file without stopping the others. Files enter it through ./intake.
import { Channel } from "@tauri-apps/api/core";
import { api, asConsoleError } from "./api";
import { ErrorCode, MAX_FILES_AT_ONCE, type UploadProgress } from "./bindings/ipc";
import { addMessage } from "./card";
import { $, el, formatSize, handleError, isSessionEnd, trapFocus } from "./dom";
import { canSendTo, customerName, selectedContact, state, type OutgoingFile } from "./state";
import { t } from "./i18n";

const FILE_ICON =
  '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M14 3H7a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2V8z M14 3v5h5" /></svg>';

/** Longest side of a smaller copy. */
const SMALLER_SIDE = 2048;

/** Opens the popup for the open contact (if the agent may send to it). */
export function openUploadDialog(): boolean {
  const contact = selectedContact();
  if (!canSendTo(contact)) return false;
  if (!$("upload-dialog").hidden) return true;
  state.upload = { contactId: contact.id, items: [], sending: false, refused: [] };
  $("upload-error").hidden = true;
  $("upload-title").textContent = t("upload.title.to", { name: customerName(contact) });
  $("upload-hint").textContent = t("upload.hint", { max: MAX_FILES_AT_ONCE });
  try {
    $<HTMLSelectElement>("upload-smaller-over").value = localStorage.getItem("attache.smaller-over") ?? "2097152";
  } catch {
    // no storage: the default
  }
  renderUploadDialog();
  $("upload-dialog").hidden = false;
  $("upload-choose").focus();
  return true;
}

/** Closes the popup; while files are on their way only `force` (sign-out) does. */
export function closeUploadDialog(force = false) {
  if (state.upload.sending && !force) return;
  if (force) for (const item of state.upload.items) if (item.key) void api.cancelUpload(item.key).catch(() => {});
  state.upload = { contactId: null, items: [], sending: false, refused: [] };
  $("upload-dialog").hidden = true;
  $("upload-files").replaceChildren();
}

const pending = () => state.upload.items.filter((i) => i.status === "ready");

/** Whether this file would go as a smaller copy, with the popup's settings. */
function wantsSmaller(item: OutgoingFile): boolean {
  const over = Number($<HTMLSelectElement>("upload-smaller-over").value);
  return $<HTMLInputElement>("upload-smaller").checked && item.chosen.image && item.chosen.size > over && !item.thumbError;
}

export function renderUploadDialog() {
  const { items, sending, refused } = state.upload;
  const list = $("upload-files");
  // Rows are kept across redraws so that a description being typed keeps its focus.
  const rows = new Map([...list.children].map((li) => [(li as HTMLElement).dataset.id, li as HTMLLIElement]));
  list.replaceChildren(...items.map((item) => renderItem(item, rows.get(item.id))));
  const total = items.reduce((n, i) => n + i.chosen.size, 0);
  const summary = $("upload-summary");
  summary.textContent = items.length === 0 ? t("upload.none")
    : items.length === 1 ? `${items[0].chosen.name} · ${formatSize(total)}`
    : t("upload.count", { count: items.length, size: formatSize(total) });
  summary.classList.toggle("muted", items.length === 0);
  $("upload-refused").replaceChildren(...refused.map((words) => el("li", "", words)));
  $("upload-refused").hidden = refused.length === 0;
  $("upload-smaller-row").hidden = !items.some((i) => i.chosen.image && i.status === "ready");
  const ready = pending().length;
  const ok = $<HTMLButtonElement>("upload-ok");
  ok.disabled = sending || ready === 0;
  ok.textContent = sending ? t("upload.sending") : ready > 1 ? t("upload.ok.count", { count: ready }) : t("upload.ok");
  $<HTMLButtonElement>("upload-choose").disabled = sending || items.length >= MAX_FILES_AT_ONCE;
  $<HTMLInputElement>("upload-smaller").disabled = sending;
  $<HTMLSelectElement>("upload-smaller-over").disabled = sending;
  $("upload-cancel").textContent = sending ? t("upload.cancel-all") : t("upload.cancel");
  $("upload-dialog").dataset.busy = sending ? "true" : "false";
}

function renderItem(item: OutgoingFile, li = el("li", "upload-item")): HTMLLIElement {
  const name = item.chosen.name;
  if (!li.dataset.id) {
    li.dataset.id = item.id;
    li.dataset.name = name;
    const thumb = el("span", "item-thumb");
    const main = el("div", "item-main");
    const title = el("div", "item-title");
    const label = el("bdi", "item-name", name);
    label.title = item.chosen.path;
    title.append(label, el("span", "item-size", formatSize(item.chosen.size)));
    const desc = el("input", "item-desc");
    desc.maxLength = 500;
    desc.placeholder = t("upload.description.placeholder");
    desc.setAttribute("aria-label", t("upload.description.of", { name }));
    desc.addEventListener("input", () => (item.description = desc.value));
    const progress = el("progress", "item-progress");
    progress.setAttribute("aria-label", name);
    const status = el("div", "item-status");
    main.append(title, desc, progress, status);
    const remove = el("button", "item-remove icon-button small", "×");
    remove.type = "button";
    remove.setAttribute("aria-label", t("upload.remove", { name }));
    remove.title = t("upload.remove", { name });
    remove.addEventListener("click", () => removeItem(item));
    const cancel = el("button", "item-cancel", t("upload.cancel-one"));
    cancel.type = "button";
    cancel.setAttribute("aria-label", t("upload.cancel-one.label", { name }));
    cancel.addEventListener("click", () => item.key && void api.cancelUpload(item.key).catch(() => {}));
    li.append(thumb, main, remove, cancel);
  }
  li.dataset.status = item.status;
  const thumb = li.querySelector<HTMLElement>(".item-thumb")!;
  if (item.thumb && !thumb.querySelector("img")) {
    const img = el("img");
    img.alt = "";
    img.src = item.thumb;
    thumb.replaceChildren(img);
  } else if (!item.thumb && !thumb.firstChild) {
    thumb.innerHTML = FILE_ICON;
  }
  thumb.title = item.thumbError ? t("upload.thumb.none", { message: item.thumbError }) : "";
  const desc = li.querySelector<HTMLInputElement>(".item-desc")!;
  if (desc.value !== item.description) desc.value = item.description;
  desc.disabled = item.status !== "ready" || state.upload.sending;
  const progress = li.querySelector<HTMLProgressElement>(".item-progress")!;
  progress.hidden = item.status !== "sending" && item.status !== "sent";
  progress.max = Math.max(item.total, 1);
  progress.value = item.status === "sent" ? progress.max : item.sent;
  const status = li.querySelector<HTMLElement>(".item-status")!;
  status.textContent = statusWords(item);
  status.classList.toggle("error-text", item.status === "refused" || item.status === "cancelled");
  if (item.code) status.dataset.code = item.code;
  li.querySelector<HTMLButtonElement>(".item-remove")!.hidden = item.status !== "ready" || state.upload.sending;
  li.querySelector<HTMLButtonElement>(".item-cancel")!.hidden = item.status !== "sending";
  return li;
}

function statusWords(item: OutgoingFile): string {
  const smaller = item.smaller ? `${t("upload.smaller.note", { size: formatSize(item.smaller.size) })} · ` : "";
  switch (item.status) {
    case "ready":
      if (state.upload.sending) return t("upload.waiting");
      return item.thumbError ? t("upload.thumb.none", { message: item.thumbError }) : "";
    case "sending": {
      const pct = item.total > 0 ? Math.floor((item.sent / item.total) * 100) : 0;
      return smaller + t("upload.progress", { pct, sent: formatSize(item.sent), total: formatSize(item.total) });
    }
    case "sent":
      return smaller + t("upload.sent");
    case "cancelled":
      return t("upload.cancelled");
    case "refused":
      return t("upload.failed", { message: item.message ?? "" });
  }
}

function removeItem(item: OutgoingFile) {
  if (state.upload.sending) return;
  const index = state.upload.items.indexOf(item);
  state.upload.items = state.upload.items.filter((i) => i !== item);
  renderUploadDialog();
  const rows = $("upload-files").querySelectorAll<HTMLButtonElement>(".item-remove");
  (rows[Math.min(index, rows.length - 1)] ?? $("upload-choose")).focus();
}

/** Sends one file; its row shows how far it got and how it ended. */
async function sendOne(contactId: string, item: OutgoingFile): Promise<"go-on" | "stop"> {
  const key = `up-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  item.key = key;
  item.status = "sending";
  item.sent = 0;
  item.total = item.chosen.size;
  renderUploadDialog();
  try {
    let file = item.chosen;
    if (wantsSmaller(item)) {
      item.smaller = await api.smallerCopy(item.chosen.path, SMALLER_SIDE);
      file = item.smaller;
      item.total = file.size;
      renderUploadDialog();
    }
    const progress = new Channel<UploadProgress>();
    progress.onmessage = (p) => {
      if (item.key !== key) return;
      item.sent = p.sent;
      item.total = p.total;
      renderUploadDialog();
    };
    const result = await api.uploadFile(key, contactId, file.path, item.description.trim() || null, progress);
    if (result.type === "sent") {
      item.status = "sent";
      addMessage(result.message);
    } else {
      item.status = "cancelled";
      item.code = ErrorCode.Cancelled;
    }
    return "go-on";
  } catch (e) {
    const error = asConsoleError(e);
    item.status = "refused";
    item.message = error.message;
    item.code = error.code;
    return isSessionEnd(error) ? "stop" : "go-on";
  } finally {
    item.key = null;
    renderUploadDialog();
  }
}

async function sendAll(ev: Event) {
  ev.preventDefault();
  const { contactId } = state.upload;
  if (!contactId || state.upload.sending || pending().length === 0) return;
  state.upload.sending = true;
  $("upload-error").hidden = true;
  renderUploadDialog();
  let stop = false;
  for (const item of pending()) {
    if (!state.upload.sending) break; // "Stop sending"
    if ((await sendOne(contactId, item)) === "stop") {
      stop = true;
      break;
    }
  }
  state.upload.sending = false;
  const items = state.upload.items;
  if (stop) {
    closeUploadDialog(true);
    handleError({ code: ErrorCode.SessionExpired, message: "" });
    return;
  }
  for (const item of items) if (item.status === "ready") item.status = "cancelled";
  renderUploadDialog();
  const sent = items.filter((i) => i.status === "sent").length;
  if (sent === items.length) {
    closeUploadDialog();
    $<HTMLTextAreaElement>("composer").focus();
    return;
  }
  const box = $("upload-error");
  box.textContent = t("upload.done", { sent, total: items.length });
  box.hidden = false;
  $("upload-cancel").focus();
}

/** "Stop sending" stops the file on its way and the ones after it; else the popup closes. */
async function cancelUploadDialog() {
  if (!state.upload.sending) {
    closeUploadDialog();
    return;
  }
  state.upload.sending = false;
  for (const item of state.upload.items) {
    if (item.key) await api.cancelUpload(item.key).catch(() => {});
  }
}

export function wireUpload() {
  $("upload-form").addEventListener("submit", (e) => void sendAll(e));
  $("upload-cancel").addEventListener("click", () => void cancelUploadDialog());
  $("upload-smaller").addEventListener("change", () => renderUploadDialog());
  $("upload-smaller-over").addEventListener("change", () => {
    try {
      localStorage.setItem("attache.smaller-over", $<HTMLSelectElement>("upload-smaller-over").value);
    } catch {
      // no storage: this run only
    }
  });
  $("upload-dialog").addEventListener("click", (e) => {
    if (e.target === $("upload-dialog")) closeUploadDialog();
  });
  // Keyboard: Tab stays inside the popup while it is open.
  $("upload-dialog").addEventListener("keydown", (e) => trapFocus(e, $("upload-form")));
}
