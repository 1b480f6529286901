#!/usr/bin/env bash
# --input hashing benchmark: `cachecmd key --input DIR` against sha256sum and stat.
#
# Usage (from anywhere):
#   bench/hash.sh            10,000 files, 1 GiB in all (mixed sizes)
#   bench/hash.sh --quick    1,000 files, 64 MiB, few runs (smoke test)
#
# Builds target/release/cachecmd, creates the tree in a private temp dir, reads it once so
# the page cache is warm for every tool (the comparison is CPU-bound), then runs with
# hyperfine, side by side:
#   cachecmd cold   `cachecmd key --input DIR -- true`, stat cache removed before each run
#   cachecmd warm   the same with the stat cache present (unchanged tree)
#   sha256sum       `find DIR -type f -print0 | xargs -0 sha256sum` (one sha256sum at a time)
#   sha256sum -P2   the same with `xargs -P2` (two in parallel, for fairness: cachecmd
#                   hashes on every core)
#   stat            `find DIR -type f -print0 | xargs -0 stat` (the floor for a warm run)
# Prints a markdown table (medians, ratios) to stdout and writes it to bench/out/hash.md;
# progress on stderr, hyperfine JSON in bench/out/raw-hash/.
#
# Environment:
#   CACHECMD_BIN=path   benchmark this binary instead of building target/release/cachecmd
#   KEEP_TMP=1          keep the temp dir (tree and cache) for inspection
set -Eeuo pipefail

# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"
bench_init raw-hash 23 "$@"
export LC_ALL=C
log() { printf 'hash.sh: %s\n' "$*" >&2; }

if ((QUICK)); then
  FILES=1000 TOTAL=$((64 << 20)) RUNS=3 WARM_RUNS=10
else
  FILES=10000 TOTAL=$((1 << 30)) RUNS=10 WARM_RUNS=30
fi

# --- tools -------------------------------------------------------------------------------
if ! command -v hyperfine >/dev/null; then
  log "installing hyperfine (apt-get)"
  if [[ $(id -u) -eq 0 ]]; then SUDO=(); else SUDO=(sudo); fi
  "${SUDO[@]}" apt-get update -qq >&2
  "${SUDO[@]}" apt-get install -y -qq hyperfine >&2
fi
for tool in python3 sha256sum find xargs stat; do
  command -v "$tool" >/dev/null || { log "missing: $tool"; exit 1; }
done

bench_binary

# --- data --------------------------------------------------------------------------------
TMP=$(mktemp -d "${TMPDIR:-/tmp}/cachecmd-hash.XXXXXX")
if [[ -z ${KEEP_TMP:-} ]]; then
  trap 'rm -rf "$TMP"' EXIT
else
  log "keeping $TMP"
fi
DIR="$TMP/tree"
CACHE="$TMP/cache"
# Environment of every cachecmd run: no inherited CACHECMD_*, a private cache and config.
while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep '^CACHECMD' || true)
export XDG_CONFIG_HOME="$TMP/config" XDG_CACHE_HOME="$TMP/xdg-cache"

log "creating $FILES files, $((TOTAL >> 20)) MiB in all, under $DIR"
python3 - "$DIR" "$FILES" "$TOTAL" <<'EOF'
import os, random, sys
root, count, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(42)
# Mixed sizes, roughly a source tree with assets: most files small, a few large.
weights = []
for _ in range(count):
    r = rng.random()
    if r < 0.70:
        weights.append(rng.uniform(0.5, 16))       # ~1-16 KiB
    elif r < 0.95:
        weights.append(rng.uniform(16, 512))      # up to ~0.5 MiB
    else:
        weights.append(rng.uniform(512, 8192))    # up to a few MiB
