//! Unbuffered access to our own stdout and stderr. `std::io::stdout()` is
//! line-buffered, which would hold back a command's partial lines (progress
//! output) and add a copy; writing to the descriptors directly also lets
//! `std::io::copy` use kernel copies (splice, sendfile, copy_file_range).

use std::fs::File;
use std::io::Write;
use std::mem::ManuallyDrop;
use std::os::fd::FromRawFd;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Stdout,
    Stderr,
}

/// Our descriptor 1 or 2 as a `File` that is never closed by us.
pub fn file(output: Output) -> ManuallyDrop<File> {
    let fd = match output {
        Output::Stdout => 1,
        Output::Stderr => 2,
    };
    // SAFETY: descriptors 1 and 2 stay open for the life of the process (or
    // writes to them fail with EBADF, which callers handle); ManuallyDrop
    // guarantees we never close them.
    ManuallyDrop::new(unsafe { File::from_raw_fd(fd) })
}

pub fn write_all(output: Output, bytes: &[u8]) -> std::io::Result<()> {
    let mut out = file(output);
    out.write_all(bytes)
}

/// While a child runs, Ctrl-C and Ctrl-\ are for the child: it gets them
/// from the terminal itself, and we must outlive it to report its status.
pub fn ignore_terminal_signals() {
    // SAFETY: setting a signal to SIG_IGN has no preconditions.
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_IGN);
        libc::signal(libc::SIGQUIT, libc::SIG_IGN);
    }
}
