// The widget as sites embed it: one <script> tag on a page of ANOTHER loopback origin adds a
// launcher and opens the chat in a frame; a file survives a page reload and a dropped connection
// mid-upload (tus-js-client, bundled); axe-core finds no serious or critical problem in any state;
// Italian from data-lang or the browser; a site that is not allowed gets nothing and one warning;
// a frame without cookies offers the chat in its own tab.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { startService, staff, eventually, launchChromium } from "./service.mjs";
import { png } from "./png.mjs";

const ARTIFACTS = process.env.ARTIFACTS || "artifacts/widget";
mkdirSync(ARTIFACTS, { recursive: true });
const here = new URL(".", import.meta.url);
const AXE = readFileSync(new URL("node_modules/axe-core/axe.min.js", here), "utf8");
const ACCENT = "#0b6e4f";
const GREETING = "Hi! Questions about your order?";
let service;
let browser;
let shop; // the embedding site: http://127.0.0.1:<port>
let other; // a site that is not allowed
let admin;

/** A plain web server for the host pages: `/` embeds the widget, `/it` with data-lang="it". */
async function hostSite() {
  const page = (lang) => `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Shop</title>
<style>body{font:16px serif;margin:40px} button{background:red!important;font-size:40px} iframe{border:10px solid red}
p{color:purple}</style></head>
<body><a href="/about">About the shop</a><h1>Our shop</h1><p>Spring sale: everything must go.</p>
<script src="${service.url}/widget/embed.js" data-account="acme"${lang ? ` data-lang="${lang}"` : ""} async></script>
</body></html>`;
  const srv = createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(page(req.url.startsWith("/it") ? "it" : ""));
  });
  await new Promise((r) => srv.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${srv.address().port}`, port: srv.address().port, close: () => srv.close() };
}

before(async () => {
  service = await startService();
  shop = await hostSite();
  other = await hostSite();
  admin = await staff(service.url, "ada");
  const settings = await admin.call("PATCH", "/api/account/widget", {
    allowed_origins: [shop.url, `http://localhost:${shop.port}/`],
    color: ACCENT,
    greeting: GREETING,
  });
  assert.deepEqual(settings.allowed_origins, [shop.url, `http://localhost:${shop.port}`], "stored as origins");
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  shop?.close();
  other?.close();
  await service?.stop();
});

/** The chat's frame inside the page (a new one after each reload). */
async function widgetFrame(page) {
  let frame;
  await eventually(async () => (frame = page.frames().find((f) => f.url().includes("/widget/?"))), "the widget frame");
  await frame.waitForSelector("#first, #text, #cookies:not([hidden])", { state: "attached" });
  return frame;
}

/** axe-core in the widget's frame: no serious or critical violations. */
async function axe(frame, state) {
  if (!(await frame.evaluate(() => typeof window.axe === "object"))) await frame.evaluate(AXE);
  const violations = await frame.evaluate(async () => (await window.axe.run(document, { resultTypes: ["violations"] })).violations
    .map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 3) })));
  const bad = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(bad, [], `axe in state "${state}": ${JSON.stringify(bad)}`);
}

/** Slow uploads (bytes per second) in the page and its same-site frame, via DevTools. */
async function throttle(page, bytesPerSecond) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: bytesPerSecond });
  return cdp;
}

const creations = (log, name) => log.filter((r) => r.method === "POST" && r.url.endsWith("/api/uploads") && r.name === name);

test("the tus client served is tus-js-client's own build from the locked npm package", () => {
  const served = readFileSync(new URL("../../crates/server/widget/tus.min.js", here), "utf8");
  const npm = readFileSync(new URL("node_modules/tus-js-client/dist/tus.min.js", here), "utf8");
  assert.equal(served, npm, "run scripts/widget-vendor.sh after changing the tus-js-client version");
});

