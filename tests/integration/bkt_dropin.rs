//! cachecmd invoked as `bkt` (README "Coming from bkt"): bkt's own CLI
//! tests (its tests/cli.rs), ported to run against a `bkt` symlink to
//! cachecmd, then what the drop-in promises beyond them: bkt's rejections,
//! its key semantics where they differ from cachecmd's, single-flight,
//! private entries, and the cache shared with cachecmd.

use crate::harness;

use std::ffi::OsString;
use std::fs;
use std::io::Read;
use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Output, Stdio};

use harness::bkt::count_invocations;
use harness::{age_file, wait_for, TestEnv};

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// bkt's `succeed`: exit 0, nothing on stderr; returns stdout.
#[track_caller]
fn succeed(cmd: &mut assert_cmd::Command) -> String {
    let out = cmd.output().unwrap();
    assert_eq!(text(&out.stderr), "", "stderr of {cmd:?}");
    assert_eq!(out.status.code(), Some(0), "exit of {cmd:?}");
    text(&out.stdout)
}

#[track_caller]
fn run(cmd: &mut assert_cmd::Command) -> Output {
    cmd.output().unwrap()
}

/// `--` and then `command`, after `opts`.
fn args(opts: &[&str], command: &[OsString]) -> Vec<OsString> {
    harness::with_command(opts, command)
}

#[test]
fn help_shows_bkt_usage_and_version_names_both() {
    let env = TestEnv::new();
    let help = succeed(env.bkt().arg("--help"));
    assert!(help.contains("bkt [OPTIONS] --ttl <DURATION> -- <COMMAND>..."), "{help}");
    assert!(help.contains("--discard-failures") && help.contains("cachecmd"), "{help}");
    assert!(!help.contains("--remote"), "cachecmd's additions are hidden: {help}");
    let version = succeed(env.bkt().arg("--version"));
    assert!(version.starts_with("bkt 0.8.2 (cachecmd "), "{version}");
}

#[test]
fn cached() {
    let env = TestEnv::new();
    let file = env.path().join("file");
    let argv = args(&[], &count_invocations(&file));
    let first = run(env.bkt().args(&argv));
    assert_eq!(text(&first.stdout), "1");
    for _ in 1..3 {
        let again = run(env.bkt().args(&argv));
        assert_eq!(
            (again.status, again.stdout, again.stderr),
            (first.status, first.stdout.clone(), first.stderr.clone())
        );
    }
}

#[test]
fn cache_expires() {
    let env = TestEnv::new();
    let file = env.path().join("file");
    let argv = args(&["--ttl=1m"], &count_invocations(&file));
    assert_eq!(succeed(env.bkt().args(&argv)), "1");
    // Slightly stale is still cached.
    env.age_all(&env.bkt_root(), 10);
    assert_eq!(succeed(env.bkt().args(&argv)), "1");
    env.age_all(&env.bkt_root(), 120);
    assert_eq!(succeed(env.bkt().args(&argv)), "2");
    // BKT_TTL is respected too.
    env.age_all(&env.bkt_root(), 10);
    let by_env = args(&[], &count_invocations(&file));
    assert_eq!(succeed(env.bkt().env("BKT_TTL", "5s").args(&by_env)), "3");
}

#[test]
fn cache_expires_separately() {
    let env = TestEnv::new();
    let (file1, file2) = (env.path().join("file1"), env.path().join("file2"));
    let args1 = args(&["--ttl=10s"], &count_invocations(&file1));
    let args2 = args(&["--ttl=20s"], &count_invocations(&file2));
    assert_eq!(succeed(env.bkt().args(&args1)), "1");
    assert_eq!(succeed(env.bkt().args(&args2)), "1");
    assert_eq!(succeed(env.bkt().args(&args1)), "1");
    assert_eq!(succeed(env.bkt().args(&args2)), "1");
    // Only the shorter TTL is past.
    env.age_all(&env.bkt_root(), 15);
    assert_eq!(succeed(env.bkt().args(&args1)), "2");
    assert_eq!(succeed(env.bkt().args(&args2)), "1");
}

