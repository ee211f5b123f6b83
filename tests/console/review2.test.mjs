// Supervisors' review in the console, file-only retention: a file aged for real in the service's
// SQLite database (python3's sqlite3 backdates its row; the suite cannot wait days) is taken by
// the service's retention sweep, which this file's service runs every second
// (`attache serve --retention-interval`, here through its ATTACHE_RETENTION_INTERVAL variable).
// alice's open card shows the "expired" tombstone live and her console drops its cached copy;
// sam's Contact details show the same tombstone in words. Run by tests/console/run.sh.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Customer } from "./customer.mjs";
import { png as makePng } from "../widget/png.mjs";
import {
  PASSWORD, closeConsole, dataDir, driverWithDialogs, invoke, newConsole, openDetails, server, shot, signIn, signOut,
  staff, useWorld,
} from "./harness.mjs";

// Read by `attache serve` when useWorld() starts it: the retention sweeps run every second.
process.env.ATTACHE_RETENTION_INTERVAL = "1";
useWorld();

/** Makes an attachment `days` older, straight in the service's SQLite database. */
function age(attachmentId, days) {
  const script =
    "import sys, sqlite3\n" +
    "db = sqlite3.connect(sys.argv[1], timeout=10)\n" +
    "n = db.execute('UPDATE attachments SET created_at = created_at - ? WHERE id = ?', (int(sys.argv[3]) * 86400000000, sys.argv[2])).rowcount\n" +
    "db.commit()\n" +
    "assert n == 1, n\n";
  execFileSync("python3", ["-c", script, join(dataDir, "attache.db"), attachmentId, String(days)]);
}

test("file-only retention: an aged file turns into its expired tombstone in the card and Contact details, and leaves the cache", async () => {
  const dir = mkdtempSync(join(tmpdir(), "attache-console-review2-"));
  const alice = await staff("alice");
  const ada = await staff("ada");
  const eva = new Customer(server);
  const contact = await eva.open("acme", "Eva Expiry", "My statements.");
  await alice("POST", `/api/contacts/${contact.id}/accept`, {});
  await eva.upload(contact.id, "old-statement.png", "image/png", makePng(300, 200), "Old statement");
  await eva.upload(contact.id, "new-statement.png", "image/png", makePng(240, 160), "New statement");
  const files = Object.fromEntries((await alice("GET", `/api/contacts/${contact.id}/messages`))
    .filter((m) => m.attachment).map((m) => [m.attachment.name, m.attachment]));
  const old = files["old-statement.png"];
  const fresh = files["new-statement.png"];

  const driver = await driverWithDialogs("review2", { saveTo: join(dir, "saved.bin") });
  try {
    // alice keeps a copy of the old statement, her card open.
    const s = await newConsole(driver.url);
    await signIn(s, "alice", PASSWORD);
    await s.waitScreen("console");
    await s.waitVisible(`#mine-list [data-contact-id="${contact.id}"]`);
    await s.click(`#mine-list [data-contact-id="${contact.id}"]`);
    const item = `#transcript .attachment[data-attachment-id="${old.id}"]`;
    await s.waitVisible(`${item} .download`);
    await s.click(`${item} .download`);
    await s.waitFor("the old statement saved", async () => /Saved/.test(await s.content(`${item} .att-status`)));
    const cached = await invoke(s, "cached_file", { attachmentId: old.id, sha256: old.sha256 });
    assert.equal(cached.ok, contact.id, "cached, and indexed under its contact");

    // Three days old for real; the plan keeps files two: the next sweep takes it.
    age(old.id, 3);
    await ada("PATCH", "/api/account", { file_retention_days: 2 });
    const stone = `#transcript .tombstone[data-attachment-id="${old.id}"]`;
    await s.waitVisible(stone, 20000);
    assert.match(await s.content(stone), /^old-statement\.png expired on .+ \(the account keeps files for a limited time\)$/);
    assert.equal(await s.exec("return document.querySelector(arguments[0]).dataset.removed", stone), "expired");
    await s.waitFor("the expired file's cached copy dropped", async () =>
      (await invoke(s, "cached_file", { attachmentId: old.id, sha256: old.sha256 })).ok === null);
    await s.waitVisible(`#transcript .attachment[data-attachment-id="${fresh.id}"] .download`);
    assert.equal(await s.exec("return !!document.querySelector(arguments[0])", `#transcript .tombstone[data-attachment-id="${fresh.id}"]`), false,
      "the newer file stays");
    await s.exec("document.querySelector(arguments[0]).scrollIntoView({ block: 'center' })", stone);
    await shot("30-card-expired");
    await alice("POST", `/api/contacts/${contact.id}/close`, {});
    await signOut(s);

    // sam (alice's supervisor) opens the contact in Reports: the tombstone in words, no Verify or Redact.
    await openDetails(s, "sam", contact.id);
    const details = `#details-attachments li.attachment-item[data-attachment-id="${old.id}"]`;
    await s.waitVisible(details);
    assert.match(await s.content(details), /old-statement\.png expired on .+ \(the account keeps files for a limited time\)/);
    assert.equal(await s.exec("return document.querySelectorAll(arguments[0]).length", `${details} .verify, ${details} .redact`), 0,
      "nothing to verify or redact");
    assert.match(await s.content(`#details-attachments li.attachment-item[data-attachment-id="${fresh.id}"]`), /SHA-256/);
    await s.exec("document.querySelector(arguments[0]).scrollIntoView({ block: 'center' })", details);
    await shot("31-details-expired");
    // The file's URL answers 410 in words.
    const gone = await fetch(server + old.url, { headers: { cookie: eva.cookie } });
    assert.equal(gone.status, 410);
    assert.equal((await gone.json()).error, "file-removed");
  } finally {
    await ada("PATCH", "/api/account", { file_retention_days: 0 }).catch(() => {});
    await closeConsole();
    driver.stop();
  }
});
