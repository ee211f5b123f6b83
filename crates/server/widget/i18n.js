// Attaché widget string catalog: every word the customer reads, in English and Italian.
// `AttacheI18n.pick(wanted)` chooses a language from a `data-lang`/`?lang=` value or the browser's
// list (English when none is in the catalog); `t(key, vars)` fills `{name}` style holes; sizes and
// times are formatted for the chosen locale. Elements carry `data-i18n` (text), `data-i18n-placeholder`,
// `data-i18n-label` (aria-label) and `data-i18n-title`; `apply(root)` fills them.
(() => {
  "use strict";
  const CATALOG = {
    en: {
      "title": "Chat with us",
      "title.account": "Chat with {account}",
      "status.idle": "We usually answer within a few minutes",
      "status.queued": "Waiting for an agent…",
      "status.active": "You are chatting with {agent}",
      "status.closed": "This chat has ended",
      "status.reconnecting": "Reconnecting…",
      "status.offline": "You are offline: the chat continues when the connection is back",
      "an-agent": "an agent",
      "An-agent": "An agent",
      "start.name": "Your name",
      "start.name.placeholder": "Optional",
      "start.question": "How can we help?",
      "start.question.placeholder": "Type your question",
      "start.submit": "Start chat",
      "start.no-account": "This page needs ?account=<name> in its address.",
      "end": "End chat",
      "minimize": "Minimise the chat",
      "you": "You",
      "note.joined": "{agent} joined the chat",
      "note.ended": "The chat has ended",
      "note.you-ended": "You ended the chat",
      "composer.message": "Message",
      "composer.placeholder": "Type a message…",
      "composer.placeholder.file": "Description (optional), Enter sends the file",
      "composer.placeholder.files": "Description (optional), Enter sends the files",
      "composer.send": "Send",
      "clip": "Send a file",
      "camera": "Take a photo",
      "pending.remove": "Remove",
      "pending.remove.label": "Remove {name}",
      "pending.files": "{count} files: {names}",
      "pending.list": "Files to send",
      "checks.list": "Checks of the files",
      "pending.over-cap": "At most {max} files can be sent at once; {count} were left out: {names}",
      "drop": "Drop files to send them",
      "upload.sending": "Sending {name}",
      "upload.progress": "{done} of {total}",
      "upload.waiting": "Waiting for the connection…",
      "upload.resuming": "Resuming {name}",
      "upload.checking": "Checking {name}…",
      "check.checking": "{name}: checking…",
      "check.clean": "{name}: clean, delivered",
      "check.blocked": "{name}: blocked: {reason}",
      "upload.cancel": "Cancel",
      "upload.cancel.label": "Cancel sending {name}",
      "upload.cancelled": "{name} was not sent: you cancelled it",
      "upload.failed": "{name} was not sent: {reason}",
      "upload.refused.default": "it was refused",
      "upload.resumed": "{name}: sending again from where it stopped",
      "error.status": "the service answered {status}",
      "error.network": "the connection failed",
      "cookies.title": "This chat cannot open here",
      "cookies.body": "Your browser blocks cookies inside this frame, so the chat could not remember you from one message to the next.",
      "cookies.open": "Open the chat in its own tab",
      "file.size": "{name} · {size}",
      "file.redacted": "{name} was removed by {by}, {time}: {reason}",
      "file.expired": "{name} is no longer available (files are kept for a limited time)",
      "preview.alt": "Preview of {name}",
    },
    it: {
      "title": "Chatta con noi",
      "title.account": "Chatta con {account}",
      "status.idle": "Di solito rispondiamo in pochi minuti",
      "status.queued": "In attesa di un operatore…",
      "status.active": "Stai chattando con {agent}",
      "status.closed": "Questa chat è terminata",
      "status.reconnecting": "Riconnessione in corso…",
      "status.offline": "Sei offline: la chat riprende quando torna la connessione",
      "an-agent": "un operatore",
      "An-agent": "Un operatore",
      "start.name": "Il tuo nome",
      "start.name.placeholder": "Facoltativo",
      "start.question": "Come possiamo aiutarti?",
      "start.question.placeholder": "Scrivi la tua domanda",
      "start.submit": "Inizia la chat",
      "start.no-account": "Questa pagina richiede ?account=<nome> nel suo indirizzo.",
      "end": "Termina la chat",
      "minimize": "Riduci la chat",
      "you": "Tu",
      "note.joined": "{agent} è entrato nella chat",
      "note.ended": "La chat è terminata",
      "note.you-ended": "Hai terminato la chat",
      "composer.message": "Messaggio",
      "composer.placeholder": "Scrivi un messaggio…",
      "composer.placeholder.file": "Descrizione (facoltativa), Invio manda il file",
      "composer.placeholder.files": "Descrizione (facoltativa), Invio manda i file",
      "composer.send": "Invia",
      "clip": "Invia un file",
      "camera": "Scatta una foto",
      "pending.remove": "Rimuovi",
      "pending.remove.label": "Rimuovi {name}",
      "pending.files": "{count} file: {names}",
      "pending.list": "File da inviare",
      "checks.list": "Controlli dei file",
      "pending.over-cap": "Si possono inviare al massimo {max} file alla volta; {count} sono stati esclusi: {names}",
      "drop": "Rilascia i file per inviarli",
      "upload.sending": "Invio di {name}",
      "upload.progress": "{done} di {total}",
      "upload.waiting": "In attesa della connessione…",
      "upload.resuming": "Ripresa di {name}",
      "upload.checking": "Controllo di {name}…",
      "check.checking": "{name}: controllo in corso…",
      "check.clean": "{name}: nessun problema, consegnato",
      "check.blocked": "{name}: bloccato: {reason}",
      "upload.cancel": "Annulla",
      "upload.cancel.label": "Annulla l'invio di {name}",
      "upload.cancelled": "{name} non è stato inviato: l'hai annullato",
      "upload.failed": "{name} non è stato inviato: {reason}",
      "upload.refused.default": "è stato rifiutato",
      "upload.resumed": "{name}: l'invio riprende da dove si era fermato",
      "error.status": "il servizio ha risposto {status}",
      "error.network": "la connessione non è riuscita",
      "cookies.title": "La chat non può aprirsi qui",
      "cookies.body": "Il tuo browser blocca i cookie in questo riquadro, quindi la chat non potrebbe riconoscerti da un messaggio all'altro.",
      "cookies.open": "Apri la chat in una scheda a parte",
      "file.size": "{name} · {size}",
      "file.redacted": "{name} è stato rimosso da {by}, {time}: {reason}",
      "file.expired": "{name} non è più disponibile (i file sono conservati per un tempo limitato)",
      "preview.alt": "Anteprima di {name}",
    },
  };
  // The service's refusals, by code, where the customer's language needs its own words; other
  // codes show the service's (English) message.
  const ERRORS = {
    it: {
      "file-too-large": "il file supera il limite di {limit}",
      "file-sharing-disabled": "l'invio di file non è attivo",
      "not-found": "non trovato",
      "contact-closed": "la chat è terminata",
      "type-not-allowed": "questo tipo di file non è ammesso",
      "too-many-uploads": "troppi invii in corso, riprova tra poco",
      "empty-file": "il file è vuoto",
      "type-mismatch": "il contenuto non corrisponde al tipo dichiarato",
    },
  };

  let lang = "en";

  /** The first of `wanted` (a `data-lang` value or the browser's list) the catalog has; else English. */
  function pick(wanted) {
    const list = [].concat(wanted || [], navigator.languages || [], navigator.language || []);
    for (const w of list) {
      const base = String(w).toLowerCase().split(/[-_]/)[0];
      if (CATALOG[base]) return (lang = base);
    }
    return (lang = "en");
  }

  function t(key, vars) {
    const s = (CATALOG[lang] && CATALOG[lang][key]) ?? CATALOG.en[key] ?? key;
    return s.replace(/\{(\w+)\}/g, (m, k) => (vars && vars[k] != null ? String(vars[k]) : m));
  }

  /** A service refusal in the customer's words: by its code when the catalog has one. */
  function error(code, message, vars) {
    const s = ERRORS[lang] && ERRORS[lang][code];
    return s ? s.replace(/\{(\w+)\}/g, (m, k) => (vars && vars[k] != null ? String(vars[k]) : m)) : message;
  }

  // Decimal units, as their names say (a kB is 1000 bytes), and "bytes" in words below that.
  function size(n) {
    const units = [["gigabyte", 1e9], ["megabyte", 1e6], ["kilobyte", 1e3]];
    for (const [unit, div] of units) {
      if (n >= div) {
        return new Intl.NumberFormat(lang, { style: "unit", unit, unitDisplay: "short", maximumFractionDigits: 1 }).format(n / div);
      }
    }
    return new Intl.NumberFormat(lang, { style: "unit", unit: "byte", unitDisplay: "long" }).format(n);
  }

  function time(iso) {
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return "";
    const today = new Date().toDateString() === d.toDateString();
    const opts = today ? { hour: "2-digit", minute: "2-digit" } : { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" };
    return new Intl.DateTimeFormat(lang, opts).format(d);
  }

  function apply(root) {
    for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
    for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
    for (const el of root.querySelectorAll("[data-i18n-label]")) el.setAttribute("aria-label", t(el.dataset.i18nLabel));
    for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
  }

  window.AttacheI18n = { pick, t, error, size, time, apply, get lang() { return lang; }, languages: Object.keys(CATALOG) };
})();
