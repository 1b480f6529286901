//! The remote tier as run mode uses it: fetch into the local tier, upload
//! after a miss, take the cross-machine lock (a short lease, renewed while
//! the command runs). Every failure becomes a note for `-v` and a counted
//! remote error, never a changed result. Knows only the [`RemoteStore`]
//! trait and its factory, so any backend fits.

use std::cell::Cell;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, UNIX_EPOCH};

use crate::key::Key;
use crate::settings::RemoteSettings;
use crate::store::disk::DiskStore;
use crate::store::remote::{self, verify_entry, RemoteConfig, RemoteError, RemoteStore, Stored};
use crate::store::usage::{self, Event};
use crate::store::Store;

pub struct Tier {
    remote: Box<dyn RemoteStore>,
    /// For the lock's own store, opened on the thread that renews it.
    config: RemoteConfig,
    lease: Duration,
    /// Whether this run already counted a remote error.
    failed: Cell<bool>,
    /// The server failed while locking: no upload either (fail-fast).
    lock_failed: Cell<bool>,
    max_entry_size: u64,
}

/// What a remote lookup brought into the local tier.
pub enum Fetched {
    /// A verified, fresh entry, now published locally.
    Hit,
    /// Nothing usable remotely.
    Miss,
}

impl Tier {
    /// `None` without `--remote`, or when this build has no backend for its
    /// scheme (said once on stderr; the run goes on local-only).
    pub fn new(settings: Option<&RemoteSettings>) -> Option<Tier> {
        let settings = settings?;
        let config = settings.config();
        match remote::open(&config) {
            Ok(remote) => Some(Tier {
                remote,
                config,
                lease: settings.lease,
                failed: Cell::new(false),
                lock_failed: Cell::new(false),
                max_entry_size: settings.max_entry_size,
            }),
            Err(e) => {
                crate::error::warn(format_args!("{e}; --remote is ignored"));
                None
            }
        }
    }

    fn error(
        &self,
        store: &DiskStore,
        key: &Key,
        notes: &mut Vec<String>,
        what: &str,
        e: impl std::fmt::Display,
    ) {
        notes.push(format!("remote {what} failed ({e})"));
        if !self.failed.replace(true) {
            usage::record(store, Event::RemoteError, key);
        }
    }

    /// Looks `key` up remotely; a verified entry that `is_fresh` accepts is
    /// published into the local tier (with its age preserved) for the caller
    /// to serve from there.
    pub fn fetch(
        &self,
        store: &DiskStore,
        key: &Key,
        is_fresh: impl Fn(&crate::entry::Header, Duration) -> bool,
        notes: &mut Vec<String>,
    ) -> Fetched {
        let mut pending = match store.begin(key) {
            Ok(pending) => pending,
            Err(e) => {
                notes.push(format!("remote lookup skipped ({e})"));
                return Fetched::Miss;
            }
        };
        match self.remote.fetch(&key.hex(), &mut pending.file, self.max_entry_size) {
            Ok(true) => {}
            Ok(false) => return Fetched::Miss,
            Err(e @ RemoteError::BadSignature) => {
                notes.push(format!("remote entry rejected ({e})"));
                usage::record(store, Event::RemoteRejected, key);
                return Fetched::Miss;
            }
            Err(e) => {
                self.error(store, key, notes, "lookup", e);
                return Fetched::Miss;
            }
        }
        let (header, meta) = match verify_entry(&pending.file, key) {
            Ok(verified) => verified,
            Err(e) => {
                // Remote storage is untrusted: a bad value is only a miss.
                notes.push(format!("remote entry rejected ({e})"));
                usage::record(store, Event::RemoteRejected, key);
                return Fetched::Miss;
            }
        };
        let created = UNIX_EPOCH + Duration::from_secs(meta.created);
        let age = crate::freshness::age(crate::freshness::clock().now(), created);
        if !is_fresh(&header, age) {
            return Fetched::Miss;
        }
        // The local copy keeps the entry's real age: mtime is age here.
        let _ = pending.file.set_modified(created);
        match store.publish(pending) {
            Ok(()) => {
                usage::record_hit(store, Event::RemoteHit, key, header.run_ms);
                Fetched::Hit
            }
            Err(e) => {
                notes.push(format!("remote hit not stored locally ({e})"));
                Fetched::Miss
            }
        }
    }

    /// Takes the cross-machine lock; `None` when it is unavailable (read-only,
    /// server down) or another machine held it past the wait: the local lock
    /// alone then guards the run. The lock lives on a thread of its own
    /// (with its own connection) that renews its short lease until the
    /// guard drops, so a holder killed outright frees the key within one
    /// lease on every machine.
    pub fn lock(
        &self,
        store: &DiskStore,
        key: &Key,
        wait: Duration,
        notes: &mut Vec<String>,
    ) -> Option<LeaseGuard> {
        if self.remote.is_read_only() || self.remote.is_disabled() {
            return None;
        }
        let (config, key_hex, lease) = (self.config.clone(), key.hex(), self.lease);
        let (ready_tx, ready_rx) = mpsc::channel();
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let spawned = std::thread::Builder::new().name("remote-lock".into()).spawn(move || {
            let remote = match remote::open(&config) {
                Ok(remote) => remote,
                Err(e) => return drop(ready_tx.send(Err(e))),
            };
            let mut lock = match remote.lock(&key_hex, lease, wait) {
                Ok(Some(lock)) => lock,
                Ok(None) => return drop(ready_tx.send(Ok(false))),
                Err(e) => return drop(ready_tx.send(Err(e))),
            };
            let _ = ready_tx.send(Ok(true));
            // Renewing thrice per lease survives one slow renewal.
            while let Err(mpsc::RecvTimeoutError::Timeout) = stop_rx.recv_timeout(lease / 3) {
                if !matches!(lock.renew(lease), Ok(true)) {
                    break; // lost, or the server is gone: the lease runs out
                }
            }
            let _ = lock.release();
        });
        let Ok(handle) = spawned else { return None };
        let guard = LeaseGuard { stop: Some(stop_tx), thread: Some(handle) };
        match ready_rx.recv() {
            Ok(Ok(true)) => Some(guard),
            Ok(Ok(false)) => {
                notes.push("remote lock wait timed out".into());
                None
            }
            // A backend without a lock: the local lock alone guards the run.
            Ok(Err(RemoteError::NoLock)) | Err(_) => None,
            Ok(Err(e)) => {
                self.lock_failed.set(e.is_server_failure());
                self.error(store, key, notes, "lock", e);
                None
            }
        }
    }

    /// Shares the just-published local entry of `key`, expiring with it.
    pub fn upload(
        &self,
        store: &DiskStore,
        key: &Key,
        lifetime: Option<Duration>,
        notes: &mut Vec<String>,
    ) {
        if self.remote.is_disabled() || self.lock_failed.get() {
            return;
        }
        let path = store.entry_path(key);
        let Ok(file) = store.open_in(&path, libc::O_RDONLY, 0) else { return };
        let Ok(len) = file.metadata().map(|m| m.len()) else { return };
        match self.remote.store(&key.hex(), &file, len, lifetime) {
            Ok(Stored::Written) => notes.push("shared remotely".into()),
            Ok(Stored::Skipped(why)) => notes.push(format!("not shared ({why})")),
            Err(e) => self.error(store, key, notes, "write", e),
        }
    }
}

/// A held remote lock: renewed by its thread until dropped, then released.
pub struct LeaseGuard {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for LeaseGuard {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            // The release is one command, bounded by the remote timeout.
            let _ = thread.join();
        }
    }
}
