// The console's string catalog, English and Italian, the same mechanism as the customer widget's
// (crates/server/widget/i18n.js): the language is `localStorage["attache.lang"]` when set, else the
// system's (the webview's navigator.languages), English when the catalog lacks it; `t(key, vars)` fills `{name}` holes;
// index.html marks its words with data-i18n (text), data-i18n-placeholder, data-i18n-label
// (aria-label) and data-i18n-title, which `applyCatalog` fills at boot.

const en = {
  "app.title": "Attaché Console",
  "loading.starting": "Starting…",
  "loading.failed": "The console could not start: {message}",
  "loading.restoring": "Restoring your session…",
  "signin.tagline": "Sign in to take customer contacts.",
  "signin.server": "Server address",
  "signin.account": "Account",
  "signin.username": "User name",
  "signin.password": "Password",
  "signin.submit": "Sign in",
  "signin.busy": "Signing in…",
  "signin.missing": "Fill in the server address, account, user name and password.",
  "signin.expired": "Your session has ended. Please sign in again.",
  "signin.no-keyring": "No system keyring: you will need to sign in again next time.",
  "top.views": "Views",
  "top.contacts": "Contacts",
  "top.reports": "Reports",
  "top.signout": "Sign out",
  "conn.online": "Online",
  "conn.connecting": "Connecting…",
  "conn.offline": "Offline — reconnecting",
  "role.agent": "agent",
  "role.supervisor": "supervisor",
  "role.admin": "admin",
  "queue.title": "Queue",
  "queue.empty": "No customers are waiting. New contacts appear here as they arrive.",
  "queue.accept": "Accept",
  "queue.accepting": "Accepting…",
  "queue.taken": "A colleague already took this contact.",
  "queue.just-arrived": "Just arrived",
  "queue.waiting-min": "Waiting {minutes} min",
  "queue.waiting-since": "Waiting since {time}",
  "mine.title": "My contacts",
  "mine.empty": "Accept a contact from the queue to start chatting.",
  "mine.closed": "Closed",
  "mine.since": "Since {time}",
  "card.none": "No contact open",
  "card.none.hint": "Accept a waiting customer or pick one of your contacts on the left.",
  "card.send-file": "Send a file",
  "card.close": "Close contact",
  "card.closed": "This contact is closed. Its transcript stays in the reports.",
  "card.opened": "Opened {time}",
  "card.the-customer": "The customer",
  "card.loading": "Loading the conversation…",
  "card.no-messages": "No messages yet.",
  "composer.placeholder": "Write a reply — Enter sends, Shift+Enter starts a new line",
  "composer.send": "Send",
  "state.queued": "queued",
  "state.active": "active",
  "state.closed": "closed",
  "customer": "Customer",
  "agent": "Agent",
  "reports.title": "Reports",
  "reports.crumb": "› Contacts",
  "reports.agent": "Agent",
  "reports.all-agents": "All agents",
  "reports.from": "From",
  "reports.to": "To",
  "reports.state": "State",
  "reports.any": "Any",
  "reports.queued": "Queued",
  "reports.active": "Active",
  "reports.closed": "Closed",
  "reports.apply": "Apply",
  "reports.customer": "Customer",
  "reports.opened": "Opened",
  "reports.closed-at": "Closed",
  "reports.empty": "No contacts match these filters.",
  "reports.back": "‹ Contacts",
  "reports.details-crumb": "Reports › Contacts ›",
  "reports.transcript": "Transcript",
  "reports.attachments": "Attachments",
  "reports.no-attachments": "No files were exchanged.",
  "reports.no-messages": "No messages.",
  "reports.opened-at": "Opened {date}",
  "reports.sent-by": "Sent by {who} ({sender}) · {date}",
  "upload.title": "Send a file",
  "upload.title.to": "Send a file to {name}",
  "upload.hint": "Any file up to your account's plan limit. The customer gets it as a link.",
  "upload.choose": "Choose file",
  "upload.none": "No file chosen",
  "upload.description": "Description",
  "upload.optional": "(optional)",
  "upload.description.placeholder": "e.g. Your receipt",
  "upload.cancel": "Cancel",
  "upload.cancel-upload": "Cancel upload",
  "upload.ok": "OK",
  "upload.sending": "Sending…",
  "upload.cancelled": "Upload cancelled. Nothing was sent.",
  "upload.failed": "The file was not sent: {message}",
  "upload.drop": "Drop the file to send it to {name}",
  "upload.drop.none": "Open one of your active contacts to send a file",
  "file.enlarge": "Click to enlarge",
  "file.save": "Save as…",
  "file.open": "Open",
  "file.downloading": "Downloading…",
  "file.saved": "Saved to {path}",
  "file.opening": "Opening…",
  "file.opened": "Handed to the system's default application.",
  "file.loading-picture": "Loading the full picture…",
  "lightbox.close": "Close",
};

