//! Key inputs (`--input`, `--modtime`, `--stdin`, `key --explain`) and
//! freshness beyond the TTL (`--stale`, `--warm`, `--stale-if-error`,
//! `--retry`, `--expires-at`), against the real binary.
//!
//! Entries are aged by setting their file's mtime, and the clock moved by
//! the test-only `CACHECMD_TEST_NOW`, never by sleeping; the only waits
//! are polls for detached background refreshes.

use crate::harness;

use std::ffi::OsString;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use filetime::FileTime;
use harness::{wait_for, Counter, TestEnv};
use predicates::prelude::*;

// ---------------------------------------------------------------- helpers

/// cachecmd with the cache root set explicitly through `CACHECMD_DIR` (the
/// harness already strips inherited `CACHECMD_*` and privatizes XDG dirs).
fn cc(env: &TestEnv) -> assert_cmd::Command {
    let mut cmd = env.cmd();
    cmd.env("CACHECMD_DIR", env.root());
    cmd
}

/// `cachecmd OPTS... -- COMMAND...` in the work dir.
fn run(env: &TestEnv, opts: &[&str], command: &[OsString]) -> assert_cmd::assert::Assert {
    cc(env).args(harness::with_command(opts, command)).assert()
}

/// `cachecmd key OPTS... -- COMMAND...` run in `dir` (stdin empty).
#[track_caller]
fn key_in(env: &TestEnv, dir: &Path, opts: &[&str], command: &[OsString]) -> String {
    key_with_stdin(env, dir, opts, command, Vec::new())
}

#[track_caller]
fn key(env: &TestEnv, opts: &[&str], command: &[OsString]) -> String {
    key_in(env, &env.work, opts, command)
}

#[track_caller]
fn key_with_stdin(
    env: &TestEnv,
    dir: &Path,
    opts: &[&str],
    command: &[OsString],
    stdin: Vec<u8>,
) -> String {
    let out = cc(env)
        .arg("key")
        .args(harness::with_command(opts, command))
        .current_dir(dir)
        .write_stdin(stdin)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "`cachecmd key` failed: {:?}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let key = String::from_utf8(out.stdout).unwrap().trim_end().to_owned();
    harness::assert_is_key(&key);
    key
}

fn entry(env: &TestEnv, key: &str) -> PathBuf {
    harness::entry_path_in(&env.root(), key)
}

/// Makes the entry look `secs` old.
#[track_caller]
fn age(env: &TestEnv, key: &str, secs: u64) {
    harness::age_file(&entry(env, key), secs);
}

fn entry_age(env: &TestEnv, key: &str) -> Option<Duration> {
    let modified = fs::metadata(entry(env, key)).ok()?.modified().ok()?;
    Some(SystemTime::now().duration_since(modified).unwrap_or_default())
}

#[track_caller]
fn write(path: &Path, content: impl AsRef<[u8]>) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, content).unwrap();
}

#[track_caller]
fn set_mtime(path: &Path, secs_ago: u64) {
    let then = SystemTime::now() - Duration::from_secs(secs_ago);
    filetime::set_file_mtime(path, FileTime::from_system_time(then)).unwrap();
}

#[track_caller]
fn set_exec(path: &Path, exec: bool) {
    let mode = if exec { 0o755 } else { 0o644 };
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// Creates the cache root (and so the stat cache's home) with one run.
fn create_store(env: &TestEnv) {
    run(env, &["--no-cwd"], &["true".into()]).success();
}

/// A counted command printing the content of `value` and exiting with the
/// number in `code` (0 when that file is missing); its stderr says `err`.
fn reads(count: &Counter, value: &Path, code: &Path) -> Vec<OsString> {
    count.sh(&format!(
        "cat '{}'; echo err >&2; exit $(cat '{}' 2>/dev/null || echo 0)",
        value.display(),
        code.display()
    ))
}

fn stderr_of(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stderr).into_owned()
}

// ---------------------------------------------------------------- --input

