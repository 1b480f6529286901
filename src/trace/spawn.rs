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
//!    seccomp stops), answers `G` (or `N` when ptrace is refused), reports
//!    whether it seized it, and enters its loop at once (a seized child
//!    stops at any signal until its tracer resumes it);
//! 3. the child installs the seccomp filter (only after the options are
//!    set: a `SECCOMP_RET_TRACE` filter without them fails every filtered
//!    call with ENOSYS), reports the result to cachecmd, and execs the
//!    command itself, writing the errno to a fourth pipe if that fails;
//! 4. the tracer reports (see `wire`) what was touched as soon as the
//!    command exits, and goes on serving what is left.
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
    /// What the child says of the filter: `S`, or `E` and the errno.
    filter_result: File,
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
        let (filter_r, filter_w) = pipe().map_err(setup)?;
        let (report_r, report_w) = pipe().map_err(setup)?;
        let filter = super::filter::build();
        let keep = [pid_r.as_raw_fd(), go_w.as_raw_fd(), report_w.as_raw_fd()];
        let tracer = sys::fork_tracer(&keep, move || {
            let mut report = File::from(report_w);
            let seized = seize(pid_r, go_w);
            let start =
                seized.as_ref().map_or_else(|why| Start::Untraced(why.clone()), |_| Start::Traced);
            let _ = wire::write_start(&mut report, &start);
            if let Ok(pid) = seized {
                tracer::run(pid, |_, accesses| {
                    let _ = wire::write_accesses(&mut report, accesses);
                });
            }
        })
        .map_err(setup)?;
        let fds = sys::HandoffFds {
            pid_w: pid_w.as_raw_fd(),
            go_r: go_r.as_raw_fd(),
            filter_w: filter_w.as_raw_fd(),
            error_w: error_w.as_raw_fd(),
        };
        sys::install_handoff(command, tracer, fds, filter, exec);
        Ok(Handoff {
            child_ends: vec![pid_w, go_r, filter_w, error_w],
            exec_error: error_r,
            filter_result: File::from(filter_r),
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

    /// Whether the child runs traced (known once `spawn` returned): the
    /// tracer says whether it seized the child, the child whether it
    /// installed the filter.
    pub fn start(&mut self) -> Start {
        match wire::read_start(&mut self.report) {
            Ok(Start::Traced) => {}
            Ok(other) => return other,
            Err(_) => return Start::Untraced("the tracer stopped".into()),
        }
        let mut answer = [0u8; 5];
        match self.filter_result.read(&mut answer[..1]) {
            Ok(1) if answer[0] == b'S' => Start::Traced,
            Ok(1) => {
                let errno = self.filter_result.read_exact(&mut answer[1..]).map_or(0, |()| {
                    i32::from_ne_bytes([answer[1], answer[2], answer[3], answer[4]])
                });
                let e = std::io::Error::from_raw_os_error(errno);
                Start::Seized(format!("seccomp refused the filter ({e})"))
            }
            _ => Start::Seized("the command did not start".into()),
        }
    }

    /// What was touched, once the command has exited.
    pub fn finish(mut self) -> Accesses {
        wire::read_accesses(&mut self.report).unwrap_or_else(|_| Accesses {
            incomplete: Some("the tracer failed".into()),
            ..Accesses::default()
        })
    }
}

/// The tracer's side of steps 1-2: the pid it traces, or why there is
/// none. It must not wait for the child after seizing it: a seized child
/// stops at any signal (a SIGWINCH, a SIGCONT) until its tracer resumes
/// it, so the tracer goes straight into its loop, and the child reports
/// the filter to cachecmd (see [`Handoff::start`]).
fn seize(pid_r: OwnedFd, go_w: OwnedFd) -> Result<i32, String> {
    let mut pid_r = File::from(pid_r);
    let mut go_w = File::from(go_w);
    let mut pid = [0u8; 4];
    if pid_r.read_exact(&mut pid).is_err() {
        return Err("the command did not start".into());
    }
    let pid = i32::from_ne_bytes(pid);
    if let Err(e) = sys::seize(pid) {
        let _ = std::io::Write::write_all(&mut go_w, b"N");
        return Err(format!("ptrace is not permitted ({e})"));
    }
    // A child that died meanwhile is reaped by the loop like any other.
    let _ = std::io::Write::write_all(&mut go_w, b"G");
    Ok(pid)
}
