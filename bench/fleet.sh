#!/usr/bin/env bash
# cachecmd shared-tier benchmark: a simulated CI fleet against each remote backend.
#
# Usage (from anywhere; runs in the repo root):
#   bench/fleet.sh                 16 machines x 200 keys; list/clear --remote at 1k, 10k, 100k keys
#   bench/fleet.sh --quick         4 machines x 20 keys; list/clear --remote at 1k keys
#   bench/fleet.sh --backend B     B = redis | http | s3 | all (default all)
#
# Per backend, a private server on a free 127.0.0.1 port (redis-server; nginx with WebDAV and
# the dav-ext module; s3s-fs from PATH or ~/.cargo/bin), started and stopped here, all state in
# one private temp dir:
#   1. the fleet: MACHINES concurrent processes, each with its own cache dir (a machine), run the
#      same KEYS commands in a machine-specific shuffled order. Each command appends a line to a
#      counter file (executions), sleeps WORK seconds (so concurrent misses overlap) and prints
#      SIZE random bytes as base64. Every invocation's `-v` status line is kept: uploads
#      ("shared remotely") and remote hits are weighed with the entry file they moved.
#   2. remote hit vs local hit: a fresh machine runs SAMPLES keys twice; the first run is a
#      remote hit, the second a local hit (both checked from the status line), each timed.
#   3. list/clear growth: the store is emptied, filled directly with N objects named as
#      cachecmd names them (cachecmd:v1:<64 hex> under the prefix), then `list --remote` and
#      `clear --remote` are timed (and their counts checked), for each N in LIST_SIZES.
# Prints markdown tables to stdout and writes them to bench/out/fleet.md; progress goes to
# stderr, per-invocation logs and timings to bench/out/raw-fleet/.
#
# Environment:
#   CACHECMD_BIN=path   benchmark this binary instead of building one with cargo build --release
#   MACHINES=n KEYS=n   fleet shape (default 16 x 200; --quick 4 x 20)
#   SIZE=bytes          random bytes per command before base64 (default 32768)
#   WORK=seconds        sleep inside each command (default 0.05)
#   SAMPLES=n           keys timed as remote and local hits (default 100; --quick 20)
#   LIST_SIZES="..."    store sizes for list/clear (default "1000 10000 100000"; --quick "1000")
#   OP_LIMIT=seconds    a list or clear taking longer is killed and reported (default 300)
#   KEEP_TMP=1          keep the private temp dir
set -Eeuo pipefail

BACKEND=all
PASS=()
while (($#)); do
  case $1 in
    --backend)
      [[ $# -ge 2 ]] || { echo "fleet.sh: --backend needs redis, http, s3 or all" >&2; exit 2; }
      BACKEND=$2
      shift 2
      ;;
    --backend=*) BACKEND=${1#*=}; shift ;;
    *) PASS+=("$1"); shift ;;
  esac
done
case $BACKEND in
  redis | http | s3) BACKENDS=("$BACKEND") ;;
  all) BACKENDS=(redis http s3) ;;
  *) echo "fleet.sh: unknown backend: $BACKEND (redis, http, s3 or all)" >&2; exit 2 ;;
esac

# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"
bench_init raw-fleet 33 "${PASS[@]}"
export LC_ALL=C
unset LANG LANGUAGE

