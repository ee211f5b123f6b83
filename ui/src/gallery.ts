// The gallery: a picture of the contact full size, next / previous across the pictures of the same
// transcript or list (arrow keys and buttons), zoom (wheel, + and -, double-click) and pan (drag),
// its name, description, sender and Save as…; Esc, the round x and a click outside close it.
// The whole picture comes from the local cache over the attache-cache: scheme (./api cacheImage),
// not as base64 over IPC; the preview shows meanwhile.
import { convertFileSrc } from "@tauri-apps/api/core";
import { api, asConsoleError } from "./api";
import { CACHE_SCHEME } from "./bindings/ipc";
import { drawnWhole, isPicture, saveAttachment, shown, type Shown } from "./attachments";
import { $, date, formatSize, trapFocus } from "./dom";
import { state } from "./state";
import { t } from "./i18n";

const MIN_ZOOM = 1;
const MAX_ZOOM = 8;

const view = {
  items: [] as Shown[],
  index: 0,
  zoom: 1,
  x: 0,
  y: 0,
  /** The preview that opened the gallery: focus goes back to it. */
  opener: null as HTMLElement | null,
  /** The picture being loaded (a quicker answer for an older one is ignored). */
  loading: "",
};

const image = () => $<HTMLImageElement>("lightbox-image");

/** Opens the gallery on the picture of this preview, among its transcript's or list's pictures. */
export function openGallery(preview: HTMLElement) {
  const box = preview.closest<HTMLElement>("[data-attachment-id]");
  const container = preview.closest(".transcript, .attachment-list") ?? document;
  const ids = [...container.querySelectorAll<HTMLElement>("[data-attachment-id]")].map((n) => n.dataset.attachmentId!);
  const items = [...new Set(ids)].map((id) => shown.get(id)).filter((s): s is Shown => !!s && isPicture(s.attachment));
  const index = items.findIndex((s) => s.attachment.id === box?.dataset.attachmentId);
  if (index < 0) return;
  view.items = items;
  view.opener = preview;
  $("lightbox").hidden = false;
  show(index);
  $("lightbox-close").focus();
}

export function closeGallery() {
  if ($("lightbox").hidden) return;
  view.loading = "";
  $("lightbox").hidden = true;
  image().removeAttribute("src"); // lets the webview drop the decoded picture
  void api.releaseImage().catch(() => {}); // the cache may let it go again (see settings.ts)
  view.opener?.focus();
  view.opener = null;
}

function show(index: number) {
  const item = view.items[index];
  if (!item) return;
  view.index = index;
  const a = item.attachment;
  const box = $("lightbox");
  box.dataset.attachmentId = a.id;
  box.dataset.loaded = "false";
  delete box.dataset.openMs;
  $("gallery-title").textContent = a.description || a.name;
  const size = formatSize(a.size);
  $("gallery-meta").textContent = [
    a.description ? `${a.name} · ${size}` : size,
    t("gallery.sent-by", { who: item.who, date: date(a.created_at) }),
  ].join(" · ");
  $("gallery-position").textContent = t("gallery.position", { n: index + 1, count: view.items.length });
  $<HTMLButtonElement>("gallery-prev").disabled = index === 0;
  $<HTMLButtonElement>("gallery-next").disabled = index === view.items.length - 1;
  $("gallery-save-status").textContent = "";
  $("gallery-save-status").hidden = true;
  zoomTo(1);
  const img = image();
  img.hidden = false;
  img.alt = a.description || a.name;
  const preview = a.preview_url ? state.previews.get(a.preview_url) : undefined;
  if (preview) img.src = preview;
  else img.removeAttribute("src");
  if (drawnWhole(a)) {
    $("lightbox-status").textContent = t("file.loading-picture");
    void loadFull(item);
  } else {
    // An iPhone photo, a scan, a PDF: the service's preview is what can be shown here.
    box.dataset.loaded = "preview";
    $("lightbox-status").textContent = t("gallery.preview-only");
  }
}

