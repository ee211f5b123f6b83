// Attaché one-tag embed:
//   <script src="https://SERVICE/widget/embed.js" data-account="acme" async></script>
// (optional data-lang="it"). Adds a launcher button to the page and opens the chat in a frame of
// the service, all inside a shadow root: no styles, ids or globals reach the host page,
// and the page's styles do not reach the launcher. The service first says whether this site may
// embed the account's chat; if not, nothing shows and the page's console gets one warning.
(() => {
  "use strict";
  const script = document.currentScript;
  if (!script || !script.src) return;
  const base = new URL(script.src).origin;
  const account = script.dataset.account || "";
  const wanted = script.dataset.lang || "";
  // The launcher's own words (the chat's are in the service's catalog, i18n.js).
  const WORDS = {
    en: { open: "Open the chat", close: "Close the chat", frame: "Chat" },
    it: { open: "Apri la chat", close: "Chiudi la chat", frame: "Chat" },
  };
  const lang = [].concat(wanted || [], navigator.languages || [], navigator.language || [])
    .map((l) => String(l).toLowerCase().split(/[-_]/)[0]).find((l) => WORDS[l]) || "en";
  const words = WORDS[lang];
  const warn = (why) => console.warn(`Attaché chat (account "${account}") is not shown on this page: ${why}`);

  if (!account) return warn("the script tag needs data-account=\"<your account>\"");

  const CSS = `
    :host { all: initial; }
    .launcher { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; width: 56px; height: 56px; border-radius: 50%;
      border: 0; cursor: pointer; display: grid; place-items: center; background: var(--accent); color: var(--on-accent);
      box-shadow: 0 4px 16px rgba(0,0,0,.25); padding: 0; }
    .launcher:focus-visible { outline: 3px solid #f59e0b; outline-offset: 3px; }
    .launcher svg { width: 26px; height: 26px; }
    .launcher .close-icon, .open .launcher .chat-icon { display: none; }
    .open .launcher .close-icon { display: block; }
    .greeting { position: fixed; right: 86px; bottom: 28px; z-index: 2147483000; max-width: 240px; margin: 0; padding: 10px 14px;
      background: #fff; color: #1d2430; border-radius: 12px; box-shadow: 0 4px 16px rgba(0,0,0,.18);
      font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; cursor: pointer; }
    .open .greeting, .greeting:empty { display: none; }
    .panel { position: fixed; right: 20px; bottom: 88px; z-index: 2147483000; width: 380px; height: min(620px, calc(100vh - 108px));
      border: 0; border-radius: 12px; box-shadow: 0 8px 32px rgba(0,0,0,.28); background: #fff; display: none; }
    .open .panel { display: block; }
    @media (max-width: 480px) {
      .panel { right: 0; bottom: 0; width: 100vw; height: 100vh; height: 100dvh; border-radius: 0; }
      .open .launcher { display: none; }
    }`;

  function mount(config) {
    const host = document.createElement("attache-chat");
    const root = host.attachShadow({ mode: "open" });
    try {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } catch (_) {
      const style = document.createElement("style");
      style.textContent = CSS;
      root.appendChild(style);
    }
    const box = document.createElement("div");
    box.className = "box";
    const color = /^#[0-9a-f]{6}$/i.test(config.color || "") ? config.color : "#1a66d2";
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(color.slice(i, i + 2), 16) / 255)
      .map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
    box.style.setProperty("--accent", color);
    box.style.setProperty("--on-accent", 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.18 ? "#111827" : "#ffffff");

    const frame = document.createElement("iframe");
    frame.className = "panel";
    frame.title = words.frame;
    const src = new URL("/widget/", base);
    src.searchParams.set("account", account);
    src.searchParams.set("embed", "1");
    if (wanted) src.searchParams.set("lang", wanted);
    // Loaded at once (hidden): a chat or a file in flight continues after the page reloads.
    frame.src = src.href;
    frame.id = "panel";

    const launcher = document.createElement("button");
    launcher.type = "button";
    launcher.className = "launcher";
    launcher.setAttribute("aria-controls", "panel");
    launcher.innerHTML = '<svg class="chat-icon" viewBox="0 0 24 24" aria-hidden="true"><path fill="currentColor" d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z"/></svg>'
      + '<svg class="close-icon" viewBox="0 0 24 24" aria-hidden="true"><path fill="currentColor" d="M19 6.41 17.59 5 12 10.59 6.41 5 5 6.41 10.59 12 5 17.59 6.41 19 12 13.41 17.59 19 19 17.59 13.41 12z"/></svg>';

    const greeting = document.createElement("p");
    greeting.className = "greeting";
    greeting.textContent = config.greeting || "";

    function setOpen(open, focus) {
      box.classList.toggle("open", open);
      launcher.setAttribute("aria-expanded", String(open));
      launcher.setAttribute("aria-label", open ? words.close : words.open);
      if (open && focus) {
        frame.focus();
        frame.contentWindow?.postMessage({ attache: "focus" }, base);
      }
      if (!open && focus) launcher.focus();
    }
    launcher.addEventListener("click", () => setOpen(!box.classList.contains("open"), true));
    greeting.addEventListener("click", () => setOpen(true, true));
    window.addEventListener("message", (e) => {
      if (e.origin !== base || e.source !== frame.contentWindow || !e.data) return;
      if (e.data.attache === "close") setOpen(false, true);
    });
    setOpen(false, false);
    box.append(greeting, frame, launcher);
    root.appendChild(box);
    document.body.appendChild(host);
  }

  fetch(`${base}/api/widget/${encodeURIComponent(account)}`, { credentials: "omit", mode: "cors" })
    .then(async (res) => {
      const data = await res.json().catch(() => null);
      if (!res.ok) return warn((data && data.message) || `the service answered ${res.status}`);
      if (document.body) mount(data);
      else document.addEventListener("DOMContentLoaded", () => mount(data), { once: true });
    })
    .catch(() => warn(`the chat service at ${base} could not be reached`));
})();
