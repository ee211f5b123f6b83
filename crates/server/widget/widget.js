// Attaché customer widget: opens a contact, chats live, sends files over tus 1.0.
// Same origin as the service: the browser's vvcu cookie identifies the customer.
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const account = params.get("account") || document.documentElement.dataset.account || "";
  const storeKey = `attache.contact.${account}`;
  const CHUNK = 1024 * 1024;
  let contact = null;
  let socket = null;
  let retry = 0;
  let pendingFile = null;
  const shown = new Map();

  const api = async (method, path, body) => {
    const res = await fetch(path, {
      method,
      credentials: "same-origin",
      // Every change is JSON (the service refuses other bodies on cookie requests).
      headers: method === "GET" ? {} : { "content-type": "application/json" },
      body: method === "GET" ? undefined : JSON.stringify(body || {}),
    });
    const data = res.status === 204 ? null : await res.json().catch(() => null);
    if (!res.ok) throw new Error((data && data.message) || `the service answered ${res.status}`);
    return data;
  };

  const fmtSize = (n) => n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} KB` : `${(n / 1048576).toFixed(1)} MB`;

  function setStatus(text) { $("status").textContent = text; }

  function describe(c) {
    if (c.state === "queued") return "Waiting for an agent…";
    if (c.state === "active") return `You are chatting with ${c.agent_name || "an agent"}`;
    return "This chat has ended";
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
    who.textContent = m.sender === "customer" ? "You" : m.sender_name;
    li.appendChild(who);
    const a = m.attachment;
    if (a) {
      const link = document.createElement("a");
      link.className = "file-link";
      link.href = a.url;
      link.target = "_blank";
      link.rel = "noopener";
      link.textContent = a.description || a.name;
      li.appendChild(link);
      const meta = document.createElement("span");
      meta.className = "file-meta";
      meta.textContent = `${a.name} · ${fmtSize(a.size)}`;
      li.appendChild(meta);
      if (a.preview_url) {
        const img = document.createElement("img");
        img.className = "preview";
        img.src = a.preview_url;
        img.alt = a.description || a.name;
        const wrap = document.createElement("a");
        wrap.href = a.url;
        wrap.target = "_blank";
        wrap.rel = "noopener";
        wrap.appendChild(img);
        li.appendChild(wrap);
      }
    } else {
      const body = document.createElement("span");
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
          if (ev.type === "contact_accepted") note(`${ev.contact.agent_name || "An agent"} joined the chat`);
          if (ev.type === "contact_closed") {
            note("The chat has ended");
            socket.close();
          }
        }
      }
      if (ev.type === "upload_refused" && ev.contact_id === contact.id) {
        $("chat-error").textContent = `${ev.name} was not sent: ${(ev.error && ev.error.message) || "it was refused"}`;
      }
      checkStatus(ev);
    };
    socket.onclose = () => {
      socket = null;
      if (!contact || contact.state === "closed") return;
      setStatus("Reconnecting…");
      const wait = Math.min(10000, 500 * 2 ** retry++);
      setTimeout(connect, wait); // the new socket's "ready" syncs what was missed
    };
  }

  // The state of the last file's checks: checking, then clean (delivered) or blocked.
  function checkStatus(ev) {
    const line = $("check-status");
    let text = null;
    let state = null;
    if (ev.type === "upload_checking" && ev.contact_id === contact.id) {
      [text, state] = [`${ev.name}: checking…`, "checking"];
    } else if (ev.type === "attachment_ready" && ev.message.contact_id === contact.id && ev.message.attachment) {
      [text, state] = [`${ev.message.attachment.name}: clean, delivered`, "clean"];
    } else if (ev.type === "upload_refused" && ev.contact_id === contact.id) {
      [text, state] = [`${ev.name}: blocked: ${(ev.error && ev.error.message) || "refused"}`, "blocked"];
    }
    if (text === null) return;
    line.textContent = text;
    line.dataset.state = state;
    line.hidden = false;
  }

  async function sync() {
    if (!contact) return;
    try {
      const c = await api("GET", `/api/visitor/contacts/${contact.id}`);
      const before = contact.state; // read after the fetch: a live event may have moved it meanwhile
      showContact(c);
      await loadTranscript();
      if (before === "queued" && c.state === "active") note(`${c.agent_name || "An agent"} joined the chat`);
      if (before !== "closed" && c.state === "closed") {
        note("The chat has ended");
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
      $("start-error").textContent = err.message;
    }
  });

  $("end").addEventListener("click", async () => {
    if (!contact) return;
    try {
      showContact(await api("POST", `/api/visitor/contacts/${contact.id}/close`));
      note("You ended the chat");
    } catch (err) {
      $("chat-error").textContent = err.message;
    }
  });

  // ---- files: the paperclip picks one; the text field becomes its optional description ----
  function choose(file) {
    pendingFile = file;
    $("pending").hidden = !file;
    $("pending-name").textContent = file ? `${file.name} (${fmtSize(file.size)})` : "";
    $("text").placeholder = file ? "Description (optional), Enter sends the file" : "Type a message…";
    $("chat-error").textContent = "";
    $("text").focus();
  }
  $("clip").addEventListener("click", () => $("file").click());
  $("file").addEventListener("change", () => choose($("file").files[0] || null));
  $("pending-remove").addEventListener("click", () => { $("file").value = ""; choose(null); });

  const b64 = (s) => btoa(String.fromCharCode(...new TextEncoder().encode(s)));

  async function tusError(res) {
    const data = await res.json().catch(() => null);
    return new Error((data && data.message) || `the upload failed (${res.status})`);
  }

  async function upload(file, description) {
    const meta = [["contact", contact.id], ["filename", file.name], ["filetype", file.type || "application/octet-stream"]];
    if (description) meta.push(["description", description]);
    const created = await fetch("/api/uploads", {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Tus-Resumable": "1.0.0",
        "Upload-Length": String(file.size),
        "Upload-Metadata": meta.map(([k, v]) => `${k} ${b64(v)}`).join(","),
      },
    });
    if (created.status !== 201) throw await tusError(created);
    const location = created.headers.get("Location");
    let offset = 0;
    $("progress").hidden = false;
    while (offset < file.size) {
      const chunk = file.slice(offset, Math.min(file.size, offset + CHUNK));
      const res = await fetch(location, {
        method: "PATCH",
        credentials: "same-origin",
        headers: {
          "Tus-Resumable": "1.0.0",
          "Upload-Offset": String(offset),
          "Content-Type": "application/offset+octet-stream",
        },
        body: chunk,
      });
      if (res.status !== 204) throw await tusError(res);
      offset = Number(res.headers.get("Upload-Offset"));
      $("progress-bar").style.width = `${Math.round((offset / file.size) * 100)}%`;
    }
  }

  $("composer").addEventListener("submit", async (e) => {
    e.preventDefault();
    const text = $("text").value.trim();
    $("chat-error").textContent = "";
    try {
      if (pendingFile) {
        const file = pendingFile;
        $("text").disabled = true;
        await upload(file, text);
        $("file").value = "";
        choose(null);
        $("text").value = "";
      } else if (text) {
        $("text").value = "";
        render(await api("POST", `/api/visitor/contacts/${contact.id}/messages`, { body: text }));
      }
    } catch (err) {
      $("chat-error").textContent = err.message;
    } finally {
      $("text").disabled = false;
      $("progress").hidden = true;
      $("progress-bar").style.width = "0";
      $("text").focus();
    }
  });

  if (!account) {
    $("start-error").textContent = "This page needs ?account=<name> in its address.";
    $("start").querySelector("button").disabled = true;
  } else {
    $("title").textContent = `Chat with ${account}`;
    resume();
  }
})();
