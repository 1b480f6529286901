//! Single-flight: concurrent misses run the command once; waiting is bounded
//! and never outlives the lock holder.

use crate::harness;

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use harness::{Counter, Group, TestEnv};

/// Waits (polling, bounded) until the counted command has started `n` times.
#[track_caller]
fn wait_for_runs(count: &Counter, n: usize) {
    harness::wait_for("the command to start", || count.count() >= n);
}

#[test]
fn concurrent_misses_run_the_command_once() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = count.sh("sleep 1; printf 'shared output'");

    let children: Vec<Child> = (0..20)
        .map(|_| {
            env.std_cmd()
                .arg("--")
                .args(&command)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (i, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "caller {i}: {:?}", out.status);
        assert_eq!(out.stdout, b"shared output", "caller {i} stdout");
        assert_eq!(String::from_utf8_lossy(&out.stderr), "", "caller {i} stderr");
    }
    count.assert_runs(1);
}

/// The holder sleeps only when `SLOW` is set; env is not in the key, so the
/// waiter shares the key but runs fast if it runs the command itself.
fn slow_when_asked(count: &Counter) -> Vec<std::ffi::OsString> {
    count.sh(r#"if [ -n "$SLOW" ]; then sleep 5; fi; printf out"#)
}

#[test]
fn waiter_past_lock_timeout_runs_the_command_itself() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = slow_when_asked(&count);

    let mut holder = env.std_cmd();
    holder.env("SLOW", "1").arg("--").args(&command);
    let _holder = Group(spawn_in_group(holder));
    wait_for_runs(&count, 1);

    let started = Instant::now();
    env.cmd().args(["--lock-timeout", "1s", "--"]).args(&command).assert().success().stdout("out");
    let waited = started.elapsed();
    count.assert_runs(2);
    assert!(waited < Duration::from_secs(4), "waiter took {waited:?}, lock timeout is 1s");
    assert!(
        waited >= Duration::from_millis(500),
        "waiter took {waited:?}: it did not wait for the lock at all"
    );
}

#[test]
fn lock_is_released_when_its_holder_is_killed() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = slow_when_asked(&count);

    let mut holder = env.std_cmd();
    holder.env("SLOW", "1").arg("--").args(&command);
    let mut holder = Group(spawn_in_group(holder));
    wait_for_runs(&count, 1);

    let started = Instant::now();
    let waiter = env
        .std_cmd()
        .arg("--")
        .args(&command)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    // Only cachecmd dies; its orphaned `sleep 5` must not keep the lock.
    holder.0.kill().unwrap();

    let out = waiter.wait_with_output().unwrap();
    let waited = started.elapsed();
    assert!(out.status.success());
    assert_eq!(out.stdout, b"out");
    count.assert_runs(2);
    assert!(waited < Duration::from_secs(4), "waiter took {waited:?} after the holder died");
}

#[track_caller]
fn spawn_in_group(mut cmd: std::process::Command) -> Child {
    use std::os::unix::process::CommandExt;
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap()
}
