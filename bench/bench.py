#!/usr/bin/env python3
"""Helpers for bench/run.sh (stdlib only).

Subcommands:
  hf-medians JSON                   print "<name>\t<median seconds>" per hyperfine result
  fill ROOT TOTAL                   pad a cachecmd cache to TOTAL entry files by copying one
                                    real entry to random, valid-looking key paths
  concurrent N COUNTFILE -- CMD...  start CMD N times at once, wait for all, print JSON
  strace-total FILE                 total call count from `strace -c` output
  report METRICS META NOTES              print the markdown results table
"""
import json
import os
import secrets
import statistics
import subprocess
import sys
import time


def hf_medians(*paths):
    """Pool per-run times by command name across hyperfine JSON exports; print medians."""
    pooled = {}
    for path in paths:
        with open(path) as f:
            data = json.load(f)
        for r in data["results"]:
            pooled.setdefault(r["command"], []).extend(r["times"])
    for name, times in pooled.items():
        q = statistics.quantiles(times, n=4) if len(times) > 1 else times * 3
        print(f"{name}\t{statistics.median(times):.9f}\t"
              f"n={len(times)} q1={q[0]:.6f} q3={q[2]:.6f} min={min(times):.6f}")


def fill(root, total):
    """Copy a real entry to random key paths until the cache holds `total` entries.

    Layout (SPEC): root/v1/entries/<2hex>/<64hex>, files 0600, dirs 0700.
    The template is the smallest existing entry so the fill is cheap on disk.
    """
    total = int(total)
    entries = os.path.join(root, "v1", "entries")
    existing = []
    for sub in os.listdir(entries):
        p = os.path.join(entries, sub)
        if not os.path.isdir(p):
            continue
        for name in os.listdir(p):
            if len(name) == 64 and not name.startswith("."):
                existing.append(os.path.join(p, name))
    if not existing:
        sys.exit(f"fill: no entry files under {entries}; does cachecmd follow the SPEC layout?")
    template = min(existing, key=os.path.getsize)
    if not os.path.isfile(template):
        sys.exit(f"fill: {template} is not a regular file")
    with open(template, "rb") as f:
        blob = f.read()
    made = 0
    need = total - len(existing)
    t0 = time.monotonic()
    while made < need:
        key = secrets.token_hex(32)
        d = os.path.join(entries, key[:2])
        try:
            fd = os.open(os.path.join(d, key), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileNotFoundError:
            os.makedirs(d, mode=0o700, exist_ok=True)
            continue
        except FileExistsError:
            continue
        os.write(fd, blob)
        os.close(fd)
        made += 1
    n = sum(len(os.listdir(os.path.join(entries, s))) for s in os.listdir(entries))
    print(f"fill: {n} entry files under {entries} "
          f"(template {len(blob)} B, {made} copies in {time.monotonic() - t0:.1f}s)",
          file=sys.stderr)


def concurrent(n, countfile, cmd):
    n = int(n)
    procs = []
    t0 = time.monotonic()
    for _ in range(n):
        procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      stdin=subprocess.DEVNULL))
    spawned = time.monotonic() - t0
    outs = []
    for p in procs:
        out, err = p.communicate()
        outs.append((p.returncode, out, err))
    wall = time.monotonic() - t0
    try:
        with open(countfile) as f:
            execs = sum(1 for line in f if line.strip())
    except FileNotFoundError:
        execs = 0
    ok = sum(1 for rc, out, _ in outs if rc == 0 and out == b"done\n")
    bad = [(rc, out[:80], err[:200]) for rc, out, err in outs if not (rc == 0 and out == b"done\n")]
    print(json.dumps({"n": n, "wall": wall, "spawn": spawned, "execs": execs, "ok": ok,
                      "bad_sample": [repr(b) for b in bad[:3]]}))


def strace_total(path):
    with open(path) as f:
        lines = f.read().splitlines()
    header = next(l for l in lines if "calls" in l and "syscall" in l)
    total = [l for l in lines if l.rstrip().endswith(" total")][-1]
    # right-aligned columns and the total line may leave usecs/call or errors blank,
    # so cut the "calls" column by its position in the header
    end = header.index(" calls") + len(" calls")
    start = header.index("usecs/call") + len("usecs/call")
    print(int(total[start:end].strip()))


