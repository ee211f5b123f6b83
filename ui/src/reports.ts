// Reports > Contacts (filtered by agent, dates and state) > Contact details (transcript and every
// attachment), and switching between the Contacts and Reports views.
import { api, asConsoleError } from "./api";
import type { ConsoleError, ConsoleEvent } from "./bindings/ipc";
import { messageItem, attachmentBlock } from "./attachments";
import { $, date, dayStart, el, handleError, isSessionEnd } from "./dom";
import { customerName, redraw, state, type View } from "./state";
import { t } from "./i18n";
import { loadAccess, reviewExtras, tombstoneBlock, wireReview } from "./review";

export function showView(view: View) {
  state.view = view;
  $("workspace").hidden = view !== "contacts";
  $("reports").hidden = view !== "reports";
  for (const b of document.querySelectorAll<HTMLButtonElement>(".nav-item")) {
    if (b.dataset.view === view) b.setAttribute("aria-current", "page");
    else b.removeAttribute("aria-current");
  }
  document.body.dataset.view = view;
  if (view === "reports") {
    $("details-view").hidden = true;
    $("files-view").hidden = true;
    $("reports-list-view").hidden = false;
    void loadReports();
  }
}

/** Shows a failure in the reports pane (a dead session goes back to sign-in instead). */
function reportsError(error: ConsoleError, withCode: boolean) {
  const box = $("reports-error");
  box.textContent = error.message;
  if (withCode) box.dataset.code = error.code;
  box.hidden = false;
}

async function loadReports() {
  $("reports-error").hidden = true;
  const query = {
    agent_id: $<HTMLSelectElement>("filter-agent").value || null,
    state: $<HTMLSelectElement>("filter-state").value || null,
    from: dayStart($<HTMLInputElement>("filter-from").value),
    to: dayStart($<HTMLInputElement>("filter-to").value, 1),
  };
  $("reports-rows").dataset.loading = "true";
  try {
    const contacts = await api.reportContacts(query);
    for (const c of contacts) if (c.agent_id) state.agents.set(c.agent_id, c.agent_name || c.agent_id);
    renderAgentFilter();
    $("reports-rows").replaceChildren(
      ...contacts.map((c) => {
        const tr = el("tr", "report-row");
        tr.dataset.contactId = c.id;
        const nameCell = el("td");
        const open = el("button", "link", customerName(c));
        open.type = "button";
        open.dataset.openContact = c.id;
        nameCell.append(open);
        tr.append(
          nameCell,
          el("td", "", c.agent_name ?? "—"),
          el("td", "", date(c.created_at)),
          el("td", "", date(c.closed_at)),
        );
        const stateCell = el("td");
        const pill = el("span", "state-pill", c.state);
        pill.dataset.state = c.state;
        stateCell.append(pill);
        tr.append(stateCell);
        tr.addEventListener("click", () => void openDetails(c.id));
        return tr;
      }),
    );
    $("reports-empty").hidden = contacts.length > 0;
  } catch (e) {
    const error = asConsoleError(e);
    if (isSessionEnd(error)) return handleError(error);
    $("reports-rows").replaceChildren();
    reportsError(error, true);
  } finally {
    $("reports-rows").dataset.loading = "false";
  }
}

function renderAgentFilter() {
  const select = $<HTMLSelectElement>("filter-agent");
  const current = select.value;
  const options = [...state.agents.entries()].sort((a, b) => a[1].localeCompare(b[1]));
  select.replaceChildren(
    new Option(t("reports.all-agents"), ""),
    ...options.map(([id, name]) => new Option(name, id, false, id === current)),
  );
  select.value = current;
}

export async function openDetails(contactId: string) {
  state.details = contactId;
  $("reports-error").hidden = true;
  try {
    const details = await api.reportContact(contactId);
    if (state.details !== contactId) return;
    const c = details.contact;
    $("details-view").dataset.contactId = c.id;
    $("details-name").textContent = customerName(c);
    $("details-meta").textContent = [
      t("reports.opened-at", { date: date(c.created_at) }),
      c.agent_name ? `agent ${c.agent_name}` : "not accepted",
      c.closed_at ? `closed ${date(c.closed_at)}` : c.state,
    ].join(" · ");
    const transcript = $("details-transcript");
    transcript.replaceChildren(...details.messages.map(messageItem));
    if (details.messages.length === 0) transcript.append(el("li", "transcript-empty", t("reports.no-messages")));
    const files = details.messages.filter((m) => m.attachment);
    $("details-count").textContent = String(files.length + details.blocked.length);
    $("details-no-attachments").hidden = files.length + details.blocked.length > 0;
    $("details-attachments").replaceChildren(
      ...files.map((m) => {
        const a = m.attachment!;
        const li = el("li", "attachment-item");
        li.dataset.attachmentId = a.id;
        li.append(a.removed ? tombstoneBlock(a) : attachmentBlock(a));
        const who = a.sender === "agent" ? m.sender_name || t("agent") : m.sender_name || t("customer");
        li.append(el("div", "att-meta", t("reports.sent-by", { who, sender: a.sender, date: date(a.created_at) })));
        const check = a.released_by
          ? `Check: released by ${a.released_by} · ${date(a.released_at ?? null)} (the scanner had not answered)`
          : "Check: clean";
        const removed = a.metadata_removed ? " · location and camera data removed" : "";
        li.append(el("div", "att-check", check + removed));
        reviewExtras(li, a);
        return li;
      }),
      // Files the checks blocked: never delivered, listed with the reason.
      ...details.blocked.map((b) => {
        const li = el("li", "attachment-item blocked");
        li.dataset.uploadId = b.upload_id;
        li.append(el("div", "att-name", b.name));
        li.append(el("div", "att-meta", `Sent by the ${b.sender} · ${date(b.created_at)}`));
        const note = b.releasable ? " (an admin can release it)" : "";
        li.append(el("div", "att-check", `Check: blocked: ${b.error.message}${note}`));
        return li;
      }),
    );
    $("reports-list-view").hidden = true;
    $("files-view").hidden = true;
    $("details-view").hidden = false;
    $("access-section").hidden = true;
    $("details-export-status").textContent = "";
    $("details-export-progress").hidden = true;
    void loadAccess(contactId);
  } catch (e) {
    const error = asConsoleError(e);
    if (isSessionEnd(error)) return handleError(error);
    reportsError(error, false);
  }
}

export function wireReports() {
  wireReview(openDetails);
  $("nav-contacts").addEventListener("click", () => showView("contacts"));
  $("nav-reports").addEventListener("click", () => showView("reports"));
  $("reports-filter").addEventListener("submit", (e) => {
    e.preventDefault();
    void loadReports();
  });
  $("details-back").addEventListener("click", () => {
    state.details = null;
    $("details-view").hidden = true;
    $("reports-list-view").hidden = false;
  });
}

type Removed = Extract<ConsoleEvent, { type: "attachment_removed" }>;

/** A file was redacted or expired: the card's transcript and the open details show its tombstone. */
export function onAttachmentRemoved(event: Removed) {
  const list = state.messages.get(event.contact_id);
  const m = list?.find((x) => x.id === event.message_id);
  if (m?.attachment) {
    m.attachment = { ...m.attachment, removed: event.tombstone, preview_url: undefined };
    if (state.selected === event.contact_id) redraw("transcript");
  }
  if (state.details === event.contact_id) void openDetails(event.contact_id);
}
