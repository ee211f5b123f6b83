#!/usr/bin/env bash
# The bench (issue 14): Attaché's tus uploads against two peer tus servers, @tus/server (Node) and
# rustus (as it runs by default, without syncing, and with --force-fsync), on four shapes (A 200 x 1 MiB in one PATCH, 8 clients; B 40 x 25 MiB in 5 MiB PATCHes,
# 4 clients; C 1000 x 64 KiB by creation-with-upload, 16 clients; D 64 x 30 MiB in one PATCH, 32
# clients, for memory under 32 concurrent 30 MiB uploads), interleaved, 3 runs each, with a
# loopback baseline (plain TCP into files, with and without fdatasync, and the "floor": only what
# Attaché's guarantees require per file, the SHA-256 of every byte, fdatasync, the file moved
# into place and its folder synced, and nothing else); downloads of a 25 MiB and a
# 64 KiB file against nginx (sendfile) serving the same bytes; and the delay of a live event to
# 1000 (and 10000) staff sockets. Prints medians, ratios, the service's peak RSS and CPU, and the
# bench client's own CPU; asserts nothing. Not part of scripts/test.sh.
#
# Usage: scripts/bench.sh [--quick] [--profile] [--shapes ABCD]
#   --quick: one run of smaller shapes, a smoke test
#   --shapes: only these upload shapes, and no downloads or live events (e.g. --shapes C)
#   --profile: also perf-record Attaché on shapes A and C (cpu-clock; needs Debian's linux-perf) and
#   print the top symbols, per thread kind, and the context switches per file
# Installs what it needs: nginx (Debian), @tus/server + @tus/file-store (npm, into bench/node),
# rustus 0.5.10 (cargo install into bench/rustus). Work files go to $BENCH_DIR (default
# target/bench), removed at the end. Removing thousands of files taxes the next files this disk
# makes for a few minutes (see "uploads" below): leave five minutes between two benches.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export PATH="$HOME/.cargo/bin:$PATH"
quick=0 profile=0 shapes=ABCD
while (($#)); do
  case "$1" in
    --quick) quick=1 ;;
    --profile) profile=1 ;;
    --shapes) shapes=${2:?--shapes needs a list, e.g. AC}; shift ;;
    *) echo "usage: scripts/bench.sh [--quick] [--profile] [--shapes ABCD]" >&2; exit 2 ;;
  esac
  shift
done
[[ $shapes =~ ^[ABCD]+$ ]] || { echo "--shapes: letters among A, B, C, D" >&2; exit 2; }
if ((quick)); then runs=1 scale=0.2 sockets=(100) events=5; else runs=3 scale=1 sockets=(1000 10000) events=20; fi
as_root() { if [[ $(id -u) == 0 ]]; then "$@"; else sudo "$@"; fi; }

# --- the peers and the tools -------------------------------------------------------------------
need=()
[[ -x /usr/sbin/nginx ]] || need+=(nginx-light)
((profile)) && ! command -v perf >/dev/null && need+=(linux-perf)
if ((${#need[@]})); then
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${need[@]}" >/dev/null
fi
[[ -d bench/node/node_modules/@tus/server ]] || (cd bench/node && npm ci --no-audit --no-fund --silent)
rustus="$root/bench/rustus/bin/rustus"
[[ -x "$rustus" ]] || env -u CARGO_TARGET_DIR cargo install rustus --version 0.5.10 --locked --root "$root/bench/rustus"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
# Symbols kept (the release profile strips them) so that perf can name functions.
export CARGO_PROFILE_RELEASE_STRIP=false
cargo build --release --locked -p attache-cli
cargo build --release --locked -p attache-client --example tusbench
# ATTACHE_BIN: another build of the service to measure (e.g. an earlier commit's, for a before/after).
bin="${ATTACHE_BIN:-$target_dir/release/attache}"
tb="$target_dir/release/examples/tusbench"

work="${BENCH_DIR:-$target_dir/bench}"
rm -rf "$work"
mkdir -p "$work"/{attache,tusnode,rustus,rustus-fsync,sink,www,nginx}
# Absolute: the servers are given paths under it (nginx reads its own relative to its prefix).
work="$(cd "$work" && pwd)"
results="$work/results.tsv"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [[ -n "${BENCH_KEEP:-}" ]] || rm -rf "$work"/{attache,tusnode,rustus,rustus-fsync,sink,www}
}
trap cleanup EXIT INT TERM
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 200); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done; echo "no answer from $1" >&2; exit 1; }

