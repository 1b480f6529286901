//! On-disk storage: where the root is, privacy, corrupt and partial entries,
//! and never deleting what cachecmd does not own.

use crate::harness;

use std::ffi::OsString;
use std::fs;
use std::process::Stdio;
use std::time::Duration;

use harness::{entry_path_in, files_under, mode, set_mode, walk, TestEnv};

#[test]
fn default_root_is_under_xdg_cache_home() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = count.prints("out");
    env.cmd().arg("--").args(&command).assert().success();

    let mut key_args = vec![OsString::from("--")];
    key_args.extend(command);
    let key = env.key(key_args);
    assert!(env.entry_path(&key).is_file());
    let tag = fs::read_to_string(env.root().join("CACHEDIR.TAG")).unwrap();
    assert!(tag.starts_with("Signature: 8a477f597d28d172789f06886806bc55"));
    assert!(walk(&env.home).is_empty(), "wrote under $HOME: {:?}", walk(&env.home));
}

#[test]
fn cache_dir_precedence_flag_over_env_over_config() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = count.prints("out");
    let mut key_args = vec![OsString::from("--no-cwd"), "--".into()];
    key_args.extend(command.iter().cloned());
    let key = env.key(key_args);
    let [from_config, from_env, from_flag] =
        ["from-config", "from-env", "from-flag"].map(|name| env.path().join(name));
    env.write_config(&format!("cache_dir = \"{}\"\n", from_config.display()));

    let mut cmd = env.cmd();
    cmd.args(["--no-cwd", "--"]).args(&command);
    cmd.assert().success();
    assert!(entry_path_in(&from_config, &key).is_file(), "config");

    let mut cmd = env.cmd();
    cmd.env("CACHECMD_DIR", &from_env).args(["--no-cwd", "--"]).args(&command);
    cmd.assert().success();
    assert!(entry_path_in(&from_env, &key).is_file(), "env over config");

    let mut cmd = env.cmd();
    cmd.env("CACHECMD_DIR", &from_env)
        .arg("--cache-dir")
        .arg(&from_flag)
        .args(["--no-cwd", "--"])
        .args(&command);
    cmd.assert().success();
    assert!(entry_path_in(&from_flag, &key).is_file(), "flag over env");

    count.assert_runs(3);
    assert!(!env.root().exists(), "default root used despite overrides");
}

#[test]
fn private_permissions_whatever_the_umask() {
    let env = TestEnv::new();
    let custom = env.path().join("custom/deep/root");
    let script = format!(
        "umask 000; cachecmd -- sh -c 'exit 2'; \
         cachecmd --failure-ttl 1h -- sh -c 'exit 3'; \
         cachecmd -- echo hi && cachecmd -- echo hi && \
         exec cachecmd --cache-dir '{}' -- echo there",
        custom.display()
    );
    env.sh(&script).assert().success().stdout("hi\nhi\nthere\n");

    for root in [env.root(), custom] {
        assert_eq!(mode(&root), 0o700, "root {}", root.display());
        let paths = walk(&root);
        assert!(
            paths.iter().any(|p| p.parent().unwrap().parent().unwrap().ends_with("v1/entries")),
            "no entry under {}: {paths:?}",
            root.display()
        );
        for path in paths {
            let expected = if path.is_dir() { 0o700 } else { 0o600 };
            assert_eq!(mode(&path), expected, "{}", path.display());
        }
    }
}

