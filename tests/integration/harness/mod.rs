//! Test harness: every test gets its own temp tree with private cache, config
//! and home directories, so the default-root logic (`$XDG_CACHE_HOME`) is
//! exercised without ever touching the real `~/.cache`.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{self, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use filetime::FileTime;

#[cfg(feature = "http")]
pub mod bad_http;
pub mod bkt;
pub mod executable;
pub mod fixtures;
#[cfg(feature = "http")]
pub mod nginx;
#[cfg(feature = "redis")]
pub mod redis_server;
pub mod remote_checks;
pub mod run;
#[cfg(feature = "s3")]
pub mod s3_server;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_cachecmd");

/// Upper bound for any single `cachecmd` run, so a hang fails instead of
/// blocking the whole suite.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

pub struct TestEnv {
    /// Owns the temp tree: deleted when the env drops.
    _tree: tempfile::TempDir,
    /// Default working directory of every command.
    pub work: PathBuf,
    pub home: PathBuf,
    /// `$XDG_CACHE_HOME`; the default cache root is `cache_home/cachecmd`.
    pub cache_home: PathBuf,
    /// `$XDG_CONFIG_HOME`; the config file is `config_home/cachecmd/config.toml`.
    pub config_home: PathBuf,
    /// First on `$PATH`; holds a `cachecmd` symlink and test scripts.
    pub bin: PathBuf,
}

impl Default for TestEnv {
    fn default() -> Self {
        Self::new()
    }
}

/// Puts SIGINT and SIGQUIT back to their default action in this process,
/// once, so every command a test starts inherits the defaults. Why: a
/// runner started as a background job of a non-interactive shell (a CI
/// script's `cmd &`) ignores both, and cachecmd rightly keeps a caller's
/// ignored signals ignored, which would turn the signal tests' expectations
/// upside down.
fn default_signal_dispositions() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        for signal in [libc::SIGINT, libc::SIGQUIT] {
            // SAFETY: setting a default disposition installs no handler.
            unsafe { libc::signal(signal, libc::SIG_DFL) };
        }
    });
}

impl TestEnv {
    #[track_caller]
    pub fn new() -> Self {
        default_signal_dispositions();
        let tmp = tempfile::Builder::new().prefix("cachecmd-test-").tempdir().unwrap();
        let base = tmp.path().canonicalize().unwrap();
        let work = base.join("work");
        let home = base.join("home");
        let cache_home = base.join("xdg-cache");
        let config_home = base.join("xdg-config");
        let bin = base.join("bin");
        for dir in [&work, &home, &cache_home, &config_home, &bin] {
            fs::create_dir(dir).unwrap();
        }
        // Lets shell snippets (`sh -c '... | cachecmd ...'`) call the binary by name.
        std::os::unix::fs::symlink(BIN, bin.join("cachecmd")).unwrap();
        TestEnv { _tree: tmp, work, home, cache_home, config_home, bin }
    }

    /// The temp tree of this test (parent of all its directories).
    pub fn path(&self) -> &Path {
        self.work.parent().unwrap()
    }

    /// The default cache root: `$XDG_CACHE_HOME/cachecmd`.
    pub fn root(&self) -> PathBuf {
        self.cache_home.join("cachecmd")
    }

    /// The config file cachecmd reads by default.
    pub fn config_path(&self) -> PathBuf {
        self.config_home.join("cachecmd").join("config.toml")
    }

