//! The irreducible unsafe process code, in one place (the part a macOS/BSD
//! port would change): the dispositions inherited at start-up, the signal
//! relay, what a child needs between fork and exec, and dying by a signal.
//!
//! Signals behave as with GNU `timeout`: SIGTERM, SIGHUP, SIGINT and SIGQUIT
//! that reach cachecmd while a command runs are passed on to it; cachecmd
//! waits for it, never caches the run, and then dies by the same signal so
//! that a calling shell sees exactly what it would without us.
//!
//! The relay rule: a signal sent with kill(2) to our PID (si_code SI_USER or
//! SI_QUEUE) is relayed; one the terminal generated (Ctrl-C, Ctrl-\, a hang-up:
//! si_code SI_KERNEL) is not, because the terminal already sent it to the
//! whole foreground process group, which the command shares with us. A
//! kill(2) to our process group reaches the command twice; a command that
//! counts SIGINTs is the only one that can tell.

use std::ffi::c_int;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};

use crate::exec::stdio;

/// Relayed to the command while it runs.
const RELAYED: [c_int; 4] = [libc::SIGTERM, libc::SIGHUP, libc::SIGINT, libc::SIGQUIT];
/// Ignored by cachecmd itself (a vanished reader must be EPIPE, a file size
/// limit EFBIG); the command gets the caller's disposition back.
const IGNORED_BY_US: [c_int; 2] = [libc::SIGPIPE, libc::SIGXFSZ];
/// `si_code` of a signal the kernel generated (the terminal's, on Linux).
const SI_KERNEL: c_int = 0x80;

/// Bit N: the caller had signal N ignored when it started us.
static INHERITED_IGNORED: AtomicU64 = AtomicU64::new(0);
static MAIN_PID: AtomicI32 = AtomicI32::new(0);
/// The running command, or 0 between commands.
static CHILD: AtomicI32 = AtomicI32::new(0);
/// The first relayed signal we received, or 0.
static INTERRUPTED: AtomicI32 = AtomicI32::new(0);
/// A kill(2) signal that arrived while no command ran yet.
static PENDING_RELAY: AtomicI32 = AtomicI32::new(0);
static RELAY_INSTALLED: AtomicBool = AtomicBool::new(false);

