//! An entry answers only the key it was recorded for (files moved, copied or
//! swapped between keys, remote values planted under another key), and no
//! output ever shows a secret: remote passwords and tokens from the
//! environment or the config file, or an environment value through
//! `key --explain`. Also: a background refresh never rewrites `--output`
//! files after cachecmd returned.

use std::fs;
use std::process::Output;

use sha2::{Digest, Sha256};

use crate::harness::run::Ran;
use crate::harness::TestEnv;

/// A miss because the entry at the key's path was recorded for another key.
#[track_caller]
fn foreign_miss(ran: Ran) {
    let line = ran.status_line();
    assert!(line.contains("belongs to another key") && line.contains("miss"), "{line}");
}

fn text(out: &Output) -> String {
    let both = [out.stdout.as_slice(), out.stderr.as_slice()].concat();
    String::from_utf8_lossy(&both).into_owned()
}

// ---------------------------------------------------------------------------
// An entry binds its key

#[test]
fn swapped_entry_files_are_a_miss_then_the_right_entry_is_recorded() {
    let env = TestEnv::new();
    env.run(["echo", "AAA"]).assert().expect_miss().stdout("AAA\n");
    env.run(["echo", "BBB"]).assert().expect_miss().stdout("BBB\n");
    let (a, b) = (env.entry_path(&env.run(["echo", "AAA"]).key()), {
        env.entry_path(&env.run(["echo", "BBB"]).key())
    });
    let swap = env.path().join("swap");
    fs::rename(&a, &swap).unwrap();
    fs::rename(&b, &a).unwrap();
    fs::rename(&swap, &b).unwrap();

    foreign_miss(env.run(["echo", "AAA"]).assert().stdout("AAA\n"));
    foreign_miss(env.run(["echo", "BBB"]).assert().stdout("BBB\n"));
    // The misses replaced the foreign entries with their own.
    env.run(["echo", "AAA"]).assert().expect_hit().stdout("AAA\n");
    env.run(["echo", "BBB"]).assert().expect_hit().stdout("BBB\n");
}

#[test]
fn an_entry_copied_to_another_keys_path_is_a_miss() {
    let env = TestEnv::new();
    env.run(["echo", "AAA"]).assert().expect_miss().stdout("AAA\n");
    let a = env.entry_path(&env.run(["echo", "AAA"]).key());
    let b = env.entry_path(&env.run(["echo", "BBB"]).key());
    fs::create_dir_all(b.parent().unwrap()).unwrap();
    fs::copy(&a, &b).unwrap();

    foreign_miss(env.run(["echo", "BBB"]).assert().stdout("BBB\n"));
    env.run(["echo", "BBB"]).assert().expect_hit().stdout("BBB\n");
    env.run(["echo", "AAA"]).assert().expect_hit().stdout("AAA\n");
    // Nor does `show` present the copy as the other key's entry.
    let key = env.run(["echo", "BBB"]).key();
    let shown = env.cmd().args(["show", &key]).output().unwrap();
    assert!(!text(&shown).contains("AAA"), "{}", text(&shown));
}

