// The console as an agent gets it: the .deb that tests/console/run.sh built (tauri build --bundles
// deb) and installed into this machine's system with dpkg -i. The installed binary starts under
// Xvfb and alice signs in over WebDriver, as with the binary of the build tree.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { PASSWORD, closeConsole, newConsole, shot, signIn, signOut, useWorld } from "./harness.mjs";

useWorld();

const INSTALLED = process.env.INSTALLED_CONSOLE_BIN ?? "/usr/bin/attache-console";

test("the installed .deb starts under Xvfb and alice signs in", async () => {
  assert.ok(existsSync(INSTALLED), `${INSTALLED} is missing: the .deb was not installed (see artifacts/console/deb.log)`);
  // Put there by dpkg, not copied by hand: the package database owns it.
  const owner = execFileSync("dpkg", ["-S", INSTALLED], { encoding: "utf8" }).trim();
  assert.match(owner, /^[a-z0-9.+-]+: \/usr\/bin\/attache-console$/);
  const pkg = owner.split(":")[0];
  console.log(`installed: ${execFileSync("dpkg-query", ["-W", "-f=${Package} ${Version} ${Installed-Size} KiB", pkg], { encoding: "utf8" })}`);
  const s = await newConsole(undefined, INSTALLED);
  try {
    await s.waitVisible("#signin-submit", 30000);
    await signIn(s, "alice", PASSWORD);
    await s.waitScreen("console");
    assert.match(await s.text("#me-name"), /alice/i);
    await s.waitFor("online", async () => (await s.exec("return document.getElementById('conn-status').dataset.state")) === "online");
    await shot("24-installed-deb-signed-in");
    await signOut(s);
  } finally {
    await closeConsole();
  }
});
