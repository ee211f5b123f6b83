#!/usr/bin/env bash
# A PostgreSQL server of our own for the tests and the scale-out demo, independent of the
# machine's cluster (whose state — a long crash recovery, thousands of leftover databases — is
# not ours to depend on): Debian's binaries (installed by setup.sh), a data folder we name, a free
# loopback port, superuser attache/attache. Prints its URL, postgres://attache:attache@127.0.0.1:PORT.
#
#   bash scripts/postgres.sh DIR           start it (DIR made with initdb when empty); a server
#                                         already running in DIR is reused
#   bash scripts/postgres.sh --scratch DIR the same for data nobody keeps (the tests): fsync off,
#                                         since the tests kill Attaché, never PostgreSQL
#   bash scripts/postgres.sh --stop DIR    stop it (the data stays; rm -rf DIR to drop it)
#
# As root, the server runs as the postgres user (initdb refuses root); otherwise as the caller.
set -euo pipefail
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
[[ -x "$bin/initdb" ]] || { echo "postgresql is not installed (scripts/setup.sh installs it)" >&2; exit 1; }
as_owner() { if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }

if [[ "${1:-}" == "--stop" ]]; then
  [[ -f "${2:?--stop needs the data folder}/PG_VERSION" ]] || exit 0
  as_owner "$bin/pg_ctl" -D "$2" -m fast -w stop >/dev/null 2>&1 || true
  exit 0
fi

scratch=0
if [[ "${1:-}" == "--scratch" ]]; then scratch=1; shift; fi
dir=${1:?usage: postgres.sh [--scratch] DIR, or --stop DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
[[ $(id -u) -ne 0 ]] || chown postgres: "$dir"

# Running already (a second call of cluster.sh, say): its port is the 4th line of postmaster.pid.
if as_owner "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
  echo "postgres://attache:attache@127.0.0.1:$(sed -n 4p "$dir/postmaster.pid")"
  exit 0
fi

if [[ ! -f "$dir/PG_VERSION" ]]; then
  pw=$(mktemp)
  echo attache >"$pw"
  [[ $(id -u) -ne 0 ]] || chown postgres: "$pw"
  if ! as_owner "$bin/initdb" -D "$dir" -U attache --pwfile="$pw" --auth-local=trust --auth-host=scram-sha-256 \
    -E UTF8 --locale=C.UTF-8 >"$dir.initdb.log" 2>&1; then
    echo "initdb failed:" >&2; cat "$dir.initdb.log" >&2; rm -f "$pw"; exit 1
  fi
  rm -f "$pw" "$dir.initdb.log"
  # Enough connections for the test binaries' services running side by side.
  cat >>"$dir/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
max_connections = 200
CONF
  if [[ $scratch -eq 1 ]]; then
    printf '%s\n' "fsync = off" "synchronous_commit = off" "full_page_writes = off" >>"$dir/postgresql.conf"
  fi
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# -w waits until it accepts connections (a crash recovery included), at most five minutes.
if ! as_owner "$bin/pg_ctl" -D "$dir" -o "-p $port" -l "$dir/server.log" -t 300 -w start >/dev/null; then
  echo "PostgreSQL did not start in $dir; its log:" >&2
  tail -n 30 "$dir/server.log" >&2 || true
  exit 1
fi
echo "postgres://attache:attache@127.0.0.1:$port"
