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
    let mut file = &entry.file;
    file.seek(SeekFrom::Start(range.start))?;
    let len = range.end - range.start;
    let copied = std::io::copy(&mut Read::take(file, len), &mut *stdio::file(output))?;
    if copied == len {
        Ok(())
    } else {
        Err(std::io::ErrorKind::UnexpectedEof.into())
    }
}