def strace_top(path, k):
    """'<total> calls: <n> <name>, ...' for the k most frequent syscalls in `strace -c` output."""
    with open(path) as f:
        lines = f.read().splitlines()
    header = next(l for l in lines if "calls" in l and "syscall" in l)
    end = header.index(" calls") + len(" calls")
    start = header.index("usecs/call") + len("usecs/call")
    rows, total = [], None
    for l in lines:
        if l.startswith(("%", "-")) or not l.strip():
            continue
        calls = l[start:end].strip()
        if not calls.isdigit():
            continue
        name = l.split()[-1]
        if name == "total":
            total = int(calls)
        else:
            rows.append((int(calls), name))
    rows.sort(reverse=True)
    print(f"{total} calls: " + ", ".join(f"{n} {name}" for n, name in rows[:int(k)]))


# ---------------------------------------------------------------- report
def load_kv(path):
    kv = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                line = line.rstrip("\n")
                if "\t" in line:
                    k, v = line.split("\t", 1)
                    kv[k] = v
    return kv


def num(kv, key):
    v = kv.get(key)
    if v in (None, ""):
        return None
    try:
        return float(v)
    except ValueError:
        return None


def fmt_t(s):
    if s is None:
        return "—"
    if s < 0.01:
        return f"{s * 1e3:.3f} ms"
    if s < 1:
        return f"{s * 1e3:.1f} ms"
    return f"{s:.2f} s"


def fmt_r(a, b, amin=None, bmin=None):
    if a is None or b is None or b == 0:
        return "—"
    s = f"{a / b:.2f}×"
    if amin is not None and bmin:
        s += f" (min {amin / bmin:.2f}×)"
    return s


def fmt_mib(kib):
    return "—" if kib is None else f"{kib / 1024:.1f} MiB"


def status(checks):
    """checks: list of (label, ok-or-None). None = could not be evaluated."""
    evaluated = [(l, ok) for l, ok in checks if ok is not None]
    skipped = [l for l, ok in checks if ok is None]
    if not evaluated:
        return "n/a"
    failed = [l for l, ok in evaluated if not ok]
    s = "met" if not failed else "not met (" + "; ".join(failed) + ")"
    if skipped:
        s += " [n/a: " + "; ".join(skipped) + "]"
    return s


