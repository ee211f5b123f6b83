// Settings: the local cache's size limit (kept across restarts by the Rust side), the space it
// uses now and "Clear cache". Beyond the limit the least recently opened files leave first; the
// picture the gallery shows never does. Opened from the top bar; Esc or Close shuts it.
import { api, asConsoleError } from "./api";
import type { CacheInfo } from "./bindings/ipc";
import { $, formatSize, trapFocus } from "./dom";
import { t } from "./i18n";

const MB = 1024 * 1024;

const files = (n: number) => (n === 1 ? t("cache.files.one") : t("cache.files", { n }));

function render(info: CacheInfo) {
  const used = $("cache-used");
  used.textContent = t("cache.used", {
    used: formatSize(info.used_bytes),
    limit: formatSize(info.limit_bytes),
    files: files(info.files),
  });
  used.dataset.usedBytes = String(info.used_bytes);
  used.dataset.files = String(info.files);
  const share = info.limit_bytes > 0 ? Math.min(1, info.used_bytes / info.limit_bytes) : 0;
  $("cache-bar-fill").style.width = `${(share * 100).toFixed(1)}%`;
  const limit = $<HTMLInputElement>("cache-limit");
  limit.min = String(Math.ceil(info.min_bytes / MB));
  limit.max = String(Math.floor(info.max_bytes / MB));
  limit.value = String(Math.round(info.limit_bytes / MB));
  $("settings-dialog").dataset.limitBytes = String(info.limit_bytes);
}

/** One line under the form: an error (role alert) or what was done (role status). */
function say(text: string, isError = false) {
  const error = $("settings-error");
  error.textContent = isError ? text : "";
  error.hidden = !isError;
  $("settings-status").textContent = isError ? "" : text;
}

async function openSettings() {
  say("");
  // The figures of the last opening are stale: say they are being counted until fresh ones come.
  const used = $("cache-used");
  used.textContent = t("cache.counting");
  delete used.dataset.usedBytes;
  delete used.dataset.files;
  $("settings-dialog").hidden = false;
  $("cache-limit").focus();
  try {
    render(await api.cacheInfo());
  } catch (e) {
    say(asConsoleError(e).message, true);
  }
}

function closeSettings() {
  if ($("settings-dialog").hidden) return;
  $("settings-dialog").hidden = true;
  $("settings-button").focus();
}

async function save(e: Event) {
  e.preventDefault();
  const input = $<HTMLInputElement>("cache-limit");
  const mb = Number(input.value);
  const min = Number(input.min);
  const max = Number(input.max);
  if (!Number.isInteger(mb) || mb < min || mb > max) {
    say(t("cache.bad-limit", { min, max }), true);
    input.focus();
    return;
  }
  try {
    const info = await api.setCacheLimit(mb * MB);
    render(info);
    say(t("cache.saved", { files: files(info.removed) }));
  } catch (err) {
    say(asConsoleError(err).message, true);
  }
}

async function clear() {
  try {
    const info = await api.clearCache();
    render(info);
    say(t("cache.cleared", { files: files(info.removed) }));
  } catch (err) {
    say(asConsoleError(err).message, true);
  }
}

export function wireSettings() {
  $("settings-button").addEventListener("click", () => void openSettings());
  $("settings-close").addEventListener("click", closeSettings);
  $("settings-form").addEventListener("submit", (e) => void save(e));
  $("cache-clear").addEventListener("click", () => void clear());
  $("settings-dialog").addEventListener("click", (e) => {
    if (e.target === $("settings-dialog")) closeSettings();
  });
  $("settings-dialog").addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      closeSettings();
    } else {
      trapFocus(e, $("settings-form"));
    }
  });
}
