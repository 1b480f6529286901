//! The hand-off between the child and its tracer. The tracer is a process
//! of its own, forked first, so that it can outlive cachecmd: a command
//! that leaves a process running in the background (a daemon, `cmd &`)
//! ends the run when it exits, as without tracing, while its leftovers,
//! whose filtered system calls need a tracer (without one they fail with
//! ENOSYS), are served until they exit too.
//!
//! 1. the child (between fork and exec) names the tracer as allowed to
//!    trace it, writes its pid to a pipe and waits;
//! 2. the tracer seizes it with the ptrace options (following forks, execs,
//!    seccomp stops) and answers `G`, or `N` when ptrace is refused;
//! 3. the child installs the seccomp filter (only after the options are
//!    set: a `SECCOMP_RET_TRACE` filter without them fails every filtered
//!    call with ENOSYS), reports the result, and execs the command itself,
//!    writing the errno to a third pipe if that fails;
//! 4. the tracer reports the start, then (see `wire`) what was touched as
//!    soon as the command exits, and goes on serving what is left.
//!
//! cachecmd stays the command's parent and waits for it as usual (a
//! tracer's wait only passes the exit on to the real parent).

use std::ffi::OsString;
use std::fs::File;
use std::io::Read as _;
use std::os::fd::{AsRawFd, OwnedFd};
use std::process::Command;

use super::sys::{self, ExecArgs};
use super::tracer::{self, Accesses};
use super::wire;

/// Whether the command runs traced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    Traced,
    /// Seized but without the filter: nothing is recorded; why.
    Seized(String),
    /// Why not: the run goes ahead untraced.
    Untraced(String),
}

pub struct Handoff {
    /// The child's ends, closed here once it is spawned.
    child_ends: Vec<OwnedFd>,
    exec_error: OwnedFd,
    /// What the tracer process reports.
    report: File,
}

fn pipe() -> std::io::Result<(OwnedFd, OwnedFd)> {
    rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).map_err(Into::into)
}

impl Handoff {
    /// Arranges for `command` (about to run `argv`) to be traced, and
    /// starts the tracer process; `Err` when that cannot even be set up.
    pub fn install(command: &mut Command, argv: &[OsString]) -> Result<Handoff, String> {
        let exec = ExecArgs::new(argv).ok_or("an argument holds a NUL byte")?;
        let setup = |e: std::io::Error| format!("cannot set up tracing: {e}");
        let (pid_r, pid_w) = pipe().map_err(setup)?;
        let (go_r, go_w) = pipe().map_err(setup)?;
        let (error_r, error_w) = pipe().map_err(setup)?;
        let (report_r, report_w) = pipe().map_err(setup)?;
        let filter = super::filter::build();
        let keep = [pid_r.as_raw_fd(), go_w.as_raw_fd(), report_w.as_raw_fd()];
        let tracer = sys::fork_tracer(&keep, move || {
            let mut report = File::from(report_w);
            let (start, pid) = seize(pid_r, go_w);
            if wire::write_start(&mut report, &start).is_err() {
                return;
            }
            if let Some(pid) = pid {
                tracer::run(pid, |_, accesses| {
                    let _ = wire::write_accesses(&mut report, accesses);
                });
            }
        })
        .map_err(setup)?;
        let fds = (pid_w.as_raw_fd(), go_r.as_raw_fd(), error_w.as_raw_fd());
        sys::install_handoff(command, tracer, fds, filter, exec);
        Ok(Handoff {
            child_ends: vec![pid_w, go_r, error_w],
            exec_error: error_r,
            report: File::from(report_r),
        })
    }

    /// After `spawn` (successful or not): closes the child's pipe ends so
    /// the tracer and [`Handoff::exec_error`] see the end of them.
    pub fn spawned(&mut self) {
        self.child_ends.clear();
    }

    /// The errno of a failed exec, once the child exec'd or exited.
    pub fn exec_error(&self) -> Option<std::io::Error> {
        let mut errno = [0u8; 4];
        let mut file = File::from(self.exec_error.try_clone().ok()?);
        file.read_exact(&mut errno).ok()?;
        Some(std::io::Error::from_raw_os_error(i32::from_ne_bytes(errno)))
    }

    /// Whether the child runs traced (known once `spawn` returned).
    pub fn start(&mut self) -> Start {
        wire::read_start(&mut self.report)
            .unwrap_or_else(|_| Start::Untraced("the tracer stopped".into()))
    }

    /// What was touched, once the command has exited.
    pub fn finish(mut self) -> Accesses {
        wire::read_accesses(&mut self.report).unwrap_or_else(|_| Accesses {
            incomplete: Some("the tracer failed".into()),
            ..Accesses::default()
        })
    }
}

/// The tracer's side of steps 1-3: the start, and the pid it traces.
fn seize(pid_r: OwnedFd, go_w: OwnedFd) -> (Start, Option<i32>) {
    let mut pid_r = std::fs::File::from(pid_r);
    let mut go_w = std::fs::File::from(go_w);
    let mut pid = [0u8; 4];
    if pid_r.read_exact(&mut pid).is_err() {
        return (Start::Untraced("the command did not start".into()), None);
    }
    let pid = i32::from_ne_bytes(pid);
    if let Err(e) = sys::seize(pid) {
        let _ = std::io::Write::write_all(&mut go_w, b"N");
        return (Start::Untraced(format!("ptrace is not permitted ({e})")), None);
    }
    if std::io::Write::write_all(&mut go_w, b"G").is_err() {
        return (Start::Seized("the command did not start".into()), Some(pid));
    }
    let mut answer = [0u8; 1];
    match pid_r.read_exact(&mut answer) {
        Ok(()) if answer[0] == b'S' => (Start::Traced, Some(pid)),
        Ok(()) => {
            let mut errno = [0u8; 4];
            let errno = pid_r.read_exact(&mut errno).map_or(0, |()| i32::from_ne_bytes(errno));
            let e = std::io::Error::from_raw_os_error(errno);
            (Start::Seized(format!("seccomp refused the filter ({e})")), Some(pid))
        }
        Err(_) => (Start::Seized("the command did not start".into()), Some(pid)),
    }
}
