//! Run mode: hits and misses, what goes into the key, freshness, exit codes
//! and the transparency of replay.

use crate::harness;

use std::ffi::OsString;
use std::fs;
use std::io::{BufRead, BufReader};
use std::os::unix::ffi::OsStringExt;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use harness::{Counter, TestEnv};

/// `cachecmd ARGS... -- COMMAND...`
fn run(env: &TestEnv, opts: &[&str], command: &[OsString]) -> assert_cmd::assert::Assert {
    env.cmd().args(opts).arg("--").args(command).assert()
}

#[test]
fn miss_then_hit_runs_command_once() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = count.prints("out");

    env.run(&command).quiet().assert().success().stdout("out").stderr("");
    count.assert_runs(1);
    env.run(&command).quiet().assert().success().stdout("out").stderr("");
    count.assert_runs(1);
    env.run(&command).assert().expect_hit().stdout("out").stderr("");

    let key = env.run(&command).key();
    assert!(env.entry_path(&key).is_file(), "entry not at documented path");
}

#[test]
fn hit_replays_every_byte_value_exactly() {
    let env = TestEnv::new();
    let bytes: Vec<u8> = (0..=255u8).collect();
    let data = env.path().join("bytes.bin");
    fs::write(&data, &bytes).unwrap();
    let command: Vec<OsString> = vec!["cat".into(), data.clone().into()];

    env.run(&command).assert().expect_miss().success().stdout(&bytes);
    // The command can no longer produce the bytes: only a replay can.
    fs::remove_file(&data).unwrap();
    env.run(&command).assert().expect_hit().success().stdout(&bytes);
}

#[test]
fn hit_replays_stderr_of_a_success() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = count.sh(r"printf 'out\n'; printf 'warn\001\377 no newline' >&2");

    for _ in 0..2 {
        env.run(&command)
            .quiet()
            .assert()
            .success()
            .stdout("out\n")
            .stderr(b"warn\x01\xff no newline");
    }
    count.assert_runs(1);
}

#[test]
fn failure_with_failure_ttl_replays_code_and_streams() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = count.sh("printf partial; printf 'boom\\n' >&2; exit 3");

    for _ in 0..2 {
        env.run(&command)
            .failure_ttl("1h")
            .quiet()
            .assert()
            .code(3)
            .stdout("partial")
            .stderr("boom\n");
    }
    count.assert_runs(1);
}

#[test]
fn failure_ttl_is_the_callers_freshness() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = count.sh("exit 4");
    let key = env.run(&command).key();

    env.run(&command).failure_ttl("1h").assert().expect_miss().code(4);
    env.age_entry(&key, 2 * 3600);
    env.run(&command).failure_ttl("1h").assert().expect_miss().code(4);
    count.assert_runs(2);
    env.age_entry(&key, 2 * 3600);
    env.run(&command).failure_ttl("3h").assert().expect_hit().code(4);
    count.assert_runs(2);
}

#[test]
fn failures_are_not_cached_by_default() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = count.sh("printf out; exit 1");

    env.run(&command).assert().expect_miss().code(1).stdout("out");
    env.run(&command).assert().expect_miss().code(1).stdout("out");
    count.assert_runs(2);
    // Nothing was recorded for a later caller who accepts failures either.
    env.run(&command).failure_ttl("1h").assert().expect_miss().code(1).stdout("out");
    count.assert_runs(3);
}

#[test]
fn argv_boundaries_are_distinct_keys() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let splits: [&[&str]; 3] = [&["a b"], &["a", "b"], &["ab"]];
    let commands: Vec<Vec<OsString>> = splits
        .iter()
        .map(|args| {
            let mut command = count.sh(r#"printf '[%s]' "$@""#);
            command.push("sh".into()); // $0
            command.extend(args.iter().map(OsString::from));
            command
        })
        .collect();

    let expected = ["[a b]", "[a][b]", "[ab]"];
    for round in 0..2 {
        for (command, out) in commands.iter().zip(expected) {
            run(&env, &[], command).success().stdout(out);
        }
        count.assert_runs(3);
        if round == 0 {
            let keys: Vec<String> =
                commands.iter().map(|c| env.key(harness::with_command(&[], c))).collect();
            assert!(keys[0] != keys[1] && keys[1] != keys[2] && keys[0] != keys[2]);
        }
    }
}

