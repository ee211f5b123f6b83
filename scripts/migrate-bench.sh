#!/usr/bin/env bash
# Migration throughput (files/s, MiB/s, rows/s) for a deployment of 10,000 messages and 1,000
# files: SQLite + folder to a new folder, and to PostgreSQL + S3 (a PostgreSQL server of its own from
# Debian's binaries and moto's S3 on loopback, as the tests use). Prints figures; asserts nothing.
# `scripts/migrate-bench.sh [messages] [files]`
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p attache-client --example migrate_bench
target_dir="${CARGO_TARGET_DIR:-target}"
pg_dir=$(mktemp -d "${TMPDIR:-/tmp}/attache-bench-pg.XXXXXX")
trap 'bash scripts/postgres.sh --stop "$pg_dir"; rm -rf "$pg_dir"' EXIT
if pg=$(bash scripts/postgres.sh "$pg_dir") && s3=$(bash scripts/s3.sh); then
  eval "$s3"
  trap 'kill "$ATTACHE_S3_PID" 2>/dev/null; bash scripts/postgres.sh --stop "$pg_dir"; rm -rf "$pg_dir"' EXIT
  name="attache_bench_$(date +%s)"
  createdb --maintenance-db "$pg/postgres" "$name"
  export ATTACHE_BENCH_POSTGRES="$pg/$name" STORE_URL="$ATTACHE_TEST_S3/bench-$name"
fi
"$target_dir/release/examples/migrate_bench" "$@"
