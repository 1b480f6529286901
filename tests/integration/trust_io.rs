//! The caller gets all the bytes, or a failure: write errors, non-blocking
//! pipes, stream order under `2>&1`, readers that leave, background
//! grandchildren, closed descriptors, and entries that must read back.

use crate::harness;

use std::ffi::OsString;
use std::fs;
use std::time::{Duration, Instant};

use cachecmd::test_support::{Header, Meta, HEADER_LEN};
use harness::{files_under, with_command, Counter, TestEnv};
use xxhash_rust::xxh3::xxh3_64;

/// `cachecmd OPTS -- COMMAND` quoted for `sh -c`, with `redirect` after it.
fn script(opts: &[&str], command: &[OsString], redirect: &str) -> String {
    let args = with_command(opts, command);
    let quoted: Vec<String> =
        args.iter().map(|a| format!("'{}'", a.to_str().unwrap().replace('\'', r"'\''"))).collect();
    format!("cachecmd {} {redirect}", quoted.join(" "))
}

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_full_stdout_fails_on_miss_and_hit_and_the_run_is_still_recorded() {
    let env = TestEnv::new();
    let counter = env.counter("full");
    let command = counter.sh("seq 1 10");
    for what in ["miss", "hit"] {
        let out = env.sh(&script(&[], &command, ">/dev/full")).output().unwrap();
        assert_eq!(out.status.code(), Some(120), "{what}: {}", stderr_of(&out));
        let err = stderr_of(&out);
        assert_eq!(err.lines().count(), 1, "{what}: {err}");
        assert!(err.contains("stdout") && err.contains("No space left"), "{what}: {err}");
    }
    counter.assert_runs(1);
    let out = env.cmd().args(with_command(&[], &command)).output().unwrap();
    assert_eq!(out.stdout, b"1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n");
    counter.assert_runs(1);
}

/// A failed stream never costs the other one its bytes: stderr, written
/// first, fails; stdout still gets everything, on the miss and on the hit.
#[test]
fn a_failed_stream_leaves_the_other_whole() {
    let env = TestEnv::new();
    let command = Counter { path: env.path().join("c") }.sh("echo err >&2; sleep 0.1; echo out");
    for what in ["miss", "hit"] {
        let out = env.sh(&script(&[], &command, "2>/dev/full")).output().unwrap();
        assert_eq!(out.status.code(), Some(120), "{what}");
        assert_eq!(out.stdout, b"out\n", "{what}");
    }
}

#[test]
fn a_full_stderr_fails_on_miss_and_hit() {
    let env = TestEnv::new();
    let command = Counter { path: env.path().join("c") }.sh("echo out; echo err >&2");
    for what in ["miss", "hit"] {
        let out = env.sh(&script(&[], &command, "2>/dev/full")).output().unwrap();
        assert_eq!(out.status.code(), Some(120), "{what}");
        assert_eq!(out.stdout, b"out\n", "{what}");
    }
}

#[test]
fn a_closed_stdout_is_closed_for_the_command_and_fails_a_hit() {
    let env = TestEnv::new();
    let probe: Vec<OsString> =
        ["sh", "-c", "[ -e /proc/$$/fd/1 ] && echo open >&2 || echo closed >&2"]
            .map(OsString::from)
            .to_vec();
    let out = env.sh(&script(&["-v"], &probe, ">&-")).output().unwrap();
    let err = stderr_of(&out);
    assert!(err.starts_with("closed\n"), "{err}");
    assert!(err.contains("not recorded"), "a run with stdout closed was cached: {err}");

    // A command that fails on the closed stdout is not cached either.
    let counter = env.counter("closed");
    let command = counter.sh("echo hi");
    let out = env.sh(&script(&["-v"], &command, ">&-")).output().unwrap();
    assert_ne!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("not recorded"));
    // Recorded with stdout open, a hit into a closed stdout fails.
    env.cmd().args(with_command(&[], &command)).assert().success().stdout("hi\n");
    let out = env.sh(&script(&[], &command, ">&-")).output().unwrap();
    assert_eq!(out.status.code(), Some(120), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("stdout"));
    counter.assert_runs(2);
}

/// A python3 reader that hands cachecmd a non-blocking pipe, starts reading
/// late and slowly, and prints how many bytes it got and the exit status.
const SLOW_NONBLOCKING_READER: &str = r#"
import fcntl, os, subprocess, sys, time
r, w = os.pipe()
fcntl.fcntl(w, fcntl.F_SETFL, fcntl.fcntl(w, fcntl.F_GETFL) | os.O_NONBLOCK)
p = subprocess.Popen(sys.argv[1:], stdout=w)
os.close(w)
time.sleep(0.3)
n = 0
while True:
    b = os.read(r, 65536)
    if not b:
        break
    n += len(b)
    time.sleep(0.001)
