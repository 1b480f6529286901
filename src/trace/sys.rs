//! The raw system calls of tracing, in one place: installing the seccomp
//! filter and the hand-off in the child between fork and exec, and the
//! tracer's ptrace requests, waits and reads of tracee memory. Everything
//! here is a thin wrapper; the logic is in the modules that call it.

use std::ffi::{c_int, c_long, c_void, CStr};
use std::io;
use std::os::fd::RawFd;

/// What the kernel says about a seccomp stop (`PTRACE_GET_SYSCALL_INFO`,
/// Linux 5.3): the system call's architecture, number and arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyscallStop {
    pub arch: u32,
    pub nr: u64,
    pub args: [u64; 6],
}

/// `struct ptrace_syscall_info` with the seccomp member of its union.
#[repr(C)]
#[derive(Default)]
struct RawSyscallInfo {
    op: u8,
    pad: [u8; 3],
    arch: u32,
    instruction_pointer: u64,
    stack_pointer: u64,
    nr: u64,
    args: [u64; 6],
    ret_data: u32,
    pad2: u32,
}

const PTRACE_SYSCALL_INFO_SECCOMP: u8 = 3;
const PTRACE_EVENT_STOP: c_int = 128;

/// The options every tracee gets: follow every new process and thread and
/// exec, report seccomp stops, and die with the tracer (a tracee left
/// without its tracer would see ENOSYS from every filtered call).
const OPTIONS: c_long = (libc::PTRACE_O_TRACEFORK
    | libc::PTRACE_O_TRACEVFORK
    | libc::PTRACE_O_TRACECLONE
    | libc::PTRACE_O_TRACEEXEC
    | libc::PTRACE_O_TRACESECCOMP
    | libc::PTRACE_O_EXITKILL) as c_long;

