//! Lookups that never run the command (`--cached-only`, `--check`), the
//! exit-status policy (`--cache-exit-codes`) and the variables of the key
//! flags (`CACHECMD_SCOPE`, `CACHECMD_ENV`).

use crate::harness;

use std::fs;

use harness::TestEnv;

#[test]
fn cached_only_serves_a_hit_and_never_runs_on_a_miss() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = count.prints("out");

    env.run(&command).opt("--cached-only").quiet().assert().code(3).stdout("").stderr("");
    count.assert_runs(0);
    env.run(&command).assert().expect_miss().success().stdout("out");
    count.assert_runs(1);
    env.run(&command).opt("--cached-only").assert().expect_hit().success().stdout("out");
    count.assert_runs(1);
    // An expired entry is a miss: nothing runs, nothing prints.
    let expired = env.run(&command).ttl("1s").opt("--cached-only").quiet();
    expired.env("CACHECMD_TEST_NOW", "4000000000").assert().code(3).stdout("").stderr("");
    count.assert_runs(1);
}

#[test]
fn check_prints_nothing_and_says_fresh_or_miss_by_status() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = count.prints("out");

    env.run(&command).opt("--check").quiet().assert().code(3).stdout("").stderr("");
    env.run(&command).quiet().assert().success();
    env.run(&command).opt("--check").quiet().assert().code(0).stdout("").stderr("");
    count.assert_runs(1);
    // A different key (another --key) is a miss.
    let other = env.run(&command).opts(["--check", "--key", "v2"]).quiet();
    other.assert().code(3).stdout("");
    count.assert_runs(1);
}

#[test]
fn miss_status_comes_from_the_flag_the_variable_or_the_config() {
    let env = TestEnv::new();
    let command = env.counter("c").prints("out");
    env.run(&command).opts(["--check", "--miss-status", "42"]).quiet().assert().code(42);
    let by_env = env.run(&command).opt("--cached-only").env("CACHECMD_MISS_STATUS", "7");
    by_env.quiet().assert().code(7).stdout("");
    env.run(&command).opts(["--check", "--miss-status", "300"]).quiet().assert().code(125);
    env.write_config("miss_status = 9\n");
    env.run(&command).opt("--check").quiet().assert().code(9);
    // The variable, then the flag, come before the file.
    env.run(&command).opt("--check").env("CACHECMD_MISS_STATUS", "7").quiet().assert().code(7);
    env.run(&command).opts(["--check", "--miss-status", "42"]).quiet().assert().code(42);
    env.write_config("miss_status = 300\n");
    env.run(&command).opt("--check").quiet().assert().code(125);
}

/// `CACHECMD_DISABLE=1` means no cache, so a lookup is a miss: it used to
/// pass through and run (and print) the command that `--check` and
/// `--cached-only` promise never to run.
#[test]
fn disabled_cache_lookups_miss_without_running() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = count.prints("out");
    env.run(&command).assert().success().stdout("out");
    for lookup in ["--cached-only", "--check"] {
        let disabled = env.run(&command).opt(lookup).env("CACHECMD_DISABLE", "1");
        disabled.quiet().assert().code(3).stdout("").stderr("");
    }
    env.write_config("miss_status = 9\n");
    let disabled = env.run(&command).opt("--check").env("CACHECMD_DISABLE", "1");
    disabled.quiet().assert().code(9).stdout("");
    let disabled = env.run(&command).opts(["--check", "--miss-status", "4"]);
    disabled.env("CACHECMD_DISABLE", "1").quiet().assert().code(4).stdout("");
    count.assert_runs(1);
    // Any other run still becomes the command.
    env.run(&command).env("CACHECMD_DISABLE", "1").quiet().assert().success().stdout("out");
    count.assert_runs(2);
}

#[test]
fn lookups_conflict_with_each_other_and_with_running_flags() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = count.prints("out");
    for pair in [
        ["--cached-only", "--check"],
        ["--cached-only", "--force"],
        ["--cached-only", "--warm"],
        ["--check", "--force"],
        ["--check", "--warm"],
    ] {
        env.run(&command).opts(pair).quiet().assert().code(125).stdout("");
    }
    count.assert_runs(0);
}

#[test]
fn cached_only_follows_input_changes() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = count.prints("out");
    let input = env.work.join("in.txt");
    fs::write(&input, "one").unwrap();
    // Dated in the past, so the rewrite below has another mtime.
    let then = std::time::SystemTime::now() - std::time::Duration::from_secs(100);
    filetime::set_file_mtime(&input, filetime::FileTime::from_system_time(then)).unwrap();

    env.run(&command).opts(["--input", "in.txt"]).quiet().assert().success();
    let cached = || env.run(&command).opts(["--input", "in.txt", "--cached-only"]).quiet();
    cached().assert().success().stdout("out");
    fs::write(&input, "three").unwrap();
    cached().assert().code(3).stdout("");
    let check = env.run(&command).opts(["--input", "in.txt", "--check"]).quiet();
    check.assert().code(3);
    count.assert_runs(1);
}

