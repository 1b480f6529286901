//! The HTTP remote tier (`--remote http://HOST:PORT/PREFIX`) against a real
//! nginx serving WebDAV (harness `nginx`) and a misbehaving server (harness
//! `bad_http`): first the backend through the factory, then the real binary
//! playing several machines (separate `--cache-dir`s, `--no-cwd`).
#![cfg(feature = "http")]

use crate::harness::bad_http::{BadServer, Misbehaviour};
use crate::harness::fixtures::{contents, file_with};
use crate::harness::nginx::{free_port, Auth, Nginx};
use crate::harness::{self, Counter, TestEnv};

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use cachecmd::test_support::{verify_entry, Remote, RemoteConfig, RemoteError, Stored};

const MIB: u64 = 1 << 20;

fn key(n: u8) -> String {
    format!("{n:02x}").repeat(32)
}

fn object(key: &str) -> String {
    format!("cachecmd:v1:{key}")
}

/// A real entry for `key(1)`, as the local store writes it.
fn entry(stdout: &[u8]) -> Vec<u8> {
    harness::fixtures::make_entry(1, stdout, b"")
}

fn connect(url: &str) -> Remote {
    Remote::connect(&RemoteConfig::new(url))
}

#[test]
fn entries_round_trip_through_nginx_and_list_and_clear() {
    let server = Nginx::start();
    let remote = connect(&server.url());
    let value = entry(b"hello over http\n");
    assert_eq!(
        remote.store(&key(1), &file_with(&value), value.len() as u64, None).unwrap(),
        Stored::Written
    );
    assert_eq!(server.objects(), vec![object(&key(1))], "the entry alone, no upload left");
    assert!(fs::read(server.cache_dir().join(object(&key(1)))).unwrap() == value);

    let mut dest = file_with(b"stale bytes that must go, longer than nothing");
    assert!(remote.fetch(&key(1), &mut dest, MIB).unwrap());
    assert!(contents(&mut dest) == value);
    verify_entry(&dest, &cachecmd::test_support::Key::from_slice(&[1; 32]).unwrap()).unwrap();
    assert!(!remote.fetch(&key(2), &mut dest, MIB).unwrap(), "404 is a miss");
    assert_eq!(dest.metadata().unwrap().len(), 0);

    // Overwriting works (the last upload wins).
    let newer = entry(b"newer\n");
    remote.store(&key(1), &file_with(&newer), newer.len() as u64, None).unwrap();
    assert!(remote.fetch(&key(1), &mut dest, MIB).unwrap());
    assert!(contents(&mut dest) == newer);

    remote.store(&key(2), &file_with(&value), value.len() as u64, None).unwrap();
    fs::write(server.cache_dir().join("not-ours"), b"keep").unwrap();
    fs::write(server.cache_dir().join(format!("cachecmd:v1:tmp:{}:abc", key(3))), b"x").unwrap();
    let mut keys = remote.list_keys().unwrap();
    keys.sort();
    assert_eq!(keys, vec![key(1), key(2)]);
    assert_eq!(remote.clear().unwrap(), 2);
    assert_eq!(server.objects(), vec!["not-ours".to_string()], "uploads go too, strangers stay");
    assert!(!remote.is_disabled());
}

#[test]
fn large_values_stream_both_ways_and_the_limit_holds() {
    let server = Nginx::start();
    let remote = connect(&server.url());
    let value = harness::noise(9 * MIB as usize + 123, 7);
    remote.store(&key(4), &file_with(&value), value.len() as u64, None).unwrap();
    let mut dest = tempfile::tempfile().unwrap();
    assert!(remote.fetch(&key(4), &mut dest, 10 * MIB).unwrap());
    assert!(contents(&mut dest) == value);

    let err = remote.fetch(&key(4), &mut dest, MIB).unwrap_err();
    assert!(matches!(err, RemoteError::TooLarge { max, .. } if max == MIB), "{err:?}");
    assert_eq!(dest.metadata().unwrap().len(), 0);
    assert!(!remote.is_disabled(), "a too-large value is a miss, not a server failure");
}

#[test]
fn a_server_without_move_gets_direct_puts() {
    let server = Nginx::start_without_move();
    let remote = connect(&server.url());
    let value = entry(b"no move\n");
    for _ in 0..2 {
        remote.store(&key(5), &file_with(&value), value.len() as u64, None).unwrap();
        assert_eq!(server.objects(), vec![object(&key(5))], "no temporary object left behind");
    }
    let mut dest = tempfile::tempfile().unwrap();
    assert!(remote.fetch(&key(5), &mut dest, MIB).unwrap());
    assert!(contents(&mut dest) == value);
}

