#!/usr/bin/env bash
# cachecmd remote tier benchmark: what a hit costs when it comes from Redis instead of disk.
#
# Usage (from anywhere; runs in the repo root):
#   bench/remote.sh            build release, start a private redis-server, run hyperfine
#   bench/remote.sh --quick    fewer runs
#
# Three commands, one hyperfine invocation, output to /dev/null, no shell (-N):
#   cat FILE                                   the floor: printing 1 MiB
#   cachecmd ... -- cat FILE, local hit         the entry is on disk (with --remote set, untouched)
#   cachecmd ... -- cat FILE, remote hit        empty local tier (hyperfine --prepare deletes the
#                                               cache dir before every run): GETRANGE from Redis,
#                                               verify, write through to disk, replay
#   the same, entry file deleted                the cache dir stays, only the entry goes: the
#                                               remote fetch without re-creating the cache tree
# Prints a markdown table (medians, ratios) to stdout and writes it to bench/out/remote.md;
# progress goes to stderr, raw hyperfine JSON to bench/out/raw-remote/.
#
# Environment:
#   CACHECMD_BIN=path   benchmark this binary instead of building target/release/cachecmd
#   SIZE=bytes          output size (default 1048576)
#   KEEP_TMP=1          keep the private temp dir
set -Eeuo pipefail

# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"
bench_init raw-remote 20 "$@"
export LC_ALL=C
unset LANG LANGUAGE

