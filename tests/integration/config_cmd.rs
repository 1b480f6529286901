//! `cachecmd config`: the effective configuration with the origin of each
//! value (flag, variable, config file and line, default), the precedence of
//! a run, bad values refused as a run refuses them, secrets never shown.

use crate::harness;

use harness::TestEnv;
use serde_json::Value;

/// `cachecmd ARGS...` that must succeed; its stdout.
#[track_caller]
fn config(cmd: &mut assert_cmd::Command) -> String {
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{cmd:?}: {:?}\n{stderr}", out.status);
    assert_eq!(stderr, "");
    String::from_utf8(out.stdout).unwrap()
}

#[track_caller]
fn has_line(out: &str, line: &str) {
    assert!(out.lines().any(|l| l == line), "no line {line:?} in\n{out}");
}

/// Refused as a usage error: exit 125, one line naming `needle`, nothing
/// run or printed.
#[track_caller]
fn refused(cmd: &mut assert_cmd::Command, needle: &str) {
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(125), "{stderr}");
    assert!(stderr.contains(needle), "{needle:?} not in {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(out.stdout.is_empty(), "the command ran");
}
#[test]
fn defaults_say_default() {
    let env = TestEnv::new();
    let out = config(env.cmd().arg("config"));
    let file = env.config_path();
    has_line(&out, &format!("(default) config_file = {} (not found)", file.display()));
    has_line(&out, &format!("(default) cache_dir = {}", env.root().display()));
    for line in [
        "(default) ttl = 1h",
        "(default) failure_ttl = none",
        "(default) lock_timeout = 10m",
        "(default) max_size = 1GiB",
        "(default) env = none",
        "(default) remote = none",
        "(default) remote_mode = read-write",
        "(default) disable = 0",
    ] {
        has_line(&out, line);
    }
}

#[test]
fn each_value_names_its_flag_variable_or_file_line() {
    let env = TestEnv::new();
    let file = env.write_config("# mine\nttl = \"2h\"\n\n\"lock_timeout\" = \"3m\"\nenv = [\n  \"AWS_PROFILE\",\n]\nmax_size = 1000\n");
    let file = file.display();
    let out = config(env.cmd().arg("config"));
    has_line(&out, &format!("(default) config_file = {file}"));
    has_line(&out, &format!("({file}:2) ttl = 2h"));
    has_line(&out, &format!("({file}:4) lock_timeout = 3m"));
    has_line(&out, &format!("({file}:5) env = AWS_PROFILE"));
    has_line(&out, &format!("({file}:8) max_size = 1000"));
    // A variable beats the file, a flag beats both, as in a run.
    let out = config(env.cmd().arg("config").env("CACHECMD_TTL", "3h").env("CACHECMD_ENV", "A,B"));
    has_line(&out, "(CACHECMD_TTL) ttl = 3h");
    has_line(&out, &format!("({file}:5) env = AWS_PROFILE"));
    has_line(&out, "(CACHECMD_ENV) env = A, B (added to the config file's list)");
    let flags = ["config", "--ttl", "4h", "--env", "C", "--max-size", "10M", "--cache-dir", "d"];
    let out = config(env.cmd().args(flags).env("CACHECMD_TTL", "3h"));
    has_line(&out, "(--ttl) ttl = 4h");
    has_line(&out, "(--env) env = C (added to the config file's list)");
    has_line(&out, "(--max-size) max_size = 10M");
    has_line(&out, &format!("(--cache-dir) cache_dir = {}", env.work.join("d").display()));
    // Options typed before the subcommand are its own, as for every subcommand.
    has_line(&config(env.cmd().args(["--ttl", "5m", "config"])), "(--ttl) ttl = 5m");
    // The config file itself, named by its variable.
    let other = env.path().join("other.toml");
    std::fs::write(&other, "failure_ttl = \"30s\"\n").unwrap();
    let out = config(env.cmd().arg("config").env("CACHECMD_CONFIG", &other));
    has_line(&out, &format!("(CACHECMD_CONFIG) config_file = {}", other.display()));
    has_line(&out, &format!("({}:1) failure_ttl = 30s", other.display()));
    has_line(&out, "(default) ttl = 1h");
}

