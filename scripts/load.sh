#!/usr/bin/env bash
# Attachment load figures: upload and download MB/s and the service's peak RSS for concurrent
# uploads (40 x 1 MiB and 40 x 25 MiB at 8 at once, 1000 x 64 KiB at 32 at once) and downloads.
# Prints figures; asserts nothing. `scripts/load.sh --quick` for a smaller run.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p attache-cli -p attache-client --bin attache --example load
target_dir="${CARGO_TARGET_DIR:-target}"
"$target_dir/release/examples/load" "$target_dir/release/attache" "$@"