fn check(result: c_long) -> io::Result<()> {
    if result == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Attaches to `pid` without stopping it, with the options above.
pub fn seize(pid: i32) -> io::Result<()> {
    // SAFETY: PTRACE_SEIZE takes no pointer; `data` carries the options.
    check(unsafe { libc::ptrace(libc::PTRACE_SEIZE, pid, std::ptr::null_mut::<c_void>(), OPTIONS) })
}

/// Resumes a stopped tracee, delivering `signal` (0: none).
pub fn cont(pid: i32, signal: i32) -> io::Result<()> {
    // SAFETY: PTRACE_CONT takes no pointer; `data` is the signal number.
    check(unsafe {
        libc::ptrace(libc::PTRACE_CONT, pid, std::ptr::null_mut::<c_void>(), signal as c_long)
    })
}

/// Leaves a tracee in its group-stop (job control) while letting it be
/// continued by SIGCONT.
pub fn listen(pid: i32) -> io::Result<()> {
    // SAFETY: PTRACE_LISTEN takes no pointer.
    check(unsafe {
        libc::ptrace(libc::PTRACE_LISTEN, pid, std::ptr::null_mut::<c_void>(), 0 as c_long)
    })
}

/// The system call a tracee in a seccomp stop is making.
pub fn syscall_info(pid: i32) -> io::Result<SyscallStop> {
    let mut info = RawSyscallInfo::default();
    let size = std::mem::size_of::<RawSyscallInfo>();
    // SAFETY: the kernel writes at most `size` bytes into `info`, a live
    // repr(C) struct of that size laid out as its ptrace_syscall_info.
    let written = unsafe {
        libc::ptrace(
            libc::PTRACE_GET_SYSCALL_INFO,
            pid,
            size as *mut c_void,
            &mut info as *mut RawSyscallInfo as c_long,
        )
    };
    if written == -1 {
        return Err(io::Error::last_os_error());
    }
    if info.op != PTRACE_SYSCALL_INFO_SECCOMP {
        return Err(io::Error::other("not a seccomp stop"));
    }
    Ok(SyscallStop { arch: info.arch, nr: info.nr, args: info.args })
}

/// One wait status of any tracee or child (`__WALL`: threads too).
pub fn wait_any() -> io::Result<(i32, c_int)> {
    loop {
        let mut status: c_int = 0;
        // SAFETY: `status` is a valid out pointer.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::__WALL) };
        if pid >= 0 {
            return Ok((pid, status));
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

/// The ptrace event of a stop status (`status >> 16`), 0 for none.
pub fn event_of(status: c_int) -> c_int {
    (status >> 16) & 0xffff
}

pub fn is_event_stop(status: c_int) -> bool {
    event_of(status) == PTRACE_EVENT_STOP
}

/// Reads a NUL-terminated string of at most `max` bytes at `addr` in
/// `pid`'s memory, a page at a time (a string may end just before an
/// unmapped page).
pub fn read_cstring(pid: i32, addr: u64, max: usize) -> io::Result<Vec<u8>> {
    const PAGE: u64 = 4096;
    let mut out = Vec::new();
    let mut at = addr;
    while out.len() < max {
        let chunk = ((PAGE - at % PAGE) as usize).min(max - out.len());
        let start = out.len();
        out.resize(start + chunk, 0);
        let local = libc::iovec { iov_base: out[start..].as_mut_ptr().cast(), iov_len: chunk };
        let remote = libc::iovec { iov_base: at as *mut c_void, iov_len: chunk };
        // SAFETY: `local` points at `chunk` writable bytes of `out`; the
        // remote address is only read by the kernel, which checks it.
        let read = unsafe { libc::process_vm_readv(pid, &local, 1, &remote, 1, 0) };
        if read <= 0 {
            return Err(io::Error::last_os_error());
        }
        out.truncate(start + read as usize);
        if let Some(nul) = out[start..].iter().position(|&b| b == 0) {
            out.truncate(start + nul);
            return Ok(out);
        }
        at += read as u64;
    }
    Err(io::Error::other("path too long"))
}

/// Reads a u64 at `addr` in `pid`'s memory.
pub fn read_u64(pid: i32, addr: u64) -> io::Result<u64> {
    let mut value = [0u8; 8];
    let local = libc::iovec { iov_base: value.as_mut_ptr().cast(), iov_len: 8 };
    let remote = libc::iovec { iov_base: addr as *mut c_void, iov_len: 8 };
    // SAFETY: `local` points at 8 writable bytes; the kernel checks `remote`.
    let read = unsafe { libc::process_vm_readv(pid, &local, 1, &remote, 1, 0) };
    if read != 8 {
        return Err(io::Error::last_os_error());
    }
    Ok(u64::from_ne_bytes(value))
}

/// Whether we run as root (then seccomp needs no `no_new_privs`, and
/// set-user-ID programs keep working under ptrace).
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Forks the tracer process. The child, in a process group of its own and
/// ignoring the terminal's signals (a Ctrl-C, Ctrl-Z or hang-up must not
/// end or stop it while it serves what the command left running), with
/// /dev/null as 0-2 and no descriptor but `keep` (it must hold no lock or
/// pipe of cachecmd's), runs `body` and exits; the parent gets its pid.
/// (Not a session of its own: that would also put it in a scheduling
/// autogroup of its own, and every stop would wake it across groups, a
/// quarter slower on a traced `make`.)
pub fn fork_tracer(keep: &[RawFd], body: impl FnOnce()) -> io::Result<i32> {
    // SAFETY: the child runs only `body` (cachecmd's other threads, if
    // any, hold no lock it takes: the tee has not started) and `_exit`s.
    match unsafe { libc::fork() } {
        -1 => Err(io::Error::last_os_error()),
        0 => {
            // SAFETY: setpgid and signal take integers only.
            unsafe {
                libc::setpgid(0, 0);
                for signal in [
                    libc::SIGINT,
                    libc::SIGQUIT,
                    libc::SIGHUP,
                    libc::SIGTSTP,
                    libc::SIGTTIN,
                    libc::SIGTTOU,
                ] {
                    libc::signal(signal, libc::SIG_IGN);
                }
            }
            isolate(keep);
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body));
            // SAFETY: _exit never returns.
            unsafe { libc::_exit(0) }
        }
        pid => Ok(pid),
    }
}

/// /dev/null on 0-2, and every descriptor from 3 up closed except `keep`.
fn isolate(keep: &[RawFd]) {
    // SAFETY: opens a NUL-terminated path; dup2 and close take integers.
    unsafe {
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        if null >= 0 {
            for fd in 0..3 {
                libc::dup2(null, fd);
            }
            if null > 2 {
                libc::close(null);
            }
        }
    }
    let mut keep: Vec<u32> = keep.iter().filter(|&&fd| fd > 2).map(|&fd| fd as u32).collect();
    keep.sort_unstable();
    let mut first = 3;
    for fd in keep {
        if fd > first {
            close_range(first, fd - 1);
        }
        first = fd + 1;
    }
    close_range(first, u32::MAX);
}

fn close_range(first: u32, last: u32) {
    // SAFETY: close_range takes integers only.
    if unsafe { libc::syscall(libc::SYS_close_range, first, last, 0) } == 0 {
        return;
    }
    // Before Linux 5.9: one by one, up to the descriptor limit.
    // SAFETY: sysconf takes an integer.
    let limit = unsafe { libc::sysconf(libc::_SC_OPEN_MAX) }.clamp(0, 1 << 16) as u32;
    for fd in first..=last.min(limit) {
        // SAFETY: closing a descriptor we no longer use.
        unsafe { libc::close(fd as i32) };
    }
}

/// A BPF program ready to install: built before fork, so the child
/// allocates nothing.
pub struct Filter(pub Vec<libc::sock_filter>);

/// The child's ends of the hand-off's pipes.
#[derive(Clone, Copy)]
pub struct HandoffFds {
    /// Our pid, to the tracer.
    pub pid_w: RawFd,
    /// The tracer's answer.
    pub go_r: RawFd,
    /// Whether the filter is installed, to cachecmd.
    pub filter_w: RawFd,
    /// The errno of a failed exec, to cachecmd.
    pub error_w: RawFd,
}

/// Has `command`'s child, between fork and exec, hand itself to the tracer
/// process `tracer` ([`child_handoff`] on the pipe ends `fds`) and exec
/// `exec` itself.
pub fn install_handoff(
    command: &mut std::process::Command,
    tracer: i32,
    fds: HandoffFds,
    filter: Filter,
    exec: ExecArgs,
) {
    use std::os::unix::process::CommandExt;
    let hook = move || -> io::Result<()> {
        // Under Yama's ptrace_scope 1 only an ancestor may trace us, and
        // the tracer is our sibling: name it (EINVAL without Yama).
        // SAFETY: prctl with integer arguments only.
        unsafe { libc::prctl(libc::PR_SET_PTRACER, tracer as libc::c_ulong, 0, 0, 0) };
        child_handoff(&fds, &filter);
        exec.exec(fds.error_w)
    };
    // SAFETY: the hook runs between fork and exec and makes only
    // async-signal-safe calls (getpid, read, write, prctl, seccomp, execvp,
    // _exit) on data built before fork; it never returns.
    unsafe { command.pre_exec(hook) };
}

/// In the child, between fork and exec (async-signal-safe calls only):
/// sends our pid over `pid_w`, waits for the tracer's answer on `go_r`
/// (`G`: it has seized us, `N`: it could not), and when seized installs
/// `filter`, reporting the result on `filter_w` (`S`, or `E` and the
/// errno). Returns whether the filter is installed.
pub fn child_handoff(fds: &HandoffFds, filter: &Filter) -> bool {
    // SAFETY: getpid has no preconditions.
    let pid = unsafe { libc::getpid() }.to_ne_bytes();
    if !write_all(fds.pid_w, &pid) {
        return false;
    }
    let mut answer = [0u8; 1];
    // SAFETY: reads one byte into a live buffer.
    let read = unsafe { libc::read(fds.go_r, answer.as_mut_ptr().cast(), 1) };
    if read != 1 || answer[0] != b'G' {
        return false;
    }
    let prog = libc::sock_fprog {
        len: filter.0.len() as u16,
        filter: filter.0.as_ptr() as *mut libc::sock_filter,
    };
    let install = || {
        // SAFETY: `prog` points at the live filter for the whole call.
        unsafe {
            libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                0,
                &prog as *const libc::sock_fprog,
            )
        }
    };
    let mut result = install();
    if result != 0 {
        // Without CAP_SYS_ADMIN the kernel requires no_new_privs first.
        // SAFETY: prctl with integer arguments only.
        unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) };
        result = install();
    }
    if result == 0 {
        write_all(fds.filter_w, b"S");
        true
    } else {
        let errno = io::Error::last_os_error().raw_os_error().unwrap_or(0);
        let mut message = [b'E', 0, 0, 0, 0];
        message[1..].copy_from_slice(&errno.to_ne_bytes());
        write_all(fds.filter_w, &message);
        false
    }
}