test("one tag on another origin: launcher, chat, a file across a reload and a dropped connection, axe everywhere", async () => {
  const alice = await staff(service.url, "alice");
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: "en-US" });
  const requests = [];
  context.on("request", (r) => {
    const meta = r.headers()["upload-metadata"] || "";
    const name = meta.split(",").map((kv) => kv.split(" ")).filter(([k]) => k === "filename")
      .map(([, v]) => Buffer.from(v, "base64").toString())[0];
    requests.push({ method: r.method(), url: r.url(), name });
  });
  const page = await context.newPage();
  await page.goto(shop.url);

  // The launcher appears, in the account's colour, untouched by the page's own styles; the
  // page gets no globals from the widget.
  const launcher = page.locator("attache-chat >> button.launcher");
  await launcher.waitFor();
  assert.equal(await launcher.evaluate((el) => getComputedStyle(el).backgroundColor), "rgb(11, 110, 79)");
  assert.equal(await launcher.getAttribute("aria-label"), "Open the chat");
  await page.locator(`attache-chat >> text=${GREETING}`).waitFor();
  assert.equal(await page.evaluate(() => typeof window.tus + typeof window.AttacheI18n), "undefinedundefined");
  assert.equal(await page.evaluate(() => getComputedStyle(document.querySelector("p")).color), "rgb(128, 0, 128)", "the page's styles stay");
  await page.screenshot({ path: `${ARTIFACTS}/embed-closed.png` });

  // Keyboard only: Tab past the page's link to the launcher, Enter opens the chat with the
  // focus in the question field.
  await page.keyboard.press("Tab");
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.tagName), "ATTACHE-CHAT");
  await page.keyboard.press("Enter");
  let frame = await widgetFrame(page);
  assert.equal(await launcher.getAttribute("aria-expanded"), "true");
  await frame.waitForFunction(() => document.activeElement && document.activeElement.id === "first");
  assert.equal(await frame.textContent("h1"), "Chat with acme");
  assert.equal(await frame.textContent("#greeting"), GREETING);
  await axe(frame, "start");
  await page.screenshot({ path: `${ARTIFACTS}/embed-start.png` });

  await page.keyboard.type("My order 77 is late");
  await page.keyboard.press("Tab");
  await page.keyboard.press("Enter");
  await frame.waitForSelector("text=Waiting for an agent…");
  const [contact] = await alice.queue();
  await alice.accept(contact.id);
  await frame.waitForSelector("text=You are chatting with Alice Agent");
  await alice.say(contact.id, "Can you send the receipt?");
  await frame.waitForSelector(".msg.agent >> text=Can you send the receipt?");
  assert.match(await frame.textContent(".msg.agent time"), /^\d\d:\d\d( [AP]M)?$/, "the time of day, as the locale writes it");
  // The cookie works inside the frame (same site, another origin): the chat is the customer's.
  await axe(frame, "chatting");

  // A 4.5 MB file on a slow line; the page reloads half-way: the upload continues at once from
  // where it stopped (the file waits in the browser's IndexedDB, tus-js-client's fingerprint
  // finds the upload), with no second upload created.
  const big = Buffer.alloc(4_500_000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7919) % 251;
  let cdp = await throttle(page, 400_000);
  const [chooser] = await Promise.all([page.waitForEvent("filechooser"), frame.click("#clip")]);
  await chooser.setFiles({ name: "logs.bin", mimeType: "application/octet-stream", buffer: big });
  await frame.waitForSelector("#pending-name >> text=logs.bin");
  await frame.fill("#text", "The logs");
  await frame.press("#text", "Enter");
  await frame.waitForFunction(() => (document.querySelector("#uploads progress")?.value ?? 0) >= 15);
  await axe(frame, "sending");
  await page.screenshot({ path: `${ARTIFACTS}/embed-sending.png` });
  await page.reload();
  await cdp.detach().catch(() => {});
  cdp = await throttle(page, 1_500_000);
  await launcher.click();
  frame = await widgetFrame(page);
  await frame.waitForSelector(".msg.customer a.file-link >> text=The logs", { timeout: 30_000 });
  assert.equal(creations(requests, "logs.bin").length, 1, "one upload, continued after the reload");
  assert.ok(requests.some((r) => r.method === "HEAD" && r.url.includes("/api/uploads/")), "asked the service where it stopped");
  const sent = await eventually(async () => (await alice.messages(contact.id)).find((m) => m.attachment?.name === "logs.bin"), "the file");
  assert.equal(sent.attachment.size, big.length);
  const bytes = await fetch(new URL(sent.attachment.url, service.url), { headers: { authorization: `Bearer ${alice.token}` } });
  assert.deepEqual(Buffer.from(await bytes.arrayBuffer()), big, "the same bytes, not a corrupted resume");

  // The connection drops mid-upload and comes back: the upload goes on and completes.
  const second = Buffer.from(big).reverse();
  const [chooser2] = await Promise.all([page.waitForEvent("filechooser"), frame.click("#clip")]);
  await chooser2.setFiles({ name: "more-logs.bin", mimeType: "application/octet-stream", buffer: second });
  await frame.press("#text", "Enter");
  await frame.waitForFunction(() => (document.querySelector("#uploads progress")?.value ?? 0) >= 15);
  await context.setOffline(true);
  await frame.waitForFunction(() => navigator.onLine === false);
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(await frame.locator(".msg.customer a.file-link >> text=more-logs.bin").count(), 0, "not there while offline");
  await context.setOffline(false);
  await frame.waitForSelector(".msg.customer a.file-link >> text=more-logs.bin", { timeout: 30_000 });
  assert.equal(creations(requests, "more-logs.bin").length, 1, "one upload, continued after the connection came back");
  const sent2 = await eventually(async () => (await alice.messages(contact.id)).find((m) => m.attachment?.name === "more-logs.bin"), "the second file");
  const bytes2 = await fetch(new URL(sent2.attachment.url, service.url), { headers: { authorization: `Bearer ${alice.token}` } });
  assert.deepEqual(Buffer.from(await bytes2.arrayBuffer()), second);
  await cdp.detach().catch(() => {});

  // Several files at once, each with its own progress; and a refused one, explained.
  const [chooser3] = await Promise.all([page.waitForEvent("filechooser"), frame.click("#clip")]);
  await chooser3.setFiles([
    { name: "front.png", mimeType: "image/png", buffer: png(320, 240) },
    { name: "fake.png", mimeType: "image/png", buffer: Buffer.from("<html><script>alert(1)</script></html>") },
  ]);
  await frame.waitForSelector("#pending-name >> text=2 files: front.png, fake.png");
  await frame.press("#text", "Enter");
  await frame.waitForSelector(".msg.customer a.file-link >> text=front.png");
  await frame.waitForSelector('#checks li[data-name="fake.png"][data-state="blocked"]');
  await axe(frame, "refused");
  await page.screenshot({ path: `${ARTIFACTS}/embed-desktop.png` });

  // A phone: the panel takes the whole screen and the layout holds at 360 px.
  await page.setViewportSize({ width: 360, height: 740 });
  await frame.waitForFunction(() => innerWidth === 360);
  const overflow = await frame.evaluate(() => document.documentElement.scrollWidth - innerWidth);
  assert.ok(overflow <= 0, `nothing wider than the screen (${overflow} px over)`);
  await page.screenshot({ path: `${ARTIFACTS}/embed-phone.png` });

  // Escape closes the panel and gives the focus back to the launcher.
  await frame.focus("#text");
  await page.keyboard.press("Escape");
  await eventually(async () => (await launcher.getAttribute("aria-expanded")) === "false", "closed");
  assert.equal(await page.evaluate(() => document.activeElement.tagName), "ATTACHE-CHAT");
  await page.setViewportSize({ width: 1280, height: 800 });
  await launcher.click();

  await alice.close(contact.id);
  await frame.waitForSelector("text=The chat has ended");
  await axe(frame, "ended");
  await context.close();
});

