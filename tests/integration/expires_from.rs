//! `--expires-from` and `--expiry-margin`: an entry lives exactly as long as
//! the credential its command printed, with real-looking token answers.
//! The clock is moved with the test-only `CACHECMD_TEST_NOW`, never by
//! sleeping; instants are written relative to now.

use std::ffi::OsString;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::harness::{Counter, TestEnv};

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn rfc3339(secs: u64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(secs)).to_string()
}

/// One counted run of `command` at `at` (unix seconds) with `opts`.
#[track_caller]
fn run_at(env: &TestEnv, at: u64, opts: &[&str], command: &[OsString]) -> crate::harness::run::Ran {
    env.run(command).opts(opts).env("CACHECMD_TEST_NOW", at.to_string()).assert()
}

/// The command is cached until `expiry` (exclusive): a hit a second before,
/// a miss at it.
#[track_caller]
fn lives_until(env: &TestEnv, t0: u64, expiry: u64, opts: &[&str], json: &str) {
    let count = env.counter("runs");
    let command = count.prints(json);
    let first = run_at(env, t0, opts, &command).expect_miss().success().stdout(json);
    assert!(first.status_line().contains("(from the output)"), "{}", first.status_line());
    run_at(env, expiry - 1, opts, &command).expect_hit().stdout(json);
    count.assert_runs(1);
    run_at(env, expiry, opts, &command).expect_miss().stdout(json);
    count.assert_runs(2);
}

#[test]
fn aws_sts_credentials_live_until_their_expiration() {
    let env = TestEnv::new();
    let t0 = now();
    let json = format!(
        r#"{{"Credentials":{{"AccessKeyId":"ASIAEXAMPLE","SecretAccessKey":"wJalr/EXAMPLEKEY","SessionToken":"FwoGZXIvYXdzEXAMPLE","Expiration":"{}"}}}}"#,
        rfc3339(t0 + 3600)
    );
    lives_until(&env, t0, t0 + 3600, &["--expires-from", "/Credentials/Expiration"], &json);
}

#[test]
fn gcp_expires_in_counts_from_the_end_of_the_run() {
    let env = TestEnv::new();
    let t0 = now();
    let json = r#"{"access_token":"ya29.a0AfEXAMPLE","expires_in":3599,"token_type":"Bearer"}"#;
    lives_until(&env, t0, t0 + 3599, &["--expires-from", "$.expires_in"], json);
}

#[test]
fn vault_lease_duration() {
    let env = TestEnv::new();
    let t0 = now();
    let json = r#"{"request_id":"4e1a","auth":{"client_token":"hvs.CAESEXAMPLE","policies":["default"],"lease_duration":2764800,"renewable":true}}"#;
    lives_until(&env, t0, t0 + 2_764_800, &["--expires-from", "$.auth.lease_duration"], json);
}

