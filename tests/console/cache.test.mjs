// The console's local cache at work: its size limit set in Settings from the keyboard and kept
// across a restart, the least recently opened files leaving the cache folder first and opening
// again (fetched anew), a cached file opening while the service is away, "Clear cache"; and a
// pasted 40-megapixel picture listed in words, sent, with the console still working (its memory
// printed, never asserted). Each console runs with XDG folders of its own, so the cache folder is
// this file's to look into and its settings touch no other test.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, existsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Customer } from "./customer.mjs";
import { bandsPng, consoleMemory, gallery, noisePng, paste, resetPeak, rssText } from "./media.mjs";
import {
  ARTIFACTS, aliceWith, closeConsole, driverWithEnv, imageLoaded, newConsole, server, sha256, shot, startService, stopService,
  useWorld,
} from "./harness.mjs";

useWorld();

/** A tauri-driver whose consoles keep their cache and settings in folders of this test's own. */
async function isolatedConsole(name) {
  const home = mkdtempSync(join(tmpdir(), `attache-console-${name}-`));
  const vars = { XDG_CACHE_HOME: join(home, "cache"), XDG_CONFIG_HOME: join(home, "config") };
  const driver = await driverWithEnv(name, vars);
  const filesDir = join(vars.XDG_CACHE_HOME, "dev.attache.console", "files");
  const cached = (sha) => existsSync(join(filesDir, sha.slice(0, 2), sha));
  return { driver, cached, cleanup: () => (driver.stop(), rmSync(home, { recursive: true, force: true })) };
}

const settingsState = (s) => s.exec(`const u = document.getElementById("cache-used");
  return { open: !document.getElementById("settings-dialog").hidden, used: Number(u.dataset.usedBytes), files: Number(u.dataset.files),
    text: u.textContent, limit: document.getElementById("cache-limit").value, status: document.getElementById("settings-status").textContent,
    focus: document.activeElement && document.activeElement.id };`);

/** Opens Settings as a keyboard user would: Tab from the page's start to the button, then Enter. */
async function openSettingsByKeyboard(s) {
  await s.exec("document.activeElement && document.activeElement.blur(); window.focus();");
  for (let i = 0; i < 60; i++) {
    await s.chord(["\uE004"]); // Tab
    if ((await s.exec("return document.activeElement && document.activeElement.id")) === "settings-button") break;
  }
  assert.equal(await s.exec("return document.activeElement.id"), "settings-button", "Settings is reachable with Tab");
  await s.chord(["\uE007"]); // Enter
  return s.waitFor("the settings with the cache's figures", async () => {
    const st = await settingsState(s);
    return st.open && Number.isFinite(st.files) ? st : null; // fresh figures, not "Counting…"
  });
}

async function closeSettingsByEsc(s) {
  await s.chord(["\uE00C"]);
  await s.waitFor("the settings to close", async () => !(await settingsState(s)).open);
  assert.equal(await s.exec("return document.activeElement.id"), "settings-button", "the focus goes back to the button");
}

const previewOf = (i) => `#transcript .msg.customer:nth-child(${i + 2}) img.preview`;

/** Opens the i-th picture of the transcript in the gallery and waits for its outcome. */
async function openPicture(s, i, want = "true") {
  // In the middle of the transcript, clear of the card's header.
  await s.exec("document.querySelector(arguments[0]).scrollIntoView({ block: 'center' })", previewOf(i));
  await s.click(previewOf(i));
  await s.waitFor(`picture ${i + 1} in the gallery`, async () => (await gallery(s)).loaded === want, 30000);
}

async function closePicture(s) {
  await s.chord(["\uE00C"]);
  await s.waitFor("the gallery to close", async () => !(await gallery(s)).open);
}

