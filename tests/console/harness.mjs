// The world the console's end-to-end tests run in: the real `attache serve --demo` on a free
// port, a tauri-driver of this run, WebDriver sessions of the real console binary, screenshots
// that are also accessibility checks (axe-core injected over WebDriver on every screen shown), and
// the helpers the test files share. Each test file calls `useWorld()` once.
import { before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync, appendFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Session } from "./webdriver.mjs";
import { startClamd } from "../clamd.mjs";

export const ATTACHE_BIN = must("ATTACHE_BIN");
export const CONSOLE_BIN = must("CONSOLE_BIN");
export const ARTIFACTS = process.env.ARTIFACTS ?? "artifacts/console";
// Set in before(): a tauri-driver of this run on free ports (several runs may share a machine).
let DRIVER = process.env.WEBDRIVER_URL ?? "";
export const PASSWORD = process.env.DEMO_PASSWORD ?? "demo-password";
export const COLD_START_RUNS = Number(process.env.COLD_START_RUNS ?? 3);

function must(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run tests/console/run.sh)`);
  return v;
}

const children = [];
export let server; // base URL of the service
export let dataDir; // the service's data folder (its SQLite database is attache.db there)
let servicePort;
export let service; // the service's process
export let clamd; // the malware scanner the service asks (null when not installed)

export async function startService() {
  const args = ["serve", "--demo", "--listen", `127.0.0.1:${servicePort}`, "--data-dir", dataDir];
  if (clamd) args.push("--clamd", `unix:${clamd.socket}`);
  service = start(ATTACHE_BIN, args, "service.log", process.env, { append: true });
  await waitHttp(`${server}/api/me`, "the service");
}

export async function stopService() {
  const exited = new Promise((resolve) => service.once("exit", resolve));
  service.kill("SIGTERM");
  await exited;
}
export let session; // the WebDriver session of the test running now

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export async function waitHttp(url, what, timeout = 30000) {
  const start = Date.now();
  for (;;) {
    try {
      await fetch(url);
      return;
    } catch {
      if (Date.now() - start > timeout) throw new Error(`${what} did not come up at ${url}`);
      await new Promise((r) => setTimeout(r, 150));
    }
  }
}

export function start(cmd, args, logName, env = process.env, { append = false } = {}) {
  const log = join(ARTIFACTS, logName);
  if (!append) writeFileSync(log, "");
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env });
  child.stdout.on("data", (d) => appendFileSync(log, d));
  child.stderr.on("data", (d) => appendFileSync(log, d));
  children.push(child);
  return child;
}

/** A WebDriver session of the console (`app`: the binary to start, the built one by default). */
export async function newConsole(driver = DRIVER, app = CONSOLE_BIN) {
  session = await Session.create(driver, app);
  return session;
}

export async function closeConsole({ keepSession = false } = {}) {
  if (!session) return;
  const s = session;
  session = null;
  // Leave no session in the keyring for the next test, even when this one failed half-way.
  try {
    // A script's click: a popup or the gallery left open by a failed test must not stand in the way.
    if (!keepSession && (await s.exec("return document.body.dataset.screen")) === "console") {
      await s.exec("document.getElementById('signout').click()");
      await s.waitScreen("signin");
    }
  } catch {
    // The app may be gone already.
  }
  await s.delete();
  // Give WebKitWebDriver a moment to end the app before the next session starts it again.
  await new Promise((r) => setTimeout(r, 300));
}

/** Saves a screenshot of the screen shown, and checks that screen with axe (see `axe`). */
export async function shot(name) {
  writeFileSync(join(ARTIFACTS, `${name}.png`), await session.screenshot());
  await axe(session, name);
}

const AXE_SOURCE = readFileSync(new URL("node_modules/axe-core/axe.min.js", import.meta.url), "utf8");

/**
 * axe-core (npm, injected over WebDriver) on the console's page as it is now: fails on any serious
 * or critical violation, naming the rule and the elements.
 */
export async function axe(s, screen) {
  if (!(await s.exec("return typeof window.axe === 'object'"))) await s.exec(AXE_SOURCE);
  const found = await s.execAsync(`
    const done = arguments[arguments.length - 1];
    window.axe.run(document, { resultTypes: ["violations"] })
      .then((r) => done(r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.slice(0, 4).map((n) => n.target.join(" ")) }))))
      .catch((e) => done([{ id: "axe-failed", impact: "critical", help: String(e), nodes: [] }]));`);
  const bad = found.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(bad, [], `axe on screen "${screen}": ${JSON.stringify(bad, null, 1)}`);
  axeScreens.push(screen);
}

/** The screens axe checked in this file (printed at the end). */
export const axeScreens = [];

export async function signIn(s, username, password) {
  await s.waitScreen("signin", 20000);
  await s.type("#signin-server", server);
  await s.type("#signin-account", "acme");
  await s.type("#signin-username", username);
  await s.type("#signin-password", password);
  await s.click("#signin-submit");
}

export async function signOut(s) {
  await s.click("#signout");
  await s.waitScreen("signin");
}

/** Registers the file's before/after: the service, the scanner and a tauri-driver of this run. */
export function useWorld() {
  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    dataDir = mkdtempSync(join(tmpdir(), "attache-console-e2e-"));
    servicePort = await freePort();
    server = `http://127.0.0.1:${servicePort}`;
    clamd = await startClamd();
    await startService();
    if (!process.env.WEBDRIVER_URL) {
      const port = await freePort();
      DRIVER = `http://127.0.0.1:${port}`;
      start("tauri-driver", ["--port", String(port), "--native-port", String(await freePort())], "tauri-driver.log");
      await waitHttp(`${DRIVER}/status`, "tauri-driver");
    }
  });

  after(async () => {
    if (session) await closeConsole().catch(() => {});
    for (const c of children) c.kill("SIGTERM");
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    await clamd?.stop();
  });
}

