#!/usr/bin/env bash
# Scale-out on one machine, to see it: PostgreSQL, an S3-compatible bucket (moto's server), two
# Attaché instances with data folders of their own (sharing only the database, the bucket and the
# secret) and HAProxy in plain round-robin in front. Prints the URL to point the console at;
# Ctrl-C stops everything. Usage: scripts/cluster.sh [port of the balancer, default 8080]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
bash scripts/setup.sh >/dev/null
lb_port="${1:-8080}"
work="${ATTACHE_CLUSTER_DIR:-$PWD/cluster-data}"
mkdir -p "$work"
cargo build --release --locked -p attache-cli
bin="${CARGO_TARGET_DIR:-target}/release/attache"

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  bash scripts/postgres.sh --stop "$work/postgres"
}
trap cleanup EXIT INT TERM

pg=$(bash scripts/postgres.sh "$work/postgres")
psql "$pg/postgres" -qtAc "SELECT 1 FROM pg_database WHERE datname='attache_cluster'" | grep -q 1 ||
  psql "$pg/postgres" -qc "CREATE DATABASE attache_cluster"
eval "$(bash scripts/s3.sh)"
pids+=("$ATTACHE_S3_PID")
[[ -s "$work/secret.key" ]] || { "$bin" secret >"$work/secret.key"; chmod 600 "$work/secret.key"; }

export DATABASE_URL="$pg/attache_cluster" STORE_URL="${ATTACHE_TEST_S3%/*}/cluster" ATTACHE_SECRET_FILE="$work/secret.key"
for i in 1 2; do
  port=$((lb_port + i))
  "$bin" serve --demo --listen "127.0.0.1:$port" --data-dir "$work/instance-$i" >"$work/instance-$i.log" 2>&1 &
  pids+=("$!")
done
cat >"$work/haproxy.cfg" <<CFG
defaults
  mode http
  timeout connect 2s
  timeout client 120s
  timeout server 120s
  retries 3
  option redispatch
frontend web
  bind 127.0.0.1:$lb_port
  default_backend attache
backend attache
  balance roundrobin
  option httpchk GET /healthz
  server one 127.0.0.1:$((lb_port + 1)) check inter 500 fall 2 rise 1
  server two 127.0.0.1:$((lb_port + 2)) check inter 500 fall 2 rise 1
CFG
haproxy -f "$work/haproxy.cfg" -db >"$work/haproxy.log" 2>&1 &
pids+=("$!")
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$lb_port/healthz" >/dev/null && break; sleep 0.2; done
cat <<MSG

Attaché runs on two instances behind HAProxy: http://127.0.0.1:$lb_port
  (point the console there; customers: http://127.0.0.1:$lb_port/widget/?account=acme)
  instances: http://127.0.0.1:$((lb_port + 1)) and http://127.0.0.1:$((lb_port + 2)), logs in $work
  DATABASE_URL=$DATABASE_URL
  STORE_URL=$STORE_URL (moto at $AWS_ENDPOINT)
  ATTACHE_SECRET_FILE=$ATTACHE_SECRET_FILE
Kill one instance (kill -9) mid-upload and watch the other continue. Ctrl-C stops everything.
MSG
wait
