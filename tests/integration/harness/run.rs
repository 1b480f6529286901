//! A fluent run of `cachecmd OPTIONS -- COMMAND`: options and environment
//! first, then assertions on what came back, including whether it was a
//! hit or a miss (read from the `-v` status line).
//!
//! ```ignore
//! env.run(["echo", "hi"]).ttl("1h").assert().expect_miss().stdout("hi\n");
//! ```

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::process::Output;

use super::{assert_is_key, TestEnv};

/// A run being set up; [`Run::assert`] executes it.
#[must_use = "a run does nothing until `.assert()`"]
pub struct Run<'a> {
    env: &'a TestEnv,
    opts: Vec<OsString>,
    command: Vec<OsString>,
    envs: Vec<(OsString, Option<OsString>)>,
    stdin: Option<Vec<u8>>,
    dir: Option<PathBuf>,
    verbose: bool,
}

impl TestEnv {
    /// `cachecmd -v [options] -- COMMAND...`, set up by the methods of
    /// [`Run`]. `-v` is what tells a hit from a miss; [`Run::quiet`] drops it
    /// where the exact stderr of a plain run is the point.
    pub fn run<I, S>(&self, command: I) -> Run<'_>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        Run {
            env: self,
            opts: Vec::new(),
            command: command.into_iter().map(|s| s.as_ref().to_owned()).collect(),
            envs: Vec::new(),
            stdin: None,
            dir: None,
            verbose: true,
        }
    }
}

impl Run<'_> {
    /// One option (or option value) before `--`.
    pub fn opt(mut self, opt: impl AsRef<OsStr>) -> Self {
        self.opts.push(opt.as_ref().to_owned());
        self
    }

    /// Options before `--`, in order.
    pub fn opts<I, S>(self, opts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        opts.into_iter().fold(self, Run::opt)
    }

    pub fn ttl(self, ttl: &str) -> Self {
        self.opts(["--ttl", ttl])
    }

    pub fn failure_ttl(self, ttl: &str) -> Self {
        self.opts(["--failure-ttl", ttl])
    }

    /// `--env NAME`: the variable's value becomes part of the key.
    pub fn keyed_env(self, name: &str) -> Self {
        self.opts(["--env", name])
    }

    /// A variable in the environment of cachecmd (and so of the command).
    pub fn env(mut self, name: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.envs.push((name.as_ref().to_owned(), Some(value.as_ref().to_owned())));
        self
    }

    /// A variable removed from that environment.
    pub fn env_remove(mut self, name: impl AsRef<OsStr>) -> Self {
        self.envs.push((name.as_ref().to_owned(), None));
        self
    }

    /// Bytes on cachecmd's stdin.
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    /// Runs in `dir` instead of the test's work dir.
    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dir = Some(dir.into());
        self
    }

    /// Without `-v`: stderr is then exactly what cachecmd and the command
    /// wrote, and hits cannot be told from misses.
    pub fn quiet(mut self) -> Self {
        self.verbose = false;
        self
    }

    /// `OPTIONS -- COMMAND` (without `-v`).
    pub fn args(&self) -> Vec<OsString> {
        let mut args = self.opts.clone();
        args.push("--".into());
        args.extend(self.command.iter().cloned());
        args
    }

    fn command(&self) -> assert_cmd::Command {
        let mut cmd = self.env.cmd();
        for (name, value) in &self.envs {
            match value {
                Some(value) => cmd.env(name, value),
                None => cmd.env_remove(name),
            };
        }
        if let Some(dir) = &self.dir {
            cmd.current_dir(dir);
        }
        cmd
    }

    /// `cachecmd key` with the same options, directory, environment and stdin.
    #[track_caller]
    pub fn key(&self) -> String {
        let mut cmd = self.command();
        cmd.arg("key").args(self.args());
        if let Some(stdin) = &self.stdin {
            cmd.write_stdin(stdin.clone());
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "`cachecmd key` failed: {}", describe(&out));
        let key = String::from_utf8(out.stdout).unwrap().trim_end().to_owned();
        assert_is_key(&key);
        key
    }

    /// Runs it (bounded by the harness's timeout) and returns what came
    /// back, to assert on.
    #[track_caller]
    pub fn assert(self) -> Ran {
        let mut cmd = self.command();
        if self.verbose {
            cmd.arg("-v");
        }
        cmd.args(self.args());
        if let Some(stdin) = &self.stdin {
            cmd.write_stdin(stdin.clone());
        }
        let output = cmd.output().unwrap();
        let what = format!("cachecmd {:?}", self.args());
        Ran { output, verbose: self.verbose, what }
    }
}

