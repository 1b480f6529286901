//! What the tracer process tells cachecmd over its pipe: whether it seized
//! the command, then, as soon as the command has exited, what it touched.
//!
//! Frames of a tag byte, a length (u32 LE) and that many bytes. A start is
//! one frame (`T` traced, `S` seized without the filter, `U` untraced; the
//! last two carry why). The accesses are `I` (a use byte, then the path),
//! `O` (an output), `F` (read before written), `X` (why the trace is
//! incomplete), ended by `E`; a pipe that ends before `E` is a tracer that
//! died, and the caller treats the trace as incomplete.

use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;

use super::decode::Use;
use super::spawn::Start;
use super::tracer::Accesses;

/// The longest frame read back (a path is at most 4 KiB; reasons are short).
const MAX_FRAME: usize = 64 * 1024;

fn frame(out: &mut Vec<u8>, tag: u8, parts: &[&[u8]]) {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    out.push(tag);
    out.extend_from_slice(&(len as u32).to_le_bytes());
    for part in parts {
        out.extend_from_slice(part);
    }
}

fn read_frame(from: &mut impl Read) -> io::Result<(u8, Vec<u8>)> {
    let mut head = [0u8; 5];
    from.read_exact(&mut head)?;
    let len = u32::from_le_bytes([head[1], head[2], head[3], head[4]]) as usize;
    if len > MAX_FRAME {
        return Err(io::Error::other("a frame is too long"));
    }
    let mut body = vec![0u8; len];
    from.read_exact(&mut body)?;
    Ok((head[0], body))
}

fn text(body: Vec<u8>) -> String {
    String::from_utf8_lossy(&body).into_owned()
}

pub fn write_start(to: &mut impl Write, start: &Start) -> io::Result<()> {
    let mut out = Vec::new();
    match start {
        Start::Traced => frame(&mut out, b'T', &[]),
        Start::Seized(why) => frame(&mut out, b'S', &[why.as_bytes()]),
        Start::Untraced(why) => frame(&mut out, b'U', &[why.as_bytes()]),
    }
    to.write_all(&out)
}

pub fn read_start(from: &mut impl Read) -> io::Result<Start> {
    match read_frame(from)? {
        (b'T', _) => Ok(Start::Traced),
        (b'S', why) => Ok(Start::Seized(text(why))),
        (b'U', why) => Ok(Start::Untraced(text(why))),
        _ => Err(io::Error::other("not a start")),
    }
}

fn use_byte(used: Use) -> u8 {
    match used {
        Use::Read => b'r',
        Use::Stat => b's',
        Use::StatLink => b'l',
        Use::List => b'd',
    }
}

fn byte_use(byte: u8) -> Option<Use> {
    Some(match byte {
        b'r' => Use::Read,
        b's' => Use::Stat,
        b'l' => Use::StatLink,
        b'd' => Use::List,
        _ => return None,
    })
}

pub fn write_accesses(to: &mut impl Write, accesses: &Accesses) -> io::Result<()> {
    let mut out = Vec::new();
    for (path, uses) in &accesses.inputs {
        for used in uses {
            frame(&mut out, b'I', &[&[use_byte(*used)], path.as_os_str().as_bytes()]);
        }
    }
    for path in &accesses.outputs {
        frame(&mut out, b'O', &[path.as_os_str().as_bytes()]);
    }
    for path in &accesses.read_first {
        frame(&mut out, b'F', &[path.as_os_str().as_bytes()]);
    }
    if let Some(why) = &accesses.incomplete {
        frame(&mut out, b'X', &[why.as_bytes()]);
    }
    frame(&mut out, b'E', &[]);
    to.write_all(&out)
}

pub fn read_accesses(from: &mut impl Read) -> io::Result<Accesses> {
    let mut accesses = Accesses::default();
    let path = |body: Vec<u8>| PathBuf::from(OsString::from_vec(body));
    loop {
        match read_frame(from)? {
            (b'I', mut body) if !body.is_empty() => {
                let used = byte_use(body.remove(0)).ok_or(io::Error::other("a bad use"))?;
                accesses.inputs.entry(path(body)).or_default().insert(used);
            }
            (b'O', body) => drop(accesses.outputs.insert(path(body))),
            (b'F', body) => drop(accesses.read_first.insert(path(body))),
            (b'X', why) => accesses.incomplete = Some(text(why)),
            (b'E', _) => return Ok(accesses),
            _ => return Err(io::Error::other("not an access")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStrExt;

    #[test]
    fn starts_and_accesses_round_trip() {
        for start in [Start::Traced, Start::Seized("no".into()), Start::Untraced("why".into())] {
            let mut pipe = Vec::new();
            write_start(&mut pipe, &start).unwrap();
            assert_eq!(read_start(&mut pipe.as_slice()).unwrap(), start);
        }
        let mut accesses = Accesses::default();
        let odd = PathBuf::from(std::ffi::OsStr::from_bytes(b"/tmp/\xff\n x"));
        accesses.inputs.entry(odd.clone()).or_default().extend([Use::Read, Use::List]);
        accesses.inputs.entry("/etc/a".into()).or_default().insert(Use::StatLink);
        accesses.inputs.entry("/etc/b".into()).or_default().insert(Use::Stat);
        accesses.outputs.insert("/out".into());
        accesses.read_first.insert(odd);
        let mut pipe = Vec::new();
        write_accesses(&mut pipe, &accesses).unwrap();
        assert_eq!(read_accesses(&mut pipe.as_slice()).unwrap(), accesses);
        accesses.incomplete = Some("cannot read".into());
        let mut pipe = Vec::new();
        write_accesses(&mut pipe, &accesses).unwrap();
        assert_eq!(read_accesses(&mut pipe.as_slice()).unwrap(), accesses);
        // A tracer that died before the end: an error, not a short list.
        pipe.truncate(pipe.len() - 5);
        assert!(read_accesses(&mut pipe.as_slice()).is_err());
    }
}
