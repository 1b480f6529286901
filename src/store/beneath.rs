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

use std::ffi::CString;
use std::fs::{File, Metadata};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// An open handle on the cache root.
#[derive(Debug)]
pub struct RootDir {
    fd: OwnedFd,
    path: PathBuf,
}

fn c_path(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| io::ErrorKind::InvalidInput.into())
}

impl RootDir {
    pub fn open(path: &Path) -> io::Result<RootDir> {
        let c = c_path(path)?;
        // SAFETY: a valid NUL-terminated path; the result is checked.
        let fd =
            unsafe { libc::open(c.as_ptr(), libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` is a descriptor we just opened and own.
        Ok(RootDir { fd: unsafe { OwnedFd::from_raw_fd(fd) }, path: path.to_path_buf() })
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
        let c = c_path(rel)?;
        // SAFETY: open_how is plain data; all-zero is its documented default.
        let mut how: libc::open_how = unsafe { std::mem::zeroed() };
        how.flags = (flags | libc::O_CLOEXEC) as u64;
        how.mode = if flags & libc::O_CREAT != 0 { u64::from(mode) } else { 0 };
        how.resolve = libc::RESOLVE_NO_SYMLINKS | libc::RESOLVE_BENEATH;
        // SAFETY: `how` is a valid open_how of the size passed, `c` a valid
        // NUL-terminated path; the result is checked.
        let fd = unsafe {
            libc::syscall(
                libc::SYS_openat2,
                self.fd.as_raw_fd(),
                c.as_ptr(),
                &how as *const libc::open_how,
                std::mem::size_of::<libc::open_how>(),
            )
        };
        if fd >= 0 {
            // SAFETY: a descriptor the kernel just returned to us.
            return Ok(unsafe { File::from_raw_fd(fd as libc::c_int) });
        }
        let error = io::Error::last_os_error();
        if error.raw_os_error() != Some(libc::ENOSYS) {
            return Err(error);
        }
        let fallback = flags | libc::O_CLOEXEC | libc::O_NOFOLLOW;
        // SAFETY: as above, with plain openat.
        let fd = unsafe { libc::openat(self.fd.as_raw_fd(), c.as_ptr(), fallback, mode) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a descriptor the kernel just returned to us.
        Ok(unsafe { File::from_raw_fd(fd) })
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
    let name = CString::new(name).map_err(|_| io::ErrorKind::InvalidInput)?;
    let flags = flags | libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK;
    // SAFETY: a valid descriptor and NUL-terminated name; the result is checked.
    let fd = unsafe { libc::openat(dir.as_raw_fd(), name.as_ptr(), flags) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a descriptor the kernel just returned to us.
    let file = unsafe { File::from_raw_fd(fd) };
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
        let fifo = std::ffi::CString::new(dir.path().join("p").as_os_str().as_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        let handle = RootDir::open(dir.path()).unwrap();
        for flags in [libc::O_RDONLY, libc::O_WRONLY | libc::O_APPEND, libc::O_RDWR] {
            assert!(handle.open_file(Path::new("p"), flags, 0).is_err());
        }
        let at = File::open(dir.path()).unwrap();
        assert!(open_regular_at(&at, "p", libc::O_RDONLY).is_err());
    }
}
