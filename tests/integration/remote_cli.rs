//! The Redis remote tier end to end, through the real binary: every test
//! starts its own `redis-server` (common_redis) and plays several "machines",
//! each a separate `--cache-dir` in the same working directory, with
//! `--no-cwd` so their keys match.
#![cfg(feature = "redis")]

use crate::harness;
use crate::harness::redis_server;
use crate::harness::remote_checks::{assert_output, key_of, list_remote_json, status, text};

use std::ffi::OsString;
use std::fs;
use std::io::Read;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use harness::{contains, entry_path_in, Counter, TestEnv};
use redis_server::RedisServer;

const MIB: usize = 1 << 20;
const PREFIX: &str = "cachecmd:v1:";

/// The cache dir of one simulated machine.
fn machine(env: &TestEnv, name: &str) -> PathBuf {
    env.path().join(format!("machine-{name}"))
}

/// Options of a run on `cache` sharing through `url`.
fn remote_args(cache: &Path, url: &str) -> Vec<OsString> {
    vec!["--cache-dir".into(), cache.into(), "--no-cwd".into(), "--remote".into(), url.into()]
}

/// `cachecmd [--remote URL --cache-dir CACHE --no-cwd] EXTRA -- ARGV`, waited for.
fn run(env: &TestEnv, cache: &Path, url: &str, extra: &[&str], argv: &[OsString]) -> Output {
    env.cmd().args(remote_args(cache, url)).args(extra).arg("--").args(argv).output().unwrap()
}

/// The same, started in the background with both streams piped.
fn spawn(env: &TestEnv, cache: &Path, url: &str, extra: &[&str], argv: &[OsString]) -> Child {
    env.std_cmd()
        .args(remote_args(cache, url))
        .args(extra)
        .arg("--")
        .args(argv)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn remote_name(key: &str) -> String {
    format!("{PREFIX}{key}")
}

/// `cachecmd stats --json` of one machine.
fn stats(env: &TestEnv, cache: &Path) -> serde_json::Value {
    let out = env.cmd().args(["stats", "--json", "--cache-dir"]).arg(cache).output().unwrap();
    assert!(out.status.success(), "stats: {}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[track_caller]
fn assert_remote_counts(env: &TestEnv, cache: &Path, hits: u64, errors: u64) {
    let stats = stats(env, cache);
    assert_eq!(
        (stats["remote_hits"].as_u64(), stats["remote_errors"].as_u64()),
        (Some(hits), Some(errors)),
        "remote_hits, remote_errors in {stats:#}"
    );
}

/// Every key on the server with its raw value (`GET` for strings, `DUMP`
/// otherwise); keys that expire in between are skipped.
fn contents(server: &RedisServer) -> Vec<(String, Vec<u8>)> {
    let mut conn = server.admin();
    let mut all = Vec::new();
    for key in server.keys() {
        let kind: String = redis::cmd("TYPE").arg(&key).query(&mut conn).unwrap();
        let command = if kind == "string" { "GET" } else { "DUMP" };
        let value: Option<Vec<u8>> = redis::cmd(command).arg(&key).query(&mut conn).unwrap();
        if let Some(value) = value {
            all.push((key, value));
        }
    }
    all
}

fn get(server: &RedisServer, name: &str) -> Option<Vec<u8>> {
    redis::cmd("GET").arg(name).query(&mut server.admin()).unwrap()
}

fn set(server: &RedisServer, name: &str, value: &[u8]) {
    redis::cmd("SET").arg(name).arg(value).exec(&mut server.admin()).unwrap();
}

/// A counted command printing exactly `stdout` and `stderr` (from files
/// written now) and exiting `code`.
fn exact_command(
    env: &TestEnv,
    counter: &Counter,
    stdout: &[u8],
    stderr: &[u8],
    code: i32,
) -> Vec<OsString> {
    let out = env.path().join("cmd.out");
    let err = env.path().join("cmd.err");
    fs::write(&out, stdout).unwrap();
    fs::write(&err, stderr).unwrap();
    counter.sh(&format!("cat '{}'; cat '{}' >&2; exit {code}", out.display(), err.display()))
}

/// A port that accepts connections and never answers on them.
fn blackhole() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            match stream {
                Ok(stream) => held.push(stream),
                Err(_) => break,
            }
        }
    });
    port
}