test("in Italian: from data-lang, or from the browser; a language not in the catalog is English", async () => {
  const context = await browser.newContext({ viewport: { width: 360, height: 740 }, locale: "en-US" });
  const page = await context.newPage();
  await page.goto(`${shop.url}/it`);
  const launcher = page.locator("attache-chat >> button.launcher");
  assert.equal(await launcher.getAttribute("aria-label"), "Apri la chat");
  await launcher.click();
  const frame = await widgetFrame(page);
  assert.equal(await frame.evaluate(() => document.documentElement.lang), "it");
  assert.equal(await frame.textContent("h1"), "Chatta con acme");
  await frame.waitForSelector("text=Inizia la chat");
  await axe(frame, "start, Italian");
  await page.screenshot({ path: `${ARTIFACTS}/embed-phone-it-start.png` });
  await frame.fill("#first", "Il pacco è arrivato rotto");
  await frame.click("text=Inizia la chat");
  await frame.waitForSelector("text=In attesa di un operatore…");
  const [chooser] = await Promise.all([page.waitForEvent("filechooser"), frame.click("#clip")]);
  await chooser.setFiles({ name: "video.bin", mimeType: "application/octet-stream", buffer: Buffer.alloc(6_000_000, 1) });
  assert.match(await frame.textContent("#pending-name"), /video\.bin \(6 MB\)/, "sizes as the locale writes them");
  await frame.press("#text", "Enter");
  await frame.waitForSelector('#checks li[data-name="video.bin"] >> text=video.bin non è stato inviato: il file supera il limite di 5 MiB');
  await axe(frame, "refused, Italian");
  await page.screenshot({ path: `${ARTIFACTS}/embed-phone-it.png` });
  await frame.click("text=Termina la chat");
  await frame.waitForSelector("text=Hai terminato la chat");
  await axe(frame, "ended, Italian");
  await context.close();

  for (const [locale, title] of [["it-IT", "Chatta con acme"], ["de-DE", "Chat with acme"]]) {
    const ctx = await browser.newContext({ locale });
    const p = await ctx.newPage();
    await p.goto(`${service.url}/widget/?account=acme`);
    await p.waitForFunction((want) => document.querySelector("h1").textContent === want, title);
    await ctx.close();
  }
});

