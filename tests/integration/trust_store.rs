//! The local store under local faults: special files anywhere, lock files
//! removed while held, repeated PIDs, files gc did not create, and a huge
//! or damaged usage journal. Every run here is bounded by a timeout: a
//! hang is a failure, not a stuck suite.

use std::ffi::CString;
use std::fs;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::harness::{age_file, kill_group, wait_for, Group, Rng, TestEnv};

/// Far below the harness's own bound: none of these may wait on anything.
const BOUND: Duration = Duration::from_secs(20);

#[track_caller]
fn mkfifo(path: &Path) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let _ = fs::remove_file(path);
    let c = CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo {}", path.display());
}

/// `cachecmd ARGS` bounded by `BOUND`; asserts it succeeded and did not panic.
#[track_caller]
fn bounded(env: &TestEnv, args: &[&str]) -> String {
    let out = env.cmd().args(args).timeout(BOUND).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // `evict` with nothing left to remove exits 1 (no entry).
    let nothing_to_evict = args[0] == "evict" && out.status.code() == Some(1);
    assert!(
        out.status.success() || nothing_to_evict,
        "cachecmd {args:?}: {:?}\n{stderr}",
        out.status
    );
    assert!(!stderr.contains("panicked"), "cachecmd {args:?} panicked: {stderr}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn shard(root: &Path, base: &str, key: &str) -> PathBuf {
    root.join("v1").join(base).join(&key[..2])
}

#[test]
fn special_inputs_are_keyed_by_type_never_opened() {
    let env = TestEnv::new();
    mkfifo(&env.work.join("src/p"));
    fs::write(env.work.join("src/a"), "a").unwrap();
    env.run(["echo", "built"]).opts(["--input", "src"]).assert().expect_miss().stdout("built\n");
    env.run(["echo", "built"]).opts(["--input", "src"]).assert().expect_hit();
    env.run(["echo", "one"]).opts(["--input", "src/p"]).assert().expect_miss().stdout("one\n");
    env.run(["echo", "one"]).opts(["--input", "src/p"]).assert().expect_hit();
    // The type is key material: a regular file there is another key.
    let fifo_key = env.run(["echo", "one"]).opts(["--input", "src/p"]).key();
    fs::remove_file(env.work.join("src/p")).unwrap();
    fs::write(env.work.join("src/p"), "").unwrap();
    assert_ne!(env.run(["echo", "one"]).opts(["--input", "src/p"]).key(), fifo_key);
}

#[test]
fn special_files_in_the_cache_dir_never_block() {
    let env = TestEnv::new();
    let root = env.root();
    fs::create_dir(env.work.join("src")).unwrap();
    fs::write(env.work.join("src/a"), "a").unwrap();
    env.run(["echo", "kept"]).opts(["--input", "src"]).assert().expect_miss();
    let kept = env.run(["echo", "kept"]).opts(["--input", "src"]).key();
    let blocked = env.run(["echo", "blocked"]).key();
    let v1 = root.join("v1");
    for name in ["journal", "usage", "statcache", "gc.lock", "gc.stamp"] {
        mkfifo(&v1.join(name));
    }
    mkfifo(&shard(&root, "entries", &blocked).join(&blocked));
    mkfifo(&shard(&root, "locks", &blocked).join(format!("{blocked}.lock")));
    mkfifo(&shard(&root, "locks", &kept).join(format!("{kept}.lock")));
    mkfifo(&shard(&root, "entries", &kept).join(format!(".tmp.{kept}.1.0")));
    mkfifo(&shard(&root, "entries", &kept).join(format!(".tmp.{kept}.1.1")));
    for (tmp, at) in [("x", 0), ("y", 1)] {
        mkfifo(&v1.join(format!(".tmp.statcache.{tmp}{at}")));
    }
    let started = Instant::now();
    // A hit (journal, lock are FIFOs), a miss at a FIFO entry path (not
    // cached: it runs again), a run reading the stat cache.
    env.run(["echo", "kept"]).opts(["--input", "src"]).assert().expect_hit().stdout("kept\n");
    for _ in 0..2 {
        let ran = env.run(["echo", "blocked"]).assert().success().stdout("blocked\n");
        let line = ran.status_line();
        assert!(line.contains("miss") && line.contains("not recorded"), "{line}");
    }
    assert!(fs::symlink_metadata(shard(&root, "entries", &blocked).join(&blocked))
        .unwrap()
        .file_type()
        .is_fifo_like());
    for args in [
        &["list"][..],
        &["list", "--json"],
        &["stats"],
        &["stats", "--json"],
        &["show", &kept[..12]],
        &["gc"],
        &["gc", "--auto"],
        &["evict", "--", "echo", "blocked"],
        &["clear"],
    ] {
        bounded(&env, args);
    }
    assert!(started.elapsed() < BOUND * 2);
}

trait FifoLike {
    fn is_fifo_like(&self) -> bool;
}

impl FifoLike for fs::FileType {
    fn is_fifo_like(&self) -> bool {
        std::os::unix::fs::FileTypeExt::is_fifo(self)
    }
}

/// Whether process `pid` has a lock file of the store open.
fn holds_lock_fd(pid: u32) -> bool {
    let Ok(fds) = fs::read_dir(format!("/proc/{pid}/fd")) else { return false };
    fds.flatten()
        .any(|fd| fs::read_link(fd.path()).is_ok_and(|t| t.to_string_lossy().contains(".lock")))
}

#[test]
fn single_flight_survives_clear_evict_and_gc() {
    let env = TestEnv::new();
    let counter = env.counter("runs");
    let go = env.path().join("go");
    let body = format!("while [ ! -e '{}' ]; do sleep 0.02; done; printf done", go.display());
    let command = counter.sh(&body);
    let mut args = vec!["--lock-timeout".into(), "30s".into(), "--".into()];
    args.extend(command.iter().cloned());
    let first = Group(env.spawn(&args, Stdio::piped()));
    wait_for("the first run to start its command", || counter.count() == 1);
    let key = env.run(&command).key();
    let lock = shard(&env.root(), "locks", &key).join(format!("{key}.lock"));
    assert!(lock.exists());
    // Every remover passes over the held lock file.
    bounded(&env, &["clear"]);
    let mut evict = vec!["evict", "--"];
    evict.extend(command.iter().map(|a| a.to_str().unwrap()));
    bounded(&env, &evict);
    age_file(&lock, 7200);
    bounded(&env, &["gc"]);
    assert!(lock.exists(), "a held lock file was removed");
    let second = Group(env.spawn(&args, Stdio::piped()));
    wait_for("the second run to wait on the lock", || {
        holds_lock_fd(second.0.id()) || counter.count() > 1
    });
    fs::write(&go, "").unwrap();
    for mut group in [first, second] {
        let status = group.0.wait().unwrap();
        assert!(status.success());
        let mut out = String::new();
        std::io::Read::read_to_string(group.0.stdout.as_mut().unwrap(), &mut out).unwrap();
        assert_eq!(out, "done");
        kill_group(&mut group.0);
    }
    counter.assert_runs(1);
}

/// The names a PID-and-counter scheme would pick for `key` in the next
/// `span` processes (and for PID 1, as in a container).
fn plant_pid_temp_names(env: &TestEnv, key: &str, span: u32) {
    let dir = shard(&env.root(), "entries", key);
    fs::create_dir_all(&dir).unwrap();
    let last: u32 = fs::read_to_string("/proc/sys/kernel/ns_last_pid")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(1);
    for pid in std::iter::once(1).chain(last..last + span) {
        for n in 0..2 {
            fs::write(dir.join(format!(".tmp.{key}.{pid}.{n}")), "").unwrap();
        }
    }
}

#[test]
fn leftover_temp_files_at_pid_names_never_stop_recording() {
    let env = TestEnv::new();
    env.run(["echo", "warm"]).assert().expect_miss();
    let key = env.run(["echo", "pids"]).key();
    plant_pid_temp_names(&env, &key, 400);
    env.run(["echo", "pids"]).assert().expect_miss().stdout("pids\n");
    env.run(["echo", "pids"]).assert().expect_hit().stdout("pids\n");
}

#[test]
#[ignore = "needs root"]
fn leftover_temp_files_with_pid_1_never_stop_recording_needs_root() {
    let env = TestEnv::new();
    env.run(["echo", "warm"]).assert().expect_miss();
    let key = env.run(["echo", "pid1"]).key();
    plant_pid_temp_names(&env, &key, 0);
    fs::write(env.root().join("v1/.tmp.statcache.1"), "").unwrap();
    let out = env
        .std_command("unshare")
        .args(["--pid", "--fork", "--mount-proc", crate::harness::BIN, "--", "echo", "pid1"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    env.run(["echo", "pid1"]).assert().expect_hit().stdout("pid1\n");
}

#[test]
fn gc_deletes_only_what_it_created() {
    let env = TestEnv::new();
    let root = env.root();
    env.run(["echo", "x"]).assert().expect_miss();
    let key = env.run(["echo", "x"]).key();
    let foreign = [
        root.join("v1/locks/ab/deploy.lock"),
        root.join(format!("v1/entries/ab/ab{}", "0".repeat(62))),
        root.join("v1/entries/ab/notes.txt"),
        root.join(format!("v1/locks/ab/ab{}.lock.bak", "1".repeat(62))),
    ];
    for path in &foreign {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, "not cachecmd's").unwrap();
        age_file(path, 30 * 24 * 3600);
    }
    let dead = shard(&root, "entries", &key).join(format!(".tmp.{key}.99.0"));
    fs::write(&dead, "").unwrap();
    age_file(&dead, 7200);

    // A live writer whose temp file looks old.
    let go = env.path().join("go");
    let body = format!("while [ ! -e '{}' ]; do sleep 0.02; done; printf live", go.display());
    let counter = env.counter("live");
    let live_cmd = counter.sh(&body);
    let mut args = vec!["--".into()];
    args.extend(live_cmd.iter().cloned());
    let mut writer = Group(env.spawn(&args, Stdio::null()));
    wait_for("the live run to start", || counter.count() == 1);
    let live_key = env.run(&live_cmd).key();
    let live_dir = shard(&root, "entries", &live_key);
    let temp_of_live = || {
        fs::read_dir(&live_dir).ok()?.flatten().map(|e| e.path()).find(|p| {
            p.file_name().unwrap().to_string_lossy().starts_with(&format!(".tmp.{live_key}"))
        })
    };
    wait_for("the live run's temp file", || temp_of_live().is_some());
    let live_temp = temp_of_live().unwrap();
    age_file(&live_temp, 7200);

    bounded(&env, &["gc"]);
    bounded(&env, &["gc", "--auto"]);
    for path in &foreign {
        assert!(path.exists(), "gc removed {}", path.display());
    }
    assert!(live_temp.exists(), "gc removed a live writer's temp file");
    assert!(!dead.exists(), "gc kept a dead writer's temp file");

    fs::write(&go, "").unwrap();
    assert!(writer.0.wait().unwrap().success());
    env.run(&live_cmd).assert().expect_hit().stdout("live");
    bounded(&env, &["clear"]);
    for path in &foreign {
        assert!(path.exists(), "clear removed {}", path.display());
    }
}

/// A journal record as the store writes it.
fn journal_record(key: &[u8; 32], at: u64, event: u8) -> [u8; 48] {
    let mut record = [0u8; 48];
    record[..32].copy_from_slice(key);
    record[32..40].copy_from_slice(&at.to_le_bytes());
    record[40] = event;
    record
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// Appends `bytes` of records with distinct keys to the journal.
fn grow_journal(root: &Path, bytes: usize, seed: u64) {
    let mut rng = Rng::new(seed);
    let now = now_secs();
    let mut out = Vec::with_capacity(bytes);
    while out.len() + 48 <= bytes {
        let mut key = [0u8; 32];
        for chunk in key.chunks_mut(8) {
            chunk.copy_from_slice(&rng.next().to_le_bytes());
        }
        out.extend_from_slice(&journal_record(
            &key,
            now - rng.below(86_400),
            1 + (rng.below(2) as u8),
        ));
    }
    let mut journal =
        fs::OpenOptions::new().append(true).create(true).open(root.join("v1/journal")).unwrap();
    journal.write_all(&out).unwrap();
}

/// Peak RSS in KiB of `cachecmd ARGS`, measured by `/usr/bin/time` (the
/// child of a small process, so none of this test's memory is counted).
/// Fails when it is not installed (Debian package `time`; `cargo xtask ci`
/// installs it).
fn peak_rss_kib(env: &TestEnv, args: &[&str]) -> u64 {
    let time = Path::new("/usr/bin/time");
    assert!(time.exists(), "/usr/bin/time is missing: apt-get install time");
    let report = env.path().join("rss");
    let out = assert_cmd::Command::from_std(env.std_command(time))
        .args(["-f", "%M", "-o"])
        .arg(&report)
        .arg(crate::harness::BIN)
        .args(args)
        .timeout(BOUND)
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    fs::read_to_string(&report).unwrap().trim().parse().unwrap()
}

#[test]
fn a_huge_journal_costs_constant_memory() {
    let env = TestEnv::new();
    env.run(["echo", "x"]).assert().expect_miss();
    env.run(["echo", "x"]).assert().expect_hit();
    grow_journal(&env.root(), 50 << 20, 7);
    for args in [&["stats"][..], &["stats", "--json"], &["list", "--json"]] {
        let kib = peak_rss_kib(&env, args);
        assert!(kib < 32 * 1024, "cachecmd {args:?} peaked at {kib} KiB on a 50 MB journal");
    }
    let stats = bounded(&env, &["stats", "--json"]);
    assert!(stats.contains("\"misses\""), "{stats}");
    let kib = peak_rss_kib(&env, &["gc"]);
    assert!(kib < 32 * 1024, "gc peaked at {kib} KiB on a 50 MB journal");
    assert!(fs::metadata(env.root().join("v1/journal")).map_or(0, |m| m.len()) < 1 << 20);
}

#[test]
fn a_cache_that_only_hits_still_compacts_its_journal() {
    let env = TestEnv::new();
    env.run(["echo", "x"]).assert().expect_miss();
    grow_journal(&env.root(), 9 << 20, 11);
    let before = bounded(&env, &["stats", "--json"]);
    env.run(["echo", "x"]).assert().expect_hit();
    let journal = fs::metadata(env.root().join("v1/journal")).map_or(0, |m| m.len());
    assert!(journal < 1 << 20, "the journal was not compacted: {journal} bytes");
    let after = bounded(&env, &["stats", "--json"]);
    let hits = |json: &str| -> u64 {
        let value: serde_json::Value = serde_json::from_str(json).unwrap();
        value["hits"].as_u64().unwrap() + value["misses"].as_u64().unwrap()
    };
    assert_eq!(hits(&after), hits(&before) + 1, "compaction lost counts");
}

#[test]
fn bit_flips_in_the_journal_never_panic() {
    let env = TestEnv::new();
    env.run(["echo", "x"]).assert().expect_miss();
    env.run(["echo", "x"]).assert().expect_hit();
    let key = env.run(["echo", "x"]).key();
    let mut raw = [0u8; 32];
    for (i, byte) in raw.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&key[2 * i..2 * i + 2], 16).unwrap();
    }
    let mut rng = Rng::seeded();
    let journal_path = env.root().join("v1/journal");
    for round in 0..6 {
        let mut journal = Vec::new();
        for _ in 0..64 {
            journal.extend_from_slice(&journal_record(&raw, now_secs(), 1));
        }
        // One timestamp's high bits, where an overflow would hide.
        journal[48 * rng.below(64) as usize + 32 + 7] ^= 1 << rng.below(8);
        for _ in 0..8 {
            let bit = rng.below(journal.len() as u64 * 8);
            journal[(bit / 8) as usize] ^= 1 << (bit % 8);
        }
        fs::write(&journal_path, &journal).unwrap();
        if round % 2 == 1 {
            // Fold the damaged journal into the summary too.
            bounded(&env, &["gc"]);
        }
        for args in [
            &["list", "--json"][..],
            &["list"],
            &["show", &key[..12]],
            &["stats"],
            &["stats", "--json"],
        ] {
            bounded(&env, args);
        }
    }
}
