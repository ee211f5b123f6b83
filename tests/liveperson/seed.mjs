// The LivePerson seed (shared/seeds/002_…, "File Sharing for Web Messaging") as a test: its seven
// steps, in order, with its own commands and frames (only the placeholders filled in), against a
// fresh `attache serve --demo` on a loopback port, and no agent ever joining the conversation.
// Prints one line per step and `liveperson: N passed, N failed` last; exits non-zero on failure.
//
// Needs ATTACHE_BIN (the `attache` binary), bash, curl and jq (step 1 runs the seed's shell
// lines). Run by tests/liveperson/run.sh.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { PASSWORD, startService } from "../widget/service.mjs";
import { png, pngOfSize } from "../widget/png.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");

// ---- the seed's text, copied ------------------------------------------------------------------

// Step 1 (the two command lines; the seed's `LP_USER= ADMIN_USERNAME` lines become variables).
// The seed says https://; the local service speaks plain HTTP, so that one word is changed.
const STEP1 = `LP_BEARER=\`curl -c cookies -X POST -H "Content-Type: application/json" -H "Accept: application/json" -H "Cache-Control: no-cache" -d '{"username": "'$LP_USER'","password":"'$LP_PASS'"}' "https://$LP_AGENTVEP/api/account/$LP_ACCOUNT/login?v=1.1" | jq -r .bearer\`
./set_site_property.sh $LP_BEARER true messaging.file.sharing.enabled`;
// Step 2.
const REQUEST_CONVERSATION = `{"kind":"req","id":1,"type":"cm.ConsumerRequestConversation"}`;
// Step 3, "Using bash", and the response it shows.
const REQUEST_UPLOAD = `{"kind":"req","id":"3","body":{"fileSize":1000,"fileType":"PNG"},"type":"ms.GenerateURLForUploadFile"    }`;
const UPLOAD_RESPONSE = `{"kind":"resp","reqId":"3","code":200,"body":{"relativePath":"/v1/AUTH_async-images/qa57221676/8a66a22f-81ee-4447-b92f-78e9c3ecc819.PNG","queryParams":{"temp_url_sig":"6f52625b7f148325071c2518c714109134acd7a3","temp_url_expires":"1474973420"}},"type":"ms.BaseGenerateURLResponse"}`;
// Step 5, "Using bash".
const PUBLISH = `{"kind":"req","id":"22","body":{"dialogId":"__CONVERSATION_ID__","event":{"type":"ContentEvent","message":{"caption":"LivePerson logo","relativePath":"__relative_path__","fileType":"PNG","preview":"data:image/png;base64,<Base64Image>"},"contentType":"hosted/file"}},"type":"ms.PublishEvent"}`;
// Step 6, "Using bash", and the response it shows.
const REQUEST_DOWNLOAD = `{"kind":"req","id":"33","body":{"relativePath":"__relative_path__"},"type":"ms.GenerateURLForDownloadFile"}`;
const DOWNLOAD_RESPONSE = UPLOAD_RESPONSE;
// Steps 4 and 7: PUT / GET https://{swiftDomain}/{relativePath}?temp_url_sig={temp_url_sig}&temp_url_expires={temp_url_expires}
const SWIFT_URL = "https://{swiftDomain}/{relativePath}?temp_url_sig={temp_url_sig}&temp_url_expires={temp_url_expires}";

// ---- a WebSocket client that can send headers (wscat -H "Authorization:jwt …") ----------------

