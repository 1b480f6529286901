//! Running the real tools the tests check against. A missing tool is a
//! failure, not a skip: CI installs them (`apt-get install zsh fish mandoc`).

#![allow(dead_code)] // each test binary uses a different part

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use clap::CommandFactory;

/// What a finished tool printed.
pub struct Output {
    pub status: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// Both streams, for failure messages.
    pub fn all(&self) -> String {
        format!("status {:?}\n--- stdout\n{}--- stderr\n{}", self.status, self.stdout, self.stderr)
    }
}

/// Runs `command` to completion, killing it after `timeout` (an interactive
/// shell that never returns must not hang the suite).
#[track_caller]
pub fn run(mut command: Command, timeout: Duration) -> Output {
    let program = command.get_program().to_string_lossy().into_owned();
    let mut child =
        match command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn() {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
                "`{program}` is not installed; this test needs it \
             (Debian/Ubuntu: apt-get install zsh fish mandoc)"
            ),
            Err(e) => panic!("cannot run `{program}`: {e}"),
        };
    let stdout = drain(child.stdout.take().expect("piped"));
    let stderr = drain(child.stderr.take().expect("piped"));
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for child") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "`{program}` did not finish within {timeout:?}\n--- stdout\n{}--- stderr\n{}",
                stdout.join().unwrap(),
                stderr.join().unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Output { status: status.code(), stdout: stdout.join().unwrap(), stderr: stderr.join().unwrap() }
}

fn drain(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

pub fn root() -> PathBuf {
    xtask::workspace_root()
}

/// A committed generated file; its freshness is `generated_files`'s job.
#[track_caller]
pub fn committed(relative: &str) -> PathBuf {
    let path = root().join(relative);
    assert!(path.is_file(), "{} is missing; run `cargo xtask generate`", path.display());
    path
}

/// The subcommands a user can type, from the real definition.
pub fn subcommands() -> Vec<String> {
    let cmd = cachecmd::test_support::Cli::command();
    let names: Vec<String> = cmd
        .get_subcommands()
        .filter(|sub| !sub.is_hide_set())
        .map(|sub| sub.get_name().to_owned())
        .collect();
    for expected in ["clear", "evict", "key"] {
        assert!(names.iter().any(|n| n == expected), "no `{expected}` subcommand in {names:?}");
    }
    names
}

/// An empty home for shells, so no user or machine configuration leaks in.
pub fn isolated(command: &mut Command, home: &Path) {
    command
        .env("HOME", home)
        .env("ZDOTDIR", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("TERM", "xterm")
        .current_dir(root());
}
pub mod shells;