/// Waits for `child` (reading its pipes) up to `limit`; kills it and fails
/// past that.
#[track_caller]
fn wait_bounded(what: &str, child: Child, limit: Duration) -> (Output, Duration) {
    let start = Instant::now();
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    if let Ok(out) = rx.recv_timeout(limit) {
        return (out.unwrap(), start.elapsed());
    }
    // SAFETY: kill(2) has no memory-safety preconditions.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
    }
    let out = rx.recv().unwrap().unwrap();
    panic!(
        "{what}: cachecmd still running after {limit:?} (killed); {} bytes of stdout, stderr {:?}",
        out.stdout.len(),
        text(&out.stderr)
    );
}

const STDOUT: &[u8] = b"line one\n\x00binary \xff\xfe bytes\r\nno final newline";
const STDERR: &[u8] = b"warning: \xe2\x9c\x93 something on stderr\n";

#[test]
fn a_second_machine_replays_the_first_ones_run_without_running() {
    let server = RedisServer::start();
    let env = TestEnv::new();
    let counter = env.counter("exact");
    // A failure, cached on both machines through --failure-ttl.
    let argv = exact_command(&env, &counter, STDOUT, STDERR, 3);
    let (a, b) = (machine(&env, "a"), machine(&env, "b"));
    let flags = ["--failure-ttl", "1h"];

    let first = run(&env, &a, &server.url(), &flags, &argv);
    assert_output(&first, STDOUT, 3);
    assert_eq!(first.stderr, STDERR);
    counter.assert_runs(1);
    let key = key_of(&env, &argv);
    assert_eq!(server.keys(), vec![remote_name(&key)], "exactly the entry, no lock left");
    // The remote value is the very bytes of the local entry.
    assert!(
        get(&server, &remote_name(&key)).unwrap() == fs::read(entry_path_in(&a, &key)).unwrap()
    );

    let second = run(&env, &b, &server.url(), &flags, &argv);
    counter.assert_runs(1);
    assert_output(&second, STDOUT, 3);
    assert_eq!(second.stderr, STDERR, "stderr replayed byte for byte, nothing added");

    // A third machine, with -v, says where the answer came from.
    let c = machine(&env, "c");
    let third = run(&env, &c, &server.url(), &["-v", "--failure-ttl", "1h"], &argv);
    counter.assert_runs(1);
    assert_output(&third, STDOUT, 3);
    assert!(third.stderr.starts_with(STDERR));
    assert!(status(&third).contains("remote hit"), "{}", status(&third));

    // stats: the remote hits count on the machines that had them.
    assert_remote_counts(&env, &a, 0, 0);
    assert_remote_counts(&env, &b, 1, 0);
    let b_stats = stats(&env, &b);
    assert_eq!((b_stats["hits"].as_u64(), b_stats["misses"].as_u64()), (Some(1), Some(0)));
    assert_eq!(stats(&env, &a)["misses"].as_u64(), Some(1));
}

#[test]
fn a_remote_hit_is_written_through_to_the_local_tier() {
    let mut server = RedisServer::start();
    let env = TestEnv::new();
    let counter = env.counter("through");
    let argv = counter.prints("through the tiers\n");
    let (a, b) = (machine(&env, "a"), machine(&env, "b"));

    assert_output(&run(&env, &a, &server.url(), &[], &argv), b"through the tiers\n", 0);
    let remote_hit = run(&env, &b, &server.url(), &["-v"], &argv);
    assert_output(&remote_hit, b"through the tiers\n", 0);
    assert!(status(&remote_hit).contains("remote hit"), "{}", status(&remote_hit));
    let key = key_of(&env, &argv);
    assert!(entry_path_in(&b, &key).is_file(), "the remote hit left no local entry");

    // With the server gone, machine b still answers, from its own disk.
    let url = server.url();
    server.kill();
    let local = run(&env, &b, &url, &["-v"], &argv);
    assert_output(&local, b"through the tiers\n", 0);
    let line = status(&local);
    assert!(line.starts_with("cachecmd: hit"), "{line}");
    assert!(!line.contains("remote"), "a local hit touched the remote: {line}");
    counter.assert_runs(1);
    assert_remote_counts(&env, &b, 1, 0);
}

