// Page plumbing shared by every feature: element lookup and creation, display formats, and where
// a failed command is shown. Knows no feature and holds no state of its own beyond one hook.
import { asConsoleError } from "./api";
import { ErrorCode, type ConsoleError } from "./bindings/ipc";
import { locale } from "./i18n";

/** The element with this id; a missing one is a bug in index.html, so it throws. */
export const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el as T;
};

/** A new element with a class and text. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  if (parts.length === 0) return "?";
  return (parts[0][0] + (parts.length > 1 ? parts[parts.length - 1][0] : "")).toUpperCase();
}

export function time(iso: string | null): string {
  if (!iso) return "";
  const d = new Date(iso);
  return d.toLocaleTimeString(locale(), { hour: "2-digit", minute: "2-digit" });
}

export function date(iso: string | null): string {
  if (!iso) return "—";
  const d = new Date(iso);
  return `${d.toLocaleDateString(locale(), { year: "numeric", month: "short", day: "numeric" })} ${time(iso)}`;
}

export function formatSize(bytes: number): string {
  const one = new Intl.NumberFormat(locale(), { minimumFractionDigits: 1, maximumFractionDigits: 1, useGrouping: false });
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${one.format(bytes / 1024)} KB`;
  if (bytes < 1024 * 1024 * 1024) return `${one.format(bytes / (1024 * 1024))} MB`;
  return `${one.format(bytes / (1024 * 1024 * 1024))} GB`;
}

/** Whether a failure means the session is gone (back to sign-in, wherever it happened). */
export function isSessionEnd(error: ConsoleError): boolean {
  return error.code === ErrorCode.SessionExpired || error.code === ErrorCode.NotSignedIn;
}

let sessionEnded: () => void = () => {};

/** Sign-in says what a dead session leads to; main.ts wires it at boot. */
export function onSessionEnd(handler: () => void) {
  sessionEnded = handler;
}

/** Shows a command's failure where it belongs; a dead session goes back to sign-in. */
export function handleError(e: unknown, where: "card" | "console" = "card") {
  const error = asConsoleError(e);
  if (isSessionEnd(error)) {
    sessionEnded();
    return;
  }
  if (where === "card" && !$("card").hidden) {
    const box = $("card-error");
    box.textContent = error.message;
    box.hidden = false;
  } else {
    const notice = $("console-notice");
    notice.textContent = error.message;
    notice.hidden = false;
  }
}

/** Keeps Tab and Shift+Tab inside `box` (a modal). */
export function trapFocus(e: KeyboardEvent, box: HTMLElement) {
  if (e.key !== "Tab") return;
  const focusable = [...box.querySelectorAll<HTMLElement>("button, input, select, textarea, [tabindex='0']")].filter(
    (n) => !(n as HTMLButtonElement).disabled && !n.closest("[hidden]") && n.getClientRects().length > 0,
  );
  if (focusable.length === 0) return;
  const first = focusable[0];
  const last = focusable[focusable.length - 1];
  if (e.shiftKey && document.activeElement === first) {
    e.preventDefault();
    last.focus();
  } else if (!e.shiftKey && document.activeElement === last) {
    e.preventDefault();
    first.focus();
  }
}

/** The start of a `<input type="date">` day (plus some days) as RFC 3339, or null when empty. */
export function dayStart(value: string, plusDays = 0): string | null {
  if (!value) return null;
  const d = new Date(`${value}T00:00:00`);
  d.setDate(d.getDate() + plusDays);
  return d.toISOString();
}
