//! Fail-fast, for every backend: the first server failure of a run (a
//! timeout, a refused connection, a full server, a wrong password, a bad
//! URL) disables the remote for the rest of that run, so a dead or
//! blackholed server costs one timeout at most and then nothing. Also keeps
//! the per-run counters.

use std::cell::{Cell, RefCell};
use std::fs::File;
use std::time::Duration;

use super::keys::check_key;
use super::{HeldLock, RemoteCounters, RemoteError, RemoteLock, RemoteStore, Stored};

pub struct FailFast {
    url: String,
    /// `None`: the backend could not even be built (a bad URL).
    inner: Option<Box<dyn RemoteStore>>,
    disabled: Cell<bool>,
    last_error: RefCell<Option<String>>,
    counters: Cell<RemoteCounters>,
}

impl FailFast {
    /// `redacted_url` names the remote in messages; a backend that failed to
    /// build leaves the remote disabled from the start, with that error.
    pub fn new(redacted_url: String, inner: Result<Box<dyn RemoteStore>, RemoteError>) -> FailFast {
        let fail_fast = FailFast {
            url: redacted_url,
            inner: None,
            disabled: Cell::new(false),
            last_error: RefCell::new(None),
            counters: Cell::new(RemoteCounters::default()),
        };
        match inner {
            Ok(inner) => FailFast { inner: Some(inner), ..fail_fast },
            Err(e) => {
                fail_fast.disable(&e);
                fail_fast
            }
        }
    }

    fn inner(&self) -> Result<&dyn RemoteStore, RemoteError> {
        match &self.inner {
            Some(inner) if !self.disabled.get() => Ok(&**inner),
            _ => Err(self.disabled_error()),
        }
    }

    fn disabled_error(&self) -> RemoteError {
        let cause = self.last_error().unwrap_or_else(|| "disabled".into());
        RemoteError::Disabled { cause }
    }

    fn disable(&self, error: &RemoteError) {
        if error.is_server_failure() && !self.disabled.replace(true) {
            *self.last_error.borrow_mut() = Some(error.to_string());
        }
    }

    /// Counts a failed call and disables the remote on a server failure.
    fn record<T>(&self, result: Result<T, RemoteError>) -> Result<T, RemoteError> {
        if let Err(e) = &result {
            if e.counts() {
                self.bump(|c| c.errors += 1);
            }
            self.disable(e);
        }
        result
    }

    fn bump(&self, change: impl FnOnce(&mut RemoteCounters)) {
        let mut counters = self.counters.get();
        change(&mut counters);
        self.counters.set(counters);
    }
}

impl RemoteStore for FailFast {
    fn redacted_url(&self) -> &str {
        &self.url
    }

    fn fetch(&self, key_hex: &str, dest: &mut File, max_len: u64) -> Result<bool, RemoteError> {
        check_key(key_hex)?;
        let result = self.record(self.inner().and_then(|s| s.fetch(key_hex, dest, max_len)));
        match result {
            Ok(true) => self.bump(|c| c.fetched += 1),
            Ok(false) => self.bump(|c| c.missed += 1),
            Err(_) => {}
        }
        crate::store::remote::empty_unless_found(result, dest)
    }

    fn store(
        &self,
        key_hex: &str,
        src: &File,
        len: u64,
        lifetime: Option<Duration>,
    ) -> Result<Stored, RemoteError> {
        check_key(key_hex)?;
        let result = self.record(self.inner().and_then(|s| s.store(key_hex, src, len, lifetime)));
        if matches!(result, Ok(Stored::Written)) {
            self.bump(|c| c.stored += 1);
        }
        result
    }

    fn lock(
        &self,
        key_hex: &str,
        lease: Duration,
        wait: Duration,
    ) -> Result<Option<RemoteLock<'_>>, RemoteError> {
        check_key(key_hex)?;
        let taken = self.record(self.inner().and_then(|s| s.lock(key_hex, lease, wait)))?;
        Ok(taken.map(|lock| RemoteLock::new(Guarded { lock: Some(lock), owner: self })))
    }

    fn list_keys(&self) -> Result<Vec<String>, RemoteError> {
        self.record(self.inner().and_then(|s| s.list_keys()))
    }

    fn clear(&self) -> Result<u64, RemoteError> {
        self.record(self.inner().and_then(|s| s.clear()))
    }

    fn is_read_only(&self) -> bool {
        self.inner.as_ref().is_some_and(|s| s.is_read_only())
    }

    fn is_disabled(&self) -> bool {
        self.disabled.get()
    }

    fn last_error(&self) -> Option<String> {
        self.last_error.borrow().clone()
    }

    fn counters(&self) -> RemoteCounters {
        self.counters.get()
    }
}

/// A lock taken through [`FailFast`]. Releasing still goes to the backend
/// once the remote is disabled (the backend releases only over a
/// connection that is still in step, and never opens a new one), so other
/// machines need not wait out the lease after, say, a full server.
struct Guarded<'a> {
    lock: Option<RemoteLock<'a>>,
    owner: &'a FailFast,
}

impl HeldLock for Guarded<'_> {
    fn renew(&mut self, lease: Duration) -> Result<bool, RemoteError> {
        let Some(lock) = self.lock.as_mut() else { return Ok(false) };
        self.owner.record(lock.renew(lease))
    }

    fn release(&mut self) -> Result<bool, RemoteError> {
        let Some(lock) = self.lock.take() else { return Ok(false) };
        let was_disabled = self.owner.disabled.get();
        lock.release().map_err(|e| {
            if was_disabled {
                self.owner.disabled_error()
            } else {
                self.owner.disable(&e);
                e
            }
        })
    }
}
