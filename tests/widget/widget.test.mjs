// The customer widget in Debian's Chromium (headless, driven by playwright-core) against the
// real service: start a chat, talk with an agent both ways, keep the chat across a reload, end it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { startService, staff, eventually, launchChromium } from "./service.mjs";
import { png } from "./png.mjs";

const ARTIFACTS = process.env.ARTIFACTS || "artifacts/widget";
mkdirSync(ARTIFACTS, { recursive: true });
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

/** Waits for the accepted state; when it does not come, says what the page shows instead. */
async function chattingWithAlice(page) {
  try {
    await page.waitForSelector("text=You are chatting with Alice Agent", { timeout: 20000 });
  } catch (e) {
    const shot = `${ARTIFACTS}/not-accepted-${Date.now()}.png`;
    await page.screenshot({ path: shot }).catch(() => {});
    const status = await page.textContent("#status").catch(() => "?");
    const log = (page.seen || []).join("\n");
    throw new Error(`the page never showed the accepted contact; its status: "${status}" (${shot})\n${log}\n${e.message}`);
  }
}

async function openWidget(viewport = { width: 1024, height: 760 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  // What the page saw, for a failure's message: its sockets, their frames, its console.
  const seen = [];
  page.on("websocket", (ws) => {
    seen.push(`socket ${ws.url()}`);
    ws.on("framereceived", (f) => seen.push(`  frame ${String(f.payload).slice(0, 100)}`));
    ws.on("close", () => seen.push("  socket closed"));
  });
  page.on("console", (m) => seen.push(`console ${m.type()}: ${m.text()}`));
  page.seen = seen;
  await page.goto(`${service.url}/widget/?account=acme`);
  return { context, page };
}

test("a customer chats with an agent, both ways, live", async () => {
  const alice = await staff(service.url, "alice");
  const { context, page } = await openWidget();
  await page.screenshot({ path: `${ARTIFACTS}/start.png` });
  assert.equal(await page.textContent("h1"), "Chat with acme");

  await page.fill("#name", "Carla");
  await page.fill("#first", "Hello, my parcel is late");
  await page.click("text=Start chat");
  await page.waitForSelector("text=Waiting for an agent…");
  await page.waitForSelector(".msg.customer >> text=Hello, my parcel is late");

  // The browser now carries the visitor cookie: HttpOnly, three years.
  const vvcu = (await context.cookies()).find((c) => c.name === "vvcu");
  assert.ok(vvcu, "vvcu is set");
  assert.equal(vvcu.httpOnly, true);
  assert.equal(vvcu.sameSite, "Lax");
  // The service asks for three years (asserted on the header in the Rust tests); Chromium caps any
  // cookie at 400 days, which is why the service renews it on every visit.
  assert.ok(vvcu.expires * 1000 - Date.now() > 1000 * 24 * 3600 * 390, "lasts as long as the browser allows");

  const [queued] = await alice.queue();
  assert.equal(queued.customer_name, "Carla");
  await alice.accept(queued.id);
  await chattingWithAlice(page);
  await page.waitForSelector("text=Alice Agent joined the chat");

  await alice.say(queued.id, "Let me check that for you");
  await page.waitForSelector(".msg.agent >> text=Let me check that for you");

  await page.fill("#text", "Order 1234");
  await page.press("#text", "Enter");
  await page.waitForSelector(".msg.customer >> text=Order 1234");
  assert.equal(await page.inputValue("#text"), "", "the field empties after sending");
  const seen = await eventually(async () => (await alice.messages(queued.id)).find((m) => m.body === "Order 1234"), "agent sees it");
  assert.equal(seen.sender, "customer");
  await page.screenshot({ path: `${ARTIFACTS}/chat.png` });

  // A reload keeps the chat: same contact, same transcript, still live.
  await page.reload();
  await page.waitForSelector(".msg.customer >> text=Order 1234");
  await alice.say(queued.id, "Found it: it ships today");
  await page.waitForSelector("text=Found it: it ships today");

  // Phone-sized screen.
  await page.setViewportSize({ width: 390, height: 740 });
  await page.screenshot({ path: `${ARTIFACTS}/chat-phone.png` });

  await alice.close(queued.id);
  await page.waitForSelector("text=The chat has ended");
  assert.equal(await page.isVisible("#composer"), false, "no more typing after the end");
  await context.close();
});

test("the customer ends the chat; a bad account is said clearly", async () => {
  const { context, page } = await openWidget();
  await page.fill("#first", "Never mind");
  await page.click("text=Start chat");
  await page.waitForSelector("text=Waiting for an agent…");
  await page.click("#end");
  await page.waitForSelector("text=You ended the chat");
  const sam = await staff(service.url, "sam");
  assert.deepEqual(await sam.queue(), [], "the queue is empty again");

  await page.goto(`${service.url}/widget/?account=nobody`);
  await page.click("text=Start chat");
  await page.waitForSelector("#start-error >> text=account not found");
  await page.goto(`${service.url}/widget/`);
  await page.waitForSelector("text=This page needs ?account=");
  await context.close();
});

test("the paperclip sends a file with a description; images show a preview; refusals are explained", async () => {
  const alice = await staff(service.url, "alice");
  const { context, page } = await openWidget();
  await page.fill("#first", "Here is my receipt");
  await page.click("text=Start chat");
  await page.waitForSelector("text=Waiting for an agent…");
  const [contact] = await alice.queue();
  await alice.accept(contact.id);
  await chattingWithAlice(page);

  // Paperclip -> the browser's file chooser -> the chosen name shows; the field takes a description.
  const image = png(640, 480);
  const [chooser] = await Promise.all([page.waitForEvent("filechooser"), page.click("#clip")]);
  await chooser.setFiles({ name: "receipt.png", mimeType: "image/png", buffer: image });
  await page.waitForSelector("#pending-name >> text=receipt.png");
  await page.fill("#text", "My receipt");
  await page.press("#text", "Enter");

  const link = await page.waitForSelector(".msg.customer a.file-link >> text=My receipt");
  const color = await link.evaluate((el) => getComputedStyle(el).color);
  assert.equal(color, "rgb(26, 102, 210)", "a blue link");
  const img = await page.waitForSelector(".msg.customer img.preview");
  await page.waitForFunction((el) => el.complete && el.naturalWidth > 0, img);
  assert.ok((await img.evaluate((el) => el.naturalWidth)) <= 640);
  assert.equal(await page.isVisible("#pending"), false, "the chosen file is cleared after sending");
  await page.screenshot({ path: `${ARTIFACTS}/file-sent.png` });

  // The agent's transcript has it, with the description, and the link opens it (same bytes).
  const sent = await eventually(async () => (await alice.messages(contact.id)).find((m) => m.attachment), "the attachment");
  assert.equal(sent.attachment.description, "My receipt");
  assert.equal(sent.attachment.name, "receipt.png");
  assert.equal(sent.attachment.media_type, "image/png");
  const href = await link.getAttribute("href");
  const res = await page.request.get(new URL(href, service.url).href);
  assert.equal(res.status(), 200);
  assert.deepEqual(Buffer.from(await res.body()), image);

  // The agent's file reaches the customer as a blue link with its name, which opens the file.
  const pdf = Buffer.from("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n");
  // Every state the file's check line takes, in order (a MutationObserver misses none, however fast).
  await page.evaluate(() => {
    window.checkStates = [];
    const list = document.getElementById("checks");
    const line = () => Array.from(list.children).find((li) => li.dataset.name === "invoice.pdf");
    new MutationObserver(() => line() && window.checkStates.push(line().textContent))
      .observe(list, { subtree: true, attributes: true, attributeFilter: ["data-state"], childList: true });
  });
  await alice.upload(contact.id, "invoice.pdf", "application/pdf", pdf);
  const agentLink = await page.waitForSelector(".msg.agent a.file-link >> text=invoice.pdf");
  // The check's outcome is shown live: checking, then clean.
  await page.waitForSelector('#checks li[data-state="clean"]:has-text("invoice.pdf: clean")');
  const states = await page.evaluate(() => window.checkStates);
  assert.ok(states.includes("invoice.pdf: checking…"), `checking first: ${JSON.stringify(states)}`);
  assert.ok(states.indexOf("invoice.pdf: checking…") < states.indexOf("invoice.pdf: clean, delivered"), JSON.stringify(states));
  assert.equal(await agentLink.evaluate((el) => getComputedStyle(el).color), "rgb(26, 102, 210)");
  assert.equal(await agentLink.getAttribute("target"), "_blank", "opens beside the chat");
  const pdfRes = await page.request.get(new URL(await agentLink.getAttribute("href"), service.url).href);
  assert.equal(pdfRes.status(), 200);
  assert.deepEqual(Buffer.from(await pdfRes.body()), pdf);
  assert.match(pdfRes.headers()["content-disposition"], /^attachment; filename="invoice.pdf"/);

  // A file over the plan's limit is refused before a byte moves, and the customer is told why.
  const [chooser2] = await Promise.all([page.waitForEvent("filechooser"), page.click("#clip")]);
  await chooser2.setFiles({ name: "huge.bin", mimeType: "application/octet-stream", buffer: Buffer.alloc(6 * 1024 * 1024, 7) });
  await page.press("#text", "Enter");
  const tooLarge = await page.waitForSelector('#checks li[data-name="huge.bin"][data-state="blocked"]');
  assert.match(await tooLarge.textContent(), /^huge\.bin was not sent: .*(5 MiB|5242880)/);
  assert.equal(await page.textContent("#chat-error"), "", "said once, on the file's line");

  // A web page dressed as a picture is refused after the check, and nothing appears.
  const [chooser3] = await Promise.all([page.waitForEvent("filechooser"), page.click("#clip")]);
  await chooser3.setFiles({ name: "cat.png", mimeType: "image/png", buffer: Buffer.from("<html><script>alert(1)</script></html>") });
  await page.press("#text", "Enter");
  await page.waitForSelector('#checks li[data-name="cat.png"][data-state="blocked"]');
  // The refusal comes twice (the upload's answer and the live event): one line says it, once.
  await page.waitForTimeout(500);
  const lines = await page.$$eval("#checks li", (lis) => lis.map((li) => [li.dataset.name, li.dataset.state, li.textContent]));
  assert.deepEqual(lines.map(([name, state]) => [name, state]), [["receipt.png", "clean"], ["invoice.pdf", "clean"], ["huge.bin", "blocked"], ["cat.png", "blocked"]], JSON.stringify(lines));
  assert.match(lines[3][2], /^cat\.png(: blocked:| was not sent:) /);
  assert.equal(await page.textContent("#chat-error"), "", "not on the error line too");
  assert.equal(await page.locator(".msg.customer a.file-link").count(), 1, "only the receipt is in the transcript");
  await page.screenshot({ path: `${ARTIFACTS}/file-refused.png` });
  await alice.close(contact.id);
  await context.close();
});

test("what happens before the live feed connects still reaches the customer", async () => {
  // The page's event socket is held back for 2 s (a slow network). The agent accepts and writes in
  // that window; once the socket is up the widget must show both, with no reload.
  const alice = await staff(service.url, "alice");
  const context = await browser.newContext({ viewport: { width: 1024, height: 760 } });
  await context.addInitScript(() => {
    const Real = window.WebSocket;
    let first = true;
    window.WebSocket = function SlowSocket(url) {
      const self = this;
      const delay = first ? 2000 : 0;
      first = false;
      setTimeout(() => {
        if (self.closed) return;
        self.ws = new Real(url);
        self.ws.onmessage = (e) => self.onmessage && self.onmessage(e);
        self.ws.onclose = (e) => self.onclose && self.onclose(e);
      }, delay);
      this.close = () => { self.closed = true; self.ws && self.ws.close(); };
    };
  });
  const page = await context.newPage();
  await page.goto(`${service.url}/widget/?account=acme`);
  await page.fill("#first", "Is anyone there?");
  await page.click("text=Start chat");
  await page.waitForSelector("text=Waiting for an agent…");
  const [contact] = await alice.queue();
  await alice.accept(contact.id);
  await alice.say(contact.id, "Yes, Alice here");
  await chattingWithAlice(page);
  await page.waitForSelector("text=Alice Agent joined the chat");
  await page.waitForSelector(".msg.agent >> text=Yes, Alice here");
  assert.equal(await page.locator("text=Alice Agent joined the chat").count(), 1, "said once");
  // And from then on it is live.
  await alice.say(contact.id, "How can I help?");
  await page.waitForSelector(".msg.agent >> text=How can I help?");
  await alice.close(contact.id);
  await page.waitForSelector("text=The chat has ended");
  await context.close();
});

test("the customer attaches a photo while waiting; the agent sees the count, then the file on accepting", async () => {
  const alice = await staff(service.url, "alice");
  const { context, page } = await openWidget();
  await page.fill("#name", "Dora");
  await page.fill("#first", "My parcel arrived damaged");
  await page.click("text=Start chat");
  await page.waitForSelector("text=Waiting for an agent…");

  // No agent yet: the paperclip works all the same.
  const photo = png(480, 360);
  const [chooser] = await Promise.all([page.waitForEvent("filechooser"), page.click("#clip")]);
  await chooser.setFiles({ name: "parcel.png", mimeType: "image/png", buffer: photo });
  await page.fill("#text", "The damaged parcel");
  await page.press("#text", "Enter");
  await page.waitForSelector(".msg.customer a.file-link >> text=The damaged parcel");
  const img = await page.waitForSelector(".msg.customer img.preview");
  await page.waitForFunction((el) => el.complete && el.naturalWidth > 0, img);
  assert.equal(await page.textContent("#chat-error"), "", "no refusal");
  assert.ok(await page.isVisible("text=Waiting for an agent…"), "still waiting");
  await page.screenshot({ path: `${ARTIFACTS}/file-while-waiting.png` });

  // The queue says how many files wait, not which; the transcript opens on accepting.
  const queued = await eventually(async () => (await alice.queue()).find((c) => c.customer_name === "Dora" && c.files === 1), "the count");
  await assert.rejects(alice.messages(queued.id), /403/, "no names or bytes before accepting");
  await alice.accept(queued.id);
  await chattingWithAlice(page);
  const seen = (await alice.messages(queued.id)).find((m) => m.attachment);
  assert.equal(seen.attachment.description, "The damaged parcel");
  assert.equal(seen.attachment.media_type, "image/png");
  assert.ok(seen.attachment.preview_url, "checked and previewed like any other");
  await alice.close(queued.id);
  await context.close();
});

test("a read that left before a live event does not take the page back", async () => {
  // The page's read of its contact (made when the live feed is ready) is held back 1.5 s; the
  // agent accepts meanwhile, so the live event arrives first and the read, answered before the
  // accept, comes back saying "queued". The page must stay with the newer state.
  const alice = await staff(service.url, "alice");
  const { context, page } = await openWidget();
  let ready;
  const readyFrame = new Promise((r) => (ready = r));
  page.on("websocket", (ws) => ws.on("framereceived", (f) => String(f.payload).includes('"ready"') && ready()));
  await page.route(/\/api\/visitor\/contacts\/[0-9a-f]{32}$/, async (route) => {
    const response = await route.fetch(); // answered now, delivered late
    await new Promise((r) => setTimeout(r, 1500));
    await route.fulfill({ response });
  });
  await page.fill("#first", "Hello?");
  await page.click("text=Start chat");
  await page.waitForSelector("text=Waiting for an agent…");
  await readyFrame;
  await new Promise((r) => setTimeout(r, 200)); // the held read has been answered by now
  const [contact] = await alice.queue();
  await alice.accept(contact.id);
  await chattingWithAlice(page);
  await new Promise((r) => setTimeout(r, 2000)); // the stale read arrives
  assert.match(await page.textContent("#status"), /You are chatting with Alice Agent/);
  await alice.close(contact.id);
  await context.close();
});

test("a file redacted by a supervisor turns into its tombstone live on the customer's side", async () => {
  const alice = await staff(service.url, "alice");
  const sam = await staff(service.url, "sam");
  const { context, page } = await openWidget();
  await page.fill("#first", "A photo of my card, sorry");
  await page.click("text=Start chat");
  await page.waitForSelector("text=Waiting for an agent…");
  const [contact] = await alice.queue();
  await alice.accept(contact.id);
  await chattingWithAlice(page);
  const [chooser] = await Promise.all([page.waitForEvent("filechooser"), page.click("#clip")]);
  await chooser.setFiles({ name: "card.png", mimeType: "image/png", buffer: png(200, 120) });
  await page.press("#text", "Enter");
  const link = await page.waitForSelector(".msg.customer a.file-link >> text=card.png");
  const href = new URL(await link.getAttribute("href"), service.url).href;
  const sent = await eventually(async () => (await alice.messages(contact.id)).find((m) => m.attachment), "the attachment");

  await sam.call("POST", `/api/reports/attachments/${sent.attachment.id}/redact`, { reason: "card details" });
  const stone = await page.waitForSelector(".msg.customer .tombstone[data-removed=redacted]");
  assert.match(await stone.textContent(), /^card\.png was removed by Sam Supervisor, .+: card details$/);
  assert.equal(await page.locator(".msg.customer a.file-link").count(), 0, "no link to the file any more");
  assert.equal(await page.locator(".msg.customer img.preview").count(), 0, "nor its preview");
  const res = await page.request.get(href);
  assert.equal(res.status(), 410, "its URL is gone");
  await page.screenshot({ path: `${ARTIFACTS}/file-redacted.png` });
  // After a reload the transcript keeps the tombstone.
  await page.reload();
  await page.waitForSelector(".msg.customer .tombstone[data-removed=redacted]");
  await context.close();
});