log() { printf '[fleet-bench %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
trap 'log "failed at line $LINENO: $BASH_COMMAND"' ERR

if ((QUICK)); then
  MACHINES=${MACHINES:-4} KEYS=${KEYS:-20} SAMPLES=${SAMPLES:-20} LIST_SIZES=${LIST_SIZES:-1000}
else
  MACHINES=${MACHINES:-16} KEYS=${KEYS:-200} SAMPLES=${SAMPLES:-100}
  LIST_SIZES=${LIST_SIZES:-"1000 10000 100000"}
fi
SIZE=${SIZE:-32768} WORK=${WORK:-0.05} OP_LIMIT=${OP_LIMIT:-300}
((SAMPLES <= KEYS)) || SAMPLES=$KEYS

for tool in python3 timeout; do
  command -v "$tool" >/dev/null || die "$tool not found"
done
for b in "${BACKENDS[@]}"; do
  case $b in
    redis) command -v redis-server >/dev/null && command -v redis-cli >/dev/null ||
      die "redis-server/redis-cli not found (apt-get install redis-server)" ;;
    http) command -v nginx >/dev/null || die "nginx not found (apt-get install nginx libnginx-mod-http-dav-ext)"
      [[ -f /usr/lib/nginx/modules/ngx_http_dav_ext_module.so ]] ||
        die "nginx dav-ext module missing (apt-get install libnginx-mod-http-dav-ext)" ;;
    s3) S3S=$(command -v s3s-fs || echo "$HOME/.cargo/bin/s3s-fs")
      [[ -x $S3S ]] || die "s3s-fs not found (cargo install s3s-fs --version 0.14.1 --features binary --locked)" ;;
  esac
done

BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/cachecmd-fleet-bench.XXXXXX")
chmod 700 "$BENCH_TMP"
[[ $BENCH_TMP =~ ^[A-Za-z0-9/._-]+$ ]] || die "temp dir path has odd characters: $BENCH_TMP"
SERVER_PID=""
stop_server() {
  if [[ -n $SERVER_PID ]]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
}
cleanup() {
  stop_server
  if [[ ${KEEP_TMP:-0} == 1 ]]; then log "kept $BENCH_TMP"; else rm -rf "$BENCH_TMP"; fi
}
trap cleanup EXIT
# Nothing may touch ~/.cache or a user config.
BIN_REQUEST=${CACHECMD_BIN:-}
export XDG_CACHE_HOME="$BENCH_TMP/xdg-cache" XDG_CONFIG_HOME="$BENCH_TMP/xdg-config"
export CACHECMD_DIR="$BENCH_TMP/stray-cachecmd"
for v in $(compgen -e | grep '^CACHECMD_' | grep -v '^CACHECMD_DIR$' || true); do unset "$v"; done
for v in $(compgen -e | grep '^AWS_' || true); do unset "$v"; done

# ------------------------------------------------------------------ binary
if [[ -n $BIN_REQUEST ]]; then
  SRC=$(command -v "$BIN_REQUEST") || die "CACHECMD_BIN=$BIN_REQUEST not found"
else
  log "cargo build --release"
  cargo build --release >&2
  SRC="${CARGO_TARGET_DIR:-$REPO/target}/release/cachecmd"
fi
# A private copy: a concurrent cargo build must not swap the binary mid-run.
mkdir -p "$BENCH_TMP/bin"
cp "$SRC" "$BENCH_TMP/bin/cachecmd"
CC="$BENCH_TMP/bin/cachecmd"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { # port what
  for _ in $(seq 200); do
    kill -0 "$SERVER_PID" 2>/dev/null || die "$2 exited at start"
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  die "$2 did not listen on 127.0.0.1:$1"
}

# ------------------------------------------------------------------ servers
# Each start_* sets SERVER_PID, URL, STORE_DIR (where objects live on disk; empty for redis).
start_redis() {
  PORT=$(free_port)
  mkdir -p "$WORKDIR/redis"
  redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
    --maxclients 1000 --dir "$WORKDIR/redis" --logfile "$WORKDIR/redis/redis.log" &
  SERVER_PID=$!
  wait_port "$PORT" redis-server
  URL="redis://127.0.0.1:$PORT/0" STORE_DIR=""
  SERVER_VERSION="redis-server $(redis-server --version | sed 's/^Redis server v=\([^ ]*\).*/\1/')"
}

