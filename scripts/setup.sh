#!/usr/bin/env bash
# Installs what building and testing Attaché needs on a fresh Debian machine. Idempotent: what is
# already there is skipped. Needs root or sudo for the Debian packages.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  # service and SDK
  build-essential pkg-config libssl-dev curl ca-certificates python3 python3-pip
  # the same integration tests on PostgreSQL; two instances behind a real balancer
  postgresql haproxy
  # agent console (Tauri 2 on WebKitGTK) and its end-to-end tests under Xvfb
  libwebkit2gtk-4.1-dev file libxdo-dev libayatana-appindicator3-dev librsvg2-dev
  xvfb xauth dbus-x11 dbus-bin xdg-utils webkit2gtk-driver gnome-keyring imagemagick
  # the malware scanner's tests start a clamd of their own (with a test signature, no download);
  # metadata removal is checked with exiftool; PDF previews are made by pdftoppm
  clamav-daemon libimage-exiftool-perl poppler-utils
  # HEIC (iPhone) previews, and the tool its test makes a HEIC with
  libheif-examples
  # customer widget tests
  chromium
  nodejs npm
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
# node and npm may come from elsewhere than Debian (they do on the CI image): keep those.
if command -v node >/dev/null && command -v npm >/dev/null; then
  filtered=()
  for p in "${missing[@]}"; do [[ "$p" == nodejs || "$p" == npm ]] || filtered+=("$p"); done
  missing=("${filtered[@]}")
fi
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null; then
  echo "setup: Rust is needed: install it with rustup (https://rustup.rs)" >&2
  exit 1
fi

# WebDriver bridge for the console's end-to-end tests.
if ! command -v tauri-driver >/dev/null && [[ ! -x "$HOME/.cargo/bin/tauri-driver" ]]; then
  echo "setup: installing tauri-driver"
  cargo install tauri-driver --locked --quiet
fi

# Front-end and test dependencies (exact versions from the lock files).
for dir in ui tests/widget tests/console; do
  if [[ -f "$dir/package-lock.json" ]]; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
done
if [[ -f tests/requirements.txt ]]; then
  # A Debian-managed Python refuses plain pip installs (PEP 668): then install beside it.
  python3 -m pip install --quiet --disable-pip-version-check -r tests/requirements.txt 2>/dev/null ||
    python3 -m pip install --quiet --disable-pip-version-check --break-system-packages -r tests/requirements.txt
fi
echo "setup: done"
