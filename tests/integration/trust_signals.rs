//! Signals behave as with GNU `timeout` and `env`: relayed to the command,
//! then cachecmd dies by the same signal; dispositions the caller ignored
//! stay ignored; an interrupted run is never cached, retried or covered by
//! `--stale-if-error`.

use crate::harness;

use std::ffi::OsString;
use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use harness::{files_under, with_command, TestEnv};

/// Waits (bounded) until `path` exists and holds a pid.
#[track_caller]
fn wait_for_pid(path: &Path) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(text) = fs::read_to_string(path) {
            if let Ok(pid) = text.trim().lines().last().unwrap_or("").parse() {
                return pid;
            }
        }
        assert!(Instant::now() < deadline, "the command never started");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn alive(pid: i32) -> bool {
    // SAFETY: kill with signal 0 only checks for existence.
    unsafe { libc::kill(pid, 0) == 0 }
}

/// A command that writes its pid to `pidfile`, then becomes a long sleep.
fn sleeper(pidfile: &Path) -> Vec<OsString> {
    let script = format!("echo $$ >> '{}'; exec sleep 30", pidfile.display());
    ["sh", "-c", &script].map(OsString::from).to_vec()
}

fn spawn(env: &TestEnv, args: Vec<OsString>) -> Child {
    env.std_cmd().args(args).stdin(Stdio::null()).stdout(Stdio::piped()).spawn().unwrap()
}

fn signal(child: &Child, signal: i32) {
    // SAFETY: kill(2) has no memory-safety preconditions.
    unsafe { libc::kill(child.id() as i32, signal) };
}

#[test]
fn a_signal_to_cachecmd_reaches_the_command_and_then_kills_cachecmd() {
    for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP] {
        let env = TestEnv::new();
        let pidfile = env.path().join("pid");
        let mut child = spawn(&env, with_command(&[], &sleeper(&pidfile)));
        let command = wait_for_pid(&pidfile);
        signal(&child, sig);
        let status = child.wait().unwrap();
        assert_eq!(status.signal(), Some(sig), "cachecmd's status after signal {sig}");
        // cachecmd waited for (and so reaped) the command before dying.
        assert!(!alive(command), "signal {sig}: the command still runs");
        let entries = files_under(&env.root().join("v1").join("entries"));
        assert!(entries.is_empty(), "signal {sig}: an interrupted run was cached");
    }
}

#[test]
fn signals_the_caller_ignored_stay_ignored_for_the_command() {
    let env = TestEnv::new();
    let sig_ign = |script: &str| {
        let out = env.sh(script).output().unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        let mask = text.trim().strip_prefix("SigIgn:").unwrap().trim().to_owned();
        u64::from_str_radix(&mask, 16).unwrap()
    };
    let bit = |sig: i32| 1u64 << (sig - 1);
    let trapped = sig_ign("trap '' INT QUIT; cachecmd --force -- grep SigIgn /proc/self/status");
    assert_ne!(trapped & bit(libc::SIGINT), 0, "SIGINT ignored by the caller");
    assert_ne!(trapped & bit(libc::SIGQUIT), 0, "SIGQUIT ignored by the caller");
    let direct = sig_ign("trap '' INT QUIT; grep SigIgn /proc/self/status");
    assert_eq!(trapped, direct, "the command sees what it would see directly");
    let plain = sig_ign("cachecmd --force -- grep SigIgn /proc/self/status");
    assert_eq!(plain & (bit(libc::SIGINT) | bit(libc::SIGPIPE) | bit(libc::SIGXFSZ)), 0);
}

#[test]
fn sigterm_stops_the_retries() {
    let env = TestEnv::new();
    let pidfile = env.path().join("pid");
    let mut command = sleeper(&pidfile);
    command[2] = format!("echo $$ >> '{}'; sleep 30; exit 1", pidfile.display()).into();
    let args = with_command(&["--retry", "5", "--retry-delay", "10ms"], &command);
    let mut child = spawn(&env, args);
    wait_for_pid(&pidfile);
    signal(&child, libc::SIGTERM);
    assert_eq!(child.wait().unwrap().signal(), Some(libc::SIGTERM));
    let attempts = fs::read_to_string(&pidfile).unwrap().lines().count();
    assert_eq!(attempts, 1, "attempts after SIGTERM");
}

#[test]
fn an_interrupted_run_is_not_covered_by_stale_if_error() {
    let env = TestEnv::new();
    let pidfile = env.path().join("pid");
    let script = format!(
        "if [ -n \"$SLOW\" ]; then echo $$ >> '{}'; exec sleep 30; fi; echo old",
        pidfile.display()
    );
    let command: Vec<OsString> = ["sh", "-c", &script].map(OsString::from).to_vec();
    let opts = ["--ttl", "10s", "--stale-if-error", "1h"];
    env.cmd().args(with_command(&opts, &command)).assert().success().stdout("old\n");
    let key = env.key(with_command(&[], &command));
    env.age_entry(&key, 60);
    let mut cmd = env.std_cmd();
    cmd.args(with_command(&opts, &command)).env("SLOW", "1");
    let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).spawn().unwrap();
    wait_for_pid(&pidfile);
    signal(&child, libc::SIGINT);
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGINT));
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut stdout).unwrap();
    assert_eq!(stdout, "", "the old entry was served for an interruption");
}

/// Drives cachecmd on a terminal (python3's pty) and types Ctrl-C there.
const TERMINAL: &str = r#"
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
seen = b''
while b'ready' not in seen:
    seen += os.read(fd, 100)
os.write(fd, b'\x03')
try:
    while os.read(fd, 100):
        pass
except OSError:
    pass
_, status = os.waitpid(pid, 0)
print(os.WTERMSIG(status) if os.WIFSIGNALED(status) else -os.WEXITSTATUS(status))
"#;

/// Counts the SIGINTs it gets for half a second after saying `ready`.
const COUNTS_SIGINT: &str = r#"
import signal, sys, time
got = []
signal.signal(signal.SIGINT, lambda *_: got.append(1))
print('ready', flush=True)
end = time.time() + 0.5
while time.time() < end:
    time.sleep(0.01)
open(sys.argv[1], 'w').write(str(len(got)))
"#;

/// A Ctrl-C reaches the whole foreground process group: the command gets
/// it once (cachecmd does not relay it again; a relay racing the terminal's
/// own signal could merge with it, so this cannot catch every double), and
/// cachecmd, after waiting for the command, dies by SIGINT so a calling
/// shell loop stops.
#[test]
fn ctrl_c_on_a_terminal_reaches_the_command_once_and_ends_cachecmd() {
    let env = TestEnv::new();
    let count = env.path().join("count");
    let mut args: Vec<OsString> = vec!["python3".into(), "-c".into(), TERMINAL.into()];
    args.push(harness::BIN.into());
    let command: Vec<OsString> = vec!["python3".into(), "-c".into(), COUNTS_SIGINT.into()];
    let mut command_with_file = command.clone();
    command_with_file.push(count.clone().into());
    args.extend(with_command(&[], &command_with_file));
    let out = env.std_command(&args[0]).args(&args[1..]).output().unwrap();
    let status = String::from_utf8(out.stdout).unwrap();
    assert_eq!(status.trim(), libc::SIGINT.to_string(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(fs::read_to_string(&count).unwrap(), "1", "SIGINTs the command got");
    assert!(files_under(&env.root().join("v1").join("entries")).is_empty());
}
