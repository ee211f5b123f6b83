#!/usr/bin/env bash
# Starts Debian's PostgreSQL cluster (installed by setup.sh) and prints a URL for the tests:
# postgres://attache:attache@127.0.0.1. Root or sudo. Exits non-zero when that is not possible.
set -euo pipefail
as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }
as_pg() { if [[ $(id -u) -eq 0 ]]; then su postgres -c "$*"; else sudo -u postgres bash -c "$*"; fi; }
command -v pg_lsclusters >/dev/null || { echo "postgresql is not installed" >&2; exit 1; }
as_root service postgresql start >/dev/null 2>&1 || true
# A cluster starting after a crash may replay its log for a while first.
for _ in $(seq 300); do as_pg "pg_isready -q -h 127.0.0.1" && break; sleep 0.2; done
as_pg "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='attache'\"" | grep -q 1 ||
  as_pg "psql -qc \"CREATE ROLE attache LOGIN CREATEDB PASSWORD 'attache'\"" >/dev/null
echo "postgres://attache:attache@127.0.0.1"
