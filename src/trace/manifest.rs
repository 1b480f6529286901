//! A manifest: the inputs one traced run found, each with what it was
//! (content digest, metadata, listing, link target, or absence), and the
//! index of manifests a key holds, each naming the entry recorded with it.
//!
//! The index is the stdout of an ordinary entry at the traced key, so it
//! travels through every tier like any entry. Its encoding (all integers
//! little-endian):
//!
//! ```text
//! "CCTRIDX1"
//! u32 manifests, newest first; each:
//!   32  the result entry's key
//!   u32 items; each: u32 path length, path, u8 check, u8 state tag, state
//! ```
//!
//! States: `-` absent; `f` digest(32) of a file's content; `d` a
//! directory; `L` digest(32) of a listing, then u32 count and u32-prefixed
//! names left out of it (the run's own outputs); `l` u32-prefixed link
//! target; `m` u32 mode, u64 size, i64 mtime ns; `s` u8 file type; `?`
//! unreadable.

use crate::key::Key;

const MAGIC: &[u8; 8] = b"CCTRIDX1";
/// How many manifests (input states) one key keeps; the oldest beyond it
/// are dropped when a new one is added, and their entries age out by gc.
pub const MAX_MANIFESTS: usize = 8;

/// How an input is checked, from how the command used it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Check {
    /// Read or executed: content (following symlinks).
    Content,
    /// stat'ed: type and, for a file, mode, size and mtime.
    Stat,
    /// lstat'ed or readlink'ed: the link itself.
    StatLink,
    /// Listed: the names in the directory.
    List,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    Absent,
    Content([u8; 32]),
    Dir,
    Listing { digest: [u8; 32], excluded: Vec<Vec<u8>> },
    Link(Vec<u8>),
    Meta { mode: u32, size: u64, mtime_ns: i64 },
    Special(u8),
    Unreadable,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// Relative to the cwd when under it, else absolute.
    pub path: Vec<u8>,
    pub check: Check,
    pub state: State,
}

pub type Manifest = Vec<Item>;

/// The manifests of one key, newest first, each with its entry's key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Index {
    pub manifests: Vec<(Manifest, Key)>,
}

impl Index {
    /// Adds `manifest` (answered by `result`) first; an identical one is
    /// replaced, and the oldest beyond [`MAX_MANIFESTS`] are dropped.
    pub fn add(&mut self, manifest: Manifest, result: Key) {
        self.manifests.retain(|(m, _)| *m != manifest);
        self.manifests.insert(0, (manifest, result));
        self.manifests.truncate(MAX_MANIFESTS);
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        put_u32(&mut out, self.manifests.len());
        for (manifest, key) in &self.manifests {
            out.extend_from_slice(key.bytes());
            put_u32(&mut out, manifest.len());
            for item in manifest {
                put_bytes(&mut out, &item.path);
                out.push(check_tag(item.check));
                encode_state(&mut out, &item.state);
            }
        }
        out
    }

    /// `None` for anything but a well-formed index (a miss, never a guess).
    pub fn decode(bytes: &[u8]) -> Option<Index> {
        let mut r = Reader(bytes.strip_prefix(MAGIC.as_slice())?);
        let count = r.u32()?;
        let mut manifests = Vec::new();
        for _ in 0..count {
            let key = Key::from_slice(r.take(32)?)?;
            let items = r.u32()?;
            let mut manifest = Vec::new();
            for _ in 0..items {
                let path = r.bytes()?.to_vec();
                let check = tag_check(r.u8()?)?;
                let state = decode_state(&mut r)?;
                manifest.push(Item { path, check, state });
            }
            manifests.push((manifest, key));
        }
        r.0.is_empty().then_some(Index { manifests })
    }
}

fn check_tag(check: Check) -> u8 {
    match check {
        Check::Content => b'c',
        Check::Stat => b's',
        Check::StatLink => b'l',
        Check::List => b'd',
    }
}

fn tag_check(tag: u8) -> Option<Check> {
    Some(match tag {
        b'c' => Check::Content,
        b's' => Check::Stat,
        b'l' => Check::StatLink,
        b'd' => Check::List,
        _ => return None,
    })
}

fn put_u32(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&(n as u32).to_le_bytes());
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_u32(out, bytes.len());
    out.extend_from_slice(bytes);
}

fn encode_state(out: &mut Vec<u8>, state: &State) {
    match state {
        State::Absent => out.push(b'-'),
        State::Content(digest) => {
            out.push(b'f');
            out.extend_from_slice(digest);
        }
        State::Dir => out.push(b'd'),
        State::Listing { digest, excluded } => {
            out.push(b'L');
            out.extend_from_slice(digest);
            put_u32(out, excluded.len());
            for name in excluded {
                put_bytes(out, name);
            }
        }
        State::Link(target) => {
            out.push(b'l');
            put_bytes(out, target);
        }
        State::Meta { mode, size, mtime_ns } => {
            out.push(b'm');
            out.extend_from_slice(&mode.to_le_bytes());
            out.extend_from_slice(&size.to_le_bytes());
            out.extend_from_slice(&mtime_ns.to_le_bytes());
        }
        State::Special(kind) => out.extend_from_slice(&[b's', *kind]),
        State::Unreadable => out.push(b'?'),
    }
}