#[test]
fn jwt_exp_is_an_epoch_instant() {
    let env = TestEnv::new();
    let t0 = now();
    let json = format!(r#"{{"sub":"ci-runner","iat":{t0},"exp":{}}}"#, t0 + 600);
    lives_until(&env, t0, t0 + 600, &["--expires-from", "/exp"], &json);
}

#[test]
fn oauth_token_with_a_margin_expires_early() {
    let env = TestEnv::new();
    let t0 = now();
    let json = r#"{"access_token":"2YotnFZFEjr1zCsicMWpAA","token_type":"bearer","expires_in":"3600","refresh_token":"tGzv3JOkF0XG5Qx2TlKWIA","scope":"read"}"#;
    let opts = ["--expires-from", "$.expires_in", "--expiry-margin", "5m"];
    lives_until(&env, t0, t0 + 3300, &opts, json);
}

#[test]
fn an_array_index_in_the_path() {
    let env = TestEnv::new();
    let t0 = now();
    let json = format!(r#"{{"tokens":[{{"exp":1}},{{"exp":{}}}]}}"#, t0 + 60);
    lives_until(&env, t0, t0 + 60, &["--expires-from", "$.tokens[1].exp"], &json);
}

/// Runs `json` twice with `opts`: never cached, output and status intact,
/// and `-v` says `why`.
#[track_caller]
fn not_cached(opts: &[&str], json: &str, why: &str) {
    let env = TestEnv::new();
    let count = env.counter("runs");
    let t0 = now();
    for _ in 0..2 {
        let ran = run_at(&env, t0, opts, &count.prints(json)).expect_miss().success().stdout(json);
        let line = ran.status_line();
        assert!(line.contains("not recorded (") && line.contains(why), "{line}");
    }
    count.assert_runs(2);
}

#[test]
fn output_without_a_usable_expiry_is_not_cached() {
    let t0 = now();
    not_cached(&["--expires-from", "/exp"], "not json at all", "the output is not JSON");
    not_cached(&["--expires-from", "/exp"], r#"{"exp":1} {"#, "the output is not JSON");
    not_cached(&["--expires-from", "/exp"], r#"{"expires_in":60}"#, "no value at --expires-from");
    not_cached(&["--expires-from", "/exp"], r#"{"exp":"tomorrow-ish"}"#, "--expires-from value");
    not_cached(&["--expires-from", "/exp"], r#"{"exp":null}"#, "--expires-from value");
    let past = format!(r#"{{"exp":"{}"}}"#, rfc3339(t0 - 10));
    not_cached(&["--expires-from", "/exp"], &past, "already past");
    let soon = format!(r#"{{"exp":{}}}"#, t0 + 60);
    not_cached(
        &["--expires-from", "/exp", "--expiry-margin", "2m"],
        &soon,
        "within --expiry-margin",
    );
}

#[test]
fn a_failed_lookup_never_changes_the_exit_status() {
    let env = TestEnv::new();
    let count = env.counter("runs");
    let command = count.sh("printf 'oops'; exit 3");
    env.run(&command)
        .opts(["--expires-from", "/exp"])
        .assert()
        .expect_miss()
        .code(3)
        .stdout("oops");
}

#[test]
fn an_explicit_ttl_caches_output_without_an_expiry_for_the_ttl() {
    let env = TestEnv::new();
    let count = env.counter("runs");
    let t0 = now();
    let opts = ["--expires-from", "/exp", "--ttl", "1h"];
    let ran = run_at(&env, t0, &opts, &count.prints("plain text")).expect_miss();
    assert!(ran.status_line().contains("the output is not JSON"), "{}", ran.status_line());
    assert!(ran.status_line().contains("cached for --ttl"), "{}", ran.status_line());
    run_at(&env, t0 + 60, &opts, &count.prints("plain text")).expect_hit().stdout("plain text");
    count.assert_runs(1);
}

#[test]
fn an_explicit_ttl_caps_the_outputs_expiry() {
    let env = TestEnv::new();
    let count = env.counter("runs");
    let t0 = now();
    let json = format!(r#"{{"exp":{}}}"#, t0 + 7200);
    let opts = ["--expires-from", "/exp", "--ttl", "1h"];
    run_at(&env, t0, &opts, &count.prints(&json)).expect_miss();
    run_at(&env, t0 + 3500, &opts, &count.prints(&json)).expect_hit();
    run_at(&env, t0 + 3700, &opts, &count.prints(&json)).expect_miss();
    count.assert_runs(2);
}

#[test]
fn output_over_the_entry_limit_is_neither_parsed_nor_cached() {
    let env = TestEnv::new();
    let count = env.counter("runs");
    let t0 = now();
    let json = format!(r#"{{"exp":{},"pad":"{}"}}"#, t0 + 600, "x".repeat(4096));
    let opts = ["--expires-from", "/exp", "--max-entry-size", "1KiB"];
    for _ in 0..2 {
        let ran = run_at(&env, t0, &opts, &count.prints(&json)).expect_miss().stdout(&json);
        assert!(ran.status_line().contains("over --max-entry-size"), "{}", ran.status_line());
        assert!(!ran.status_line().contains("from the output"), "{}", ran.status_line());
    }
    count.assert_runs(2);
}

#[test]
fn a_bad_path_is_a_usage_error_naming_the_flag() {
    let env = TestEnv::new();
    for bad in ["", "Credentials.Expiration", "$..a", "/a~2"] {
        let ran = env.run(["true"]).opts(["--expires-from", bad]).quiet().assert();
        ran.code(125).stderr_has("--expires-from");
        let out = env.cmd().args(["key", "--expires-from", bad, "--", "true"]).output().unwrap();
        assert_eq!(out.status.code(), Some(125), "key --expires-from {bad:?}");
    }
    env.run(["true"])
        .opts(["--expires-from", "/exp", "--expires-at", "2099-01-01T00:00:00Z"])
        .assert()
        .code(125);
    let out = env.cmd().env("CACHECMD_EXPIRES_FROM", "nope").args(["--", "true"]).output().unwrap();
    assert_eq!(out.status.code(), Some(125));
}

#[test]
fn the_path_is_part_of_the_key() {
    let env = TestEnv::new();
    let plain = env.key(["--", "true"]);
    let a = env.key(["--expires-from", "/exp", "--", "true"]);
    let b = env.key(["--expires-from", "$.exp", "--", "true"]);
    assert!(plain != a && a != b && plain != b);
    let out = env
        .cmd()
        .env("CACHECMD_EXPIRES_FROM", "/exp")
        .args(["key", "--", "true"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), a);
    let out = env.cmd().args(["key", "--explain", "--expires-from", "/exp", "--", "true"]).output();
    let text = String::from_utf8(out.unwrap().stdout).unwrap();
    assert!(text.contains("expiry   from output at /exp"), "{text}");
}

#[test]
fn list_and_show_tell_the_instant_and_its_source() {
    let env = TestEnv::new();
    let count = env.counter("runs");
    let t0 = now();
    let at = rfc3339(t0 + 900);
    let json = format!(r#"{{"Credentials":{{"Expiration":"{at}"}}}}"#);
    let opts = ["--expires-from", "/Credentials/Expiration"];
    run_at(&env, t0, &opts, &count.prints(&json)).expect_miss();
    let report = |args: &[&str]| {
        let out = env.cmd().env("CACHECMD_TEST_NOW", t0.to_string()).args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let listed: serde_json::Value = serde_json::from_str(&report(&["list", "--json"])).unwrap();
    assert_eq!(listed[0]["expires_at"], at.as_str());
    assert_eq!(listed[0]["expires_from"], "/Credentials/Expiration");
    assert_eq!(listed[0]["ttl_secs"], serde_json::Value::Null);
    assert_eq!(listed[0]["expired"], false);
    assert!(report(&["list"]).contains(&format!("{at} from output")));
    let key = listed[0]["key"].as_str().unwrap().to_string();
    let shown = report(&["show", &key[..12]]);
    assert!(
        shown.contains(&format!("{at} (from the output at /Credentials/Expiration)")),
        "{shown}"
    );
    assert!(shown.contains("until it expires (expires in 15m)"), "{shown}");
    // An entry without --expires-from says nothing of the kind.
    env.run(["echo", "x"]).assert().expect_miss();
    let listed: serde_json::Value = serde_json::from_str(&report(&["list", "--json"])).unwrap();
    let plain = listed.as_array().unwrap().iter().find(|e| e["key"] != key.as_str()).unwrap();
    assert_eq!(plain["expires_from"], serde_json::Value::Null);
}

#[test]
fn with_stale_the_refresh_starts_inside_the_margin() {
    let env = TestEnv::new();
    let count = env.counter("runs");
    let t0 = now();
    let json = format!(r#"{{"exp":{}}}"#, t0 + 3600);
    let opts = ["--expires-from", "/exp", "--expiry-margin", "10m", "--stale", "1d"];
    run_at(&env, t0, &opts, &count.prints(&json)).expect_miss();
    let ran = run_at(&env, t0 + 60, &opts, &count.prints(&json)).expect_hit();
    assert!(!ran.status_line().contains("refreshing"), "{}", ran.status_line());
    // Inside the margin: served, and refreshed behind the caller's back.
    let ran = run_at(&env, t0 + 3300, &opts, &count.prints(&json)).expect_hit().stdout(&json);
    assert!(ran.status_line().contains("refreshing in the background"), "{}", ran.status_line());
    crate::harness::wait_for("the background refresh", || count.count() == 2);
    // Past the instant itself: never served, even with --stale.
    run_at(&env, t0 + 3600, &opts, &count.prints(&json)).expect_miss();
}

#[test]
fn without_stale_the_margin_is_a_miss() {
    let env = TestEnv::new();
    let count = env.counter("runs");
    let t0 = now();
    let json = format!(r#"{{"exp":{}}}"#, t0 + 3600);
    let opts = ["--expires-from", "/exp", "--expiry-margin", "10m"];
    run_at(&env, t0, &opts, &count.prints(&json)).expect_miss();
    run_at(&env, t0 + 2999, &opts, &count.prints(&json)).expect_hit();
    run_at(&env, t0 + 3000, &opts, &count.prints(&json)).expect_miss();
    count.assert_runs(2);
}

#[test]
fn stale_if_error_serves_the_last_token_when_the_refresh_fails() {
    let env = TestEnv::new();
    let count = env.counter("runs");
    let t0 = now();
    let json = format!(r#"{{"exp":{}}}"#, t0 + 600);
    let flag = env.path().join("fail");
    let script = format!("if [ -e '{}' ]; then exit 7; fi; printf '%s' '{json}'", flag.display());
    let command = count.sh(&script);
    let opts = ["--expires-from", "/exp", "--stale-if-error", "1h"];
    run_at(&env, t0, &opts, &command).expect_miss().stdout(&json);
    std::fs::write(&flag, "").unwrap();
    let ran = run_at(&env, t0 + 700, &opts, &command).success().stdout(&json);
    assert!(ran.status_line().contains("stale"), "{}", ran.status_line());
    count.assert_runs(2);
}

#[test]
fn config_and_environment_name_the_path_and_margin() {
    let env = TestEnv::new();
    env.write_config("expires_from = \"/exp\"\nexpiry_margin = \"1m\"\n");
    let count = env.counter("runs");
    let t0 = now();
    let json = format!(r#"{{"exp":{}}}"#, t0 + 600);
    run_at(&env, t0, &[], &count.prints(&json)).expect_miss();
    run_at(&env, t0 + 539, &[], &count.prints(&json)).expect_hit();
    run_at(&env, t0 + 540, &[], &count.prints(&json)).expect_miss();
    let env = TestEnv::new();
    let count = Counter { path: env.path().join("runs") };
    let ran = env
        .run(count.prints(&json))
        .env("CACHECMD_EXPIRES_FROM", "/exp")
        .env("CACHECMD_EXPIRY_MARGIN", "20m")
        .env("CACHECMD_TEST_NOW", t0.to_string())
        .assert();
    assert!(ran.status_line().contains("within --expiry-margin"), "{}", ran.status_line());
}

#[cfg(feature = "redis")]
#[test]
fn the_instant_travels_with_the_entry_through_the_remote_tier() {
    let redis = crate::harness::redis_server::RedisServer::start();
    let env = TestEnv::new();
    let count = env.counter("runs");
    let t0 = now();
    let json = format!(r#"{{"exp":{}}}"#, t0 + 900);
    let on = |machine: &str, at: u64| {
        let cache = env.path().join(machine);
        let mut cmd = env.cmd();
        cmd.env("CACHECMD_TEST_NOW", at.to_string()).arg("--cache-dir").arg(&cache);
        cmd.args(["--no-cwd", "-v", "--remote", &redis.url(), "--expires-from", "/exp", "--"]);
        cmd.args(count.prints(&json)).output().unwrap()
    };
    assert!(on("a", t0).status.success());
    let b = on("b", t0 + 60);
    let status = String::from_utf8_lossy(&b.stderr).into_owned();
    assert!(status.contains("remote hit"), "{status}");
    assert_eq!(b.stdout, json.as_bytes());
    count.assert_runs(1);
    let listed =
        env.cmd().args(["list", "--json", "--cache-dir"]).arg(env.path().join("b")).output();
    let listed: serde_json::Value = serde_json::from_slice(&listed.unwrap().stdout).unwrap();
    assert_eq!(listed[0]["expires_at"], rfc3339(t0 + 900).as_str());
    assert_eq!(listed[0]["expires_from"], "/exp");
    // Past the instant, neither copy is served.
    let c = on("c", t0 + 900);
    assert!(!String::from_utf8_lossy(&c.stderr).contains("remote hit"));
    count.assert_runs(2);
}