start_http() {
  PORT=$(free_port)
  local base="$WORKDIR/nginx" user=""
  mkdir -p "$base/root/cache" "$base/tmp"
  [[ $(id -u) -eq 0 ]] && user="user root;"
  cat >"$base/nginx.conf" <<EOF
load_module /usr/lib/nginx/modules/ngx_http_dav_ext_module.so;
$user
pid $base/nginx.pid;
error_log $base/error.log warn;
worker_processes 1;
daemon off;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $base/tmp/body;
    proxy_temp_path $base/tmp/proxy;
    fastcgi_temp_path $base/tmp/fastcgi;
    uwsgi_temp_path $base/tmp/uwsgi;
    scgi_temp_path $base/tmp/scgi;
    server {
        listen 127.0.0.1:$PORT;
        location / {
            root $base/root;
            dav_methods PUT DELETE MOVE;
            dav_ext_methods PROPFIND OPTIONS;
            create_full_put_path on;
            dav_access user:rw;
            client_max_body_size 0;
        }
    }
}
EOF
  nginx -c "$base/nginx.conf" -p "$base" </dev/null >/dev/null 2>"$base/stderr" &
  SERVER_PID=$!
  wait_port "$PORT" nginx
  URL="http://127.0.0.1:$PORT/cache" STORE_DIR="$base/root/cache"
  SERVER_VERSION="$(nginx -v 2>&1 | sed 's/^nginx version: //') + WebDAV (dav-ext)"
}

start_s3() {
  PORT=$(free_port)
  local root="$WORKDIR/s3"
  mkdir -p "$root/bucket"
  export AWS_ACCESS_KEY_ID=AKIACACHECMDBENCH AWS_SECRET_ACCESS_KEY=BenchSecretKey0123456789abcdefghijklmnop
  export AWS_REGION=us-east-1 CACHECMD_S3_ENDPOINT="http://127.0.0.1:$PORT"
  "$S3S" --host 127.0.0.1 --port "$PORT" --access-key "$AWS_ACCESS_KEY_ID" \
    --secret-key "$AWS_SECRET_ACCESS_KEY" "$root" </dev/null >/dev/null 2>"$root.log" &
  SERVER_PID=$!
  wait_port "$PORT" s3s-fs
  URL="s3://bucket/fleet" STORE_DIR="$root/bucket/fleet"
  SERVER_VERSION="$("$S3S" --version 2>/dev/null || echo s3s-fs)"
}

# Bytes of the entries the server holds now.
stored_bytes() {
  if [[ -z $STORE_DIR ]]; then
    redis-cli -p "$PORT" --no-raw eval \
      "local n=0 for _,k in ipairs(redis.call('KEYS','cachecmd:v1:*')) do if #k == 76 then n=n+redis.call('STRLEN',k) end end return n" 0 |
      sed 's/^(integer) //'
  elif [[ -d $STORE_DIR ]]; then
    # Entries only: cachecmd:v1: and 64 hex digits, not uploads (tmp:) or locks.
    find "$STORE_DIR" -type f -name "cachecmd:v1:$(printf '?%.0s' {1..64})" -printf '%s\n' | awk '{n+=$1} END {print n+0}'
  else
    echo 0
  fi
}