fn decode_state(r: &mut Reader<'_>) -> Option<State> {
    Some(match r.u8()? {
        b'-' => State::Absent,
        b'f' => State::Content(r.digest()?),
        b'd' => State::Dir,
        b'L' => {
            let digest = r.digest()?;
            let count = r.u32()?;
            let mut excluded = Vec::new();
            for _ in 0..count {
                excluded.push(r.bytes()?.to_vec());
            }
            State::Listing { digest, excluded }
        }
        b'l' => State::Link(r.bytes()?.to_vec()),
        b'm' => {
            let mode = u32::from_le_bytes(r.take(4)?.try_into().ok()?);
            let size = u64::from_le_bytes(r.take(8)?.try_into().ok()?);
            let mtime_ns = i64::from_le_bytes(r.take(8)?.try_into().ok()?);
            State::Meta { mode, size, mtime_ns }
        }
        b's' => State::Special(r.u8()?),
        b'?' => State::Unreadable,
        _ => return None,
    })
}

/// A cursor that refuses to read past the end (lengths are untrusted).
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    fn u32(&mut self) -> Option<usize> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?) as usize)
    }

    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = self.u32()?;
        self.take(n)
    }

    fn digest(&mut self) -> Option<[u8; 32]> {
        self.take(32)?.try_into().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(path: &str, check: Check, state: State) -> Item {
        Item { path: path.as_bytes().to_vec(), check, state }
    }

    fn sample() -> Manifest {
        vec![
            item("src/a.c", Check::Content, State::Content([3; 32])),
            item("/usr/include", Check::Stat, State::Dir),
            item("missing.h", Check::Stat, State::Absent),
            item(
                ".",
                Check::List,
                State::Listing { digest: [9; 32], excluded: vec![b"a.o".to_vec()] },
            ),
            item("link", Check::StatLink, State::Link(b"target".to_vec())),
            item("Makefile", Check::Stat, State::Meta { mode: 0o100644, size: 12, mtime_ns: -5 }),
            item("fifo", Check::Content, State::Special(1)),
            item("secret", Check::Content, State::Unreadable),
        ]
    }

    #[test]
    fn an_index_round_trips_and_truncations_are_refused() {
        let mut index = Index::default();
        index.add(sample(), Key::from_slice(&[1; 32]).unwrap());
        index.add(vec![], Key::from_slice(&[2; 32]).unwrap());
        let bytes = index.encode();
        assert_eq!(Index::decode(&bytes), Some(index));
        for cut in 0..bytes.len() {
            assert_eq!(Index::decode(&bytes[..cut]), None, "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(Index::decode(&longer), None);
    }

    #[test]
    fn garbage_and_flipped_bytes_never_panic() {
        let mut index = Index::default();
        index.add(sample(), Key::from_slice(&[1; 32]).unwrap());
        let bytes = index.encode();
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..2000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let mut flipped = bytes.clone();
            let at = (seed as usize) % flipped.len();
            flipped[at] ^= (seed >> 32) as u8 | 1;
            // Either refused or decoded to something else: never a panic.
            let _ = Index::decode(&flipped);
            let garbage: Vec<u8> = seed.to_le_bytes().iter().cycle().take(at).copied().collect();
            assert_eq!(Index::decode(&garbage), None);
        }
        // A count far beyond the bytes present is refused, not allocated.
        let mut huge = MAGIC.to_vec();
        huge.extend_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(Index::decode(&huge), None);
    }

    #[test]
    fn adding_keeps_the_newest_and_replaces_an_identical_manifest() {
        let mut index = Index::default();
        for n in 0..(MAX_MANIFESTS as u8 + 3) {
            let manifest = vec![item("f", Check::Content, State::Content([n; 32]))];
            index.add(manifest, Key::from_slice(&[n; 32]).unwrap());
        }
        assert_eq!(index.manifests.len(), MAX_MANIFESTS);
        assert_eq!(index.manifests[0].1, Key::from_slice(&[MAX_MANIFESTS as u8 + 2; 32]).unwrap());
        let again = index.manifests[3].0.clone();
        index.add(again.clone(), Key::from_slice(&[99; 32]).unwrap());
        assert_eq!(index.manifests.len(), MAX_MANIFESTS);
        assert_eq!(index.manifests[0], (again, Key::from_slice(&[99; 32]).unwrap()));
    }
}
