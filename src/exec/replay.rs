//! Writes a verified entry back: its stdout and stderr bytes in the order the
//! command wrote them (the entry's runs), then the caller gets the recorded
//! exit code. Small entries come from memory (one pread); larger ones go
//! through `sendfile(2)` from the file: no userspace copy, constant memory.

use std::ops::Range;
use std::os::fd::AsFd;
use std::os::unix::fs::FileExt;

use rustix::io::Errno;

use crate::entry::Runs;
use crate::exec::stdio::{self, Output, WriteError};
use crate::store::StoredEntry;

/// Replays `entry`. A reader that goes away (`| head -1`) ends that stream
/// quietly; the result is still the recorded exit code, as the command's
/// result does not depend on how much of it the caller chose to read. Any
/// other write failure is reported, with [`crate::exit_codes::WRITE_FAILED`].
pub fn replay(entry: &StoredEntry) -> i32 {
    match replay_runs(entry) {
        Ok(()) => entry.header.exit_code,
        Err(e) => e.report(),
    }
}

fn replay_runs(entry: &StoredEntry) -> Result<(), WriteError> {
    let header = &entry.header;
    let runs = read_runs(entry).unwrap_or_else(|| {
        // Verified but inconsistent (cannot happen for our own writer):
        // the bytes of each stream are still right.
        let mut runs = Runs::default();
        runs.push(false, header.stdout_len);
        runs.push(true, header.stderr_len);
        runs
    });
    let (mut out_at, mut err_at) = (header.stdout_range().start, header.stderr_range().start);
    // A stream that failed is skipped from then on, but the other one still
    // gets all its bytes, as each would when the command runs directly
    // (`echo out; echo err >&2` with `2>/dev/full` still prints `out`).
    let mut gone = [false, false];
    let mut failed = None;
    for run in &runs.0 {
        let (at, output) =
            if run.stderr { (&mut err_at, Output::Stderr) } else { (&mut out_at, Output::Stdout) };
        let range = *at..*at + run.len;
        *at = range.end;
        if gone[run.stderr as usize] {
            continue;
        }
        match write_region(entry, range, output) {
            Ok(()) => {}
            Err(e) => {
                gone[run.stderr as usize] = true;
                if !e.is_broken_pipe() && failed.is_none() {
                    failed = Some(e);
                }
            }
        }
    }
    failed.map_or(Ok(()), Err)
}

/// The entry's runs (already checksummed by the store), or `None` when they
/// cannot be read or do not add up.
fn read_runs(entry: &StoredEntry) -> Option<Runs> {
    let range = entry.header.runs_range();
    let bytes = match &entry.contents {
        Some(contents) => contents.get(range.start as usize..range.end as usize)?.to_vec(),
        None => {
            // Bounded by MAX_RUNS in Header::decode.
            let mut bytes = vec![0u8; usize::try_from(range.end - range.start).ok()?];
            entry.file.read_exact_at(&mut bytes, range.start).ok()?;
            bytes
        }
    };
    Runs::decode(&bytes, &entry.header).ok()
}

/// One of an entry's two recorded streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// Writes one stored stream to our stdout (`show --stdout`/`--stderr`).
pub fn write_stream(entry: &StoredEntry, stream: Stream) -> Result<(), WriteError> {
    let range = match stream {
        Stream::Stdout => entry.header.stdout_range(),
        Stream::Stderr => entry.header.stderr_range(),
    };
    write_region(entry, range, Output::Stdout)
}

fn write_region(entry: &StoredEntry, range: Range<u64>, output: Output) -> Result<(), WriteError> {
    if range.is_empty() {
        return Ok(());
    }
    if let Some(contents) = &entry.contents {
        return stdio::write_all(output, &contents[range.start as usize..range.end as usize]);
    }
    let sent = sendfile(&entry.file, range.clone(), output)?;
    // The rest (sendfile unsupported for this output) through a buffer.
    let mut buf = vec![0u8; (range.end - sent).min(256 * 1024) as usize];
    let mut at = sent;
    while at < range.end {
        let n = (range.end - at).min(buf.len() as u64) as usize;
        entry.file.read_exact_at(&mut buf[..n], at).map_err(|e| WriteError::new(output, e))?;
        stdio::write_all(output, &buf[..n])?;
        at += n as u64;
    }
    Ok(())
}

/// Copies `range` of the entry to `output` with `sendfile(2)`, returning how
/// far it got; the caller copies any rest in userspace. EAGAIN (a full
/// non-blocking output) waits until the output drains, then goes on.
///
/// std's `io::copy` will not sendfile/splice from a regular file into a pipe,
/// because the pipe then shares the file's page-cache pages and a later write
/// to the file would show through. Entries are never written in place (only
/// replaced by rename), so that cannot happen here, and the zero-copy path is
/// what lets a large hit beat `cat`.
fn sendfile(file: &std::fs::File, range: Range<u64>, output: Output) -> Result<u64, WriteError> {
    stdio::check_open(output)?;
    let out = stdio::fd(output);
    let mut offset = range.start;
    while offset < range.end {
        let chunk = (range.end - offset).min(1 << 30) as usize;
        match rustix::fs::sendfile(out, file.as_fd(), Some(&mut offset), chunk) {
            Ok(0) => break,
            Ok(_) => {}
            Err(Errno::INTR) => {}
            Err(Errno::AGAIN) => stdio::wait_writable(output)?,
            // Not supported for this output: copy the rest in userspace.
            Err(Errno::INVAL) | Err(Errno::NOSYS) => break,
            Err(e) => return Err(WriteError::new(output, e)),
        }
    }
    Ok(offset)
}
