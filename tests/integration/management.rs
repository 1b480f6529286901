//! Cache management: `list`, `show`, `stats`, `gc` (manual and automatic),
//! `clear` filters, `evict --key`, and gc/clear racing hits.
//!
//! Every test has its own cache (`CACHECMD_DIR`) and config dir; entries are
//! aged by moving file mtimes, never by sleeping.

use crate::harness;

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use filetime::FileTime;
use harness::{age_file, TestEnv};
use serde_json::Value;

// ---------------------------------------------------------------- helpers

/// cachecmd with the test's cache given through `CACHECMD_DIR`.
fn cc(env: &TestEnv) -> assert_cmd::Command {
    let mut cmd = env.cmd();
    cmd.env("CACHECMD_DIR", env.root());
    cmd
}

fn argv(opts: &[&str], command: &[&str]) -> Vec<OsString> {
    let mut args: Vec<OsString> = opts.iter().map(OsString::from).collect();
    args.push("--".into());
    args.extend(command.iter().map(OsString::from));
    args
}

/// Runs `cachecmd OPTS -- COMMAND`.
fn run(env: &TestEnv, opts: &[&str], command: &[&str]) -> Output {
    cc(env).args(argv(opts, command)).output().unwrap()
}

/// Runs `cachecmd OPTS -- COMMAND`, expects `code`, returns the entry's key.
#[track_caller]
fn record_code(env: &TestEnv, opts: &[&str], command: &[&str], code: i32) -> String {
    let out = run(env, opts, command);
    assert_eq!(
        out.status.code(),
        Some(code),
        "run {opts:?} {command:?}: stderr {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = env.key(argv(key_opts(opts), command));
    assert!(env.entry_path(&key).exists(), "no entry recorded for {command:?}");
    key
}

#[track_caller]
fn record(env: &TestEnv, opts: &[&str], command: &[&str]) -> String {
    record_code(env, opts, command, 0)
}

/// The options of `opts` that `cachecmd key` understands (drops --ttl and
/// --failure-ttl with their values).
fn key_opts<'a>(opts: &'a [&'a str]) -> &'a [&'a str] {
    // Tests put key options first and lifetimes last.
    let end = opts.iter().position(|o| *o == "--ttl" || *o == "--failure-ttl");
    &opts[..end.unwrap_or(opts.len())]
}

/// Runs `cachecmd -v OPTS -- COMMAND` and says whether it was a hit.
#[track_caller]
fn was_hit(env: &TestEnv, opts: &[&str], command: &[&str]) -> bool {
    let ran = env.run(command).opts(opts).env("CACHECMD_DIR", env.root()).assert().success();
    ran.status_line().starts_with("cachecmd: hit")
}

fn set_mtime(path: &Path, when: SystemTime) {
    assert!(path.exists(), "nothing to age at {}", path.display());
    filetime::set_file_mtime(path, FileTime::from_system_time(when)).unwrap();
}

fn set_mtime_epoch(path: &Path, secs: u64) {
    set_mtime(path, UNIX_EPOCH + Duration::from_secs(secs));
}

fn rfc3339(secs: u64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(secs)).to_string()
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn stdout_of(cmd: &mut assert_cmd::Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed: {:?}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn list_json(env: &TestEnv, extra: &[&str]) -> Vec<Value> {
    let text = stdout_of(cc(env).args(["list", "--json"]).args(extra));
    match serde_json::from_str(&text).unwrap() {
        Value::Array(items) => items,
        other => panic!("list --json is not an array: {other}"),
    }
}

fn listed_keys(env: &TestEnv, extra: &[&str]) -> Vec<String> {
    list_json(env, extra).iter().map(|e| e["key"].as_str().unwrap().to_owned()).collect()
}

/// Keys of the table rows of `cachecmd list` (first column, 12 hex digits).
fn table_keys(env: &TestEnv, extra: &[&str]) -> Vec<String> {
    let text = stdout_of(cc(env).arg("list").args(extra));
    let mut lines = text.lines();
    let header = lines.next().expect("list printed nothing");
    assert!(header.starts_with("KEY") && header.contains("COMMAND"), "header: {header:?}");
    lines.map(|l| l.split_whitespace().next().unwrap().to_owned()).collect()
}

fn short(key: &str) -> String {
    key[..12].to_owned()
}

fn shorts(keys: &[&String]) -> Vec<String> {
    keys.iter().map(|k| short(k)).collect()
}

fn stats_json(env: &TestEnv) -> Value {
    let text = stdout_of(cc(env).args(["stats", "--json"]));
    serde_json::from_str(&text).unwrap()
}

/// Every file named like an entry key, on disk.
fn keys_on_disk(env: &TestEnv) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    let Ok(shards) = fs::read_dir(env.root().join("v1/entries")) else {
        return keys;
    };
    for shard in shards {
        for file in fs::read_dir(shard.unwrap().path()).unwrap() {
            let name = file.unwrap().file_name().into_string().unwrap();
            if name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit()) {
                keys.insert(name);
            }
        }
    }
    keys
}

fn set_of(keys: &[&String]) -> BTreeSet<String> {
    keys.iter().map(|k| k.to_string()).collect()
}

fn file_len(path: &Path) -> u64 {
    fs::metadata(path).unwrap().len()
}

/// A key equal to `key` in its first `n` hex digits and different after.
fn sibling_key(key: &str, n: usize) -> String {
    let flipped = if key.as_bytes()[n] == b'0' { '1' } else { '0' };
    format!("{}{flipped}{}", &key[..n], &key[n + 1..])
}

/// Copies the entry of `key` to the name `to` (entries do not contain their
/// key, so the copy is a valid entry of `to`).
fn copy_entry(env: &TestEnv, key: &str, to: &str) -> PathBuf {
    let dest = env.entry_path(to);
    fs::create_dir_all(dest.parent().unwrap()).unwrap();
    fs::copy(env.entry_path(key), &dest).unwrap();
    harness::fixtures::rekey(&dest, to);
    dest
}

fn stamp(env: &TestEnv) -> PathBuf {
    env.root().join("v1/gc.stamp")
}

// ------------------------------------------------------------------- list

#[test]
fn list_json_has_every_field_with_the_right_types() {
    let env = TestEnv::new();
    let a_cmd = ["sh", "-c", "printf hello; printf 'oops!' >&2"];
    let a = record(&env, &["--scope", "team", "--ttl", "10m"], &a_cmd);
    let b_cmd = ["sh", "-c", "printf abc; exit 3"];
    let b = record_code(&env, &["--no-cwd", "--ttl", "1d", "--failure-ttl", "1h"], &b_cmd, 3);
    let c = record(&env, &["--ttl", "forever"], &["printf", "c"]);
    assert!(was_hit(&env, &["--scope", "team", "--ttl", "10m"], &a_cmd));
    assert!(was_hit(&env, &["--scope", "team", "--ttl", "10m"], &a_cmd));
    // A is now old and expired; its last use (the hits) is recent.
    set_mtime_epoch(&env.entry_path(&a), 1_700_000_000);
    let before = now_secs();

    let entries = list_json(&env, &[]);
    assert_eq!(entries.len(), 3, "{entries:?}");
    let fields = [
        "key",
        "command",
        "cwd",
        "scope",
        "created",
        "last_used",
        "ttl_secs",
        "expired",
        "exit_code",
        "stdout_bytes",
        "stderr_bytes",
        "hits",
    ];
    for entry in &entries {
        let obj = entry.as_object().expect("entry is an object");
        for field in fields {
            assert!(obj.contains_key(field), "missing {field} in {entry}");
        }
        let key = entry["key"].as_str().expect("key is a string");
        harness::assert_is_key(key);
        let command = entry["command"].as_array().expect("command is an array");
        assert!(command.iter().all(Value::is_string), "command items are strings: {entry}");
        assert!(entry["cwd"].is_string() || entry["cwd"].is_null(), "cwd: {entry}");
        assert!(entry["scope"].is_string() || entry["scope"].is_null(), "scope: {entry}");
        for time in ["created", "last_used"] {
            let text = entry[time].as_str().unwrap_or_else(|| panic!("{time} not a string"));
            humantime::parse_rfc3339(text).unwrap_or_else(|e| panic!("{time} {text:?}: {e}"));
        }
        assert!(entry["ttl_secs"].is_u64() || entry["ttl_secs"].is_null(), "ttl: {entry}");
        assert!(entry["expired"].is_boolean(), "expired: {entry}");
        assert!(entry["exit_code"].is_i64(), "exit_code: {entry}");
        for n in ["stdout_bytes", "stderr_bytes", "hits"] {
            assert!(entry[n].is_u64(), "{n}: {entry}");
        }
    }
    let by_key = |key: &str| entries.iter().find(|e| e["key"] == key).unwrap().clone();
    let work = env.work.to_str().unwrap();

    let ea = by_key(&a);
    assert_eq!(ea["command"], serde_json::json!(a_cmd));
    assert_eq!(ea["cwd"], work);
    assert_eq!(ea["scope"], "team");
    assert_eq!(ea["created"], rfc3339(1_700_000_000));
    let last_used = humantime::parse_rfc3339(ea["last_used"].as_str().unwrap()).unwrap();
    let last_used = last_used.duration_since(UNIX_EPOCH).unwrap().as_secs();
    assert!(before.abs_diff(last_used) < 120, "last_used of a just-hit entry: {ea}");
    assert_eq!(ea["ttl_secs"], 600);
    assert_eq!(ea["expired"], true);
    assert_eq!(ea["exit_code"], 0);
    assert_eq!(ea["stdout_bytes"], 5);
    assert_eq!(ea["stderr_bytes"], 5);
    assert_eq!(ea["hits"], 2);

    let eb = by_key(&b);
    assert_eq!(eb["command"], serde_json::json!(b_cmd));
    assert!(eb["cwd"].is_null(), "--no-cwd entry has no cwd: {eb}");
    assert!(eb["scope"].is_null());
    assert_eq!(eb["ttl_secs"], 3600, "a failure lives for --failure-ttl");
    assert_eq!(eb["expired"], false);
    assert_eq!(eb["exit_code"], 3);
    assert_eq!(eb["stdout_bytes"], 3);
    assert_eq!(eb["stderr_bytes"], 0);
    assert_eq!(eb["hits"], 0);

    let ec = by_key(&c);
    assert!(ec["ttl_secs"].is_null(), "forever has no ttl: {ec}");
    assert_eq!(ec["expired"], false);

    // The table: a header and one row per entry, with the same facts.
    let text = stdout_of(cc(&env).arg("list"));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    let row = |key: &str| *lines.iter().find(|l| l.starts_with(&short(key))).unwrap();
    assert!(row(&a).contains("expired") && row(&a).contains("team"), "{text}");
    assert!(row(&a).contains("sh -c"), "{text}");
    assert!(row(&c).contains("never"), "{text}");
}

#[test]
fn list_orders_most_recently_used_first() {
    let env = TestEnv::new();
    let opts = ["--ttl", "1d"];
    let commands: Vec<[String; 2]> = (1..=4).map(|i| ["echo".into(), format!("p{i}")]).collect();
    let cmd = |i: usize| [commands[i][0].as_str(), commands[i][1].as_str()];
    let keys: Vec<String> = (0..4).map(|i| record(&env, &opts, &cmd(i))).collect();
    let now = SystemTime::now();
    for (i, key) in keys.iter().enumerate() {
        // p1 oldest, p4 newest.
        set_mtime(&env.entry_path(key), now - Duration::from_secs(400 - 100 * i as u64));
    }
    let k = |i: usize| &keys[i];
    assert_eq!(listed_keys(&env, &[]), [k(3), k(2), k(1), k(0)].map(String::clone));
    assert_eq!(table_keys(&env, &[]), shorts(&[k(3), k(2), k(1), k(0)]));

    // A hit makes the oldest entry the most recently used.
    assert!(was_hit(&env, &opts, &cmd(0)));
    assert_eq!(listed_keys(&env, &[]), [k(0), k(3), k(2), k(1)].map(String::clone));
    assert_eq!(table_keys(&env, &[]), shorts(&[k(0), k(3), k(2), k(1)]));
    assert_eq!(list_json(&env, &[])[0]["hits"], 1);
}

#[test]
fn list_scope_filter() {
    let env = TestEnv::new();
    let a = record(&env, &["--scope", "alpha"], &["echo", "x"]);
    let b = record(&env, &["--scope", "beta"], &["echo", "x"]);
    let none = record(&env, &[], &["echo", "x"]);
    assert_eq!(keys_on_disk(&env), set_of(&[&a, &b, &none]));

    let alpha = list_json(&env, &["--scope", "alpha"]);
    assert_eq!(alpha.len(), 1, "{alpha:?}");
    assert_eq!(alpha[0]["key"], a.as_str());
    assert_eq!(alpha[0]["scope"], "alpha");
    assert_eq!(table_keys(&env, &["--scope", "beta"]), [short(&b)]);
    assert!(list_json(&env, &["--scope", "gamma"]).is_empty());
    assert!(table_keys(&env, &["--scope", "gamma"]).is_empty());
    assert_eq!(list_json(&env, &[]).len(), 3);
}

#[test]
fn list_and_show_escape_control_characters() {
    let env = TestEnv::new();
    let evil = "\x1b[31mred\nline2\x07";
    let key = record(&env, &["--scope", "s\x1b[0m"], &["printf", "%s", evil]);

    let table = cc(&env).arg("list").output().unwrap();
    assert!(table.status.success());
    for raw in [0x1b, 0x07] {
        assert!(!table.stdout.contains(&raw), "raw control byte {raw:#x} in list output");
    }
    let text = String::from_utf8(table.stdout).unwrap();
    assert_eq!(text.lines().count(), 2, "a newline in an argument split the row:\n{text}");
    assert!(text.contains(r"\x1b[31mred\nline2\x07"), "{text}");

    let json = cc(&env).args(["list", "--json"]).output().unwrap();
    assert!(!json.stdout.contains(&0x1b), "raw ESC in list --json");
    let parsed: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(parsed[0]["command"][2], evil, "JSON keeps the argument, escaped");

    let show = cc(&env).args(["show", &key[..10]]).output().unwrap();
    assert!(show.status.success(), "{show:?}");
    assert!(!show.stdout.contains(&0x1b), "raw ESC in show output");
    assert!(!show.stdout.contains(&0x07), "raw BEL in show output");
}

// ------------------------------------------------------------------- show

#[test]
fn show_by_prefix_by_command_and_raw_output() {
    let env = TestEnv::new();
    let command = ["sh", "-c", r"printf 'bin\000ary\377\n'; printf 'to stderr\001' >&2"];
    let stdout: &[u8] = b"bin\0ary\xff\n";
    let stderr: &[u8] = b"to stderr\x01";
    let key = record(&env, &["--scope", "s"], &command);
    let other = record(&env, &["--scope", "s"], &["echo", "other"]);
    let unique = (8..64).find(|&n| key[..n] != other[..n]).unwrap();
    let prefix = &key[..unique.max(8)];

    let text = stdout_of(cc(&env).args(["show", prefix]));
    assert!(text.contains(&format!("key        {key}\n")), "{text}");
    assert!(text.contains("scope      s\n"), "{text}");
    assert!(text.contains(&format!("{} bytes", stdout.len())), "{text}");
    assert!(text.contains(&format!("{} bytes", stderr.len())), "{text}");
    assert!(!text.contains(&other), "{text}");

    // Upper case is the same prefix.
    let upper = stdout_of(cc(&env).args(["show", &prefix.to_uppercase()]));
    assert!(upper.contains(&key), "{upper}");

    // By command: the same entry (same key options as the run).
    let by_command = stdout_of(cc(&env).args(["show"]).args(argv(&["--scope", "s"], &command)));
    assert!(by_command.contains(&format!("key        {key}\n")), "{by_command}");

    cc(&env).args(["show", "--stdout", prefix]).assert().success().stdout(stdout).stderr("");
    cc(&env).args(["show", "--stderr", prefix]).assert().success().stdout(stderr).stderr("");
    cc(&env)
        .args(["show", "--stdout"])
        .args(argv(&["--scope", "s"], &command))
        .assert()
        .success()
        .stdout(stdout);
    cc(&env)
        .args(["show", "--stderr"])
        .args(argv(&["--scope", "s"], &command))
        .assert()
        .success()
        .stdout(stderr);

    // Without the scope it is another key: no entry.
    let out = cc(&env).arg("show").args(argv(&[], &command)).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no entry"), "{out:?}");
}

#[test]
fn show_unknown_and_ambiguous_prefix_exit_1() {
    let env = TestEnv::new();
    let key = record(&env, &[], &["echo", "one"]);
    let twin = sibling_key(&key, 6);
    copy_entry(&env, &key, &twin);

    let fails = |prefix: &str, needle: &str| {
        let out = cc(&env).args(["show", prefix]).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "show {prefix}: {out:?}");
        assert!(out.stdout.is_empty(), "show {prefix} printed {out:?}");
        let message = String::from_utf8_lossy(&out.stderr);
        assert!(message.contains(needle), "show {prefix}: {message:?} lacks {needle:?}");
    };
    fails(&key[..6], "ambiguous");
    fails(&key[..1], "ambiguous");
    let absent = if key.starts_with('0') { "1" } else { "0" };
    fails(&format!("{absent}{}", &key[1..8]), "no entry");
    fails("not-hex", "not a key prefix");

    // One more digit than the shared part is unique again.
    for k in [&key, &twin] {
        let text = stdout_of(cc(&env).args(["show", &k[..7]]));
        assert!(text.contains(&format!("key        {k}\n")), "{text}");
    }

    // No cache at all: still exit 1.
    let empty = TestEnv::new();
    let out = cc(&empty).args(["show", "abcd"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
}

// ------------------------------------------------------------------ stats

#[test]
fn stats_counts_hits_misses_and_evictions() {
    let env = TestEnv::new();
    let empty = stats_json(&env);
    assert_eq!(
        (&empty["entries"], &empty["hits"], &empty["misses"]),
        (&0.into(), &0.into(), &0.into())
    );
    for field in ["hit_ratio", "oldest", "newest"] {
        assert!(empty[field].is_null(), "{field} of an empty cache: {empty}");
    }
    let forever = ["--ttl", "forever"];
    let a = record(&env, &forever, &["echo", "a"]); // miss
    assert!(was_hit(&env, &forever, &["echo", "a"]));
    assert!(was_hit(&env, &forever, &["echo", "a"]));
    let b = record(&env, &forever, &["echo", "b"]); // miss
    assert!(was_hit(&env, &forever, &["echo", "b"]));
    // A failure without --failure-ttl: a miss, not cached.
    assert_eq!(run(&env, &[], &["sh", "-c", "exit 4"]).status.code(), Some(4));
    set_mtime_epoch(&env.entry_path(&a), 1_700_000_000);
    set_mtime_epoch(&env.entry_path(&b), 1_700_000_100);

    let stats = stats_json(&env);
    for field in [
        "entries",
        "bytes",
        "hits",
        "misses",
        "hit_ratio",
        "evictions",
        "oldest",
        "newest",
        "max_size",
        "max_entries",
    ] {
        assert!(stats.get(field).is_some(), "missing {field} in {stats}");
    }
    assert_eq!(stats["entries"], 2, "{stats}");
    let bytes = file_len(&env.entry_path(&a)) + file_len(&env.entry_path(&b));
    assert_eq!(stats["bytes"], bytes, "{stats}");
    assert_eq!(stats["hits"], 3, "{stats}");
    assert_eq!(stats["misses"], 3, "{stats}");
    assert_eq!(stats["hit_ratio"].as_f64(), Some(0.5), "{stats}");
    assert_eq!(stats["evictions"], 0, "{stats}");
    assert_eq!(stats["oldest"], rfc3339(1_700_000_000), "{stats}");
    assert_eq!(stats["newest"], rfc3339(1_700_000_100), "{stats}");
    assert_eq!(stats["max_size"], 1u64 << 30, "{stats}");
    assert!(stats["max_entries"].is_null(), "{stats}");

    // gc folds the journal away but keeps the totals; evicting counts.
    let c = record(&env, &forever, &["echo", "c"]); // miss
    set_mtime_epoch(&env.entry_path(&c), 1_600_000_000);
    cc(&env).args(["gc", "--max-entries", "2"]).assert().success();
    assert_eq!(keys_on_disk(&env), set_of(&[&a, &b]), "C was used least recently");
    let stats = stats_json(&env);
    assert_eq!((&stats["hits"], &stats["misses"]), (&Value::from(3), &Value::from(4)), "{stats}");
    assert_eq!(stats["evictions"], 1, "{stats}");
    assert_eq!(stats["entries"], 2, "{stats}");
    assert!(was_hit(&env, &forever, &["echo", "a"]));
    assert_eq!(stats_json(&env)["hits"], 4);

    // Limits shown are the effective ones: config, then env, then flags.
    env.write_config("max_entries = 9\nmax_size = \"2MiB\"\n");
    let stats = stats_json(&env);
    assert_eq!(
        (&stats["max_entries"], &stats["max_size"]),
        (&Value::from(9), &Value::from(2u64 << 20))
    );
    let text = stdout_of(
        cc(&env)
            .args(["stats", "--json"])
            .env("CACHECMD_MAX_ENTRIES", "5")
            .env("CACHECMD_MAX_SIZE", "1MiB"),
    );
    let stats: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        (&stats["max_entries"], &stats["max_size"]),
        (&Value::from(5), &Value::from(1u64 << 20))
    );

    // The text form says the same.
    let text = stdout_of(cc(&env).arg("stats"));
    assert!(text.lines().any(|l| l.split_whitespace().eq(["hits", "4"])), "{text}");
    assert!(text.lines().any(|l| l.split_whitespace().eq(["misses", "4"])), "{text}");
}

// --------------------------------------------------------------------- gc

#[test]
fn gc_removes_expired_corrupt_and_stale_temp_files_only() {
    let env = TestEnv::new();
    let fresh = record(&env, &["--ttl", "1h"], &["echo", "fresh"]);
    age_file(&env.entry_path(&fresh), 600);
    let expired = record(&env, &["--ttl", "10m"], &["echo", "expired"]);
    age_file(&env.entry_path(&expired), 1200);
    let forever = record(&env, &["--ttl", "forever"], &["echo", "forever"]);
    age_file(&env.entry_path(&forever), 365 * 86400);
    // Failures live for the --failure-ttl they were recorded with.
    let failed_old = ["--ttl", "1d", "--failure-ttl", "1m"];
    let failed_old = record_code(&env, &failed_old, &["sh", "-c", "exit 3"], 3);
    age_file(&env.entry_path(&failed_old), 300);
    let failed_young = ["--ttl", "1m", "--failure-ttl", "1h"];
    let failed_young = record_code(&env, &failed_young, &["sh", "-c", "exit 4"], 4);
    age_file(&env.entry_path(&failed_young), 300);

    // Undecodable files named as entries: garbage (no magic: not ours, kept),
    // and a truncated entry (ours: removed).
    let garbage = sibling_key(&fresh, 10);
    fs::write(env.entry_path(&garbage), b"not an entry at all").unwrap();
    let truncated = sibling_key(&expired, 10);
    let bytes = fs::read(env.entry_path(&fresh)).unwrap();
    fs::create_dir_all(env.entry_path(&truncated).parent().unwrap()).unwrap();
    fs::write(env.entry_path(&truncated), &bytes[..bytes.len() - 1]).unwrap();

    let shard = env.entry_path(&fresh).parent().unwrap().to_path_buf();
    let old_temp = shard.join(format!(".tmp.{fresh}.99999.0"));
    let young_temp = shard.join(format!(".tmp.{fresh}.99999.1"));
    let stray = shard.join("notes.txt");
    for path in [&old_temp, &young_temp, &stray] {
        fs::write(path, b"x").unwrap();
    }
    age_file(&old_temp, 2 * 3600);
    age_file(&young_temp, 30 * 60);
    age_file(&stray, 30 * 86400);

    let out = stdout_of(cc(&env).arg("gc"));
    assert!(
        out.starts_with(
            "removed 2 expired, 1 corrupt, 0 over the size limits, 1 stale temp file; 3 entries"
        ),
        "gc said {out:?}"
    );
    assert_eq!(keys_on_disk(&env), set_of(&[&fresh, &forever, &failed_young, &garbage]));
    assert!(!old_temp.exists(), "a temp file older than an hour survived");
    assert!(young_temp.exists(), "a young temp file (a live writer) was removed");
    assert!(stray.exists(), "gc removed a file that is not its own");
    assert!(was_hit(&env, &["--ttl", "1h"], &["echo", "fresh"]));

    // Nothing left to do: a second gc removes nothing.
    let out = stdout_of(cc(&env).arg("gc"));
    assert!(out.starts_with("removed 0 expired, 0 corrupt, 0 over"), "gc said {out:?}");
}

/// Five entries last used 5000 s .. 1000 s ago (e0 oldest), then e0 is hit.
/// Least recently used first: e1, e2, e3, e4, e0.
fn lru_fixture(env: &TestEnv) -> Vec<String> {
    let opts = ["--ttl", "1d"];
    let now = SystemTime::now();
    let keys: Vec<String> = (0..5)
        .map(|i| {
            let key = record(env, &opts, &["echo", &format!("e{i}")]);
            set_mtime(&env.entry_path(&key), now - Duration::from_secs(5000 - 1000 * i));
            key
        })
        .collect();
    assert!(was_hit(env, &opts, &["echo", "e0"]), "an entry of 5000 s is fresh for 1d");
    keys
}

#[test]
fn gc_max_entries_evicts_least_recently_used_first() {
    let env = TestEnv::new();
    let k = lru_fixture(&env);
    let out = stdout_of(cc(&env).args(["gc", "--max-entries", "3"]));
    assert!(out.contains("2 over the size limits"), "gc said {out:?}");
    assert_eq!(keys_on_disk(&env), set_of(&[&k[0], &k[3], &k[4]]));
    assert_eq!(stats_json(&env)["evictions"], 2);

    stdout_of(cc(&env).args(["gc", "--max-entries", "1"]));
    assert_eq!(keys_on_disk(&env), set_of(&[&k[0]]), "the hit entry is the most recently used");
}

#[test]
fn gc_max_size_evicts_least_recently_used_first() {
    let env = TestEnv::new();
    let k = lru_fixture(&env);
    let size = |i: usize| file_len(&env.entry_path(&k[i]));
    let limit = size(0) + size(3) + size(4);
    let out = stdout_of(cc(&env).args(["gc", "--max-size", &limit.to_string()]));
    assert!(out.contains("2 over the size limits"), "gc said {out:?}");
    assert_eq!(keys_on_disk(&env), set_of(&[&k[0], &k[3], &k[4]]));

    let limit = size(0) + size(4) - 1;
    stdout_of(cc(&env).args(["gc", "--max-size", &limit.to_string()]));
    assert_eq!(keys_on_disk(&env), set_of(&[&k[0]]));
}

#[test]
fn gc_limits_from_config_env_and_flags() {
    let env = TestEnv::new();
    let k = lru_fixture(&env);
    env.write_config("max_entries = 4\n");
    stdout_of(cc(&env).arg("gc"));
    assert_eq!(keys_on_disk(&env), set_of(&[&k[0], &k[2], &k[3], &k[4]]), "config max_entries");

    stdout_of(cc(&env).arg("gc").env("CACHECMD_MAX_ENTRIES", "3"));
    assert_eq!(keys_on_disk(&env), set_of(&[&k[0], &k[3], &k[4]]), "env beats config");

    stdout_of(cc(&env).args(["gc", "--max-entries", "2"]).env("CACHECMD_MAX_ENTRIES", "3"));
    assert_eq!(keys_on_disk(&env), set_of(&[&k[0], &k[4]]), "flag beats env");

    let one = file_len(&env.entry_path(&k[0]));
    stdout_of(cc(&env).arg("gc").env("CACHECMD_MAX_SIZE", one.to_string()));
    assert_eq!(keys_on_disk(&env), set_of(&[&k[0]]), "CACHECMD_MAX_SIZE");

    env.write_config("max_size = 1\n");
    stdout_of(cc(&env).arg("gc"));
    assert!(keys_on_disk(&env).is_empty(), "config max_size");
}

#[test]
fn automatic_gc_runs_after_a_miss_when_due() {
    let env = TestEnv::new();
    let expired = record(&env, &["--ttl", "10m"], &["echo", "expired"]);
    age_file(&env.entry_path(&expired), 1200);
    assert!(stamp(&env).exists(), "a fresh cache creates v1/gc.stamp");
    let hit_me = record(&env, &["--ttl", "1d"], &["echo", "hit me"]);
    age_file(&env.entry_path(&hit_me), 3000);

    // A miss with a fresh stamp starts nothing.
    record(&env, &[], &["echo", "miss 1"]);
    std::thread::sleep(Duration::from_millis(1000));
    assert!(env.entry_path(&expired).exists(), "gc ran although the stamp was fresh");

    // An old stamp: a hit still starts nothing.
    age_file(&stamp(&env), 600);
    assert!(was_hit(&env, &["--ttl", "1d"], &["echo", "hit me"]));
    std::thread::sleep(Duration::from_millis(1000));
    assert!(env.entry_path(&expired).exists(), "a hit started a gc");

    // A miss does.
    record(&env, &[], &["echo", "miss 2"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while env.entry_path(&expired).exists() {
        assert!(Instant::now() < deadline, "the background gc never removed the expired entry");
        std::thread::sleep(Duration::from_millis(50));
    }
    let stamp_age = SystemTime::now()
        .duration_since(fs::metadata(stamp(&env)).unwrap().modified().unwrap())
        .unwrap_or_default();
    assert!(stamp_age < Duration::from_secs(60), "gc did not restart the clock: {stamp_age:?}");
}

#[test]
fn automatic_gc_enforces_the_callers_limits() {
    let env = TestEnv::new();
    let opts = ["--ttl", "1d"];
    let keep = record(&env, &opts, &["echo", "keep"]);
    age_file(&env.entry_path(&keep), 3000);
    let idle = record(&env, &opts, &["echo", "idle"]);
    age_file(&env.entry_path(&idle), 2000);
    assert!(was_hit(&env, &opts, &["echo", "keep"]));
    age_file(&stamp(&env), 600);

    let out = cc(&env)
        .env("CACHECMD_MAX_ENTRIES", "2")
        .args(argv(&opts, &["echo", "new"]))
        .output()
        .unwrap();
    assert!(out.status.success());
    let new = env.key(argv(&[], &["echo", "new"]));
    let deadline = Instant::now() + Duration::from_secs(10);
    while env.entry_path(&idle).exists() {
        assert!(Instant::now() < deadline, "background gc did not enforce CACHECMD_MAX_ENTRIES");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(keys_on_disk(&env), set_of(&[&keep, &new]));
}

// ------------------------------------------------------------------ clear

struct ClearFixture {
    env: TestEnv,
    /// scope alpha, `echo one`, fresh
    a: String,
    /// scope beta, `/bin/echo two`, fresh
    b: String,
    /// `sh -c 'printf three'`, ttl 10m, 20 min old: expired
    c: String,
    /// `printf four`, ttl 1d, 2 h old
    d: String,
    /// `sh -c 'exit 3'`, failure ttl 1m, 5 min old: expired
    f: String,
}

impl ClearFixture {
    fn new() -> ClearFixture {
        let env = TestEnv::new();
        let a = record(&env, &["--scope", "alpha", "--ttl", "1d"], &["echo", "one"]);
        let b = record(&env, &["--scope", "beta", "--ttl", "1d"], &["/bin/echo", "two"]);
        let c = record(&env, &["--ttl", "10m"], &["sh", "-c", "printf three"]);
        let d = record(&env, &["--ttl", "1d"], &["printf", "four"]);
        let f = ["--ttl", "1d", "--failure-ttl", "1m"];
        let f = record_code(&env, &f, &["sh", "-c", "exit 3"], 3);
        age_file(&env.entry_path(&a), 60);
        age_file(&env.entry_path(&b), 60);
        age_file(&env.entry_path(&c), 1200);
        age_file(&env.entry_path(&d), 7200);
        age_file(&env.entry_path(&f), 300);
        ClearFixture { env, a, b, c, d, f }
    }

    #[track_caller]
    fn clear(&self, args: &[&str], expected_removed: usize) {
        let out = stdout_of(cc(&self.env).arg("clear").args(args));
        let plural = if expected_removed == 1 { "entry" } else { "entries" };
        assert_eq!(out, format!("removed {expected_removed} {plural}\n"), "clear {args:?}");
    }

    #[track_caller]
    fn left(&self, keys: &[&String]) {
        assert_eq!(keys_on_disk(&self.env), set_of(keys));
    }
}

#[test]
fn clear_by_scope_and_combined_filters() {
    let fx = ClearFixture::new();
    fx.clear(&["--scope", "alpha", "--expired"], 0);
    fx.clear(&["--scope", "gamma"], 0);
    fx.left(&[&fx.a, &fx.b, &fx.c, &fx.d, &fx.f]);
    fx.clear(&["--scope", "alpha"], 1);
    fx.left(&[&fx.b, &fx.c, &fx.d, &fx.f]);
    fx.clear(&["--command", "*", "--older-than", "1m", "--expired"], 2);
    fx.left(&[&fx.b, &fx.d]);
}

#[test]
fn clear_expired_uses_the_recorded_lifetime() {
    let fx = ClearFixture::new();
    fx.clear(&["--expired"], 2);
    fx.left(&[&fx.a, &fx.b, &fx.d]);
    fx.clear(&["--expired"], 0);
}

#[test]
fn clear_older_than() {
    let fx = ClearFixture::new();
    fx.clear(&["--older-than", "1h"], 1);
    fx.left(&[&fx.a, &fx.b, &fx.c, &fx.f]);
    fx.clear(&["--older-than", "4m"], 2);
    fx.left(&[&fx.a, &fx.b]);
}

#[test]
fn clear_by_command_glob() {
    let fx = ClearFixture::new();
    // The whole command line, joined by spaces.
    fx.clear(&["--command", "sh -c printf*"], 1);
    fx.left(&[&fx.a, &fx.b, &fx.d, &fx.f]);
    // The program's file name matches `/bin/echo` as well as `echo`.
    fx.clear(&["--command", "echo"], 2);
    fx.left(&[&fx.d, &fx.f]);
    // The program as written; `?` globs.
    fx.clear(&["--command", "print?"], 1);
    fx.left(&[&fx.f]);
    fx.clear(&["--command", "nomatch*"], 0);
    fx.left(&[&fx.f]);
}

#[test]
fn clear_verbose_lists_entries_and_unfiltered_clears_all() {
    let fx = ClearFixture::new();
    let out = stdout_of(cc(&fx.env).args(["clear", "-v", "--scope", "beta"]));
    assert_eq!(out, format!("removed {}  /bin/echo two\nremoved 1 entry\n", short(&fx.b)));
    let shard = fx.env.entry_path(&fx.a).parent().unwrap().to_path_buf();
    let stray = shard.join("mine.txt");
    fs::write(&stray, b"x").unwrap();
    fx.clear(&[], 4);
    fx.left(&[]);
    assert!(stray.exists(), "clear removed a file that is not its own");
    fx.clear(&[], 0);
}

// ------------------------------------------------------------------ evict

#[test]
fn evict_by_key_prefix() {
    let env = TestEnv::new();
    let one = record(&env, &[], &["echo", "one"]);
    let two = record(&env, &[], &["echo", "two"]);
    let twin = sibling_key(&one, 8);
    copy_entry(&env, &one, &twin);

    // Ambiguous and unknown prefixes remove nothing and exit 1.
    let out = cc(&env).args(["evict", "--key", &one[..8]]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("ambiguous"), "{out:?}");
    let absent = if one.starts_with('0') { "1" } else { "0" };
    let absent = format!("{absent}{}", &one[1..10]);
    let out = cc(&env).args(["evict", "--key", &absent]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(keys_on_disk(&env), set_of(&[&one, &two, &twin]));

    cc(&env).args(["evict", "--key", &one[..9]]).assert().success().stdout("removed 1 entry\n");
    assert_eq!(keys_on_disk(&env), set_of(&[&two, &twin]));
    cc(&env)
        .args(["evict", "-v", "--key", &twin[..12].to_uppercase()])
        .assert()
        .success()
        .stdout(format!("removed {}\n", short(&twin)));
    assert_eq!(keys_on_disk(&env), set_of(&[&two]));

    // With a COMMAND, --key is key material, not a prefix: no such entry.
    cc(&env).arg("evict").args(argv(&["--key", &two[..9]], &["echo", "two"])).assert().code(1);
    assert_eq!(keys_on_disk(&env), set_of(&[&two]));
    cc(&env).arg("evict").args(argv(&[], &["echo", "two"])).assert().success();
    assert!(keys_on_disk(&env).is_empty());
}

// ------------------------------------------------------------------- race

#[test]
fn gc_and_clear_racing_hits_never_change_output() {
    let env = TestEnv::new();
    let big: Vec<u8> = b"0123456789abcdef\n".iter().copied().cycle().take(300_000).collect();
    let cases: Vec<(Vec<&str>, Vec<u8>, Vec<u8>)> = vec![
        (vec!["printf", "%s", "alpha\n"], b"alpha\n".to_vec(), vec![]),
        (
            vec!["sh", "-c", r"printf 'beta\000gamma'; printf err >&2"],
            b"beta\0gamma".to_vec(),
            b"err".to_vec(),
        ),
        (vec!["sh", "-c", "yes 0123456789abcdef | head -c 300000"], big, vec![]),
    ];
    let opts = ["--ttl", "1h"];
    for (command, stdout, _) in &cases {
        let out = run(&env, &opts, command);
        assert_eq!(&out.stdout, stdout, "{command:?} does not print what the test expects");
    }

    let stop = AtomicBool::new(false);
    let runs = AtomicUsize::new(0);
    let reaps = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::<String>::new());
    let fail = |what: String| {
        let mut failures = failures.lock().unwrap();
        if failures.len() < 10 {
            failures.push(what);
        }
    };
    std::thread::scope(|scope| {
        for thread in 0..3 {
            let (stop, runs, fail, cases, env) = (&stop, &runs, &fail, &cases, &env);
            scope.spawn(move || {
                let mut i = thread;
                while !stop.load(Ordering::Relaxed) {
                    let (command, stdout, stderr) = &cases[i % cases.len()];
                    let out = run(env, &opts, command);
                    if !out.status.success() || &out.stdout != stdout || &out.stderr != stderr {
                        fail(format!(
                            "{command:?}: {:?}, {} stdout bytes (want {}), stderr {:?}",
                            out.status,
                            out.stdout.len(),
                            stdout.len(),
                            String::from_utf8_lossy(&out.stderr)
                        ));
                    }
                    runs.fetch_add(1, Ordering::Relaxed);
                    i += 1;
                }
            });
        }
        let (stop, reaps, fail, env) = (&stop, &reaps, &fail, &env);
        scope.spawn(move || {
            let started = Instant::now();
            let mut i = 0;
            while started.elapsed() < Duration::from_secs(3) {
                let args: &[&str] = match i % 4 {
                    0 => &["clear"],
                    1 => &["gc"],
                    2 => &["gc", "--max-entries", "1"],
                    _ => &["clear", "--command", "sh"],
                };
                let out = cc(env).args(args).output().unwrap();
                if !out.status.success() {
                    fail(format!("{args:?}: {out:?}"));
                }
                reaps.fetch_add(1, Ordering::Relaxed);
                i += 1;
            }
            stop.store(true, Ordering::Relaxed);
        });
    });
    let failures = failures.into_inner().unwrap();
    assert!(failures.is_empty(), "wrong results under clear/gc:\n{}", failures.join("\n"));
    let (runs, reaps) = (runs.into_inner(), reaps.into_inner());
    assert!(runs >= 30 && reaps >= 10, "too little concurrency: {runs} runs, {reaps} clears/gcs");
}
