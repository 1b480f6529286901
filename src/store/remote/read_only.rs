//! `--remote-read-only`: a decorator that serves reads from any backend and
//! declines every write (entries, locks, clear) without reaching it.

use std::fs::File;
use std::time::Duration;

use super::keys::check_key;
use super::{RemoteCounters, RemoteError, RemoteLock, RemoteStore, SkipReason, Stored};

pub struct ReadOnly {
    inner: Box<dyn RemoteStore>,
}

impl ReadOnly {
    pub fn new(inner: Box<dyn RemoteStore>) -> ReadOnly {
        ReadOnly { inner }
    }
}

impl RemoteStore for ReadOnly {
    fn redacted_url(&self) -> &str {
        self.inner.redacted_url()
    }

    fn fetch(&self, key_hex: &str, dest: &mut File, max_len: u64) -> Result<bool, RemoteError> {
        self.inner.fetch(key_hex, dest, max_len)
    }

    fn store(
        &self,
        key_hex: &str,
        _: &File,
        _: u64,
        _: Option<Duration>,
    ) -> Result<Stored, RemoteError> {
        check_key(key_hex)?;
        Ok(Stored::Skipped(SkipReason::ReadOnly))
    }

    fn lock(
        &self,
        key_hex: &str,
        _: Duration,
        _: Duration,
    ) -> Result<Option<RemoteLock<'_>>, RemoteError> {
        check_key(key_hex)?;
        Err(RemoteError::ReadOnly)
    }

    fn list_keys(&self) -> Result<Vec<String>, RemoteError> {
        self.inner.list_keys()
    }

    fn clear(&self) -> Result<u64, RemoteError> {
        Err(RemoteError::ReadOnly)
    }

    fn is_read_only(&self) -> bool {
        true
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