#[cfg(feature = "redis")]
#[test]
fn a_remote_value_planted_under_another_key_is_a_miss() {
    use crate::harness::redis_server::RedisServer;

    let server = RedisServer::start();
    let env = TestEnv::new();
    let machine = |name: &str| env.path().join(format!("machine-{name}"));
    let opts = |cache: &std::path::Path| {
        vec![
            "--cache-dir".into(),
            cache.as_os_str().to_owned(),
            "--no-cwd".into(),
            "--remote".into(),
            server.url().into(),
        ]
    };
    let (a, b) = (machine("a"), machine("b"));
    let opts_a: Vec<std::ffi::OsString> = opts(&a);
    let opts_b: Vec<std::ffi::OsString> = opts(&b);
    env.run(["echo", "AAA"]).opts(&opts_a).assert().expect_miss().stdout("AAA\n");
    let key_a = env.run(["echo", "AAA"]).opt("--no-cwd").key();
    let key_b = env.run(["echo", "BBB"]).opt("--no-cwd").key();
    let mut admin = server.admin();
    let value: Vec<u8> =
        redis::cmd("GET").arg(format!("cachecmd:v1:{key_a}")).query(&mut admin).unwrap();
    redis::cmd("SET").arg(format!("cachecmd:v1:{key_b}")).arg(value).exec(&mut admin).unwrap();

    let planted = env.run(["echo", "BBB"]).opts(&opts_b).assert().expect_miss().stdout("BBB\n");
    let line = planted.status_line();
    assert!(line.contains("belongs to another key") && !line.contains("remote hit"), "{line}");
    // Machine b recorded (and shared) its own entry in place of the plant.
    env.run(["echo", "BBB"]).opts(&opts_b).assert().expect_hit().stdout("BBB\n");
    let c = machine("c");
    let shared = env.run(["echo", "BBB"]).opts(opts(&c)).assert().stdout("BBB\n");
    assert!(shared.status_line().contains("remote hit"), "{}", shared.status_line());
}

// ---------------------------------------------------------------------------
// Secrets stay secret

const CANARY: &str = "canary9e1f";

/// Every place a secret could be set, all holding the canary; the remote
/// is down (nothing listens on port 1).
fn secret_env<'a>(env: &'a TestEnv, scheme: Option<&str>) -> impl Fn(&[&str]) -> Output + 'a {
    let url = scheme.map(|scheme| format!("{scheme}://user:{CANARY}-env@127.0.0.1:1/0"));
    env.write_config(&format!(
        "remote = \"redis://user:{CANARY}-config@127.0.0.1:1/0\"\nttl = \"1h\"\n"
    ));
    move |args: &[&str]| {
        let mut cmd = env.cmd();
        cmd.env("CACHECMD_REMOTE_PASSWORD", format!("{CANARY}-password"))
            .env("CACHECMD_REMOTE_TOKEN", format!("{CANARY}-token"));
        if let Some(url) = &url {
            cmd.env("CACHECMD_REMOTE", url);
        }
        cmd.args(args).output().unwrap()
    }
}

#[track_caller]
fn assert_no_canary(what: &str, out: &Output) {
    let all = text(out);
    assert!(!all.contains(CANARY), "{what} shows a secret:\n{all}");
}

#[test]
fn no_output_shows_a_remote_password_or_token() {
    // The URL from the environment (Redis, HTTP with a token), else the config.
    for scheme in [Some("redis"), Some("http"), None] {
        let env = TestEnv::new();
        let run = secret_env(&env, scheme);
        let help = run(&["--help"]);
        assert!(help.status.success());
        assert!(text(&help).contains("CACHECMD_REMOTE"), "{}", text(&help));
        assert_no_canary("--help", &help);
        let verbose = run(&["-v", "--", "echo", "hi"]);
        assert_eq!(verbose.stdout, b"hi\n", "{}", text(&verbose));
        assert!(text(&verbose).contains("127.0.0.1:1"), "no remote error: {}", text(&verbose));
        assert_no_canary("-v with the remote down", &verbose);
        let key = env.run(["echo", "hi"]).key();
        for args in [
            &["stats"][..],
            &["stats", "--json"],
            &["list"],
            &["list", "--json"],
            &["show", &key],
            &["key", "--explain", "--", "echo", "hi"],
            &["list", "--remote"],
        ] {
            let out = run(args);
            assert_no_canary(&args.join(" "), &out);
        }
    }
}

