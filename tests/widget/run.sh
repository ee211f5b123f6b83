#!/usr/bin/env bash
# End-to-end tests of the customer widget in headless Debian Chromium (playwright-core), against
# `attache serve --demo`. Prints "widget: N passed, N failed" last; exits non-zero on failure.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
export ARTIFACTS="${ARTIFACTS:-$ROOT/artifacts/widget}"
mkdir -p "$ARTIFACTS"
# Installed, and as the lock file says (npm keeps its own copy of the lock in node_modules).
if [[ ! -f tests/widget/node_modules/.package-lock.json || tests/widget/package-lock.json -nt tests/widget/node_modules/.package-lock.json ]]; then
  (cd tests/widget && npm ci --no-audit --no-fund --loglevel=error)
fi
cargo build -p attache-cli || { echo "widget: 0 passed, 1 failed"; exit 1; }
export ATTACHE_BIN="$TARGET_DIR/debug/attache"
TAP="$ARTIFACTS/results.tap"
node --test --test-concurrency=1 --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$TAP" tests/widget/*.test.mjs </dev/null
status=$?
passed=$(awk '/^# pass /{print $3}' "$TAP"); failed=$(awk '/^# fail /{print $3}' "$TAP")
passed=${passed:-0}; failed=${failed:-0}
[[ $status -eq 0 || $failed -gt 0 ]] || failed=1
echo "widget: $passed passed, $failed failed"
[[ $status -eq 0 ]]
