//! The tracer's event loop: the tracer process (see `spawn`) that seized
//! the command waits for every stop of it and its descendants (forks,
//! clones, threads and execs are followed by the ptrace options), records
//! the paths of the stopped system calls, and resumes each stop as if
//! nobody were watching: signals are delivered again, group-stops are left
//! in place with `PTRACE_LISTEN` so job control behaves, and what was
//! touched is reported the moment the command exits.
//!
//! The working directory of a process is read from `/proc/PID/cwd` when a
//! relative path needs it, and cached until any traced process calls
//! `chdir`/`fchdir` (threads may share it); a directory descriptor is read
//! from `/proc/PID/fd/N`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use super::decode::{self, Op, PathArg, Use, AT_FDCWD};
use super::sys;

/// Longest path read from a tracee (`PATH_MAX`).
const PATH_MAX: usize = 4096;

/// Everything the traced processes touched, as absolute paths.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Accesses {
    pub inputs: BTreeMap<PathBuf, BTreeSet<Use>>,
    pub outputs: BTreeSet<PathBuf>,
    /// Files read before the run first wrote them (`.git/index` under
    /// `git status`): inputs although written, checked as the run left them.
    pub read_first: BTreeSet<PathBuf>,
    /// Why the trace cannot be trusted, when it cannot.
    pub incomplete: Option<String>,
}

impl Accesses {
    fn input(&mut self, path: PathBuf, used: Use) {
        if used == Use::Read && !self.outputs.contains(&path) {
            self.read_first.insert(path.clone());
        }
        self.inputs.entry(path).or_default().insert(used);
    }

    /// Whether `path` is the run's own output (or under one), not an input.
    pub fn is_output(&self, path: &Path) -> bool {
        !self.read_first.contains(path) && path.ancestors().any(|p| self.outputs.contains(p))
    }

    fn incomplete(&mut self, why: String) {
        self.incomplete.get_or_insert(why);
    }
}

struct Tracer {
    root: i32,
    cwds: HashMap<i32, PathBuf>,
    accesses: Accesses,
    /// Whether we may exec a set-user-ID program without changing it.
    root_user: bool,
}

/// Traces the seized `root` until every traced process has exited; calls
/// `on_exit` with the root's wait status and what was touched as soon as
/// the root exits. What processes left running afterwards touch is not
/// recorded: the run's result is complete; they are only kept going.
pub fn run(root: i32, on_exit: impl FnOnce(i32, &Accesses)) {
    let mut tracer = Tracer {
        root,
        cwds: HashMap::new(),
        accesses: Accesses::default(),
        root_user: sys::is_root(),
    };
    let mut on_exit = Some(on_exit);
    // Until ECHILD: nothing left to wait for.
    while let Ok((pid, status)) = sys::wait_any() {
        if libc::WIFEXITED(status) || libc::WIFSIGNALED(status) {
            tracer.cwds.remove(&pid);
            if pid == tracer.root {
                if let Some(report) = on_exit.take() {
                    report(status, &tracer.accesses);
                }
            }
            continue;
        }
        if !libc::WIFSTOPPED(status) {
            continue;
        }
        let signal = libc::WSTOPSIG(status);
        let resumed = match sys::event_of(status) {
            libc::PTRACE_EVENT_SECCOMP => {
                if on_exit.is_some() {
                    tracer.on_syscall(pid);
                }
                sys::cont(pid, 0)
            }
            _ if sys::is_event_stop(status) => {
                if matches!(signal, libc::SIGSTOP | libc::SIGTSTP | libc::SIGTTIN | libc::SIGTTOU) {
                    // A group-stop: stay stopped until SIGCONT, as untraced.
                    sys::listen(pid)
                } else {
                    // The first stop of a new tracee.
                    sys::cont(pid, 0)
                }
            }
            // A signal-delivery-stop: deliver the signal after all.
            0 => sys::cont(pid, signal),
            // Fork, clone, exec events.
            _ => sys::cont(pid, 0),
        };
        // ESRCH: killed meanwhile (SIGKILL); its exit is still reported.
        let _ = resumed;
    }
    if let Some(report) = on_exit.take() {
        // The root was never seen to exit (it was not ours to wait for).
        tracer.accesses.incomplete("the command's exit was not seen".into());
        report(-1, &tracer.accesses);
    }
}

