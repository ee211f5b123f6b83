// Supervisors' review: in Contact details each attachment's SHA-256 and size with Verify and
// Redact, the contact's access records (filterable) and "Download all" with progress; Reports >
// Attachments (server-side search, a page at a time, each row opens its contact) with the
// account's storage and file retention for admins; tombstones of removed files.
import { Channel } from "@tauri-apps/api/core";
import { api, asConsoleError } from "./api";
import type { AccessRecord, Attachment, Tombstone, UploadProgress } from "./bindings/ipc";
import { $, date, dayStart, el, formatSize, handleError, isSessionEnd } from "./dom";
import { state } from "./state";

/** "removed by Sam, 14:02: wrong customer" / "expired on …". */
export function tombstoneText(name: string, t: Tombstone): string {
  const when = date(t.at);
  return t.kind === "redacted"
    ? `${name} was removed by ${t.by ?? "staff"}, ${when}: ${t.reason ?? ""}`
    : `${name} expired on ${when} (the account keeps files for a limited time)`;
}

/** The tombstone that stands where a removed file was. */
export function tombstoneBlock(a: Attachment): HTMLElement {
  const box = el("div", "attachment tombstone", tombstoneText(a.name, a.removed!));
  box.dataset.attachmentId = a.id;
  box.dataset.removed = a.removed!.kind;
  return box;
}

/** What Contact details adds under an attachment: integrity, Verify, Redact. */
export function reviewExtras(li: HTMLElement, a: Attachment) {
  li.append(el("div", "att-integrity", `SHA-256 ${a.sha256} · ${formatSize(a.size)} (${a.size} bytes)`));
  if (a.removed) return;
  const actions = el("div", "att-actions review-actions");
  const verify = el("button", "ghost verify", "Verify");
  verify.type = "button";
  const redact = el("button", "ghost danger redact", "Redact…");
  redact.type = "button";
  const status = el("div", "review-status");
  status.setAttribute("role", "status");
  verify.addEventListener("click", async () => {
    status.textContent = "Verifying…";
    try {
      const r = await api.verifyAttachment(a.url, a.sha256, a.size);
      status.textContent = r.message;
      status.dataset.ok = String(r.ok);
    } catch (e) {
      status.textContent = asConsoleError(e).message;
      status.dataset.ok = "false";
    }
  });
  const form = el("form", "redact-form");
  form.hidden = true;
  const reason = el("input", "redact-reason");
  reason.placeholder = "Why (shown to the customer too)";
  reason.maxLength = 600;
  const confirm = el("button", "danger redact-confirm", "Remove the file");
  confirm.type = "submit";
  form.append(reason, confirm);
  redact.addEventListener("click", () => {
    form.hidden = !form.hidden;
    if (!form.hidden) reason.focus();
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    status.textContent = "Removing…";
    try {
      const done = await api.redactAttachment(a.id, reason.value);
      // When the store did not confirm the deletion yet, say so (the service keeps at it).
      status.textContent = done.bytes_removed ? "Removed." : done.detail;
      if (state.details) await reopen(state.details);
    } catch (err) {
      status.textContent = asConsoleError(err).message;
      status.dataset.ok = "false";
    }
  });
  actions.append(verify, redact);
  li.append(actions, form, status);
}

let reopenDetails: (id: string) => Promise<void> = async () => {};
async function reopen(id: string) {
  await reopenDetails(id);
}

// ---------- access records ----------

let records: AccessRecord[] = [];

function grantWords(r: AccessRecord): string {
  return {
    url: "holding the URL during the contact",
    "contact-visitor": "the contact's customer",
    vvca: "the contact's browser grant",
    reports: "reports permission",
    admin: "admin",
    supervisor: "the agent's supervisor",
    agent: "the contact's agent",
    "signed-url": "a temporary signed URL (consumer API)",
  }[r.grant];
}

function renderAccess() {
  const who = $<HTMLSelectElement>("access-filter").value;
  const shown = records.filter((r) => !who || r.who === who);
  $("access-count").textContent = String(shown.length);
  $("access-rows").replaceChildren(
    ...shown.map((r) => {
      const tr = el("tr", "access-row");
      tr.dataset.who = r.who;
      tr.dataset.what = r.what;
      const what =
        r.what === "export" ? "Download all (ZIP)" : `${r.file_name}${r.what === "preview" ? " (preview)" : ""}`;
      const part = r.range ? ` (bytes ${r.range[0]}–${r.range[1]})` : " (whole)";
      tr.append(
        el("td", "", date(r.at)),
        el("td", "", r.who_name),
        el("td", "", grantWords(r)),
        el("td", "", what + part),
        el("td", "", formatSize(r.bytes)),
        el("td", "", r.address ?? "—"),
      );
      return tr;
    }),
  );
  $("access-empty").hidden = shown.length > 0;
}

/** Loads the access records of the contact in view; hidden for those who may not review it. */
export async function loadAccess(contactId: string) {
  try {
    records = await api.accessRecords(contactId);
    if (state.details !== contactId) return;
    $("access-section").hidden = false;
    renderAccess();
  } catch (e) {
    const error = asConsoleError(e);
    if (isSessionEnd(error)) return handleError(error);
    $("access-section").hidden = true;
  }
}

// ---------- Download all ----------