# Writes N objects with cachecmd's entry names straight into the store (their content does
# not matter to list and clear).
populate() { # n
  if [[ -z $STORE_DIR ]]; then
    python3 - "$1" <<'EOF' | redis-cli -p "$PORT" --pipe >/dev/null
import secrets, sys
out = sys.stdout.buffer
for _ in range(int(sys.argv[1])):
    key = b"cachecmd:v1:" + secrets.token_hex(32).encode()
    out.write(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$1\r\nx\r\n" % (len(key), key))
EOF
  else
    python3 - "$1" "$STORE_DIR" <<'EOF'
import os, secrets, sys
d = sys.argv[2]
os.makedirs(d, exist_ok=True)
for _ in range(int(sys.argv[1])):
    open(os.path.join(d, "cachecmd:v1:" + secrets.token_hex(32)), "wb").close()
EOF
  fi
}

# ------------------------------------------------------------------ the three phases
# The command every machine runs for key $2: identical argv on every machine (the counter
# path is part of it), FLEET_MACHINE (not part of the key) says who ran it.
SCRIPT="echo \"\$FLEET_MACHINE \$1\" >>\"\$0\"; sleep $WORK; echo \"\$1\"; head -c $SIZE /dev/urandom | base64"

machine() { # m
  local m=$1 dir="$WORKDIR/m$1" log="$RAW/$B-machine$1.tsv" j t0 t1 rc
  local err="$WORKDIR/m$1.err"
  : >"$log"
  for j in $(python3 -c 'import random, sys
order = list(range(1, int(sys.argv[2]) + 1))
random.Random("fleet-" + sys.argv[1]).shuffle(order)
print(*order)' "$m" "$KEYS"); do
    t0=$EPOCHREALTIME
    rc=0
    FLEET_MACHINE=$m "$CC" -v --cache-dir "$dir" --no-cwd --ttl 1d --remote "$URL" \
      -- sh -c "$SCRIPT" "$COUNTER" "k$j" >/dev/null 2>"$err" || rc=$?
    t1=$EPOCHREALTIME
    printf '%s\t%s\t%s\t%s\t%s\n' "$m" "$j" "$rc" "$(((${t1/./} - ${t0/./})))" "$(tail -1 "$err")" >>"$log"
  done
}

fleet() {
  COUNTER="$WORKDIR/executions"
  : >"$COUNTER"
  log "$B: fleet of $MACHINES machines x $KEYS keys against $URL"
  local t0 t1 pids=() m
  t0=$EPOCHREALTIME
  for ((m = 1; m <= MACHINES; m++)); do
    machine "$m" &
    pids+=($!)
  done
  for m in "${pids[@]}"; do wait "$m"; done
  t1=$EPOCHREALTIME
  FLEET_US=$((${t1/./} - ${t0/./}))
  STORED=$(stored_bytes)
  # Key hex of every command, to weigh what each invocation moved with its entry file.
  local j
  : >"$WORKDIR/keys.tsv"
  for ((j = 1; j <= KEYS; j++)); do
    printf '%s\t%s\n' "$j" "$("$CC" key --no-cwd -- sh -c "$SCRIPT" "$COUNTER" "k$j")" >>"$WORKDIR/keys.tsv"
  done
}

probe() {
  local dir="$WORKDIR/probe" err="$WORKDIR/probe.err" log="$RAW/$B-probe.tsv" j kind t0 t1 line
  : >"$log"
  log "$B: $SAMPLES keys as remote hits, then as local hits, on a fresh machine"
  for ((j = 1; j <= SAMPLES; j++)); do
    for kind in remote local; do
      t0=$EPOCHREALTIME
      FLEET_MACHINE=probe "$CC" -v --cache-dir "$dir" --no-cwd --ttl 1d --remote "$URL" \
        -- sh -c "$SCRIPT" "$COUNTER" "k$j" >/dev/null 2>"$err"
      t1=$EPOCHREALTIME
      line=$(tail -1 "$err")
      case $kind in
        remote) [[ $line == *"remote hit"* ]] || die "$B probe k$j: expected a remote hit: $line" ;;
        local) [[ $line == "cachecmd: hit"* ]] || die "$B probe k$j: expected a local hit: $line" ;;
      esac
      printf '%s\t%s\t%s\n' "$kind" "$j" "$((${t1/./} - ${t0/./}))" >>"$log"
    done
  done
}

# Runs `cachecmd list|clear --remote`, killed past OP_LIMIT; prints "microseconds<TAB>status".
remote_admin() { # list|clear out-file
  local t0 t1 rc=0
  t0=$EPOCHREALTIME
  CACHECMD_REMOTE=$URL timeout "$OP_LIMIT" "$CC" "$1" --cache-dir "$WORKDIR/admin" --remote \
    >"$2" 2>"$2.err" || rc=$?
  t1=$EPOCHREALTIME
  printf '%s\t%s\n' "$((${t1/./} - ${t0/./}))" "$rc"
}

