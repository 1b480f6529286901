#!/usr/bin/env bash
# cachecmd at scale: a hit, `list --json`, `stats` and `gc` in a cache of 100,000 entries.
#
# Usage (from anywhere; runs in the repo root):
#   bench/scale.sh              build release, fill, measure (~2-4 min on 2 cores)
#   bench/scale.sh --quick      fewer runs (smoke test)
#
# Fills a fresh cache quickly: a few real entries are recorded with cachecmd, then a python
# script copies their files to random 64-hex names under ROOT/v1/entries/<2 hex>/ (an entry
# does not contain its key, so every copy is a valid entry). 10% of the copies are aged past
# their 1h TTL so that `gc` has work; `gc` runs on a fresh copy of the cache each time
# (hyperfine --prepare) and also enforces --max-entries 80000 (evicting ~10,000 more, LRU).
#
# Prints a markdown table of hyperfine medians with the targets to stdout and writes it to
# bench/out/scale.md; progress goes to stderr; hyperfine JSON lands in bench/out/scale/.
#
# Environment:
#   CACHECMD_BIN=path   benchmark this binary instead of building target/release/cachecmd
#   ENTRIES=n           entries in the big cache (default 100000)
#   KEEP_TMP=1          keep the temp dir (caches) for inspection
set -Eeuo pipefail

# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"
bench_init scale 20 "$@"
ENTRIES=${ENTRIES:-100000}

export LC_ALL=C
unset LANG LANGUAGE

