// A clamd of the test's own for the end-to-end suites: its config, a unix socket and a one-line
// signature of the EICAR test file in a temporary folder (no download, no freshclam). Returns
// null when clamd is not installed, unless ATTACHE_REQUIRE_TOOLS is set (then it throws).
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The EICAR anti-virus test file (harmless; every scanner reports it). */
export const EICAR = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

function answers(socket) {
  return new Promise((resolve) => {
    const c = connect(socket, () => { c.end(); resolve(true); });
    c.on("error", () => resolve(false));
  });
}

/** Starts clamd; `{ socket, stop() }`, or null when it is not installed. */
export async function startClamd() {
  const bin = ["/usr/sbin/clamd", "/usr/bin/clamd"].find((p) => existsSync(p));
  if (!bin) {
    if (process.env.ATTACHE_REQUIRE_TOOLS) throw new Error("clamd is required but not installed");
    return null;
  }
  const dir = mkdtempSync(join(tmpdir(), "attache-clamd-"));
  mkdirSync(join(dir, "db"));
  const md5 = createHash("md5").update(EICAR).digest("hex");
  writeFileSync(join(dir, "db", "attache-test.hdb"), `${md5}:${EICAR.length}:Eicar-Test-Signature\n`);
  const socket = join(dir, "clamd.sock");
  writeFileSync(join(dir, "clamd.conf"), [
    `LocalSocket ${socket}`, `DatabaseDirectory ${join(dir, "db")}`, "Foreground yes",
    `LogFile ${join(dir, "clamd.log")}`, `TemporaryDirectory ${dir}`, "",
  ].join("\n"));
  const child = spawn(bin, ["-c", join(dir, "clamd.conf")], { stdio: "ignore" });
  for (let i = 0; i < 600 && !(await answers(socket)); i++) await new Promise((r) => setTimeout(r, 100));
  return {
    socket,
    async stop() {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