async function loadFull(item: Shown) {
  const a = item.attachment;
  const started = performance.now();
  view.loading = a.id;
  try {
    const sha = await api.cacheImage(a.url, a.sha256, a.media_type);
    if (view.loading !== a.id) return;
    const src = convertFileSrc(sha, CACHE_SCHEME);
    const img = image();
    img.onload = () => {
      if (view.loading !== a.id) return;
      $("lightbox").dataset.loaded = "true";
      $("lightbox").dataset.openMs = String(Math.round(performance.now() - started));
      $("lightbox-status").textContent = "";
    };
    img.onerror = () => {
      if (view.loading !== a.id) return;
      img.hidden = true; // no broken-image icon: the words say it
      $("lightbox").dataset.loaded = "broken";
      $("lightbox-status").textContent = t("gallery.broken");
    };
    img.src = src;
  } catch (e) {
    if (view.loading !== a.id) return;
    $("lightbox").dataset.loaded = "failed";
    $("lightbox-status").textContent = asConsoleError(e).message;
  }
}

function step(by: number) {
  const next = view.index + by;
  if (next >= 0 && next < view.items.length) show(next);
}

// ---------- zoom and pan ----------

function apply() {
  image().style.transform = `translate(${view.x}px, ${view.y}px) scale(${view.zoom})`;
  const level = `${Math.round(view.zoom * 100)}%`;
  $("gallery-zoom-level").textContent = level;
  // The visible level first in its name, then what the button does.
  $("gallery-zoom-reset").setAttribute("aria-label", `${level}, ${t("gallery.zoom-reset")}`);
  $("lightbox").dataset.zoom = view.zoom.toFixed(2);
  $("gallery-stage").classList.toggle("zoomed", view.zoom > 1);
  $<HTMLButtonElement>("gallery-zoom-out").disabled = view.zoom <= MIN_ZOOM;
  $<HTMLButtonElement>("gallery-zoom-in").disabled = view.zoom >= MAX_ZOOM;
}

function zoomTo(zoom: number) {
  view.zoom = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, zoom));
  if (view.zoom === 1) view.x = view.y = 0;
  apply();
}

function wirePan() {
  const img = image();
  let drag: { id: number; x: number; y: number } | null = null;
  img.addEventListener("pointerdown", (e) => {
    if (view.zoom <= 1) return;
    drag = { id: e.pointerId, x: e.clientX - view.x, y: e.clientY - view.y };
    img.setPointerCapture(e.pointerId);
    e.preventDefault();
  });
  img.addEventListener("pointermove", (e) => {
    if (!drag || drag.id !== e.pointerId) return;
    view.x = e.clientX - drag.x;
    view.y = e.clientY - drag.y;
    apply();
  });
  const end = () => (drag = null);
  img.addEventListener("pointerup", end);
  img.addEventListener("pointercancel", end);
}

/** Keys while the gallery is open; answers whether it used the key. */
export function galleryKey(e: KeyboardEvent): boolean {
  if ($("lightbox").hidden) return false;
  switch (e.key) {
    case "Escape":
      closeGallery();
      return true;
    case "ArrowLeft":
      step(-1);
      return true;
    case "ArrowRight":
      step(1);
      return true;
    case "+":
    case "=":
      zoomTo(view.zoom * 1.25);
      return true;
    case "-":
      zoomTo(view.zoom / 1.25);
      return true;
    case "0":
      zoomTo(1);
      return true;
    case "Tab":
      trapFocus(e, $("lightbox"));
      return false;
  }
  return false;
}

export function wireGallery() {
  const box = $("lightbox");
  box.addEventListener("click", (e) => {
    // Outside the picture and its controls (the dark area) closes.
    if (e.target === box || e.target === $("gallery-stage")) closeGallery();
  });
  $("lightbox-close").addEventListener("click", () => closeGallery());
  $("gallery-prev").addEventListener("click", () => step(-1));
  $("gallery-next").addEventListener("click", () => step(1));
  $("gallery-zoom-in").addEventListener("click", () => zoomTo(view.zoom * 1.25));
  $("gallery-zoom-out").addEventListener("click", () => zoomTo(view.zoom / 1.25));
  $("gallery-zoom-reset").addEventListener("click", () => zoomTo(1));
  $("gallery-save").addEventListener("click", () => {
    const item = view.items[view.index];
    if (item) void saveAttachment(item.attachment, $("gallery-bar"));
  });
  $("gallery-stage").addEventListener(
    "wheel",
    (e) => {
      e.preventDefault();
      zoomTo(view.zoom * (e.deltaY < 0 ? 1.15 : 1 / 1.15));
    },
    { passive: false },
  );
  image().addEventListener("dblclick", () => zoomTo(view.zoom > 1 ? 1 : 2.5));
  wirePan();
  apply();
}
