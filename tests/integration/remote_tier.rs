//! The shared tier's trust and time promises, through the real binary:
//! modes, signed entries (Redis and HTTP), private key files, one deadline
//! for a lookup against a trickling server, and a lock lease that a killed
//! holder cannot keep. Each "machine" is its own `--cache-dir` in one
//! working directory, with `--no-cwd` so their keys match.
#![cfg(feature = "redis")]

use std::ffi::OsString;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use crate::harness::redis_server::RedisServer;
use crate::harness::{self, TestEnv};

const KEY: &str = "trusted-ci-signing-key-7f3a";
const LOCKS: &str = "cachecmd:v1:lock:*";

fn machine(env: &TestEnv, name: &str) -> PathBuf {
    env.path().join(format!("machine-{name}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `cachecmd -v --cache-dir CACHE --no-cwd --remote URL EXTRA -- ARGV` with `envs`.
fn run(
    env: &TestEnv,
    cache: &Path,
    url: &str,
    extra: &[&str],
    envs: &[(&str, &str)],
    argv: &[OsString],
) -> Output {
    let mut cmd = env.cmd();
    cmd.args(["-v", "--no-cwd", "--remote", url, "--cache-dir"]).arg(cache);
    cmd.args(extra).envs(envs.iter().copied()).arg("--").args(argv);
    cmd.output().unwrap()
}

#[track_caller]
fn assert_prints(out: &Output, stdout: &str) {
    assert_eq!(text(&out.stdout), stdout, "stderr: {}", text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
}

fn entries(server: &RedisServer) -> usize {
    let keys: Vec<String> =
        redis::cmd("KEYS").arg("cachecmd:v1:[0-9a-f]*").query(&mut server.admin()).unwrap();
    keys.len()
}

fn stats(env: &TestEnv, cache: &Path) -> serde_json::Value {
    let out = env.cmd().args(["stats", "--json", "--cache-dir"]).arg(cache).output().unwrap();
    assert!(out.status.success(), "stats: {}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn read_only_never_writes_and_write_only_never_reads_but_uploads() {
    let env = TestEnv::new();
    let server = RedisServer::start();
    let url = server.url();
    let counter = env.counter("runs");
    let argv = counter.prints("shared\n");
    let writer = ["--remote-mode", "write-only"];
    let out = run(&env, &machine(&env, "w1"), &url, &writer, &[], &argv);
    assert_prints(&out, "shared\n");
    assert_eq!(entries(&server), 1, "write-only uploads after a miss");
    // Another write-only machine never reads the shared entry: it runs.
    assert_prints(&run(&env, &machine(&env, "w2"), &url, &writer, &[], &argv), "shared\n");
    counter.assert_runs(2);
    // A read-only machine is served from the remote tier.
    let reader = ["--remote-mode", "read-only"];
    assert_prints(&run(&env, &machine(&env, "r"), &url, &reader, &[], &argv), "shared\n");
    counter.assert_runs(2);
    // ...and never writes, through the mode or its old alias.
    let other = counter.prints("other\n");
    let out = run(&env, &machine(&env, "r"), &url, &reader, &[], &other);
    assert_prints(&out, "other\n");
    let alias = run(&env, &machine(&env, "r2"), &url, &["--remote-read-only"], &[], &other);
    assert_prints(&alias, "other\n");
    assert_eq!(entries(&server), 1);
    let locks: Vec<String> = redis::cmd("KEYS").arg(LOCKS).query(&mut server.admin()).unwrap();
    assert!(locks.is_empty(), "{locks:?}");
}

#[test]
fn a_bad_mode_is_a_usage_error_naming_it() {
    let env = TestEnv::new();
    let cache = machine(&env, "a");
    let out = run(
        &env,
        &cache,
        "redis://127.0.0.1:1/0",
        &[],
        &[("CACHECMD_REMOTE_MODE", "rw")],
        &["true".into()],
    );
    assert_eq!(out.status.code(), Some(125));
    // A bad value from the environment names the variable, not the flag.
    assert!(text(&out.stderr).contains("CACHECMD_REMOTE_MODE"), "{}", text(&out.stderr));
    env.write_config("remote_mode = \"both\"\n");
    let out = env.cmd().args(["--remote", "redis://127.0.0.1:1/0", "true"]).output().unwrap();
    assert_eq!(out.status.code(), Some(125));
    assert!(text(&out.stderr).contains("remote_mode"), "{}", text(&out.stderr));
}

/// Signed, unsigned and mis-signed values between two machines through `url`.
fn signed_mixes(env: &TestEnv, url: &str) {
    let counter = env.counter("runs");
    let (signed, unsigned, forged) =
        (counter.prints("signed\n"), counter.prints("unsigned\n"), counter.prints("forged\n"));
    let with_key = [("CACHECMD_REMOTE_SIGNING_KEY", KEY)];
    let writer = machine(env, "ci");
    assert_prints(&run(env, &writer, url, &[], &with_key, &signed), "signed\n");
    assert_prints(&run(env, &machine(env, "fork"), url, &[], &[], &unsigned), "unsigned\n");
    let wrong = [("CACHECMD_REMOTE_SIGNING_KEY", "not-the-key")];
    assert_prints(&run(env, &machine(env, "evil"), url, &[], &wrong, &forged), "forged\n");
    counter.assert_runs(3);
    // A verifying reader serves only the signed value.
    let reader = machine(env, "reader");
    let ro = ["--remote-mode", "read-only"];
    assert_prints(&run(env, &reader, url, &ro, &with_key, &signed), "signed\n");
    counter.assert_runs(3);
    let out = run(env, &reader, url, &ro, &with_key, &unsigned);
    assert_prints(&out, "unsigned\n");
    assert!(text(&out.stderr).contains("signature"), "{}", text(&out.stderr));
    assert_prints(&run(env, &reader, url, &ro, &with_key, &forged), "forged\n");
    counter.assert_runs(5);
    assert_eq!(stats(env, &reader)["remote_rejected"], 2);
    // A reader without the key serves everything, the signed value stripped.
    let plain = machine(env, "laptop");
    assert_prints(&run(env, &plain, url, &ro, &[], &signed), "signed\n");
    assert_prints(&run(env, &plain, url, &ro, &[], &unsigned), "unsigned\n");
    counter.assert_runs(5);
}

#[test]
fn only_values_signed_with_the_key_are_served_through_redis() {
    let server = RedisServer::start();
    signed_mixes(&TestEnv::new(), &server.url());
}

#[cfg(feature = "http")]
#[test]
fn only_values_signed_with_the_key_are_served_through_http() {
    let nginx = crate::harness::nginx::Nginx::start();
    signed_mixes(&TestEnv::new(), &nginx.url());
}

#[test]
fn a_key_file_others_can_read_is_refused_and_a_private_one_signs() {
    let env = TestEnv::new();
    let server = RedisServer::start();
    let key_file = env.path().join("signing.key");
    std::fs::write(&key_file, format!("{KEY}\n")).unwrap();
    harness::set_mode(&key_file, 0o644);
    env.write_config(&format!("remote_signing_key_file = {:?}\n", key_file.to_str().unwrap()));
    let counter = env.counter("runs");
    let argv = counter.prints("out\n");
    let out = run(&env, &machine(&env, "a"), &server.url(), &[], &[], &argv);
    assert_prints(&out, "out\n");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("remote_signing_key_file") && stderr.contains("0644"), "{stderr}");
    assert!(!stderr.contains(KEY), "{stderr}");
    assert_eq!(entries(&server), 0, "the remote is not used without its key");
    harness::set_mode(&key_file, 0o600);
    let out = run(&env, &machine(&env, "b"), &server.url(), &[], &[], &argv);
    assert_prints(&out, "out\n");
    // The value is signed with the file's key (its newline aside).
    let with_key = [("CACHECMD_REMOTE_SIGNING_KEY", KEY)];
    let ro = ["--remote-mode", "read-only"];
    assert_prints(&run(&env, &machine(&env, "c"), &server.url(), &ro, &with_key, &argv), "out\n");
    counter.assert_runs(2);
}

/// A fake Redis that answers every connection `+` and then one byte a second.
fn trickling_redis() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut buf = [0u8; 1024];
                let _ = stream.read(&mut buf);
                let _ = stream.write_all(b"+");
                for _ in 0..60 {
                    std::thread::sleep(Duration::from_secs(1));
                    if stream.write_all(b"O").is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

#[test]
fn a_trickling_redis_costs_one_remote_timeout_at_most() {
    let env = TestEnv::new();
    let url = format!("redis://127.0.0.1:{}/0", trickling_redis());
    let counter = env.counter("runs");
    let argv = counter.prints("fine\n");
    let with_key = [("CACHECMD_REMOTE_SIGNING_KEY", KEY)];
    let started = Instant::now();
    let out =
        run(&env, &machine(&env, "a"), &url, &["--remote-timeout", "1500ms"], &with_key, &argv);
    let took = started.elapsed();
    assert_prints(&out, "fine\n");
    // One deadline for the lookup; the failure then disables the remote.
    assert!(took < Duration::from_millis(1500 + 1500), "took {took:?}");
    assert!(!text(&out.stderr).contains(KEY) && !text(&out.stdout).contains(KEY));
}

#[test]
fn a_killed_lock_holder_frees_the_key_within_the_lease() {
    let env = TestEnv::new();
    let server = RedisServer::start();
    let url = server.url();
    let lease = [("CACHECMD_TEST_REMOTE_LEASE", "1s")];
    let marker = env.path().join("started");
    let script = format!(
        "if [ -e {m} ]; then echo second; else touch {m}; sleep 60; fi",
        m = marker.display()
    );
    let argv: Vec<OsString> = vec!["sh".into(), "-c".into(), script.into()];
    let mut holder = env
        .std_cmd()
        .args(["--no-cwd", "--remote", &url, "--cache-dir"])
        .arg(machine(&env, "a"))
        .envs(lease)
        .arg("--")
        .args(&argv)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    harness::wait_for("the holder to start its command", || marker.exists());
    // Past three leases the lock is still held: the holder renews it.
    std::thread::sleep(Duration::from_secs(3));
    let locks: Vec<String> = redis::cmd("KEYS").arg(LOCKS).query(&mut server.admin()).unwrap();
    assert_eq!(locks.len(), 1, "renewed while the command runs");
    harness::kill_group(&mut holder);
    let started = Instant::now();
    let out = run(&env, &machine(&env, "b"), &url, &[], &lease, &argv);
    let took = started.elapsed();
    assert_prints(&out, "second\n");
    assert!(took < Duration::from_secs(1 + 3), "took {took:?}");
}

#[test]
fn the_signing_key_never_appears_in_any_output() {
    let env = TestEnv::new();
    let server = RedisServer::start();
    let with_key = [("CACHECMD_REMOTE_SIGNING_KEY", KEY), ("CACHECMD_REMOTE_TOKEN", KEY)];
    let counter = env.counter("runs");
    let argv = counter.prints("x\n");
    let cache = machine(&env, "a");
    let mut outputs = vec![
        run(&env, &cache, &server.url(), &[], &with_key, &argv),
        run(&env, &cache, &server.url(), &[], &with_key, &argv),
        run(&env, &cache, "redis://127.0.0.1:1/0", &[], &with_key, &argv),
    ];
    for args in [&["--help"][..], &["stats", "--cache-dir"], &["list", "--remote"]] {
        let mut cmd = env.cmd();
        cmd.args(args).envs(with_key).env("CACHECMD_REMOTE", server.url());
        if args[0] == "stats" {
            cmd.arg(&cache);
        }
        outputs.push(cmd.output().unwrap());
    }
    for out in outputs {
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert!(!all.contains(KEY), "{all}");
    }
}

/// A fake Redis that answers every GETRANGE with a 300 MB bulk string (and
/// streams it), and anything else `+OK`.
fn bloating_redis() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 {
                        return;
                    }
                    if !buf[..n].windows(8).any(|w| w.eq_ignore_ascii_case(b"GETRANGE")) {
                        let _ = stream.write_all(b"+OK\r\n");
                        continue;
                    }
                    let _ = stream.write_all(format!("${}\r\n", 300 << 20).as_bytes());
                    let block = vec![b'x'; 1 << 20];
                    for _ in 0..300 {
                        if stream.write_all(&block).is_err() {
                            return;
                        }
                    }
                    let _ = stream.write_all(b"\r\n");
                }
            });
        }
    });
    port
}

#[test]
fn a_reply_larger_than_the_chunk_asked_is_refused_unread() {
    let env = TestEnv::new();
    let url = format!("redis://127.0.0.1:{}/0", bloating_redis());
    let counter = env.counter("runs");
    let argv = counter.prints("fine\n");
    let time = Path::new("/usr/bin/time");
    assert!(time.exists(), "/usr/bin/time is missing: apt-get install time");
    let report = env.path().join("rss");
    let out = env
        .std_command(time)
        .args(["-f", "%M", "-o"])
        .arg(&report)
        .arg(harness::BIN)
        .args(["-v", "--no-cwd", "--remote", &url, "--cache-dir"])
        .arg(machine(&env, "a"))
        .arg("--")
        .args(&argv)
        .output()
        .unwrap();
    assert_prints(&out, "fine\n");
    assert!(text(&out.stderr).contains("GETRANGE answered"), "{}", text(&out.stderr));
    let kib: u64 = std::fs::read_to_string(&report).unwrap().trim().parse().unwrap();
    assert!(kib < 64 * 1024, "cachecmd peaked at {kib} KiB against a 300 MB reply");
}