scale = total / sum(weights)
sizes = [max(1, int(w * scale)) for w in weights]
sizes[-1] += total - sum(sizes)
block = os.urandom(8 << 20)
for i, size in enumerate(sizes):
    d = os.path.join(root, f"d{i % 100:02d}", f"s{(i // 100) % 10}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"f{i:05d}.bin"), "wb") as f:
        off = (i * 7919) % len(block)
        left = size
        while left:
            n = min(left, len(block) - off)
            f.write(block[off:off + n])
            left -= n
            off = 0
EOF
# Old enough that the stat cache trusts every file (the racily-clean guard is 2 s).
find "$DIR" -type f -exec touch -d '1 hour ago' {} +
actual_files=$(find "$DIR" -type f | wc -l)
actual_bytes=$(find "$DIR" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
log "tree: $actual_files files, $actual_bytes bytes"

# The stat cache lives in the cache dir, which must exist: one run creates it.
"$BIN" --cache-dir "$CACHE" --no-cwd -- true
STATCACHE="$CACHE/v1/statcache"
# Warm the page cache for everyone.
find "$DIR" -type f -print0 | xargs -0 cat >/dev/null

KEY="$BIN key --cache-dir $CACHE --no-cwd --input $DIR -- true"
# The cold and warm runs must agree on the key.
rm -f "$STATCACHE"
cold_key=$($KEY)
warm_key=$($KEY)
[[ -f $STATCACHE ]] || { log "no stat cache at $STATCACHE after a run"; exit 1; }
[[ $cold_key == "$warm_key" ]] || { log "cold and warm keys differ"; exit 1; }

names=(cold warm sha256sum sha256sum_p2 stat)
labels=(
  "cachecmd key --input (cold: no stat cache)"
  "cachecmd key --input (warm: stat cache)"
  "find -print0 | xargs -0 sha256sum"
  "find -print0 | xargs -0 -P2 -n 256 sha256sum"
  "find -print0 | xargs -0 stat"
)
commands=(
  "$KEY"
  "$KEY"
  "find $DIR -type f -print0 | xargs -0 sha256sum >/dev/null"
  "find $DIR -type f -print0 | xargs -0 -P2 -n 256 sha256sum >/dev/null"
  "find $DIR -type f -print0 | xargs -0 stat >/dev/null"
)
prepares=("rm -f $STATCACHE" "" "" "" "")
runs=("$RUNS" "$WARM_RUNS" "$RUNS" "$RUNS" "$WARM_RUNS")

for i in "${!names[@]}"; do
  log "hyperfine: ${labels[$i]}"
  args=(--style basic --warmup 2 --runs "${runs[$i]}" --export-json "$RAW/${names[$i]}.json")
  [[ -n ${prepares[$i]} ]] && args+=(--prepare "${prepares[$i]}")
  hyperfine "${args[@]}" -n "${labels[$i]}" "${commands[$i]}" >&2
done

python3 - "$RAW" "$actual_files" "$actual_bytes" "$(nproc)" >"$OUT/hash.md" <<'EOF'
import json, os, sys
raw, files, size, cores = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
def load(name):
    r = json.load(open(f"{raw}/{name}.json"))["results"][0]
    return r["command"], r["median"], r["min"], r["max"], len(r["times"]), r["user"] + r["system"]
rows = {n: load(n) for n in ["cold", "warm", "sha256sum", "sha256sum_p2", "stat"]}
med = {n: r[1] for n, r in rows.items()}
def ms(s): return f"{s * 1000:.1f} ms" if s < 1 else f"{s:.2f} s"
load = open("/proc/loadavg").read().split()[0] if os.path.exists("/proc/loadavg") else "?"
print(f"`cachecmd key --input DIR` on {files} files, {size / 2**30:.2f} GiB, page cache warm, "
      f"{cores} cores, load average {load} at the end\n")
print("| command | median | min | max | runs | CPU (user+sys, mean) | vs sha256sum | vs stat | throughput |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for n, (cmd, m, lo, hi, k, cpu) in rows.items():
    cmd = cmd.replace("|", "\\|")
    rate = "-" if n in ("warm", "stat") else f"{size / m / 2**20:,.0f} MiB/s"
    print(f"| {cmd} | {ms(m)} | {ms(lo)} | {ms(hi)} | {k} | {ms(cpu)} | {m / med['sha256sum']:.2f}x "
          f"| {m / med['stat']:.2f}x | {rate} |")
ok_cold = med["cold"] <= med["sha256sum"]
print()
print(f"- cold cachecmd / sha256sum (single): **{med['cold'] / med['sha256sum']:.2f}x** "
      f"(target <= 1: {'met' if ok_cold else 'NOT met'}); "
      f"/ sha256sum -P2: {med['cold'] / med['sha256sum_p2']:.2f}x")
print(f"- warm cachecmd / find|xargs stat: **{med['warm'] / med['stat']:.2f}x** "
      f"({(med['warm'] - med['stat']) * 1000:+.1f} ms); warm is {med['cold'] / med['warm']:.0f}x faster than cold")
EOF
cat "$OUT/hash.md"
