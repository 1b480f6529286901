#!/usr/bin/env bash
# cachecmd benchmark suite: cachecmd vs bkt vs deja vs plain cat, side by side.
#
# Usage (from anywhere; runs in the repo root):
#   bench/run.sh            full run (~5-15 min on 2 cores incl. first bkt install and build)
#   bench/run.sh --quick    smoke test: few runs, small sizes, no bkt/deja install, no 100k fill
#
# Prints a markdown table to stdout and writes it to bench/out/results.md; progress goes to
# stderr. Raw hyperfine JSON, strace output etc. land in bench/out/raw/.
#
# Environment:
#   CACHECMD_BIN=path   benchmark this binary instead of building one
#   DYNAMIC=1           benchmark the dynamic link (CACHECMD_DYNAMIC=1; default: the README's install build)
#   BKT_BIN=path        use this bkt binary instead of installing bkt 0.8.2
#   DEJA_BIN=path       use this deja binary instead of installing deja 0.2.1
#   KEEP_TMP=1          keep the private temp dir (caches, data files) for inspection
set -Eeuo pipefail

# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"
bench_init raw 15 "$@"
START_EPOCH=$(date +%s)
BUILD_SECS=0
BENCH="$REPO/bench"

# One locale for every process: otherwise cat (and anything else using glibc locales) spends
# ~80 syscalls / ~0.3 ms loading C.UTF-8 files, which would make the cat baseline depend on
# the caller's environment.
export LC_ALL=C
unset LANG LANGUAGE

log() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
trap 'log "failed at line $LINENO: $BASH_COMMAND"' ERR

BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/cachecmd-bench.XXXXXX")
chmod 700 "$BENCH_TMP"
[[ $BENCH_TMP =~ ^[A-Za-z0-9/._-]+$ ]] || die "temp dir path has odd characters: $BENCH_TMP"
cleanup() {
  if [[ ${KEEP_TMP:-0} == 1 ]]; then log "kept $BENCH_TMP"; else rm -rf "$BENCH_TMP"; fi
}
trap cleanup EXIT
# Nothing below may touch ~/.cache: every tool gets an explicit cache dir under $BENCH_TMP,
# and the env defaults point there too in case an invocation forgets the flag.
export XDG_CACHE_HOME="$BENCH_TMP/xdg-cache" XDG_CONFIG_HOME="$BENCH_TMP/xdg-config"
export CACHECMD_DIR="$BENCH_TMP/stray-cachecmd" BKT_CACHE_DIR="$BENCH_TMP/stray-bkt"
unset CACHECMD_TTL CACHECMD_FAILURE_TTL CACHECMD_CONFIG CACHECMD_DISABLE CACHECMD_LOCK_TIMEOUT \
  CACHECMD_MAX_ENTRY_SIZE BKT_TTL BKT_SCOPE

LOAD_START=$(cut -d' ' -f1 /proc/loadavg)
METRICS="$RAW/metrics.tsv"
META="$RAW/meta.tsv"
NOTES="$RAW/notes.txt"
: >"$METRICS"
: >"$META"
: >"$NOTES"
metric() { printf '%s\t%s\n' "$1" "$2" >>"$METRICS"; }
note() { log "NOTE: $*"; printf '%s\n' "$*" >>"$NOTES"; }

