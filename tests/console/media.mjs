// Pictures made by the tests (no fixture files) and what the console's tests read around them:
// an incompressible PNG of a given size (the 40-megapixel one is png.mjs's, shared with the
// widget), a paste into the composer, the gallery's state, and the console's memory (RSS of its
// process and of WebKit's, with the console's peak since the last `resetPeak`).
import { readFileSync, readdirSync, readlinkSync, existsSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { CONSOLE_BIN } from "./harness.mjs";
import { encodePng } from "../widget/png.mjs";

export { bandsPng } from "../widget/png.mjs";

/** A PNG of random pixels (incompressible) of about `bytes` bytes, `width` pixels wide. */
export function noisePng(bytes, width = 3000) {
  const height = Math.floor(bytes / (width * 3 + 1));
  const raw = randomBytes((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) raw[y * (width * 3 + 1)] = 0; // filter type "none" on every row
  return { width, height, bytes: encodePng(width, height, raw, 0) };
}

/** Pastes files (name, type, bytes) into the composer, as a screenshot tool's paste would. */
export function paste(s, files) {
  return s.exec(`
    const data = new DataTransfer();
    for (const f of arguments[0]) data.items.add(new File([Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0))], f.name, { type: f.type }));
    document.getElementById("composer").dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));`,
  files.map((f) => ({ name: f.name, type: f.type, b64: Buffer.from(f.bytes).toString("base64") })));
}

/** The gallery's state: which picture, its position, whether it loaded, the zoom. */
export const gallery = (s) => s.exec(`const g = document.getElementById("lightbox");
  return { open: !g.hidden, id: g.dataset.attachmentId, loaded: g.dataset.loaded, zoom: Number(g.dataset.zoom),
    position: document.getElementById("gallery-position").textContent, title: document.getElementById("gallery-title").textContent,
    meta: document.getElementById("gallery-meta").textContent, transform: document.getElementById("lightbox-image").style.transform,
    focus: document.activeElement && document.activeElement.id };`);

/** RSS (KiB) of the console's process and of its children (WebKit's web and network processes). */
export function consoleMemory() {
  const procs = readdirSync("/proc").filter((p) => /^\d+$/.test(p)).map((pid) => {
    try {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      const field = (k) => (status.match(new RegExp(`^${k}:\\s+(\\S+)`, "m")) || [])[1];
      let exe = "";
      try { exe = readlinkSync(`/proc/${pid}/exe`); } catch { /* not ours to read */ }
      return { pid, ppid: field("PPid"), rss: Number(field("VmRSS") ?? 0), peak: Number(field("VmHWM") ?? 0), name: field("Name"), exe };
    } catch {
      return null;
    }
  }).filter(Boolean);
  const app = procs.find((p) => p.exe === CONSOLE_BIN && existsSync(`/proc/${p.pid}`));
  if (!app) return null;
  // Every descendant: WebKit may start its web process through a sandbox helper.
  const kids = [];
  for (let parents = new Set([app.pid]); parents.size;) {
    const next = procs.filter((p) => parents.has(p.ppid));
    kids.push(...next);
    parents = new Set(next.map((p) => p.pid));
  }
  return { pid: app.pid, app: app.rss, peak: app.peak, web: kids.reduce((n, k) => n + k.rss, 0), kids: kids.map((k) => `${k.name} ${k.rss} KiB`) };
}

/** Starts the console's peak RSS (VmHWM) afresh from now (Linux: 5 into /proc/PID/clear_refs). */
export function resetPeak() {
  const m = consoleMemory();
  try {
    if (m) writeFileSync(`/proc/${m.pid}/clear_refs`, "5");
  } catch {
    // Not ours to reset (another user's process): the peak is then since the start.
  }
}

/** RSS in words: "console N MiB + WebKit M MiB". */
export const rssText = (m) =>
  (m ? `console ${(m.app / 1024).toFixed(0)} MiB (peak ${(m.peak / 1024).toFixed(0)} MiB) + WebKit ${(m.web / 1024).toFixed(0)} MiB` : "n/a");