impl Tracer {
    fn on_syscall(&mut self, pid: i32) {
        let stop = match sys::syscall_info(pid) {
            Ok(stop) => stop,
            Err(e) => return self.accesses.incomplete(format!("cannot read a system call: {e}")),
        };
        let op = match decode::decode(&stop) {
            Op::Input(path, _) if stop.nr as i64 == libc::SYS_openat2 => {
                // open_how.flags is the first u64 of the struct.
                match sys::read_u64(pid, stop.args[2]) {
                    Ok(flags) => decode::openat2_flags(path, flags),
                    Err(_) => return,
                }
            }
            op => op,
        };
        match op {
            Op::Input(arg, used) => {
                let Some(path) = self.path(pid, arg) else { return };
                if used == Use::Read && is_exec(stop.nr) && !self.root_user && is_setid(&path) {
                    // Under a non-root tracer the kernel drops its privileges.
                    let why = format!("{} is set-user-ID or set-group-ID", path.display());
                    self.accesses.incomplete(why);
                }
                if used == Use::Read && is_exec(stop.nr) {
                    self.interpreters(pid, &path);
                }
                self.accesses.input(path, used);
            }
            Op::Output(args) => {
                for arg in args {
                    if let Some(path) = self.path(pid, arg) {
                        self.accesses.outputs.insert(path);
                    }
                }
            }
            Op::Create(arg) => self.create(pid, arg),
            Op::Update(arg) => {
                let Some(path) = self.path(pid, arg) else { return };
                // Existing and not the run's own: its content is read too.
                if !self.accesses.is_output(&path) && std::fs::metadata(&path).is_ok() {
                    self.accesses.input(path.clone(), Use::Read);
                }
                self.accesses.outputs.insert(path);
            }
            Op::Link(old, new) => {
                if let Some(path) = self.path(pid, old) {
                    self.accesses.input(path, Use::Read);
                }
                self.create(pid, new);
            }
            Op::List(fd) => {
                if let Some(dir) = self.fd_path(pid, fd) {
                    self.accesses.input(dir, Use::List);
                }
            }
            Op::Chdir => self.cwds.clear(),
            Op::Nothing => {}
            Op::Unknown => {
                let why = format!("system call {} of architecture {:#x}", stop.nr, stop.arch);
                self.accesses.incomplete(format!("cannot decode {why}"));
            }
        }
    }

    /// The interpreters of an executed `#!` script (opened by the kernel,
    /// not by a system call the filter sees): executed, so inputs too.
    fn interpreters(&mut self, pid: i32, script: &Path) {
        let mut script = script.to_path_buf();
        for _ in 0..super::shebang::MAX_DEPTH {
            let Some(name) = super::shebang::interpreter(&script) else { return };
            let interpreter = if name.starts_with(b"/") {
                super::paths::join(Path::new("/"), &name)
            } else {
                let Some(cwd) = self.cwd(pid) else { return };
                super::paths::join(&cwd, &name)
            };
            self.accesses.input(interpreter.clone(), Use::Read);
            script = interpreter;
        }
    }

    /// An exclusive create (the call has not run yet): an output unless the
    /// path exists already, when the call fails with EEXIST.
    fn create(&mut self, pid: i32, arg: PathArg) {
        if let Some(path) = self.path(pid, arg) {
            if std::fs::symlink_metadata(&path).is_err() {
                self.accesses.outputs.insert(path);
            }
        }
    }

    /// The absolute path a path argument names, as the process sees it now.
    fn path(&mut self, pid: i32, arg: PathArg) -> Option<PathBuf> {
        if arg.addr == 0 {
            return None;
        }
        let raw = sys::read_cstring(pid, arg.addr, PATH_MAX).ok()?;
        if raw.first() == Some(&b'/') {
            return Some(super::paths::join(Path::new("/"), &raw));
        }
        let base =
            if arg.dirfd == AT_FDCWD { self.cwd(pid)? } else { self.fd_path(pid, arg.dirfd)? };
        Some(super::paths::join(&base, &raw))
    }

    fn cwd(&mut self, pid: i32) -> Option<PathBuf> {
        if let Some(cwd) = self.cwds.get(&pid) {
            return Some(cwd.clone());
        }
        match std::fs::read_link(format!("/proc/{pid}/cwd")) {
            Ok(cwd) => {
                self.cwds.insert(pid, cwd.clone());
                Some(cwd)
            }
            Err(e) => {
                // A relative path we cannot place: the trace would miss it.
                self.accesses.incomplete(format!("cannot read the working directory: {e}"));
                None
            }
        }
    }

    fn fd_path(&mut self, pid: i32, fd: i32) -> Option<PathBuf> {
        let path = std::fs::read_link(format!("/proc/{pid}/fd/{fd}")).ok()?;
        // Sockets, pipes and deleted files are not paths.
        path.is_absolute().then_some(path)
    }
}

fn is_exec(nr: u64) -> bool {
    let nr = nr as i64;
    nr == libc::SYS_execve || nr == libc::SYS_execveat
}

/// Whether exec'ing `path` would change our privileges.
pub fn is_setid(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & (libc::S_ISUID | libc::S_ISGID) != 0)
}
