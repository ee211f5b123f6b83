// The malware scanner seen from the widget: a clamd of the test's own (its config, a unix socket
// and a one-line EICAR signature in a temporary folder; no download), the service scanning over
// that socket. The customer's EICAR file shows "blocked" with the reason and never reaches the
// transcript; a clean file shows "clean". Skipped when clamd is missing, unless
// ATTACHE_REQUIRE_TOOLS is set (scripts/test.sh sets it).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { startService, staff, launchChromium } from "./service.mjs";
import { EICAR, startClamd } from "../clamd.mjs";

const ARTIFACTS = process.env.ARTIFACTS || "artifacts/widget";
mkdirSync(ARTIFACTS, { recursive: true });
const clamd = await startClamd();

let service;
let browser;

before(async () => {
  if (!clamd) return;
  service = await startService(["--clamd", `unix:${clamd.socket}`]);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await service?.stop();
  await clamd?.stop();
});

test("a virus is blocked in the widget with the reason, a clean file passes", { skip: !clamd && "clamd is not installed" }, async () => {
  const alice = await staff(service.url, "alice");
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${service.url}/widget/?account=acme`);
  await page.fill("#name", "Vera");
  await page.click("text=Start chat");
  await page.waitForSelector("text=Waiting for an agent…");
  const contact = (await alice.queue()).find((c) => c.customer_name === "Vera");
  await alice.accept(contact.id);
  await page.waitForSelector("text=You are chatting with Alice Agent");

  const send = async (name, body) => {
    const [chooser] = await Promise.all([page.waitForEvent("filechooser"), page.click("#clip")]);
    await chooser.setFiles({ name, mimeType: "text/plain", buffer: Buffer.from(body) });
    await page.press("#text", "Enter");
  };
  await send("invoice.txt", EICAR);
  await page.waitForSelector('#checks li[data-state="blocked"]:has-text("invoice.txt: blocked: a virus was found")');
  await page.screenshot({ path: `${ARTIFACTS}/virus-blocked.png` });
  assert.equal(await page.locator(".msg.customer a.file-link").count(), 0, "nothing reached the transcript");

  await send("notes.txt", "just some notes");
  await page.waitForSelector('#checks li[data-state="clean"]:has-text("notes.txt: clean")');
  await page.waitForSelector(".msg.customer a.file-link >> text=notes.txt");
  await alice.close(contact.id);
  await context.close();
});
