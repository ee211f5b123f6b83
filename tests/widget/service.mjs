// Starts the real `attache serve --demo` on a free loopback port with a temporary data folder,
// and plays the agent through the HTTP API.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

export const PASSWORD = "demo-password";

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** `args`: more options of `attache serve` (e.g. `--clamd unix:/path`). */
export async function startService(args = []) {
  const bin = process.env.ATTACHE_BIN;
  if (!bin) throw new Error("ATTACHE_BIN must name the attache binary");
  const dir = mkdtempSync(join(tmpdir(), "attache-widget-"));
  const port = await freePort();
  const child = spawn(bin, ["serve", "--demo", "--listen", `127.0.0.1:${port}`, "--data-dir", dir, ...args], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, ATTACHE_LOG: "warn" },
  });
  let log = "";
  child.stderr.on("data", (d) => { log += d; });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch { /* not yet */ }
    if (child.exitCode !== null) throw new Error(`attache exited: ${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    log: () => log,
    async stop() {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A staff member signed in over the API. */
export async function staff(url, username) {
  const res = await fetch(`${url}/api/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ account: "acme", username, password: PASSWORD }),
  });
  if (!res.ok) throw new Error(`login ${username}: ${res.status}`);
  const { token } = await res.json();
  const call = async (method, path, body) => {
    const r = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = await r.json().catch(() => null);
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(data)}`);
    return data;
  };
  return {
    token,
    call,
    queue: () => call("GET", "/api/contacts?state=queued"),
    accept: (id) => call("POST", `/api/contacts/${id}/accept`),
    say: (id, body) => call("POST", `/api/contacts/${id}/messages`, { body }),
    messages: (id) => call("GET", `/api/contacts/${id}/messages`),
    close: (id) => call("POST", `/api/contacts/${id}/close`),
    /** Sends a file the tus way: create, then one PATCH with the bytes. */
    async upload(contactId, name, type, bytes, description) {
      const b64 = (v) => Buffer.from(v).toString("base64");
      const meta = [["contact", contactId], ["filename", name], ["filetype", type]];
      if (description) meta.push(["description", description]);
      const tus = { "tus-resumable": "1.0.0", authorization: `Bearer ${token}` };
      const created = await fetch(`${url}/api/uploads`, {
        method: "POST",
        headers: { ...tus, "upload-length": String(bytes.length), "upload-metadata": meta.map(([k, v]) => `${k} ${b64(v)}`).join(",") },
      });
      if (created.status !== 201) throw new Error(`tus create: ${created.status} ${await created.text()}`);
      const location = new URL(created.headers.get("location"), url).href;
      const patched = await fetch(location, {
        method: "PATCH",
        headers: { ...tus, "upload-offset": "0", "content-type": "application/offset+octet-stream" },
        body: bytes,
      });
      if (patched.status !== 204) throw new Error(`tus patch: ${patched.status} ${await patched.text()}`);
    },
  };
}

/** Polls `fn` until it returns a truthy value (5 s at most). */
export async function eventually(fn, what) {
  let last;
  for (let i = 0; i < 50; i++) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Debian's Chromium, headless, with the flags this machine needs; Playwright gives each launch a
 * fresh, empty profile. */
export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
    headless: true,
  });
}
