//! cachecmd invoked as `bkt`: a symlink named `bkt` to the binary under
//! test, run with the defaults of bkt's own test suite (`BKT_TTL=5s`, and
//! `BKT_TMPDIR` in this test's tree), and bkt's way of ageing a cache:
//! every file under it made older.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process;

use super::{age_file, files_under, TestEnv, BIN, RUN_TIMEOUT};

impl TestEnv {
    /// `bkt` on this test's `$PATH`: a symlink to cachecmd, created on first use.
    pub fn bkt_path(&self) -> PathBuf {
        let link = self.bin.join("bkt");
        if !link.exists() {
            std::os::unix::fs::symlink(BIN, &link).unwrap();
        }
        link
    }

    /// `BKT_TMPDIR` of [`TestEnv::bkt`].
    pub fn bkt_tmpdir(&self) -> PathBuf {
        self.path().join("bkt-tmp")
    }

    /// Where entries live under a bkt parent directory (`--cache-dir`,
    /// `BKT_CACHE_DIR`, `BKT_TMPDIR`): a per-user directory in it.
    pub fn bkt_root_in(&self, parent: &Path) -> PathBuf {
        parent.join(format!("cachecmd-u{}", euid()))
    }

    /// The root of [`TestEnv::bkt`]'s entries.
    pub fn bkt_root(&self) -> PathBuf {
        self.bkt_root_in(&self.bkt_tmpdir())
    }

    /// `program` (a path to cachecmd under any name) with this test's
    /// environment, no inherited `BKT_*` either, and bkt's test defaults.
    pub fn bkt_std_as(&self, program: &Path) -> process::Command {
        let mut cmd = self.std_command(program);
        for (name, _) in std::env::vars_os() {
            if name.as_encoded_bytes().starts_with(b"BKT_") {
                cmd.env_remove(name);
            }
        }
        cmd.env("BKT_TTL", "5s").env("BKT_TMPDIR", self.bkt_tmpdir());
        cmd
    }

    /// cachecmd invoked as `bkt` (through the symlink), ready for arguments.
    pub fn bkt(&self) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::from_std(self.bkt_std_as(&self.bkt_path()));
        cmd.timeout(RUN_TIMEOUT);
        cmd
    }

    /// Makes every file under `dir` `secs` older than now, as bkt's tests
    /// age a cache (an entry's age is its file's mtime).
    #[track_caller]
    pub fn age_all(&self, dir: &Path, secs: u64) {
        for file in files_under(dir) {
            age_file(&file, secs);
        }
    }
}

/// `sh -c` that appends to `file` and prints how many times it ran (no
/// newline): bkt's COUNT_INVOCATIONS.
pub fn count_invocations(file: &Path) -> Vec<OsString> {
    let script = r#"echo run >> "$1"; printf '%s' "$(wc -l < "$1" | tr -d ' ')""#;
    vec!["sh".into(), "-c".into(), script.into(), "arg0".into(), file.into()]
}

fn euid() -> u32 {
    // SAFETY: geteuid(2) has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}
