// Pictures made by the tests (no fixture files) and what the console's tests read around them:
// an incompressible PNG of a given size, a 40-megapixel PNG that compresses well, a paste into the
// composer, the gallery's state, and the console's memory (RSS of its process and of WebKit's).
import { readFileSync, readdirSync, readlinkSync, existsSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { deflateSync } from "node:zlib";
import { CONSOLE_BIN } from "./harness.mjs";

function crc32(buf) {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

/** An RGB PNG of these rows (each row starts with its filter byte), deflated at `level`. */
function encodePng(width, height, raw, level) {
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([sig, chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw, { level })), chunk("IEND", Buffer.alloc(0))]);
}

/** A PNG of random pixels (incompressible) of about `bytes` bytes, `width` pixels wide. */
export function noisePng(bytes, width = 3000) {
  const height = Math.floor(bytes / (width * 3 + 1));
  const raw = randomBytes((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) raw[y * (width * 3 + 1)] = 0; // filter type "none" on every row
  return { width, height, bytes: encodePng(width, height, raw, 0) };
}

/**
 * A large PNG that compresses well (e.g. 8000 x 5000, 40 megapixels, a few hundred KB): bands of
 * colour, each row "up"-filtered so that the deflated rows are nearly all zeros.
 */
export function bandsPng(width, height) {
  const stride = width * 3 + 1;
  const raw = Buffer.alloc(stride * height);
  const band = Math.max(1, Math.floor(height / 8));
  for (let y = 0; y < height; y++) {
    const row = y * stride;
    if (y % band === 0) {
      // The first row of a band: filter "none", a colour ramp across the width.
      const k = y / band;
      for (let x = 0; x < width; x++) {
        raw[row + 1 + x * 3] = (x * 255) / width;
        raw[row + 2 + x * 3] = 40 + k * 25;
        raw[row + 3 + x * 3] = 200 - k * 20;
      }
    } else {
      raw[row] = 2; // "up": the same as the row above
    }
  }
  return { width, height, bytes: encodePng(width, height, raw, 9) };
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
      return { pid, ppid: field("PPid"), rss: Number(field("VmRSS") ?? 0), name: field("Name"), exe };
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
  return { app: app.rss, web: kids.reduce((n, k) => n + k.rss, 0), kids: kids.map((k) => `${k.name} ${k.rss} KiB`) };
}

/** RSS in words: "console N MiB + WebKit M MiB". */
export const rssText = (m) => (m ? `console ${(m.app / 1024).toFixed(0)} MiB + WebKit ${(m.web / 1024).toFixed(0)} MiB` : "n/a");
