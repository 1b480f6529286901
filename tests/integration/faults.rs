//! Faults, injected into the real binary: SIGKILLed writers, a full disk, a
//! file-size limit, unwritable and unreadable cache dirs, damaged entries,
//! maintenance racing with use, killed and slow lock holders. Whatever
//! happens, the caller must see exactly what running the command directly
//! shows: the same stdout and exit status, stderr unchanged but for a
//! `cachecmd:` line about an unusable cache dir, never a partial or mixed
//! entry (README "Fail open"). See RELIABILITY.md for the table of results.
//!
//! The long versions (200 kills, a 30 s race) run from
//! `scripts/long-faults.sh`, which sets `FAULTS_KILLS` and `FAULTS_RACE_SECS`.

use crate::harness;

use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cachecmd::test_support::{Header, Meta};
use filetime::FileTime;
use harness::{age_file, wait_for, Counter, Group, Rng, TestEnv, BIN};

// ---------------------------------------------------------------------------
// Helpers

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Runs `argv` directly, with the test's environment: the reference result.
fn direct(env: &TestEnv, argv: &[OsString]) -> Output {
    env.std_command(&argv[0]).args(&argv[1..]).stdin(Stdio::null()).output().unwrap()
}

/// Runs cachecmd with `args`, then `--`, then `argv`.
fn cached<S: AsRef<OsStr>>(env: &TestEnv, args: &[S], argv: &[OsString]) -> Output {
    env.std_cmd().args(args).arg("--").args(argv).stdin(Stdio::null()).output().unwrap()
}

/// Fail open (README): same stdout, same exit status; stderr is the command's,
/// plus (only when `config_line_ok`, for a bad cache dir) one `cachecmd:`
/// line before or after it, never inside.
#[track_caller]
fn assert_transparent(got: &Output, want: &Output, config_line_ok: bool, what: &str) {
    assert_eq!(
        got.status.code(),
        want.status.code(),
        "{what}: exit status ({:?} vs {:?}; {} of {} stdout bytes)",
        got.status,
        want.status,
        got.stdout.len(),
        want.stdout.len()
    );
    assert!(
        got.stdout == want.stdout,
        "{what}: stdout differs ({} vs {} bytes): {:?}",
        got.stdout.len(),
        want.stdout.len(),
        String::from_utf8_lossy(&got.stdout[..got.stdout.len().min(200)])
    );
    if got.stderr == want.stderr {
        return;
    }
    let extra = if let Some(rest) = got.stderr.strip_suffix(want.stderr.as_slice()) {
        rest
    } else if let Some(rest) = got.stderr.strip_prefix(want.stderr.as_slice()) {
        rest
    } else {
        panic!(
            "{what}: stderr is not the command's\n got: {:?}\nwant: {:?}",
            String::from_utf8_lossy(&got.stderr),
            String::from_utf8_lossy(&want.stderr)
        );
    };
    let extra = String::from_utf8_lossy(extra);
    assert!(
        config_line_ok
            && extra.starts_with("cachecmd: ")
            && extra.ends_with('\n')
            && extra.lines().count() == 1,
        "{what}: cachecmd added to stderr: {extra:?}"
    );
}

/// `.tmp.*` files below `root/v1/entries`.
fn temp_files(root: &Path) -> Vec<PathBuf> {
    harness::files_under(&root.join("v1").join("entries"))
        .into_iter()
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(".tmp."))
        .collect()
}

/// The writer pid in `.tmp.<key>.<pid>.<n>`.
fn temp_pid(path: &Path) -> u32 {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let parts: Vec<&str> = name.split('.').collect();
    assert_eq!(parts.len(), 5, "unexpected temp name {name}");
    parts[3].parse().unwrap()
}

/// Checks that `path` holds a complete entry, as the decoder sees it.
#[track_caller]
fn assert_whole_entry(path: &Path) {
    let bytes = fs::read(path).unwrap();
    let header = Header::decode(&bytes, bytes.len() as u64).expect("entry header");
    let meta = &bytes[header.meta_range().start as usize..header.meta_range().end as usize];
    Meta::decode(meta, header.meta_hash).expect("entry metadata");
}

// ---------------------------------------------------------------------------
// The self-describing command used by the concurrent tests

/// `gen` prints `gen-G` lines (8000 for odd G: an 80 KB entry, verified in
/// chunks and replayed with sendfile; 40 for even G: the one-read path),
/// pauses halfway, then `err-G` on stderr, and exits G % 3. G comes from
/// `$GEN`, which is not in the key, so every writer and reader shares one
/// key while each output says which run produced it: a torn or mixed entry
/// cannot pass [`check_gen`].
fn install_gen(env: &TestEnv) {
    let script = "#!/bin/sh\n\
        g=${GEN:?}\n\
        if [ $((g % 2)) -eq 1 ]; then n=8000; else n=40; fi\n\
        yes \"gen-$g\" | head -n $((n / 2))\n\
        sleep ${GEN_PAUSE:-0}\n\
        yes \"gen-$g\" | head -n $((n - n / 2))\n\
        echo \"err-$g\" >&2\n\
        exit $((g % 3))\n";
    let path = env.bin.join("gen");
    harness::executable::write_executable(&path, script);
}