test("the cache's size limit: set from the keyboard, kept across a restart; the least recently opened leave first; offline; Clear cache", async () => {
  const world = await isolatedConsole("cache");
  const carla = new Customer(server);
  // Three photos of about 420 KB each: two fit a 1 MB limit, three do not.
  const photos = ["damage-1.png", "damage-2.png", "damage-3.png"].map((name) => ({ name, ...noisePng(420 * 1024, 400) }));
  const shas = photos.map((p) => sha256(p.bytes));
  try {
    let s = await newConsole(world.driver.url);
    const contact = await aliceWith(s, carla, "Carla Cache", "Photos of the damage are coming.");
    for (const p of photos) await carla.upload(contact.id, p.name, "image/png", p.bytes, null);
    for (let i = 0; i < 3; i++) await imageLoaded(s, previewOf(i), 30000);

    // The default limit, then 1 MB, typed and saved from the keyboard.
    let st = await openSettingsByKeyboard(s);
    assert.equal(st.focus, "cache-limit", "the focus starts on the limit");
    assert.match(st.text, /^0 B used of 1\.0 GB \(0 files\)$/, st.text);
    assert.equal(st.limit, "1024");
    await s.type("#cache-limit", "0");
    await s.chord(["\uE007"]);
    await s.waitFor("the refusal in words", async () => /from 1 to \d+/.test(await s.content("#settings-error")));
    await s.type("#cache-limit", "1");
    await s.chord(["\uE007"]);
    st = await s.waitFor("saved", async () => ((st = await settingsState(s)).status.startsWith("Saved") ? st : null));
    assert.match(st.text, /of 1\.0 MB/);
    await shot("25-settings-cache");
    await closeSettingsByEsc(s);

    // Opened in turn: 1, 2, then 3 pushes out 1, the least recently opened (not 3, which is shown).
    await openPicture(s, 0);
    await closePicture(s);
    await openPicture(s, 1);
    await closePicture(s);
    assert.ok(world.cached(shas[0]) && world.cached(shas[1]), "two fit the limit");
    await openPicture(s, 2);
    assert.ok(world.cached(shas[2]), "the picture shown is in the cache");
    assert.ok(!world.cached(shas[0]), "the least recently opened left the cache folder");
    assert.ok(world.cached(shas[1]));
    await closePicture(s);
    // The one that left still opens: fetched again, and now 2 is the oldest.
    await openPicture(s, 0);
    assert.equal(await imageLoaded(s, "#lightbox-image", undefined, "attache-cache:"), photos[0].width);
    await closePicture(s);
    assert.deepEqual(shas.map(world.cached), [true, false, true]);
    st = await openSettingsByKeyboard(s);
    assert.equal(st.files, 2);
    assert.ok(st.used <= 1024 * 1024, `${st.used} bytes kept under a 1 MB limit`);
    await closeSettingsByEsc(s);

    // A restart: the limit is still 1 MB.
    await closeConsole({ keepSession: true });
    s = await newConsole(world.driver.url);
    await s.waitScreen("console", 30000);
    st = await openSettingsByKeyboard(s);
    assert.equal(st.limit, "1", "the limit was kept across the restart");
    assert.equal(st.files, 2);
    await closeSettingsByEsc(s);
    await s.waitVisible(`#mine-list [data-contact-id="${contact.id}"]`);
    await s.click(`#mine-list [data-contact-id="${contact.id}"]`);
    for (let i = 0; i < 3; i++) await imageLoaded(s, previewOf(i), 30000);

    // The service goes away: a cached picture opens, one that is not cached says so in words.
    await stopService();
    try {
      await s.waitFor("offline", async () => (await s.exec("return document.getElementById('conn-status').dataset.state")) === "offline", 20000);
      await openPicture(s, 2);
      assert.equal(await imageLoaded(s, "#lightbox-image", undefined, "attache-cache:"), photos[2].width);
      await shot("26-cache-offline");
      await closePicture(s);
      await openPicture(s, 1, "failed");
      assert.ok((await s.content("#lightbox-status")).trim().length > 10, "why it cannot open, in words");
      await closePicture(s);
    } finally {
      await startService();
    }

    // Clear cache: every file goes.
    await openSettingsByKeyboard(s);
    await s.click("#cache-clear");
    st = await s.waitFor("cleared", async () => ((st = await settingsState(s)).status.startsWith("Cleared") ? st : null));
    assert.equal(st.files, 0);
    assert.match(st.status, /2 files removed/);
    assert.deepEqual(shas.map(world.cached), [false, false, false]);
    await closeSettingsByEsc(s);
  } finally {
    await closeConsole();
    world.cleanup();
  }
});

test("a pasted 40-megapixel picture is listed in words, sent, and the console keeps working (memory printed)", async () => {
  const world = await isolatedConsole("paste-40mp");
  const carla = new Customer(server);
  const wall = bandsPng(8000, 5000);
  const row = '#upload-files .upload-item[data-name="whole-wall.png"]';
  try {
    const s = await newConsole(world.driver.url);
    const contact = await aliceWith(s, carla, "Carla Wall", "A screenshot of the whole wall.");
    const lines = [`picture: whole-wall.png, ${wall.width}x${wall.height} px (${(wall.width * wall.height) / 1e6} MP), ${(wall.bytes.length / 1024).toFixed(0)} KiB PNG`];
    lines.push(`RSS before the paste: ${rssText(consoleMemory())}`);
    resetPeak(); // the peak printed next is the paste's and the thumbnail's
    await paste(s, [{ name: "whole-wall.png", type: "image/png", bytes: wall.bytes }]);
    await s.waitVisible(row, 20000);
    // Listed in words: its name and size, and a thumbnail or why there is none.
    const listed = await s.waitFor("the thumbnail or the words", () => s.exec(`const r = document.querySelector(arguments[0]);
      const img = r.querySelector(".item-thumb img"); const title = r.querySelector(".item-thumb").title;
      return img && img.complete && img.naturalWidth > 0 ? { thumb: img.naturalWidth, name: r.querySelector(".item-name").textContent, size: r.querySelector(".item-size").textContent }
        : /too large to preview/.test(title) ? { words: title, name: r.querySelector(".item-name").textContent, size: r.querySelector(".item-size").textContent } : null;`, row), 60000);
    assert.equal(listed.name, "whole-wall.png");
    assert.match(listed.size, /KB|MB/);
    lines.push(`listed with ${listed.thumb ? `a thumbnail ${listed.thumb} px wide` : `the words "${listed.words}"`}; RSS: ${rssText(consoleMemory())}`);
    await shot("27-paste-40-megapixels");
    resetPeak();
    await s.click("#upload-ok");
    await s.waitFor("the popup to close", () => s.exec("return document.getElementById('upload-dialog').hidden"), 60000);
    const sent = await s.waitFor("the picture at the customer's", async () =>
      (await carla.messages(contact.id)).map((m) => m.attachment).find((a) => a?.name === "whole-wall.png"), 30000);
    assert.equal(sent.sha256, sha256(wall.bytes));
    // The console keeps working: a reply goes out and shows in the transcript.
    await s.type("#composer", "Thanks, the whole wall came through.");
    await s.chord(["\uE007"]);
    await s.waitFor("the reply in the transcript", async () => /the whole wall came through/.test(await s.content("#transcript")), 20000);
    lines.push(`after sending and a reply: RSS ${rssText(consoleMemory())}`);
    const text = lines.join("\n");
    console.log(text);
    writeFileSync(join(ARTIFACTS, "paste-40mp.txt"), text + "\n");
  } finally {
    await closeConsole();
    world.cleanup();
  }
});