test("files dropped on the chat or pasted into the field are sent, each once", async () => {
  const context = await browser.newContext({ viewport: { width: 360, height: 740 } });
  const page = await context.newPage();
  await page.goto(`${service.url}/widget/?account=acme`);
  await page.fill("#first", "Two notes for you");
  await page.click("text=Start chat");
  await page.waitForSelector("text=Waiting for an agent…");
  await page.evaluate(() => {
    const dt = new DataTransfer();
    dt.items.add(new File(["dropped bytes"], "dropped.txt", { type: "text/plain" }));
    document.body.dispatchEvent(new DragEvent("dragenter", { dataTransfer: dt, bubbles: true, cancelable: true }));
    document.body.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
  });
  assert.equal(await page.isVisible("#dropzone"), false, "the drop hint goes away");
  await page.evaluate(() => {
    const dt = new DataTransfer();
    dt.items.add(new File(["pasted bytes"], "pasted.txt", { type: "text/plain" }));
    document.getElementById("text").dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true }));
  });
  await page.waitForSelector("#pending-name >> text=2 files: dropped.txt, pasted.txt");
  await page.press("#text", "Enter");
  await page.waitForSelector(".msg.customer a.file-link >> text=dropped.txt");
  await page.waitForSelector(".msg.customer a.file-link >> text=pasted.txt");
  assert.equal(await page.locator(".msg.customer a.file-link").count(), 2);
  await page.click("#end");
  await context.close();
});

test("a site that is not allowed gets no launcher and one clear warning", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const warnings = [];
  page.on("console", (m) => { if (m.type() === "warning") warnings.push(m.text()); });
  await page.goto(other.url);
  await eventually(async () => warnings.length > 0, "the warning");
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(warnings.length, 1, warnings.join("\n"));
  assert.match(warnings[0], /not shown on this page.*not one of the sites allowed/);
  assert.equal(await page.locator("attache-chat").count(), 0, "no launcher");
  assert.equal(page.frames().length, 1, "no frame");
  await context.close();
});

test("a frame without cookies says so and opens the chat in its own tab", async () => {
  // localhost and 127.0.0.1 are different sites: the frame is third-party there, and on plain
  // HTTP its SameSite=Lax cookie is refused, as a browser blocking third-party cookies would.
  const context = await browser.newContext({ viewport: { width: 1024, height: 760 } });
  const page = await context.newPage();
  await page.goto(`http://localhost:${shop.port}/`);
  await page.locator("attache-chat >> button.launcher").click();
  const frame = await widgetFrame(page);
  await frame.waitForSelector("#cookies:not([hidden]) >> text=Your browser blocks cookies inside this frame");
  assert.equal(await frame.isVisible("#start"), false, "no chat that could not go on");
  await axe(frame, "cookies blocked");
  await page.screenshot({ path: `${ARTIFACTS}/embed-no-cookies.png` });
  const href = await frame.getAttribute("#cookies-open", "href");
  assert.equal(await frame.getAttribute("#cookies-open", "target"), "_blank");
  const [tab] = await Promise.all([context.waitForEvent("page"), frame.click("#cookies-open")]);
  await tab.waitForLoadState();
  assert.equal(new URL(tab.url()).searchParams.get("embed"), null, `first party: ${href}`);
  await tab.fill("#first", "Hello from my own tab");
  await tab.click("text=Start chat");
  await tab.waitForSelector("text=Waiting for an agent…");
  await tab.click("#end");
  await context.close();
});

test("only an admin sets the widget; bad origins and colours are refused", async () => {
  const alice = await staff(service.url, "alice");
  await assert.rejects(alice.call("PATCH", "/api/account/widget", { color: "#000000" }), /403/);
  await assert.rejects(admin.call("PATCH", "/api/account/widget", { allowed_origins: ["shop.example/path"] }), /422.*invalid-origin/);
  await assert.rejects(admin.call("PATCH", "/api/account/widget", { color: "red" }), /422.*invalid-color/);
  const now = await admin.call("GET", "/api/account/widget");
  assert.equal(now.color, ACCENT);
  const config = await (await fetch(`${service.url}/api/widget/acme`, { headers: { origin: other.url } })).json();
  assert.equal(config.error, "origin-not-allowed");
  const res = await fetch(`${service.url}/widget/?account=acme`);
  assert.match(res.headers.get("content-security-policy"), new RegExp(`frame-ancestors 'self' ${shop.url} http://localhost:${shop.port}`));
});