#[test]
fn a_remote_hit_keeps_its_original_age() {
    let server = RedisServer::start();
    let env = TestEnv::new();
    let counter = env.counter("age");
    let argv = counter.sh("sleep 1.3; printf aged");
    let (a, b, c) = (machine(&env, "a"), machine(&env, "b"), machine(&env, "c"));
    let started = SystemTime::now();
    assert_output(&run(&env, &a, &server.url(), &[], &argv), b"aged", 0);

    // The local copy's mtime (its age) is the entry's creation, before the
    // 1.3 s run, not the moment it was fetched.
    let fetched = run(&env, &b, &server.url(), &["-v"], &argv);
    assert_output(&fetched, b"aged", 0);
    let line = status(&fetched);
    // Created (whole seconds) before a 1.3 s run: 1 or 2 s old when fetched.
    assert!(line.contains("remote hit, age 1s") || line.contains("remote hit, age 2s"), "{line}");
    let mtime = fs::metadata(entry_path_in(&b, &key_of(&env, &argv))).unwrap().modified().unwrap();
    let started_secs = started.duration_since(UNIX_EPOCH).unwrap().as_secs();
    let mtime_secs = mtime.duration_since(UNIX_EPOCH).unwrap().as_secs();
    assert!(
        mtime_secs <= started_secs + 1,
        "local copy dated {mtime_secs}, the run started at {started_secs}"
    );
    counter.assert_runs(1);

    // Older than this caller's TTL: not served, the command runs.
    let strict = run(&env, &c, &server.url(), &["-v", "--ttl", "1s"], &argv);
    assert_output(&strict, b"aged", 0);
    assert!(!status(&strict).contains("remote hit"), "{}", status(&strict));
    counter.assert_runs(2);
}

#[test]
fn twenty_concurrent_misses_on_two_machines_run_the_command_once() {
    let server = RedisServer::start();
    let env = TestEnv::new();
    let counter = env.counter("flight");
    let argv = counter.sh("sleep 1; printf 'computed once\\n'");
    let (a, b) = (machine(&env, "a"), machine(&env, "b"));
    let start = Instant::now();
    let children: Vec<Child> = (0..20)
        .map(|i| spawn(&env, if i % 2 == 0 { &a } else { &b }, &server.url(), &["-v"], &argv))
        .collect();
    let outputs: Vec<Output> = children
        .into_iter()
        .map(|c| wait_bounded("concurrent miss", c, Duration::from_secs(30)).0)
        .collect();
    let elapsed = start.elapsed();
    for out in &outputs {
        assert_output(out, b"computed once\n", 0);
    }
    let lines: Vec<String> = outputs.iter().map(status).collect();
    counter.assert_runs(1);
    assert!(elapsed < Duration::from_secs(8), "took {elapsed:?}: {lines:#?}");
    assert_eq!(lines.iter().filter(|l| l.contains("shared remotely")).count(), 1, "{lines:#?}");
    let key = key_of(&env, &argv);
    assert_eq!(server.keys(), vec![remote_name(&key)], "the entry only, the lock released");
}

#[test]
fn a_server_killed_mid_run_changes_nothing_but_the_sharing() {
    let mut server = RedisServer::start();
    let env = TestEnv::new();
    let counter = env.counter("killed");
    let argv = counter.sh("sleep 2; printf 'survived\\n'; printf 'e\\n' >&2; exit 4");
    let a = machine(&env, "a");
    let child = spawn(&env, &a, &server.url(), &["-v", "--failure-ttl", "1h"], &argv);
    // Let it look up, lock and start the command, then pull the plug.
    std::thread::sleep(Duration::from_millis(700));
    server.kill();
    let (out, elapsed) = wait_bounded("killed server", child, Duration::from_secs(20));
    assert_output(&out, b"survived\n", 4);
    assert!(out.stderr.starts_with(b"e\n"), "{}", text(&out.stderr));
    let line = status(&out);
    assert!(line.contains("recorded (exit 4)"), "{line}");
    assert!(line.contains("remote write failed"), "{line}");
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    counter.assert_runs(1);
    assert_remote_counts(&env, &a, 0, 1);

    // Recorded locally all the same.
    let again = run(&env, &a, &server.url(), &["--failure-ttl", "1h"], &argv);
    assert_output(&again, b"survived\n", 4);
    counter.assert_runs(1);
}