#[test]
fn insecure_root_is_refused_but_the_command_runs() {
    for (perm, via_flag) in [(0o777, false), (0o770, false), (0o777, true)] {
        let env = TestEnv::new();
        let count = env.counter("c");
        let root = if via_flag { env.path().join("shared") } else { env.root() };
        fs::create_dir(&root).unwrap();
        set_mode(&root, perm);
        let opts: Vec<OsString> =
            if via_flag { vec!["--cache-dir".into(), root.clone().into()] } else { Vec::new() };

        for round in 1..=2 {
            let out = env
                .cmd()
                .args(&opts)
                .arg("--")
                .args(count.sh("printf out; printf 'err\\n' >&2; exit 3"))
                .assert()
                .code(3)
                .stdout("out");
            assert_at_most_one_extra_line(&out.get_output().stderr, "err\n");
            let out = env
                .cmd()
                .args(&opts)
                .arg("--")
                .args(count.prints("ok"))
                .assert()
                .success()
                .stdout("ok");
            assert_at_most_one_extra_line(&out.get_output().stderr, "");
            count.assert_runs(2 * round);
        }
        let stored = files_under(&root);
        assert!(stored.is_empty(), "{perm:o} root used: {stored:?}");
    }
}

/// stderr must be the command's own plus at most one `cachecmd: ` line.
#[track_caller]
fn assert_at_most_one_extra_line(stderr: &[u8], command_stderr: &str) {
    let text = String::from_utf8_lossy(stderr);
    assert!(text.contains(command_stderr), "lost command stderr: {text:?}");
    let rest = text.replacen(command_stderr, "", 1);
    let lines: Vec<&str> = rest.lines().collect();
    assert!(
        lines.is_empty() || (lines.len() == 1 && lines[0].starts_with("cachecmd: ")),
        "unexpected stderr: {text:?}"
    );
}

/// Runs a counted command once so it has an entry; returns (command, entry path).
fn cached_entry(env: &TestEnv, body: &str) -> (Vec<OsString>, std::path::PathBuf) {
    let command = env.counter("c").sh(body);
    env.cmd().arg("--").args(&command).assert().success();
    let mut key_args = vec![OsString::from("--")];
    key_args.extend(command.iter().cloned());
    let path = env.entry_path(&env.key(key_args));
    assert!(path.is_file());
    (command, path)
}

#[test]
fn undecodable_entry_is_a_miss_and_replaced() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let (command, path) = cached_entry(&env, "printf out; printf err >&2");
    let good = fs::read(&path).unwrap();
    let mut flipped = good.clone();
    flipped[0] ^= 0xff;
    let big = harness::noise(65536, 7);
    let garbage: [&[u8]; 5] = [b"", b"not an entry\n", &big, &flipped, &good[..good.len() / 2]];

    let mut runs = 1;
    for bad in garbage {
        fs::write(&path, bad).unwrap();
        for _ in 0..2 {
            env.cmd().arg("--").args(&command).assert().success().stdout("out").stderr("err");
        }
        runs += 1;
        count.assert_runs(runs);
        assert_ne!(fs::read(&path).unwrap(), bad, "entry not replaced");
    }
}

#[test]
fn truncated_entry_is_a_miss_at_every_length() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let (command, path) = cached_entry(&env, "printf hello; printf warn >&2");
    let full = fs::read(&path).unwrap();

    for len in 0..full.len() {
        fs::write(&path, &full[..len]).unwrap();
        for _ in 0..2 {
            env.cmd().arg("--").args(&command).assert().success().stdout("hello").stderr("warn");
        }
        // One miss (the truncated entry) then one hit (the replacement).
        assert_eq!(count.count(), len + 2, "truncated to {len} of {}", full.len());
    }
}

#[test]
fn corrupted_entry_never_serves_other_bytes() {
    let env = TestEnv::new();
    let (command, path) = cached_entry(&env, "printf 'hello world'; printf 'warn' >&2; exit 0");
    let good = fs::read(&path).unwrap();

    for at in 0..good.len() {
        let mut bad = good.clone();
        bad[at] ^= 0x20;
        fs::write(&path, &bad).unwrap();
        let out = env.cmd().arg("--").args(&command).output().unwrap();
        let at_len = format!("byte {at} of {}", good.len());
        assert_eq!(out.status.code(), Some(0), "{at_len}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "hello world", "{at_len}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), "warn", "{at_len}");
    }
}

