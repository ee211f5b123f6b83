// Several files at once in the widget: dropped on the chat and pasted into the field, each shown
// with a thumbnail (pictures) before anything is sent, removable one by one; more than the cap is
// refused in words; a damaged picture shows as a file; what is left is sent, each once.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { startService, launchChromium } from "./service.mjs";
import { bandsPng, png } from "./png.mjs";

const ARTIFACTS = process.env.ARTIFACTS || "artifacts/widget";
mkdirSync(ARTIFACTS, { recursive: true });
const AXE = readFileSync(new URL("node_modules/axe-core/axe.min.js", new URL(".", import.meta.url)), "utf8");
let service;
let browser;

before(async () => {
  service = await startService();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await service?.stop();
});

async function axe(page, state) {
  if (!(await page.evaluate(() => typeof window.axe === "object"))) await page.evaluate(AXE);
  const violations = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ["violations"] })).violations
    .map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 3) })));
  const bad = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(bad, [], `axe in state "${state}": ${JSON.stringify(bad)}`);
}

/** Files (name, type, base64 bytes) dropped on the page or pasted into the message field. */
function give(page, how, files) {
  return page.evaluate(({ how, files }) => {
    const dt = new DataTransfer();
    for (const f of files) dt.items.add(new File([Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0))], f.name, { type: f.type }));
    if (how === "drop") {
      document.body.dispatchEvent(new DragEvent("dragenter", { dataTransfer: dt, bubbles: true, cancelable: true }));
      document.body.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
    } else {
      document.getElementById("text").dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true }));
    }
  }, { how, files });
}

const picture = (name, w, h) => ({ name, type: "image/png", b64: png(w, h).toString("base64") });

test("several files dropped and pasted show thumbnails before sending; the cap and a damaged picture are told", async () => {
  const context = await browser.newContext({ viewport: { width: 380, height: 760 } });
  const page = await context.newPage();
  await page.goto(`${service.url}/widget/?account=acme`);
  await page.fill("#first", "Photos of the damage");
  await page.click("text=Start chat");
  await page.waitForSelector("text=Waiting for an agent…");

  await give(page, "drop", [
    picture("box-front.png", 320, 240),
    picture("box-side.png", 240, 320),
    { name: "order.txt", type: "text/plain", b64: Buffer.from("order 4471\n").toString("base64") },
  ]);
  await give(page, "paste", [
    picture("screenshot.png", 200, 120),
    { name: "damaged.png", type: "image/png", b64: Buffer.concat([png(64, 64).subarray(0, 8), Buffer.from("no longer a picture")]).toString("base64") },
  ]);
  const items = "#pending-list .pending-item";
  await page.waitForFunction((css) => document.querySelectorAll(css).length === 5, items);
  // Each picture has its thumbnail, drawn from the file before anything is sent.
  for (const name of ["box-front.png", "box-side.png", "screenshot.png"]) {
    const width = await page.waitForFunction((css) => {
      const img = document.querySelector(css);
      return img && img.complete && img.naturalWidth;
    }, `${items}[data-name="${name}"] .pending-thumb img`);
    assert.ok((await width.jsonValue()) > 0, name);
  }
  assert.equal(await page.textContent(`${items}[data-name="order.txt"] .pending-thumb`), "TXT");
  // A damaged picture shows as a file, not as a broken image.
  await page.waitForSelector(`${items}[data-name="damaged.png"] .pending-thumb.broken`);
  assert.equal(await page.locator(`${items}[data-name="damaged.png"] img`).count(), 0);
  await page.screenshot({ path: `${ARTIFACTS}/several-files-thumbnails.png` });
  await axe(page, "several files chosen");

  // Removed one by one, with its own button (named for screen readers).
  await page.click(`${items}[data-name="damaged.png"] button[aria-label="Remove damaged.png"]`);
  await page.waitForFunction((css) => document.querySelectorAll(css).length === 4, items);
  assert.equal(await page.textContent("#pending-name"), "4 files: box-front.png, box-side.png, order.txt, screenshot.png");

  // Past the cap (20), the rest are refused in words; nothing is lost of the ones kept.
  await give(page, "drop", Array.from({ length: 18 }, (_, i) => picture(`extra-${String(i).padStart(2, "0")}.png`, 20, 20)));
  await page.waitForFunction((css) => document.querySelectorAll(css).length === 20, items);
  assert.match(await page.textContent("#chat-error"), /At most 20 files can be sent at once; 2 were left out: extra-16\.png, extra-17\.png/);
  for (let i = 0; i < 16; i++) await page.click(`${items}[data-name="extra-${String(i).padStart(2, "0")}.png"] .pending-item-remove`);
  await page.waitForFunction((css) => document.querySelectorAll(css).length === 4, items);

  // Enter sends what is listed, each once.
  await page.press("#text", "Enter");
  for (const name of ["box-front.png", "box-side.png", "order.txt", "screenshot.png"]) {
    await page.waitForSelector(`.msg.customer a.file-link >> text=${name}`, { timeout: 20000 });
  }
  assert.equal(await page.locator(".msg.customer a.file-link").count(), 4);
  assert.equal(await page.isVisible("#pending"), false);
  await page.screenshot({ path: `${ARTIFACTS}/several-files-sent.png` });
  await page.click("#end");
  await context.close();
});

test("a pasted 40-megapixel picture is listed with its thumbnail, sent, and checked", async () => {
  const context = await browser.newContext({ viewport: { width: 380, height: 760 } });
  const page = await context.newPage();
  await page.goto(`${service.url}/widget/?account=acme`);
  await page.fill("#first", "A screenshot of the whole wall");
  await page.click("text=Start chat");
  await page.waitForSelector("text=Waiting for an agent…");
  const wall = bandsPng(8000, 5000);
  await give(page, "paste", [{ name: "whole-wall.png", type: "image/png", b64: wall.bytes.toString("base64") }]);
  const item = '#pending-list .pending-item[data-name="whole-wall.png"]';
  // Listed with its size and a thumbnail the browser draws from the file itself.
  const width = await page.waitForFunction((css) => {
    const img = document.querySelector(css);
    return img && img.complete && img.naturalWidth;
  }, `${item} .pending-thumb img`, { timeout: 30000 });
  assert.equal(await width.jsonValue(), wall.width);
  assert.match(await page.textContent("#pending-name"), /^whole-wall\.png \(\d+(\.\d+)? kB\)$/);
  await axe(page, "a 40-megapixel picture chosen");
  await page.press("#text", "Enter");
  await page.waitForSelector(".msg.customer a.file-link >> text=whole-wall.png", { timeout: 30000 });
  await page.waitForSelector('#checks li[data-name="whole-wall.png"][data-state="clean"]', { timeout: 30000 });
  assert.equal(await page.textContent("#chat-error"), "");
  await page.screenshot({ path: `${ARTIFACTS}/paste-40-megapixels.png` });
  await page.click("#end");
  await context.close();
});