#[test]
fn touching_an_input_keeps_the_key_editing_changes_it() {
    let env = TestEnv::new();
    create_store(&env);
    let file = env.work.join("src/a.txt");
    write(&file, "one");
    let command: Vec<OsString> = vec!["true".into()];
    let opts = ["--input", "src"];
    let k0 = key(&env, &opts, &command);

    // Touch only (mtime moves both ways): same key, cold and through the stat cache.
    set_mtime(&file, 3600);
    let k1 = key(&env, &opts, &command);
    let k1_warm = key(&env, &opts, &command);
    filetime::set_file_mtime(&file, FileTime::now()).unwrap();
    let k2 = key(&env, &opts, &command);
    assert_eq!(k0, k1, "mtime-only change changed the key");
    assert_eq!(k1, k1_warm);
    assert_eq!(k0, k2);

    // Edit: new key; editing back restores the old key.
    write(&file, "two");
    let k3 = key(&env, &opts, &command);
    assert_ne!(k0, k3, "content change kept the key");
    write(&file, "one");
    assert_eq!(key(&env, &opts, &command), k0);
}

#[test]
fn the_stat_cache_never_hides_an_edit() {
    let env = TestEnv::new();
    create_store(&env);
    let file = env.work.join("data.bin");
    let command: Vec<OsString> = vec!["true".into()];
    let opts = ["--input", "data.bin"];

    // A file old enough to be trusted from the stat cache, then edited with
    // the same size and its mtime put back: only ctime (and the content) tell.
    write(&file, "AAAA");
    set_mtime(&file, 3600);
    let old_mtime = FileTime::from_last_modification_time(&fs::metadata(&file).unwrap());
    let before = key(&env, &opts, &command);
    assert_eq!(key(&env, &opts, &command), before);
    fs::OpenOptions::new()
        .write(true)
        .open(&file)
        .and_then(|mut f| std::io::Write::write_all(&mut f, b"BBBB"))
        .unwrap();
    filetime::set_file_mtime(&file, old_mtime).unwrap();
    assert_ne!(key(&env, &opts, &command), before, "stale stat-cache digest was used");

    // Racily clean: rewrites within the same timestamp tick, same size.
    let mut seen = std::collections::HashSet::new();
    for i in 0..12 {
        write(&file, format!("{i:04}"));
        let k = key(&env, &opts, &command);
        assert!(seen.insert(k), "rewrite #{i} (same size, same tick) kept an earlier key");
    }
}

/// A shared writable mapping of a file: writes through it after the first
/// one change the content without touching mtime or ctime (the page is
/// already dirty and writable), the "racily clean" case of a stat cache.
struct Mapped {
    ptr: *mut u8,
    len: usize,
}

impl Mapped {
    #[track_caller]
    fn new(path: &Path) -> Mapped {
        use std::os::fd::AsRawFd;
        let file = fs::OpenOptions::new().read(true).write(true).open(path).unwrap();
        let len = usize::try_from(file.metadata().unwrap().len()).unwrap();
        // SAFETY: a fresh shared mapping of a file we own, of its length;
        // the descriptor may close once mapped.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                file.as_raw_fd(),
                0,
            )
        };
        assert_ne!(ptr, libc::MAP_FAILED, "mmap failed");
        Mapped { ptr: ptr.cast(), len }
    }

    fn set(&self, at: usize, byte: u8) {
        assert!(at < self.len);
        // SAFETY: in bounds of a live mapping that only this test uses.
        unsafe { self.ptr.add(at).write_volatile(byte) };
    }
}

impl Drop for Mapped {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly what `new` mapped.
        unsafe { libc::munmap(self.ptr.cast(), self.len) };
    }
}

#[test]
fn a_racily_clean_file_is_hashed_again() {
    let env = TestEnv::new();
    create_store(&env);
    let file = env.work.join("racy.txt");
    write(&file, "0000");
    let command: Vec<OsString> = vec!["true".into()];
    let opts = ["--input", "racy.txt"];
    let map = Mapped::new(&file);
    map.set(0, b'1'); // faults: mtime/ctime move now
    let first = key(&env, &opts, &command);
    let stat = |p: &Path| {
        use std::os::unix::fs::MetadataExt;
        let m = fs::metadata(p).unwrap();
        (m.size(), m.mtime(), m.mtime_nsec(), m.ctime(), m.ctime_nsec(), m.ino())
    };
    let before = stat(&file);
    map.set(1, b'1'); // no fault: same stat, new content
    let same_stat = stat(&file) == before;
    let second = key(&env, &opts, &command);
    assert_ne!(
        first, second,
        "content changed within the timestamp granularity of its hashing was served from \
         the stat cache (stat unchanged: {same_stat})"
    );
    drop(map);
    assert_eq!(fs::read(&file).unwrap(), b"1100");
}