growth() {
  local n out="$WORKDIR/admin.out" l c listed left
  remote_admin clear "$out" >/dev/null
  for n in $LIST_SIZES; do
    log "$B: list/clear --remote with $n keys"
    populate "$n"
    l=$(remote_admin list "$out")
    listed=$(head -1 "$out" | awk '{print $1}')
    [[ ${l#*$'\t'} == 0 && $listed == "$n" ]] ||
      log "$B: list --remote of $n keys: exit ${l#*$'\t'}, listed '${listed:-}': $(head -c 300 "$out.err")"
    c=$(remote_admin clear "$out")
    [[ ${c#*$'\t'} == 0 ]] || log "$B: clear --remote of $n keys: exit ${c#*$'\t'}: $(head -c 300 "$out.err")"
    left=$(remote_admin list "$out" >/dev/null; head -1 "$out" | awk '{print $1}')
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$B" "$n" "${l%$'\t'*}" "${l#*$'\t'}" "${c%$'\t'*}" "${c#*$'\t'}" >>"$RAW/growth.tsv"
    printf '%s\t%s\t%s\t%s\n' "$B" "$n" "${listed:-?}" "${left:-?}" >>"$RAW/growth-counts.tsv"
    # Whatever clear left (it failed or was killed) must not count in the next size.
    if [[ ${left:-x} != 0 ]]; then
      if [[ -z $STORE_DIR ]]; then redis-cli -p "$PORT" flushall >/dev/null; else rm -rf "$STORE_DIR"; mkdir -p "$STORE_DIR"; fi
    fi
  done
}

: >"$RAW/growth.tsv"
: >"$RAW/growth-counts.tsv"
: >"$RAW/fleet.tsv"
LOAD_START=$(cut -d' ' -f1 /proc/loadavg)
for B in "${BACKENDS[@]}"; do
  WORKDIR="$BENCH_TMP/$B"
  mkdir -p "$WORKDIR"
  "start_$B"
  log "$B: $SERVER_VERSION on $URL"
  fleet
  EXECUTIONS=$(wc -l <"$COUNTER")
  DISTINCT=$(cut -d' ' -f2 "$COUNTER" | sort -u | wc -l)
  probe
  # Entry sizes, per machine and key, for the bytes each invocation moved.
  for ((m = 1; m <= MACHINES; m++)); do
    find "$WORKDIR/m$m/v1/entries" -type f -printf "$m\t%f\t%s\n" 2>/dev/null || true
  done >"$WORKDIR/sizes.tsv"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$B" "$SERVER_VERSION" "$EXECUTIONS" "$DISTINCT" "$FLEET_US" "$STORED" "$WORKDIR" >>"$RAW/fleet.tsv"
  cp "$WORKDIR/keys.tsv" "$RAW/$B-keys.tsv"
  cp "$WORKDIR/sizes.tsv" "$RAW/$B-sizes.tsv"
  growth
  stop_server
  unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION CACHECMD_S3_ENDPOINT
done
LOAD_END=$(cut -d' ' -f1 /proc/loadavg)

# ------------------------------------------------------------------ report
python3 - "$RAW" "$MACHINES" "$KEYS" "$SIZE" "$WORK" "$SAMPLES" "$LOAD_START" "$LOAD_END" "$(nproc)" <<'EOF' | tee "$OUT/fleet.md"
import collections, os, statistics, sys
raw, machines, keys, size, work, samples, load0, load1, cpus = sys.argv[1:]
machines, keys, samples = int(machines), int(keys), int(samples)

def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(p / 100 * len(xs) + 0.5) - 1))]

def mib(n): return f"{n / 1048576:.1f} MiB"
def ms(us): return f"{us / 1000:.1f} ms"

rows, versions = [], []
for line in open(os.path.join(raw, "fleet.tsv")):
    b, version, execs, distinct, fleet_us, stored, _ = line.rstrip("\n").split("\t")
    versions.append(version)
    hexes = dict(l.rstrip("\n").split("\t") for l in open(os.path.join(raw, f"{b}-keys.tsv")))
    sizes = {}
    for l in open(os.path.join(raw, f"{b}-sizes.tsv")):
        m, name, n = l.rstrip("\n").split("\t")
        sizes[(m, name)] = int(n)
    kinds = collections.Counter()
    up = down = 0
    failed = 0
    for m in range(1, machines + 1):
        for l in open(os.path.join(raw, f"{b}-machine{m}.tsv")):
            m_, j, rc, us, status = l.rstrip("\n").split("\t", 4)
            failed += rc != "0"
            n = sizes.get((m_, hexes[j]), 0)
            if "remote hit" in status:
                kinds["remote hit"] += 1
                down += n
            elif status.startswith("cachecmd: hit"):
                kinds["local hit"] += 1
            elif "miss" in status:
                kinds["ran"] += 1
            else:
                kinds["other"] += 1
            if "shared remotely" in status:
                kinds["uploads"] += 1
                up += n
            if "error" in status or "timed out" in status:
                kinds["remote errors"] += 1
    probe = collections.defaultdict(list)
    for l in open(os.path.join(raw, f"{b}-probe.tsv")):
        kind, _, us = l.split("\t")
        probe[kind].append(int(us))
    r, lo = probe["remote"], probe["local"]
    rows.append(dict(b=b, execs=int(execs), distinct=int(distinct), fleet=int(fleet_us),
                     stored=int(stored), kinds=kinds, up=up, down=down, failed=failed,
                     r50=pct(r, 50), r95=pct(r, 95), l50=pct(lo, 50), l95=pct(lo, 95)))

print(f"Fleet: {machines} machines (concurrent processes, own cache dirs) x {keys} keys, shuffled per machine; "
      f"each command sleeps {work}s and prints {size} random bytes as base64.")
print()
print("| backend | executions / distinct keys | remote hits | uploads | bytes up | bytes down | stored on server | remote errors | fleet wall time |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for x in rows:
    k = x["kinds"]
    print(f"| {x['b']} | {x['execs']} / {keys} | {k['remote hit']} | {k['uploads']} | {mib(x['up'])} | {mib(x['down'])} "
          f"| {mib(x['stored'])} | {k['remote errors'] + x['failed']} | {x['fleet'] / 1e6:.1f} s |")
print()
print(f"Remote hit (fresh machine, entry uploaded by another) vs local hit (same machine again), {samples} keys each, "
      "wall time of the whole cachecmd process:")
print()
print("| backend | remote hit p50 | p95 | local hit p50 | p95 | remote / local, p50 | p95 |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for x in rows:
    print(f"| {x['b']} | {ms(x['r50'])} | {ms(x['r95'])} | {ms(x['l50'])} | {ms(x['l95'])} "
          f"| {x['r50'] / x['l50']:.2f} | {x['r95'] / x['l95']:.2f} |")
print()
growth = [l.rstrip("\n").split("\t") for l in open(os.path.join(raw, "growth.tsv"))]
counts = {(l[0], l[1]): l[2:] for l in (x.rstrip("\n").split("\t") for x in open(os.path.join(raw, "growth-counts.tsv")))}
if growth:
    print("`list --remote` / `clear --remote` against a store filled with N entry names:")
    print()
    print("| backend | N | list | clear | list per 1k keys | clear per 1k keys | listed / left after clear |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for b, n, lus, lrc, cus, crc in growth:
        n, lus, cus = int(n), int(lus), int(cus)
        def cell(us, rc):
            return ms(us) if rc == "0" else f"{ms(us)} (exit {rc}{', killed' if rc == '124' else ''})"
        def per_1k(us, rc):
            return ms(us * 1000 / n) if rc == "0" else "failed"
        listed, left = counts.get((b, str(n)), ("?", "?"))
        listed = listed if lrc == "0" else "failed"
        left = left if left.isdigit() else "unknown (list failed)"
        print(f"| {b} | {n} | {cell(lus, lrc)} | {cell(cus, crc)} | {per_1k(lus, lrc)} | {per_1k(cus, crc)} | {listed} / {left} |")
    print()
print(f"Servers on 127.0.0.1: {'; '.join(versions)}. {cpus} CPUs, load average {load0} at start, {load1} at end.")
EOF