#[test]
fn a_server_that_never_answers_costs_one_bounded_timeout() {
    let port = blackhole();
    let url = format!("redis://127.0.0.1:{port}/0");
    let env = TestEnv::new();
    let counter = env.counter("blackhole");
    let argv = exact_command(&env, &counter, STDOUT, STDERR, 0);
    let a = machine(&env, "a");
    let start = Instant::now();
    let (out, _) =
        wait_bounded("blackhole", spawn(&env, &a, &url, &["-v"], &argv), Duration::from_secs(30));
    let elapsed = start.elapsed();
    assert_output(&out, STDOUT, 0);
    assert!(out.stderr.starts_with(STDERR));
    let line = status(&out);
    assert!(line.contains("remote lookup failed ("), "{line}");
    assert!(elapsed < Duration::from_secs(5), "a blackholed remote took {elapsed:?}: {line}");
    counter.assert_runs(1);
    assert_remote_counts(&env, &a, 0, 1);
    // The run was recorded locally: the next one is a plain local hit.
    let hit = run(&env, &a, &url, &["-v"], &argv);
    assert_output(&hit, STDOUT, 0);
    assert!(status(&hit).starts_with("cachecmd: hit"), "{}", status(&hit));
    counter.assert_runs(1);
}

#[test]
fn a_full_server_keeps_the_output_whole_and_holds_nothing() {
    let server =
        RedisServer::start_with(&["--maxmemory", "1mb", "--maxmemory-policy", "noeviction"], None);
    let env = TestEnv::new();
    let counter = env.counter("full");
    let big = harness::noise(2 * MIB, 42);
    let argv = exact_command(&env, &counter, &big, b"", 0);
    let a = machine(&env, "a");

    let (out, _) = wait_bounded(
        "full server",
        spawn(&env, &a, &server.url(), &["-v"], &argv),
        Duration::from_secs(30),
    );
    assert_output(&out, &big, 0);
    let line = status(&out);
    assert!(line.contains("recorded (exit 0)"), "{line}");
    assert!(line.contains("remote write failed") && line.contains("OOM"), "{line}");
    for (key, value) in contents(&server) {
        assert!(value.len() < 4096, "{key} holds {} bytes", value.len());
    }
    counter.assert_runs(1);
    assert_remote_counts(&env, &a, 0, 1);

    // Another machine is not held up by anything the failed run left
    // behind, neither while the server is full nor once it has room again
    // (a lock left by the failed run would make it wait --lock-timeout).
    for (name, room) in [("b", false), ("c", true)] {
        if room {
            redis::cmd("CONFIG")
                .arg("SET")
                .arg("maxmemory")
                .arg("0")
                .exec(&mut server.admin())
                .unwrap();
        }
        let other = spawn(&env, &machine(&env, name), &server.url(), &["-v"], &argv);
        let (out, elapsed) = wait_bounded(
            &format!("machine {name} (room: {room}), keys {:?}", server.keys()),
            other,
            Duration::from_secs(10),
        );
        assert_output(&out, &big, 0);
        assert!(
            elapsed < Duration::from_secs(5),
            "machine {name} (room: {room}) took {elapsed:?}: {}; keys {:?}",
            status(&out),
            server.keys()
        );
    }
    counter.assert_runs(3);
}