#[test]
fn adding_removing_and_renaming_matching_files_change_the_key() {
    let env = TestEnv::new();
    create_store(&env);
    write(&env.work.join("src/a.rs"), "fn a() {}");
    write(&env.work.join("src/deep/b.rs"), "fn b() {}");
    let command: Vec<OsString> = vec!["true".into()];
    let opts = ["--input", "src/**/*.rs"];
    let base = key(&env, &opts, &command);

    // A file the glob does not match is not an input.
    write(&env.work.join("src/notes.txt"), "x");
    write(&env.work.join("other/c.rs"), "x");
    assert_eq!(key(&env, &opts, &command), base, "non-matching file changed the key");

    // A new matching file, deep down.
    let new = env.work.join("src/deep/deeper/c.rs");
    write(&new, "fn c() {}");
    let added = key(&env, &opts, &command);
    assert_ne!(added, base, "new matching file kept the key");
    fs::remove_file(&new).unwrap();
    assert_eq!(key(&env, &opts, &command), base, "removing it did not restore the key");

    // Rename with identical content.
    fs::rename(env.work.join("src/a.rs"), env.work.join("src/z.rs")).unwrap();
    let renamed = key(&env, &opts, &command);
    assert_ne!(renamed, base, "rename kept the key");

    // Removing a matching file.
    fs::remove_file(env.work.join("src/z.rs")).unwrap();
    let removed = key(&env, &opts, &command);
    assert_ne!(removed, base);
    assert_ne!(removed, renamed);
}

#[test]
fn the_exec_bit_is_keyed() {
    let env = TestEnv::new();
    create_store(&env);
    let script = env.work.join("tool.sh");
    write(&script, "#!/bin/sh\necho hi\n");
    set_exec(&script, false);
    let command: Vec<OsString> = vec!["true".into()];
    let opts = ["--input", "tool.sh"];
    let plain = key(&env, &opts, &command);
    set_exec(&script, true);
    let exec = key(&env, &opts, &command);
    assert_ne!(plain, exec, "chmod +x kept the key");
    set_exec(&script, false);
    assert_eq!(key(&env, &opts, &command), plain);
}

#[test]
fn git_directories_are_ignored() {
    let env = TestEnv::new();
    create_store(&env);
    write(&env.work.join("repo/main.c"), "int main;");
    write(&env.work.join("repo/.git/HEAD"), "ref: refs/heads/main\n");
    write(&env.work.join("repo/sub/.git/index"), "x");
    let command: Vec<OsString> = vec!["true".into()];
    let dir_opts = ["--input", "repo"];
    let glob_opts = ["--input", "repo/**"];
    let by_dir = key(&env, &dir_opts, &command);
    let by_glob = key(&env, &glob_opts, &command);

    write(&env.work.join("repo/.git/HEAD"), "ref: refs/heads/other\n");
    write(&env.work.join("repo/.git/objects/ab/cdef"), "blob");
    write(&env.work.join("repo/sub/.git/index"), "changed");
    assert_eq!(key(&env, &dir_opts, &command), by_dir, ".git/ content changed the key");
    assert_eq!(key(&env, &glob_opts, &command), by_glob, ".git/ content changed the key");

    // The same tree without .git at all gives the same key.
    fs::remove_dir_all(env.work.join("repo/.git")).unwrap();
    fs::remove_dir_all(env.work.join("repo/sub")).unwrap();
    assert_eq!(key(&env, &dir_opts, &command), by_dir);

    // And the rest of the tree is keyed.
    write(&env.work.join("repo/main.c"), "int main(void);");
    assert_ne!(key(&env, &dir_opts, &command), by_dir);
}

#[test]
fn a_missing_explicit_path_is_keyed_as_absent_and_the_command_runs() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = count.prints("ran");
    let opts = ["--input", "missing.lock"];
    let absent = key(&env, &opts, &command);

    let out = run(&env, &["-v", "--input", "missing.lock"], &command).success().stdout("ran");
    count.assert_runs(1);
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("missing.lock") && stderr.contains("absent"),
        "-v does not say the input is absent: {stderr:?}"
    );
    assert!(entry(&env, &absent).is_file(), "run did not use the key `key` printed");
    run(&env, &["--input", "missing.lock"], &command).success().stdout("ran");
    count.assert_runs(1);

    // Absent, empty and present are three different keys.
    write(&env.work.join("missing.lock"), "");
    let empty = key(&env, &opts, &command);
    write(&env.work.join("missing.lock"), "v1");
    let present = key(&env, &opts, &command);
    assert_ne!(absent, empty);
    assert_ne!(empty, present);
    assert_ne!(absent, present);
    run(&env, &["--input", "missing.lock"], &command).success().stdout("ran");
    count.assert_runs(2);
}