log() { printf '[scale %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
trap 'log "failed at line $LINENO: $BASH_COMMAND"' ERR

if ! command -v hyperfine >/dev/null; then
  log "installing hyperfine"
  { apt-get update -qq && apt-get install -y -qq hyperfine; } >&2 || die "could not install hyperfine"
fi
command -v python3 >/dev/null || die "python3 is required"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/cachecmd-scale.XXXXXX")
chmod 700 "$TMP"
[[ $TMP =~ ^[A-Za-z0-9/._-]+$ ]] || die "temp dir path has odd characters: $TMP"
cleanup() {
  if [[ ${KEEP_TMP:-0} == 1 ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
# Never touch ~/.cache or a user config.
export XDG_CACHE_HOME="$TMP/xdg-cache" XDG_CONFIG_HOME="$TMP/xdg-config"
export CACHECMD_DIR="$TMP/stray"
unset CACHECMD_TTL CACHECMD_FAILURE_TTL CACHECMD_CONFIG CACHECMD_DISABLE CACHECMD_LOCK_TIMEOUT \
  CACHECMD_MAX_ENTRY_SIZE CACHECMD_MAX_SIZE CACHECMD_MAX_ENTRIES

if [[ -n ${CACHECMD_BIN:-} ]]; then
  BIN=$CACHECMD_BIN
else
  log "building release"
  cargo build --release -p cachecmd >&2
  BIN="$REPO/target/release/cachecmd"
fi
[[ -x $BIN ]] || die "no binary at $BIN"
log "binary: $BIN ($("$BIN" --version))"

SMALL="$TMP/small"
BIG="$TMP/big"
GC="$TMP/gc"
# The benchmarked hit; --no-cwd so the key does not depend on where hyperfine runs it.
HIT=(--no-cwd --ttl 1h -- printf 'the cached answer: %s\n' 42)

record() { # record ROOT ARGS...: one miss, recorded
  local root=$1
  shift
  "$BIN" --cache-dir "$root" "$@" >/dev/null
}

log "recording the 10-entry cache"
for i in $(seq 1 9); do
  record "$SMALL" --no-cwd --ttl 1h -- printf 'small entry %s\n' "$i"
done
record "$SMALL" "${HIT[@]}"

log "recording templates and filling $BIG to $ENTRIES entries"
record "$BIG" "${HIT[@]}"
for size in 16 200 1000 4000; do
  record "$BIG" --no-cwd --ttl 1h -- head -c "$size" /dev/urandom
  record "$BIG" --ttl 1h --scope "scope-$size" -- sh -c "yes 'line of output' | head -c $size"
done
python3 - "$BIG" "$ENTRIES" <<'PY'
import os, random, sys, time

root, total = sys.argv[1], int(sys.argv[2])
entries = os.path.join(root, "v1", "entries")
templates = []
for shard in os.listdir(entries):
    for name in os.listdir(os.path.join(entries, shard)):
        if len(name) == 64:
            with open(os.path.join(entries, shard, name), "rb") as f:
                templates.append(f.read())
existing = sum(len(os.listdir(os.path.join(entries, s))) for s in os.listdir(entries))
assert templates, "no template entries recorded"
rng = random.Random(1)
now = time.time()
made = 0
old_umask = os.umask(0o077)
for shard in range(256):
    os.makedirs(os.path.join(entries, "%02x" % shard), mode=0o700, exist_ok=True)
while existing + made < total:
    name = "%064x" % rng.getrandbits(256)
    path = os.path.join(entries, name[:2], name)
    if os.path.exists(path):
        continue
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, rng.choice(templates))
    os.close(fd)
    # 10% expired (2 h old, TTL 1 h); the rest used within the last half hour.
    age = 7200 if rng.random() < 0.1 else rng.uniform(0, 1800)
    os.utime(path, (now - age, now - age))
    made += 1
os.umask(old_umask)
print(f"{made} copies of {len(templates)} templates", file=sys.stderr)
PY
n=$(find "$BIG/v1/entries" -type f -name '????????????????????????????????????????????????????????????????' | wc -l)
[[ $n -eq $ENTRIES ]] || die "expected $ENTRIES entries, found $n"
log "$n entries, $(du -sh "$BIG" | cut -f1)"

# Sanity: both caches serve the same hit, and it is a hit.
for root in "$SMALL" "$BIG"; do
  status=$("$BIN" -v --cache-dir "$root" "${HIT[@]}" 2>&1 >/dev/null)
  [[ $status == "cachecmd: hit"* ]] || die "not a hit in $root: $status"
done

LOAD_START=$(cut -d' ' -f1 /proc/loadavg)
if [[ $QUICK == 1 ]]; then
  HIT_RUNS=100 ROUNDS=1 LIST_RUNS=3 STATS_RUNS=5 GC_RUNS=2
else
  HIT_RUNS=150 ROUNDS=8 LIST_RUNS=10 STATS_RUNS=20 GC_RUNS=4
fi

# Hits: several rounds, alternating which cache goes first, to cancel drift.
hit_cmd() { printf '%q ' "$BIN" --cache-dir "$1" "${HIT[@]}"; }
for round in $(seq 1 $ROUNDS); do
  log "hit round $round/$ROUNDS"
  if ((round % 2)); then order=("$SMALL" "$BIG"); names=(hit-10 hit-100k); else
    order=("$BIG" "$SMALL"); names=(hit-100k hit-10); fi
  hyperfine -N --style none --warmup 20 --runs "$HIT_RUNS" \
    -n "${names[0]}" "$(hit_cmd "${order[0]}")" -n "${names[1]}" "$(hit_cmd "${order[1]}")" \
    --export-json "$RAW/hit.r$round.json" >&2
done

log "list --json"
hyperfine -N --style none --warmup 2 --runs "$LIST_RUNS" -n list-json \
  "$(printf '%q ' "$BIN" list --json --cache-dir "$BIG")" --export-json "$RAW/list.json" >&2
log "stats"
hyperfine -N --style none --warmup 3 --runs "$STATS_RUNS" -n stats \
  "$(printf '%q ' "$BIN" stats --cache-dir "$BIG")" --export-json "$RAW/stats.json" >&2
log "gc (each run on a fresh copy: ~10% expired, --max-entries 80000)"
hyperfine --style none --runs "$GC_RUNS" -n gc \
  --prepare "rm -rf '$GC' && cp -a '$BIG' '$GC'" \
  "'$BIN' gc --cache-dir '$GC' --max-entries 80000" --export-json "$RAW/gc.json" >&2
"$BIN" gc --cache-dir "$GC" --max-entries 80000 >&2
log "gc with nothing to remove ($("$BIN" stats --json --cache-dir "$GC" | python3 -c 'import json,sys; print(json.load(sys.stdin)["entries"])') entries)"
hyperfine --style none --warmup 1 --runs "$GC_RUNS" -n gc-idle \
  "'$BIN' gc --cache-dir '$GC' --max-entries 80000" --export-json "$RAW/gc-idle.json" >&2

LOAD_END=$(cut -d' ' -f1 /proc/loadavg)
python3 - "$RAW" "$ENTRIES" "$(nproc)" "$("$BIN" --version)" "$LOAD_START" "$LOAD_END" \
  "$(du -sh "$BIG" | cut -f1)" >"$OUT/scale.md" <<'PY'
import glob, json, os, statistics, sys

raw, entries, cpus, version, load0, load1, size = sys.argv[1:]
entries = int(entries)
def results(pattern, stat="median"):
    out = {}
    for path in sorted(glob.glob(os.path.join(raw, pattern))):
        for r in json.load(open(path))["results"]:
            value = r["user"] + r["system"] if stat == "cpu" else r[stat]
            out.setdefault(r["command"], []).append(value)
    pick = min if stat == "min" else statistics.median
    return {name: pick(values) for name, values in out.items()}

hits, hit_mins = results("hit.r*.json"), results("hit.r*.json", "min")
single, mins, cpu = {}, {}, results("hit.r*.json", "cpu")
for name in ("list", "stats", "gc", "gc-idle"):
    single.update(results(f"{name}.json"))
    mins.update(results(f"{name}.json", "min"))
    cpu.update(results(f"{name}.json", "cpu"))
mins.update(hit_mins)
ratio = hits["hit-100k"] / hits["hit-10"]
min_ratio = hit_mins["hit-100k"] / hit_mins["hit-10"]

def ms(s):
    return f"{s * 1000:.2f} ms" if s < 1 else f"{s:.2f} s"

def verdict(ok):
    return "yes" if ok else "**NO**"

def row(label, name, target, ok, note=""):
    value = hits.get(name, single.get(name))
    return (label, ms(value), ms(mins[name]), ms(cpu[name]), target, note + verdict(ok(value)))

rows = [
    row("hit, 10-entry cache", "hit-10", "baseline", lambda v: True),
    row(f"hit, {entries:,}-entry cache", "hit-100k", "<= 1.1x the 10-entry hit",
        lambda v: ratio <= 1.1, f"{ratio:.3f}x (min {min_ratio:.3f}x), "),
    row("`list --json >/dev/null`", "list-json", "<= 1 s", lambda v: v <= 1),
    row("`stats`", "stats", "<= 0.2 s", lambda v: v <= 0.2),
    row("`gc --max-entries 80000` (~10% expired; fresh copy each run)", "gc", "<= 3 s",
        lambda v: v <= 3),
    row("`gc` (nothing to remove)", "gc-idle", "<= 3 s", lambda v: v <= 3),
]
rows[0] = rows[0][:5] + ("",)
print(f"## cachecmd at scale: {entries:,} entries\n")
print(f"{version}; {cpus} CPUs; load average {load0} at start, {load1} at end; cache {size};")
print("warm page cache; medians of hyperfine runs (hits: median of per-round medians, rounds")
print("alternating which cache goes first). With other load on the machine, min and cpu time")
print("are the steadier figures.\n")
print("| operation | median | min | cpu (user+sys, mean) | target | met (by median) |")
print("| --- | ---: | ---: | ---: | --- | --- |")
for row in rows:
    print("| " + " | ".join(row) + " |")
PY
cat "$OUT/scale.md"
