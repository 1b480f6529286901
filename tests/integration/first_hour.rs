//! The first hour of use: options and subcommands as people type them, and
//! errors that name the culprit (flag, variable, file, line, key) in one
//! line.

use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::process::Output;

use predicates::prelude::*;

use crate::harness::executable::write_executable;
use crate::harness::TestEnv;

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[track_caller]
fn one_line(out: &Output, code: i32, needle: &str) {
    let text = stderr(out);
    assert_eq!(out.status.code(), Some(code), "{text}");
    assert!(text.contains(needle), "wanted {needle:?} in {text:?}");
    assert_eq!(text.lines().count(), 1, "{text:?}");
}

// ------------------------------------------------------ options, subcommands

#[test]
fn options_before_a_subcommand_belong_to_it() {
    let env = TestEnv::new();
    let other = env.path().join("other-cache");
    env.cmd().arg("--cache-dir").arg(&other).args(["--", "echo", "hi"]).assert().success();
    env.cmd()
        .arg("--cache-dir")
        .arg(&other)
        .arg("list")
        .assert()
        .success()
        .stdout(predicates::str::contains("echo hi"));
    // `-v clear` is the subcommand, not /usr/bin/clear (whose failure a
    // failure_ttl would otherwise cache).
    env.write_config("failure_ttl = \"1h\"\n");
    env.cmd()
        .arg("--cache-dir")
        .arg(&other)
        .args(["-v", "clear", "--command", "echo*"])
        .assert()
        .success()
        .stdout(predicates::str::contains("removed"));
    env.cmd()
        .arg("--cache-dir")
        .arg(&other)
        .arg("list")
        .assert()
        .success()
        .stdout(predicates::str::contains("echo hi").not());
    // A run-only option before a subcommand is refused, not run.
    let out = env.cmd().args(["--ttl", "1h", "clear"]).output().unwrap();
    assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
    assert!(stderr(&out).contains("--ttl"), "{}", stderr(&out));
}

#[test]
fn double_dash_still_runs_a_program_named_like_a_subcommand() {
    let env = TestEnv::new();
    let script = env.bin.join("clear");
    write_executable(&script, "#!/bin/sh\necho user clear \"$@\"\n");
    env.cmd().args(["-v", "--", "clear", "x"]).assert().success().stdout("user clear x\n");
}

#[test]
fn a_mistyped_subcommand_suggests_the_real_one() {
    let env = TestEnv::new();
    let out = env.cmd().arg("lst").output().unwrap();
    one_line(&out, 127, "lst: command not found; did you mean 'list'?");
}

#[test]
fn the_last_of_a_repeated_option_wins() {
    let env = TestEnv::new();
    let run = || env.run(["echo", "hi"]).opts(["--ttl", "1h", "--ttl", "5s"]);
    run().assert().success().expect_miss();
    env.age_entry(&env.key(["echo", "hi"]), 60);
    // 60s old: fresh under 1h, expired under 5s, the last one.
    run().assert().success().expect_miss();
    // Lists still accumulate: both variables are in the key.
    let both = env.run(["true"]).opts(["--env", "A", "--env", "B"]).env("B", "1").key();
    let one = env.run(["true"]).opts(["--env", "A"]).env("B", "1").key();
    assert_ne!(both, one);
}

#[test]
fn show_with_both_a_prefix_and_a_command_is_a_conflict() {
    let env = TestEnv::new();
    let out = env.cmd().args(["show", "abcd", "--", "echo", "hi"]).output().unwrap();
    assert_eq!(out.status.code(), Some(125));
    assert!(stderr(&out).contains("cannot be used with"), "{}", stderr(&out));
}

#[test]
fn evicting_nothing_exits_1_however_the_entry_is_named() {
    let env = TestEnv::new();
    env.run(["echo", "other"]).assert().success();
    let out = env.cmd().args(["evict", "--", "echo", "hi"]).output().unwrap();
    one_line(&out, 1, "no entry for key ");
    let out = env.cmd().args(["evict", "--key", "abcdef"]).output().unwrap();
    one_line(&out, 1, "no entry has a key starting with 'abcdef'");
    env.run(["echo", "hi"]).assert().success();
    env.cmd().args(["evict", "--", "echo", "hi"]).assert().success().stdout("removed 1 entry\n");
}

// ------------------------------------------------------------------- errors

#[test]
fn a_config_error_names_the_file_the_line_and_the_key() {
    let env = TestEnv::new();
    let path = env.write_config("# mine\n\nttl = 3600\n");
    let out = env.cmd().args(["--", "true"]).output().unwrap();
    let expected = format!("config file {}: line 3: ttl: invalid type", path.display());
    one_line(&out, 125, &expected);
    env.write_config("env = [\"A\"]\nlock_timeout = \"never\"\n");
    let out = env.cmd().args(["--", "true"]).output().unwrap();
    one_line(&out, 125, "line 2: lock_timeout: ");
    // A remote URL no backend takes is the file's fault, not the flag's.
    let path = env.write_config("ttl = \"1h\"\nremote = \"ftp://cache.example/x\"\n");
    let out = env.cmd().args(["--", "true"]).output().unwrap();
    one_line(&out, 125, &format!("config file {}: line 2: remote: ", path.display()));
}