#[test]
fn a_glob_matching_nothing_is_an_empty_set() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = count.prints("ok");
    let opts = ["--input", "gen/**/*.proto"];
    let empty = key(&env, &opts, &command);
    assert_eq!(key(&env, &opts, &command), empty);

    run(&env, &opts, &command).success().stdout("ok").stderr("");
    run(&env, &opts, &command).success().stdout("ok");
    count.assert_runs(1);
    assert!(entry(&env, &empty).is_file());

    // The (empty) input set is part of the key, and a match changes it.
    assert_ne!(key(&env, &[], &command), empty);
    write(&env.work.join("gen/x/a.proto"), "syntax");
    assert_ne!(key(&env, &opts, &command), empty);
}

#[test]
fn a_bad_glob_is_a_usage_error_naming_the_pattern() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = count.prints("x");
    for pattern in ["src/[", "src/{a,b"] {
        run(&env, &["--input", pattern], &command)
            .code(125)
            .stdout("")
            .stderr(predicate::str::contains(pattern));
        cc(&env)
            .arg("key")
            .args(harness::with_command(&["--input", pattern], &command))
            .assert()
            .code(125)
            .stderr(predicate::str::contains(pattern));
    }
    count.assert_runs(0);
}

#[test]
fn inputs_are_relative_so_no_cwd_keys_match_across_identical_trees() {
    let env = TestEnv::new();
    let a = env.path().join("checkout-a");
    let b = env.path().join("checkout-b");
    for dir in [&a, &b] {
        write(&dir.join("src/lib.rs"), "pub fn f() {}");
        write(&dir.join("src/nested/mod.rs"), "mod x;");
        write(&dir.join("Cargo.lock"), "lock");
    }
    let command: Vec<OsString> = vec!["make".into()];
    let opts = ["--no-cwd", "--input", "src", "--input", "Cargo.lock", "--input", "**/*.rs"];
    let ka = key_in(&env, &a, &opts, &command);
    let kb = key_in(&env, &b, &opts, &command);
    assert_eq!(ka, kb, "identical trees in two dirs gave different --no-cwd keys");

    // With the cwd keyed they differ; with a differing tree they differ.
    let with_cwd = &opts[1..];
    assert_ne!(key_in(&env, &a, with_cwd, &command), key_in(&env, &b, with_cwd, &command));
    write(&b.join("src/nested/mod.rs"), "mod y;");
    assert_ne!(key_in(&env, &b, &opts, &command), ka);
}

// ---------------------------------------------------------------- --modtime

#[test]
fn modtime_keys_the_mtime_only() {
    let env = TestEnv::new();
    let file = env.work.join("db.sqlite");
    write(&file, "AAAA");
    set_mtime(&file, 600);
    let stamp = FileTime::from_last_modification_time(&fs::metadata(&file).unwrap());
    let command: Vec<OsString> = vec!["true".into()];
    let opts = ["--modtime", "db.sqlite"];
    let base = key(&env, &opts, &command);

    // Content changed, mtime put back: same key (content is not read).
    write(&file, "BBBBBBBB");
    filetime::set_file_mtime(&file, stamp).unwrap();
    assert_eq!(key(&env, &opts, &command), base, "--modtime keyed the content");

    // Touch: new key.
    set_mtime(&file, 5);
    let touched = key(&env, &opts, &command);
    assert_ne!(touched, base, "--modtime ignored the mtime");

    // Absent is its own key, and the command still runs.
    fs::remove_file(&file).unwrap();
    let absent = key(&env, &opts, &command);
    assert_ne!(absent, base);
    assert_ne!(absent, touched);
    run(&env, &opts, &["echo".into(), "hi".into()]).success().stdout("hi\n");
}

// ---------------------------------------------------------------- --stdin

#[test]
fn stdin_is_keyed_and_fed_to_the_command() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = count.sh("tr a-z A-Z");
    let with_stdin =
        |input: &str| env.run(&command).opt("--stdin").env("CACHECMD_DIR", env.root()).stdin(input);
    with_stdin("hello\n").assert().expect_miss().success().stdout("HELLO\n");
    count.assert_runs(1);
    with_stdin("hello\n").assert().expect_hit().success().stdout("HELLO\n");
    count.assert_runs(1);
    with_stdin("world\n").assert().expect_miss().success().stdout("WORLD\n");
    count.assert_runs(2);
    with_stdin("").assert().expect_miss().success().stdout("");
    count.assert_runs(3);

    let k_hello = with_stdin("hello\n").key();
    let k_world = with_stdin("world\n").key();
    assert_ne!(k_hello, k_world);
    assert!(entry(&env, &k_hello).is_file(), "run keyed stdin differently from `key`");
}

