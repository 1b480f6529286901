//! Opening files inside the cache root without ever following a symlink.
//!
//! The root is opened once (following a symlink there is allowed: its
//! target is what `check_root` vets). Every file under it is then opened
//! relative to that descriptor with `openat2(RESOLVE_NO_SYMLINKS |
//! RESOLVE_BENEATH)`, so a symlink planted anywhere on the way (`v1`,
//! `v1/entries`, a shard, the entry itself) makes the open fail instead of
//! reading, writing or creating a file elsewhere. One syscall, no race.
//! Kernels without openat2 (before 5.6) fall back to `O_NOFOLLOW` on the
//! last component, with the directories checked by `DiskStore::verify_tree`.
//!
//! Nothing opened here ever blocks: every open is `O_NONBLOCK` (a FIFO
//! opens at once, or fails with `ENXIO` for writing) and what was opened is
//! then checked with `fstat` to be a regular file (a directory when
//! `O_DIRECTORY` was asked for), so a FIFO, socket or device planted at any
//! name under the root is refused before a single read or write.

use std::fs::{File, Metadata};
use std::io;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use rustix::fs::{Mode, OFlags, ResolveFlags};

/// An open handle on the cache root.
#[derive(Debug)]
pub struct RootDir {
    fd: OwnedFd,
    path: PathBuf,
}

/// Our `libc` open flags as rustix's (the same bits on Linux).
fn oflags(flags: libc::c_int) -> OFlags {
    OFlags::from_bits_retain(flags as u32)
}

impl RootDir {
    pub fn open(path: &Path) -> io::Result<RootDir> {
        let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let fd = rustix::fs::open(path, flags, Mode::empty())?;
        Ok(RootDir { fd, path: path.to_path_buf() })
    }

    /// The root's own metadata (of the directory the descriptor holds, so
    /// the checks apply to what is used, not to a path that may change).
    pub fn metadata(&self) -> io::Result<Metadata> {
        let file = File::from(self.fd.try_clone()?);
        file.metadata()
    }

    /// Opens `rel` (relative to the root) with `flags` and, when creating,
    /// `mode`, refusing symlinks anywhere on the way and anything but a
    /// regular file (or a directory, with `O_DIRECTORY`).
    pub fn open_file(&self, rel: &Path, flags: libc::c_int, mode: u32) -> io::Result<File> {
        let file = self.open_raw(rel, flags | libc::O_NONBLOCK, mode)?;
        let kind = file.metadata()?.file_type();
        let wanted = if flags & libc::O_DIRECTORY != 0 { kind.is_dir() } else { kind.is_file() };
        if !wanted {
            return Err(not_regular());
        }
        Ok(file)
    }

    fn open_raw(&self, rel: &Path, flags: libc::c_int, mode: u32) -> io::Result<File> {
        let flags = oflags(flags) | OFlags::CLOEXEC;
        // openat2 refuses a mode without O_CREAT.
        let how_mode = if flags.contains(OFlags::CREATE) {
            Mode::from_bits_retain(mode)
        } else {
            Mode::empty()
        };
        let resolve = ResolveFlags::NO_SYMLINKS | ResolveFlags::BENEATH;
        match rustix::fs::openat2(&self.fd, rel, flags, how_mode, resolve) {
            Ok(fd) => Ok(File::from(fd)),
            Err(rustix::io::Errno::NOSYS) => {
                let fallback = flags | OFlags::NOFOLLOW;
                let fd = rustix::fs::openat(&self.fd, rel, fallback, Mode::from_bits_retain(mode))?;
                Ok(File::from(fd))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// `path` (under the root) made relative to it.
    pub fn relative<'p>(&self, path: &'p Path) -> io::Result<&'p Path> {
        path.strip_prefix(&self.path).map_err(|_| io::ErrorKind::InvalidInput.into())
    }

    pub fn open_path(&self, path: &Path, flags: libc::c_int, mode: u32) -> io::Result<File> {
        self.open_file(self.relative(path)?, flags, mode)
    }
}

/// The error for a special file (FIFO, socket, device) where a regular file
/// was expected.
pub fn not_regular() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, "not a regular file")
}

/// Opens `name` in the already opened directory `dir` (one component:
/// `O_NOFOLLOW` covers it), non-blocking and only if it is a regular file.
pub fn open_regular_at(dir: &File, name: &str, flags: libc::c_int) -> io::Result<File> {
    let flags = oflags(flags) | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK;
    let file = File::from(rustix::fs::openat(dir, name, flags, Mode::empty())?);
    if !file.metadata()?.is_file() {
        return Err(not_regular());
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlinks_beneath_the_root_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir_all(root.join("real")).unwrap();
        std::fs::write(root.join("real/f"), "x").unwrap();
        std::fs::write(dir.path().join("victim"), "v").unwrap();
        std::os::unix::fs::symlink(dir.path(), root.join("link")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("victim"), root.join("real/v")).unwrap();
        let handle = RootDir::open(&root).unwrap();
        assert!(handle.open_file(Path::new("real/f"), libc::O_RDONLY, 0).is_ok());
        assert!(handle.open_file(Path::new("link/victim"), libc::O_RDONLY, 0).is_err());
        assert!(handle.open_file(Path::new("real/v"), libc::O_RDONLY, 0).is_err());
        assert!(handle.open_file(Path::new("../victim"), libc::O_RDONLY, 0).is_err());
        let created =
            handle.open_file(Path::new("link/new"), libc::O_WRONLY | libc::O_CREAT, 0o600);
        assert!(created.is_err());
        assert!(!dir.path().join("new").exists());
    }

    #[test]
    fn special_files_are_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        rustix::fs::mkfifoat(rustix::fs::CWD, dir.path().join("p"), Mode::from_bits_retain(0o600))
            .unwrap();
        let handle = RootDir::open(dir.path()).unwrap();
        for flags in [libc::O_RDONLY, libc::O_WRONLY | libc::O_APPEND, libc::O_RDWR] {
            assert!(handle.open_file(Path::new("p"), flags, 0).is_err());
        }
        let at = File::open(dir.path()).unwrap();
        assert!(open_regular_at(&at, "p", libc::O_RDONLY).is_err());
    }
}
