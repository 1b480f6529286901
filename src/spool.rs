//! `--stdin`: read all of stdin into an unnamed temp file (not into our
//! heap: it may be large), hashing it on the way, so the same bytes can
//! be keyed and then fed to the command. When `$TMPDIR` cannot hold it, an
//! anonymous memory file does: stdin is read once, so failing here would
//! lose it for the command too.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};

use sha2::{Digest, Sha256};

pub fn stdin() -> std::io::Result<(File, [u8; 32])> {
    let mut spool = tempfile::tempfile().or_else(|_| memory_file())?;
    let mut hasher = Sha256::new();
    let mut input = std::io::stdin().lock();
    let mut buf = vec![0u8; 128 * 1024];
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
        spool.write_all(&buf[..n])?;
    }
    spool.seek(SeekFrom::Start(0))?;
    Ok((spool, hasher.finalize().into()))
}

/// An unnamed file in memory (swappable, unlike our heap).
pub fn memory_file() -> std::io::Result<File> {
    let fd = rustix::fs::memfd_create(c"cachecmd-stdin", rustix::fs::MemfdFlags::CLOEXEC)?;
    Ok(File::from(fd))
}