# ------------------------------------------------------------------ 1. tools
SUDO=()
[[ $(id -u) -eq 0 ]] || SUDO=(sudo)
missing=()
command -v hyperfine >/dev/null || missing+=(hyperfine)
command -v strace >/dev/null || missing+=(strace)
command -v valgrind >/dev/null || missing+=(valgrind)
[[ -x /usr/bin/time ]] || missing+=(time)
command -v python3 >/dev/null || missing+=(python3)
if ((${#missing[@]})); then
  log "installing via apt-get: ${missing[*]}"
  "${SUDO[@]}" apt-get update -qq
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
fi
HYPERFINE_VERSION=$(hyperfine --version)

# The other caches, each installed once with `cargo install --locked` into bench/out/tools.
TOOLS="$OUT/tools"
install_tool() { # crate version -> path of its binary, or "" (quick mode, not yet installed)
  local crate=$1 version=$2
  if [[ -x $TOOLS/bin/$crate && -f $TOOLS/$crate.version && $(cat "$TOOLS/$crate.version") == "$version" ]]; then
    echo "$TOOLS/bin/$crate"
  elif ((QUICK)); then
    note "quick mode: $crate not installed in bench/out/tools, $crate columns skipped (run the full suite once to install it)"
  else
    log "cargo install --locked --root bench/out/tools $crate@$version"
    cargo install --quiet --locked --force --root "$TOOLS" "$crate" --version "$version" >&2
    echo "$version" >"$TOOLS/$crate.version"
    echo "$TOOLS/bin/$crate"
  fi
}
BKT_VERSION=0.8.2 DEJA_VERSION=0.2.1
if [[ -n ${BKT_BIN:-} ]]; then BKT=$(command -v "$BKT_BIN") || die "BKT_BIN=$BKT_BIN not found"; else BKT=$(install_tool bkt "$BKT_VERSION"); fi
if [[ -n ${DEJA_BIN:-} ]]; then DEJA=$(command -v "$DEJA_BIN") || die "DEJA_BIN=$DEJA_BIN not found"; else DEJA=$(install_tool deja "$DEJA_VERSION"); fi

# ------------------------------------------------------------------ 2. build
if [[ -n ${CACHECMD_BIN:-} ]]; then
  CC_SRC=$(command -v "$CACHECMD_BIN") || die "CACHECMD_BIN=$CACHECMD_BIN not found"
  note "benchmarked CACHECMD_BIN=$CACHECMD_BIN, not a fresh cargo build"
else
  # The README's install: a plain release build, which build.rs links as a
  # statically where it can. DYNAMIC=1 measures the dynamic link instead.
  build_t0=$(date +%s)
  if [[ ${DYNAMIC:-0} == 1 ]]; then
    log "cargo build --release (CACHECMD_DYNAMIC=1)"
    CACHECMD_DYNAMIC=1 cargo build --release --locked -p cachecmd >&2
  else
    log "cargo build --release"
    cargo build --release --locked -p cachecmd >&2
  fi
  CC_SRC="${CARGO_TARGET_DIR:-$REPO/target}/release/cachecmd"
  note "cargo build --release --locked ($( (ldd "$CC_SRC" 2>&1 || true) | grep -qE 'statically|not a dynamic' && echo static || echo dynamic) binary)"
  BUILD_SECS=$(($(date +%s) - build_t0))
fi
[[ -x $CC_SRC ]] || die "no cachecmd binary at $CC_SRC"

if [[ -n ${CACHECMD_BIN:-} ]]; then
  CC_REV="CACHECMD_BIN, rev unknown"
else
  CC_REV=$(git -C "$REPO" describe --always --dirty 2>/dev/null || echo 'no commit')
fi

# Private copies at stable, space-free paths: hyperfine -N splits commands on whitespace, and a
# concurrent `cargo build` must not swap the binary out mid-run.
BIN="$BENCH_TMP/bin"
mkdir -p "$BIN"
cp "$CC_SRC" "$BIN/cachecmd"
CC="$BIN/cachecmd"
CAT=$(command -v cat)
if [[ -n $BKT ]]; then ln -s "$BKT" "$BIN/bkt"; BKT="$BIN/bkt"; fi
if [[ -n $DEJA ]]; then ln -s "$DEJA" "$BIN/deja"; DEJA="$BIN/deja"; fi

sanity=$("$CC" --cache-dir "$BENCH_TMP/sanity" -- echo hi) || die "cachecmd --cache-dir DIR -- echo hi failed"
[[ $sanity == hi ]] || die "cachecmd -- echo hi printed '$sanity'"

# ------------------------------------------------------------------ parameters
if ((QUICK)); then
  SIZES=(0 4096 1048576 8388608)
  SIZE_LABELS="0 B|4 KiB|1 MiB|8 MiB"
  BIG_LABEL="8 MiB"
  WARMUP=2
  RUNS_SMALL=20 RUNS_MID=15 RUNS_BIG=10 RUNS_MISS=5 RUNS_ENTRIES=30
  CONC_REPS=1
  ROUNDS=1
  ENTRIES_LARGE=1000
else
  SIZES=(0 4096 1048576 67108864)
  SIZE_LABELS="0 B|4 KiB|1 MiB|64 MiB"
  BIG_LABEL="64 MiB"
  WARMUP=3
  RUNS_SMALL=600 RUNS_MID=300 RUNS_BIG=80 RUNS_MISS=40 RUNS_ENTRIES=800
  CONC_REPS=5
  ROUNDS=4
  ENTRIES_LARGE=100000
fi
ENTRIES_SMALL=10
CONC_N=50
BIG=${SIZES[3]}
runs_for() { # size -> hyperfine run count
  if (($1 <= 4096)); then echo "$RUNS_SMALL"; elif (($1 <= 1048576)); then echo "$RUNS_MID"; else echo "$RUNS_BIG"; fi
}

if hyperfine --help 2>/dev/null | grep -q 'pipe:'; then
  PIPE_METHOD="hyperfine --output=pipe (splices to /dev/null)"
  PIPE_NATIVE=1
else
  PIPE_METHOD="sh -c '… | cat >/dev/null' for all three commands (hyperfine lacks --output=pipe)"
  PIPE_NATIVE=0
fi

DATA="$BENCH_TMP/data"
mkdir -p "$DATA"
# Text, not raw random bytes: deja 0.2.1 replays only UTF-8 output (binary output comes back
# empty, and a large one fails), and every tool should be timed on output it keeps.
for s in "${SIZES[@]}"; do (base64 -w 76 /dev/urandom || true) | head -c "$s" >"$DATA/f$s"; done
CCD="$BENCH_TMP/cc-cache"   # cachecmd cache for hit/miss/rss/strace
BKD="$BENCH_TMP/bkt-cache"  # bkt cache
DJD="$BENCH_TMP/deja-cache" # deja cache

# hyperfine wrapper: hf OUTPUT_MODE RUNS NAME name1 cmd1 [name2 cmd2 ...]
# Runs are split into $ROUNDS hyperfine invocations with the command order rotated each round,
# so slow drift in machine load (2-core VM) hits every command alike; medians are taken over
# the pooled per-run times of all rounds.
hf() {
  local mode=$1 runs=$2 name=$3
  shift 3
  local names=() cmdlines=()
  while (($#)); do
    names+=("$1")
    if [[ $mode == pipe && $PIPE_NATIVE == 0 ]]; then cmdlines+=("$2 | $CAT >/dev/null"); else cmdlines+=("$2"); fi
    shift 2
  done
  local rounds=${HF_ROUNDS:-$ROUNDS}
  local per=$(((runs + rounds - 1) / rounds)) n=${#names[@]} r i j jsons=()
  ((per >= 2)) || per=2
  for ((r = 0; r < rounds; r++)); do
    local args=(--style basic --warmup "$WARMUP" --runs "$per" --export-json "$RAW/$name.r$r.json")
    if [[ $mode == pipe && $PIPE_NATIVE == 0 ]]; then args+=(--shell=sh --output=null); else args+=(-N "--output=$mode"); fi
    for ((i = 0; i < n; i++)); do
      j=$(((i + r) % n))
      # HF_PREPARE[name]: per-command --prepare (untimed), kept in step with the rotation
      if ((${#HF_PREPARE[@]})); then args+=(--prepare "${HF_PREPARE[${names[j]}]:-true}"); fi
      args+=(-n "${names[j]}" "${cmdlines[j]}")
    done
    hyperfine "${args[@]}" >&2
    jsons+=("$RAW/$name.r$r.json")
  done
  python3 "$BENCH/bench.py" hf-medians "${jsons[@]}" >"$RAW/$name.medians"
}
declare -A HF_PREPARE=()
# median_of JSON_NAME NAME -> seconds
median_of() { awk -F'\t' -v n="$2" '$1 == n { print $2 }' "$RAW/$1.medians"; }
# record_times JSON_NAME METRIC_PREFIX: "<prefix>.<tool>" = median, "<prefix>.<tool>.min" = fastest run
record_times() {
  awk -F'\t' -v p="$2" '{ m = $3; sub(/.*min=/, "", m); print p "." $1 "\t" $2; print p "." $1 ".min\t" m }' \
    "$RAW/$1.medians" >>"$METRICS"
}

# check_hit CACHEDIR FILE: a -v run must report a hit and reproduce FILE byte for byte
check_hit() {
  local err="$BENCH_TMP/check.err" out="$BENCH_TMP/check.out"
  "$CC" --cache-dir "$1" --ttl 1h -v -- "$CAT" "$2" >"$out" 2>"$err"
  grep -qi 'hit' "$err" || note "cachecmd -v did not report a hit for 'cat $(basename "$2")' after warm-up (stderr: $(head -c 200 "$err" | tr '\n' ' '))"
  cmp -s "$out" "$2" || note "cachecmd hit output for $(basename "$2") differs from the file"
}

# ------------------------------------------------------------------ 3. hit latency
log "== hit latency"
for s in "${SIZES[@]}"; do
  f="$DATA/f$s"
  "$CC" --cache-dir "$CCD" --ttl 1h -- "$CAT" "$f" >/dev/null
  [[ -z $BKT ]] || "$BKT" --cache-dir "$BKD" --ttl 1h -- "$CAT" "$f" >/dev/null
  [[ -z $DEJA ]] || "$DEJA" run --cache "$DJD" --cache-for 1h -- "$CAT" "$f" >/dev/null
  check_hit "$CCD" "$f"
  for mode in null pipe; do
    cmds=(cachecmd "$CC --cache-dir $CCD --ttl 1h -- $CAT $f")
    [[ -z $BKT ]] || cmds+=(bkt "$BKT --cache-dir $BKD --ttl 1h -- $CAT $f")
    [[ -z $DEJA ]] || cmds+=(deja "$DEJA run --cache $DJD --cache-for 1h -- $CAT $f")
    cmds+=(cat "$CAT $f")
    log "hit $s B -> $mode"
    hf "$mode" "$(runs_for "$s")" "hit-$mode-$s" "${cmds[@]}"
    record_times "hit-$mode-$s" "hit.$mode.$s"
  done
done

# ------------------------------------------------------------------ 4. miss overhead
log "== miss overhead ($BIG_LABEL, --force)"
f="$DATA/f$BIG"
for mode in null pipe; do
  cmds=(cachecmd "$CC --cache-dir $CCD --ttl 1h --force -- $CAT $f")
  [[ -z $BKT ]] || cmds+=(bkt "$BKT --cache-dir $BKD --ttl 1h --force -- $CAT $f")
  [[ -z $DEJA ]] || cmds+=(deja "$DEJA force --cache $DJD --cache-for 1h -- $CAT $f")
  cmds+=(cat "$CAT $f")
  hf "$mode" "$RUNS_MISS" "miss-$mode" "${cmds[@]}"
  record_times "miss-$mode" "miss.$mode"
done

# A true miss: the cache dir is emptied before every run (untimed --prepare), so there is no
# old entry to replace (with --force, the rename over the previous 64 MiB entry also pays for
# evicting its inode, and ext4's auto_da_alloc starts writeback of the new one).
CCM="$BENCH_TMP/cc-cold" BKM="$BENCH_TMP/bkt-cold" DJM="$BENCH_TMP/deja-cold"
cmds=(cachecmd "$CC --cache-dir $CCM --ttl 1h -- $CAT $f")
HF_PREPARE=([cachecmd]="rm -rf $CCM")
if [[ -n $BKT ]]; then
  cmds+=(bkt "$BKT --cache-dir $BKM --ttl 1h -- $CAT $f")
  HF_PREPARE[bkt]="rm -rf $BKM"
fi
if [[ -n $DEJA ]]; then
  cmds+=(deja "$DEJA run --cache $DJM --cache-for 1h -- $CAT $f")
  HF_PREPARE[deja]="rm -rf $DJM"
fi
cmds+=(cat "$CAT $f")
hf pipe "$RUNS_MISS" miss-cold-pipe "${cmds[@]}"
HF_PREPARE=()
record_times miss-cold-pipe miss.coldpipe

# A miss of a command that does real work: gzip of a compressible file.
g="$DATA/g$BIG"
(base64 -w 100 "$f" || true) | head -c "$BIG" >"$g" # base64 dies of SIGPIPE: expected
cmds=(cachecmd "$CC --cache-dir $CCD --ttl 1h --force -- gzip -c $g")
[[ -z $BKT ]] || cmds+=(bkt "$BKT --cache-dir $BKD --ttl 1h --force -- gzip -c $g")
[[ -z $DEJA ]] || cmds+=(deja "$DEJA force --cache $DJD --cache-for 1h -- gzip -c $g")
cmds+=(gzip "gzip -c $g")
hf pipe "$((RUNS_MISS / 2 + 2))" miss-gzip "${cmds[@]}"
record_times miss-gzip miss.gzip

# The disk's floor for a miss: the bytes to the caller and to a file, by tee(1).
hf pipe "$RUNS_MISS" miss-floor tee "sh -c '$CAT $f | tee $BENCH_TMP/floor.out'" cat "$CAT $f"
record_times miss-floor miss.floor

# Diagnostics only (not in the table): syscall mix of a big hit and miss to a pipe.
"$CC" --cache-dir "$CCD" --ttl 1h -- "$CAT" "$f" >/dev/null
strace -c -f -o "$RAW/strace-c-cachecmd-hit-big-pipe.txt" "$CC" --cache-dir "$CCD" --ttl 1h -- "$CAT" "$f" | "$CAT" >/dev/null
strace -c -f -o "$RAW/strace-c-cachecmd-miss-big-pipe.txt" "$CC" --cache-dir "$CCD" --ttl 1h --force -- "$CAT" "$f" | "$CAT" >/dev/null
strace -c -f -o "$RAW/strace-c-cat-big-pipe.txt" "$CAT" "$f" | "$CAT" >/dev/null
for k in cachecmd-hit-big-pipe cachecmd-miss-big-pipe cat-big-pipe; do
  note "syscalls, $BIG_LABEL ${k%-big-pipe} → pipe: $(python3 "$BENCH/bench.py" strace-top "$RAW/strace-c-$k.txt" 4)"
done

# ------------------------------------------------------------------ 5. peak RSS
log "== peak RSS ($BIG_LABEL, output to a pipe)"
rss_once() { # prints max RSS in KiB of "$@" (and its waited-for children), stdout to a pipe
  local o="$BENCH_TMP/rss.out"
  /usr/bin/time -f %M -o "$o" "$@" | "$CAT" >/dev/null
  tail -n1 "$o"
}
rss() { # key cmd...: median of 3
  local key=$1 a b c
  shift
  a=$(rss_once "$@"); b=$(rss_once "$@"); c=$(rss_once "$@")
  metric "$key" "$(python3 "$BENCH/bench.py" median "$a" "$b" "$c")"
  printf '%s\t%s %s %s\n' "$key" "$a" "$b" "$c" >>"$RAW/rss.tsv"
}
"$CC" --cache-dir "$CCD" --ttl 1h -- "$CAT" "$f" >/dev/null # make sure it is a hit again
rss rss.hit.cachecmd "$CC" --cache-dir "$CCD" --ttl 1h -- "$CAT" "$f"
rss rss.miss.cachecmd "$CC" --cache-dir "$CCD" --ttl 1h --force -- "$CAT" "$f"
if [[ -n $BKT ]]; then
  "$BKT" --cache-dir "$BKD" --ttl 1h -- "$CAT" "$f" >/dev/null
  rss rss.hit.bkt "$BKT" --cache-dir "$BKD" --ttl 1h -- "$CAT" "$f"
  rss rss.miss.bkt "$BKT" --cache-dir "$BKD" --ttl 1h --force -- "$CAT" "$f"
fi
if [[ -n $DEJA ]]; then
  "$DEJA" run --cache "$DJD" --cache-for 1h -- "$CAT" "$f" >/dev/null
  rss rss.hit.deja "$DEJA" run --cache "$DJD" --cache-for 1h -- "$CAT" "$f"
  rss rss.miss.deja "$DEJA" force --cache "$DJD" --cache-for 1h -- "$CAT" "$f"
fi
rss rss.hit.cat "$CAT" "$f"
metric rss.miss.cat "$(awk -F'\t' '$1 == "rss.hit.cat" { print $2 }' "$METRICS")"

# ------------------------------------------------------------------ 6. concurrent misses
log "== $CONC_N concurrent misses of a 1 s command (x$CONC_REPS)"
conc() { # tool rep -> JSON line
  local tool=$1 rep=$2 dir="$BENCH_TMP/conc-$1-$2" count="$BENCH_TMP/conc-$1-$2.count"
  rm -rf "$dir" "$count" # cache cleared first
  local inner="sleep 1; echo x >> $count; echo done"
  if [[ $tool == cachecmd ]]; then
    python3 "$BENCH/bench.py" concurrent "$CONC_N" "$count" -- "$CC" --cache-dir "$dir" --ttl 1h -- sh -c "$inner"
  elif [[ $tool == deja ]]; then
    python3 "$BENCH/bench.py" concurrent "$CONC_N" "$count" -- "$DEJA" run --cache "$dir" --cache-for 1h -- sh -c "$inner"
  else
    python3 "$BENCH/bench.py" concurrent "$CONC_N" "$count" -- "$BKT" --cache-dir "$dir" --ttl 1h -- sh -c "$inner"
  fi
}
for tool in cachecmd bkt deja; do
  [[ $tool != bkt || -n $BKT ]] || continue
  [[ $tool != deja || -n $DEJA ]] || continue
  : >"$RAW/conc-$tool.jsonl"
  for ((r = 1; r <= CONC_REPS; r++)); do
    conc "$tool" "$r" | tee -a "$RAW/conc-$tool.jsonl" >&2
  done
  python3 - "$RAW/conc-$tool.jsonl" "$tool" >>"$METRICS" <<'EOF'
import json, statistics, sys
rs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
t = sys.argv[2]
print(f"conc.{t}.execs\t{max(r['execs'] for r in rs)}")
print(f"conc.{t}.wall\t{statistics.median(r['wall'] for r in rs):.4f}")
print(f"conc.{t}.ok\t{min(r['ok'] for r in rs)}")
EOF
done

# ------------------------------------------------------------------ 7. many entries
log "== hit latency: $ENTRIES_LARGE entries vs $ENTRIES_SMALL"
f="$DATA/f4096"
C_SMALL="$BENCH_TMP/entries-small"
C_LARGE="$BENCH_TMP/entries-large"
for c in "$C_SMALL" "$C_LARGE"; do
  "$CC" --cache-dir "$c" --ttl 1h -- "$CAT" "$f" >/dev/null
  for ((i = 1; i < ENTRIES_SMALL; i++)); do
    "$CC" --cache-dir "$c" --ttl 1h -- echo "filler $i" >/dev/null
  done
done
python3 "$BENCH/bench.py" fill "$C_LARGE" "$ENTRIES_LARGE"
check_hit "$C_SMALL" "$f"
check_hit "$C_LARGE" "$f"
# same code path, so the difference is small: interleave finely to keep load drift out of it
HF_ROUNDS=$((ROUNDS * 3)) hf null "$RUNS_ENTRIES" entries \
  small "$CC --cache-dir $C_SMALL --ttl 1h -- $CAT $f" \
  large "$CC --cache-dir $C_LARGE --ttl 1h -- $CAT $f"
record_times entries entries
n_large=$(find "$C_LARGE/v1/entries" -type f ! -name '.*' | wc -l)
[[ $n_large -ge $ENTRIES_LARGE ]] || note "large cache has only $n_large entry files after the benchmark (expected $ENTRIES_LARGE) — did cachecmd prune it?"

# ------------------------------------------------------------------ 8. syscalls
log "== syscalls on a 4 KiB hit"
f="$DATA/f4096"
sys_count() { # key cmd...
  local key=$1
  shift
  strace -c -f -o "$RAW/strace-c-$key.txt" "$@" >/dev/null
  metric "sys.$key" "$(python3 "$BENCH/bench.py" strace-total "$RAW/strace-c-$key.txt")"
}
sys_count cachecmd "$CC" --cache-dir "$CCD" --ttl 1h -- "$CAT" "$f"
strace -f -o "$RAW/strace-cachecmd-hit-4k.txt" "$CC" --cache-dir "$CCD" --ttl 1h -- "$CAT" "$f" >/dev/null
[[ -z $BKT ]] || sys_count bkt "$BKT" --cache-dir "$BKD" --ttl 1h -- "$CAT" "$f"
[[ -z $DEJA ]] || sys_count deja "$DEJA" run --cache "$DJD" --cache-for 1h -- "$CAT" "$f"
sys_count cat "$CAT" "$f"
grep -F 'execve(' "$RAW/strace-cachecmd-hit-4k.txt" | grep -F "\"$f\"]" >/dev/null &&
  note "cachecmd ran 'cat $f' during the 4 KiB 'hit' strace run — it was not a hit"

# Instructions of one 4 KiB hit: repeatable where times are not. `perf stat` where the
# machine has hardware counters, else callgrind (which counts the same user-space instructions).
log "== instructions on a 4 KiB hit"
insn_count() { # key cmd...
  local key=$1 n
  shift
  if perf stat -x, -e instructions:u -o "$RAW/perf-$key.txt" "$@" >/dev/null 2>&1 &&
    n=$(awk -F, '$3 ~ /instructions/ && $1 ~ /^[0-9]+$/ { print $1 }' "$RAW/perf-$key.txt") && [[ -n $n ]]; then
    INSN_TOOL="perf stat -e instructions:u"
  else
    valgrind --tool=callgrind --callgrind-out-file="$RAW/callgrind-$key.out" "$@" >/dev/null 2>"$RAW/callgrind-$key.err"
    n=$(awk '/Collected :/ { print $NF }' "$RAW/callgrind-$key.err")
    INSN_TOOL="valgrind --tool=callgrind"
  fi
  metric "insn.$key" "$n"
}
insn_count cachecmd "$CC" --cache-dir "$CCD" --ttl 1h -- "$CAT" "$f"
[[ -z $BKT ]] || insn_count bkt "$BKT" --cache-dir "$BKD" --ttl 1h -- "$CAT" "$f"
[[ -z $DEJA ]] || insn_count deja "$DEJA" run --cache "$DJD" --cache-for 1h -- "$CAT" "$f"
insn_count cat "$CAT" "$f"

# ------------------------------------------------------------------ 9. report
END_EPOCH=$(date +%s)
LOAD_END=$(cut -d' ' -f1 /proc/loadavg)
# the suite itself keeps ~1 core busy; more than that means something else competed for CPU
if python3 -c "import sys; sys.exit(0 if max($LOAD_START, $LOAD_END) > 1.5 else 1)"; then
  note "machine was busy (1-min loadavg $LOAD_START at start, $LOAD_END at end, $(nproc) cores): expect noisy timings"
fi
dur=$((END_EPOCH - START_EPOCH))
{
  printf 'quick\t%s\n' "$QUICK"
  printf 'date\t%s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
  printf 'duration\t%dm%02ds (of which cargo build %ds)\n' $((dur / 60)) $((dur % 60)) "$BUILD_SECS"
  printf 'cpu\t%s\n' "$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
  printf 'nproc\t%s\n' "$(nproc)"
  printf 'kernel\t%s\n' "$(uname -r)"
  printf 'fstype\t%s\n' "$(stat -f -c %T "$BENCH_TMP")"
  printf 'tmp\t%s\n' "${TMPDIR:-/tmp}"
  printf 'cachecmd_version\t%s\n' "$("$CC" --version 2>/dev/null | awk 'NR == 1 { print $NF }' || echo '?')"
  printf 'cachecmd_rev\t%s\n' "$CC_REV"
  printf 'bkt_version\t%s\n' "$(if [[ -n $BKT ]]; then "$BKT" --version | awk '{ print $NF }'; else echo none; fi)"
  printf 'deja_version\t%s\n' "$(if [[ -n $DEJA ]]; then echo "$DEJA_VERSION"; else echo none; fi)"
  printf 'hyperfine_version\t%s\n' "$HYPERFINE_VERSION"
  printf 'insn_tool\t%s\n' "${INSN_TOOL:-?}"
  printf 'cat_version\t%s\n' "$("$CAT" --version | head -n1 | awk '{ print $NF }')"
  printf 'warmup\t%s\n' "$WARMUP"
  printf 'rounds\t%s\n' "$ROUNDS"
  printf 'load\t%s → %s\n' "$LOAD_START" "$LOAD_END"
  printf 'pipe_method\t%s\n' "$PIPE_METHOD"
  printf 'sizes\t%s\n' "${SIZES[*]}"
  printf 'size_labels\t%s\n' "$SIZE_LABELS"
  printf 'size_4k\t4096\n'
  printf 'size_big\t%s\n' "$BIG"
  printf 'big_label\t%s\n' "$BIG_LABEL"
  printf 'conc_n\t%s\n' "$CONC_N"
  printf 'conc_reps\t%s\n' "$CONC_REPS"
  printf 'entries_small\t%s\n' "$ENTRIES_SMALL"
  printf 'entries_large\t%s\n' "$ENTRIES_LARGE"
} >>"$META"
python3 "$BENCH/bench.py" report "$METRICS" "$META" "$NOTES" >"$OUT/results.md"
cat "$OUT/results.md"
log "done in ${dur}s; table in bench/out/results.md, raw data in bench/out/raw/"