print(n, p.wait())
"#;

#[test]
fn a_non_blocking_pipe_that_fills_gets_every_byte_on_miss_and_hit() {
    let env = TestEnv::new();
    for count in ["5000", "200000"] {
        let want = env.std_command("seq").arg("1").arg(count).output().unwrap().stdout.len();
        for what in ["miss", "hit"] {
            let out = env
                .std_command("python3")
                .args(["-c", SLOW_NONBLOCKING_READER, harness::BIN, "--", "seq", "1", count])
                .output()
                .unwrap();
            let report = String::from_utf8(out.stdout).unwrap();
            assert_eq!(report.trim(), format!("{want} 0"), "{what} of seq 1 {count}");
        }
    }
}

/// What `cachecmd COMMAND 2>&1` shows, miss then hit: the same bytes.
#[test]
fn a_hit_into_2_to_1_shows_what_the_miss_showed() {
    let env = TestEnv::new();
    let bodies = [
        "echo 1; echo 2 >&2; echo 3",
        "i=0; while [ $i -lt 300 ]; do echo out$i; echo err$i >&2; i=$((i+1)); done",
        "seq 1 40000; seq 1 40000 >&2; seq 40001 80000; echo end >&2",
        "yes o | head -c 70000; yes e | head -c 70000 >&2; printf tail",
    ];
    for (n, body) in bodies.iter().enumerate() {
        let counter = env.counter(&format!("order{n}"));
        let command = counter.sh(body);
        let miss = env.sh(&script(&[], &command, "2>&1")).output().unwrap();
        let hit = env.sh(&script(&[], &command, "2>&1")).output().unwrap();
        counter.assert_runs(1);
        assert!(miss.status.success() && hit.status.success());
        assert!(miss.stdout == hit.stdout, "body {n}: the hit's order differs from the miss's");
        // Separated, each stream is exactly the command's.
        let direct = env.std_command("sh").arg("-c").arg(*body).output().unwrap();
        let split = env.cmd().args(with_command(&[], &command)).output().unwrap();
        assert!(split.stdout == direct.stdout && split.stderr == direct.stderr, "body {n}");
    }
}

#[test]
fn a_reader_that_leaves_does_not_stop_the_recording() {
    let env = TestEnv::new();
    let seq: Vec<OsString> = ["seq", "1", "100000"].map(OsString::from).to_vec();
    let out = env.sh(&script(&["-v"], &seq, "| head -1")).output().unwrap();
    assert_eq!(out.stdout, b"1\n");
    assert!(stderr_of(&out).contains("recorded (exit 0)"), "{}", stderr_of(&out));
    let out = env.cmd().arg("-v").args(with_command(&[], &seq)).output().unwrap();
    assert!(stderr_of(&out).contains("hit"), "{}", stderr_of(&out));
    assert_eq!(out.stdout, env.std_command("seq").args(["1", "100000"]).output().unwrap().stdout);

    // Past --max-entry-size the pipe is closed: the command sees EPIPE.
    let yes: Vec<OsString> = ["yes"].map(OsString::from).to_vec();
    let out = env.sh(&script(&["-v", "--max-entry-size", "64K"], &yes, "| head -1")).output();
    let out = out.unwrap();
    assert_eq!(out.stdout, b"y\n");
    assert!(stderr_of(&out).contains("not recorded"), "{}", stderr_of(&out));
}

#[test]
fn a_background_grandchild_does_not_hold_the_run() {
    let env = TestEnv::new();
    let command: Vec<OsString> = ["sh", "-c", "sleep 5 & echo hi"].map(OsString::from).to_vec();
    let file = env.path().join("out");
    let started = Instant::now();
    let redirect = format!("> '{}'", file.display());
    env.sh(&script(&["-v"], &command, &redirect)).assert().success();
    assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
    assert_eq!(fs::read(&file).unwrap(), b"hi\n");
    env.cmd().args(with_command(&[], &command)).assert().success().stdout("hi\n");
}

type Edit = fn(&mut Header, &mut Meta);

