// Sending a file to the open contact: the upload popup ("Choose file", description, OK, progress,
// cancel), and the two other ways in, files dropped on the window and a pasted file.
import { Channel } from "@tauri-apps/api/core";
import { api, asConsoleError } from "./api";
import { ErrorCode, type ConsoleError, type PickedFile, type UploadProgress } from "./bindings/ipc";
import { addMessage } from "./card";
import { $, formatSize, handleError, isSessionEnd } from "./dom";
import { canSendTo, customerName, selectedContact, state } from "./state";
import { t } from "./i18n";

function openUploadDialog(file: PickedFile | null = null) {
  const contact = selectedContact();
  if (!canSendTo(contact) || state.upload.key) return;
  state.upload.contactId = contact.id;
  state.upload.file = file;
  $<HTMLInputElement>("upload-description").value = "";
  $("upload-error").hidden = true;
  $("upload-progress-row").hidden = true;
  $("upload-title").textContent = t("upload.title.to", { name: customerName(contact) });
  renderUploadDialog();
  $("upload-dialog").hidden = false;
  (file ? $("upload-description") : $("upload-choose")).focus();
}

function renderUploadDialog() {
  const { file, key } = state.upload;
  const name = $("upload-file-name");
  name.textContent = file ? (file.size > 0 ? `${file.name} · ${formatSize(file.size)}` : file.name) : t("upload.none");
  name.dataset.name = file ? file.name : "";
  name.classList.toggle("muted", !file);
  name.title = file ? file.path : "";
  $<HTMLButtonElement>("upload-ok").disabled = !file || !!key;
  $<HTMLButtonElement>("upload-ok").textContent = key ? t("upload.sending") : t("upload.ok");
  $<HTMLButtonElement>("upload-choose").disabled = !!key;
  $<HTMLButtonElement>("upload-cancel").textContent = key ? t("upload.cancel-upload") : t("upload.cancel");
  $<HTMLInputElement>("upload-description").disabled = !!key;
  $("upload-dialog").dataset.busy = key ? "true" : "false";
}

/** Closes the popup; while a file is on its way only `force` (sign-out) does. */
export function closeUploadDialog(force = false) {
  if (state.upload.key && !force) return;
  state.upload = { contactId: null, file: null, key: null };
  $("upload-dialog").hidden = true;
}

/** The popup with this file chosen: opened for it, or the file swapped in. */
function offerFile(file: PickedFile) {
  if ($("upload-dialog").hidden) openUploadDialog(file);
  else {
    state.upload.file = file;
    renderUploadDialog();
  }
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
      showUploadError({ code: ErrorCode.Cancelled, message: t("upload.cancelled") });
    }
  } catch (e) {
    state.upload.key = null;
    $("upload-progress-row").hidden = true;
    renderUploadDialog();
    const error = asConsoleError(e);
    if (isSessionEnd(error)) {
      closeUploadDialog(true);
      handleError(error);
      return;
    }
    showUploadError({ code: error.code, message: t("upload.failed", { message: error.message }) });
  }
}

async function cancelUploadDialog() {
  if (state.upload.key) {
    await api.cancelUpload(state.upload.key).catch(() => {});
    return; // upload_file answers "cancelled"; the dialog says so.
  }
  closeUploadDialog();
}

/** Files dragged over the window: say where they would go. */
export function onFilesDragging(active: boolean) {
  const contact = selectedContact();
  const open = canSendTo(contact) && state.view === "contacts";
  $("drop-hint-text").textContent = open
    ? t("upload.drop", { name: customerName(contact) })
    : t("upload.drop.none");
  $("drop-hint").dataset.ok = String(open);
  $("drop-hint").hidden = !active;
}

/** Files dropped on the window: the first one goes into the popup. */
export function onFilesDropped(paths: string[]) {
  $("drop-hint").hidden = true;
  if (state.view !== "contacts") return;
  const path = paths[0];
  if (!path || state.upload.key) return;
  const name = path.split(/[\\/]/).pop() || path;
  offerFile({ path, name, size: 0 });
}

/** A file pasted into the card (e.g. a screenshot) opens the popup with it, like a chosen one. */
async function onPaste(e: ClipboardEvent) {
  const file = e.clipboardData?.files?.[0];
  if (!file) return; // Text pastes as usual.
  e.preventDefault();
  if (!canSendTo(selectedContact()) || state.upload.key) return;
  try {
    const ext = file.type.startsWith("image/") ? `.${file.type.slice(6).replace("jpeg", "jpg")}` : "";
    const name = file.name || `pasted${ext}`;
    offerFile(await api.stagePastedFile(name, new Uint8Array(await file.arrayBuffer())));
  } catch (err) {
    handleError(err);
  }
}

export function wireUpload() {
  $("upload-button").addEventListener("click", () => openUploadDialog());
  $("card").addEventListener("paste", (e) => void onPaste(e));
  $("upload-choose").addEventListener("click", () => void chooseFile());
  $("upload-form").addEventListener("submit", (e) => void startUpload(e));
  $("upload-cancel").addEventListener("click", () => void cancelUploadDialog());
  $("upload-dialog").addEventListener("click", (e) => {
    if (e.target === $("upload-dialog")) closeUploadDialog();
  });
}
