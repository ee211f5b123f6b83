#!/usr/bin/env bash
# End-to-end tests of the agent console: builds the UI, the console (production-style, ui/dist
# embedded) and the `attache` service, then drives the real console binary over WebDriver under
# Xvfb with a D-Bus session and an unlocked gnome-keyring, against `attache serve --demo`.
#
# Needs the Debian packages that .ci/run installs (libwebkit2gtk-4.1-dev, webkit2gtk-driver, xvfb,
# xauth, dbus-x11, gnome-keyring, ...), node/npm and cargo. Installs tauri-driver if missing.
# Honours CARGO_TARGET_DIR. Prints "N passed, N failed" last; exits non-zero on any failure.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
export ARTIFACTS="${ARTIFACTS:-$ROOT/artifacts/console}"
mkdir -p "$ARTIFACTS"

step() { printf '\n== %s\n' "$*"; }

step "ui: npm ci"
(cd ui && npm ci --no-audit --no-fund)
# axe-core, injected into the console's page by the tests (as the lock file says).
if [[ ! -f tests/console/node_modules/.package-lock.json || tests/console/package-lock.json -nt tests/console/node_modules/.package-lock.json ]]; then
  (cd tests/console && npm ci --no-audit --no-fund --loglevel=error)
fi

step "ui: typecheck and build"
(cd ui && npm run build)

step "console: unit tests and the generated-bindings check"
# Not a default member, so `cargo test` at the root skips it; run it here.
set +e
cargo test -p attache-console 2>&1 | tee "$ARTIFACTS/unit.log"
unit_status=${PIPESTATUS[0]}
set -e
unit_passed=$(grep -oE '^test result: .* ([0-9]+) passed' "$ARTIFACTS/unit.log" | grep -oE '[0-9]+ passed' | awk '{s+=$1} END {print s+0}')
unit_failed=$(grep -oE '; ([0-9]+) failed' "$ARTIFACTS/unit.log" | grep -oE '[0-9]+' | awk '{s+=$1} END {print s+0}')
if [ "$unit_status" -ne 0 ] && [ "$unit_failed" -eq 0 ]; then unit_failed=1; fi

step "console: tauri build --debug --no-bundle (embeds ui/dist)"
# Say where things are rather than letting the CLI search: the Rust package is the root, the web
# side is ui/ (where beforeBuildCommand runs).
export TAURI_APP_PATH="$ROOT" TAURI_FRONTEND_PATH="$ROOT/ui"
# The CLI runs beforeBuildCommand (the UI build above, again: cheap) and builds with
# tauri/custom-protocol so the binary serves the embedded assets, not a dev server.
# `-p`: the root package is not a default member, so name it (the CLI passes the rest to cargo).
ui/node_modules/.bin/tauri build --debug --no-bundle --ci -- -p attache-console

step "console: the .deb (tauri build --debug --bundles deb), installed with dpkg -i"
# The same build as above, bundled; then installed into this machine's system, as an agent's
# machine would (installed.test.mjs starts /usr/bin/attache-console and signs in).
rm -rf "$TARGET_DIR/debug/bundle/deb"
if ui/node_modules/.bin/tauri build --debug --bundles deb --ci -- -p attache-console >"$ARTIFACTS/deb.log" 2>&1; then
  deb=$(find "$TARGET_DIR/debug/bundle/deb" -name '*.deb' | head -n 1)
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  if $SUDO dpkg -i "$deb" >>"$ARTIFACTS/deb.log" 2>&1; then
    echo "installed $(basename "$deb")"
  else
    echo "dpkg -i $deb failed (artifacts/console/deb.log)"
  fi
else
  echo "the .deb did not build (artifacts/console/deb.log)"
fi
export INSTALLED_CONSOLE_BIN=/usr/bin/attache-console

step "service: cargo build -p attache-cli"
cargo build -p attache-cli

if ! command -v tauri-driver >/dev/null 2>&1; then
  step "cargo install tauri-driver"
  cargo install tauri-driver --locked
fi
export PATH="$HOME/.cargo/bin:$PATH"

export ATTACHE_BIN="$TARGET_DIR/debug/attache"
export CONSOLE_BIN="$TARGET_DIR/debug/attache-console"
for bin in "$ATTACHE_BIN" "$CONSOLE_BIN"; do
  [ -x "$bin" ] || { echo "missing $bin" >&2; echo "0 passed, 1 failed"; exit 1; }
done

step "e2e: console under Xvfb + D-Bus + gnome-keyring, driven by tauri-driver"
export TAP="$ARTIFACTS/results.tap"
rm -f "$TAP"
# A fresh, private keyring and XDG folders for every run: a keyring left by an earlier run would be
# locked with another password, and the console's session must not outlive the run.
XDG_TMP="$(mktemp -d)"
trap 'rm -rf "$XDG_TMP"' EXIT
export XDG_DATA_HOME="$XDG_TMP/data" XDG_CONFIG_HOME="$XDG_TMP/config" XDG_CACHE_HOME="$XDG_TMP/cache"
mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME"
set +e
# xvfb-run gives a display; dbus-run-session a private session bus; gnome-keyring-daemon, unlocked
# with a throwaway password on stdin, provides the Secret Service the console keeps its token in.
xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- bash -c '
  set -e
  eval "$(printf %s ci-keyring-password | gnome-keyring-daemon --unlock --components=secrets)"
  export GNOME_KEYRING_CONTROL
  export WEBKIT_DISABLE_COMPOSITING_MODE=1
  export NO_AT_BRIDGE=1
  node --test --test-concurrency=1 \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$TAP" \
    tests/console/*.test.mjs
' </dev/null
status=$?
set -e

passed=$(grep -E '^# pass ' "$TAP" 2>/dev/null | awk '{print $3}' || true)
failed=$(grep -E '^# fail ' "$TAP" 2>/dev/null | awk '{print $3}' || true)
passed=${passed:-0}
failed=${failed:-0}
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "screenshots and logs: $ARTIFACTS"
echo "(unit tests: $unit_passed/$unit_failed, end-to-end: $passed/$failed, passed/failed)"
echo "console: $((unit_passed + passed)) passed, $((unit_failed + failed)) failed"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ] && [ "$unit_failed" -eq 0 ]
