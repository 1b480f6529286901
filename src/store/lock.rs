//! Per-key single-flight locks: `flock` on a lock file, so the kernel
//! releases it when the holder dies, however it dies. Correctness never
//! depends on these locks; without them work is only duplicated.

use std::fs::{File, TryLockError};
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

/// Polls rather than blocks so the wait stays bounded without a helper
/// thread; the interval grows to 25 ms, small next to any command worth caching.
pub fn acquire(file: File, timeout: Duration) -> LockOutcome {
    let deadline = Instant::now() + timeout;
    let mut interval = Duration::from_millis(1);
    let mut waited = false;
    loop {
        match file.try_lock() {
            Ok(()) => return LockOutcome::Acquired { _file: file, waited },
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
