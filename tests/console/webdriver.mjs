// A minimal W3C WebDriver client over fetch: just what the console tests need.
// WebKitWebDriver (behind tauri-driver) answers element references under the W3C key below.

export const ELEMENT_KEY = "element-6066-11e4-a52e-4f735466cecf";

export class WebDriverError extends Error {}

export class Session {
  constructor(base, id) {
    this.base = base;
    this.id = id;
  }

  static async create(base, application) {
    const body = { capabilities: { alwaysMatch: { "tauri:options": { application } } } };
    const value = await request(base, "POST", "/session", body);
    return new Session(base, value.sessionId);
  }

  cmd(method, path, body) {
    return request(this.base, method, `/session/${this.id}${path}`, body);
  }

  async delete() {
    await this.cmd("DELETE", "");
  }

  /** Runs a script in the page; `arguments` holds args. */
  exec(script, ...args) {
    return this.cmd("POST", "/execute/sync", { script, args });
  }

  /** Runs an async script: it calls `arguments[arguments.length - 1]` with its answer. */
  execAsync(script, ...args) {
    return this.cmd("POST", "/execute/async", { script, args });
  }

  async find(css) {
    const value = await this.cmd("POST", "/element", { using: "css selector", value: css });
    return value[ELEMENT_KEY] ?? value.ELEMENT;
  }

  async click(css) {
    // An element redrawn between finding and clicking is found again (a few times at most).
    for (let tries = 1; ; tries++) {
      const el = await this.find(css);
      try {
        await this.cmd("POST", `/element/${el}/click`, {});
        return;
      } catch (e) {
        if (tries >= 3 || !/stale element reference/.test(e.message)) throw e;
      }
    }
  }

  async type(css, text, { clear = true } = {}) {
    const el = await this.find(css);
    if (clear) await this.cmd("POST", `/element/${el}/clear`, {});
    await this.cmd("POST", `/element/${el}/value`, { text });
  }

  /** Presses keys with the Actions API, e.g. `chord(["\uE008", "\uE007"])` for Shift+Enter. */
  async chord(keys) {
    const down = keys.map((value) => ({ type: "keyDown", value }));
    const up = [...keys].reverse().map((value) => ({ type: "keyUp", value }));
    await this.cmd("POST", "/actions", { actions: [{ type: "key", id: "keyboard", actions: [...down, ...up] }] });
    await this.cmd("DELETE", "/actions");
  }

  async text(css) {
    const el = await this.find(css);
    return this.cmd("GET", `/element/${el}/text`);
  }

  /** The DOM text of the first match (WebKitWebDriver's rendered text drops ellipsised boxes). */
  content(css) {
    return this.exec("const e = document.querySelector(arguments[0]); return e ? e.textContent : null;", css);
  }

  async screenshot() {
    // WebKitWebDriver takes the snapshot at the page's next rendering update; a still page (no
    // blinking caret) may not have one for ~30 s. A one-pixel ticker keeps frames coming meanwhile.
    await this.exec(`
      const tick = document.createElement("div");
      tick.style.cssText = "position:fixed;right:0;bottom:0;width:1px;height:1px;pointer-events:none;z-index:2147483647";
      document.body.append(tick);
      let n = 0;
      const timer = setInterval(() => { tick.style.background = (n++ % 2) ? "rgba(0,0,0,0.01)" : "rgba(0,0,0,0.02)"; }, 16);
      setTimeout(() => { clearInterval(timer); tick.remove(); }, 5000);
    `);
    return Buffer.from(await this.cmd("GET", "/screenshot"), "base64");
  }

  /** Polls `fn` (async, truthy when done) until it holds or `timeout` ms pass. */
  async waitFor(what, fn, timeout = 15000) {
    const start = Date.now();
    let last;
    for (;;) {
      try {
        last = await fn();
        if (last) return last;
      } catch (e) {
        last = e;
      }
      if (Date.now() - start > timeout) {
        throw new WebDriverError(`timed out after ${timeout} ms waiting for ${what} (last: ${last})`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Waits until a CSS selector matches a displayed element. */
  waitVisible(css, timeout) {
    return this.waitFor(
      `${css} to be visible`,
      () =>
        this.exec(
          `const e = document.querySelector(arguments[0]);
           return !!e && !e.closest('[hidden]') && e.getClientRects().length > 0;`,
          css,
        ),
      timeout,
    );
  }

  waitScreen(screen, timeout) {
    return this.waitFor(`screen ${screen}`, async () => (await this.exec("return document.body.dataset.screen")) === screen, timeout);
  }
}

async function request(base, method, path, body) {
  const res = await fetch(base + path, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    throw new WebDriverError(`${method} ${path}: HTTP ${res.status}: ${text.slice(0, 300)}`);
  }
  if (!res.ok || (json.value && json.value.error)) {
    const v = json.value ?? {};
    throw new WebDriverError(`${method} ${path}: ${v.error ?? res.status}: ${v.message ?? text.slice(0, 300)}`);
  }
  return json.value;
}