/// Whether `out` is exactly what one run of `gen` produced; returns its G.
fn check_gen(out: &Output) -> Result<u64, String> {
    let text = String::from_utf8_lossy(&out.stdout);
    let first = text.lines().next().ok_or("empty stdout")?;
    let g: u64 = first
        .strip_prefix("gen-")
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("bad first line {first:?}"))?;
    let n = if g % 2 == 1 { 8000 } else { 40 };
    if out.stdout != format!("gen-{g}\n").repeat(n).into_bytes() {
        return Err(format!("stdout of G={g} is torn or mixed ({} bytes)", out.stdout.len()));
    }
    if out.stderr != format!("err-{g}\n").into_bytes() {
        return Err(format!("stderr {:?} for G={g}", String::from_utf8_lossy(&out.stderr)));
    }
    if out.status.code() != Some((g % 3) as i32) {
        return Err(format!("exit {:?} for G={g}", out.status));
    }
    Ok(g)
}

/// Every option a gen run uses: failures (exit 1, 2) are cached too.
const GEN_OPTS: [&str; 4] = ["--ttl", "1h", "--failure-ttl", "1h"];

fn gen_run(env: &TestEnv, g: u64, extra: &[&str]) -> Output {
    env.std_cmd()
        .args(GEN_OPTS)
        .args(extra)
        .args(["--", "gen"])
        .env("GEN", g.to_string())
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// Reader threads looping `gen` through the cache until `stop`; each keeps
/// its own G (1_000_000 + i) for the runs it has to do itself.
fn start_readers(
    env: &Arc<TestEnv>,
    n: usize,
    stop: &Arc<AtomicBool>,
    reads: &Arc<AtomicUsize>,
    wrong: &Arc<Mutex<Vec<String>>>,
    keys: &'static [&'static str],
) -> Vec<std::thread::JoinHandle<()>> {
    (0..n)
        .map(|i| {
            let (env, stop, reads, wrong) =
                (env.clone(), stop.clone(), reads.clone(), wrong.clone());
            std::thread::spawn(move || {
                let mut k = i;
                while !stop.load(Ordering::Relaxed) {
                    let extra: Vec<&str> =
                        if keys.is_empty() { vec![] } else { vec!["--key", keys[k % keys.len()]] };
                    k += 1;
                    let out = gen_run(&env, 1_000_000 + i as u64, &extra);
                    reads.fetch_add(1, Ordering::Relaxed);
                    if let Err(e) = check_gen(&out) {
                        wrong.lock().unwrap().push(format!("reader {i}: {e}"));
                    }
                }
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------
// SIGKILL

/// Crash safety (README "Storage, privacy and safety"): a writer SIGKILLed at any point (before, while and after it
/// streams, while it writes the header, around the rename) never makes a
/// reader see a partial or mixed entry; it leaves at most its own temp
/// file, which `gc` removes once it is an hour old.
#[test]
fn sigkilled_writers_never_make_readers_see_wrong_bytes() {
    let kills = env_num("FAULTS_KILLS", 30);
    let env = Arc::new(TestEnv::new());
    install_gen(&env);
    let mut rng = Rng::seeded();
    // Seed a valid entry so readers hit from the start.
    check_gen(&gen_run(&env, 0, &[])).unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicUsize::new(0));
    let wrong = Arc::new(Mutex::new(Vec::new()));
    let readers = start_readers(&env, 4, &stop, &reads, &wrong, &[]);

    let writer = |g: u64| {
        env.std_cmd()
            .args(GEN_OPTS)
            .args(["--force", "--", "gen"])
            .env("GEN", g.to_string())
            .env("GEN_PAUSE", "0.05")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap()
    };
    // Kill points spread over the whole life of a writer and a bit past it
    // (so some kills land after the rename): measure that life first.
    let mut lives: Vec<Duration> = (0..5)
        .map(|_| {
            let began = Instant::now();
            writer(1).wait().unwrap();
            began.elapsed()
        })
        .collect();
    lives.sort();
    let range = (lives[2].as_micros() as u64) * 6 / 5;

    let mut killed_pids = HashSet::new();
    let mut finished_first = 0;
    for g in 1..=kills {
        let mut child = writer(g);
        std::thread::sleep(Duration::from_micros(rng.below(range)));
        if child.try_wait().unwrap().is_some() {
            finished_first += 1;
        }
        let pid = libc::pid_t::try_from(child.id()).unwrap();
        killed_pids.insert(child.id());
        // Every other kill hits only cachecmd, leaving its command to die of
        // SIGPIPE; the rest take the whole group at once.
        // SAFETY: kill(2) has no memory-safety preconditions.
        unsafe { libc::kill(if g % 2 == 0 { pid } else { -pid }, libc::SIGKILL) };
        let _ = child.wait();
        // SAFETY: as above; reaps any survivor of the group.
        unsafe { libc::kill(-pid, libc::SIGKILL) };
    }
    stop.store(true, Ordering::Relaxed);
    for reader in readers {
        reader.join().unwrap();
    }
    let wrong = wrong.lock().unwrap();
    let temps = temp_files(&env.root());
    println!(
        "COUNTS sigkill: kills={kills} over 0..{}ms (finished before the kill: {finished_first}) reads={} \
         wrong={} temp_files_left={}",
        range / 1000,
        reads.load(Ordering::Relaxed),
        wrong.len(),
        temps.len()
    );
    assert!(wrong.is_empty(), "wrong bytes read:\n{}", wrong.join("\n"));
    assert!(reads.load(Ordering::Relaxed) > 0);

    // Leftover temp files belong to killed writers only.
    for temp in &temps {
        assert!(
            killed_pids.contains(&temp_pid(temp)),
            "temp file of a live writer: {}",
            temp.display()
        );
    }
    // A gc leaves young temp files alone (they may be live writers)...
    assert!(env.cmd().arg("gc").output().unwrap().status.success());
    assert_eq!(temp_files(&env.root()).len(), temps.len(), "gc removed young temp files");
    // ...and removes them once they are an hour old.
    for temp in &temps {
        age_file(temp, 2 * 3600);
    }
    assert!(env.cmd().arg("gc").output().unwrap().status.success());
    assert_eq!(temp_files(&env.root()), Vec::<PathBuf>::new(), "aged temp files survived gc");
    // Nothing else is left in the shard but the one entry.
    let entries = harness::files_under(&env.root().join("v1").join("entries"));
    assert!(entries.len() <= 1, "stray files: {entries:?}");
    for entry in &entries {
        assert_whole_entry(entry);
    }
    check_gen(&gen_run(&env, 7, &[])).unwrap();
}

// ---------------------------------------------------------------------------
// Maintenance racing with use

/// README "Inspecting and maintaining": clear, evict and gc racing readers
/// and writers of the same keys can make a reader miss, never print a
/// wrong byte. ~5 s here; `FAULTS_RACE_SECS=30` in the long script.
#[test]
fn clear_evict_gc_racing_readers_and_writers_never_serve_wrong_bytes() {
    const KEYS: &[&str] = &["k0", "k1", "k2"];
    let secs = env_num("FAULTS_RACE_SECS", 5);
    let env = Arc::new(TestEnv::new());
    install_gen(&env);
    let stop = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicUsize::new(0));
    let wrong = Arc::new(Mutex::new(Vec::new()));
    let mut threads = start_readers(&env, 3, &stop, &reads, &wrong, KEYS);

    let writes = Arc::new(AtomicUsize::new(0));
    {
        let (env, stop, writes, wrong) = (env.clone(), stop.clone(), writes.clone(), wrong.clone());
        threads.push(std::thread::spawn(move || {
            let mut g = 1u64;
            while !stop.load(Ordering::Relaxed) {
                let out = gen_run(&env, g, &["--force", "--key", KEYS[g as usize % KEYS.len()]]);
                writes.fetch_add(1, Ordering::Relaxed);
                if let Err(e) = check_gen(&out) {
                    wrong.lock().unwrap().push(format!("writer: {e}"));
                }
                g += 1;
            }
        }));
    }

    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut maintenance = 0;
    let mut failures = Vec::new();
    let root = env.root();
    while Instant::now() < deadline {
        let key = KEYS[maintenance % KEYS.len()];
        let args: Vec<&str> = match maintenance % 6 {
            0 => vec!["clear"],
            1 => vec!["evict", "--key", key, "--", "gen"],
            2 => vec!["gc"],
            3 => vec!["gc", "--max-entries", "1"],
            4 => vec!["gc", "--max-size", "1"],
            _ => vec!["list"],
        };
        let out = env.std_cmd().args(&args).stdin(Stdio::null()).output().unwrap();
        // `evict` of an entry already gone exits 1 (no entry).
        let nothing_to_evict = args[0] == "evict" && out.status.code() == Some(1);
        if !out.status.success() && !nothing_to_evict {
            failures.push(format!(
                "{args:?}: {:?} {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        // Make some temp files look abandoned, so gc races live writers.
        if maintenance % 7 == 0 {
            for temp in temp_files(&root) {
                let _ = filetime::set_file_mtime(&temp, FileTime::from_unix_time(1, 0));
            }
        }
        maintenance += 1;
    }
    stop.store(true, Ordering::Relaxed);
    for thread in threads {
        thread.join().unwrap();
    }
    let wrong = wrong.lock().unwrap();
    println!(
        "COUNTS race: secs={secs} reads={} writes={} maintenance_runs={maintenance} wrong={} \
         failed_maintenance={}",
        reads.load(Ordering::Relaxed),
        writes.load(Ordering::Relaxed),
        wrong.len(),
        failures.len()
    );
    assert!(wrong.is_empty(), "wrong bytes:\n{}", wrong.join("\n"));
    assert!(failures.is_empty(), "maintenance failed:\n{}", failures.join("\n"));
    for key in KEYS {
        check_gen(&gen_run(&env, 3, &["--key", key])).unwrap();
    }
}

// ---------------------------------------------------------------------------
// Damaged entries

/// One of several independent copies of the same damaged-entry
/// experiment, so they can run in parallel: its own key (`--key laneN`,
/// which is not stored in the entry, so every lane's entry has the same
/// layout) and its own run counter (`$COUNT`, not in the key).
struct Lane {
    args: Vec<OsString>,
    count: PathBuf,
    path: PathBuf,
    bytes: Vec<u8>,
}

/// `sh -c SCRIPT`, counting its runs in `$COUNT`.
fn counted(script: &str) -> Vec<OsString> {
    vec!["sh".into(), "-c".into(), format!("echo run >> \"$COUNT\"; {script}").into()]
}

impl Lane {
    fn new(env: &TestEnv, n: usize, argv: &[OsString]) -> Lane {
        let args: Vec<OsString> =
            vec!["--failure-ttl".into(), "1h".into(), "--key".into(), format!("lane{n}").into()];
        let count = env.path().join(format!("lane{n}-{}.count", argv.len()));
        let mut lane = Lane { args, count, path: PathBuf::new(), bytes: Vec::new() };
        assert!(lane.run(env, argv).status.code().is_some());
        // `key` takes the key options only (not --failure-ttl).
        let mut key_args = lane.args[2..].to_vec();
        key_args.push("--".into());
        key_args.extend(argv.iter().cloned());
        lane.path = env.entry_path(&env.key(&key_args));
        lane.bytes = fs::read(&lane.path).unwrap();
        lane
    }

    fn run(&self, env: &TestEnv, argv: &[OsString]) -> Output {
        env.std_cmd()
            .args(&self.args)
            .arg("--")
            .args(argv)
            .env("COUNT", &self.count)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    fn runs(&self) -> usize {
        fs::read_to_string(&self.count).map_or(0, |t| t.lines().count())
    }

    /// Writes `damaged` over the entry, runs, and checks the run was a
    /// miss with the command's own result and the entry was replaced.
    #[track_caller]
    fn damage_and_run(
        &self,
        env: &TestEnv,
        argv: &[OsString],
        want: &Output,
        damaged: &[u8],
        what: &str,
    ) {
        fs::write(&self.path, damaged).unwrap();
        let before = self.runs();
        let out = self.run(env, argv);
        assert_transparent(&out, want, false, what);
        assert_eq!(self.runs(), before + 1, "{what}: served instead of a miss");
        // Not its length: the runs region depends on the order output arrived.
        assert_ne!(fs::read(&self.path).unwrap(), damaged, "{what}: not replaced");
        assert_whole_entry(&self.path);
    }
}

const LANES: usize = 4;

/// The command's result run directly.
fn want_of(env: &TestEnv, argv: &[OsString]) -> Output {
    env.std_command(&argv[0])
        .args(&argv[1..])
        .env("COUNT", "/dev/null")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// README "Storage": a truncated entry is a miss and is replaced by the
/// next run. Every length from 0 to one byte short.
#[test]
fn every_truncation_of_an_entry_is_a_miss_then_replaced() {
    let env = TestEnv::new();
    let argv = counted("printf 'stdout bytes'; printf 'stderr bytes' >&2; exit 3");
    let want = want_of(&env, &argv);
    let lanes: Vec<Lane> = (0..LANES).map(|n| Lane::new(&env, n, &argv)).collect();
    let len = lanes[0].bytes.len();
    assert!(lanes.iter().all(|l| l.bytes.len() == len), "lanes differ in layout");
    std::thread::scope(|scope| {
        for (n, lane) in lanes.iter().enumerate() {
            let (env, argv, want) = (&env, &argv, &want);
            scope.spawn(move || {
                for cut in (n..len).step_by(LANES) {
                    lane.damage_and_run(
                        env,
                        argv,
                        want,
                        &lane.bytes[..cut],
                        &format!("entry cut to {cut} of {len} bytes"),
                    );
                }
            });
        }
    });
    println!("COUNTS truncation: every length 0..{len}");
    // The repaired entry is served again.
    let before = lanes[0].runs();
    assert_transparent(&lanes[0].run(&env, &argv), &want, false, "hit after the repairs");
    assert_eq!(lanes[0].runs(), before, "the repaired entry is not served");
}

/// Random byte flips anywhere in a small entry and in a large one (> 64
/// KiB: verified in chunks, replayed with sendfile): always a miss.
#[test]
fn random_byte_flips_are_a_miss_then_replaced() {
    let env = TestEnv::new();
    let rng = Mutex::new(Rng::seeded());
    let small = counted("printf 'stdout bytes'; printf 'stderr bytes' >&2; exit 3");
    let big = counted("yes 'large output line' | head -n 5000; echo done >&2");
    let flips = AtomicUsize::new(0);
    for (argv, rounds) in [(&small, 160), (&big, 40)] {
        let want = want_of(&env, argv);
        let lanes: Vec<Lane> = (0..LANES).map(|n| Lane::new(&env, n, argv)).collect();
        if argv == &big {
            assert!(lanes[0].bytes.len() > 64 * 1024);
        }
        std::thread::scope(|scope| {
            for lane in &lanes {
                let (env, want, rng, flips) = (&env, &want, &rng, &flips);
                scope.spawn(move || {
                    for round in 0..rounds / LANES {
                        let mut damaged = lane.bytes.clone();
                        // Half the flips in the header and metadata, where lengths live.
                        let limit =
                            if round % 2 == 0 { 400.min(damaged.len()) } else { damaged.len() };
                        let (at, xor) = {
                            let mut rng = rng.lock().unwrap();
                            (rng.below(limit as u64) as usize, (rng.below(255) + 1) as u8)
                        };
                        damaged[at] ^= xor;
                        let what = format!("{} byte entry, byte {at} ^= {xor:#04x}", damaged.len());
                        lane.damage_and_run(env, argv, want, &damaged, &what);
                        flips.fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
        });
    }
    println!("COUNTS flips: {}", flips.load(Ordering::Relaxed));
}

/// Power loss after the rename but before the data reached the disk leaves
/// a file of the right name that is empty, zero-filled, cut at a page
/// boundary or with a zeroed page: every shape is a miss, then replaced.
#[test]
fn power_loss_shapes_are_a_miss_then_replaced() {
    let env = TestEnv::new();
    let count = env.counter("power");
    let argv = count.sh("yes 'power loss line' | head -n 1500");
    let want = direct(&env, &argv);
    let _ = fs::remove_file(&count.path);
    assert_transparent(&cached(&env, &[] as &[&str], &argv), &want, false, "first run");
    let mut key_args: Vec<OsString> = vec!["--".into()];
    key_args.extend(argv.iter().cloned());
    let path = env.entry_path(&env.key(&key_args));
    let good = fs::read(&path).unwrap();
    assert!(good.len() > 5 * 4096, "entry too small for page shapes: {}", good.len());
    let zero_page = |page: usize| {
        let mut b = good.clone();
        let end = ((page + 1) * 4096).min(b.len());
        b[page * 4096..end].fill(0);
        b
    };
    let last_page = (good.len() - 1) / 4096;
    let shapes: Vec<(String, Vec<u8>)> = vec![
        ("empty".into(), Vec::new()),
        ("all zero".into(), vec![0; good.len()]),
        ("cut at 4096".into(), good[..4096].to_vec()),
        ("cut at 8192".into(), good[..8192].to_vec()),
        ("cut at last page boundary".into(), good[..last_page * 4096].to_vec()),
        ("first page zeroed".into(), zero_page(0)),
        ("second page zeroed".into(), zero_page(1)),
        ("last page zeroed".into(), zero_page(last_page)),
        ("zero tail after a page".into(), {
            let mut b = good.clone();
            b[4096..].fill(0);
            b
        }),
    ];
    for (name, bytes) in &shapes {
        fs::write(&path, bytes).unwrap();
        let before = count.count();
        let out = cached(&env, &[] as &[&str], &argv);
        assert_transparent(&out, &want, false, name);
        assert_eq!(count.count(), before + 1, "{name}: served instead of a miss");
        assert_eq!(fs::read(&path).unwrap().len(), good.len(), "{name}: not replaced");
        assert_whole_entry(&path);
    }
    println!("COUNTS power-loss shapes: {}", shapes.len());
}

// ---------------------------------------------------------------------------
// Locks

/// `sh -c` that counts itself, and with `$SLOW` set announces itself in
/// `started` and sleeps; the key ignores both variables.
fn lock_command(env: &TestEnv, count: &Counter) -> (Vec<OsString>, PathBuf) {
    let started = env.path().join("started");
    let argv = count.sh(&format!(
        "if [ -n \"$SLOW\" ]; then : > '{}'; sleep 30; fi; echo \"out-$ROLE\"; echo \"err-$ROLE\" >&2; exit 4",
        started.display()
    ));
    (argv, started)
}

fn spawn_holder(env: &TestEnv, argv: &[OsString]) -> Group {
    Group(
        env.std_cmd()
            .args(["--failure-ttl", "1h", "--"])
            .args(argv)
            .env("SLOW", "1")
            .env("ROLE", "holder")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap(),
    )
}

/// README "Concurrency": the kernel releases the lock when its holder dies, however it
/// dies; a waiter (default 10 min timeout) proceeds at once. Killed both
/// as a whole process group and as cachecmd alone (its command lives on).
#[test]
fn a_killed_lock_holder_releases_its_waiter_promptly() {
    for whole_group in [true, false] {
        let env = TestEnv::new();
        let count = env.counter("lock");
        let (argv, started) = lock_command(&env, &count);
        let mut holder = spawn_holder(&env, &argv);
        wait_for("the lock holder to start", || started.exists());
        let waiter = env
            .std_cmd()
            .args(["--failure-ttl", "1h", "--"])
            .args(&argv)
            .env("ROLE", "waiter")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Let the waiter reach the lock.
        std::thread::sleep(Duration::from_millis(500));
        assert_eq!(count.count(), 1, "the waiter ran instead of waiting");
        let pid = libc::pid_t::try_from(holder.0.id()).unwrap();
        let killed = Instant::now();
        // SAFETY: kill(2) has no memory-safety preconditions.
        unsafe { libc::kill(if whole_group { -pid } else { pid }, libc::SIGKILL) };
        let out = waiter.wait_with_output().unwrap();
        let waited = killed.elapsed();
        assert_eq!(out.stdout, b"out-waiter\n");
        assert_eq!(out.stderr, b"err-waiter\n");
        assert_eq!(out.status.code(), Some(4));
        assert_eq!(count.count(), 2, "the waiter did not run the command after the holder died");
        assert!(waited < Duration::from_secs(2), "waiter took {waited:?} after the holder died");
        println!("COUNTS lock holder killed (whole group: {whole_group}): waiter done {waited:?} after the kill");
        holder.0.kill().ok();
        drop(holder);
    }
}

/// README "Concurrency": past --lock-timeout, the waiter runs the command itself and
/// returns its own result.
#[test]
fn a_waiter_past_lock_timeout_runs_the_command_itself() {
    let env = TestEnv::new();
    let count = env.counter("timeout");
    let (argv, started) = lock_command(&env, &count);
    let _holder = spawn_holder(&env, &argv);
    wait_for("the lock holder to start", || started.exists());
    let began = Instant::now();
    let out = env
        .std_cmd()
        .args(["--failure-ttl", "1h", "--lock-timeout", "1s", "--"])
        .args(&argv)
        .env("ROLE", "waiter")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let took = began.elapsed();
    assert_eq!(out.stdout, b"out-waiter\n");
    assert_eq!(out.stderr, b"err-waiter\n");
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(count.count(), 2, "the waiter did not run the command itself");
    assert!(took >= Duration::from_millis(900) && took < Duration::from_secs(5), "took {took:?}");
}

// ---------------------------------------------------------------------------
// Disk full and file-size limits

/// A 1 MiB tmpfs, unmounted on drop.
struct SmallFs {
    path: PathBuf,
}

impl SmallFs {
    /// Needs root (CAP_SYS_ADMIN).
    #[track_caller]
    fn mount(at: PathBuf, size: &str) -> SmallFs {
        fs::create_dir_all(&at).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0700"), "tmpfs"])
            .arg(&at)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "cannot mount a tmpfs at {} (needs root)", at.display());
        SmallFs { path: at }
    }
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

/// Fills the file system holding `dir` up to the last byte.
fn fill(dir: &Path) {
    use std::io::Write;
    let mut filler = fs::File::create(dir.join("filler")).unwrap();
    let chunk = vec![0x5a; 4096];
    while filler.write_all(&chunk).is_ok() {}
    let one = [0x5a];
    while filler.write_all(&one).is_ok() {}
}

/// Fail open (README): a full disk never changes the result, adds nothing to
/// stderr (it is not configuration), and leaves no temp file. Needs root
/// for the tmpfs; `a_file_size_limit_changes_nothing` covers the same
/// without it.
#[test]
#[ignore = "needs root"]
fn a_full_disk_changes_nothing_needs_root() {
    let env = TestEnv::new();
    let small = SmallFs::mount(env.path().join("small"), "1m");
    let root = small.path.join("cache");
    let count = env.counter("full");
    let big = count.sh("yes 0123456789abcdef | head -c 3000000; echo E >&2; exit 4");
    let small_out = count.sh("echo small; echo E >&2");
    let want_big = direct(&env, &big);
    let want_small = direct(&env, &small_out);
    let dir: Vec<OsString> =
        vec!["--cache-dir".into(), root.clone().into(), "--failure-ttl".into(), "1h".into()];

    // 1. Output larger than the whole file system.
    let before = count.count();
    let out = cached(&env, &dir, &big);
    assert_transparent(&out, &want_big, false, "output larger than the disk");
    assert!(temp_files(&root).is_empty(), "temp file left on a full disk");
    assert_eq!(count.count(), before + 1);
    let out = cached(&env, &dir, &big);
    assert_transparent(&out, &want_big, false, "second run of the large output");
    assert_eq!(count.count(), before + 2, "a partial entry was served");

    // 2. A disk already full to the last byte; then freed, the cache works again.
    fill(&small.path);
    for mode in [&[][..], &["--retry", "1"][..], &["--stale-if-error", "1h"][..]] {
        let mut args = dir.clone();
        args.extend(mode.iter().map(OsString::from));
        let out = cached(&env, &args, &small_out);
        assert_transparent(&out, &want_small, false, &format!("full disk, options {mode:?}"));
    }
    assert!(temp_files(&root).is_empty(), "temp file left on a full disk");
    fs::remove_file(small.path.join("filler")).unwrap();
    assert_transparent(&cached(&env, &dir, &small_out), &want_small, false, "after freeing space");
    let runs = count.count();
    assert_transparent(
        &cached(&env, &dir, &small_out),
        &want_small,
        false,
        "hit after freeing space",
    );
    assert_eq!(count.count(), runs, "no entry was recorded once space was back");
}

/// A captured run (`--retry`, or `--stale-if-error` over an expired
/// entry) whose recording fails half-way on a full disk: the capture moves
/// into memory, the caller gets exactly the command's output and status,
/// and the command runs exactly once.
#[test]
#[ignore = "needs root"]
fn a_full_disk_runs_a_captured_command_exactly_once_needs_root() {
    let env = TestEnv::new();
    let small = SmallFs::mount(env.path().join("small"), "1m");
    let root = small.path.join("cache");
    let count = env.counter("twice");
    // `$BIG` is not in the key: a small run records the entry, a big one
    // cannot fit.
    let argv = count.sh(
        "if [ -n \"$BIG\" ]; then yes abcdefgh | head -c 3000000; else echo small; fi; echo E >&2",
    );
    let want = env.std_command(&argv[0]).args(&argv[1..]).env("BIG", "1").output().unwrap();
    let _ = fs::remove_file(&count.path);
    let run = |mode: &[&str], big: bool| {
        let mut cmd = env.std_cmd();
        cmd.arg("--cache-dir").arg(&root).args(["--ttl", "1h"]).args(mode).arg("--").args(&argv);
        if big {
            cmd.env("BIG", "1");
        }
        cmd.stdin(Stdio::null()).output().unwrap()
    };
    let mut problems = Vec::new();
    // --retry: captured from the start.
    let before = count.count();
    let out = run(&["--retry", "1"], true);
    assert_transparent(&out, &want, false, "--retry 1 on a full disk");
    if count.count() != before + 1 {
        problems.push(format!("--retry 1: ran {} times", count.count() - before));
    }
    // --stale-if-error: captured because an expired good entry exists.
    assert!(run(&[], false).status.success());
    let entry = env_entry(&root, &env, &argv);
    age_file(&entry, 2 * 3600);
    let before = count.count();
    let out = run(&["--stale-if-error", "1d"], true);
    assert_transparent(&out, &want, false, "--stale-if-error on a full disk");
    if count.count() != before + 1 {
        problems.push(format!("--stale-if-error 1d: ran {} times", count.count() - before));
    }
    assert!(
        problems.is_empty(),
        "a successful captured command did not run exactly once:\n{}",
        problems.join("\n")
    );
}

/// The entry path of `argv` (default key options) under `root`.
fn env_entry(root: &Path, env: &TestEnv, argv: &[OsString]) -> PathBuf {
    let mut args: Vec<OsString> = vec!["--".into()];
    args.extend(argv.iter().cloned());
    harness::entry_path_in(root, &env.key(&args))
}

/// `prlimit --fsize`: writing the entry past RLIMIT_FSIZE raises SIGXFSZ,
/// which by default kills the writer. cachecmd must survive it (the entry
/// write fails with EFBIG instead) and still stream the whole output; the
/// command itself must keep the default SIGXFSZ action, as it would run
/// directly.
#[test]
fn a_file_size_limit_changes_nothing() {
    let env = TestEnv::new();
    let root = env.path().join("fsize-cache");
    let limit = "--fsize=65536";
    let cases: Vec<(&str, String)> = vec![
        ("output under the limit", "echo small; exit 0".into()),
        // The command's own oversized write is killed by SIGXFSZ, as it is directly.
        (
            "the command hits the limit",
            format!(
                "head -c 200000 /dev/zero > '{}/big'; echo \"status $?\"",
                env.path().display()
            ),
        ),
        ("output past the limit", "yes abc | head -c 1000000; echo E >&2; exit 3".into()),
    ];
    for (what, script) in cases {
        let argv: Vec<OsString> = vec!["sh".into(), "-c".into(), script.into()];
        let want = env
            .std_command("prlimit")
            .arg(limit)
            .args(&argv)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let out = env
            .std_command("prlimit")
            .arg(limit)
            .arg(BIN)
            .args(["--failure-ttl", "1h", "--cache-dir"])
            .arg(&root)
            .arg("--")
            .args(&argv)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_transparent(&out, &want, false, &format!("RLIMIT_FSIZE: {what}"));
        assert!(temp_files(&root).is_empty(), "{what}: temp file left");
    }
}

/// Signal dispositions are part of what a command sees: every attempt of
/// a `--retry` must start like a direct run (cachecmd ignores SIGINT and
/// SIGQUIT for itself while a child runs, and must not pass that on).
#[test]
fn every_attempt_starts_with_the_signal_dispositions_of_a_direct_run() {
    let env = TestEnv::new();
    let argv: Vec<OsString> =
        vec!["sh".into(), "-c".into(), "grep -E '^Sig(Ign|Blk)' /proc/self/status; exit 1".into()];
    let want = direct(&env, &argv);
    let out = cached(&env, &["--retry", "1", "--retry-delay", "10ms"], &argv);
    assert_transparent(&out, &want, false, "second attempt of --retry");
}

// ---------------------------------------------------------------------------
// Unusable cache directories

/// Runs cachecmd as uid/gid 65534 (`setpriv`), which root's bypass of
/// permission bits does not cover.
fn as_nobody(env: &TestEnv) -> Command {
    let mut cmd = env.std_command("setpriv");
    cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", BIN]);
    cmd
}

/// Opens this test's tree to uid 65534 and returns a fresh directory of
/// its own there. Needs root (so does setpriv).
#[track_caller]
fn nobody_dir(env: &TestEnv, name: &str) -> PathBuf {
    for dir in [env.path(), &env.work, &env.bin, &env.home, &env.config_home, &env.cache_home] {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).unwrap();
    }
    let dir = env.path().join(name);
    fs::create_dir(&dir).unwrap();
    std::os::unix::fs::chown(&dir, Some(65534), Some(65534)).expect("chown to 65534 (needs root)");
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).unwrap();
    dir
}

fn set_tree_mode(dir: &Path, dir_mode: u32, file_mode: u32) {
    for path in harness::walk(dir).into_iter().chain([dir.to_path_buf()]) {
        let meta = fs::symlink_metadata(&path).unwrap();
        let mode = if meta.is_dir() { dir_mode } else { file_mode };
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
    }
}

/// The counter file must be writable by 65534 too.
fn open_counter(count: &Counter) {
    fs::write(&count.path, "").unwrap();
    fs::set_permissions(&count.path, fs::Permissions::from_mode(0o666)).unwrap();
}

fn nobody_run(env: &TestEnv, root: &Path, argv: &[OsString]) -> Output {
    as_nobody(env)
        .args(["--failure-ttl", "1h", "--cache-dir"])
        .arg(root)
        .arg("--")
        .args(argv)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// Fail open (README): a read-only cache dir (mode 0500 for an unprivileged user)
/// still serves the entries in it, and runs everything else uncached.
#[test]
#[ignore = "needs root"]
fn a_read_only_cache_dir_serves_hits_and_runs_misses_needs_root() {
    let env = TestEnv::new();
    let root = nobody_dir(&env, "ro-cache");
    let count = env.counter("ro");
    open_counter(&count);
    let cached_cmd = count.sh("echo cached; echo warn >&2; exit 2");
    let other = count.sh("echo other; exit 5");
    let want_cached = direct(&env, &cached_cmd);
    let want_other = direct(&env, &other);
    fs::write(&count.path, "").unwrap();

    // An empty read-only root: nothing can be created in it.
    set_tree_mode(&root, 0o500, 0o400);
    let out = nobody_run(&env, &root, &cached_cmd);
    assert_transparent(&out, &want_cached, true, "empty read-only root");
    assert_eq!(count.count(), 1);
    assert!(harness::walk(&root).is_empty(), "wrote into a read-only root");

    // A populated root made read-only: hits are served, misses run.
    set_tree_mode(&root, 0o700, 0o600);
    assert_transparent(&nobody_run(&env, &root, &cached_cmd), &want_cached, true, "populating");
    assert_eq!(count.count(), 2);
    set_tree_mode(&root, 0o500, 0o400);
    for round in 0..3 {
        let out = nobody_run(&env, &root, &cached_cmd);
        assert_transparent(
            &out,
            &want_cached,
            true,
            &format!("hit from a read-only root, round {round}"),
        );
        let out = nobody_run(&env, &root, &other);
        assert_transparent(
            &out,
            &want_other,
            true,
            &format!("miss in a read-only root, round {round}"),
        );
    }
    assert_eq!(count.count(), 2 + 3, "hits were not served, or misses not run");
}

/// The same as root, whose permission bypass a read-only bind mount stops.
#[test]
#[ignore = "needs root"]
fn a_read_only_mount_serves_hits_and_runs_misses_needs_root() {
    let env = TestEnv::new();
    let root = env.path().join("bind-cache");
    let count = env.counter("rofs");
    let cached_cmd = count.sh("echo cached; exit 0");
    let other = count.sh("echo other; echo E >&2; exit 1");
    let want_cached = direct(&env, &cached_cmd);
    let want_other = direct(&env, &other);
    fs::remove_file(&count.path).unwrap();
    let dir: Vec<OsString> = vec!["--cache-dir".into(), root.clone().into()];
    assert_transparent(&cached(&env, &dir, &cached_cmd), &want_cached, false, "populating");
    let bind = Command::new("mount").arg("--bind").arg(&root).arg(&root).status();
    assert!(bind.is_ok_and(|s| s.success()), "cannot bind-mount (needs root)");
    let _guard = SmallFs { path: root.clone() };
    let remount =
        Command::new("mount").args(["-o", "remount,ro,bind"]).arg(&root).status().unwrap();
    assert!(remount.success(), "remount read-only failed");
    for round in 0..3 {
        let out = cached(&env, &dir, &cached_cmd);
        assert_transparent(
            &out,
            &want_cached,
            true,
            &format!("hit on a read-only mount, round {round}"),
        );
        let mut args = dir.clone();
        args.extend(["--failure-ttl".into(), "1h".into()]);
        let out = cached(&env, &args, &other);
        assert_transparent(
            &out,
            &want_other,
            true,
            &format!("miss on a read-only mount, round {round}"),
        );
        for sub in ["gc", "clear", "list", "stats"] {
            let out = env.std_cmd().arg(sub).args(&dir).stdin(Stdio::null()).output().unwrap();
            assert!(
                out.status.code().is_some(),
                "{sub} died on a read-only mount: {:?}",
                out.status
            );
        }
    }
    assert_eq!(count.count(), 1 + 3);
}

/// Mode 000 on the root, on `v1`, or on one shard, for an unprivileged
/// user: every run still returns the command's result.
#[test]
#[ignore = "needs root"]
fn unreadable_cache_dirs_run_uncached_needs_root() {
    let env = TestEnv::new();
    let root = nobody_dir(&env, "noperm-cache");
    let count = env.counter("noperm");
    open_counter(&count);
    let argv = count.sh("echo out; echo err >&2; exit 7");
    let want = direct(&env, &argv);
    fs::write(&count.path, "").unwrap();
    assert_transparent(&nobody_run(&env, &root, &argv), &want, true, "populating");
    let shard =
        fs::read_dir(root.join("v1").join("entries")).unwrap().next().unwrap().unwrap().path();
    let mut runs = 1;
    for (what, dir) in [("shard", shard), ("v1", root.join("v1")), ("root", root.clone())] {
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o000)).unwrap();
        for round in 0..2 {
            let out = nobody_run(&env, &root, &argv);
            assert_transparent(&out, &want, true, &format!("mode 000 on {what}, round {round}"));
            runs += 1;
            assert_eq!(count.count(), runs, "mode 000 on {what}: not run");
        }
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).unwrap();
    }
}

/// Missing parents are created (0700, checked in security.rs); the cache
/// works from the first run.
#[test]
fn missing_parent_dirs_are_created() {
    let env = TestEnv::new();
    let root = env.path().join("a").join("b").join("c").join("cache");
    let count = env.counter("parents");
    let argv = count.prints("made");
    for (via_env, round) in [(true, 0), (false, 1)] {
        let mut cmd = env.std_cmd();
        if via_env {
            cmd.env("CACHECMD_DIR", &root);
        } else {
            cmd.arg("--cache-dir").arg(&root);
        }
        let out = cmd.arg("--").args(&argv).stdin(Stdio::null()).output().unwrap();
        assert_eq!(out.stdout, b"made", "round {round}");
        assert_eq!(out.stderr, b"", "round {round}");
    }
    assert_eq!(count.count(), 1, "the second run was not a hit");
}

/// CACHECMD_DIR naming a regular file, or a path below one: refused,
/// command run, the file untouched, and the subcommands leave it alone.
#[test]
fn a_cache_dir_that_is_a_file_is_refused() {
    let env = TestEnv::new();
    let file = env.path().join("not-a-dir");
    fs::write(&file, "precious\n").unwrap();
    let count = env.counter("file");
    let argv = count.sh("echo out; echo err >&2; exit 9");
    let want = direct(&env, &argv);
    fs::remove_file(&count.path).unwrap();
    for (what, root) in [("a file", file.clone()), ("below a file", file.join("sub"))] {
        for round in 0..2 {
            let out = env
                .std_cmd()
                .env("CACHECMD_DIR", &root)
                .args(["--failure-ttl", "1h", "--"])
                .args(&argv)
                .stdin(Stdio::null())
                .output()
                .unwrap();
            assert_transparent(
                &out,
                &want,
                true,
                &format!("CACHECMD_DIR is {what}, round {round}"),
            );
        }
        for sub in ["gc", "clear", "list", "stats"] {
            let out = env.std_cmd().env("CACHECMD_DIR", &root).arg(sub).output().unwrap();
            assert!(out.status.code().is_some(), "{sub} died: {:?}", out.status);
        }
    }
    assert_eq!(count.count(), 4);
    assert_eq!(fs::read(&file).unwrap(), b"precious\n");
    assert!(fs::metadata(&file).unwrap().is_file());
}