async function exportContact() {
  const contactId = state.details;
  if (!contactId) return;
  const bar = $<HTMLProgressElement>("details-export-progress");
  const status = $("details-export-status");
  const button = $<HTMLButtonElement>("details-export");
  const progress = new Channel<UploadProgress>();
  progress.onmessage = (p) => {
    bar.max = Math.max(p.total, 1);
    bar.value = p.sent;
    status.textContent = `${formatSize(p.sent)} of ${formatSize(p.total)}`;
  };
  button.disabled = true;
  bar.hidden = false;
  bar.value = 0;
  status.textContent = "Preparing the archive…";
  try {
    const name = `${$("details-name").textContent || "contact"}.zip`;
    const path = await api.exportContact(contactId, name, progress);
    status.textContent = path ? `Saved to ${path}` : "";
    status.dataset.done = path ? "true" : "false";
    void loadAccess(contactId);
  } catch (e) {
    status.textContent = asConsoleError(e).message;
  } finally {
    button.disabled = false;
  }
}

// ---------- Reports > Attachments ----------

const files = (n: number) => (n === 1 ? "1 file" : `${n} files`);

let page = 1;

async function searchFiles() {
  $("files-error").hidden = true;
  try {
    const result = await api.searchAttachments({
      name: $<HTMLInputElement>("files-name").value || null,
      media_type: $<HTMLInputElement>("files-type").value || null,
      sender: $<HTMLSelectElement>("files-sender").value || null,
      agent_id: null,
      from: dayStart($<HTMLInputElement>("files-from").value),
      to: dayStart($<HTMLInputElement>("files-to").value, 1),
      page,
    });
    $("files-rows").replaceChildren(
      ...result.items.map((h) => {
        const a = h.attachment;
        const tr = el("tr", "file-row");
        tr.dataset.contactId = h.contact_id;
        tr.dataset.attachmentId = a.id;
        const open = el("button", "link", a.name);
        open.type = "button";
        const cell = el("td");
        cell.append(open);
        if (a.removed) cell.append(el("span", "muted", ` (${a.removed.kind})`));
        tr.append(
          cell,
          el("td", "", a.media_type),
          el("td", "", formatSize(a.size)),
          el("td", "", a.sender),
          el("td", "", h.customer_name),
          el("td", "", h.agent_name ?? "—"),
          el("td", "", date(a.created_at)),
        );
        tr.addEventListener("click", () => {
          showTab("contacts");
          void reopen(h.contact_id);
        });
        return tr;
      }),
    );
    $("files-empty").hidden = result.items.length > 0;
    const pages = Math.max(1, Math.ceil(result.total / result.per_page));
    $("files-page").textContent = `Page ${result.page} of ${pages} · ${files(result.total)}`;
    $<HTMLButtonElement>("files-prev").disabled = result.page <= 1;
    $<HTMLButtonElement>("files-next").disabled = result.page >= pages;
  } catch (e) {
    const error = asConsoleError(e);
    if (isSessionEnd(error)) return handleError(error);
    $("files-error").textContent = error.message;
    $("files-error").hidden = false;
  }
}

async function loadStorage() {
  const panel = $("storage-panel");
  if (state.session?.role !== "admin") {
    panel.hidden = true;
    return;
  }
  try {
    const [usage, account] = await Promise.all([api.storageUsage(), api.accountPlan()]);
    const line = (c: { files: number; bytes: number }) => `${files(c.files)}, ${formatSize(c.bytes)}`;
    $("storage-text").textContent =
      `Storage: ${line(usage.stored)} · this month expired ${line(usage.expired_this_month)}, ` +
      `redacted ${line(usage.redacted_this_month)}`;
    $<HTMLInputElement>("retention-days").value = String(account.plan.file_retention_days);
    panel.hidden = false;
  } catch {
    panel.hidden = true;
  }
}

async function saveRetention() {
  const status = $("retention-status");
  try {
    const days = Number($<HTMLInputElement>("retention-days").value || "0");
    const account = await api.setFileRetention(days);
    status.textContent =
      account.plan.file_retention_days === 0
        ? "Files are kept as long as their report."
        : `Files now go after ${account.plan.file_retention_days} days; transcripts stay.`;
    void loadStorage();
  } catch (e) {
    status.textContent = asConsoleError(e).message;
  }
}

function showTab(tab: "contacts" | "files") {
  $("files-view").hidden = tab !== "files";
  $("reports-list-view").hidden = tab !== "contacts";
  $("details-view").hidden = true;
  for (const [id, t] of [["tab-contacts", "contacts"], ["tab-files", "files"]] as const) {
    if (t === tab) $(id).setAttribute("aria-current", "page");
    else $(id).removeAttribute("aria-current");
  }
  if (tab === "files") {
    void searchFiles();
    void loadStorage();
  }
}

export function wireReview(openDetails: (id: string) => Promise<void>) {
  reopenDetails = openDetails;
  $("access-filter").addEventListener("change", renderAccess);
  $("details-export").addEventListener("click", () => void exportContact());
  $("tab-contacts").addEventListener("click", () => showTab("contacts"));
  $("tab-files").addEventListener("click", () => showTab("files"));
  $("files-filter").addEventListener("submit", (e) => {
    e.preventDefault();
    page = 1;
    void searchFiles();
  });
  $("files-prev").addEventListener("click", () => {
    page = Math.max(1, page - 1);
    void searchFiles();
  });
  $("files-next").addEventListener("click", () => {
    page += 1;
    void searchFiles();
  });
  $("retention-save").addEventListener("click", () => void saveRetention());
}