#[test]
fn stdin_bytes_reach_the_command_exactly_even_binary_and_large() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = count.sh("cat");
    // 1.5 MiB: every byte value, NULs and no trailing newline.
    let big = harness::noise(3 << 19, 1);
    for _ in 0..2 {
        let out = cc(&env)
            .args(harness::with_command(&["--stdin"], &command))
            .write_stdin(big.clone())
            .output()
            .unwrap();
        assert!(out.status.success(), "{:?}", String::from_utf8_lossy(&out.stderr));
        assert!(
            out.stdout == big,
            "command received {} bytes, not the exact input",
            out.stdout.len()
        );
    }
    count.assert_runs(1);

    // One flipped byte in the middle is a different key.
    let mut other = big.clone();
    other[big.len() / 2] ^= 1;
    let out = cc(&env)
        .args(harness::with_command(&["--stdin"], &command))
        .write_stdin(other.clone())
        .output()
        .unwrap();
    assert!(out.stdout == other);
    count.assert_runs(2);
}

// ---------------------------------------------------------------- --stale / --warm

#[test]
fn a_stale_entry_is_served_at_once_then_refreshed_in_the_background() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let value = env.path().join("value");
    write(&value, "old");
    // Slow enough that serving it synchronously would be visible.
    let command = count.sh(&format!("sleep 3; cat '{}'", value.display()));
    let opts = ["--ttl", "1h", "--stale", "10m"];
    run(&env, &opts, &command).success().stdout("old");
    let key = key(&env, &[], &command);

    // Young: a plain hit, no refresh.
    run(&env, &opts, &command).success().stdout("old");
    count.assert_runs(1);

    age(&env, &key, 20 * 60);
    write(&value, "new");
    let started = Instant::now();
    let out = run(&env, &["-v", "--ttl", "1h", "--stale", "10m"], &command).success().stdout("old");
    let took = started.elapsed();
    assert!(took < Duration::from_millis(2500), "stale hit waited for the command: {took:?}");
    assert!(stderr_of(&out).contains("hit"), "{}", stderr_of(&out));

    wait_for("the background refresh", || {
        entry_age(&env, &key).is_some_and(|a| a < Duration::from_secs(60))
    });
    run(&env, &opts, &command).success().stdout("new");
    count.assert_runs(2);
}

#[test]
fn concurrent_stale_hits_start_exactly_one_refresh() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = count.sh("sleep 1; echo v");
    let opts = ["--ttl", "1h", "--stale", "5m"];
    run(&env, &opts, &command).success().stdout("v\n");
    let key = key(&env, &[], &command);
    age(&env, &key, 30 * 60);

    let mut children: Vec<_> = (0..10)
        .map(|_| {
            let mut cmd = env.std_cmd();
            cmd.env("CACHECMD_DIR", env.root())
                .args(harness::with_command(&opts, &command))
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::null());
            cmd.spawn().unwrap()
        })
        .collect();
    for child in children.drain(..) {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        assert_eq!(out.stdout, b"v\n", "a stale hit did not serve the old entry");
    }
    wait_for("the background refresh", || {
        entry_age(&env, &key).is_some_and(|a| a < Duration::from_secs(60))
    });
    // Any further refresh would have started by now (they are spawned
    // before the hits return); give them time to show up in the counter.
    std::thread::sleep(Duration::from_millis(1500));
    count.assert_runs(2);
}