#[test]
fn a_bad_variable_is_named_not_its_flag() {
    let env = TestEnv::new();
    let out = env.run(["true"]).env("CACHECMD_TTL", "5x").quiet().assert();
    let out = out.code(125).stderr_has("cachecmd: CACHECMD_TTL: ");
    drop(out);
    let out = env.cmd().env("CACHECMD_TTL", "5x").args(["--", "true"]).output().unwrap();
    assert!(!stderr(&out).contains("--ttl"), "{}", stderr(&out));
    // The flag, given, wins over the variable.
    env.cmd().env("CACHECMD_TTL", "5x").args(["--ttl", "1h", "--", "true"]).assert().success();
    // And a bad flag is still blamed on the flag.
    let out = env.cmd().args(["--ttl", "5x", "--", "true"]).output().unwrap();
    assert!(stderr(&out).contains("--ttl"), "{}", stderr(&out));
}

#[test]
fn empty_variables_are_unset() {
    let env = TestEnv::new();
    for var in ["CACHECMD_TTL", "CACHECMD_FAILURE_TTL", "CACHECMD_LOCK_TIMEOUT", "CACHECMD_COLOR"] {
        env.run(["echo", var]).env(var, "").assert().success().stdout(format!("{var}\n"));
    }
    env.cmd()
        .env("CACHECMD_MAX_SIZE", "")
        .env("CACHECMD_MAX_ENTRIES", "")
        .arg("gc")
        .assert()
        .success();
}

#[test]
fn booleans_parse_the_same_everywhere() {
    let env = TestEnv::new();
    // CACHECMD_DISABLE=false caches; =on passes through (no entry written).
    env.run(["echo", "hi"]).env("CACHECMD_DISABLE", "false").assert().success().expect_miss();
    env.run(["echo", "hi"]).env("CACHECMD_DISABLE", "FALSE").assert().success().expect_hit();
    let out =
        env.cmd().env("CACHECMD_DISABLE", "on").args(["-v", "--", "echo", "x"]).output().unwrap();
    assert_eq!(stderr(&out), "", "a disabled run says nothing");
    let out =
        env.cmd().env("CACHECMD_DISABLE", "maybe").args(["--", "echo", "x"]).output().unwrap();
    one_line(&out, 125, "CACHECMD_DISABLE: 'maybe' is not a yes/no value");
}

#[test]
fn config_paths_expand_the_home_and_follow_the_file() {
    let env = TestEnv::new();
    env.write_config("cache_dir = \"~/mine\"\n");
    env.run(["echo", "hi"]).assert().success();
    assert!(env.home.join("mine").is_dir());
    assert!(!env.work.join("~").exists(), "created a literal ~ in the cwd");
    env.write_config("cache_dir = \"rel\"\n");
    env.run(["echo", "hi"]).assert().success();
    assert!(env.config_home.join("cachecmd").join("rel").is_dir());
    assert!(!env.work.join("rel").exists());
}

#[test]
fn a_missing_cachecmd_config_is_an_error() {
    let env = TestEnv::new();
    let out = env.cmd().env("CACHECMD_CONFIG", "nope.toml").args(["--", "true"]).output().unwrap();
    one_line(&out, 125, "CACHECMD_CONFIG: nope.toml: no such file");
}

#[test]
fn a_non_utf8_value_names_its_option() {
    let env = TestEnv::new();
    for flag in ["--input", "--env"] {
        let bad = std::ffi::OsStr::from_bytes(b"\xff");
        let out = env.cmd().arg(flag).arg(bad).args(["--", "true"]).output().unwrap();
        one_line(&out, 125, &format!("{flag}: the value is not valid UTF-8"));
    }
}

#[test]
fn a_missing_interpreter_and_an_empty_command_are_named() {
    let env = TestEnv::new();
    let script = env.work.join("script");
    write_executable(&script, "#!/nonexistent/sh\necho hi\n");
    let out = env.cmd().args(["--", "./script"]).output().unwrap();
    one_line(&out, 127, "./script: bad interpreter: /nonexistent/sh");
    let out = env.cmd().args(["--", ""]).output().unwrap();
    one_line(&out, 127, "the command name is empty");
}

#[test]
fn no_tip_runs_a_value_as_the_command() {
    let env = TestEnv::new();
    let out = env.cmd().args(["-5", "x"]).output().unwrap();
    assert_eq!(out.status.code(), Some(125));
    assert!(!stderr(&out).contains("-- -5"), "{}", stderr(&out));
}

#[test]
fn an_unwritable_cache_dir_is_reported_once() {
    let env = TestEnv::new();
    let root = env.path().join("cache");
    fs::create_dir(&root).unwrap();
    let mut cmd = if fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
    {
        // Root ignores mode bits: run as nobody, in a tree it may enter.
        for dir in [env.path(), &env.work, &env.home, &env.config_home, &env.cache_home] {
            fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).unwrap();
        }
        std::os::unix::fs::chown(&root, Some(65534), Some(65534)).unwrap();
        let mut cmd = env.std_command("setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", crate::harness::BIN]);
        cmd
    } else {
        env.std_cmd()
    };
    fs::set_permissions(&root, fs::Permissions::from_mode(0o500)).unwrap();
    let out = cmd.arg("--cache-dir").arg(&root).args(["--", "echo", "hi"]).output().unwrap();
    assert_eq!(out.stdout, b"hi\n");
    one_line(&out, 0, "running uncached");
    assert!(stderr(&out).contains(&root.display().to_string()), "{}", stderr(&out));
}
