//! Filesystem primitives restore needs beyond `std`: unpredictable staging
//! names, an atomic swap, a symlink's own mtime, a directory opened without
//! following a symlink, and removal of read-only trees.

use std::fs::{self, File, Permissions};
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, Mode, OFlags, Timespec, Timestamps, CWD, UTIME_OMIT};

use super::pax::Mtime;
use crate::outputs::{OutputError, STAGING_PREFIX};

/// `.cachecmd-restore.<random>` in `dir`. 64 bits from the OS generator:
/// concurrent restores into one cwd, and leftovers of a killed one, never
/// pick the same name.
pub(super) fn staging_name(dir: &Path) -> Result<PathBuf, OutputError> {
    let random = getrandom::u64().map_err(|e| OutputError::io("cannot stage in", dir)(e.into()))?;
    Ok(dir.join(format!("{STAGING_PREFIX}{random:016x}")))
}

/// Atomically swaps two paths (Linux `renameat2(RENAME_EXCHANGE)`); fails
/// with `EINVAL` (or `ENOSYS` from an old kernel) where unsupported.
pub(super) fn exchange(a: &Path, b: &Path) -> rustix::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        rustix::fs::renameat_with(CWD, a, CWD, b, rustix::fs::RenameFlags::EXCHANGE)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (a, b);
        Err(rustix::io::Errno::INVAL)
    }
}

/// Sets the mtime of the symlink itself (std only sets a symlink's times
/// by following it); the atime is left alone.
pub(super) fn set_symlink_mtime(path: &Path, mtime: Mtime) -> io::Result<()> {
    let times = Timestamps {
        last_access: Timespec { tv_sec: 0, tv_nsec: UTIME_OMIT },
        last_modification: Timespec { tv_sec: mtime.secs, tv_nsec: mtime.nanos.into() },
    };
    rustix::fs::utimensat(CWD, path, &times, AtFlags::SYMLINK_NOFOLLOW)?;
    Ok(())
}

/// Opens a directory for setting its mode and times; fails if `path` is a
/// symlink (or anything else), so nothing outside staging is touched.
pub(super) fn open_dir_nofollow(path: &Path) -> io::Result<File> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    Ok(File::from(rustix::fs::open(path, flags, Mode::empty())?))
}

/// Removes a file, symlink or tree (not following symlinks), making
/// read-only directories writable if that is what stops it.
pub(crate) fn remove_tree(path: &Path) -> io::Result<()> {
    let meta = match path.symlink_metadata() {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    if !meta.is_dir() {
        return fs::remove_file(path);
    }
    if fs::remove_dir_all(path).is_ok() {
        return Ok(());
    }
    make_writable(path);
    fs::remove_dir_all(path)
}

fn make_writable(dir: &Path) {
    let _ = fs::set_permissions(dir, Permissions::from_mode(0o700));
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            make_writable(&entry.path());
        }
    }
}
