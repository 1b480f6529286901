//! Hand-made archives (bypassing every check of the `tar` crate) and a
//! scene that checks a refused restore changed nothing.

use std::ffi::OsString;
use std::fs;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};

use tar::{Builder, EntryType, Header};
use tempfile::TempDir;

use super::{snapshot, Node};
use crate::outputs::{restore, MANIFEST_NAME};

/// Entries of a hand-made archive; paths and link names go into the header
/// bytes as given, bypassing every check of the `tar` crate.
pub(super) enum Raw<'a> {
    Dir(&'a [u8]),
    File(&'a [u8], &'a [u8]),
    Symlink(&'a [u8], &'a [u8]),
    Hardlink(&'a [u8], &'a [u8]),
    Fifo(&'a [u8]),
    /// A GNU long-name record then a file.
    LongFile(&'a [u8], &'a [u8]),
}

fn raw_header(kind: EntryType, name: &[u8], link: &[u8], size: u64) -> Header {
    let mut header = Header::new_gnu();
    header.set_entry_type(kind);
    header.set_mode(0o644);
    header.set_mtime(1_600_000_000);
    header.set_size(size);
    let old = header.as_old_mut();
    old.name[..name.len()].copy_from_slice(name);
    old.linkname[..link.len()].copy_from_slice(link);
    header.set_cksum();
    header
}

pub(super) fn crafted(manifest: &[(&[u8], bool)], entries: &[Raw<'_>]) -> Crafted {
    let mut builder = Builder::new(Vec::new());
    let mut text = b"cachecmd-outputs 1\n".to_vec();
    for (path, present) in manifest {
        text.push(if *present { b'+' } else { b'-' });
        text.extend_from_slice(path);
        text.push(0);
    }
    let header = raw_header(EntryType::Regular, MANIFEST_NAME.as_bytes(), b"", text.len() as u64);
    builder.append(&header, text.as_slice()).unwrap();
    for entry in entries {
        match *entry {
            Raw::Dir(name) => {
                builder.append(&raw_header(EntryType::Directory, name, b"", 0), &[][..])
            }
            Raw::File(name, data) => {
                builder.append(&raw_header(EntryType::Regular, name, b"", data.len() as u64), data)
            }
            Raw::Symlink(name, target) => {
                builder.append(&raw_header(EntryType::Symlink, name, target, 0), &[][..])
            }
            Raw::Hardlink(name, target) => {
                builder.append(&raw_header(EntryType::Link, name, target, 0), &[][..])
            }
            Raw::Fifo(name) => builder.append(&raw_header(EntryType::Fifo, name, b"", 0), &[][..]),
            Raw::LongFile(name, data) => {
                let mut long = name.to_vec();
                long.push(0);
                let header =
                    raw_header(EntryType::GNULongName, b"././@LongLink", b"", long.len() as u64);
                builder.append(&header, long.as_slice()).unwrap();
                builder.append(
                    &raw_header(EntryType::Regular, b"placeholder", b"", data.len() as u64),
                    data,
                )
            }
        }
        .unwrap();
    }
    let tar = builder.into_inner().unwrap();
    let bytes = zstd::encode_all(tar.as_slice(), 3).unwrap();
    // By default the invocation declares exactly what the archive lists:
    // the strongest position for a crafted entry.
    let declared =
        manifest.iter().map(|(p, _)| PathBuf::from(OsString::from_vec(p.to_vec()))).collect();
    Crafted { bytes, declared }
}

pub(super) struct Crafted {
    pub bytes: Vec<u8>,
    pub declared: Vec<PathBuf>,
}

impl Crafted {
    pub(super) fn declaring(self, declared: &[&str]) -> Crafted {
        Crafted { declared: declared.iter().map(PathBuf::from).collect(), ..self }
    }
}

/// A root holding a canary dir (outside the cwd) and the cwd, with an
/// existing output that must survive a refused restore.
pub(super) struct Scene {
    pub root: TempDir,
}

impl Scene {
    pub(super) fn new() -> Scene {
        let root = TempDir::new().unwrap();
        fs::create_dir_all(root.path().join("canary")).unwrap();
        fs::write(root.path().join("canary/victim"), b"original").unwrap();
        fs::create_dir_all(root.path().join("work/out")).unwrap();
        fs::write(root.path().join("work/out/keep.txt"), b"previous output").unwrap();
        Scene { root }
    }
    pub(super) fn cwd(&self) -> PathBuf {
        self.root.path().join("work")
    }
    pub(super) fn canary(&self) -> PathBuf {
        self.root.path().join("canary")
    }

    /// Restores `archive`, expects a refusal, and checks that nothing
    /// changed anywhere under the root (canary and cwd alike).
    /// (The cwd's own mtime may change: staging names come and go in it.)
    pub(super) fn refuse(&self, what: &str, archive: &Crafted) {
        let snap = || {
            let mut snap = snapshot(self.root.path());
            snap.insert("work".into(), Node::Dir { mode: 0o755, mtime: (0, 0) });
            snap
        };
        let before = snap();
        let result = restore(archive.bytes.as_slice(), &self.cwd(), &archive.declared);
        assert!(result.is_err(), "{what}: restored {result:?}");
        let err = result.unwrap_err();
        eprintln!("{what}: {err}");
        assert_eq!(before, snap(), "{what}: the tree changed");
        assert!(!self.root.path().join("evil").exists(), "{what}");
        assert!(!Path::new("/tmp/x/file").exists(), "{what}");
    }
}
