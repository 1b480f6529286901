//! Writes a verified entry back: stdout bytes, then stderr bytes, then the
//! caller gets the recorded exit code. Large entries go through
//! `std::io::copy` from the file, which on Linux becomes splice/sendfile/
//! copy_file_range: no userspace copy and constant memory.

use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;

use crate::stdio::{self, Output};
use crate::store::StoredEntry;

/// Replays `entry`. A reader that goes away (`| head -1`) ends the replay
/// quietly; the result is still the recorded exit code, as the command's
/// result does not depend on how much of it the caller chose to read.
pub fn replay(entry: &StoredEntry) -> i32 {
    let header = &entry.header;
    let _ = write_region(entry, header.stdout_range(), Output::Stdout)
        .and_then(|()| write_region(entry, header.stderr_range(), Output::Stderr));
    header.exit_code
}

/// One of an entry's two recorded streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// Writes one stored stream to our stdout (`show --stdout`/`--stderr`).
pub fn write_stream(entry: &StoredEntry, stream: Stream) -> std::io::Result<()> {
    let range = match stream {
        Stream::Stdout => entry.header.stdout_range(),
        Stream::Stderr => entry.header.stderr_range(),
    };
    write_region(entry, range, Output::Stdout)
}

fn write_region(entry: &StoredEntry, range: Range<u64>, output: Output) -> std::io::Result<()> {
    if range.is_empty() {
        return Ok(());
    }
    if let Some(contents) = &entry.contents {
        return stdio::write_all(output, &contents[range.start as usize..range.end as usize]);
    }
    let sent = sendfile(&entry.file, range.clone(), output)?;
    let rest = sent..range.end;
    if rest.is_empty() {
        return Ok(());
    }
    let mut file = &entry.file;
    file.seek(SeekFrom::Start(rest.start))?;
    let len = rest.end - rest.start;
    let copied = std::io::copy(&mut Read::take(file, len), &mut *stdio::file(output))?;
    if copied == len {
        Ok(())
    } else {
        Err(std::io::ErrorKind::UnexpectedEof.into())
    }
}

/// Copies `range` of the entry to `output` with `sendfile(2)`, returning how
/// far it got; the caller copies any rest in userspace.
///
/// std's `io::copy` will not sendfile/splice from a regular file into a pipe,
/// because the pipe then shares the file's page-cache pages and a later write
/// to the file would show through. Entries are never written in place (only
/// replaced by rename), so that cannot happen here, and the zero-copy path is
/// what lets a large hit beat `cat`.
fn sendfile(file: &std::fs::File, range: Range<u64>, output: Output) -> std::io::Result<u64> {
    use std::os::fd::AsRawFd;
    let out_fd = stdio::file(output).as_raw_fd();
    let mut offset = range.start as libc::off_t;
    while (offset as u64) < range.end {
        let chunk = (range.end - offset as u64).min(1 << 30) as usize;
        // SAFETY: both descriptors are open for the duration of the call and
        // `offset` is a valid pointer; the kernel updates it past the bytes sent.
        let sent = unsafe { libc::sendfile(out_fd, file.as_raw_fd(), &mut offset, chunk) };
        match sent {
            0 => break,
            n if n > 0 => {}
            _ => {
                let error = std::io::Error::last_os_error();
                match error.raw_os_error() {
                    Some(libc::EINTR) | Some(libc::EAGAIN) => continue,
                    // Not supported for this output: copy the rest in userspace.
                    Some(libc::EINVAL) | Some(libc::ENOSYS) => break,
                    _ => return Err(error),
                }
            }
        }
    }
    Ok(offset as u64)
}
