//! `evict`, `clear` and `key`.

use crate::harness;

use std::ffi::OsString;
use std::fs;

use harness::{assert_is_key, TestEnv};
use predicates::prelude::*;

#[test]
fn evict_forgets_exactly_that_invocation() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = count.prints("out");
    let other = count.prints("other");
    let scoped = || env.run(&command).opts(["--scope", "s"]);
    let plain = || env.run(&command);
    let unrelated = || env.run(&other);

    for run in [scoped(), plain(), unrelated()] {
        run.assert().expect_miss().success();
    }
    count.assert_runs(3);

    // A different scope is a different invocation: nothing to evict (1).
    let other_scope = env.run(&command).opts(["--scope", "t"]);
    env.cmd().arg("evict").args(other_scope.args()).assert().code(1);
    env.cmd().arg("evict").args(scoped().args()).assert().success().stderr("");
    assert!(!env.entry_path(&scoped().key()).exists());

    plain().assert().expect_hit().success().stdout("out");
    unrelated().assert().expect_hit().success().stdout("other");
    count.assert_runs(3);
    scoped().assert().expect_miss().success().stdout("out");
    scoped().assert().expect_hit().success().stdout("out");
    count.assert_runs(4);
}

#[test]
fn evict_without_entry_exits_1_and_verbose_says_which() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let args = harness::with_command(&[], &count.prints("out"));
    // What -v says may go to stdout (the subcommand's report) or stderr.
    let evict_v = || {
        let out = env.cmd().args(["evict", "-v"]).args(&args).output().unwrap();
        assert!(matches!(out.status.code(), Some(0 | 1)), "{out:?}");
        let said = [out.stdout.as_slice(), out.stderr.as_slice()].concat();
        String::from_utf8_lossy(&said).into_owned()
    };

    let absent = evict_v();
    env.cmd().args(&args).assert().success();
    let present = evict_v();
    let absent_again = evict_v();

    for message in [&absent, &present, &absent_again] {
        assert!(!message.trim().is_empty(), "-v said nothing");
    }
    assert_ne!(present, absent, "-v does not say whether an entry was removed");
    assert_eq!(absent, absent_again);
    env.cmd().args(["evict", "--", "cachecmd-test-never-ran"]).assert().code(1);
    count.assert_runs(1);
}

#[test]
fn clear_forgets_everything_and_counts() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let dir = env.path().join("elsewhere");
    fs::create_dir(&dir).unwrap();
    let invocations = [
        harness::with_command(&[], &count.prints("a")),
        harness::with_command(&["--scope", "x"], &count.prints("a")),
        harness::with_command(&["--no-cwd"], &count.prints("b")),
    ];
    let run_all = || {
        for args in &invocations {
            env.cmd().args(args).assert().success();
        }
        env.cmd().current_dir(&dir).args(&invocations[0]).assert().success();
    };

    run_all();
    count.assert_runs(4);
    env.cmd().arg("clear").assert().success().stdout(predicate::str::contains("removed 4"));
    run_all();
    count.assert_runs(8);
    env.cmd().arg("clear").assert().success().stdout(predicate::str::contains("removed 4"));
    env.cmd().arg("clear").assert().success().stdout(predicate::str::contains("removed 0"));
}

#[test]
fn clear_honours_cachecmd_dir() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let dir = env.path().join("via-env");
    let args = harness::with_command(&[], &count.prints("out"));
    let run = || env.cmd().env("CACHECMD_DIR", &dir).args(&args).assert().success();

    run();
    env.cmd().args(&args).assert().success(); // default root
    count.assert_runs(2);
    env.cmd()
        .env("CACHECMD_DIR", &dir)
        .arg("clear")
        .assert()
        .success()
        .stdout(predicate::str::contains("removed 1"));
    run();
    count.assert_runs(3);
    env.cmd().args(&args).assert().success(); // default root untouched
    count.assert_runs(3);
}

#[test]
fn clear_on_a_missing_root_succeeds() {
    let env = TestEnv::new();
    env.cmd().arg("clear").assert().success().stdout(predicate::str::contains("removed 0"));
}

#[test]
fn key_is_64_hex_and_stable_with_no_cwd_across_dirs() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = count.prints("out");
    let (one, two) = (env.path().join("one"), env.path().join("two"));
    fs::create_dir(&one).unwrap();
    fs::create_dir(&two).unwrap();

    let out = env.cmd().arg("key").args(harness::with_command(&[], &command)).assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert_eq!(text.trim_end_matches('\n').len(), 64, "output: {text:?}");
    assert_is_key(text.trim_end());

    let shared = harness::with_command(&["--no-cwd"], &command);
    let plain = harness::with_command(&[], &command);
    assert_eq!(env.key_in(&one, &shared), env.key_in(&two, &shared));
    assert_eq!(env.key_in(&one, &plain), env.key_in(&one, &plain));
    assert_ne!(env.key_in(&one, &plain), env.key_in(&two, &plain));
    assert_ne!(env.key_in(&one, &plain), env.key_in(&one, &shared));

    let mut with_dir = vec![OsString::from("--cache-dir"), one.clone().into()];
    with_dir.extend(plain.iter().cloned());
    assert_eq!(env.key(&with_dir), env.key(&plain), "--cache-dir is not key material");
    count.assert_runs(0);
}

#[test]
fn key_options_change_the_key() {
    let env = TestEnv::new();
    let command: Vec<OsString> = vec!["true".into()];
    let base = env.key(harness::with_command(&[], &command));
    let scoped = env.key(harness::with_command(&["--scope", "s"], &command));
    let keyed = env.key(harness::with_command(&["--key", "k"], &command));
    assert_ne!(base, scoped);
    assert_ne!(base, keyed);

    let env_key = |value: &str| {
        let out = env
            .cmd()
            .env("FOO", value)
            .arg("key")
            .args(harness::with_command(&["--env", "FOO"], &command))
            .assert()
            .success();
        String::from_utf8(out.get_output().stdout.clone()).unwrap()
    };
    assert_ne!(env_key("1"), env_key("2"));
    assert_eq!(env_key("1"), env_key("1"));
}