# Servers may open many sockets (fanout); so may the client.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# --- the three tus servers ---------------------------------------------------------------------
ATTACHE_LOG=warn "$bin" serve --demo --listen 127.0.0.1:0 --data-dir "$work/attache" >"$work/attache.log" 2>&1 &
attache_pid=$!
pids+=("$attache_pid")
for _ in $(seq 200); do grep -q "listening on" "$work/attache.log" && break; sleep 0.1; done
attache_url=$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$work/attache.log" | head -1)
[[ -n "$attache_url" ]] || { cat "$work/attache.log"; exit 1; }

node_port=$(free_port)
node bench/server.mjs "$node_port" "$work/tusnode" >"$work/tusnode.log" 2>&1 &
node_pid=$!
pids+=("$node_pid")
node_url="http://127.0.0.1:$node_port"

rustus_port=$(free_port)
"$rustus" --host 127.0.0.1 --port "$rustus_port" --data-dir "$work/rustus" --info-dir "$work/rustus" \
  --url /files --max-body-size 33554432 --log-level error >"$work/rustus.log" 2>&1 &
rustus_pid=$!
pids+=("$rustus_pid")
rustus_url="http://127.0.0.1:$rustus_port"
# rustus as it runs by default (no sync), and with --force-fsync: each write synced before its
# answer (its file only, not its folder), the nearest it comes to Attaché's durability.
rsync_port=$(free_port)
"$rustus" --host 127.0.0.1 --port "$rsync_port" --data-dir "$work/rustus-fsync" --info-dir "$work/rustus-fsync" \
  --url /files --max-body-size 33554432 --log-level error --force-fsync true >"$work/rustus-fsync.log" 2>&1 &
rsync_pid=$!
pids+=("$rsync_pid")
rsync_url="http://127.0.0.1:$rsync_port"
wait_http "$attache_url/healthz"
wait_http "$node_url/files"
wait_http "$rustus_url/files"
wait_http "$rsync_url/files"
echo "attache $attache_url (pid $attache_pid), @tus/server $node_url (pid $node_pid), rustus $rustus_url (pid $rustus_pid), rustus --force-fsync $rsync_url (pid $rsync_pid)"

declare -A url=([attache]=$attache_url [tusd-node]=$node_url [rustus]=$rustus_url [rustus-fsync]=$rsync_url)
declare -A pid=([attache]=$attache_pid [tusd-node]=$node_pid [rustus]=$rustus_pid [rustus-fsync]=$rsync_pid)

