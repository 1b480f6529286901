//! The hand-off between the child and its tracer. `Command::spawn` blocks
//! until the child execs, so the tracer is another thread, started first:
//!
//! 1. the child (between fork and exec) writes its pid to a pipe and waits;
//! 2. the tracer thread seizes it with the ptrace options (following forks,
//!    execs, seccomp stops) and answers `G`, or `N` when ptrace is refused;
//! 3. the child installs the seccomp filter (only after the options are
//!    set: a `SECCOMP_RET_TRACE` filter without them fails every filtered
//!    call with ENOSYS), reports the result, and execs the command itself,
//!    writing the errno to a third pipe if that fails;
//! 4. the tracer thread passes the root's wait status on as soon as it
//!    exits and returns what was touched once every traced process is gone.
//!
//! When the tracer thread reaps the command, nobody else may wait for it:
//! the run's wait goes through [`Handoff::wait_root`] instead.

use std::ffi::OsString;
use std::io::Read as _;
use std::os::fd::{AsRawFd, OwnedFd};
use std::process::Command;
use std::sync::mpsc::{self, Receiver};
use std::thread::JoinHandle;

use super::sys::{self, ExecArgs};
use super::tracer::{self, Accesses};

/// Whether the command runs traced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    Traced,
    /// Seized but without the filter: the tracer reaps it, nothing is
    /// recorded; why.
    Seized(String),
    /// Why not: the run goes ahead untraced, waited for as usual.
    Untraced(String),
}

impl Start {
    /// Whether the tracer thread, not the caller, waits for the command.
    pub fn seized(&self) -> bool {
        !matches!(self, Start::Untraced(_))
    }
}

pub struct Handoff {
    /// The child's ends, closed here once it is spawned.
    child_ends: Vec<OwnedFd>,
    exec_error: OwnedFd,
    started: Receiver<Start>,
    status: Receiver<i32>,
    tracer: JoinHandle<Accesses>,
}

fn pipe() -> std::io::Result<(OwnedFd, OwnedFd)> {
    rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).map_err(Into::into)
}

impl Handoff {
    /// Arranges for `command` (about to run `argv`) to be traced, and
    /// starts the tracer thread; `Err` when that cannot even be set up.
    pub fn install(command: &mut Command, argv: &[OsString]) -> Result<Handoff, String> {
        let exec = ExecArgs::new(argv).ok_or("an argument holds a NUL byte")?;
        let setup = |e: std::io::Error| format!("cannot set up tracing: {e}");
        let (pid_r, pid_w) = pipe().map_err(setup)?;
        let (go_r, go_w) = pipe().map_err(setup)?;
        let (error_r, error_w) = pipe().map_err(setup)?;
        let filter = super::filter::build();
        let fds = (pid_w.as_raw_fd(), go_r.as_raw_fd(), error_w.as_raw_fd());
        sys::install_handoff(command, fds, filter, exec);
        let (started_tx, started) = mpsc::channel();
        let (status_tx, status) = mpsc::channel();
        let tracer = std::thread::Builder::new()
            .name("tracer".into())
            .spawn(move || {
                let (start, pid) = seize(pid_r, go_w);
                let _ = started_tx.send(start);
                match pid {
                    Some(pid) => tracer::run(pid, |s| {
                        let _ = status_tx.send(s);
                    }),
                    None => Accesses::default(),
                }
            })
            .map_err(setup)?;
        Ok(Handoff {
            child_ends: vec![pid_w, go_r, error_w],
            exec_error: error_r,
            started,
            status,
            tracer,
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
        let mut file = std::fs::File::from(self.exec_error.try_clone().ok()?);
        file.read_exact(&mut errno).ok()?;
        Some(std::io::Error::from_raw_os_error(i32::from_ne_bytes(errno)))
    }

    /// Whether the child runs traced (known once `spawn` returned).
    pub fn start(&self) -> Start {
        self.started.recv().unwrap_or_else(|_| Start::Untraced("the tracer stopped".into()))
    }

    /// The traced command's wait status (only when traced).
    pub fn wait_root(&self) -> Option<i32> {
        self.status.recv().ok()
    }

    /// What was touched, once every traced process has exited.
    pub fn finish(self) -> Accesses {
        self.tracer.join().unwrap_or_else(|_| Accesses {
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