def report(metrics_path, meta_path, notes_path):
    kv = load_kv(metrics_path)
    meta = load_kv(meta_path)
    have_bkt = meta.get("bkt_version", "") not in ("", "none")
    big = meta["big_label"]
    rows = []
    head = ["Benchmark", "cachecmd", "bkt", "deja", "baseline", "cachecmd ratio", "bkt ratio",
            "deja ratio", "Target", "Status"]

    def vs_bkt(c, b):
        if not have_bkt or c is None or b is None:
            return ("faster than bkt", None)
        return ("slower than bkt", c < b)

    # hit latency
    for mode, mode_label in (("null", "/dev/null"), ("pipe", "pipe")):
        for size, label in zip(meta["sizes"].split(), meta["size_labels"].split("|")):
            c = num(kv, f"hit.{mode}.{size}.cachecmd")
            b = num(kv, f"hit.{mode}.{size}.bkt")
            base = num(kv, f"hit.{mode}.{size}.cat")
            targets = ["< bkt"]
            checks = [vs_bkt(c, b)]
            if size in (meta["size_4k"], "0"):
                targets.insert(0, "≤ 1.10× cat")
                checks.insert(0, ("> 1.10× cat",
                                  None if c is None or base is None else c / base <= 1.10))
            if size == meta["size_big"] and mode == "pipe":
                targets.insert(0, "≤ 0.80× cat")
                checks.insert(0, ("> 0.80× cat",
                                  None if c is None or base is None else c / base <= 0.80))
            cm, bm, dm, basem = (num(kv, f"hit.{mode}.{size}.{t}.min")
                                 for t in ("cachecmd", "bkt", "deja", "cat"))
            d = num(kv, f"hit.{mode}.{size}.deja")
            rows.append([f"hit {label} → {mode_label}", fmt_t(c), fmt_t(b), fmt_t(d),
                         f"cat {fmt_t(base)}", fmt_r(c, base, cm, basem), fmt_r(b, base, bm, basem),
                         fmt_r(d, base, dm, basem), ", ".join(targets), status(checks)])
    # miss
    for mode, mode_label in (("null", "/dev/null"), ("pipe", "pipe")):
        c = num(kv, f"miss.{mode}.cachecmd")
        b = num(kv, f"miss.{mode}.bkt")
        base = num(kv, f"miss.{mode}.cat")
        ok = None if c is None or base is None else c / base <= 1.5
        cm, bm, dm, basem = (num(kv, f"miss.{mode}.{t}.min") for t in ("cachecmd", "bkt", "deja", "cat"))
        d = num(kv, f"miss.{mode}.deja")
        rows.append([f"miss {big} (--force) → {mode_label}", fmt_t(c), fmt_t(b), fmt_t(d),
                     f"raw cat {fmt_t(base)}", fmt_r(c, base, cm, basem), fmt_r(b, base, bm, basem),
                     fmt_r(d, base, dm, basem), "≤ 1.5× raw", status([("> 1.5× raw", ok)])])
    c, b, d, base = (num(kv, f"miss.coldpipe.{t}") for t in ("cachecmd", "bkt", "deja", "cat"))
    ok = None if c is None or base is None else c / base <= 1.5
    cm, bm, dm, basem = (num(kv, f"miss.coldpipe.{t}.min") for t in ("cachecmd", "bkt", "deja", "cat"))
    rows.append([f"miss {big} (cold: empty cache, untimed rm) → pipe", fmt_t(c), fmt_t(b), fmt_t(d),
                 f"raw cat {fmt_t(base)}", fmt_r(c, base, cm, basem), fmt_r(b, base, bm, basem),
                 fmt_r(d, base, dm, basem), "≤ 1.5× raw", status([("> 1.5× raw", ok)])])
    c, b, d, base = (num(kv, f"miss.gzip.{t}") for t in ("cachecmd", "bkt", "deja", "gzip"))
    ok = None if c is None or base is None else c / base <= 1.05
    cm, bm, dm, basem = (num(kv, f"miss.gzip.{t}.min") for t in ("cachecmd", "bkt", "deja", "gzip"))
    rows.append([f"miss {big} `gzip -c` (--force) → pipe", fmt_t(c), fmt_t(b), fmt_t(d),
                 f"raw gzip {fmt_t(base)}", fmt_r(c, base, cm, basem), fmt_r(b, base, bm, basem),
                 fmt_r(d, base, dm, basem), "≤ 1.05× raw", status([("> 1.05× raw", ok)])])
    fl, flm = num(kv, "miss.floor.tee"), num(kv, "miss.floor.tee.min")
    basef, basefm = num(kv, "miss.floor.cat"), num(kv, "miss.floor.cat.min")
    rows.append([f"floor: `cat {big} \\| tee file` → pipe", fmt_t(fl), "—", "—", f"raw cat {fmt_t(basef)}",
                 fmt_r(fl, basef, flm, basefm), "—", "—", "(the disk's floor for a miss)", "—"])
    # rss
    for kind in ("hit", "miss"):
        c = num(kv, f"rss.{kind}.cachecmd")
        b = num(kv, f"rss.{kind}.bkt")
        base = num(kv, f"rss.{kind}.cat")
        d = None if c is None or base is None else (c - base) / 1024
        db = None if b is None or base is None else (b - base) / 1024
        dj = num(kv, f"rss.{kind}.deja")
        ddj = None if dj is None or base is None else (dj - base) / 1024
        ok = None if d is None else d <= 4.0
        rows.append([f"peak RSS, {big} {kind} → pipe", fmt_mib(c), fmt_mib(b), fmt_mib(dj),
                     f"cat {fmt_mib(base)}", "—" if d is None else f"{d:+.1f} MiB",
                     "—" if db is None else f"{db:+.1f} MiB",
                     "—" if ddj is None else f"{ddj:+.1f} MiB", "≤ cat + 4 MiB",
                     status([(f"{d:+.1f} MiB" if d is not None else "", ok)])])
    # concurrency
    n = meta.get("conc_n", "50")
    ce, be = num(kv, "conc.cachecmd.execs"), num(kv, "conc.bkt.execs")
    cw, bw = num(kv, "conc.cachecmd.wall"), num(kv, "conc.bkt.wall")
    cok, bok = kv.get("conc.cachecmd.ok", "?"), kv.get("conc.bkt.ok", "?")
    de, dw, dok = num(kv, "conc.deja.execs"), num(kv, "conc.deja.wall"), kv.get("conc.deja.ok", "?")
    reps = meta.get("conc_reps", "1")
    rows.append([f"{n} concurrent misses of 1 s cmd: executions (max of {reps})",
                 "—" if ce is None else f"{ce:.0f} ({cok}/{n} ok)",
                 "—" if be is None else f"{be:.0f} ({bok}/{n} ok)",
                 "—" if de is None else f"{de:.0f} ({dok}/{n} ok)", "—", "—", "—", "—",
                 "1 execution",
                 status([(f"{ce:.0f} executions" if ce is not None else "",
                          None if ce is None else (ce == 1 and cok == n))])])
    rows.append([f"{n} concurrent misses of 1 s cmd: wall, all done (median of {reps})",
                 fmt_t(cw), fmt_t(bw), fmt_t(dw), "sleep 1.00 s", fmt_r(cw, 1.0), fmt_r(bw, 1.0),
                 fmt_r(dw, 1.0), "≤ 1.5 s",
                 status([("> 1.5 s", None if cw is None else cw <= 1.5)])])
    # many entries
    small, large = num(kv, "entries.small"), num(kv, "entries.large")
    el, es = int(meta.get("entries_large", 0)), int(meta.get("entries_small", 0))
    rows.append([f"hit 4 KiB with {el:,} entries in cache (vs {es}) → /dev/null", fmt_t(large), "—", "—",
                 f"{es} entries {fmt_t(small)}",
                 fmt_r(large, small, num(kv, "entries.large.min"), num(kv, "entries.small.min")), "—", "—",
                 "≤ 1.10× small cache",
                 status([("> 1.10×", None if small is None or large is None else large / small <= 1.10)])])
    # syscalls
    c, b, base = num(kv, "sys.cachecmd"), num(kv, "sys.bkt"), num(kv, "sys.cat")
    d = num(kv, "sys.deja")
    rows.append(["syscalls, 4 KiB hit (strace -c -f)", "—" if c is None else f"{c:.0f}",
                 "—" if b is None else f"{b:.0f}", "—" if d is None else f"{d:.0f}",
                 "—" if base is None else f"cat {base:.0f}",
                 fmt_r(c, base), fmt_r(b, base), fmt_r(d, base), "≤ 45",
                 status([(f"{c:.0f} calls" if c is not None else "", None if c is None else c <= 45)])])
    # instructions
    c, b, d, base = (num(kv, f"insn.{k}") for k in ("cachecmd", "bkt", "deja", "cat"))
    thousands = lambda n: "—" if n is None else f"{n / 1000:,.0f} k"
    rows.append([f"instructions, 4 KiB hit ({meta.get('insn_tool', '?')})", thousands(c), thousands(b),
                 thousands(d), f"cat {thousands(base)}", fmt_r(c, base), fmt_r(b, base), fmt_r(d, base),
                 "≤ cat", status([("> cat", None if c is None or base is None else c <= base)])])

    out = []
    out.append(f"## cachecmd benchmark results{' (QUICK MODE — smoke test only)' if meta.get('quick') == '1' else ''}")
    out.append("")
    out.append(f"- date: {meta.get('date', '?')}; total run time: {meta.get('duration', '?')}")
    out.append(f"- machine: {meta.get('cpu', '?')}, {meta.get('nproc', '?')} cores, kernel {meta.get('kernel', '?')};"
               f" cache dirs on {meta.get('fstype', '?')} ({meta.get('tmp', '?')})")
    out.append(f"- cachecmd {meta.get('cachecmd_version', '?')} ({meta.get('cachecmd_rev', '?')}); "
               f"bkt {meta.get('bkt_version', 'none')}; deja {meta.get('deja_version', 'none')}; {meta.get('hyperfine_version', '?')}; "
               f"coreutils cat {meta.get('cat_version', '?')}")
    out.append(f"- times are hyperfine medians (`-N`, warmup {meta.get('warmup', '?')}); pipe rows use "
               f"{meta.get('pipe_method', '?')}; runs split into {meta.get('rounds', '?')} rounds with rotated command order; "
               f"loadavg {meta.get('load', '?')}; env LC_ALL=C for every process; "
               "RSS = median of 3 `/usr/bin/time -f %M` (includes waited-for children)")
    out.append("- ratios and target status use medians; \"min\" is the ratio of the fastest runs, "
               "a steadier estimate of intrinsic cost when the machine is busy")
    out.append("")
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "|".join(["---"] + ["--:"] * 7 + ["---", "---"]) + "|")
    for r in rows:
        out.append("| " + " | ".join(r) + " |")
    notes = []
    if os.path.exists(notes_path):
        with open(notes_path) as f:
            notes = [l.strip() for l in f if l.strip()]
    if notes:
        out.append("")
        out.append("Notes:")
        for n_ in notes:
            out.append(f"- {n_}")
    print("\n".join(out))


def main():
    a = sys.argv[1:]
    if not a:
        sys.exit(__doc__)
    cmd = a[0]
    if cmd == "hf-medians":
        hf_medians(*a[1:])
    elif cmd == "fill":
        fill(a[1], a[2])
    elif cmd == "concurrent":
        assert a[3] == "--"
        concurrent(a[1], a[2], a[4:])
    elif cmd == "strace-total":
        strace_total(a[1])
    elif cmd == "strace-top":
        strace_top(a[1], a[2])
    elif cmd == "report":
        report(a[1], a[2], a[3])
    elif cmd == "median":
        print(statistics.median(float(x) for x in a[1:]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