export type Key = keyof typeof en;

const it: Record<Key, string> = {
  "app.title": "Attaché Console",
  "loading.starting": "Avvio…",
  "loading.failed": "La console non è riuscita ad avviarsi: {message}",
  "loading.restoring": "Ripristino della sessione…",
  "signin.tagline": "Accedi per prendere i contatti dei clienti.",
  "signin.server": "Indirizzo del server",
  "signin.account": "Account",
  "signin.username": "Nome utente",
  "signin.password": "Password",
  "signin.submit": "Accedi",
  "signin.busy": "Accesso in corso…",
  "signin.missing": "Compila indirizzo del server, account, nome utente e password.",
  "signin.expired": "La sessione è terminata. Accedi di nuovo.",
  "signin.no-keyring": "Nessun portachiavi di sistema: la prossima volta dovrai accedere di nuovo.",
  "top.views": "Viste",
  "top.contacts": "Contatti",
  "top.reports": "Report",
  "top.signout": "Esci",
  "conn.online": "In linea",
  "conn.connecting": "Connessione…",
  "conn.offline": "Non in linea — riconnessione",
  "role.agent": "operatore",
  "role.supervisor": "supervisore",
  "role.admin": "amministratore",
  "queue.title": "Coda",
  "queue.empty": "Nessun cliente in attesa. I nuovi contatti compaiono qui appena arrivano.",
  "queue.accept": "Accetta",
  "queue.accepting": "Accettazione…",
  "queue.taken": "Un collega ha già preso questo contatto.",
  "queue.just-arrived": "Appena arrivato",
  "queue.waiting-min": "In attesa da {minutes} min",
  "queue.waiting-since": "In attesa dalle {time}",
  "mine.title": "I miei contatti",
  "mine.empty": "Accetta un contatto dalla coda per iniziare a chattare.",
  "mine.closed": "Chiuso",
  "mine.since": "Dalle {time}",
  "card.none": "Nessun contatto aperto",
  "card.none.hint": "Accetta un cliente in attesa o scegli uno dei tuoi contatti a sinistra.",
  "card.send-file": "Invia un file",
  "card.close": "Chiudi il contatto",
  "card.closed": "Questo contatto è chiuso. La sua trascrizione resta nei report.",
  "card.opened": "Aperto alle {time}",
  "card.the-customer": "Il cliente",
  "card.loading": "Caricamento della conversazione…",
  "card.no-messages": "Ancora nessun messaggio.",
  "composer.placeholder": "Scrivi una risposta — Invio manda, Maiusc+Invio va a capo",
  "composer.send": "Invia",
  "state.queued": "in coda",
  "state.active": "attivo",
  "state.closed": "chiuso",
  "customer": "Cliente",
  "agent": "Operatore",
  "reports.title": "Report",
  "reports.crumb": "› Contatti",
  "reports.agent": "Operatore",
  "reports.all-agents": "Tutti gli operatori",
  "reports.from": "Dal",
  "reports.to": "Al",
  "reports.state": "Stato",
  "reports.any": "Qualsiasi",
  "reports.queued": "In coda",
  "reports.active": "Attivo",
  "reports.closed": "Chiuso",
  "reports.apply": "Applica",
  "reports.customer": "Cliente",
  "reports.opened": "Aperto",
  "reports.closed-at": "Chiuso",
  "reports.empty": "Nessun contatto corrisponde a questi filtri.",
  "reports.back": "‹ Contatti",
  "reports.details-crumb": "Report › Contatti ›",
  "reports.transcript": "Trascrizione",
  "reports.attachments": "Allegati",
  "reports.no-attachments": "Nessun file scambiato.",
  "reports.no-messages": "Nessun messaggio.",
  "reports.opened-at": "Aperto il {date}",
  "reports.sent-by": "Inviato da {who} ({sender}) · {date}",
  "upload.title": "Invia un file",
  "upload.title.to": "Invia un file a {name}",
  "upload.hint": "Qualsiasi file entro il limite del piano dell'account. Il cliente lo riceve come link.",
  "upload.choose": "Scegli il file",
  "upload.none": "Nessun file scelto",
  "upload.description": "Descrizione",
  "upload.optional": "(facoltativa)",
  "upload.description.placeholder": "es. La tua ricevuta",
  "upload.cancel": "Annulla",
  "upload.cancel-upload": "Annulla l'invio",
  "upload.ok": "OK",
  "upload.sending": "Invio…",
  "upload.cancelled": "Invio annullato. Non è stato inviato nulla.",
  "upload.failed": "Il file non è stato inviato: {message}",
  "upload.drop": "Rilascia il file per inviarlo a {name}",
  "upload.drop.none": "Apri uno dei tuoi contatti attivi per inviare un file",
  "file.enlarge": "Fai clic per ingrandire",
  "file.save": "Salva come…",
  "file.open": "Apri",
  "file.downloading": "Download…",
  "file.saved": "Salvato in {path}",
  "file.opening": "Apertura…",
  "file.opened": "Passato all'applicazione predefinita del sistema.",
  "file.loading-picture": "Caricamento dell'immagine intera…",
  "lightbox.close": "Chiudi",
};