#[test]
fn a_failed_refresh_keeps_the_old_entry() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let value = env.path().join("value");
    let code = env.path().join("code");
    let done = env.path().join("done");
    write(&value, "old");
    let command = count.sh(&format!(
        "cat '{v}'; touch '{d}'; exit $(cat '{c}' 2>/dev/null || echo 0)",
        v = value.display(),
        c = code.display(),
        d = done.display()
    ));
    let opts = ["--ttl", "1h", "--stale", "10m"];
    run(&env, &opts, &command).success().stdout("old");
    let key = key(&env, &[], &command);
    let _ = fs::remove_file(&done);
    age(&env, &key, 20 * 60);
    let aged = fs::metadata(entry(&env, &key)).unwrap().modified().unwrap();

    write(&value, "new");
    write(&code, "3");
    run(&env, &opts, &command).success().stdout("old");
    wait_for("the background refresh to run", || done.exists());
    // Let the refresh finish deciding (it must not publish).
    std::thread::sleep(Duration::from_millis(300));
    count.assert_runs(2);
    assert_eq!(
        fs::metadata(entry(&env, &key)).unwrap().modified().unwrap(),
        aged,
        "the failed refresh touched or replaced the entry"
    );
    let out = run(&env, &["-v", "--ttl", "1h"], &command).success().stdout("old");
    assert!(stderr_of(&out).contains("hit"), "{}", stderr_of(&out));
    count.assert_runs(2);
}

/// The detached refresh (`cachecmd --refresh ...`, what `--stale` starts)
/// re-checks the entry: one that another refresh already renewed is left alone.
#[test]
fn a_refresh_that_finds_the_entry_renewed_does_nothing() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = count.prints("v");
    let opts = ["--ttl", "1h", "--stale", "10m"];
    run(&env, &opts, &command).success();
    let key = key(&env, &[], &command);
    let refresh = |env: &TestEnv| {
        cc(env).arg("--refresh").args(harness::with_command(&opts, &command)).assert().success()
    };
    // Young: nothing to do. (Its stdout is /dev/null when detached.)
    refresh(&env);
    count.assert_runs(1);
    // Stale: it runs and renews the entry.
    age(&env, &key, 20 * 60);
    refresh(&env);
    count.assert_runs(2);
    assert!(entry_age(&env, &key).unwrap() < Duration::from_secs(60));
    refresh(&env);
    count.assert_runs(2);
}

#[test]
fn warm_prints_nothing_exits_zero_and_fills_the_entry() {
    let env = TestEnv::new();
    let count = env.counter("c");
    // Slow enough that waiting for it is told apart from a loaded machine.
    let command = count.sh("sleep 3; echo warmed; echo noise >&2; exit 0");
    let key = key(&env, &[], &command);
    let started = Instant::now();
    run(&env, &["--warm"], &command).code(0).stdout("").stderr("");
    assert!(started.elapsed() < Duration::from_millis(2500), "--warm waited for the command");
    wait_for("the warmed entry", || entry(&env, &key).is_file());
    run(&env, &[], &command).success().stdout("warmed\n").stderr("noise\n");
    count.assert_runs(1);

    // Warming an existing entry refreshes it, still silently.
    age(&env, &key, 600);
    run(&env, &["--warm"], &command).code(0).stdout("").stderr("");
    wait_for("the re-warmed entry", || {
        entry_age(&env, &key).is_some_and(|a| a < Duration::from_secs(60))
    });
    count.assert_runs(2);

    // Even a failing command: exit 0, silent.
    run(&env, &["--warm"], &["sh".into(), "-c".into(), "echo x; exit 9".into()])
        .code(0)
        .stdout("")
        .stderr("");
}

// ---------------------------------------------------------------- --stale-if-error

#[test]
fn stale_if_error_serves_the_last_good_entry_within_the_grace_window() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let value = env.path().join("value");
    let code = env.path().join("code");
    write(&value, "good\n");
    let command = reads(&count, &value, &code);
    run(&env, &["--ttl", "10m"], &command).success().stdout("good\n").stderr("err\n");
    let key = key(&env, &[], &command);

    write(&value, "bad\n");
    write(&code, "3");
    // Expired 5 minutes ago, grace 1h: the old entry, its exit code, no trace of the failure.
    age(&env, &key, 15 * 60);
    let out = run(&env, &["-v", "--ttl", "10m", "--stale-if-error", "1h"], &command)
        .code(0)
        .stdout("good\n");
    count.assert_runs(2);
    let stderr = stderr_of(&out);
    assert!(stderr.starts_with("err\n"), "old entry's stderr not replayed: {stderr:?}");
    assert!(stderr.contains("stale-if-error"), "-v does not say so: {stderr:?}");
    assert_eq!(stderr.matches("err\n").count(), 1, "failed run's stderr leaked: {stderr:?}");
    // The good entry is kept, not replaced by the failure.
    assert!(entry_age(&env, &key).unwrap() > Duration::from_secs(14 * 60));

    // Expired 2h ago, grace 1h: the run's own failure.
    age(&env, &key, 2 * 3600 + 600);
    run(&env, &["--ttl", "10m", "--stale-if-error", "1h"], &command)
        .code(3)
        .stdout("bad\n")
        .stderr("err\n");
    count.assert_runs(3);

    // Inside the window but the run succeeds: the new output, recorded.
    age(&env, &key, 15 * 60);
    write(&code, "0");
    run(&env, &["--ttl", "10m", "--stale-if-error", "1h"], &command).success().stdout("bad\n");
    count.assert_runs(4);
    run(&env, &["--ttl", "10m"], &command).success().stdout("bad\n");
    count.assert_runs(4);
}