#[test]
fn non_utf8_args_are_passed_and_keyed_exactly() {
    let env = TestEnv::new();
    let count = env.counter("c");
    // Both would become U+FFFD under a lossy conversion.
    let args = [vec![b'x', 0xff, b'y', 0x80], vec![b'x', 0xfe, b'y', 0x80]];

    for _ in 0..2 {
        for arg in &args {
            let mut command = count.sh(r#"printf '%s' "$1""#);
            command.push("sh".into());
            command.push(OsString::from_vec(arg.clone()));
            run(&env, &[], &command).success().stdout(arg.clone());
        }
        count.assert_runs(2);
    }
}

#[test]
fn cwd_is_part_of_the_key() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = count.prints("out");
    let (one, two) = (env.path().join("one"), env.path().join("two"));
    fs::create_dir(&one).unwrap();
    fs::create_dir(&two).unwrap();

    env.run(&command).current_dir(&one).assert().expect_miss().success().stdout("out");
    env.run(&command).current_dir(&two).assert().expect_miss().success().stdout("out");
    env.run(&command).current_dir(&one).assert().expect_hit().success().stdout("out");
    env.run(&command).current_dir(&two).assert().expect_hit().success().stdout("out");
    count.assert_runs(2);
}

#[test]
fn no_cwd_shares_the_entry_across_directories() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = count.prints("out");
    let (one, two) = (env.path().join("one"), env.path().join("two"));
    fs::create_dir(&one).unwrap();
    fs::create_dir(&two).unwrap();

    let no_cwd = |dir| env.run(&command).opt("--no-cwd").current_dir(dir).assert().success();
    no_cwd(&one).expect_miss().stdout("out");
    no_cwd(&two).expect_hit().stdout("out");
    count.assert_runs(1);
}

#[test]
fn selected_env_value_is_part_of_the_key() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = count.sh(r#"printf '%s' "$FOO""#);
    let with_foo = |value| env.run(&command).keyed_env("FOO").env("FOO", value).assert().success();

    with_foo("1").expect_miss().stdout("1");
    with_foo("2").expect_miss().stdout("2");
    with_foo("1").expect_hit().stdout("1");
    with_foo("2").expect_hit().stdout("2");
    count.assert_runs(2);
}

#[test]
fn unselected_env_is_not_part_of_the_key() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = count.prints("out");

    env.run(&command).env("FOO", "1").assert().expect_miss().success().stdout("out");
    env.run(&command).env("FOO", "2").assert().expect_hit().success().stdout("out");
    count.assert_runs(1);
}

#[test]
fn unset_and_empty_env_are_different_keys() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = count.sh(r#"printf '%s' "${FOO-unset}""#);

    for _ in 0..2 {
        env.run(&command).keyed_env("FOO").env_remove("FOO").assert().success().stdout("unset");
        env.run(&command).keyed_env("FOO").env("FOO", "").assert().success().stdout("");
    }
    count.assert_runs(2);
}

#[test]
fn env_glob_selects_matching_variables() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = count.prints("out");
    let cases: [&[(&str, &str)]; 5] = [
        &[("APP_X", "1")],
        &[("APP_X", "2")],
        &[("APP_X", "2"), ("APP_Y", "1")],
        &[("APP_X", "1")],
        &[("APP_X", "1"), ("OTHER", "changed")],
    ];
    let expected_runs = [1, 2, 3, 3, 3];

    for (vars, runs) in cases.iter().zip(expected_runs) {
        let mut cmd = env.cmd();
        for (name, _) in std::env::vars_os() {
            if name.as_encoded_bytes().starts_with(b"APP_") || name == "OTHER" {
                cmd.env_remove(name);
            }
        }
        cmd.envs(vars.iter().copied()).args(["--env", "APP_*", "--"]).args(&command);
        cmd.assert().success().stdout("out");
        count.assert_runs(runs);
    }
}

#[test]
fn config_env_list_is_part_of_the_key() {
    let env = TestEnv::new();
    env.write_config("env = [\"FOO\"]\n");
    let count = env.counter("c");
    let command = count.prints("out");

    env.run(&command).env("FOO", "1").assert().expect_miss().success().stdout("out");
    env.run(&command).env("FOO", "2").assert().expect_miss().success().stdout("out");
    env.run(&command).env("FOO", "1").assert().expect_hit().success().stdout("out");
    count.assert_runs(2);
}