#[test]
fn misbehaving_servers_are_bounded_errors_and_leave_nothing() {
    let cases = [
        Misbehaviour::Garbage,
        Misbehaviour::TooMuch { announce: true },
        Misbehaviour::TooMuch { announce: false },
        Misbehaviour::Status(500),
        Misbehaviour::Status(429),
        Misbehaviour::Status(401),
        Misbehaviour::CloseMidBody,
        Misbehaviour::Trickle,
    ];
    for how in cases {
        let server = BadServer::start(how);
        let mut config = RemoteConfig::new(server.url());
        config.op_timeout = Duration::from_millis(1500);
        let remote = Remote::connect(&config);
        let mut dest = file_with(b"old");
        let start = Instant::now();
        let err = remote.fetch(&key(6), &mut dest, MIB).unwrap_err();
        let elapsed = start.elapsed();
        assert!(elapsed < Duration::from_secs(4), "{how:?} took {elapsed:?}");
        assert_eq!(dest.metadata().unwrap().len(), 0, "{how:?} left bytes");
        match how {
            Misbehaviour::TooMuch { .. } => {
                assert!(matches!(err, RemoteError::TooLarge { .. }), "{how:?}: {err:?}")
            }
            _ => assert!(err.is_server_failure(), "{how:?}: {err:?}"),
        }
        let text = err.to_string();
        assert!(!text.contains('\n'), "{text}");
        match how {
            Misbehaviour::Status(code) => assert!(text.contains(&code.to_string()), "{text}"),
            Misbehaviour::Trickle => assert!(text.contains("timed out"), "{text}"),
            _ => {}
        }
    }
}

#[test]
fn a_server_that_cannot_list_says_so_in_one_line() {
    let server = BadServer::start(Misbehaviour::Status(405));
    let err = connect(&server.url()).list_keys().unwrap_err().to_string();
    assert!(err.contains("server cannot list"), "{err}");
    assert!(!err.contains('\n'), "{err}");
}

#[test]
fn basic_auth_from_the_url_or_the_password_setting() {
    let server = Nginx::start_with(Auth::Basic { user: "alice", password: "S3cret-pw" });
    let value = entry(b"authed\n");
    let src = file_with(&value);
    let len = value.len() as u64;
    let mut dest = tempfile::tempfile().unwrap();

    let anonymous = connect(&server.url());
    let err = anonymous.fetch(&key(7), &mut dest, MIB).unwrap_err().to_string();
    assert!(err.contains("401"), "{err}");

    let wrong = server.url().replacen("://", "://alice:wrong-pw@", 1);
    let err = connect(&wrong).store(&key(7), &src, len, None).unwrap_err().to_string();
    assert!(err.contains("401") && !err.contains("wrong-pw") && !err.contains("alice"), "{err}");

    let in_url = server.url().replacen("://", "://alice:S3cret-pw@", 1);
    assert_eq!(connect(&in_url).store(&key(7), &src, len, None).unwrap(), Stored::Written);
    let mut config = RemoteConfig::new(server.url().replacen("://", "://alice@", 1));
    config.password = Some("S3cret-pw".into());
    assert!(Remote::connect(&config).fetch(&key(7), &mut dest, MIB).unwrap());
    assert!(contents(&mut dest) == value);
}

#[test]
fn a_bearer_token_authenticates() {
    let server = Nginx::start_with(Auth::Bearer("T0ken-abc"));
    let value = entry(b"bearer\n");
    let mut config = RemoteConfig::new(server.url());
    let err = Remote::connect(&config).list_keys().unwrap_err().to_string();
    assert!(err.contains("401"), "{err}");
    config.token = Some("T0ken-abc".into());
    let remote = Remote::connect(&config);
    remote.store(&key(8), &file_with(&value), value.len() as u64, None).unwrap();
    assert_eq!(remote.list_keys().unwrap(), vec![key(8)]);
}

// ---- through the real binary ----

fn machine(env: &TestEnv, name: &str) -> PathBuf {
    env.path().join(format!("machine-{name}"))
}

