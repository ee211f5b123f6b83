#!/usr/bin/env bash
# The main job: sets up, builds, starts the service on its embedded default (SQLite and a local
# folder under ./data) with the demo account, and opens the agent console against it.
# Ctrl-C stops both. ATTACHE_LISTEN changes the address; ATTACHE_NO_CONSOLE=1 runs the service alone.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

bash scripts/setup.sh
listen="${ATTACHE_LISTEN:-127.0.0.1:8080}"
bin="${CARGO_TARGET_DIR:-target}/debug"
cargo build --locked -p attache-cli
console=""
if [[ -z "${ATTACHE_NO_CONSOLE:-}" && -f tauri.conf.json ]]; then
  (cd ui && npm run build --silent)
  cargo build --locked -p attache-console   # embeds ui/dist (custom-protocol is a default feature)
  console="$bin/attache-console"
fi

"$bin/attache" serve --demo --listen "$listen" --data-dir ./data &
service=$!
trap 'kill $service 2>/dev/null; wait $service 2>/dev/null' EXIT
for _ in $(seq 50); do curl -fs "http://$listen/healthz" >/dev/null && break; sleep 0.2; done

if [[ -n "$console" ]]; then
  if [[ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]]; then
    echo "No display: starting the console on a virtual one (Xvfb :77)."
    Xvfb :77 -screen 0 1280x800x24 >/dev/null 2>&1 &
    trap 'kill $service $! 2>/dev/null' EXIT
    export DISPLAY=:77
  fi
  ATTACHE_SERVER="http://$listen" "$console"
else
  wait $service
fi
