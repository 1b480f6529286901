#!/usr/bin/env bash
# `--output` restore speed: cachecmd::outputs::restore vs GNU `tar --zstd -xf`,
# on a 20,000-file, 500 MiB tree (200 dirs x 100 files, sizes 1 KiB..~150 KiB,
# half the files random bytes, half text), side by side with hyperfine.
#
# Usage: bench/outputs.sh [--quick]     (--quick: 2,000 files, 50 MiB, 3 runs)
# Env:   KEEP_TMP=1 keeps the temp dir; RUNS=N hyperfine runs (default 10);
#        BENCH_DIR=dir where the trees go (default /dev/shm when it exists:
#        tmpfs measures the work done, not the disk's writeback throttling,
#        which made runs on this VM's ext4 disk vary by +-50%).
#
# Compared, each extracting into an empty directory:
#   restore          examples/outputs_bench restore (this crate's archive)
#   tar (same file)  tar --zstd -xf of that same archive (it is a valid .tar.zst)
#   tar (own file)   tar --zstd -xf of `tar --zstd -cf` of the same tree
# plus, for information, restore over an existing copy of the tree (the swap
# and the deletion of the old tree included).
set -Eeuo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"

FILES=20000 BYTES=$((500 << 20)) RUNS=${RUNS:-10}
if [[ ${1:-} == --quick ]]; then FILES=2000 BYTES=$((50 << 20)) RUNS=3; fi

cargo build --quiet --release --example outputs_bench
BIN=$REPO/target/release/examples/outputs_bench
BENCH_DIR=${BENCH_DIR:-$( [[ -d /dev/shm && -w /dev/shm ]] && echo /dev/shm || echo "${TMPDIR:-/tmp}")}
TMP=$(mktemp -d "$BENCH_DIR/outputs-bench.XXXXXX")
[[ ${KEEP_TMP:-} == 1 ]] || trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/src" "$TMP/dst" "$TMP/over"

echo "generating $FILES files, $((BYTES >> 20)) MiB in $TMP/src/tree" >&2
python3 - "$TMP/src/tree" "$FILES" "$BYTES" <<'PY'
import os, random, sys
root, files, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(42)
weights = [rng.lognormvariate(0, 1) for _ in range(files)]
scale = total / sum(weights)
sizes = [max(1, int(w * scale)) for w in weights]
sizes[-1] += total - sum(sizes)
words = b"lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor".split()
text = b" ".join(rng.choice(words) for _ in range(200_000)) + b"\n"
per_dir = 100
for i, size in enumerate(sizes):
    d = os.path.join(root, f"d{i // per_dir:03}")
    if i % per_dir == 0:
        os.makedirs(d)
    data = rng.randbytes(size) if i % 2 else (text * (size // len(text) + 1))[:size]
    with open(os.path.join(d, f"f{i:05}"), "wb") as f:
        f.write(data)
    if i % 10 == 0:
        os.chmod(os.path.join(d, f"f{i:05}"), 0o755)
PY

"$BIN" archive "$TMP/src" "$TMP/ours.tar.zst" tree
tar -C "$TMP/src" --zstd -cf "$TMP/tar.tar.zst" tree
ls -l "$TMP/ours.tar.zst" "$TMP/tar.tar.zst" >&2
mkdir "$TMP/check"
"$BIN" restore "$TMP/check" "$TMP/ours.tar.zst" tree
diff -r "$TMP/src/tree" "$TMP/check/tree" && echo "restored tree identical" >&2
rm -rf "$TMP/check"

hyperfine -N --warmup 1 --runs "$RUNS" \
  --prepare "rm -rf $TMP/dst/tree" \
  -n restore "$BIN restore $TMP/dst $TMP/ours.tar.zst tree" \
  -n 'tar (same file)' "tar -C $TMP/dst --zstd -xf $TMP/ours.tar.zst" \
  -n 'tar (own file)' "tar -C $TMP/dst --zstd -xf $TMP/tar.tar.zst" \
  --export-markdown "$TMP/restore.md" --export-json "$TMP/restore.json"

hyperfine -N --warmup 1 --runs "$RUNS" \
  --prepare "sh -c 'rm -rf $TMP/over/tree && cp -a $TMP/src/tree $TMP/over/'" \
  -n 'restore over existing tree' "$BIN restore $TMP/over $TMP/ours.tar.zst tree" \
  --export-markdown "$TMP/over.md"

python3 - "$TMP/restore.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
cpu = lambda x: x["user"] + x["system"]
for other in ("tar (same file)", "tar (own file)"):
    a, b = r["restore"], r[other]
    print(f"restore / {other}: wall mean {a['mean'] / b['mean']:.2f}x, "
          f"wall min {a['min'] / b['min']:.2f}x, CPU (user+sys) {cpu(a) / cpu(b):.2f}x")
PY
cat "$TMP/restore.md" "$TMP/over.md"