#[test]
fn secrets_are_never_printed() {
    let env = TestEnv::new();
    env.write_config("remote = \"redis://user:hunter2@cache.internal:6379/0\"\n");
    let secrets = [
        ("CACHECMD_REMOTE_PASSWORD", "pw-secret-1"),
        ("CACHECMD_REMOTE_TOKEN", "tok-secret-2"),
        ("CACHECMD_REMOTE_SIGNING_KEY", "key-secret-3"),
        ("CACHECMD_S3_ENDPOINT", "https://ak:sk-secret-4@minio.internal:9000"),
    ];
    for json in [false, true] {
        let mut cmd = env.cmd();
        cmd.arg("config").args(json.then_some("--json")).envs(secrets);
        let out = config(&mut cmd);
        for secret in ["hunter2", "pw-secret-1", "tok-secret-2", "key-secret-3", "sk-secret-4"] {
            assert!(!out.contains(secret), "{secret} in\n{out}");
        }
        if !json {
            has_line(
                &out,
                &format!(
                    "({}:1) remote = redis://cache.internal:6379/0",
                    env.config_path().display()
                ),
            );
            has_line(&out, "(CACHECMD_REMOTE_PASSWORD) remote_password = <redacted>");
            has_line(&out, "(CACHECMD_REMOTE_TOKEN) remote_token = <redacted>");
            has_line(&out, "(CACHECMD_REMOTE_SIGNING_KEY) remote_signing_key = <redacted>");
            has_line(&out, "(CACHECMD_S3_ENDPOINT) s3_endpoint = https://minio.internal:9000/");
        }
    }
    // A flag's URL too.
    let out = config(env.cmd().args(["config", "--remote", "https://u:flag-secret@h/p"]));
    assert!(
        !out.contains("flag-secret") && out.contains("(--remote) remote = https://h/p"),
        "{out}"
    );
}

#[test]
fn bad_values_are_usage_errors_naming_their_origin() {
    let env = TestEnv::new();
    refused(env.cmd().args(["config", "--max-size", "lots"]), "--max-size: 'lots' is not a size");
    refused(env.cmd().args(["config", "--remote", "s4://b"]), "--remote: ");
    refused(env.cmd().arg("config").env("CACHECMD_DISABLE", "maybe"), "CACHECMD_DISABLE: ");
    refused(env.cmd().arg("config").env("CACHECMD_TTL", "bogus"), "CACHECMD_TTL: 'bogus'");
    refused(env.cmd().arg("config").env("CACHECMD_MAX_SIZE", "lots"), "CACHECMD_MAX_SIZE: 'lots'");
    env.write_config("\n\nttl = \"whenever\"\n");
    let file = env.config_path().display().to_string();
    refused(env.cmd().arg("config"), &format!("config file {file}: line 3: ttl: "));
    env.write_config("ttl = 3600\n");
    refused(env.cmd().arg("config"), "line 1: ttl: invalid type");
}

#[test]
fn json_lists_every_setting_with_its_source() {
    let env = TestEnv::new();
    env.write_config("\nttl = \"2h\"\n");
    let out = config(
        env.cmd().args(["config", "--json", "--lock-timeout", "1m"]).env("CACHECMD_SCOPE", "s"),
    );
    let rows: Vec<Value> = serde_json::from_str(&out).unwrap();
    let find = |key: &str| rows.iter().find(|r| r["key"] == key).unwrap_or_else(|| panic!("{key}"));
    let ttl = find("ttl");
    assert_eq!(ttl["value"], "2h");
    assert_eq!(ttl["source"], "file");
    assert_eq!(ttl["line"], 2);
    assert_eq!(ttl["path"], env.config_path().display().to_string());
    assert_eq!(find("lock_timeout")["source"], "flag");
    assert_eq!(find("lock_timeout")["name"], "--lock-timeout");
    assert_eq!(find("scope")["source"], "env");
    assert_eq!(find("scope")["name"], "CACHECMD_SCOPE");
    assert_eq!(find("failure_ttl")["value"], Value::Null);
    assert_eq!(find("max_size")["source"], "default");
    let text = config(env.cmd().arg("config"));
    assert_eq!(rows.len(), text.lines().count(), "one object per line of the text");
}

#[test]
fn what_config_says_is_what_a_run_uses() {
    // The file's TTL: an entry 90 minutes old is served (default: 1h).
    let env = TestEnv::new();
    env.write_config("ttl = \"2h\"\n");
    has_line(
        &config(env.cmd().arg("config")),
        &format!("({}:1) ttl = 2h", env.config_path().display()),
    );
    let count = env.counter("c");
    let command = count.prints("x");
    let key = env.run(&command).key();
    env.run(&command).assert().expect_miss();
    env.age_entry(&key, 90 * 60);
    env.run(&command).assert().expect_hit();
    count.assert_runs(1);
}

/// A bad `env` glob is refused before anything runs, by a run and by
/// `config` alike, naming the config line, `CACHECMD_ENV` or `--env` (it
/// used to be blamed on `--env` whatever its origin, and `config` passed it).
#[test]
fn bad_env_glob_is_refused_naming_its_origin() {
    let env = TestEnv::new();
    let run = ["--", "echo", "ran"];
    env.write_config("ttl = \"1h\"\nenv = [\"A\", \"[\"]\n");
    let file = env.config_path().display().to_string();
    let blamed = format!("config file {file}: line 2: env: pattern '[': ");
    refused(env.cmd().args(run), &blamed);
    refused(env.cmd().arg("config"), &blamed);
    env.write_config("");
    let blamed = "CACHECMD_ENV: pattern '[': ";
    refused(env.cmd().args(run).env("CACHECMD_ENV", "B,["), blamed);
    refused(env.cmd().arg("config").env("CACHECMD_ENV", "B,["), blamed);
    let blamed = "--env: pattern 'a[': ";
    refused(env.cmd().args(["--env", "a["]).args(run).env("CACHECMD_ENV", "B"), blamed);
    refused(env.cmd().args(["config", "--env", "a["]), blamed);
    refused(env.cmd().args(["--cached-only", "--env", "a["]).args(run), blamed);
}