#[test]
fn a_server_refusing_writes_is_one_counted_remote_error() {
    // Over its memory limit from the start: reads work, every write is OOM.
    let server =
        RedisServer::start_with(&["--maxmemory", "1", "--maxmemory-policy", "noeviction"], None);
    let env = TestEnv::new();
    let counter = env.counter("refusing");
    let argv = exact_command(&env, &counter, STDOUT, STDERR, 0);
    let a = machine(&env, "a");
    let out = run(&env, &a, &server.url(), &["-v"], &argv);
    assert_output(&out, STDOUT, 0);
    assert!(out.stderr.starts_with(STDERR));
    let line = status(&out);
    assert!(line.contains("OOM"), "{line}");
    assert_eq!(server.dbsize(), 0);
    counter.assert_runs(1);
    // The run's remote failure shows in stats like any other.
    assert_remote_counts(&env, &a, 0, 1);
}

#[test]
fn corrupted_remote_values_are_misses_and_get_replaced() {
    let server = RedisServer::start();
    let env = TestEnv::new();
    let counter = env.counter("corrupt");
    let argv = exact_command(&env, &counter, STDOUT, STDERR, 0);
    let key = key_of(&env, &argv);
    let name = remote_name(&key);
    let (a, b, c) = (machine(&env, "a"), machine(&env, "b"), machine(&env, "c"));

    // Garbage at a valid key.
    set(&server, &name, b"garbage, not an entry");
    let out = run(&env, &a, &server.url(), &["-v"], &argv);
    assert_output(&out, STDOUT, 0);
    assert!(out.stderr.starts_with(STDERR));
    let line = status(&out);
    assert!(line.contains("remote entry rejected"), "{line}");
    assert!(line.contains("shared remotely"), "{line}");
    counter.assert_runs(1);
    let real = get(&server, &name).unwrap();
    assert!(real == fs::read(entry_path_in(&a, &key)).unwrap(), "garbage not replaced");

    // A real entry cut short.
    let truncated = &real[..real.len() - 7];
    set(&server, &name, truncated);
    let out = run(&env, &b, &server.url(), &["-v"], &argv);
    assert_output(&out, STDOUT, 0);
    assert!(status(&out).contains("remote entry rejected"), "{}", status(&out));
    counter.assert_runs(2);
    let replaced = get(&server, &name).unwrap();
    assert!(replaced == fs::read(entry_path_in(&b, &key)).unwrap(), "truncation not replaced");

    // And the replacement is good: a third machine hits it.
    let out = run(&env, &c, &server.url(), &["-v"], &argv);
    assert_output(&out, STDOUT, 0);
    assert!(status(&out).contains("remote hit"), "{}", status(&out));
    counter.assert_runs(2);
    assert_remote_counts(&env, &a, 0, 0);
}

#[test]
fn read_only_machines_read_but_never_write() {
    let server = RedisServer::start();
    let env = TestEnv::new();
    let counter = env.counter("ro");
    let (ro, rw, ro_env) = (machine(&env, "ro"), machine(&env, "rw"), machine(&env, "ro-env"));

    // A read-only miss: runs, records locally, writes nothing remotely.
    let only_local = counter.prints("local only");
    let out = run(&env, &ro, &server.url(), &["-v", "--remote-read-only"], &only_local);
    assert_output(&out, b"local only", 0);
    assert!(status(&out).contains("not shared (remote is read-only)"), "{}", status(&out));
    assert_eq!(server.dbsize(), 0, "read-only run wrote {:?}", server.keys());
    assert!(entry_path_in(&ro, &key_of(&env, &only_local)).is_file());

    // A writer shares an entry; read-only machines are served it.
    let shared = counter.prints("shared");
    assert_output(&run(&env, &rw, &server.url(), &[], &shared), b"shared", 0);
    counter.assert_runs(2);
    let before = contents(&server);
    assert_eq!(before.len(), 1);
    let out = run(&env, &ro, &server.url(), &["-v", "--remote-read-only"], &shared);
    assert_output(&out, b"shared", 0);
    assert!(status(&out).contains("remote hit"), "{}", status(&out));

    // The same through CACHECMD_REMOTE / CACHECMD_REMOTE_READ_ONLY.
    let via_env = |argv: &[OsString]| {
        env.cmd()
            .env("CACHECMD_REMOTE", server.url())
            .env("CACHECMD_REMOTE_READ_ONLY", "1")
            .arg("--cache-dir")
            .arg(&ro_env)
            .args(["--no-cwd", "-v", "--"])
            .args(argv)
            .output()
            .unwrap()
    };
    let out = via_env(&shared);
    assert_output(&out, b"shared", 0);
    assert!(status(&out).contains("remote hit"), "{}", status(&out));
    let fresh = counter.prints("fresh");
    assert_output(&via_env(&fresh), b"fresh", 0);
    counter.assert_runs(3);
    assert!(contents(&server) == before, "read-only runs changed the server: {:?}", server.keys());
    assert_remote_counts(&env, &ro, 1, 0);
}

