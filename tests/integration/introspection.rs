//! What `list`, `show`, `stats` and `key` tell about the cache: the run time
//! each entry records and the time its hits saved (locally and through the
//! remote tier), counters that restart with `stats --zero` and a `clear` of
//! everything, the key material of an entry, the filters and orders of
//! `list`, and the JSON of all four (one schema version, lossless bytes,
//! `expires_at` for every entry).

use std::ffi::OsString;
use std::fs;
use std::os::unix::ffi::OsStringExt;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::harness::{self, TestEnv};

/// The stdout of a successful `cachecmd ARGS` in `dir` (the work dir by default).
#[track_caller]
fn report_in(env: &TestEnv, dir: &Path, args: &[&str]) -> String {
    let out = env.cmd().args(args).current_dir(dir).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "cachecmd {args:?}: {:?}\n{stderr}", out.status);
    String::from_utf8(out.stdout).unwrap()
}

#[track_caller]
fn report(env: &TestEnv, args: &[&str]) -> String {
    report_in(env, &env.work, args)
}

#[track_caller]
fn json(env: &TestEnv, args: &[&str]) -> Value {
    let text = report(env, args);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{args:?}: {e}\n{text}"))
}

/// `list --json`, as an array.
#[track_caller]
fn listed(env: &TestEnv, extra: &[&str]) -> Vec<Value> {
    let args: Vec<&str> = ["list", "--json"].iter().chain(extra).copied().collect();
    match json(env, &args) {
        Value::Array(entries) => entries,
        other => panic!("list --json is not an array: {other}"),
    }
}

/// The entry of `key` in `list --json`.
#[track_caller]
fn entry(env: &TestEnv, key: &str) -> Value {
    let all = listed(env, &[]);
    all.into_iter().find(|e| e["key"] == key).unwrap_or_else(|| panic!("no entry {key}"))
}

fn rfc3339(secs: u64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(secs)).to_string()
}