fn run(env: &TestEnv, cache: &Path, url: &str, envs: &[(&str, &str)], argv: &[OsString]) -> Output {
    let mut cmd = env.cmd();
    cmd.arg("--cache-dir").arg(cache).args(["--no-cwd", "-v", "--remote", url, "--"]).args(argv);
    for (name, value) in envs {
        cmd.env(name, value);
    }
    cmd.output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The `-v` status line (the last line of stderr).
#[track_caller]
fn status(out: &Output) -> String {
    let stderr = text(&out.stderr);
    let line = stderr.lines().last().unwrap_or_default().to_string();
    assert!(line.starts_with("cachecmd: "), "no -v status line in stderr: {stderr:?}");
    line
}

#[track_caller]
fn assert_output(out: &Output, stdout: &[u8]) {
    assert_eq!(text(&out.stdout), text(stdout), "stderr: {}", text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
}

/// Machine a runs and shares, machine b replays it from the remote.
#[track_caller]
fn share(env: &TestEnv, url: &str, envs: &[(&str, &str)], counter: &Counter) {
    let argv = counter.prints("shared over http\n");
    let first = run(env, &machine(env, "a"), url, envs, &argv);
    assert_output(&first, b"shared over http\n");
    assert!(status(&first).contains("shared remotely"), "{}", status(&first));
    let second = run(env, &machine(env, "b"), url, envs, &argv);
    assert_output(&second, b"shared over http\n");
    assert!(status(&second).contains("remote hit"), "{}", status(&second));
    counter.assert_runs(1);
}

#[test]
fn two_machines_share_through_nginx() {
    let server = Nginx::start();
    let env = TestEnv::new();
    let counter = env.counter("share");
    share(&env, &server.url(), &[], &counter);
    assert_eq!(server.objects().len(), 1, "{:?}", server.objects());
}

#[test]
fn credentials_work_and_are_never_printed() {
    let server = Nginx::start_with(Auth::Basic { user: "alice", password: "S3cret-pw" });
    let env = TestEnv::new();
    let url = server.url().replacen("://", "://alice@", 1);
    share(&env, &url, &[("CACHECMD_REMOTE_PASSWORD", "S3cret-pw")], &env.counter("basic"));

    // A wrong password: the run is right, the remote error says 401 only.
    let counter = env.counter("wrong");
    let argv = counter.prints("still right\n");
    let url = server.url().replacen("://", "://alice:Wr0ng-pw@", 1);
    let out = run(&env, &machine(&env, "c"), &url, &[], &argv);
    assert_output(&out, b"still right\n");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("401"), "{stderr}");
    assert!(!stderr.contains("Wr0ng-pw") && !stderr.contains("alice"), "{stderr}");

    let bearer = Nginx::start_with(Auth::Bearer("T0ken-abc"));
    let env = TestEnv::new();
    share(&env, &bearer.url(), &[("CACHECMD_REMOTE_TOKEN", "T0ken-abc")], &env.counter("bearer"));
}

#[test]
fn a_down_server_or_a_bad_one_changes_only_the_sharing() {
    let down = format!("http://127.0.0.1:{}/cache", free_port());
    let trickle = BadServer::start(Misbehaviour::Trickle);
    let garbage = BadServer::start(Misbehaviour::Garbage);
    let too_much = BadServer::start(Misbehaviour::TooMuch { announce: false });
    let failing = BadServer::start(Misbehaviour::Status(503));
    for (name, url) in [
        ("down", down),
        ("trickle", trickle.url()),
        ("garbage", garbage.url()),
        ("too-much", too_much.url()),
        ("failing", failing.url()),
    ] {
        let env = TestEnv::new();
        let counter = env.counter(name);
        let argv = counter.prints("the real output\n");
        let start = Instant::now();
        let out = run(&env, &machine(&env, "a"), &url, &[], &argv);
        let elapsed = start.elapsed();
        assert_output(&out, b"the real output\n");
        // The default op timeout is 2 s: one bounded lookup, then fail-fast.
        assert!(elapsed < Duration::from_secs(6), "{name}: took {elapsed:?}");
        counter.assert_runs(1);
        let line = status(&out);
        assert!(line.contains("remote"), "{name}: {line}");
    }
    assert!(trickle.requests() >= 1 && garbage.requests() >= 1);
}

#[test]
fn list_and_clear_the_http_remote() {
    let server = Nginx::start();
    let env = TestEnv::new();
    let counter = env.counter("admin");
    let a = machine(&env, "a");
    let (one, two) = (counter.prints("one"), counter.prints("two"));
    for (argv, printed) in [(&one, b"one"), (&two, b"two")] {
        assert_output(&run(&env, &a, &server.url(), &[], argv), printed);
    }
    assert_eq!(server.objects().len(), 2, "{:?}", server.objects());
    let listed = crate::harness::remote_checks::list_remote_json(&env, &server.url());
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert!(listed.iter().all(|e| e["key"].is_string()), "{listed:?}");

    let out = env
        .cmd()
        .args(["clear", "--remote", "--cache-dir"])
        .arg(&a)
        .env("CACHECMD_REMOTE", server.url())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("removed 2 remote entries"), "{}", text(&out.stdout));
    assert!(server.objects().is_empty(), "{:?}", server.objects());
}