const CATALOG: Record<string, Record<Key, string>> = { en, it };

/** The first of the wanted languages the catalog has, else English. */
export function pickLanguage(wanted: readonly string[] = navigator.languages ?? [navigator.language]): string {
  for (const w of wanted) {
    const base = String(w).toLowerCase().split(/[-_]/)[0];
    if (CATALOG[base]) return base;
  }
  return "en";
}

/** A language chosen for this console (`localStorage["attache.lang"]`), else the system's. */
function wanted(): string[] {
  let chosen: string | null = null;
  try {
    chosen = localStorage.getItem("attache.lang");
  } catch {
    // no storage: the system's
  }
  return [...(chosen ? [chosen] : []), ...(navigator.languages ?? [navigator.language])];
}

export const lang = pickLanguage(wanted());

/** The locale for dates and numbers: the system's own when it speaks the chosen language. */
export function locale(): string {
  const system = navigator.language || "en";
  return system.toLowerCase().split(/[-_]/)[0] === lang ? system : lang;
}

export function t(key: Key, vars?: Record<string, string | number>): string {
  const s = CATALOG[lang]?.[key] ?? en[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (m, k: string) => (vars && vars[k] != null ? String(vars[k]) : m));
}

/** Fills the elements marked with data-i18n… under `root`. */
export function applyCatalog(root: ParentNode) {
  document.documentElement.lang = lang;
  for (const node of root.querySelectorAll<HTMLElement>("[data-i18n]")) node.textContent = t(node.dataset.i18n as Key);
  for (const node of root.querySelectorAll<HTMLInputElement>("[data-i18n-placeholder]"))
    node.placeholder = t(node.dataset.i18nPlaceholder as Key);
  for (const node of root.querySelectorAll<HTMLElement>("[data-i18n-label]"))
    node.setAttribute("aria-label", t(node.dataset.i18nLabel as Key));
  for (const node of root.querySelectorAll<HTMLElement>("[data-i18n-title]")) node.title = t(node.dataset.i18nTitle as Key);
}
