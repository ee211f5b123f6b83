// Plays the customer against the service's visitor API, keeping the `vvcu` cookie as a browser would.

export class Customer {
  constructor(base) {
    this.base = base;
    this.cookie = "";
  }

  async call(method, path, body) {
    const res = await fetch(this.base + path, {
      method,
      headers: {
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...(this.cookie ? { cookie: this.cookie } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    for (const c of res.headers.getSetCookie?.() ?? []) {
      const pair = c.split(";")[0];
      if (pair.startsWith("vvcu=")) this.cookie = pair;
    }
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status}: ${text}`);
    return text ? JSON.parse(text) : null;
  }

  open(account, name, message) {
    return this.call("POST", "/api/visitor/contacts", { account, name, message });
  }

  send(contactId, body) {
    return this.call("POST", `/api/visitor/contacts/${contactId}/messages`, { body });
  }

  messages(contactId) {
    return this.call("GET", `/api/visitor/contacts/${contactId}/messages`);
  }

  contact(contactId) {
    return this.call("GET", `/api/visitor/contacts/${contactId}`);
  }

  /**
   * Sends a file the tus way, as the widget does: create with metadata, then PATCH the bytes, in
   * two halves when `halfway` (awaited between them) is given.
   */
  async upload(contactId, name, type, bytes, description, { halfway } = {}) {
    const b64 = (v) => Buffer.from(v).toString("base64");
    const meta = [["contact", contactId], ["filename", name], ["filetype", type]];
    if (description) meta.push(["description", description]);
    const tus = { "tus-resumable": "1.0.0", cookie: this.cookie };
    const created = await fetch(`${this.base}/api/uploads`, {
      method: "POST",
      headers: { ...tus, "upload-length": String(bytes.length), "upload-metadata": meta.map(([k, v]) => `${k} ${b64(v)}`).join(",") },
    });
    if (created.status !== 201) throw new Error(`tus create: HTTP ${created.status}: ${await created.text()}`);
    const location = new URL(created.headers.get("location"), this.base).href;
    const cut = halfway ? Math.floor(bytes.length / 2) : 0;
    for (const [offset, part] of cut ? [[0, bytes.subarray(0, cut)], [cut, bytes.subarray(cut)]] : [[0, bytes]]) {
      if (offset > 0) await halfway();
      const patched = await fetch(location, {
        method: "PATCH",
        headers: { ...tus, "upload-offset": String(offset), "content-type": "application/offset+octet-stream" },
        body: part,
      });
      if (patched.status !== 204) throw new Error(`tus patch: HTTP ${patched.status}: ${await patched.text()}`);
    }
  }
}

