// Screens and the session: loading, sign-in (with the keyring notice), entering the console,
// signing out, and going back to sign-in when the service no longer accepts the session.
import { api, asConsoleError } from "./api";
import { ErrorCode, type ConsoleError, type SessionView, type Startup } from "./bindings/ipc";
import { closeGallery } from "./gallery";
import { $ } from "./dom";
import { refreshContacts } from "./queue";
import { showView } from "./reports";
import { keyringNotice, redraw, state } from "./state";
import { closeUploadDialog } from "./upload";
import { t } from "./i18n";

type Screen = "loading" | "signin" | "console";

function show(screen: Screen) {
  for (const s of ["loading", "signin", "console"] as Screen[]) {
    $(`screen-${s}`).hidden = s !== screen;
  }
  document.body.dataset.screen = screen;
}

export function loading(text: string) {
  $("loading-text").textContent = text;
  show("loading");
}

function showSignIn(error?: ConsoleError) {
  const s = state.startup;
  const notice = $("signin-notice");
  notice.hidden = !s || s.keyring_available;
  notice.textContent = keyringNotice();
  setSignInError(error ?? null);
  setBusy(false);
  show("signin");
  const username = $<HTMLInputElement>("signin-username");
  (username.value ? $<HTMLInputElement>("signin-password") : username).focus();
}

function setSignInError(error: ConsoleError | null) {
  const box = $("signin-error");
  box.hidden = !error;
  box.textContent = error ? error.message : "";
  box.dataset.code = error ? error.code : "";
}

function setBusy(busy: boolean) {
  const button = $<HTMLButtonElement>("signin-submit");
  button.disabled = busy;
  button.textContent = busy ? t("signin.busy") : t("signin.submit");
}

/** After startup: restore the kept session, or ask to sign in. */
export async function start(startup: Startup) {
  state.startup = startup;
  $<HTMLInputElement>("signin-server").value = startup.server;
  $<HTMLInputElement>("signin-account").value = startup.account;
  $<HTMLInputElement>("signin-username").value = startup.username;
  if (!startup.has_stored_session) {
    showSignIn();
    return;
  }
  loading(t("loading.restoring"));
  try {
    const session = await api.restoreSession();
    if (session) await enterConsole(session);
    else showSignIn();
  } catch (e) {
    showSignIn(asConsoleError(e));
  }
}

async function submitSignIn(ev: Event) {
  ev.preventDefault();
  const value = (id: string) => $<HTMLInputElement>(id).value;
  const request = {
    server: value("signin-server").trim(),
    account: value("signin-account").trim(),
    username: value("signin-username").trim(),
    password: value("signin-password"),
  };
  if (!request.server || !request.account || !request.username || !request.password) {
    setSignInError({ code: ErrorCode.MissingFields, message: t("signin.missing") });
    return;
  }
  setBusy(true);
  setSignInError(null);
  try {
    const session = await api.signIn(request);
    $<HTMLInputElement>("signin-password").value = "";
    await enterConsole(session);
  } catch (e) {
    setBusy(false);
    setSignInError(asConsoleError(e));
    // Clear rather than select the rejected password: retyping is what comes next anyway.
    const password = $<HTMLInputElement>("signin-password");
    password.value = "";
    password.focus();
  }
}

async function enterConsole(session: SessionView) {
  state.session = session;
  state.contacts.clear();
  state.messages.clear();
  state.unread.clear();
  state.selected = null;
  $("me-name").textContent = session.display_name || session.username;
  $("me-role").textContent = t(`role.${session.role}`);
  const notice = $("console-notice");
  notice.hidden = session.remembered;
  notice.textContent = keyringNotice();
  // Reports is the second view; without report rights there is nothing to switch to.
  $("views").hidden = !session.can_read_reports;
  $("nav-reports").hidden = !session.can_read_reports;
  showView("contacts");
  redraw("connection", "lists", "card");
  show("console");
  await refreshContacts();
}

async function signOut() {
  $<HTMLButtonElement>("signout").disabled = true;
  try {
    await api.signOut();
  } catch (e) {
    // The session is gone locally either way; say what failed with the keyring, if anything.
    leaveConsole(asConsoleError(e));
    return;
  } finally {
    $<HTMLButtonElement>("signout").disabled = false;
  }
  leaveConsole();
}

function leaveConsole(error?: ConsoleError) {
  closeUploadDialog(true);
  closeGallery();
  state.session = null;
  state.connection = "connecting";
  state.selected = null;
  if (state.startup) state.startup.has_stored_session = false;
  showSignIn(error);
}

/** The service no longer accepts the session: clean up and go back to sign-in. */
export async function sessionExpired() {
  if (!state.session) return;
  try {
    await api.signOut();
  } catch {
    // Nothing more to clean up.
  }
  leaveConsole({ code: ErrorCode.SessionExpired, message: t("signin.expired") });
}

export function wireSignIn() {
  $("signin-form").addEventListener("submit", (e) => void submitSignIn(e));
  $("signout").addEventListener("click", () => void signOut());
}
