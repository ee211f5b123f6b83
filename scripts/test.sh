#!/usr/bin/env bash
# Sets up and runs every test of Attaché: the Rust crates (unit and integration tests against the
# real service) and the end-to-end tests (console under Xvfb over WebDriver, widget in Chromium).
# This is the README's test command, and .ci/run calls it.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TERM_COLOR=never
# setup.sh installs clamav-daemon, exiftool and poppler-utils: their tests must run, not skip.
export ATTACHE_REQUIRE_TOOLS=1

# Each stage prints its time when the next begins; the table at the end sums them up.
stage_name="" stage_start=$SECONDS stage_times=()
stage() {
  if [[ -n "$stage_name" ]]; then
    local took=$((SECONDS - stage_start))
    stage_times+=("$(printf '  %-44s %5d s' "$stage_name" "$took")")
    echo "-- $stage_name: $took s"
  fi
  stage_name=$1 stage_start=$SECONDS
  [[ -z "$1" ]] || echo "== $1"
}

stage "setup (scripts/setup.sh)"
bash scripts/setup.sh || { echo "setup failed"; exit 1; }

mkdir -p artifacts
passed=0 failed=0 status=0

# Adds up the "test result: … N passed; M failed" lines of a cargo test log.
tally() {
  local p f
  while read -r p f; do
    passed=$((passed + p)); failed=$((failed + f))
  done < <(sed -nE 's/^test result: [a-zA-Z]+\. ([0-9]+) passed; ([0-9]+) failed.*/\1 \2/p' "$1")
}

# 0. Formatting and lints of the whole workspace, the console included. Each counts as one
#    failure in the total when it does not pass. The console crate embeds ui/dist, so the page is
#    built first (setup.sh installed its packages and the console's webkit libraries).
stage "cargo fmt --all --check"
if cargo fmt --all --check >artifacts/fmt.log 2>&1; then
  echo "fmt: clean"
else
  echo "fmt: FAILED, these files differ from cargo fmt (diff in artifacts/fmt.log):"
  sed -nE 's/^Diff in (.*):[0-9]+:$/  \1/p' artifacts/fmt.log | sort -u
  failed=$((failed + 1)); status=1
fi
stage "cargo clippy --workspace --all-targets -- -D warnings"
(cd ui && npm run build) >artifacts/ui-build.log 2>&1 || echo "the page did not build (artifacts/ui-build.log)"
if cargo clippy --locked --workspace --all-targets -- -D warnings >artifacts/clippy.log 2>&1; then
  echo "clippy: clean"
else
  echo "clippy: FAILED, warnings are errors (artifacts/clippy.log):"
  grep -E -A1 '^error' artifacts/clippy.log | head -n 40
  failed=$((failed + 1)); status=1
fi

# 1. Rust: every crate but the GUI (default-members), unit + integration tests.
stage "cargo test (SQLite, local folder)"
cargo test --locked 2>&1 | tee artifacts/cargo-test.log
[[ ${PIPESTATUS[0]} -eq 0 ]] || status=1
tally artifacts/cargo-test.log

# 2. The service's integration tests again, on PostgreSQL (each test in a fresh database), on a
#    server of this run's own: nothing left from an earlier run can slow or stop it.
stage "cargo test on PostgreSQL"
pg_dir=$(mktemp -d "${TMPDIR:-/tmp}/attache-test-pg.XXXXXX")
trap 'bash scripts/postgres.sh --stop "$pg_dir"; rm -rf "$pg_dir"' EXIT
if pg_url=$(bash scripts/postgres.sh --scratch "$pg_dir"); then
  ATTACHE_TEST_POSTGRES="$pg_url" cargo test --locked -p attache-client --tests -- --include-ignored 2>&1 | tee artifacts/cargo-test-pg.log
  [[ ${PIPESTATUS[0]} -eq 0 ]] || status=1
  tally artifacts/cargo-test-pg.log
else
  echo "PostgreSQL could not be started: the PostgreSQL run is missing"; status=1
fi

