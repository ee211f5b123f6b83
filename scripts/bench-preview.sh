#!/usr/bin/env bash
# The preview bench (issue 12): Attaché's JPEG preview of a 12-megapixel photo against Debian's
# vipsthumbnail on the same file, interleaved (median of 9 runs each, as a process and inside the
# service's process), and the peak memory of four 40-megapixel photos previewed at once.
# Prints figures; asserts nothing. Not part of scripts/test.sh.
#
# Usage: scripts/bench-preview.sh [RUNS]
# Installs what it needs: libvips-tools (Debian) for vipsthumbnail.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
as_root() { if [[ $(id -u) == 0 ]]; then "$@"; else sudo "$@"; fi; }
if ! command -v vipsthumbnail >/dev/null; then
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q libvips-tools >/dev/null
fi
vipsthumbnail --vips-version 2>/dev/null | head -n 1 || true
cargo build --release -q -p attache-server --example preview_bench
"${CARGO_TARGET_DIR:-target}/release/examples/preview_bench" "${1:-9}"