    #[track_caller]
    pub fn write_config(&self, text: &str) -> PathBuf {
        let path = self.config_path();
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, text).unwrap();
        path
    }

    /// A `std::process::Command` for `program` with this test's isolated
    /// environment: no inherited `CACHECMD_*`, private XDG dirs and HOME.
    pub fn std_command(&self, program: impl AsRef<OsStr>) -> process::Command {
        let mut cmd = process::Command::new(program);
        for (name, _) in std::env::vars_os() {
            if name.as_encoded_bytes().starts_with(b"CACHECMD") {
                cmd.env_remove(name);
            }
        }
        let mut path = OsString::from(&self.bin);
        if let Some(inherited) = std::env::var_os("PATH") {
            path.push(":");
            path.push(inherited);
        }
        cmd.env("PATH", path)
            .env("HOME", &self.home)
            .env("XDG_CACHE_HOME", &self.cache_home)
            .env("XDG_CONFIG_HOME", &self.config_home)
            .current_dir(&self.work);
        cmd
    }

    /// The cachecmd binary as a `std::process::Command` (for spawning).
    pub fn std_cmd(&self) -> process::Command {
        self.std_command(BIN)
    }

    /// The cachecmd binary, ready for arguments.
    pub fn cmd(&self) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::from_std(self.std_cmd());
        cmd.timeout(RUN_TIMEOUT);
        cmd
    }

    /// `sh -c SCRIPT` with the same environment; `cachecmd` is on `$PATH`.
    pub fn sh(&self, script: &str) -> assert_cmd::Command {
        let mut cmd = self.std_command("sh");
        cmd.arg("-c").arg(script);
        let mut cmd = assert_cmd::Command::from_std(cmd);
        cmd.timeout(RUN_TIMEOUT);
        cmd
    }

    /// Spawns cachecmd in its own process group (so the whole tree can be
    /// killed) with stdin and stderr detached.
    #[track_caller]
    pub fn spawn<I, S>(&self, args: I, stdout: Stdio) -> process::Child
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.std_cmd()
            .args(args)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap()
    }

    /// `cachecmd key ARGS...` run in the work dir; returns the key.
    #[track_caller]
    pub fn key<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.key_in(&self.work, args)
    }

    /// `cachecmd key ARGS...` run in `dir`; returns the key.
    #[track_caller]
    pub fn key_in<I, S>(&self, dir: &Path, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let out = self.cmd().arg("key").args(args).current_dir(dir).output().unwrap();
        assert!(
            out.status.success(),
            "`cachecmd key` failed: {:?}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        let key = String::from_utf8(out.stdout).unwrap().trim_end().to_owned();
        assert_is_key(&key);
        key
    }

    /// Where the entry of `key` lives under the default root.
    pub fn entry_path(&self, key: &str) -> PathBuf {
        entry_path_in(&self.root(), key)
    }

    /// Makes the entry of `key` look `secs` old (entry age = file mtime).
    #[track_caller]
    pub fn age_entry(&self, key: &str, secs: u64) {
        age_file(&self.entry_path(key), secs);
    }

    /// A per-test file that counts how many times a command really ran.
    pub fn counter(&self, name: &str) -> Counter {
        Counter { path: self.path().join(format!("{name}.count")) }
    }
}

/// `root/v1/entries/<2 hex>/<key>`.
pub fn entry_path_in(root: &Path, key: &str) -> PathBuf {
    root.join("v1").join("entries").join(&key[..2]).join(key)
}

#[track_caller]
pub fn assert_is_key(key: &str) {
    assert!(
        key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit()),
        "not a 64-hex key: {key:?}"
    );
}

#[track_caller]
pub fn age_file(path: &Path, secs: u64) {
    assert!(path.exists(), "no entry file to age at {}", path.display());
    let then = SystemTime::now() - Duration::from_secs(secs);
    filetime::set_file_mtime(path, FileTime::from_system_time(then)).unwrap();
}

/// Permission bits of `path` (without following a final symlink).
#[track_caller]
pub fn mode(path: &Path) -> u32 {
    fs::symlink_metadata(path).unwrap().permissions().mode() & 0o7777
}

#[track_caller]
pub fn set_mode(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// Every path (files and directories) below `dir`, not including `dir`.
#[track_caller]
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    if !dir.exists() {
        return found;
    }
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in fs::read_dir(&current).unwrap() {
            let path = entry.unwrap().path();
            if fs::symlink_metadata(&path).unwrap().is_dir() {
                pending.push(path.clone());
            }
            found.push(path);
        }
    }
    found.sort();
    found
}

