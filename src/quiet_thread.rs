//! Threads that never run a signal handler.
//!
//! A signal the process handles (cachecmd's relay, or a test runner's
//! SIGCHLD handler when the library is tested in-process) is delivered to
//! any thread that does not block it. A socket read with a timeout
//! (`SO_RCVTIMEO`, which the Redis worker sets so an abandoned worker ends)
//! is never restarted after a handler, `SA_RESTART` or not: it fails with
//! EINTR (signal(7)), and a healthy server would be reported as broken.

use std::io;
use std::thread::{Builder, JoinHandle};

/// Spawns `body` on a thread named `name` with every signal blocked, so the
/// process's signals go to its other threads.
pub fn spawn<T: Send + 'static>(
    name: &str,
    body: impl FnOnce() -> T + Send + 'static,
) -> io::Result<JoinHandle<T>> {
    // SAFETY: sigset_t is plain data; sigfillset and pthread_sigmask only
    // write the sets they are given. The new thread inherits the mask in
    // force at spawn; this thread's own mask is restored right after.
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_BLOCK, &all, &mut old);
        let spawned = Builder::new().name(name.into()).spawn(body);
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        spawned
    }
}

#[cfg(test)]
mod tests {
    /// The spawned thread blocks every signal; the spawner's mask is
    /// unchanged.
    #[test]
    fn the_thread_blocks_signals_and_the_caller_does_not() {
        let blocked = |how: &str| {
            let status = std::fs::read_to_string(format!("/proc/thread-self/{how}")).unwrap();
            let line = status.lines().find(|l| l.starts_with("SigBlk:")).unwrap().to_owned();
            u64::from_str_radix(line.trim_start_matches("SigBlk:").trim(), 16).unwrap()
        };
        let before = blocked("status");
        let inside = super::spawn("quiet", move || blocked("status")).unwrap().join().unwrap();
        let sigint = 1u64 << (libc::SIGINT - 1);
        let sigchld = 1u64 << (libc::SIGCHLD - 1);
        assert_eq!(inside & (sigint | sigchld), sigint | sigchld, "{inside:x}");
        assert_eq!(blocked("status"), before);
    }
}