#[test]
fn cache_hits_with_different_settings() {
    let env = TestEnv::new();
    let file = env.path().join("file");
    let args1 = args(&["--ttl=10s"], &count_invocations(&file));
    let args2 = args(&["--ttl=20s"], &count_invocations(&file));
    // Despite different TTLs the invocation is cached once...
    assert_eq!(succeed(env.bkt().args(&args1)), "1");
    assert_eq!(succeed(env.bkt().args(&args2)), "1");
    // ...and each caller's TTL decides.
    env.age_all(&env.bkt_root(), 15);
    assert_eq!(succeed(env.bkt().args(&args2)), "1");
    env.age_all(&env.bkt_root(), 60);
    assert_eq!(succeed(env.bkt().args(&args1)), "2");
}

#[test]
fn cache_refreshes_in_background() {
    let env = TestEnv::new();
    let file = env.path().join("file");
    let argv = args(&["--stale=10s", "--ttl=20s"], &count_invocations(&file));
    assert_eq!(succeed(env.bkt().args(&argv)), "1");
    env.age_all(&env.bkt_root(), 15);
    // Served at once, refreshed behind (in bkt's terms: the refresh parses
    // the same bkt command line, so it refreshes the same key).
    assert_eq!(succeed(env.bkt().args(&argv)), "1");
    wait_for("the background refresh", || succeed(env.bkt().args(&argv)) == "2");
    assert_eq!(fs::read_to_string(&file).unwrap().lines().count(), 2);
}

#[test]
fn discard_failures() {
    let env = TestEnv::new();
    let file = env.path().join("file");
    let mut command = count_invocations(&file);
    command[2] = format!("{}; false", command[2].to_str().unwrap()).into();
    let discard = args(&["--discard-failures"], &command);
    for expected in ["1", "2"] {
        let out = run(env.bkt().args(&discard));
        assert_eq!((text(&out.stdout).as_str(), out.status.code()), (expected, Some(1)));
    }
    // Without it a failure is cached, as bkt does.
    let keep = args(&[], &command);
    for _ in 0..2 {
        let out = run(env.bkt().args(&keep));
        assert_eq!((text(&out.stdout).as_str(), out.status.code()), ("3", Some(1)));
    }
}