// ---------------------------------------------------------------- --retry

/// Prints `out N` / `err N` for attempt N and succeeds from attempt `ok_from`.
fn flaky(count: &Counter, ok_from: u32, code: u32) -> Vec<OsString> {
    count.sh(&format!(
        "n=$(wc -l < '{}'); echo out $n; echo err $n >&2; [ $n -ge {ok_from} ] || exit {code}",
        count.path.display()
    ))
}

#[test]
fn retry_emits_only_the_final_attempt() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = flaky(&count, 3, 1);
    run(&env, &["--retry", "2", "--retry-delay", "10ms"], &command)
        .success()
        .stdout("out 3\n")
        .stderr("err 3\n");
    count.assert_runs(3);
    // The success was recorded.
    run(&env, &["--retry", "2"], &command).success().stdout("out 3\n").stderr("err 3\n");
    count.assert_runs(3);
}

#[test]
fn exhausted_retries_return_the_last_failure() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = flaky(&count, 99, 7);
    run(&env, &["--retry", "2", "--retry-delay", "10ms"], &command)
        .code(7)
        .stdout("out 3\n")
        .stderr("err 3\n");
    count.assert_runs(3);
    // Not cached (no --failure-ttl): runs again.
    run(&env, &["--retry", "0"], &command).code(7).stdout("out 4\n");
    count.assert_runs(4);
}

#[test]
fn retry_delay_doubles() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = flaky(&count, 3, 1);
    // The test clock makes backoff sleeps no-ops that `-v` still reports:
    // an hour's delay would otherwise outlast the harness timeout.
    cc(&env)
        .env("CACHECMD_TEST_NOW", unix_now().to_string())
        .args(harness::with_command(&["-v", "--retry", "2", "--retry-delay", "1h"], &command))
        .assert()
        .success()
        .stdout("out 3\n")
        .stderr(predicate::str::contains("3 attempts (backoff 1h, 2h)"));
    count.assert_runs(3);
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

// ---------------------------------------------------------------- --expires-at

fn rfc3339(at: SystemTime) -> String {
    humantime::format_rfc3339_seconds(at).to_string()
}

#[test]
fn expires_at_in_the_past_or_unparsable_is_a_usage_error() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = count.prints("x");
    let past = rfc3339(SystemTime::now() - Duration::from_secs(60));
    for bad in [past.as_str(), "2001-01-01T00:00:00Z", "tomorrowish", "25:61", ""] {
        run(&env, &["--expires-at", bad], &command)
            .code(125)
            .stdout("")
            .stderr(predicate::str::contains("--expires-at"));
    }
    count.assert_runs(0);
    // A local time of day is accepted.
    run(&env, &["--expires-at", "17:00"], &command).success().stdout("x");
}

#[test]
fn an_entry_is_not_served_after_its_expires_at_instant() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = count.prints("x");
    let now = unix_now();
    let at_text = rfc3339(UNIX_EPOCH + Duration::from_secs(now + 3));
    run(&env, &["--ttl", "1h", "--expires-at", &at_text], &command).success().stdout("x");
    run(&env, &["--ttl", "1h"], &command).success().stdout("x");
    count.assert_runs(1);
    let listed = list_json(&env);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["expired"], false);

    // Past the instant by the test clock, not by waiting for it.
    let later = (now + 4).to_string();
    let out = cc(&env).env("CACHECMD_TEST_NOW", &later).args(["list", "--json"]).output().unwrap();
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed[0]["expired"], true, "list does not see the instant");
    // Any caller (whatever its TTL) now misses.
    cc(&env)
        .env("CACHECMD_TEST_NOW", &later)
        .args(harness::with_command(&["--ttl", "1h"], &command))
        .assert()
        .success()
        .stdout("x");
    count.assert_runs(2);
}

