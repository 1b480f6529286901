//! Executable files for tests, written by a child process.
//!
//! Why not `fs::write` then `chmod`: the test binary runs tests on many
//! threads, and each spawns processes. A child forked by another thread while
//! this thread holds the new file open for writing inherits that descriptor
//! until its own `exec`; executing the file in that window fails with
//! ETXTBSY ("Text file busy"). Writing from a short-lived child means this
//! process never holds a writable descriptor to an executable, so no sibling
//! can inherit one.

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Command, Stdio};

/// Writes `contents` to `path` (creating parents) with mode 0755.
#[track_caller]
pub fn write_executable(path: &Path, contents: impl AsRef<[u8]>) {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    let mut child = Command::new("sh")
        .args(["-c", r#"cat > "$1""#, "sh"])
        .arg(path)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(contents.as_ref()).unwrap();
    assert!(child.wait().unwrap().success(), "writing {}", path.display());
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// Copies the file `from` to `to` (as `cp` does, keeping its mode).
#[track_caller]
pub fn copy_executable(from: &Path, to: &Path) {
    let status = Command::new("cp").arg(from).arg(to).status().unwrap();
    assert!(status.success(), "cp {} {}", from.display(), to.display());
}