# --- uploads, interleaved ------------------------------------------------------------------------
# No small file is deleted before the end: on ext4 without a journal (this machine's disk) a
# freed inode is skipped by the allocator for 60 s, 360 s while its table block is unwritten,
# and every file created meanwhile in that block group pays for scanning past it — deleting
# thousands of files would tax whichever server runs next. The big files (shapes B and D) are
# deleted after each run, Attaché's too (it never reads them back): a few dozen inodes, and
# the disk holds one big shape's worth at a time. Each run starts with another server.
servers=(attache tusd-node rustus rustus-fsync)
drop_big() { find "$work/tusnode" "$work/rustus" "$work/rustus-fsync" "$work/attache/files" "$work/sink" -type f -size +8M -delete; }
for run in $(seq "$runs"); do
  k=$(( (run - 1) % ${#servers[@]} ))
  order=("${servers[@]:k}" "${servers[@]:0:k}")
  for shape in $(grep -o . <<<"$shapes"); do
    keep=""
    [[ $shape == [AC] ]] && keep=--keep
    for kind in "${order[@]}"; do
      echo "run $run shape $shape $kind" >&2
      "$tb" upload --kind "$kind" --url "${url[$kind]}" --shape "$shape" --scale "$scale" --pid "${pid[$kind]}" | tee -a "$results"
      drop_big
    done
    for sync in "" --fsync --floor; do
      "$tb" sink --shape "$shape" --scale "$scale" --dir "$work/sink" $sync $keep | tee -a "$results"
    done
  done
done

# --- where Attaché's CPU goes on shapes A and C ------------------------------------------------
if ((profile)); then
  for shape in A C; do
    # perf follows the service while the bench client runs, and stops when it exits.
    perf stat -e context-switches,cpu-migrations -p "$attache_pid" -o "$work/perf-$shape.stat" -- \
      perf record -q -e cpu-clock -F 2000 -p "$attache_pid" -o "$work/perf-$shape.data" -- \
      "$tb" upload --kind attache --url "$attache_url" --shape "$shape" --scale "$scale" --pid "$attache_pid" |
      tee "$work/perf-$shape.result"
    files=$(sed -n 's/.*\tfiles=\([0-9]*\).*/\1/p' "$work/perf-$shape.result")
    {
      echo "== profile of Attaché, shape $shape"
      awk -v n="$files" '/context-switches|cpu-migrations/ {gsub(",", "", $1); printf "  %s: %d (%.0f per file)\n", $2, $1, $1 / n}' "$work/perf-$shape.stat"
      perf report -i "$work/perf-$shape.data" --no-children --sort comm --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' | head -4 || true
      perf report -i "$work/perf-$shape.data" --no-children --sort dso,symbol --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' | head -15 | cut -c1-100 || true
    } | tee -a "$work/profile.txt"
  done
fi

# --- downloads: Attaché against nginx serving the same bytes from disk -------------------------
# (With every shape only; the block is not indented for the heredoc inside it.)
if [[ $shapes == ABCD ]]; then
nginx_port=$(free_port)
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes auto;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  client_body_temp_path $work/nginx;
  proxy_temp_path $work/nginx;
  fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx;
  scgi_temp_path $work/nginx;
  server {
    listen 127.0.0.1:$nginx_port;
    root $work/www;
    default_type application/octet-stream;
  }
}
CONF
/usr/sbin/nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' &
pids+=("$!")
wait_http "http://127.0.0.1:$nginx_port/"
"$tb" download --url "$attache_url" --nginx "http://127.0.0.1:$nginx_port" --dir "$work/www" \
  --pid "$attache_pid" --runs "$runs" --scale "$scale" | tee -a "$results"

# --- live events to many staff sockets ---------------------------------------------------------
for n in "${sockets[@]}"; do
  "$tb" fanout --url "$attache_url" --sockets "$n" --events "$events" --pid "$attache_pid" | tee -a "$results" || true
done
fi # every shape
echo "service VmHWM over the whole bench: $(awk '/VmHWM/ {printf "%.1f MiB", $2/1024}' /proc/"$attache_pid"/status)" | tee -a "$work/summary.txt"

# --- the table -----------------------------------------------------------------------------------
python3 - "$results" "$shapes" <<'PY' | tee -a "$work/summary.txt"
import sys, statistics as st
rows = {}
fan = []
for line in open(sys.argv[1]):
    if not line.startswith("RESULT"):
        continue
    f = line.rstrip("\n").split("\t")
    kv = dict(x.split("=", 1) for x in f[3:] if "=" in x)
    if f[2].startswith("fanout"):
        fan.append((f[2], kv))
        continue
    rows.setdefault((f[1], f[2]), []).append({k: float(v) for k, v in kv.items()})
def med(key, k):
    v = rows.get(key)
    return st.median(r[k] for r in v) if v else float("nan")
print()
print(f"{'server':<20} {'shape':<22} {'runs':>4} {'files/s':>9} {'MiB/s':>8} {'svc CPU s':>9} {'peak RSS MiB':>12} {'client CPU %':>12} {'failed':>6}")
for (kind, what), v in sorted(rows.items(), key=lambda kv: (kv[0][1], kv[0][0])):
    print(f"{kind:<20} {what:<22} {len(v):>4} {med((kind, what), 'files_s'):>9.1f} {med((kind, what), 'mib_s'):>8.1f} "
          f"{med((kind, what), 'service_cpu_s'):>9.2f} {med((kind, what), 'peak_rss_mib'):>12.1f} "
          f"{med((kind, what), 'client_cpu_pct'):>12.0f} {sum(r['failed'] for r in v):>6.0f}")
print()
print("ratios of medians (files/s; above 1 means Attaché is faster)")
for shape in sys.argv[2]:
    a = med(("attache", shape), "files_s")
    parts = [f"shape {shape}:"]
    for peer in ("tusd-node", "rustus", "rustus-fsync", "tcp-sink", "tcp-sink+fdatasync", "tcp-sink+floor"):
        parts.append(f"Attaché/{peer} {a / med((peer, shape), 'files_s'):.2f}")
    print("  " + "  ".join(parts))
print("the floor against rustus (above 1: a server keeping Attaché's guarantees has room to be ahead)")
print("  " + "  ".join(f"{shape}: {med(('tcp-sink+floor', shape), 'files_s') / med(('rustus', shape), 'files_s'):.2f}" for shape in sys.argv[2]))
for what in sorted({w for (k, w) in rows if w.startswith("GET")}):
    print(f"  {what}: Attaché/nginx {med(('attache', what), 'mib_s') / med(('nginx', what), 'mib_s'):.2f}")
print()
for what, kv in fan:
    print(f"{what} sockets (up {kv['sockets_up']}, {kv['events']} events): p50 {kv['p50_ms']} ms, p99 {kv['p99_ms']} ms, "
          f"max {kv['max_ms']} ms, missing {kv['missing']}; service RSS {kv['rss_before_mib']} MiB before, "
          f"{kv['rss_sockets_mib']} MiB with the sockets, peak {kv['peak_rss_mib']} MiB; connecting took {kv['connect_s']} s")
PY
echo "raw figures: $results"