fn write_all(fd: RawFd, bytes: &[u8]) -> bool {
    // SAFETY: writes from a live buffer; pipes take up to PIPE_BUF bytes
    // atomically, far more than we send.
    unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) == bytes.len() as isize }
}

/// In the child: execs `program` with `argv` (a null-terminated array of
/// pointers into CStrings built before fork) searching `$PATH` as std
/// would; on failure writes the errno to `error_w` and exits 127 (the
/// runner reads the errno and reaps the child).
pub fn child_exec(program: &CStr, argv: &[*const libc::c_char], error_w: RawFd) -> ! {
    // SAFETY: both point at NUL-terminated strings and a null-terminated
    // array that outlive the call; execvp returns only on failure.
    unsafe { libc::execvp(program.as_ptr(), argv.as_ptr()) };
    let errno = io::Error::last_os_error().raw_os_error().unwrap_or(libc::ENOEXEC);
    write_all(error_w, &errno.to_ne_bytes());
    // SAFETY: _exit is async-signal-safe and never returns.
    unsafe { libc::_exit(127) }
}

/// A command line as the child's `execvp` takes it, built before fork.
pub struct ExecArgs {
    program: std::ffi::CString,
    _args: Vec<std::ffi::CString>,
    pointers: Vec<*const libc::c_char>,
}

// SAFETY: the raw pointers point into `_args`, owned by the same struct and
// never mutated; sharing or moving them across threads is as safe as
// sharing the CStrings themselves.
unsafe impl Send for ExecArgs {}
// SAFETY: as above; nothing is ever written through the pointers.
unsafe impl Sync for ExecArgs {}

impl ExecArgs {
    /// `None` when an argument holds a NUL byte (std refuses those too).
    pub fn new(argv: &[std::ffi::OsString]) -> Option<ExecArgs> {
        use std::os::unix::ffi::OsStrExt;
        let args: Vec<std::ffi::CString> = argv
            .iter()
            .map(|a| std::ffi::CString::new(a.as_bytes()).ok())
            .collect::<Option<_>>()?;
        let program = args.first()?.clone();
        let mut pointers: Vec<*const libc::c_char> = args.iter().map(|a| a.as_ptr()).collect();
        pointers.push(std::ptr::null());
        Some(ExecArgs { program, _args: args, pointers })
    }

    /// In the child: see [`child_exec`].
    pub fn exec(&self, error_w: RawFd) -> ! {
        child_exec(&self.program, &self.pointers, error_w)
    }
}