/** A staff session over plain HTTP, for arranging the world around the console. */
export async function staff(username) {
  const res = await fetch(`${server}/api/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ account: "acme", username, password: PASSWORD }),
  });
  assert.equal(res.status, 200, `login as ${username}`);
  const { token } = await res.json();
  return async (method, path, body) => {
    const r = await fetch(server + path, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    assert.ok(r.ok, `${method} ${path}: HTTP ${r.status}`);
    return r.json();
  };
}

/**
 * A tauri-driver whose consoles use the test seam in place of the OS file dialogs:
 * ATTACHE_CONSOLE_TEST_PICK_FILE ("Choose file") and ATTACHE_CONSOLE_TEST_SAVE_TO ("Save as…").
 * Only the dialog is replaced; the upload and download run as for a real agent.
 */
export function driverWithDialogs(name, { pick, saveTo }) {
  return driverWithEnv(name, { ATTACHE_CONSOLE_TEST_PICK_FILE: pick ?? "", ATTACHE_CONSOLE_TEST_SAVE_TO: saveTo ?? "" });
}

/** A tauri-driver whose consoles run with these variables set (e.g. their own XDG folders). */
export async function driverWithEnv(name, vars) {
  const port = await freePort();
  const env = { ...process.env, ...vars };
  const child = start("tauri-driver", ["--port", String(port), "--native-port", String(await freePort())], `tauri-driver-${name}.log`, env);
  const url = `http://127.0.0.1:${port}`;
  await waitHttp(`${url}/status`, `tauri-driver (${name})`);
  return { url, stop: () => child.kill("SIGTERM") };
}

export const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");

/** Waits until the first image matching `css` shows a loaded picture whose URL starts with
 * `scheme` (previews are data: URLs); returns its natural width. */
export function imageLoaded(s, css, timeout, scheme = "data:image/") {
  return s.waitFor(`${css} to load`, () =>
    s.exec(`const i = document.querySelector(arguments[0]);
            return !!i && i.src.startsWith(arguments[1]) && i.complete && i.naturalWidth > 0 ? i.naturalWidth : 0;`, css, scheme),
  timeout);
}

/** Calls a console command from the page and waits for its answer (JSON), like the page's api.ts. */
export async function invoke(s, command, args) {
  await s.exec(`window.__invoked = undefined;
    window.__TAURI_INTERNALS__.invoke(arguments[0], arguments[1]).then(
      (v) => { window.__invoked = JSON.stringify({ ok: v ?? null }); },
      (e) => { window.__invoked = JSON.stringify({ err: e }); });`, command, args);
  const raw = await s.waitFor(`${command} to answer`, () => s.exec("return window.__invoked || null"));
  return JSON.parse(raw);
}

/** Signs `username` in and opens the contact's details from Reports > Contacts. */
export async function openDetails(s, username, contactId) {
  await signIn(s, username, PASSWORD);
  await s.waitScreen("console");
  await s.waitVisible("#nav-reports");
  await s.click("#nav-reports");
  await s.waitVisible(`#reports-rows [data-open-contact="${contactId}"]`);
  await s.click(`#reports-rows [data-open-contact="${contactId}"]`);
  await s.waitVisible(`#details-view[data-contact-id="${contactId}"]`);
}

/** Clicks at a point of the window (e.g. outside the lightbox's picture). */
export async function clickAt(s, x, y) {
  await s.cmd("POST", "/actions", {
    actions: [{ type: "pointer", id: "mouse", parameters: { pointerType: "mouse" }, actions: [
      { type: "pointerMove", x, y, origin: "viewport" },
      { type: "pointerDown", button: 0 },
      { type: "pointerUp", button: 0 },
    ] }],
  });
  await s.cmd("DELETE", "/actions");
}

/** Signs alice in and gives her a fresh contact of `customer`, open in the card. */
export async function aliceWith(s, customer, name, text) {
  await signIn(s, "alice", PASSWORD);
  await s.waitScreen("console");
  await s.waitFor("online", async () => (await s.exec("return document.getElementById('conn-status').dataset.state")) === "online");
  const contact = await customer.open("acme", name, text);
  await s.waitVisible(`[data-accept="${contact.id}"]`);
  await s.click(`[data-accept="${contact.id}"]`);
  await s.waitVisible(`#card[data-contact-id="${contact.id}"]`);
  await s.waitFor("the upload icon enabled", () => s.exec("return !document.getElementById('upload-button').disabled"));
  return contact;
}
