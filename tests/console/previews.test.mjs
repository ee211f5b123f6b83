// Previews the service makes, in the agent's console: a customer's PDF shows its first page and an
// iPhone photo (HEIC, made here with libheif's heif-enc) shows as a picture, in the card and in
// the gallery — which shows the service's preview for what the web view cannot draw (HEIC, PDF)
// and says so. Skipped when a tool is missing, unless ATTACHE_REQUIRE_TOOLS is set.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Customer } from "./customer.mjs";
import { PDF, heic, renderers as tools } from "../previews.mjs";
import { aliceWith, closeConsole, imageLoaded, newConsole, server, shot, useWorld } from "./harness.mjs";

useWorld();

const lightbox = (s) => s.exec(`const g = document.getElementById("lightbox");
  const i = document.getElementById("lightbox-image");
  return { open: !g.hidden, loaded: g.dataset.loaded, title: document.getElementById("gallery-title").textContent,
    status: document.getElementById("lightbox-status").textContent,
    shows: !i.hidden && i.src.startsWith("data:image/") && i.complete ? i.naturalWidth : 0 };`);

test("PDF and HEIC previews in the card and the gallery", { skip: !tools && "pdftoppm or heif-enc is missing" }, async () => {
  const carla = new Customer(server);
  const s = await newConsole();
  try {
    const contact = await aliceWith(s, carla, "Carla Previews", "My contract and a photo of the meter.");
    await carla.upload(contact.id, "contract.pdf", "application/pdf", PDF, "The contract");
    await carla.upload(contact.id, "IMG_0042.HEIC", "image/heic", heic(640, 480), "The meter");
    const previews = "#transcript .msg.customer .attachment img.preview";
    await s.waitFor("two previews", () => s.exec("return document.querySelectorAll(arguments[0]).length === 2", previews), 30000);
    assert.equal(await imageLoaded(s, `#transcript .msg.customer:nth-child(2) img.preview`), 360, "the PDF's first page");
    assert.equal(await imageLoaded(s, `#transcript .msg.customer:nth-child(3) img.preview`), 360, "the photo");
    await shot("40-card-pdf-heic");

    // The photo: the gallery shows the service's preview, and says what Save as… gives.
    await s.exec("document.querySelectorAll(arguments[0])[1].click()", previews);
    let g;
    await s.waitFor("the gallery on the photo", async () => (g = await lightbox(s)).open && g.loaded === "preview" && g.shows > 0);
    assert.equal(g.title, "The meter");
    assert.match(g.status, /A preview made by the service/);
    await shot("41-gallery-heic");
    // Previous: the PDF's first page.
    await s.click("#gallery-prev");
    await s.waitFor("the contract's page", async () => (g = await lightbox(s)).title === "The contract" && g.shows > 0);
    assert.equal(g.loaded, "preview");
    await shot("42-gallery-pdf");
    await s.chord(["\uE00C"]); // Esc
    await s.waitFor("closed", async () => !(await lightbox(s)).open);
  } finally {
    await closeConsole();
  }
});
