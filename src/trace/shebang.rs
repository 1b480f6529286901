//! The interpreter of a `#!` script: the kernel opens it inside `execve`,
//! with no system call of its own for the filter to stop, so the tracer
//! reads the script's first line to record it as executed too.

use std::io::Read as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;

/// How far the kernel follows interpreters that are scripts themselves.
pub const MAX_DEPTH: usize = 4;

/// The kernel reads at most this much of the `#!` line (`BINPRM_BUF_SIZE`).
const LINE_MAX: usize = 256;

/// The interpreter `path` names on its `#!` line, as written (the kernel
/// resolves a relative one against the working directory), or `None` for
/// anything else.
pub fn interpreter(path: &Path) -> Option<Vec<u8>> {
    // Only a regular file: opening a FIFO would block the tracer.
    if !std::fs::metadata(path).ok()?.is_file() {
        return None;
    }
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .ok()?;
    let mut head = Vec::with_capacity(LINE_MAX);
    file.by_ref().take(LINE_MAX as u64).read_to_end(&mut head).ok()?;
    parse(&head).map(<[u8]>::to_vec)
}

/// The interpreter's name on a `#!` line: after `#!` and blanks, up to the
/// next blank or the end of the line.
fn parse(head: &[u8]) -> Option<&[u8]> {
    let line = head.strip_prefix(b"#!")?;
    let line = &line[..line.iter().position(|&b| b == b'\n').unwrap_or(line.len())];
    let start = line.iter().position(|&b| b != b' ' && b != b'\t')?;
    let rest = &line[start..];
    let end = rest.iter().position(|&b| b == b' ' || b == b'\t').unwrap_or(rest.len());
    Some(&rest[..end]).filter(|name| !name.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interpreter_is_the_first_word_after_hash_bang() {
        assert_eq!(parse(b"#!/bin/sh\necho"), Some(b"/bin/sh".as_slice()));
        assert_eq!(parse(b"#! \t/usr/bin/env python3 -u\n"), Some(b"/usr/bin/env".as_slice()));
        assert_eq!(parse(b"#!tool"), Some(b"tool".as_slice()));
        assert_eq!(parse(b"#!   \n/bin/sh"), None);
        assert_eq!(parse(b"\x7fELF"), None);
    }

    #[test]
    fn a_script_names_its_interpreter_and_a_fifo_is_not_opened() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("s");
        std::fs::write(&script, "#!bin/tool\n").unwrap();
        assert_eq!(interpreter(&script), Some(b"bin/tool".to_vec()));
        let fifo = dir.path().join("fifo");
        let mode = rustix::fs::Mode::from_bits_retain(0o600);
        rustix::fs::mkfifoat(rustix::fs::CWD, &fifo, mode).unwrap();
        assert_eq!(interpreter(&fifo), None);
    }
}
