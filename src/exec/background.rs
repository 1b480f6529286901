//! Detached helper processes (background gc, stale refreshes): a new
//! session, stdio on /dev/null, and no other descriptors (everything std
//! opens is close-on-exec). The caller never waits for them.

use std::ffi::{OsStr, OsString};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

/// Starts our own binary detached, as `ARG0 ARGS...`; failures are ignored
/// (fail open). argv[0] picks the command line the child parses: `cachecmd`,
/// or ours again (`bkt` when invoked as bkt; the binary itself may be a
/// copy named `bkt`, or a symlink that `current_exe` resolved).
pub fn spawn_self(arg0: &OsStr, args: &[OsString]) {
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let mut command = Command::new(exe);
    command.arg0(arg0).args(args).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
    super::sys::detach(&mut command);
    // The child is not waited for: it reparents to init when we exit.
    let _ = command.spawn();
}