#[test]
fn scope_and_key_change_the_key() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = count.prints("out");
    let variants: [&[&str]; 5] =
        [&[], &["--scope", "a"], &["--scope", "b"], &["--key", "x"], &["--key", "y"]];

    for round in 0..2 {
        for opts in variants {
            let ran = env.run(&command).opts(opts).assert().success().stdout("out");
            if round == 0 {
                ran.expect_miss();
            } else {
                ran.expect_hit();
            }
        }
        count.assert_runs(variants.len());
    }
}

#[test]
fn entry_older_than_ttl_is_a_miss() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = count.prints("out");
    let key = env.run(&command).key();

    env.run(&command).ttl("1h").assert().expect_miss().success();
    env.age_entry(&key, 2 * 3600);
    env.run(&command).ttl("1h").assert().expect_miss().success().stdout("out");
    count.assert_runs(2);

    env.age_entry(&key, 10 * 60);
    env.run(&command).ttl("1h").assert().expect_hit().success().stdout("out");
    count.assert_runs(2);

    // Freshness is the reader's: a longer --ttl still accepts the old entry.
    env.age_entry(&key, 2 * 3600);
    env.run(&command).ttl("3h").assert().expect_hit().success().stdout("out");
    count.assert_runs(2);
}

#[test]
fn default_ttl_is_one_hour() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = count.prints("out");
    let key = env.run(&command).key();

    env.run(&command).assert().expect_miss().success();
    env.age_entry(&key, 50 * 60);
    env.run(&command).assert().expect_hit().success();
    count.assert_runs(1);
    env.age_entry(&key, 70 * 60);
    env.run(&command).assert().expect_miss().success();
    count.assert_runs(2);
}

#[test]
fn ttl_forever_never_expires() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = count.prints("out");
    let key = env.run(&command).key();

    env.run(&command).ttl("forever").assert().expect_miss().success();
    env.age_entry(&key, 20 * 365 * 24 * 3600);
    env.run(&command).ttl("forever").assert().expect_hit().success().stdout("out");
    count.assert_runs(1);
}

#[test]
fn invalid_ttl_is_a_usage_error_naming_the_flag() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = count.prints("out");

    for ttl in ["--ttl=0", "--ttl=0s", "--ttl=-5s", "--ttl=garbage", "--ttl="] {
        env.run(&command).opt(ttl).quiet().assert().code(125).stdout("").stderr_has("--ttl");
    }
    count.assert_runs(0);
}

#[test]
fn invalid_ttl_from_env_is_a_usage_error() {
    let env = TestEnv::new();
    let count = env.counter("c");
    env.run(count.prints("out"))
        .env("CACHECMD_TTL", "garbage")
        .quiet()
        .assert()
        .code(125)
        .stdout("");
    count.assert_runs(0);
}

/// Runs the counted command after aging its entry to 10s, with `ttl_env` as
/// CACHECMD_TTL and `flag` as extra options; returns whether it executed.
fn ran_after_10s(env: &TestEnv, count: &Counter, ttl_env: Option<&str>, flag: &[&str]) -> bool {
    let command = count.prints("out");
    let key = env.key(harness::with_command(&[], &command));
    let before = count.count();
    env.age_entry(&key, 10);
    let mut cmd = env.cmd();
    if let Some(ttl) = ttl_env {
        cmd.env("CACHECMD_TTL", ttl);
    }
    cmd.args(flag).arg("--").args(&command);
    cmd.assert().success().stdout("out");
    count.count() > before
}

#[test]
fn ttl_precedence_flag_over_env_over_config() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = count.prints("out");
    run(&env, &[], &command).success();

    // Built-in default (1h): 10s is fresh.
    assert!(!ran_after_10s(&env, &count, None, &[]), "default ttl");
    assert!(ran_after_10s(&env, &count, Some("1s"), &[]), "env ttl");
    assert!(!ran_after_10s(&env, &count, Some("1s"), &["--ttl", "1h"]), "flag beats env");

    env.write_config("ttl = \"1s\"\n");
    assert!(ran_after_10s(&env, &count, None, &[]), "config ttl");
    assert!(!ran_after_10s(&env, &count, Some("1h"), &[]), "env beats config");
    assert!(!ran_after_10s(&env, &count, None, &["--ttl", "1h"]), "flag beats config");
}

