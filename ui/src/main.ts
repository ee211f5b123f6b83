// The console page boots here and dispatches: the Rust side's events go to the feature they
// concern, each part of the page is drawn by one feature, and each feature wires its own controls.
// Every call goes through ./api (Tauri commands); the page itself never speaks HTTP.
import { api, asConsoleError } from "./api";
import type { ConsoleEvent } from "./bindings/ipc";
import { galleryKey, wireGallery } from "./gallery";
import { onFilesDragging, onFilesDropped, wireIntake } from "./intake";
import { addMessage, onIncoming, renderCard, renderIncoming, renderTranscript, wireCard } from "./card";
import { $, onSessionEnd } from "./dom";
import { refreshContacts, renderConnection, renderLists, wireQueue } from "./queue";
import { onAttachmentRemoved, wireReports } from "./reports";
import { loading, sessionExpired, start, wireSignIn } from "./signin";
import { drawWith, state, upsertContact } from "./state";
import { closeUploadDialog, wireUpload } from "./upload";
import { wireSettings } from "./settings";
import { applyCatalog, t } from "./i18n";

function onEvent(event: ConsoleEvent) {
  if (event.type === "connection") {
    // Recorded even before the console shows: the stream may be up before sign_in has returned.
    const wasOnline = state.connection === "online";
    state.connection = event.state;
    if (!state.session) return;
    renderConnection(event.detail);
    // Back online after a gap: reload what may have been missed.
    if (event.state === "online" && !wasOnline) void refreshContacts();
    return;
  }
  if (!state.session) return;
  switch (event.type) {
    case "contact_queued":
    case "contact_accepted":
    case "contact_closed":
      upsertContact(event.contact);
      break;
    case "message_created":
      addMessage(event.message);
      break;
    case "incoming_upload":
    case "incoming_upload_refused":
      onIncoming(event);
      break;
    case "files_dragging":
      onFilesDragging(event.active);
      break;
    case "files_dropped":
      void onFilesDropped(event.paths);
      break;
    case "session_expired":
      void sessionExpired();
      break;
    case "attachment_removed":
      onAttachmentRemoved(event);
      break;
  }
}

drawWith("lists", renderLists);
drawWith("card", renderCard);
drawWith("transcript", renderTranscript);
drawWith("incoming", renderIncoming);
drawWith("connection", renderConnection);
onSessionEnd(() => void sessionExpired());

wireUpload();
wireIntake();
wireGallery();
wireReports();
wireSignIn();
wireCard();
wireQueue();
wireSettings();
// The gallery takes its keys first when open; else Esc closes the upload popup.
document.addEventListener("keydown", (e) => {
  if (galleryKey(e)) {
    e.preventDefault();
    return;
  }
  if (e.key === "Escape" && !$("upload-dialog").hidden) closeUploadDialog();
});

async function boot() {
  applyCatalog(document);
  loading(t("loading.starting"));
  await api.onEvent(onEvent);
  await start(await api.startup());
}

boot().catch((e) => {
  const error = asConsoleError(e);
  loading(t("loading.failed", { message: error.message }));
});
