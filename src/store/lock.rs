//! Per-key single-flight locks: `flock` on a lock file, so the kernel
//! releases it when the holder dies, however it dies. Correctness never
//! depends on these locks; without them work is only duplicated.
//!
//! A lock file may be unlinked (`clear`, `evict`, `gc`) while someone waits
//! on it. Removers only unlink a lock file while holding its lock, and a
//! taker, once it holds the lock, checks that its descriptor is still the
//! file at the path (same device and inode); if not, the file it locked is
//! an orphan nobody else will ever see, and it takes the lock again on the
//! file now at the path. So two runners never both hold "the" lock.

use std::fs::{File, TryLockError};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{Duration, Instant};

pub enum LockOutcome {
    /// We hold the lock; `waited` says another caller held it first, so the
    /// entry may have been written meanwhile.
    Acquired { _file: File, waited: bool },
    /// Another caller held it past the timeout: run without it.
    TimedOut,
    /// Locking is impossible here (unwritable dir, no flock): run without it.
    Unavailable(std::io::Error),
}

/// Whether `file` is still the file at `path`.
pub fn still_at(file: &File, path: &Path) -> io::Result<bool> {
    let held = file.metadata()?;
    Ok(match std::fs::symlink_metadata(path) {
        Ok(now) => now.dev() == held.dev() && now.ino() == held.ino(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => false,
        Err(e) => return Err(e),
    })
}

/// Takes the lock on the file `open` opens at `path`. Polls rather than
/// blocks so the wait stays bounded without a helper thread; the interval
/// grows to 25 ms, small next to any command worth caching.
pub fn acquire(open: &dyn Fn() -> io::Result<File>, path: &Path, timeout: Duration) -> LockOutcome {
    let deadline = Instant::now() + timeout;
    let mut interval = Duration::from_millis(1);
    let mut waited = false;
    let mut file = match open() {
        Ok(file) => file,
        Err(e) => return LockOutcome::Unavailable(e),
    };
    loop {
        match file.try_lock() {
            Ok(()) => match still_at(&file, path) {
                Ok(true) => return LockOutcome::Acquired { _file: file, waited },
                // Unlinked or replaced under us: lock what is there now.
                Ok(false) => {
                    file = match open() {
                        Ok(file) => file,
                        Err(e) => return LockOutcome::Unavailable(e),
                    };
                    waited = true;
                    continue;
                }
                Err(e) => return LockOutcome::Unavailable(e),
            },
            Err(TryLockError::WouldBlock) => {}
            Err(TryLockError::Error(e)) => return LockOutcome::Unavailable(e),
        }
        waited = true;
        let now = Instant::now();
        if now >= deadline {
            return LockOutcome::TimedOut;
        }
        std::thread::sleep(interval.min(deadline - now));
        interval = (interval * 2).min(Duration::from_millis(25));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn a_lock_file_unlinked_while_held_does_not_let_a_second_taker_in() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.lock");
        let create =
            |p: &Path| File::options().read(true).write(true).create(true).truncate(false).open(p);
        let first = create(&path).unwrap();
        first.lock().unwrap();
        let (opened, on_open) = mpsc::channel();
        let waiter = std::thread::spawn({
            let path = path.clone();
            move || {
                let open = || {
                    let _ = opened.send(());
                    create(&path)
                };
                matches!(acquire(&open, &path, Duration::from_millis(300)), LockOutcome::TimedOut)
            }
        });
        // The waiter holds the old file open; a remover unlinks it and a
        // new runner takes the lock on the new file before the old one is
        // released.
        on_open.recv().unwrap();
        std::fs::remove_file(&path).unwrap();
        let second = create(&path).unwrap();
        second.lock().unwrap();
        drop(first);
        assert!(waiter.join().unwrap(), "the waiter took an unlinked lock file");
        drop(second);
        let open = || create(&path);
        assert!(matches!(acquire(&open, &path, Duration::ZERO), LockOutcome::Acquired { .. }));
    }
}