#[test]
fn environment_values_never_reach_redis() {
    const CANARY: &str = "CANARY-7c1f0e93-do-not-store";
    let server = RedisServer::start();
    let env = TestEnv::new();
    let counter = env.counter("canary");
    let argv = counter.sh("sleep 1; printf 'uses $SECRET without printing it\\n'");
    let a = machine(&env, "a");
    let child = env
        .std_cmd()
        .env("SECRET", CANARY)
        .args(remote_args(&a, &server.url()))
        .args(["--env", "SECRET", "-v", "--"])
        .args(&argv)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let check = |when: &str| {
        let all = contents(&server);
        for (key, value) in &all {
            assert!(!key.contains(CANARY), "{when}: key {key} holds the canary");
            assert!(!contains(value, CANARY.as_bytes()), "{when}: value of {key} holds the canary");
        }
        all.len()
    };
    // While the command runs (the lock is held), then after.
    std::thread::sleep(Duration::from_millis(400));
    assert!(check("mid-run") >= 1, "no lock key during the run");
    let (out, _) = wait_bounded("canary", child, Duration::from_secs(20));
    assert_output(&out, b"uses $SECRET without printing it\n", 0);
    assert!(status(&out).contains("shared remotely"), "{}", status(&out));
    assert_eq!(check("after"), 1);
    let mut local = String::new();
    for file in harness::files_under(&a) {
        let mut bytes = Vec::new();
        fs::File::open(&file).unwrap().read_to_end(&mut bytes).unwrap();
        assert!(!contains(&bytes, CANARY.as_bytes()), "{} holds the canary", file.display());
        local.push_str(&file.display().to_string());
    }
    assert!(!local.contains(CANARY));
    assert!(!contains(&out.stderr, CANARY.as_bytes()));
}