function webSocket(url, headers) {
  const u = new URL(url);
  const key = randomBytes(16).toString("base64");
  const sock = connect(Number(u.port), u.hostname);
  const frames = [];
  const waiting = [];
  let buf = Buffer.alloc(0);
  let open = false;
  const deliver = (text) => {
    const w = waiting.shift();
    if (w) w(text);
    else frames.push(text);
  };
  const opened = new Promise((resolve, reject) => {
    sock.once("error", reject);
    sock.on("connect", () => {
      const lines = [`GET ${u.pathname}${u.search} HTTP/1.1`, `Host: ${u.host}`, "Upgrade: websocket", "Connection: Upgrade",
        `Sec-WebSocket-Key: ${key}`, "Sec-WebSocket-Version: 13", ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
      sock.write(lines.join("\r\n") + "\r\n\r\n");
    });
    sock.on("data", (d) => {
      buf = Buffer.concat([buf, d]);
      if (!open) {
        const end = buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        const head = buf.subarray(0, end).toString();
        if (!head.startsWith("HTTP/1.1 101")) return reject(new Error(`no WebSocket: ${head.split("\r\n")[0]}`));
        open = true;
        buf = buf.subarray(end + 4);
        resolve();
      }
      for (;;) {
        if (buf.length < 2) return;
        const op = buf[0] & 0x0f;
        let len = buf[1] & 0x7f;
        let at = 2;
        if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); at = 4; }
        else if (len === 127) { if (buf.length < 10) return; len = Number(buf.readBigUInt64BE(2)); at = 10; }
        if (buf.length < at + len) return;
        const payload = buf.subarray(at, at + len);
        buf = buf.subarray(at + len);
        if (op === 1) deliver(payload.toString());
        else if (op === 8) deliver(null);
      }
    });
  });
  const send = (text) => {
    const data = Buffer.from(text);
    const mask = randomBytes(4);
    const head = data.length < 126 ? Buffer.from([0x81, 0x80 | data.length])
      : Buffer.from([0x81, 0x80 | 126, data.length >> 8, data.length & 0xff]);
    sock.write(Buffer.concat([head, mask, data.map((b, i) => b ^ mask[i % 4])]));
  };
  const next = () => new Promise((resolve, reject) => {
    if (frames.length) return resolve(frames.shift());
    const timer = setTimeout(() => reject(new Error("no frame within 5 s")), 5000);
    waiting.push((t) => { clearTimeout(timer); resolve(t); });
  });
  return {
    opened,
    /** Sends a request frame and returns its response (notifications in between are skipped). */
    async request(text) {
      const id = String(JSON.parse(text).id);
      send(text);
      for (;;) {
        const frame = await next();
        if (frame === null) throw new Error("the socket closed");
        const v = JSON.parse(frame);
        if (v.kind === "resp" && v.reqId === id) return { text: frame, v };
      }
    },
    close: () => sock.destroy(),
  };
}

// ---- checks -----------------------------------------------------------------------------------

let passed = 0, failed = 0;
async function step(n, title, run) {
  try {
    const detail = await run();
    passed++;
    console.log(`ok   step ${n} - ${title}: ${detail}`);
  } catch (e) {
    failed++;
    console.log(`FAIL step ${n} - ${title}: ${e.message}`);
  }
}
const expect = (ok, why) => { if (!ok) throw new Error(why); };

/** The same keys as the seed's frame, the same types, and the same values where they are fixed. */
function sameShape(got, seed, fixed, path = "") {
  for (const [k, v] of Object.entries(seed)) {
    expect(k in got, `${path}${k} is missing (got ${JSON.stringify(got)})`);
    if (v && typeof v === "object") sameShape(got[k], v, fixed, `${path}${k}.`);
    else expect(typeof got[k] === typeof v, `${path}${k} is a ${typeof got[k]}, the seed's a ${typeof v}`);
    if (fixed.includes(`${path}${k}`)) expect(got[k] === v, `${path}${k} is ${JSON.stringify(got[k])}, the seed's ${JSON.stringify(v)}`);
  }
  for (const k of Object.keys(got)) expect(k in seed, `${path}${k} is not in the seed's frame`);
}

const swiftUrl = (domain, body) => SWIFT_URL.replace("https://", "http://")
  .replace("{swiftDomain}", domain).replace("{relativePath}", body.relativePath)
  .replace("{temp_url_sig}", body.queryParams.temp_url_sig).replace("{temp_url_expires}", body.queryParams.temp_url_expires);

// ---- the run ----------------------------------------------------------------------------------

