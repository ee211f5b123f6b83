#!/usr/bin/env bash
# The LivePerson seed's seven steps as written (tests/liveperson/seed.mjs) against a fresh
# `attache serve --demo`, no agent joined. Prints "liveperson: N passed, N failed" last; exits
# non-zero on failure. Needs node, bash, curl and jq. Honours CARGO_TARGET_DIR.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
cargo build -p attache-cli || { echo "liveperson: 0 passed, 1 failed"; exit 1; }
for tool in curl jq; do
  command -v "$tool" >/dev/null || { echo "$tool is missing"; echo "liveperson: 0 passed, 1 failed"; exit 1; }
done
ATTACHE_BIN="$TARGET_DIR/debug/attache" node tests/liveperson/seed.mjs </dev/null