#[test]
fn the_password_is_never_printed() {
    const PASSWORD: &str = "Sekr1t-Qx9w-pass";
    const WRONG: &str = "Wr0ng-Zy4k-pass";
    // Both forms a password may take in a URL: plain and percent-encoded.
    let fragments = ["Sekr1t", "ekr1t-Qx9w", "Wr0ng", "r0ng-Zy4k"];
    let server = RedisServer::start_with_password(PASSWORD);
    let env = TestEnv::new();
    let counter = env.counter("password");
    let argv = counter.prints("authenticated");
    let key = key_of(&env, &argv);
    let url = server.url();
    let with_password = |password: &str| url.replacen("://", &format!("://:{password}@"), 1);
    let mut seen: Vec<(String, Output)> = Vec::new();

    // The password from CACHECMD_REMOTE_PASSWORD.
    let a = machine(&env, "a");
    let out = env
        .cmd()
        .env("CACHECMD_REMOTE_PASSWORD", PASSWORD)
        .args(remote_args(&a, &url))
        .args(["-v", "--"])
        .args(&argv)
        .output()
        .unwrap();
    assert_output(&out, b"authenticated", 0);
    assert!(status(&out).contains("shared remotely"), "{}", status(&out));
    seen.push(("env password run".into(), out));
    assert_eq!(server.keys(), vec![remote_name(&key)]);

    // In the URL, plain, with a user name, and percent-encoded.
    let plain = with_password(PASSWORD);
    let user = url.replacen("://", &format!("://default:{PASSWORD}@"), 1);
    let encoded = with_password(&PASSWORD.replacen('S', "%53", 1));
    for (i, url) in [&plain, &user, &encoded].into_iter().enumerate() {
        let out = run(&env, &machine(&env, &format!("url{i}")), url, &["-v"], &argv);
        assert_output(&out, b"authenticated", 0);
        assert!(status(&out).contains("remote hit"), "url form {i}: {}", status(&out));
        seen.push((format!("url form {i} run"), out));
    }
    counter.assert_runs(1);

    // Wrong passwords: a failed remote, an unchanged run, nothing printed.
    let wrong_env = env
        .cmd()
        .env("CACHECMD_REMOTE_PASSWORD", WRONG)
        .args(remote_args(&machine(&env, "wrong-env"), &url))
        .args(["-v", "--"])
        .args(&argv)
        .output()
        .unwrap();
    let wrong_url = run(&env, &machine(&env, "wrong-url"), &with_password(WRONG), &["-v"], &argv);
    for out in [&wrong_env, &wrong_url] {
        assert_output(out, b"authenticated", 0);
        assert!(status(out).contains("remote lookup failed ("), "{}", status(out));
    }
    seen.push(("wrong env password run".into(), wrong_env));
    seen.push(("wrong URL password run".into(), wrong_url));
    counter.assert_runs(3);
    // An unparsable URL and a bad scheme, both carrying the password.
    let bad_port = url
        .replacen("://", &format!("://:{PASSWORD}@"), 1)
        .replace(&format!(":{}/", server.port), ":99999999/");
    let out = run(&env, &machine(&env, "bad-port"), &bad_port, &["-v"], &argv);
    assert_output(&out, b"authenticated", 0);
    seen.push(("bad port run".into(), out));
    let bad_scheme = format!("ftp://user:{PASSWORD}@127.0.0.1:{}/", server.port);
    let out = run(&env, &machine(&env, "bad-scheme"), &bad_scheme, &["-v"], &argv);
    assert_eq!(out.status.code(), Some(125), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("--remote"), "{}", text(&out.stderr));
    seen.push(("bad scheme run".into(), out));

    // stats, list --remote and clear --remote, right and wrong.
    for dir in ["a", "url0", "wrong-env", "wrong-url"] {
        let out =
            env.cmd().args(["stats", "--cache-dir"]).arg(machine(&env, dir)).output().unwrap();
        seen.push((format!("stats of {dir}"), out));
        let out = env
            .cmd()
            .args(["stats", "--json", "--cache-dir"])
            .arg(machine(&env, dir))
            .output()
            .unwrap();
        seen.push((format!("stats --json of {dir}"), out));
    }
    let admin = |args: &[&str], url: &str, password: Option<&str>| {
        let mut cmd = env.cmd();
        cmd.args(args).env("CACHECMD_REMOTE", url).arg("--cache-dir").arg(machine(&env, "admin"));
        if let Some(password) = password {
            cmd.env("CACHECMD_REMOTE_PASSWORD", password);
        }
        cmd.output().unwrap()
    };
    for (label, url, password) in [
        ("env password", url.as_str(), Some(PASSWORD)),
        ("URL password", plain.as_str(), None),
        ("encoded URL password", encoded.as_str(), None),
    ] {
        for json in [false, true] {
            let args: &[&str] =
                if json { &["list", "--remote", "--json"] } else { &["list", "--remote"] };
            let out = admin(args, url, password);
            assert!(out.status.success(), "list --remote, {label}: {}", text(&out.stderr));
            assert!(
                text(&out.stdout).contains(&key),
                "list --remote, {label}: {}",
                text(&out.stdout)
            );
            seen.push((format!("list --remote (json {json}), {label}"), out));
        }
    }
    for (label, url, password) in [
        ("wrong env password", url.as_str(), Some(WRONG)),
        ("wrong URL password", &with_password(WRONG), None),
    ] {
        for args in [&["list", "--remote"][..], &["clear", "--remote"][..]] {
            let out = admin(args, url, password);
            assert!(!out.status.success(), "{args:?} with a {label} succeeded");
            assert!(!out.stderr.is_empty(), "{args:?} with a {label}: no error message");
            seen.push((format!("{args:?}, {label}"), out));
        }
    }
    let out = admin(&["clear", "--remote"], &plain, None);
    assert!(out.status.success(), "clear --remote: {}", text(&out.stderr));
    assert!(text(&out.stdout).contains("removed 1 remote entry"), "{}", text(&out.stdout));
    seen.push(("clear --remote".into(), out));
    assert_eq!(server.dbsize(), 0);

    for (what, out) in &seen {
        for fragment in fragments {
            for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
                assert!(
                    !contains(bytes, fragment.as_bytes()),
                    "{what}: the password shows on {stream}: {}",
                    text(bytes)
                );
            }
        }
    }
}

