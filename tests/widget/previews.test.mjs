// Previews made on the service, seen in the customer's browser: the agent's PDF shows its first
// page (poppler's pdftoppm) and the agent's iPhone photo (HEIC, made here with libheif's heif-enc)
// shows as a picture; the customer's own HEIC, sent with the paperclip, is previewed too. Skipped
// when a tool is missing, unless ATTACHE_REQUIRE_TOOLS is set (scripts/test.sh sets it).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { startService, staff, launchChromium } from "./service.mjs";
import { PDF, heic, renderers as tools } from "../previews.mjs";

const ARTIFACTS = process.env.ARTIFACTS || "artifacts/widget";
mkdirSync(ARTIFACTS, { recursive: true });

let service;
let browser;

before(async () => {
  if (!tools) return;
  service = await startService();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await service?.stop();
});

/** The customer `name` starts a chat in `page` and alice accepts it; the contact. */
async function chatWithAlice(page, alice, name) {
  await page.goto(`${service.url}/widget/?account=acme`);
  await page.fill("#name", name);
  await page.click("text=Start chat");
  await page.waitForSelector("text=Waiting for an agent…");
  const contact = (await alice.queue()).find((c) => c.customer_name === name);
  await alice.accept(contact.id);
  await page.waitForSelector("text=You are chatting with Alice Agent");
  return contact;
}

/** The decoded size of the preview shown for `name`, once the browser has it. */
async function previewSize(page, who, name) {
  const img = page.locator(`.msg.${who}:has-text("${name}") img.preview`);
  await img.waitFor();
  await page.waitForFunction((el) => el.complete && el.naturalWidth > 0, await img.elementHandle());
  return img.evaluate((el) => [el.naturalWidth, el.naturalHeight]);
}

test("PDF and HEIC previews show in the widget, both ways", { skip: !tools && "pdftoppm or heif-enc is missing" }, async () => {
  const alice = await staff(service.url, "alice");
  const context = await browser.newContext();
  const page = await context.newPage();
  const contact = await chatWithAlice(page, alice, "Pia");

  await alice.upload(contact.id, "contract.pdf", "application/pdf", PDF);
  await alice.upload(contact.id, "IMG_0042.HEIC", "image/heic", heic(640, 480));
  assert.deepEqual(await previewSize(page, "agent", "contract.pdf"), [360, 180], "the page's shape");
  assert.deepEqual(await previewSize(page, "agent", "IMG_0042.HEIC"), [360, 270]);

  const [chooser] = await Promise.all([page.waitForEvent("filechooser"), page.click("#clip")]);
  await chooser.setFiles({ name: "IMG_0043.HEIC", mimeType: "image/heic", buffer: heic(480, 640) });
  await page.press("#text", "Enter");
  assert.deepEqual(await previewSize(page, "customer", "IMG_0043.HEIC"), [270, 360], "portrait stays portrait");
  await page.screenshot({ path: `${ARTIFACTS}/previews-heic.png` });
  await page.locator('.msg.agent:has-text("contract.pdf")').scrollIntoViewIfNeeded();
  await page.screenshot({ path: `${ARTIFACTS}/previews-pdf.png` });

  const seen = await alice.messages(contact.id);
  const mine = seen.find((m) => m.attachment && m.attachment.name === "IMG_0043.HEIC");
  assert.equal(mine.attachment.media_type, "image/heif", "the customer's photo is an image to the agent too");
  assert.ok(mine.attachment.preview_url, "with the same preview");
  await alice.close(contact.id);
  await context.close();
});

test("a refusal of the agent's file shows on the check line, not as the customer's error", { skip: !tools && "pdftoppm or heif-enc is missing" }, async () => {
  const alice = await staff(service.url, "alice");
  const context = await browser.newContext();
  const page = await context.newPage();
  const contact = await chatWithAlice(page, alice, "Rita");
  const html = Buffer.from("<html><script>alert(1)</script></html>");
  await assert.rejects(alice.upload(contact.id, "label.png", "image/png", html), /tus patch: 4\d\d/);
  await page.waitForSelector('#checks li[data-state="blocked"]:has-text("label.png: blocked")');
  assert.equal(await page.textContent("#chat-error"), "", "not the customer's error");
  await alice.close(contact.id);
  await context.close();
});
