// Attaché customer widget: opens a contact, chats live, sends files with tus-js-client (bundled as
// tus.min.js). Served by the service on its own origin, alone or inside a site's frame (embed.js):
// the browser's vvcu cookie identifies the customer. Strings come from i18n.js.
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const I = window.AttacheI18n;
  const t = I.t;
  const params = new URLSearchParams(location.search);
  const account = params.get("account") || document.documentElement.dataset.account || "";
  const embedded = params.get("embed") === "1" && window.parent !== window;
  const storeKey = `attache.contact.${account}`;
  const CHUNK = 512 * 1024;
  // Waits between tries of a failed request; a dropped connection also retries at once when the
  // browser says it is back online.
  const RETRY_DELAYS = [0, 1000, 2000, 4000, 8000, 10000, 15000, 20000, 30000, 30000, 30000, 30000, 60000, 60000, 60000];
  let contact = null;
  let socket = null;
  let retry = 0;
  let pending = []; // chosen files, not yet sent
  const sending = new Map(); // key -> { upload, row, name }
  const shown = new Map();

  I.pick(params.get("lang"));
  document.documentElement.lang = I.lang;
  I.apply(document);

  class ServiceError extends Error {
    constructor(code, message, status) {
      super(message);
      this.code = code;
      this.status = status;
    }
  }

  const api = async (method, path, body) => {
    let res;
    try {
      res = await fetch(path, {
        method,
        credentials: "same-origin",
        // Every change is JSON (the service refuses other bodies on cookie requests).
        headers: method === "GET" ? {} : { "content-type": "application/json" },
        body: method === "GET" ? undefined : JSON.stringify(body || {}),
      });
    } catch (_) {
      throw new ServiceError("network", t("error.network"), 0);
    }
    const data = res.status === 204 ? null : await res.json().catch(() => null);
    if (!res.ok) throw new ServiceError(data && data.error, (data && data.message) || t("error.status", { status: res.status }), res.status);
    return data;
  };

  /** A service refusal in the customer's language (by code), else its own message. */
  const reason = (code, message) => I.error(code, message, { limit: (String(message).match(/\d+(\.\d+)? MiB/) || [""])[0] });

  function setStatus(text) { $("status").textContent = text; }

  function describe(c) {
    if (c.state === "queued") return t("status.queued");
    if (c.state === "active") return t("status.active", { agent: c.agent_name || t("an-agent") });
    return t("status.closed");
  }

  function render(m) {
    let li = shown.get(m.id);
    if (!li) {
      li = document.createElement("li");
      shown.set(m.id, li);
      $("transcript").appendChild(li);
    }
    li.className = `msg ${m.sender}`;
    li.dataset.id = m.id;
    li.replaceChildren();
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = m.sender === "customer" ? t("you") : m.sender_name;
    if (m.created_at) {
      const when = document.createElement("time");
      when.dateTime = m.created_at;
      when.textContent = I.time(m.created_at);
      who.append(" · ", when);
    }
    li.appendChild(who);
    const a = m.attachment;
    if (a && a.removed) {
      // Redacted or expired: the tombstone stands where the file was; nothing links to it.
      const r = a.removed;
      const gone = document.createElement("span");
      gone.className = "tombstone";
      gone.dataset.removed = r.kind;
      gone.textContent = r.kind === "redacted"
        ? t("file.redacted", { name: a.name, by: r.by || t("an-agent"), time: I.time(r.at), reason: r.reason || "" })
        : t("file.expired", { name: a.name });
      li.appendChild(gone);
    } else if (a) {
      const link = document.createElement("a");
      link.className = "file-link";
      link.href = a.url;
      link.target = "_blank";
      link.rel = "noopener";
      link.textContent = a.description || a.name;
      li.appendChild(link);
      const meta = document.createElement("span");
      meta.className = "file-meta";
      meta.textContent = t("file.size", { name: a.name, size: I.size(a.size) });
      li.appendChild(meta);
      if (a.preview_url) {
        const img = document.createElement("img");
        img.className = "preview";
        img.src = a.preview_url;
        img.alt = t("preview.alt", { name: a.description || a.name });
        const wrap = document.createElement("a");
        wrap.href = a.url;
        wrap.target = "_blank";
        wrap.rel = "noopener";
        wrap.appendChild(img);
        li.appendChild(wrap);
      }
    } else {
      const body = document.createElement("span");
      body.className = "body";
      body.textContent = m.body;
      li.appendChild(body);
    }
    li.scrollIntoView({ block: "end" });
  }

  function note(text) {
    const li = document.createElement("li");
    li.className = "msg note";
    li.textContent = text;
    $("transcript").appendChild(li);
    li.scrollIntoView({ block: "end" });
  }

  function showContact(c) {
    contact = c;
    localStorage.setItem(storeKey, c.id);
    $("start").hidden = true;
    $("chat").hidden = false;
    $("end").hidden = c.state === "closed";
    $("composer").hidden = c.state === "closed";
    setStatus(describe(c));
  }

  async function loadTranscript() {
    const messages = await api("GET", `/api/visitor/contacts/${contact.id}/messages`);
    messages.forEach(render);
  }

  function connect() {
    if (!contact || contact.state === "closed") return;
    const proto = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${proto}://${location.host}/api/visitor/events`);
    socket.onmessage = (e) => {
      const ev = JSON.parse(e.data);
      if (ev.type === "ready") {
        // Subscribed: whatever happened before this socket (an agent accepting, a message) is
        // fetched now, so nothing falls between the page's first read and the live feed.
        retry = 0;
        sync();
        return;
      }
      if (ev.message && ev.message.contact_id === contact.id) render(ev.message);
      if (ev.contact && ev.contact.id === contact.id) {
        const before = contact.state;
        showContact(ev.contact);
        if (before !== ev.contact.state) {
          if (ev.type === "contact_accepted") note(t("note.joined", { agent: ev.contact.agent_name || t("An-agent") }));
          if (ev.type === "contact_closed") {
            note(t("note.ended"));
            socket.close();
          }
        }
      }
      if (ev.type === "attachment_removed" && ev.contact_id === contact.id) sync();
      // A check's verdict shows on the file's check line (the agent's files too: a refusal of
      // the agent's file is not the customer's error).
      checkStatus(ev);
    };
    socket.onclose = () => {
      socket = null;
      if (!contact || contact.state === "closed") return;
      setStatus(navigator.onLine === false ? t("status.offline") : t("status.reconnecting"));
      const wait = Math.min(10000, 500 * 2 ** retry++);
      setTimeout(connect, wait); // the new socket's "ready" syncs what was missed
    };
  }

  // Each file's checks on a line of its own: checking, then clean (delivered) or blocked.
  function checkStatus(ev) {
    if (ev.type === "upload_checking" && ev.contact_id === contact.id) {
      showCheck(ev.name, t("check.checking", { name: ev.name }), "checking");
    } else if (ev.type === "attachment_ready" && ev.message.contact_id === contact.id && ev.message.attachment) {
      const name = ev.message.attachment.name;
      showCheck(name, t("check.clean", { name }), "clean");
    } else if (ev.type === "upload_refused" && ev.contact_id === contact.id) {
      const why = ev.error ? reason(ev.error.error, ev.error.message) : t("upload.refused.default");
      // The check's own word on the file: it replaces the upload's answer if that came first.
      showCheck(ev.name, t("check.blocked", { name: ev.name, reason: why }), "blocked");
    }
  }

  const checkLine = (name) => Array.from($("checks").children).find((li) => li.dataset.name === name);

  /** The upload's answer refusing the customer's own file, said once: unless the live event of the
   * check said it already (the event's words then stay; an event arriving later replaces these). */
  function refused(name, text) {
    if (checkLine(name)?.dataset.state !== "blocked") showCheck(name, text, "blocked");
  }

  const MAX_CHECK_LINES = 4;

  /** The check line of the file with this name (made when it is first needed), set to `text`. */
  function showCheck(name, text, state) {
    const list = $("checks");
    let line = checkLine(name);
    if (!line) {
      line = document.createElement("li");
      line.className = "check-status";
      line.dataset.name = name;
      list.appendChild(line);
      // The latest few files only: the transcript keeps the rest.
      while (list.children.length > MAX_CHECK_LINES) list.firstElementChild.remove();
    }
    line.textContent = text;
    line.dataset.state = state;
    list.hidden = false;
  }

  const STAGE = { queued: 0, active: 1, closed: 2 };

  async function sync() {
    if (!contact) return;
    try {
      const c = await api("GET", `/api/visitor/contacts/${contact.id}`);
      const before = contact.state; // read after the fetch: a live event may have moved it meanwhile
      // A contact only moves forward (queued, active, closed): a read that left before a live
      // event arrived must not take the page back.
      if (STAGE[c.state] < STAGE[before]) return;
      showContact(c);
      await loadTranscript();
      if (before === "queued" && c.state === "active") note(t("note.joined", { agent: c.agent_name || t("An-agent") }));
      if (before !== "closed" && c.state === "closed") {
        note(t("note.ended"));
        socket?.close();
      }
    } catch (_) { /* offline: the socket's reconnect syncs again */ }
  }

  async function resume() {
    const id = localStorage.getItem(storeKey);
    if (!id) return;
    try {
      const c = await api("GET", `/api/visitor/contacts/${id}`);
      if (c.state === "closed") {
        localStorage.removeItem(storeKey);
        return;
      }
      showContact(c);
      await loadTranscript();
      connect();
      resumeUploads();
    } catch (_) {
      localStorage.removeItem(storeKey);
    }
  }

  $("start").addEventListener("submit", async (e) => {
    e.preventDefault();
    $("start-error").textContent = "";
    try {
      const c = await api("POST", "/api/visitor/contacts", {
        account,
        name: $("name").value.trim() || null,
        message: $("first").value.trim() || null,
      });
      showContact(c);
      await loadTranscript();
      connect();
      $("text").focus();
    } catch (err) {
      $("start-error").textContent = reason(err.code, err.message);
    }
  });

  $("end").addEventListener("click", async () => {
    if (!contact) return;
    try {
      showContact(await api("POST", `/api/visitor/contacts/${contact.id}/close`));
      note(t("note.you-ended"));
    } catch (err) {
      $("chat-error").textContent = reason(err.code, err.message);
    }
  });

  // ---- files: the paperclip, the camera, a drop or a paste choose them; the text field becomes
  // their optional description; Enter sends them, each with its own progress and Cancel ----
  function showPending() {
    $("pending").hidden = pending.length === 0;
    window.AttachePending.render($("pending-list"), pending, (file) => {
      pending = pending.filter((f) => f !== file);
      showPending();
      $("text").focus();
    });
    const names = pending.map((f) => f.name);
    $("pending-name").textContent = pending.length === 1
      ? `${pending[0].name} (${I.size(pending[0].size)})`
      : pending.length > 1 ? t("pending.files", { count: pending.length, names: names.join(", ") }) : "";
    $("text").placeholder = t(pending.length === 0 ? "composer.placeholder" : pending.length === 1 ? "composer.placeholder.file" : "composer.placeholder.files");
  }

  function choose(files) {
    // Only files with bytes (a dropped folder has none); the same file twice is chosen once; at
    // most MAX_FILES, the rest refused in words.
    const max = window.AttachePending.MAX_FILES;
    const left = [];
    for (const f of files) {
      if (!(f instanceof File) || (f.size === 0 && f.type === "")) continue;
      if (pending.some((p) => p.name === f.name && p.size === f.size && p.lastModified === f.lastModified)) continue;
      if (pending.length < max) pending.push(f);
      else left.push(f.name);
    }
    showPending();
    $("chat-error").textContent = left.length ? t("pending.over-cap", { max, count: left.length, names: left.join(", ") }) : "";
    $("text").focus();
  }
  function clearPending() {
    pending = [];
    $("file").value = "";
    $("camera").value = "";
    showPending();
  }
  $("clip").addEventListener("click", () => $("file").click());
  $("camera-button").addEventListener("click", () => $("camera").click());
  $("file").addEventListener("change", () => choose($("file").files));
  $("camera").addEventListener("change", () => choose($("camera").files));
  $("pending-remove").addEventListener("click", () => { clearPending(); $("text").focus(); });

  // Drop anywhere on the open chat; paste files into the message field (text pastes as text).
  const canTakeFiles = () => contact && contact.state !== "closed" && !$("chat").hidden;
  let dragDepth = 0;
  const hasFiles = (e) => e.dataTransfer && Array.from(e.dataTransfer.types || []).includes("Files");
  document.addEventListener("dragenter", (e) => {
    if (!hasFiles(e) || !canTakeFiles()) return;
    e.preventDefault();
    dragDepth++;
    $("dropzone").hidden = false;
  });
  // A file dropped where the chat cannot take it must not open in the frame instead.
  document.addEventListener("dragover", (e) => { if (hasFiles(e)) e.preventDefault(); });
  document.addEventListener("dragleave", () => { if (--dragDepth <= 0) { dragDepth = 0; $("dropzone").hidden = true; } });
  document.addEventListener("drop", (e) => {
    dragDepth = 0;
    $("dropzone").hidden = true;
    if (!hasFiles(e)) return;
    e.preventDefault();
    if (canTakeFiles()) choose(e.dataTransfer.files);
  });
  document.addEventListener("paste", (e) => {
    const files = e.clipboardData ? Array.from(e.clipboardData.files || []) : [];
    if (!files.length || !canTakeFiles()) return;
    e.preventDefault();
    choose(files);
  });

  // The outbox: a file being sent stays in the browser's IndexedDB until it has arrived, so a
  // page reload picks it up again at once; tus-js-client keeps the upload's URL under the file's
  // fingerprint (contact, name, type, size, last change), so it continues where it stopped. A
  // changed file has another fingerprint: a new upload.
  const outbox = (() => {
    let dbp = null;
    const open = () => (dbp ||= new Promise((resolve, reject) => {
      const req = indexedDB.open("attache-outbox", 1);
      req.onupgradeneeded = () => req.result.createObjectStore("files", { keyPath: "key" });
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    }));
    const run = async (mode, fn) => {
      const db = await open();
      return new Promise((resolve, reject) => {
        const tx = db.transaction("files", mode);
        const req = fn(tx.objectStore("files"));
        tx.oncomplete = () => resolve(req && req.result);
        tx.onerror = () => reject(tx.error);
      });
    };
    return {
      put: (rec) => run("readwrite", (s) => s.put(rec)).catch(() => {}),
      remove: (key) => run("readwrite", (s) => s.delete(key)).catch(() => {}),
      all: () => run("readonly", (s) => s.getAll()).catch(() => []),
    };
  })();

  const fingerprint = (file, contactId) =>
    ["attache", account, contactId, file.name, file.type, file.size, file.lastModified].join("/");

  function uploadRow(key, name) {
    const li = document.createElement("li");
    li.className = "upload";
    li.dataset.key = key;
    const label = document.createElement("span");
    label.className = "upload-name";
    label.textContent = t("upload.sending", { name });
    const bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", t("upload.sending", { name }));
    const state = document.createElement("span");
    state.className = "upload-state";
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "link";
    cancel.textContent = t("upload.cancel");
    cancel.setAttribute("aria-label", t("upload.cancel.label", { name }));
    li.append(label, bar, state, cancel);
    $("uploads").appendChild(li);
    return { li, bar, state, cancel };
  }

  function finish(key) {
    const s = sending.get(key);
    sending.delete(key);
    s?.row.li.remove();
    outbox.remove(key);
  }

  /** Sends one file over tus (resuming a stored upload of the same file); resolves when done. */
  function send(rec, resumed) {
    const { key, file, contactId, description } = rec;
    const row = uploadRow(key, file.name);
    checkLine(file.name)?.remove(); // a new try of a file of this name: its line starts anew
    const metadata = { contact: contactId, filename: file.name, filetype: file.type || "application/octet-stream" };
    if (description) metadata.description = description;
    return new Promise((resolve) => {
      const upload = new tus.Upload(file, {
        endpoint: new URL("/api/uploads", location.href).href,
        chunkSize: CHUNK,
        retryDelays: RETRY_DELAYS,
        metadata,
        fingerprint: async () => fingerprint(file, contactId),
        storeFingerprintForResuming: true,
        removeFingerprintOnSuccess: true,
        withCredentials: true,
        onShouldRetry: (err) => {
          const status = err.originalResponse ? err.originalResponse.getStatus() : 0;
          // Network failures (offline included) and the service's hiccups are tried again;
          // a refusal (4xx) is final.
          return status === 0 || status >= 500 || status === 409 || status === 423;
        },
        onProgress: (done, total) => {
          row.bar.value = total ? Math.floor((done / total) * 100) : 0;
          row.state.textContent = navigator.onLine === false ? t("upload.waiting") : t("upload.progress", { done: I.size(done), total: I.size(total) });
        },
        onSuccess: () => {
          row.bar.value = 100;
          finish(key);
          resolve(true);
        },
        onError: (err) => {
          const res = err.originalResponse;
          let data = null;
          try { data = res && JSON.parse(res.getBody()); } catch (_) { /* not JSON */ }
          const why = data && data.message ? reason(data.error, data.message)
            : res ? t("error.status", { status: res.getStatus() }) : t("error.network");
          if (!res && navigator.onLine === false) {
            // Out of tries while offline: the "online" listener below continues it.
            row.state.textContent = t("upload.waiting");
            return;
          }
          finish(key);
          // A refusal is said once, on the file's own line (the service's live event about it
          // lands on the same line); the error line keeps what is not the file's (the network).
          if (res && res.getStatus() < 500) refused(file.name, t("upload.failed", { name: file.name, reason: why }));
          else $("chat-error").textContent = t("upload.failed", { name: file.name, reason: why });
          resolve(false);
        },
      });
      sending.set(key, { upload, row, name: file.name });
      row.cancel.addEventListener("click", async () => {
        await upload.abort(true).catch(() => {});
        finish(key);
        $("chat-error").textContent = t("upload.cancelled", { name: file.name });
        $("text").focus();
        resolve(false);
      });
      upload.findPreviousUploads().then((previous) => {
        if (previous.length) {
          upload.resumeFromPreviousUpload(previous[0]);
          if (!resumed) note(t("upload.resumed", { name: file.name }));
        }
        upload.start();
      });
    });
  }

  // Back online: every upload waiting for its next try goes on now, from the offset the service has.
  window.addEventListener("online", () => {
    for (const { upload } of sending.values()) upload.abort().then(() => upload.start());
  });
  window.addEventListener("offline", () => setStatus(t("status.offline")));
  window.addEventListener("online", () => {
    if (!contact) return setStatus(t("status.idle"));
    setStatus(describe(contact));
    sync();
  });

  async function resumeUploads() {
    for (const rec of await outbox.all()) {
      if (rec.contactId !== contact.id) {
        if (rec.account === account) outbox.remove(rec.key); // a chat that is gone
        continue;
      }
      if (!sending.has(rec.key)) send(rec, true);
    }
  }

  $("composer").addEventListener("submit", async (e) => {
    e.preventDefault();
    const text = $("text").value.trim();
    $("chat-error").textContent = "";
    try {
      if (pending.length) {
        const files = pending;
        clearPending();
        $("text").value = "";
        const recs = files.map((file) => ({ key: fingerprint(file, contact.id), account, contactId: contact.id, file, description: text || null }));
        await Promise.all(recs.map((rec) => outbox.put(rec)));
        await Promise.all(recs.filter((rec) => !sending.has(rec.key)).map((rec) => send(rec, false)));
      } else if (text) {
        $("text").value = "";
        render(await api("POST", `/api/visitor/contacts/${contact.id}/messages`, { body: text }));
      }
    } catch (err) {
      $("chat-error").textContent = reason(err.code, err.message);
    } finally {
      $("text").focus();
    }
  });

  // ---- inside a site's frame (embed.js): minimise, Escape, focus; and cookies that a browser
  // may refuse to a frame, in which case the chat opens in its own tab ----
  const parentOrigin = (() => {
    try { return new URL(document.referrer).origin; } catch (_) { return "*"; }
  })();
  const toParent = (type) => { if (embedded) window.parent.postMessage({ attache: type }, parentOrigin); };
  if (embedded) {
    document.documentElement.classList.add("embedded");
    $("minimize").hidden = false;
    $("minimize").addEventListener("click", () => toParent("close"));
    document.addEventListener("keydown", (e) => { if (e.key === "Escape") toParent("close"); });
    window.addEventListener("message", (e) => {
      if (e.source !== window.parent || !e.data || e.data.attache !== "focus") return;
      ($("start").hidden ? $("text") : $("first")).focus();
    });
  }

  async function cookiesWork() {
    try {
      const res = await fetch("cookie", { credentials: "same-origin", cache: "no-store" });
      return (await res.json()).cookie === true;
    } catch (_) {
      return true; // offline: say nothing yet
    }
  }

  async function applyLooks() {
    try {
      const c = await api("GET", `/api/widget/${encodeURIComponent(account)}`);
      if (c.color) {
        const root = document.documentElement.style;
        root.setProperty("--accent", c.color);
        const [r, g, b] = [1, 3, 5].map((i) => parseInt(c.color.slice(i, i + 2), 16) / 255)
          .map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
        const light = 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.18;
        root.setProperty("--on-accent", light ? "#111827" : "#ffffff");
      }
      if (c.greeting) {
        $("greeting").textContent = c.greeting;
        $("greeting").hidden = false;
      }
    } catch (_) { /* the defaults */ }
  }

  async function init() {
    if (!account) {
      $("start-error").textContent = t("start.no-account");
      $("start").querySelector("button").disabled = true;
      return;
    }
    $("title").textContent = t("title.account", { account });
    document.title = t("title.account", { account });
    applyLooks();
    if (!(await cookiesWork())) {
      const own = new URL(location.href);
      own.searchParams.delete("embed");
      own.searchParams.set("lang", I.lang);
      $("cookies-open").href = own.href;
      $("start").hidden = true;
      $("cookies").hidden = false;
      return;
    }
    resume();
  }
  init();
})();