/// A name list is split at commas with the blanks around each name dropped
/// (`A, B` keys B, not a variable named " B"); an empty name or one with
/// `=` is refused, naming its origin.
#[test]
fn env_names_are_trimmed_and_empty_or_assigning_names_refused() {
    let env = TestEnv::new();
    let key_of = |cmd: &mut assert_cmd::Command| {
        let out = cmd.args(["key", "--json", "--", "true"]).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let spaced = key_of(env.cmd().args(["--env", "A, B"]));
    assert_eq!(spaced, key_of(env.cmd().args(["--env", "A,B"])));
    assert_eq!(spaced, key_of(env.cmd().env("CACHECMD_ENV", " A ,B")));
    assert_ne!(spaced, key_of(env.cmd().args(["--env", "A"])));
    let run = ["--", "echo", "ran"];
    let empty = "--env: pattern '': a variable name cannot be empty";
    refused(env.cmd().args(["--env", "A,"]).args(run), empty);
    refused(env.cmd().env("CACHECMD_ENV", "A=1").args(run), "CACHECMD_ENV: pattern 'A=1': ");
    env.write_config("env = [\"A\", \" \"]\n");
    refused(env.cmd().args(run), "line 1: env: pattern ' ': a variable name cannot be empty");
}

/// A run blames a bad `expires_from` or `trace_ignore` on the config line
/// or the variable it came from (both used to be blamed on the flag).
#[test]
fn bad_expiry_path_and_trace_glob_name_their_origin() {
    let env = TestEnv::new();
    let run = ["--", "echo", "ran"];
    env.write_config("ttl = \"1h\"\nexpires_from = \"..bad\"\n");
    let file = env.config_path().display().to_string();
    refused(env.cmd().args(run), &format!("config file {file}: line 2: expires_from: "));
    env.write_config("ttl = \"1h\"\n\ntrace_ignore = [\"/ok/*\", \"[\"]\n");
    refused(env.cmd().args(run), &format!("config file {file}: line 3: trace_ignore: '[': "));
    env.write_config("");
    refused(
        env.cmd().args(run).env("CACHECMD_EXPIRES_FROM", "..bad"),
        "CACHECMD_EXPIRES_FROM '..bad'",
    );
    refused(env.cmd().args(["--expires-from", "..bad"]).args(run), "--expires-from '..bad'");
    refused(env.cmd().args(["--trace-ignore", "["]).args(run), "--trace-ignore '['");
}

/// A config path that is not a regular file is an error naming it: a FIFO
/// used to hang every run (and `config`) in open().
#[test]
fn a_config_path_that_is_not_a_file_is_refused_without_hanging() {
    let env = TestEnv::new();
    let fifo = env.path().join("fifo");
    rustix::fs::mkfifoat(rustix::fs::CWD, &fifo, rustix::fs::Mode::from_raw_mode(0o600)).unwrap();
    for args in [&["config"][..], &["--", "echo", "ran"][..]] {
        let out = env
            .cmd()
            .args(args)
            .env("CACHECMD_CONFIG", &fifo)
            .timeout(std::time::Duration::from_secs(10))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(125), "{stderr}");
        let needle = format!("config file {}: not a regular file", fifo.display());
        assert!(stderr.contains(&needle), "{stderr}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn tracing_settings_are_shown_with_their_origin() {
    let env = TestEnv::new();
    let out = config(env.cmd().arg("config"));
    has_line(&out, "(default) trace_inputs = false");
    has_line(&out, "(default) trace_ignore = none");
    let file = env.write_config("trace_inputs = true\ntrace_ignore = [\"*.log\"]\n");
    let out = config(env.cmd().arg("config"));
    has_line(&out, &format!("({}:1) trace_inputs = true", file.display()));
    has_line(&out, &format!("({}:2) trace_ignore = [\"*.log\"]", file.display()));
    let out = config(env.cmd().arg("config").env("CACHECMD_TRACE_INPUTS", "off"));
    has_line(&out, "(CACHECMD_TRACE_INPUTS) trace_inputs = off");
    let bad = env.cmd().arg("config").env("CACHECMD_TRACE_INPUTS", "maybe").output().unwrap();
    assert_eq!(bad.status.code(), Some(125));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.starts_with("cachecmd: CACHECMD_TRACE_INPUTS:"), "{stderr}");
}