/// What a [`Run`] gave back; each check returns it for the next one.
pub struct Ran {
    output: Output,
    verbose: bool,
    what: String,
}

impl Ran {
    /// The command's own stderr, and the `cachecmd: ...` status line `-v`
    /// adds last (none when cachecmd stopped before running anything).
    fn split_stderr(&self) -> (&[u8], Option<&str>) {
        let stderr = &self.output.stderr;
        let text = std::str::from_utf8(stderr).unwrap_or("");
        let last = text.rfind("cachecmd: ").filter(|at| !text[*at..].trim_end().contains('\n'));
        match last {
            Some(at) if self.verbose => (&stderr[..at], Some(text[at..].trim_end())),
            _ => (stderr, None),
        }
    }

    /// The `-v` status line (`cachecmd: hit, age 3s, key 0123abcd`).
    #[track_caller]
    pub fn status_line(&self) -> &str {
        assert!(self.verbose, "{}: a quiet run has no status line", self.what);
        let line = self.split_stderr().1;
        line.unwrap_or_else(|| panic!("{}: no -v status line\n{}", self.what, self.dump()))
    }

    /// The entry was served from the local cache (the command did not run).
    #[track_caller]
    pub fn expect_hit(self) -> Self {
        let line = self.status_line();
        assert!(line.starts_with("cachecmd: hit"), "{}: not a hit\n{}", self.what, self.dump());
        self
    }

    /// The command ran (no fresh entry, or `--force`).
    #[track_caller]
    pub fn expect_miss(self) -> Self {
        let line = self.status_line();
        assert!(line.starts_with("cachecmd: miss"), "{}: not a miss\n{}", self.what, self.dump());
        self
    }

    #[track_caller]
    pub fn code(self, code: i32) -> Self {
        assert_eq!(self.output.status.code(), Some(code), "{}: exit\n{}", self.what, self.dump());
        self
    }

    #[track_caller]
    pub fn success(self) -> Self {
        self.code(0)
    }

    /// Stdout, byte for byte.
    #[track_caller]
    pub fn stdout(self, expected: impl AsRef<[u8]>) -> Self {
        assert!(
            self.output.stdout == expected.as_ref(),
            "{}: stdout is not {:?}\n{}",
            self.what,
            String::from_utf8_lossy(expected.as_ref()),
            self.dump()
        );
        self
    }

    /// Stderr byte for byte, without the `-v` status line: what the command
    /// wrote (and any `cachecmd:` warning).
    #[track_caller]
    pub fn stderr(self, expected: impl AsRef<[u8]>) -> Self {
        let (stderr, _) = self.split_stderr();
        assert!(
            stderr == expected.as_ref(),
            "{}: stderr is not {:?}\n{}",
            self.what,
            String::from_utf8_lossy(expected.as_ref()),
            self.dump()
        );
        self
    }

    /// That stderr contains `needle`.
    #[track_caller]
    pub fn stderr_has(self, needle: &str) -> Self {
        let (stderr, _) = self.split_stderr();
        assert!(
            String::from_utf8_lossy(stderr).contains(needle),
            "{}: stderr lacks {needle:?}\n{}",
            self.what,
            self.dump()
        );
        self
    }

    fn dump(&self) -> String {
        describe(&self.output)
    }
}

fn describe(out: &Output) -> String {
    format!(
        "status: {:?}\nstdout: {:?}\nstderr: {:?}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