#[test]
fn bad_remote_urls_and_config_values_do_not_show_the_secret() {
    let env = TestEnv::new();
    let bad_urls = [
        format!("ftp://user:{CANARY}@host/"),
        format!("redis://user:{CANARY}@[::1/0"),
        format!("redis://user:{CANARY}@host:99999/0"),
        CANARY.to_string(),
        format!("http://user:{CANARY}@127.0.0.1:1/c?token={CANARY}"),
        format!("https://{CANARY}@127.0.0.1:1/c"),
    ];
    for url in &bad_urls {
        let out =
            env.cmd().env("CACHECMD_REMOTE", url).args(["-v", "--", "true"]).output().unwrap();
        assert_no_canary(&format!("CACHECMD_REMOTE={url}"), &out);
        env.write_config(&format!("remote = {url:?}\n"));
        let out = env.cmd().args(["-v", "--", "true"]).output().unwrap();
        assert_no_canary(&format!("config remote = {url:?}"), &out);
        let out = env.cmd().args(["stats"]).output().unwrap();
        assert_no_canary(&format!("stats with remote = {url:?}"), &out);
    }
    // A remote URL under the wrong key: the error quotes the value.
    for key in ["remote_read_only", "env", "ttl", "max_size"] {
        env.write_config(&format!("{key} = \"redis://user:{CANARY}@host/0\"\n"));
        let out = env.cmd().args(["-v", "--", "true"]).output().unwrap();
        assert_eq!(out.status.code(), Some(125), "{}", text(&out));
        assert!(text(&out).contains("redis://host/0"), "{}", text(&out));
        assert_no_canary(&format!("a URL as {key}"), &out);
    }
    // A config file that does not parse, with the secret on the bad line.
    env.write_config(&format!("remote = \"redis://user:{CANARY}@host/0\"\nttl = 5\n"));
    let out = env.cmd().args(["-v", "--", "true"]).output().unwrap();
    assert_eq!(out.status.code(), Some(125), "{}", text(&out));
    assert_no_canary("a bad config value", &out);
    env.write_config(&format!("remote = \"redis://user:{CANARY}@host/0\n"));
    let out = env.cmd().args(["-v", "--", "true"]).output().unwrap();
    assert_eq!(out.status.code(), Some(125), "{}", text(&out));
    assert_no_canary("an unterminated config string", &out);
}

#[test]
fn key_explain_shows_a_variable_is_set_but_no_digest_of_its_value() {
    let env = TestEnv::new();
    let out = env
        .cmd()
        .env("DEPLOY_PIN", "4711")
        .args(["key", "--explain", "--env", "DEPLOY_PIN", "--", "deploy"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let shown = text(&out);
    let digest = hex::encode(Sha256::digest(b"4711"));
    for len in [8, 16, 64] {
        assert!(!shown.contains(&digest[..len]), "a plain digest of the value:\n{shown}");
    }
    assert!(shown.contains("DEPLOY_PIN (set)"), "{shown}");
    let other = env
        .cmd()
        .env("DEPLOY_PIN", "4712")
        .args(["key", "--explain", "--env", "DEPLOY_PIN", "--", "deploy"])
        .output()
        .unwrap();
    // Only the key line (first) differs: the value is keyed, not shown.
    let lines = |out: &Output| {
        String::from_utf8_lossy(&out.stdout).lines().skip(1).collect::<Vec<_>>().join("\n")
    };
    assert_ne!(out.stdout, other.stdout);
    assert_eq!(lines(&out), lines(&other));
}

// ---------------------------------------------------------------------------
// No background refresh of `--output`

#[test]
fn stale_or_warm_with_output_is_refused() {
    let env = TestEnv::new();
    for flag in [&["--stale", "1m"][..], &["--warm"]] {
        let out = env
            .cmd()
            .args(["--ttl", "1h", "--output", "out.txt"])
            .args(flag)
            .args(["--", "sh", "-c", "echo x > out.txt"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(125), "{}", text(&out));
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(flag[0]) && stderr.contains("--output"), "{stderr}");
        assert!(!env.work.join("out.txt").exists(), "the command ran");
    }
}
