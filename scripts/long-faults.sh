#!/usr/bin/env bash
# The long fault loops of tests/integration/faults.rs (see RELIABILITY.md):
#   - 200 writers SIGKILLed at random points while 4 readers loop;
#   - clear/evict/gc racing readers and writers of the same keys for 30 s.
# Prints the counts each loop reports and exits non-zero if either fails.
#
#   scripts/long-faults.sh                         # 200 kills, 30 s race
#   FAULTS_KILLS=1000 FAULTS_RACE_SECS=120 scripts/long-faults.sh
#   FAULTS_SEED=1234 scripts/long-faults.sh        # replay the kill timings
set -uo pipefail
cd "$(dirname "$0")/.."

export FAULTS_KILLS="${FAULTS_KILLS:-200}"
export FAULTS_RACE_SECS="${FAULTS_RACE_SECS:-30}"

log="$(mktemp)"
trap 'rm -f "$log"' EXIT

echo "long faults: ${FAULTS_KILLS} SIGKILLs with 4 readers; ${FAULTS_RACE_SECS} s clear/evict/gc race"
cargo test --quiet -p cachecmd --test integration -- --nocapture --test-threads 1 \
  sigkilled_writers_never_make_readers_see_wrong_bytes \
  clear_evict_gc_racing_readers_and_writers_never_serve_wrong_bytes >"$log" 2>&1
status=$?

grep -E 'COUNTS|FAULTS_SEED=|panicked|wrong bytes|test result' "$log"
if [ "$status" -ne 0 ]; then
  echo "FAILED (exit $status); full log follows" >&2
  cat "$log" >&2
fi
exit "$status"