#[test]
fn list_remote_says_one_entry() {
    let server = RedisServer::start();
    let env = TestEnv::new();
    let counter = env.counter("single");
    let a = machine(&env, "a");
    env.write_config(&format!("remote = \"{}\"\n", server.url()));
    let one = counter.prints("one");
    let out = env.cmd().arg("--cache-dir").arg(&a).args(["--no-cwd", "--"]).args(&one).output();
    assert!(out.unwrap().status.success());
    let out = env.cmd().args(["list", "--remote"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let expected = format!("1 entry in {}\n{}\n", server.url(), key_of(&env, &one));
    assert_eq!(text(&out.stdout), expected);
}

#[test]
fn list_and_clear_the_remote_tier() {
    let server = RedisServer::start();
    let env = TestEnv::new();
    let counter = env.counter("admin");
    let a = machine(&env, "a");
    // The remote from the config file, for runs and the admin commands alike.
    let config = env.write_config(&format!("remote = \"{}\"\n", server.url()));
    let (one, two) = (counter.prints("one"), counter.prints("two"));
    for argv in [&one, &two] {
        let out = env
            .cmd()
            .arg("--cache-dir")
            .arg(&a)
            .args(["--no-cwd", "-v", "--"])
            .args(argv)
            .output()
            .unwrap();
        assert!(status(&out).contains("shared remotely"), "{}", status(&out));
    }
    let mut keys = vec![key_of(&env, &one), key_of(&env, &two)];
    keys.sort();
    set(&server, "myapp:session:42", b"keep me");
    set(&server, "cachecmd-notes", b"keep me too");

    let out = env.cmd().args(["list", "--remote"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let expected = format!("2 entries in {}\n{}\n{}\n", server.url(), keys[0], keys[1]);
    assert_eq!(text(&out.stdout), expected);

    // CACHECMD_REMOTE wins over the config.
    fs::write(&config, "remote = \"redis://127.0.0.1:1/0\"\n").unwrap();
    // The objects of `list --json`, with only the key known.
    let listed = list_remote_json(&env, &server.url());
    let listed_keys: Vec<_> = listed.iter().map(|e| e["key"].as_str().unwrap()).collect();
    assert_eq!(listed_keys, keys);
    assert!(listed.iter().all(|e| e["schema"] == 1 && e["command"].is_null()), "{listed:?}");

    let out = env
        .cmd()
        .args(["clear", "--remote", "--cache-dir"])
        .arg(&a)
        .env("CACHECMD_REMOTE", server.url())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("removed 2 remote entries"), "{}", text(&out.stdout));
    assert_eq!(server.keys(), vec!["cachecmd-notes".to_string(), "myapp:session:42".to_string()]);
    assert_eq!(get(&server, "myapp:session:42").unwrap(), b"keep me");

    let out =
        env.cmd().args(["list", "--remote"]).env("CACHECMD_REMOTE", server.url()).output().unwrap();
    assert_eq!(text(&out.stdout), format!("0 entries in {}\n", server.url()));
    assert_eq!(stats(&env, &a)["entries"].as_u64(), Some(0), "the local entries stayed");

    // Without a remote configured, list --remote is a usage error.
    fs::remove_file(&config).unwrap();
    let out = env.cmd().args(["list", "--remote"]).output().unwrap();
    assert_eq!(out.status.code(), Some(125));
    assert!(text(&out.stderr).contains("no remote configured"), "{}", text(&out.stderr));
}
