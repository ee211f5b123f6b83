// How files enter the upload popup: "Choose files" (the native dialog, several at once), files
// dropped on the window and pasted files. Each is listed with a thumbnail made on the Rust side;
// past the cap, and for folders or files that vanished, the popup says why in words.
import { api, asConsoleError } from "./api";
import { MAX_FILES_AT_ONCE, type Picked, type PickedFile } from "./bindings/ipc";
import { $, handleError } from "./dom";
import { canSendTo, customerName, selectedContact, state, type OutgoingFile } from "./state";
import { openUploadDialog, renderUploadDialog } from "./upload";
import { t } from "./i18n";

let nextId = 0;

/** Lists what came in (up to the cap), notes each refusal, and asks for the thumbnails. */
function addPicked(picked: Picked) {
  if (!openUploadDialog()) return;
  const upload = state.upload;
  upload.refused.push(...picked.refused.map((r) => r.message));
  const added: OutgoingFile[] = [];
  for (const file of picked.files) {
    if (upload.items.length >= MAX_FILES_AT_ONCE) {
      upload.refused.push(t("upload.over-cap", { name: file.name, max: MAX_FILES_AT_ONCE }));
      continue;
    }
    const item: OutgoingFile = {
      id: `f${nextId++}`, chosen: file, description: "", thumb: null, thumbError: null,
      status: "ready", sent: 0, total: file.size, message: null, code: null, smaller: null, key: null,
    };
    upload.items.push(item);
    added.push(item);
  }
  renderUploadDialog();
  const first = $("upload-files").querySelector<HTMLInputElement>(`[data-id="${added[0]?.id}"] .item-desc`);
  first?.focus();
  void thumbnails(added.filter((i) => i.chosen.image));
}

/** Thumbnails one after the other (the Rust side decodes at most two at once anyway). */
async function thumbnails(items: OutgoingFile[]) {
  for (const item of items) {
    try {
      item.thumb = await api.thumbnail(item.chosen.path);
    } catch (e) {
      item.thumbError = asConsoleError(e).message;
    }
    if (state.upload.items.includes(item)) renderUploadDialog();
  }
}

async function chooseFiles() {
  $("upload-error").hidden = true;
  try {
    const picked = await api.chooseFiles();
    if (picked.files.length || picked.refused.length) addPicked(picked);
  } catch (e) {
    const box = $("upload-error");
    box.textContent = asConsoleError(e).message;
    box.hidden = false;
  }
}

/** Files dragged over the window: say where they would go. */
export function onFilesDragging(active: boolean) {
  const contact = selectedContact();
  const open = canSendTo(contact) && state.view === "contacts";
  $("drop-hint-text").textContent = open ? t("upload.drop", { name: customerName(contact) }) : t("upload.drop.none");
  $("drop-hint").dataset.ok = String(open);
  $("drop-hint").hidden = !active;
}

/** Files dropped on the window go into the popup (a folder is refused there, in words). */
export async function onFilesDropped(paths: string[]) {
  $("drop-hint").hidden = true;
  if (state.view !== "contacts" || state.upload.sending || paths.length === 0) return;
  if (!canSendTo(selectedContact())) return;
  try {
    addPicked(await api.inspectFiles(paths));
  } catch (e) {
    handleError(e);
  }
}

/** Files pasted into the card (e.g. screenshots) go into the popup like chosen ones. */
async function onPaste(e: ClipboardEvent) {
  const files = [...(e.clipboardData?.files ?? [])];
  if (files.length === 0) return; // Text pastes as usual.
  e.preventDefault();
  if (!canSendTo(selectedContact()) || state.upload.sending) return;
  const picked: Picked = { files: [], refused: [] };
  for (const file of files) {
    if (picked.files.length >= MAX_FILES_AT_ONCE) {
      picked.refused.push({ name: file.name, message: t("upload.over-cap", { name: file.name, max: MAX_FILES_AT_ONCE }) });
      continue;
    }
    try {
      const ext = file.type.startsWith("image/") ? `.${file.type.slice(6).replace("jpeg", "jpg")}` : "";
      const staged: PickedFile = await api.stagePastedFile(file.name || `pasted${ext}`, new Uint8Array(await file.arrayBuffer()));
      picked.files.push(staged);
    } catch (err) {
      picked.refused.push({ name: file.name, message: asConsoleError(err).message });
    }
  }
  addPicked(picked);
}

export function wireIntake() {
  $("upload-button").addEventListener("click", () => openUploadDialog());
  $("upload-choose").addEventListener("click", () => void chooseFiles());
  $("card").addEventListener("paste", (e) => void onPaste(e));
  // A paste while the popup is open (it sits outside the card) adds to its list too.
  $("upload-dialog").addEventListener("paste", (e) => void onPaste(e));
}
