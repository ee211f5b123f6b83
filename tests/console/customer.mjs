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
}
