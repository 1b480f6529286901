//! Unbuffered, complete writes to our own stdout and stderr. `std::io::stdout()`
//! is line-buffered, which would hold back a command's partial lines
//! (progress output) and add a copy. Every write here either delivers all
//! its bytes or reports why: a non-blocking descriptor (as CI runners leave
//! them) that is momentarily full is waited on, never cut short, and a
//! descriptor the caller closed fails with EBADF even though `startup`
//! parked /dev/null on it.

use std::os::fd::BorrowedFd;
use std::sync::atomic::{AtomicU8, Ordering};

use rustix::event::{poll, PollFd, PollFlags};
use rustix::io::Errno;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Stdout,
    Stderr,
}

impl Output {
    fn fd(self) -> i32 {
        match self {
            Output::Stdout => 1,
            Output::Stderr => 2,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Output::Stdout => "stdout",
            Output::Stderr => "stderr",
        }
    }
}

/// Bit N set: the caller started us with descriptor N (0-2) closed.
static CLOSED: AtomicU8 = AtomicU8::new(0);

/// Remembers that the caller closed descriptor `fd` (0, 1 or 2).
pub fn note_closed(fd: i32) {
    if (0..3).contains(&fd) {
        CLOSED.fetch_or(1 << fd, Ordering::Relaxed);
    }
}

/// Which of descriptors 0-2 the caller closed, as a bit mask.
pub fn closed_mask() -> u8 {
    CLOSED.load(Ordering::Relaxed)
}

pub fn was_closed(fd: i32) -> bool {
    closed_mask() & (1 << fd) != 0
}

/// Our descriptor 1 or 2, borrowed for the life of the process (`startup`
/// keeps both open).
pub fn fd(output: Output) -> BorrowedFd<'static> {
    match output {
        Output::Stdout => rustix::stdio::stdout(),
        Output::Stderr => rustix::stdio::stderr(),
    }
}

/// A failed write to the caller, naming the stream.
#[derive(Debug, thiserror::Error)]
#[error("write error on {}: {error}", output.name())]
pub struct WriteError {
    pub output: Output,
    pub error: std::io::Error,
}

impl WriteError {
    pub fn new(output: Output, error: impl Into<std::io::Error>) -> WriteError {
        WriteError { output, error: error.into() }
    }

    /// The reader went away: the caller chose to stop reading, which is
    /// not a failure to report (as with `cmd | head -1`).
    pub fn is_broken_pipe(&self) -> bool {
        self.error.kind() == std::io::ErrorKind::BrokenPipe
    }

    /// Says what failed, in one line, and gives our status for it.
    pub fn report(&self) -> i32 {
        message(format_args!("cachecmd: {self}"));
        crate::exit_codes::WRITE_FAILED
    }
}

/// Fails when the caller closed this descriptor.
pub fn check_open(output: Output) -> Result<(), WriteError> {
    if was_closed(output.fd()) {
        return Err(WriteError::new(output, Errno::BADF));
    }
    Ok(())
}

/// Writes all of `bytes`, waiting out EAGAIN and EINTR.
pub fn write_all(output: Output, mut bytes: &[u8]) -> Result<(), WriteError> {
    check_open(output)?;
    let out = fd(output);
    while !bytes.is_empty() {
        match rustix::io::write(out, bytes) {
            Ok(0) => return Err(WriteError::new(output, std::io::ErrorKind::WriteZero)),
            Ok(n) => bytes = &bytes[n..],
            Err(Errno::INTR) => {}
            Err(Errno::AGAIN) => wait_writable(output)?,
            Err(e) => return Err(WriteError::new(output, e)),
        }
    }
    Ok(())
}

/// Blocks until `output` accepts more bytes (a non-blocking pipe drained).
pub fn wait_writable(output: Output) -> Result<(), WriteError> {
    let out = fd(output);
    let mut fds = [PollFd::new(&out, PollFlags::OUT)];
    loop {
        match poll(&mut fds, None) {
            Ok(_) => return Ok(()),
            Err(Errno::INTR) => {}
            Err(e) => return Err(WriteError::new(output, e)),
        }
    }
}

/// Writes one line of ours to stderr. Unlike `eprintln!`, which panics
/// (and so aborts) when stderr fails, a failure here is ignored: the exit
/// status already says what went wrong.
pub fn message(line: std::fmt::Arguments<'_>) {
    let text = format!("{line}\n");
    let _ = write_all(Output::Stderr, text.as_bytes());
}

/// Whether a command's output may be passed to our stdout with `tee(2)`,
/// page references instead of a copy: stdout is a blocking pipe we were
/// given open, and stderr is not that same pipe (a caller that merged the
/// two sees their order, and only the writer's single order keeps it). A
/// pipe the caller made non-blocking keeps the write path, the one its
/// tests pin down.
pub fn stdout_accepts_tee() -> bool {
    use rustix::fs::{fcntl_getfl, fstat, FileType, OFlags};
    if check_open(Output::Stdout).is_err() {
        return false;
    }
    let Ok(out) = fstat(fd(Output::Stdout)) else { return false };
    if FileType::from_raw_mode(out.st_mode) != FileType::Fifo {
        return false;
    }
    if fcntl_getfl(fd(Output::Stdout)).map_or(true, |flags| flags.contains(OFlags::NONBLOCK)) {
        return false;
    }
    let merged = !was_closed(2)
        && fstat(fd(Output::Stderr))
            .is_ok_and(|err| (err.st_dev, err.st_ino) == (out.st_dev, out.st_ino));
    !merged
}

/// Duplicates up to `len` bytes waiting in `pipe` onto our stdout without
/// consuming them; the caller then reads exactly that many from `pipe`.
/// Never waits: EAGAIN when our stdout is full (or `pipe` empty).
pub fn tee_to_stdout(pipe: BorrowedFd<'_>, len: usize) -> rustix::io::Result<usize> {
    let flags = rustix::pipe::SpliceFlags::NONBLOCK;
    loop {
        match rustix::pipe::tee(pipe, fd(Output::Stdout), len, flags) {
            Err(Errno::INTR) => {}
            other => return other,
        }
    }
}