fn epoch(text: &Value) -> u64 {
    let at = humantime::parse_rfc3339(text.as_str().unwrap()).unwrap();
    at.duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn sleeper(ms: u64, out: &str) -> Vec<String> {
    let secs = format!("{}.{:03}", ms / 1000, ms % 1000);
    vec!["sh".into(), "-c".into(), format!("sleep {secs}; printf {out}")]
}

// ------------------------------------------------------------- time saved

#[test]
fn the_run_time_is_recorded_and_every_hit_counts_it_as_saved() {
    let env = TestEnv::new();
    let slow = sleeper(300, "slow");
    env.run(&slow).assert().expect_miss().stdout("slow");
    let key = env.run(&slow).key();
    let run_ms = entry(&env, &key)["run_ms"].as_u64().expect("run_ms recorded");
    assert!((300..60_000).contains(&run_ms), "a 300 ms command recorded as {run_ms} ms");
    assert_eq!(entry(&env, &key)["saved_ms"], 0);

    for _ in 0..2 {
        env.run(&slow).assert().expect_hit().stdout("slow");
    }
    let listed = entry(&env, &key);
    assert_eq!((listed["hits"].as_u64(), listed["saved_ms"].as_u64()), (Some(2), Some(2 * run_ms)));
    let stats = json(&env, &["stats", "--json"]);
    assert_eq!(stats["saved_ms"], 2 * run_ms, "{stats}");
    assert_eq!(stats["top"][0]["key"], key.as_str(), "{stats}");
    assert_eq!(stats["top"][0]["saved_ms"], 2 * run_ms, "{stats}");
    assert_eq!(stats["top"][0]["run_ms"], run_ms, "{stats}");
    assert_eq!(stats["top"][0]["command"], serde_json::json!(slow), "{stats}");

    // The text reports say the same.
    let (run, saved) = (millis(run_ms), millis(2 * run_ms));
    let text = report(&env, &["stats"]);
    assert!(text.contains(&format!("time saved  {saved} ")), "{text}");
    let top = text.lines().find(|l| l.starts_with("top saved")).expect("a top line");
    assert!(top.contains(&saved) && top.contains("2 hits") && top.contains("sleep 0.300"), "{top}");
    let shown = report(&env, &["show", &key[..12]]);
    assert!(shown.contains(&format!("run time   {run}\n")), "{shown}");
    assert!(shown.contains(&format!("saved      {saved} by 2 hits\n")), "{shown}");
    let table = report(&env, &["list"]);
    let row = table.lines().find(|l| l.starts_with(&key[..12])).unwrap();
    assert!(row.contains(&format!(" {run}  ")), "no RUN cell {run:?} in {row:?}");
}

/// `format::millis` of the binary, for the few values these tests meet.
fn millis(ms: u64) -> String {
    match ms {
        0..1000 => format!("{ms}ms"),
        1000..10_000 => format!("{}.{}s", ms / 1000, ms % 1000 / 100),
        _ => format!("{}s", ms / 1000),
    }
}

#[test]
fn an_entry_without_a_recorded_run_time_says_so_and_saves_nothing() {
    let env = TestEnv::new();
    env.run(["echo", "old"]).assert().expect_miss();
    let key = env.run(["echo", "old"]).key();
    // As an entry written before the run time was kept: zero there.
    let path = env.entry_path(&key);
    let mut bytes = fs::read(&path).unwrap();
    let header = cachecmd::test_support::Header::decode(&bytes, bytes.len() as u64).unwrap();
    let header = cachecmd::test_support::Header { run_ms: 0, ..header };
    bytes[..cachecmd::test_support::HEADER_LEN].copy_from_slice(&header.encode());
    fs::write(&path, bytes).unwrap();

    env.run(["echo", "old"]).assert().expect_hit().stdout("old\n");
    let listed = entry(&env, &key);
    assert!(listed["run_ms"].is_null(), "{listed}");
    assert_eq!((&listed["hits"], &listed["saved_ms"]), (&Value::from(1), &Value::from(0)));
    assert!(report(&env, &["show", &key]).contains("run time   - (not recorded)\n"));
    let stats = json(&env, &["stats", "--json"]);
    assert_eq!((&stats["hits"], &stats["saved_ms"]), (&Value::from(1), &Value::from(0)));
    assert_eq!(stats["top"], serde_json::json!([]), "nothing saved, no top entries");
}

#[test]
fn stats_counts_from_the_cache_creation_until_zeroed() {
    let env = TestEnv::new();
    let slow = sleeper(100, "x");
    env.run(&slow).assert().expect_miss();
    env.run(&slow).assert().expect_hit();
    // Never zeroed: the counts start with the cache (its CACHEDIR.TAG).
    let created = 1_790_000_000;
    let tag = env.root().join("CACHEDIR.TAG");
    let when = filetime::FileTime::from_unix_time(created as i64, 0);
    filetime::set_file_mtime(&tag, when).unwrap();
    let stats = json(&env, &["stats", "--json"]);
    assert_eq!(stats["since"], rfc3339(created).as_str(), "{stats}");
    assert!(report(&env, &["stats"]).contains(&format!("counting    since {}", rfc3339(created))));
    assert_eq!((&stats["hits"], &stats["misses"]), (&Value::from(1), &Value::from(1)));

    let zeroed_at = 1_800_000_000u64;
    let out = env
        .cmd()
        .env("CACHECMD_TEST_NOW", zeroed_at.to_string())
        .args(["stats", "--zero"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("statistics zeroed at {}\n", rfc3339(zeroed_at))
    );
    let stats = json(&env, &["stats", "--json"]);
    for counter in ["hits", "misses", "evictions", "remote_hits", "saved_ms"] {
        assert_eq!(stats[counter], 0, "{counter} after --zero: {stats}");
    }
    assert_eq!(stats["since"], rfc3339(zeroed_at).as_str());
    assert_eq!(stats["entries"], 1, "--zero keeps the entries");
    let key = env.run(&slow).key();
    assert_eq!(entry(&env, &key)["hits"], 0, "each entry's hits restart too");

    // With --json the answer is JSON too (it used to be the text line).
    let again = zeroed_at + 60;
    let out = env
        .cmd()
        .env("CACHECMD_TEST_NOW", again.to_string())
        .args(["stats", "--zero", "--json"])
        .output()
        .unwrap();
    let zeroed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(zeroed, serde_json::json!({ "schema": 1, "since": rfc3339(again) }));
    assert_eq!(json(&env, &["stats", "--json"])["since"], rfc3339(again).as_str());

    // What happens next counts from there.
    env.run(&slow).assert().expect_hit();
    let stats = json(&env, &["stats", "--json"]);
    assert_eq!((&stats["hits"], &stats["misses"]), (&Value::from(1), &Value::from(0)));
    assert_eq!(stats["saved_ms"], entry(&env, &key)["run_ms"]);
}

#[test]
fn clearing_everything_restarts_the_counts_and_a_filtered_clear_does_not() {
    let env = TestEnv::new();
    for word in ["a", "b", "c"] {
        env.run(["echo", word]).assert().expect_miss();
    }
    env.run(["echo", "a"]).assert().expect_hit();
    report(&env, &["clear", "--command", "nothing-matches*"]);
    assert_eq!(json(&env, &["stats", "--json"])["misses"], 3, "a filtered clear keeps the counts");

    let cleared_at = 1_800_000_000u64;
    let out =
        env.cmd().env("CACHECMD_TEST_NOW", cleared_at.to_string()).arg("clear").output().unwrap();
    assert!(out.status.success());
    let stats = json(&env, &["stats", "--json"]);
    assert_eq!(
        (&stats["entries"], &stats["hits"], &stats["misses"]),
        (&0.into(), &0.into(), &0.into())
    );
    assert_eq!(stats["since"], rfc3339(cleared_at).as_str(), "{stats}");
    // With -v, clear takes the other path; it restarts the counts too.
    env.run(["echo", "d"]).assert().expect_miss();
    report(&env, &["clear", "-v"]);
    assert_eq!(json(&env, &["stats", "--json"])["misses"], 0);
}

#[cfg(feature = "redis")]
#[test]
fn a_remote_hit_saves_the_run_time_recorded_on_the_other_machine() {
    let server = harness::redis_server::RedisServer::start();
    let env = TestEnv::new();
    let (a, b) = (env.path().join("machine-a"), env.path().join("machine-b"));
    let slow = sleeper(200, "shared");
    let on = |cache: &Path| {
        let mut cmd = env.cmd();
        cmd.arg("--cache-dir").arg(cache).args(["--no-cwd", "-v", "--remote", &server.url(), "--"]);
        cmd.args(&slow);
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.stdout, b"shared");
        String::from_utf8(out.stderr).unwrap()
    };
    let stats_of = |cache: &Path| {
        let out = env.cmd().args(["stats", "--json", "--cache-dir"]).arg(cache).output().unwrap();
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    assert!(on(&a).contains("recorded"));
    let key = env.key(["--no-cwd", "--"].iter().copied().chain(slow.iter().map(String::as_str)));
    let listed_a = {
        let out = env.cmd().args(["list", "--json", "--cache-dir"]).arg(&a).output().unwrap();
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let run_ms = listed_a[0]["run_ms"].as_u64().unwrap();
    assert!(run_ms >= 200, "{listed_a}");

    assert!(on(&b).contains("remote hit"), "machine b");
    let stats = stats_of(&b);
    assert_eq!((&stats["hits"], &stats["remote_hits"]), (&1.into(), &1.into()), "{stats}");
    assert_eq!(stats["saved_ms"], run_ms, "{stats}");
    // The local copy now serves b's hits, each saving the same.
    assert!(on(&b).contains("cachecmd: hit"));
    let stats = stats_of(&b);
    assert_eq!(stats["saved_ms"], 2 * run_ms, "{stats}");
    assert_eq!(stats["top"][0]["key"], key.as_str());

    // list --remote --json: the objects of list --json, only the key known.
    let local = {
        let out = env.cmd().args(["list", "--json", "--cache-dir"]).arg(&b).output().unwrap();
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let remote = harness::remote_checks::list_remote_json(&env, &server.url());
    let fields = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(fields(&remote[0]), fields(&local[0]), "{remote:?}\n{local}");
    assert_eq!((&remote[0]["key"], &remote[0]["schema"]), (&local[0]["key"], &local[0]["schema"]));
    for (name, value) in remote[0].as_object().unwrap() {
        if name != "key" && name != "schema" {
            assert!(value.is_null(), "{name} of a remote entry: {value}");
        }
    }
}

// ------------------------------------------------------------------ list

#[test]
fn the_same_command_from_two_directories_shows_its_directory() {
    let env = TestEnv::new();
    let other = env.path().join("other dir");
    fs::create_dir(&other).unwrap();
    env.run(["echo", "hi"]).assert().expect_miss();
    env.run(["echo", "hi"]).current_dir(&other).assert().expect_miss();
    env.run(["echo", "hi"]).opt("--no-cwd").assert().expect_miss();
    let table = report(&env, &["list"]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 4, "{table}");
    let dir_at = lines[0].find("DIR").expect("a DIR column");
    let dirs: Vec<&str> =
        lines[1..].iter().map(|l| l[dir_at..].split("  ").next().unwrap()).collect();
    let work = env.work.to_str().unwrap().replace(env.home.to_str().unwrap(), "~");
    for expected in [work.as_str(), &format!("'{}'", other.display()), "-"] {
        assert!(
            dirs.iter().any(|d| d.trim_end() == expected),
            "{expected} not in {dirs:?}\n{table}"
        );
    }
    // Under $HOME a directory is shown from `~`.
    let project = env.home.join("project");
    fs::create_dir(&project).unwrap();
    env.run(["echo", "home"]).current_dir(&project).assert().expect_miss();
    let table = report(&env, &["list", "--command", "echo home"]);
    assert!(table.lines().nth(1).unwrap().contains("  ~/project  echo home"), "{table}");
}

#[test]
fn markers_say_what_besides_the_command_line_is_keyed() {
    let env = TestEnv::new();
    fs::write(env.work.join("in.txt"), "input").unwrap();
    env.run(["echo", "plain"]).assert().expect_miss();
    env.run(["echo", "input"]).opts(["--input", "in.txt"]).assert().expect_miss();
    env.run(["cat"]).opt("--stdin").stdin("from stdin").assert().expect_miss();
    env.run(["echo", "key"]).opts(["--key", "v2", "--env", "HOME"]).assert().expect_miss();
    let marks = |line: &str| -> String {
        let rows = report(&env, &["list"]);
        let header = rows.lines().next().unwrap();
        let at = header.find("KEYED").unwrap();
        let row = rows.lines().find(|l| l.ends_with(line)).unwrap_or_else(|| panic!("{rows}"));
        row[at..].split_whitespace().next().unwrap().to_string()
    };
    assert_eq!(marks("echo plain"), "-");
    assert_eq!(marks("echo input"), "i");
    assert_eq!(marks(" cat"), "s");
    assert_eq!(marks("echo key"), "ek");
    let keyed_on = |command: &str| {
        let all = listed(&env, &["--command", command]);
        assert_eq!(all.len(), 1, "{command}: {all:?}");
        all[0]["keyed_on"].clone()
    };
    assert_eq!(keyed_on("echo input"), serde_json::json!(["input"]));
    assert_eq!(keyed_on("cat"), serde_json::json!(["stdin"]));
    assert_eq!(keyed_on("echo key"), serde_json::json!(["env", "key"]));
    assert_eq!(keyed_on("echo plain"), serde_json::json!([]));
}

#[test]
fn list_filters_by_command_directory_and_expiry() {
    let env = TestEnv::new();
    let sub = env.work.join("sub");
    fs::create_dir(&sub).unwrap();
    env.run(["echo", "one"]).assert().expect_miss();
    env.run(["printf", "two"]).assert().expect_miss();
    env.run(["echo", "three"]).current_dir(&sub).assert().expect_miss();
    let old = env.run(["echo", "one"]).key();
    env.age_entry(&old, 7200);
    let commands = |args: &[&str], dir: &Path| -> Vec<String> {
        let mut all: Vec<&str> = vec!["list", "--json"];
        all.extend(args);
        let text = report_in(&env, dir, &all);
        let entries: Vec<Value> = serde_json::from_str(&text).unwrap();
        let mut found: Vec<String> =
            entries.iter().map(|e| e["command"][1].as_str().unwrap().to_string()).collect();
        found.sort();
        found
    };
    assert_eq!(commands(&["--command", "echo"], &env.work), ["one", "three"]);
    assert_eq!(commands(&["--command", "/usr/bin/printf"], &env.work), Vec::<String>::new());
    assert_eq!(commands(&["--command", "print*"], &env.work), ["two"]);
    assert_eq!(commands(&["--here"], &env.work), ["one", "two"]);
    assert_eq!(commands(&["--here"], &sub), ["three"]);
    assert_eq!(commands(&["--expired"], &env.work), ["one"]);
    assert_eq!(commands(&["--expired", "--here", "--command", "echo"], &sub), Vec::<String>::new());
    // The table takes the same filters; a bad glob is a usage error.
    let table = report(&env, &["list", "--command", "printf"]);
    assert_eq!(table.lines().count(), 2, "{table}");
    env.cmd().args(["list", "--command", "[z-a]"]).assert().code(125);
}

#[test]
fn list_sorts_by_age_size_hits_and_saved_time() {
    let env = TestEnv::new();
    // a: old, small, hit twice; b: big, hit once, slow; c: newest, never hit.
    let a = ["echo", "a"];
    let b = sleeper(300, "bbbbbbbbbbbbbbbbbbbb");
    let c = ["echo", "c"];
    env.run(a).assert().expect_miss();
    env.run(&b).assert().expect_miss();
    env.run(c).assert().expect_miss();
    env.run(a).assert().expect_hit();
    env.run(a).assert().expect_hit();
    env.run(&b).assert().expect_hit();
    let (ka, kb, kc) = (env.run(a).key(), env.run(&b).key(), env.run(c).key());
    env.age_entry(&ka, 300);
    env.age_entry(&kb, 200);
    env.age_entry(&kc, 100);
    let order = |sort: &str| -> Vec<String> {
        let entries = listed(&env, &["--sort", sort]);
        entries.iter().map(|e| e["key"].as_str().unwrap().to_string()).collect()
    };
    let (ka, kb, kc) = (ka.as_str(), kb.as_str(), kc.as_str());
    assert_eq!(order("age"), [ka, kb, kc]);
    assert_eq!(order("size"), [kb, ka, kc]);
    assert_eq!(order("hits"), [ka, kb, kc]);
    // b's one hit saved 300 ms or more; a's two hits saved two echo runs.
    let saved = |k: &str| entry(&env, k)["saved_ms"].as_u64().unwrap();
    let expected = if saved(kb) >= saved(ka) { [kb, ka, kc] } else { [ka, kb, kc] };
    assert!(saved(kb) >= 300);
    assert_eq!(order("saved"), expected);
    // The table follows the same order.
    let table = report(&env, &["list", "--sort", "age"]);
    let keys: Vec<&str> = table.lines().skip(1).map(|l| &l[..12]).collect();
    assert_eq!(keys, [&ka[..12], &kb[..12], &kc[..12]]);
    env.cmd().args(["list", "--sort", "colour"]).assert().code(125);
}

#[test]
fn rows_are_cut_to_the_terminal_only_on_a_terminal() {
    let env = TestEnv::new();
    let long = "x".repeat(300);
    env.run(["echo", &long]).assert().expect_miss();
    // Not a terminal: whole rows, whatever COLUMNS says.
    let out = env.cmd().env("COLUMNS", "40").arg("list").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.lines().nth(1).unwrap().ends_with(&format!("echo {long}")), "{text}");
    // A terminal of 60 columns, through util-linux's `script`.
    let script = which("script").expect("`script` (util-linux) on PATH");
    let out = env
        .std_command(script)
        .args(["-qec", &format!("{} list --color never", harness::BIN), "/dev/null"])
        .env("COLUMNS", "60")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).replace('\r', "");
    let key = env.run(["echo", &long]).key();
    let row = text.lines().find(|l| l.starts_with(&key[..12]));
    let row = row.unwrap_or_else(|| panic!("{text:?}"));
    assert_eq!(row.chars().count(), 60, "{row:?}");
    assert!(row.ends_with('…'), "{row:?}");
}

fn which(program: &str) -> Result<std::path::PathBuf, ()> {
    let path = std::env::var_os("PATH").ok_or(())?;
    std::env::split_paths(&path).map(|d| d.join(program)).find(|p| p.is_file()).ok_or(())
}

// ------------------------------------------------------------------ show

#[test]
fn show_prints_the_whole_key_material() {
    let env = TestEnv::new();
    fs::write(env.work.join("in.txt"), "input").unwrap();
    fs::write(env.work.join("stamp"), "").unwrap();
    let opts = [
        "--input",
        "in.txt",
        "--input",
        "missing.txt",
        "--key",
        "v2",
        "--key",
        "it's",
        "--stdin",
        "--modtime",
        "stamp",
        "--env",
        "HOME",
        "--env",
        "NOT_SET_HERE",
        "--output",
        "out",
    ];
    let command = [
        "sh",
        "-c",
        "cat; mkdir -p out; head -c 2048 /dev/zero > out/blob; head -c 3000 /dev/zero",
    ];
    let run = env.run(command).opts(opts).stdin("in");
    let key = run.key();
    // The absent input is noted first; the run is recorded all the same.
    let ran = run.assert();
    assert!(ran.status_line().contains("recorded (exit 0)"), "{}", ran.status_line());
    let explained = {
        let mut args = vec!["key", "--json"];
        args.extend(opts);
        args.push("--");
        args.extend(command);
        let out = env.cmd().args(&args).write_stdin("in").output().unwrap();
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    // Inputs are keyed in path order.
    assert_eq!(explained["inputs"][0]["path"], "in.txt", "{explained}");
    assert_eq!(explained["inputs"][1]["kind"], "absent", "{explained}");
    let digest = explained["inputs"][0]["sha256"].as_str().unwrap().to_string();

    let shown = report(&env, &["show", &key[..10]]);
    for line in [
        "key string v2\n".to_string(),
        "key string 'it'\\''s'\n".into(),
        "input      absent - missing.txt\n".into(),
        format!("input      file   {digest} in.txt\n"),
        "stdin      keyed (its content's digest)\n".into(),
        "output     out\n".into(),
        "env        HOME NOT_SET_HERE (values not stored)\n".into(),
        "stdout     3002 bytes (2.9 KiB)\n".into(),
        "stderr     0 bytes\n".into(),
    ] {
        assert!(shown.contains(&line), "missing {line:?} in\n{shown}");
    }
    assert!(shown.contains("modtime    ") && shown.contains("ns stamp\n"), "{shown}");
    let outputs = shown.lines().find(|l| l.starts_with("outputs ")).expect("an outputs line");
    assert!(outputs.ends_with("bytes, compressed archive"), "{outputs}");
    assert!(shown.contains("run time   "), "{shown}");

    // An entry without --output has no outputs line, and no material rows.
    env.run(["echo", "plain"]).assert().expect_miss();
    let plain = report(&env, &["show", "--", "echo", "plain"]);
    assert!(!plain.contains("outputs"), "{plain}");
    for part in ["key string", "input ", "stdin ", "modtime", "output "] {
        assert!(!plain.contains(part), "{part} in\n{plain}");
    }
}

#[test]
fn show_json_is_the_list_object_with_the_key_material() {
    let env = TestEnv::new();
    fs::write(env.work.join("in.txt"), "input").unwrap();
    let run = env.run(["echo", "j"]).opts(["--input", "in.txt", "--key", "k1"]);
    let key = run.key();
    run.assert().expect_miss();
    let shown = json(&env, &["show", "--json", &key[..12]]);
    let listed = entry(&env, &key);
    for (name, value) in listed.as_object().unwrap() {
        assert_eq!(&shown[name], value, "{name} differs from list --json");
    }
    assert_eq!(shown["key_strings"], serde_json::json!(["k1"]));
    assert_eq!(shown["inputs"][0]["path"], "in.txt");
    assert_eq!(shown["inputs"][0]["kind"], "file");
    assert_eq!(shown["inputs"][0]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(shown["inputs_total"], 1);
    assert_eq!((&shown["stdin"], &shown["outputs"]), (&Value::Bool(false), &serde_json::json!([])));
    let file = shown["file"].as_str().unwrap();
    assert_eq!(Path::new(file), env.entry_path(&key));
    env.cmd().args(["show", "--json", "--stdout", &key[..12]]).assert().code(125);
}

// ------------------------------------------------------------------ key

#[test]
fn key_json_gives_the_key_and_its_parts_without_values() {
    let env = TestEnv::new();
    fs::write(env.work.join("in.txt"), "input").unwrap();
    let opts = ["--input", "in.txt", "--env", "SECRET_PIN", "--scope", "s", "--key", "k"];
    let mut args = vec!["key", "--json"];
    args.extend(opts);
    args.extend(["--", "echo", "x"]);
    let out = env.cmd().args(&args).env("SECRET_PIN", "4711").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("4711"), "a value leaked: {text}");
    let key: Value = serde_json::from_str(&text).unwrap();
    let plain = env.run(["echo", "x"]).opts(opts).env("SECRET_PIN", "4711").key();
    assert_eq!(key["key"], plain.as_str());
    assert_eq!(key["command"], serde_json::json!(["echo", "x"]));
    assert_eq!(key["cwd"], env.work.to_str().unwrap());
    assert_eq!(key["env"], serde_json::json!([{"name": "SECRET_PIN", "set": true}]));
    assert_eq!(
        (&key["scope"], &key["key_strings"]),
        (&Value::from("s"), &serde_json::json!(["k"]))
    );
    assert_eq!(key["inputs"][0]["kind"], "file");
    assert!(key["stdin_sha256"].is_null() && key["expires_from"].is_null());
    env.cmd().args(["key", "--json", "--explain", "--", "echo"]).assert().code(125);
}

// ------------------------------------------------------------------ JSON

#[test]
fn every_json_report_carries_the_same_schema_version() {
    let env = TestEnv::new();
    env.run(["echo", "s"]).assert().expect_miss();
    let key = env.run(["echo", "s"]).key();
    let schemas = [
        listed(&env, &[])[0]["schema"].clone(),
        json(&env, &["show", "--json", &key])["schema"].clone(),
        json(&env, &["stats", "--json"])["schema"].clone(),
        json(&env, &["key", "--json", "--", "echo", "s"])["schema"].clone(),
    ];
    assert!(schemas[0].is_u64(), "{schemas:?}");
    assert!(schemas.iter().all(|s| *s == schemas[0]), "{schemas:?}");
}

#[test]
fn expires_at_is_given_for_ttl_and_absolute_expiries() {
    let env = TestEnv::new();
    env.run(["echo", "ttl"]).ttl("10m").assert().expect_miss();
    env.run(["echo", "forever"]).ttl("forever").assert().expect_miss();
    let at = SystemTime::now() + Duration::from_secs(13 * 3600);
    let at = humantime::format_rfc3339_seconds(at).to_string();
    env.run(["echo", "at"]).opts(["--ttl", "forever", "--expires-at", &at]).assert().expect_miss();
    env.run(["echo", "both"]).opts(["--ttl", "5m", "--expires-at", &at]).assert().expect_miss();
    let by = |word: &str| listed(&env, &["--command", &format!("echo {word}")]).remove(0);

    let ttl = by("ttl");
    assert_eq!(epoch(&ttl["expires_at"]), epoch(&ttl["created"]) + 600, "{ttl}");
    assert!(by("forever")["expires_at"].is_null());
    let absolute = by("at");
    assert!(absolute["ttl_secs"].is_null(), "{absolute}");
    assert_eq!(absolute["expires_at"], at.as_str(), "{absolute}");
    let both = by("both");
    assert_eq!(
        epoch(&both["expires_at"]),
        epoch(&both["created"]) + 300,
        "the earlier wins: {both}"
    );
    let key = absolute["key"].as_str().unwrap();
    assert_eq!(json(&env, &["show", "--json", key])["expires_at"], at.as_str());
}

#[test]
fn non_utf8_arguments_round_trip_through_every_json_report() {
    let env = TestEnv::new();
    let raw = OsString::from_vec(vec![b'a', 0xff, 0xfe]);
    let command: Vec<OsString> =
        vec!["sh".into(), "-c".into(), "sleep 0.1; echo hi".into(), raw.clone()];
    env.run(&command).assert().expect_miss();
    env.run(&command).assert().expect_hit();
    let hex = serde_json::json!({"hex": "61fffe"});
    let listed = listed(&env, &[]);
    assert_eq!(listed[0]["command"][3], hex, "{}", listed[0]);
    assert_eq!(listed[0]["command"][0], "sh");
    let key = listed[0]["key"].as_str().unwrap();
    assert_eq!(json(&env, &["show", "--json", key])["command"][3], hex);
    assert_eq!(json(&env, &["stats", "--json"])["top"][0]["command"][3], hex);
    let mut args: Vec<OsString> = vec!["key".into(), "--json".into(), "--".into()];
    args.extend(command.iter().cloned());
    let out = env.cmd().args(&args).output().unwrap();
    let explained: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(explained["command"][3], hex);
    assert_eq!(explained["key"], key);
    // The text reports escape the bytes instead.
    assert!(report(&env, &["list"]).contains(r"$'a\xff\xfe'"));
}
