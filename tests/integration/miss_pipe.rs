//! A miss whose stdout is a pipe of its own goes to the caller by `tee(2)`:
//! the caller and the entry get the same bytes, and the write path still
//! serves a file, a merged `2>&1` pipe and a pipe reader that leaves.

use crate::harness;

use std::ffi::OsString;

use harness::{with_command, TestEnv};

/// Megabytes on stdout with stderr lines in between: many `tee` chunks.
const BODY: &str = "seq 1 300000; echo middle >&2; seq 300001 600000; echo end >&2";

#[test]
fn a_miss_to_a_pipe_delivers_and_records_every_byte() {
    let env = TestEnv::new();
    let counter = env.counter("tee");
    let command = counter.sh(BODY);
    let direct = env.std_command("sh").arg("-c").arg(BODY).output().unwrap();
    let miss = env.cmd().arg("-v").args(with_command(&[], &command)).output().unwrap();
    assert!(miss.status.success());
    assert!(miss.stdout == direct.stdout, "the miss's stdout differs from the command's");
    let err = String::from_utf8_lossy(&miss.stderr);
    assert!(err.contains("middle\nend\n") && err.contains("recorded (exit 0)"), "{err}");
    let hit = env.cmd().args(with_command(&[], &command)).output().unwrap();
    counter.assert_runs(1);
    assert!(hit.stdout == direct.stdout && hit.stderr == direct.stderr, "the hit differs");
}

#[test]
fn a_miss_to_a_file_and_through_a_pipe_chain_gets_every_byte() {
    let env = TestEnv::new();
    let direct = env.std_command("sh").arg("-c").arg(BODY).output().unwrap();
    for (n, redirect) in [">out0 2>/dev/null", "2>/dev/null | cat >out1"].iter().enumerate() {
        let command: Vec<OsString> =
            ["sh", "-c", BODY, &format!("run{n}")].map(OsString::from).to_vec();
        let args = with_command(&[], &command);
        let quoted: Vec<String> = args
            .iter()
            .map(|a| format!("'{}'", a.to_str().unwrap().replace('\'', r"'\''")))
            .collect();
        let script =
            format!("cd '{}' && cachecmd {} {redirect}", env.path().display(), quoted.join(" "));
        assert!(env.sh(&script).output().unwrap().status.success(), "{redirect}");
        let got = std::fs::read(env.path().join(format!("out{n}"))).unwrap();
        assert!(got == direct.stdout, "{redirect}: the caller's bytes differ");
        let hit = env.cmd().args(&args).output().unwrap();
        assert!(hit.stdout == direct.stdout, "{redirect}: the entry's bytes differ");
    }
}
