#!/usr/bin/env bash
# Starts a local S3-compatible service (moto's server, from tests/requirements.txt) on a free
# loopback port with a bucket `attache-test`, and prints the environment the tests need.
# Usage: eval "$(bash scripts/s3.sh)"; stop it with: kill "$ATTACHE_S3_PID".
set -euo pipefail
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log="${TMPDIR:-/tmp}/attache-moto-$port.log"
moto_server -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  curl -fs -o /dev/null "http://127.0.0.1:$port/" && break
  kill -0 "$pid" 2>/dev/null || { echo "moto_server did not start: $(cat "$log")" >&2; exit 1; }
  sleep 0.1
done
curl -fs -o /dev/null -X PUT "http://127.0.0.1:$port/attache-test"
cat <<EOT
export ATTACHE_S3_PID=$pid
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
export AWS_ENDPOINT=http://127.0.0.1:$port AWS_ALLOW_HTTP=true
export ATTACHE_TEST_S3=s3://attache-test/ci
EOT
