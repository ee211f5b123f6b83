#!/usr/bin/env bash
# Migration throughput (files/s, MiB/s, rows/s) for a deployment of 10,000 messages and 1,000
# files: SQLite + folder to a new folder, and to PostgreSQL + S3 (Debian's PostgreSQL and moto's
# S3 on loopback, as the tests use). Prints figures; asserts nothing.
# `scripts/migrate-bench.sh [messages] [files]`
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p attache-client --example migrate_bench
target_dir="${CARGO_TARGET_DIR:-target}"
if pg=$(bash scripts/postgres.sh) && s3=$(bash scripts/s3.sh); then
  eval "$s3"
  trap 'kill "$ATTACHE_S3_PID" 2>/dev/null' EXIT
  name="attache_bench_$(date +%s)"
  createdb --maintenance-db "$pg/postgres" "$name"
  export ATTACHE_BENCH_POSTGRES="$pg/$name" STORE_URL="$ATTACHE_TEST_S3/bench-$name"
fi
"$target_dir/release/examples/migrate_bench" "$@"