# 3. Files in an S3-compatible store (moto's server on loopback): the store's conformance suite,
#    then the upload and consumer suites end to end with STORE_URL pointing at it.
stage "cargo test on S3 (moto)"
if s3_env=$(bash scripts/s3.sh); then
  eval "$s3_env"
  { cargo test --locked -p attache-server s3 -- --include-ignored &&
    cargo test --locked -p attache-client --test it -- uploads:: consumer:: &&
    # The migration to PostgreSQL + S3 and back, a backup restored, metrics and doctor (issue 16).
    env ${pg_url:+ATTACHE_TEST_POSTGRES="$pg_url"} cargo test --locked -p attache-client --test it -- migrate:: backup:: observe::; } 2>&1 |
    tee artifacts/cargo-test-s3.log
  [[ ${PIPESTATUS[0]} -eq 0 ]] || status=1
  tally artifacts/cargo-test-s3.log
  # 3b. Share-nothing and crash safety with real processes: two instances (own data folders,
  #     one PostgreSQL database, the bucket) behind HAProxy, SIGKILLs mid-upload; then one
  #     embedded-default instance killed several times during 100 concurrent uploads.
  if [[ -n "${pg_url:-}" ]]; then
    stage "tests/cluster/cluster.py (HAProxy, two instances, SIGKILL)"
    cargo build --locked -p attache-cli 2>&1 | tail -n 1
    python3 tests/cluster/cluster.py --attache "${CARGO_TARGET_DIR:-target}/debug/attache" --postgres "$pg_url" --cluster --crash 2>&1 |
      tee artifacts/cluster.log
    [[ ${PIPESTATUS[0]} -eq 0 ]] || status=1
    line=$(grep -E '^cluster: [0-9]+ passed, [0-9]+ failed' artifacts/cluster.log | tail -n 1)
    if [[ -n "$line" ]]; then
      p=$(sed -E 's/^cluster: ([0-9]+) passed, ([0-9]+) failed.*/\1/' <<<"$line")
      f=$(sed -E 's/^cluster: ([0-9]+) passed, ([0-9]+) failed.*/\2/' <<<"$line")
      passed=$((passed + p)); failed=$((failed + f))
    else
      echo "the cluster suite stopped before its summary: counted as one failure"; failed=$((failed + 1)); status=1
    fi
  fi
  kill "$ATTACHE_S3_PID" 2>/dev/null
  unset ATTACHE_TEST_S3 AWS_ENDPOINT
else
  echo "the S3-compatible test service could not be started: the S3 run is missing"; status=1
fi

# PostgreSQL is not needed past this point.
bash scripts/postgres.sh --stop "$pg_dir"

# 4. End-to-end suites; each prints "N passed, N failed" as its last line. tests/liveperson is the
#    LivePerson seed's seven steps as written, against its own `attache serve --demo`.
for suite in tests/console/run.sh tests/widget/run.sh tests/liveperson/run.sh; do
  [[ -f "$suite" ]] || continue
  stage "$suite"
  bash "$suite" 2>&1 | tee artifacts/suite.log
  [[ ${PIPESTATUS[0]} -eq 0 ]] || status=1
  line=$(grep -E '^([a-z]+: )?[0-9]+ passed, [0-9]+ failed' artifacts/suite.log | tail -n 1)
  if [[ -n "$line" ]]; then
    p=$(sed -E 's/^([a-z]+: )?([0-9]+) passed, ([0-9]+) failed.*/\2/' <<<"$line")
    f=$(sed -E 's/^([a-z]+: )?([0-9]+) passed, ([0-9]+) failed.*/\3/' <<<"$line")
    passed=$((passed + p)); failed=$((failed + f))
  else
    echo "$suite stopped before its summary: counted as one failure"; failed=$((failed + 1)); status=1
  fi
done

stage ""
echo
echo "stage times:"
printf '%s\n' "${stage_times[@]}"
echo "  total                                        $((SECONDS)) s"
echo
echo "total: $passed passed, $failed failed"
[[ $failed -eq 0 ]] || status=1
exit $status
