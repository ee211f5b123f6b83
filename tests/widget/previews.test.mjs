// Previews made on the service, seen in the customer's browser: the agent's PDF shows its first
// page (poppler's pdftoppm) and the agent's iPhone photo (HEIC, made here with libheif's heif-enc)
// shows as a picture; the customer's own HEIC, sent with the paperclip, is previewed too. Skipped
// when a tool is missing, unless ATTACHE_REQUIRE_TOOLS is set (scripts/test.sh sets it).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { startService, staff } from "./service.mjs";
import { png } from "./png.mjs";

const ARTIFACTS = process.env.ARTIFACTS || "artifacts/widget";
mkdirSync(ARTIFACTS, { recursive: true });

function installed(cmd, arg) {
  try {
    execFileSync(cmd, [arg], { stdio: "ignore" });
    return true;
  } catch (e) {
    return e.code !== "ENOENT";
  }
}
const tools = installed("pdftoppm", "-v") && installed("heif-enc", "--help");
if (!tools && process.env.ATTACHE_REQUIRE_TOOLS) {
  throw new Error("pdftoppm (poppler-utils) and heif-enc (libheif-examples) are required");
}

// A one-page PDF with a red box (poppler rebuilds the cross-reference table).
const PDF = Buffer.from(
  "%PDF-1.4\n1 0 obj <</Type/Catalog/Pages 2 0 R>> endobj\n" +
    "2 0 obj <</Type/Pages/Kids[3 0 R]/Count 1>> endobj\n" +
    "3 0 obj <</Type/Page/Parent 2 0 R/MediaBox[0 0 200 100]/Contents 4 0 R>> endobj\n" +
    "4 0 obj <</Length 27>> stream\n1 0 0 rg 10 10 100 50 re f\nendstream endobj\n" +
    "trailer <</Root 1 0 R>>\n%%EOF\n",
);

/** A HEIC photo of `w`×`h`, as an iPhone would send (heif-enc from a PNG). */
function heic(w, h) {
  const dir = mkdtempSync(join(tmpdir(), "attache-heic-"));
  try {
    writeFileSync(join(dir, "src.png"), png(w, h));
    execFileSync("heif-enc", ["-q", "50", "-o", join(dir, "IMG.HEIC"), join(dir, "src.png")], { stdio: "ignore" });
    return readFileSync(join(dir, "IMG.HEIC"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

let service;
let browser;

before(async () => {
  if (!tools) return;
  service = await startService();
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
    headless: true,
  });
});

after(async () => {
  await browser?.close();
  await service?.stop();
});

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
  await page.goto(`${service.url}/widget/?account=acme`);
  await page.fill("#name", "Pia");
  await page.click("text=Start chat");
  await page.waitForSelector("text=Waiting for an agent…");
  const contact = (await alice.queue()).find((c) => c.customer_name === "Pia");
  await alice.accept(contact.id);
  await page.waitForSelector("text=You are chatting with Alice Agent");

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