const service = await startService();
const host = new URL(service.url).host;
const account = "acme";
const work = mkdtempSync(join(tmpdir(), "attache-lp-"));
const file = pngOfSize(1000);
let ws;
try {
  // Start from file sharing switched off, so that step 1 is what turns it on.
  const admin = await (await fetch(`${service.url}/api/login`, {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ account, username: "ada", password: PASSWORD }),
  })).json();
  const off = await fetch(`${service.url}/api/account`, {
    method: "PATCH", headers: { authorization: `Bearer ${admin.token}`, "content-type": "application/json" },
    body: JSON.stringify({ file_sharing_enabled: false }),
  });
  if (!off.ok) throw new Error(`could not switch file sharing off first: ${off.status}`);

  let bearer; // the admin's, from step 1
  await step(1, "Enable File Sharing", async () => {
    // In a folder of its own (curl -c writes its cookie jar there) beside set_site_property.sh.
    symlinkSync(join(ROOT, "scripts/set_site_property.sh"), join(work, "set_site_property.sh"));
    const script = `set -e\n${STEP1.replaceAll("https://", "http://")}\necho "bearer=$LP_BEARER"\n`;
    const r = spawnSync("bash", ["-c", script], {
      cwd: work, encoding: "utf8",
      env: { ...process.env, LP_USER: "ada", LP_PASS: PASSWORD, LP_AGENTVEP: host, LP_ACCOUNT: account, LP_SCHEME: "http" },
    });
    expect(r.status === 0, `the seed's commands failed (${r.status}): ${r.stderr.trim().split("\n").pop()}`);
    bearer = /bearer=(\S*)/.exec(r.stdout)?.[1] ?? "";
    expect(/^[0-9a-f]{64}$/.test(bearer), `no bearer from the login: ${r.stdout.trim()}`);
    const set = JSON.parse(r.stdout.split("\n").find((l) => l.startsWith("[")) ?? "null");
    expect(set?.[0]?.id === "messaging.file.sharing.enabled" && set[0].propertyValue.value === true, `the property: ${r.stdout}`);
    const acct = await (await fetch(`${service.url}/api/account`, { headers: { authorization: `Bearer ${bearer}` } })).json();
    expect(acct.plan.file_sharing_enabled === true, "the account's file sharing is still off");
    return "login?v=1.1 gave a bearer; set_site_property.sh set messaging.file.sharing.enabled=true";
  });

  // The Messaging Window API's prerequisite: a consumer JWT.
  const { jwt } = await (await fetch(`${service.url}/api/account/${account}/signup`, { method: "POST" })).json();
  ws = webSocket(`ws://${host}/ws_api/account/${account}/messaging/consumer?v=3`, { Authorization: `jwt ${jwt}` });
  await ws.opened;

  let conversationId, upload, relativePath, download;
  await step(2, "Create a Conversation", async () => {
    const { v } = await ws.request(REQUEST_CONVERSATION);
    expect(v.code === 200 && v.reqId === "1", `answer: ${JSON.stringify(v)}`);
    conversationId = v.body.conversationId;
    expect(typeof conversationId === "string" && conversationId, "no conversationId");
    return `conversationId ${conversationId} (no agent has joined, nor will)`;
  });

  await step(3, "Request Upload URL", async () => {
    const { v } = await ws.request(REQUEST_UPLOAD);
    expect(v.code === 200, `refused: ${JSON.stringify(v)}`);
    sameShape(v, JSON.parse(UPLOAD_RESPONSE), ["kind", "reqId", "code", "type"]);
    upload = v.body;
    relativePath = upload.relativePath;
    return `${v.type} reqId "${v.reqId}": ${relativePath}`;
  });

  await step(4, "Upload File to Storage", async () => {
    const r = await fetch(swiftUrl(host, upload), { method: "PUT", body: file });
    expect(r.status === 201, `PUT answered ${r.status} ${await r.text()}`);
    return `PUT ${file.length} bytes of PNG: 201 CREATED`;
  });

  await step(5, "Publish Message", async () => {
    const preview = png(32, 24).toString("base64");
    const frame = PUBLISH.replace("__CONVERSATION_ID__", conversationId).replace("__relative_path__", relativePath)
      .replace("<Base64Image>", preview);
    const { v } = await ws.request(frame);
    expect(v.code === 200 && v.reqId === "22" && v.type === "ms.PublishEventResponse", `answer: ${JSON.stringify(v)}`);
    // Still no agent: the conversation waits in the queue, which shows its file count.
    const queue = await (await fetch(`${service.url}/api/contacts?state=queued`, { headers: { authorization: `Bearer ${bearer}` } })).json();
    const waiting = Array.isArray(queue) ? queue.find((c) => c.id === conversationId) : undefined;
    expect(waiting?.state === "queued" && waiting.files === 1, `the queue shows ${JSON.stringify(waiting ?? queue)}`);
    return `hosted/file "LivePerson logo" published: ${v.type}, messageId ${v.body.messageId}; queued, 1 file waiting`;
  });

  await step(6, "Request Download URL", async () => {
    const { v } = await ws.request(REQUEST_DOWNLOAD.replace("__relative_path__", relativePath));
    expect(v.code === 200, `refused: ${JSON.stringify(v)}`);
    sameShape(v, JSON.parse(DOWNLOAD_RESPONSE), ["kind", "code", "type"]);
    expect(v.reqId === "33", `reqId ${v.reqId}, not the request's "33"`);
    download = v.body;
    return `${v.type} reqId "${v.reqId}": ${download.relativePath}`;
  });

  await step(7, "Download File From Storage", async () => {
    const r = await fetch(swiftUrl(host, download));
    expect(r.status === 200, `GET answered ${r.status}`);
    const got = Buffer.from(await r.arrayBuffer());
    expect(got.equals(file), `the bytes differ (${got.length} bytes)`);
    return `GET: 200, the same ${got.length} bytes`;
  });
} catch (e) {
  failed++;
  console.log(`FAIL the run stopped: ${e.message}`);
} finally {
  ws?.close();
  await service.stop();
  rmSync(work, { recursive: true, force: true });
}
console.log(`liveperson: ${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 && passed === 7 ? 0 : 1;