log() { printf '[remote-bench %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
trap 'log "failed at line $LINENO: $BASH_COMMAND"' ERR

for tool in redis-server redis-cli hyperfine python3; do
  command -v "$tool" >/dev/null || die "$tool not found (apt-get install redis-server hyperfine python3)"
done

SIZE=${SIZE:-1048576}
if ((QUICK)); then RUNS=30 WARMUP=3; else RUNS=200 WARMUP=10; fi

BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/cachecmd-remote-bench.XXXXXX")
chmod 700 "$BENCH_TMP"
[[ $BENCH_TMP =~ ^[A-Za-z0-9/._-]+$ ]] || die "temp dir path has odd characters: $BENCH_TMP"
REDIS_PID=""
cleanup() {
  if [[ -n $REDIS_PID ]]; then kill "$REDIS_PID" 2>/dev/null || true; wait "$REDIS_PID" 2>/dev/null || true; fi
  if [[ ${KEEP_TMP:-0} == 1 ]]; then log "kept $BENCH_TMP"; else rm -rf "$BENCH_TMP"; fi
}
trap cleanup EXIT
# Nothing may touch ~/.cache or a user config.
export XDG_CACHE_HOME="$BENCH_TMP/xdg-cache" XDG_CONFIG_HOME="$BENCH_TMP/xdg-config"
export CACHECMD_DIR="$BENCH_TMP/stray-cachecmd"
for v in $(compgen -e | grep '^CACHECMD_' | grep -v '^CACHECMD_DIR$' || true); do unset "$v"; done

# ------------------------------------------------------------------ binary
if [[ -n ${CACHECMD_BIN:-} ]]; then
  SRC=$(command -v "$CACHECMD_BIN") || die "CACHECMD_BIN=$CACHECMD_BIN not found"
else
  log "cargo build --release"
  cargo build --release >&2
  SRC="$REPO/target/release/cachecmd"
fi
# A private copy: a concurrent cargo build must not swap the binary mid-run.
mkdir -p "$BENCH_TMP/bin"
cp "$SRC" "$BENCH_TMP/bin/cachecmd"
CC="$BENCH_TMP/bin/cachecmd"
CAT=$(command -v cat)

# ------------------------------------------------------------------ redis
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$BENCH_TMP/redis"
redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
  --dir "$BENCH_TMP/redis" --logfile "$BENCH_TMP/redis/redis.log" &
REDIS_PID=$!
for _ in $(seq 100); do
  redis-cli -p "$PORT" ping 2>/dev/null | grep -q PONG && break
  sleep 0.05
done
redis-cli -p "$PORT" ping 2>/dev/null | grep -q PONG || die "redis-server did not start (see $BENCH_TMP/redis/redis.log)"
URL="redis://127.0.0.1:$PORT/0"
REDIS_VERSION=$(redis-server --version | sed 's/^Redis server v=\([^ ]*\).*/\1/')
log "redis-server $REDIS_VERSION on $URL"

# ------------------------------------------------------------------ data and caches
DATA="$BENCH_TMP/data"
head -c "$SIZE" /dev/urandom >"$DATA"
LOCAL="$BENCH_TMP/local"    # keeps its entry: local hits
REMOTE="$BENCH_TMP/remote"  # deleted before every run: remote hits
WARM="$BENCH_TMP/warm"      # only its entry file is deleted before every run
SEED="$BENCH_TMP/seed"      # the machine that shares the entry

# Identical command lines for both cachecmd rows; only the local tier's state differs.
cc_args() { echo "$CC --cache-dir $1 --no-cwd --ttl 1d --remote $URL -- $CAT $DATA"; }

# Seed: one miss uploads the entry; the local-hit cache gets its own copy.
seed_line=$("$CC" -v --cache-dir "$SEED" --no-cwd --ttl 1d --remote "$URL" --force -- "$CAT" "$DATA" 2>&1 >/dev/null)
[[ $seed_line == *"shared remotely"* ]] || die "seeding did not share the entry: $seed_line"
"$CC" --cache-dir "$LOCAL" --no-cwd --ttl 1d --remote "$URL" -- "$CAT" "$DATA" >/dev/null
[[ $(redis-cli -p "$PORT" dbsize) == 1 ]] || die "expected exactly one key in redis"

# Sanity: each row does what its name says and prints the exact bytes.
check() { # name cache-dir expected-status-substring
  local got line
  got=$("$CC" -v --cache-dir "$2" --no-cwd --ttl 1d --remote "$URL" -- "$CAT" "$DATA" 2>"$BENCH_TMP/status" | sha256sum)
  line=$(tail -1 "$BENCH_TMP/status")
  [[ $got == "$(sha256sum <"$DATA")" ]] || die "$1: output differs from the file"
  [[ $line == *"$3"* ]] || die "$1: expected '$3' in: $line"
  log "$1: $line"
}
check "local hit" "$LOCAL" "cachecmd: hit"
rm -rf "$REMOTE"
check "remote hit" "$REMOTE" "remote hit"
rm -rf "$REMOTE"
KEY=$("$CC" key --no-cwd -- "$CAT" "$DATA")
ENTRY="$WARM/v1/entries/${KEY:0:2}/$KEY"
check "remote hit (warm dir)" "$WARM" "remote hit"
[[ -f $ENTRY ]] || die "no entry at $ENTRY"
rm -f "$ENTRY"
check "remote hit (warm dir)" "$WARM" "remote hit"

# ------------------------------------------------------------------ benchmark
JSON="$RAW/remote-hit-$SIZE.json"
HF=(hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --style basic --export-json "$JSON"
  --prepare true --prepare true --prepare "rm -rf $REMOTE" --prepare "rm -f $ENTRY"
  -n cat "$CAT $DATA"
  -n "local hit" "$(cc_args "$LOCAL")"
  -n "remote hit" "$(cc_args "$REMOTE")"
  -n "remote hit, warm dir" "$(cc_args "$WARM")")
log "running: ${HF[*]}"
"${HF[@]}" >&2

HYPERFINE_VERSION=$(hyperfine --version)
KERNEL=$(uname -r)
CPUS=$(nproc)
TABLE=$(python3 - "$JSON" "$SIZE" <<'EOF'
import json, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
size = int(sys.argv[2])
cat, local, remote, warm = (results[n] for n in ("cat", "local hit", "remote hit", "remote hit, warm dir"))
def ms(s): return f"{s * 1000:.3f} ms"
label = f"{size / 1048576:g} MiB" if size % 1048576 == 0 else f"{size} bytes"
print(f"| {label} to /dev/null | median | mean ± σ | min | × cat | × local hit |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
rows = (
    ("`cat FILE`", cat),
    ("cachecmd, local hit", local),
    ("cachecmd, remote hit (empty local tier: cache dir deleted)", remote),
    ("cachecmd, remote hit (cache dir kept, entry deleted)", warm),
)
for name, r in rows:
    print(f"| {name} | {ms(r['median'])} | {ms(r['mean'])} ± {r['stddev'] * 1000:.3f} | {ms(r['min'])} "
          f"| {r['median'] / cat['median']:.2f} | {r['median'] / local['median']:.2f} |")
EOF
)
{
  echo "$TABLE"
  echo
  echo "hyperfine -N, $RUNS runs after $WARMUP warmups; the remote rows' \`--prepare\` (not timed) deletes the"
  echo "cache dir, or only the entry file, before every run, so each run is a remote hit that writes through to disk."
  echo "redis-server $REDIS_VERSION on loopback; $HYPERFINE_VERSION; Linux $KERNEL, $CPUS CPUs."
} | tee "$OUT/remote.md"
