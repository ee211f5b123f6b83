// Messages with their attachments, as the card's transcript and the reports' details show them:
// previews (fetched once each), Save as… and Open; a preview opens the gallery (./gallery).
import { api, asConsoleError } from "./api";
import type { Attachment, Message } from "./bindings/ipc";
import { el, formatSize, time } from "./dom";
import { openGallery } from "./gallery";
import { state } from "./state";
import { t } from "./i18n";
import { tombstoneBlock } from "./review";

/** An attachment as drawn, with who sent it (the gallery shows it). */
export type Shown = { attachment: Attachment; who: string };

/** Every attachment drawn, by id: the gallery finds its neighbours' data here. */
export const shown = new Map<string, Shown>();

/** Whether the gallery shows this file: whatever has a preview (pictures, a PDF's first page);
 * never SVG. */
export const isPicture = (a: Attachment) => !!a.preview_url && !a.media_type.includes("svg");

/** Types the console's web view draws itself, whole; for the others (HEIC, TIFF, PDF) the gallery
 * shows the service's preview. */
export const drawnWhole = (a: Attachment) =>
  ["image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp"].includes(a.media_type);

const FILE_ICON =
  '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M14 3H7a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2V8z M14 3v5h5" /></svg>';

/** One transcript line: text in a bubble, or the attachment. */
export function messageItem(m: Message): HTMLLIElement {
  const li = el("li", `msg ${m.sender}`);
  li.dataset.messageId = m.id;
  if (m.attachment?.removed) li.append(tombstoneBlock(m.attachment));
  else if (m.attachment) li.append(attachmentBlock(m.attachment, m.sender_name));
  else li.append(el("div", "bubble", m.body));
  li.append(el("div", "meta", `${m.sender_name} · ${time(m.created_at)}`));
  return li;
}

/** An attachment: preview (images), description or name, size, and Save as… / Open. */
export function attachmentBlock(a: Attachment, senderName = ""): HTMLElement {
  const box = el("div", "attachment");
  box.dataset.attachmentId = a.id;
  shown.set(a.id, { attachment: a, who: senderName || t(a.sender === "agent" ? "agent" : "customer") });
  if (a.preview_url) {
    const img = el("img", "preview");
    img.alt = a.description || a.name;
    img.title = t("file.enlarge");
    img.dataset.previewUrl = a.preview_url;
    if (a.width && a.height) img.style.aspectRatio = `${a.width} / ${a.height}`;
    img.tabIndex = 0;
    img.setAttribute("role", "button");
    img.addEventListener("click", () => openGallery(img));
    img.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        openGallery(img);
      }
    });
    box.append(img);
    void loadPreview(img, a.preview_url, a.sha256);
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
  const save = el("button", "download", t("file.save"));
  save.type = "button";
  save.setAttribute("aria-label", `${t("file.save")} ${a.name}`);
  save.addEventListener("click", () => void saveAttachment(a, box));
  const open = el("button", "open", t("file.open"));
  open.type = "button";
  open.setAttribute("aria-label", `${t("file.open")} ${a.name}`);
  open.addEventListener("click", () => void openAttachment(a, box));
  actions.append(save, open);
  box.append(actions);
  const status = el("div", "att-status");
  status.hidden = true;
  box.append(status);
  return box;
}

const previewsLoading = new Map<string, Promise<string>>();

async function loadPreview(img: HTMLImageElement, url: string, sha256: string) {
  const known = state.previews.get(url);
  if (known) {
    img.src = known;
    return;
  }
  try {
    // One fetch per preview, however many places show it at once.
    let pending = previewsLoading.get(url);
    if (!pending) {
      pending = api.attachmentPreview(url, sha256).finally(() => previewsLoading.delete(url));
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
  const status = box.querySelector<HTMLElement>(".att-status, .gallery-status-line")!;
  status.textContent = text;
  status.classList.toggle("error-text", error);
  status.hidden = !text;
}

/** Save as… for an attachment; `box` shows how it went. */
export async function saveAttachment(a: Attachment, box: HTMLElement) {
  attachmentStatus(box, t("file.downloading"));
  try {
    const path = await api.saveAttachment(a.url, a.sha256, a.name);
    attachmentStatus(box, path ? t("file.saved", { path }) : "");
  } catch (e) {
    attachmentStatus(box, asConsoleError(e).message, true);
  }
}

async function openAttachment(a: Attachment, box: HTMLElement) {
  attachmentStatus(box, t("file.opening"));
  try {
    await api.openAttachment(a.url, a.sha256, a.name);
    attachmentStatus(box, t("file.opened"));
  } catch (e) {
    attachmentStatus(box, asConsoleError(e).message, true);
  }
}
