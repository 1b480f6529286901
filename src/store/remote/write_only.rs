//! `--remote-mode write-only`: a decorator that never fetches (every lookup
//! is a remote miss, so nothing from the store is ever served) and passes
//! writes (entries, locks) through, for trusted writers that must not trust
//! what is already there.

use std::fs::File;
use std::time::Duration;

use super::keys::check_key;
use super::{RemoteCounters, RemoteError, RemoteLock, RemoteStore, Stored};

pub struct WriteOnly {
    inner: Box<dyn RemoteStore>,
}

impl WriteOnly {
    pub fn new(inner: Box<dyn RemoteStore>) -> WriteOnly {
        WriteOnly { inner }
    }
}

impl RemoteStore for WriteOnly {
    fn redacted_url(&self) -> &str {
        self.inner.redacted_url()
    }

    fn fetch(&self, key_hex: &str, dest: &mut File, _: u64) -> Result<bool, RemoteError> {
        check_key(key_hex)?;
        dest.set_len(0).map_err(RemoteError::Local)?;
        Ok(false)
    }

    fn store(
        &self,
        key_hex: &str,
        src: &File,
        len: u64,
        lifetime: Option<Duration>,
    ) -> Result<Stored, RemoteError> {
        self.inner.store(key_hex, src, len, lifetime)
    }

    fn lock(
        &self,
        key_hex: &str,
        lease: Duration,
        wait: Duration,
    ) -> Result<Option<RemoteLock<'_>>, RemoteError> {
        self.inner.lock(key_hex, lease, wait)
    }

    fn list_keys(&self) -> Result<Vec<String>, RemoteError> {
        self.inner.list_keys()
    }

    fn clear(&self) -> Result<u64, RemoteError> {
        self.inner.clear()
    }

    fn is_disabled(&self) -> bool {
        self.inner.is_disabled()
    }

    fn last_error(&self) -> Option<String> {
        self.inner.last_error()
    }

    fn counters(&self) -> RemoteCounters {
        self.inner.counters()
    }
}