/// Regular files below `dir`.
#[track_caller]
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    // A file that vanished since the walk (a racing gc or clear) is not one.
    walk(dir).into_iter().filter(|p| fs::symlink_metadata(p).is_ok_and(|m| m.is_file())).collect()
}

/// Kills a process group started with [`TestEnv::spawn`].
pub fn kill_group(child: &mut process::Child) {
    let pgid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: kill(2) has no memory-safety preconditions.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
    let _ = child.wait();
}

/// A child in its own process group, killed with its whole group when
/// dropped, so a failed assertion leaves no sleeping command behind.
pub struct Group(pub process::Child);

impl Drop for Group {
    fn drop(&mut self) {
        kill_group(&mut self.0);
    }
}

/// Counts executions: every command built from it appends a line to a file
/// before doing its real work.
pub struct Counter {
    pub path: PathBuf,
}

impl Counter {
    pub fn count(&self) -> usize {
        match fs::read_to_string(&self.path) {
            Ok(text) => text.lines().count(),
            Err(_) => 0,
        }
    }

    #[track_caller]
    pub fn assert_runs(&self, expected: usize) {
        assert_eq!(self.count(), expected, "number of real executions");
    }

    /// `sh -c 'echo run >> COUNTER; BODY'` as an argv.
    pub fn sh(&self, body: &str) -> Vec<OsString> {
        let script = format!("echo run >> '{}'; {body}", self.path.display());
        vec!["sh".into(), "-c".into(), script.into()]
    }

    /// A counted command that prints `out` (no newline) on stdout.
    pub fn prints(&self, out: &str) -> Vec<OsString> {
        self.sh(&format!("printf '%s' '{out}'"))
    }
}

/// `opts`, then `--`, then `command`: the arguments of a run, `key` or
/// `evict` with those options.
pub fn with_command(opts: &[&str], command: &[OsString]) -> Vec<OsString> {
    let mut args: Vec<OsString> = opts.iter().map(OsString::from).collect();
    args.push("--".into());
    args.extend(command.iter().cloned());
    args
}

/// Runs the test `name` of module `module` (its `module_path!()`) alone,
/// in a new process of this test binary whose environment has `envs` on
/// top (`None`: removed): for what must be set before a process starts,
/// which a test thread must never change for the others. Fails unless that
/// test passed.
#[track_caller]
pub fn run_test_in_child(module: &str, name: &str, envs: &[(&str, Option<&OsStr>)]) {
    let (_crate, path) = module.split_once("::").expect("a module of the test crate");
    let test = format!("{path}::{name}");
    let mut cmd = process::Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", &test, "--nocapture", "--test-threads=1"]);
    for (name, value) in envs {
        match value {
            Some(value) => cmd.env(name, value),
            None => cmd.env_remove(name),
        };
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{test} in a child: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Whether `needle` occurs in `haystack` (bytes, not text).
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Polls `done` every 10 ms for up to 30 s (for background processes). The
/// bound only matters when a test fails; it is generous because a loaded
/// 2-core CI machine can delay a background process by seconds.
#[track_caller]
pub fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A small deterministic PRNG (xorshift64), so a randomised test needs no
/// `rand` dependency and a failure can be replayed from its seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    /// Seeded from `FAULTS_SEED` if set, else from the clock; the seed is
    /// printed so a failure can be replayed.
    pub fn seeded() -> Rng {
        let seed =
            std::env::var("FAULTS_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
                SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64
            });
        eprintln!("FAULTS_SEED={seed}");
        Rng::new(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Uniform enough in `0..n` (`0` when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Deterministic bytes that do not compress to a pattern, every byte value
/// among them.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    (0..len).map(|_| rng.next() as u8).collect()
}
