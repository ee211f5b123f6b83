#!/usr/bin/env bash
# The service's peak RSS while it streams a contact's "Download all" ZIP of 30 files x 30 MiB
# (arguments: [files] [MiB each]). Prints figures; asserts nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${PROFILE:-release}"
flag=$([ "$profile" = release ] && echo --release || true)
cargo build $flag -p attache-cli -p attache-client --bin attache --example export_rss
target_dir="${CARGO_TARGET_DIR:-target}"
"$target_dir/$profile/examples/export_rss" "$target_dir/$profile/attache" "$@"
