// The console at work with files: several files at once through the native dialog's seam and a
// paste (thumbnails, descriptions, in order, a refusal in the service's words that stops nothing,
// the cap), the gallery (next and previous, zoom, pan, Save as, the keyboard, a damaged picture,
// three ways to close), a cached picture opening while the service is away, and the open time and
// memory of a 30 MiB picture (printed, not asserted). Every screenshot is also an axe check.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync, unlinkSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { Customer } from "./customer.mjs";
import { png as makePng } from "../widget/png.mjs";
import { consoleMemory, gallery, noisePng, paste, resetPeak, rssText } from "./media.mjs";
import {
  ARTIFACTS, PASSWORD, aliceWith, clickAt, closeConsole, driverWithDialogs, imageLoaded, newConsole, server, sha256,
  shot, signIn, staff, startService, stopService, useWorld,
} from "./harness.mjs";

useWorld();

const rowOf = (name) => `#upload-files .upload-item[data-name="${name.replace(/["\\]/g, "\\$&")}"]`;
const statusOf = (s, name) => s.exec("const r = document.querySelector(arguments[0]); return r ? r.dataset.status : null;", rowOf(name));


test("several files at once: thumbnails, descriptions, sent in order, each refusal beside its file, the cap", async () => {
  const dir = mkdtempSync(join(tmpdir(), "attache-console-several-"));
  const file = (name, bytes) => (writeFileSync(join(dir, name), bytes), join(dir, name));
  const folder = join(dir, "holiday photos");
  mkdirSync(folder);
  const picks = [
    file("box-front.png", makePng(640, 480)),
    file("invoice\u202Egnp.exe.png", makePng(300, 200)), // a name that hides its end: refused by the service
    file("notes.txt", "Order 4471, two boxes.\n"),
    folder,
    file("empty.txt", ""),
    file("vanishing.pdf", "%PDF-1.4 soon gone"),
    file("box-side.png", makePng(480, 640)),
  ];
  const driver = await driverWithDialogs("several", { pick: picks.join(delimiter) });
  const carla = new Customer(server);
  try {
    const s = await newConsole(driver.url);
    try {
      const contact = await aliceWith(s, carla, "Carla Several", "I'll need the papers for order 4471.");
      await s.click("#upload-button");
      await s.waitVisible("#upload-dialog");
      await s.click("#upload-choose");
      await s.waitVisible(rowOf("box-side.png"));
      // Listed in the dialog's order; the folder is refused in words at once.
      const names = await s.exec("return [...document.querySelectorAll('#upload-files .upload-item')].map((r) => r.dataset.name)");
      assert.deepEqual(names, ["box-front.png", "invoice\u202Egnp.exe.png", "notes.txt", "empty.txt", "vanishing.pdf", "box-side.png"]);
      assert.match(await s.content("#upload-refused"), /holiday photos is a folder: only files can be sent/);
      assert.match(await s.content("#upload-summary"), /^6 files · /);
      // Thumbnails of the pictures, made on the Rust side; the others show a file icon.
      for (const name of ["box-front.png", "box-side.png"]) {
        await s.waitFor(`${name}'s thumbnail`, () => s.exec("const i = document.querySelector(arguments[0]); return !!i && i.complete && i.naturalWidth > 0;", `${rowOf(name)} .item-thumb img`));
      }
      assert.equal(await s.exec("return !!document.querySelector(arguments[0])", `${rowOf("notes.txt")} .item-thumb svg`), true);
      await s.type(`${rowOf("box-front.png")} .item-desc`, "The box, front");
      await s.type(`${rowOf("box-side.png")} .item-desc`, "The box, side");
      await shot("17-upload-several");
      // A file that vanishes between the pick and the send.
      unlinkSync(join(dir, "vanishing.pdf"));

      await s.click("#upload-ok");
      await s.waitFor("every file to finish", () => s.exec(
        "return [...document.querySelectorAll('#upload-files .upload-item')].every((r) => ['sent', 'refused', 'cancelled'].includes(r.dataset.status))"), 60000);
      const want = { "box-front.png": "sent", "invoice\u202Egnp.exe.png": "refused", "notes.txt": "sent", "empty.txt": "refused", "vanishing.pdf": "refused", "box-side.png": "sent" };
      for (const [name, status] of Object.entries(want)) assert.equal(await statusOf(s, name), status, name);
      // Each refusal in words, beside its file.
      assert.match(await s.content(`${rowOf("invoice\u202Egnp.exe.png")} .item-status`), /Not sent: the file name contains control or direction-changing characters/);
      assert.match(await s.content(`${rowOf("empty.txt")} .item-status`), /Not sent: the file is empty/);
      assert.match(await s.content(`${rowOf("vanishing.pdf")} .item-status`), /vanishing\.pdf is no longer there \(moved or deleted\)\. Nothing was sent\./);
      assert.match(await s.content("#upload-error"), /3 of 6 sent/);
      await shot("18-upload-several-done");
      // The customer got the three, in the order they were listed, with their descriptions.
      const got = (await carla.messages(contact.id)).filter((m) => m.attachment).map((m) => [m.attachment.name, m.attachment.description ?? null]);
      assert.deepEqual(got, [["box-front.png", "The box, front"], ["notes.txt", null], ["box-side.png", "The box, side"]]);
      await s.click("#upload-cancel");
      await s.waitFor("the popup to close", () => s.exec("return document.getElementById('upload-dialog').hidden"));

      // Twenty-two files pasted at once: twenty are listed, two refused in words; none is sent.
      const many = Array.from({ length: 22 }, (_, i) => ({ name: `note-${String(i).padStart(2, "0")}.txt`, type: "text/plain", bytes: `note ${i}\n` }));
      await paste(s, many);
      await s.waitFor("twenty files listed", () => s.exec("return document.querySelectorAll('#upload-files .upload-item').length === 20"), 20000);
      assert.match(await s.content("#upload-refused"), /note-20\.txt: at most 20 files can be sent at once\./);
      assert.match(await s.content("#upload-refused"), /note-21\.txt: at most 20 files can be sent at once\./);
      assert.equal(await s.exec("return document.getElementById('upload-choose').disabled"), true, "no more can be chosen");
      // Keyboard: Esc closes the popup (nothing is sending).
      await s.chord(["\uE00C"]);
      await s.waitFor("the popup to close", () => s.exec("return document.getElementById('upload-dialog').hidden"));
      assert.equal((await carla.messages(contact.id)).filter((m) => m.attachment).length, 3);

      // "Send a smaller copy" of a photo over the size the agent picks: a JPEG goes instead.
      const big = noisePng(1536 * 1024, 800);
      await paste(s, [{ name: "pallet.png", type: "image/png", bytes: big.bytes }]);
      await s.waitVisible(rowOf("pallet.png"));
      await s.waitVisible("#upload-smaller-row");
      await s.click("#upload-smaller");
      await s.exec("const o = document.getElementById('upload-smaller-over'); o.value = '1048576'; o.dispatchEvent(new Event('change'));");
      await s.click("#upload-ok");
      await s.waitFor("the popup to close", () => s.exec("return document.getElementById('upload-dialog').hidden"), 30000);
      const copy = await s.waitFor("the smaller copy at the customer's", async () =>
        (await carla.messages(contact.id)).map((m) => m.attachment).find((a) => a?.name === "pallet-smaller.jpg"));
      assert.equal(copy.media_type, "image/jpeg");
      assert.ok(copy.size < big.bytes.length, `${copy.size} bytes`);
      assert.deepEqual([copy.width, copy.height], [big.width, big.height]);
    } finally {
      await closeConsole();
    }
  } finally {
    driver.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});


/** Where the console keeps downloads (run.sh gives it its own XDG_CACHE_HOME). */
const cachePath = (sha) => join(process.env.XDG_CACHE_HOME ?? join(process.env.HOME, ".cache"), "dev.attache.console", "files", sha.slice(0, 2), sha);

test("the gallery: next and previous, zoom and pan, Save as, the keyboard, a damaged picture, three ways to close", async () => {
  const dir = mkdtempSync(join(tmpdir(), "attache-console-gallery-"));
  const saveTo = join(dir, "saved.png");
  const driver = await driverWithDialogs("gallery", { saveTo });
  const carla = new Customer(server);
  const pictures = [
    ["parcel.png", makePng(640, 480), "The parcel at the door"],
    ["label.png", makePng(480, 640), "The shipping label"],
    ["receipt.png", makePng(800, 400), null],
  ];
  try {
    const s = await newConsole(driver.url);
    try {
      const contact = await aliceWith(s, carla, "Carla Gallery", "Three photos coming.");
      for (const [name, bytes, description] of pictures) await carla.upload(contact.id, name, "image/png", bytes, description);
      const previews = "#transcript .msg.customer .attachment img.preview";
      await s.waitFor("three previews", () => s.exec("return document.querySelectorAll(arguments[0]).length === 3", previews), 30000);
      for (let i = 0; i < 3; i++) await imageLoaded(s, `#transcript .msg.customer:nth-child(${i + 2}) img.preview`);
      // The third picture's cached copy is damaged on this disk before it is ever shown.
      const receipt = sha256(pictures[2][1]);
      mkdirSync(join(cachePath(receipt), ".."), { recursive: true });
      writeFileSync(cachePath(receipt), Buffer.concat([pictures[2][1].subarray(0, 12), randomBytes(2000)]));

      // Keyboard: Enter on the second preview opens the gallery there, focus on the round x.
      await s.exec("document.querySelectorAll(arguments[0])[1].focus()", previews);
      await s.chord(["\uE007"]);
      await s.waitFor("the gallery on the label", async () => (await gallery(s)).loaded === "true", 20000);
      let g = await gallery(s);
      assert.equal(g.position, "2 of 3");
      assert.equal(g.title, "The shipping label");
      assert.match(g.meta, /^label\.png · [\d.]+ KB · Sent by Carla Gallery · /);
      assert.equal(g.focus, "lightbox-close");
      assert.equal(await imageLoaded(s, "#lightbox-image", undefined, "attache-cache:"), 480);
      await shot("19-gallery");

      // Previous with the arrow key and the button; next with the arrow key.
      await s.chord(["\uE012"]); // ArrowLeft
      await s.waitFor("the parcel", async () => (g = await gallery(s)).position === "1 of 3" && g.loaded === "true", 20000);
      assert.equal(g.title, "The parcel at the door");
      assert.equal(await s.exec("return document.getElementById('gallery-prev').disabled"), true, "nothing before the first");
      await s.click("#gallery-next");
      await s.waitFor("the label again", async () => (await gallery(s)).position === "2 of 3");
      // The damaged picture: said in words, and the gallery goes on working.
      await s.chord(["\uE014"]); // ArrowRight
      await s.waitFor("the damaged picture told", async () => (g = await gallery(s)).position === "3 of 3" && g.loaded === "broken", 20000);
      assert.match(await s.content("#lightbox-status"), /This picture cannot be shown: it may be damaged/);
      assert.equal(await s.exec("return document.getElementById('gallery-next').disabled"), true, "nothing after the last");
      await shot("20-gallery-damaged");
      await s.click("#gallery-prev");
      await s.waitFor("the label", async () => (g = await gallery(s)).position === "2 of 3" && g.loaded === "true", 20000);

      // Zoom: + and -, the wheel, a double-click; pan by dragging; 0 fits it again.
      await s.chord(["+"]);
      assert.equal((await gallery(s)).zoom, 1.25);
      await s.chord(["-"]);
      assert.equal((await gallery(s)).zoom, 1);
      await s.exec(`document.getElementById("gallery-stage").dispatchEvent(new WheelEvent("wheel", { deltaY: -120, bubbles: true, cancelable: true }))`);
      assert.equal((await gallery(s)).zoom, 1.15);
      const box = await s.exec("const r = document.getElementById('lightbox-image').getBoundingClientRect(); return { x: Math.round(r.x + r.width / 2), y: Math.round(r.y + r.height / 2) };");
      await s.chord(["0"]);
      await pointer(s, [{ type: "pointerMove", x: box.x, y: box.y, origin: "viewport" },
        { type: "pointerDown", button: 0 }, { type: "pointerUp", button: 0 }, { type: "pointerDown", button: 0 }, { type: "pointerUp", button: 0 }]);
      await s.waitFor("the double-click zoom", async () => (await gallery(s)).zoom === 2.5);
      await pointer(s, [{ type: "pointerMove", x: box.x, y: box.y, origin: "viewport" }, { type: "pointerDown", button: 0 },
        { type: "pointerMove", x: box.x + 90, y: box.y + 40, origin: "viewport", duration: 200 }, { type: "pointerUp", button: 0 }]);
      g = await gallery(s);
      assert.match(g.transform, /^translate\(90px, 40px\) scale\(2\.5\)$/, g.transform);
      await shot("21-gallery-zoomed");
      await s.click("#gallery-zoom-reset");
      assert.match((await gallery(s)).transform, /^translate\(0px(, 0px)?\) scale\(1\)$/);

      // Save as… from the gallery writes the same bytes.
      await s.click("#gallery-save");
      await s.waitFor("saved", async () => /Saved to/.test(await s.content("#gallery-save-status")), 20000);
      assert.equal(sha256(readFileSync(saveTo)), sha256(pictures[1][1]));

      // Esc closes and gives the focus back to the preview; the round x and a click outside close too.
      await s.chord(["\uE00C"]);
      await s.waitFor("closed by Esc", async () => !(await gallery(s)).open);
      assert.equal(await s.exec("return document.activeElement === document.querySelectorAll(arguments[0])[1]", previews), true);
      await s.click(previews);
      await s.waitFor("open", async () => (await gallery(s)).loaded === "true", 20000);
      await s.click("#lightbox-close");
      await s.waitFor("closed by the round x", async () => !(await gallery(s)).open);
      await s.click(previews);
      await s.waitFor("open", async () => (await gallery(s)).loaded === "true", 20000);
      await clickAt(s, 30, 150);
      await s.waitFor("closed by a click outside", async () => !(await gallery(s)).open);

      // The service goes away: a picture already cached still opens.
      await stopService();
      try {
        await s.waitFor("offline", async () => (await s.exec("return document.getElementById('conn-status').dataset.state")) === "offline", 20000);
        await s.click(previews);
        await s.waitFor("the cached picture while offline", async () => (await gallery(s)).loaded === "true", 20000);
        assert.equal((await gallery(s)).position, "1 of 3");
        await shot("22-gallery-offline");
        await s.chord(["\uE00C"]);
      } finally {
        await startService();
      }
    } finally {
      await closeConsole();
    }
  } finally {
    driver.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

async function pointer(s, actions) {
  await s.cmd("POST", "/actions", { actions: [{ type: "pointer", id: "mouse", parameters: { pointerType: "mouse" }, actions }] });
  await s.cmd("DELETE", "/actions");
}



test("a 30 MiB picture opens from the cache over the attache-cache: scheme (time and memory printed)", async () => {
  const ada = await staff("ada");
  await ada("PATCH", "/api/account", { max_upload_bytes: 30 * 1024 * 1024 });
  const photo = noisePng(30 * 1024 * 1024 - 64 * 1024);
  const carla = new Customer(server);
  const s = await newConsole();
  try {
    const contact = await aliceWith(s, carla, "Carla Big Photo", "A big photo is coming.");
    await carla.upload(contact.id, "big-photo.png", "image/png", photo.bytes, "The whole pallet");
    const previewCss = "#transcript .msg.customer .attachment img.preview";
    await s.waitVisible(previewCss, 60000);
    await imageLoaded(s, previewCss, 30000);
    const mib = (photo.bytes.length / 1048576).toFixed(1);
    const kib = rssText;
    const lines = [`picture: big-photo.png, ${mib} MiB PNG, ${photo.width}x${photo.height} px`];
    const before = consoleMemory();
    lines.push(`RSS before opening: ${kib(before)}`);
    for (const round of ["first open (downloads into the cache, SHA-256 checked)", "second open (from the cache)"]) {
      resetPeak(); // the peak printed after is the open's
      await s.click(previewCss);
      await s.waitFor("the whole picture", async () => (await gallery(s)).loaded === "true", 60000);
      const ms = await s.exec("return document.getElementById('lightbox').dataset.openMs");
      assert.equal(await imageLoaded(s, "#lightbox-image", undefined, "attache-cache:"), photo.width);
      lines.push(`${round}: ${ms} ms from the click to the decoded picture; RSS after: ${kib(consoleMemory())}`);
      if (round.startsWith("first")) await shot("23-gallery-30-mib");
      await s.chord(["\uE00C"]);
      await s.waitFor("closed", async () => !(await gallery(s)).open);
    }
    // A new run of the console: the picture is in its disk cache, not in the webview's memory.
    await closeConsole({ keepSession: true });
    const again = await newConsole();
    await again.waitScreen("console", 30000);
    await again.waitVisible(`#mine-list [data-contact-id="${contact.id}"]`);
    await again.click(`#mine-list [data-contact-id="${contact.id}"]`);
    await again.waitVisible(previewCss, 30000);
    await imageLoaded(again, previewCss, 30000);
    const fresh = consoleMemory();
    resetPeak();
    await again.click(previewCss);
    await again.waitFor("the whole picture", async () => (await gallery(again)).loaded === "true", 60000);
    const ms = await again.exec("return document.getElementById('lightbox').dataset.openMs");
    lines.push(`after a restart (from the disk cache over attache-cache:): ${ms} ms; RSS ${kib(fresh)} before, ${kib(consoleMemory())} after`);
    await again.chord(["\uE00C"]);
    const text = lines.join("\n");
    console.log(text);
    writeFileSync(join(ARTIFACTS, "gallery-30mib.txt"), text + "\n");
  } finally {
    await closeConsole();
    await ada("PATCH", "/api/account", { max_upload_bytes: 5 * 1024 * 1024 });
  }
});