#[test]
fn the_earlier_of_expires_at_and_ttl_wins() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = count.prints("x");
    let far = rfc3339(SystemTime::now() + Duration::from_secs(30 * 86400));
    let opts = ["--ttl", "10m", "--expires-at", far.as_str()];
    run(&env, &opts, &command).success();
    let key = key(&env, &[], &command);
    age(&env, &key, 5 * 60);
    run(&env, &opts, &command).success();
    count.assert_runs(1);
    age(&env, &key, 11 * 60);
    run(&env, &opts, &command).success();
    count.assert_runs(2);
}

fn list_json(env: &TestEnv) -> Vec<serde_json::Value> {
    let out = cc(env).args(["list", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

// ---------------------------------------------------------------- usage errors

#[test]
fn bad_freshness_options_are_usage_errors_naming_the_flag() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = count.prints("x");
    let cases: &[(&[&str], &str)] = &[
        (&["--ttl", "10m", "--stale", "10m"], "--stale"),
        (&["--ttl", "10m", "--stale", "1h"], "--stale"),
        (&["--stale", "2h"], "--stale"), // default ttl 1h
        (&["--retry"], "--retry"),
        (&["--retry", "many"], "--retry"),
        (&["--stdin", "--stale", "1m"], "--stdin"),
        (&["--stdin", "--warm"], "--stdin"),
    ];
    for (opts, flag) in cases {
        let out = run(&env, opts, &command).code(125).stdout("");
        let stderr = stderr_of(&out);
        assert!(stderr.contains(flag), "{opts:?}: stderr does not name {flag}: {stderr:?}");
    }
    count.assert_runs(0);
}

// ---------------------------------------------------------------- key --explain

#[test]
fn key_explain_never_prints_an_environment_value() {
    let env = TestEnv::new();
    let canary = "canary-7f3e9b1c-do-not-print";
    write(&env.work.join("in.txt"), "input");
    let explain = |value: &str| {
        cc(&env)
            .env("CC_SECRET_TOKEN", value)
            .args(["key", "--explain", "--env", "CC_SECRET_TOKEN", "--env", "CC_SECRET_*"])
            .args(["--input", "in.txt", "--input", "gone.txt", "--modtime", "in.txt"])
            .args(["--", "curl", "example"])
            .output()
            .unwrap()
    };
    let out = explain(canary);
    assert!(out.status.success());
    let text = [out.stdout.as_slice(), out.stderr.as_slice()].concat();
    let text = String::from_utf8_lossy(&text).into_owned();
    assert!(!text.contains(canary), "env value printed:\n{text}");
    assert!(!text.contains("7f3e9b1c"), "part of the env value printed:\n{text}");
    assert!(text.contains("CC_SECRET_TOKEN"), "variable name missing:\n{text}");
    assert!(text.contains("in.txt") && text.contains("gone.txt"), "inputs missing:\n{text}");
    assert!(text.contains("absent"), "absent input not shown:\n{text}");

    // The printed key is the plain key; another value shows another digest.
    let plain = String::from_utf8_lossy(&out.stdout).into_owned();
    let other = explain("something-else");
    assert_ne!(plain, String::from_utf8_lossy(&other.stdout), "value not reflected in the key");
    let k = cc(&env)
        .env("CC_SECRET_TOKEN", canary)
        .args(["key", "--env", "CC_SECRET_TOKEN", "--env", "CC_SECRET_*"])
        .args(["--input", "in.txt", "--input", "gone.txt", "--modtime", "in.txt"])
        .args(["--", "curl", "example"])
        .output()
        .unwrap();
    let k = String::from_utf8(k.stdout).unwrap();
    assert!(plain.contains(k.trim()), "--explain shows a different key:\n{plain}");
}

#[test]
fn an_input_run_and_key_agree_and_a_hit_survives_a_touch() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let src = env.work.join("src");
    write(&src.join("a.txt"), "alpha");
    let command = count.sh("cat src/a.txt");
    let opts = ["--input", "src"];
    run(&env, &opts, &command).success().stdout("alpha");
    let k = key(&env, &opts, &command);
    assert!(entry(&env, &k).is_file());

    set_mtime(&src.join("a.txt"), 60);
    run(&env, &opts, &command).success().stdout("alpha");
    count.assert_runs(1);
    write(&src.join("a.txt"), "beta");
    run(&env, &opts, &command).success().stdout("beta");
    count.assert_runs(2);
    write(&src.join("b.txt"), "new file");
    run(&env, &opts, &command).success().stdout("beta");
    count.assert_runs(3);
}