/// Start-up: keep descriptors 0-2 occupied (remembering which were
/// closed), note the inherited dispositions, ignore SIGPIPE and SIGXFSZ.
pub fn startup() {
    // Descriptors 0-2 must be open: otherwise the first file we open (a lock
    // file, an entry) would become "stdout" and receive replayed output.
    let mut fds = [0, 1, 2].map(|fd| libc::pollfd { fd, events: 0, revents: 0 });
    // SAFETY: `fds` is a valid array of three pollfd structs.
    let polled = unsafe { libc::poll(fds.as_mut_ptr(), 3, 0) };
    if polled > 0 {
        for pollfd in fds.iter().filter(|p| p.revents & libc::POLLNVAL != 0) {
            stdio::note_closed(pollfd.fd);
            let flags = if pollfd.fd == 0 { libc::O_RDONLY } else { libc::O_WRONLY };
            // SAFETY: a NUL-terminated path; open returns the lowest free
            // descriptor, which is the closed one we are filling.
            unsafe { libc::open(c"/dev/null".as_ptr(), flags) };
        }
    }
    // SAFETY: getpid has no preconditions.
    MAIN_PID.store(unsafe { libc::getpid() }, Ordering::Relaxed);
    let mut ignored = 0u64;
    for signal in RELAYED.into_iter().chain(IGNORED_BY_US) {
        // SAFETY: sigaction is plain data, for which all zeroes is valid.
        let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
        // SAFETY: a null new action only queries; `old` is a valid out pointer.
        let queried = unsafe { libc::sigaction(signal, std::ptr::null(), &mut old) };
        if queried == 0 && old.sa_sigaction == libc::SIG_IGN {
            ignored |= 1 << signal;
        }
    }
    INHERITED_IGNORED.store(ignored, Ordering::Relaxed);
    // SAFETY: setting a signal to SIG_IGN has no preconditions.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

fn inherited_ignored(signal: c_int) -> bool {
    INHERITED_IGNORED.load(Ordering::Relaxed) & (1 << signal) != 0
}

/// Restores the default SIGPIPE for a subcommand that prints a report
/// (`cachecmd list | head` should end quietly, as `ls` does).
pub fn default_sigpipe() {
    if !inherited_ignored(libc::SIGPIPE) {
        // SAFETY: restoring the default disposition has no preconditions.
        unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    }
}

/// Installs the relay (once). Signals the caller ignored stay ignored, for
/// us and the command alike.
pub fn install_relay() {
    if RELAY_INSTALLED.swap(true, Ordering::Relaxed) {
        return;
    }
    for signal in RELAYED.into_iter().filter(|s| !inherited_ignored(*s)) {
        // SAFETY: `action` is fully initialised; `relay` is an
        // async-signal-safe handler with the SA_SIGINFO signature.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = relay as *const () as libc::sighandler_t;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
}

/// The handler: only atomics, getpid, kill, signal and raise, all
/// async-signal-safe.
extern "C" fn relay(signal: c_int, info: *mut libc::siginfo_t, _context: *mut libc::c_void) {
    // SAFETY: getpid has no preconditions.
    if unsafe { libc::getpid() } != MAIN_PID.load(Ordering::Relaxed) {
        // A forked child before exec: act as the exec'd command would.
        // SAFETY: signal and raise are async-signal-safe.
        unsafe {
            libc::signal(signal, libc::SIG_DFL);
            libc::raise(signal);
        }
        return;
    }
    let _ = INTERRUPTED.compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst);
    // SAFETY: with SA_SIGINFO the kernel passes a valid siginfo.
    if info.is_null() || unsafe { (*info).si_code } == SI_KERNEL {
        return;
    }
    match CHILD.load(Ordering::SeqCst) {
        // SAFETY: kill has no memory preconditions; `pid` is our child.
        pid if pid > 0 => unsafe {
            libc::kill(pid, signal);
        },
        _ => PENDING_RELAY.store(signal, Ordering::SeqCst),
    }
}

/// Names the running command (`None` when it has ended), relaying a
/// signal that arrived while it was being started.
pub fn set_child(pid: Option<u32>) {
    let pid = pid.and_then(|p| i32::try_from(p).ok()).unwrap_or(0);
    CHILD.store(pid, Ordering::SeqCst);
    let pending = PENDING_RELAY.swap(0, Ordering::SeqCst);
    if pid > 0 && pending != 0 {
        // SAFETY: kill has no memory preconditions; `pid` is our child.
        unsafe { libc::kill(pid, pending) };
    }
}

/// The signal that interrupted a command run, if any.
pub fn interrupted() -> Option<i32> {
    Some(INTERRUPTED.load(Ordering::SeqCst)).filter(|s| *s != 0)
}

/// Has `command`'s child, between fork and exec, restore the caller's
/// dispositions for the signals we ignore (exec itself resets our handlers
/// to the default) and close again the caller's descriptors in `closed`
/// (bit n for descriptor n).
pub fn restore_caller_state(command: &mut std::process::Command, closed: u8) {
    use std::os::unix::process::CommandExt;
    // SAFETY: the closure runs between fork and exec, where only
    // async-signal-safe calls are allowed: child_setup makes only signal(2)
    // and close(2) calls, and touches no lock or allocation.
    unsafe { command.pre_exec(move || child_setup(closed)) };
}

/// Has `command`'s child start a new session with no descriptor but 0-2.
pub fn detach(command: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: the hook runs between fork and exec: detach_setup makes only
    // the async-signal-safe setsid(2) and close_range(2) calls.
    unsafe { command.pre_exec(detach_setup) };
}

/// In the child, between fork and exec: see `restore_caller_state`.
/// Async-signal-safe.
fn child_setup(closed: u8) -> std::io::Result<()> {
    for signal in IGNORED_BY_US {
        let disposition = if inherited_ignored(signal) { libc::SIG_IGN } else { libc::SIG_DFL };
        // SAFETY: signal(2) is async-signal-safe.
        unsafe { libc::signal(signal, disposition) };
    }
    for fd in (0..3).filter(|fd| closed & (1 << fd) != 0) {
        // SAFETY: close(2) is async-signal-safe; the descriptor holds our
        // /dev/null placeholder, which the command must not see.
        unsafe { libc::close(fd) };
    }
    Ok(())
}

/// In a detached helper, between fork and exec: a new session, and no
/// descriptor but 0-2. Descriptors std opened are close-on-exec already;
/// close_range also drops any our own parent passed us.
fn detach_setup() -> std::io::Result<()> {
    // SAFETY: setsid and close_range are async-signal-safe system calls
    // that touch no memory of ours.
    unsafe {
        libc::setsid();
        libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32);
    }
    Ok(())
}

/// Dies by `signal`, as the command did or would have.
pub fn die_by(signal: i32) -> ! {
    // SAFETY: restoring the default disposition and raising have no
    // preconditions; the signal is unblocked so raise takes effect.
    unsafe {
        libc::signal(signal, libc::SIG_DFL);
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, signal);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        libc::raise(signal);
    }
    std::process::exit(128 + signal)
}
