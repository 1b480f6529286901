//! What the remote-tier tests check of a finished run, shared by the Redis,
//! S3 and HTTP modules: the bytes, the status, the `-v` line and the key
//! every machine computes.

use std::ffi::OsString;
use std::process::Output;

use super::TestEnv;

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The `-v` status line (the last line of stderr).
#[track_caller]
pub fn status(out: &Output) -> String {
    let stderr = text(&out.stderr);
    let line = stderr.lines().last().unwrap_or_default().to_string();
    assert!(line.starts_with("cachecmd: "), "no -v status line in stderr: {stderr:?}");
    line
}

/// Exactly `stdout`, and exit status `code`.
#[track_caller]
pub fn assert_output(out: &Output, stdout: &[u8], code: i32) {
    assert!(
        out.stdout == stdout,
        "stdout differs: got {} bytes {:?}..., want {} bytes; stderr: {}",
        out.stdout.len(),
        text(&out.stdout[..out.stdout.len().min(80)]),
        stdout.len(),
        text(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(code), "exit code; stderr: {}", text(&out.stderr));
}

/// The key of `argv` run with `--no-cwd`, as every machine computes it.
pub fn key_of(env: &TestEnv, argv: &[OsString]) -> String {
    let mut args: Vec<OsString> = vec!["--no-cwd".into(), "--".into()];
    args.extend(argv.iter().cloned());
    env.key(args)
}

/// `cachecmd list --remote --json` against `url` (as `CACHECMD_REMOTE`,
/// which wins over any config): the objects it lists.
#[track_caller]
pub fn list_remote_json(env: &TestEnv, url: &str) -> Vec<serde_json::Value> {
    let out = env
        .cmd()
        .args(["list", "--remote", "--json"])
        .env("CACHECMD_REMOTE", url)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}