#[test]
fn listed_failures_are_cached_and_unlisted_ones_are_not() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let listed = count.sh("printf out; exit 3");
    let codes = ["--cache-exit-codes", "0,3,100-199"];

    let run = || env.run(&listed).opts(codes).failure_ttl("1m");
    run().assert().expect_miss().code(3).stdout("out");
    run().assert().expect_hit().code(3).stdout("out");
    count.assert_runs(1);
    // Listed without --failure-ttl: it lives for --ttl.
    let other = count.sh("printf x; exit 150");
    env.run(&other).opts(codes).assert().expect_miss().code(150);
    env.run(&other).opts(codes).assert().expect_hit().code(150);
    count.assert_runs(2);

    let unlisted = count.sh("printf y; exit 4");
    let run = || env.run(&unlisted).opts(codes).failure_ttl("1m");
    run().assert().expect_miss().code(4);
    run().assert().expect_miss().code(4);
    count.assert_runs(4);
    // From the variable too; a success not in the list is not cached.
    let ok = count.prints("ok");
    let run = || env.run(&ok).env("CACHECMD_CACHE_EXIT_CODES", "1");
    run().assert().expect_miss().success();
    run().assert().expect_miss().success();
    count.assert_runs(6);
}

#[test]
fn bad_exit_code_lists_name_their_source() {
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = count.prints("out");
    let flag = env.run(&command).opts(["--cache-exit-codes", "0,x"]).quiet().assert();
    flag.code(125).stdout("").stderr_has("--cache-exit-codes: 'x' is not an exit status");
    let var = env.run(&command).env("CACHECMD_CACHE_EXIT_CODES", "9-3").quiet().assert();
    var.code(125).stderr_has("CACHECMD_CACHE_EXIT_CODES: '9-3' is an empty range");
    env.write_config("cache_exit_codes = \"0,256\"\n");
    let config = env.run(&command).quiet().assert();
    config.code(125).stderr_has("line 1: cache_exit_codes: '256' is not an exit status");
    count.assert_runs(0);
}

/// A variable that is not UTF-8 is one line naming it, exit 125, nothing
/// run (clap's own error named no variable); a scope may be any bytes.
#[test]
fn a_non_utf8_variable_is_named() {
    use std::os::unix::ffi::OsStrExt as _;
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = count.prints("out");
    let bad = std::ffi::OsStr::from_bytes(b"A\xff");
    for name in ["CACHECMD_ENV", "CACHECMD_MISS_STATUS", "CACHECMD_CACHE_EXIT_CODES"] {
        let run = env.run(&command).opt("--cached-only").env(name, bad).quiet();
        let line = format!("cachecmd: {name}: the value is not valid UTF-8\n");
        run.assert().code(125).stdout("").stderr(line.as_str());
    }
    count.assert_runs(0);
    env.run(&command).env("CACHECMD_SCOPE", bad).quiet().assert().success().stdout("out");
}

#[test]
fn scope_and_env_variables_change_the_key() {
    let env = TestEnv::new();
    let command = env.counter("c").prints("out");
    let plain = env.run(&command).key();
    let scoped = env.run(&command).env("CACHECMD_SCOPE", "job1").key();
    assert_ne!(plain, scoped);
    assert_eq!(scoped, env.run(&command).opts(["--scope", "job1"]).key());

    let keyed = |value: &str| {
        let run = env.run(&command).env("CACHECMD_ENV", "LOOKUPS_A,LOOKUPS_B*");
        run.env("LOOKUPS_A", "1").env("LOOKUPS_BX", value).key()
    };
    assert_ne!(keyed("1"), keyed("2"));
    let by_flag = env.run(&command).opts(["--env", "LOOKUPS_A", "--env", "LOOKUPS_B*"]);
    assert_eq!(keyed("1"), by_flag.env("LOOKUPS_A", "1").env("LOOKUPS_BX", "1").key());
}

#[cfg(feature = "redis")]
#[test]
fn a_remote_entry_counts_for_cached_only_and_check() {
    let server = harness::redis_server::RedisServer::start();
    let env = TestEnv::new();
    let count = env.counter("c");
    let command = count.prints("out");
    let on = |machine: &str| {
        let cache = env.path().join(format!("machine-{machine}"));
        let cache = cache.to_str().unwrap().to_owned();
        env.run(&command).opts(["--cache-dir", &cache, "--remote", &server.url()]).quiet()
    };
    on("a").opt("--check").assert().code(3);
    on("a").opt("--cached-only").assert().code(3).stdout("");
    count.assert_runs(0);
    on("a").assert().success().stdout("out");
    on("b").opt("--check").assert().code(0).stdout("");
    on("c").opt("--cached-only").assert().success().stdout("out");
    count.assert_runs(1);
}