#[test]
fn discard_failure_cached_separately() {
    let env = TestEnv::new();
    let command: Vec<OsString> = ["sh", "-c", r#"exit "${EXIT_WITH:?}""#].map(Into::into).to_vec();
    let first = run(env.bkt().args(args(&[], &command)).env("EXIT_WITH", "14"));
    assert_eq!(first.status.code(), Some(14));
    // A cached failure is never served to --discard-failures.
    let second = run(env.bkt().args(args(&["--discard-failures"], &command)).env("EXIT_WITH", "0"));
    assert_eq!(second.status.code(), Some(0));
}

#[test]
fn discard_failures_in_background() {
    let env = TestEnv::new();
    let file = env.path().join("file");
    let mut command = count_invocations(&file);
    command[2] = format!(r#"{}; ! "${{FAIL:-false}}""#, command[2].to_str().unwrap()).into();
    let plain = args(&["--ttl=20s", "--discard-failures"], &command);
    let stale = args(&["--ttl=20s", "--discard-failures", "--stale=10s"], &command);
    assert_eq!(succeed(env.bkt().args(&plain)), "1");
    // The command now fails: the stale entry is served, the refresh runs
    // and fails, and the cached success stays.
    env.age_all(&env.bkt_root(), 15);
    assert_eq!(succeed(env.bkt().args(&stale).env("FAIL", "true")), "1");
    wait_for("the background refresh", || fs::read_to_string(&file).unwrap().lines().count() == 2);
    assert_eq!(succeed(env.bkt().args(&plain).env("FAIL", "true")), "1");
}

#[test]
fn respects_cache_dir() {
    let env = TestEnv::new();
    let file = env.path().join("file");
    let command = count_invocations(&file);
    let dir = |name: &str| format!("--cache-dir={}", env.path().join(name).display());
    assert_eq!(succeed(env.bkt().args(args(&[&dir("cache")], &command))), "1");
    assert_eq!(succeed(env.bkt().args(args(&[&dir("cache")], &command))), "1");
    assert_eq!(succeed(env.bkt().args(args(&[&dir("new-cache")], &command))), "2");
    let by_env = env
        .bkt()
        .env("BKT_CACHE_DIR", env.path().join("env-cache"))
        .args(args(&[], &command))
        .output();
    assert_eq!(text(&by_env.unwrap().stdout), "3");
    // Each is a parent of a private per-user directory, as in bkt.
    for parent in ["cache", "new-cache", "env-cache"] {
        let root = env.bkt_root_in(&env.path().join(parent));
        assert_eq!(harness::mode(&root), 0o700, "{}", root.display());
        assert!(root.join("v1").is_dir());
    }
}

#[test]
fn respects_relative_cache() {
    let env = TestEnv::new();
    let cwd = env.path().join("cwd");
    fs::create_dir(&cwd).unwrap();
    let file = env.path().join("file");
    let argv = args(&["--cache-dir=cache"], &count_invocations(&file));
    assert_eq!(succeed(env.bkt().args(&argv).current_dir(&cwd)), "1");
    assert_eq!(succeed(env.bkt().args(&argv).current_dir(&cwd)), "1");
    assert!(env.bkt_root_in(&cwd.join("cache")).is_dir());
}

#[test]
fn respects_cache_scope() {
    let env = TestEnv::new();
    let file = env.path().join("file");
    let command = count_invocations(&file);
    assert_eq!(succeed(env.bkt().args(args(&[], &command))), "1");
    assert_eq!(succeed(env.bkt().args(args(&[], &command))), "1");
    assert_eq!(succeed(env.bkt().args(args(&["--scope=foo"], &command))), "2");
    assert_eq!(succeed(env.bkt().args(args(&["--scope=foo"], &command))), "2");
    assert_eq!(succeed(env.bkt().env("BKT_SCOPE", "foo").args(args(&[], &command))), "2");
}

#[test]
fn respects_args() {
    let env = TestEnv::new();
    let file = env.path().join("file");
    let argv = args(&[], &count_invocations(&file));
    assert_eq!(succeed(env.bkt().args(&argv)), "1");
    assert_eq!(succeed(env.bkt().args(&argv)), "1");
    assert_eq!(succeed(env.bkt().args(&argv).arg("A B")), "2");
    assert_eq!(succeed(env.bkt().args(&argv).args(["A", "B"])), "3");
}

#[test]
fn respects_cwd() {
    let env = TestEnv::new();
    let (dir1, dir2) = (env.path().join("dir1"), env.path().join("dir2"));
    fs::create_dir(&dir1).unwrap();
    fs::create_dir(&dir2).unwrap();
    let pwd: Vec<OsString> = ["sh", "-c", "pwd"].map(Into::into).to_vec();
    // Without --cwd the working directory is not keyed (as in bkt).
    let plain = args(&[], &pwd);
    assert!(succeed(env.bkt().args(&plain).current_dir(&dir1)).trim().ends_with("/dir1"));
    assert!(succeed(env.bkt().args(&plain).current_dir(&dir2)).trim().ends_with("/dir1"));
    let cwd = args(&["--cwd"], &pwd);
    assert!(succeed(env.bkt().args(&cwd).current_dir(&dir1)).trim().ends_with("/dir1"));
    assert!(succeed(env.bkt().args(&cwd).current_dir(&dir2)).trim().ends_with("/dir2"));
    let alias = args(&["--use-working-dir"], &pwd);
    assert!(succeed(env.bkt().args(&alias).current_dir(&dir2)).trim().ends_with("/dir2"));
}

#[test]
fn respects_env() {
    let env = TestEnv::new();
    let command: Vec<OsString> =
        ["sh", "-c", r#"printf 'foo:%s bar:%s baz:%s' "$FOO" "$BAR" "$BAZ""#]
            .map(Into::into)
            .to_vec();
    let plain = args(&[], &command);
    let keyed = args(&["--env=FOO", "--env=BAR"], &command);
    let with = |argv: &[OsString], foo: &str, bar: &str, baz: &str| {
        succeed(env.bkt().args(argv).env("FOO", foo).env("BAR", bar).env("BAZ", baz))
    };
    let without_env = with(&plain, "1", "1", "1");
    assert_eq!(without_env, succeed(env.bkt().args(&plain)));
    // With --env but the variables absent, the earlier entry still hits.
    assert_eq!(without_env, succeed(env.bkt().args(&keyed)));
    assert_eq!(with(&keyed, "2", "2", "2"), "foo:2 bar:2 baz:2");
    assert_eq!(with(&keyed, "3", "2", "3"), "foo:3 bar:2 baz:3");
    assert_eq!(with(&keyed, "4", "4", "4"), "foo:4 bar:4 baz:4");
    // BAZ is not keyed.
    assert_eq!(with(&keyed, "2", "2", "5"), "foo:2 bar:2 baz:2");
}

#[test]
fn respects_modtime() {
    let env = TestEnv::new();
    let file = env.path().join("file");
    let watch = env.path().join("watch");
    let argv = args(&["--modtime", watch.to_str().unwrap()], &count_invocations(&file));
    // An absent file is left out of the key.
    assert_eq!(succeed(env.bkt().args(&argv)), "1");
    assert_eq!(succeed(env.bkt().args(&argv)), "1");
    fs::File::create(&watch).unwrap();
    assert_eq!(succeed(env.bkt().args(&argv)), "2");
    assert_eq!(succeed(env.bkt().args(&argv)), "2");
    age_file(&watch, 10);
    assert_eq!(succeed(env.bkt().args(&argv)), "3");
    assert_eq!(succeed(env.bkt().args(&argv)), "3");
}

/// As in bkt, an absent `--modtime` file is left out of the key: the run
/// shares the entry of the same command without `--modtime` (it used to be
/// keyed as absent, another entry).
#[test]
fn modtime_of_an_absent_file_is_left_out_of_the_key() {
    let env = TestEnv::new();
    let file = env.path().join("file");
    let watch = env.path().join("watch");
    let command = count_invocations(&file);
    assert_eq!(succeed(env.bkt().args(args(&[], &command))), "1");
    let keyed = args(&["--modtime", watch.to_str().unwrap()], &command);
    assert_eq!(succeed(env.bkt().args(&keyed)), "1");
    fs::File::create(&watch).unwrap();
    assert_eq!(succeed(env.bkt().args(&keyed)), "2");
    fs::remove_file(&watch).unwrap();
    assert_eq!(succeed(env.bkt().args(&keyed)), "1");
}

#[test]
fn streaming() {
    let env = TestEnv::new();
    let file = env.path().join("file");
    let script = r#"echo BEFORE; i=0; while [ $i -lt 100 ]; do if [ -e "$1" ]; then echo AFTER; exit 0; fi; sleep .1; i=$((i+1)); done; exit 10"#;
    let command: Vec<OsString> =
        vec!["sh".into(), "-c".into(), script.into(), "arg0".into(), file.clone().into()];
    let argv = args(&[], &command);
    let mut std = env.bkt_std_as(&env.bkt_path());
    let mut child = harness::Group(
        std.args(&argv)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .unwrap(),
    );
    let mut stdout = child.0.stdout.take().unwrap();
    let mut buf = [0; 64];
    // Output is seen before the command exits.
    let len = stdout.read(&mut buf).unwrap();
    assert_eq!(&buf[..len], b"BEFORE\n");
    assert!(child.0.try_wait().unwrap().is_none());
    fs::File::create(&file).unwrap();
    let len = stdout.read(&mut buf).unwrap();
    assert_eq!(&buf[..len], b"AFTER\n");
    let mut stderr = String::new();
    child.0.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert_eq!(stderr, "");
    assert_eq!(child.0.wait().unwrap().code(), Some(0));
    // Cached: replayed without waiting.
    fs::remove_file(&file).unwrap();
    assert_eq!(succeed(env.bkt().args(&argv)), "BEFORE\nAFTER\n");
}

#[test]
fn large_output() {
    let env = TestEnv::new();
    let bytes = 1024 * 100;
    let script = format!(
        "head -c {bytes} /dev/zero | tr '\\0' .; head -c {bytes} /dev/zero | tr '\\0' . >&2"
    );
    let command: Vec<OsString> = vec!["sh".into(), "-c".into(), script.into()];
    for _ in 0..2 {
        let out = run(env.bkt().args(args(&[], &command)));
        assert_eq!(
            (out.stdout.len(), out.stderr.len(), out.status.code()),
            (bytes, bytes, Some(0))
        );
    }
}

#[test]
fn truncated_output() {
    let env = TestEnv::new();
    let script = "head -c 102400 /dev/zero | tr '\\0' .";
    let command: Vec<OsString> = vec!["sh".into(), "-c".into(), script.into()];
    let mut std = env.bkt_std_as(&env.bkt_path());
    let mut child = std
        .args(args(&[], &command))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut buf = [0; 10];
    child.stdout.as_mut().unwrap().read_exact(&mut buf).unwrap();
    assert_eq!(buf, [b'.'; 10]);
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!((text(&out.stderr).as_str(), out.status.code()), ("", Some(0)));
}

#[test]
fn no_debug_output() {
    let env = TestEnv::new();
    let argv = args(&[], &["true".into()]);
    for _ in 0..2 {
        let out = run(env.bkt().args(&argv));
        assert_eq!((out.stdout, out.stderr, out.status.code()), (vec![], vec![], Some(0)));
    }
}

#[test]
fn output_preserved() {
    let env = TestEnv::new();
    let print_args = r#"for a in "$@"; do printf '[%s]' "$a"; done"#;
    for extra in [&[][..], &[""], &["a", "b"], &["a b"], &["a b", "c"]] {
        let mut command: Vec<OsString> =
            vec!["sh".into(), "-c".into(), print_args.into(), "arg0".into()];
        command.extend(extra.iter().map(OsString::from));
        let argv = args(&[], &command);
        assert_eq!(succeed(env.bkt().args(&argv)), succeed(env.bkt().args(&argv)));
    }
}

#[test]
fn sensitive_output() {
    let env = TestEnv::new();
    let command: Vec<OsString> =
        ["sh", "-c", r"printf 'foo\0bar'; printf 'bar\0baz\n' >&2"].map(Into::into).to_vec();
    let first = run(env.bkt().args(args(&[], &command)));
    assert_eq!(
        (first.stdout.as_slice(), first.stderr.as_slice()),
        (&b"foo\0bar"[..], &b"bar\0baz\n"[..])
    );
    let second = run(env.bkt().args(args(&[], &command)));
    assert_eq!(
        (second.stdout, second.stderr, second.status),
        (first.stdout, first.stderr, first.status)
    );
}

#[test]
fn exit_code_preserved() {
    let env = TestEnv::new();
    let command: Vec<OsString> =
        ["sh", "-c", r#"exit "${1:?}""#, "arg0", "14"].map(Into::into).to_vec();
    for _ in 0..2 {
        assert_eq!(run(env.bkt().args(args(&[], &command))).status.code(), Some(14));
    }
}

#[test]
fn warm() {
    let env = TestEnv::new();
    let (await_file, touch_file) = (env.path().join("await"), env.path().join("touch"));
    let script = r#"echo awaiting; until [ -e "$1" ]; do sleep .1; done; echo > "$2""#;
    let command: Vec<OsString> = vec![
        "sh".into(),
        "-c".into(),
        script.into(),
        "arg0".into(),
        await_file.clone().into(),
        touch_file.clone().into(),
    ];
    assert_eq!(succeed(env.bkt().args(args(&["--warm"], &command))), "");
    assert!(!touch_file.exists());
    fs::File::create(&await_file).unwrap();
    wait_for("the warmed run", || touch_file.exists());
    // It would not end if it ran again: the entry must be there.
    let entries = env.bkt_root().join("v1/entries");
    wait_for("the warmed entry", || entry_files(&entries).len() == 1);
    fs::remove_file(&await_file).unwrap();
    assert_eq!(succeed(env.bkt().args(args(&["--ttl=1m"], &command))), "awaiting\n");
}

/// Entry files (not temp files) under `dir`.
fn entry_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let entry = |p: &std::path::PathBuf| !p.file_name().unwrap().to_string_lossy().starts_with('.');
    harness::files_under(dir).into_iter().filter(entry).collect()
}

#[test]
fn force() {
    let env = TestEnv::new();
    let file = env.path().join("file");
    let command = count_invocations(&file);
    assert_eq!(succeed(env.bkt().args(args(&[], &command))), "1");
    assert_eq!(succeed(env.bkt().args(args(&[], &command))), "1");
    assert_eq!(succeed(env.bkt().args(args(&["--force"], &command))), "2");
    assert_eq!(succeed(env.bkt().args(args(&[], &command))), "2");
}

#[test]
fn concurrent_misses_run_the_command_once() {
    // bkt runs it twice ("one of them prints 2"); cachecmd's single flight
    // runs it once and both callers print its output.
    let env = TestEnv::new();
    let file = env.path().join("file");
    let mut command = count_invocations(&file);
    command[2] = format!("sleep 0.5; {}", command[2].to_str().unwrap()).into();
    let argv = args(&[], &command);
    let spawn = || {
        let mut std = env.bkt_std_as(&env.bkt_path());
        std.args(&argv).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
    };
    let (one, two) = (spawn(), spawn());
    for child in [one, two] {
        let out = child.wait_with_output().unwrap();
        assert_eq!((text(&out.stdout).as_str(), text(&out.stderr).as_str()), ("1", ""));
    }
    assert_eq!(fs::read_to_string(&file).unwrap().lines().count(), 1);
}

#[test]
fn bkt_rejections_are_usage_errors() {
    let env = TestEnv::new();
    let refused = |opts: &[&str], needle: &str| {
        let out = env.bkt().args(args(opts, &["true".into()])).output().unwrap();
        assert_eq!(out.status.code(), Some(125), "{opts:?}");
        assert!(text(&out.stderr).contains(needle), "{opts:?}: {}", text(&out.stderr));
    };
    refused(&["--warm", "--force"], "'--warm' cannot be used with '--force'");
    refused(&["--warm", "--stale=1s"], "cannot be used with");
    refused(&["--ttl=1m", "--stale=1m"], "--stale (1m) must be less than --ttl (1m)");
    refused(&["--ttl=0s"], "zero");
    refused(&["--ttl=soon"], "not a duration");
    // bkt 0.8 requires a TTL, and says how to get the old default.
    let out = env.bkt().env_remove("BKT_TTL").args(args(&[], &["true".into()])).output().unwrap();
    assert_eq!(out.status.code(), Some(125));
    assert!(text(&out.stderr).contains("BKT_TTL=1m"), "{}", text(&out.stderr));
    // The command comes after `--`.
    let out = env.bkt().args(["--ttl=1m", "true"]).output().unwrap();
    assert_eq!(out.status.code(), Some(125));
    // Nothing ran, nothing was cached.
    assert!(!env.bkt_root().exists());
}

#[test]
fn absent_env_is_left_out_of_the_key_where_cachecmd_keys_it() {
    // The default root is cachecmd's own, so the two share entries with
    // the same key material: bkt's `-- CMD` is cachecmd's `--no-cwd -- CMD`.
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = count.prints("out");
    let bkt = || {
        let mut cmd = env.bkt();
        cmd.env_remove("BKT_TMPDIR").env_remove("UNSET_FOR_TEST");
        cmd
    };
    assert_eq!(succeed(bkt().args(args(&["--env=UNSET_FOR_TEST"], &command))), "out");
    assert_eq!(harness::mode(&env.root()), 0o700);
    env.run(&command).opts(["--no-cwd"]).assert().expect_hit().stdout("out");
    // cachecmd keys a named variable that is unset as unset: another key.
    let unset = env.run(&command).opts(["--no-cwd", "--env", "UNSET_FOR_TEST"]);
    unset.env_remove("UNSET_FOR_TEST").assert().expect_miss();
    // A set one is keyed by both alike.
    assert_eq!(
        succeed(bkt().env("SET_FOR_TEST", "v").args(args(&["--env=SET_FOR_TEST"], &command))),
        "out"
    );
    let set =
        env.run(&command).opts(["--no-cwd", "--env", "SET_FOR_TEST"]).env("SET_FOR_TEST", "v");
    set.assert().expect_hit();
    count.assert_runs(3);
    // And --cwd is cachecmd's default.
    succeed(bkt().args(args(&["--cwd"], &env.counter("d").prints("x"))));
    env.run(env.counter("d").prints("x")).assert().expect_hit();
}

#[test]
fn a_copy_named_bkt_refreshes_in_bkt_terms() {
    // A copy, not a symlink: the background refresh must still parse bkt's
    // command line (it is started under our own argv[0]).
    let env = TestEnv::new();
    let dir = env.path().join("copy");
    fs::create_dir(&dir).unwrap();
    let copy = dir.join("bkt");
    harness::executable::copy_executable(Path::new(harness::BIN), &copy);
    let bkt = || {
        let mut cmd = assert_cmd::Command::from_std(env.bkt_std_as(&copy));
        cmd.env_remove("FOO").timeout(std::time::Duration::from_secs(60));
        cmd
    };
    // The automatic gc after a miss is cachecmd's `gc`, whatever our name.
    assert_eq!(succeed(bkt().args(args(&[], &["echo".into(), "old".into()]))), "old\n");
    let entries = env.bkt_root().join("v1/entries");
    let old = entry_files(&entries);
    assert_eq!(old.len(), 1);
    env.age_all(&env.bkt_root(), 1200);
    assert_eq!(succeed(bkt().args(args(&[], &["echo".into(), "new".into()]))), "new\n");
    wait_for("the background gc", || !old[0].exists());

    let file = env.path().join("file");
    let argv = args(&["--stale=10s", "--ttl=20s", "--env=FOO"], &count_invocations(&file));
    assert_eq!(succeed(bkt().args(&argv)), "1");
    env.age_all(&env.bkt_root(), 15);
    assert_eq!(succeed(bkt().args(&argv)), "1");
    wait_for("the background refresh", || succeed(bkt().args(&argv)) == "2");
    assert_eq!(fs::read_to_string(&file).unwrap().lines().count(), 2);
}

#[test]
fn cachecmd_disable_passes_through() {
    let env = TestEnv::new();
    let file = env.path().join("file");
    let argv = args(&[], &count_invocations(&file));
    for expected in ["1", "2"] {
        assert_eq!(succeed(env.bkt().env("CACHECMD_DISABLE", "1").args(&argv)), expected);
    }
    assert!(!Path::new(&env.bkt_root()).exists());
}

#[test]
fn cachecmd_settings_apply_only_where_bkt_has_none() {
    let env = TestEnv::new();
    let file = env.path().join("file");
    let argv = args(&[], &count_invocations(&file));
    // cachecmd's key and freshness settings are not bkt's: not even read.
    env.write_config("ttl = \"1s\"\nenv = [\"HOME\"]\n");
    let cachecmd_keys =
        [("CACHECMD_TTL", "bogus"), ("CACHECMD_SCOPE", "a"), ("CACHECMD_ENV", "PATH")];
    assert_eq!(succeed(env.bkt().args(&argv).envs(cachecmd_keys)), "1");
    assert_eq!(succeed(env.bkt().args(&argv)), "1");
    assert_eq!(succeed(env.bkt().args(&argv).env("CACHECMD_SCOPE", "b")), "1");
    // What bkt has no notion of is cachecmd's: read, and checked.
    let out = env.bkt().args(&argv).env("CACHECMD_LOCK_TIMEOUT", "never").output().unwrap();
    assert_eq!(out.status.code(), Some(125));
    assert!(text(&out.stderr).contains("'never' is not a duration"), "{}", text(&out.stderr));
    let out = env.bkt().args(&argv).env("CACHECMD_REMOTE", "s4://bucket").output().unwrap();
    assert_eq!(out.status.code(), Some(125));
    assert!(text(&out.stderr).contains("unsupported scheme 's4'"), "{}", text(&out.stderr));
    env.write_config("max_entry_size = 4\n");
    let big = args(&["--force"], &count_invocations(&file));
    assert_eq!(succeed(env.bkt().args(&big)), "2");
    assert_eq!(succeed(env.bkt().args(&argv)), "2");
    // Over the config's max_entry_size: streamed, not cached.
    let long: Vec<OsString> = ["sh", "-c", "echo run >> \"$1\"; echo 123456789", "arg0"]
        .map(Into::into)
        .into_iter()
        .chain([file.clone().into_os_string()])
        .collect();
    assert_eq!(succeed(env.bkt().args(args(&[], &long))), "123456789\n");
    assert_eq!(succeed(env.bkt().args(args(&[], &long))), "123456789\n");
    assert_eq!(fs::read_to_string(&file).unwrap().lines().count(), 4);
}

#[test]
#[ignore = "needs root"]
fn each_user_has_a_cache_of_their_own_needs_root() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let env = TestEnv::new();
    let open = |path: &Path, mode: u32| {
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap()
    };
    for dir in [env.path(), &env.work, &env.bin, &env.home, &env.config_home, &env.cache_home] {
        open(dir, 0o755);
    }
    // A shared temp directory, as /tmp is.
    let tmp = env.bkt_tmpdir();
    fs::create_dir(&tmp).unwrap();
    open(&tmp, 0o1777);
    let file = env.path().join("file");
    fs::write(&file, "").unwrap();
    open(&file, 0o666);
    let argv = args(&[], &count_invocations(&file));
    let nobody = || {
        let mut std = env.bkt_std_as(Path::new("setpriv"));
        std.args(["--reuid=65534", "--regid=65534", "--clear-groups"]).arg(env.bkt_path());
        std.env("HOME", "/nonexistent");
        let mut cmd = assert_cmd::Command::from_std(std);
        cmd.timeout(std::time::Duration::from_secs(60));
        cmd
    };
    assert_eq!(succeed(env.bkt().args(&argv)), "1");
    assert_eq!(succeed(nobody().args(&argv)), "2");
    assert_eq!(succeed(env.bkt().args(&argv)), "1");
    assert_eq!(succeed(nobody().args(&argv)), "2");
    for (uid, root) in [(0, env.bkt_root()), (65534, tmp.join("cachecmd-u65534"))] {
        let meta = fs::metadata(&root).unwrap();
        assert_eq!((meta.uid(), meta.mode() & 0o7777), (uid, 0o700), "{}", root.display());
    }
}

#[test]
fn empty_bkt_variables_count_as_unset() {
    let env = TestEnv::new();
    let argv = args(&[], &env.counter("c").prints("x"));
    let out = env.bkt().env("BKT_TTL", "").args(&argv).output().unwrap();
    assert_eq!(out.status.code(), Some(125));
    assert!(text(&out.stderr).contains("--ttl <DURATION>"), "{}", text(&out.stderr));
    // An empty BKT_CACHE_DIR or BKT_SCOPE: BKT_TMPDIR's cache, no scope.
    assert_eq!(succeed(env.bkt().env("BKT_CACHE_DIR", "").env("BKT_SCOPE", "").args(&argv)), "x");
    assert_eq!(succeed(env.bkt().args(&argv)), "x");
    env.counter("c").assert_runs(1);
    assert!(env.bkt_root().join("v1").is_dir());
}
