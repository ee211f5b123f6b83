#!/usr/bin/env bash
# Memory under hostile bursts: the service's peak RSS during 100 parallel wrong sign-ins and during
# 8 parallel oversized (60 MiB) socket frames. Prints figures; asserts nothing.
# `scripts/load-hostile.sh --release` measures an optimised build (slower to build).
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir="${CARGO_TARGET_DIR:-target}"
profile=debug
flags=()
if [[ "${1:-}" == "--release" ]]; then profile=release; flags=(--release); fi
cargo build "${flags[@]}" -p attache-cli -p attache-client --bin attache --example load_hostile
"$target_dir/$profile/examples/load_hostile" "$target_dir/$profile/attache"
