#!/usr/bin/env bash
# --trace-inputs benchmark: what tracing costs on a miss and on a hit, side by side in one run.
#
# Usage (from anywhere):
#   bench/trace.sh            full run
#   bench/trace.sh --quick    smoke test: few runs, a smaller repository
#
# Creates, in a private temp dir, a small C project (24 files, a Makefile) and a git repository
# of 10,000 files, then runs with hyperfine, side by side:
#   make miss        `cachecmd --force -- make -B -s` against the same with --trace-inputs
#                    (every run compiles the whole project again and records an entry)
#   git status miss  `cachecmd --force -- git status --short`, untraced against traced
#   hit              a hit whose manifest lists 1,000 files (`sh -c 'cat files/*'`, traced)
#                    against a hit of the same command with `--input files` declared
#   one stop         bench/trace-stop.c: the cost of one traced system call, plain, under
#                    seccomp + ptrace (what cachecmd does) and under seccomp user notification
# Targets (issue 18): a traced miss <= 1.3x the untraced miss; a traced hit <= 1.2x the
# declared hit. Prints a markdown table (medians, ratios) to stdout and writes it to
# bench/out/trace.md; progress on stderr, hyperfine JSON in bench/out/raw-trace/.
#
# Environment:
#   CACHECMD_BIN=path   benchmark this binary instead of building target/release/cachecmd
#   KEEP_TMP=1          keep the temp dir for inspection
set -Eeuo pipefail

# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"
bench_init raw-trace 23 "$@"
export LC_ALL=C
log() { printf 'trace.sh: %s\n' "$*" >&2; }

if ((QUICK)); then
  REPO_FILES=2000 RUNS=3 HIT_RUNS=10
else
  REPO_FILES=10000 RUNS=10 HIT_RUNS=50
fi

for tool in hyperfine make cc git python3; do
  command -v "$tool" >/dev/null || { log "missing: $tool"; exit 1; }
done

bench_binary

TMP=$(mktemp -d "${TMPDIR:-/tmp}/cachecmd-trace.XXXXXX")
if [[ -z ${KEEP_TMP:-} ]]; then trap 'rm -rf "$TMP"' EXIT; else log "keeping $TMP"; fi
while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep '^CACHECMD' || true)
export XDG_CONFIG_HOME="$TMP/config" XDG_CACHE_HOME="$TMP/xdg-cache" CACHECMD_DIR="$TMP/cache"

# --- data --------------------------------------------------------------------------------
log "creating the C project and a git repository of $REPO_FILES files"
python3 - "$TMP" "$REPO_FILES" <<'EOF'
import os, sys
root, files = sys.argv[1], int(sys.argv[2])
proj = os.path.join(root, "cproj")
os.makedirs(proj)
objs = []
for i in range(24):
    with open(os.path.join(proj, f"m{i}.c"), "w") as f:
        f.write(f'#include <stdio.h>\n#include <string.h>\n#include "common.h"\n'
                f'int f{i}(const char *s) {{ return (int)strlen(s) + COMMON + {i}; }}\n')
    objs.append(f"m{i}.o")
with open(os.path.join(proj, "common.h"), "w") as f:
    f.write("#define COMMON 7\n")
with open(os.path.join(proj, "main.c"), "w") as f:
    f.write('#include <stdio.h>\nint f0(const char *);\nint main(void) { printf("%d\\n", f0("x")); return 0; }\n')
with open(os.path.join(proj, "Makefile"), "w") as f:
    f.write(f"app: main.o {' '.join(objs)}\n\tcc -o app $^\n%.o: %.c common.h\n\tcc -O0 -c $<\n")
repo = os.path.join(root, "repo")
for i in range(files):
    d = os.path.join(repo, f"d{i // 100:03}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"f{i:05}.txt"), "w") as f:
        f.write(f"file {i}\n")
hit = os.path.join(root, "hit", "files")
os.makedirs(hit)
for i in range(1000):
    with open(os.path.join(hit, f"f{i:04}"), "w") as f:
        f.write(f"{i}\n")
EOF
git -C "$TMP/repo" init -q
git -C "$TMP/repo" add -A
git -C "$TMP/repo" -c user.name=bench -c user.email=bench@localhost commit -qm init
# Entries, manifests and stat cache older than the racy-clean window, as in real use.
find "$TMP/repo" "$TMP/cproj" "$TMP/hit" -exec touch -d '1 hour ago' {} +

cd "$TMP/cproj"
make -s >/dev/null
# Both caches warm: one traced and one untraced recording first.
"$BIN" --force -- make -B -s >/dev/null
"$BIN" --force --trace-inputs -- make -B -s >/dev/null
hyperfine -N --warmup 1 --runs "$RUNS" --export-json "$RAW/make.json" \
  -n "make miss, untraced" "$BIN --force -- make -B -s" \
  -n "make miss, traced" "$BIN --force --trace-inputs -- make -B -s" >&2

cd "$TMP/repo"
"$BIN" --force -- git status --short >/dev/null
"$BIN" --force --trace-inputs -- git status --short >/dev/null
hyperfine -N --warmup 2 --runs "$RUNS" --export-json "$RAW/git.json" \
  -n "git status miss, untraced" "$BIN --force -- git status --short" \
  -n "git status miss, traced" "$BIN --force --trace-inputs -- git status --short" >&2

cd "$TMP/hit"
"$BIN" --ttl forever --trace-inputs -- sh -c 'cat files/*' >/dev/null
"$BIN" --ttl forever --input files -- sh -c 'cat files/*' >/dev/null
ITEMS=$("$BIN" key --explain --trace-inputs -- sh -c 'cat files/*' | grep -c '^  ')
log "the traced hit checks $ITEMS manifest items"
hyperfine -N --warmup 3 --runs "$HIT_RUNS" --export-json "$RAW/hit.json" \
  -n "hit, declared --input files" "$BIN --ttl forever --input files -- sh -c 'cat files/*'" \
  -n "hit, traced ($ITEMS items)" "$BIN --ttl forever --trace-inputs -- sh -c 'cat files/*'" >&2

cc -O2 -o "$TMP/trace-stop" "$REPO/bench/trace-stop.c"
"$TMP/trace-stop" >"$RAW/stop.txt"
# The same with tracer and tracee on one CPU: what a stop costs without waking
# another CPU (on a VM an idle vCPU is slow to wake).
if command -v taskset >/dev/null; then
  taskset -c 0 "$TMP/trace-stop" | sed 's/ us per call/ us per call (one CPU)/' >>"$RAW/stop.txt"
fi

python3 - "$RAW" "$ITEMS" <<'EOF' | tee "$OUT/trace.md"
import json, sys
raw, items = sys.argv[1], sys.argv[2]
def load(name):
    return [(r["command"], r["median"], r["min"]) for r in json.load(open(f"{raw}/{name}.json"))["results"]]
print("| comparison | baseline median | traced median | ratio (median) | ratio (min) | target |")
print("| --- | --- | --- | --- | --- | --- |")
for name, target in [("make", 1.3), ("git", 1.3), ("hit", 1.2)]:
    (bname, bmed, bmin), (tname, tmed, tmin) = load(name)
    ratio = tmed / bmed
    status = "met" if ratio <= target else "**not met**"
    print(f"| {tname} vs {bname} | {bmed*1000:.1f} ms | {tmed*1000:.1f} ms | {ratio:.2f}x | {tmin/bmin:.2f}x | <= {target}x: {status} |")
print()
print("One stop (bench/trace-stop.c, 20,000 calls each):")
print()
print("```")
print(open(f"{raw}/stop.txt").read().rstrip())
print("```")
EOF
