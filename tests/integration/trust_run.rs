//! Run mode under hostile conditions: entries dated in the future, a
//! caller whose reader stalls, a working directory that is gone and a
//! `$TMPDIR` that cannot hold the `--stdin` spool.

use crate::harness;

use std::ffi::OsString;
use std::os::fd::AsFd;
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime};

use filetime::FileTime;
use harness::{wait_for, with_command, Group, TestEnv};

/// Sets the entry of `key` to be dated `secs` in the future.
fn date_ahead(env: &TestEnv, key: &str, secs: u64) {
    let at = SystemTime::now() + Duration::from_secs(secs);
    filetime::set_file_mtime(env.entry_path(key), FileTime::from_system_time(at)).unwrap();
}

#[test]
fn an_entry_dated_in_the_future_is_never_served_past_the_ttl() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = count.prints("x");
    let key = env.run(&command).key();
    env.run(&command).ttl("10m").assert().expect_miss().stdout("x");

    // A couple of seconds ahead: ordinary skew, still fresh.
    date_ahead(&env, &key, 2);
    env.run(&command).ttl("10m").assert().expect_hit().stdout("x");
    count.assert_runs(1);

    // An hour ahead is an hour old: past a 10 minute TTL.
    date_ahead(&env, &key, 3600);
    let listed = env.cmd().args(["list", "--json"]).output().unwrap();
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed[0]["expired"], true, "list serves the future as fresh: {listed}");
    env.run(&command).ttl("10m").assert().expect_miss().stdout("x");
    count.assert_runs(2);

    // gc agrees: a future-dated entry past its recorded TTL is expired.
    date_ahead(&env, &key, 3600);
    env.cmd().arg("gc").assert().success();
    assert!(!env.entry_path(&key).exists(), "gc kept a future-dated, expired entry");
}

/// Bytes waiting in the pipe whose read end is `fd`.
fn queued(fd: impl AsFd) -> usize {
    rustix::io::ioctl_fionread(fd).map_or(0, |n| n as usize)
}

/// `cachecmd OPTS -- COMMAND` with stdout into a pipe the test never reads.
fn stalled(env: &TestEnv, opts: &[&str], command: &[OsString]) -> Group {
    Group(env.spawn(with_command(opts, command), Stdio::piped()))
}

/// A second caller that needs the key's lock (`--force`) finishes long
/// before its lock timeout.
#[track_caller]
fn second_caller_is_prompt(env: &TestEnv, command: &[OsString]) {
    let started = Instant::now();
    let out = env
        .std_cmd()
        .args(with_command(&["-v", "--force", "--lock-timeout", "60s"], command))
        .stdout(Stdio::null())
        .output()
        .unwrap();
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("recorded (exit 0)"), "{stderr}");
    assert!(took < Duration::from_secs(30), "the second caller waited {took:?}: {stderr}");
}

#[test]
fn a_stalled_reader_of_a_captured_run_does_not_hold_the_lock() {
    let env = TestEnv::new();
    // More than any pipe holds, so the replay blocks on the unread pipe.
    let command: Vec<OsString> =
        ["sh", "-c", "head -c 500000 /dev/zero"].map(OsString::from).to_vec();
    let mut first = stalled(&env, &["--retry", "1"], &command);
    let pipe = first.0.stdout.take().unwrap();
    // Replaying (into the full pipe) means recorded and published.
    wait_for("the first caller to replay", || queued(&pipe) > 0);
    second_caller_is_prompt(&env, &command);
}

#[test]
fn a_caller_that_waited_for_the_lock_replays_after_releasing_it() {
    let env = TestEnv::new();
    let (started, go) = (env.path().join("started"), env.path().join("go"));
    let body = format!(
        ": > '{}'; while [ ! -e '{}' ]; do sleep 0.02; done; head -c 500000 /dev/zero",
        started.display(),
        go.display()
    );
    let command: Vec<OsString> = ["sh", "-c", &body].map(OsString::from).to_vec();
    // The first caller runs the command and is read normally.
    let mut runner = Group(env.spawn(with_command(&[], &command), Stdio::null()));
    wait_for("the first caller to run the command", || started.exists());
    // The waiter's reader stalls; it gets the entry after waiting.
    let mut waiter = stalled(&env, &[], &command);
    let pipe = waiter.0.stdout.take().unwrap();
    std::fs::write(&go, "").unwrap();
    assert!(runner.0.wait().unwrap().success());
    wait_for("the waiter to replay", || queued(&pipe) > 0);
    second_caller_is_prompt(&env, &command);
}

#[test]
fn a_deleted_working_directory_still_runs_the_command() {
    let env = TestEnv::new();
    let script = "mkdir gone && cd gone && rmdir ../gone && \
                  exec cachecmd -v -- sh -c 'echo hi; echo err >&2; exit 3'";
    let out = env.sh(script).current_dir(env.path()).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert_eq!(out.stdout, b"hi\n");
    assert!(stderr.contains("err\n"), "{stderr}");
    assert!(stderr.contains("running uncached"), "no -v note: {stderr}");
    // The same with --no-cwd, where the key would still read the directory.
    let script = "mkdir gone && cd gone && rmdir ../gone && \
                  exec cachecmd --no-cwd -- sh -c 'echo hi; exit 4'";
    let out = env.sh(script).current_dir(env.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.stdout, b"hi\n");
}

#[test]
fn a_stdin_spool_without_a_usable_tmpdir_lives_in_memory() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = count.sh("cat; exit 2");
    let run = || {
        env.run(&command)
            .opt("--stdin")
            .failure_ttl("1h")
            .env("TMPDIR", "/nonexistent")
            .stdin(b"piped input\n".to_vec())
    };
    run().assert().expect_miss().code(2).stdout("piped input\n");
    run().assert().expect_hit().code(2).stdout("piped input\n");
    count.assert_runs(1);
}