#[test]
fn sigkill_during_write_never_yields_a_partial_entry() {
    const LEN: usize = 200_000;
    let env = TestEnv::new();
    // Two halves with a pause between them, so kills land before, during and
    // after the output, and sometimes after the entry is published.
    let script = "head -c 100000 /dev/zero | tr '\\0' \"$FILL\"; sleep 0.02; \
                  head -c 100000 /dev/zero | tr '\\0' \"$FILL\"";
    let mut rng = harness::Rng::seeded();
    let mut allowed = vec![b'R'];

    for i in 0..50u8 {
        let fill = b'a' + i % 26;
        allowed.push(fill);
        let mut writer = env
            .std_cmd()
            .args(["--force", "--", "sh", "-c", script])
            .env("FILL", OsString::from((fill as char).to_string()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(rng.below(80)));
        let _ = writer.kill(); // SIGKILL
        let _ = writer.wait();

        let out = env.cmd().args(["--", "sh", "-c", script]).env("FILL", "R").output().unwrap();
        assert!(out.status.success(), "iteration {i}: {:?}", out.status);
        assert_eq!(out.stdout.len(), LEN, "iteration {i}: partial output");
        let first = out.stdout[0];
        assert!(allowed.contains(&first), "iteration {i}: byte {first}");
        assert!(out.stdout.iter().all(|&b| b == first), "iteration {i}: mixed output");
        assert!(out.stderr.is_empty(), "iteration {i}: {:?}", out.stderr);
    }
}

#[test]
fn env_values_never_reach_disk() {
    let env = TestEnv::new();
    let canaries = ["canary-4f1e9b-secret-one", "canary-77ad02-secret-two"];
    let runs: [&[&str]; 4] = [
        &["--env", "SECRET", "--", "sh", "-c", "printf out"],
        &["--env", "TOKEN_*", "--", "sh", "-c", "printf out"],
        &["--env", "SECRET", "--failure-ttl", "1h", "--", "sh", "-c", "exit 3"],
        &["-v", "--force", "--env", "SECRET", "--", "sh", "-c", "printf out"],
    ];
    for args in runs {
        let _ =
            env.cmd().env("SECRET", canaries[0]).env("TOKEN_API", canaries[1]).args(args).assert();
    }
    let key_args = ["--env", "SECRET", "--", "sh", "-c", "printf out"];
    env.cmd().env("SECRET", canaries[0]).arg("key").args(key_args).assert().success();
    env.cmd().env("SECRET", canaries[0]).args(["evict", "-v"]).args(key_args).assert().success();

    let files = files_under(&env.root());
    assert!(!files.is_empty(), "nothing was stored");
    for path in walk(&env.root()) {
        for canary in canaries {
            assert!(
                !path.to_string_lossy().contains(canary),
                "canary in a path name: {}",
                path.display()
            );
            if path.is_file() {
                let bytes = fs::read(&path).unwrap();
                assert!(
                    !bytes.windows(canary.len()).any(|w| w == canary.as_bytes()),
                    "canary stored in {}",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn clear_keeps_files_it_does_not_own() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let dir = env.path().join("mixed");
    let user_files = [
        ("notes.txt", "my notes"),
        (".hidden", "dot file"),
        ("photos/cat.jpg", "meow"),
        ("v1/README", "mine too"),
        ("v1/entries/ab/notes.txt", "inside a shard"),
    ];
    for (name, content) in user_files {
        let path = dir.join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
    }
    set_mode(&dir, 0o700);

    let run = || {
        env.cmd()
            .arg("--cache-dir")
            .arg(&dir)
            .arg("--")
            .args(count.prints("out"))
            .assert()
            .success()
            .stdout("out");
    };
    run();
    run();
    count.assert_runs(1);

    env.cmd().arg("clear").arg("--cache-dir").arg(&dir).assert().success();
    for (name, content) in user_files {
        assert_eq!(
            fs::read_to_string(dir.join(name)).ok().as_deref(),
            Some(content),
            "{name} was removed or changed"
        );
    }
    run();
    count.assert_runs(2);
}