/// Rewrites the entry of `command` through `edit`, with valid checksums.
fn rewrite_entry(env: &TestEnv, command: &[OsString], edit: impl Fn(&mut Header, &mut Meta)) {
    let key = env.key(with_command(&[], command));
    let path = env.entry_path(&key);
    let bytes = fs::read(&path).unwrap();
    let mut header = Header::decode(&bytes, bytes.len() as u64).unwrap();
    let meta_range = header.meta_range();
    let mut meta =
        Meta::decode(&bytes[meta_range.start as usize..meta_range.end as usize], header.meta_hash)
            .unwrap();
    edit(&mut header, &mut meta);
    let meta_bytes = meta.encode();
    header.meta_len = meta_bytes.len() as u32;
    header.meta_hash = xxh3_64(&meta_bytes);
    let rest = &bytes[meta_range.end as usize..];
    fs::write(&path, [&header.encode()[..], &meta_bytes, rest].concat()).unwrap();
    assert!(bytes.len() > HEADER_LEN);
}

#[test]
fn entries_with_times_out_of_range_are_a_miss_not_a_panic() {
    let env = TestEnv::new();
    let counter = env.counter("times");
    let command = counter.prints("x");
    let edits: [(&str, Edit); 2] =
        [("expires_at", |h, _| h.expires_at = u64::MAX), ("created", |_, m| m.created = u64::MAX)];
    for (n, (what, edit)) in edits.into_iter().enumerate() {
        env.cmd().args(with_command(&[], &command)).assert().success().stdout("x");
        rewrite_entry(&env, &command, edit);
        for opts in [&["-v"][..], &["-v", "--stale-if-error", "1h", "--ttl", "1s"]] {
            let out = env.cmd().args(with_command(opts, &command)).output().unwrap();
            assert_eq!(out.status.code(), Some(0), "{what}: {}", stderr_of(&out));
            assert_eq!(out.stdout, b"x");
        }
        env.cmd().arg("list").assert().success();
        env.cmd()
            .arg("show")
            .args(with_command(&[], &command))
            .assert()
            .code(predicates::ord::lt(2));
        // An expiry is read on every lookup, so a bad one is a miss; the
        // creation time is read only by `list`, `show` and the remote tier.
        if what == "expires_at" {
            assert!(counter.count() > n + 1, "{what}: the crafted entry was served");
        }
    }
}

#[test]
fn a_long_command_line_is_recorded_and_read_back() {
    let env = TestEnv::new();
    let counter = env.counter("long");
    let mut command = counter.prints("ok");
    command.extend((b'a'..b'm').map(|c| OsString::from((c as char).to_string().repeat(100_000))));
    for what in ["miss", "hit"] {
        let out = env.cmd().arg("-v").args(with_command(&[], &command)).output().unwrap();
        assert!(out.status.success(), "{what}: {}", stderr_of(&out));
        assert_eq!(out.stdout, b"ok");
        assert!(!stderr_of(&out).contains("corrupt"), "{what}: {}", stderr_of(&out));
    }
    counter.assert_runs(1);
    assert_eq!(files_under(&env.root().join("v1").join("entries")).len(), 1);
}

#[test]
fn a_file_size_limit_fails_on_miss_and_hit() {
    let env = TestEnv::new();
    let counter = env.counter("fsize");
    let command = counter.sh("seq 1 20000");
    let file = env.path().join("out");
    let redirect = format!("> '{}'", file.display());
    // 1 block of 512 bytes: our write to the caller fails with EFBIG.
    let limited = format!("ulimit -f 1; {}", script(&[], &command, &redirect));
    let out = env.sh(&limited).output().unwrap();
    assert_eq!(out.status.code(), Some(120), "miss: {}", stderr_of(&out));
    assert!(stderr_of(&out).contains("stdout"), "{}", stderr_of(&out));
    env.cmd().args(with_command(&[], &command)).assert().success();
    let out = env.sh(&limited).output().unwrap();
    assert_eq!(out.status.code(), Some(120), "hit: {}", stderr_of(&out));
    counter.assert_runs(2);
}

#[test]
fn a_closed_stdin_is_closed_for_the_command() {
    let env = TestEnv::new();
    let probe: Vec<OsString> = ["sh", "-c", "[ -e /proc/$$/fd/0 ] && echo open || echo closed"]
        .map(OsString::from)
        .to_vec();
    let out = env.sh(&script(&["--force"], &probe, "<&-")).output().unwrap();
    assert_eq!(out.stdout, b"closed\n", "{}", stderr_of(&out));
    let out = env.sh(&script(&["--force"], &probe, "</dev/null")).output().unwrap();
    assert_eq!(out.stdout, b"open\n");
}
