//! Detached helper processes (background gc, stale refreshes): a new
//! session, stdio on /dev/null, and no other descriptors (everything std
//! opens is close-on-exec). The caller never waits for them.

use std::ffi::OsString;
use std::process::{Command, Stdio};

/// Starts `cachecmd ARGS...` detached; failures are ignored (fail open).
pub fn spawn_self(args: &[OsString]) {
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let mut command = Command::new(exe);
    command.args(args).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
    super::sys::detach(&mut command);
    // The child is not waited for: it reparents to init when we exit.
    let _ = command.spawn();
}