#[test]
fn config_path_from_cachecmd_config() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = count.prints("out");
    let config = env.path().join("elsewhere.toml");
    fs::write(&config, "ttl = \"1s\"\n").unwrap();
    let key = env.run(&command).key();

    env.run(&command).assert().expect_miss().success();
    env.age_entry(&key, 10);
    env.run(&command)
        .env("CACHECMD_CONFIG", &config)
        .assert()
        .expect_miss()
        .success()
        .stdout("out");
    count.assert_runs(2);
}

#[test]
fn malformed_config_is_125_naming_the_file() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = count.prints("out");

    let default = env.write_config("ttl = \n[[[\n");
    env.run(&command).quiet().assert().code(125).stdout("").stderr_has(default.to_str().unwrap());

    let custom = env.path().join("custom.toml");
    fs::write(&custom, "this is = = not toml").unwrap();
    env.run(&command)
        .env("CACHECMD_CONFIG", &custom)
        .quiet()
        .assert()
        .code(125)
        .stdout("")
        .stderr_has(custom.to_str().unwrap());
    count.assert_runs(0);
}

#[test]
fn signal_death_is_128_plus_n_and_never_cached() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = count.sh("printf before; kill -TERM $$");
    let key = env.run(&command).key();

    for _ in 0..2 {
        env.run(&command).failure_ttl("1h").assert().expect_miss().code(143).stdout("before");
    }
    count.assert_runs(2);
    assert!(!env.entry_path(&key).exists());
}

#[test]
fn unknown_flag_is_125_and_runs_nothing() {
    let env = TestEnv::new();
    let count = env.counter("c");
    run(&env, &["--no-such-flag"], &count.prints("out")).code(125).stdout("");
    env.cmd().args(["--ttl"]).assert().code(125).stdout("");
    count.assert_runs(0);
}

#[test]
fn non_executable_is_126() {
    let env = TestEnv::new();
    let script = env.work.join("notexec");
    fs::write(&script, "#!/bin/sh\necho ran\n").unwrap();
    harness::set_mode(&script, 0o644);

    env.cmd().args(["--", "./notexec"]).assert().code(126).stdout("");
    env.cmd().arg("--").arg(&env.work).assert().code(126).stdout("");
}

#[test]
fn missing_command_is_127() {
    let env = TestEnv::new();
    for _ in 0..2 {
        env.cmd().args(["--", "cachecmd-test-no-such-command"]).assert().code(127).stdout("");
    }
    env.cmd().args(["--", "/nonexistent/dir/prog"]).assert().code(127).stdout("");
}

#[test]
fn force_reruns_and_records() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = count.sh(&format!("wc -l < '{}' | tr -d ' \\n'", count.path.display()));

    env.run(&command).assert().expect_miss().success().stdout("1");
    env.run(&command).opt("--force").assert().expect_miss().success().stdout("2");
    env.run(&command).assert().expect_hit().success().stdout("2");
    count.assert_runs(2);
}

#[test]
fn verbose_reports_hit_and_miss_and_is_silent_otherwise() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = count.sh("printf out; printf 'err\\n' >&2");

    let miss = run(&env, &["-v"], &command).success().stdout("out");
    let status = status_line(&miss.get_output().stderr, "err\n");
    assert!(status.contains("miss"), "miss status line: {status:?}");

    let hit = run(&env, &["-v"], &command).success().stdout("out");
    let status = status_line(&hit.get_output().stderr, "err\n");
    assert!(status.contains("hit"), "hit status line: {status:?}");
    count.assert_runs(1);

    // Without -v, stderr is exactly the command's, on a hit and on a miss.
    run(&env, &[], &command).success().stdout("out").stderr("err\n");
    run(&env, &["--force"], &command).success().stdout("out").stderr("err\n");
}

/// Removes the command's own stderr and returns the single remaining
/// `cachecmd: ` line.
#[track_caller]
fn status_line(stderr: &[u8], command_stderr: &str) -> String {
    let text = String::from_utf8_lossy(stderr);
    let rest = text.replacen(command_stderr, "", 1);
    assert!(text.contains(command_stderr), "command stderr missing: {text:?}");
    let lines: Vec<&str> = rest.lines().collect();
    assert_eq!(lines.len(), 1, "expected one status line, got {text:?}");
    assert!(lines[0].starts_with("cachecmd: "), "status line: {:?}", lines[0]);
    lines[0].to_owned()
}

#[test]
fn miss_streams_output_before_the_command_ends() {
    let env = TestEnv::new();
    let started = Instant::now();
    let mut child =
        env.spawn(["--", "sh", "-c", "echo first; sleep 5; echo second"], Stdio::piped());
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send((line, started.elapsed()));
    });
    let received = rx.recv_timeout(Duration::from_secs(10));
    harness::kill_group(&mut child);

    let (line, elapsed) = received.expect("no output within 10s");
    assert_eq!(line, "first\n");
    assert!(
        elapsed < Duration::from_secs(3),
        "first line took {elapsed:?}: output is not streamed"
    );
}

#[test]
fn broken_pipe_is_quiet_on_miss_and_hit() {
    let env = TestEnv::new();
    let piped = |name: &str| {
        let script = format!(
            "{{ cachecmd -- seq 1 1000000 2>{name}.err; echo $? >{name}.code; }} | head -n 1"
        );
        env.sh(&script).assert().success().stdout("1\n");
        let err = fs::read(env.work.join(format!("{name}.err"))).unwrap();
        let code = fs::read_to_string(env.work.join(format!("{name}.code"))).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&err),
            "",
            "{name}: cachecmd wrote to stderr (exit {code})"
        );
        assert!(["0", "141"].contains(&code.trim()), "{name}: exit {code} on broken pipe");
    };

    piped("miss");
    // Make sure the next piped run is a hit.
    let seq: Vec<OsString> = vec!["seq".into(), "1".into(), "1000000".into()];
    run(&env, &[], &seq).success();
    let key = env.key(harness::with_command(&[], &seq));
    assert!(env.entry_path(&key).is_file());
    piped("hit");
}

#[test]
fn disable_is_pure_pass_through() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = count.sh("printf out; printf err >&2; exit 7");

    for _ in 0..3 {
        let mut cmd = env.cmd();
        cmd.env("CACHECMD_DISABLE", "1").args(["--failure-ttl", "1h", "--"]).args(&command);
        cmd.assert().code(7).stdout("out").stderr("err");
    }
    count.assert_runs(3);
    let stored = harness::files_under(&env.root());
    assert!(stored.is_empty(), "disabled cachecmd stored {stored:?}");
}

#[test]
fn reserved_names_after_dashdash_run_programs() {
    let env = TestEnv::new();
    let count = env.counter("c");
    for name in ["clear", "evict", "key"] {
        let script = env.bin.join(name);
        harness::executable::write_executable(
            &script,
            format!("#!/bin/sh\necho run >> '{}'\necho \"user {name} $*\"\n", count.path.display()),
        );
    }

    env.cmd().args(["--", "clear"]).assert().success().stdout("user clear \n");
    env.cmd().args(["--", "clear", "x"]).assert().success().stdout("user clear x\n");
    env.cmd().args(["--", "evict", "x"]).assert().success().stdout("user evict x\n");
    env.cmd().args(["--", "key", "x"]).assert().success().stdout("user key x\n");
    count.assert_runs(4);
}

#[test]
fn empty_cachecmd_variables_mean_unset() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = count.prints("cached");
    for _ in 0..2 {
        let mut cmd = env.cmd();
        cmd.env("CACHECMD_DIR", "").env("CACHECMD_REMOTE", "").env("CACHECMD_CONFIG", "");
        cmd.arg("--").args(&command).assert().success().stdout("cached");
    }
    count.assert_runs(1);
    // The default cache root holds the entry, not the working directory.
    assert!(!harness::files_under(&env.root()).is_empty());
    assert!(harness::files_under(&env.work).is_empty(), "{:?}", harness::files_under(&env.work));
}

#[test]
fn an_empty_cache_dir_flag_is_refused() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let out = env.cmd().args(["--cache-dir", "", "--"]).args(count.prints("x")).output().unwrap();
    assert_eq!(out.status.code(), Some(125));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--cache-dir"));
    count.assert_runs(0);
}
